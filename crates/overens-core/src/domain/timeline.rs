//! An agreement's timeline: an append-only list of entries that its clones share.
//!
//! The state a reader holds (a published snapshot) and the state the sequencer grows share
//! each agreement; the first change after a snapshot copies the agreement, and with a plain
//! `Vec` that meant every entry of its timeline. Here the entries live in full chunks of
//! [`CHUNK`] that are never changed again and are shared between clones (a list, newest
//! first), plus a tail of fewer than [`CHUNK`] entries: a clone copies the tail only, and a
//! push never copies more than that, however long the timeline is.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::TimelineEntry;

/// Entries per sealed chunk: the most a clone copies.
const CHUNK: usize = 16;

/// Every event of an agreement as a readable line, in log order. Serialises as a JSON array
/// of [`TimelineEntry`].
#[derive(Default)]
pub struct Timeline {
    /// Full chunks, newest first; shared by every clone.
    sealed: Option<Arc<Sealed>>,
    /// The newest entries, fewer than `CHUNK`.
    tail: Vec<TimelineEntry>,
}

struct Sealed {
    entries: Box<[TimelineEntry]>,
    older: Option<Arc<Sealed>>,
    /// Entries in this chunk and every older one.
    len: usize,
}

impl Drop for Sealed {
    // Without this, dropping the last owner of a long chain would recurse once per chunk.
    fn drop(&mut self) {
        let mut older = self.older.take();
        while let Some(chunk) = older {
            match Arc::try_unwrap(chunk) {
                Ok(mut chunk) => older = chunk.older.take(),
                Err(_) => break,
            }
        }
    }
}

impl Clone for Timeline {
    /// A clone is made to push to (the sequencer copies an agreement to change it): its
    /// tail gets room for a whole chunk at once rather than growing, and reallocating,
    /// entry by entry.
    fn clone(&self) -> Self {
        let mut tail = Vec::with_capacity(CHUNK);
        tail.extend_from_slice(&self.tail);
        Timeline {
            sealed: self.sealed.clone(),
            tail,
        }
    }
}

impl Timeline {
    pub fn new() -> Self {
        Timeline::default()
    }

    pub fn len(&self) -> usize {
        self.sealed_len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sealed_len(&self) -> usize {
        self.sealed.as_ref().map_or(0, |s| s.len)
    }

    /// Appends an entry: copies nothing that a clone shares.
    pub fn push(&mut self, entry: TimelineEntry) {
        self.tail.push(entry);
        if self.tail.len() == CHUNK {
            // The tail grew 4 → 8 → 16, so sealing it copies nothing.
            let entries = std::mem::take(&mut self.tail);
            let len = self.sealed_len() + CHUNK;
            self.sealed = Some(Arc::new(Sealed {
                entries: entries.into_boxed_slice(),
                older: self.sealed.take(),
                len,
            }));
        }
    }

    /// The entry at `index` (0 is the first event): the tail directly, a sealed entry by
    /// walking back from the newest chunk.
    pub fn get(&self, index: usize) -> Option<&TimelineEntry> {
        let sealed = self.sealed_len();
        if index >= sealed {
            return self.tail.get(index - sealed);
        }
        let mut chunk = self.sealed.as_deref();
        while let Some(c) = chunk {
            let start = c.len - c.entries.len();
            if index >= start {
                return c.entries.get(index - start);
            }
            chunk = c.older.as_deref();
        }
        None
    }

    pub fn first(&self) -> Option<&TimelineEntry> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&TimelineEntry> {
        self.tail
            .last()
            .or_else(|| self.sealed.as_ref().and_then(|s| s.entries.last()))
    }

    /// The entries in log order.
    pub fn iter(&self) -> Iter<'_> {
        let mut chunks = Vec::with_capacity(self.sealed_len() / CHUNK + 1);
        let mut chunk = self.sealed.as_deref();
        while let Some(c) = chunk {
            chunks.push(&*c.entries);
            chunk = c.older.as_deref();
        }
        chunks.reverse();
        if !self.tail.is_empty() {
            chunks.push(&self.tail);
        }
        Iter {
            chunks: chunks.into_iter(),
            current: [].iter(),
            remaining: self.len(),
        }
    }

