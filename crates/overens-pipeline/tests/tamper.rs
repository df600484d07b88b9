//! Tampering with a closed store behind the pipeline's back: through SQLite (rows edited,
//! deleted, swapped, with or without their hashes recomputed) and by raw byte edits of the
//! file. Opening the data directory replays the store and must refuse, naming the first bad
//! index and what is wrong; it must never panic or serve a changed log as valid.

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use overens_core::replay::Defect;
use overens_core::{Digest32, EnvelopeError, Rejection, Timestamp};
use overens_pipeline::{DataDir, DataDirError, ReplayError};
use overens_store::{StoreError, leaf_hash, record_line};
use rusqlite::{Connection, params};

// --- editing the file ------------------------------------------------------------------------

fn connect(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the store file");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

/// Edits the closed store of `data` with SQL.
fn edit(data: &DataDir, f: impl FnOnce(&Connection)) {
    let conn = connect(&data.store_path());
    f(&conn);
}

/// One row of the `events` table, every column but `idx`.
#[derive(Debug, Clone)]
struct Row {
    stream: String,
    seq: i64,
    id: Vec<u8>,
    recorded_at: String,
    hash: Vec<u8>,
    leaf: Vec<u8>,
    envelope: Vec<u8>,
}

fn row(conn: &Connection, idx: i64) -> Row {
    conn.query_row(
        "SELECT stream, seq, id, recorded_at, hash, leaf, envelope FROM events WHERE idx = ?1",
        [idx],
        |r| {
            Ok(Row {
                stream: r.get(0)?,
                seq: r.get(1)?,
                id: r.get(2)?,
                recorded_at: r.get(3)?,
                hash: r.get(4)?,
                leaf: r.get(5)?,
                envelope: r.get(6)?,
            })
        },
    )
    .unwrap_or_else(|e| panic!("row {idx}: {e}"))
}

fn put(conn: &Connection, idx: i64, row: &Row) {
    let changed = conn
        .execute(
            "UPDATE events SET stream = ?2, seq = ?3, id = ?4, recorded_at = ?5, hash = ?6,
                 leaf = ?7, envelope = ?8
             WHERE idx = ?1",
            params![
                idx,
                row.stream,
                row.seq,
                row.id,
                row.recorded_at,
                row.hash,
                row.leaf,
                row.envelope
            ],
        )
        .unwrap_or_else(|e| panic!("updating row {idx}: {e}"));
    assert_eq!(changed, 1, "row {idx}");
}

fn set(conn: &Connection, sql: &str, idx: i64) {
    let changed = conn
        .execute(sql, [idx])
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(changed, 1, "{sql} at {idx}");
}

/// A row whose event hash and leaf hash are recomputed for its (possibly new) envelope,
/// index and recorded time: a tamperer who knows how the store is built.
fn rehashed(mut row: Row, idx: i64) -> Row {
    let recorded_at: Timestamp = row.recorded_at.parse().expect("recorded_at");
    row.hash = Digest32::of(&row.envelope).0.to_vec();
    row.leaf = leaf_hash(record_line(&row.envelope, idx as u64, recorded_at).as_bytes())
        .0
        .to_vec();
    row
}

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert_eq!(text.matches(from).count(), 1, "`{from}` once");
    text.replace(from, to).into_bytes()
}

// --- what the refusal says -------------------------------------------------------------------

/// Opening must fail; the error is returned for closer checks.
async fn refused(data: &DataDir) -> DataDirError {
    match open(data).await {
        Ok((_, replayed)) => panic!(
            "a tampered store was served as valid ({} records)",
            replayed.records
        ),
        Err(error) => error,
    }
}

