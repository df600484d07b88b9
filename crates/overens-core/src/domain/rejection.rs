//! Why `decide` refused an event: one variant per rule, each saying exactly what was wrong.

use crate::crypto::{Digest32, PublicKey};
use crate::id::{AgreementId, ForumId, PartyId, RepresentativeId, SectionId, StreamId};
use crate::time::Date;

/// How a rejection is answered: a stale chain (re-sign and retry), a signer without
/// authority, or a broken domain rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    Conflict,
    Forbidden,
    Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    // --- the chain -------------------------------------------------------------------------
    #[error("stream `{stream}` expects seq {expected}, the event has seq {got}")]
    WrongSeq {
        stream: StreamId,
        expected: u64,
        got: u64,
    },
    #[error("stream `{stream}` expects prev {expected}, the event has prev {got}")]
    WrongPrev {
        stream: StreamId,
        expected: Digest32,
        got: Digest32,
    },

    // --- who may sign ----------------------------------------------------------------------
    #[error("{event} must be signed by a registrar; {key} is not a registrar key")]
    NotARegistrar { event: &'static str, key: PublicKey },
    #[error("registrar keys sign only directory events and paper signatures, not {event}")]
    RegistrarMayNotSign { event: &'static str },
    #[error("key {key} is not an enrolled signatory")]
    UnknownSigner { key: PublicKey },
    #[error("key {key} was revoked (log index {revoked_at}) and signs nothing after that")]
    RevokedKey { key: PublicKey, revoked_at: u64 },
    #[error("the signer's party `{party}` is not a party of agreement `{agreement}`")]
    NotAParty {
        party: PartyId,
        agreement: AgreementId,
    },
    #[error(
        "a signatory of `{signer_party}` cannot act for `{named}`: a party acts only for itself"
    )]
    ActingForAnotherParty {
        signer_party: PartyId,
        named: PartyId,
    },
    #[error("only a registrar or the key itself may revoke {key}")]
    NotAllowedToRevoke { key: PublicKey },

    // --- the directory ---------------------------------------------------------------------
    #[error("party `{0}` is already registered")]
    PartyAlreadyRegistered(PartyId),
    #[error("party `{0}` is not registered in the directory")]
    UnknownParty(PartyId),
    #[error("key {0} was enrolled before; a key is enrolled once (a revoked key never returns)")]
    KeyAlreadyEnrolled(PublicKey),
    #[error("key {0} is a registrar key and cannot also be a party's signatory")]
    RegistrarKeyAsSignatory(PublicKey),
    #[error("key {0} is a weak (small-order) key")]
    WeakKey(PublicKey),
    #[error(
        "proof of possession does not verify: it must be the new key's signature over `overens/enroll/v1\\n<party>\\n<key>`"
    )]
    BadProofOfPossession,
    #[error("key {0} is not enrolled")]
    NotEnrolled(PublicKey),
    #[error("key {0} is already revoked")]
    AlreadyRevoked(PublicKey),
    #[error("`{field}` must not be empty")]
    Empty { field: &'static str },

    // --- an agreement's life ---------------------------------------------------------------
    #[error("agreement `{0}` does not exist: its stream must start with AgreementDrafted")]
    NoSuchAgreement(AgreementId),
    #[error("agreement `{0}` was drafted already")]
    AlreadyDrafted(AgreementId),
    #[error("agreement `{0}` is terminated; nothing more can be recorded")]
    Terminated(AgreementId),
    #[error("party `{0}` is listed twice")]
    DuplicateParty(PartyId),
    #[error("the drafting signatory's party `{0}` must be among the agreement's parties")]
    DrafterNotAParty(PartyId),
    #[error("party `{0}` is already a party of the draft")]
    AlreadyAParty(PartyId),
    #[error("party `{0}` is not a party of the draft")]
    NotInDraft(PartyId),
    #[error("party `{0}` is the draft's last party")]
    LastParty(PartyId),
    #[error("party `{party}` still holds seat `{representative}` in forum `{forum}`")]
    PartyHoldsSeat {
        party: PartyId,
        forum: ForumId,
        representative: RepresentativeId,
    },
    #[error("party `{party}` is named by the chair of forum `{forum}`")]
    PartyChairs { party: PartyId, forum: ForumId },
    #[error("section `{0}` does not exist in the draft")]
    UnknownSection(SectionId),
    #[error("forum `{0}` already exists in the draft")]
    ForumExists(ForumId),
    #[error("forum `{0}` does not exist in the draft")]
    UnknownForum(ForumId),
    #[error("forum `{forum}` already has a seat `{representative}`")]
    SeatExists {
        forum: ForumId,
        representative: RepresentativeId,
    },
    #[error("forum `{forum}` has no seat `{representative}`")]
    UnknownSeat {
        forum: ForumId,
        representative: RepresentativeId,
    },
    #[error("{what} would not change anything")]
    NoChange { what: String },

    // --- versions and signatures -----------------------------------------------------------
    #[error("the next proposal is version {expected}, not {got}")]
    WrongVersionNumber { expected: u32, got: u32 },
    #[error("content hash {got} does not match {expected}")]
    ContentHashMismatch { expected: Digest32, got: Digest32 },
    #[error("version {0} was never proposed")]
    UnknownVersion(u32),
    #[error("version {version} is stale: version {latest} is the latest proposal")]
    StaleProposal { version: u32, latest: u32 },
    #[error("version {0} was withdrawn")]
    Withdrawn(u32),
    #[error("version {0} is already in force")]
    AlreadyInForce(u32),
    #[error("party `{party}` has already signed version {version}")]
    AlreadySigned { party: PartyId, version: u32 },
    #[error("party `{party}` is not a party of version {version}")]
    NotAPartyOfVersion { party: PartyId, version: u32 },
    #[error("paper signature dated {signed_on} is after the recording date {recorded_on}")]
    SignedInFuture { signed_on: Date, recorded_on: Date },
    #[error(
        "version {version} would enter into force on {from}, before version {current} \
         (in force since {current_from})"
    )]
    EntersBeforeCurrent {
        version: u32,
        from: Date,
        current: u32,
        current_from: Date,
    },
    #[error("no version of agreement `{0}` has entered into force")]
    NothingInForce(AgreementId),
    #[error("party `{0}` already has an open renegotiation request")]
    AlreadyRequested(PartyId),
    #[error(
        "termination on {effective_on} is before version {version} entered into force on {from}"
    )]
    TerminationBeforeInForce {
        effective_on: Date,
        version: u32,
        from: Date,
    },
}

