//! `overens log-key rotate`: a new key for the log's checkpoints, introduced by a note the
//! old key and the new one sign (DataDir::rotate_log_key does the work, under the store's
//! lock; this reads the OS randomness and says what happened).

use std::fmt::Write as _;

use rand_core::{OsRng, RngCore as _};

use crate::cli::{LogKeyCommand, LogKeyRotateArgs};
use crate::data::{self, data_error};
use crate::error::CliError;

pub(crate) fn run(command: &LogKeyCommand) -> Result<String, CliError> {
    match command {
        LogKeyCommand::Rotate(args) => rotate(args),
    }
}

fn rotate(args: &LogKeyRotateArgs) -> Result<String, CliError> {
    let dir = args.data.as_path();
    let data = data::existing(dir)?;
    let runtime = data::runtime()?;
    let rotation = runtime
        .block_on(data.rotate_log_key(os_seed))
        .map_err(data_error(dir))?;
    let t = &rotation.transition;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rotated the key of log {} at tree size {}",
        t.origin(),
        t.from_size()
    );
    let _ = writeln!(out, "new log key: {}", t.new_key());
    let _ = writeln!(out, "retired key: {} (deleted)", t.old_key());
    let _ = writeln!(
        out,
        "transition note, written to {}:\n",
        rotation.note_path.display()
    );
    out.push_str(t.note());
    let _ = writeln!(
        out,
        "\nPublish the new key beside the old one. Verifiers who pinned an earlier key follow \
         the {} transition{} (GET /v1/log/keys, and every audit bundle's key_chain).",
        rotation.chain.transitions().len(),
        if rotation.chain.transitions().len() == 1 {
            ""
        } else {
            "s"
        }
    );
    Ok(out)
}

/// The new key's seed, from the operating system.
fn os_seed() -> Result<[u8; 32], String> {
    let mut seed = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| format!("cannot gather randomness from the operating system: {e}"))?;
    Ok(seed)
}
