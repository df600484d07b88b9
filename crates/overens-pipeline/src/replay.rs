//! Replay of a store: every stored record re-checked (its columns against its bytes, its
//! leaf hash, canonical form, signature, chain, index, recorded time, rules) and folded;
//! then the stored Merkle tree's root is checked against the root of the verified leaves.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use overens_core::record::RecordError;
use overens_core::{
    Digest32, Envelope, EnvelopeError, EventId, LogError, LogRecord, Replayer, State, Timestamp,
    VerifiedEvent,
};
use overens_log::CompactRange;
use overens_store::{EventStore, StoreError, StoredRecord, record_leaf_hash};

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
    #[error(
        "the stored Merkle tree (table `nodes`) has root {stored} at size {size}, but the \
         verified records give root {computed}: its nodes were altered (the table is derived \
         from the records: docs/operations.md says how to rebuild it)"
    )]
    TreeMismatch {
        size: u64,
        stored: Digest32,
        computed: Digest32,
    },
}

/// A store replayed: the projections, every event id, and how long it took.
#[derive(Debug)]
pub struct Replayed {
    pub state: State,
    pub ids: HashSet<EventId>,
    pub records: u64,
    /// The last record's `recorded_at`; `None` for an empty store.
    pub last_recorded_at: Option<Timestamp>,
    /// The RFC 9162 root of the tree of all records: computed from the verified leaves and
    /// equal to the stored tree's root.
    pub root: Digest32,
    /// The right edge of that tree: enough to go on growing it (following a shared log).
    pub tree: CompactRange,
    pub elapsed: Duration,
}

/// How many records are read and checked as one unit of work (by import too).
pub(crate) const CHUNK: usize = 1024;
/// How many chunks are checked ahead of the fold: on a machine with N cores, N of them
/// verify signatures while the fold runs.
pub(crate) const AHEAD: usize = 4;

/// Replays every record of `store` into `state` (an empty state with the trust anchors).
/// Stops at the first record that does not hold, naming its index and what is wrong.
pub async fn replay_store<S: EventStore>(
    store: &S,
    state: State,
    progress: Progress<'_>,
) -> Result<Replayed, ReplayError> {
    let started = Instant::now();
    let (replayer, tree) = replay_into(store, Replayer::new(state), progress).await?;
    let root = tree.root();
    let records = replayer.state().len();
    let last_recorded_at = replayer.last_recorded_at();
    let (state, ids) = replayer.into_parts();
    Ok(Replayed {
        state,
        ids,
        records,
        last_recorded_at,
        root,
        tree,
        elapsed: started.elapsed(),
    })
}

/// Folds every stored record into `replayer` with every check of [`replay_store`]: the
/// one way a stored log is read back, by replay and by import alike. Returns the verified
/// records' tree, once its root is known to be the stored tree's root too.
///
/// Chunks are read and checked (rows against their bytes, signatures) on blocking threads,
/// several ahead, while this task folds the chunks before them in log order; the first
/// record that fails any check, in log order, stops the replay.
pub(crate) async fn replay_into<S: EventStore>(
    store: &S,
    mut replayer: Replayer,
    progress: Progress<'_>,
) -> Result<(Replayer, CompactRange), ReplayError> {
    let total = store.len().await?;
    let mut tree = CompactRange::new();
    let mut read = 0u64;
    let mut next = 0u64;
    let mut ahead = VecDeque::new();
    progress(0, total);
    loop {
        while ahead.len() < AHEAD && read < total {
            let stored = store.read_log(read, CHUNK).await?;
            if stored.is_empty() {
                // Fold what is already checked first: an earlier bad record is named first.
                ahead.push_back(tokio::task::spawn_blocking(move || {
                    vec![Err(ReplayError::Tampered {
                        index: read,
                        what: format!("the store reports {total} records but has none at {read}"),
                    })]
                }));
                read = total;
                break;
            }
            read += stored.len() as u64;
            ahead.push_back(tokio::task::spawn_blocking(move || check_chunk(stored)));
        }
        let Some(chunk) = ahead.pop_front() else {
            break;
        };
        let checked = chunk
            .await
            .map_err(|e| StoreError::Storage(format!("replay worker: {e}")))?;
        for row in checked {
            match row? {
                Checked::Verified {
                    index,
                    recorded_at,
                    event,
                    leaf,
                } => {
                    next = index + 1;
                    replayer.push_verified_event(index, recorded_at, event)?;
                    tree.push(leaf);
                }
                Checked::Refused { record, error } => {
                    next = record.index + 1;
                    replayer.push_verified(*record, Err(error))?;
                }
            }
        }
        progress(next, total);
    }
    check_tree(store, &tree).await?;
    Ok((replayer, tree))
}