/// The message names `index` (not a longer number that starts with it).
fn names_index(error: &DataDirError, index: u64) {
    let text = error.to_string();
    let needle = format!("index {index}");
    let named = text.match_indices(&needle).any(|(at, _)| {
        !text[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    });
    assert!(named, "`{text}` does not name index {index}");
}

/// Refused by the replay's row check, at `index`, for a reason containing `what`.
fn tampered_at(error: &DataDirError, index: u64, what: &str) {
    match error {
        DataDirError::Replay(ReplayError::Tampered { index: i, what: w }) => {
            assert_eq!(*i, index, "{error}");
            assert!(w.contains(what), "`{w}` does not say `{what}`");
        }
        other => panic!("expected a tampered row at {index}, got {other:?}"),
    }
    names_index(error, index);
}

/// Refused by the replay's fold (signature, chain, order, rules), at `index`.
fn log_refused_at(error: &DataDirError, index: u64) -> &Defect {
    match error {
        DataDirError::Replay(ReplayError::Log(log)) => {
            assert_eq!(log.index, Some(index), "{error}");
            names_index(error, index);
            &log.defect
        }
        other => panic!("expected a refused record at {index}, got {other:?}"),
    }
}

/// Refused by the store as damaged (on opening, or on reading a row back), at `index`.
fn corrupt_at(error: &DataDirError, index: u64, what: &str) {
    match error {
        DataDirError::Store(StoreError::Corrupt { index: i, reason })
        | DataDirError::Replay(ReplayError::Store(StoreError::Corrupt { index: i, reason })) => {
            assert_eq!(*i, index, "{error}");
            assert!(reason.contains(what), "`{reason}` does not say `{what}`");
        }
        other => panic!("expected a damaged store at {index}, got {other:?}"),
    }
    names_index(error, index);
}

// --- through SQLite --------------------------------------------------------------------------

#[tokio::test]
async fn the_untouched_store_opens() {
    let (_tmp, data) = imported().await;
    let (store, replayed) = open_ok(&data).await;
    assert_eq!(replayed.records, EXAMPLE_LEN);
    assert_eq!(export_bytes(&store).await, log_text().as_bytes());
}

#[tokio::test]
async fn a_changed_envelope_byte_is_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 47);
        r.envelope = replace(&r.envelope, "representerad", "representerat");
        put(conn, 47, &r);
    });
    let error = refused(&data).await;
    tampered_at(&error, 47, "event hash does not match");
}

#[tokio::test]
async fn a_changed_envelope_with_recomputed_hashes_fails_its_signature() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 47);
        r.envelope = replace(&r.envelope, "representerad", "representerat");
        put(conn, 47, &rehashed(r, 47));
    });
    let error = refused(&data).await;
    assert_eq!(
        log_refused_at(&error, 47),
        &Defect::Envelope(EnvelopeError::BadSignature)
    );
}

#[tokio::test]
async fn an_envelope_that_is_no_longer_json_is_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 12);
        r.envelope.truncate(r.envelope.len() / 2);
        put(conn, 12, &r);
    });
    let error = refused(&data).await;
    tampered_at(&error, 12, "not a canonical event");
}

#[tokio::test]
async fn a_deleted_row_in_the_middle_is_refused_at_its_index() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "DELETE FROM events WHERE idx = ?1", 50)
    });
    let error = refused(&data).await;
    corrupt_at(&error, 50, "missing");
}

#[tokio::test]
async fn a_deleted_first_row_is_refused_at_index_0() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "DELETE FROM events WHERE idx = ?1", 0)
    });
    let error = refused(&data).await;
    corrupt_at(&error, 0, "missing");
}

#[tokio::test]
async fn a_deleted_row_with_the_rest_renumbered_is_refused() {
    // Renumbered only: the leaf hashes still carry the old indexes.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "DELETE FROM events WHERE idx = ?1", 50);
        conn.execute("UPDATE events SET idx = idx - 1 WHERE idx > 50", [])
            .expect("renumber");
    });
    let error = refused(&data).await;
    tampered_at(&error, 50, "leaf hash");

    // Renumbered and rehashed: the chain of the stream has a hole.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "DELETE FROM events WHERE idx = ?1", 50);
        conn.execute("UPDATE events SET idx = idx - 1 WHERE idx > 50", [])
            .expect("renumber");
        for idx in 50..96 {
            put(conn, idx, &rehashed(row(conn, idx), idx));
        }
    });
    let error = refused(&data).await;
    assert!(
        matches!(
            log_refused_at(&error, 50),
            Defect::Rejected(Rejection::WrongSeq {
                expected: 30,
                got: 31,
                ..
            })
        ),
        "{error}"
    );
}

