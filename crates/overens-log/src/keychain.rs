//! Rotating the log's key: key-transition notes, and the chain of keys a verifier follows.
//!
//! A transition is a C2SP signed note whose text is exactly
//!
//! ```text
//! overens/log-key/v1
//! <origin>
//! old <old verifier key>
//! new <new verifier key>
//! from-size <N>
//! ```
//!
//! signed by the old key (it authorises its successor) and by the new key (proof that
//! whoever rotated holds it). `N` is the tree size at the rotation: the old key signed the
//! checkpoints up to size `N`, the new key signs those of size `N` and larger. Size `N`
//! itself is accepted from both: the old key's last checkpoint and the new key's first are
//! of that size, and both keys were the log's when it had `N` leaves.
//!
//! A [`KeyChain`] starts from a key the verifier pinned and follows transitions in order.

use std::fmt;

use overens_core::SecretKey;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{NoteError, SignedNote, VerifierKey, VerifierKeyError};

/// The first line of every key-transition note.
pub const TRANSITION_HEADER: &str = "overens/log-key/v1";

/// Why a key-transition note is not one, or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("malformed key transition: {0}")]
    Malformed(String),
    #[error("line {line} of the key transition is {found:?}, not a `{expected}` line")]
    UnexpectedLine {
        line: usize,
        expected: &'static str,
        found: String,
    },
    #[error("the key transition has more than five lines: {0:?} is not one of its lines")]
    ExtraLine(String),
    #[error("`{text}` is not a verifier key: {error}")]
    Key {
        text: String,
        error: VerifierKeyError,
    },
    #[error("key {key} is not named after the log `{origin}`: a log's keys all carry its name")]
    KeyName { origin: String, key: String },
    #[error("from-size {0:?} is not a decimal number without leading zeros that fits 64 bits")]
    SizeNotANumber(String),
    #[error("the old and the new key are the same key")]
    SameKey,
    #[error("not signed by the old key {key}, which must authorise its successor: {error}")]
    OldSignature { key: String, error: NoteError },
    #[error("not signed by the new key {key}, which must prove it is held: {error}")]
    NewSignature { key: String, error: NoteError },
}

/// Why a chain of transitions cannot be followed, or a checkpoint is not the chain's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyChainError {
    #[error("key transition {position}: {error}")]
    Transition {
        /// 1-based, in the order given.
        position: usize,
        error: TransitionError,
    },
    #[error(
        "key transition {position} is from key {old}, but the log's key then is {trusted}: \
         a transition must be signed by the key trusted before it (transitions out of order, \
         one missing, or one forged)"
    )]
    NotFromTrustedKey {
        position: usize,
        old: String,
        trusted: String,
    },
    #[error(
        "key transition {position} is of log `{found}`, the chain's log is `{origin}`: a key \
         rotation never renames a log"
    )]
    OriginMismatch {
        position: usize,
        origin: String,
        found: String,
    },
    #[error(
        "key transition {position} goes back to size {from_size} after a transition at size \
         {previous}: from-sizes never decrease"
    )]
    SizeWentBack {
        position: usize,
        from_size: u64,
        previous: u64,
    },
    #[error(
        "key transition {position} introduces key {key}, which the chain already used: a \
         retired key never comes back"
    )]
    KeyReused { position: usize, key: String },
    #[error(
        "your pinned key {pinned} is not in the chain of log keys ({keys}): the chain is not \
         this log's, or your key is not"
    )]
    PinnedKeyNotInChain { pinned: String, keys: String },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the checkpoint of size {size} is signed by key {key}, which the chain accepts only for \
         sizes {range}: {why}"
    )]
    KeyOutOfRange {
        size: u64,
        key: String,
        range: String,
        why: &'static str,
    },
    #[error(
        "the checkpoint of size {size} is not signed by the log's key for that size ({expected}) \
         nor by any other key of the chain: {error}"
    )]
    NotSignedByChain {
        size: u64,
        expected: String,
        error: NoteError,
    },
}

/// A verified (or freshly signed) key transition, with its note text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTransition {
    old: VerifierKey,
    new: VerifierKey,
    from_size: u64,
    note: String,
}

