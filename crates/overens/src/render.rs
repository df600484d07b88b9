//! The human-readable text of every command; `--json` bypasses all of it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use overens_core::content::Representative;
use overens_core::domain::{Actor, Directory, SignatureMethod, Timeline};
use overens_core::projection::{
    AgreementStatus, AgreementSummary, FieldChange, ForumDiff, InForce, LedgerRow, SectionDiff,
    TextChange, VersionDiff, VersionStatus, VersionSummary,
};
use overens_core::{AgreementId, PartyId, Timestamp};
use serde_json::Value;

/// What `verify-log` reports about a log that holds.
#[derive(Debug)]
pub(crate) struct LogSummary<'a> {
    pub(crate) path: &'a Path,
    pub(crate) records: u64,
    pub(crate) streams: usize,
    pub(crate) agreements: usize,
    pub(crate) parties: usize,
    pub(crate) signatories: usize,
    pub(crate) revoked: usize,
    pub(crate) last_recorded_at: Option<Timestamp>,
}

fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn count_usize(n: usize, one: &str, many: &str) -> String {
    count(u64::try_from(n).unwrap_or(u64::MAX), one, many)
}

/// One line, so that scripts and logs can keep it whole.
pub(crate) fn log_summary(s: &LogSummary<'_>) -> String {
    let last = s.last_recorded_at.map_or_else(
        || "nothing recorded".to_owned(),
        |t| format!("last recorded at {t}"),
    );
    format!(
        "ok: {} verified: {} in {}; {}, {}, {} ({} revoked); {last}\n",
        s.path.display(),
        count(s.records, "record", "records"),
        count_usize(s.streams, "stream", "streams"),
        count_usize(s.agreements, "agreement", "agreements"),
        count_usize(s.parties, "party", "parties"),
        count_usize(s.signatories, "signatory", "signatories"),
        s.revoked,
    )
}

/// What `replay` reports about a store that holds.
#[derive(Debug)]
pub(crate) struct ReplaySummary {
    pub(crate) events: u64,
    pub(crate) elapsed: Duration,
    pub(crate) agreements: usize,
    pub(crate) parties: usize,
}

impl ReplaySummary {
    pub(crate) fn of(replayed: &overens_pipeline::Replayed) -> Self {
        ReplaySummary {
            events: replayed.records,
            elapsed: replayed.elapsed,
            agreements: replayed.state.agreements().count(),
            parties: replayed.state.directory().parties().count(),
        }
    }
}

/// One line: `replayed 97 events in 0.05 s (1940 events/s); 2 agreements, 10 parties`.
pub(crate) fn replay_summary(s: &ReplaySummary) -> String {
    let seconds = s.elapsed.as_secs_f64();
    // A store small enough to replay in no measurable time has no meaningful rate.
    #[allow(clippy::cast_precision_loss)]
    let rate = if seconds > 0.0 {
        (s.events as f64 / seconds).round()
    } else {
        0.0
    };
    format!(
        "replayed {} in {seconds:.2} s ({rate:.0} events/s); {}, {}\n",
        count(s.events, "event", "events"),
        count_usize(s.agreements, "agreement", "agreements"),
        count_usize(s.parties, "party", "parties"),
    )
}

fn agreement_status(status: AgreementStatus) -> &'static str {
    match status {
        AgreementStatus::Draft => "draft",
        AgreementStatus::AwaitingSignatures => "awaiting signatures",
        AgreementStatus::InForce => "in force",
        AgreementStatus::RenegotiationRequested => "renegotiation requested",
        AgreementStatus::Terminated => "terminated",
    }
}

fn version_status(status: VersionStatus) -> &'static str {
    match status {
        VersionStatus::Open => "open, collecting signatures",
        VersionStatus::Stale => "stale, a newer proposal replaced it",
        VersionStatus::Withdrawn => "withdrawn",
        VersionStatus::InForce => "in force",
        VersionStatus::Superseded => "superseded",
    }
}

