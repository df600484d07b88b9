//! `overens versions`: every version of an agreement with its signatures and in-force period.

use overens_core::projection::versions;

use crate::cli::AgreementArgs;
use crate::commands::{find_agreement, json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &AgreementArgs) -> Result<String, CliError> {
    let loaded = load(&args.log)?;
    let agreement = find_agreement(&loaded.state, &args.agreement)?;
    let list = versions(loaded.state.directory(), agreement);
    if args.json {
        json(&list)
    } else {
        Ok(render::versions(&agreement.id, &list))
    }
}