impl KeyTransition {
    /// The transition's note text (before the signatures).
    pub fn body(origin: &str, old: &VerifierKey, new: &VerifierKey, from_size: u64) -> String {
        format!("{TRANSITION_HEADER}\n{origin}\nold {old}\nnew {new}\nfrom-size {from_size}\n")
    }

    /// Signs the transition of log `origin` from `old` to `new` at tree size `from_size`,
    /// with both keys.
    pub fn sign(
        origin: &str,
        old: &SecretKey,
        new: &SecretKey,
        from_size: u64,
    ) -> Result<Self, TransitionError> {
        let key = |secret: &SecretKey| {
            VerifierKey::new(origin, secret.public()).map_err(|error| TransitionError::Key {
                text: origin.to_owned(),
                error,
            })
        };
        let (old_key, new_key) = (key(old)?, key(new)?);
        if old_key == new_key {
            return Err(TransitionError::SameKey);
        }
        let body = Self::body(origin, &old_key, &new_key, from_size);
        let mut note = SignedNote::sign(&body, old, origin)?;
        note.signatures
            .extend(SignedNote::sign(&body, new, origin)?.signatures);
        let note = note.to_string();
        // What we sign, we can open: the writer and the reader share one grammar.
        Self::open(&note)
    }

    /// Parses a transition note strictly (one form, nothing else) and checks both
    /// signatures: the old key's and the new key's, each by the key the text names.
    /// Whether the old key is one the reader trusts is the [`KeyChain`]'s question.
    pub fn open(note: &str) -> Result<Self, TransitionError> {
        let parsed = SignedNote::parse(note)?;
        let (old, new, from_size) = parse_body(&parsed.text)?;
        parsed
            .verify(&old)
            .map_err(|error| TransitionError::OldSignature {
                key: old.to_string(),
                error,
            })?;
        parsed
            .verify(&new)
            .map_err(|error| TransitionError::NewSignature {
                key: new.to_string(),
                error,
            })?;
        Ok(KeyTransition {
            old,
            new,
            from_size,
            note: note.to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        self.old.name()
    }

    pub fn old_key(&self) -> &VerifierKey {
        &self.old
    }

    pub fn new_key(&self) -> &VerifierKey {
        &self.new
    }

    /// The tree size at the rotation: the new key signs checkpoints of this size and larger.
    pub fn from_size(&self) -> u64 {
        self.from_size
    }

    /// The signed note, as written and read.
    pub fn note(&self) -> &str {
        &self.note
    }
}

fn parse_body(text: &str) -> Result<(VerifierKey, VerifierKey, u64), TransitionError> {
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| TransitionError::Malformed("does not end in a newline".into()))?;
    let mut lines = body.split('\n');
    let mut next = |line: usize, expected: &'static str| {
        lines.next().ok_or_else(|| {
            TransitionError::Malformed(format!("line {line} (`{expected}`) is missing"))
        })
    };
    let header = next(1, TRANSITION_HEADER)?;
    if header != TRANSITION_HEADER {
        return Err(TransitionError::UnexpectedLine {
            line: 1,
            expected: TRANSITION_HEADER,
            found: header.to_owned(),
        });
    }
    let origin = next(2, "<origin>")?.to_owned();
    let key_line = |line: usize, prefix: &'static str, text: &str| {
        let key = text
            .strip_prefix(prefix)
            .ok_or_else(|| TransitionError::UnexpectedLine {
                line,
                expected: prefix.trim_end(),
                found: text.to_owned(),
            })?;
        let parsed: VerifierKey = key.parse().map_err(|error| TransitionError::Key {
            text: key.to_owned(),
            error,
        })?;
        // One spelling: the key's text is what it writes back.
        if parsed.to_string() != key {
            return Err(TransitionError::Key {
                text: key.to_owned(),
                error: VerifierKeyError::Format,
            });
        }
        if parsed.name() != origin {
            return Err(TransitionError::KeyName {
                origin: origin.clone(),
                key: key.to_owned(),
            });
        }
        Ok(parsed)
    };
    let old = key_line(3, "old ", next(3, "old")?)?;
    let new = key_line(4, "new ", next(4, "new")?)?;
    let size_line = next(5, "from-size")?;
    let size =
        size_line
            .strip_prefix("from-size ")
            .ok_or_else(|| TransitionError::UnexpectedLine {
                line: 5,
                expected: "from-size",
                found: size_line.to_owned(),
            })?;
    let size_ok = !size.is_empty()
        && size.bytes().all(|b| b.is_ascii_digit())
        && (size == "0" || !size.starts_with('0'));
    let from_size = size_ok
        .then(|| size.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| TransitionError::SizeNotANumber(size.to_owned()))?;
    if let Some(extra) = lines.next() {
        return Err(TransitionError::ExtraLine(extra.to_owned()));
    }
    if old.key() == new.key() {
        return Err(TransitionError::SameKey);
    }
    Ok((old, new, from_size))
}

