//! `overens sign`: sign an event offline, for a stream position given by hand, into an
//! envelope file that `overens submit --envelope` posts later, from any machine.

use std::fs;

use overens_core::Digest32;

use crate::cli::SignArgs;
use crate::error::CliError;
use crate::keyfile::read_secret_key;
use crate::signing::{self, EventRequest, Position};

pub(crate) fn run(args: &SignArgs) -> Result<String, CliError> {
    let e = &args.event;
    let zero = Digest32([0; 32]);
    if (args.seq == 0) != (args.prev == zero) {
        return Err(CliError::Usage(
            "--seq 0 goes with --prev of 64 zeros (the stream's first event), and only it",
        ));
    }
    let event = signing::read_event(&EventRequest {
        stream: &e.stream,
        kind: &e.kind,
        payload: &e.payload,
    })?;
    let key = read_secret_key(&e.key)?;
    let at = e.at.unwrap_or_else(signing::now);
    let position = Position {
        seq: args.seq,
        prev: args.prev,
    };
    let envelope = signing::sign(&key, &e.stream, position, at, &event)?;
    let text = signing::envelope_text(&envelope);
    if args.out.as_os_str() == "-" {
        return Ok(text);
    }
    fs::write(&args.out, text).map_err(|source| CliError::Write {
        path: args.out.clone(),
        source,
    })?;
    Ok(format!(
        "signed {} (at {}), id {}, hash {}\nwrote {}; post it with `overens submit --server URL \
         --envelope {}` before the server's clock-skew limit (5 minutes by default) passes \
         its `at`\n",
        signing::describe(&envelope),
        envelope.at,
        envelope.id,
        envelope.hash(),
        args.out.display(),
        args.out.display(),
    ))
}
