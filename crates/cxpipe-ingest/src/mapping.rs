//! Mappings (SPEC §4): a TOML file that says which source field — a CSV
//! column or a dotted JSON path — gives each canonical column, and how to
//! parse it. The built-in vendor sources (`amazon-connect`, `five9`,
//! `talkdesk`) are mapping files embedded in the binary (`mappings/*.toml`);
//! `cxpipe ingest --mapping FILE` reads a user's own.
//!
//! The format is documented in the built-in files themselves and in
//! ARCHITECTURE.md ("Mappings"). In short, `[source]` names the source, its
//! `format` (`csv` or `json`: NDJSON or a JSON array), the fields that
//! `detect` it and the `version` field of dedupe; each `[columns.<name>]`
//! table maps one canonical column with these keys:
//!
//! | key | meaning |
//! |---|---|
//! | `field` | a source field, or a list of them (the first present wins) |
//! | `value` | a constant instead of a field |
//! | `default` | the text used when the field is absent or blank |
//! | `null` | texts that mean "absent" (`["[None]"]`) |
//! | `map` | value map, matched without regard to case; other values pass through |
//! | `unit` | durations: `s`, `ms`, `min` or `hh:mm:ss` |
//! | `format`, `zone` | timestamps: a strftime format, the zone of wall-clock times |
//! | `from`, `plus` | timestamps: another timestamp column plus duration fields |
//! | `only_if` | the column has a value only when this canonical column has one |
//! | `true`, `false` | booleans: the words for each value |
//! | `nonzero` | booleans: a count, true when above zero |
//! | `present`, `absent` | booleans: true when these fields are all present / all absent |
//! | `scale` | csat: the source scale `[lo, hi]`, mapped onto 1..5 |

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::generic::CsvParser;
use crate::parse::{self, DurationUnit, Micros, Zone};
use crate::reason::ReasonCode;
use crate::row::{Fields, N_SLOTS, Problem, Slot};

/// The built-in mapping files: (name, TOML text).
pub const BUILTIN: [(&str, &str); 4] = [
    (
        "amazon-connect",
        include_str!("../mappings/amazon-connect.toml"),
    ),
    ("five9", include_str!("../mappings/five9.toml")),
    ("talkdesk", include_str!("../mappings/talkdesk.toml")),
    ("generic", include_str!("../mappings/generic.toml")),
];

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
    /// Every source field the mapping names (CSV header names or JSON paths).
    fields: Vec<String>,
    /// The JSON paths of `fields`, split on dots.
    paths: Vec<Vec<String>>,
    /// `paths` as a tree (built once every field is known).
    tree: PathTree,
    cols: Vec<Option<Col>>,
    /// Field of the record version (dedupe: the greatest wins).
    version: Option<usize>,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Text from source fields (the first present).
    Fields(Vec<usize>),
    /// A constant.
    Value(String),
    /// Another timestamp column plus durations.
    Derived { from: Slot, plus: Vec<usize> },
    /// True when all `present` fields are present and all `absent` are not.
    Presence {
        present: Vec<usize>,
        absent: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
struct Col {
    rule: Rule,
    /// For messages: the source field(s) or rule, as the user wrote it.
    label: String,
    default: Option<String>,
    null: Vec<String>,
    /// Source text (matched regardless of ASCII case) → canonical text.
    map: Vec<(String, String)>,
    unit: DurationUnit,
    format: Option<String>,
    zone: Option<Zone>,
    only_if: Option<Slot>,
    words: Option<(Vec<String>, Vec<String>)>,
    nonzero: bool,
    scale: Option<(i64, i64)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    source: RawSource,
    #[serde(default)]
    columns: BTreeMap<String, toml::Spanned<RawColumn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    /// A built-in mapping this one starts from: its `[source]` keys and
    /// columns apply unless this file gives them.
    #[serde(default)]
    extends: Option<toml::Spanned<String>>,
    #[serde(default)]
    format: Option<toml::Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    detect: Option<Vec<String>>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    field: Option<OneOrMany>,
    value: Option<String>,
    default: Option<String>,
    null: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
    unit: Option<String>,
    format: Option<String>,
    zone: Option<String>,
    from: Option<String>,
    plus: Option<Vec<String>>,
    only_if: Option<String>,
    #[serde(rename = "true")]
    true_words: Option<Vec<String>>,
    #[serde(rename = "false")]
    false_words: Option<Vec<String>>,
    nonzero: Option<bool>,
    present: Option<Vec<String>>,
    absent: Option<Vec<String>>,
    scale: Option<[i64; 2]>,
}

/// The canonical name of a slot in mapping files.
pub fn column_name(slot: Slot) -> &'static str {
    match slot {
        Slot::InteractionId => "interaction_id",
        Slot::ChainId => "chain_id",
        Slot::Channel => "channel",
        Slot::Direction => "direction",
        Slot::Queue => "queue",
        Slot::AgentId => "agent_id",
        Slot::Team => "team",
        Slot::Site => "site",
        Slot::CustomerId => "customer_id",
        Slot::ArrivedAt => "arrived_at",
        Slot::AnsweredAt => "answered_at",
        Slot::EndedAt => "ended_at",
        Slot::Wait => "wait_ms",
        Slot::Talk => "talk_ms",
        Slot::Hold => "hold_ms",
        Slot::Acw => "acw_ms",
        Slot::Handle => "handle_ms",
        Slot::Abandoned => "abandoned",
        Slot::Transferred => "transferred",
        Slot::Disposition => "disposition",
        Slot::Csat => "csat",
    }
}

