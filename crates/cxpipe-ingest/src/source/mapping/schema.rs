//! The TOML schema of a mapping file, as serde reads it: every key is
//! optional here; [`super::compile`] decides what is required and what
//! goes with what.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole mapping file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMapping {
    pub(super) source: RawSource,
    #[serde(default)]
    pub(super) columns: BTreeMap<String, toml::Spanned<RawColumn>>,
}

/// The `[source]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: String,
    /// A built-in mapping this one starts from: its `[source]` keys and
    /// columns apply unless this file gives them.
    #[serde(default)]
    pub(super) extends: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub(super) format: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) detect: Option<Vec<String>>,
    #[serde(default)]
    pub(super) version: Option<String>,
    /// JSON: where a wrapping document keeps the records (a dotted path to
    /// an array, e.g. `conversations`).
    #[serde(default)]
    pub(super) records: Option<toml::Spanned<String>>,
    /// The CSV field delimiter: `,` (default), `;`, `|` or tab (`"\t"`).
    #[serde(default)]
    pub(super) delimiter: Option<toml::Spanned<String>>,
    /// CSV without a header line: the names of its columns, in order.
    #[serde(default)]
    pub(super) columns: Option<Vec<String>>,
    /// Records that are not contacts: skipped, counted as `rows_filtered`.
    #[serde(default)]
    pub(super) skip: Option<Vec<toml::Spanned<RawCondition>>>,
}

/// A test on one source field: `{ field = "x", is = [...] }`, `is_not`, or
/// `present = true|false`; or `{ all = [<tests>] }`, which holds when every
/// one of them does.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub(super) field: Option<String>,
    pub(super) all: Option<Vec<RawCondition>>,
    pub(super) is: Option<Vec<String>>,
    pub(super) is_not: Option<Vec<String>>,
    pub(super) present: Option<bool>,
}

/// `field = "x"` or `field = ["x", "y"]`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The field names, one or several.
    pub(super) fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// One `[columns.<name>]` table.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColumn {
    pub(super) field: Option<OneOrMany>,
    pub(super) value: Option<String>,
    pub(super) default: Option<String>,
    pub(super) null: Option<Vec<String>>,
    pub(super) map: Option<BTreeMap<String, String>>,
    pub(super) unit: Option<String>,
    pub(super) format: Option<OneOrMany>,
    pub(super) time_field: Option<OneOrMany>,
    pub(super) zone: Option<String>,
    pub(super) from: Option<String>,
    pub(super) plus: Option<Vec<String>>,
    pub(super) minus: Option<Vec<String>>,
    pub(super) join: Option<Vec<String>>,
    pub(super) separator: Option<String>,
    pub(super) when: Option<RawCondition>,
    pub(super) only_if: Option<String>,
    #[serde(rename = "true")]
    pub(super) true_words: Option<Vec<String>>,
    #[serde(rename = "false")]
    pub(super) false_words: Option<Vec<String>>,
    pub(super) nonzero: Option<bool>,
    pub(super) present: Option<Vec<String>>,
    pub(super) absent: Option<Vec<String>>,
    pub(super) scale: Option<[i64; 2]>,
    /// Of the matches of a path into arrays: first, last or sum.
    pub(super) pick: Option<String>,
    /// `interaction_id` from the record's position.
    pub(super) position: Option<bool>,
}
