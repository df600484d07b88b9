//! Race campaign over HTTP against the real binary, in two parts.
//!
//! Same `seq`: round after round, many clients sign different valid events against the
//! same head of one agreement stream and post them at the same instant. Exactly one gets
//! 201; every other gets 409 `stale-head`, and the log grows by exactly the winner. At the
//! end the stream holds exactly the winners, in order, chained; no loser is anywhere in
//! the log; the served records give the checkpoint's root.
//!
//! Signatures: the parties of an agreement sign its open proposal at the same time. Their
//! signatures chain on the stream too, so they race for `seq`s: each signer re-reads the
//! head and signs again after a 409 until its signature lands. No signature is lost or
//! doubled (the ledger holds each party's exactly once), and once all have signed the
//! version is in force, from today, superseding the one before.
//!
//! The default is a short run for CI; the full campaign, as docs/reliability.md records it:
//! `OVERENS_RACE_ROUNDS=1000 OVERENS_RACE_SIGN_ROUNDS=200 nice -n 10 cargo test --release
//! -p overens-tests --test it race_campaign -- --nocapture`.

use std::collections::HashSet;
use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::Duration;

use overens_core::event::{
    AgreementDrafted, RevisionProposed, RevisionSigned, SectionRevised, TitleAndPreambleRevised,
};
use overens_core::{Content, Digest32, Envelope, Event, EventId, LogRecord, SecretKey, StreamId};
use overens_tests::campaign::{Http, knob, post_body, verify_chain};
use overens_tests::log_audit::LogAuditor;
use overens_tests::server::{now, sign, today};
use overens_tests::{Server, overens_bin};
use serde_json::Value;

const RACE: &str = "kapplopning";
const SIGNED: &str = "underskrifter";

fn slug<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("a slug")
}

fn log_len(http: &Http) -> u64 {
    let health: Value = serde_json::from_str(&http.get_ok("/healthz")).expect("JSON");
    health["log_len"].as_u64().expect("log_len")
}

/// The 409 a loser of a race must get: `stale-head`, as a problem document, with the rule.
fn assert_stale_head(reply: &overens_tests::Reply, what: &str) {
    assert_eq!(reply.status, 409, "{what}: {}", reply.body);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/problem+json"),
        "{what}"
    );
    let problem = reply.json();
    assert_eq!(problem["type"], "/problems/stale-head", "{what}: {problem}");
    assert_eq!(problem["status"], 409, "{what}: {problem}");
    assert!(
        problem["rule"] == "wrong-seq" || problem["rule"] == "wrong-prev",
        "{what}: {problem}"
    );
}

/// Client `client`'s event for `round`: each different, each valid against any head of
/// the race (its text names the round, so it always changes something).
fn contender(client: usize, round: u64) -> Event {
    if client.is_multiple_of(2) {
        Event::SectionRevised(SectionRevised {
            section: slug(&format!("klient-{client}")),
            heading: format!("Klient {client}"),
            text: format!("Klient {client} skrev detta i runda {round}."),
        })
    } else {
        Event::TitleAndPreambleRevised(TitleAndPreambleRevised {
            title: format!("Kapplöpning, runda {round}"),
            preamble: format!("Klient {client} hann först i runda {round}."),
        })
    }
}

/// The figures of the same-`seq` part.
#[derive(Debug, Default)]
struct SeqFigures {
    posts: u64,
    winners: Vec<Envelope>,
    losers: Vec<EventId>,
}

