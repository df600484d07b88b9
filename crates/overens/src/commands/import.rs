//! `overens import`: restore log files into a data directory, keeping their indexes and
//! recorded times. Restore and migration only: every record is verified, and nothing of a
//! refused import is left behind, not even the trust anchors of a first one.

use overens_core::State;
use overens_pipeline::{DataDir, check_import, import};
use overens_store::SqliteOptions;

use crate::cli::ImportArgs;
use crate::commands::read_log_text;
use crate::data::{self, data_error, given_keys};
use crate::error::CliError;

pub(crate) fn run(args: &ImportArgs) -> Result<String, CliError> {
    let dir = args.data.as_path();
    let given = given_keys(&args.trust)?;
    // Every file is read before the directory is touched.
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        files.push((path.display().to_string(), read_log_text(path)?));
    }

    let data = DataDir::new(dir);
    let recorded = data.registrars().map_err(data_error(dir))?;
    let trust = if recorded.is_some() || given.is_empty() {
        // Compares the given keys with the recorded ones (other keys are refused), or
        // says that there are none to use; records nothing.
        data.trust(&given).map_err(data_error(dir))?
    } else {
        // The first import: its keys are recorded only once it has succeeded, so a
        // refused first import (a mistyped key, say) does not pin the wrong anchors.
        given.clone()
    };

    let import_error = |error| CliError::Import {
        dir: dir.to_owned(),
        error: Box::new(error),
    };
    let cluster = data::cluster(args.store.url())?;
    let runtime = data::runtime()?;
    // Every record is checked before a new SQLite store is created, so a refused import
    // leaves no empty store behind; the checked records are then restored as they are. A
    // cluster may hold a log already: the files are checked on their own before anything is
    // written to it, then again against what it holds.
    let new_store = cluster.is_none() && !data.store_path().exists();
    let checked = if new_store || cluster.is_some() {
        let checked = runtime
            .block_on(check_import(State::new(trust.clone()), &files))
            .map_err(import_error)?;
        new_store.then_some(checked)
    } else {
        None
    };

    let (len, summary) = runtime.block_on(async {
        let (state, summary) = match cluster {
            Some(url) => {
                if !dir.is_dir() {
                    data.create().map_err(data_error(dir))?;
                }
                let store = data::connect_cluster(dir, url).await?;
                import(&store, State::new(trust), &files).await
            }
            None => {
                let store = data
                    .open_store(SqliteOptions::default())
                    .map_err(data_error(dir))?;
                match checked {
                    Some(checked) => checked.restore_into(&store).await,
                    None => import(&store, State::new(trust), &files).await,
                }
            }
        }
        .map_err(import_error)?;
        Ok::<_, CliError>((state.len(), summary))
    })?;
    if recorded.is_none() {
        data.trust(&given).map_err(data_error(dir))?;
    }
    Ok(format!(
        "imported {}, {} already present; {} holds {}\n",
        records(summary.imported),
        summary.already_present,
        dir.display(),
        records(len),
    ))
}

fn records(n: u64) -> String {
    format!("{n} {}", if n == 1 { "record" } else { "records" })
}
