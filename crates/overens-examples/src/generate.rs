//! From source to log: fill placeholders, sign, verify, apply to the domain state, serialise.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use overens_core::domain::enrollment_message;
use overens_core::event::SignatoryEnrolled;
use overens_core::{
    Digest32, Event, EventId, LogRecord, PartyId, PublicKey, Recorded, SecretKey, State, StreamId,
    UnsignedEnvelope,
};

use crate::error::{Error, Problem};
use crate::keys::test_key;
use crate::source::{Entry, Source};

/// How far `at` may lag `recorded_at`: the server's default tolerance for the signer's clock.
const MAX_CLOCK_LAG_MILLIS: i64 = 5 * 60 * 1000;

/// The generated files, in memory: the log and every file under `keys/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// `log.jsonl`: one canonical log record per line.
    pub log: String,
    /// File name under `keys/` → content (`<name>.key`, `<name>.pub`, `README.md`).
    pub keys: BTreeMap<String, String>,
    /// Events per stream, in order of each stream's first event.
    pub streams: Vec<StreamCount>,
}

/// How many events one stream got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCount {
    pub stream: StreamId,
    pub events: usize,
}

/// A signatory as enrolled by the source, for the keys' README.
#[derive(Debug, Clone)]
struct Holder {
    party: PartyId,
    name: String,
    role: String,
}

/// Generates the log and keys from the text of `history.toml`.
pub fn generate(source_text: &str) -> Result<Generated, Error> {
    generate_with_state(source_text).map(|(generated, _)| generated)
}

/// [`generate`], also handing back the domain state after the last event: what the example
/// log means (versions in force, open requests, signatures).
pub fn generate_with_state(source_text: &str) -> Result<(Generated, State), Error> {
    let source = Source::parse(source_text)?;
    let registrars: BTreeMap<String, SecretKey> = source
        .registrars
        .iter()
        .map(|name| (name.clone(), test_key(name)))
        .collect();
    let mut state = State::new(registrars.values().map(SecretKey::public));
    let mut signatories: BTreeMap<String, (SecretKey, Holder)> = BTreeMap::new();
    let mut log = String::new();
    let mut streams: Vec<StreamCount> = Vec::new();
    let mut previous = None;

    for entry in &source.entries {
        check_times(entry, previous)?;
        previous = Some(entry.recorded_at);
        let key = match registrars.get(&entry.signer) {
            Some(key) => key.clone(),
            None => signatories
                .get(&entry.signer)
                .map(|(key, _)| key.clone())
                // Source::parse already refused names not enrolled earlier; this is the
                // same check against what was actually enrolled.
                .ok_or_else(|| entry.fail(Problem::UnknownKey(entry.signer.clone())))?,
        };
        let payload = fill_placeholders(entry, &state)?;
        let event = Event::from_parts(&entry.kind, &payload)
            .map_err(|e| entry.fail(Problem::Payload(e.to_string())))?;
        if let (Event::SignatoryEnrolled(e), Some(Value::String(name))) =
            (&event, entry.payload.get("key_name"))
        {
            signatories.insert(name.clone(), (test_key(name), holder(e)));
        }

        let head = state.head(&entry.stream);
        let envelope = UnsignedEnvelope::new(
            event_id(entry)?,
            entry.stream.clone(),
            head.next_seq,
            head.prev,
            entry.at,
            key.public(),
            &event,
        )
        .sign(&key);
        let verified = envelope
            .clone()
            .verify()
            .map_err(|e| entry.fail(Problem::Envelope(e)))?;
        let index = entry.position as u64;
        state
            .apply(Recorded {
                index,
                recorded_at: entry.recorded_at,
                event: &verified,
            })
            .map_err(|e| entry.fail(Problem::Rejected(Box::new(e))))?;

        let line = LogRecord {
            index,
            recorded_at: entry.recorded_at,
            event: envelope,
        }
        .to_line();
        // What a reader of the file gets must be what was generated, byte for byte.
        LogRecord::parse_line(&line)
            .map_err(|e| entry.fail(Problem::LineRoundTrip(e.to_string())))?;
        log.push_str(&line);
        log.push('\n');
        match streams.iter_mut().find(|c| c.stream == entry.stream) {
            Some(count) => count.events += 1,
            None => streams.push(StreamCount {
                stream: entry.stream.clone(),
                events: 1,
            }),
        }
    }

    let generated = Generated {
        log,
        keys: key_files(&registrars, &signatories),
        streams,
    };
    Ok((generated, state))
}

fn check_times(entry: &Entry, previous: Option<overens_core::Timestamp>) -> Result<(), Error> {
    if let Some(previous) = previous
        && entry.recorded_at < previous
    {
        return Err(entry.fail(Problem::RecordedBackwards {
            previous,
            recorded_at: entry.recorded_at,
        }));
    }
    if entry.at > entry.recorded_at {
        return Err(entry.fail(Problem::AtAfterRecorded {
            at: entry.at,
            recorded_at: entry.recorded_at,
        }));
    }
    if entry.recorded_at.unix_millis() - entry.at.unix_millis() > MAX_CLOCK_LAG_MILLIS {
        return Err(entry.fail(Problem::AtTooOld {
            at: entry.at,
            recorded_at: entry.recorded_at,
        }));
    }
    Ok(())
}