fn slot_named(name: &str) -> Option<Slot> {
    Slot::ALL.into_iter().find(|s| column_name(*s) == name)
}

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

/// Canonical columns a mapping must give (the rest may be absent).
const REQUIRED: [Slot; 5] = [
    Slot::InteractionId,
    Slot::Channel,
    Slot::Direction,
    Slot::ArrivedAt,
    Slot::EndedAt,
];

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

    /// Parses mapping text; `origin` names it in errors (`file:line: …`).
    pub fn parse(text: &str, origin: &str) -> Result<Mapping, String> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_at(text, s.start));
            format!("{origin}:{line}: {}", e.message())
        })?;
        // `extends`: the built-in's source keys and columns, then ours.
        let mut columns: Vec<(String, toml::Spanned<RawColumn>, &str, String)> = Vec::new();
        let mut base_source = None;
        if let Some(ext) = &raw.source.extends {
            let name = ext.get_ref();
            let base_text = builtin_text(name).ok_or_else(|| {
                format!(
                    "{origin}:{}: [source] extends: no built-in mapping {name:?} (the built-in ones are {})",
                    line_at(text, ext.span().start),
                    BUILTIN.map(|(n, _)| n).join(", ")
                )
            })?;
            let base: RawMapping = toml::from_str(base_text)
                .map_err(|e| format!("built-in {name}: {}", e.message()))?;
            let base_origin = format!("built-in {name}");
            for (col, spanned) in base.columns {
                if !raw.columns.contains_key(&col) {
                    columns.push((col, spanned, base_text, base_origin.clone()));
                }
            }
            base_source = Some((base.source, base_text, base_origin));
        }
        let format_key = match (&raw.source.format, &base_source) {
            (Some(f), _) => Some((f, text, origin.to_string())),
            (None, Some((b, bt, bo))) => b.format.as_ref().map(|f| (f, *bt, bo.clone())),
            (None, None) => None,
        };
        let Some((format_key, format_text, format_origin)) = format_key else {
            return Err(format!(
                "{origin}: [source] format is missing: csv or json (or extends = a built-in mapping)"
            ));
        };
        let format = match format_key.get_ref().as_str() {
            "csv" => MapFormat::Csv,
            "json" | "ndjson" => MapFormat::Json,
            other => {
                return Err(format!(
                    "{format_origin}:{}: [source] format: {other:?} is not csv or json",
                    line_at(format_text, format_key.span().start)
                ));
            }
        };
        let _ = raw.source.description;
        let base = base_source.as_ref().map(|(b, _, _)| b);
        let detect = raw
            .source
            .detect
            .clone()
            .or_else(|| base.and_then(|b| b.detect.clone()))
            .unwrap_or_default();
        let version = raw
            .source
            .version
            .clone()
            .or_else(|| base.and_then(|b| b.version.clone()));
        let mut m = Mapping {
            name: raw.source.name.clone(),
            format,
            detect: detect.clone(),
            fields: Vec::new(),
            paths: Vec::new(),
            tree: PathTree::default(),
            cols: vec![None; N_SLOTS],
            version: None,
        };
        if let Some(v) = &version {
            m.version = Some(m.field_id(v));
        }
        for d in &detect {
            m.field_id(d);
        }
        for (col, spanned) in raw.columns {
            columns.push((col, spanned, text, origin.to_string()));
        }
        for (name, spanned, text, origin) in columns {
            let line = line_at(text, spanned.span().start);
            let at = |msg: String| format!("{origin}:{line}: [columns.{name}] {msg}");
            let slot = slot_named(&name).ok_or_else(|| {
                at(format!(
                    "is not a canonical column (expected one of {})",
                    Slot::ALL.map(column_name).join(", ")
                ))
            })?;
            let col = m.column(slot, spanned.into_inner()).map_err(at)?;
            m.cols[slot.index()] = Some(col);
        }
        for slot in REQUIRED {
            if m.cols[slot.index()].is_none() {
                return Err(format!(
                    "{origin}: [columns.{}] is missing: every mapping must give {}",
                    column_name(slot),
                    REQUIRED.map(column_name).join(", ")
                ));
            }
        }
        // Derived times refer to columns that are themselves read, not derived.
        for slot in Slot::ALL {
            if let Some(Col {
                rule: Rule::Derived { from, .. },
                ..
            }) = &m.cols[slot.index()]
            {
                match &m.cols[from.index()] {
                    Some(Col {
                        rule: Rule::Fields(_) | Rule::Value(_),
                        ..
                    }) => {}
                    _ => {
                        return Err(format!(
                            "{origin}: [columns.{}] from: {} must be read from a field, not derived or absent",
                            column_name(slot),
                            column_name(*from)
                        ));
                    }
                }
            }
        }
        m.tree = PathTree::build(&m.paths);
        Ok(m)
    }

    fn field_id(&mut self, name: &str) -> usize {
        if let Some(i) = self.fields.iter().position(|f| f == name) {
            return i;
        }
        self.fields.push(name.to_string());
        self.paths
            .push(name.split('.').map(str::to_string).collect());
        self.fields.len() - 1
    }

    fn column(&mut self, slot: Slot, raw: RawColumn) -> Result<Col, String> {
        let kind = kind_of(slot);
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
            raw.format.is_none() && raw.zone.is_none() && raw.from.is_none() && raw.plus.is_none()
                || kind == ColKind::Timestamp,
            "format/zone/from/plus",
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
        )?;
        let sources = [
            raw.field.is_some(),
            raw.value.is_some(),
            raw.from.is_some(),
            raw.present.is_some() || raw.absent.is_some(),
        ];
        if sources.iter().filter(|b| **b).count() != 1 {
            return Err(
                "needs exactly one of field, value, from (+ plus) or present/absent".to_string(),
            );
        }
        let mut label = column_name(slot).to_string();
        let rule = if let Some(f) = raw.field {
            let names = f.into_vec();
            if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                return Err("field: must name at least one field, none blank".to_string());
            }
            label = names.join(" | ");
            Rule::Fields(names.iter().map(|n| self.field_id(n)).collect())
        } else if let Some(v) = raw.value {
            Rule::Value(v)
        } else if let Some(from) = raw.from {
            let from_slot = slot_named(&from)
                .filter(|s| kind_of(*s) == ColKind::Timestamp && *s != slot)
                .ok_or_else(|| {
                    format!("from: {from:?} is not another timestamp column (arrived_at, answered_at, ended_at)")
                })?;
            let plus = raw.plus.unwrap_or_default();
            label = std::iter::once(from.clone())
                .chain(plus.iter().cloned())
                .collect::<Vec<_>>()
                .join(" + ");
            Rule::Derived {
                from: from_slot,
                plus: plus.iter().map(|n| self.field_id(n)).collect(),
            }
        } else {
            let present: Vec<String> = raw.present.unwrap_or_default();
            let absent: Vec<String> = raw.absent.unwrap_or_default();
            label = present
                .iter()
                .map(|p| format!("{p} present"))
                .chain(absent.iter().map(|a| format!("{a} absent")))
                .collect::<Vec<_>>()
                .join(" and ");
            Rule::Presence {
                present: present.iter().map(|n| self.field_id(n)).collect(),
                absent: absent.iter().map(|n| self.field_id(n)).collect(),
            }
        };
        let unit = match &raw.unit {
            None => DurationUnit::Seconds,
            Some(u) => parse_unit(u)
                .ok_or_else(|| format!("unit: {u:?} is not one of s, ms, min, hh:mm:ss"))?,
        };
        if kind == ColKind::Duration && raw.unit.is_none() && matches!(rule, Rule::Fields(_)) {
            return Err("unit: a duration column needs a unit (s, ms, min, hh:mm:ss)".to_string());
        }
        if let Some(f) = &raw.format {
            // A format jiff cannot use is refused now, not on every row.
            let probe = jiff::civil::date(2026, 1, 2)
                .at(3, 4, 5, 0)
                .in_tz("UTC")
                .map_err(|e| e.to_string())?;
            jiff::fmt::strtime::format(f.as_str(), &probe)
                .map_err(|e| format!("format: {f:?} is not a usable strftime format: {e}"))?;
        }
        let zone = raw
            .zone
            .as_deref()
            .map(Zone::named)
            .transpose()
            .map_err(|e| format!("zone: {e}"))?;
        let only_if = raw
            .only_if
            .as_deref()
            .map(|n| {
                slot_named(n)
                    .filter(|s| *s != slot)
                    .ok_or_else(|| format!("only_if: {n:?} is not another canonical column"))
            })
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
            format: raw.format,
            zone,
            only_if,
            words,
            nonzero: raw.nonzero.unwrap_or(false),
            scale,
        })
    }

    /// Whether a CSV header (trimmed, any case) has every `detect` field.
    pub fn detects_header(&self, header: &[String]) -> bool {
        self.format == MapFormat::Csv
            && !self.detect.is_empty()
            && self
                .detect
                .iter()
                .all(|d| header.iter().any(|h| h.trim().eq_ignore_ascii_case(d)))
    }

    /// Whether a JSON object has every `detect` path (null counts).
    pub fn detects_object(&self, obj: &Value) -> bool {
        self.format == MapFormat::Json
            && !self.detect.is_empty()
            && self.detect.iter().all(|d| {
                let mut v = obj;
                for key in d.split('.') {
                    match v.get(key) {
                        Some(next) => v = next,
                        None => return false,
                    }
                }
                true
            })
    }

    /// Source fields required by the required columns (for CSV headers):
    /// for each, the alternatives of which one must be present.
    fn required_fields(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        for slot in REQUIRED {
            let Some(col) = &self.cols[slot.index()] else {
                continue;
            };
            if col.default.is_some() {
                continue;
            }
            match &col.rule {
                Rule::Fields(f) => out.push(f.clone()),
                Rule::Derived { plus, .. } => out.extend(plus.iter().map(|p| vec![*p])),
                _ => {}
            }
        }
        out
    }

    /// Resolves a CSV header against the mapping: which column holds each
    /// field. A required field missing fails the file; other missing
    /// fields are absent in every row and listed in `missing`.
    pub fn csv_layout(&self, header: &[String]) -> Result<MappedCsv, String> {
        let col_of: Vec<Option<usize>> = self
            .fields
            .iter()
            .map(|f| header.iter().position(|h| h.trim().eq_ignore_ascii_case(f)))
            .collect();
        let missing_required: Vec<String> = self
            .required_fields()
            .iter()
            .filter(|alts| alts.iter().all(|a| col_of[*a].is_none()))
            .map(|alts| {
                alts.iter()
                    .map(|a| self.fields[*a].as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        if !missing_required.is_empty() {
            return Err(format!(
                "missing required column{} {} for source {} (header: {})",
                if missing_required.len() > 1 { "s" } else { "" },
                missing_required.join(", "),
                self.name,
                header.join(",")
            ));
        }
        let missing = self
            .fields
            .iter()
            .zip(&col_of)
            .filter(|(_, c)| c.is_none())
            .map(|(f, _)| f.clone())
            .collect();
        let ignored = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !col_of.contains(&Some(*i)))
            .map(|(_, h)| h.clone())
            .collect();
        Ok(MappedCsv {
            col_of,
            width: header.len(),
            missing,
            ignored,
        })
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

/// The built-in text of a mapping (`cxpipe mapping show NAME`).
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A mapping's CSV columns, resolved from one file's header.
#[derive(Debug, Clone)]
pub struct MappedCsv {
    col_of: Vec<Option<usize>>,
    /// Fields in the header.
    pub width: usize,
    /// Fields the mapping names that the header lacks (absent in every row).
    pub missing: Vec<String>,
    /// Header columns the mapping does not use.
    pub ignored: Vec<String>,
}

/// One record's source fields, as the mapping reads them.
pub enum Record<'r> {
    /// A parsed CSV record.
    Csv {
        /// The parser holding the record.
        parser: &'r CsvParser,
        /// The raw record.
        rec: &'r [u8],
        /// The file's layout.
        layout: &'r MappedCsv,
    },
    /// The mapping's fields of a JSON object ([`JsonRecord::parse`]).
    Json(&'r JsonRecord<'r>),
}

impl<'r> Record<'r> {
    /// The trimmed text of field `id`, `None` when absent, null or blank.
    fn text(&self, m: &Mapping, id: usize) -> Result<Option<Cow<'r, str>>, Problem> {
        match self {
            Record::Csv {
                parser,
                rec,
                layout,
            } => {
                let Some(i) = layout.col_of[id] else {
                    return Ok(None);
                };
                let bytes = parser.field(rec, i).trim_ascii();
                if bytes.is_empty() {
                    return Ok(None);
                }
                match std::str::from_utf8(bytes) {
                    Ok(s) => Ok(Some(Cow::Borrowed(s))),
                    Err(e) => Err((
                        ReasonCode::InvalidUtf8,
                        format!(
                            "{} is not valid UTF-8 (byte {})",
                            m.fields[id],
                            e.valid_up_to()
                        ),
                    )),
                }
            }
            Record::Json(r) => match &r.vals[id] {
                JsonVal::Absent => Ok(None),
                JsonVal::Text(t) => {
                    let trimmed = t.trim_ascii();
                    if trimmed.is_empty() {
                        Ok(None)
                    } else if trimmed.len() == t.len() {
                        Ok(Some(t.clone()))
                    } else {
                        Ok(Some(Cow::Owned(trimmed.to_string())))
                    }
                }
                JsonVal::Wrong(kind, depth) => {
                    let path = &m.paths[id];
                    Err((
                        ReasonCode::MalformedRow,
                        if *depth >= path.len() {
                            format!(
                                "{} is a JSON {kind}, expected text or a number",
                                m.fields[id]
                            )
                        } else {
                            format!(
                                "{} is a JSON {kind}, expected an object with {}",
                                path[..*depth].join("."),
                                path[*depth..].join(".")
                            )
                        },
                    ))
                }
            },
        }
    }
}

/// A mapping's JSON paths as a tree, so one pass over a record picks out
/// the fields it needs and skips everything else without building values.
#[derive(Debug, Default)]
struct PathTree {
    children: Vec<(String, PathTree)>,
    /// The field id of the path ending here.
    leaf: Option<usize>,
}

impl PathTree {
    fn build(paths: &[Vec<String>]) -> PathTree {
        let mut root = PathTree::default();
        for (id, path) in paths.iter().enumerate() {
            let mut node = &mut root;
            for key in path {
                let i = match node.children.iter().position(|(k, _)| k == key) {
                    Some(i) => i,
                    None => {
                        node.children.push((key.clone(), PathTree::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
            }
            node.leaf = Some(id);
        }
        root
    }

    fn child(&self, key: &str) -> Option<&PathTree> {
        // Length and first byte rule out most keys without a memcmp.
        let first = key.as_bytes().first();
        self.children
            .iter()
            .find(|(k, _)| k.len() == key.len() && k.as_bytes().first() == first && k == key)
            .map(|(_, c)| c)
    }

    fn leaves(&self, out: &mut Vec<usize>) {
        out.extend(self.leaf);
        for (_, c) in &self.children {
            c.leaves(out);
        }
    }
}

/// A field's value in a JSON record.
#[derive(Debug, Clone, PartialEq)]
enum JsonVal<'r> {
    /// Absent or null (also: a null object on its path).
    Absent,
    /// A string's text, or a number or boolean as written.
    Text(Cow<'r, str>),
    /// The path met a value of this JSON type after this many keys (the
    /// whole path: the value itself is an object or array).
    Wrong(&'static str, usize),
}

/// The fields a mapping reads from one JSON object.
#[derive(Debug)]
pub struct JsonRecord<'r> {
    vals: Vec<JsonVal<'r>>,
}

impl<'r> JsonRecord<'r> {
    /// Parses one JSON object, keeping only the mapping's fields.
    pub fn parse(m: &Mapping, rec: &'r [u8]) -> Result<JsonRecord<'r>, Problem> {
        let mut vals = vec![JsonVal::Absent; m.fields.len()];
        // Validated once, SIMD-fast, so the parser need not check each
        // string again (`from_str`).
        let text = simdutf8::basic::from_utf8(rec).map_err(|_| {
            let at = std::str::from_utf8(rec)
                .err()
                .map_or(0, |e| e.valid_up_to());
            (
                ReasonCode::InvalidUtf8,
                format!("the record is not valid UTF-8 (byte {at})"),
            )
        })?;
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = NodeSeed {
            node: &m.tree,
            depth: 0,
            out: &mut vals,
            top: true,
        };
        serde::de::DeserializeSeed::deserialize(seed, &mut de)
            .and_then(|()| de.end())
            .map_err(|e| {
                let msg = if e.is_data() {
                    "the record is not a JSON object".to_string()
                } else {
                    format!("invalid JSON: {e}")
                };
                (ReasonCode::MalformedRow, msg)
            })?;
        Ok(JsonRecord { vals })
    }
}

/// Visits the value at one node of the path tree.
struct NodeSeed<'a, 'r> {
    node: &'a PathTree,
    /// Keys from the root to this node.
    depth: usize,
    out: &'a mut Vec<JsonVal<'r>>,
    /// The record itself, which must be an object.
    top: bool,
}

impl<'de> NodeSeed<'_, 'de> {
    /// A value of the wrong type here: every field below is wrong.
    fn wrong<E: serde::de::Error>(self, kind: &'static str) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not an object"));
        }
        let mut ids = Vec::new();
        self.node.leaves(&mut ids);
        for id in ids {
            let depth = if Some(id) == self.node.leaf {
                usize::MAX
            } else {
                self.depth
            };
            self.out[id] = JsonVal::Wrong(kind, depth);
        }
        Ok(())
    }

    /// A string, number or boolean: the text of a leaf, or a wrong type
    /// where an object is expected.
    fn scalar<E: serde::de::Error>(self, kind: &'static str, text: Cow<'de, str>) -> Result<(), E> {
        match self.node.leaf {
            Some(id) if self.node.children.is_empty() && !self.top => {
                self.out[id] = JsonVal::Text(text);
                Ok(())
            }
            _ => self.wrong(kind),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for NodeSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NodeSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.node.children.is_empty() && !self.top {
            // A leaf holding an object: wrong, but the rest is read.
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            return self.wrong("object");
        }
        let out = self.out;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.node.child(&key) {
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Some(child) => map.next_value_seed(NodeSeed {
                    node: child,
                    depth: self.depth + 1,
                    out: &mut *out,
                    top: false,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        self.wrong("array")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar("string", Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar("string", Cow::Owned(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<(), E> {
        self.scalar("string", Cow::Owned(v))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar("boolean", Cow::Borrowed(if v { "true" } else { "false" }))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar("number", Cow::Owned(v.to_string()))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        if self.top {
            return Err(E::custom("not an object"));
        }
        // null: every field below is absent (the default).
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
}

/// An object key, borrowed from the record when it has no escapes.
struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// One record after mapping: every slot's text and typed value, computed
/// up front so that [`crate::row::convert`] sees them in its fixed order.
pub struct Mapped<'r> {
    m: &'r Mapping,
    text: [Result<Option<Cow<'r, str>>, Problem>; N_SLOTS],
    times: [Option<Result<Option<Micros>, Problem>>; 3],
    /// The record's version, when the mapping has one.
    pub version: Result<Option<Micros>, Problem>,
}

fn time_index(slot: Slot) -> usize {
    match slot {
        Slot::ArrivedAt => 0,
        Slot::AnsweredAt => 1,
        _ => 2,
    }
}

impl<'r> Mapped<'r> {
    /// Maps one record; `zone` reads wall-clock times of columns without
    /// their own zone.
    pub fn new(m: &'r Mapping, rec: &Record<'r>, zone: &Zone) -> Mapped<'r> {
        let text = Slot::ALL.map(|s| match &m.cols[s.index()] {
            None => Ok(None),
            Some(col) => column_text(m, col, rec),
        });
        let mut out = Mapped {
            m,
            text,
            times: [None, None, None],
            version: Ok(None),
        };
        // Read times first, then the derived ones (which may use them).
        for derived in [false, true] {
            for slot in [Slot::ArrivedAt, Slot::AnsweredAt, Slot::EndedAt] {
                let Some(col) = &m.cols[slot.index()] else {
                    continue;
                };
                let is_derived = matches!(col.rule, Rule::Derived { .. });
                if is_derived != derived {
                    continue;
                }
                let v = out.time(slot, col, rec, zone);
                out.times[time_index(slot)] = Some(v);
            }
        }
        if let Some(id) = m.version {
            out.version = match rec.text(m, id) {
                Err(p) => Err(p),
                Ok(None) => Ok(None),
                Ok(Some(t)) => parse::timestamp(&t, zone).map(Some).map_err(|e| {
                    (
                        ReasonCode::BadTimestamp,
                        format!("{} (the record version): {e}", m.fields[id]),
                    )
                }),
            };
        }
        out
    }

    fn gated(&self, col: &Col) -> Result<bool, Problem> {
        match col.only_if {
            None => Ok(true),
            Some(s) => match &self.text[s.index()] {
                Ok(t) => Ok(t.is_some()),
                Err(p) => Err(p.clone()),
            },
        }
    }

    fn time(
        &self,
        slot: Slot,
        col: &Col,
        rec: &Record<'r>,
        zone: &Zone,
    ) -> Result<Option<Micros>, Problem> {
        if !self.gated(col)? {
            return Ok(None);
        }
        let bad = |e: String| (ReasonCode::BadTimestamp, format!("{}: {e}", col.label));
        if let Rule::Derived { from, plus } = &col.rule {
            let Some(Some(Ok(base))) = self.times.get(time_index(*from)).cloned() else {
                // The base time is missing or bad: that column reports it.
                return Ok(None);
            };
            let Some(mut t) = base else {
                return Ok(None);
            };
            for p in plus {
                let Some(text) = rec.text(self.m, *p)? else {
                    continue;
                };
                let ms = parse::duration_ms(&text, col.unit).map_err(|e| {
                    (
                        ReasonCode::BadDuration,
                        format!("{}: {e}", self.m.fields[*p]),
                    )
                })?;
                if ms < 0 {
                    return Err((
                        ReasonCode::NegativeDuration,
                        format!("{} is negative ({text})", self.m.fields[*p]),
                    ));
                }
                t = ms
                    .checked_mul(1000)
                    .and_then(|us| t.checked_add(us))
                    .ok_or_else(|| bad(format!("{text} is too long")))?;
            }
            return Ok(Some(t));
        }
        let text = match &self.text[slot.index()] {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(None),
            Err(p) => return Err(p.clone()),
        };
        let zone = col.zone.as_ref().unwrap_or(zone);
        match &col.format {
            Some(f) => parse::timestamp_with_format(text, f, zone),
            None => parse::timestamp(text, zone),
        }
        .map(Some)
        .map_err(bad)
    }
}

/// The text of a column before typing: field (first present) or value,
/// then `null`, `default` and `map`.
fn column_text<'r>(
    m: &'r Mapping,
    col: &'r Col,
    rec: &Record<'r>,
) -> Result<Option<Cow<'r, str>>, Problem> {
    let mut text = match &col.rule {
        Rule::Value(v) => Some(Cow::Borrowed(v.as_str())),
        Rule::Fields(ids) => {
            let mut found = None;
            for id in ids {
                if let Some(t) = rec.text(m, *id)?
                    && !col.null.iter().any(|n| n.eq_ignore_ascii_case(&t))
                {
                    found = Some(t);
                    break;
                }
            }
            found
        }
        Rule::Derived { .. } => None,
        Rule::Presence { present, absent } => {
            let mut all = true;
            for id in present {
                all &= rec.text(m, *id)?.is_some();
            }
            for id in absent {
                all &= rec.text(m, *id)?.is_none();
            }
            Some(Cow::Borrowed(if all { "true" } else { "false" }))
        }
    };
    if text.is_none() {
        text = col.default.as_deref().map(Cow::Borrowed);
    }
    if let Some(t) = &text
        && let Some((_, to)) = col
            .map
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(t))
    {
        text = Some(Cow::Borrowed(to.as_str()));
    }
    Ok(text)
}

impl<'a> Fields<'a> for &'a Mapped<'_> {
    fn get(&self, slot: Slot) -> Result<Option<&'a str>, Problem> {
        match &self.text[slot.index()] {
            Ok(t) => Ok(t.as_deref()),
            Err(p) => Err(p.clone()),
        }
    }

    fn unit(&self, slot: Slot) -> DurationUnit {
        self.m.cols[slot.index()]
            .as_ref()
            .map_or(DurationUnit::Millis, |c| c.unit)
    }

    fn name(&self, slot: Slot) -> &str {
        self.m.cols[slot.index()]
            .as_ref()
            .map_or_else(|| column_name(slot), |c| c.label.as_str())
    }

    fn timestamp(&self, slot: Slot, _zone: &Zone) -> Result<Option<Micros>, Problem> {
        match &self.times[time_index(slot)] {
            Some(r) => r.clone(),
            None => Ok(None),
        }
    }

    fn boolean(&self, slot: Slot) -> Result<Option<bool>, Problem> {
        let Some(col) = &self.m.cols[slot.index()] else {
            return Ok(None);
        };
        let Some(t) = self.get(slot)? else {
            return Ok(None);
        };
        let bad = |e: String| (ReasonCode::BadEnum, format!("{}: {e}", col.label));
        if matches!(col.rule, Rule::Presence { .. }) {
            return Ok(Some(t == "true"));
        }
        if col.nonzero {
            return parse::integer(t).map(|n| Some(n > 0)).map_err(|_| {
                (
                    ReasonCode::BadNumber,
                    format!("{}: {t:?} is not a count (0, 1, 2, …)", col.label),
                )
            });
        }
        match &col.words {
            None => parse::boolean(t).map(Some).map_err(bad),
            Some((yes, no)) => {
                if yes.iter().any(|w| w.eq_ignore_ascii_case(t)) {
                    Ok(Some(true))
                } else if no.iter().any(|w| w.eq_ignore_ascii_case(t)) {
                    Ok(Some(false))
                } else {
                    Err(bad(format!(
                        "{t:?} is not one of {} / {}",
                        yes.join(", "),
                        no.join(", ")
                    )))
                }
            }
        }
    }

    fn csat(&self) -> Result<Option<i64>, Problem> {
        let Some(col) = &self.m.cols[Slot::Csat.index()] else {
            return Ok(None);
        };
        let Some(t) = self.get(Slot::Csat)? else {
            return Ok(None);
        };
        let v = parse::integer(t)
            .map_err(|e| (ReasonCode::BadNumber, format!("{}: {e}", col.label)))?;
        let Some((lo, hi)) = col.scale else {
            return Ok(Some(v));
        };
        if !(lo..=hi).contains(&v) {
            return Err((
                ReasonCode::CsatOutOfRange,
                format!("{} {v} is outside its scale {lo}..{hi}", col.label),
            ));
        }
        Ok(Some(scale_csat(v, lo, hi)))
    }
}

/// Maps a score on `lo..=hi` onto 1..5: `1 + round(4 (v − lo) / (hi − lo))`,
/// halves rounded up (1–10: 1,2 → 1; 3,4 → 2; 5,6 → 3; 7,8 → 4; 9,10 → 5).
pub fn scale_csat(v: i64, lo: i64, hi: i64) -> i64 {
    let num = 4 * (v - lo);
    let den = hi - lo;
    1 + (2 * num + den) / (2 * den)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> Zone {
        Zone::utc()
    }

    #[test]
    fn builtins_parse() {
        for (name, text) in BUILTIN {
            let m = Mapping::parse(text, name).expect(name);
            assert_eq!(m.name, name);
        }
        assert_eq!(vendors().len(), BUILTIN.len() - 1);
    }

    #[test]
    fn csat_scales_onto_one_to_five() {
        let got: Vec<i64> = (1..=10).map(|v| scale_csat(v, 1, 10)).collect();
        assert_eq!(got, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let got: Vec<i64> = (0..=10).map(|v| scale_csat(v, 0, 10)).collect();
        assert_eq!(got, [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]);
        assert_eq!(scale_csat(3, 1, 5), 3);
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let base = "[source]\nname = \"x\"\nformat = \"csv\"\n";
        let req = "[columns.interaction_id]\nfield = \"id\"\n[columns.channel]\nvalue = \"voice\"\n[columns.direction]\nvalue = \"inbound\"\n[columns.arrived_at]\nfield = \"start\"\n[columns.ended_at]\nfield = \"end\"\n";
        let ok = format!("{base}{req}");
        Mapping::parse(&ok, "m.toml").expect("valid");
        let cases = [
            (
                format!("{base}{req}[columns.talk_ms]\nfield = \"talk\"\nunit = \"hours\"\n"),
                "m.toml:14: [columns.talk_ms] unit: \"hours\"",
            ),
            (
                format!("{base}{req}[columns.talk]\nfield = \"talk\"\n"),
                "m.toml:14: [columns.talk] is not a canonical column",
            ),
            (
                format!("{base}{req}[columns.queue]\nfeild = \"q\"\n"),
                "m.toml:15:",
            ),
            (
                format!("{base}{req}[columns.csat]\nfield = \"c\"\nscale = [10, 1]\n"),
                "[columns.csat] scale:",
            ),
            (
                format!("{base}{req}[columns.queue]\nfield = \"q\"\nunit = \"s\"\n"),
                "[columns.queue] unit: applies only to",
            ),
            (
                format!("{base}{req}[columns.answered_at]\nfield = \"a\"\nformat = \"%Q%\"\n"),
                "[columns.answered_at] format:",
            ),
            (
                format!("{base}{req}[columns.answered_at]\nfield = \"a\"\nzone = \"Mars/Base\"\n"),
                "[columns.answered_at] zone:",
            ),
            (
                base.replace("csv", "xml") + req,
                "m.toml:3: [source] format: \"xml\"",
            ),
            (
                format!("{base}[columns.interaction_id]\nfield = \"id\"\n"),
                "[columns.channel] is missing",
            ),
            (
                format!("[source]\nname = \"x\"\n{req}"),
                "m.toml: [source] format is missing",
            ),
            (
                "[source]\nname = \"x\"\nextends = \"genesys\"\n".to_string(),
                "m.toml:3: [source] extends: no built-in mapping \"genesys\"",
            ),
            (
                format!("{base}{req}[columns.queue]\nfield = \"q\"\nvalue = \"x\"\n"),
                "[columns.queue] needs exactly one of",
            ),
        ];
        for (text, want) in cases {
            let e = Mapping::parse(&text, "m.toml").expect_err(want);
            assert!(e.contains(want), "{e}\n  wanted: {want}");
        }
    }

    /// Maps one CSV record and hands the result to `f`.
    fn with_csv<T>(m: &Mapping, header: &str, rec: &str, f: impl FnOnce(&Mapped<'_>) -> T) -> T {
        let header: Vec<String> = header.split(',').map(str::to_string).collect();
        let layout = m.csv_layout(&header).expect("layout");
        let mut p = CsvParser::default();
        p.parse(rec.as_bytes()).expect("record");
        let r = Record::Csv {
            parser: &p,
            rec: rec.as_bytes(),
            layout: &layout,
        };
        f(&Mapped::new(m, &r, &zone()))
    }

    #[test]
    fn derived_times_value_maps_nulls_and_counts() {
        let m = &Mapping::builtin("five9").expect("five9");
        let header = "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION";
        with_csv(
            m,
            header,
            "1,10/01/2026 08:00:00,sales,Manual,[None],,+15550100,+18005550100,00:00:30,00:01:00,00:00:10,00:00:20,2,0,",
            |f| {
                let t0 = parse::timestamp("2026-10-01T08:00:00Z", &zone()).expect("ts");
                assert_eq!(f.get(Slot::Direction), Ok(Some("outbound")));
                assert_eq!(f.get(Slot::AgentId), Ok(None));
                assert_eq!(f.get(Slot::Channel), Ok(Some("voice")));
                assert_eq!(f.timestamp(Slot::ArrivedAt, &zone()), Ok(Some(t0)));
                // No agent: never answered, though the wait is known.
                assert_eq!(f.timestamp(Slot::AnsweredAt, &zone()), Ok(None));
                assert_eq!(
                    f.timestamp(Slot::EndedAt, &zone()),
                    Ok(Some(t0 + 100_000_000))
                );
                assert_eq!(f.boolean(Slot::Transferred), Ok(Some(true)));
                assert_eq!(f.duration(Slot::Acw), Ok(Some(20_000)));
            },
        );
    }

    #[test]
    fn json_paths_presence_flags_and_wrong_types() {
        let m = &Mapping::builtin("amazon-connect").expect("connect");
        let text = br#"{"ContactId":"a","Channel":"VOICE","InitiationMethod":"INBOUND",
                "InitiationTimestamp":"2026-10-01T08:00:00Z","DisconnectTimestamp":"2026-10-01T08:05:00Z",
                "LastUpdateTimestamp":"2026-10-01T08:06:00Z","Other":{"deep":[1,{"x":null}]},
                "Queue":{"Name":" billing ","EnqueueTimestamp":"2026-10-01T08:00:10Z"},
                "Agent":null,"Attributes":{"csat":4}}"#;
        let rec = JsonRecord::parse(m, text).expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.boolean(Slot::Abandoned), Ok(Some(true)));
        assert_eq!(f.boolean(Slot::Transferred), Ok(Some(false)));
        assert_eq!(f.get(Slot::Queue), Ok(Some("billing")));
        assert_eq!(f.get(Slot::AgentId), Ok(None));
        assert_eq!(f.csat(), Ok(Some(4)), "a number where text is expected");
        let enqueued = parse::timestamp("2026-10-01T08:00:10Z", &zone()).expect("ts");
        assert_eq!(f.timestamp(Slot::ArrivedAt, &zone()), Ok(Some(enqueued)));
        assert!(f.version.clone().expect("version").is_some());
        let text =
            br#"{"ContactId":"a","Agent":"bob","Queue":{"Name":{"x":1}},"Channel":["VOICE"]}"#;
        let rec = JsonRecord::parse(m, text).expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        let (code, msg) = f.get(Slot::AgentId).expect_err("agent is a string");
        assert_eq!(code, ReasonCode::MalformedRow);
        assert!(
            msg.contains("Agent is a JSON string, expected an object with Username"),
            "{msg}"
        );
        let (code, msg) = f.get(Slot::Queue).expect_err("queue name is an object");
        assert_eq!(code, ReasonCode::MalformedRow);
        assert!(
            msg.contains("Queue.Name is a JSON object, expected text"),
            "{msg}"
        );
        let (_, msg) = f.get(Slot::Channel).expect_err("an array");
        assert!(msg.contains("Channel is a JSON array"), "{msg}");
        for bad in [
            &b"[1]"[..],
            b"42",
            b"null",
            b"{\"a\":",
            b"{} {}",
            b"{\"ContactId\":\"a\"} x",
        ] {
            let (code, _) = JsonRecord::parse(m, bad).expect_err("not one object");
            assert_eq!(code, ReasonCode::MalformedRow);
        }
    }

    /// A mapping that extends a built-in keeps its source keys and columns
    /// and replaces the columns it gives.
    #[test]
    fn extends_overrides_columns_of_a_builtin() {
        let m = Mapping::parse(
            "[source]\nname = \"my-connect\"\nextends = \"amazon-connect\"\n\n[columns.csat]\nfield = \"Attributes.survey\"\nscale = [1, 10]\n",
            "mine.toml",
        )
        .expect("valid");
        assert_eq!((m.name.as_str(), m.format), ("my-connect", MapFormat::Json));
        assert!(m.version.is_some(), "the version field comes along");
        let rec = JsonRecord::parse(
            &m,
            br#"{"ContactId":"a","Channel":"CHAT","Attributes":{"csat":"2","survey":"9"}}"#,
        )
        .expect("object");
        let f = Mapped::new(&m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.csat(), Ok(Some(5)), "survey 9 of 10");
        assert_eq!(f.get(Slot::Channel), Ok(Some("chat")));
        let e = Mapping::parse(
            "[source]\nname = \"x\"\nextends = \"five9\"\n[columns.talk_ms]\nfield = \"TALK\"\n",
            "mine.toml",
        )
        .expect_err("no unit");
        assert!(e.starts_with("mine.toml:4: [columns.talk_ms] unit:"), "{e}");
    }

    /// Escaped keys and strings are read like plain ones.
    #[test]
    fn escapes_in_keys_and_values() {
        let m = &Mapping::builtin("amazon-connect").expect("connect");
        let rec = JsonRecord::parse(
            m,
            br#"{"Contact\u0049d":"a\"b","Queue":{"Name":"caf\u00e9"}}"#,
        )
        .expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.get(Slot::InteractionId), Ok(Some("a\"b")));
        assert_eq!(f.get(Slot::Queue), Ok(Some("café")));
        let (code, msg) =
            JsonRecord::parse(m, b"{\"ContactId\":\"a\xff\"}").expect_err("bad UTF-8");
        assert_eq!(code, ReasonCode::InvalidUtf8);
        assert!(msg.contains("byte 15"), "{msg}");
    }

    #[test]
    fn a_csv_header_without_a_required_field_fails() {
        let m = Mapping::builtin("five9").expect("five9");
        let header: Vec<String> = "CALL ID,TIMESTAMP,CAMPAIGN,AGENT,QUEUE WAIT TIME,HOLD TIME"
            .split(',')
            .map(str::to_string)
            .collect();
        let e = m.csv_layout(&header).expect_err("no TALK TIME");
        assert!(e.contains("missing required column TALK TIME"), "{e}");
    }
}