/// One key of a chain and the checkpoint sizes it is accepted for (both ends included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainKey {
    pub key: VerifierKey,
    pub first_size: u64,
    /// `None`: the current key, with no end.
    pub last_size: Option<u64>,
}

impl ChainKey {
    fn accepts(&self, size: u64) -> bool {
        size >= self.first_size && self.last_size.is_none_or(|last| size <= last)
    }

    fn range(&self) -> String {
        match self.last_size {
            Some(last) => format!("{}..={last}", self.first_size),
            None => format!("{} and up", self.first_size),
        }
    }
}

/// The log's keys as a verifier knows them: the key it pinned, then every key a verified
/// transition introduced after it. Answers which key signs the checkpoint of a size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChain {
    /// Every transition given, in order (those before the pinned key too: they are part of
    /// the log's record and are passed on, but trusted only as far as the pinned key
    /// vouches for what follows it).
    transitions: Vec<KeyTransition>,
    /// The trusted keys, the pinned one first.
    keys: Vec<ChainKey>,
}

impl KeyChain {
    /// A chain of one key: the pinned key, accepted for every size.
    pub fn new(pinned: VerifierKey) -> Self {
        KeyChain {
            transitions: Vec::new(),
            keys: vec![ChainKey {
                key: pinned,
                first_size: 0,
                last_size: None,
            }],
        }
    }

