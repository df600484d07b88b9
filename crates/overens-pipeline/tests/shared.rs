//! Several servers on one log (`Pipeline::start_shared`), played by two pipelines on one
//! store: they converge to the same projections and checkpoints, each reads its own writes,
//! the store's chain check settles a race on one stream, and a write decided before its
//! signer's revocation but placed after it is void on every server and in every replay.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use overens_core::event::{SectionRevised, SignatoryRevoked};
use overens_core::{Digest32, Event, EventId, Rejection, SecretKey, StreamId, replay_log_file};
use overens_log::{InclusionProof, LogSigner};
use overens_pipeline::{AppendError, Pipeline, Snapshot, replay_store};
use overens_store::{
    AppendEvent, Appended, ConsistencyProof, EventStore, RestoreRecord, SqliteStore, StoreError,
    StoredRecord, StreamHead,
};

/// A store seen through a gate: reads of the log stop at `gate` records, as for a server
/// whose subscription lags. Writes go through. The record at `altered` is read with one
/// character of its signature changed (and its hashes recomputed from the changed bytes),
/// as an event written to a cluster by something other than an Överens server would be.
#[derive(Clone)]
struct Gated {
    inner: Arc<SqliteStore>,
    gate: Arc<AtomicU64>,
    altered: Arc<AtomicU64>,
}

impl Gated {
    fn close_at(&self, len: u64) {
        self.gate.store(len, Ordering::SeqCst);
    }
    fn open(&self) {
        self.gate.store(u64::MAX, Ordering::SeqCst);
    }
    fn gate(&self) -> u64 {
        self.gate.load(Ordering::SeqCst)
    }
    fn alter(&self, index: u64) {
        self.altered.store(index, Ordering::SeqCst);
    }
}

/// `record` with one character of its signature changed: still canonical, still the same
/// stream, seq and id, its hashes those of the new bytes; only the signature fails.
fn with_a_bad_signature(mut record: StoredRecord) -> StoredRecord {
    let text = String::from_utf8(record.envelope).expect("UTF-8");
    let at = text.find("\"sig\":\"").expect("a signature") + 10;
    let old = text.as_bytes()[at];
    let new = if old == b'A' { "B" } else { "A" };
    let text = format!("{}{new}{}", &text[..at], &text[at + 1..]);
    record.envelope = text.into_bytes();
    record.hash = Digest32::of(&record.envelope);
    record.leaf =
        overens_store::record_leaf_hash(&record.envelope, record.index, record.recorded_at);
    record
}

impl EventStore for Gated {
    async fn append(&self, batch: Vec<AppendEvent>) -> Result<Appended, StoreError> {
        self.inner.append(batch).await
    }
    async fn restore(&self, records: Vec<RestoreRecord>) -> Result<(), StoreError> {
        self.inner.restore(records).await
    }
    async fn find(&self, id: EventId) -> Result<Option<StoredRecord>, StoreError> {
        self.inner.find(id).await
    }
    async fn len(&self) -> Result<u64, StoreError> {
        Ok(self.inner.len().await?.min(self.gate()))
    }
    async fn head(&self, stream: &StreamId) -> Result<StreamHead, StoreError> {
        self.inner.head(stream).await
    }
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.read_stream(stream, from_seq, limit).await
    }
    async fn read_log(&self, from: u64, limit: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let gate = self.gate();
        if from >= gate {
            return Ok(Vec::new());
        }
        let limit = limit.min((gate - from).try_into().unwrap_or(usize::MAX));
        let altered = self.altered.load(Ordering::SeqCst);
        let records = self.inner.read_log(from, limit).await?;
        Ok(records
            .into_iter()
            .map(|r| {
                if r.index == altered {
                    with_a_bad_signature(r)
                } else {
                    r
                }
            })
            .collect())
    }
    async fn tree_head(&self, size: u64) -> Result<Digest32, StoreError> {
        self.inner.tree_head(size).await
    }
    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
        self.inner.inclusion_proof(index, size).await
    }
    async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.inner.consistency_proof(old_size, new_size).await
    }
    async fn wait_for_growth(&self, known: u64, timeout: Duration) -> Result<u64, StoreError> {
        if known >= self.gate() {
            // Behind the gate the log does not grow; don't spin on the real one.
            tokio::time::sleep(timeout.min(Duration::from_millis(20))).await;
            return Ok(known);
        }
        self.inner.wait_for_growth(known, timeout).await
    }
}

fn signer() -> LogSigner {
    LogSigner::new("overens.test/shared", SecretKey::from_seed(&[7; 32])).expect("a log key")
}

struct Servers {
    _tmp: tempfile::TempDir,
    store: Arc<SqliteStore>,
    a: Pipeline<Gated>,
    b: Pipeline<Gated>,
    b_gate: Gated,
}

