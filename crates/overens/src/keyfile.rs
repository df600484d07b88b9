//! Key files: writing a new key pair, reading one's own secret key to sign with, and reading
//! the registrar keys a log is checked against.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use overens_core::{PublicKey, SecretKey};

use crate::error::CliError;

/// `FILE.pub`: the suffix is appended, not swapped in, so `alice.key` gives `alice.key.pub`.
pub(crate) fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes the secret seed to `out` (owner-only) and the public key to `out.pub`.
pub(crate) fn write_key_pair(out: &Path, key: &SecretKey, force: bool) -> Result<(), CliError> {
    let public = public_path(out);
    if !force {
        // Both checked before either is written, so a refusal leaves nothing half-done.
        for path in [out, public.as_path()] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(CliError::Exists {
                    path: path.to_owned(),
                });
            }
        }
    }
    write_secret(out, &format!("{}\n", key.to_text()), force)?;
    fs::write(&public, format!("{}\n", key.public())).map_err(|source| CliError::Write {
        path: public,
        source,
    })
}

fn write_secret(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let write_error = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true);
    } else {
        // create_new, not an exists-check alone: no window in which another process could
        // slip a file (or a symlink) in between.
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(write_error)?;
    // The mode above applies only to a new file; an overwritten one keeps its old
    // permissions, so tighten them before the secret goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(write_error)?;
    }
    file.set_len(0).map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

/// Every `--registrar` value resolved to keys: a value is a key if it parses as one,
/// otherwise the name of a file of keys.
pub(crate) fn registrar_keys(values: &[String]) -> Result<Vec<PublicKey>, CliError> {
    if values.is_empty() {
        return Err(CliError::NoRegistrar);
    }
    let mut keys = Vec::new();
    for value in values {
        match value.trim().parse::<PublicKey>() {
            Ok(key) => keys.push(key),
            Err(reason) => {
                let path = Path::new(value);
                if path.is_file() {
                    keys.extend(read_public_keys(path)?);
                } else {
                    return Err(CliError::Registrar {
                        value: value.clone(),
                        reason: reason.to_string(),
                    });
                }
            }
        }
    }
    Ok(keys)
}

/// One key per line; `#` starts a comment, blank lines are skipped.
fn read_public_keys(path: &Path) -> Result<Vec<PublicKey>, CliError> {
    let text = fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let key = content
            .parse::<PublicKey>()
            .map_err(|e| CliError::RegistrarFile {
                path: path.to_owned(),
                line: i + 1,
                reason: format!("`{content}` is not a public key: {e}"),
            })?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(CliError::EmptyRegistrarFile {
            path: path.to_owned(),
        });
    }
    Ok(keys)
}

/// Reads a secret key file (as `overens keygen` writes it: the base64url seed on one line).
///
/// A file that others can read is refused: whoever can read it can sign as its holder, and
/// a signature in the log cannot be taken back. A `.pub` file is refused too: a public key
/// has the same text shape as a seed, and would otherwise silently sign as another key.
pub(crate) fn read_secret_key(path: &Path) -> Result<SecretKey, CliError> {
    if path.extension().is_some_and(|e| e == "pub") {
        return Err(CliError::KeyFile {
            path: path.to_owned(),
            reason: "this is a public key file (FILE.pub); give the secret key file FILE".into(),
        });
    }
    let metadata = fs::metadata(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::KeyFileOpen {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    SecretKey::from_text(text.trim()).map_err(|e| CliError::KeyFile {
        path: path.to_owned(),
        reason: format!("not a secret key (one base64url ed25519 seed of 32 bytes): {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_round_trip_and_private_files_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.key");
        let key = SecretKey::from_seed(&[9; 32]);
        write_key_pair(&path, &key, false).expect("written");
        let read = read_secret_key(&path).expect("a private key file reads");
        assert_eq!(read.public(), key.public());

        let error = read_secret_key(&public_path(&path)).expect_err("a .pub file");
        assert!(error.to_string().contains("public key file"), "{error}");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
            let error = read_secret_key(&path).expect_err("group-readable");
            assert!(error.to_string().contains("mode 0640"), "{error}");
            assert_eq!(error.exit_code(), 2);
        }
    }
}
