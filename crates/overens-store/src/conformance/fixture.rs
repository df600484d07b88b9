//! Signed events for the suite, built with the core API exactly as a client builds them:
//! sign, verify, then [`AppendEvent::from`]. Stores check no domain rules, so the events
//! only need the right kind of stream.

use std::sync::atomic::{AtomicU64, Ordering};

use overens_core::domain::StreamHead;
use overens_core::event::{PartyAdded, PartyRegistered, SectionRevised};
use overens_core::{
    Digest32, Event, EventId, SecretKey, StreamId, Timestamp, UnsignedEnvelope, VerifiedEvent,
};

use crate::{AppendEvent, RestoreRecord, StoredRecord, leaf_hash, record_line};

/// Every fixture event gets a fresh number, so ids and payloads never collide, not even
/// between cases running at once in one process.
static COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_number() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A fresh UUID v7, unique within the process.
pub fn fresh_id() -> EventId {
    let n = next_number();
    let mut random = [0u8; 10];
    random[2..].copy_from_slice(&n.to_be_bytes());
    // 2020-03-12T09:30:00Z plus n milliseconds.
    EventId::v7(1_584_005_400_000 + n, random)
}

/// A timestamp from its canonical text.
pub fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("fixture timestamp {text}: {e}"))
}

/// The signer's `at` of every fixture event: long before any store's clock.
pub fn signed_at() -> Timestamp {
    ts("2020-03-12T09:30:00Z")
}

pub fn directory() -> StreamId {
    StreamId::Directory
}

/// The stream `agreement/<slug>`.
pub fn agreement(slug: &str) -> StreamId {
    format!("agreement/{slug}")
        .parse()
        .unwrap_or_else(|e| panic!("fixture stream agreement/{slug}: {e}"))
}

fn party(n: u64) -> overens_core::PartyId {
    format!("party-{n}")
        .parse()
        .unwrap_or_else(|e| panic!("fixture party slug: {e}"))
}

/// A `PartyRegistered` for the directory with this name.
pub fn party_registered(name: &str) -> Event {
    Event::PartyRegistered(PartyRegistered {
        party: party(next_number()),
        name: name.to_owned(),
    })
}

/// A `SectionRevised` for an agreement stream with this heading and text.
pub fn section_revised(heading: &str, text: &str) -> Event {
    Event::SectionRevised(SectionRevised {
        section: "syfte-och-mal"
            .parse()
            .unwrap_or_else(|e| panic!("fixture section slug: {e}")),
        heading: heading.to_owned(),
        text: text.to_owned(),
    })
}

/// A small event of the right kind for `stream`, different from every other one.
pub fn some_event(stream: &StreamId) -> Event {
    let n = next_number();
    match stream {
        StreamId::Directory => Event::PartyRegistered(PartyRegistered {
            party: party(n),
            name: format!("Part {n}"),
        }),
        StreamId::Agreement(_) => Event::PartyAdded(PartyAdded { party: party(n) }),
    }
}

/// Signs, as the holder of `key`, `event` as event `seq` of `stream` after `prev`, and
/// verifies it.
pub fn sign(
    key: &SecretKey,
    id: EventId,
    stream: &StreamId,
    seq: u64,
    prev: Digest32,
    event: &Event,
) -> VerifiedEvent {
    UnsignedEnvelope::new(
        id,
        stream.clone(),
        seq,
        prev,
        signed_at(),
        key.public(),
        event,
    )
    .sign(key)
    .verify()
    .unwrap_or_else(|e| panic!("fixture event does not verify: {e}"))
}

/// A client's view of one stream: it signs each new event against the head it knows.
#[derive(Debug, Clone)]
pub struct Chain {
    pub stream: StreamId,
    pub key: SecretKey,
    /// What the next event [`Chain::next_event`] signs will name as its `seq` and `prev`.
    pub head: StreamHead,
}

impl Chain {
    pub fn new(stream: StreamId) -> Self {
        Chain {
            stream,
            key: SecretKey::from_seed(&[7; 32]),
            head: StreamHead::EMPTY,
        }
    }

    /// Signs `event` at any position, without moving the chain's head.
    pub fn sign_at(&self, id: EventId, seq: u64, prev: Digest32, event: &Event) -> VerifiedEvent {
        sign(&self.key, id, &self.stream, seq, prev, event)
    }

    /// A new event signed at the chain's head, without moving the head: a rival of
    /// whatever [`Chain::next_event`] would sign.
    pub fn at_head(&self) -> VerifiedEvent {
        self.sign_at(
            fresh_id(),
            self.head.next_seq,
            self.head.prev,
            &some_event(&self.stream),
        )
    }

    /// Signs `event` at the head and moves the head past it.
    pub fn next_with(&mut self, event: &Event) -> VerifiedEvent {
        let signed = self.sign_at(fresh_id(), self.head.next_seq, self.head.prev, event);
        self.advance(&signed);
        signed
    }

    /// A new event at the head; the head moves past it.
    pub fn next_event(&mut self) -> VerifiedEvent {
        let event = some_event(&self.stream);
        self.next_with(&event)
    }

    /// `n` new events, chained from the head; the head moves past them.
    pub fn batch(&mut self, n: usize) -> Vec<VerifiedEvent> {
        (0..n).map(|_| self.next_event()).collect()
    }

    /// Moves the head past `event` (an event signed with [`Chain::sign_at`] or by a rival).
    pub fn advance(&mut self, event: &VerifiedEvent) {
        self.head = StreamHead {
            next_seq: event.seq() + 1,
            prev: event.hash(),
        };
    }
}

/// What a store is given to append.
pub fn batch(events: &[VerifiedEvent]) -> Vec<AppendEvent> {
    events.iter().map(AppendEvent::from).collect()
}

/// The record a store must give back for `event` stored at `index` at `recorded_at`.
pub fn expected_record(event: &VerifiedEvent, index: u64, recorded_at: Timestamp) -> StoredRecord {
    StoredRecord {
        index,
        recorded_at,
        stream: event.stream().clone(),
        seq: event.seq(),
        id: event.envelope().id,
        hash: event.hash(),
        envelope: event.canonical_bytes().to_vec(),
        leaf: leaf_hash(record_line(event.canonical_bytes(), index, recorded_at).as_bytes()),
    }
}

/// A record to restore.
pub fn restore_record(event: &VerifiedEvent, index: u64, recorded_at: Timestamp) -> RestoreRecord {
    RestoreRecord {
        index,
        recorded_at,
        event: AppendEvent::from(event),
    }
}
