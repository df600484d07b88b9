//! `overens replay`: rebuild every projection from a data directory's store, verifying
//! every record, as start-up does; report how fast.

use crate::cli::ReplayArgs;
use crate::data;
use crate::error::CliError;
use crate::progress::ReplayProgress;
use crate::render;

pub(crate) fn run(args: &ReplayArgs) -> Result<String, CliError> {
    let bar = ReplayProgress::on_terminal();
    let mut progress = |done: u64, total: u64| bar.update(done, total);
    let runtime = data::runtime()?;
    let result = runtime.block_on(async {
        let (_store, replayed) = data::open_verified_any(
            &args.data,
            &args.trust,
            args.store.url(),
            data::Access::Exclusive,
            &mut progress,
        )
        .await?;
        Ok::<_, CliError>(replayed)
    });
    bar.finish();
    let replayed = result?;
    Ok(render::replay_summary(&render::ReplaySummary::of(
        &replayed,
    )))
}
