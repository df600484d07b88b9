//! Replay of a store: every stored record re-checked (its columns against its bytes, its
//! leaf hash, canonical form, signature, chain, index, recorded time, rules) and folded.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use overens_core::{Digest32, EventId, LogError, LogRecord, Replayer, State, Timestamp};
use overens_store::{EventStore, StoreError, StoredRecord, leaf_hash};

/// Reports replay progress: records done out of the total.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored log refused at {0}")]
    Log(#[from] LogError),
    #[error("stored log refused at index {index}: {what}")]
    Tampered { index: u64, what: String },
}

/// A store replayed: the projections, every event id, and how long it took.
#[derive(Debug)]
pub struct Replayed {
    pub state: State,
    pub ids: HashSet<EventId>,
    pub records: u64,
    /// The last record's `recorded_at`; `None` for an empty store.
    pub last_recorded_at: Option<Timestamp>,
    pub elapsed: Duration,
}

/// How many records are read, verified in parallel, and folded at a time.
const CHUNK: usize = 4096;

/// Replays every record of `store` into `state` (an empty state with the trust anchors).
/// Stops at the first record that does not hold, naming its index and what is wrong.
pub async fn replay_store<S: EventStore>(
    store: &S,
    state: State,
    progress: Progress<'_>,
) -> Result<Replayed, ReplayError> {
    let started = Instant::now();
    let replayer = replay_into(store, Replayer::new(state), progress).await?;
    let records = replayer.state().len();
    let last_recorded_at = replayer.last_recorded_at();
    let (state, ids) = replayer.into_parts();
    Ok(Replayed {
        state,
        ids,
        records,
        last_recorded_at,
        elapsed: started.elapsed(),
    })
}

/// Folds every stored record into `replayer` with every check of [`replay_store`]: the
/// one way a stored log is read back, by replay and by import alike.
pub(crate) async fn replay_into<S: EventStore>(
    store: &S,
    mut replayer: Replayer,
    progress: Progress<'_>,
) -> Result<Replayer, ReplayError> {
    let total = store.len().await?;
    let mut next = 0u64;
    progress(0, total);
    while next < total {
        let stored = store.read_log(next, CHUNK).await?;
        if stored.is_empty() {
            return Err(ReplayError::Tampered {
                index: next,
                what: format!("the store reports {total} records but has none at {next}"),
            });
        }
        let checked = tokio::task::spawn_blocking(move || check_chunk(stored))
            .await
            .map_err(|e| StoreError::Storage(format!("replay worker: {e}")))??;
        for (record, verified) in checked {
            next = record.index + 1;
            replayer.push_verified(record, verified)?;
        }
        progress(next, total);
    }
    Ok(replayer)
}

type Checked = Vec<(
    LogRecord,
    Result<overens_core::VerifiedEvent, overens_core::EnvelopeError>,
)>;

/// Checks each stored row against its own bytes, then verifies the signatures on every
/// core at once. The fold that follows checks order, chain and rules.
fn check_chunk(stored: Vec<StoredRecord>) -> Result<Checked, ReplayError> {
    let mut records = Vec::with_capacity(stored.len());
    for s in &stored {
        records.push(check_row(s)?);
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per = records.len().div_ceil(workers).max(1);
    let verified: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|r| r.event.clone().verify())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if verified.len() != records.len() {
        return Err(ReplayError::Store(StoreError::Storage(
            "a replay worker failed".into(),
        )));
    }
    Ok(records.into_iter().zip(verified).collect())
}

/// A row's columns must agree with its canonical bytes, and its stored leaf with the
/// record: an edit behind the store's back to any of them is refused here.
fn check_row(s: &StoredRecord) -> Result<LogRecord, ReplayError> {
    let tampered = |what: String| ReplayError::Tampered {
        index: s.index,
        what,
    };
    let line = s.log_line();
    let record = LogRecord::parse_line(&line)
        .map_err(|e| tampered(format!("the stored envelope is not a canonical event: {e}")))?;
    let e = &record.event;
    if e.stream != s.stream || e.seq != s.seq || e.id != s.id {
        return Err(tampered(format!(
            "the row says stream {} seq {} id {}, its envelope says stream {} seq {} id {}",
            s.stream, s.seq, s.id, e.stream, e.seq, e.id
        )));
    }
    if Digest32::of(&s.envelope) != s.hash {
        return Err(tampered(
            "the stored event hash does not match the envelope".into(),
        ));
    }
    if leaf_hash(line.as_bytes()) != s.leaf {
        return Err(tampered("the stored leaf hash does not match the record (index, recorded_at or envelope changed)".into()));
    }
    Ok(record)
}
