//! The domain events with their typed payloads: the `type` and `payload` of an envelope.

use serde::{Deserialize, Serialize};

use crate::content::ForumDefinition;
use crate::crypto::{Digest32, PublicKey, Signature};
use crate::id::{ForumId, PartyId, RepresentativeId, SectionId};
use crate::time::Date;

/// Every event Överens knows, tagged as it appears in an envelope:
/// `{"type": "PartyRegistered", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum Event {
    // directory
    PartyRegistered(PartyRegistered),
    SignatoryEnrolled(SignatoryEnrolled),
    SignatoryRevoked(SignatoryRevoked),
    // agreement/<id>
    AgreementDrafted(AgreementDrafted),
    TitleAndPreambleRevised(TitleAndPreambleRevised),
    PartyAdded(PartyAdded),
    PartyRemoved(PartyRemoved),
    SectionRevised(SectionRevised),
    SectionRemoved(SectionRemoved),
    ForumEstablished(ForumEstablished),
    ForumRevised(ForumRevised),
    ForumDissolved(ForumDissolved),
    RepresentativeAdded(RepresentativeAdded),
    RepresentativeRemoved(RepresentativeRemoved),
    RevisionProposed(RevisionProposed),
    RevisionSigned(RevisionSigned),
    PaperSignatureRecorded(PaperSignatureRecorded),
    RevisionWithdrawn(RevisionWithdrawn),
    RenegotiationRequested(RenegotiationRequested),
    AgreementTerminated(AgreementTerminated),
}

/// Which kind of stream an event belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Directory,
    Agreement,
}

/// The name of every event type, in catalogue order.
pub const EVENT_TYPES: [&str; 20] = [
    "PartyRegistered",
    "SignatoryEnrolled",
    "SignatoryRevoked",
    "AgreementDrafted",
    "TitleAndPreambleRevised",
    "PartyAdded",
    "PartyRemoved",
    "SectionRevised",
    "SectionRemoved",
    "ForumEstablished",
    "ForumRevised",
    "ForumDissolved",
    "RepresentativeAdded",
    "RepresentativeRemoved",
    "RevisionProposed",
    "RevisionSigned",
    "PaperSignatureRecorded",
    "RevisionWithdrawn",
    "RenegotiationRequested",
    "AgreementTerminated",
];

impl Event {
    /// The envelope's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::PartyRegistered(_) => "PartyRegistered",
            Event::SignatoryEnrolled(_) => "SignatoryEnrolled",
            Event::SignatoryRevoked(_) => "SignatoryRevoked",
            Event::AgreementDrafted(_) => "AgreementDrafted",
            Event::TitleAndPreambleRevised(_) => "TitleAndPreambleRevised",
            Event::PartyAdded(_) => "PartyAdded",
            Event::PartyRemoved(_) => "PartyRemoved",
            Event::SectionRevised(_) => "SectionRevised",
            Event::SectionRemoved(_) => "SectionRemoved",
            Event::ForumEstablished(_) => "ForumEstablished",
            Event::ForumRevised(_) => "ForumRevised",
            Event::ForumDissolved(_) => "ForumDissolved",
            Event::RepresentativeAdded(_) => "RepresentativeAdded",
            Event::RepresentativeRemoved(_) => "RepresentativeRemoved",
            Event::RevisionProposed(_) => "RevisionProposed",
            Event::RevisionSigned(_) => "RevisionSigned",
            Event::PaperSignatureRecorded(_) => "PaperSignatureRecorded",
            Event::RevisionWithdrawn(_) => "RevisionWithdrawn",
            Event::RenegotiationRequested(_) => "RenegotiationRequested",
            Event::AgreementTerminated(_) => "AgreementTerminated",
        }
    }

    pub fn stream_kind(&self) -> StreamKind {
        match self {
            Event::PartyRegistered(_)
            | Event::SignatoryEnrolled(_)
            | Event::SignatoryRevoked(_) => StreamKind::Directory,
            _ => StreamKind::Agreement,
        }
    }

    /// Draft changes fold into the working copy of the next version.
    pub fn is_draft_change(&self) -> bool {
        matches!(
            self,
            Event::TitleAndPreambleRevised(_)
                | Event::PartyAdded(_)
                | Event::PartyRemoved(_)
                | Event::SectionRevised(_)
                | Event::SectionRemoved(_)
                | Event::ForumEstablished(_)
                | Event::ForumRevised(_)
                | Event::ForumDissolved(_)
                | Event::RepresentativeAdded(_)
                | Event::RepresentativeRemoved(_)
        )
    }

    /// The payload as the JSON object an envelope carries.
    pub fn payload(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut tagged)) => match tagged.remove("payload") {
                Some(serde_json::Value::Object(payload)) => payload,
                _ => unreachable!("every payload is a struct"),
            },
            _ => unreachable!("events serialise to tagged objects"),
        }
    }

    /// [`Event::from_parts`] without copying the payload: the payload struct is read from
    /// the map in place. Same result and same errors for every known type.
    pub fn from_payload(
        type_name: &str,
        payload: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Event, serde_json::Error> {
        macro_rules! read {
            ($($variant:ident),* $(,)?) => {
                match type_name {
                    $(stringify!($variant) => $variant::deserialize(payload).map(Event::$variant),)*
                    _ => Event::from_parts(type_name, payload),
                }
            };
        }
        read!(
            PartyRegistered,
            SignatoryEnrolled,
            SignatoryRevoked,
            AgreementDrafted,
            TitleAndPreambleRevised,
            PartyAdded,
            PartyRemoved,
            SectionRevised,
            SectionRemoved,
            ForumEstablished,
            ForumRevised,
            ForumDissolved,
            RepresentativeAdded,
            RepresentativeRemoved,
            RevisionProposed,
            RevisionSigned,
            PaperSignatureRecorded,
            RevisionWithdrawn,
            RenegotiationRequested,
            AgreementTerminated,
        )
    }

    /// Reads a typed event from an envelope's `type` and `payload`.
    pub fn from_parts(
        type_name: &str,
        payload: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Event, serde_json::Error> {
        let tagged = serde_json::json!({ "type": type_name, "payload": payload });
        serde_json::from_value(tagged)
    }
}

/// A registrar registers a party after checking it outside the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRegistered {
    pub party: PartyId,
    pub name: String,
}

