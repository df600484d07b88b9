//! The sequencer for a log that several servers write (EventStoreDB/KurrentDB): appends are
//! decided against the log as followed so far and written with the store's per-stream
//! optimistic concurrency; the projections grow only by following the log, in its order.
//!
//! Why this shape: no server can hold the whole log's lock, so none may fold its own
//! appends ahead of the log the way the single-writer sequencer does. Each server decides
//! (to refuse bad events at once, with the rule), then lets the store order the write; what
//! every server then reads back, in the store's global order, is what counts. An append is
//! answered once its own server has folded it: with its index, or with the rule that made
//! it void at its place (see `State::apply_logged`), so a client reads its own writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use overens_core::{Digest32, EventId, Recorded, Replayer, Timestamp, VerifiedEvent};
use overens_log::{CompactRange, LogSigner, SignedCheckpoint};
use overens_store::{AppendEvent, Appended, EventStore, StoreError, StoredRecord};
use tokio::sync::{mpsc, oneshot, watch};

use crate::pipeline::{Job, Snapshot, halt, halted};
use crate::replay::{Checked, check_chunk};
use crate::{AppendError, ReplayError};

/// How long the sequencer waits for the log to grow before looking again: an upper bound on
/// how stale a quiet server's projections get if the store's wake-up were ever lost.
const POLL: Duration = Duration::from_millis(500);
/// How many records are read and checked at a time while catching up.
const CHUNK: usize = 1024;

pub(crate) struct SharedSequencer<S: EventStore> {
    pub(crate) store: Arc<S>,
    pub(crate) replayer: Replayer,
    pub(crate) tree: CompactRange,
    pub(crate) clock: overens_store::sqlite::Clock,
    pub(crate) max_skew: Option<chrono::Duration>,
    pub(crate) max_group: usize,
    pub(crate) limits: crate::AppendLimits,
    pub(crate) publish: watch::Sender<Snapshot>,
    pub(crate) signer: Option<LogSigner>,
    /// Written appends waiting to be folded, by their last index.
    pub(crate) waiting: BTreeMap<u64, Waiting>,
}

pub(crate) struct Waiting {
    appended: Appended,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

impl<S: EventStore> SharedSequencer<S> {
    pub(crate) async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        loop {
            if halted(&self.publish).is_none()
                && let Err(error) = self.follow().await
            {
                tracing::error!(%error, "following the shared log failed; appends stop");
                self.fail(error);
            }
            let known = self.len();
            tokio::select! {
                job = queue.recv() => {
                    let Some(first) = job else { break };
                    let mut group = vec![first];
                    while group.len() < self.max_group {
                        match queue.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    if let Some(reason) = halted(&self.publish) {
                        for job in group {
                            let _ = job.reply.send(Err(AppendError::Halted(reason.clone())));
                        }
                        continue;
                    }
                    self.write_group(group).await;
                }
                _ = self.store.wait_for_growth(known, POLL) => {}
            }
        }
    }

    fn len(&self) -> u64 {
        self.replayer.state().len()
    }

    /// Stops taking appends: the log as read cannot be trusted or followed any more.
    /// Readers keep the last snapshot; waiting appends get the error (they were written,
    /// but no verified fold includes them).
    fn fail(&mut self, error: StoreError) {
        for (_, waiting) in std::mem::take(&mut self.waiting) {
            let _ = waiting.reply.send(Err(AppendError::Store(error.clone())));
        }
        halt(&self.publish, &error);
    }

    /// Folds every record the log has beyond what is folded, with every check replay makes,
    /// publishes a snapshot (and checkpoint) if anything was folded, and answers the appends
    /// that are now folded.
    async fn follow(&mut self) -> Result<(), StoreError> {
        let start = self.len();
        loop {
            let stored = self.store.read_log(self.len(), CHUNK).await?;
            if stored.is_empty() {
                break;
            }
            let checked = tokio::task::spawn_blocking(move || check_chunk(stored))
                .await
                .map_err(|e| StoreError::Storage(format!("follow worker: {e}")))?;
            for row in checked {
                self.fold(row)
                    .map_err(|e| StoreError::Storage(e.to_string()))?;
            }
        }
        if self.len() == start {
            return Ok(());
        }
        let size = self.len();
        let root = self.tree.root();
        let stored = self.store.tree_head(size).await?;
        if stored != root {
            return Err(StoreError::Storage(
                ReplayError::TreeMismatch {
                    size,
                    stored,
                    computed: root,
                }
                .to_string(),
            ));
        }
        let checkpoint = self.checkpoint(root)?;
        self.publish.send_replace(Snapshot {
            state: self.replayer.state().clone(),
            len: size,
            checkpoint,
            halted: None,
        });
        self.answer_folded();
        Ok(())
    }

