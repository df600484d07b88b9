//! Verifying a bundle from its records alone: every byte, signature, chain link, rule,
//! inclusion proof and claim, and optionally the log's growth since an older checkpoint.

use std::collections::HashSet;
use std::fmt;

use overens_core::domain::Rejection;
use overens_core::envelope::EnvelopeError;
use overens_core::record::LogRecord;
use overens_core::{AgreementId, PublicKey, Recorded, State, StreamId, Timestamp};
use overens_log::{
    Checkpoint, CheckpointError, ConsistencyProof, InclusionProof, KeyChain, KeyChainError,
    KeyTransition, NoteError, SignedNote, VerifierKey, leaf_hash,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::bundle::FORMAT;
use crate::claims::Claims;
use crate::report::{CheckpointSummary, ConsistencySummary, KeyRotation, KeySource, Report};

/// What the auditor trusts, from outside the bundle. `None` takes the bundle's own value:
/// then the bundle is only shown to be consistent with itself, and the report says so.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The registrar keys the log must have been written under (as a set).
    pub registrars: Option<Vec<PublicKey>>,
    /// The log's verifier key, which must have signed the checkpoint, or the key the
    /// bundle's key chain starts from (an earlier key of the log, pinned by the auditor).
    pub log_key: Option<VerifierKey>,
}