/// Swaps every column but `idx` and `recorded_at` between two rows, going through a
/// placeholder so the unique constraints hold at each step.
fn swap(conn: &Connection, a: i64, b: i64, rehash: bool) {
    let (mut ra, mut rb) = (row(conn, a), row(conn, b));
    std::mem::swap(&mut ra.recorded_at, &mut rb.recorded_at);
    let placeholder = Row {
        seq: -1,
        id: vec![0; 16],
        ..ra.clone()
    };
    put(conn, a, &placeholder);
    let (new_a, new_b) = if rehash {
        (rehashed(rb, a), rehashed(ra, b))
    } else {
        (rb, ra)
    };
    put(conn, b, &new_b);
    put(conn, a, &new_a);
}

#[tokio::test]
async fn swapped_rows_are_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| swap(conn, 30, 31, false));
    let error = refused(&data).await;
    tampered_at(&error, 30, "leaf hash");

    // With the leaves recomputed for their new places, the stream's chain is broken.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| swap(conn, 30, 31, true));
    let error = refused(&data).await;
    assert!(
        matches!(
            log_refused_at(&error, 30),
            Defect::Rejected(Rejection::WrongSeq {
                expected: 10,
                got: 11,
                ..
            })
        ),
        "{error}"
    );

    // Events of two streams swapped: the leaves give it away. (With the leaves recomputed
    // too, the result is a valid log of its own: neither `recorded_at` nor the order across
    // streams is signed. Only the transparency log's signed checkpoints, design 2.2, catch
    // that rewrite.)
    let (_tmp, data) = imported().await;
    edit(&data, |conn| swap(conn, 19, 20, false));
    let error = refused(&data).await;
    tampered_at(&error, 19, "leaf hash");
}

#[tokio::test]
async fn an_edited_recorded_at_is_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let r = row(conn, 60);
        assert_eq!(r.recorded_at, "2026-11-03T13:12:41Z");
        // A minute later: still before index 61 (13:15:20), so the order holds.
        set(
            conn,
            "UPDATE events SET recorded_at = '2026-11-03T13:13:41Z' WHERE idx = ?1",
            60,
        );
    });
    let error = refused(&data).await;
    tampered_at(&error, 60, "recorded_at");

    // Not an instant at all.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(
            conn,
            "UPDATE events SET recorded_at = 'igår' WHERE idx = ?1",
            60,
        )
    });
    let error = refused(&data).await;
    corrupt_at(&error, 60, "igår");
}

#[tokio::test]
async fn an_edited_hash_is_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 20);
        r.hash[0] ^= 1;
        put(conn, 20, &r);
    });
    let error = refused(&data).await;
    tampered_at(&error, 20, "event hash does not match");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 21);
        r.leaf[31] ^= 0x80;
        put(conn, 21, &r);
    });
    let error = refused(&data).await;
    tampered_at(&error, 21, "leaf hash does not match");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 22);
        r.hash.pop();
        put(conn, 22, &r);
    });
    let error = refused(&data).await;
    corrupt_at(&error, 22, "not 32 bytes");
}

#[tokio::test]
async fn an_edited_stream_seq_or_id_is_refused() {
    // Another (unused) stream name.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(
            conn,
            "UPDATE events SET stream = 'agreement/nagon-annan' WHERE idx = ?1",
            25,
        )
    });
    let error = refused(&data).await;
    tampered_at(&error, 25, "the row says stream agreement/nagon-annan");

    // Another existing stream, at a seq that stream does not use yet.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(
            conn,
            "UPDATE events SET stream = 'directory' WHERE idx = ?1",
            53,
        )
    });
    let error = refused(&data).await;
    tampered_at(&error, 53, "the row says stream directory");

    // Not a stream name.
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "UPDATE events SET stream = 'x' WHERE idx = ?1", 25)
    });
    let error = refused(&data).await;
    corrupt_at(&error, 25, "not a stream name");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "UPDATE events SET seq = 99 WHERE idx = ?1", 25)
    });
    let error = refused(&data).await;
    tampered_at(&error, 25, "seq 99");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        let mut r = row(conn, 25);
        r.id[15] ^= 1;
        put(conn, 25, &r);
    });
    let error = refused(&data).await;
    tampered_at(&error, 25, "the row says stream");
}

