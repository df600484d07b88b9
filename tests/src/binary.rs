//! The real `overens` binary, built once per test process, and a way to run it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of `target/<profile>/overens`, built on first use.
///
/// `overens-tests` cannot name `overens` as a dependency (it is a binary, and artifact
/// dependencies are unstable), so cargo does not build it for us: we run
/// `cargo build -p overens` ourselves, once per test process, into the very target directory
/// and profile this test executable came from. That nested cargo does not deadlock under
/// `cargo test`: cargo holds its build-directory lock only while compiling and releases it
/// before it runs any test executable. Checked with cargo 1.95, both as `cargo test` at the
/// workspace root from an empty target directory and as `cargo test -p overens-tests` with
/// only the binary missing. From an empty target directory the first test waits for that
/// build (about 40 s here): `-p overens` unifies features differently from the outer
/// invocation, so a few dependencies compile a second time. Set `OVERENS_BIN` to use a
/// binary built some other way instead.
pub fn overens_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    // The outcome is kept, failure included, so that one broken build fails every test
    // with its message instead of being retried by each.
    match BIN.get_or_init(locate_or_build) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("OVERENS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // The test executable is target[/<triple>]/<profile>/deps/it-<hash>.
    let deps = exe
        .parent()
        .filter(|d| d.file_name() == Some(OsStr::new("deps")))
        .ok_or_else(|| format!("{} is not in a cargo `deps` directory", exe.display()))?;
    let profile_dir = deps
        .parent()
        .ok_or_else(|| format!("{} has no parent", deps.display()))?;
    let profile = profile_dir
        .file_name()
        .and_then(OsStr::to_str)
        .ok_or_else(|| format!("no profile name in {}", profile_dir.display()))?;
    let above = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", profile_dir.display()))?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", "overens", "--bin", "overens"])
        .arg("--manifest-path")
        .arg(&manifest);
    // Cargo marks its target directory with CACHEDIR.TAG; without one above the profile
    // directory, that level is a `--target <triple>` directory.
    let target_dir = if above.join("CACHEDIR.TAG").is_file() {
        above
    } else {
        let triple = above
            .file_name()
            .ok_or_else(|| format!("no target triple in {}", above.display()))?;
        build.arg("--target").arg(triple);
        above
            .parent()
            .ok_or_else(|| format!("{} has no parent", above.display()))?
    };
    build.arg("--target-dir").arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    let output = build
        .output()
        .map_err(|e| format!("cannot run {build:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{build:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let bin = profile_dir.join(format!("overens{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{build:?} succeeded but {} is missing",
            bin.display()
        ))
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, and that nothing panicked whatever the code.
    pub fn expect_code(&self, code: i32) -> &Self {
        self.assert_no_panic();
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.stderr
        );
    }

    /// Asserts that stderr mentions every one of `parts`.
    pub fn stderr_has(&self, parts: &[&str]) -> &Self {
        for part in parts {
            assert!(
                self.stderr.contains(part),
                "stderr lacks {part:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Asserts that stdout mentions every one of `parts`.
    pub fn stdout_has(&self, parts: &[&str]) -> &Self {
        for part in parts {
            assert!(
                self.stdout.contains(part),
                "stdout lacks {part:?}:\n{}",
                self.stdout
            );
        }
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `overens` with `args`, with `OVERENS_REGISTRAR` cleared so that only the arguments
/// decide which keys are trusted.
pub fn overens<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    overens_with_env(args, &[])
}

/// Like [`overens`], with extra environment variables.
pub fn overens_with_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(overens_bin());
    command.args(args).env_remove("OVERENS_REGISTRAR");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
