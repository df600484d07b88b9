//! Identifiers: event ids (UUID v7), stream names, and the slugs that name parties,
//! agreements, sections, forums and representatives.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not a lowercase hyphenated UUID")]
    Uuid(String),
    #[error("`{0}` is a UUID of version {1}, expected version 7")]
    UuidVersion(String, usize),
    #[error("`{0}` is not a slug (1–64 of a-z, 0-9 and '-', not starting or ending with '-')")]
    Slug(String),
    #[error("`{0}` is not a stream name (`directory` or `agreement/<slug>`)")]
    Stream(String),
}

/// The envelope's `id`: a UUID v7 chosen by the signer; it makes appends idempotent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// A UUID v7 from a Unix time in milliseconds and 10 random bytes supplied by the caller
    /// (the core has no randomness of its own).
    pub fn v7(unix_millis: u64, random: [u8; 10]) -> Self {
        EventId(uuid::Builder::from_unix_timestamp_millis(unix_millis, &random).into_uuid())
    }

    pub fn as_uuid(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl std::str::FromStr for EventId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let uuid = uuid::Uuid::try_parse(s).map_err(|_| IdError::Uuid(s.into()))?;
        // One text per id, so the signed bytes and the stored id always agree.
        if uuid.hyphenated().to_string() != s {
            return Err(IdError::Uuid(s.into()));
        }
        if uuid.get_variant() != uuid::Variant::RFC4122 {
            return Err(IdError::Uuid(s.into()));
        }
        if uuid.get_version_num() != 7 {
            return Err(IdError::UuidVersion(s.into(), uuid.get_version_num()));
        }
        Ok(EventId(uuid))
    }
}

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

macro_rules! text_id {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
text_id!(EventId, "event id");

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if is_slug(s) { Ok($name(s.to_owned())) } else { Err(IdError::Slug(s.into())) }
            }
        }
        text_id!($name, "slug");
    };
}

slug_type!(
    /// A party (a municipal office, a board, a region, the police) as registered in the directory.
    PartyId
);
slug_type!(
    /// An agreement; its stream is `agreement/<id>`.
    AgreementId
);
slug_type!(
    /// A section of an agreement's text (värdegrund, syfte och mål, …).
    SectionId
);
slug_type!(
    /// A forum set up by an agreement (Barnsamverket, BUS styrgrupp, …).
    ForumId
);
slug_type!(
    /// A representative's seat in a forum.
    RepresentativeId
);

/// A stream of the log: the `directory`, or one agreement.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamId {
    Directory,
    Agreement(AgreementId),
}

impl StreamId {
    pub fn agreement(&self) -> Option<&AgreementId> {
        match self {
            StreamId::Directory => None,
            StreamId::Agreement(id) => Some(id),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Directory => f.write_str("directory"),
            StreamId::Agreement(id) => write!(f, "agreement/{id}"),
        }
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({self})")
    }
}

impl std::str::FromStr for StreamId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "directory" {
            return Ok(StreamId::Directory);
        }
        s.strip_prefix("agreement/")
            .and_then(|id| id.parse().ok())
            .map(StreamId::Agreement)
            .ok_or_else(|| IdError::Stream(s.into()))
    }
}
text_id!(StreamId, "stream");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_canonical_v7() {
        let id = EventId::v7(1_584_000_000_000, [9; 10]);
        assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
        assert!(matches!(
            id.to_string().to_uppercase().parse::<EventId>(),
            Err(IdError::Uuid(_))
        ));
        assert!(matches!(
            "6ba7b810-9dad-41d1-80b4-00c04fd430c8".parse::<EventId>(),
            Err(IdError::UuidVersion(_, 4))
        ));
    }

    #[test]
    fn streams_and_slugs() {
        assert_eq!("directory".parse::<StreamId>(), Ok(StreamId::Directory));
        let s: StreamId = "agreement/norrtalje-bus".parse().expect("valid");
        assert_eq!(s.to_string(), "agreement/norrtalje-bus");
        for bad in [
            "agreement/",
            "agreement/Norrtälje",
            "agreements/x",
            "",
            "agreement/-x",
        ] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad}");
        }
        assert!("a".repeat(65).parse::<PartyId>().is_err());
        assert!("region-ostergotland".parse::<PartyId>().is_ok());
    }
}
