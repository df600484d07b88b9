//! Import and export of log files: restore and migration, keeping indexes and recorded
//! times; export writes the canonical lines back, so import then export gives the same bytes.

use std::collections::VecDeque;
use std::io::Write;

use overens_core::record::RecordError;
use overens_core::replay::Defect;
use overens_core::{EnvelopeError, LogRecord, Replayer, State, VerifiedEvent};
use overens_store::{AppendEvent, EventStore, RestoreRecord, StoreError};

use crate::replay::{AHEAD, CHUNK, ReplayError, replay_into};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store itself does not verify: nothing is imported on top of it.
    #[error(transparent)]
    Stored(#[from] ReplayError),
    #[error("{file}: {error}")]
    Log {
        file: String,
        error: overens_core::LogError,
    },
    #[error(
        "{file} line {line}: the store already holds index {index} with other bytes; a file must continue the stored log exactly"
    )]
    Diverges {
        file: String,
        line: usize,
        index: u64,
    },
    #[error("{file} line {line}: index {index} skips ahead of the stored log, which ends at {len}")]
    Gap {
        file: String,
        line: usize,
        index: u64,
        len: u64,
    },
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Records the store already held, byte for byte.
    pub already_present: u64,
    pub imported: u64,
}

/// Imports log files into a store. `empty` is an empty state with the trust anchors; the
/// stored log is replayed into it first. Records the store holds already
/// must be byte-identical (a file may repeat the stored prefix); the rest must continue the
/// log exactly and pass every check. Nothing is written unless the whole input holds:
/// everything is verified first, then restored.
pub async fn import<S: EventStore>(
    store: &S,
    empty: State,
    files: &[(String, String)],
) -> Result<(State, ImportSummary), ImportError> {
    let stored_len = store.len().await?;
    let replayer = seed(Replayer::new(empty), store, stored_len).await?;
    check(Some(store), stored_len, replayer, files)
        .await?
        .restore_into(store)
        .await
}

/// Log files checked as an import into a store that does not exist yet: every record
/// verified against the trust anchors of `empty`, in order, before anything is created.
/// [`CheckedImport::restore_into`] then writes them into the new, empty store.
pub async fn check_import(
    empty: State,
    files: &[(String, String)],
) -> Result<CheckedImport, ImportError> {
    check::<overens_store::SqliteStore>(None, 0, Replayer::new(empty), files).await
}

/// Records that passed every check of an import, waiting to be restored.
#[derive(Debug)]
pub struct CheckedImport {
    replayer: Replayer,
    summary: ImportSummary,
    pending: Vec<RestoreRecord>,
}

impl CheckedImport {
    /// Restores the checked records. The store must still end where the check found it
    /// (empty, for [`check_import`]): its restore refuses anything that does not continue
    /// its log exactly.
    pub async fn restore_into<S: EventStore>(
        self,
        store: &S,
    ) -> Result<(State, ImportSummary), ImportError> {
        let CheckedImport {
            replayer,
            mut summary,
            pending,
        } = self;
        summary.imported = pending.len() as u64;
        for chunk in pending.chunks(4096) {
            store.restore(chunk.to_vec()).await?;
        }
        Ok((replayer.into_parts().0, summary))
    }
}