fn actor(a: &Actor) -> String {
    match &a.party {
        Some(party) => format!("{} ({}, {party})", a.name, a.role),
        None => format!("a registrar (key {})", a.key),
    }
}

fn party(directory: &Directory, id: &PartyId) -> String {
    format!("{} ({id})", directory.party_name(id))
}

fn names<'a>(list: impl IntoIterator<Item = (&'a str, &'a PartyId)>) -> String {
    let all: Vec<String> = list
        .into_iter()
        .map(|(name, id)| format!("{name} ({id})"))
        .collect();
    if all.is_empty() {
        "(none)".into()
    } else {
        all.join("; ")
    }
}

pub(crate) fn agreements(list: &[AgreementSummary]) -> String {
    if list.is_empty() {
        return "No agreements in the log.\n".into();
    }
    let mut out = String::new();
    for a in list {
        let _ = write!(out, "{}: {}", a.id, agreement_status(a.status));
        if let (Some(v), Some(from)) = (a.version_in_force, a.in_force_from) {
            let _ = write!(out, "; version {v} in force since {from}");
        }
        if let Some(latest) = a.latest_version {
            let _ = write!(out, "; latest version {latest}");
        }
        let _ = writeln!(out, "\n  \"{}\"", a.title);
        let _ = writeln!(
            out,
            "  parties: {}",
            names(a.parties.iter().map(|p| (p.name.as_str(), &p.id)))
        );
    }
    out
}

pub(crate) fn in_force(answer: &InForce) -> String {
    match (answer.version, answer.in_force_from) {
        (Some(version), Some(from)) => {
            let period = match answer.in_force_until {
                Some(until) => format!("from {from} until {until}, exclusive"),
                None => format!("from {from}, still in force"),
            };
            let mut out = format!(
                "Version {version} of {} was in force on {} ({period}), as known at {}.\n",
                answer.agreement, answer.on, answer.as_of
            );
            if let Some(hash) = answer.content_hash {
                let _ = writeln!(out, "Content hash: {hash}");
            }
            out
        }
        _ => format!(
            "No version of {} was in force on {}, as known at {}.\n",
            answer.agreement, answer.on, answer.as_of
        ),
    }
}

pub(crate) fn versions(id: &AgreementId, list: &[VersionSummary]) -> String {
    let mut out = format!(
        "Agreement {id}: {}\n",
        count_usize(list.len(), "version", "versions")
    );
    for v in list {
        let _ = writeln!(out, "\nVersion {}: {}", v.number, version_status(v.status));
        let _ = writeln!(out, "  content hash   {}", v.content_hash);
        let p = &v.proposal;
        let _ = writeln!(
            out,
            "  proposed       {} by {}: \"{}\"",
            p.stamp.at,
            actor(&p.by),
            p.note
        );
        if let Some(from) = p.effective_from {
            let _ = writeln!(out, "  effective from {from}");
        }
        let _ = writeln!(
            out,
            "  signed by      {}",
            names(v.signed.iter().map(|p| (p.name.as_str(), &p.id)))
        );
        let _ = writeln!(
            out,
            "  not signed by  {}",
            names(v.not_signed.iter().map(|p| (p.name.as_str(), &p.id)))
        );
        if let Some(from) = v.in_force_from {
            let _ = match (v.in_force_until, &v.superseded) {
                (Some(until), Some(s)) => writeln!(
                    out,
                    "  in force       from {from} until {until} (superseded by version {})",
                    s.by_version
                ),
                (Some(until), None) => writeln!(
                    out,
                    "  in force       from {from} until {until} (agreement terminated)"
                ),
                (None, _) => writeln!(out, "  in force       from {from}, still in force"),
            };
        }
        if let Some(w) = &v.withdrawn {
            let _ = writeln!(
                out,
                "  withdrawn      {} by {}: {}",
                w.stamp.at,
                actor(&w.by),
                w.reason
            );
        }
    }
    out
}