    fn fold(&mut self, row: Result<Checked, ReplayError>) -> Result<(), ReplayError> {
        match row? {
            Checked::Verified {
                index,
                recorded_at,
                event,
                leaf,
            } => {
                self.replayer
                    .push_verified_event(index, recorded_at, event)?;
                self.tree.push(leaf);
            }
            Checked::Refused { record, error } => {
                // Always an error: a record whose signature fails is never folded.
                self.replayer.push_verified(*record, Err(error))?;
            }
        }
        Ok(())
    }

    /// The signed checkpoint of the log as folded, whose root is `root`.
    fn checkpoint(&self, root: Digest32) -> Result<Option<SignedCheckpoint>, StoreError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        signer
            .sign(self.len(), root)
            .map(Some)
            .map_err(|e| StoreError::Storage(format!("signing the checkpoint: {e}")))
    }

    /// Answers every waiting append the fold has reached: with its indexes, or with the
    /// rule that made one of its events void at its place in the log.
    fn answer_folded(&mut self) {
        let len = self.len();
        let later = self.waiting.split_off(&len);
        let folded = std::mem::replace(&mut self.waiting, later);
        let voids = self.replayer.state().voids();
        for (_, waiting) in folded {
            let Waiting {
                mut appended,
                reply,
            } = waiting;
            let void = appended.indexes.iter().enumerate().find_map(|(i, index)| {
                voids
                    .iter()
                    .rev()
                    .find(|v| v.stamp.index == *index)
                    .map(|v| (i, v.rejection.clone()))
            });
            let answer = match void {
                Some((position, rejection)) => Err(AppendError::Rejected {
                    position,
                    rejection,
                }),
                None => {
                    appended.log_len = len;
                    Ok(appended)
                }
            };
            let _ = reply.send(answer);
        }
    }

    /// Decides each job against the log as folded (and the jobs of the group before it),
    /// then writes the accepted ones: one store append per job, the jobs of one stream in
    /// order, different streams at once.
    async fn write_group(&mut self, group: Vec<Job>) {
        let mut scratch = self.replayer.state().clone();
        let mut pending: HashMap<EventId, Vec<u8>> = HashMap::new();
        let mut by_stream: BTreeMap<String, Vec<Job>> = BTreeMap::new();
        let mut retries = Vec::new();
        for job in group {
            if is_retry_within(&job, &pending) {
                // The same events twice in one group (a client retrying fast): answered
                // below, from the store, once the first is written.
                retries.push(job);
                continue;
            }
            match self.decide(&job, &mut scratch, &mut pending).await {
                Ok(None) => by_stream
                    .entry(job.events[0].stream().to_string())
                    .or_default()
                    .push(job),
                Ok(Some(answer)) => {
                    let _ = job.reply.send(Ok(answer));
                }
                Err(error) => {
                    let _ = job.reply.send(Err(error));
                }
            }
        }
        let store = &self.store;
        // A job that chains on an earlier one of its stream is written after it; if that
        // one was not written, the store refuses this one as stale, as it should.
        let writes = by_stream.into_values().map(|jobs| async move {
            let mut out = Vec::with_capacity(jobs.len());
            for job in jobs {
                let batch = job.events.iter().map(AppendEvent::from).collect();
                let result = store.append(batch).await;
                out.push((job, result));
            }
            out
        });
        let written = futures_util::future::join_all(writes).await;
        for (job, result) in written.into_iter().flatten() {
            match result {
                Ok(appended) if appended.repeated => {
                    let _ = job.reply.send(Ok(appended));
                }
                Ok(appended) => {
                    let last = *appended.indexes.last().unwrap_or(&0);
                    self.waiting.insert(
                        last,
                        Waiting {
                            appended,
                            reply: job.reply,
                        },
                    );
                }
                Err(error) => {
                    let _ = job.reply.send(Err(AppendError::Store(error)));
                }
            }
        }
        for job in retries {
            let answer = self.repeat_of(&job.events, &HashMap::new()).await;
            let _ = job.reply.send(answer);
        }
    }

