//! Server-side filters for `$all` reads and subscriptions: on stream name or event type, by
//! prefixes or a regular expression, plus the checkpoint interval they imply.

// tonic handlers answer `Status` (176 bytes); boxing it only to unbox it at the handler adds
// noise to a test harness.
#![allow(clippy::result_large_err)]

use regex::Regex;
use tonic::Status;

use crate::database::RecordedEvent;
use crate::proto::streams::read_req::options::FilterOptions;
use crate::proto::streams::read_req::options::filter_options::{
    Expression, Filter as Kind, Window,
};

/// EventStoreDB's read batch size, the search window when the client asks for `count`.
const DEFAULT_WINDOW: u32 = 32;

/// What an event is matched on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    StreamName,
    EventType,
}

#[derive(Clone, Debug)]
enum Matcher {
    /// Any of the prefixes (a non-empty list wins over a regex, as on the real server).
    Prefixes(Vec<String>),
    Regex(Regex),
}

/// A filter as sent in `ReadReq.Options.filter`.
#[derive(Clone, Debug)]
pub(crate) struct EventFilter {
    field: Field,
    matcher: Matcher,
    /// Events considered (matching or not) between two checkpoints in a subscription.
    pub(crate) checkpoint_interval: u64,
}

impl EventFilter {
    pub(crate) fn from_proto(options: FilterOptions) -> Result<EventFilter, Status> {
        let (field, expression) = match options.filter {
            Some(Kind::StreamIdentifier(expression)) => (Field::StreamName, expression),
            Some(Kind::EventType(expression)) => (Field::EventType, expression),
            None => {
                return Err(Status::invalid_argument(
                    "filter without a stream or event-type expression",
                ));
            }
        };
        let window = match options.window {
            Some(Window::Max(max)) if max > 0 => max,
            Some(Window::Max(_)) => {
                return Err(Status::invalid_argument(
                    "filter window max must be positive",
                ));
            }
            Some(Window::Count(_)) | None => DEFAULT_WINDOW,
        };
        if options.checkpoint_interval_multiplier == 0 {
            // The real server throws ArgumentOutOfRange here.
            return Err(Status::invalid_argument(
                "checkpointIntervalMultiplier must be positive",
            ));
        }
        Ok(EventFilter {
            field,
            matcher: matcher(expression)?,
            checkpoint_interval: u64::from(window)
                * u64::from(options.checkpoint_interval_multiplier),
        })
    }

    pub(crate) fn matches(&self, event: &RecordedEvent) -> bool {
        let value = match self.field {
            Field::StreamName => event.stream.as_str(),
            Field::EventType => event.event_type.as_str(),
        };
        match &self.matcher {
            Matcher::Prefixes(prefixes) => prefixes.iter().any(|p| value.starts_with(p.as_str())),
            Matcher::Regex(regex) => regex.is_match(value),
        }
    }
}

fn matcher(expression: Expression) -> Result<Matcher, Status> {
    if !expression.prefix.is_empty() {
        return Ok(Matcher::Prefixes(expression.prefix));
    }
    // Rust's regex, not .NET's: the same for the simple patterns filters use
    // (`^[^\$].*`, `^overens-`), not for look-around or backreferences.
    Regex::new(&expression.regex)
        .map(Matcher::Regex)
        .map_err(|e| Status::invalid_argument(format!("invalid filter regex: {e}")))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use uuid::Uuid;

    use super::*;

    fn event(stream: &str, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            stream: stream.into(),
            revision: 0,
            id: Uuid::nil(),
            event_type: event_type.into(),
            content_type: "application/octet-stream",
            created_ticks: 0,
            data: Bytes::new(),
            custom_metadata: Bytes::new(),
            position: 1,
        }
    }

    fn filter(
        kind: fn(Expression) -> Kind,
        regex: &str,
        prefix: &[&str],
        window: Option<Window>,
    ) -> Result<EventFilter, Status> {
        EventFilter::from_proto(FilterOptions {
            filter: Some(kind(Expression {
                regex: regex.into(),
                prefix: prefix.iter().map(|p| (*p).into()).collect(),
            })),
            window,
            checkpoint_interval_multiplier: 2,
        })
    }

    #[test]
    fn prefixes_regex_and_event_types() {
        let f = filter(Kind::StreamIdentifier, "", &["a-", "b-"], None).expect("valid filter");
        assert!(f.matches(&event("a-1", "x")) && f.matches(&event("b-1", "x")));
        assert!(!f.matches(&event("c-1", "a-")));
        assert_eq!(f.checkpoint_interval, 64);

        let f = filter(
            Kind::StreamIdentifier,
            r"^[^\$].*",
            &[],
            Some(Window::Max(5)),
        )
        .expect("valid filter");
        assert!(f.matches(&event("user", "x")) && !f.matches(&event("$stats", "x")));
        assert_eq!(f.checkpoint_interval, 10);

        let f = filter(Kind::EventType, "", &["Signed"], None).expect("valid filter");
        assert!(f.matches(&event("s", "SignedRevision")) && !f.matches(&event("Signed", "x")));
    }

    #[test]
    fn bad_filters_are_refused() {
        let err = filter(Kind::StreamIdentifier, "(", &[], None).expect_err("invalid regex");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        let err = filter(Kind::StreamIdentifier, "", &["a"], Some(Window::Max(0)))
            .expect_err("zero window");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
}