    /// Follows `notes` from the `pinned` key. The notes must form one chain (each from the
    /// key the previous one introduced, both signatures valid, from-sizes not decreasing,
    /// no key twice, one origin), and the pinned key must be one of its keys; keys before
    /// the pinned one are not trusted. Without notes, the chain is the pinned key alone.
    pub fn follow<S: AsRef<str>>(pinned: &VerifierKey, notes: &[S]) -> Result<Self, KeyChainError> {
        let mut transitions = Vec::with_capacity(notes.len());
        for (i, note) in notes.iter().enumerate() {
            let position = i + 1;
            let t = KeyTransition::open(note.as_ref())
                .map_err(|error| KeyChainError::Transition { position, error })?;
            if let Some(previous) = transitions.last() {
                check_link(previous, &transitions, &t, position)?;
            }
            transitions.push(t);
        }
        let Some(first) = transitions.first() else {
            return Ok(KeyChain::new(pinned.clone()));
        };
        let all: Vec<&VerifierKey> = std::iter::once(&first.old)
            .chain(transitions.iter().map(|t| &t.new))
            .collect();
        let Some(start) = all.iter().position(|k| *k == pinned) else {
            return Err(KeyChainError::PinnedKeyNotInChain {
                pinned: pinned.to_string(),
                keys: all
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let mut chain = KeyChain::new(pinned.clone());
        for t in &transitions[start..] {
            chain.trust_next(t);
        }
        chain.transitions = transitions;
        Ok(chain)
    }

    /// Appends one transition from the current key (what a rotation does): checked as
    /// [`KeyChain::follow`] checks every link.
    pub fn push(&mut self, note: &str) -> Result<&KeyTransition, KeyChainError> {
        let position = self.transitions.len() + 1;
        let t = KeyTransition::open(note)
            .map_err(|error| KeyChainError::Transition { position, error })?;
        if t.old != *self.current() {
            return Err(KeyChainError::NotFromTrustedKey {
                position,
                old: t.old.to_string(),
                trusted: self.current().to_string(),
            });
        }
        if let Some(previous) = self.transitions.last() {
            check_link(previous, &self.transitions, &t, position)?;
        }
        self.check_trusted_link(&t, position)?;
        self.trust_next(&t);
        let index = self.transitions.len();
        self.transitions.push(t);
        Ok(&self.transitions[index])
    }

    /// Size and reuse checks against the trusted keys (a pinned chain without transitions
    /// has no previous note to compare with).
    fn check_trusted_link(&self, t: &KeyTransition, position: usize) -> Result<(), KeyChainError> {
        let current = self.keys.last().map(|k| k.first_size).unwrap_or(0);
        if t.from_size < current {
            return Err(KeyChainError::SizeWentBack {
                position,
                from_size: t.from_size,
                previous: current,
            });
        }
        if t.new.name() != self.pinned().name() {
            return Err(KeyChainError::OriginMismatch {
                position,
                origin: self.pinned().name().to_owned(),
                found: t.new.name().to_owned(),
            });
        }
        if self.keys.iter().any(|k| k.key.key() == t.new.key()) {
            return Err(KeyChainError::KeyReused {
                position,
                key: t.new.to_string(),
            });
        }
        Ok(())
    }

    fn trust_next(&mut self, t: &KeyTransition) {
        if let Some(last) = self.keys.last_mut() {
            last.last_size = Some(t.from_size);
        }
        self.keys.push(ChainKey {
            key: t.new.clone(),
            first_size: t.from_size,
            last_size: None,
        });
    }

    /// The key the verifier pinned (where trust starts).
    pub fn pinned(&self) -> &VerifierKey {
        &self.keys[0].key
    }

    /// The log's key now: the last one introduced.
    pub fn current(&self) -> &VerifierKey {
        &self.keys[self.keys.len() - 1].key
    }

    /// The trusted keys, pinned first, each with the sizes it is accepted for.
    pub fn keys(&self) -> &[ChainKey] {
        &self.keys
    }

    /// Every transition given, in order.
    pub fn transitions(&self) -> &[KeyTransition] {
        &self.transitions
    }

    /// The transition notes, in order: what a bundle carries and `/v1/log/keys` serves.
    pub fn notes(&self) -> Vec<String> {
        self.transitions.iter().map(|t| t.note.clone()).collect()
    }

    /// The key that must sign the checkpoint of `size` (at a rotation's own size, where the
    /// old key's last checkpoint is also accepted, the new key).
    pub fn key_for(&self, size: u64) -> &VerifierKey {
        &self
            .keys
            .iter()
            .rev()
            .find(|k| k.accepts(size))
            .unwrap_or(&self.keys[0])
            .key
    }

    /// Parses a signed checkpoint and verifies it under the key the chain accepts for its
    /// size. A checkpoint signed only by a chain key outside its range (a retired key after
    /// its rotation, a new key before it) is refused, saying so.
    pub fn verify_checkpoint(
        &self,
        text: &str,
    ) -> Result<(Checkpoint, &VerifierKey), KeyChainError> {
        let note = SignedNote::parse(text).map_err(CheckpointError::from)?;
        // The size, read before any signature is checked, only chooses the key; the body is
        // read again from the verified text.
        let size = Checkpoint::from_note_body(&note.text)?.size;
        let mut first_error = None;
        for candidate in self.keys.iter().rev().filter(|k| k.accepts(size)) {
            match note.verify(&candidate.key) {
                Ok(body) => return Ok((Checkpoint::from_note_body(body)?, &candidate.key)),
                Err(e @ NoteError::UnknownKey { .. }) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(CheckpointError::from(e).into()),
            }
        }
        if let Some(other) = self
            .keys
            .iter()
            .find(|k| !k.accepts(size) && note.verify(&k.key).is_ok())
        {
            return Err(KeyChainError::KeyOutOfRange {
                size,
                key: other.key.to_string(),
                range: other.range(),
                why: if other.last_size.is_some_and(|last| size > last) {
                    "a retired key signs nothing after its rotation"
                } else {
                    "a key signs nothing from before its introduction"
                },
            });
        }
        let expected = self.key_for(size);
        Err(KeyChainError::NotSignedByChain {
            size,
            expected: expected.to_string(),
            error: first_error.unwrap_or(NoteError::UnknownKey {
                name: expected.name().to_owned(),
                key_id: expected.key_id(),
            }),
        })
    }
}

/// `t` follows `previous` (and every transition before it): from its new key, same log,
/// size not going back, a key never seen.
fn check_link(
    previous: &KeyTransition,
    before: &[KeyTransition],
    t: &KeyTransition,
    position: usize,
) -> Result<(), KeyChainError> {
    if t.origin() != previous.origin() {
        return Err(KeyChainError::OriginMismatch {
            position,
            origin: previous.origin().to_owned(),
            found: t.origin().to_owned(),
        });
    }
    if t.old != previous.new {
        return Err(KeyChainError::NotFromTrustedKey {
            position,
            old: t.old.to_string(),
            trusted: previous.new.to_string(),
        });
    }
    if t.from_size < previous.from_size {
        return Err(KeyChainError::SizeWentBack {
            position,
            from_size: t.from_size,
            previous: previous.from_size,
        });
    }
    let seen = before
        .iter()
        .any(|b| b.old.key() == t.new.key() || b.new.key() == t.new.key());
    if seen {
        return Err(KeyChainError::KeyReused {
            position,
            key: t.new.to_string(),
        });
    }
    Ok(())
}

impl fmt::Display for KeyTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LogSigner;
    use crate::hash::leaf_hash;
    use proptest::prelude::*;

    const ORIGIN: &str = "overens.test/keys";

    fn secret(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn verifier(n: u8) -> VerifierKey {
        VerifierKey::new(ORIGIN, secret(n).public()).expect("key")
    }

    fn transition(old: u8, new: u8, from_size: u64) -> String {
        KeyTransition::sign(ORIGIN, &secret(old), &secret(new), from_size)
            .expect("signed")
            .note()
            .to_owned()
    }

    fn checkpoint(key: u8, size: u64) -> String {
        LogSigner::new(ORIGIN, secret(key))
            .expect("signer")
            .sign(size, leaf_hash(&size.to_be_bytes()))
            .expect("checkpoint")
            .note_text
    }

    /// A note over `body` signed by the given keys (all named ORIGIN), in that order.
    fn signed_by(body: &str, keys: &[u8]) -> String {
        let mut note = SignedNote::sign(body, &secret(keys[0]), ORIGIN).expect("note");
        for &k in &keys[1..] {
            note.signatures.extend(
                SignedNote::sign(body, &secret(k), ORIGIN)
                    .expect("note")
                    .signatures,
            );
        }
        note.to_string()
    }

    fn transition_error(note: &str) -> TransitionError {
        KeyTransition::open(note).expect_err("refused")
    }

    #[test]
    fn a_transition_reads_back_as_written() {
        let note = transition(1, 2, 7);
        let expected_body = format!(
            "overens/log-key/v1\n{ORIGIN}\nold {}\nnew {}\nfrom-size 7\n",
            verifier(1),
            verifier(2)
        );
        assert!(
            note.starts_with(&format!("{expected_body}\n\u{2014} {ORIGIN} ")),
            "{note}"
        );
        assert_eq!(note.matches('\u{2014}').count(), 2, "{note}");
        let t = KeyTransition::open(&note).expect("opens");
        assert_eq!(
            (t.old_key(), t.new_key(), t.from_size(), t.origin()),
            (&verifier(1), &verifier(2), 7, ORIGIN)
        );
        assert_eq!(t.note(), note);
        assert_eq!(t.to_string(), note);
        assert_eq!(
            KeyTransition::sign(ORIGIN, &secret(1), &secret(1), 7),
            Err(TransitionError::SameKey)
        );
    }

    #[test]
    fn the_chain_names_the_key_of_each_size_and_follows_it() {
        let notes = [transition(1, 2, 5), transition(2, 3, 9)];
        let chain = KeyChain::follow(&verifier(1), &notes).expect("chain");
        assert_eq!(chain.pinned(), &verifier(1));
        assert_eq!(chain.current(), &verifier(3));
        assert_eq!(chain.notes(), notes.to_vec());
        let ranges: Vec<(u64, Option<u64>)> = chain
            .keys()
            .iter()
            .map(|k| (k.first_size, k.last_size))
            .collect();
        assert_eq!(ranges, [(0, Some(5)), (5, Some(9)), (9, None)]);
        for (size, key) in [(0, 1), (4, 1), (5, 2), (8, 2), (9, 3), (1000, 3)] {
            assert_eq!(chain.key_for(size), &verifier(key), "size {size}");
        }
        // Accepted: each key within its sizes, both keys at a rotation's own size.
        for (key, size) in [
            (1, 0),
            (1, 3),
            (1, 5),
            (2, 5),
            (2, 7),
            (2, 9),
            (3, 9),
            (3, 40),
        ] {
            let (opened, by) = chain
                .verify_checkpoint(&checkpoint(key, size))
                .unwrap_or_else(|e| panic!("key {key} size {size}: {e}"));
            assert_eq!((opened.size, by), (size, &verifier(key)));
        }
        // Refused: a retired key after its rotation, a new key before it.
        for (key, size, retired) in [
            (1, 6, true),
            (1, 40, true),
            (2, 10, true),
            (2, 4, false),
            (3, 8, false),
        ] {
            let e = chain
                .verify_checkpoint(&checkpoint(key, size))
                .expect_err("out of range");
            let KeyChainError::KeyOutOfRange {
                size: s,
                key: k,
                why,
                ..
            } = &e
            else {
                panic!("key {key} size {size}: {e}");
            };
            assert_eq!((*s, k.as_str()), (size, verifier(key).to_string().as_str()));
            assert_eq!(why.contains("retired"), retired, "{e}");
        }
        // A key not in the chain at all.
        let e = chain
            .verify_checkpoint(&checkpoint(9, 12))
            .expect_err("stranger");
        assert!(
            matches!(&e, KeyChainError::NotSignedByChain { size: 12, expected, .. } if *expected == verifier(3).to_string()),
            "{e}"
        );
        // A signature of the right key that does not verify.
        let tampered = checkpoint(3, 12).replacen("\n12\n", "\n13\n", 1);
        let e = chain.verify_checkpoint(&tampered).expect_err("tampered");
        assert!(
            matches!(
                e,
                KeyChainError::Checkpoint(CheckpointError::Note(NoteError::BadSignature { .. }))
            ),
            "{e}"
        );
    }

    #[test]
    fn a_chain_without_transitions_is_the_pinned_key() {
        let chain = KeyChain::follow::<&str>(&verifier(1), &[]).expect("chain");
        assert_eq!(chain, KeyChain::new(verifier(1)));
        assert_eq!(chain.current(), &verifier(1));
        assert!(chain.verify_checkpoint(&checkpoint(1, 1 << 40)).is_ok());
        assert!(chain.verify_checkpoint(&checkpoint(2, 3)).is_err());
    }

    #[test]
    fn trust_starts_at_the_pinned_key_wherever_it_is_in_the_chain() {
        let notes = [transition(1, 2, 5), transition(2, 3, 9)];
        let chain = KeyChain::follow(&verifier(2), &notes).expect("chain");
        assert_eq!(chain.transitions().len(), 2, "the whole record is kept");
        assert_eq!(chain.keys().len(), 2);
        assert_eq!(chain.keys()[0].first_size, 0);
        assert!(chain.verify_checkpoint(&checkpoint(2, 3)).is_ok());
        // The key before the pinned one is not trusted.
        let e = chain
            .verify_checkpoint(&checkpoint(1, 3))
            .expect_err("untrusted");
        assert!(matches!(e, KeyChainError::NotSignedByChain { .. }), "{e}");
        let last = KeyChain::follow(&verifier(3), &notes).expect("chain");
        assert_eq!(last.keys().len(), 1);
        assert_eq!(last.current(), &verifier(3));

        let e = KeyChain::follow(&verifier(7), &notes).expect_err("not in chain");
        assert!(
            matches!(&e, KeyChainError::PinnedKeyNotInChain { pinned, .. } if *pinned == verifier(7).to_string()),
            "{e}"
        );
    }

    #[test]
    fn a_transition_not_signed_by_the_old_key_is_refused() {
        let body = KeyTransition::body(ORIGIN, &verifier(1), &verifier(2), 5);
        // Forged: signed by another key under the log's name, and by the new key.
        let forged = signed_by(&body, &[9, 2]);
        let e = transition_error(&forged);
        assert!(
            matches!(&e, TransitionError::OldSignature { key, error: NoteError::UnknownKey { .. } } if *key == verifier(1).to_string()),
            "{e}"
        );
        let e = KeyChain::follow(&verifier(1), &[forged]).expect_err("forged");
        assert!(
            matches!(
                e,
                KeyChainError::Transition {
                    position: 1,
                    error: TransitionError::OldSignature { .. }
                }
            ),
            "{e}"
        );
        // The old key's signature line present but over other bytes.
        let other = KeyTransition::body(ORIGIN, &verifier(1), &verifier(2), 6);
        let note = signed_by(&body, &[2]);
        let wrong = SignedNote::sign(&other, &secret(1), ORIGIN)
            .expect("note")
            .signatures;
        let mut parsed = SignedNote::parse(&note).expect("note");
        parsed.signatures.splice(0..0, wrong);
        let e = transition_error(&parsed.to_string());
        assert!(
            matches!(
                e,
                TransitionError::OldSignature {
                    error: NoteError::BadSignature { .. },
                    ..
                }
            ),
            "{e}"
        );
        // A whole valid transition from a key the chain does not trust at that point.
        let e = KeyChain::follow(&verifier(1), &[transition(1, 2, 5), transition(9, 3, 9)])
            .expect_err("untrusted");
        assert!(
            matches!(&e, KeyChainError::NotFromTrustedKey { position: 2, old, trusted } if *old == verifier(9).to_string() && *trusted == verifier(2).to_string()),
            "{e}"
        );
    }

    #[test]
    fn a_transition_without_the_new_keys_signature_is_refused() {
        let body = KeyTransition::body(ORIGIN, &verifier(1), &verifier(2), 5);
        for keys in [&[1][..], &[1, 9][..]] {
            let e = transition_error(&signed_by(&body, keys));
            assert!(
                matches!(&e, TransitionError::NewSignature { key, error: NoteError::UnknownKey { .. } } if *key == verifier(2).to_string()),
                "{keys:?}: {e}"
            );
        }
        // Either order of the two signatures is one note.
        assert!(KeyTransition::open(&signed_by(&body, &[2, 1])).is_ok());
    }

    #[test]
    fn a_reordered_or_gapped_chain_is_refused() {
        let (a, b, c) = (
            transition(1, 2, 5),
            transition(2, 3, 9),
            transition(3, 4, 9),
        );
        let e = KeyChain::follow(&verifier(1), &[b.clone(), a.clone()]).expect_err("reordered");
        assert!(
            matches!(e, KeyChainError::NotFromTrustedKey { position: 2, .. }),
            "{e}"
        );
        let e = KeyChain::follow(&verifier(1), &[a.clone(), c.clone()]).expect_err("gap");
        assert!(
            matches!(e, KeyChainError::NotFromTrustedKey { position: 2, .. }),
            "{e}"
        );
        // Without its first link, the chain does not reach the pinned key.
        let e = KeyChain::follow(&verifier(1), &[b, c]).expect_err("no first link");
        assert!(
            matches!(e, KeyChainError::PinnedKeyNotInChain { .. }),
            "{e}"
        );
        let mut chain = KeyChain::new(verifier(1));
        let e = chain
            .push(&transition(2, 3, 9))
            .expect_err("not from current");
        assert!(
            matches!(e, KeyChainError::NotFromTrustedKey { position: 1, .. }),
            "{e}"
        );
        assert_eq!(
            chain,
            KeyChain::new(verifier(1)),
            "a refused push changes nothing"
        );
    }

    #[test]
    fn a_reused_key_is_refused() {
        let e = KeyChain::follow(&verifier(1), &[transition(1, 2, 5), transition(2, 1, 9)])
            .expect_err("back to the first key");
        assert!(
            matches!(&e, KeyChainError::KeyReused { position: 2, key } if *key == verifier(1).to_string()),
            "{e}"
        );
        let e = KeyChain::follow(
            &verifier(1),
            &[
                transition(1, 2, 5),
                transition(2, 3, 6),
                transition(3, 2, 7),
            ],
        )
        .expect_err("back to the second key");
        assert!(
            matches!(e, KeyChainError::KeyReused { position: 3, .. }),
            "{e}"
        );
        let mut chain = KeyChain::new(verifier(1));
        chain.push(&transition(1, 2, 5)).expect("first");
        let before = chain.clone();
        let e = chain.push(&transition(2, 1, 6)).expect_err("reuse");
        assert!(
            matches!(e, KeyChainError::KeyReused { position: 2, .. }),
            "{e}"
        );
        assert_eq!(chain, before);
    }

    #[test]
    fn a_from_size_going_back_is_refused() {
        let e = KeyChain::follow(&verifier(1), &[transition(1, 2, 9), transition(2, 3, 5)])
            .expect_err("back");
        assert!(
            matches!(
                e,
                KeyChainError::SizeWentBack {
                    position: 2,
                    from_size: 5,
                    previous: 9
                }
            ),
            "{e}"
        );
        // Equal sizes are two rotations without an append between them.
        let chain = KeyChain::follow(&verifier(1), &[transition(1, 2, 9), transition(2, 3, 9)])
            .expect("same size");
        assert_eq!(chain.key_for(9), &verifier(3));
        let mut pushed = KeyChain::new(verifier(1));
        pushed.push(&transition(1, 2, 9)).expect("first");
        let e = pushed.push(&transition(2, 3, 8)).expect_err("back");
        assert!(matches!(e, KeyChainError::SizeWentBack { .. }), "{e}");
    }

    #[test]
    fn only_the_one_form_of_a_transition_is_read() {
        let (old, new) = (verifier(1), verifier(2));
        let other_name = VerifierKey::new("other.log", secret(2).public()).expect("key");
        let good = KeyTransition::body(ORIGIN, &old, &new, 5);
        let bodies: Vec<(String, &str)> = vec![
            (
                good.replace("overens/log-key/v1", "overens/log-key/v2"),
                "UnexpectedLine",
            ),
            (good.replace("old ", "old  "), "Key"),
            (good.replace("old ", "Old "), "UnexpectedLine"),
            (good.replace("new ", "neu "), "UnexpectedLine"),
            (
                good.replace("from-size 5", "from-size 05"),
                "SizeNotANumber",
            ),
            (
                good.replace("from-size 5", "from-size +5"),
                "SizeNotANumber",
            ),
            (
                good.replace("from-size 5", "from-size 18446744073709551616"),
                "SizeNotANumber",
            ),
            (good.replace("from-size 5", "from-size"), "UnexpectedLine"),
            (
                good.replace("from-size 5\n", "from-size 5 \n"),
                "SizeNotANumber",
            ),
            (format!("{good}witness x\n"), "ExtraLine"),
            (good.replace("from-size 5\n", ""), "Malformed"),
            (
                good.replace(&new.to_string(), &other_name.to_string()),
                "KeyName",
            ),
            (good.replace(&new.to_string(), &old.to_string()), "SameKey"),
            // The key ID in lowercase hex only.
            (
                good.replace(
                    &format!("{:08x}", new.key_id()),
                    &format!("{:08X}", new.key_id()),
                ),
                "Key",
            ),
        ];
        for (body, kind) in bodies {
            // Signed properly by both keys named in the body (when it names them): the form
            // alone is at fault.
            let note = signed_by(&body, &[1, 2]);
            let e = transition_error(&note);
            assert!(format!("{e:?}").starts_with(kind), "{body:?}: {e:?}");
        }
        for note in [
            "",
            "overens/log-key/v1\n",
            &good,
            &format!("{}\r\n", good.trim_end()),
        ] {
            assert!(KeyTransition::open(note).is_err(), "{note:?}");
        }
    }

    proptest! {
        #[test]
        fn any_changed_byte_is_refused(position in 0usize..400, byte in any::<u8>()) {
            let note = transition(1, 2, 5);
            let mut bytes = note.clone().into_bytes();
            let position = position % bytes.len();
            prop_assume!(bytes[position] != byte);
            bytes[position] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                prop_assert!(KeyTransition::open(&text).is_err(), "{text:?}");
                prop_assert!(KeyChain::follow(&verifier(1), &[text]).is_err());
            }
        }
    }
}