/// A registrar enrolls a signatory's key for a party; `proof` is the key's own signature over
/// `overens/enroll/v1\n<party>\n<key>` (proof of possession).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatoryEnrolled {
    pub party: PartyId,
    pub key: PublicKey,
    pub name: String,
    pub role: String,
    pub proof: Signature,
}

/// A key stops signing, by a registrar's decision or its holder's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatoryRevoked {
    pub key: PublicKey,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementDrafted {
    pub title: String,
    pub parties: Vec<PartyId>,
    pub preamble: String,
}

/// Replaces the draft's title and preamble, both at once (the rest of the content stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleAndPreambleRevised {
    pub title: String,
    pub preamble: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyAdded {
    pub party: PartyId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRemoved {
    pub party: PartyId,
}

/// Adds a section, or replaces the heading and text of an existing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionRevised {
    pub section: SectionId,
    pub heading: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionRemoved {
    pub section: SectionId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForumEstablished {
    pub forum: ForumId,
    pub definition: ForumDefinition,
}

/// Carries the forum's whole new definition (tasks, cadence, chair …); its seats stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForumRevised {
    pub forum: ForumId,
    pub definition: ForumDefinition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForumDissolved {
    pub forum: ForumId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeAdded {
    pub forum: ForumId,
    pub representative: RepresentativeId,
    pub party: PartyId,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub adjunct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeRemoved {
    pub forum: ForumId,
    pub representative: RepresentativeId,
}

/// Seals the draft as version `version`; `content_hash` must be the draft's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionProposed {
    pub version: u32,
    pub content_hash: Digest32,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<Date>,
}

/// A party's signature on exactly one proposed version and its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionSigned {
    pub version: u32,
    pub content_hash: Digest32,
    pub party: PartyId,
}

/// A registrar records a signature made on paper (history from before Överens).
/// Carries the content hash, like a live signature, so it names exactly what was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperSignatureRecorded {
    pub version: u32,
    pub content_hash: Digest32,
    pub party: PartyId,
    pub signed_on: Date,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionWithdrawn {
    pub version: u32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenegotiationRequested {
    pub party: PartyId,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementTerminated {
    pub party: PartyId,
    pub effective_on: Date,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_match_serde_tags() {
        let e = Event::PartyAdded(PartyAdded {
            party: "kson".parse().expect("slug"),
        });
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["type"], e.type_name());
        assert!(EVENT_TYPES.contains(&e.type_name()));
        assert_eq!(
            Event::from_parts("PartyAdded", &e.payload()).expect("parses"),
            e
        );
    }

    #[test]
    fn title_and_preamble_revised_is_a_draft_change_with_exactly_two_fields() {
        let e = Event::TitleAndPreambleRevised(TitleAndPreambleRevised {
            title: "Lokal BUS-överenskommelse, Norrtälje".into(),
            preamble: "Samverkan för barnens skull".into(),
        });
        assert!(e.is_draft_change());
        assert_eq!(e.stream_kind(), StreamKind::Agreement);
        assert_eq!(EVENT_TYPES[4], e.type_name());
        let mut payload = e.payload();
        assert_eq!(
            Event::from_parts("TitleAndPreambleRevised", &payload).expect("parses"),
            e
        );
        payload.insert("parties".into(), serde_json::json!([]));
        let err = Event::from_parts("TitleAndPreambleRevised", &payload).expect_err("extra");
        assert!(err.to_string().contains("unknown field `parties`"), "{err}");
        payload.remove("parties");
        payload.remove("preamble");
        let err = Event::from_parts("TitleAndPreambleRevised", &payload).expect_err("missing");
        assert!(
            err.to_string().contains("missing field `preamble`"),
            "{err}"
        );
        let drafted = Event::AgreementDrafted(AgreementDrafted {
            title: "t".into(),
            parties: Vec::new(),
            preamble: String::new(),
        });
        assert!(!drafted.is_draft_change());
    }

    #[test]
    fn unknown_types_and_fields_are_refused() {
        let payload = serde_json::Map::new();
        let err = Event::from_parts("PartyDeleted", &payload).expect_err("unknown");
        assert!(
            err.to_string().contains("unknown variant `PartyDeleted`"),
            "{err}"
        );
        let mut extra = PartyAdded {
            party: "kson".parse().expect("slug"),
        };
        let mut payload = Event::PartyAdded(extra.clone()).payload();
        payload.insert("admin".into(), true.into());
        let err = Event::from_parts("PartyAdded", &payload).expect_err("extra field");
        assert!(err.to_string().contains("unknown field `admin`"), "{err}");
        extra.party = "x".parse().expect("slug");
        let _ = extra;
    }
}
