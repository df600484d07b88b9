//! The HTTP client of `overens submit`: a stream's head, and the append of a signed envelope.
//! Blocking (ureq): one request at a time is all a command-line signer needs, and it keeps
//! the async runtime out of the client side.
//!
//! Every 4xx and 5xx answer is an answer, not a transport error: the server's problem
//! document (RFC 9457) is read and shown to the user.

use std::fmt;
use std::time::Duration;

use overens_core::{Digest32, Envelope, StreamId};
use serde::Deserialize;

use crate::error::CliError;

/// What `GET /v1/streams/<stream>/head` answers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Head {
    pub(crate) next_seq: u64,
    pub(crate) prev: String,
}

/// What a successful `POST /v1/streams/<stream>/events` answers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AppendResult {
    pub(crate) stream: String,
    pub(crate) indexes: Vec<u64>,
    pub(crate) recorded_at: String,
    pub(crate) log_len: u64,
    pub(crate) repeated: bool,
}

/// A problem document (RFC 9457) as the server sent it, with the HTTP status.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Problem {
    #[serde(skip)]
    pub(crate) status: u16,
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) detail: Option<String>,
    #[serde(default)]
    pub(crate) rule: Option<String>,
}

impl Problem {
    /// `stale-head`: the stream moved on between the head and the append; signing again
    /// against the new head is the fix (design §2.1).
    pub(crate) fn is_stale_head(&self) -> bool {
        self.kind == "/problems/stale-head"
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.kind)?;
        if let Some(rule) = &self.rule {
            write!(f, " (rule {rule})")?;
        }
        match (&self.detail, &self.title) {
            (Some(detail), _) => write!(f, ": {detail}"),
            (None, Some(title)) => write!(f, ": {title}"),
            (None, None) => Ok(()),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client for the server at `url` (`http://host:port`, optionally with a path prefix).
    pub(crate) fn new(url: &str) -> Result<Client, CliError> {
        let base = url.trim_end_matches('/');
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(CliError::ServerUrl {
                url: url.to_owned(),
                reason: "the server's URL starts with http:// (e.g. http://127.0.0.1:8080)".into(),
            });
        }
        if base.starts_with("https://") {
            return Err(CliError::ServerUrl {
                url: url.to_owned(),
                reason: "this build of overens speaks plain http only; put the server behind \
                         a local tunnel, or use an http:// URL"
                    .into(),
            });
        }
        let config = ureq::Agent::config_builder()
            // 4xx/5xx carry a problem document: an answer to show, not a transport error.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("overens/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            agent: config.into(),
            base: base.to_owned(),
        })
    }

    fn url(&self, stream: &StreamId, what: &str) -> String {
        // Stream names are `directory` and `agreement/<slug>`: safe in a path as they are.
        format!("{}/v1/streams/{stream}/{what}", self.base)
    }

    /// The `seq` and `prev` the next event of `stream` must be signed with.
    pub(crate) fn head(&self, stream: &StreamId) -> Result<(u64, Digest32), CliError> {
        let url = self.url(stream, "head");
        let response = self.agent.get(&url).call().map_err(http_error(&url))?;
        let head: Head = match read_answer(&url, response)? {
            Ok(head) => head,
            Err(problem) => return Err(CliError::Refused(Box::new(problem))),
        };
        let prev = head.prev.parse().map_err(|e| CliError::Unexpected {
            url: url.clone(),
            status: 200,
            body: format!("the head's prev `{}` is not a hash: {e}", head.prev),
        })?;
        Ok((head.next_seq, prev))
    }

    /// Posts one signed envelope to its stream. `Ok(Err(problem))` is the server refusing it.
    pub(crate) fn append(
        &self,
        envelope: &Envelope,
    ) -> Result<Result<AppendResult, Problem>, CliError> {
        let url = self.url(&envelope.stream, "events");
        let response = self
            .agent
            .post(&url)
            .send_json(envelope)
            .map_err(http_error(&url))?;
        read_answer(&url, response)
    }

    /// The base URL, without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The consistency proof (RFC 9162) that the tree of `from` records is a prefix of the
    /// tree of `to`. `Ok(Err(problem))` is the server refusing to give one.
    pub(crate) fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Result<overens_log::ConsistencyProof, Problem>, CliError> {
        let url = format!("{}/v1/log/proof/consistency?from={from}&to={to}", self.base);
        let response = self.agent.get(&url).call().map_err(http_error(&url))?;
        read_answer(&url, response)
    }
}

fn http_error(url: &str) -> impl Fn(ureq::Error) -> CliError + '_ {
    move |error| CliError::Http {
        url: url.to_owned(),
        error: error.to_string(),
    }
}

/// A 2xx answer read as `T`, a problem document as `Err(Problem)`; anything else (an HTML
/// error page from a proxy, say) is an unexpected answer.
fn read_answer<T: serde::de::DeserializeOwned>(
    url: &str,
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<Result<T, Problem>, CliError> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(http_error(url))?;
    let unexpected = |reason: String| CliError::Unexpected {
        url: url.to_owned(),
        status,
        body: reason,
    };
    if (200..300).contains(&status) {
        return serde_json::from_str(&body)
            .map(Ok)
            .map_err(|e| unexpected(format!("{e}: {}", excerpt(&body))));
    }
    match serde_json::from_str::<Problem>(&body) {
        Ok(mut problem) if problem.kind.starts_with("/problems/") => {
            problem.status = status;
            Ok(Err(problem))
        }
        _ => Err(unexpected(excerpt(&body))),
    }
}

fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None if trimmed.is_empty() => "(empty body)".into(),
        None => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_http() {
        assert!(Client::new("http://127.0.0.1:8080/").is_ok());
        assert!(Client::new("127.0.0.1:8080").is_err());
        assert!(Client::new("ftp://x").is_err());
    }

    #[test]
    fn stream_urls() {
        let client = Client::new("http://h:1/").expect("url");
        let stream: StreamId = "agreement/norrtalje-bus".parse().expect("stream");
        assert_eq!(
            client.url(&stream, "head"),
            "http://h:1/v1/streams/agreement/norrtalje-bus/head"
        );
        assert_eq!(
            client.url(&StreamId::Directory, "events"),
            "http://h:1/v1/streams/directory/events"
        );
    }

    #[test]
    fn problems_read_as_one_line() {
        let problem = Problem {
            status: 403,
            kind: "/problems/signer-not-allowed".into(),
            title: Some("The signer may not sign this event".into()),
            detail: Some("a party acts only for itself".into()),
            rule: Some("party-acts-for-itself".into()),
        };
        assert_eq!(
            problem.to_string(),
            "HTTP 403 /problems/signer-not-allowed (rule party-acts-for-itself): a party acts only for itself"
        );
        assert!(!problem.is_stale_head());
    }
}
