//! The decider: `decide` (may this event be appended?) and `evolve` (the state after it),
//! over the directory and every agreement.

mod agreement;
mod directory;
mod rejection;
mod summary;
mod timeline;

use std::sync::Arc;

use serde::Serialize;

pub use agreement::{
    Agreement, EntryIntoForce, Proposal, RenegotiationRequest, SignatureMethod, SignatureRecord,
    Supersession, Termination, TimelineEntry, Version, Withdrawal,
};
pub use directory::{Directory, ENROLL_PREFIX, Party, Revocation, Signatory, enrollment_message};
pub use rejection::{Rejection, RejectionKind};
pub use timeline::{Iter as TimelineIter, Timeline};

use crate::crypto::{Digest32, PublicKey};
use crate::envelope::VerifiedEvent;
use crate::event::Event;
use crate::id::{AgreementId, StreamId};
use crate::record::Recorded;
use crate::time::Timestamp;

/// Where and when an event was recorded, kept with everything it produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stamp {
    pub index: u64,
    pub seq: u64,
    pub recorded_at: Timestamp,
    /// The signer's clock.
    pub at: Timestamp,
}

/// Who signed an event, as shown in views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub key: PublicKey,
    /// `null` for a registrar.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub party: Option<crate::id::PartyId>,
    pub name: String,
    pub role: String,
}

/// What the next event of a stream must sign against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamHead {
    pub next_seq: u64,
    pub prev: Digest32,
}

impl StreamHead {
    pub const EMPTY: StreamHead = StreamHead {
        next_seq: 0,
        prev: Digest32::ZERO,
    };
}

/// The fold of the whole global log.
///
/// Cloning is cheap, whatever the size of the log: the directory sits behind an `Arc`, the
/// agreements in a persistent map (`imbl::OrdMap`, a B-tree whose nodes clones share), and
/// each agreement behind an `Arc` again. A change copies only what another clone still
/// holds on its way: the map's nodes on the path to the agreement (O(log n) pointers), the
/// agreement's top level (its versions, contents and timeline stay shared, see
/// [`Agreement`]), and the parts the event changes. So a reader can keep an immutable
/// snapshot while appends go on, and a failed batch is undone by putting back the clone
/// taken before it.
#[derive(Debug, Clone)]
pub struct State {
    directory: Arc<Directory>,
    directory_head: StreamHead,
    /// In id order; an agreement stream's head is kept with its agreement.
    agreements: imbl::OrdMap<Arc<AgreementId>, Arc<Agreement>>,
    /// The heads of agreement streams that hold only void records (a void
    /// `AgreementDrafted`): no agreement, but the chain has moved on.
    void_streams: imbl::OrdMap<Arc<AgreementId>, StreamHead>,
    /// Every void record, in log order (see [`State::apply_logged`]).
    voids: Arc<Vec<VoidRecord>>,
    records: u64,
}

/// What a record read from the log did: took effect, or was void at its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Effective,
    Void(Rejection),
}

/// A record that holds its place in the log and its stream's chain but has no effect: an
/// agreement event whose signer's key was revoked earlier in the global order than the
/// event itself. Only a log with several writers can hold one (see [`State::apply_logged`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoidRecord {
    pub stamp: Stamp,
    pub stream: StreamId,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = Actor))]
    pub by: Arc<Actor>,
    /// The broken rule's stable name (`revoked-key`).
    pub rule: &'static str,
    pub reason: String,
    /// What `decide` said of it at its place in the log.
    #[serde(skip)]
    pub rejection: Rejection,
}

