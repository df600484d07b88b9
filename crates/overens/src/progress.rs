//! The replay progress bar, shared by `overens replay` and `overens serve` start-up: drawn
//! only for a person watching a terminal; logs and pipes get the summary line alone.

use std::io::{self, IsTerminal as _};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub(crate) struct ReplayProgress {
    bar: Option<ProgressBar>,
}

impl ReplayProgress {
    /// A bar on stderr if stderr is a terminal, nothing otherwise.
    pub(crate) fn on_terminal() -> Self {
        ReplayProgress {
            bar: io::stderr().is_terminal().then(progress_bar),
        }
    }

    /// The replay's callback: `done` of `total` records checked.
    pub(crate) fn update(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "replaying {bar:40} {human_pos}/{human_len} events, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}