pub(crate) fn signatures(id: &AgreementId, rows: &[LedgerRow]) -> String {
    let mut out = format!(
        "Signatures of {id}: {}\n",
        count_usize(rows.len(), "signature", "signatures")
    );
    let mut current: Option<u32> = None;
    for r in rows {
        if current != Some(r.version) {
            current = Some(r.version);
            let _ = writeln!(
                out,
                "\nVersion {}, content hash {}",
                r.version, r.content_hash
            );
        }
        match &r.method {
            SignatureMethod::Live => {
                let _ = writeln!(
                    out,
                    "  {} ({}) signed on {}, live\n    by {} ({}), key {}",
                    r.party_name, r.party, r.signed_on, r.signatory, r.role, r.key
                );
            }
            SignatureMethod::Paper { evidence } => {
                let _ = writeln!(
                    out,
                    "  {} ({}) signed on {}, on paper (evidence: {evidence})\n    \
                     recorded by a registrar, key {}",
                    r.party_name, r.party, r.signed_on, r.key
                );
            }
        }
        // For paper, `at` is when the registrar entered it, not when the paper was signed.
        let at_label = match r.method {
            SignatureMethod::Live => "signed at",
            SignatureMethod::Paper { .. } => "entered at",
        };
        let _ = writeln!(
            out,
            "    {at_label} {}, recorded at {} (log index {})",
            r.at, r.recorded_at, r.index
        );
    }
    out
}

/// A changed field's old or new value, readable: cadences and chairs in words, other
/// structures as compact JSON.
fn value(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("\"{s}\""),
        other => item(other),
    }
}

/// One element of a list, unquoted.
fn item(v: &Value) -> String {
    let text = |key: &str| v.get(key).and_then(Value::as_str);
    if let (Some(who), Some(times), Some(per)) = (
        text("who"),
        v.get("times").and_then(Value::as_u64),
        text("per"),
    ) {
        let about = if v.get("approximately") == Some(&Value::Bool(true)) {
            "about "
        } else {
            ""
        };
        return format!("{who}: {about}{times} per {}", per.replace('_', "-"));
    }
    match (text("kind"), text("role")) {
        (Some("role"), Some(role)) => {
            return match text("party") {
                Some(party) => format!("{role} ({party})"),
                None => role.to_owned(),
            };
        }
        (Some("rotating"), Some(role)) => {
            let turns: Vec<String> = v
                .get("turns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let parties: Vec<&str> = t
                        .get("parties")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    format!(
                        "{}: {}",
                        t.get("year").unwrap_or(&Value::Null),
                        parties.join(", ")
                    )
                })
                .collect();
            return format!("{role}, rotating by year ({})", turns.join("; "));
        }
        _ => {}
    }
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A whole-value change; lists show only the elements that came and went.
fn field_change(out: &mut String, indent: &str, c: &FieldChange) {
    match (&c.from, &c.to) {
        (Value::Array(old), Value::Array(new)) => {
            let _ = writeln!(out, "{indent}{}:", c.field);
            let removed = old.iter().filter(|i| !new.contains(i));
            let added = new.iter().filter(|i| !old.contains(i));
            let mut any = false;
            for (sign, element) in removed.map(|i| ('-', i)).chain(added.map(|i| ('+', i))) {
                any = true;
                let _ = writeln!(out, "{indent}  {sign} {}", item(element));
            }
            if !any {
                let _ = writeln!(out, "{indent}  (same elements, new order)");
            }
        }
        (from, to) => {
            let _ = writeln!(out, "{indent}{}: {} → {}", c.field, value(from), value(to));
        }
    }
}

