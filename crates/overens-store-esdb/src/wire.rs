//! What goes over the wire: an Överens event as EventStoreDB event data (the canonical
//! bytes verbatim, the envelope id as event id, the domain type as event type, the store's
//! extras as custom metadata), and an event read back from `$all`.

use bytes::Bytes;
use eventstore::{EventData, Position, RecordedEvent};
use overens_core::{Digest32, EventId, StreamId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use overens_store::{AppendEvent, StoreError};

/// The store's extras, kept as the event's custom metadata (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tag {
    /// The append (or restore) call that wrote the event, one random id per call: how a
    /// call that lost its reply learns that the event it finds is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Uuid>,
    /// The event's place in its Överens batch (0-based) and the batch's size: the events of
    /// one batch share one `recorded_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<u32>,
    /// A restored record's original `recorded_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_at: Option<Timestamp>,
}

impl Tag {
    /// Reads the custom metadata; anything else than a tag of ours counts as no tag, the
    /// same way on every instance.
    pub(crate) fn read(bytes: &[u8]) -> Tag {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
}

/// The envelope fields the store needs, read from the canonical bytes without building
/// the whole envelope (a payload may be a mebibyte).
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub id: EventId,
    pub stream: StreamId,
    pub seq: u64,
    pub prev: Digest32,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Header {
    pub(crate) fn read(bytes: &[u8]) -> Result<Header, String> {
        std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
        serde_json::from_slice(bytes).map_err(|e| format!("not an envelope: {e}"))
    }
}

/// An event of a batch as EventStoreDB event data.
pub(crate) fn event_data(
    event: &AppendEvent,
    header: &Header,
    tag: &Tag,
) -> Result<EventData, StoreError> {
    let text = std::str::from_utf8(event.bytes())
        .map_err(|e| StoreError::InvalidBatch(format!("event {} is not UTF-8: {e}", event.id())))?;
    // A raw value serialises as exactly the text it was made from.
    let raw = RawValue::from_string(text.to_owned())
        .map_err(|e| StoreError::InvalidBatch(format!("event {} is not JSON: {e}", event.id())))?;
    let data = EventData::json(&header.kind, &raw)
        .map_err(|e| StoreError::Storage(format!("encoding event {}: {e}", event.id())))?;
    let tag = serde_json::to_vec(tag)
        .map_err(|e| StoreError::Storage(format!("encoding metadata: {e}")))?;
    Ok(data.id(*event.id().as_uuid()).metadata(Bytes::from(tag)))
}

/// One event of `$all` as the follower hands it to the indexer.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub name: String,
    pub revision: u64,
    pub event_id: Uuid,
    pub data: Bytes,
    pub custom_metadata: Bytes,
    pub position: Position,
    pub created: Timestamp,
}

impl From<&RecordedEvent> for Incoming {
    fn from(event: &RecordedEvent) -> Self {
        Incoming {
            name: event.stream_id.clone(),
            revision: event.revision,
            event_id: event.id,
            data: event.data.clone(),
            custom_metadata: event.custom_metadata.clone(),
            position: event.position,
            created: micros(event.created),
        }
    }
}

/// An instant at microsecond precision, as the SQLite store's clock stamps them.
pub(crate) fn micros(instant: chrono::DateTime<chrono::Utc>) -> Timestamp {
    let micros = instant.timestamp_micros();
    Timestamp::from_datetime(chrono::DateTime::from_timestamp_micros(micros).unwrap_or(instant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_foreign_metadata_is_no_tag() {
        let tag = Tag {
            writer: Some(Uuid::from_u128(7)),
            batch: Some(1),
            of: Some(3),
            restored_at: Some("2019-06-30T12:34:56.789123456Z".parse().expect("time")),
        };
        let bytes = serde_json::to_vec(&tag).expect("json");
        assert_eq!(Tag::read(&bytes), tag);
        assert_eq!(Tag::read(b"not json"), Tag::default());
        assert_eq!(Tag::read(b""), Tag::default());
        assert_eq!(Tag::read(br#"{"writer":"nope"}"#), Tag::default());
    }

    #[test]
    fn a_raw_value_serialises_as_its_exact_text() {
        let text = "{\"a\":\"\\u0001 \u{1F91D} O\u{308}\",\"b\":1.0e2}";
        let raw = RawValue::from_string(text.to_owned()).expect("raw");
        assert_eq!(serde_json::to_vec(&raw).expect("json"), text.as_bytes());
    }
}