impl State {
    /// An empty log that trusts these registrar keys.
    pub fn new(registrars: impl IntoIterator<Item = PublicKey>) -> Self {
        State {
            directory: Arc::new(Directory::new(registrars)),
            directory_head: StreamHead::EMPTY,
            agreements: imbl::OrdMap::new(),
            void_streams: imbl::OrdMap::new(),
            voids: Arc::new(Vec::new()),
            records: 0,
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn agreement(&self, id: &AgreementId) -> Option<&Agreement> {
        self.agreements.get(id).map(|a| &**a)
    }

    pub fn agreements(&self) -> impl Iterator<Item = &Agreement> {
        self.agreements.values().map(|a| &**a)
    }

    pub fn head(&self, stream: &StreamId) -> StreamHead {
        match stream {
            StreamId::Directory => self.directory_head,
            // An agreement stream starts with `AgreementDrafted`: no agreement, no events.
            StreamId::Agreement(id) => match self.agreements.get(id) {
                Some(agreement) => agreement.head,
                None => self
                    .void_streams
                    .get(id)
                    .copied()
                    .unwrap_or(StreamHead::EMPTY),
            },
        }
    }

    /// The void records so far, in log order.
    pub fn voids(&self) -> &[VoidRecord] {
        &self.voids
    }

    /// How many log records have been applied.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// May this verified event be appended now? Checks the stream's chain first (a stale
    /// `seq`/`prev` is a conflict to retry), then the signer's authority, then the rules.
    pub fn decide(&self, event: &VerifiedEvent) -> Result<(), Rejection> {
        let envelope = event.envelope();
        let head = self.head(&envelope.stream);
        if envelope.seq != head.next_seq {
            return Err(Rejection::WrongSeq {
                stream: envelope.stream.clone(),
                expected: head.next_seq,
                got: envelope.seq,
            });
        }
        if envelope.prev != head.prev {
            return Err(Rejection::WrongPrev {
                stream: envelope.stream.clone(),
                expected: head.prev,
                got: envelope.prev,
            });
        }
        let signer = event.signer();
        match (&envelope.stream, event.event()) {
            (StreamId::Directory, e) => self.directory.decide(e, signer),
            (StreamId::Agreement(id), Event::AgreementDrafted(e))
                if !self.agreements.contains_key(id) =>
            {
                if self.directory.is_registrar(signer) {
                    return Err(Rejection::RegistrarMayNotSign {
                        event: "AgreementDrafted",
                    });
                }
                let party = self.directory.active_signatory(signer)?.party.clone();
                directory::non_empty("title", &e.title)?;
                let mut seen = std::collections::BTreeSet::new();
                for p in &e.parties {
                    if !seen.insert(p) {
                        return Err(Rejection::DuplicateParty(p.clone()));
                    }
                    if self.directory.party(p).is_none() {
                        return Err(Rejection::UnknownParty(p.clone()));
                    }
                }
                if !e.parties.contains(&party) {
                    return Err(Rejection::DrafterNotAParty(party));
                }
                Ok(())
            }
            (StreamId::Agreement(id), e) => match self.agreements.get(id) {
                Some(agreement) => {
                    agreement.decide(&self.directory, e, signer, event.at().legal_date())
                }
                None => Err(Rejection::NoSuchAgreement(id.clone())),
            },
        }
    }

    /// The state after a decided event. Call only with an event `decide` accepted, in log
    /// order; [`State::apply`] does both.
    pub fn evolve(&mut self, record: Recorded<'_>) {
        let event = record.event;
        let stamp = Stamp {
            index: record.index,
            seq: event.seq(),
            recorded_at: record.recorded_at,
            at: event.at(),
        };
        let signer = event.signer();
        let head = StreamHead {
            next_seq: event.seq() + 1,
            prev: event.hash(),
        };
        match (event.stream(), event.event()) {
            (StreamId::Directory, e) => {
                Arc::make_mut(&mut self.directory).evolve(e, signer, stamp);
                self.directory_head = head;
            }
            (StreamId::Agreement(id), e) => {
                if let Event::AgreementDrafted(drafted) = e {
                    let drafted = Agreement::drafted(id.clone(), drafted, stamp);
                    self.agreements
                        .insert(Arc::new(id.clone()), Arc::new(drafted));
                    self.void_streams.remove(id);
                }
                if let Some(agreement) = self.agreements.get_mut(id) {
                    let agreement = Arc::make_mut(agreement);
                    agreement.evolve(&self.directory, e, signer, stamp);
                    agreement.head = head;
                }
            }
        }
        self.records += 1;
    }

    /// Applies a batch for one stream atomically: all events, or (on the first rejection)
    /// none, with the position in the batch of the event that was refused.
    pub fn apply_batch<'a>(
        &mut self,
        records: impl IntoIterator<Item = Recorded<'a>>,
    ) -> Result<(), (usize, Rejection)> {
        let mut records = records.into_iter().peekable();
        let Some(first) = records.next() else {
            return Ok(());
        };
        if records.peek().is_none() {
            // One event: `apply` is atomic already (`decide` changes nothing), and a copy of
            // the state would make the next change copy the whole agreement it touches.
            return self.apply(first).map_err(|rejection| (0, rejection));
        }
        let before = self.clone();
        for (i, record) in std::iter::once(first).chain(records).enumerate() {
            if let Err(rejection) = self.apply(record) {
                *self = before;
                return Err((i, rejection));
            }
        }
        Ok(())
    }

    /// `decide`, then `evolve`: the one way to grow a state with a new event.
    pub fn apply(&mut self, record: Recorded<'_>) -> Result<(), Rejection> {
        self.decide(record.event)?;
        self.evolve(record);
        Ok(())
    }

    /// Applies a record read from the global log (replay, audit, following a log that
    /// several servers write). Like [`State::apply`], except for one case: an agreement
    /// event whose chain is right but whose signer's key was revoked *earlier in the global
    /// order* is void: it keeps its place in the log and moves its stream's chain on, shows
    /// in the agreement's timeline and in [`State::voids`], and changes nothing else.
    ///
    /// Why only that case: with several writers (EventStoreDB), each decides against the
    /// log as far as it has read it, and a stream's own order is guarded by the store
    /// (optimistic concurrency on the stream), so what can come between a decision and the
    /// place the event takes in the global order is only other streams' records. Agreement
    /// rules read one other stream, the directory, and the only directory change that can
    /// turn an accepted agreement event into a refused one is a revocation of its signer
    /// (registrations and enrolments only add). The global order decides, the same way on
    /// every server and in every later replay. A single writer (the SQLite store's
    /// sequencer) decides every event against the log before it, so it never writes one.
    pub fn apply_logged(&mut self, record: Recorded<'_>) -> Result<Applied, Rejection> {
        match self.decide(record.event) {
            Ok(()) => {
                self.evolve(record);
                Ok(Applied::Effective)
            }
            Err(rejection @ Rejection::RevokedKey { .. })
                if matches!(record.event.stream(), StreamId::Agreement(_)) =>
            {
                self.void(record, &rejection);
                Ok(Applied::Void(rejection))
            }
            Err(rejection) => Err(rejection),
        }
    }

    fn void(&mut self, record: Recorded<'_>, rejection: &Rejection) {
        let event = record.event;
        let StreamId::Agreement(id) = event.stream() else {
            return;
        };
        let stamp = Stamp {
            index: record.index,
            seq: event.seq(),
            recorded_at: record.recorded_at,
            at: event.at(),
        };
        let head = StreamHead {
            next_seq: event.seq() + 1,
            prev: event.hash(),
        };
        let void = VoidRecord {
            stamp,
            stream: event.stream().clone(),
            event_type: event.event().type_name(),
            by: self.directory.actor(event.signer()),
            rule: rejection.rule(),
            reason: rejection.to_string(),
            rejection: rejection.clone(),
        };
        match self.agreements.get_mut(id) {
            Some(agreement) => {
                let agreement = Arc::make_mut(agreement);
                agreement.record_void(&void);
                agreement.head = head;
            }
            None => {
                self.void_streams.insert(Arc::new(id.clone()), head);
            }
        }
        Arc::make_mut(&mut self.voids).push(void);
        self.records += 1;
    }
}

#[cfg(test)]
mod tests;
