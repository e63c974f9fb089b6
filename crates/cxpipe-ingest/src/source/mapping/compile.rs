//! A compiled mapping: the TOML of `schema` (and the built-in it
//! `extends`) checked key by key and turned into per-column rules, with
//! every error naming the file, the line and the key.

use cxpipe_model::Zone;
use toml::Spanned;

use std::path::Path;

use super::array_paths::{ArrayPath, Pick, is_array_path};
use super::builtin::{BUILTIN, builtin_text};
use super::json_paths::{JsonRecord, PathTree};
use super::schema::{RawColumn, RawCondition, RawMapping, RawSource};
use crate::parse::{DurationUnit, TimeFormat, zone_named};
use crate::reason::ReasonCode;
use crate::row::{N_SLOTS, Problem, Slot};

/// The file format a mapping reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapFormat {
    /// CSV with a header line.
    Csv,
    /// NDJSON, or a JSON array of objects.
    Json,
}

/// A parsed, validated mapping.
#[derive(Debug)]
pub struct Mapping {
    /// The source's name (`five9`, or the user's `[source] name`).
    pub name: String,
    /// What file format it reads.
    pub format: MapFormat,
    /// Fields that must all be present for `auto` to pick this mapping.
    pub detect: Vec<String>,
    /// A headerless CSV's column names (`[source] columns`): the file's
    /// first line is a record, not a header.
    pub columns: Option<Vec<String>>,
    /// The CSV field delimiter (`[source] delimiter`, default `,`).
    pub delimiter: u8,
    /// JSON: the dotted path of the records in a wrapping document
    /// (`[source] records`).
    pub records: Option<String>,
    /// What the mapping reads, in words (`[source] description`; shown by
    /// `mapping list` and `mapping check`).
    pub description: Option<String>,
    /// `interaction_id` is the record's position (`position = true`): the
    /// file's content hash and the record's line.
    pub position_ids: bool,
    /// Every source field the mapping names (CSV header names or JSON paths).
    pub(super) fields: Vec<String>,
    /// The JSON paths of `fields`, split on dots.
    pub(super) paths: Vec<Vec<String>>,
    /// The fields that are paths into arrays (`array_paths.rs`), by id.
    pub(super) arrays: Vec<(usize, ArrayPath)>,
    /// Paths into arrays outside a `field` key that do not parse (reported
    /// once every key is read).
    path_errors: Vec<String>,
    /// `paths` as a tree (built once every field is known).
    pub(super) tree: PathTree,
    /// The compiled column of each slot.
    pub(super) cols: Vec<Option<Col>>,
    /// Field of the record version (dedupe: the greatest wins).
    pub(super) version: Option<usize>,
    /// `[source] skip`: a record meeting any is not a contact (filtered).
    pub(super) skip: Vec<Condition>,
}

/// A test on one source field's text (trimmed; absent = blank).
#[derive(Debug, Clone)]
pub(super) struct Condition {
    /// (field, test) pairs that must all hold.
    pub(super) all: Vec<(usize, Test)>,
}

/// What a [`Condition`] checks.
#[derive(Debug, Clone)]
pub(super) enum Test {
    /// The text is one of these (any ASCII case).
    Is(Vec<String>),
    /// The field has a text that is none of these.
    IsNot(Vec<String>),
    /// The field has a text (`true`) or not (`false`).
    Present(bool),
}

impl Test {
    pub(super) fn holds(&self, text: Option<&str>) -> bool {
        let among = |v: &[String], t: &str| v.iter().any(|w| w.eq_ignore_ascii_case(t));
        match (self, text) {
            (Test::Is(v), Some(t)) => among(v, t),
            (Test::Is(_), None) => false,
            (Test::IsNot(v), Some(t)) => !among(v, t),
            (Test::IsNot(_), None) => false,
            (Test::Present(p), t) => t.is_some() == *p,
        }
    }
}

impl Mapping {
    /// A built-in mapping by name.
    pub fn builtin(name: &str) -> Option<Mapping> {
        let text = builtin_text(name)?;
        Mapping::parse(text, &format!("built-in {name}")).ok()
    }

