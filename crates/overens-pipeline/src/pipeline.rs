//! The append pipeline: every append is verified, then decided and evolved by one sequencer
//! in log order, then made durable in groups, and only then answered. With the log's key,
//! each commit group also gets a signed checkpoint, published with its snapshot.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use overens_core::{Digest32, Envelope, EventId, Recorded, State, Timestamp, VerifiedEvent};
use overens_log::{LogSigner, SignedCheckpoint, VerifierKey};
use overens_store::sqlite::{Clock, system_clock};
use overens_store::{AppendEvent, Appended, EventStore, RestoreRecord, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{AppendError, Replayed};

#[derive(Clone)]
pub struct PipelineOptions {
    /// The server's clock: `recorded_at`, and the reference for `at`.
    pub clock: Clock,
    /// How far `at` may be from the server's clock; `None` accepts any (tests, tools).
    pub max_skew: Option<chrono::Duration>,
    /// The most appends decided and committed together.
    pub max_group: usize,
    /// How much one append may add (new appends only; replay ignores them).
    pub limits: crate::AppendLimits,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            clock: Arc::new(system_clock),
            max_skew: Some(chrono::Duration::minutes(5)),
            max_group: 1024,
            limits: crate::AppendLimits::default(),
        }
    }
}

impl std::fmt::Debug for PipelineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineOptions")
            .field("max_skew", &self.max_skew)
            .field("max_group", &self.max_group)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What readers see: the projections as of a commit, the log length they cover, and (when
/// the pipeline has the log's key) the signed checkpoint of exactly that length. Cheap to
/// clone; never changes once published.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub state: State,
    pub len: u64,
    /// The checkpoint of the tree of `len` records, signed with the log's key; `None` for a
    /// pipeline started without one ([`Pipeline::start`]).
    pub checkpoint: Option<SignedCheckpoint>,
    /// Why the pipeline stopped taking appends, once it has: readers keep this snapshot's
    /// projections (the last verified ones) and health checks report it.
    pub halted: Option<String>,
}

/// Marks the published snapshot halted with `error`: its projections stay what readers see,
/// and the sequencer answers every later append with the reason ([`halted`]).
pub(crate) fn halt(publish: &watch::Sender<Snapshot>, error: &StoreError) {
    publish.send_modify(|snapshot| snapshot.halted = Some(error.to_string()));
}

/// Why the sequencer stopped taking appends, if it has.
pub(crate) fn halted(publish: &watch::Sender<Snapshot>) -> Option<String> {
    publish.borrow().halted.clone()
}

pub(crate) struct Job {
    pub(crate) events: Vec<VerifiedEvent>,
    /// The server's clock when the append arrived: what `at` is compared with.
    pub(crate) received: Timestamp,
    pub(crate) reply: oneshot::Sender<Result<Appended, AppendError>>,
}

impl Job {
    /// The checks of a batch that is not a repeat, before the rules, by either sequencer:
    /// each `at` within `max_skew` of the server's clock when it arrived, and no event id
    /// twice in the batch.
    pub(crate) fn check_new(&self, max_skew: Option<chrono::Duration>) -> Result<(), AppendError> {
        if let Some(max) = max_skew {
            for (position, event) in self.events.iter().enumerate() {
                let at = event.at();
                if (at.datetime() - self.received.datetime()).abs() > max {
                    return Err(AppendError::ClockSkew {
                        position,
                        at,
                        now: self.received,
                        max_seconds: max.num_seconds(),
                    });
                }
            }
        }
        let mut batch_ids = HashSet::new();
        if !self
            .events
            .iter()
            .all(|e| batch_ids.insert(e.envelope().id))
        {
            return Err(AppendError::InvalidBatch(
                "an event id appears twice in the batch".into(),
            ));
        }
        Ok(())
    }
}

/// The one way events enter a store while it is served.
pub struct Pipeline<S: EventStore> {
    store: Arc<S>,
    jobs: mpsc::Sender<Job>,
    published: watch::Receiver<Snapshot>,
    options_clock: Clock,
    max_skew: Option<chrono::Duration>,
    limits: crate::AppendLimits,
    log_key: Option<VerifierKey>,
}

impl<S: EventStore> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("max_skew", &self.max_skew)
            .finish_non_exhaustive()
    }
}

impl<S: EventStore> Pipeline<S> {
    /// Starts the sequencer, publishing no checkpoints. `state` and `ids` must be the replay
    /// of exactly what `store` holds (see [`crate::replay_store`]).
    pub fn start(
        store: Arc<S>,
        state: State,
        ids: HashSet<EventId>,
        options: PipelineOptions,
    ) -> Self {
        Self::launch(store, state, ids, None, options)
    }

