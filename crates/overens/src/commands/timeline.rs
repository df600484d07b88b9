//! `overens timeline`: every event of an agreement, in log order, as a readable line.

use crate::cli::AgreementArgs;
use crate::commands::{find_agreement, json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &AgreementArgs) -> Result<String, CliError> {
    let loaded = load(&args.log)?;
    let agreement = find_agreement(&loaded.state, &args.agreement)?;
    if args.json {
        json(&agreement.timeline)
    } else {
        Ok(render::timeline(&agreement.id, &agreement.timeline))
    }
}