/// The checks of an import: `replayer` holds the stored log of `stored_len` records (read
/// from `store` where a file repeats it; no store means an empty one).
async fn check<S: EventStore>(
    store: Option<&S>,
    stored_len: u64,
    mut replayer: Replayer,
    files: &[(String, String)],
) -> Result<CheckedImport, ImportError> {
    let mut summary = ImportSummary::default();
    let mut pending: Vec<RestoreRecord> = Vec::new();
    // The files, in order, are one log: it may start anywhere in the stored log (repeating
    // part of it), but from there on every index follows the one before.
    let mut next: Option<u64> = None;
    for (file, text) in files {
        let mut lines = text.split_terminator('\n').enumerate().peekable();
        let mut ahead = VecDeque::new();
        loop {
            // Lines are parsed and their signatures checked on blocking threads, several
            // chunks ahead, while this task checks the ones before against the log.
            while ahead.len() < AHEAD && lines.peek().is_some() {
                let chunk: Vec<(usize, String)> = lines
                    .by_ref()
                    .take(CHUNK)
                    .map(|(i, line)| (i, line.to_owned()))
                    .collect();
                ahead.push_back(tokio::task::spawn_blocking(move || read_lines(chunk)));
            }
            let Some(chunk) = ahead.pop_front() else {
                break;
            };
            let chunk = chunk
                .await
                .map_err(|e| StoreError::Storage(format!("import worker: {e}")))?;
            for (i, line, read) in chunk {
                let (record, verified) = read.map_err(|e| ImportError::Log {
                    file: file.clone(),
                    error: overens_core::LogError {
                        line: Some(i + 1),
                        index: None,
                        stream: None,
                        seq: None,
                        defect: Box::new(e.into()),
                    },
                })?;
                if let Some(expected) = next
                    && record.index != expected
                {
                    return Err(ImportError::Log {
                        file: file.clone(),
                        error: overens_core::LogError {
                            line: Some(i + 1),
                            index: Some(record.index),
                            stream: Some(record.event.stream.clone()),
                            seq: Some(record.event.seq),
                            defect: Box::new(Defect::Index {
                                expected,
                                got: record.index,
                            }),
                        },
                    });
                }
                next = Some(record.index + 1);
                if let Some(store) = store.filter(|_| record.index < stored_len) {
                    let stored = store.read_log(record.index, 1).await?;
                    if stored.first().map(|s| s.log_line()) != Some(line) {
                        return Err(ImportError::Diverges {
                            file: file.clone(),
                            line: i + 1,
                            index: record.index,
                        });
                    }
                    summary.already_present += 1;
                    continue;
                }
                let expected = stored_len + pending.len() as u64;
                if record.index > expected {
                    return Err(ImportError::Gap {
                        file: file.clone(),
                        line: i + 1,
                        index: record.index,
                        len: expected,
                    });
                }
                let event = verified.as_ref().ok().map(AppendEvent::from);
                let (index, recorded_at) = (record.index, record.recorded_at);
                replayer
                    .push_verified(record, verified)
                    .map_err(|mut error| {
                        error.line = Some(i + 1);
                        ImportError::Log {
                            file: file.clone(),
                            error,
                        }
                    })?;
                if let Some(event) = event {
                    pending.push(RestoreRecord {
                        index,
                        recorded_at,
                        event,
                    });
                }
            }
        }
    }
    Ok(CheckedImport {
        replayer,
        summary,
        pending,
    })
}

/// A line of a log file: its number (from 0), its text, and its record with the verdict on
/// its signature, or why it is not a record.
type ReadLine = (
    usize,
    String,
    Result<(LogRecord, Result<VerifiedEvent, EnvelopeError>), RecordError>,
);

/// Parses and verifies a chunk of lines (on a blocking thread): the order and the checks
/// against the log are the caller's.
fn read_lines(lines: Vec<(usize, String)>) -> Vec<ReadLine> {
    lines
        .into_iter()
        .map(|(i, line)| {
            let read = LogRecord::parse_line(&line).map(|record| {
                let verified = record.event.clone().verify();
                (record, verified)
            });
            (i, line, read)
        })
        .collect()
}

/// Brings a fresh replayer up to the stored log, so the records that follow are checked
/// against it (indexes, recorded times, ids, chains, rules). The stored log gets every check
/// of a replay (its rows against their bytes and leaf hashes too): a file is never imported
/// on top of a store that was altered behind its back.
async fn seed<S: EventStore>(
    replayer: Replayer,
    store: &S,
    len: u64,
) -> Result<Replayer, ImportError> {
    let (replayer, _root) = replay_into(store, replayer, &mut |_, _| {}).await?;
    if replayer.state().len() != len {
        return Err(ImportError::Stored(ReplayError::Tampered {
            index: replayer.state().len(),
            what: format!(
                "the store held {len} records, its replay {}",
                replayer.state().len()
            ),
        }));
    }
    Ok(replayer)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the global log (or one stream's records of it) as a log file.
pub async fn export<S: EventStore>(
    store: &S,
    stream: Option<&overens_core::StreamId>,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let len = store.len().await?;
    let mut next = 0;
    let mut written = 0;
    while next < len {
        let batch = store.read_log(next, 4096).await?;
        if batch.is_empty() {
            break;
        }
        for record in batch {
            next = record.index + 1;
            if stream.is_none_or(|s| s == &record.stream) {
                out.write_all(record.log_line().as_bytes())?;
                out.write_all(b"\n")?;
                written += 1;
            }
        }
    }
    out.flush()?;
    Ok(written)
}
