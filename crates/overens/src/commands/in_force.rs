//! `overens in-force`: which version applied on a date, as the log knew it at an instant.

use chrono::Utc;
use overens_core::Timestamp;
use overens_core::projection::in_force;

use crate::cli::InForceArgs;
use crate::commands::{find_agreement, json, load};
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &InForceArgs) -> Result<String, CliError> {
    let common = &args.agreement;
    let loaded = load(&common.log)?;
    let agreement = find_agreement(&loaded.state, &common.agreement)?;
    // The clock lives here, at the edge: the core only ever gets time as a value.
    let as_of = args
        .as_of
        .unwrap_or_else(|| Timestamp::from_datetime(Utc::now()));
    let answer = in_force(agreement, args.on, as_of);
    if common.json {
        json(&answer)
    } else {
        Ok(render::in_force(&answer))
    }
}
