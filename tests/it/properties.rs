//! Property tests over the example log: folding is order-faithful, and tampering is caught.

use overens_core::projection::{agreement_view, signature_ledger, versions};
use overens_core::{LogRecord, Recorded, State, replay_log_file};
use proptest::prelude::*;
use serde_json::{Value, json};

use overens_tests::examples;

/// Everything a reader can see of a state, as JSON, so two states can be compared.
fn snapshot(state: &State) -> Value {
    let dir = state.directory();
    let agreements: Vec<Value> = state
        .agreements()
        .map(|a| {
            json!({
                "view": agreement_view(dir, a),
                "versions": versions(dir, a),
                "ledger": signature_ledger(dir, a),
                "timeline": a.timeline,
            })
        })
        .collect();
    json!({
        "len": state.len(),
        "parties": dir.parties().collect::<Vec<_>>(),
        "signatories": dir.signatories().collect::<Vec<_>>(),
        "agreements": agreements,
    })
}

fn one_pass() -> State {
    replay_log_file(&examples::log_text(), examples::state()).expect("the example log is valid")
}

/// Event by event: verify, decide, evolve as separate steps, with the state cloned (as after
/// a restart) at `split`.
fn event_by_event(split: usize) -> State {
    let mut state = examples::state();
    for (i, line) in examples::log_text().lines().enumerate() {
        if i == split {
            state = state.clone();
        }
        let record = LogRecord::parse_line(line).expect("canonical record");
        let event = record.event.clone().verify().expect("verifies");
        state.decide(&event).expect("accepted");
        state.evolve(Recorded {
            index: record.index,
            recorded_at: record.recorded_at,
            event: &event,
        });
    }
    state
}

fn lines() -> Vec<String> {
    examples::log_text().lines().map(str::to_owned).collect()
}

fn detected(lines: &[String]) -> bool {
    let mut text = lines.join("\n");
    text.push('\n');
    replay_log_file(&text, examples::state()).is_err()
}

#[test]
fn one_pass_fold_equals_event_by_event() {
    let expected = snapshot(&one_pass());
    let n = lines().len();
    for split in [0, 1, n / 2, n - 1] {
        assert_eq!(
            snapshot(&event_by_event(split)),
            expected,
            "split at {split}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fold_is_independent_of_where_it_resumes(split in 0usize..200) {
        let n = lines().len();
        prop_assert_eq!(snapshot(&event_by_event(split % n)), snapshot(&one_pass()));
    }

    /// Any single-byte change inside an envelope is caught: as invalid UTF-8, a non-canonical
    /// line, a malformed field, a bad signature or a broken chain.
    #[test]
    fn any_byte_change_in_an_envelope_is_detected(line in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut all = lines();
        let i = line.index(all.len());
        let start = all[i].find("\"event\":").expect("record has an event") + "\"event\":".len();
        let end = all[i].len() - 1; // the record's closing brace is not part of the envelope
        let at = start + pos.index(end - start);
        let mut bytes = all[i].clone().into_bytes();
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        match String::from_utf8(bytes) {
            Err(_) => {} // a log file must be UTF-8: reading it already fails
            Ok(changed) => {
                all[i] = changed;
                prop_assert!(detected(&all), "undetected change at line {} byte {}", i + 1, at);
            }
        }
    }

    #[test]
    fn deleting_a_record_before_the_last_is_detected(line in any::<prop::sample::Index>()) {
        let mut all = lines();
        let i = line.index(all.len() - 1);
        all.remove(i);
        prop_assert!(detected(&all));
    }

    #[test]
    fn duplicating_a_record_is_detected(line in any::<prop::sample::Index>()) {
        let mut all = lines();
        let i = line.index(all.len());
        let copy = all[i].clone();
        all.insert(i + 1, copy);
        prop_assert!(detected(&all));
    }

    #[test]
    fn reordering_records_is_detected(a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let mut all = lines();
        let (i, j) = (a.index(all.len()), b.index(all.len()));
        prop_assume!(all[i] != all[j]);
        all.swap(i, j);
        prop_assert!(detected(&all));
    }

    /// Even if the indexes are rewritten to hide a deletion, the per-stream chain catches it
    /// whenever the deleted event has a successor in its stream. (A stream's last event can
    /// only be protected by the transparency log's signed checkpoints.)
    #[test]
    fn a_renumbered_deletion_is_caught_by_the_chain(line in any::<prop::sample::Index>()) {
        let mut records: Vec<LogRecord> =
            lines().iter().map(|l| LogRecord::parse_line(l).expect("canonical")).collect();
        let i = line.index(records.len() - 1);
        let removed = records.remove(i);
        let has_successor = records[i..].iter().any(|r| r.event.stream == removed.event.stream);
        prop_assume!(has_successor);
        for (index, record) in records.iter_mut().enumerate() {
            record.index = index as u64;
        }
        let renumbered: Vec<String> = records.iter().map(LogRecord::to_line).collect();
        prop_assert!(detected(&renumbered));
    }
}
