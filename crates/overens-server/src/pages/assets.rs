//! The one stylesheet, built into the binary and served with a year-long cache header.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use overens_core::Digest32;

pub(crate) const STYLE_PATH: &str = "/assets/style.css";

const STYLE: &str = include_str!("../../assets/style.css");

/// The stylesheet's link, with a digest of its text as the query: a new build with a new
/// stylesheet gets a new URL, so the long cache never serves a stale one.
pub(crate) fn style_href() -> &'static str {
    static HREF: LazyLock<String> = LazyLock::new(|| {
        let digest = Digest32::of(STYLE.as_bytes()).to_hex();
        format!("{STYLE_PATH}?v={}", &digest[..16])
    });
    &HREF
}

pub(crate) async fn style() -> Response {
    let mut response = STYLE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use crate::pages::fixture::fixture;

    #[tokio::test]
    async fn the_stylesheet_is_cached_for_a_year_under_a_versioned_link() {
        let f = fixture(None).await;
        let css = f.get(super::style_href()).await;
        assert_eq!(css.status, 200);
        assert_eq!(css.content_type, "text/css; charset=utf-8");
        assert_eq!(
            css.headers
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("public, max-age=31536000, immutable")
        );
        assert!(css.body.contains(":focus-visible"));
        assert!(f.get("/").await.body.contains(super::style_href()));
    }
}
