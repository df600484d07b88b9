//! `overens serve --demo`: a data directory loaded with the example log, signed with the
//! examples' TEST keys. The examples are read from the source tree this binary was built
//! from when it is still there, and otherwise from the copy built into the binary, so the
//! demo works from any directory.

use std::fs;
use std::path::{Path, PathBuf};

use overens_core::{PublicKey, State};
use overens_pipeline::{DataDir, ImportSummary, import};
use overens_store::SqliteOptions;
use tempfile::TempDir;
use tokio::runtime::Runtime;

use crate::data::data_error;
use crate::error::CliError;

const EMBEDDED_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../events/examples/log.jsonl"
));
const EMBEDDED_REGISTRAR: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../events/examples/keys/registrar.pub"
));

/// The agreements of the example log, for the URLs the demo suggests.
pub(crate) const NORRKOPING: &str = "norrkoping-barn-och-unga";
pub(crate) const NORRTALJE: &str = "norrtalje-bus";

/// The examples: where they were read from, the log's text and its registrar's key.
#[derive(Debug)]
struct Examples {
    source: String,
    log: String,
    registrar: String,
}

/// Both files from one place: a log never meets another place's registrar.
fn examples() -> Examples {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/examples");
    let log = fs::read_to_string(dir.join("log.jsonl"));
    let registrar = fs::read_to_string(dir.join("keys/registrar.pub"));
    match (log, registrar) {
        (Ok(log), Ok(registrar)) => Examples {
            source: fs::canonicalize(&dir).unwrap_or(dir).display().to_string(),
            log,
            registrar,
        },
        _ => Examples {
            source: "the copy built into this binary".into(),
            log: EMBEDDED_LOG.into(),
            registrar: EMBEDDED_REGISTRAR.into(),
        },
    }
}

/// The demo's data directory; a temporary one is deleted when this is dropped, which must
/// happen after the store is closed.
#[derive(Debug)]
pub(crate) struct Demo {
    path: PathBuf,
    temporary: Option<TempDir>,
    /// Said once the server is up.
    pub(crate) banner: String,
}

impl Demo {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_temporary(&self) -> bool {
        self.temporary.is_some()
    }
}

/// Loads the example log into `data` (or into a new temporary directory). Importing into a
/// directory that already holds exactly the examples adds nothing; one that holds anything
/// else, or trusts other registrars, is refused.
pub(crate) fn prepare(data: Option<&Path>, runtime: &Runtime) -> Result<Demo, CliError> {
    let (path, temporary) = match data {
        Some(dir) => (dir.to_owned(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("overens-demo-")
                .tempdir()
                .map_err(CliError::TempDir)?;
            (temp.path().join("data"), Some(temp))
        }
    };
    let examples = examples();
    let registrar: PublicKey =
        examples
            .registrar
            .trim()
            .parse()
            .map_err(|e| CliError::Registrar {
                value: examples.registrar.trim().to_owned(),
                reason: format!("the examples' registrar key from {}: {e}", examples.source),
            })?;
    let dir = DataDir::new(&path);
    let trust = dir.trust(&[registrar]).map_err(data_error(&path))?;
    let files = [(format!("{}/log.jsonl", examples.source), examples.log)];
    let summary: ImportSummary = runtime.block_on(async {
        let store = dir
            .open_store(SqliteOptions::default())
            .map_err(data_error(&path))?;
        let (_state, summary) =
            import(&store, State::new(trust), &files)
                .await
                .map_err(|error| CliError::Import {
                    dir: path.clone(),
                    error: Box::new(error),
                })?;
        Ok::<_, CliError>(summary)
    })?;
    let place = if temporary.is_some() {
        format!("{} (temporary, deleted on exit)", path.display())
    } else {
        path.display().to_string()
    };
    let banner = format!(
        "DEMO: the example agreements, signed with TEST keys (events/examples/keys). Their \
         secret keys are public, so nothing this server shows proves anything: never trust \
         these keys for real.\n\
         demo data directory: {place}\n\
         examples from {}: {} imported, {} already present\n",
        examples.source, summary.imported, summary.already_present,
    );
    Ok(Demo {
        path,
        temporary,
        banner,
    })
}

/// What to try once the demo is up, for a server at `base` (`http://host:port`).
pub(crate) fn urls(base: &str) -> String {
    let paths = [
        "/v1/agreements".to_owned(),
        format!("/v1/agreements/{NORRKOPING}"),
        format!("/v1/agreements/{NORRTALJE}/in-force?on=2013-01-01"),
        format!("/v1/agreements/{NORRKOPING}/signatures"),
        format!("/v1/agreements/{NORRTALJE}/timeline"),
        "/openapi.json".to_owned(),
    ];
    let mut text = String::from("try:\n");
    for path in paths {
        text.push_str(&format!("  curl -s {base}{path}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_examples_are_the_examples() {
        let registrar: PublicKey = EMBEDDED_REGISTRAR.trim().parse().expect("a key");
        let state = overens_core::replay_log_file(EMBEDDED_LOG, State::new([registrar]))
            .expect("the embedded log verifies");
        for id in [NORRKOPING, NORRTALJE] {
            assert!(
                state.agreement(&id.parse().expect("id")).is_some(),
                "{id} is in the example log"
            );
        }
    }
}
