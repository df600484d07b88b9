//! The committed example log (`events/examples/`) and the trust anchor it is signed under.

use std::path::{Path, PathBuf};

use overens_core::{PublicKey, SecretKey, State};

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn log_path() -> PathBuf {
    repo_root().join("events/examples/log.jsonl")
}

pub fn registrar_path() -> PathBuf {
    repo_root().join("events/examples/keys/registrar.pub")
}

pub fn log_text() -> String {
    let path = log_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The examples' test registrar key.
pub fn registrar() -> PublicKey {
    let path = registrar_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The secret key `events/examples/keys/NAME.key` (test keys only).
pub fn key(name: &str) -> SecretKey {
    let path = repo_root().join(format!("events/examples/keys/{name}.key"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    SecretKey::from_text(text.trim()).expect("a key")
}

/// An empty state trusting the examples' registrar.
pub fn state() -> State {
    State::new([registrar()])
}

/// `overens import` of the example log into the data directory `data` (created), trusting
/// the examples' registrar: a data directory as an operator would have it after a restore.
pub fn import_into(data: &Path) {
    crate::overens([
        "import".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--registrar".as_ref(),
        registrar_path().as_os_str(),
        log_path().as_os_str(),
    ])
    .expect_code(0);
}
