//! The transparency log live: the stored tree's root after import, replay and appends is the
//! root computed from scratch from the exported records; the pipeline's checkpoints only
//! grow and each is consistent with every earlier one; a `nodes` table changed behind the
//! store's back is refused at start-up; the log's own key in the data directory.

mod common;

use std::sync::Arc;

use common::*;
use overens_core::event::{AgreementDrafted, SectionRevised};
use overens_core::{Digest32, Envelope, Event, LogRecord, SecretKey};
use overens_log::{Checkpoint, EMPTY_ROOT, MemoryHashes, leaf_hash, stored_hash_index};
use overens_pipeline::{
    DataDir, DataDirError, LogSigner, Pipeline, ReplayError, SignedCheckpoint, Snapshot,
};
use overens_store::{EventStore, SqliteStore, StoreError};
use rusqlite::Connection;
use tokio::sync::Barrier;

const DRAFTERS: [&str; 3] = [
    "norrkoping-utbildningskontoret",
    "norrkoping-socialkontoret",
    "region-ostergotland",
];

fn signer() -> LogSigner {
    LogSigner::new("overens.test/pipeline", SecretKey::from_seed(&[11; 32])).expect("signer")
}

/// The root computed from scratch: the leaf hash of every exported line.
async fn root_from_scratch<S: EventStore>(store: &S) -> (u64, Digest32) {
    let text = String::from_utf8(export_bytes(store).await).expect("utf-8");
    let leaves: Vec<Digest32> = text.lines().map(|l| leaf_hash(l.as_bytes())).collect();
    let tree = MemoryHashes::from_leaves(&leaves);
    (tree.size(), tree.root())
}

/// A new agreement drafted by one of the example parties, then `sections` sections.
fn agreement_events(n: usize, sections: usize) -> Vec<Vec<Envelope>> {
    let drafter = DRAFTERS[n % DRAFTERS.len()];
    let other = DRAFTERS[(n + 1) % DRAFTERS.len()];
    let key = party_key(drafter);
    let stream = stream(&format!("loggad-{n}"));
    let drafted = Event::AgreementDrafted(AgreementDrafted {
        title: format!("Loggad överenskommelse {n}"),
        parties: vec![pid(drafter), pid(other)],
        preamble: "Parterna samverkar.".into(),
    });
    let draft = sign(
        &key,
        &stream,
        overens_core::domain::StreamHead::EMPTY,
        &drafted,
    );
    let mut head = after(&draft);
    let mut appends = vec![vec![draft]];
    for s in 0..sections {
        let section = Event::SectionRevised(SectionRevised {
            section: format!("del-{s}").parse().expect("slug"),
            heading: format!("Del {s}"),
            text: format!("Text {s} av överenskommelse {n}."),
        });
        let envelope = sign(&key, &stream, head, &section);
        head = after(&envelope);
        appends.push(vec![envelope]);
    }
    appends
}

/// Opens the data directory and starts a pipeline that signs checkpoints.
async fn start_signed(data: &DataDir) -> Pipeline<SqliteStore> {
    let (store, replayed) = open_ok(data).await;
    Pipeline::start_signed(Arc::new(store), replayed, signer(), pipeline_options(None))
        .expect("the pipeline starts")
}

/// The snapshot's checkpoint: signed by the log's key, of exactly the snapshot's length,
/// with the store's root of that size.
async fn checked(snapshot: &Snapshot, store: &SqliteStore) -> SignedCheckpoint {
    let signed = snapshot.checkpoint.clone().expect("a checkpoint");
    let opened = Checkpoint::parse_and_verify_with(&signed.note_text, signer().verifier_key())
        .expect("the checkpoint verifies with the log's key");
    assert_eq!(opened.origin, "overens.test/pipeline");
    assert_eq!((opened.size, opened.root), (signed.size, signed.root));
    assert_eq!(
        signed.size, snapshot.len,
        "the checkpoint covers the snapshot"
    );
    assert_eq!(store.tree_head(signed.size).await, Ok(signed.root));
    signed
}