/// Which check failed. Every kind but [`Check::Input`] means the bundle does not verify
/// (exit status 1); `Input` means the verifier was given something it cannot use (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The auditor's own input is unusable: an old checkpoint that is not a signed note,
    /// or a bundle of a format version this verifier does not know.
    Input,
    /// The bundle is not a well-formed `overens-bundle/1` document.
    Format,
    /// The bundle names other registrar keys or another log key than the auditor trusts.
    Trust,
    /// The checkpoint is malformed or not signed by the log key.
    Checkpoint,
    /// The bundle's chain of log keys does not lead from the trusted key: a transition not
    /// signed by the key trusted before it, out of order, or malformed.
    KeyChain,
    /// The log did not only grow since the auditor's older checkpoint.
    Consistency,
    /// A record is malformed, not canonical, or of a stream the bundle does not cover.
    Record,
    /// Records out of log order, repeated, or recorded earlier than their predecessor.
    Order,
    /// An envelope's signature does not verify (or its key is weak).
    Signature,
    /// A stream's hash chain is broken: a `seq` or `prev` does not follow.
    Chain,
    /// A record breaks a domain rule when replayed.
    Rule,
    /// An inclusion proof is missing, misplaced or does not lead to the checkpoint's root.
    Proof,
    /// A claim of the server differs from what the records give.
    Claim,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Input => "input",
            Check::Format => "format",
            Check::Trust => "trust",
            Check::Checkpoint => "checkpoint",
            Check::KeyChain => "key_chain",
            Check::Consistency => "consistency",
            Check::Record => "record",
            Check::Order => "order",
            Check::Signature => "signature",
            Check::Chain => "chain",
            Check::Rule => "rule",
            Check::Proof => "proof",
            Check::Claim => "claim",
        }
    }

    /// The process exit status for a failure of this check: 2 for unusable input, else 1.
    pub fn exit_code(self) -> u8 {
        match self {
            Check::Input => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The first check that failed: which one, where (a field, `records[i] (index …)`,
/// `proofs[i]`, `claims.…`), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{check} check failed: {at}: {detail}")]
pub struct Failure {
    pub check: Check,
    pub at: String,
    pub detail: String,
}

impl Failure {
    fn new(check: Check, at: impl Into<String>, detail: impl fmt::Display) -> Self {
        Failure {
            check,
            at: at.into(),
            detail: detail.to_string(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.check.exit_code()
    }
}

/// The document as read: fields typed one by one afterwards, so each error names its field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<'a> {
    format: Value,
    registrars: Value,
    log_key: Value,
    agreement: Value,
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
    checkpoint: Value,
    proofs: Vec<Value>,
    claims: Value,
    #[serde(default)]
    key_chain: Option<Value>,
}

fn field<T: serde::de::DeserializeOwned>(name: &str, value: Value) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|e| Failure::new(Check::Format, name, e))
}

/// Verifies a bundle. `old_checkpoint`: a checkpoint the auditor kept from earlier (signed
/// note text) and a consistency proof from its size to the bundle's checkpoint's size.
///
/// The checks, in order (the first failure is returned):
/// 1. the document: `format`, every field present and well-typed, nothing else;
/// 2. trust: the bundle's registrar keys and log key are the ones given (if given); with a
///    key chain, each transition from the given key on is signed by the key before it
///    and the new one, and the bundle's log key is one the chain leads to;
/// 3. the checkpoint's signature under the log key (with a chain: the key for its size),
///    and its body;
/// 4. with an old checkpoint: its signature under the same key (or the chain's key for its
///    size), the same origin, and the consistency proof from its size to the bundle's (the
///    log only grew);
/// 5. one inclusion proof per record;
/// 6. record by record: canonical JSON, stream (`directory` or this agreement), index
///    strictly increasing and inside the checkpoint's tree, `recorded_at` not decreasing,
///    a new event id, the envelope (shape and signature), the chain (`seq`, `prev`) and the
///    domain rules (replayed into a [`State`]), then its inclusion proof against the
///    checkpoint's root;
/// 7. the agreement exists, and every claim equals what the replayed records give.
pub fn verify_bundle(
    bundle_text: &str,
    trust: &Trust,
    old_checkpoint: Option<(&str, ConsistencyProof)>,
) -> Result<Report, Failure> {
    // 1. The document.
    let document: Document<'_> = serde_json::from_str(bundle_text)
        .map_err(|e| Failure::new(Check::Format, "bundle", format!("not a bundle: {e}")))?;
    match &document.format {
        Value::String(f) if f == FORMAT => {}
        Value::String(f) if f.starts_with("overens-bundle/") => {
            return Err(Failure::new(
                Check::Input,
                "format",
                format!("bundle format `{f}` is not one this verifier knows ({FORMAT})"),
            ));
        }
        other => {
            return Err(Failure::new(
                Check::Format,
                "format",
                format!("`{other}` is not \"{FORMAT}\""),
            ));
        }
    }
    let registrars: Vec<PublicKey> = field("registrars", document.registrars)?;
    if registrars.is_empty() {
        return Err(Failure::new(
            Check::Format,
            "registrars",
            "the bundle names no registrar key",
        ));
    }
    let log_key_text: String = field("log_key", document.log_key)?;
    let bundle_log_key: VerifierKey = log_key_text.parse().map_err(|e| {
        Failure::new(
            Check::Format,
            "log_key",
            format!("`{log_key_text}` is not a verifier key: {e}"),
        )
    })?;
    let agreement: AgreementId = field("agreement", document.agreement)?;
    let checkpoint_text: String = field("checkpoint", document.checkpoint)?;
    let key_chain: Option<Vec<String>> = document
        .key_chain
        .map(|v| field("key_chain", v))
        .transpose()?;
    if key_chain.as_ref().is_some_and(Vec::is_empty) {
        return Err(Failure::new(
            Check::Format,
            "key_chain",
            "an empty key chain: a bundle without key rotations has no `key_chain`",
        ));
    }
    let proofs = document
        .proofs
        .into_iter()
        .enumerate()
        .map(|(i, p)| field::<InclusionProof>(&format!("proofs[{i}]"), p))
        .collect::<Result<Vec<_>, _>>()?;

    // 2. Trust.
    let mut warnings = Vec::new();
    let registrars_source = match &trust.registrars {
        Some(given) => {
            let mut a = given.clone();
            let mut b = registrars.clone();
            a.sort();
            a.dedup();
            b.sort();
            b.dedup();
            if a != b {
                return Err(Failure::new(
                    Check::Trust,
                    "registrars",
                    format!(
                        "the bundle names the registrar keys [{}], you trust [{}]",
                        list(&b),
                        list(&a)
                    ),
                ));
            }
            KeySource::Given
        }
        None => {
            warnings.push(
                "the registrar keys were taken from the bundle itself: whoever made the bundle \
                 chose them. Pass --registrar with the keys you trust."
                    .to_owned(),
            );
            KeySource::Bundle
        }
    };
    let (chain, log_key_source) = match &trust.log_key {
        Some(given) => match &key_chain {
            None if *given != bundle_log_key => {
                return Err(Failure::new(
                    Check::Trust,
                    "log_key",
                    format!(
                        "the bundle names the log key {bundle_log_key}, you trust {given} (and \
                         the bundle has no key chain leading from your key to it)"
                    ),
                ));
            }
            None => (KeyChain::new(given.clone()), KeySource::Given),
            Some(notes) => (follow(given, notes)?, KeySource::Given),
        },
        None => {
            warnings.push(
                "the log key was taken from the bundle itself: this proves only that the \
                 bundle is consistent with itself, not that its records are the log's. Pass \
                 --log-key with the key you got from the log's operator or its witnesses."
                    .to_owned(),
            );
            let chain = match &key_chain {
                None => KeyChain::new(bundle_log_key.clone()),
                Some(notes) => {
                    let first = KeyTransition::open(&notes[0]).map_err(|error| {
                        let e = KeyChainError::Transition { position: 1, error };
                        Failure::new(Check::KeyChain, "key_chain", e)
                    })?;
                    follow(first.old_key(), notes)?
                }
            };
            (chain, KeySource::Bundle)
        }
    };
    if !chain.keys().iter().any(|k| k.key == bundle_log_key) {
        return Err(Failure::new(
            Check::Trust,
            "log_key",
            format!(
                "the bundle names the log key {bundle_log_key}, which the key chain from {} \
                 does not lead to",
                chain.pinned()
            ),
        ));
    }

    // 3. The checkpoint.
    let (checkpoint, log_key) = open_checkpoint(&chain, &checkpoint_text)
        .map_err(|(e, _)| Failure::new(Check::Checkpoint, "checkpoint", e))?;
    let log_key = log_key.clone();
    if log_key != bundle_log_key {
        return Err(Failure::new(
            Check::Checkpoint,
            "log_key",
            format!(
                "the checkpoint of size {} is signed by {log_key}, but the bundle names \
                 {bundle_log_key}",
                checkpoint.size
            ),
        ));
    }

    // 4. The log only grew since the auditor's checkpoint.
    let consistency = match old_checkpoint {
        Some((old_text, proof)) => Some(check_consistency(old_text, &proof, &chain, &checkpoint)?),
        None => None,
    };

    // 5. One proof per record.
    if proofs.len() != document.records.len() {
        return Err(Failure::new(
            Check::Proof,
            "proofs",
            format!(
                "{} inclusion proofs for {} records: each record needs exactly one, in the \
                 same order",
                proofs.len(),
                document.records.len()
            ),
        ));
    }

    // 6. Record by record.
    let own_stream = StreamId::Agreement(agreement.clone());
    let mut state = State::new(registrars.iter().copied());
    let mut ids = HashSet::new();
    let mut previous: Option<(u64, Timestamp)> = None;
    let (mut directory_records, mut agreement_records) = (0u64, 0u64);
    for (position, (raw, proof)) in document.records.iter().zip(&proofs).enumerate() {
        let text = raw.get();
        let here = format!("records[{position}]");
        let record: LogRecord = serde_json::from_str(text)
            .map_err(|e| Failure::new(Check::Record, &here, format!("not a log record: {e}")))?;
        let envelope = &record.event;
        let here = format!(
            "records[{position}] (index {}, {} seq {})",
            record.index, envelope.stream, envelope.seq
        );
        if record.canonical_bytes() != text.as_bytes() {
            return Err(Failure::new(
                Check::Record,
                here,
                "not in canonical form (RFC 8785): its bytes are not the ones that were \
                 hashed into the log",
            ));
        }
        if envelope.stream != StreamId::Directory && envelope.stream != own_stream {
            return Err(Failure::new(
                Check::Record,
                here,
                format!(
                    "a bundle of agreement `{agreement}` holds only the directory's and \
                     agreement/{agreement}'s records, not {}'s",
                    envelope.stream
                ),
            ));
        }
        if let Some((index, recorded_at)) = previous {
            if record.index <= index {
                return Err(Failure::new(
                    Check::Order,
                    here,
                    format!(
                        "index {} does not follow the previous record's index {index}: \
                         records must be in log order, each once",
                        record.index
                    ),
                ));
            }
            if record.recorded_at < recorded_at {
                return Err(Failure::new(
                    Check::Order,
                    here,
                    format!(
                        "recorded_at {} is earlier than the previous record's {recorded_at}",
                        record.recorded_at
                    ),
                ));
            }
        }
        previous = Some((record.index, record.recorded_at));
        if record.index >= checkpoint.size {
            return Err(Failure::new(
                Check::Proof,
                here,
                format!(
                    "index {} is not in the checkpoint's tree of {} leaves",
                    record.index, checkpoint.size
                ),
            ));
        }
        if !ids.insert(envelope.id) {
            return Err(Failure::new(
                Check::Order,
                here,
                format!("event id {} appears twice", envelope.id),
            ));
        }
        let verified = envelope.clone().verify().map_err(|e| {
            let check = match e {
                EnvelopeError::BadSignature | EnvelopeError::WeakKey => Check::Signature,
                _ => Check::Record,
            };
            Failure::new(check, &here, e)
        })?;
        state
            .apply_logged(Recorded {
                index: record.index,
                recorded_at: record.recorded_at,
                event: &verified,
            })
            .map_err(|rejection| {
                let check = match rejection {
                    Rejection::WrongSeq { .. } | Rejection::WrongPrev { .. } => Check::Chain,
                    _ => Check::Rule,
                };
                Failure::new(check, &here, rejection)
            })?;
        check_inclusion(position, &record, text, proof, &checkpoint)?;
        if envelope.stream == StreamId::Directory {
            directory_records += 1;
        } else {
            agreement_records += 1;
        }
    }

    // 7. The agreement, and the claims.
    let folded = state.agreement(&agreement).ok_or_else(|| {
        Failure::new(
            Check::Record,
            "records",
            format!("the bundle holds no record of agreement/{agreement}"),
        )
    })?;
    let recomputed = Claims::of(&state, folded);
    let expected =
        serde_json::to_value(&recomputed).map_err(|e| Failure::new(Check::Claim, "claims", e))?;
    if let Some((path, difference)) = first_difference("claims", &document.claims, &expected) {
        return Err(Failure::new(Check::Claim, path, difference));
    }

    let key_rotations = chain
        .keys()
        .windows(2)
        .map(|pair| KeyRotation {
            from_size: pair[1].first_size,
            old_key: pair[0].key.to_string(),
            new_key: pair[1].key.to_string(),
        })
        .collect();
    Ok(Report {
        agreement,
        log_key: log_key.to_string(),
        key_rotations,
        log_key_source,
        registrars,
        registrars_source,
        checkpoint: CheckpointSummary {
            origin: checkpoint.origin,
            size: checkpoint.size,
            root: checkpoint.root,
        },
        consistency,
        directory_records,
        agreement_records,
        claims: recomputed,
        warnings,
    })
}

fn list(keys: &[PublicKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn checkpoint_error(e: &CheckpointError) -> String {
    match e {
        CheckpointError::Note(NoteError::UnknownKey { .. }) => {
            format!("not signed by the log key ({e})")
        }
        CheckpointError::Note(NoteError::BadSignature { .. }) => {
            format!("the log key's signature does not verify: the note was altered ({e})")
        }
        _ => e.to_string(),
    }
}

fn check_inclusion(
    position: usize,
    record: &LogRecord,
    text: &str,
    proof: &InclusionProof,
    checkpoint: &Checkpoint,
) -> Result<(), Failure> {
    let at = format!("proofs[{position}] (of index {})", record.index);
    if proof.index != record.index {
        return Err(Failure::new(
            Check::Proof,
            at,
            format!(
                "the proof is for index {}, its record has index {}",
                proof.index, record.index
            ),
        ));
    }
    if proof.size != checkpoint.size {
        return Err(Failure::new(
            Check::Proof,
            at,
            format!(
                "the proof is for a tree of {} leaves, the checkpoint's has {}",
                proof.size, checkpoint.size
            ),
        ));
    }
    proof
        .verify(&leaf_hash(text.as_bytes()), &checkpoint.root)
        .map_err(|e| {
            Failure::new(
                Check::Proof,
                at,
                format!(
                    "the record is not leaf {} of the checkpoint's tree: {e}",
                    record.index
                ),
            )
        })
}

/// Follows the bundle's key chain from `pinned`.
fn follow(pinned: &VerifierKey, notes: &[String]) -> Result<KeyChain, Failure> {
    KeyChain::follow(pinned, notes).map_err(|e| {
        Failure::new(
            Check::KeyChain,
            "key_chain",
            format!("the bundle's key chain does not lead from {pinned}: {e}"),
        )
    })
}

/// A signed checkpoint under the chain. A chain of one key says what it always said; the
/// error's flag tells a note error (the signature) from a body error.
fn open_checkpoint<'c>(
    chain: &'c KeyChain,
    text: &str,
) -> Result<(Checkpoint, &'c VerifierKey), (String, bool)> {
    if chain.keys().len() == 1 {
        return Checkpoint::parse_and_verify_with(text, chain.pinned())
            .map(|checkpoint| (checkpoint, chain.pinned()))
            .map_err(|e| (checkpoint_error(&e), matches!(e, CheckpointError::Note(_))));
    }
    match chain.verify_checkpoint(text) {
        Ok(opened) => Ok(opened),
        Err(KeyChainError::Checkpoint(e)) => {
            Err((checkpoint_error(&e), matches!(e, CheckpointError::Note(_))))
        }
        Err(e) => Err((e.to_string(), true)),
    }
}

fn check_consistency(
    old_text: &str,
    proof: &ConsistencyProof,
    chain: &KeyChain,
    new: &Checkpoint,
) -> Result<ConsistencySummary, Failure> {
    let at = "old checkpoint";
    SignedNote::parse(old_text).map_err(|e| {
        Failure::new(
            Check::Input,
            at,
            format!("not a signed checkpoint note: {e}"),
        )
    })?;
    let (old, _) = open_checkpoint(chain, old_text).map_err(|(e, signature)| {
        if !signature {
            Failure::new(Check::Input, at, e)
        } else if chain.keys().len() == 1 {
            Failure::new(
                Check::Consistency,
                at,
                format!(
                    "your checkpoint does not verify under the log key {} that signed the \
                     bundle's: {e}",
                    chain.pinned()
                ),
            )
        } else {
            Failure::new(
                Check::Consistency,
                at,
                format!("your checkpoint does not verify under the log's key chain: {e}"),
            )
        }
    })?;
    if old.origin != new.origin {
        return Err(Failure::new(
            Check::Consistency,
            at,
            format!(
                "your checkpoint is of log `{}`, the bundle's of log `{}`",
                old.origin, new.origin
            ),
        ));
    }
    if old.size > new.size {
        return Err(Failure::new(
            Check::Consistency,
            at,
            format!(
                "the log shrank: your checkpoint is of size {}, the bundle's of size {}. The \
                 log was truncated or rewritten (both checkpoints are signed by the log key)",
                old.size, new.size
            ),
        ));
    }
    if proof.old_size != old.size || proof.new_size != new.size {
        return Err(Failure::new(
            Check::Consistency,
            "consistency proof",
            format!(
                "the proof is from size {} to {}, the checkpoints are of sizes {} and {}",
                proof.old_size, proof.new_size, old.size, new.size
            ),
        ));
    }
    proof.verify(&old.root, &new.root).map_err(|e| {
        Failure::new(
            Check::Consistency,
            "consistency proof",
            format!(
                "the tree of size {} (root {}) is not a prefix of the bundle's tree of size {} \
                 (root {}): the log was rewritten or forked ({e})",
                old.size, old.root, new.size, new.root
            ),
        )
    })?;
    Ok(ConsistencySummary {
        old_size: old.size,
        old_root: old.root,
    })
}

/// The first place (as a path like `claims.versions[1].status`) where `got` differs from
/// `expected`, and how.
pub(crate) fn first_difference(
    path: &str,
    got: &Value,
    expected: &Value,
) -> Option<(String, String)> {
    match (got, expected) {
        (Value::Object(g), Value::Object(e)) => {
            for (key, e_value) in e {
                let here = format!("{path}.{key}");
                match g.get(key) {
                    None => {
                        return Some((
                            here,
                            format!("missing; the records give {}", short(e_value)),
                        ));
                    }
                    Some(g_value) => {
                        if let Some(found) = first_difference(&here, g_value, e_value) {
                            return Some(found);
                        }
                    }
                }
            }
            g.keys().find(|k| !e.contains_key(*k)).map(|k| {
                (
                    format!("{path}.{k}"),
                    "not a claim of this bundle format".to_owned(),
                )
            })
        }
        (Value::Array(g), Value::Array(e)) => {
            for (i, (g_value, e_value)) in g.iter().zip(e).enumerate() {
                if let Some(found) = first_difference(&format!("{path}[{i}]"), g_value, e_value) {
                    return Some(found);
                }
            }
            (g.len() != e.len()).then(|| {
                (
                    path.to_owned(),
                    format!(
                        "the bundle claims {} entries, the records give {}",
                        g.len(),
                        e.len()
                    ),
                )
            })
        }
        _ if got == expected => None,
        _ => Some((
            path.to_owned(),
            format!(
                "the bundle claims {}, the records give {}",
                short(got),
                short(expected)
            ),
        )),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(117).collect();
        format!("{cut}…")
    } else {
        text
    }
}
