//! Which version is in force on a date, as known at an instant (valid time × recorded time).

use serde::Serialize;

use crate::crypto::Digest32;
use crate::domain::{Agreement, Version};
use crate::id::AgreementId;
use crate::time::{Date, Timestamp};

/// The answer to "which version was in force on `on`, as the log knew it at `as_of`?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InForce {
    pub agreement: AgreementId,
    pub on: Date,
    pub as_of: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub version: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub content_hash: Option<Digest32>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force_from: Option<Date>,
    /// The first day it no longer applied (exclusive), as known at `as_of`; `null` while open.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub in_force_until: Option<Date>,
}

/// Versions enter into force in log order; on a date, the one with the latest entry date
/// not after it applies, counting only what had been recorded by `as_of`. That is what
/// keeps backfilled paper history honest: before the backfill was recorded, nothing was
/// known to be in force.
pub fn in_force(agreement: &Agreement, on: Date, as_of: Timestamp) -> InForce {
    let known: Vec<(&Version, Date)> = agreement
        .versions()
        .filter_map(|v| v.in_force.as_ref().map(|e| (v, e)))
        .filter(|(_, e)| e.recorded.recorded_at <= as_of)
        .map(|(v, e)| (v, e.from))
        .collect();
    let termination = agreement
        .termination
        .as_ref()
        .filter(|t| t.stamp.recorded_at <= as_of)
        .map(|t| t.effective_on);

    let chosen = known
        .iter()
        .filter(|(_, from)| *from <= on)
        .max_by_key(|(v, from)| (*from, v.number))
        .filter(|_| termination.is_none_or(|end| on < end));

    let mut answer = InForce {
        agreement: agreement.id.clone(),
        on,
        as_of,
        version: None,
        content_hash: None,
        in_force_from: None,
        in_force_until: None,
    };
    if let Some((version, from)) = chosen {
        let next = known
            .iter()
            .filter(|(v, f)| (*f, v.number) > (*from, version.number))
            .map(|(_, f)| *f)
            .min();
        answer.version = Some(version.number);
        answer.content_hash = Some(version.content_hash);
        answer.in_force_from = Some(*from);
        answer.in_force_until = match (next, termination) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    answer
}
