//! The conformance suite against `SqliteStore`, and what only SQLite has: the file's
//! durability settings, the single-process lock and the clock that stamps `recorded_at`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::Poll;
use std::time::Duration;

use overens_core::Timestamp;
use overens_store::conformance::{
    Chain, StoreFactory, agreement, append_ok, batch, check_consistent, directory, read_all,
    restore_record, snapshot, ts,
};
use overens_store::{EventStore, SqliteOptions, SqliteStore, StoreError};
use tempfile::TempDir;

/// Stores in files of one temporary directory, removed when the factory goes.
struct Sqlite {
    dir: TempDir,
    made: AtomicUsize,
}

impl Sqlite {
    fn new() -> Self {
        Sqlite {
            dir: tempfile::tempdir().expect("a temporary directory"),
            made: AtomicUsize::new(0),
        }
    }
}

impl StoreFactory for Sqlite {
    type Store = SqliteStore;

    async fn fresh(&self) -> SqliteStore {
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("store-{n}.sqlite"));
        SqliteStore::open(path, SqliteOptions::default()).expect("a fresh store opens")
    }

    async fn reopen(&self, store: SqliteStore) -> SqliteStore {
        let path = store.path().to_owned();
        drop(store);
        SqliteStore::open(path, SqliteOptions::default()).expect("the store opens again")
    }
}

mod conformance {
    use super::Sqlite;

    overens_store::conformance_suite!(Sqlite::new());
}

