//! OpenAPI schemas (feature `openapi`) for the types written as text: keys, signatures,
//! hashes, instants, ids and slugs. Each schema states the one text form the type
//! serialises to, so a response can be checked against the document character by
//! character. The structured views derive theirs (`#[derive(utoipa::ToSchema)]`), and
//! utoipa reads their serde attributes.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

use crate::crypto::{Digest32, PublicKey, Signature};
use crate::event::EVENT_TYPES;
use crate::id::{AgreementId, EventId, ForumId, PartyId, RepresentativeId, SectionId, StreamId};
use crate::time::Timestamp;

/// A slug: 1–64 of a-z, 0-9 and '-', not starting or ending with '-'.
pub const SLUG_PATTERN: &str = "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$";
/// 32 bytes as canonical unpadded base64url: 43 characters, the last one carrying two
/// zero bits.
pub const PUBLIC_KEY_PATTERN: &str = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$";
/// 64 bytes as canonical unpadded base64url: 86 characters, the last one carrying four
/// zero bits.
pub const SIGNATURE_PATTERN: &str = "^[A-Za-z0-9_-]{85}[AQgw]$";
pub const DIGEST_PATTERN: &str = "^[0-9a-f]{64}$";
/// RFC 3339 in UTC, ending in `Z`, with no fraction or one of 3, 6 or 9 digits.
pub const TIMESTAMP_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{3}|\\.[0-9]{6}|\\.[0-9]{9})?Z$";
/// A lowercase hyphenated UUID of version 7.
pub const EVENT_ID_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
pub const STREAM_PATTERN: &str = "^(?:directory|agreement/[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)$";

fn text(
    description: &str,
    pattern: &str,
    format: Option<SchemaFormat>,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description(Some(description))
        .pattern(Some(pattern))
        .format(format)
        .examples([serde_json::Value::from(example)])
        .into()
}

macro_rules! text_schema {
    ($ty:ty, $name:literal, $description:expr, $pattern:expr, $format:expr, $example:literal) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                text($description, $pattern, $format, $example)
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

text_schema!(
    PublicKey,
    "PublicKey",
    "An ed25519 public key: its 32 bytes as canonical unpadded base64url.",
    PUBLIC_KEY_PATTERN,
    None,
    "C68cZ7Db3GlLTUpoipr58a8DGFHJT1x1NeAH13WMV_g"
);
text_schema!(
    Signature,
    "Signature",
    "An ed25519 signature: its 64 bytes as canonical unpadded base64url.",
    SIGNATURE_PATTERN,
    None,
    "5WSAMO1Zysb-QA5rJnCwiHKV9U4xZp_mDwdHD-kIOy37KQaZ_SuBGN9SXL_B-cgyTbrEGjpdxotmlsNNll5uAw"
);
text_schema!(
    Digest32,
    "Digest32",
    "A SHA-256 digest as 64 lowercase hex digits.",
    DIGEST_PATTERN,
    None,
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
);
text_schema!(
    Timestamp,
    "Timestamp",
    "An instant in RFC 3339, always in UTC and ending in `Z`; a fraction, if any, has 3, 6 or 9 digits.",
    TIMESTAMP_PATTERN,
    Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)),
    "2020-03-12T09:30:00Z"
);
text_schema!(
    EventId,
    "EventId",
    "An event id: a lowercase hyphenated UUID of version 7.",
    EVENT_ID_PATTERN,
    Some(SchemaFormat::Custom("uuid".into())),
    "01702e2a-7b88-7ba0-84e0-9cdf03028ac4"
);
text_schema!(
    StreamId,
    "StreamId",
    "A stream of the log: `directory` or `agreement/<agreement id>`.",
    STREAM_PATTERN,
    None,
    "agreement/norrtalje-bus"
);
text_schema!(
    PartyId,
    "PartyId",
    "A party's id (a slug).",
    SLUG_PATTERN,
    None,
    "region-ostergotland"
);
text_schema!(
    AgreementId,
    "AgreementId",
    "An agreement's id (a slug); its stream is `agreement/<id>`.",
    SLUG_PATTERN,
    None,
    "norrtalje-bus"
);
text_schema!(
    SectionId,
    "SectionId",
    "A section's id within an agreement (a slug).",
    SLUG_PATTERN,
    None,
    "vardegrund"
);
text_schema!(
    ForumId,
    "ForumId",
    "A forum's id within an agreement (a slug).",
    SLUG_PATTERN,
    None,
    "styrgrupp"
);
text_schema!(
    RepresentativeId,
    "RepresentativeId",
    "A representative's seat in a forum (a slug).",
    SLUG_PATTERN,
    None,
    "skolchef"
);

/// The events an agreement's stream holds: every type but the directory's three.
pub(crate) struct AgreementEventType;

const DIRECTORY_EVENT_TYPES: [&str; 3] =
    ["PartyRegistered", "SignatoryEnrolled", "SignatoryRevoked"];

impl PartialSchema for AgreementEventType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("The type of an agreement event."))
            .enum_values(Some(
                EVENT_TYPES
                    .iter()
                    .copied()
                    .filter(|t| !DIRECTORY_EVENT_TYPES.contains(t)),
            ))
            .into()
    }
}

impl ToSchema for AgreementEventType {}

/// One run of a word diff: text both versions have, or text only the newer (`insert`) or
/// only the older (`delete`) has.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum TextOp {
    Equal,
    Insert,
    Delete,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example<T: PartialSchema>() -> String {
        let json = serde_json::to_value(T::schema()).expect("a schema is JSON");
        json["examples"][0].as_str().expect("an example").to_owned()
    }

    #[test]
    fn examples_are_real_values() {
        assert!(example::<PublicKey>().parse::<PublicKey>().is_ok());
        assert!(example::<Signature>().parse::<Signature>().is_ok());
        assert!(example::<Digest32>().parse::<Digest32>().is_ok());
        assert!(example::<Timestamp>().parse::<Timestamp>().is_ok());
        assert!(example::<EventId>().parse::<EventId>().is_ok());
        assert!(example::<StreamId>().parse::<StreamId>().is_ok());
        assert!(example::<PartyId>().parse::<PartyId>().is_ok());
        assert!(example::<AgreementId>().parse::<AgreementId>().is_ok());
        assert!(example::<SectionId>().parse::<SectionId>().is_ok());
        assert!(example::<ForumId>().parse::<ForumId>().is_ok());
        assert!(
            example::<RepresentativeId>()
                .parse::<RepresentativeId>()
                .is_ok()
        );
    }

    #[test]
    fn agreement_event_types_leave_out_the_directory() {
        let json = serde_json::to_value(AgreementEventType::schema()).expect("JSON");
        let names = json["enum"].as_array().expect("an enum");
        assert_eq!(names.len(), EVENT_TYPES.len() - DIRECTORY_EVENT_TYPES.len());
        for t in DIRECTORY_EVENT_TYPES {
            assert!(EVENT_TYPES.contains(&t), "{t} is an event type");
        }
    }
}
