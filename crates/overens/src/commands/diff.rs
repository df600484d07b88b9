//! `overens diff`: what changed between two versions of an agreement.

use overens_core::Agreement;
use overens_core::domain::Version;
use overens_core::projection::diff;

use crate::cli::DiffArgs;
use crate::commands::{find_agreement, json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &DiffArgs) -> Result<String, CliError> {
    let common = &args.agreement;
    let loaded = load(&common.log)?;
    let agreement = find_agreement(&loaded.state, &common.agreement)?;
    let from = version(agreement, args.from)?;
    let to = version(agreement, args.to)?;
    let changes = diff(from.number, &from.content, to.number, &to.content);
    if common.json {
        json(&changes)
    } else {
        Ok(render::diff(
            &agreement.id,
            loaded.state.directory(),
            &changes,
        ))
    }
}

fn version(agreement: &Agreement, number: u32) -> Result<&Version, CliError> {
    agreement
        .version(number)
        .ok_or_else(|| CliError::UnknownVersion {
            agreement: agreement.id.clone(),
            version: number,
            latest: agreement.latest_proposal().map(|v| v.number),
        })
}