fn open(path: &std::path::Path, options: SqliteOptions) -> SqliteStore {
    SqliteStore::open(path, options).expect("the store opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_is_wal_with_full_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let store = open(&path, SqliteOptions::default());
    append_ok(&store, &Chain::new(directory()).batch(2)).await;

    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("a second connection");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    // `synchronous` belongs to each connection, not to the file: this one shows the build's
    // default, which must be FULL too. The writer's own setting is checked beside it, in
    // the crate's unit tests (sqlite::schema).
    let sync: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .expect("synchronous");
    assert_eq!(sync, 2, "synchronous=FULL");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let first = open(&path, SqliteOptions::default());
    let mut chain = Chain::new(directory());
    append_ok(&first, &chain.batch(1)).await;

    let error = SqliteStore::open(&path, SqliteOptions::default()).expect_err("refused");
    match &error {
        StoreError::Storage(message) => {
            assert!(message.contains("in use"), "{message}");
            assert!(message.contains("log.sqlite"), "{message}");
        }
        other => panic!("refused with {other:?}"),
    }
    // The refused open disturbed nothing: the first store goes on.
    append_ok(&first, &chain.batch(1)).await;
    assert_eq!(first.len().await, Ok(2));

    drop(first);
    let again = open(&path, SqliteOptions::default());
    assert_eq!(again.len().await, Ok(2));
    check_consistent(&snapshot(&again, &[]).await);
}

/// A clock the test sets by hand.
fn manual_clock(start: &str) -> (Arc<Mutex<Timestamp>>, SqliteOptions) {
    let now = Arc::new(Mutex::new(ts(start)));
    let clock = now.clone();
    let options = SqliteOptions {
        clock: Arc::new(move || *clock.lock().expect("clock")),
        ..SqliteOptions::default()
    };
    (now, options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_stamps_recorded_at_and_never_goes_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let (now, options) = manual_clock("2024-05-06T07:08:09.123456Z");
    let store = open(&path, options.clone());
    let mut chain = Chain::new(agreement("klocka"));

    let a = append_ok(&store, &chain.batch(2)).await;
    assert_eq!(a.recorded_at, ts("2024-05-06T07:08:09.123456Z"));
    *now.lock().expect("clock") = ts("2024-05-06T08:00:00Z");
    let b = append_ok(&store, &chain.batch(1)).await;
    assert_eq!(b.recorded_at, ts("2024-05-06T08:00:00Z"));

    // The clock steps back: the log does not.
    *now.lock().expect("clock") = ts("2024-05-06T07:00:00Z");
    let c = append_ok(&store, &chain.batch(1)).await;
    assert_eq!(c.recorded_at, ts("2024-05-06T08:00:00Z"));

    // Nor after a restart with a clock that is behind.
    drop(store);
    let store = open(&path, options);
    let d = append_ok(&store, &chain.batch(1)).await;
    assert_eq!(d.recorded_at, ts("2024-05-06T08:00:00Z"));
    *now.lock().expect("clock") = ts("2024-05-06T09:00:00Z");
    let e = append_ok(&store, &chain.batch(1)).await;
    assert_eq!(e.recorded_at, ts("2024-05-06T09:00:00Z"));

    let times: Vec<Timestamp> = read_all(&store)
        .await
        .iter()
        .map(|r| r.recorded_at)
        .collect();
    let expected: Vec<Timestamp> = ["2024-05-06T07:08:09.123456Z", "2024-05-06T07:08:09.123456Z"]
        .into_iter()
        .chain(["2024-05-06T08:00:00Z"; 3])
        .chain(["2024-05-06T09:00:00Z"])
        .map(ts)
        .collect();
    assert_eq!(times, expected);
}

/// Polls a future once; it must still be waiting.
async fn poll_once<F: Future>(future: Pin<&mut F>) {
    let mut future = Some(future);
    std::future::poll_fn(|cx| {
        let pending = future.take().expect("polled once").poll(cx).is_pending();
        assert!(pending, "answered while the writer was held");
        Poll::Ready(())
    })
    .await;
}

/// A restore and an append committed in one group: the append is stamped no earlier than
/// the restored record before it. The clock holds the writer inside the first group until
/// the restore and the append are both queued, so they share the next group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_in_a_group_after_a_restore_is_not_recorded_earlier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let gate = Mutex::new(Some((entered_tx, released)));
    let options = SqliteOptions {
        clock: Arc::new(move || {
            let held = gate.lock().expect("gate").take();
            if let Some((entered, released)) = held {
                let _ = entered.send(());
                let _ = released.recv_timeout(Duration::from_secs(10));
            }
            ts("2024-01-01T00:00:00Z")
        }),
        ..SqliteOptions::default()
    };
    let store = Arc::new(open(&path, options));
    let mut dir_chain = Chain::new(directory());
    let mut deal = Chain::new(agreement("grupp"));

    let first = {
        let store = store.clone();
        let events = dir_chain.batch(1);
        tokio::spawn(async move { store.append(batch(&events)).await })
    };
    tokio::task::spawn_blocking(move || entered.recv_timeout(Duration::from_secs(10)))
        .await
        .expect("join")
        .expect("the writer asked the clock");

    // Queue the restore, then the append, while the writer is held: each request is sent
    // on its future's first poll.
    let later = ts("2024-01-01T01:00:00Z");
    let mut restore =
        Box::pin(store.restore(vec![restore_record(&dir_chain.next_event(), 1, later)]));
    poll_once(restore.as_mut()).await;
    let mut append = Box::pin(store.append(batch(&deal.batch(1))));
    poll_once(append.as_mut()).await;
    release.send(()).expect("release the writer");

    first.await.expect("join").expect("first append");
    restore.await.expect("restore");
    let appended = append.await.expect("append");
    assert_eq!(appended.indexes, vec![2]);
    assert!(
        appended.recorded_at >= later,
        "recorded at {} after a record restored at {later}",
        appended.recorded_at
    );
    check_consistent(&snapshot(&*store, &[]).await);
}

// --- the tree's nodes table -------------------------------------------------------------------

fn raw(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("a second connection");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn
}

/// Turns a store file into what a file of schema version 1 (before the `nodes` table)
/// looks like.
fn make_version_1(path: &std::path::Path) {
    raw(path)
        .execute_batch(
            "DROP TABLE nodes; UPDATE meta SET value = '1' WHERE key = 'schema_version';",
        )
        .expect("make a version 1 file");
}

fn schema_version(path: &std::path::Path) -> String {
    raw(path)
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .expect("version")
}

fn node_count(path: &std::path::Path) -> u64 {
    raw(path)
        .query_row("SELECT count(*) FROM nodes", [], |r| r.get::<_, i64>(0))
        .expect("count") as u64
}

/// A log of 37 records written in batches, restores and racing appends.
async fn filled(path: &std::path::Path) -> SqliteStore {
    let store = Arc::new(open(path, SqliteOptions::default()));
    let mut dir = Chain::new(directory());
    ok_restore(
        &store,
        vec![restore_record(
            &dir.next_event(),
            0,
            ts("2020-01-01T00:00:00Z"),
        )],
    )
    .await;
    append_ok(&*store, &dir.batch(4)).await;
    let racing: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let events = Chain::new(agreement(&format!("nod-{i}"))).batch(2);
            tokio::spawn(async move { store.append(batch(&events)).await })
        })
        .collect();
    for task in racing {
        task.await.expect("join").expect("append");
    }
    assert_eq!(store.len().await, Ok(37));
    Arc::try_unwrap(store).expect("the only holder")
}

