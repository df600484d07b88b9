//! Replaying a global log: every record checked (canonical form, index order, recorded time,
//! signature, chain, rules) and folded into a [`State`].

use std::collections::HashSet;

use crate::domain::{Rejection, State};
use crate::envelope::{EnvelopeError, VerifiedEvent};
use crate::id::{EventId, StreamId};
use crate::record::{LogRecord, RecordError, Recorded};
use crate::time::Timestamp;

/// What is wrong with a record of a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(
        "index {got} where {expected} was expected (a record is missing, repeated or out of order)"
    )]
    Index { expected: u64, got: u64 },
    #[error("recorded_at {got} is earlier than the previous record's {previous}")]
    RecordedAtBackwards { previous: Timestamp, got: Timestamp },
    #[error("event id {0} appears twice in the log")]
    DuplicateId(EventId),
    #[error("rule broken: {0}")]
    Rejected(#[from] Rejection),
}

/// The first bad record of a log, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {defect}", self.location())]
pub struct LogError {
    /// 1-based line of a log file, when replaying a file.
    pub line: Option<usize>,
    pub index: Option<u64>,
    pub stream: Option<StreamId>,
    pub seq: Option<u64>,
    /// Boxed: errors travel through every replay step, and the defect is large.
    pub defect: Box<Defect>,
}

impl LogError {
    fn location(&self) -> String {
        let mut parts = Vec::new();
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(index) = self.index {
            parts.push(format!("index {index}"));
        }
        if let Some(stream) = &self.stream {
            parts.push(format!("stream {stream}"));
        }
        if let Some(seq) = self.seq {
            parts.push(format!("seq {seq}"));
        }
        if parts.is_empty() {
            "log".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Folds log records one by one, refusing the first that does not hold.
#[derive(Debug, Clone)]
pub struct Replayer {
    state: State,
    last_recorded_at: Option<Timestamp>,
    ids: HashSet<EventId>,
}

impl Replayer {
    pub fn new(state: State) -> Self {
        Replayer {
            state,
            last_recorded_at: None,
            ids: HashSet::new(),
        }
    }

    /// Goes on from a replay already done: its state, every event id it saw and its last
    /// record's time (following a log that grows, after replaying what it held).
    pub fn resume(
        state: State,
        ids: HashSet<EventId>,
        last_recorded_at: Option<Timestamp>,
    ) -> Self {
        Replayer {
            state,
            last_recorded_at,
            ids,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Every event id folded so far.
    pub fn ids(&self) -> &HashSet<EventId> {
        &self.ids
    }

    pub fn into_state(self) -> State {
        self.state
    }

    pub fn last_recorded_at(&self) -> Option<Timestamp> {
        self.last_recorded_at
    }

    /// Checks and applies one line of a log file (`line` is 1-based, for messages).
    pub fn push_line(&mut self, line: usize, text: &str) -> Result<(), LogError> {
        let record = LogRecord::parse_line(text).map_err(|e| LogError {
            line: Some(line),
            index: None,
            stream: None,
            seq: None,
            defect: Box::new(e.into()),
        })?;
        self.push(record).map_err(|mut e| {
            e.line = Some(line);
            e
        })
    }

    /// Checks and applies one record.
    pub fn push(&mut self, record: LogRecord) -> Result<(), LogError> {
        let verified = record.event.clone().verify();
        self.push_verified(record, verified)
    }

    /// Checks and applies one record whose envelope the caller already verified (replay
    /// verifies many envelopes in parallel, then folds them here in order).
    pub fn push_verified(
        &mut self,
        record: LogRecord,
        verified: Result<VerifiedEvent, EnvelopeError>,
    ) -> Result<(), LogError> {
        let envelope = &record.event;
        self.push_parts(
            record.index,
            record.recorded_at,
            (envelope.id, &envelope.stream, envelope.seq),
            verified.and_then(|event| {
                if event.envelope() == envelope {
                    Ok(event)
                } else {
                    Err(EnvelopeError::Malformed(
                        "verified envelope is not the record's".into(),
                    ))
                }
            }),
        )
    }

    /// Checks and applies one verified event at `index`, recorded at `recorded_at`: the
    /// record is the event itself, so there is no separate envelope to compare with (replay
    /// of a store verifies each envelope from the record's own stored bytes).
    pub fn push_verified_event(
        &mut self,
        index: u64,
        recorded_at: Timestamp,
        event: VerifiedEvent,
    ) -> Result<(), LogError> {
        let envelope = event.envelope();
        let (id, stream, seq) = (envelope.id, envelope.stream.clone(), envelope.seq);
        self.push_parts(index, recorded_at, (id, &stream, seq), Ok(event))
    }

    /// The checks of one record, in the order every replay reports them: index, recorded
    /// time, duplicate id, the envelope's own verification, then the domain's rules.
    fn push_parts(
        &mut self,
        index: u64,
        recorded_at: Timestamp,
        (id, stream, seq): (EventId, &StreamId, u64),
        verified: Result<VerifiedEvent, EnvelopeError>,
    ) -> Result<(), LogError> {
        let error = |defect: Defect| LogError {
            line: None,
            index: Some(index),
            stream: Some(stream.clone()),
            seq: Some(seq),
            defect: Box::new(defect),
        };
        let expected = self.state.len();
        if index != expected {
            return Err(error(Defect::Index {
                expected,
                got: index,
            }));
        }
        if let Some(previous) = self.last_recorded_at
            && recorded_at < previous
        {
            return Err(error(Defect::RecordedAtBackwards {
                previous,
                got: recorded_at,
            }));
        }
        if self.ids.contains(&id) {
            return Err(error(Defect::DuplicateId(id)));
        }
        let event = verified.map_err(|e| error(e.into()))?;
        // A record void at its place (see `State::apply_logged`) is part of the log too.
        self.state
            .apply_logged(Recorded {
                index,
                recorded_at,
                event: &event,
            })
            .map_err(|e| error(e.into()))?;
        self.ids.insert(id);
        self.last_recorded_at = Some(recorded_at);
        Ok(())
    }

    /// The state and every event id seen (for idempotency checks after replay).
    pub fn into_parts(self) -> (State, HashSet<EventId>) {
        (self.state, self.ids)
    }
}

/// Replays a whole log file (JSON Lines of canonical log records).
pub fn replay_log_file(text: &str, state: State) -> Result<State, LogError> {
    let mut replayer = Replayer::new(state);
    for (i, line) in text.split_terminator('\n').enumerate() {
        replayer.push_line(i + 1, line)?;
    }
    Ok(replayer.into_state())
}
