//! EventStoreDB stream names of Överens streams: `<prefix>directory` and
//! `<prefix>agreement-<slug>`.

use overens_core::StreamId;

/// The EventStoreDB stream that holds `stream`.
pub(crate) fn esdb_stream(prefix: &str, stream: &StreamId) -> String {
    match stream {
        StreamId::Directory => format!("{prefix}directory"),
        StreamId::Agreement(id) => format!("{prefix}agreement-{id}"),
    }
}

/// The Överens stream an EventStoreDB stream holds, if its name is one of ours.
pub(crate) fn overens_stream(prefix: &str, name: &str) -> Option<StreamId> {
    let rest = name.strip_prefix(prefix)?;
    if rest == "directory" {
        return Some(StreamId::Directory);
    }
    // A slug never holds '/', so the mapping is one to one.
    let slug = rest.strip_prefix("agreement-")?;
    format!("agreement/{slug}").parse().ok()
}

/// A prefix is refused when some stream name could be read two ways or when it could
/// reach EventStoreDB's system streams.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Err("the stream prefix must not be empty".into());
    }
    if prefix.starts_with('$') {
        return Err(format!(
            "the stream prefix `{prefix}` starts with `$`, which EventStoreDB keeps for system streams"
        ));
    }
    if prefix.chars().any(|c| c.is_control() || c == '/') {
        return Err(format!(
            "the stream prefix `{prefix:?}` holds a control character or `/`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        let deal: StreamId = "agreement/barn-och-unga-2".parse().expect("stream");
        for stream in [StreamId::Directory, deal] {
            let name = esdb_stream("overens-", &stream);
            assert_eq!(overens_stream("overens-", &name), Some(stream));
        }
        assert_eq!(
            esdb_stream("overens-", &StreamId::Directory),
            "overens-directory"
        );
        let deal: StreamId = "agreement/x".parse().expect("stream");
        assert_eq!(esdb_stream("o-", &deal), "o-agreement-x");
    }

    #[test]
    fn foreign_names_are_not_ours() {
        for name in [
            "directory",
            "overens-",
            "overens-agreement-",
            "overens-agreement-Stor",
            "overens-agreements-x",
            "other-directory",
            "$all",
        ] {
            assert_eq!(overens_stream("overens-", name), None, "{name}");
        }
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("overens-").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("$overens-").is_err());
        assert!(check_prefix("a/b").is_err());
    }
}
