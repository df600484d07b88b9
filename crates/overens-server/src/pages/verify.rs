//! The "verify it yourself" panel: the latest checkpoint, the log's key, the agreement's
//! audit bundle and the exact `overens verify` command that checks it offline.

use axum::http::{HeaderMap, header};
use overens_core::Agreement;
use overens_pipeline::Snapshot;

use crate::AppState;

#[derive(Debug)]
pub(crate) struct VerifyPanel {
    /// The signed note, as `/v1/log/checkpoint` serves it.
    pub checkpoint: Option<String>,
    pub log_key: Option<String>,
    pub registrars: Vec<String>,
    pub bundle_href: String,
    /// The command lines: fetch the bundle, then verify it.
    pub commands: String,
}

pub(crate) fn panel(
    app: &AppState,
    snapshot: &Snapshot,
    agreement: &Agreement,
    headers: &HeaderMap,
) -> VerifyPanel {
    let id = agreement.id.as_str();
    let bundle_href = format!("/v1/agreements/{id}/bundle");
    let log_key = app.pipeline().log_key().map(ToString::to_string);
    let registrars: Vec<String> = snapshot
        .state
        .directory()
        .registrars()
        .iter()
        .map(ToString::to_string)
        .collect();
    let file = format!("{id}.bundle.json");
    let auth = if app.needs_read_token() {
        " -H \"Authorization: Bearer $OVERENS_READ_TOKEN\""
    } else {
        ""
    };
    let mut verify = format!("overens verify {file}");
    if let Some(key) = &log_key {
        verify.push_str(&format!(" \\\n    --log-key '{key}'"));
    }
    for registrar in &registrars {
        verify.push_str(&format!(" \\\n    --registrar {registrar}"));
    }
    VerifyPanel {
        checkpoint: snapshot.checkpoint.as_ref().map(|c| c.note_text.clone()),
        log_key,
        registrars,
        commands: format!(
            "curl -fsS{auth} -o {file} \\\n    'http://{}{bundle_href}'\n{verify}",
            host(headers)
        ),
        bundle_href,
    }
}

/// The `Host` the page was asked for, if it is a plain host name or address and port;
/// otherwise a placeholder (the header is the client's, and goes into a shell command).
fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("SERVER")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_a_plain_host_goes_into_the_command() {
        let mut headers = HeaderMap::new();
        assert_eq!(host(&headers), "SERVER");
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(host(&headers), "127.0.0.1:8080");
        headers.insert(header::HOST, HeaderValue::from_static("x';rm -rf ~;'"));
        assert_eq!(host(&headers), "SERVER");
    }
}