    /// Reads a mapping file. Errors name the file, the line and the key.
    pub fn from_file(path: &Path) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the mapping: {e}", path.display()))?;
        Mapping::parse(&text, &path.display().to_string())
    }

    /// Every source field the mapping reads, by field id.
    pub fn field_names(&self) -> &[String] {
        &self.fields
    }

    /// Panics unless both JSON walks read `rec` alike (for the fuzzer).
    #[cfg(test)]
    pub(crate) fn check_json_walks(&self, rec: &[u8]) {
        super::json_paths::check_walks_agree(&self.tree, self.fields.len(), rec);
    }

    /// Reads the mapping's fields out of one JSON object.
    pub fn json_record<'r>(&self, rec: &'r [u8]) -> Result<JsonRecord<'r>, Problem> {
        let mut r = JsonRecord::parse(&self.tree, self.fields.len(), rec)?;
        if !self.arrays.is_empty() {
            // Checked by the pass above: valid UTF-8 and JSON.
            let v: serde_json::Value = serde_json::from_slice(rec)
                .map_err(|e| (ReasonCode::MalformedRow, format!("invalid JSON: {e}")))?;
            for (id, path) in &self.arrays {
                r.vals[*id] = path.eval(&v);
            }
        }
        Ok(r)
    }
}

/// The built-in vendor mappings `auto` tries, in order (the `generic`
/// file is documentation: the generic source is read by code).
pub fn vendors() -> Vec<Mapping> {
    BUILTIN
        .iter()
        .filter(|(name, _)| *name != "generic")
        .filter_map(|(name, _)| Mapping::builtin(name))
        .collect()
}

/// Where a column's value comes from.
#[derive(Debug, Clone)]
pub(super) enum ColumnRule {
    /// Text from source fields (the first present).
    Fields(Vec<usize>),
    /// A constant.
    Value(String),
    /// Another timestamp column plus and minus durations.
    Derived {
        from: Slot,
        plus: Vec<usize>,
        minus: Vec<usize>,
    },
    /// The texts of several fields joined by a separator (all present).
    Join { ids: Vec<usize>, separator: String },
    /// True when all `present` fields are present and all `absent` are not.
    Presence {
        present: Vec<usize>,
        absent: Vec<usize>,
    },
    /// The record's position: set by the reader (`Mapped::set_position_id`).
    Position,
}

/// One canonical column of a compiled mapping.
#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) rule: ColumnRule,
    /// For messages: the source field(s) or rule, as the user wrote it.
    pub(super) label: String,
    pub(super) default: Option<String>,
    pub(super) null: Vec<String>,
    /// Source text (matched regardless of ASCII case) → canonical text.
    pub(super) map: Vec<(String, String)>,
    pub(super) unit: DurationUnit,
    /// Timestamp formats, tried in order (empty: ISO 8601).
    pub(super) formats: Vec<TimeFormat>,
    /// Separate time-of-day fields (the first present) joined to the date
    /// field's text; none present: the column has no value.
    pub(super) time_field: Vec<usize>,
    pub(super) zone: Option<Zone>,
    pub(super) only_if: Option<Slot>,
    /// The column has a value only when this holds.
    pub(super) when: Option<Condition>,
    pub(super) words: Option<(Vec<String>, Vec<String>)>,
    pub(super) nonzero: bool,
    pub(super) scale: Option<(i64, i64)>,
}

impl Col {
    /// Whether `text` is one of the column's `null` words (any case).
    pub(super) fn is_null_word(&self, text: &str) -> bool {
        self.null.iter().any(|n| n.eq_ignore_ascii_case(text))
    }
}

/// What type a canonical column has, for which keys apply to it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ColKind {
    Text,
    Timestamp,
    Duration,
    Boolean,
    Csat,
}

fn kind_of(slot: Slot) -> ColKind {
    match slot {
        Slot::ArrivedAt | Slot::AnsweredAt | Slot::EndedAt => ColKind::Timestamp,
        Slot::Wait | Slot::Talk | Slot::Hold | Slot::Acw | Slot::Handle => ColKind::Duration,
        Slot::Abandoned | Slot::Transferred => ColKind::Boolean,
        Slot::Csat => ColKind::Csat,
        _ => ColKind::Text,
    }
}

/// Canonical columns a mapping must give, and whose fields a CSV header
/// must have.
pub(super) const REQUIRED: [Slot; 4] = [
    Slot::InteractionId,
    Slot::Channel,
    Slot::Direction,
    Slot::ArrivedAt,
];