/// UUID v7 from `at` and a hash of the log position: unique, time-ordered, reproducible.
fn event_id(entry: &Entry) -> Result<EventId, Error> {
    let millis = u64::try_from(entry.at.unix_millis()).map_err(|_| {
        entry.fail(Problem::BadField {
            field: "at",
            reason: "before 1970: a UUID v7 cannot carry it".into(),
        })
    })?;
    let hash = Digest32::of(format!("overens example id\n{}", entry.position).as_bytes());
    let mut random = [0u8; 10];
    random.copy_from_slice(&hash.0[..10]);
    Ok(EventId::v7(millis, random))
}

/// The payload with the generator's placeholders replaced by real values.
fn fill_placeholders(entry: &Entry, state: &State) -> Result<Map<String, Value>, Error> {
    let mut payload = entry.payload.clone();
    let placeholder = |message: String| entry.fail(Problem::Placeholder(message));
    match entry.kind.as_str() {
        "SignatoryEnrolled" => {
            if payload.contains_key("key") || payload.contains_key("proof") {
                return Err(placeholder(
                    "SignatoryEnrolled gives `key_name`, not `key` or `proof`: the generator \
                     derives the key and signs the proof of possession"
                        .into(),
                ));
            }
            let name = match payload.remove("key_name") {
                Some(Value::String(name)) => name,
                _ => {
                    return Err(placeholder(
                        "SignatoryEnrolled needs `key_name = \"...\"` (a string)".into(),
                    ));
                }
            };
            let party: PartyId = payload
                .get("party")
                .and_then(Value::as_str)
                .ok_or_else(|| placeholder("SignatoryEnrolled needs `party` (a string)".into()))?
                .parse()
                .map_err(|e: overens_core::id::IdError| placeholder(format!("`party`: {e}")))?;
            let key = test_key(&name);
            let public: PublicKey = key.public();
            let proof = key.sign(&enrollment_message(&party, &public));
            payload.insert("key".into(), Value::String(public.to_string()));
            payload.insert("proof".into(), Value::String(proof.to_string()));
        }
        "RevisionProposed" | "RevisionSigned" | "PaperSignatureRecorded"
            if payload.get("content_hash") == Some(&Value::String("auto".into())) =>
        {
            let hash = auto_hash(entry, state, &payload).map_err(placeholder)?;
            payload.insert("content_hash".into(), Value::String(hash.to_hex()));
        }
        _ => {}
    }
    Ok(payload)
}

/// `content_hash = "auto"`: the draft's hash for a proposal, the proposed version's for a
/// signature, taken from the domain state as it stands before this event.
fn auto_hash(
    entry: &Entry,
    state: &State,
    payload: &Map<String, Value>,
) -> Result<Digest32, String> {
    let StreamId::Agreement(id) = &entry.stream else {
        return Err("content_hash = \"auto\" needs an agreement stream".into());
    };
    let agreement = state
        .agreement(id)
        .ok_or_else(|| format!("content_hash = \"auto\": agreement `{id}` was not drafted yet"))?;
    if entry.kind == "RevisionProposed" {
        return Ok(agreement.draft().hash());
    }
    let number = payload
        .get("version")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("content_hash = \"auto\" needs `version` (a positive integer)")?;
    agreement
        .version(number)
        .map(|v| v.content_hash)
        .ok_or_else(|| {
            format!("content_hash = \"auto\": version {number} of `{id}` was never proposed")
        })
}

fn holder(e: &SignatoryEnrolled) -> Holder {
    Holder {
        party: e.party.clone(),
        name: e.name.clone(),
        role: e.role.clone(),
    }
}

fn key_files(
    registrars: &BTreeMap<String, SecretKey>,
    signatories: &BTreeMap<String, (SecretKey, Holder)>,
) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for (name, key) in registrars
        .iter()
        .chain(signatories.iter().map(|(n, (k, _))| (n, k)))
    {
        files.insert(format!("{name}.key"), format!("{}\n", key.to_text()));
        files.insert(format!("{name}.pub"), format!("{}\n", key.public()));
    }
    files.insert("README.md".into(), readme(registrars, signatories));
    files
}

fn readme(
    registrars: &BTreeMap<String, SecretKey>,
    signatories: &BTreeMap<String, (SecretKey, Holder)>,
) -> String {
    let mut text = String::from(
        "# TEST KEYS — NEVER USE THEM FOR ANYTHING REAL\n\
         \n\
         <!-- Generated by `cargo run -p overens-examples`; do not edit. -->\n\
         \n\
         **Every private key in this directory is public knowledge.** Each seed is\n\
         SHA-256 of the bytes `overens example test key v1\\n<name>`, so anyone who reads\n\
         the name can recompute the key. They exist only so that `../log.jsonl` can be\n\
         regenerated byte for byte and signed again in tests and demos. A log that trusts one\n\
         of these keys as a registrar, or accepts one of them as a signatory, proves nothing.\n\
         \n\
         `<name>.key` holds the 32-byte ed25519 seed, `<name>.pub` the public key, both as\n\
         base64url without padding.\n\
         \n\
         **The signatories' names are fictional.** The parties and roles follow the two real\n\
         agreements the examples are modelled on; the people are invented and no real\n\
         official signed anything here.\n\
         \n\
         ## Registrar keys (trust anchors of the example log)\n\
         \n\
         | key name | public key |\n\
         | --- | --- |\n",
    );
    for (name, key) in registrars {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "| `{name}` | `{}` |", key.public());
    }
    text.push_str(
        "\n## Signatory keys\n\
         \n\
         | key name | party | signatory (fictional) | role | public key |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for (name, (key, holder)) in signatories {
        let _ = writeln!(
            text,
            "| `{name}` | `{}` | {} | {} | `{}` |",
            holder.party,
            holder.name,
            holder.role,
            key.public()
        );
    }
    text
}
