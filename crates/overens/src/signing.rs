//! Client-side signing: an event read from a payload file, checked against its type before
//! anything is signed, put in an envelope with a fresh UUID v7 and signed with the party's
//! own key. The key never leaves this process.

use std::fs;
use std::path::Path;

use chrono::{SubsecRound as _, Utc};
use overens_core::event::{EVENT_TYPES, StreamKind};
use overens_core::{
    Digest32, Envelope, Event, EventId, SecretKey, StreamId, Timestamp, UnsignedEnvelope,
};
use rand_core::{OsRng, RngCore as _};
use serde_json::Value;

use crate::error::CliError;

/// What a signer asks for: an event of `kind` with the payload in a file, for `stream`.
#[derive(Debug)]
pub(crate) struct EventRequest<'a> {
    pub(crate) stream: &'a StreamId,
    pub(crate) kind: &'a str,
    pub(crate) payload: &'a Path,
}

/// The typed event a request asks for, checked before anything is signed: the type exists,
/// the payload is exactly that type's payload (a misspelt or missing field is named), and
/// the event belongs in the stream.
pub(crate) fn read_event(request: &EventRequest<'_>) -> Result<Event, CliError> {
    let kind = request.kind;
    if !EVENT_TYPES.contains(&kind) {
        let near: Vec<&str> = EVENT_TYPES
            .iter()
            .copied()
            .filter(|t| t.eq_ignore_ascii_case(kind))
            .collect();
        let hint = match near.first() {
            Some(t) => format!("did you mean `{t}`?"),
            None => format!("the types are: {}", EVENT_TYPES.join(", ")),
        };
        return Err(CliError::Event(format!(
            "unknown event type `{kind}`; {hint}"
        )));
    }
    let path = request.payload;
    let text = fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let payload_error = |reason: String| CliError::Payload {
        path: path.to_owned(),
        reason,
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| payload_error(format!("not JSON: {e}")))?;
    let Value::Object(payload) = value else {
        return Err(payload_error(format!(
            "a payload is a JSON object (the `payload` of a {kind} envelope, not the envelope)"
        )));
    };
    if payload.contains_key("payload") && payload.contains_key("sig") {
        return Err(payload_error(
            "this is a whole envelope; give only its payload object, or post it with \
             `overens submit --envelope FILE`"
                .into(),
        ));
    }
    let event = Event::from_parts(kind, &payload)
        .map_err(|e| payload_error(format!("not a valid {kind} payload: {e}")))?;
    let belongs = matches!(
        (event.stream_kind(), request.stream),
        (StreamKind::Directory, StreamId::Directory)
            | (StreamKind::Agreement, StreamId::Agreement(_))
    );
    if !belongs {
        let home = match event.stream_kind() {
            StreamKind::Directory => "the `directory` stream",
            StreamKind::Agreement => "an `agreement/<ID>` stream",
        };
        return Err(CliError::Event(format!(
            "{kind} belongs in {home}, not in `{}`",
            request.stream
        )));
    }
    Ok(event)
}

/// The signer's clock, to the second: `at` is compared with the server's clock within
/// minutes, and a signature's legal date is read from it; nanoseconds add nothing.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now().trunc_subsecs(0))
}

/// A fresh event id: UUID v7 from the clock and 10 bytes of the OS random generator.
pub(crate) fn new_event_id() -> Result<EventId, CliError> {
    let mut random = [0u8; 10];
    OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| CliError::Random(e.to_string()))?;
    let millis = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    Ok(EventId::v7(millis, random))
}

/// Where the event goes in its stream: what the server's head says, or what the signer
/// was told by someone who asked it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Position {
    pub(crate) seq: u64,
    pub(crate) prev: Digest32,
}

/// Signs `event` for `stream` at `position`, and checks the result as the server will
/// (shape, canonical payload, signature), so a broken envelope is never sent.
pub(crate) fn sign(
    key: &SecretKey,
    stream: &StreamId,
    position: Position,
    at: Timestamp,
    event: &Event,
) -> Result<Envelope, CliError> {
    let id = new_event_id()?;
    let envelope = UnsignedEnvelope::new(
        id,
        stream.clone(),
        position.seq,
        position.prev,
        at,
        key.public(),
        event,
    )
    .sign(key);
    check(&envelope)?;
    Ok(envelope)
}

