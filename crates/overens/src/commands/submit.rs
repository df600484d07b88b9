//! `overens submit`: sign an event here, with the party's own key, and append it on a
//! server; or post an envelope signed earlier. The server never sees a secret key.

use std::thread;
use std::time::Duration;

use overens_core::Envelope;
use serde_json::json;

use crate::cli::SubmitArgs;
use crate::client::{AppendResult, Client, Problem};
use crate::commands::json;
use crate::error::CliError;
use crate::keyfile::read_secret_key;
use crate::signing::{self, EventRequest, Position};

/// How often an event is signed again when its stream moved on under it.
const STALE_RETRIES: u32 = 3;
/// How often the same envelope is posted again after a transport failure (safe: the same id
/// and bytes are appended once, and a repeat gets the first answer).
const TRANSPORT_RETRIES: u32 = 2;

pub(crate) fn run(args: &SubmitArgs) -> Result<String, CliError> {
    let client = Client::new(&args.server)?;
    if let Some(path) = &args.envelope {
        let envelope = signing::read_envelope(path)?;
        return match post(&client, &envelope)? {
            Ok(result) => report(&envelope, &result, args.json),
            Err(problem) => Err(refused(problem)),
        };
    }
    let (Some(key), Some(stream), Some(kind), Some(payload)) =
        (&args.key, &args.stream, &args.kind, &args.payload)
    else {
        return Err(CliError::Usage(
            "give --key, --stream, --type and --payload, or --envelope",
        ));
    };
    // Everything local is checked before the network is touched.
    let event = signing::read_event(&EventRequest {
        stream,
        kind,
        payload,
    })?;
    let key = read_secret_key(key)?;
    let mut stale = 0;
    loop {
        let (seq, prev) = client.head(stream)?;
        let at = args.at.unwrap_or_else(signing::now);
        let envelope = signing::sign(&key, stream, Position { seq, prev }, at, &event)?;
        match post(&client, &envelope)? {
            Ok(result) => return report(&envelope, &result, args.json),
            Err(problem) if problem.is_stale_head() && stale < STALE_RETRIES => {
                stale += 1;
                eprintln!(
                    "overens: {stream} moved on while signing ({}); signing again against \
                     its new head",
                    problem.detail.as_deref().unwrap_or("stale head")
                );
            }
            Err(problem) => return Err(refused(problem)),
        }
    }
}

fn refused(problem: Problem) -> CliError {
    CliError::Refused(Box::new(problem))
}

/// Posts `envelope`; a transport failure is retried with the very same bytes.
fn post(client: &Client, envelope: &Envelope) -> Result<Result<AppendResult, Problem>, CliError> {
    let mut failures = 0;
    loop {
        match client.append(envelope) {
            Err(CliError::Http { url, error }) if failures < TRANSPORT_RETRIES => {
                failures += 1;
                eprintln!(
                    "overens: posting to {url} failed ({error}); trying again with the same \
                     envelope (id {})",
                    envelope.id
                );
                thread::sleep(Duration::from_secs(u64::from(failures)));
            }
            other => return other,
        }
    }
}

fn report(envelope: &Envelope, result: &AppendResult, as_json: bool) -> Result<String, CliError> {
    if as_json {
        return json(&json!({
            "id": envelope.id,
            "stream": result.stream,
            "seq": envelope.seq,
            "type": envelope.kind,
            "event_hash": envelope.hash(),
            "indexes": result.indexes,
            "recorded_at": result.recorded_at,
            "log_len": result.log_len,
            "repeated": result.repeated,
        }));
    }
    let indexes: Vec<String> = result.indexes.iter().map(u64::to_string).collect();
    let what = if result.repeated {
        "already in the log (this envelope was appended before)"
    } else {
        "appended"
    };
    Ok(format!(
        "{what}: {}\nindex {}, recorded at {}; the log holds {} records\nevent id {}, hash {}\n",
        signing::describe(envelope),
        indexes.join(", "),
        result.recorded_at,
        result.log_len,
        envelope.id,
        envelope.hash(),
    ))
}
