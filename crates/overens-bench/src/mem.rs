//! Memory as the kernel counts it for this process (`/proc/self/status`), and as the
//! allocator counts it (live heap bytes).

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

// Every allocation of the benchmark is counted (a few relaxed atomic adds each): resident
// memory also holds what the allocator keeps after frees (arenas of the verifying threads,
// fragmentation), so the live heap is the figure that says what the projections hold.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, by the whole process.
pub(crate) fn live_heap() -> u64 {
    let stats = GLOBAL.stats();
    // A reallocation counts its growth as allocated and its shrinking as freed.
    stats
        .bytes_allocated
        .saturating_sub(stats.bytes_deallocated) as u64
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`); 0 where there is none.
pub(crate) fn status_bytes(field: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

pub(crate) fn rss() -> u64 {
    status_bytes("VmRSS")
}

pub(crate) fn peak_rss() -> u64 {
    status_bytes("VmHWM")
}

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`, nanoseconds):
/// on a machine other work shares, CPU time per operation is the figure it skews least.
pub(crate) fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// CPU time (user + system) of the whole process so far, in seconds (`/proc/self/stat`).
pub(crate) fn process_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // The kernel's USER_HZ, which Linux fixes at 100 for this interface.
    ticks as f64 / 100.0
}