impl Rejection {
    pub fn kind(&self) -> RejectionKind {
        use Rejection::*;
        match self {
            WrongSeq { .. } | WrongPrev { .. } => RejectionKind::Conflict,
            NotARegistrar { .. }
            | RegistrarMayNotSign { .. }
            | UnknownSigner { .. }
            | RevokedKey { .. }
            | NotAParty { .. }
            | ActingForAnotherParty { .. }
            | NotAllowedToRevoke { .. } => RejectionKind::Forbidden,
            _ => RejectionKind::Rule,
        }
    }

    /// A stable name for the broken rule, for problem documents and scripts.
    pub fn rule(&self) -> &'static str {
        use Rejection::*;
        match self {
            WrongSeq { .. } => "wrong-seq",
            WrongPrev { .. } => "wrong-prev",
            NotARegistrar { .. } => "not-a-registrar",
            RegistrarMayNotSign { .. } => "registrar-may-not-sign",
            UnknownSigner { .. } => "unknown-signer",
            RevokedKey { .. } => "revoked-key",
            NotAParty { .. } => "not-a-party",
            ActingForAnotherParty { .. } => "acting-for-another-party",
            NotAllowedToRevoke { .. } => "not-allowed-to-revoke",
            PartyAlreadyRegistered(_) => "party-already-registered",
            UnknownParty(_) => "unknown-party",
            KeyAlreadyEnrolled(_) => "key-already-enrolled",
            RegistrarKeyAsSignatory(_) => "registrar-key-as-signatory",
            WeakKey(_) => "weak-key",
            BadProofOfPossession => "bad-proof-of-possession",
            NotEnrolled(_) => "not-enrolled",
            AlreadyRevoked(_) => "already-revoked",
            Empty { .. } => "empty-field",
            NoSuchAgreement(_) => "no-such-agreement",
            AlreadyDrafted(_) => "already-drafted",
            Terminated(_) => "terminated",
            DuplicateParty(_) => "duplicate-party",
            DrafterNotAParty(_) => "drafter-not-a-party",
            AlreadyAParty(_) => "already-a-party",
            NotInDraft(_) => "not-in-draft",
            LastParty(_) => "last-party",
            PartyHoldsSeat { .. } => "party-holds-seat",
            PartyChairs { .. } => "party-chairs",
            UnknownSection(_) => "unknown-section",
            ForumExists(_) => "forum-exists",
            UnknownForum(_) => "unknown-forum",
            SeatExists { .. } => "seat-exists",
            UnknownSeat { .. } => "unknown-seat",
            NoChange { .. } => "no-change",
            WrongVersionNumber { .. } => "wrong-version-number",
            ContentHashMismatch { .. } => "content-hash-mismatch",
            UnknownVersion(_) => "unknown-version",
            StaleProposal { .. } => "stale-proposal",
            Withdrawn(_) => "withdrawn",
            AlreadyInForce(_) => "already-in-force",
            AlreadySigned { .. } => "already-signed",
            NotAPartyOfVersion { .. } => "not-a-party-of-version",
            SignedInFuture { .. } => "signed-in-future",
            EntersBeforeCurrent { .. } => "enters-before-current",
            NothingInForce(_) => "nothing-in-force",
            AlreadyRequested(_) => "already-requested",
            TerminationBeforeInForce { .. } => "termination-before-in-force",
        }
    }
}
