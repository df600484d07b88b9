//! The agreement pages in a real browser: the real binary serving the demo data, driven by
//! Debian's headless Chromium through chromedriver (WebDriver, with fantoccini). Every page
//! is opened and photographed (target/browser-screenshots/), the date picker and the diff
//! form are used as a person would, by keyboard and mouse, and party text holding markup
//! and a script is shown as text without running anything.
//!
//! Chromium and chromedriver must be installed (`.ci/run` installs them on a fresh
//! machine); without them these tests fail, saying so, rather than pass unchecked.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use overens_core::event::{AgreementDrafted, SectionRevised};
use overens_core::{Event, StreamId};
use overens_tests::{Server, workspace_root};
use serde_json::{Value, json};
use tempfile::TempDir;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const NORRKOPING: &str = "norrkoping-barn-och-unga";
const NORRTALJE: &str = "norrtalje-bus";

/// A chromedriver process with one headless Chromium session; both end on drop.
struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session's Chromium ends with its chromedriver.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the browser tests need Debian's `chromium` and `chromium-driver` \
         packages (no `{package}` here). `.ci/run` installs them; by hand: \
         apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver"
    );
}

/// A port free at the moment (chromedriver takes a port number, not a listener).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on the loopback")
}

impl Browser {
    async fn start() -> Browser {
        require(CHROMIUM, "chromium");
        require(CHROMEDRIVER, "chromium-driver");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // The date inputs read and write the locale's format: fix it.
            .env("LANG", "en_US.UTF-8")
            .env("LANGUAGE", "en_US")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let profile = TempDir::new().expect("a profile directory");
        let mut browser = Browser {
            client: None,
            driver,
            _profile: profile,
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    // Without these, Chromium's own connections are refused on a closed
                    // network and it stalls.
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--lang=en-US",
                    "--window-size=1280,1800",
                    format!("--user-data-dir={}", browser._profile.path().display()),
                ],
            }),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session from {CHROMEDRIVER} at {url}: {e}"),
            }
        };
        browser.client = Some(client);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    async fn open(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    async fn find(&self, css: &str) -> Element {
        match self.client().find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}", self.url().await),
        }
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self
            .client()
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find_all `{css}`: {e}"))
        {
            texts.push(element.text().await.expect("text"));
        }
        texts
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    async fn url(&self) -> String {
        self.client()
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Waits (at most 30 s) until the browser has navigated to a URL that `wanted` accepts:
    /// a click or a submission returns before the next page has loaded.
    async fn until_url(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.url().await;
            let loaded = self.js("return document.readyState").await == "complete";
            if wanted(&url) && loaded {
                return url;
            }
            assert!(Instant::now() < deadline, "still at {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.client()
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script `{script}`: {e}"))
    }

    /// The page as the person sees it, kept as a test artifact.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("a screenshot");
        let dir = screenshots();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

/// `target/browser-screenshots/` (of `CARGO_TARGET_DIR` when it is set).
fn screenshots() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("browser-screenshots")
}

fn demo() -> Server {
    Server::start(&["--demo", "--listen", "127.0.0.1:0"])
}

#[track_caller]
fn assert_has(haystack: &[String], needle: &str, what: &str) {
    assert!(
        haystack.iter().any(|t| t.contains(needle)),
        "{what}: no `{needle}` in {haystack:#?}"
    );
}

#[test]
fn every_page_shows_the_projections_in_swedish_and_english() {
    let server = demo();
    let base = server.base().to_owned();
    let api = server.get_ok(&format!("/v1/agreements/{NORRKOPING}"));
    runtime().block_on(async {
        let b = Browser::start().await;

        // The list: both agreements, their statuses in Swedish.
        b.open(&format!("{base}/")).await;
        assert_eq!(b.js("return document.documentElement.lang").await, "sv");
        let rows = b.texts("table.agreements tbody tr").await;
        assert_has(
            &rows,
            "Överenskommelse om samverkan – barn och unga",
            "the list",
        );
        assert_has(&rows, "omförhandling begärd", "Norrköping's status");
        assert_has(&rows, "Lokal BUS-överenskommelse, Norrtälje", "the list");
        b.screenshot("home-sv").await;

        // The agreement today, reached by its link.
        b.find(&format!("a[href='/agreements/{NORRKOPING}']"))
            .await
            .click()
            .await
            .expect("follow the link");
        b.until_url(|u| u == format!("{base}/agreements/{NORRKOPING}"))
            .await;
        let heading = b.text("h1").await;
        assert_eq!(heading, "Överenskommelse om samverkan – barn och unga");
        let not_signed = b.texts("#proposal .not-signed li").await;
        let signed = b.texts("#proposal .signed li").await;
        let expected_not_signed: Vec<String> = api["open_proposal"]["not_signed"]
            .as_array()
            .expect("the API's open proposal")
            .iter()
            .map(|p| p["name"].as_str().expect("a name").to_owned())
            .collect();
        assert_eq!(
            not_signed, expected_not_signed,
            "the same projection as the API"
        );
        assert_has(
            &not_signed,
            "Polisen, lokalpolisområde Norrköping",
            "not signed",
        );
        assert_has(&signed, "Region Östergötland", "signed");
        assert!(!signed.iter().any(|s| s.contains("Polisen")), "{signed:?}");
        let content = b.text("#content").await;
        assert!(content.contains("Barnsamverket"), "{content}");
        assert!(content.contains("adjungerad"), "{content}");
        let verify = b.text("#verify").await;
        assert!(
            verify.contains(&format!("overens verify {NORRKOPING}.bundle.json")),
            "{verify}"
        );
        assert!(verify.contains("--log-key 'overens/demo+"), "{verify}");
        let bundle = b
            .find("#verify a[download]")
            .await
            .attr("href")
            .await
            .expect("href");
        assert_eq!(
            bundle.as_deref(),
            Some(&*format!("/v1/agreements/{NORRKOPING}/bundle"))
        );
        let hash = b.find("#proposal code.hash").await;
        assert_eq!(
            hash.attr("title").await.expect("title"),
            api["open_proposal"]["content_hash"]
                .as_str()
                .map(str::to_owned),
            "the full hash on hover"
        );
        b.screenshot("agreement-sv").await;

        // The ledger: Region Östergötland signed version 1 in March 2020.
        b.find("nav.tabs a[href$='/signatures']")
            .await
            .click()
            .await
            .expect("the signatures tab");
        b.until_url(|u| u.ends_with("/signatures")).await;
        let rows = b.texts("table.ledger tbody tr").await;
        let region = rows
            .iter()
            .find(|r| r.contains("Region Östergötland") && r.contains("2020-03-24"))
            .unwrap_or_else(|| panic!("Region Östergötland's signature of March 2020: {rows:#?}"));
        assert!(region.contains("2020-03-24 13:40 CET"), "{region}");
        assert!(region.contains("digitalt"), "{region}");
        let utc = b
            .find("table.ledger tbody tr:nth-child(6) time[title]")
            .await
            .attr("title")
            .await
            .expect("title");
        assert_eq!(
            utc.as_deref(),
            Some("UTC: 2020-03-24T12:40:13Z"),
            "UTC on hover"
        );
        let not_signed = b.texts(".not-signed li").await;
        assert_has(
            &not_signed,
            "Kultur- och fritidskontoret",
            "the ledger's open proposal",
        );
        b.screenshot("signatures-sv").await;

        // The timeline: every line links to its inclusion proof, which the server has.
        b.find("nav.tabs a[href$='/timeline']")
            .await
            .click()
            .await
            .expect("the timeline tab");
        b.until_url(|u| u.ends_with("/timeline")).await;
        let links = b
            .client()
            .find_all(Locator::Css("table.timeline tbody th a"))
            .await
            .expect("links");
        let timeline = server.get_ok(&format!("/v1/agreements/{NORRKOPING}/timeline"));
        assert_eq!(links.len(), timeline.as_array().expect("a list").len());
        let first = links[0].attr("href").await.expect("href").expect("a link");
        let index = timeline[0]["stamp"]["index"].as_u64().expect("an index");
        assert_eq!(first, format!("/v1/log/proof/inclusion?index={index}"));
        b.screenshot("timeline-sv").await;
        links[0].click().await.expect("follow the proof link");
        b.until_url(|u| u.contains("/v1/log/proof/inclusion")).await;
        let proof: Value = serde_json::from_str(&b.text("body").await).expect("the proof is JSON");
        assert_eq!(proof["index"].as_u64(), Some(index), "{proof}");

        // One version whole.
        b.open(&format!("{base}/agreements/{NORRKOPING}/versions/1"))
            .await;
        assert_eq!(b.text(".lead").await, "gäller");
        let facts = b.text("dl.facts").await;
        assert!(facts.contains("Reviderad av parterna mars 2020"), "{facts}");
        let ledger = b.texts("table tbody tr").await;
        assert_has(&ledger, "Region Östergötland", "version 1's signatures");
        b.screenshot("version-sv").await;

        // The English toggle keeps the page and the query.
        b.open(&format!("{base}/agreements/{NORRTALJE}?on=2013-01-01"))
            .await;
        b.find("a.toggle").await.click().await.expect("the toggle");
        let url = b.until_url(|u| u.contains("lang=en")).await;
        assert_eq!(b.js("return document.documentElement.lang").await, "en");
        assert!(
            url.contains("on=2013-01-01") && url.contains("lang=en"),
            "{url}"
        );
        let answer = b.text("#answer").await;
        assert!(
            answer.contains("On 2013-01-01, version 2 was in force, from 2012-05-01."),
            "{answer}"
        );
        b.find("nav.tabs a[href$='/signatures?lang=en']")
            .await
            .click()
            .await
            .expect("English tabs keep English");
        b.until_url(|u| u.ends_with("/signatures?lang=en")).await;
        let rows = b.texts("table.ledger tbody tr").await;
        assert_has(
            &rows,
            "on paper (evidence: Undertecknat original",
            "paper signatures",
        );
        b.screenshot("signatures-en").await;
        b.find("a.toggle")
            .await
            .click()
            .await
            .expect("back to Swedish");
        b.until_url(|u| u.ends_with("/signatures")).await;
        assert_eq!(b.js("return document.documentElement.lang").await, "sv");

        // Unknown pages are HTML pages too.
        b.open(&format!("{base}/agreements/{NORRKOPING}/versions/9"))
            .await;
        assert!(b.text("main").await.contains("har ingen version ”9”"));
        b.screenshot("not-found-sv").await;
        b.close().await;
    });
}

/// Tab from the top of the page until the element with `id` has the focus.
async fn tab_to(b: &Browser, id: &str) -> usize {
    for presses in 1..=60 {
        b.client()
            .active_element()
            .await
            .expect("an active element")
            .send_keys(&Key::Tab.to_string())
            .await
            .expect("Tab");
        let focused = b.js("return document.activeElement.id").await;
        if focused == id {
            return presses;
        }
    }
    panic!("the keyboard never reached #{id}");
}

#[test]
fn the_date_picker_and_the_diff_form_by_keyboard() {
    let server = demo();
    let base = server.base().to_owned();
    runtime().block_on(async {
        let b = Browser::start().await;
        b.open(&format!("{base}/agreements/{NORRTALJE}")).await;
        // The first Tab reaches the skip link; further Tabs the date picker, with a
        // visible focus ring.
        let presses = tab_to(&b, "on").await;
        assert!(presses > 3, "{presses}");
        let outline = b
            .js("return getComputedStyle(document.activeElement).outlineStyle")
            .await;
        assert_eq!(outline, "solid", "the focus is visible");
        let label = b.text("label[for='on']").await;
        assert!(label.contains("Gällande den"), "{label}");
        // Typed as a person types into the date field (en-US order: month, day, year).
        let on = b.client().active_element().await.expect("the date field");
        on.send_keys("01012013").await.expect("type a date");
        assert_eq!(
            on.prop("value").await.expect("value").as_deref(),
            Some("2013-01-01"),
            "the date field holds the typed date"
        );
        b.screenshot("picker-filled-sv").await;
        on.send_keys(&Key::Enter.to_string()).await.expect("submit");
        b.until_url(|u| u.contains("on=2013-01-01")).await;
        let answer = b.text("#answer").await;
        assert!(
            answer.contains("Den 2013-01-01 gällde version 2, från 2012-05-01."),
            "{answer}"
        );
        assert!(answer.contains("dagen före 2014-02-01"), "{answer}");
        let known = b.find("#answer time").await;
        assert!(
            known
                .attr("title")
                .await
                .expect("title")
                .is_some_and(|t| t.starts_with("UTC: "))
        );
        b.screenshot("picker-answer-sv").await;

        // As known at the end of 2026-01-01: the paper history was not yet recorded.
        let as_of = b.find("#as_of").await;
        as_of.click().await.expect("focus as_of");
        as_of.send_keys("01012026").await.expect("type a date");
        b.find("#in-force-on button[type=submit]")
            .await
            .click()
            .await
            .expect("submit");
        b.until_url(|u| u.contains("as_of=2026-01-01")).await;
        let answer = b.text("#answer").await;
        assert!(
            answer.contains("Ingen version gällde den 2013-01-01."),
            "{answer}"
        );
        assert!(answer.contains("2026-01-01 23:59:59 CET"), "{answer}");

        // A bad value typed into the address bar is a 400 page that says why.
        b.open(&format!("{base}/agreements/{NORRTALJE}?on=2013-13-01"))
            .await;
        let message = b.text(".message").await;
        assert!(
            message.contains("”2013-13-01” är inte ett datum"),
            "{message}"
        );
        b.screenshot("bad-date-sv").await;

        // The diff: pick versions 1 and 3 in the form.
        b.open(&format!("{base}/agreements/{NORRTALJE}/diff")).await;
        b.find("#from")
            .await
            .select_by_value("1")
            .await
            .expect("from");
        b.find("#to").await.select_by_value("3").await.expect("to");
        b.find("form.picker button")
            .await
            .click()
            .await
            .expect("compare");
        let url = b.until_url(|u| u.contains("to=3")).await;
        assert!(url.ends_with("/diff?from=1&to=3"), "{url}");
        let heading = b.text("#h-changes").await;
        assert_eq!(heading, "Ändringar från version 1 till version 3");
        let inserted = b.texts("#changes ins").await;
        assert!(!inserted.is_empty(), "additions are marked");
        b.screenshot("diff-sv").await;
        b.close().await;
    });
}

#[test]
fn party_text_with_markup_and_script_is_shown_as_text_and_nothing_runs() {
    let server = demo();
    let social = overens_tests::examples::key("norrkoping-socialkontoret-1");
    let stream: StreamId = "agreement/injektion".parse().expect("stream");
    let script = "<script>window.pwned = 1</script>";
    let markup = "<b>fetstil</b> <img src=x onerror=\"window.pwned = 2\">";
    server.append_ok(
        &stream,
        &social,
        &Event::AgreementDrafted(AgreementDrafted {
            title: "Test <i>kursiv</i> titel".into(),
            parties: vec![
                "norrkoping-socialkontoret".parse().expect("party"),
                "norrkoping-utbildningskontoret".parse().expect("party"),
            ],
            preamble: format!("Inledning {markup}"),
        }),
    );
    server.append_ok(
        &stream,
        &social,
        &Event::SectionRevised(SectionRevised {
            section: "syfte".parse().expect("section"),
            heading: "Syfte <u>understruket</u>".into(),
            text: format!("{script} och {markup}"),
        }),
    );
    let base = server.base().to_owned();
    runtime().block_on(async {
        let b = Browser::start().await;
        b.open(&format!("{base}/agreements/injektion")).await;
        assert_eq!(b.text("h1").await, "Test <i>kursiv</i> titel");
        assert_eq!(
            b.text("#section-syfte h4").await,
            "Syfte <u>understruket</u>"
        );
        assert_eq!(
            b.text("#section-syfte p").await,
            format!("{script} och {markup}")
        );
        // Nothing the party wrote became an element, and nothing ran.
        assert_eq!(b.js("return document.scripts.length").await, 0);
        for tag in ["b", "i", "u", "img"] {
            let found = b
                .client()
                .find_all(Locator::Css(&format!("main {tag}")))
                .await
                .expect("find_all");
            assert!(found.is_empty(), "a <{tag}> element from party text");
        }
        assert_eq!(b.js("return typeof window.pwned").await, "undefined");
        b.screenshot("injection-sv").await;
        // The list and the timeline show the same text as text.
        b.open(&format!("{base}/")).await;
        assert_has(
            &b.texts("table.agreements tbody th").await,
            "Test <i>kursiv</i> titel",
            "the list",
        );
        b.open(&format!("{base}/agreements/injektion/timeline"))
            .await;
        assert_eq!(b.js("return document.scripts.length").await, 0);
        assert_eq!(b.js("return typeof window.pwned").await, "undefined");
        b.close().await;
    });
}