#[tokio::test]
async fn the_root_after_import_replay_and_appends_is_the_root_from_scratch() {
    let (_tmp, data) = imported().await;
    let (store, replayed) = open_ok(&data).await;
    let (size, root) = root_from_scratch(&store).await;
    assert_eq!(size, EXAMPLE_LEN);
    assert_eq!(replayed.root, root, "replay's root");
    assert_eq!(
        store.tree_head(EXAMPLE_LEN).await,
        Ok(root),
        "the store's root"
    );
    close(Arc::new(store)).await;

    let pipeline = start_signed(&data).await;
    let initial = checked(&pipeline.snapshot(), pipeline.store()).await;
    assert_eq!((initial.size, initial.root), (EXAMPLE_LEN, root));
    for n in 0..3 {
        for envelopes in agreement_events(n, 2) {
            pipeline.append(envelopes).await.expect("appended");
        }
    }
    let snapshot = pipeline.snapshot();
    let latest = checked(&snapshot, pipeline.store()).await;
    assert_eq!(latest.size, EXAMPLE_LEN + 9);
    assert_eq!(
        root_from_scratch(&**pipeline.store()).await,
        (latest.size, latest.root)
    );
    stop(pipeline).await;

    // After a restart, replay finds the same root.
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.root, latest.root);
    assert_eq!(root_from_scratch(&store).await, (latest.size, latest.root));
}

#[tokio::test]
async fn an_empty_log_has_the_empty_root_and_a_checkpoint_of_size_0() {
    let (_tmp, data) = data_dir();
    let pipeline = start_signed(&data).await;
    let first = checked(&pipeline.snapshot(), pipeline.store()).await;
    assert_eq!((first.size, first.root), (0, EMPTY_ROOT));
    stop(pipeline).await;
}

/// Every checkpoint the pipeline publishes, while appends race each other: sizes never go
/// back, each is signed and has the store's root, and each is consistent with every
/// earlier one. An answered append is in the checkpoint published before its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkpoints_only_grow_and_each_is_consistent_with_every_earlier_one() {
    const WRITERS: usize = 12;
    let (_tmp, data) = imported().await;
    let pipeline = Arc::new(start_signed(&data).await);
    let mut published = pipeline.subscribe();
    let collector = tokio::spawn(async move {
        let mut seen = vec![published.borrow_and_update().clone()];
        while published.changed().await.is_ok() {
            seen.push(published.borrow_and_update().clone());
        }
        seen
    });
    let barrier = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let (pipeline, barrier) = (pipeline.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut max_index = 0;
                for envelopes in agreement_events(n, 3) {
                    let appended = pipeline.append(envelopes).await.expect("appended");
                    let index = *appended.indexes.last().expect("an index");
                    let size = pipeline.snapshot().checkpoint.map_or(0, |c| c.size);
                    assert!(index < size, "index {index} is not in checkpoint {size}");
                    max_index = max_index.max(index);
                }
                max_index
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let pipeline = Arc::try_unwrap(pipeline).expect("the writers are done");
    let store = pipeline.store().clone();
    let final_len = pipeline.snapshot().len;
    assert_eq!(final_len, EXAMPLE_LEN + 4 * WRITERS as u64);
    drop(pipeline);
    let seen = collector.await.expect("collector");

    let mut checkpoints: Vec<SignedCheckpoint> = Vec::new();
    for snapshot in &seen {
        checkpoints.push(checked(snapshot, &store).await);
    }
    assert!(
        checkpoints.windows(2).all(|w| w[0].size <= w[1].size),
        "checkpoint sizes went back: {:?}",
        checkpoints.iter().map(|c| c.size).collect::<Vec<_>>()
    );
    assert_eq!(checkpoints.first().map(|c| c.size), Some(EXAMPLE_LEN));
    assert_eq!(checkpoints.last().map(|c| c.size), Some(final_len));
    // One signature per commit group: never more checkpoints than appends.
    assert!(
        checkpoints.len() <= 1 + 4 * WRITERS,
        "{}",
        checkpoints.len()
    );
    for (i, old) in checkpoints.iter().enumerate() {
        for new in &checkpoints[i..] {
            let proof = store
                .consistency_proof(old.size, new.size)
                .await
                .expect("a consistency proof");
            proof.verify(&old.root, &new.root).unwrap_or_else(|e| {
                panic!(
                    "checkpoint {} is not a prefix of {}: {e}",
                    old.size, new.size
                )
            });
        }
    }
    // Every record is in the last checkpoint.
    let last = checkpoints.last().expect("a checkpoint");
    let text = String::from_utf8(export_bytes(&*store).await).expect("utf-8");
    for (index, line) in (0..).zip(text.lines()) {
        let proof = store
            .inclusion_proof(index, last.size)
            .await
            .expect("an inclusion proof");
        assert_eq!(
            proof.verify(&leaf_hash(line.as_bytes()), &last.root),
            Ok(()),
            "record {index}"
        );
        assert_eq!(LogRecord::parse_line(line).expect("a record").index, index);
    }
    close(store).await;
}

// --- tampering with the tree ------------------------------------------------------------------

fn edit(data: &DataDir, sql: &str, params: impl rusqlite::Params) {
    let conn = Connection::open(data.store_path()).expect("open the store file");
    let changed = conn
        .execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(changed, 1, "{sql}");
}

