//! Appending and reading back: bytes, indexes, times, windows, big and Unicode payloads.

use overens_core::domain::StreamHead;
use overens_core::{Digest32, StreamId, Timestamp, VerifiedEvent};

use super::{
    Chain, agreement, append_ok, check_consistent, directory, expected_record, ok,
    party_registered, read_all, read_whole_stream, section_revised, snapshot,
};
use crate::{Appended, EventStore, StoredRecord};

/// An empty store: no records, every stream empty, reads past the end give nothing.
pub async fn empty_store<S: EventStore>(store: S) {
    assert_eq!(ok(store.len().await, "len"), 0);
    for stream in [directory(), agreement("tom")] {
        assert_eq!(ok(store.head(&stream).await, "head"), StreamHead::EMPTY);
        assert_eq!(read_whole_stream(&store, &stream).await, Vec::new());
        assert_eq!(
            ok(store.read_stream(&stream, 5, 10).await, "read_stream"),
            Vec::new()
        );
    }
    assert_eq!(ok(store.read_log(0, 10).await, "read_log"), Vec::new());
    assert_eq!(ok(store.read_log(7, 10).await, "read_log"), Vec::new());
    check_consistent(&snapshot(&store, &[&directory()]).await);
}

/// Single events and a batch, in two streams: the answers and every read give exactly the
/// canonical bytes that were signed, with their index, time, seq, id and hash.
pub async fn append_and_read_back<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("norrkoping-barn-och-unga"));

    let first = dir.next_event();
    let a = append_ok(&store, std::slice::from_ref(&first)).await;
    assert_eq!(
        a,
        Appended {
            indexes: vec![0],
            recorded_at: a.recorded_at,
            log_len: 1,
            repeated: false
        }
    );
    assert_eq!(ok(store.len().await, "len"), 1);

    let three = deal.batch(3);
    let b = append_ok(&store, &three).await;
    assert_eq!(b.indexes, vec![1, 2, 3]);
    assert_eq!(b.log_len, 4);
    assert!(!b.repeated);

    let last = dir.next_event();
    let c = append_ok(&store, std::slice::from_ref(&last)).await;
    assert_eq!(c.indexes, vec![4]);
    assert_eq!(c.log_len, 5);
    assert!(!c.repeated);

    let expected_dir = vec![
        expected_record(&first, 0, a.recorded_at),
        expected_record(&last, 4, c.recorded_at),
    ];
    let expected_deal: Vec<StoredRecord> = three
        .iter()
        .zip(1..)
        .map(|(e, i)| expected_record(e, i, b.recorded_at))
        .collect();
    assert_eq!(read_whole_stream(&store, &dir.stream).await, expected_dir);
    assert_eq!(read_whole_stream(&store, &deal.stream).await, expected_deal);

    let mut expected_log = vec![expected_dir[0].clone()];
    expected_log.extend(expected_deal.iter().cloned());
    expected_log.push(expected_dir[1].clone());
    assert_eq!(ok(store.read_log(0, 100).await, "read_log"), expected_log);
    for (record, event) in expected_log
        .iter()
        .zip([&first, &three[0], &three[1], &three[2], &last])
    {
        assert_eq!(record.envelope, event.canonical_bytes());
        // The stored line is a valid log record whose event is the signed envelope.
        let line = ok(record.to_log_record(), "to_log_record");
        assert_eq!(&line.event, event.envelope());
    }

    assert_eq!(ok(store.len().await, "len"), 5);
    assert_eq!(ok(store.head(&dir.stream).await, "head"), dir.head);
    assert_eq!(ok(store.head(&deal.stream).await, "head"), deal.head);
    assert_eq!(
        dir.head,
        StreamHead {
            next_seq: 2,
            prev: last.hash()
        }
    );
    assert_eq!(
        ok(store.head(&agreement("annan")).await, "head"),
        StreamHead::EMPTY
    );
    check_consistent(&snapshot(&store, &[]).await);
}

