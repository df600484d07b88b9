//! How much one append may add: bounds on payload strings and on an agreement's size, so
//! that no party (and no stolen key) can make the projections every reader holds grow
//! without end. Checked on new appends only, never on replay: a log that was accepted stays
//! readable whatever the limits are later.

use std::collections::{BTreeMap, BTreeSet};

use overens_core::{Agreement, Event, State, StreamId, VerifiedEvent};
use serde_json::Value;

/// The bounds on one append. The defaults are far above what real agreements need (the
/// Norrköping agreement has 6 parties, 10 sections, 3 forums and 30 seats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendLimits {
    /// The longest string anywhere in a payload (section text, names…), in bytes.
    pub max_string_bytes: usize,
    /// The most parties one agreement may have.
    pub max_parties: usize,
    /// The most sections in one agreement's draft.
    pub max_sections: usize,
    /// The most forums in one agreement's draft.
    pub max_forums: usize,
    /// The most seats (representatives) in one forum.
    pub max_representatives: usize,
}

impl Default for AppendLimits {
    fn default() -> Self {
        AppendLimits {
            max_string_bytes: 64 * 1024,
            max_parties: 100,
            max_sections: 500,
            max_forums: 100,
            max_representatives: 500,
        }
    }
}

/// Which bound an append would cross.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} would be {got}, over this server's limit of {limit}")]
pub struct LimitExceeded {
    /// What is counted, e.g. `parties of agreement x`.
    pub what: String,
    pub limit: usize,
    pub got: usize,
}

impl AppendLimits {
    /// Every string of the event's payload is at most `max_string_bytes` long.
    pub fn check_payload(&self, event: &VerifiedEvent) -> Result<(), LimitExceeded> {
        let longest = event
            .envelope()
            .payload
            .values()
            .map(longest_string)
            .max()
            .unwrap_or(0);
        if longest > self.max_string_bytes {
            return Err(LimitExceeded {
                what: "a string of the payload, in bytes,".into(),
                limit: self.max_string_bytes,
                got: longest,
            });
        }
        Ok(())
    }

    /// The agreement's draft after the batch stays within the bounds. Counts forward from
    /// `state` without applying anything, so a refused batch costs no copy of the state.
    pub fn check_batch(
        &self,
        state: &State,
        events: &[VerifiedEvent],
    ) -> Result<(), (usize, LimitExceeded)> {
        let Some(StreamId::Agreement(id)) = events.first().map(|e| e.stream()) else {
            return Ok(());
        };
        let mut draft = Counts::of(state.agreement(id));
        for (position, event) in events.iter().enumerate() {
            draft.add(event.event());
            self.check_counts(&id.to_string(), &draft)
                .map_err(|e| (position, e))?;
        }
        Ok(())
    }

    fn check_counts(&self, agreement: &str, draft: &Counts) -> Result<(), LimitExceeded> {
        let over = |what: &str, limit: usize, got: usize| {
            (got > limit).then(|| LimitExceeded {
                what: format!("the number of {what} of agreement `{agreement}`"),
                limit,
                got,
            })
        };
        let seats = draft.seats.values().copied().max().unwrap_or(0);
        let found = over("parties", self.max_parties, draft.parties)
            .or_else(|| over("sections", self.max_sections, draft.sections.len()))
            .or_else(|| over("forums", self.max_forums, draft.seats.len()))
            .or_else(|| over("seats in one forum", self.max_representatives, seats));
        match found {
            Some(exceeded) => Err(exceeded),
            None => Ok(()),
        }
    }
}

/// The sizes of a draft, as far as the limits care.
#[derive(Debug, Default)]
struct Counts {
    parties: usize,
    sections: BTreeSet<String>,
    /// Seats per forum, by forum id.
    seats: BTreeMap<String, usize>,
}

impl Counts {
    fn of(agreement: Option<&Agreement>) -> Self {
        let Some(agreement) = agreement else {
            return Counts::default();
        };
        let draft = agreement.draft();
        Counts {
            parties: draft.parties.len(),
            sections: draft.sections.iter().map(|s| s.id.to_string()).collect(),
            seats: draft
                .forums
                .iter()
                .map(|f| (f.id.to_string(), f.representatives.len()))
                .collect(),
        }
    }

    /// What `event` adds, if the rules accept it (refusals are the rules' job, not ours:
    /// counting an event the rules will refuse only makes the bound stricter for it).
    fn add(&mut self, event: &Event) {
        match event {
            Event::AgreementDrafted(e) => self.parties = e.parties.len(),
            Event::PartyAdded(_) => self.parties += 1,
            Event::PartyRemoved(_) => self.parties = self.parties.saturating_sub(1),
            Event::SectionRevised(e) => {
                self.sections.insert(e.section.to_string());
            }
            Event::SectionRemoved(e) => {
                self.sections.remove(&e.section.to_string());
            }
            Event::ForumEstablished(e) => {
                self.seats.entry(e.forum.to_string()).or_insert(0);
            }
            Event::ForumDissolved(e) => {
                self.seats.remove(&e.forum.to_string());
            }
            Event::RepresentativeAdded(e) => {
                *self.seats.entry(e.forum.to_string()).or_insert(0) += 1;
            }
            Event::RepresentativeRemoved(e) => {
                if let Some(n) = self.seats.get_mut(&e.forum.to_string()) {
                    *n = n.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

/// The byte length of the longest string in `value` (keys included).
fn longest_string(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(longest_string).max().unwrap_or(0),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| k.len().max(longest_string(v)))
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_string_is_found_at_any_depth() {
        let value = serde_json::json!({"a": ["x", {"bb": "yyyy", "c": [1, true, null]}]});
        assert_eq!(longest_string(&value), 4);
        assert_eq!(longest_string(&serde_json::json!(12)), 0);
    }

    #[test]
    fn the_defaults_hold_the_real_agreements_with_room_to_spare() {
        let limits = AppendLimits::default();
        assert!(limits.max_parties >= 6 * 10);
        assert!(limits.max_representatives >= 30 * 10);
    }
}