    /// `Ok(None)`: accepted, to be written. `Ok(Some(_))`: a retry of events already in the
    /// log, answered with their first result.
    async fn decide(
        &self,
        job: &Job,
        scratch: &mut overens_core::State,
        pending: &mut HashMap<EventId, Vec<u8>>,
    ) -> Result<Option<Appended>, AppendError> {
        let events = &job.events[..];
        let known = |id: &EventId| self.replayer.ids().contains(id) || pending.contains_key(id);
        if events.iter().any(|e| known(&e.envelope().id)) {
            return self.repeat_of(events, pending).await.map(Some);
        }
        job.check_new(self.max_skew)?;
        self.limits
            .check_batch(scratch, events)
            .map_err(|(position, exceeded)| AppendError::Limit { position, exceeded })?;
        // Provisional places: the store gives the real ones; the rules read no index.
        let start = scratch.len();
        let recorded_at: Timestamp = (self.clock)();
        scratch
            .apply_batch(events.iter().enumerate().map(|(i, event)| Recorded {
                index: start + i as u64,
                recorded_at,
                event,
            }))
            .map_err(|(position, rejection)| AppendError::Rejected {
                position,
                rejection,
            })?;
        for event in events {
            pending.insert(event.envelope().id, event.canonical_bytes().to_vec());
        }
        Ok(None)
    }

    /// Events whose ids the log (or this group) already has: the same events again get the
    /// first answer; any other use of an id is refused.
    async fn repeat_of(
        &self,
        events: &[VerifiedEvent],
        pending: &HashMap<EventId, Vec<u8>>,
    ) -> Result<Appended, AppendError> {
        let mut found: Vec<StoredRecord> = Vec::with_capacity(events.len());
        for event in events {
            let id = event.envelope().id;
            if pending.contains_key(&id) {
                // Accepted earlier in this very group, not written yet: a reuse, not a retry
                // of an answered append.
                return Err(AppendError::IdReused(id));
            }
            match self.store.find(id).await.map_err(AppendError::Store)? {
                Some(stored) if stored.envelope == event.canonical_bytes() => found.push(stored),
                Some(_) => return Err(AppendError::IdReused(id)),
                None => return Err(AppendError::IdReused(first_known(events, self))),
            }
        }
        let indexes: Vec<u64> = found.iter().map(|r| r.index).collect();
        if !indexes.windows(2).all(|w| w[1] == w[0] + 1) {
            return Err(AppendError::InvalidBatch(
                "these events were appended before, but not as one batch".into(),
            ));
        }
        if let Some(void) = self
            .replayer
            .state()
            .voids()
            .iter()
            .find(|v| indexes.contains(&v.stamp.index))
        {
            let position = indexes
                .iter()
                .position(|i| *i == void.stamp.index)
                .unwrap_or(0);
            return Err(AppendError::Rejected {
                position,
                rejection: void.rejection.clone(),
            });
        }
        Ok(Appended {
            recorded_at: found[0].recorded_at,
            indexes,
            log_len: self.len(),
            repeated: true,
        })
    }
}

/// Every event of `job` was accepted earlier in this group, with the same bytes.
fn is_retry_within(job: &Job, pending: &HashMap<EventId, Vec<u8>>) -> bool {
    job.events.iter().all(|e| {
        pending
            .get(&e.envelope().id)
            .is_some_and(|bytes| bytes.as_slice() == e.canonical_bytes())
    })
}

fn first_known<S: EventStore>(events: &[VerifiedEvent], s: &SharedSequencer<S>) -> EventId {
    events
        .iter()
        .map(|e| e.envelope().id)
        .find(|id| s.replayer.ids().contains(id))
        .unwrap_or(events[0].envelope().id)
}
