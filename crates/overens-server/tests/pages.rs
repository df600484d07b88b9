//! The HTML pages through the whole router, next to the API they mirror: every page answers
//! HTML, says what the JSON says, stays out of the OpenAPI document and obeys the read token.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::example_app;
use overens_server::PAGE_ROUTES;
use serde_json::Value;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    router: axum::Router,
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

async fn fixture(token: Option<&str>) -> Fixture {
    let example = example_app(token).await;
    let (router, _) = overens_server::api(example.app);
    Fixture {
        _dir: example.dir,
        router,
    }
}

impl Fixture {
    async fn request(&self, method: Method, uri: &str, token: Option<&str>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            content_type,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.request(Method::GET, uri, None).await
    }

    async fn json(&self, uri: &str) -> Value {
        let answer = self.get(uri).await;
        assert_eq!(answer.status, 200, "{uri}: {}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    }
}

/// A page path with its parameters filled in.
fn instance(path: &str) -> String {
    path.replace("{id}", "norrtalje-bus").replace("{n}", "2")
}

#[tokio::test]
async fn every_page_is_html_and_none_is_in_the_document() {
    let f = fixture(None).await;
    let document = f.json("/openapi.json").await;
    let paths = document["paths"].as_object().unwrap();
    for path in PAGE_ROUTES {
        assert!(!paths.contains_key(*path), "{path} is documented");
        let answer = f.get(&instance(path)).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        if path.starts_with("/assets/") {
            assert_eq!(answer.content_type, "text/css; charset=utf-8");
            continue;
        }
        assert_eq!(answer.content_type, "text/html; charset=utf-8", "{path}");
        assert!(answer.body.starts_with("<!doctype html>"), "{path}");
        for landmark in ["<header", "<nav", "<main", "<footer", "<html lang=\"sv\">"] {
            assert!(answer.body.contains(landmark), "{path}: {landmark}");
        }
        let english = f.get(&format!("{}?lang=en", instance(path))).await;
        assert!(english.body.contains("<html lang=\"en\">"), "{path}");
        // Pages are read, never written.
        let post = f.request(Method::POST, &instance(path), None).await;
        assert_eq!(post.status, 405, "{path}");
    }
}

#[tokio::test]
async fn the_pages_say_what_the_api_says() {
    let f = fixture(None).await;
    let list = f.json("/v1/agreements").await;
    let home = f.get("/").await.body;
    for agreement in list.as_array().unwrap() {
        let id = agreement["id"].as_str().unwrap();
        assert!(home.contains(&format!("href=\"/agreements/{id}\"")), "{id}");
        let status = match agreement["status"].as_str().unwrap() {
            "draft" => "utkast",
            "awaiting_signatures" => "väntar på underskrifter",
            "in_force" => "gäller",
            "renegotiation_requested" => "omförhandling begärd",
            "terminated" => "upphörd",
            other => panic!("a status the pages do not know: {other}"),
        };
        let page = f.get(&format!("/agreements/{id}")).await.body;
        assert!(
            page.contains(&format!("<span class=\"status\">{status}</span>")),
            "{id}"
        );
        let view = f.json(&format!("/v1/agreements/{id}")).await;
        if let Some(proposal) = view["open_proposal"].as_object() {
            for party in proposal["not_signed"].as_array().unwrap() {
                let name = party["name"].as_str().unwrap();
                assert!(page.contains(&format!("<li>{name}</li>")), "{id}: {name}");
            }
        }
        let ledger = f.json(&format!("/v1/agreements/{id}/signatures")).await;
        let signatures = f.get(&format!("/agreements/{id}/signatures")).await.body;
        for row in ledger.as_array().unwrap() {
            let index = row["index"].as_u64().unwrap();
            assert!(
                signatures.contains(&format!("/v1/log/proof/inclusion?index={index}\"")),
                "{id}: signature at {index}"
            );
            let hash = row["content_hash"].as_str().unwrap();
            assert!(signatures.contains(&format!("title=\"{hash}\"")), "{id}");
        }
        let in_force = f
            .json(&format!("/v1/agreements/{id}/in-force?on=2021-06-01"))
            .await;
        let picked = f.get(&format!("/agreements/{id}?on=2021-06-01")).await.body;
        match in_force["version"].as_u64() {
            Some(n) => assert!(picked.contains(&format!("gällde version {n},")), "{id}"),
            None => assert!(
                picked.contains("Ingen version gällde den 2021-06-01."),
                "{id}"
            ),
        }
    }
}

#[tokio::test]
async fn with_a_read_token_the_pages_are_reads_like_the_api() {
    let token = "hemlig";
    let f = fixture(Some(token)).await;
    for path in PAGE_ROUTES.iter().filter(|p| !p.starts_with("/assets/")) {
        let uri = instance(path);
        let refused = f.get(&uri).await;
        assert_eq!(refused.status, 401, "{uri}");
        assert_eq!(refused.content_type, "text/html; charset=utf-8");
        let allowed = f.request(Method::GET, &uri, Some(token)).await;
        assert_eq!(allowed.status, 200, "{uri}");
    }
    assert_eq!(f.get("/v1/agreements").await.status, 401);
}