    /// Starts the sequencer over a replayed store, with the log's key: the first snapshot
    /// holds the checkpoint of the replayed log, and every commit group publishes a new one
    /// (one signature per group, however many appends it holds) before any of its appends
    /// is answered. `replayed` must be the replay of exactly what `store` holds.
    pub fn start_signed(
        store: Arc<S>,
        replayed: Replayed,
        signer: LogSigner,
        options: PipelineOptions,
    ) -> Result<Self, overens_log::CheckpointError> {
        let first = signer.sign(replayed.state.len(), replayed.root)?;
        Ok(Self::launch(
            store,
            replayed.state,
            replayed.ids,
            Some((signer, first)),
            options,
        ))
    }

    /// Starts the sequencer for a log that several servers write (an EventStoreDB/KurrentDB
    /// store): appends are decided against the log as followed so far and written with the
    /// store's per-stream optimistic concurrency, and the projections grow only by
    /// following the store's global order, every record re-verified (see `shared.rs`). An
    /// append is answered once this server has folded it. `replayed` must be the replay of
    /// exactly what `store` held; with a signer, every fold publishes a signed checkpoint
    /// (servers sharing one log should share its key: ed25519 signatures are deterministic,
    /// so they then publish identical checkpoints).
    pub fn start_shared(
        store: Arc<S>,
        replayed: Replayed,
        signer: Option<LogSigner>,
        options: PipelineOptions,
    ) -> Result<Self, overens_log::CheckpointError> {
        let checkpoint = match &signer {
            Some(signer) => Some(signer.sign(replayed.state.len(), replayed.root)?),
            None => None,
        };
        let snapshot = Snapshot {
            len: replayed.state.len(),
            state: replayed.state.clone(),
            checkpoint,
            halted: None,
        };
        let log_key = signer.as_ref().map(|s| s.verifier_key().clone());
        let (publish, published) = watch::channel(snapshot);
        let (jobs, queue) = mpsc::channel(options.max_group.max(1) * 4);
        let sequencer = crate::shared::SharedSequencer {
            store: store.clone(),
            replayer: overens_core::Replayer::resume(
                replayed.state,
                replayed.ids,
                replayed.last_recorded_at,
            ),
            tree: replayed.tree,
            clock: options.clock.clone(),
            max_skew: options.max_skew,
            max_group: options.max_group.max(1),
            limits: options.limits,
            publish,
            signer,
            waiting: Default::default(),
        };
        tokio::spawn(sequencer.run(queue));
        Ok(Pipeline {
            store,
            jobs,
            published,
            options_clock: options.clock,
            max_skew: options.max_skew,
            limits: options.limits,
            log_key,
        })
    }

    fn launch(
        store: Arc<S>,
        state: State,
        ids: HashSet<EventId>,
        log: Option<(LogSigner, SignedCheckpoint)>,
        options: PipelineOptions,
    ) -> Self {
        let (signer, checkpoint) = log.unzip();
        let snapshot = Snapshot {
            len: state.len(),
            state: state.clone(),
            checkpoint,
            halted: None,
        };
        let log_key = signer.as_ref().map(|s| s.verifier_key().clone());
        let (publish, published) = watch::channel(snapshot);
        let (jobs, queue) = mpsc::channel(options.max_group.max(1) * 4);
        let sequencer = Sequencer {
            store: store.clone(),
            state,
            ids,
            last_recorded_at: None,
            clock: options.clock.clone(),
            max_skew: options.max_skew,
            max_group: options.max_group.max(1),
            limits: options.limits,
            publish,
            signer,
        };
        tokio::spawn(sequencer.run(queue));
        Pipeline {
            store,
            jobs,
            published,
            options_clock: options.clock,
            max_skew: options.max_skew,
            limits: options.limits,
            log_key,
        }
    }

    /// The verifier key of the log's checkpoints (name and public key), if it signs any.
    pub fn log_key(&self) -> Option<&VerifierKey> {
        self.log_key.as_ref()
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The projections as of the latest commit.
    pub fn snapshot(&self) -> Snapshot {
        self.published.borrow().clone()
    }

    /// Follows published snapshots (one per commit group).
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.published.clone()
    }

