//! One readable line per agreement event, for the timeline.

use super::Directory;
use crate::content::{Chair, Period};
use crate::event::Event;

pub(super) fn summarise(directory: &Directory, event: &Event) -> String {
    let party = |p: &crate::id::PartyId| directory.party_name(p);
    match event {
        Event::AgreementDrafted(e) => format!(
            "drafted \"{}\" between {}",
            e.title,
            e.parties.iter().map(party).collect::<Vec<_>>().join(", ")
        ),
        Event::TitleAndPreambleRevised(e) => {
            format!("revised title and preamble: \"{}\"", e.title)
        }
        Event::PartyAdded(e) => format!("added party {}", party(&e.party)),
        Event::PartyRemoved(e) => format!("removed party {}", party(&e.party)),
        Event::SectionRevised(e) => format!("revised section \"{}\" ({})", e.heading, e.section),
        Event::SectionRemoved(e) => format!("removed section {}", e.section),
        Event::ForumEstablished(e) => {
            format!("established forum {} ({})", e.definition.name, e.forum)
        }
        Event::ForumRevised(e) => format!(
            "revised forum {}: {} tasks, meets {}{}",
            e.definition.name,
            e.definition.tasks.len(),
            e.definition
                .meets
                .iter()
                .map(|c| format!(
                    "{}{}×/{}",
                    if c.approximately { "≈" } else { "" },
                    c.times,
                    period(c.per)
                ))
                .collect::<Vec<_>>()
                .join(" and "),
            match &e.definition.chair {
                Some(Chair::Role { role, .. }) => format!(", chaired by {role}"),
                Some(Chair::Rotating { turns, .. }) =>
                    format!(", rotating chair over {} years", turns.len()),
                None => String::new(),
            }
        ),
        Event::ForumDissolved(e) => format!("dissolved forum {}", e.forum),
        Event::RepresentativeAdded(e) => format!(
            "added representative for {} in {}: {}{}",
            party(&e.party),
            e.forum,
            e.role,
            if e.adjunct { " (adjungerad)" } else { "" }
        ),
        Event::RepresentativeRemoved(e) => {
            format!(
                "removed representative {} from {}",
                e.representative, e.forum
            )
        }
        Event::RevisionProposed(e) => format!(
            "proposed version {} ({}){}",
            e.version,
            e.note,
            e.effective_from
                .map(|d| format!(", effective from {d}"))
                .unwrap_or_default()
        ),
        Event::RevisionSigned(e) => format!("{} signed version {}", party(&e.party), e.version),
        Event::PaperSignatureRecorded(e) => format!(
            "recorded {}'s paper signature of version {} dated {} ({})",
            party(&e.party),
            e.version,
            e.signed_on,
            e.evidence
        ),
        Event::RevisionWithdrawn(e) => format!("withdrew version {}: {}", e.version, e.reason),
        Event::RenegotiationRequested(e) => {
            format!("{} requested renegotiation: {}", party(&e.party), e.reason)
        }
        Event::AgreementTerminated(e) => format!(
            "{} terminated the agreement effective {}: {}",
            party(&e.party),
            e.effective_on,
            e.reason
        ),
        Event::PartyRegistered(_) | Event::SignatoryEnrolled(_) | Event::SignatoryRevoked(_) => {
            event.type_name().to_owned()
        }
    }
}

fn period(p: Period) -> &'static str {
    match p {
        Period::Week => "week",
        Period::Month => "month",
        Period::Quarter => "quarter",
        Period::HalfYear => "half-year",
        Period::Year => "year",
    }
}
