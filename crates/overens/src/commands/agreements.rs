//! `overens agreements`: every agreement of a log with its status.

use overens_core::projection::{AgreementSummary, agreement_summary};

use crate::cli::AgreementsArgs;
use crate::commands::{json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &AgreementsArgs) -> Result<String, CliError> {
    let loaded = load(&args.log)?;
    let state = &loaded.state;
    let summaries: Vec<AgreementSummary> = state
        .agreements()
        .map(|a| agreement_summary(state.directory(), a))
        .collect();
    if args.json {
        json(&summaries)
    } else {
        Ok(render::agreements(&summaries))
    }
}