async fn refused(data: &DataDir) -> DataDirError {
    match open(data).await {
        Ok(_) => panic!("a store with a changed tree was served"),
        Err(error) => error,
    }
}

/// 97 = 64 + 32 + 1: the root is made of the subtrees of leaves 0..64, 64..96 and 96.
fn on_the_root_path() -> [(&'static str, u64); 3] {
    [
        ("the subtree of leaves 0..64", stored_hash_index(6, 0)),
        ("the subtree of leaves 64..96", stored_hash_index(5, 2)),
        ("the last leaf", stored_hash_index(0, 96)),
    ]
}

#[tokio::test]
async fn a_changed_node_is_refused_at_start_up() {
    for (what, id) in on_the_root_path() {
        let (_tmp, data) = imported().await;
        edit(
            &data,
            "UPDATE nodes SET hash = ?2 WHERE id = ?1",
            rusqlite::params![id as i64, Digest32::of(what.as_bytes()).0.as_slice()],
        );
        match refused(&data).await {
            DataDirError::Replay(ReplayError::TreeMismatch { size, .. }) => {
                assert_eq!(size, EXAMPLE_LEN, "{what}");
            }
            other => panic!("{what}: refused with {other:?}"),
        }
        let text = refused(&data).await.to_string();
        assert!(text.contains("table `nodes`"), "{text}");

        // The repair docs/operations.md gives: the tree is recomputed from the records.
        repair(&data);
        let (store, replayed) = open_ok(&data).await;
        assert_eq!(
            root_from_scratch(&store).await,
            (EXAMPLE_LEN, replayed.root)
        );
    }
}

/// Marks the store for the version 1 migration, which recomputes the `nodes` table.
fn repair(data: &DataDir) {
    let conn = Connection::open(data.store_path()).expect("open the store file");
    conn.execute(
        "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
        [],
    )
    .expect("mark for migration");
}

#[tokio::test]
async fn a_missing_or_damaged_node_is_refused_at_start_up() {
    // A row gone: the table no longer fits the log.
    let (_tmp, data) = imported().await;
    edit(&data, "DELETE FROM nodes WHERE id = ?1", [17]);
    match refused(&data).await {
        DataDirError::Replay(ReplayError::Store(StoreError::CorruptTree(reason))) => {
            assert!(reason.contains("nodes table"), "{reason}");
        }
        other => panic!("refused with {other:?}"),
    }
    repair(&data);
    open_ok(&data).await;
    // A row of the root that is no longer a hash.
    let (_tmp, data) = imported().await;
    edit(
        &data,
        "UPDATE nodes SET hash = x'00' WHERE id = ?1",
        [stored_hash_index(6, 0) as i64],
    );
    match refused(&data).await {
        DataDirError::Replay(ReplayError::Store(StoreError::CorruptTree(reason))) => {
            assert!(reason.contains("not 32 bytes"), "{reason}");
        }
        other => panic!("refused with {other:?}"),
    }
}

/// A bad record is named before a bad tree: replay checks records first.
#[tokio::test]
async fn a_bad_record_is_named_before_a_bad_tree() {
    let (_tmp, data) = imported().await;
    edit(&data, "DELETE FROM nodes WHERE id = ?1", [17]);
    edit(
        &data,
        "UPDATE events SET recorded_at = '2026-11-03T13:13:41Z' WHERE idx = ?1",
        [60],
    );
    match refused(&data).await {
        DataDirError::Replay(ReplayError::Tampered { index, what }) => {
            assert_eq!(index, 60);
            assert!(what.contains("leaf hash"), "{what}");
        }
        other => panic!("refused with {other:?}"),
    }
}

/// A data directory written before the `nodes` table (store schema version 1) opens: its
/// tree is computed once, and replay's root check holds.
#[tokio::test]
async fn a_data_directory_without_nodes_is_migrated_on_start() {
    let (_tmp, data) = imported().await;
    let conn = Connection::open(data.store_path()).expect("open the store file");
    conn.execute_batch(
        "DROP TABLE nodes; UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .expect("make a version 1 file");
    drop(conn);
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(
        root_from_scratch(&store).await,
        (EXAMPLE_LEN, replayed.root)
    );
    close(Arc::new(store)).await;
    let pipeline = start_signed(&data).await;
    checked(&pipeline.snapshot(), pipeline.store()).await;
    pipeline
        .append(agreement_events(0, 0).remove(0))
        .await
        .expect("appended after the migration");
    let latest = checked(&pipeline.snapshot(), pipeline.store()).await;
    assert_eq!(
        root_from_scratch(&**pipeline.store()).await,
        (latest.size, latest.root)
    );
    stop(pipeline).await;
}

// --- the log's key ----------------------------------------------------------------------------

fn seed(byte: u8) -> impl FnOnce() -> Result<[u8; 32], String> {
    move || Ok([byte; 32])
}

fn no_seed() -> Result<[u8; 32], String> {
    panic!("a new key was made where one exists")
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_log_key_is_made_once_and_kept() {
    let (_tmp, data) = data_dir();
    let first = data
        .log_signer(Some("example.org/avtal"), seed(1))
        .expect("a new key");
    assert_eq!(first.origin(), "example.org/avtal");
    assert_eq!(
        first.verifier_key().key(),
        &SecretKey::from_seed(&[1; 32]).public()
    );
    #[cfg(unix)]
    assert_eq!(mode(&data.log_key_path()), 0o600);
    let public = std::fs::read_to_string(data.log_pub_path()).expect("log.pub");
    assert_eq!(public, format!("{}\n", first.verifier_key()));
    assert!(public.starts_with("example.org/avtal+"));

    // Later starts read it back, with or without the name.
    for origin in [None, Some("example.org/avtal")] {
        let again = data.log_signer(origin, no_seed).expect("the same key");
        assert_eq!(again.verifier_key(), first.verifier_key());
    }
    // The key signs only checkpoints its verifier key opens.
    let signed = first.sign(3, leaf_hash(b"x")).expect("signed");
    assert!(Checkpoint::parse_and_verify_with(&signed.note_text, first.verifier_key()).is_ok());
}

#[test]
fn the_default_log_name_is_the_directory_name() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = DataDir::new(tmp.path().join("mitt arkiv+1"));
    let signer = data.log_signer(None, seed(2)).expect("a new key");
    assert_eq!(signer.origin(), "overens/mitt-arkiv-1");
    assert_eq!(data.default_origin(), "overens/mitt-arkiv-1");
}

#[test]
fn a_log_key_that_does_not_hold_is_refused() {
    // Another name than the recorded one.
    let (_tmp, data) = data_dir();
    data.log_signer(Some("example.org/a"), seed(3))
        .expect("a new key");
    let error = data
        .log_signer(Some("example.org/b"), no_seed)
        .expect_err("renamed");
    assert!(
        error.to_string().contains("never changes silently"),
        "{error}"
    );

    // Deleting log.pub is how a log is renamed on purpose: the key stays.
    std::fs::remove_file(data.log_pub_path()).expect("rm log.pub");
    let renamed = data
        .log_signer(Some("example.org/b"), no_seed)
        .expect("renamed on purpose");
    assert_eq!(renamed.origin(), "example.org/b");
    assert_eq!(
        renamed.verifier_key().key(),
        &SecretKey::from_seed(&[3; 32]).public()
    );

    // The secret lost while its verifier key is recorded.
    std::fs::remove_file(data.log_key_path()).expect("rm log.key");
    let error = data.log_signer(None, seed(4)).expect_err("key lost");
    assert!(
        error.to_string().contains("restore it from a backup"),
        "{error}"
    );

    // log.pub of another key.
    let (_tmp, data) = data_dir();
    data.log_signer(Some("example.org/c"), seed(5))
        .expect("a new key");
    let other = LogSigner::new("example.org/c", SecretKey::from_seed(&[6; 32])).expect("signer");
    std::fs::write(data.log_pub_path(), format!("{}\n", other.verifier_key())).expect("write");
    let error = data.log_signer(None, no_seed).expect_err("another key");
    assert!(
        error.to_string().contains("not the verifier key"),
        "{error}"
    );

    // Not a name a key can have.
    let (_tmp, data) = data_dir();
    let error = data
        .log_signer(Some("two words"), seed(7))
        .expect_err("bad name");
    assert!(matches!(error, DataDirError::LogKey(_)), "{error:?}");
    assert!(error.to_string().contains("cannot name a log"), "{error}");

    // A key file others can read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let (_tmp, data) = data_dir();
        data.log_signer(None, seed(8)).expect("a new key");
        std::fs::set_permissions(data.log_key_path(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let error = data
            .log_signer(None, no_seed)
            .expect_err("readable by others");
        assert!(error.to_string().contains("mode 0644"), "{error}");
    }

    // The caller's randomness failing.
    let (_tmp, data) = data_dir();
    let error = data
        .log_signer(None, || Err("no entropy".into()))
        .expect_err("no seed");
    assert!(error.to_string().contains("no entropy"), "{error}");
    assert!(!data.log_key_path().exists());
}