/// Continuation lines of multi-line text kept under the first (blank lines stay blank).
fn indented(text: &str, indent: &str) -> String {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| {
            if i == 0 || line.is_empty() {
                line.to_owned()
            } else {
                format!("{indent}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `[-deleted-]` and `{+inserted+}`, as `git diff --word-diff` writes them.
fn word_diff(runs: &[TextChange]) -> String {
    runs.iter()
        .map(|r| match r.op {
            "delete" => format!("[-{}-]", r.text),
            "insert" => format!("{{+{}+}}", r.text),
            _ => r.text.clone(),
        })
        .collect()
}

fn representative(directory: &Directory, r: &Representative) -> String {
    let mut text = format!("{}: {}, {}", r.id, party(directory, &r.party), r.role);
    if let Some(name) = &r.name {
        let _ = write!(text, ", {name}");
    }
    if r.adjunct {
        text.push_str(" (adjunct, adjungerad)");
    }
    text
}

pub(crate) fn diff(id: &AgreementId, directory: &Directory, d: &VersionDiff) -> String {
    let mut out = format!("Version {} → version {} of {id}\n", d.from, d.to);
    if d.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    if let Some(title) = &d.title {
        let _ = writeln!(
            out,
            "\nTitle: {} → {}",
            value(&title.from),
            value(&title.to)
        );
    }
    if let Some(runs) = &d.preamble {
        let _ = writeln!(out, "\nPreamble:\n  {}", indented(&word_diff(runs), "  "));
    }
    for p in &d.parties_added {
        let _ = writeln!(out, "\nParty added: {}", party(directory, p));
    }
    for p in &d.parties_removed {
        let _ = writeln!(out, "\nParty removed: {}", party(directory, p));
    }
    if !d.sections.is_empty() {
        out.push_str("\nSections:\n");
    }
    for s in &d.sections {
        let _ = match s {
            SectionDiff::Added {
                section,
                heading,
                text,
            } => writeln!(
                out,
                "  + {section} \"{heading}\" (added)\n      {}",
                indented(text, "      ")
            ),
            SectionDiff::Removed { section, heading } => {
                writeln!(out, "  - {section} \"{heading}\" (removed)")
            }
            SectionDiff::Changed {
                section,
                heading,
                text,
            } => {
                let _ = writeln!(out, "  ~ {section} (changed)");
                if let Some(h) = heading {
                    field_change(&mut out, "      ", h);
                }
                match text {
                    Some(runs) => writeln!(out, "      {}", indented(&word_diff(runs), "      ")),
                    None => Ok(()),
                }
            }
        };
    }
    if !d.forums.is_empty() {
        out.push_str("\nForums:\n");
    }
    for f in &d.forums {
        match f {
            ForumDiff::Added {
                forum,
                name,
                representatives,
            } => {
                let _ = writeln!(out, "  + {forum} \"{name}\" (added)");
                for r in representatives {
                    let _ = writeln!(out, "      representative {}", representative(directory, r));
                }
            }
            ForumDiff::Removed { forum, name } => {
                let _ = writeln!(out, "  - {forum} \"{name}\" (removed)");
            }
            ForumDiff::Changed {
                forum,
                name,
                fields,
                representatives_added,
                representatives_removed,
                representatives_changed,
            } => {
                let _ = writeln!(out, "  ~ {forum} \"{name}\" (changed)");
                for c in fields {
                    field_change(&mut out, "      ", c);
                }
                for r in representatives_added {
                    let _ = writeln!(
                        out,
                        "      + representative {}",
                        representative(directory, r)
                    );
                }
                for r in representatives_removed {
                    let _ = writeln!(
                        out,
                        "      - representative {}",
                        representative(directory, r)
                    );
                }
                for c in representatives_changed {
                    let _ = writeln!(
                        out,
                        "      ~ representative {}: {} → {}",
                        c.field,
                        item(&c.from),
                        item(&c.to)
                    );
                }
            }
        }
    }
    out
}

pub(crate) fn timeline(id: &AgreementId, entries: &Timeline) -> String {
    let mut out = format!(
        "Timeline of {id}: {}\n",
        count_usize(entries.len(), "event", "events")
    );
    for e in entries {
        let _ = writeln!(
            out,
            "#{} recorded {} (signed at {})  {}  by {}\n    {}",
            e.stamp.index,
            e.stamp.recorded_at,
            e.stamp.at,
            e.event_type,
            actor(&e.by),
            e.summary
        );
    }
    out
}
