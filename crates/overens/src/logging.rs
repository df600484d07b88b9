//! Structured logs of `overens serve`, on stderr (stdout carries the lines scripts read).

use std::io::{self, IsTerminal as _, Write as _};

use tracing_subscriber::EnvFilter;

/// The variable that holds the filter, in `tracing-subscriber`'s `EnvFilter` syntax.
pub(crate) const LOG_VARIABLE: &str = "OVERENS_LOG";

/// Info, plus the one line per request that the server's `TraceLayer` writes when a response
/// is sent (it logs at debug level, inside a debug-level span that carries the method and
/// URI; its "started processing" line stays off).
pub(crate) const DEFAULT_FILTER: &str =
    "info,tower_http::trace::make_span=debug,tower_http::trace::on_response=debug";

/// Installs the global subscriber. Called once, by `serve`.
pub(crate) fn init() {
    let filter = match std::env::var(LOG_VARIABLE) {
        Err(_) => EnvFilter::new(DEFAULT_FILTER),
        Ok(text) => EnvFilter::try_new(&text).unwrap_or_else(|e| {
            let _ = writeln!(
                io::stderr(),
                "overens: {LOG_VARIABLE}=`{text}` is not a log filter ({e}); using `{DEFAULT_FILTER}`"
            );
            EnvFilter::new(DEFAULT_FILTER)
        }),
    };
    // A second subscriber (there is none) would be the only way this fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
}