/// Stored columns that are never null (SPEC §3): a mapping must say where
/// they come from, or what their absence means with a `default`, so that a
/// 0 or a `false` in the dataset is always something the export or the
/// mapping said. (`handle_ms` and `abandoned` are derived; every other
/// column is nullable and may be left out.)
pub(super) const COVERED: [Slot; 4] = [Slot::Talk, Slot::Hold, Slot::Acw, Slot::Transferred];

fn parse_unit(s: &str) -> Option<DurationUnit> {
    match s.to_ascii_lowercase().as_str() {
        "s" | "sec" | "seconds" => Some(DurationUnit::Seconds),
        "ms" | "milliseconds" => Some(DurationUnit::Millis),
        "min" | "minutes" => Some(DurationUnit::Minutes),
        "hh:mm:ss" | "hms" => Some(DurationUnit::Hms),
        _ => None,
    }
}

/// 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// One `[columns.<name>]` table and the text it was read from (the user's
/// file, or the built-in it extends), for messages.
struct ColumnEntry<'t> {
    name: String,
    column: Spanned<RawColumn>,
    text: &'t str,
    origin: String,
}

/// The built-in mapping a file `extends`.
struct Base {
    source: RawSource,
    text: &'static str,
    origin: String,
}

/// The canonical column names, for messages.
fn column_names(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|s| s.column_name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Mapping {
    /// Parses mapping text; `origin` names it in errors (`file:line: …`).
    pub fn parse(text: &str, origin: &str) -> Result<Mapping, String> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_at(text, s.start));
            format!("{origin}:{line}: {}", e.message())
        })?;
        // `extends`: the built-in's source keys and columns, then ours.
        let (mut columns, base) = inherited(&raw, text, origin)?;
        let format = source_format(&raw.source, base.as_ref(), text, origin)?;

        let base_source = base.as_ref().map(|b| &b.source);
        let detect = raw
            .source
            .detect
            .clone()
            .or_else(|| base_source.and_then(|b| b.detect.clone()))
            .unwrap_or_default();
        let version = raw
            .source
            .version
            .clone()
            .or_else(|| base_source.and_then(|b| b.version.clone()));
        let mut m = Mapping {
            name: raw.source.name.clone(),
            format,
            detect: detect.clone(),
            fields: Vec::new(),
            paths: Vec::new(),
            arrays: Vec::new(),
            path_errors: Vec::new(),
            tree: PathTree::default(),
            cols: vec![None; N_SLOTS],
            version: None,
            skip: Vec::new(),
            columns: None,
            delimiter: b',',
            records: None,
            position_ids: false,
            description: raw
                .source
                .description
                .clone()
                .or_else(|| base_source.and_then(|b| b.description.clone())),
        };
        let records = raw
            .source
            .records
            .clone()
            .or_else(|| base_source.and_then(|b| b.records.clone()));
        if let Some(r) = records {
            let line = line_at(text, r.span().start);
            if format != MapFormat::Json {
                return Err(format!(
                    "{origin}:{line}: [source] records: names where a JSON document keeps its records; this mapping reads CSV"
                ));
            }
            let path = r.get_ref().trim();
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(format!(
                    "{origin}:{line}: [source] records: {path:?} is not a dotted path (e.g. \"conversations\" or \"data.items\")"
                ));
            }
            m.records = Some(path.to_string());
        }
        let delimiter = raw
            .source
            .delimiter
            .clone()
            .or_else(|| base_source.and_then(|b| b.delimiter.clone()));
        if let Some(d) = delimiter {
            let line = line_at(text, d.span().start);
            m.delimiter = match d.get_ref().as_str() {
                "," => b',',
                ";" => b';',
                "|" => b'|',
                "\t" | "tab" => b'\t',
                other => {
                    return Err(format!(
                        "{origin}:{line}: [source] delimiter: {other:?} is not one of \",\", \";\", \"|\", \"\\t\" (tab)"
                    ));
                }
            };
            if format != MapFormat::Csv {
                return Err(format!(
                    "{origin}:{line}: [source] delimiter: applies to CSV; this mapping reads JSON"
                ));
            }
        }
        if let Some(cols) = raw.source.columns.clone() {
            if format != MapFormat::Csv {
                return Err(format!(
                    "{origin}: [source] columns: names the columns of a headerless CSV; this mapping reads JSON"
                ));
            }
            if cols.is_empty() || cols.iter().any(|c| c.trim().is_empty()) {
                return Err(format!(
                    "{origin}: [source] columns: give every column a name, none blank"
                ));
            }
            if !detect.is_empty() {
                return Err(format!(
                    "{origin}: [source] columns: a headerless CSV has no header to detect by; drop `detect` and name the mapping with --mapping"
                ));
            }
            m.columns = Some(cols);
        }
        if let Some(v) = &version {
            m.version = Some(m.field_id(v));
        }
        let skips = raw
            .source
            .skip
            .clone()
            .or_else(|| base_source.and_then(|b| b.skip.clone()))
            .unwrap_or_default();
        for c in skips {
            let line = line_at(text, c.span().start);
            let cond = m
                .condition(c.get_ref())
                .map_err(|e| format!("{origin}:{line}: [source] skip: {e}"))?;
            m.skip.push(cond);
        }
        for d in &detect {
            m.field_id(d);
        }
        columns.extend(raw.columns.into_iter().map(|(name, column)| ColumnEntry {
            name,
            column,
            text,
            origin: origin.to_string(),
        }));
        for entry in columns {
            m.add_column(entry)?;
        }
        if let Some(e) = m.path_errors.first() {
            return Err(format!(
                "{origin}: {e} (in a condition, plus/minus, join, time_field, version or detect)"
            ));
        }
        m.check_required(origin)?;
        m.check_derived(origin)?;
        m.tree = PathTree::build(&m.paths);
        Ok(m)
    }

    /// Compiles one `[columns.<name>]` table into its slot.
    fn add_column(&mut self, entry: ColumnEntry<'_>) -> Result<(), String> {
        let ColumnEntry {
            name,
            column,
            text,
            origin,
        } = entry;
        let line = line_at(text, column.span().start);
        let at = |msg: String| format!("{origin}:{line}: [columns.{name}] {msg}");
        let slot = Slot::named(&name).ok_or_else(|| {
            at(format!(
                "is not a canonical column (expected one of {})",
                column_names(&Slot::ALL)
            ))
        })?;
        let col = self.column(slot, column.into_inner()).map_err(at)?;
        self.cols[slot.index()] = Some(col);
        Ok(())
    }

    /// Every required column is given.
    fn check_required(&self, origin: &str) -> Result<(), String> {
        for slot in REQUIRED {
            if self.cols[slot.index()].is_none() {
                return Err(format!(
                    "{origin}: [columns.{}] is missing: every mapping must give {}",
                    slot.column_name(),
                    column_names(&REQUIRED)
                ));
            }
        }
        let uncovered: Vec<Slot> = COVERED
            .into_iter()
            .filter(|s| self.cols[s.index()].is_none())
            .collect();
        if let Some(first) = uncovered.first() {
            let example = if *first == Slot::Transferred {
                "false"
            } else {
                "0"
            };
            return Err(format!(
                "{origin}: [columns.{}] is missing: say where {} come{} from, or what the export's silence means (e.g. [columns.{}] default = \"{example}\"); these columns are never null, and cxpipe stores no value the export or the mapping did not give",
                first.column_name(),
                column_names(&uncovered),
                if uncovered.len() == 1 { "s" } else { "" },
                first.column_name(),
            ));
        }
        Ok(())
    }

    /// Derived times refer to columns that are themselves read, not derived.
    fn check_derived(&self, origin: &str) -> Result<(), String> {
        for slot in Slot::ALL {
            let Some(Col {
                rule: ColumnRule::Derived { from, .. },
                ..
            }) = &self.cols[slot.index()]
            else {
                continue;
            };
            if !matches!(
                &self.cols[from.index()],
                Some(Col {
                    rule: ColumnRule::Fields(_) | ColumnRule::Value(_),
                    ..
                })
            ) {
                return Err(format!(
                    "{origin}: [columns.{}] from: {} must be read from a field, not derived or absent",
                    slot.column_name(),
                    from.column_name()
                ));
            }
        }
        Ok(())
    }

    /// The id of a source field, added on first use.
    pub(super) fn field_id(&mut self, name: &str) -> usize {
        if self.format == MapFormat::Json && is_array_path(name) {
            // A path into arrays wherever a field is named (conditions,
            // plus/minus, join, time_field, version, detect): its first match.
            match self.array_field_id(name, Pick::First) {
                Ok(id) => return id,
                Err(e) => self.path_errors.push(e),
            }
        }
        if let Some(i) = self.fields.iter().position(|f| f == name) {
            return i;
        }
        self.fields.push(name.to_string());
        self.paths
            .push(name.split('.').map(str::to_string).collect());
        self.fields.len() - 1
    }

    /// The id of a JSON path into arrays read with `pick` (named
    /// `path@pick` when the pick is not `first`); the path is checked.
    fn array_field_id(&mut self, path: &str, pick: Pick) -> Result<usize, String> {
        let compiled = ArrayPath::parse(path, pick).map_err(|e| format!("field: {e}"))?;
        let name = match pick {
            Pick::First => path.to_string(),
            p => format!("{path}@{}", p.name()),
        };
        if let Some(i) = self.fields.iter().position(|f| *f == name) {
            return Ok(i);
        }
        self.fields.push(name);
        // Not in the streaming tree: read from the parsed record.
        self.paths.push(Vec::new());
        let id = self.fields.len() - 1;
        self.arrays.push((id, compiled));
        Ok(id)
    }

    /// Compiles a condition on one field.
    pub(super) fn condition(&mut self, c: &RawCondition) -> Result<Condition, String> {
        if let Some(parts) = &c.all {
            if c.field.is_some() || c.is.is_some() || c.is_not.is_some() || c.present.is_some() {
                return Err(
                    "all = [..] holds the tests itself; give no field, is, is_not or present beside it"
                        .to_string(),
                );
            }
            if parts.len() < 2 {
                return Err("all = [..]: give two or more tests".to_string());
            }
            let mut all = Vec::new();
            for p in parts {
                if p.all.is_some() {
                    return Err("all = [..]: a test inside cannot be another `all`".to_string());
                }
                all.extend(self.condition(p)?.all);
            }
            return Ok(Condition { all });
        }
        let field = c.field.as_deref().unwrap_or_default();
        if field.trim().is_empty() {
            return Err("field: names no field".to_string());
        }
        let test = match (&c.is, &c.is_not, c.present) {
            (Some(v), None, None) if !v.is_empty() => Test::Is(v.clone()),
            (None, Some(v), None) if !v.is_empty() => Test::IsNot(v.clone()),
            (None, None, Some(p)) => Test::Present(p),
            _ => {
                return Err(format!(
                    "the condition on {field:?} needs exactly one of is = [..], is_not = [..] (not empty) or present = true|false"
                ));
            }
        };
        Ok(Condition {
            all: vec![(self.field_id(field), test)],
        })
    }

    /// Compiles one column table: which keys apply, where the value comes
    /// from, and how it is typed. Checks run in a fixed order, so a table
    /// with several mistakes always reports the same one.
    fn column(&mut self, slot: Slot, raw: RawColumn) -> Result<Col, String> {
        let kind = kind_of(slot);
        check_keys(kind, &raw)?;
        let (rule, mut label) = self.rule(slot, &raw)?;
        let unit = match &raw.unit {
            None => DurationUnit::Seconds,
            Some(u) => parse_unit(u)
                .ok_or_else(|| format!("unit: {u:?} is not one of s, ms, min, hh:mm:ss"))?,
        };
        if kind == ColKind::Duration && raw.unit.is_none() && matches!(rule, ColumnRule::Fields(_))
        {
            return Err("unit: a duration column needs a unit (s, ms, min, hh:mm:ss)".to_string());
        }
        let formats = match &raw.format {
            None => Vec::new(),
            Some(f) => check_formats(&f.to_vec())?,
        };
        if raw.time_field.is_some() && !matches!(rule, ColumnRule::Fields(_)) {
            return Err(
                "time_field: joins a time of day to a `field`; this column has none".to_string(),
            );
        }
        let time_field = match &raw.time_field {
            None => Vec::new(),
            Some(names) => {
                let names = names.to_vec();
                if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                    return Err("time_field: name at least one field, none blank".to_string());
                }
                label = format!("{label} + {}", names.join(" | "));
                names.iter().map(|n| self.field_id(n)).collect()
            }
        };
        let zone = raw
            .zone
            .as_deref()
            .map(zone_named)
            .transpose()
            .map_err(|e| format!("zone: {e}"))?;
        let only_if = raw
            .only_if
            .as_deref()
            .map(|n| {
                Slot::named(n)
                    .filter(|s| *s != slot)
                    .ok_or_else(|| format!("only_if: {n:?} is not another canonical column"))
            })
            .transpose()?;
        let when = raw
            .when
            .as_ref()
            .map(|c| self.condition(c).map_err(|e| format!("when: {e}")))
            .transpose()?;
        let words = match (raw.true_words, raw.false_words) {
            (None, None) => None,
            (Some(t), Some(f)) => Some((t, f)),
            _ => return Err("true and false: give both word lists, or neither".to_string()),
        };
        let scale = match raw.scale {
            None => None,
            Some([lo, hi]) if lo < hi => Some((lo, hi)),
            Some([lo, hi]) => {
                return Err(format!(
                    "scale: [{lo}, {hi}] must be [low, high] with low < high"
                ));
            }
        };
        Ok(Col {
            rule,
            label,
            default: raw.default,
            null: raw.null.unwrap_or_default(),
            map: raw.map.unwrap_or_default().into_iter().collect(),
            unit,
            formats,
            time_field,
            zone,
            only_if,
            when,
            words,
            nonzero: raw.nonzero.unwrap_or(false),
            scale,
        })
    }

    /// Where a column's value comes from (exactly one of `field`, `value`,
    /// `from` + `plus`, `present`/`absent`), and its label for messages.
    fn rule(&mut self, slot: Slot, raw: &RawColumn) -> Result<(ColumnRule, String), String> {
        let sources = [
            raw.field.is_some(),
            raw.value.is_some(),
            raw.from.is_some(),
            raw.present.is_some() || raw.absent.is_some(),
            raw.join.is_some(),
            raw.position.is_some(),
        ];
        if let Some(p) = raw.position {
            if slot != Slot::InteractionId || !p {
                return Err(
                    "position: write `position = true`, on [columns.interaction_id] only (ids from the file's content hash and the record's line, for an export without ids)"
                        .to_string(),
                );
            }
            if sources.iter().filter(|b| **b).count() != 1 || raw.default.is_some() {
                return Err("position: the id is the position alone; give no field, value, join or default beside it".to_string());
            }
            self.position_ids = true;
            return Ok((ColumnRule::Position, "the record's position".to_string()));
        }
        if sources.iter().all(|b| !b)
            && let Some(d) = &raw.default
        {
            // Only a default: the export has no such field, and the
            // mapping says what that means (`hold_ms` default "0").
            return Ok((
                ColumnRule::Value(d.clone()),
                format!("{} (default)", slot.column_name()),
            ));
        }
        if sources.iter().filter(|b| **b).count() != 1 {
            return Err(
                "needs exactly one of field, value, from (+ plus/minus), join, present/absent or position (or only a default)"
                    .to_string(),
            );
        }
        if raw.separator.is_some() && raw.join.is_none() {
            return Err("separator: goes with join".to_string());
        }
        if (raw.plus.is_some() || raw.minus.is_some()) && raw.from.is_none() {
            return Err("plus/minus: go with from".to_string());
        }
        if let Some(names) = &raw.join {
            if names.len() < 2 || names.iter().any(|n| n.trim().is_empty()) {
                return Err("join: name two or more fields, none blank".to_string());
            }
            let separator = raw.separator.clone().unwrap_or_else(|| "-".to_string());
            let ids = names.iter().map(|n| self.field_id(n)).collect();
            return Ok((ColumnRule::Join { ids, separator }, names.join(" + ")));
        }
        if let Some(f) = &raw.field {
            let names = f.to_vec();
            if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                return Err("field: must name at least one field, none blank".to_string());
            }
            let pick = match raw.pick.as_deref() {
                None => Pick::First,
                Some(p) => Pick::parse(p)
                    .ok_or_else(|| format!("pick: {p:?} is not one of first, last, sum"))?,
            };
            if raw.pick.as_deref() == Some("sum") && kind_of(slot) != ColKind::Duration {
                return Err(
                    "pick: sum adds durations; this column is not one (use first or last)"
                        .to_string(),
                );
            }
            let arrays = self.format == MapFormat::Json;
            if raw.pick.is_some() && !(arrays && names.iter().any(|n| is_array_path(n))) {
                return Err(
                    "pick: chooses among the matches of a JSON path into arrays (key[] or key[field=value]); this column has none"
                        .to_string(),
                );
            }
            let mut ids = Vec::new();
            for n in &names {
                ids.push(if arrays && is_array_path(n) {
                    self.array_field_id(n, pick)?
                } else {
                    self.field_id(n)
                });
            }
            let label = names.join(" | ");
            let label = match raw.pick.as_deref() {
                Some(p) if p != "first" => format!("{label} ({p})"),
                _ => label,
            };
            return Ok((ColumnRule::Fields(ids), label));
        }
        if let Some(v) = &raw.value {
            return Ok((ColumnRule::Value(v.clone()), slot.column_name().to_string()));
        }
        if let Some(from) = &raw.from {
            let from_slot = Slot::named(from)
                .filter(|s| kind_of(*s) == ColKind::Timestamp && *s != slot)
                .ok_or_else(|| {
                    format!("from: {from:?} is not another timestamp column (arrived_at, answered_at, ended_at)")
                })?;
            let plus = raw.plus.clone().unwrap_or_default();
            let minus = raw.minus.clone().unwrap_or_default();
            let mut label = std::iter::once(from.clone())
                .chain(plus.iter().cloned())
                .collect::<Vec<_>>()
                .join(" + ");
            for m in &minus {
                label.push_str(&format!(" - {m}"));
            }
            let plus = plus.iter().map(|n| self.field_id(n)).collect();
            let minus = minus.iter().map(|n| self.field_id(n)).collect();
            return Ok((
                ColumnRule::Derived {
                    from: from_slot,
                    plus,
                    minus,
                },
                label,
            ));
        }
        let present = raw.present.clone().unwrap_or_default();
        let absent = raw.absent.clone().unwrap_or_default();
        let label = present
            .iter()
            .map(|p| format!("{p} present"))
            .chain(absent.iter().map(|a| format!("{a} absent")))
            .collect::<Vec<_>>()
            .join(" and ");
        let rule = ColumnRule::Presence {
            present: present.iter().map(|n| self.field_id(n)).collect(),
            absent: absent.iter().map(|n| self.field_id(n)).collect(),
        };
        Ok((rule, label))
    }
}

