//! `overens keygen`: a new ed25519 key from the operating system's randomness.

use overens_core::SecretKey;
use rand_core::{OsRng, RngCore as _};

use crate::cli::KeygenArgs;
use crate::error::CliError;
use crate::keyfile::write_key_pair;

/// Prints only the public key, so that `KEY=$(overens keygen --out k)` works.
pub(crate) fn run(args: &KeygenArgs) -> Result<String, CliError> {
    let mut seed = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| CliError::Random(e.to_string()))?;
    let key = SecretKey::from_seed(&seed);
    seed.fill(0);
    write_key_pair(&args.out, &key, args.force)?;
    Ok(format!("{}\n", key.public()))
}