/// Appends to three streams, interleaved: the global indexes count 0, 1, 2, … across them,
/// and each stream keeps its own seqs.
pub async fn global_indexes_across_streams<S: EventStore>(store: S) {
    let mut chains = [
        Chain::new(directory()),
        Chain::new(agreement("a")),
        Chain::new(agreement("b")),
    ];
    let mut expected: Vec<(StreamId, u64)> = Vec::new();
    let mut next_index = 0;
    for round in 0..12usize {
        let chain = &mut chains[round % 3];
        let size = 1 + round % 3;
        let seq0 = chain.head.next_seq;
        let events = chain.batch(size);
        let appended = append_ok(&store, &events).await;
        let indexes: Vec<u64> = (next_index..next_index + size as u64).collect();
        assert_eq!(appended.indexes, indexes, "round {round}");
        assert_eq!(appended.log_len, next_index + size as u64);
        next_index += size as u64;
        expected.extend((seq0..seq0 + size as u64).map(|seq| (chain.stream.clone(), seq)));
    }
    let log = read_all(&store).await;
    let got: Vec<(StreamId, u64)> = log.iter().map(|r| (r.stream.clone(), r.seq)).collect();
    assert_eq!(got, expected);
    assert_eq!(ok(store.len().await, "len"), next_index);
    for chain in &chains {
        let records = read_whole_stream(&store, &chain.stream).await;
        assert_eq!(records.len() as u64, chain.head.next_seq);
        assert!(records.windows(2).all(|w| w[0].index < w[1].index));
        assert_eq!(ok(store.head(&chain.stream).await, "head"), chain.head);
    }
    check_consistent(&snapshot(&store, &[]).await);
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// `recorded_at` is the store's clock at commit, not the signer's `at`: the same for every
/// event of a batch, the value `append` returned, and never going back.
pub async fn recorded_at_is_assigned_by_the_store<S: EventStore>(store: S) {
    let slack = chrono::Duration::minutes(5);
    let start = now() - slack;
    let mut chains = [Chain::new(directory()), Chain::new(agreement("tid"))];
    let mut answers: Vec<(Appended, Vec<VerifiedEvent>)> = Vec::new();
    for round in 0..20usize {
        let events = chains[round % 2].batch(1 + round % 4);
        let appended = append_ok(&store, &events).await;
        answers.push((appended, events));
    }
    let end = now() + slack;
    let log = read_all(&store).await;
    let mut last: Option<Timestamp> = None;
    for (appended, events) in &answers {
        let t = appended.recorded_at;
        assert!(
            start <= t.datetime() && t.datetime() <= end,
            "recorded_at {t} is not the store's clock at the append (between {start} and {end})"
        );
        assert_ne!(t, events[0].at(), "recorded_at is the signer's `at`");
        if let Some(last) = last {
            assert!(last <= t, "recorded_at went back from {last} to {t}");
        }
        last = Some(t);
        for (index, event) in appended.indexes.iter().zip(events) {
            let record = &log[*index as usize];
            assert_eq!(record, &expected_record(event, *index, t));
        }
    }
    check_consistent(&snapshot(&store, &[]).await);
}

/// `read_stream` from a seq, with a limit: the window of that stream only.
pub async fn read_stream_window<S: EventStore>(store: S) {
    let mut main = Chain::new(agreement("fonster"));
    let mut other = Chain::new(directory());
    let mut events = Vec::new();
    for _ in 0..5 {
        let two = main.batch(2);
        append_ok(&store, &two).await;
        events.extend(two);
        append_ok(&store, &[other.next_event()]).await;
    }
    let all = read_whole_stream(&store, &main.stream).await;
    assert_eq!(all.len(), 10);
    for (record, event) in all.iter().zip(&events) {
        assert_eq!(record.envelope, event.canonical_bytes());
        assert_eq!(record.stream, main.stream);
    }
    let window = |from: u64, limit: usize| {
        let store = &store;
        let stream = main.stream.clone();
        async move { ok(store.read_stream(&stream, from, limit).await, "read_stream") }
    };
    assert_eq!(window(0, 10).await, all);
    assert_eq!(window(0, 100).await, all);
    assert_eq!(window(3, 4).await, all[3..7].to_vec());
    assert_eq!(window(8, 10).await, all[8..10].to_vec());
    assert_eq!(window(9, 1).await, all[9..10].to_vec());
    assert_eq!(window(0, 1).await, all[0..1].to_vec());
    assert_eq!(window(10, 5).await, Vec::new());
    assert_eq!(window(25, 5).await, Vec::new());
    assert_eq!(window(0, 0).await, Vec::new());
    assert_eq!(window(4, 0).await, Vec::new());
    assert_eq!(window(3, usize::MAX).await, all[3..].to_vec());
    // Seqs past any stream (past i64, too) give nothing, not the stream's start.
    assert_eq!(window(1 << 53, 5).await, Vec::new());
    assert_eq!(window(1 << 63, 5).await, Vec::new());
    assert_eq!(window(u64::MAX, usize::MAX).await, Vec::new());
}

/// `read_log` from an index, with a limit.
pub async fn read_log_window<S: EventStore>(store: S) {
    let mut chains = [Chain::new(directory()), Chain::new(agreement("logg"))];
    for round in 0..6 {
        let events = chains[round % 2].batch(2);
        append_ok(&store, &events).await;
    }
    let all = ok(store.read_log(0, 1000).await, "read_log");
    assert_eq!(all.len(), 12);
    assert_eq!(ok(store.read_log(0, usize::MAX).await, "read_log"), all);
    let window = |from: u64, limit: usize| {
        let store = &store;
        async move { ok(store.read_log(from, limit).await, "read_log") }
    };
    assert_eq!(window(0, 12).await, all);
    assert_eq!(window(0, 3).await, all[0..3].to_vec());
    assert_eq!(window(5, 4).await, all[5..9].to_vec());
    assert_eq!(window(5, 100).await, all[5..].to_vec());
    assert_eq!(window(11, 1).await, all[11..].to_vec());
    assert_eq!(window(12, 10).await, Vec::new());
    assert_eq!(window(40, 10).await, Vec::new());
    assert_eq!(window(0, 0).await, Vec::new());
    assert_eq!(window(7, 0).await, Vec::new());
    assert_eq!(window(1 << 63, 5).await, Vec::new());
    assert_eq!(window(u64::MAX, usize::MAX).await, Vec::new());
}

/// About a mebibyte of text that JCS must escape here and there.
fn big_text(seed: &str) -> String {
    let piece = format!(
        "{seed}: Östergötland \"citat\" \\ snedstreck\ttab\nrad \u{1} 🤝 samverkan kring barn och unga. "
    );
    let mut text = String::with_capacity(1 << 20);
    while text.len() < 1 << 20 {
        text.push_str(&piece);
    }
    text
}

/// Events of about 1 MiB, in the directory and in an agreement stream, come back byte for
/// byte.
pub async fn large_payloads<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("stor"));
    let big_name = dir.next_with(&party_registered(&big_text("namn")));
    let big_section = deal.next_with(&section_revised("Rubrik", &big_text("text")));
    let small = deal.next_event();
    assert!(big_name.canonical_bytes().len() > 1 << 20);
    assert!(big_section.canonical_bytes().len() > 1 << 20);

    let a = append_ok(&store, std::slice::from_ref(&big_name)).await;
    let b = append_ok(&store, &[big_section.clone(), small.clone()]).await;
    let expected = vec![
        expected_record(&big_name, 0, a.recorded_at),
        expected_record(&big_section, 1, b.recorded_at),
        expected_record(&small, 2, b.recorded_at),
    ];
    assert_eq!(ok(store.read_log(0, 10).await, "read_log"), expected);
    assert_eq!(read_whole_stream(&store, &dir.stream).await, expected[..1]);
    assert_eq!(read_whole_stream(&store, &deal.stream).await, expected[1..]);
    assert_eq!(ok(store.head(&deal.stream).await, "head"), deal.head);
    let line = ok(expected[1].to_log_record(), "to_log_record");
    assert_eq!(&line.event, big_section.envelope());
}

