//! Shared pieces of the long campaigns (crash and race): their knobs from the environment,
//! a seeded random source, an HTTP client that reports a dead server instead of panicking,
//! and the check of one stream's hash chain as a client sees it.

use std::time::Duration;

use overens_core::{Digest32, Envelope, StreamId};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::server::{Reply, events_path};

/// A whole number from the environment variable `name`, or `default` when it is unset.
/// A value that is not a number fails the test: a typo must not run the short version.
pub fn knob(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}={text:?} is not a whole number: {e}")),
        Err(_) => default,
    }
}

/// The campaign's random source, seeded from `name` if set, else from the clock. The seed
/// is printed, so a failing run can be repeated with `name=SEED`.
pub fn seeded(name: &str) -> (u64, StdRng) {
    let seed = match std::env::var(name) {
        Ok(_) => knob(name, 0),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5eed),
    };
    eprintln!("{name}={seed}");
    (seed, StdRng::seed_from_u64(seed))
}

/// Why a request got no answer: the server is gone (killed), or never answered in time.
pub type NoAnswer = ureq::Error;

/// An HTTP client of one server address that returns every status as an answer and a
/// missing answer as an error, so that a campaign can tell "refused" from "never answered".
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
    base: String,
}

impl Http {
    /// A client of `base` (`http://ADDR`); a request without an answer within `timeout` is
    /// an error.
    pub fn new(base: &str, timeout: Duration) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Http {
            agent,
            base: base.to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `method` on `path`, with a JSON body if any.
    pub fn send(&self, method: &str, path: &str, json: Option<&[u8]>) -> Result<Reply, NoAnswer> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if json.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let request = request
            .body(json.unwrap_or_default())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let mut response = self.agent.run(request)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()?;
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }

    pub fn get(&self, path: &str) -> Result<Reply, NoAnswer> {
        self.send("GET", path, None)
    }

    /// GET `path`, which must answer 200: the body. Panics when there is no answer too, so
    /// only for a server that is meant to be up.
    pub fn get_ok(&self, path: &str) -> String {
        let reply = self
            .get(path)
            .unwrap_or_else(|e| panic!("GET {path}: no answer: {e}"));
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.body
    }

    /// POST envelopes (one, or a batch as a JSON array) to their stream's events route.
    pub fn post_events(&self, stream: &StreamId, body: &[u8]) -> Result<Reply, NoAnswer> {
        self.send("POST", &events_path(stream), Some(body))
    }

    /// The stream's head: the `seq` and `prev` its next event must be signed with.
    pub fn head(&self, stream: &StreamId) -> Result<(u64, Digest32), NoAnswer> {
        let reply = self.get(&format!("/v1/streams/{stream}/head"))?;
        assert_eq!(reply.status, 200, "head of {stream}: {}", reply.body);
        let head = reply.json();
        let seq = head["next_seq"].as_u64().expect("next_seq");
        let prev = head["prev"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("prev: {head}"));
        Ok((seq, prev))
    }
}

/// The body of a post of `envelopes`: one envelope alone, several as a batch.
pub fn post_body(envelopes: &[Envelope]) -> Vec<u8> {
    let value = match envelopes {
        [one] => serde_json::to_value(one),
        many => serde_json::to_value(many),
    };
    value.expect("envelopes are JSON").to_string().into_bytes()
}

/// Checks a stream's raw events (NDJSON, as `GET /v1/agreements/{id}/events` serves them)
/// as a client that trusts nothing would: every line canonical and correctly signed, of
/// `stream`, `seq` 0, 1, 2, … and each `prev` the SHA-256 of the line before. Returns the
/// envelopes; panics naming the first line that breaks the chain.
pub fn verify_chain(stream: &StreamId, ndjson: &str) -> Vec<Envelope> {
    let mut prev = Digest32([0; 32]);
    let mut envelopes = Vec::new();
    for (seq, line) in ndjson.lines().enumerate() {
        let envelope = Envelope::from_canonical_bytes(line.as_bytes())
            .unwrap_or_else(|e| panic!("{stream} seq {seq} is not canonical: {e:?}"));
        assert_eq!(&envelope.stream, stream, "line {seq}");
        assert_eq!(envelope.seq, seq as u64, "{stream}: seq not contiguous");
        assert_eq!(
            envelope.prev, prev,
            "{stream} seq {seq}: prev is not the hash before"
        );
        envelope
            .clone()
            .verify()
            .unwrap_or_else(|e| panic!("{stream} seq {seq} does not verify: {e}"));
        prev = Digest32::of(line.as_bytes());
        envelopes.push(envelope);
    }
    envelopes
}
