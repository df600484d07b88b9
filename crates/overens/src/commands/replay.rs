//! `overens replay`: rebuild every projection from a data directory's store, verifying
//! every record, as start-up does; report how fast.

use std::io::{self, IsTerminal as _};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ReplayArgs;
use crate::data;
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &ReplayArgs) -> Result<String, CliError> {
    // A bar only for a person watching: logs and pipes get the summary line alone.
    let bar = io::stderr().is_terminal().then(progress_bar);
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let runtime = data::runtime()?;
    let result = runtime.block_on(async {
        let (_store, replayed) =
            data::open_verified(&args.data, &args.trust, &mut progress).await?;
        Ok::<_, CliError>(replayed)
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let replayed = result?;
    let state = &replayed.state;
    Ok(render::replay_summary(&render::ReplaySummary {
        events: replayed.records,
        elapsed: replayed.elapsed,
        agreements: state.agreements().count(),
        parties: state.directory().parties().count(),
    }))
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "replaying {bar:40} {human_pos}/{human_len} events, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}