/// The keys of a column table that apply only to some column types.
fn check_keys(kind: ColKind, raw: &RawColumn) -> Result<(), String> {
    let only = |ok: bool, key: &str, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{key}: applies only to {what} columns"))
        }
    };
    only(
        raw.unit.is_none() || matches!(kind, ColKind::Duration | ColKind::Timestamp),
        "unit",
        "duration and derived timestamp",
    )?;
    only(
        raw.format.is_none()
            && raw.time_field.is_none()
            && raw.zone.is_none()
            && raw.from.is_none()
            && raw.plus.is_none()
            && raw.minus.is_none()
            || kind == ColKind::Timestamp,
        "format/time_field/zone/from/plus/minus",
        "timestamp",
    )?;
    only(
        raw.true_words.is_none()
            && raw.false_words.is_none()
            && raw.nonzero.is_none()
            && raw.present.is_none()
            && raw.absent.is_none()
            || kind == ColKind::Boolean,
        "true/false/nonzero/present/absent",
        "boolean (abandoned, transferred)",
    )?;
    only(
        raw.scale.is_none() || kind == ColKind::Csat,
        "scale",
        "csat",
    )
}

/// The formats of a `format` key, checked when the mapping is read, not
/// on every row: a strftime format must read back what it writes (so
/// `%s` and a format without a date are refused, with the right key to
/// use), and a list must not mix day/month orders (`%m/%d` and `%d/%m`:
/// which one `01/02` is would be a guess).
fn check_formats(list: &[String]) -> Result<Vec<TimeFormat>, String> {
    if list.is_empty() {
        return Err("format: an empty list; give one format or several".to_string());
    }
    let probe = jiff::civil::date(2026, 1, 22)
        .at(13, 4, 5, 0)
        .in_tz("UTC")
        .map_err(|e| e.to_string())?;
    let mut orders = Vec::new();
    let mut out = Vec::new();
    for f in list {
        let tf = TimeFormat::named(f);
        if let TimeFormat::Strftime(f) = &tf {
            let hint = if f.contains("%s") {
                " (for seconds since 1970 write format = \"epoch_s\"; also epoch_ms, epoch_us)"
            } else {
                ""
            };
            let has_time = ["%H", "%I", "%k", "%l", "%T", "%R", "%X", "%c"]
                .iter()
                .any(|d| f.contains(d));
            if !has_time && !f.contains("%s") {
                return Err(format!(
                    "format: {f:?} has no time of day: every time would be midnight; give a format with the time, or the time's own field as time_field (the format then reads \"DATE TIME\")"
                ));
            }
            let written = jiff::fmt::strtime::format(f.as_str(), &probe)
                .map_err(|e| format!("format: {f:?} is not a usable strftime format: {e}{hint}"))?;
            let utc = Zone::utc();
            match tf.parse(&written, None, &utc) {
                Ok(us) if us == probe.timestamp().as_microsecond() || !f.contains("%S") => {}
                Ok(_) => {
                    return Err(format!(
                        "format: {f:?} does not read back the time it writes{hint}"
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "format: {f:?} cannot read a date and time (it reads {written:?} as: {e}){hint}"
                    ));
                }
            }
            if let (Some(m), Some(d)) = (f.find("%m"), f.find("%d").or_else(|| f.find("%e"))) {
                orders.push((m < d, f.clone()));
            }
        }
        out.push(tf);
    }
    if let (Some(md), Some(dm)) = (
        orders.iter().find(|(m_first, _)| *m_first),
        orders.iter().find(|(m_first, _)| !*m_first),
    ) {
        return Err(format!(
            "format: {:?} (month first) and {:?} (day first) in one list: a date like 01/02 would be a guess; keep one order",
            md.1, dm.1
        ));
    }
    Ok(out)
}