    /// Appends one envelope or a batch for one stream, atomically. Returns once the events
    /// are durable; a refused batch changes nothing.
    pub async fn append(&self, envelopes: Vec<Envelope>) -> Result<Appended, AppendError> {
        if envelopes.is_empty() {
            return Err(AppendError::InvalidBatch(
                "an append needs at least one event".into(),
            ));
        }
        let received = (self.options_clock)();
        let mut events = Vec::with_capacity(envelopes.len());
        for (position, envelope) in envelopes.into_iter().enumerate() {
            let verified = envelope
                .verify()
                .map_err(|error| AppendError::Envelope { position, error })?;
            self.limits
                .check_payload(&verified)
                .map_err(|exceeded| AppendError::Limit { position, exceeded })?;
            events.push(verified);
        }
        let stream = events[0].stream().clone();
        if events.iter().any(|e| e.stream() != &stream) {
            return Err(AppendError::InvalidBatch(
                "a batch appends to one stream only".into(),
            ));
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                events,
                received,
                reply,
            })
            .await
            .map_err(|_| AppendError::Store(StoreError::Failed))?;
        answer
            .await
            .map_err(|_| AppendError::Store(StoreError::Failed))?
    }
}

struct Sequencer<S: EventStore> {
    store: Arc<S>,
    state: State,
    ids: HashSet<EventId>,
    last_recorded_at: Option<Timestamp>,
    clock: Clock,
    max_skew: Option<chrono::Duration>,
    max_group: usize,
    limits: crate::AppendLimits,
    /// Also says whether appends stopped: `halted` of the published snapshot.
    publish: watch::Sender<Snapshot>,
    /// The log's key: signs one checkpoint per commit group.
    signer: Option<LogSigner>,
}

enum Outcome {
    Accepted(Vec<u64>),
    Answered(Result<Appended, AppendError>),
}

/// The events a commit group has accepted so far, by id: their index and event hash. They
/// are not in the store (nor in `Sequencer::ids`) until the group commits, but a later job
/// of the same group that uses their ids is a retry or a reuse all the same.
type Pending = HashMap<EventId, (u64, Digest32)>;

