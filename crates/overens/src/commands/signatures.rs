//! `overens signatures`: the signature ledger of an agreement.

use overens_core::projection::signature_ledger;

use crate::cli::AgreementArgs;
use crate::commands::{find_agreement, json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &AgreementArgs) -> Result<String, CliError> {
    let loaded = load(&args.log)?;
    let agreement = find_agreement(&loaded.state, &args.agreement)?;
    let rows = signature_ledger(loaded.state.directory(), agreement);
    if args.json {
        json(&rows)
    } else {
        Ok(render::signatures(&agreement.id, &rows))
    }
}