    /// A plain copy of every entry, in log order.
    pub fn to_vec(&self) -> Vec<TimelineEntry> {
        self.iter().cloned().collect()
    }
}

/// The entries of a [`Timeline`] in log order.
#[derive(Debug)]
pub struct Iter<'a> {
    chunks: std::vec::IntoIter<&'a [TimelineEntry]>,
    current: std::slice::Iter<'a, TimelineEntry>,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a TimelineEntry;

    fn next(&mut self) -> Option<&'a TimelineEntry> {
        loop {
            if let Some(entry) = self.current.next() {
                self.remaining -= 1;
                return Some(entry);
            }
            self.current = self.chunks.next()?.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Timeline {
    type Item = &'a TimelineEntry;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::ops::Index<usize> for Timeline {
    type Output = TimelineEntry;

    fn index(&self, index: usize) -> &TimelineEntry {
        match self.get(index) {
            Some(entry) => entry,
            None => panic!(
                "timeline index {index} out of range for length {}",
                self.len()
            ),
        }
    }
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Timeline {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, Stamp};

    fn entry(seq: u64) -> TimelineEntry {
        let at: crate::time::Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
        TimelineEntry {
            stamp: Stamp {
                index: seq,
                seq,
                recorded_at: at,
                at,
            },
            seq,
            event_type: "SectionRevised",
            by: Arc::new(Actor {
                key: crate::crypto::SecretKey::from_seed(&[7; 32]).public(),
                party: None,
                name: "registrar".into(),
                role: "registrar".into(),
            }),
            summary: format!("entry {seq}").into(),
        }
    }

    fn seqs(t: &Timeline) -> Vec<u64> {
        t.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn behaves_like_a_vec_at_every_length() {
        let mut timeline = Timeline::new();
        let mut plain = Vec::new();
        for seq in 0..(3 * CHUNK as u64 + 5) {
            assert_eq!(timeline.len(), plain.len());
            assert_eq!(seqs(&timeline), plain);
            assert_eq!(timeline.iter().len(), plain.len());
            assert_eq!(timeline.last().map(|e| e.seq), plain.last().copied());
            for (i, seq) in plain.iter().enumerate() {
                assert_eq!(timeline[i].seq, *seq);
            }
            assert!(timeline.get(plain.len()).is_none());
            assert_eq!(
                serde_json::to_value(&timeline).expect("JSON"),
                serde_json::to_value(timeline.to_vec()).expect("JSON")
            );
            timeline.push(entry(seq));
            plain.push(seq);
        }
    }

    #[test]
    fn clones_share_sealed_chunks_and_stay_apart() {
        let mut a = Timeline::new();
        for seq in 0..(2 * CHUNK as u64 + 3) {
            a.push(entry(seq));
        }
        let mut b = a.clone();
        assert!(Arc::ptr_eq(
            a.sealed.as_ref().expect("sealed"),
            b.sealed.as_ref().expect("sealed")
        ));
        for seq in 100..(100 + CHUNK as u64) {
            b.push(entry(seq));
        }
        assert_eq!(a.len(), 2 * CHUNK + 3);
        assert_eq!(b.len(), 3 * CHUNK + 3);
        assert_eq!(seqs(&b)[..a.len()], seqs(&a)[..]);
        assert_eq!(b.last().map(|e| e.seq), Some(100 + CHUNK as u64 - 1));
        drop(a);
        assert_eq!(b.len(), 3 * CHUNK + 3);
    }

    /// 10,000 chunks dropped on a 256 KiB stack: a drop that recursed once per chunk would
    /// overflow it.
    #[test]
    fn a_long_timeline_drops_without_recursing() {
        let mut timeline = Timeline::new();
        let mut one = entry(0);
        one.summary = "".into();
        for _ in 0..(CHUNK * 10_000) {
            timeline.push(one.clone());
        }
        let dropped = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || drop(timeline))
            .expect("thread")
            .join();
        assert!(dropped.is_ok());
    }
}