/// Two servers on the example log, each replaying the store first as start-up does.
async fn two_servers() -> Servers {
    let (tmp, data) = imported().await;
    let (store, _) = open_ok(&data).await;
    let store = Arc::new(store);
    let start = |gated: Gated| async move {
        let replayed = replay_store(&gated, empty_state(), &mut |_, _| {})
            .await
            .expect("the store replays");
        Pipeline::start_shared(
            Arc::new(gated),
            replayed,
            Some(signer()),
            pipeline_options(None),
        )
        .expect("starts")
    };
    let gated = |store: &Arc<SqliteStore>| Gated {
        inner: store.clone(),
        gate: Arc::new(AtomicU64::new(u64::MAX)),
        altered: Arc::new(AtomicU64::new(u64::MAX)),
    };
    let b_gate = gated(&store);
    Servers {
        a: start(gated(&store)).await,
        b: start(b_gate.clone()).await,
        b_gate,
        store,
        _tmp: tmp,
    }
}

fn section(id: &str, text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: id.parse().expect("section slug"),
        heading: format!("Rubrik {id}"),
        text: text.into(),
    })
}

fn agreement() -> StreamId {
    stream(BARN_OCH_UNGA)
}

fn head_of(snapshot: &Snapshot, stream: &StreamId) -> StreamHead {
    snapshot.state.head(stream)
}

/// Waits until `pipeline` has folded `len` records.
async fn folded(pipeline: &Pipeline<Gated>, len: u64) -> Snapshot {
    let mut snapshots = pipeline.subscribe();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            if snapshot.len >= len {
                return snapshot;
            }
            snapshots.changed().await.expect("the sequencer runs");
        }
    })
    .await
    .expect("the server follows the log within 10 s")
}

