//! The benchmark binary still runs, end to end, at its smallest size, and says what it
//! measured in the shape docs/performance.md reads. No figure is judged here: speed lives in
//! the benchmark's own runs, not in tests.

use std::process::Command;

use serde_json::Value;

#[test]
fn a_quick_run_measures_every_part_and_ends_with_its_json_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_overens-bench"))
        .args(["--quick", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run overens-bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "overens-bench failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let last = stdout.lines().last().expect("a last line");
    let summary: Value = serde_json::from_str(last).expect("the last line is JSON");

    let limits = &summary["limits"];
    for key in [
        "verify_strict_per_s_1core",
        "verify_strict_per_s_2cores",
        "verify_batch_per_s_1core",
        "verify_batch_per_s_2cores",
    ] {
        assert!(limits[key].as_f64().is_some_and(|x| x > 0.0), "{key}");
    }

    let appends = summary["appends"].as_array().expect("appends");
    let writers: Vec<u64> = appends
        .iter()
        .map(|a| a["writers"].as_u64().expect("writers"))
        .collect();
    assert_eq!(writers, [1, 8, 64]);
    for a in appends {
        let (events, commits) = (a["events"].as_u64(), a["commits"].as_u64());
        assert!(
            events
                .zip(commits)
                .is_some_and(|(e, c)| e > 0 && c >= 1 && c <= e),
            "every append answered, in at most one commit each: {a}"
        );
    }

    let raw = summary["raw_sqlite"].as_array().expect("raw_sqlite");
    for w in [1, 8, 64] {
        for tree in [false, true] {
            assert!(
                raw.iter().any(|r| r["group"] == w && r["tree"] == tree),
                "raw run for groups of {w}, tree {tree}"
            );
        }
    }

    let replay = summary["replay"].as_array().expect("replay");
    assert!(!replay.is_empty());
    for r in replay {
        assert!(r["events"].as_u64().is_some_and(|n| n > 0));
        assert!(
            r["projection_heap_bytes_per_event"]
                .as_f64()
                .is_some_and(|b| b > 0.0)
        );
        assert!(r["peak_rss_mib"].as_f64().is_some_and(|m| m > 0.0));
    }

    let met = summary["targets"]["met"].as_object().expect("targets met");
    for key in ["appends_64_ge_0.5x_raw", "appends_64_ge_0.5x_raw_with_tree"] {
        assert!(met.get(key).is_some_and(Value::is_boolean), "{key}");
    }
    assert!(
        met.keys().any(|k| k.starts_with("replay_")),
        "the replay target is judged: {met:?}"
    );
}