async fn ok_restore(store: &SqliteStore, records: Vec<overens_store::RestoreRecord>) {
    store.restore(records).await.expect("restore");
}

fn independent_root(log: &[overens_store::StoredRecord]) -> overens_core::Digest32 {
    overens_log::MemoryHashes::from_leaves(log.iter().map(|r| &r.leaf)).root()
}

/// Every commit writes exactly its records' nodes, in the same transaction: the file never
/// holds records without their nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_commit_holds_its_nodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let store = filled(&path).await;
    assert_eq!(node_count(&path), overens_log::stored_hash_count(37));
    assert_eq!(schema_version(&path), "2");
    let root = store.tree_head(37).await.expect("root");
    assert_eq!(root, independent_root(&read_all(&store).await));
}

/// A file of schema version 1 (no `nodes` table) gets its tree computed once on open: the
/// same roots and proofs as a file that always had it, and appends continue it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_file_is_migrated_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let store = filled(&path).await;
    let roots: Vec<_> = {
        let mut roots = Vec::new();
        for size in 0..=37 {
            roots.push(store.tree_head(size).await.expect("root"));
        }
        roots
    };
    drop(store);
    make_version_1(&path);

    let store = open(&path, SqliteOptions::default());
    assert_eq!(node_count(&path), overens_log::stored_hash_count(37));
    for (size, root) in (0..).zip(&roots) {
        assert_eq!(
            store.tree_head(size).await.as_ref(),
            Ok(root),
            "size {size}"
        );
    }
    assert_eq!(schema_version(&path), "2");
    let mut more = Chain::new(agreement("efter-migrering"));
    append_ok(&store, &more.batch(3)).await;
    check_consistent(&snapshot(&store, &[]).await);
    let proof = store.consistency_proof(37, 40).await.expect("proof");
    let new_root = store.tree_head(40).await.expect("root");
    assert_eq!(proof.verify(&roots[37], &new_root), Ok(()));

    // A migrated file opens as any other.
    drop(store);
    let store = open(&path, SqliteOptions::default());
    assert_eq!(store.tree_head(40).await, Ok(new_root));
}

/// An empty version 1 file migrates to an empty tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_version_1_file_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    drop(open(&path, SqliteOptions::default()));
    make_version_1(&path);
    let store = open(&path, SqliteOptions::default());
    assert_eq!(store.tree_head(0).await, Ok(overens_log::EMPTY_ROOT));
    append_ok(&store, &Chain::new(directory()).batch(2)).await;
    check_consistent(&snapshot(&store, &[]).await);
}

/// A file of a version this build does not know is refused, untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    drop(filled(&path).await);
    raw(&path)
        .execute(
            "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
            [],
        )
        .expect("edit");
    let error = SqliteStore::open(&path, SqliteOptions::default()).expect_err("refused");
    assert!(error.to_string().contains("schema version 3"), "{error}");
}

/// A `nodes` table with a row missing or one too many does not fit the log: every root and
/// proof is refused, naming the table, while the records can still be read (and exported).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_table_that_does_not_fit_the_log_is_refused() {
    for (what, sql) in [
        ("a row missing", "DELETE FROM nodes WHERE id = 40"),
        (
            "the last row missing",
            "DELETE FROM nodes WHERE id = (SELECT max(id) FROM nodes)",
        ),
        (
            "a row too many",
            "INSERT INTO nodes (id, hash) SELECT max(id) + 1, hash FROM nodes",
        ),
        ("a row moved", "UPDATE nodes SET id = 1000 WHERE id = 3"),
        ("every row gone", "DELETE FROM nodes"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.sqlite");
        drop(filled(&path).await);
        raw(&path).execute(sql, []).expect(what);
        let store = open(&path, SqliteOptions::default());
        for answer in [
            store.tree_head(37).await.map(|_| ()),
            store.tree_head(1).await.map(|_| ()),
            store.inclusion_proof(3, 37).await.map(|_| ()),
            store.consistency_proof(5, 37).await.map(|_| ()),
        ] {
            match answer {
                Err(StoreError::CorruptTree(reason)) => {
                    assert!(reason.contains("nodes table"), "{what}: {reason}")
                }
                other => panic!("{what}: answered {other:?}"),
            }
        }
        assert_eq!(read_all(&store).await.len(), 37, "{what}");
    }
}