fn kommun_key() -> SecretKey {
    party_key("norrkoping-socialkontoret")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_converge_and_each_reads_its_own_writes() {
    let s = two_servers().await;
    let on_a = sign(
        &kommun_key(),
        &agreement(),
        head_of(&s.a.snapshot(), &agreement()),
        &section("syfte", "Skrivet på A."),
    );
    let appended = s.a.append(vec![on_a.clone()]).await.expect("accepted on A");
    assert_eq!(appended.indexes, [EXAMPLE_LEN]);
    // Answered only once A folded it: A's own reads see it at once.
    assert_eq!(s.a.snapshot().len, EXAMPLE_LEN + 1);
    assert_eq!(head_of(&s.a.snapshot(), &agreement()), after(&on_a));

    // B sees it after following, then writes on top of it.
    let b_view = folded(&s.b, EXAMPLE_LEN + 1).await;
    let on_b = sign(
        &kommun_key(),
        &agreement(),
        head_of(&b_view, &agreement()),
        &section("syfte", "Skrivet på B."),
    );
    assert_eq!(
        s.b.append(vec![on_b]).await.expect("accepted on B").indexes,
        [EXAMPLE_LEN + 1]
    );
    let a_view = folded(&s.a, EXAMPLE_LEN + 2).await;
    let b_view = s.b.snapshot();
    assert_eq!(projection(&a_view.state), projection(&b_view.state));
    // One key, deterministic signatures: the very same checkpoint on both.
    let (ca, cb) = (a_view.checkpoint.expect("a"), b_view.checkpoint.expect("b"));
    assert_eq!(ca.note_text, cb.note_text);
    // And a replay from scratch agrees with both.
    let replayed = replay_store(&*s.store, empty_state(), &mut |_, _| {})
        .await
        .expect("replays");
    assert_eq!(projection(&replayed.state), projection(&a_view.state));
    assert_eq!(replayed.root, ca.root);

    // A retry of A's append on B gets the first answer.
    let again = s.b.append(vec![on_a]).await.expect("a retry");
    assert!(again.repeated);
    assert_eq!(again.indexes, [EXAMPLE_LEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_server_s_write_on_a_moved_stream_is_refused_by_the_store() {
    let s = two_servers().await;
    s.b_gate.close_at(EXAMPLE_LEN);
    let head = head_of(&s.a.snapshot(), &agreement());
    let first = sign(
        &kommun_key(),
        &agreement(),
        head,
        &section("syfte", "A först."),
    );
    s.a.append(vec![first]).await.expect("A wins");
    let before = export_bytes(&*s.store).await;

    // B has not seen A's event and decides against the old head.
    let stale = sign(
        &kommun_key(),
        &agreement(),
        head,
        &section("syfte", "B för sent."),
    );
    let error = s.b.append(vec![stale]).await.expect_err("refused");
    assert!(
        matches!(error, AppendError::Store(StoreError::Conflict(_))),
        "{error:?}"
    );
    assert_eq!(
        export_bytes(&*s.store).await,
        before,
        "the log is unchanged"
    );
    s.b_gate.open();
    let b_view = folded(&s.b, EXAMPLE_LEN + 1).await;
    assert_eq!(projection(&b_view.state), projection(&s.a.snapshot().state));
}

fn revoked(key: &SecretKey) -> Event {
    Event::SignatoryRevoked(SignatoryRevoked {
        key: key.public(),
        reason: "Slutat".into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_decided_before_its_signer_s_revocation_is_void_on_every_server() {
    let s = two_servers().await;
    s.b_gate.close_at(EXAMPLE_LEN);
    // A revokes the key …
    let revocation = sign(
        &key("registrar"),
        &StreamId::Directory,
        head_of(&s.a.snapshot(), &StreamId::Directory),
        &revoked(&kommun_key()),
    );
    let revoked_at = s.a.append(vec![revocation]).await.expect("revoked").indexes[0];
    // … while B, not yet aware, accepts an event signed by it. The store takes it: its
    // stream's chain is right.
    let raced = sign(
        &kommun_key(),
        &agreement(),
        head_of(&s.b.snapshot(), &agreement()),
        &section("syfte", "Beslutat före återkallelsen."),
    );
    let answer = {
        let b = &s.b;
        let raced = raced.clone();
        let gate = s.b_gate.clone();
        let (answer, ()) = tokio::join!(b.append(vec![raced]), async move {
            // B's subscription catches up only after its write is in the store.
            while gate.inner.len().await.expect("len") < EXAMPLE_LEN + 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            gate.open();
        });
        answer
    };
    let expected = Rejection::RevokedKey {
        key: kommun_key().public(),
        revoked_at,
    };
    match &answer {
        Err(AppendError::Rejected {
            position: 0,
            rejection,
        }) => assert_eq!(rejection, &expected),
        other => panic!("expected the void verdict, got {other:?}"),
    }
    // The record is in the log, void, the same on both servers …
    let a_view = folded(&s.a, EXAMPLE_LEN + 2).await;
    let b_view = s.b.snapshot();
    assert_eq!(b_view.len, EXAMPLE_LEN + 2);
    for view in [&a_view, &b_view] {
        let voids = view.state.voids();
        assert_eq!(voids.len(), 1);
        assert_eq!(voids[0].stamp.index, EXAMPLE_LEN + 1);
        assert_eq!(voids[0].rejection, expected);
    }
    assert_eq!(projection(&a_view.state), projection(&b_view.state));
    // … in a replay from scratch, and in the exported log file.
    let replayed = replay_store(&*s.store, empty_state(), &mut |_, _| {})
        .await
        .expect("a log with a void record replays");
    assert_eq!(projection(&replayed.state), projection(&a_view.state));
    let file = String::from_utf8(export_bytes(&*s.store).await).expect("UTF-8");
    let from_file = replay_log_file(&file, empty_state()).expect("the file replays");
    assert_eq!(from_file.voids(), a_view.state.voids());
    // A retry gets the same verdict; nothing more is written.
    let retried = s.b.append(vec![raced]).await;
    assert_eq!(
        retried,
        Err(AppendError::Rejected {
            position: 0,
            rejection: expected
        })
    );
    assert_eq!(s.store.len().await.expect("len"), EXAMPLE_LEN + 2);
}

/// A record of the shared log that does not verify stops the server that reads it: it
/// folds nothing from that record on, says why in its snapshot (the health check's 503),
/// refuses every append with that reason and writes nothing; readers keep the last
/// verified projections. A server that read the record intact goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_does_not_verify_halts_the_server_that_reads_it() {
    let s = two_servers().await;
    s.b_gate.alter(EXAMPLE_LEN);
    let on_a = sign(
        &kommun_key(),
        &agreement(),
        head_of(&s.a.snapshot(), &agreement()),
        &section("syfte", "Skrivet på A."),
    );
    s.a.append(vec![on_a.clone()]).await.expect("accepted on A");

    let mut snapshots = s.b.subscribe();
    let halted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            if snapshot.halted.is_some() {
                return snapshot;
            }
            snapshots.changed().await.expect("the sequencer runs");
        }
    })
    .await
    .expect("B halts within 10 s");
    let reason = halted.halted.clone().expect("a reason");
    assert!(
        reason.contains(&format!("index {EXAMPLE_LEN}")) && reason.contains("signature"),
        "{reason}"
    );
    assert_eq!(
        halted.len, EXAMPLE_LEN,
        "nothing past the last verified record"
    );
    assert_eq!(
        projection(&halted.state),
        projection(&replay_log_file(&log_text(), empty_state()).expect("example"))
    );

    let len = s.store.len().await.expect("len");
    let next = sign(
        &kommun_key(),
        &agreement(),
        after(&on_a),
        &section("syfte", "Skrivet på B."),
    );
    match s.b.append(vec![next]).await {
        Err(AppendError::Halted(why)) => assert_eq!(why, reason),
        other => panic!("B took an append after halting: {other:?}"),
    }
    assert_eq!(s.store.len().await, Ok(len), "nothing written");
    assert!(s.a.snapshot().halted.is_none(), "A read the record intact");
}
