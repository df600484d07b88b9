//! The example log of Överens: `events/examples/history.toml` turned, deterministically, into
//! `events/examples/log.jsonl` and the test keys under `events/examples/keys/`.
//!
//! Every event goes through the same path as a real append: its envelope is signed, verified,
//! and applied to a [`overens_core::State`] (decide, then evolve). A history that breaks a
//! domain rule therefore cannot be generated at all.

mod error;
mod generate;
mod keys;
mod output;
mod source;

use std::path::{Path, PathBuf};

pub use error::{Error, Problem};
pub use generate::{Generated, StreamCount, generate, generate_with_state};
pub use keys::{KEY_SEED_PREFIX, test_key};
pub use output::Difference;
pub use source::{Entry, Source};

/// `events/examples` of this workspace: where `history.toml` is read and the output written.
pub fn default_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/overens-examples → the workspace root.
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    root.join("events").join("examples")
}

/// The source file's name inside the examples directory.
pub const SOURCE_FILE: &str = "history.toml";
/// The generated log file's name inside the examples directory.
pub const LOG_FILE: &str = "log.jsonl";
/// The generated keys' directory inside the examples directory.
pub const KEYS_DIR: &str = "keys";
