//! Test keys derived from public names: reproducible, and therefore never secret.

use overens_core::{Digest32, SecretKey};

use crate::error::Problem;

/// What is hashed, before the name, to get a test key's seed.
pub const KEY_SEED_PREFIX: &str = "overens example test key v1\n";

/// The test key called `name`: seed = SHA-256(`overens example test key v1\n<name>`).
/// Anyone can recompute it, which is the point: the example log must be reproducible.
pub fn test_key(name: &str) -> SecretKey {
    let seed = Digest32::of(format!("{KEY_SEED_PREFIX}{name}").as_bytes());
    SecretKey::from_seed(&seed.0)
}

/// Key names become file names under `keys/`, so they are kept to a safe alphabet.
pub(crate) fn check_key_name(name: &str) -> Result<(), Problem> {
    let fine = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if fine {
        Ok(())
    } else {
        Err(Problem::BadKeyName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_only_on_the_name() {
        assert_eq!(test_key("registrar").seed(), test_key("registrar").seed());
        assert_ne!(test_key("registrar").public(), test_key("kson-1").public());
        assert!(check_key_name("kson-1").is_ok());
        for bad in ["", "../x", "Kson", "-x", "x-", "a/b"] {
            assert!(check_key_name(bad).is_err(), "{bad}");
        }
    }
}
