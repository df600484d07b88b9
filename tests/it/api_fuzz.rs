//! A short API-fuzzing run in CI: `tests/campaigns/schemathesis.sh` against the binary
//! these tests built, with a few examples per operation (the full campaign, 100 per
//! operation, is in docs/reliability.md). The script installs schemathesis from PyPI into
//! target/schemathesis-venv the first time.

use std::process::Command;

use overens_tests::{overens_bin, workspace_root};

#[test]
fn the_api_survives_a_short_schemathesis_run() {
    let output = Command::new("bash")
        .arg(workspace_root().join("tests/campaigns/schemathesis.sh"))
        .arg("5")
        .env("OVERENS_BIN", overens_bin())
        .env("SCHEMATHESIS_PHASES", "examples,coverage,fuzzing")
        .current_dir(workspace_root())
        .output()
        .expect("bash runs the script");
    assert!(
        output.status.success(),
        "schemathesis found problems (or could not run):\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
