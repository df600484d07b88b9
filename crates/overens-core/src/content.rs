//! The content of an agreement version: what parties sign, and what its hash covers.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::crypto::Digest32;
use crate::id::{ForumId, PartyId, RepresentativeId, SectionId};
use crate::jcs;

/// Title, parties, sections, and forums with their representatives: the state that draft
/// changes fold into, sealed as a version by `RevisionProposed`.
//
// (Not in the doc comment above, which is the OpenAPI description.) Sections and forums (and
// inside a forum its definition and seats) sit behind an `Arc`, so a clone of a content
// shares them: the versions of an agreement and its draft keep one copy of each part that no
// draft change touched. They serialise as the values they point to, so the JSON (and the
// hash) is exactly that of plain values; change one with `Arc::make_mut` (copy on write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub title: String,
    pub preamble: String,
    pub parties: Vec<PartyId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Section>))]
    pub sections: Vec<Arc<Section>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Forum>))]
    pub forums: Vec<Arc<Forum>>,
}

impl Content {
    /// SHA-256 of the content's canonical JSON: what `RevisionProposed` and every signature
    /// name, so that a signature binds the exact text.
    pub fn hash(&self) -> Digest32 {
        // Content holds strings, integers, booleans, arrays and objects only, so its JSON
        // value written by the direct JCS writer is byte for byte the generic
        // canonicaliser's output (tested below); the generic one is far slower, and a
        // replay hashes the draft at every proposal.
        let mut bytes = Vec::with_capacity(4096);
        match serde_json::to_value(self) {
            Ok(value) if jcs::write_value(&mut bytes, &value).is_ok() => Digest32::of(&bytes),
            _ => Digest32::of(&jcs::canonical(self).expect("content is plain JSON")),
        }
    }

    pub fn section(&self, id: &SectionId) -> Option<&Section> {
        self.sections.iter().find(|s| &s.id == id).map(|s| &**s)
    }

    pub fn forum(&self, id: &ForumId) -> Option<&Forum> {
        self.forums.iter().find(|f| &f.id == id).map(|f| &**f)
    }

    /// The forum to change, copied first if another content still shares it.
    pub fn forum_mut(&mut self, id: &ForumId) -> Option<&mut Forum> {
        self.forums
            .iter_mut()
            .find(|f| &f.id == id)
            .map(Arc::make_mut)
    }

    pub fn has_party(&self, party: &PartyId) -> bool {
        self.parties.contains(party)
    }
}

/// One section of the agreement text (värdegrund, syfte och mål, uppföljning …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: SectionId,
    pub heading: String,
    pub text: String,
}

/// A forum set up by the agreement, with its seats.
// The definition and each seat sit behind an `Arc` too: a seat change copies the forum's
// list of pointers, not its definition and every other seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Forum {
    pub id: ForumId,
    #[cfg_attr(feature = "openapi", schema(value_type = ForumDefinition))]
    pub definition: Arc<ForumDefinition>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Representative>))]
    pub representatives: Vec<Arc<Representative>>,
}

/// What a forum is for and how it works; `ForumRevised` replaces it whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForumDefinition {
    pub name: String,
    pub purpose: String,
    pub tasks: Vec<String>,
    pub meets: Vec<Cadence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub chair: Option<Chair>,
}

/// How often (some of) the forum meets: "kommunens representanter träffas ca en gång i månaden".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// Who meets, in the agreement's words.
    pub who: String,
    pub times: u32,
    pub per: Period,
    /// "ca", "ungefär": the cadence is a guide, not a rule.
    pub approximately: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Month,
    Quarter,
    HalfYear,
    Year,
}

/// Who chairs or convenes the forum: a fixed role, or a rotation between parties by year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Chair {
    Role {
        role: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(nullable = false))]
        party: Option<PartyId>,
    },
    Rotating {
        role: String,
        turns: Vec<ChairTurn>,
    },
}

impl Chair {
    /// Every party the chair names; each must be a party of the agreement.
    pub fn parties(&self) -> Vec<&PartyId> {
        match self {
            Chair::Role { party, .. } => party.iter().collect(),
            Chair::Rotating { turns, .. } => turns.iter().flat_map(|t| &t.parties).collect(),
        }
    }
}

/// One year of a rotating chair: "Barn- och skolnämnden & Utbildningsnämnden (2021)".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChairTurn {
    pub year: i32,
    pub parties: Vec<PartyId>,
}

/// A seat in a forum, held for one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Representative {
    pub id: RepresentativeId,
    pub party: PartyId,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    /// "adjungeras": attends without being a full member.
    pub adjunct: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast content hash equals SHA-256 of the generic canonicaliser's bytes for every
    /// version and draft of the example log.
    #[test]
    fn content_hash_is_the_hash_of_the_canonical_bytes() {
        let text = include_str!("../../../events/examples/log.jsonl");
        let registrars = crate::record::LogRecord::parse_line(text.lines().next().expect("line"))
            .expect("record")
            .event
            .signer;
        let state = crate::replay::replay_log_file(text, crate::State::new([registrars]))
            .expect("the example log replays");
        let mut contents = 0;
        for agreement in state.agreements() {
            for content in agreement
                .versions
                .iter()
                .map(|v| &*v.content)
                .chain([&*agreement.draft])
            {
                let slow = Digest32::of(&jcs::canonical(content).expect("canonical"));
                assert_eq!(content.hash(), slow);
                contents += 1;
            }
        }
        assert!(contents >= 7, "{contents}");
    }
}