#[tokio::test]
async fn a_row_moved_to_a_huge_or_negative_index_is_refused() {
    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(
            conn,
            "UPDATE events SET idx = 9223372036854775807 WHERE idx = ?1",
            96,
        )
    });
    let error = refused(&data).await;
    corrupt_at(&error, 96, "missing");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "UPDATE events SET idx = -1 WHERE idx = ?1", 50)
    });
    let error = refused(&data).await;
    corrupt_at(&error, 50, "negative index -1");

    let (_tmp, data) = imported().await;
    edit(&data, |conn| {
        set(conn, "UPDATE events SET idx = 97 WHERE idx = ?1", 0);
        set(conn, "UPDATE events SET idx = 0 WHERE idx = ?1", 1);
        set(conn, "UPDATE events SET idx = 1 WHERE idx = ?1", 97);
    });
    let error = refused(&data).await;
    tampered_at(&error, 0, "leaf hash");
}

// --- raw bytes -------------------------------------------------------------------------------

/// Moves everything from the WAL into the main file, so raw edits of the file hit the data.
fn checkpoint(data: &DataDir) {
    let conn = connect(&data.store_path());
    for _ in 0..1000 {
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("checkpoint");
        if busy == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the WAL could not be checkpointed");
}

fn flip_in_file(path: &Path, needle: &str) {
    let mut bytes = std::fs::read(path).expect("read the store file");
    let at: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "`{needle}` is in the file once");
    // Upper case for the first letter: still UTF-8 and JSON, just not what was signed.
    bytes[at[0]] ^= 0x20;
    std::fs::write(path, bytes).expect("write the store file");
}

#[tokio::test]
async fn a_flipped_byte_in_the_file_is_refused_at_its_record() {
    for (needle, index) in [("representerad", 47), ("sjukvårdsfrågor", 25)] {
        let (_tmp, data) = imported().await;
        checkpoint(&data);
        flip_in_file(&data.store_path(), needle);
        let error = refused(&data).await;
        tampered_at(&error, index, "event hash does not match");
    }
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on this test's thread and on helper threads (a panic in a blocking read
/// task or in the store's writer thread would otherwise come back as a plain error), but
/// not the failures of the other tests running beside it.
fn count_panics() {
    static HOOK: OnceLock<()> = OnceLock::new();
    let this = std::thread::current().name().map(str::to_owned);
    HOOK.get_or_init(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name();
            let other_test = name.is_some_and(|n| {
                Some(n) != this.as_deref() && !n.starts_with("tokio-") && !n.starts_with("overens-")
            });
            if !other_test {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// Single flipped bits across the whole file, one copy each: either opening fails with an
/// error, or what it serves is exactly the original log. Never a panic.
#[tokio::test]
async fn flipped_bits_anywhere_never_serve_a_changed_log() {
    count_panics();
    let (tmp, data) = imported().await;
    checkpoint(&data);
    let pristine = std::fs::read(data.store_path()).expect("read the store file");
    let original = log_text().into_bytes();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let (mut refused, mut served) = (0, 0);
    for n in 0..120 {
        // xorshift: deterministic positions and bits.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = (state % pristine.len() as u64) as usize;
        let bit = 1u8 << ((state >> 32) % 8);
        let copy = DataDir::new(tmp.path().join(format!("copy-{n}")));
        copy.create().expect("create");
        std::fs::copy(
            data.path().join("registrars.txt"),
            copy.path().join("registrars.txt"),
        )
        .expect("copy registrars");
        let mut bytes = pristine.clone();
        bytes[at] ^= bit;
        std::fs::write(copy.store_path(), bytes).expect("write the copy");
        match open(&copy).await {
            Err(error) => {
                assert!(!error.to_string().is_empty());
                refused += 1;
            }
            Ok((store, _)) => {
                assert_eq!(
                    export_bytes(&store).await,
                    original,
                    "byte {at} bit {bit}: a changed log was served"
                );
                served += 1;
            }
        }
    }
    eprintln!("{refused} refused, {served} unchanged");
    assert!(refused > 0);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}