/// `rounds` rounds of `clients` clients, each signing its own event against the same head
/// and posting it at the same instant (a barrier releases them together).
fn race_for_one_seq(base: &str, keys: &[SecretKey], clients: usize, rounds: u64) -> SeqFigures {
    let stream: StreamId = format!("agreement/{RACE}").parse().expect("stream");
    let http = Http::new(base, Duration::from_secs(30));
    let barrier = Barrier::new(clients);
    let (results, outcomes) = mpsc::channel();
    let mut figures = SeqFigures::default();
    thread::scope(|scope| {
        let mut jobs = Vec::new();
        for client in 0..clients {
            let (job, next) = mpsc::channel::<(u64, u64, Digest32)>();
            jobs.push(job);
            let (barrier, results, stream) = (&barrier, results.clone(), &stream);
            let key = &keys[client % keys.len()];
            scope.spawn(move || {
                let http = Http::new(base, Duration::from_secs(30));
                for (round, seq, prev) in next {
                    let envelope = sign(key, stream, seq, prev, now(), &contender(client, round));
                    let body = post_body(std::slice::from_ref(&envelope));
                    barrier.wait();
                    let reply = http
                        .post_events(stream, &body)
                        .unwrap_or_else(|e| panic!("client {client}: no answer: {e}"));
                    if results.send((envelope, reply)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(results);
        for round in 0..rounds {
            let (seq, prev) = http.head(&stream).expect("head");
            let before = log_len(&http);
            for job in &jobs {
                job.send((round, seq, prev)).expect("a client is waiting");
            }
            let round_results: Vec<_> = (0..clients)
                .map(|_| {
                    outcomes
                        .recv_timeout(Duration::from_secs(120))
                        .expect("every client answers")
                })
                .collect();
            figures.posts += clients as u64;
            let statuses: Vec<u16> = round_results.iter().map(|(_, r)| r.status).collect();
            let mut winner = None;
            for (envelope, reply) in round_results {
                if reply.status == 201 {
                    assert!(winner.is_none(), "round {round}: two winners: {statuses:?}");
                    winner = Some(envelope);
                } else {
                    assert_stale_head(&reply, &format!("round {round}"));
                    figures.losers.push(envelope.id);
                }
            }
            let winner = winner.unwrap_or_else(|| panic!("round {round}: no winner: {statuses:?}"));
            assert_eq!(
                http.head(&stream).expect("head"),
                (seq + 1, winner.hash()),
                "round {round}: the winner is not the new head"
            );
            assert_eq!(
                log_len(&http),
                before + 1,
                "round {round}: the log grew by more than the winner"
            );
            figures.winners.push(winner);
        }
    });
    figures
}

/// The figures of the signature part.
#[derive(Debug, Default)]
struct SignFigures {
    signatures: u64,
    posts: u64,
    conflicts: u64,
}

/// The draft as the server shows it, hashed: what a proposal must name.
fn draft_hash(http: &Http) -> Digest32 {
    let view: Value =
        serde_json::from_str(&http.get_ok(&format!("/v1/agreements/{SIGNED}"))).expect("JSON");
    let content: Content = serde_json::from_value(view["draft"].clone())
        .unwrap_or_else(|e| panic!("the draft is Content ({e}): {view}"));
    content.hash()
}

/// Version `version` of the agreement, proposed: every party signs it at once, each
/// retrying after a 409 with the head read again, until its signature lands.
fn sign_at_once(
    base: &str,
    parties: &[(String, SecretKey)],
    version: u32,
    hash: Digest32,
    figures: &mut SignFigures,
) {
    let stream: StreamId = format!("agreement/{SIGNED}").parse().expect("stream");
    let barrier = Barrier::new(parties.len());
    let tries: Vec<(u64, u64)> = thread::scope(|scope| {
        let handles: Vec<_> = parties
            .iter()
            .map(|(party, key)| {
                let (barrier, stream) = (&barrier, &stream);
                scope.spawn(move || {
                    let http = Http::new(base, Duration::from_secs(30));
                    let event = Event::RevisionSigned(RevisionSigned {
                        version,
                        content_hash: hash,
                        party: slug(party),
                    });
                    barrier.wait();
                    let (mut posts, mut conflicts) = (0, 0);
                    loop {
                        let (seq, prev) = http.head(stream).expect("head");
                        let envelope = sign(key, stream, seq, prev, now(), &event);
                        let reply = http
                            .post_events(stream, &post_body(&[envelope]))
                            .expect("an answer");
                        posts += 1;
                        if reply.status == 201 {
                            return (posts, conflicts);
                        }
                        assert_stale_head(&reply, &format!("{party} signing v{version}"));
                        conflicts += 1;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a signer panicked"))
            .collect()
    });
    figures.signatures += parties.len() as u64;
    for (posts, conflicts) in tries {
        figures.posts += posts;
        figures.conflicts += conflicts;
    }
}

/// Every party's signature of `version` is in the ledger exactly once, and the version is
/// in force from today (no `effective_from`: the last signature's date) in place of the one
/// before.
fn assert_all_signed_and_in_force(
    http: &Http,
    parties: &[(String, SecretKey)],
    version: u32,
    days: &[String],
) {
    let ledger: Value =
        serde_json::from_str(&http.get_ok(&format!("/v1/agreements/{SIGNED}/signatures")))
            .expect("JSON");
    let mut signed: Vec<&str> = ledger
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| s["version"] == version)
        .map(|s| s["party"].as_str().expect("party"))
        .collect();
    signed.sort_unstable();
    let mut expected: Vec<&str> = parties.iter().map(|(p, _)| p.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(
        signed, expected,
        "v{version}: each party's signature exactly once"
    );

    let view: Value =
        serde_json::from_str(&http.get_ok(&format!("/v1/agreements/{SIGNED}"))).expect("JSON");
    assert_eq!(view["status"], "in_force", "v{version}: {view}");
    assert_eq!(view["version_in_force"], version, "{view}");
    assert_eq!(view["open_proposal"], Value::Null, "{view}");
    let from = view["in_force_from"].as_str().expect("in_force_from");
    assert!(
        days.iter().any(|d| d == from),
        "v{version} in force from {from}"
    );
    if version > 1 {
        let before: Value = serde_json::from_str(
            &http.get_ok(&format!("/v1/agreements/{SIGNED}/versions/{}", version - 1)),
        )
        .expect("JSON");
        assert_eq!(before["status"], "superseded", "v{}: {before}", version - 1);
    }
}

#[test]
fn racing_clients_get_one_winner_per_seq_and_racing_signatures_all_land() {
    let rounds = knob("OVERENS_RACE_ROUNDS", 50);
    let clients = knob("OVERENS_RACE_CLIENTS", 16).max(2) as usize;
    let sign_rounds = knob("OVERENS_RACE_SIGN_ROUNDS", 5) as u32;
    let signers = knob("OVERENS_RACE_SIGNERS", 6).max(2) as usize;
    // Built (if need be) before the campaign is timed.
    overens_bin();
    let began = std::time::Instant::now();

    let tmp = tempfile::tempdir().expect("tmp");
    let registrar = SecretKey::from_seed(&[0xA0; 32]);
    let server = Server::start_new(&tmp.path().join("node"), &registrar);
    let parties: Vec<(String, SecretKey)> = (0..signers)
        .map(|i| {
            let key = SecretKey::from_seed(&[0xA1 + i as u8; 32]);
            let party = format!("part-{i}");
            server.register(&registrar, &party, &format!("Part {i}"), &key, "Signatär");
            (party, key)
        })
        .collect();
    let party_ids = || parties.iter().map(|(p, _)| slug(p)).collect::<Vec<_>>();
    for agreement in [RACE, SIGNED] {
        server.append_ok(
            &format!("agreement/{agreement}").parse().expect("stream"),
            &parties[0].1,
            &Event::AgreementDrafted(AgreementDrafted {
                title: format!("Överenskommelse {agreement}"),
                parties: party_ids(),
                preamble: "Parterna tävlar om samma plats i strömmen.".into(),
            }),
        );
    }
    let http = Http::new(server.base(), Duration::from_secs(30));

    // Part one: the same seq.
    let keys: Vec<SecretKey> = parties.iter().map(|(_, k)| k.clone()).collect();
    let seq = race_for_one_seq(server.base(), &keys, clients, rounds);
    let stream: StreamId = format!("agreement/{RACE}").parse().expect("stream");
    let raw = http.get_ok(&format!("/v1/agreements/{RACE}/events"));
    let chain = verify_chain(&stream, &raw);
    assert_eq!(
        chain.len() as u64,
        rounds + 1,
        "the draft and one winner per round"
    );
    assert_eq!(&chain[1..], seq.winners.as_slice(), "the winners, in order");

    // Part two: signatures on the same proposal at once.
    let signed_stream: StreamId = format!("agreement/{SIGNED}").parse().expect("stream");
    let mut sign = SignFigures::default();
    for version in 1..=sign_rounds {
        server.append_ok(
            &signed_stream,
            &parties[0].1,
            &Event::SectionRevised(SectionRevised {
                section: slug("villkor"),
                heading: "Villkor".into(),
                text: format!("Villkoren i version {version}."),
            }),
        );
        let hash = draft_hash(&http);
        server.append_ok(
            &signed_stream,
            &parties[0].1,
            &Event::RevisionProposed(RevisionProposed {
                version,
                content_hash: hash,
                note: format!("version {version}"),
                effective_from: None,
            }),
        );
        let day_before = today().to_string();
        sign_at_once(server.base(), &parties, version, hash, &mut sign);
        let days = [day_before, today().to_string()];
        assert_all_signed_and_in_force(&http, &parties, version, &days);
    }
    let raw = http.get_ok(&format!("/v1/agreements/{SIGNED}/events"));
    let chain = verify_chain(&signed_stream, &raw);
    // The draft, then per version a section, a proposal and a signature per party.
    assert_eq!(
        chain.len(),
        1 + sign_rounds as usize * (2 + parties.len()),
        "no signature lost or doubled in the chain"
    );

    // The whole log: the served records give the checkpoint's root; every winner is in it
    // once, no loser at all.
    let mut auditor = LogAuditor::new(&http);
    let checkpoint = auditor.fetch_checkpoint(&http);
    assert_eq!(checkpoint.size, log_len(&http));
    let ids: Vec<EventId> = auditor
        .check_records(&http, &checkpoint)
        .iter()
        .map(|line| LogRecord::parse_line(line).expect("a record").event.id)
        .collect();
    let in_log: HashSet<EventId> = ids.iter().copied().collect();
    assert_eq!(in_log.len(), ids.len(), "an event id twice in the log");
    assert!(seq.winners.iter().all(|w| in_log.contains(&w.id)));
    let stray = seq.losers.iter().filter(|id| in_log.contains(id)).count();
    assert_eq!(stray, 0, "losers of a race are in the log");

    eprintln!(
        "race campaign: {rounds} rounds of {clients} clients at one seq: {} posts, {} winners, \
         {} conflicts (409 stale-head), 0 losers in the log; {sign_rounds} proposals signed \
         at once by {signers} parties: {} signatures, {} posts, {} conflicts retried, none \
         lost or doubled; log of {} records, root verified; {:.1} s",
        seq.posts,
        seq.winners.len(),
        seq.losers.len(),
        sign.signatures,
        sign.posts,
        sign.conflicts,
        checkpoint.size,
        began.elapsed().as_secs_f64()
    );
}
