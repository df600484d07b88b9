//! Replay with full verification over a generated log, in a child process of this binary
//! so that its peak memory is its own.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use overens_core::{PublicKey, State};
use overens_pipeline::replay_store;
use overens_store::{EventStore, SqliteOptions, SqliteStore};
use serde::{Deserialize, Serialize};

use crate::loggen;

/// What the child reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChildReport {
    pub records: u64,
    pub seconds: f64,
    /// CPU time of the replay (all threads).
    pub cpu_seconds: f64,
    pub per_s: f64,
    /// Resident memory before the replay (store open, runtime started).
    pub rss_before: u64,
    /// Resident memory after it, with the state and the id set still held.
    pub rss_after: u64,
    /// The process's peak resident memory (`VmHWM`).
    pub peak_rss: u64,
    /// Live heap bytes before the replay and after it (state and id set held).
    pub heap_before: u64,
    pub heap_after: u64,
    pub agreements: usize,
    /// What the projections hold, to see what dominates their memory.
    pub versions: usize,
    pub timeline_entries: usize,
    /// JSON bytes of every version's content, as if each version kept a whole copy.
    pub version_content_json_bytes: usize,
    /// JSON bytes of the contents as held: every distinct section, forum definition and
    /// seat (versions and drafts share the ones no change touched) once, and each distinct
    /// content's title, preamble and parties once.
    pub held_content_json_bytes: usize,
    pub draft_json_bytes: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReplayRun {
    pub events: usize,
    pub agreements: usize,
    pub parties: usize,
    pub signatories: usize,
    pub log_mib: f64,
    pub mean_event_bytes: f64,
    pub generate_seconds: f64,
    pub restore_seconds: f64,
    pub replay_seconds: f64,
    pub replay_per_s: f64,
    /// Events per CPU-second of the replay (all threads): its cost per event.
    pub replay_per_cpu_s: f64,
    /// Mean cores busy during the replay (CPU time / wall time).
    pub replay_cores_busy: f64,
    pub peak_rss_mib: f64,
    /// (resident after − resident before) / events: the projections and id set per event,
    /// plus what the allocator keeps of the replay's freed memory.
    pub projection_bytes_per_event: f64,
    /// (live heap after − live heap before) / events: what the projections and id set hold.
    pub projection_heap_bytes_per_event: f64,
    pub store_mib: f64,
    pub versions: usize,
    pub timeline_entries: usize,
    /// JSON bytes of version contents per event, as if each version kept a whole copy.
    pub version_content_json_bytes_per_event: f64,
    /// JSON bytes per event of the contents (versions and drafts) as held, each shared
    /// part counted once.
    pub held_content_json_bytes_per_event: f64,
}

/// The child: replays the store at `path` with these trust anchors.
pub(crate) fn child(path: &Path, registrars: &[String]) -> Result<ChildReport, String> {
    let trust: Vec<PublicKey> = registrars
        .iter()
        .map(|k| k.parse().map_err(|e| format!("registrar key: {e}")))
        .collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let store = SqliteStore::open(path, SqliteOptions::default()).map_err(|e| e.to_string())?;
        let rss_before = crate::mem::rss();
        let heap_before = crate::mem::live_heap();
        let cpu_before = crate::mem::process_cpu_s();
        let started = Instant::now();
        let replayed = replay_store(&store, State::new(trust), &mut |_, _| {})
            .await
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        let cpu_seconds = crate::mem::process_cpu_s() - cpu_before;
        let rss_after = crate::mem::rss();
        let heap_after = crate::mem::live_heap();
        let (mut versions, mut timeline_entries, mut content_bytes, mut draft_bytes) = (0, 0, 0, 0);
        let mut held_bytes = 0;
        let (mut contents, mut sections, mut forums) =
            (HashSet::new(), HashSet::new(), HashSet::new());
        let (mut definitions, mut seats) = (HashSet::new(), HashSet::new());
        for a in replayed.state.agreements() {
            versions += a.versions.len();
            timeline_entries += a.timeline.len();
            for v in a.versions() {
                content_bytes += json_len(&*v.content);
            }
            draft_bytes += json_len(&*a.draft);
            for content in a.versions.iter().map(|v| &v.content).chain([&a.draft]) {
                if !contents.insert(Arc::as_ptr(content)) {
                    continue;
                }
                held_bytes += json_len(&content.title)
                    + json_len(&content.preamble)
                    + json_len(&content.parties);
                for s in content
                    .sections
                    .iter()
                    .filter(|s| sections.insert(Arc::as_ptr(s)))
                {
                    held_bytes += json_len(&**s);
                }
                for f in content
                    .forums
                    .iter()
                    .filter(|f| forums.insert(Arc::as_ptr(f)))
                {
                    held_bytes += json_len(&f.id);
                    if definitions.insert(Arc::as_ptr(&f.definition)) {
                        held_bytes += json_len(&*f.definition);
                    }
                    for r in f.representatives.iter() {
                        if seats.insert(Arc::as_ptr(r)) {
                            held_bytes += json_len(&**r);
                        }
                    }
                }
            }
        }
        let report = ChildReport {
            cpu_seconds,
            versions,
            timeline_entries,
            version_content_json_bytes: content_bytes,
            held_content_json_bytes: held_bytes,
            draft_json_bytes: draft_bytes,
            records: replayed.records,
            seconds,
            per_s: replayed.records as f64 / seconds,
            rss_before,
            rss_after,
            peak_rss: crate::mem::peak_rss(),
            heap_before,
            heap_after,
            agreements: replayed.state.agreements().count(),
        };
        drop(replayed);
        Ok(report)
    })
}

