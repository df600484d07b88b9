//! A structured diff between two versions: parties, sections (with a word diff), forums and
//! their representatives.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::content::{Content, Forum, Representative};
use crate::id::{ForumId, PartyId, SectionId};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionDiff {
    pub from: u32,
    pub to: u32,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub title: Option<FieldChange>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub preamble: Option<Vec<TextChange>>,
    pub parties_added: Vec<PartyId>,
    pub parties_removed: Vec<PartyId>,
    pub sections: Vec<SectionDiff>,
    pub forums: Vec<ForumDiff>,
}

impl VersionDiff {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.preamble.is_none()
            && self.parties_added.is_empty()
            && self.parties_removed.is_empty()
            && self.sections.is_empty()
            && self.forums.is_empty()
    }
}

/// A field whose whole value changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// One run of a word diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextChange {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::TextOp))]
    pub op: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SectionDiff {
    Added {
        section: SectionId,
        heading: String,
        text: String,
    },
    Removed {
        section: SectionId,
        heading: String,
    },
    Changed {
        section: SectionId,
        #[cfg_attr(feature = "openapi", schema(required))]
        heading: Option<FieldChange>,
        #[cfg_attr(feature = "openapi", schema(required))]
        text: Option<Vec<TextChange>>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ForumDiff {
    Added {
        forum: ForumId,
        name: String,
        representatives: Vec<Representative>,
    },
    Removed {
        forum: ForumId,
        name: String,
    },
    Changed {
        forum: ForumId,
        name: String,
        fields: Vec<FieldChange>,
        representatives_added: Vec<Representative>,
        representatives_removed: Vec<Representative>,
        representatives_changed: Vec<FieldChange>,
    },
}

fn word_diff(old: &str, new: &str) -> Option<Vec<TextChange>> {
    if old == new {
        return None;
    }
    let diff = TextDiff::from_words(old, new);
    let mut runs: Vec<TextChange> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => "equal",
            ChangeTag::Insert => "insert",
            ChangeTag::Delete => "delete",
        };
        match runs.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => runs.push(TextChange {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    Some(runs)
}

fn field<T: Serialize + PartialEq>(name: &str, old: &T, new: &T) -> Option<FieldChange> {
    (old != new).then(|| FieldChange {
        field: name.to_owned(),
        from: serde_json::to_value(old).unwrap_or(Value::Null),
        to: serde_json::to_value(new).unwrap_or(Value::Null),
    })
}

/// What changed from `old` (version `from`) to `new` (version `to`).
pub fn diff(from: u32, old: &Content, to: u32, new: &Content) -> VersionDiff {
    let sections = diff_sections(old, new);
    let forums = diff_forums(old, new);
    VersionDiff {
        from,
        to,
        title: field("title", &old.title, &new.title),
        preamble: word_diff(&old.preamble, &new.preamble),
        parties_added: new
            .parties
            .iter()
            .filter(|p| !old.has_party(p))
            .cloned()
            .collect(),
        parties_removed: old
            .parties
            .iter()
            .filter(|p| !new.has_party(p))
            .cloned()
            .collect(),
        sections,
        forums,
    }
}

fn diff_sections(old: &Content, new: &Content) -> Vec<SectionDiff> {
    let mut out = Vec::new();
    for s in &old.sections {
        match new.section(&s.id) {
            None => out.push(SectionDiff::Removed {
                section: s.id.clone(),
                heading: s.heading.clone(),
            }),
            Some(n) if n != &**s => out.push(SectionDiff::Changed {
                section: s.id.clone(),
                heading: field("heading", &s.heading, &n.heading),
                text: word_diff(&s.text, &n.text),
            }),
            Some(_) => {}
        }
    }
    for n in new.sections.iter().filter(|n| old.section(&n.id).is_none()) {
        out.push(SectionDiff::Added {
            section: n.id.clone(),
            heading: n.heading.clone(),
            text: n.text.clone(),
        });
    }
    out
}

fn diff_forums(old: &Content, new: &Content) -> Vec<ForumDiff> {
    let mut out = Vec::new();
    for f in &old.forums {
        match new.forum(&f.id) {
            None => out.push(ForumDiff::Removed {
                forum: f.id.clone(),
                name: f.definition.name.clone(),
            }),
            Some(n) if n != &**f => out.push(forum_changes(f, n)),
            Some(_) => {}
        }
    }
    for n in new.forums.iter().filter(|n| old.forum(&n.id).is_none()) {
        out.push(ForumDiff::Added {
            forum: n.id.clone(),
            name: n.definition.name.clone(),
            representatives: n.representatives.iter().map(|r| (**r).clone()).collect(),
        });
    }
    out
}

fn forum_changes<'a>(old: &'a Forum, new: &'a Forum) -> ForumDiff {
    let (o, n) = (&old.definition, &new.definition);
    let fields = [
        field("name", &o.name, &n.name),
        field("purpose", &o.purpose, &n.purpose),
        field("tasks", &o.tasks, &n.tasks),
        field("meets", &o.meets, &n.meets),
        field("chair", &o.chair, &n.chair),
    ]
    .into_iter()
    .flatten()
    .collect();
    let find = |list: &'a [Arc<Representative>], r: &Representative| {
        list.iter().map(|x| &**x).find(|x| x.id == r.id)
    };
    ForumDiff::Changed {
        forum: new.id.clone(),
        name: n.name.clone(),
        fields,
        representatives_added: new
            .representatives
            .iter()
            .filter(|r| find(&old.representatives, r).is_none())
            .map(|r| (**r).clone())
            .collect(),
        representatives_removed: old
            .representatives
            .iter()
            .filter(|r| find(&new.representatives, r).is_none())
            .map(|r| (**r).clone())
            .collect(),
        representatives_changed: old
            .representatives
            .iter()
            .filter_map(|r| {
                find(&new.representatives, r).and_then(|n| field(r.id.as_str(), &**r, n))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_marks_inserted_and_deleted_words() {
        let runs = word_diff(
            "träffas ca en gång i månaden",
            "träffas en gång per kvartal",
        )
        .expect("differs");
        let inserted: String = runs
            .iter()
            .filter(|r| r.op == "insert")
            .map(|r| r.text.as_str())
            .collect();
        let deleted: String = runs
            .iter()
            .filter(|r| r.op == "delete")
            .map(|r| r.text.as_str())
            .collect();
        assert!(inserted.contains("kvartal"), "{runs:?}");
        assert!(deleted.contains("månaden"), "{runs:?}");
        assert_eq!(word_diff("samma", "samma"), None);
    }
}