/// Verifies an envelope locally: what the server checks before any rule.
pub(crate) fn check(envelope: &Envelope) -> Result<(), CliError> {
    envelope
        .clone()
        .verify()
        .map(drop)
        .map_err(|e| CliError::Envelope(format!("the envelope does not verify: {e}")))
}

/// Reads a signed envelope from a file (any JSON spelling).
pub(crate) fn read_envelope(path: &Path) -> Result<Envelope, CliError> {
    let text = fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let envelope = Envelope::parse(&text)
        .map_err(|e| CliError::Envelope(format!("{}: {e}", path.display())))?;
    check(&envelope).map_err(|e| CliError::Envelope(format!("{}: {e}", path.display())))?;
    Ok(envelope)
}

/// An envelope as a file holds it: canonical JSON (exactly the bytes the log will store and
/// hash), one line.
pub(crate) fn envelope_text(envelope: &Envelope) -> String {
    let mut text = String::from_utf8_lossy(&envelope.canonical_bytes()).into_owned();
    text.push('\n');
    text
}

/// A compact description for messages: `RevisionSigned, agreement/x seq 9`.
pub(crate) fn describe(envelope: &Envelope) -> String {
    format!(
        "{} for {} at seq {}",
        envelope.kind, envelope.stream, envelope.seq
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use std::io::Write as _;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn payload_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text.as_bytes()).expect("write");
        file
    }

    fn stream() -> StreamId {
        "agreement/norrkoping-barn-och-unga"
            .parse()
            .expect("stream")
    }

    const SIGNED: &str = r#"{"version": 2, "content_hash": "77c5763fce0347cf3d876fce2a2be34765381194fe3e35b9b10616384b7b8be4", "party": "norrkoping-vard-och-omsorgskontoret"}"#;

    #[test]
    fn a_valid_payload_reads_as_its_event() {
        let file = payload_file(SIGNED);
        let stream = stream();
        let event = read_event(&EventRequest {
            stream: &stream,
            kind: "RevisionSigned",
            payload: file.path(),
        })
        .expect("valid");
        assert_eq!(event.type_name(), "RevisionSigned");
    }

    #[test]
    fn typos_are_named_before_anything_is_signed() {
        let stream = stream();
        let file = payload_file(r#"{"version": 2, "contenthash": "00", "party": "x"}"#);
        let error = read_event(&EventRequest {
            stream: &stream,
            kind: "RevisionSigned",
            payload: file.path(),
        })
        .expect_err("typo");
        assert!(error.to_string().contains("contenthash"), "{error}");

        let file = payload_file(SIGNED);
        let error = read_event(&EventRequest {
            stream: &stream,
            kind: "revisionsigned",
            payload: file.path(),
        })
        .expect_err("type");
        assert!(error.to_string().contains("`RevisionSigned`?"), "{error}");

        let error = read_event(&EventRequest {
            stream: &StreamId::Directory,
            kind: "RevisionSigned",
            payload: file.path(),
        })
        .expect_err("stream");
        assert!(error.to_string().contains("agreement/<ID>"), "{error}");
    }

    #[test]
    fn signed_envelopes_verify_and_ids_are_v7() {
        let key = SecretKey::from_seed(&[7; 32]);
        let event = Event::from_parts(
            "RevisionSigned",
            &object(serde_json::from_str(SIGNED).expect("json")),
        )
        .expect("event");
        let envelope = sign(
            &key,
            &stream(),
            Position {
                seq: 3,
                prev: Digest32([1; 32]),
            },
            now(),
            &event,
        )
        .expect("signed");
        assert_eq!(envelope.seq, 3);
        assert_eq!(envelope.signer, key.public());
        assert_eq!(envelope.id.as_uuid().get_version_num(), 7);
        let again = Envelope::parse(&envelope_text(&envelope)).expect("parses");
        assert_eq!(again, envelope);
        assert_ne!(new_event_id().expect("id"), new_event_id().expect("id"));
    }
}