/// The columns and `[source]` keys of the built-in a mapping `extends`
/// (columns the file gives itself are not inherited).
fn inherited<'t>(
    raw: &RawMapping,
    text: &'t str,
    origin: &str,
) -> Result<(Vec<ColumnEntry<'t>>, Option<Base>), String> {
    let Some(ext) = &raw.source.extends else {
        return Ok((Vec::new(), None));
    };
    let name = ext.get_ref();
    let base_text = builtin_text(name).ok_or_else(|| {
        format!(
            "{origin}:{}: [source] extends: no built-in mapping {name:?} (the built-in ones are {})",
            line_at(text, ext.span().start),
            BUILTIN.map(|(n, _)| n).join(", ")
        )
    })?;
    let base: RawMapping =
        toml::from_str(base_text).map_err(|e| format!("built-in {name}: {}", e.message()))?;
    let base_origin = format!("built-in {name}");
    let columns = base
        .columns
        .into_iter()
        .filter(|(col, _)| !raw.columns.contains_key(col))
        .map(|(name, column)| ColumnEntry {
            name,
            column,
            text: base_text,
            origin: base_origin.clone(),
        })
        .collect();
    let base = Base {
        source: base.source,
        text: base_text,
        origin: base_origin,
    };
    Ok((columns, Some(base)))
}

/// `[source] format`, the file's own or its base's.
fn source_format(
    source: &RawSource,
    base: Option<&Base>,
    text: &str,
    origin: &str,
) -> Result<MapFormat, String> {
    let key = match (&source.format, base) {
        (Some(f), _) => Some((f, text, origin.to_string())),
        (None, Some(b)) => b
            .source
            .format
            .as_ref()
            .map(|f| (f, b.text, b.origin.clone())),
        (None, None) => None,
    };
    let Some((key, key_text, key_origin)) = key else {
        return Err(format!(
            "{origin}: [source] format is missing: csv or json (or extends = a built-in mapping)"
        ));
    };
    match key.get_ref().as_str() {
        "csv" => Ok(MapFormat::Csv),
        "json" | "ndjson" => Ok(MapFormat::Json),
        other => Err(format!(
            "{key_origin}:{}: [source] format: {other:?} is not csv or json",
            line_at(key_text, key.span().start)
        )),
    }
}