/// A changed hash in the `nodes` table is not caught by the store (the count fits), but the
/// root it gives is no longer the root of the records: replay compares the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_node_changes_the_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let store = filled(&path).await;
    let log = read_all(&store).await;
    drop(store);
    // 37 = 32 + 4 + 1: the root reads the perfect subtree of leaves 0..32.
    let index = overens_log::stored_hash_index(5, 0) as i64;
    raw(&path)
        .execute(
            "UPDATE nodes SET hash = zeroblob(32) WHERE id = ?1",
            [index],
        )
        .expect("edit");
    let store = open(&path, SqliteOptions::default());
    assert_ne!(store.tree_head(37).await, Ok(independent_root(&log)));
}

/// A reader beside a writer (a CLI command beside a running server): no lock is taken, it
/// reads the log as committed when it opened, refuses to write, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_open_reads_beside_the_writer_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sqlite");
    let writer = filled(&path).await;
    let before = snapshot(&writer, &[]).await;

    let reader = SqliteStore::open_read_only(&path).expect("opened beside the writer");
    assert_eq!(reader.len().await, Ok(37));
    assert_eq!(read_all(&reader).await, read_all(&writer).await);
    for size in [0, 1, 17, 37] {
        assert_eq!(reader.tree_head(size).await, writer.tree_head(size).await);
    }
    check_consistent(&snapshot(&reader, &[]).await);

    // Writing through it is refused, and the log stays as it was.
    let mut chain = Chain::new(agreement("read-only"));
    let refused = reader
        .append(batch(&chain.batch(1)))
        .await
        .expect_err("read-only");
    assert!(
        matches!(&refused, StoreError::ReadOnly(p) if p.contains("log.sqlite")),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("read-only"), "{refused}");
    assert_eq!(snapshot(&writer, &[]).await, before);

    // The writer goes on; the reader keeps the log it opened, never a half of a commit.
    let mut later = Chain::new(agreement("later"));
    append_ok(&writer, &later.batch(3)).await;
    assert_eq!(reader.len().await, Ok(37));
    assert_eq!(reader.read_log(37, 10).await, Ok(Vec::new()));
    let stream = later.stream.clone();
    assert_eq!(reader.read_stream(&stream, 0, 10).await, Ok(Vec::new()));
    assert_eq!(
        reader.head(&stream).await,
        Ok(overens_core::domain::StreamHead::EMPTY)
    );
    assert!(matches!(
        reader.tree_head(38).await,
        Err(StoreError::BeyondLog { size: 38, len: 37 })
    ));
    // Its log never grows: a wait for growth takes its time and reports the same length.
    let waited = std::time::Instant::now();
    assert_eq!(
        reader.wait_for_growth(37, Duration::from_millis(50)).await,
        Ok(37)
    );
    assert!(waited.elapsed() >= Duration::from_millis(50));
    let fresh = SqliteStore::open_read_only(&path).expect("a second reader");
    assert_eq!(fresh.len().await, Ok(40));
    assert_eq!(read_all(&fresh).await, read_all(&writer).await);
}

/// A reader creates nothing: a missing file is an error, not a new empty store; and it does
/// not migrate a file of another schema version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_open_creates_and_migrates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.sqlite");
    let error = SqliteStore::open_read_only(&missing).expect_err("no file");
    assert!(error.to_string().contains("no store file"), "{error}");
    assert!(!missing.exists());

    let path = dir.path().join("log.sqlite");
    drop(filled(&path).await);
    make_version_1(&path);
    let error = SqliteStore::open_read_only(&path).expect_err("version 1");
    assert!(
        error.to_string().contains("schema version 1") && error.to_string().contains("migrate"),
        "{error}"
    );
    let tables: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'nodes'",
            [],
            |r| r.get(0),
        )
        .expect("tables");
    assert_eq!(tables, 0, "not migrated by a reader");
}
