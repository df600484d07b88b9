//! The readable source `history.toml`: registrar names and an ordered list of `[[event]]`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;

use crate::error::{Error, Problem};
use crate::keys::check_key_name;
use overens_core::{StreamId, Timestamp};

/// The whole history, checked for shape but not yet against the domain rules.
#[derive(Debug, Clone)]
pub struct Source {
    /// Names of the registrar keys: the trust anchors the log is generated against.
    pub registrars: Vec<String>,
    pub entries: Vec<Entry>,
}

/// One `[[event]]` of the source.
#[derive(Debug, Clone)]
pub struct Entry {
    /// 0-based place in the log: the event's log index.
    pub position: usize,
    /// The line of the entry's `type`, for error messages.
    pub line: usize,
    pub recorded_at: Timestamp,
    pub at: Timestamp,
    pub stream: StreamId,
    /// A key name (`registrar`, `kson-1`, …), not a key.
    pub signer: String,
    pub kind: String,
    /// The payload as JSON, placeholders (`key_name`, `content_hash = "auto"`) still in it.
    pub payload: Map<String, Value>,
}

impl Entry {
    pub(crate) fn fail(&self, problem: Problem) -> Error {
        Error::Entry {
            position: self.position,
            line: self.line,
            kind: self.kind.clone(),
            problem: Box::new(problem),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    registrars: Vec<String>,
    #[serde(default)]
    event: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    recorded_at: String,
    at: String,
    stream: String,
    signer: String,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    payload: toml::Table,
}

impl Source {
    /// Parses and checks the source: TOML shape, times, streams, event types, payload values,
    /// and that every signer is a registrar or a key enrolled by an earlier entry.
    pub fn parse(text: &str) -> Result<Source, Error> {
        let raw: RawSource = toml::from_str(text)?;
        let mut known = BTreeSet::new();
        for name in &raw.registrars {
            check_key_name(name).map_err(|p| Error::Registrars(Box::new(p)))?;
            if !known.insert(name.clone()) {
                return Err(Error::Registrars(Box::new(Problem::DuplicateKeyName(
                    name.clone(),
                ))));
            }
        }
        let mut entries = Vec::with_capacity(raw.event.len());
        for (position, raw) in raw.event.into_iter().enumerate() {
            let line = line_of(text, raw.kind.span().start);
            let kind = raw.kind.into_inner();
            let fail = |problem| Error::Entry {
                position,
                line,
                kind: kind.clone(),
                problem: Box::new(problem),
            };
            if !overens_core::event::EVENT_TYPES.contains(&kind.as_str()) {
                return Err(fail(Problem::UnknownType(kind.clone())));
            }
            let recorded_at = timestamp("recorded_at", &raw.recorded_at).map_err(fail)?;
            let at = timestamp("at", &raw.at).map_err(fail)?;
            let stream = raw
                .stream
                .parse::<StreamId>()
                .map_err(|e| Problem::BadField {
                    field: "stream",
                    reason: e.to_string(),
                })
                .map_err(fail)?;
            if !known.contains(&raw.signer) {
                return Err(fail(Problem::UnknownKey(raw.signer)));
            }
            let payload = to_json_object(raw.payload, "payload").map_err(fail)?;
            // Enrolment introduces the key name that later entries sign with.
            if kind == "SignatoryEnrolled"
                && let Some(Value::String(name)) = payload.get("key_name")
            {
                check_key_name(name).map_err(fail)?;
                if !known.insert(name.clone()) {
                    return Err(fail(Problem::DuplicateKeyName(name.clone())));
                }
            }
            entries.push(Entry {
                position,
                line,
                recorded_at,
                at,
                stream,
                signer: raw.signer,
                kind,
                payload,
            });
        }
        Ok(Source {
            registrars: raw.registrars,
            entries,
        })
    }
}

fn timestamp(field: &'static str, text: &str) -> Result<Timestamp, Problem> {
    text.parse()
        .map_err(|e: overens_core::time::TimestampError| Problem::BadField {
            field,
            reason: e.to_string(),
        })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn to_json_object(table: toml::Table, path: &str) -> Result<Map<String, Value>, Problem> {
    table
        .into_iter()
        .map(|(key, value)| {
            let inner = format!("{path}.{key}");
            to_json(value, &inner).map(|v| (key, v))
        })
        .collect()
}

/// TOML to JSON, one to one. Dates may be written bare (`signed_on = 2009-12-18`) and become
/// their text; floats are refused because JCS would write them as doubles.
fn to_json(value: toml::Value, path: &str) -> Result<Value, Problem> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Float(_) => return Err(Problem::Float(path.to_owned())),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(to_json_object(t, path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "registrars = [\"registrar\"]\n";

    fn entry(kind: &str, signer: &str) -> String {
        format!(
            "\n[[event]]\nrecorded_at = \"2020-02-10T08:00:05Z\"\nat = \"2020-02-10T08:00:02Z\"\n\
             stream = \"directory\"\nsigner = \"{signer}\"\ntype = \"{kind}\"\n\
             payload = {{ party = \"kson\", name = \"KSON\" }}\n"
        )
    }

    fn problem(text: &str) -> (usize, usize, String) {
        match Source::parse(text) {
            Err(e @ Error::Entry { .. }) => {
                let message = e.to_string();
                match e {
                    Error::Entry { position, line, .. } => (position, line, message),
                    _ => unreachable!(),
                }
            }
            other => panic!("expected an entry error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_entry_parses() {
        let source = Source::parse(&format!("{HEAD}{}", entry("PartyRegistered", "registrar")))
            .expect("parses");
        assert_eq!(source.entries.len(), 1);
        assert_eq!(source.entries[0].line, 8);
        assert_eq!(source.entries[0].payload["name"], "KSON");
    }

    #[test]
    fn unknown_types_are_named_with_position_and_line() {
        let text = format!(
            "{HEAD}{}{}",
            entry("PartyRegistered", "registrar"),
            entry("PartyDeleted", "registrar")
        );
        let (position, line, message) = problem(&text);
        assert_eq!((position, line), (1, 16));
        assert!(
            message.starts_with(
                "history.toml: event 1 (PartyDeleted, line 16): unknown event type `PartyDeleted`"
            ),
            "{message}"
        );
    }

    #[test]
    fn unknown_key_names_are_named() {
        let text = format!("{HEAD}{}", entry("PartyRegistered", "kson-1"));
        let (position, _, message) = problem(&text);
        assert_eq!(position, 0);
        assert!(message.contains("unknown key name `kson-1`"), "{message}");
    }

    #[test]
    fn a_key_is_known_only_after_its_enrolment() {
        let enrol = entry("SignatoryEnrolled", "registrar").replace(
            "name = \"KSON\"",
            "key_name = \"kson-1\", name = \"N\", role = \"R\"",
        );
        let ok = format!("{HEAD}{enrol}{}", entry("PartyRegistered", "kson-1"));
        assert!(Source::parse(&ok).is_ok());
        let early = format!("{HEAD}{}{enrol}", entry("PartyRegistered", "kson-1"));
        assert!(problem(&early).2.contains("unknown key name `kson-1`"));
        let twice = format!("{HEAD}{enrol}{enrol}");
        assert!(
            problem(&twice)
                .2
                .contains("key name `kson-1` is used twice")
        );
    }

    #[test]
    fn bad_fields_and_values_are_precise() {
        let text = format!("{HEAD}{}", entry("PartyRegistered", "registrar"))
            .replace("2020-02-10T08:00:02Z", "2020-02-10 08:00:02");
        assert!(
            problem(&text)
                .2
                .contains("`at`: `2020-02-10 08:00:02` is not an RFC 3339")
        );
        let text = format!("{HEAD}{}", entry("PartyRegistered", "registrar"))
            .replace("\"directory\"", "\"agreements/x\"");
        assert!(problem(&text).2.contains("`stream`:"));
        let text = format!("{HEAD}{}", entry("PartyRegistered", "registrar"))
            .replace("name = \"KSON\"", "name = 1.5");
        assert!(
            problem(&text)
                .2
                .contains("`payload.name` is a floating-point number")
        );
    }

    #[test]
    fn toml_errors_name_the_line() {
        let text = format!("{HEAD}{}", entry("PartyRegistered", "registrar"))
            .replace("signer =", "signr =");
        let message = Source::parse(&text).expect_err("unknown field").to_string();
        assert!(message.contains("line 7"), "{message}");
        assert!(message.contains("signr"), "{message}");
        let message = Source::parse("registrars = [\"Registrar\"]\n")
            .expect_err("bad name")
            .to_string();
        assert!(
            message.contains("`Registrar` is not a usable key name"),
            "{message}"
        );
    }

    #[test]
    fn bare_dates_become_text() {
        let text = format!("{HEAD}{}", entry("PartyRegistered", "registrar"))
            .replace("name = \"KSON\"", "name = 2009-12-18");
        let source = Source::parse(&text).expect("parses");
        assert_eq!(source.entries[0].payload["name"], "2009-12-18");
    }
}