impl<S: EventStore> Sequencer<S> {
    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        if let Ok(Some(last)) = self.last_record_time().await {
            self.last_recorded_at = Some(last);
        }
        while let Some(first) = queue.recv().await {
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
            self.commit_group(group).await;
        }
    }

    /// The signed checkpoint of the log as the sequencer now has it; `None` without a key.
    async fn checkpoint(&self) -> Result<Option<SignedCheckpoint>, StoreError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let size = self.state.len();
        let root = self.store.tree_head(size).await?;
        signer
            .sign(size, root)
            .map(Some)
            .map_err(|e| StoreError::Storage(format!("signing the checkpoint: {e}")))
    }

    async fn last_record_time(&self) -> Result<Option<Timestamp>, StoreError> {
        let len = self.store.len().await?;
        if len == 0 {
            return Ok(None);
        }
        Ok(self
            .store
            .read_log(len - 1, 1)
            .await?
            .first()
            .map(|r| r.recorded_at))
    }

    /// Decides every job of the group in arrival order against the state that the jobs
    /// before it produced, then writes all accepted events in one store request.
    async fn commit_group(&mut self, group: Vec<Job>) {
        let recorded_at = {
            let now = (self.clock)();
            self.last_recorded_at.map_or(now, |last| now.max(last))
        };
        let mut records = Vec::new();
        let mut pending = Pending::new();
        let mut outcomes = Vec::with_capacity(group.len());
        for job in &group {
            outcomes.push(
                self.decide(job, recorded_at, &mut records, &mut pending)
                    .await,
            );
        }
        if !records.is_empty() {
            let new_ids: Vec<EventId> = records
                .iter()
                .map(|r: &RestoreRecord| r.event.id())
                .collect();
            if let Err(error) = self.store.restore(records).await {
                // The state ran ahead of a commit that failed: stop rather than serve
                // projections the disk may not hold. A restart replays what is there.
                // The state before this group is the last one published (a group that
                // commits publishes; refused jobs change nothing), so no copy of it is
                // taken up front: that copy would make every change copy what it touches.
                self.state = self.publish.borrow().state.clone();
                halt(&self.publish, &error);
                for job in group {
                    let _ = job.reply.send(Err(AppendError::Store(error.clone())));
                }
                return;
            }
            self.ids.extend(new_ids);
            self.last_recorded_at = Some(recorded_at);
            let checkpoint = match self.checkpoint().await {
                Ok(checkpoint) => checkpoint,
                Err(error) => {
                    // Committed, but the tree cannot be read or signed: stop taking
                    // appends (fail-stop, as for a failed commit). Readers keep the last
                    // snapshot, whose checkpoint is of its own length; these appends are
                    // answered with the error, as no signed checkpoint includes them (they
                    // are durable: a restart replays them, and a retry then gets them).
                    halt(&self.publish, &error);
                    for job in group {
                        let _ = job.reply.send(Err(AppendError::Store(error.clone())));
                    }
                    return;
                }
            };
            self.publish.send_replace(Snapshot {
                state: self.state.clone(),
                len: self.state.len(),
                checkpoint,
                halted: None,
            });
        }
        let log_len = self.state.len();
        for (job, outcome) in group.into_iter().zip(outcomes) {
            let answer = match outcome {
                Outcome::Accepted(indexes) => Ok(Appended {
                    indexes,
                    recorded_at,
                    log_len,
                    repeated: false,
                }),
                Outcome::Answered(answer) => answer,
            };
            let _ = job.reply.send(answer);
        }
    }

    async fn decide(
        &mut self,
        job: &Job,
        recorded_at: Timestamp,
        records: &mut Vec<RestoreRecord>,
        pending: &mut Pending,
    ) -> Outcome {
        let events = &job.events[..];
        // A retry of events already in the log gets the first answer, however late it comes:
        // so the repeat check goes before the clock check.
        if let Some(answer) = self.repeat_of(events, pending, recorded_at).await {
            return Outcome::Answered(answer);
        }
        if let Err(error) = job.check_new(self.max_skew) {
            return Outcome::Answered(Err(error));
        }
        if let Err((position, exceeded)) = self.limits.check_batch(&self.state, events) {
            return Outcome::Answered(Err(AppendError::Limit { position, exceeded }));
        }
        let start = self.state.len();
        let applied = self
            .state
            .apply_batch(events.iter().enumerate().map(|(i, event)| Recorded {
                index: start + i as u64,
                recorded_at,
                event,
            }));
        match applied {
            Ok(()) => {
                let indexes: Vec<u64> = (start..start + events.len() as u64).collect();
                for (event, index) in events.iter().zip(&indexes) {
                    pending.insert(event.envelope().id, (*index, event.hash()));
                    records.push(RestoreRecord {
                        index: *index,
                        recorded_at,
                        event: AppendEvent::from(event),
                    });
                }
                Outcome::Accepted(indexes)
            }
            Err((position, rejection)) => Outcome::Answered(Err(AppendError::Rejected {
                position,
                rejection,
            })),
        }
    }

    /// An append whose ids are already in the log (or accepted earlier in this group): the
    /// same events again get the first answer (so a client may retry after a lost reply);
    /// any other use of an id is refused.
    async fn repeat_of(
        &self,
        events: &[VerifiedEvent],
        pending: &Pending,
        group_recorded_at: Timestamp,
    ) -> Option<Result<Appended, AppendError>> {
        let known = |id: &EventId| self.ids.contains(id) || pending.contains_key(id);
        if !events.iter().any(|e| known(&e.envelope().id)) {
            return None;
        }
        let mut indexes = Vec::with_capacity(events.len());
        let mut recorded_at = None;
        for event in events {
            let id = event.envelope().id;
            if let Some((index, hash)) = pending.get(&id) {
                if *hash != event.hash() {
                    return Some(Err(AppendError::IdReused(id)));
                }
                recorded_at.get_or_insert(group_recorded_at);
                indexes.push(*index);
                continue;
            }
            match self.store.find(id).await {
                Err(e) => return Some(Err(AppendError::Store(e))),
                Ok(Some(stored)) if stored.envelope == event.canonical_bytes() => {
                    recorded_at.get_or_insert(stored.recorded_at);
                    indexes.push(stored.index);
                }
                Ok(Some(_)) => return Some(Err(AppendError::IdReused(id))),
                // Part of the batch is new: not a retry of one earlier append.
                Ok(None) => {
                    return Some(Err(AppendError::IdReused(
                        self.first_known(events, pending),
                    )));
                }
            }
        }
        let consecutive = indexes.windows(2).all(|w| w[1] == w[0] + 1);
        if !consecutive {
            return Some(Err(AppendError::InvalidBatch(
                "these events were appended before, but not as one batch".into(),
            )));
        }
        Some(Ok(Appended {
            indexes,
            recorded_at: recorded_at.unwrap_or_else(|| (self.clock)()),
            log_len: self.state.len(),
            repeated: true,
        }))
    }

    fn first_known(&self, events: &[VerifiedEvent], pending: &Pending) -> EventId {
        events
            .iter()
            .map(|e| e.envelope().id)
            .find(|id| self.ids.contains(id) || pending.contains_key(id))
            .unwrap_or(events[0].envelope().id)
    }
}