/// Generates a log of `events`, restores it into a fresh store under `dir`, and replays it
/// in a child process.
pub(crate) fn run(
    dir: &Path,
    events: usize,
    threads: usize,
    keep: bool,
) -> Result<ReplayRun, String> {
    eprintln!("replay {events}: generating a realistic log …");
    let started = Instant::now();
    let log = loggen::log(events, threads);
    let generate_seconds = started.elapsed().as_secs_f64();
    let registrars: Vec<String> = log
        .world
        .registrars
        .iter()
        .map(|k| k.public().to_string())
        .collect();
    let parties = log.world.parties.len();
    let signatories = log.world.parties.iter().map(|p| p.keys.len()).sum();
    eprintln!(
        "replay {events}: generated {} events ({} agreements, {:.0} MiB) in {generate_seconds:.1} s; restoring …",
        log.records.len(),
        log.agreements,
        log.bytes as f64 / 1048576.0
    );
    let path = dir.join(format!("replay-{events}.sqlite"));
    let started = Instant::now();
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let store =
            SqliteStore::open(&path, SqliteOptions::default()).map_err(|e| e.to_string())?;
        let mut records = log.records;
        runtime.block_on(async {
            while !records.is_empty() {
                let rest = records.split_off(records.len().min(16384));
                store.restore(records).await.map_err(|e| e.to_string())?;
                records = rest;
            }
            Ok::<_, String>(())
        })?;
    }
    let restore_seconds = started.elapsed().as_secs_f64();
    let store_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "replay {events}: restored in {restore_seconds:.1} s; replaying in a child process …"
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command.arg("replay-child").arg("--store").arg(&path);
    for r in &registrars {
        command.arg("--registrar").arg(r);
    }
    let output = command.output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "replay child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let report: ChildReport = serde_json::from_str(last).map_err(|e| format!("{e}: {last}"))?;
    if report.records != events as u64 {
        return Err(format!("replayed {} of {events} records", report.records));
    }
    if keep {
        eprintln!(
            "replay {events}: kept; replay again with: overens-bench replay-child --store {} --registrar {}",
            path.display(),
            registrars.join(" --registrar ")
        );
    } else {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(format!("{}-wal", path.display()));
        let _ = std::fs::remove_file(format!("{}-shm", path.display()));
        let _ = std::fs::remove_file(path.with_extension("lock"));
    }
    Ok(ReplayRun {
        events,
        agreements: report.agreements,
        parties,
        signatories,
        log_mib: log.bytes as f64 / 1048576.0,
        mean_event_bytes: log.bytes as f64 / events as f64,
        generate_seconds,
        restore_seconds,
        replay_seconds: report.seconds,
        replay_per_s: report.per_s,
        replay_per_cpu_s: report.records as f64 / report.cpu_seconds.max(1e-9),
        replay_cores_busy: report.cpu_seconds / report.seconds.max(1e-9),
        peak_rss_mib: report.peak_rss as f64 / 1048576.0,
        projection_heap_bytes_per_event: report.heap_after.saturating_sub(report.heap_before)
            as f64
            / events as f64,
        projection_bytes_per_event: report.rss_after.saturating_sub(report.rss_before) as f64
            / events as f64,
        store_mib: store_bytes as f64 / 1048576.0,
        versions: report.versions,
        timeline_entries: report.timeline_entries,
        version_content_json_bytes_per_event: report.version_content_json_bytes as f64
            / events as f64,
        held_content_json_bytes_per_event: report.held_content_json_bytes as f64 / events as f64,
    })
}

fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |b| b.len())
}
