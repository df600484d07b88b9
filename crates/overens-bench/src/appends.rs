//! Durable appends through the pipeline with N concurrent writers, and the raw rate of the
//! same SQLite inserts without it (the limit the pipeline is compared with).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use overens_core::{Digest32, Envelope, State, Timestamp};
use overens_log::{MemoryHashes, stored_hash_count};
use overens_pipeline::{Pipeline, PipelineOptions, replay_store};
use overens_store::{
    AppendEvent, EventStore, RestoreRecord, SqliteOptions, SqliteStore, leaf_hash, record_line,
};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::loggen::World;

#[derive(Debug, Serialize)]
pub(crate) struct AppendRun {
    pub writers: usize,
    pub events: usize,
    pub seconds: f64,
    pub per_s: f64,
    /// Commits the pipeline made (distinct log lengths in the answers).
    pub commits: usize,
    pub mean_group: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// CPU time of the whole process per append (verification, sequencer, store writer).
    pub cpu_us_per_event: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct RawRun {
    /// Rows per transaction (one fsync each).
    pub group: usize,
    /// Whether each transaction also wrote its rows' Merkle tree nodes (as the store does).
    pub tree: bool,
    pub rows: usize,
    pub seconds: f64,
    pub per_s: f64,
    /// CPU time per row (this thread: SQLite runs in it).
    pub cpu_us_per_row: f64,
}

/// The directory as restore records (what every append store starts from).
pub(crate) fn directory_records(world: &World) -> Vec<RestoreRecord> {
    world
        .directory
        .iter()
        .enumerate()
        .map(|(i, (at, v))| RestoreRecord {
            index: i as u64,
            recorded_at: Timestamp::from_datetime(
                chrono::DateTime::from_timestamp_millis(at + 3000).expect("time"),
            ),
            event: AppendEvent::from(v),
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// `streams[w]` is appended by writer `w`, one event per append, all writers at once.
pub(crate) async fn pipeline(
    world: &World,
    dir: &Path,
    streams: Vec<Vec<Envelope>>,
) -> Result<AppendRun, String> {
    let writers = streams.len();
    let path = dir.join(format!("appends-{writers}.sqlite"));
    let store = SqliteStore::open(&path, SqliteOptions::default()).map_err(|e| e.to_string())?;
    store
        .restore(directory_records(world))
        .await
        .map_err(|e| e.to_string())?;
    let trust: Vec<_> = world.registrars.iter().map(|k| k.public()).collect();
    let replayed = replay_store(&store, State::new(trust), &mut |_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    let pipeline = Arc::new(Pipeline::start(
        Arc::new(store),
        replayed.state,
        replayed.ids,
        PipelineOptions::default(),
    ));
    let events: usize = streams.iter().map(Vec::len).sum();
    let cpu = crate::mem::process_cpu_s();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for envelopes in streams {
        let pipeline = pipeline.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::with_capacity(envelopes.len());
            for envelope in envelopes {
                let t = Instant::now();
                let appended = pipeline
                    .append(vec![envelope])
                    .await
                    .map_err(|e| e.to_string())?;
                seen.push((appended.log_len, t.elapsed().as_secs_f64() * 1000.0));
            }
            Ok::<_, String>(seen)
        }));
    }
    let mut lens = HashSet::new();
    let mut latencies = Vec::with_capacity(events);
    for task in tasks {
        for (len, ms) in task.await.map_err(|e| e.to_string())?? {
            lens.insert(len);
            latencies.push(ms);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = crate::mem::process_cpu_s() - cpu;
    latencies.sort_by(f64::total_cmp);
    let commits = lens.len();
    Ok(AppendRun {
        writers,
        events,
        seconds,
        per_s: events as f64 / seconds,
        commits,
        mean_group: events as f64 / commits.max(1) as f64,
        latency_p50_ms: percentile(&latencies, 0.5),
        latency_p99_ms: percentile(&latencies, 0.99),
        cpu_us_per_event: cpu * 1e6 / events as f64,
    })
}

/// The store's table, as `overens-store` creates it.
const TABLE: &str = "
CREATE TABLE events (
    idx          INTEGER PRIMARY KEY,
    stream       TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    id           BLOB    NOT NULL UNIQUE,
    recorded_at  TEXT    NOT NULL,
    hash         BLOB    NOT NULL,
    leaf         BLOB    NOT NULL,
    envelope     BLOB    NOT NULL,
    UNIQUE (stream, seq)
) STRICT;";

struct Row {
    stream: String,
    seq: i64,
    id: [u8; 16],
    recorded_at: String,
    hash: Digest32,
    leaf: Digest32,
    envelope: Vec<u8>,
}

/// The store's Merkle tree table.
const NODES: &str = "CREATE TABLE nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;";

/// The same rows (same envelopes, in the order the writers would interleave them) inserted
/// with rusqlite directly: WAL, `synchronous=FULL`, one transaction (one fsync) per `group`
/// rows; with `tree`, each transaction also inserts the tree nodes its rows add, as the
/// store's writer does. Everything but the inserts (hashes included) is computed before the
/// clock starts.
pub(crate) fn raw(
    dir: &Path,
    streams: &[Vec<Envelope>],
    group: usize,
    tree: bool,
) -> Result<RawRun, String> {
    let path = dir.join(format!("raw-{group}-{tree}.sqlite"));
    let conn = Connection::open(&path).map_err(|e| e.to_string())?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        .and_then(|_| conn.execute_batch(TABLE))
        .and_then(|_| conn.execute_batch(NODES))
        .map_err(|e| e.to_string())?;
    let now: Timestamp = overens_store::sqlite::system_clock();
    let longest = streams.iter().map(Vec::len).max().unwrap_or(0);
    let mut rows = Vec::new();
    for i in 0..longest {
        for s in streams {
            if let Some(e) = s.get(i) {
                let envelope = e.canonical_bytes();
                let index = rows.len() as u64;
                rows.push(Row {
                    stream: e.stream.to_string(),
                    seq: e.seq as i64,
                    id: *e.id.as_uuid().as_bytes(),
                    recorded_at: now.to_string(),
                    hash: Digest32::of(&envelope),
                    leaf: leaf_hash(record_line(&envelope, index, now).as_bytes()),
                    envelope,
                });
            }
        }
    }
    let nodes = if tree { tree_nodes(&rows) } else { Vec::new() };
    let cpu = crate::mem::thread_cpu_s();
    let started = Instant::now();
    let mut insert_node = conn
        .prepare("INSERT INTO nodes (id, hash) VALUES (?1, ?2)")
        .map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare(
            "INSERT INTO events (idx, stream, seq, id, recorded_at, hash, leaf, envelope)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(|e| e.to_string())?;
    for (c, chunk) in rows.chunks(group).enumerate() {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| e.to_string())?;
        for (j, r) in chunk.iter().enumerate() {
            stmt.execute(params![
                (c * group + j) as i64,
                r.stream,
                r.seq,
                r.id.as_slice(),
                r.recorded_at,
                r.hash.0.as_slice(),
                r.leaf.0.as_slice(),
                r.envelope,
            ])
            .map_err(|e| e.to_string())?;
        }
        if tree {
            let first = (c * group) as u64;
            let end = first + chunk.len() as u64;
            for id in stored_hash_count(first)..stored_hash_count(end) {
                insert_node
                    .execute(params![id as i64, nodes[id as usize].0.as_slice()])
                    .map_err(|e| e.to_string())?;
            }
        }
        conn.execute_batch("COMMIT").map_err(|e| e.to_string())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = crate::mem::thread_cpu_s() - cpu;
    Ok(RawRun {
        group,
        tree,
        rows: rows.len(),
        seconds,
        per_s: rows.len() as f64 / seconds,
        cpu_us_per_row: cpu * 1e6 / rows.len() as f64,
    })
}

/// Every stored hash of the tree over `rows`' leaves, by stored-hash index: what the store's
/// writer computes and inserts, computed here beforehand.
fn tree_nodes(rows: &[Row]) -> Vec<Digest32> {
    MemoryHashes::from_leaves(rows.iter().map(|r| &r.leaf))
        .stored()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use overens_log::CompactRange;

    use super::*;

    /// The nodes the raw run inserts are the store's tree: written into a `nodes` table,
    /// they give the root of the leaves, at every size that ends a commit group.
    #[test]
    fn the_raw_runs_tree_nodes_are_the_trees_stored_hashes() {
        let rows: Vec<Row> = (0u8..37)
            .map(|i| Row {
                stream: "agreement-x".into(),
                seq: i64::from(i),
                id: [i; 16],
                recorded_at: String::new(),
                hash: Digest32::of(&[i]),
                leaf: Digest32::of(&[i, 1]),
                envelope: Vec::new(),
            })
            .collect();
        let nodes = tree_nodes(&rows);
        assert_eq!(nodes.len() as u64, stored_hash_count(rows.len() as u64));
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(NODES).expect("table");
        for (id, hash) in nodes.iter().enumerate() {
            conn.execute(
                "INSERT INTO nodes (id, hash) VALUES (?1, ?2)",
                params![id as i64, hash.0.as_slice()],
            )
            .expect("insert");
        }
        let mut range = CompactRange::new();
        for (size, row) in (1u64..).zip(&rows) {
            range.push(row.leaf);
            let stored = overens_store::sqlite::tree::root(&conn, size).expect("root");
            assert_eq!(stored, range.root(), "size {size}");
        }
    }
}
