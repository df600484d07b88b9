//! `overens verify-log`: replay a whole log, verifying every record, and summarise it.

use overens_core::StreamId;

use crate::cli::{Source, VerifyLogArgs};
use crate::commands::load_source;
use crate::error::CliError;
use crate::render;

pub(crate) fn run(args: &VerifyLogArgs) -> Result<String, CliError> {
    // clap guarantees exactly one of the three; the fallback error keeps this total anyway.
    let source = args.source().ok_or(CliError::Usage(
        "exactly one of FILE, --log FILE and --data DIR is required",
    ))?;
    let path = match source {
        Source::Log(path) | Source::Data(path) => path,
    };
    let loaded = load_source(source, &args.trust)?;
    let state = &loaded.state;
    let directory = state.directory();
    let summary = render::LogSummary {
        path,
        records: state.len(),
        streams: usize::from(state.head(&StreamId::Directory).next_seq > 0)
            + state.agreements().count(),
        agreements: state.agreements().count(),
        parties: directory.parties().count(),
        signatories: directory.signatories().count(),
        revoked: directory
            .signatories()
            .filter(|s| s.revoked.is_some())
            .count(),
        last_recorded_at: loaded.last_recorded_at,
    };
    Ok(render::log_summary(&summary))
}
