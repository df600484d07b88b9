//! What a verified bundle shows: the checks that held, and who agreed to what and when.

use std::fmt::Write as _;

use overens_core::{AgreementId, Digest32, PublicKey};
use serde::Serialize;

use crate::claims::{Claims, status_name};

/// Where a trust anchor came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// Given by the auditor (on the command line): the bundle is checked against it.
    Given,
    /// Taken from the bundle itself: proves only the bundle's internal consistency.
    Bundle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    pub origin: String,
    pub size: u64,
    pub root: Digest32,
}

/// One rotation of the log's key that verification followed (from the key trusted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRotation {
    /// The tree size from which the new key signs.
    pub from_size: u64,
    pub old_key: String,
    pub new_key: String,
}

/// The auditor's older checkpoint, of which the bundle's is an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencySummary {
    pub old_size: u64,
    pub old_root: Digest32,
}

/// A bundle that verified: what was checked against what, and the recomputed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub agreement: AgreementId,
    /// The key that signed the checkpoint.
    pub log_key: String,
    /// The key rotations followed from the trusted key to `log_key`, in order (empty: the
    /// trusted key signed it).
    pub key_rotations: Vec<KeyRotation>,
    pub log_key_source: KeySource,
    pub registrars: Vec<PublicKey>,
    pub registrars_source: KeySource,
    pub checkpoint: CheckpointSummary,
    pub consistency: Option<ConsistencySummary>,
    pub directory_records: u64,
    pub agreement_records: u64,
    /// Recomputed from the records (and equal to the bundle's claims).
    pub claims: Claims,
    /// What the verification does not prove, given how it was asked.
    pub warnings: Vec<String>,
}

fn source(s: KeySource) -> &'static str {
    match s {
        KeySource::Given => "given by you",
        KeySource::Bundle => "TAKEN FROM THE BUNDLE ITSELF",
    }
}

fn short(hash: &Digest32) -> String {
    hash.to_hex()[..16].to_owned()
}

impl Report {
    /// The report for people.
    pub fn to_text(&self) -> String {
        let c = &self.claims;
        let mut out = String::new();
        let records = self.directory_records + self.agreement_records;
        let _ = writeln!(
            out,
            "bundle verified: agreement {} \"{}\", {}",
            self.agreement,
            c.title,
            status_name(&c.status)
        );
        let _ = writeln!(
            out,
            "  log key     {} ({})",
            self.log_key,
            source(self.log_key_source)
        );
        if let Some(first) = self.key_rotations.first() {
            let _ = writeln!(
                out,
                "  key chain   from {}, {} rotation{} followed, each signed by the key before \
                 it:",
                first.old_key,
                self.key_rotations.len(),
                if self.key_rotations.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            for r in &self.key_rotations {
                let _ = writeln!(
                    out,
                    "              from size {}: {}",
                    r.from_size, r.new_key
                );
            }
        }
        let _ = writeln!(
            out,
            "  registrars  {} key{} ({})",
            self.registrars.len(),
            if self.registrars.len() == 1 { "" } else { "s" },
            source(self.registrars_source)
        );
        let _ = writeln!(
            out,
            "  checkpoint  {}, size {}, root {}: signed by the log key",
            self.checkpoint.origin, self.checkpoint.size, self.checkpoint.root
        );
        if let Some(old) = &self.consistency {
            let _ = writeln!(
                out,
                "  consistency the log only grew since your checkpoint of size {} (root {})",
                old.old_size, old.old_root
            );
        }
        let _ = writeln!(
            out,
            "  records     {records} ({} directory, {} agreement): canonical, signed, chained \
             from seq 0, every rule holds, each included in the checkpoint's tree",
            self.directory_records, self.agreement_records
        );
        let _ = writeln!(
            out,
            "  claims      the server's versions, signatures and in-force periods equal the \
             recomputation"
        );

        let _ = writeln!(out, "\nversions:");
        if c.versions.is_empty() {
            let _ = writeln!(out, "  none proposed");
        }
        for v in &c.versions {
            let period = match (v.in_force_from, v.in_force_until) {
                (Some(from), Some(until)) => format!("{from} until {until} (exclusive)"),
                (Some(from), None) => format!("from {from}"),
                _ => "never in force".to_owned(),
            };
            let _ = writeln!(
                out,
                "  {}  {} {}; {} of {} parties signed; content {}…; \"{}\"",
                v.version,
                status_name(&v.status),
                period,
                v.signed.len(),
                v.signed.len() + v.not_signed.len(),
                short(&v.content_hash),
                v.note
            );
        }

        let _ = writeln!(out, "\nwho agreed to what, and when:");
        if c.signatures.is_empty() {
            let _ = writeln!(out, "  no signatures");
        }
        for s in &c.signatures {
            let how = match &s.evidence {
                Some(evidence) => format!(
                    "on paper ({evidence}), recorded by {} ({})",
                    s.signatory, s.role
                ),
                None => format!("live, by {} ({}), key {}", s.signatory, s.role, s.key),
            };
            let _ = writeln!(
                out,
                "  {}  {} signed version {} (content {}…) {}; recorded {} at index {}",
                s.signed_on,
                s.party_name,
                s.version,
                short(&s.content_hash),
                how,
                s.recorded_at,
                s.index
            );
        }

        let _ = writeln!(out, "\nin force:");
        if c.in_force.is_empty() {
            let _ = writeln!(out, "  no version has entered into force");
        }
        for p in &c.in_force {
            let until = p.until.map_or_else(
                || "until further notice".to_owned(),
                |u| format!("until {u}"),
            );
            let _ = writeln!(
                out,
                "  version {} from {} {} (known to the log since {}, index {})",
                p.version, p.from, until, p.known_since, p.index
            );
        }

        if !self.warnings.is_empty() {
            let _ = writeln!(out);
            for w in &self.warnings {
                let _ = writeln!(out, "warning: {w}");
            }
        }
        out
    }
}