/// The stored tree must have the root of the leaves just verified: a `nodes` table edited
/// behind the store's back would otherwise sign, and prove, another log.
pub(crate) async fn check_tree<S: EventStore>(
    store: &S,
    tree: &CompactRange,
) -> Result<Digest32, ReplayError> {
    let (size, computed) = (tree.size(), tree.root());
    let stored = store.tree_head(size).await?;
    if stored != computed {
        return Err(ReplayError::TreeMismatch {
            size,
            stored,
            computed,
        });
    }
    Ok(computed)
}

/// One stored record after its row checks and signature check.
// Nearly every record is `Verified`: boxing it would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Checked {
    Verified {
        index: u64,
        recorded_at: Timestamp,
        event: VerifiedEvent,
        /// The record's leaf hash, checked against the record.
        leaf: Digest32,
    },
    /// The envelope is well-formed and canonical but does not verify: the fold reports it
    /// (after the index, time and id checks that come first).
    Refused {
        record: Box<LogRecord>,
        error: EnvelopeError,
    },
}

/// Checks each stored row against its own bytes and verifies its envelope (`verify_strict`
/// on keys decompressed once per thread). Stops at the first row that fails a row check.
pub(crate) fn check_chunk(stored: Vec<StoredRecord>) -> Vec<Result<Checked, ReplayError>> {
    let mut out = Vec::with_capacity(stored.len());
    for s in stored {
        let checked = check_row(s);
        let failed = checked.is_err();
        out.push(checked);
        if failed {
            break;
        }
    }
    out
}

/// A stored envelope read from its bytes: verified, or well-formed but refused.
#[allow(clippy::large_enum_variant)]
enum Read {
    Verified(VerifiedEvent),
    Refused(Envelope, EnvelopeError),
}

/// A row's columns must agree with its canonical bytes, and its stored leaf with the
/// record: an edit behind the store's back to any of them is refused here. Then the
/// envelope is verified from those same bytes.
fn check_row(s: StoredRecord) -> Result<Checked, ReplayError> {
    let tampered = |what: String| ReplayError::Tampered {
        index: s.index,
        what,
    };
    let not_canonical =
        |e: RecordError| tampered(format!("the stored envelope is not a canonical event: {e}"));
    // The record's line is canonical exactly when its envelope bytes are: the line is built
    // from them, the index and the (one-spelling) recorded time. One parse and one
    // serialisation give the canonical check, the signing input and the event hash.
    let read = match Envelope::verify_canonical_bytes(&s.envelope) {
        Ok(Ok(event)) => Read::Verified(event),
        // Rare: read the envelope again, for the row checks and the fold's report.
        Ok(Err(error)) => Read::Refused(
            Envelope::from_canonical_bytes(&s.envelope).map_err(not_canonical)?,
            error,
        ),
        Err(e) => return Err(not_canonical(e)),
    };
    let e = match &read {
        Read::Verified(event) => event.envelope(),
        Read::Refused(envelope, _) => envelope,
    };
    if e.stream != s.stream || e.seq != s.seq || e.id != s.id {
        return Err(tampered(format!(
            "the row says stream {} seq {} id {}, its envelope says stream {} seq {} id {}",
            s.stream, s.seq, s.id, e.stream, e.seq, e.id
        )));
    }
    let hash = match &read {
        Read::Verified(event) => event.hash(),
        Read::Refused(..) => Digest32::of(&s.envelope),
    };
    if hash != s.hash {
        return Err(tampered(
            "the stored event hash does not match the envelope".into(),
        ));
    }
    if record_leaf_hash(&s.envelope, s.index, s.recorded_at) != s.leaf {
        return Err(tampered("the stored leaf hash does not match the record (index, recorded_at or envelope changed)".into()));
    }
    Ok(match read {
        Read::Verified(event) => Checked::Verified {
            index: s.index,
            recorded_at: s.recorded_at,
            event,
            leaf: s.leaf,
        },
        Read::Refused(event, error) => Checked::Refused {
            record: Box::new(LogRecord {
                index: s.index,
                recorded_at: s.recorded_at,
                event,
            }),
            error,
        },
    })
}
