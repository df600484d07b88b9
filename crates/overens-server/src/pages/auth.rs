//! With `--read-token`, the pages are reads like any other: a browser gives the token as
//! the password of HTTP Basic authentication (it asks for it), a client as a bearer token.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::{PageError, Req};
use crate::AppState;

pub(crate) async fn require_read_token(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !app.may_read(given(&request).as_deref()) {
        // The error page in the language asked for, if it can be read.
        let req = Req::new(request.uri()).unwrap_or_else(|_| Req::swedish(request.uri()));
        let t = req.t();
        let page = PageError {
            status: StatusCode::UNAUTHORIZED,
            chrome: Box::new(req.chrome(t.unauthorized, None)),
            message: t.needs_token.to_owned(),
        };
        let mut response = page.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Overens\", charset=\"UTF-8\""),
        );
        return response;
    }
    next.run(request).await
}

/// The token of `Authorization: Bearer TOKEN`, or the password of `Authorization: Basic`.
fn given(request: &Request) -> Option<Vec<u8>> {
    let value = request.headers().get(header::AUTHORIZATION)?.as_bytes();
    if let Some(token) = value.strip_prefix(b"Bearer ") {
        return Some(token.to_vec());
    }
    let encoded = value.strip_prefix(b"Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn with_a_read_token_pages_need_it_as_bearer_or_basic_password() {
        let f = fixture(Some("läs")).await;
        for uri in [
            "/",
            "/agreements/norrtalje-bus",
            "/agreements/nope",
            "/agreements/norrtalje-bus/timeline?lang=en",
        ] {
            let page = f.get(uri).await;
            assert_eq!(page.status, 401, "{uri}");
            assert_eq!(page.content_type, "text/html; charset=utf-8");
            assert!(
                page.headers
                    .get("www-authenticate")
                    .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Basic ")))
            );
            assert!(
                !page.body.contains("Norrtälje"),
                "nothing is shown without the token"
            );
        }
        let basic = |user_and_password: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user_and_password)
            )
        };
        for wrong in [
            "Bearer läsx".to_owned(),
            basic("anna:fel"),
            "Basic !!!".to_owned(),
        ] {
            assert_eq!(f.get_with("/", Some(&wrong)).await.status, 401, "{wrong}");
        }
        assert_eq!(f.get_with("/", Some("Bearer läs")).await.status, 200);
        assert_eq!(
            f.get_with(
                "/agreements/norrtalje-bus",
                Some(&basic("vem som helst:läs"))
            )
            .await
            .status,
            200
        );
        // The stylesheet is not a read.
        assert_eq!(f.get(super::super::assets::STYLE_PATH).await.status, 200);
    }

    /// The token's digest is compared, so a prefix, an extension or an empty token is just
    /// another wrong token; without a read token everyone may read.
    #[tokio::test]
    async fn only_the_exact_token_may_read() {
        let f = fixture(Some("läs")).await;
        assert!(f.app.needs_read_token());
        assert!(f.app.may_read(Some("läs".as_bytes())));
        for wrong in ["", "l", "lä", "läsa", "LÄS", "läs "] {
            assert!(!f.app.may_read(Some(wrong.as_bytes())), "{wrong:?}");
        }
        assert!(!f.app.may_read(None));
        let open = fixture(None).await;
        assert!(!open.app.needs_read_token());
        assert!(open.app.may_read(None) && open.app.may_read(Some(b"anything")));
    }
}
