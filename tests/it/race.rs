//! Many clients racing to append to one stream at the same `seq`: in every round exactly
//! one wins (201) and every other gets 409 `stale-head`; afterwards the stream's raw
//! events chain correctly from seq 0, each `prev` the SHA-256 of the line before.

use std::sync::{Arc, Barrier};
use std::thread;

use overens_core::event::{AgreementDrafted, SectionRevised};
use overens_core::{Digest32, Envelope, Event, SecretKey, StreamId};
use overens_tests::Server;
use overens_tests::server::{agent, envelope_json, events_path, now, sign};
use tempfile::TempDir;

const CLIENTS: usize = 16;
const ROUNDS: usize = 10;

#[test]
fn racing_appends_at_one_seq_have_exactly_one_winner_and_the_chain_holds() {
    let tmp = TempDir::new().expect("tmp");
    let registrar = SecretKey::from_seed(&[0x71; 32]);
    let alfa = SecretKey::from_seed(&[0x72; 32]);
    let beta = SecretKey::from_seed(&[0x73; 32]);
    let server = Arc::new(Server::start_new(&tmp.path().join("node"), &registrar));
    server.register(
        &registrar,
        "alfa-kommun",
        "Alfa kommun",
        &alfa,
        "Anna Andersson",
    );
    server.register(
        &registrar,
        "region-beta",
        "Region Beta",
        &beta,
        "Bertil Berg",
    );
    let stream: StreamId = "agreement/kapplopning".parse().expect("stream");
    server.append_ok(
        &stream,
        &alfa,
        &Event::AgreementDrafted(AgreementDrafted {
            title: "Kapplöpning".into(),
            parties: vec![
                "alfa-kommun".parse().expect("slug"),
                "region-beta".parse().expect("slug"),
            ],
            preamble: String::new(),
        }),
    );
    let keys = [alfa, beta];

    for round in 0..ROUNDS {
        let (seq, prev) = server.head(&stream);
        // Every client signs its own event against the same head, then all post at once.
        let envelopes: Vec<Envelope> = (0..CLIENTS)
            .map(|client| {
                let event = Event::SectionRevised(SectionRevised {
                    section: format!("r{round}-c{client}").parse().expect("slug"),
                    heading: format!("Runda {round}"),
                    text: format!("Klient {client} vann runda {round}."),
                });
                sign(&keys[client % 2], &stream, seq, prev, now(), &event)
            })
            .collect();
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let handles: Vec<_> = envelopes
            .into_iter()
            .map(|envelope| {
                let server = Arc::clone(&server);
                let barrier = Arc::clone(&barrier);
                let path = events_path(&envelope.stream);
                let body = envelope_json(&envelope).to_string();
                thread::spawn(move || {
                    let agent = agent();
                    barrier.wait();
                    let reply = server.request_with(
                        &agent,
                        "POST",
                        &path,
                        Some("application/json"),
                        body.as_bytes(),
                    );
                    (envelope, reply)
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect();
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.status == 201).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {:?}",
            results.iter().map(|(_, r)| r.status).collect::<Vec<_>>()
        );
        for (_, reply) in results.iter().filter(|(_, r)| r.status != 201) {
            assert_eq!(reply.status, 409, "round {round}: {}", reply.body);
            assert_eq!(
                reply.content_type.as_deref(),
                Some("application/problem+json")
            );
            assert_eq!(
                reply.json()["type"],
                "/problems/stale-head",
                "{}",
                reply.body
            );
        }
        // The winner's event is the stream's new head.
        let (winner, _) = winners[0];
        assert_eq!(
            server.head(&stream),
            (seq + 1, winner.hash()),
            "round {round}"
        );
    }

    // The raw events: seq 0..=ROUNDS, each canonical, each verifying, each chained.
    let events = server.get_raw("/v1/agreements/kapplopning/events");
    assert_eq!(events.status, 200, "{}", events.body);
    let lines: Vec<&str> = events.body.lines().collect();
    assert_eq!(lines.len(), ROUNDS + 1);
    let mut prev = Digest32([0; 32]);
    for (seq, line) in lines.iter().enumerate() {
        let envelope = Envelope::from_canonical_bytes(line.as_bytes())
            .unwrap_or_else(|e| panic!("seq {seq} is not canonical: {e:?}"));
        assert_eq!(envelope.seq, seq as u64);
        assert_eq!(envelope.prev, prev, "seq {seq}");
        envelope
            .verify()
            .unwrap_or_else(|e| panic!("seq {seq} does not verify: {e}"));
        prev = Digest32::of(line.as_bytes());
    }
    let health = server.get_ok("/healthz");
    // Directory: 2 parties and 2 signatories; the agreement: drafted and one per round.
    assert_eq!(health["log_len"], (4 + 1 + ROUNDS) as u64);
}