/// Names that catch any re-encoding or normalisation on the way through a store.
const UNICODE_NAMES: &[&str] = &[
    "Region Östergötland",
    // The same name decomposed (O + U+0308): a different text, and it must stay different.
    "Region O\u{308}sterg\u{6f}\u{308}tland",
    "Ängelholms kommun – Åre – Ærø",
    "🤝📜 Samverkan 👩🏽‍⚕️👨‍👩‍👧‍👦 🇸🇪",
    "اتفاقية التعاون بين البلديات",
    "\u{202B}הסכם שיתוף\u{202C} mixed \u{200F}RTL\u{200E}",
    "Z\u{351}\u{36b}\u{343}a\u{352}\u{33e}l\u{30f}g\u{35b}o",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10FFFF} \u{FEFF}bom \u{2028}ls \u{2029}ps",
    "citat \" snedstreck \\ nul \u{0} tab \t ny\nrad \u{1f} \u{7f}",
];

/// Swedish letters, emoji and ZWJ sequences, combining characters, right-to-left text,
/// escapes: every event comes back byte for byte, never normalised.
pub async fn unicode_round_trips<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("ostergotland"));
    let mut expected = Vec::new();
    for name in UNICODE_NAMES {
        let event = dir.next_with(&party_registered(name));
        let appended = append_ok(&store, std::slice::from_ref(&event)).await;
        expected.push(expected_record(
            &event,
            appended.indexes[0],
            appended.recorded_at,
        ));
        let section = deal.next_with(&section_revised(name, &format!("{name}\n{name}")));
        let appended = append_ok(&store, std::slice::from_ref(&section)).await;
        expected.push(expected_record(
            &section,
            appended.indexes[0],
            appended.recorded_at,
        ));
    }
    let log = read_all(&store).await;
    assert_eq!(log, expected);
    for (record, name) in log.iter().step_by(2).zip(UNICODE_NAMES) {
        if !name
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            let text = std::str::from_utf8(&record.envelope).expect("stored bytes are UTF-8");
            assert!(text.contains(name), "{name:?} is not stored as written");
        }
    }
    assert_ne!(
        log[0].envelope.len(),
        log[2].envelope.len(),
        "NFC and NFD stored alike"
    );
    assert_ne!(log[0].hash, log[2].hash);
    assert_ne!(log[0].hash, Digest32::ZERO);
    check_consistent(&snapshot(&store, &[]).await);
}

/// `find` gives the stored record of an id (appended or restored) and nothing for an id
/// no one stored.
pub async fn find_by_id<S: EventStore>(store: S) {
    let mut dir = Chain::new(directory());
    let mut deal = Chain::new(agreement("hitta"));
    assert_eq!(ok(store.find(super::fresh_id()).await, "find"), None);
    let restored = dir.next_event();
    let at = super::ts("2019-02-03T04:05:06.007Z");
    ok(
        store
            .restore(vec![super::restore_record(&restored, 0, at)])
            .await,
        "restore",
    );
    let events = deal.batch(3);
    let appended = append_ok(&store, &events).await;
    assert_eq!(
        ok(store.find(restored.envelope().id).await, "find"),
        Some(expected_record(&restored, 0, at))
    );
    for (event, index) in events.iter().zip(&appended.indexes) {
        assert_eq!(
            ok(store.find(event.envelope().id).await, "find"),
            Some(expected_record(event, *index, appended.recorded_at))
        );
    }
    let unsent = deal.at_head();
    assert_eq!(ok(store.find(unsent.envelope().id).await, "find"), None);
    check_consistent(&snapshot(&store, &[]).await);
}
