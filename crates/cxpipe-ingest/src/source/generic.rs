//! The `generic` source (SPEC §4): CSV or NDJSON whose fields carry the
//! canonical names, with `customer_id` (raw) in place of `customer_key` and
//! durations as `*_s` (seconds) or `*_ms` (milliseconds).

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::csv::CsvParser;
use crate::parse::DurationUnit;
use crate::reason::ReasonCode;
use crate::row::{CUSTOMER_ID, Fields, N_SLOTS, Problem, Slot};
use cxpipe_model::col;

/// Required generic fields: a CSV header without one of them fails the file.
pub const REQUIRED: [Slot; 5] = [
    Slot::InteractionId,
    Slot::Channel,
    Slot::Direction,
    Slot::ArrivedAt,
    Slot::EndedAt,
];

/// Resolves a generic field name (case-insensitive) to its slot and, for
/// durations, the unit its suffix names.
pub fn resolve(name: &str) -> Option<(Slot, DurationUnit)> {
    let lower = name.trim().to_ascii_lowercase();
    let plain = |s| Some((s, DurationUnit::Millis));
    match lower.as_str() {
        col::INTERACTION_ID => plain(Slot::InteractionId),
        col::CHAIN_ID => plain(Slot::ChainId),
        col::CHANNEL => plain(Slot::Channel),
        col::DIRECTION => plain(Slot::Direction),
        col::QUEUE => plain(Slot::Queue),
        col::AGENT_ID => plain(Slot::AgentId),
        col::TEAM => plain(Slot::Team),
        col::SITE => plain(Slot::Site),
        CUSTOMER_ID => plain(Slot::CustomerId),
        col::ARRIVED_AT => plain(Slot::ArrivedAt),
        col::ANSWERED_AT => plain(Slot::AnsweredAt),
        col::ENDED_AT => plain(Slot::EndedAt),
        col::ABANDONED => plain(Slot::Abandoned),
        col::TRANSFERRED => plain(Slot::Transferred),
        col::DISPOSITION => plain(Slot::Disposition),
        col::CSAT => plain(Slot::Csat),
        _ => {
            let (stem, unit) = if let Some(stem) = lower.strip_suffix("_ms") {
                (stem, DurationUnit::Millis)
            } else if let Some(stem) = lower.strip_suffix("_s") {
                (stem, DurationUnit::Seconds)
            } else {
                return None;
            };
            let slot = match stem {
                "wait" => Slot::Wait,
                "talk" => Slot::Talk,
                "hold" => Slot::Hold,
                "acw" => Slot::Acw,
                "handle" => Slot::Handle,
                _ => return None,
            };
            Some((slot, unit))
        }
    }
}

/// How a CSV file's columns map to slots, resolved from its header.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    field: [Option<usize>; N_SLOTS],
    unit: [DurationUnit; N_SLOTS],
    names: Vec<String>,
    /// Number of fields in the header.
    pub width: usize,
    /// Header columns that map to nothing (reported, not stored).
    pub ignored: Vec<String>,
}

impl CsvLayout {
    /// Resolves a header. Errors (a whole-file problem) name the columns.
    pub fn from_header(header: &[String]) -> Result<CsvLayout, String> {
        let mut field = [None; N_SLOTS];
        let mut unit = [DurationUnit::Millis; N_SLOTS];
        let mut names: Vec<String> = Slot::ALL.iter().map(|s| format!("{s:?}")).collect();
        let mut ignored = Vec::new();
        for (i, h) in header.iter().enumerate() {
            let Some((slot, u)) = resolve(h) else {
                ignored.push(h.clone());
                continue;
            };
            if let Some(prev) = field[slot.index()] {
                return Err(format!(
                    "columns {:?} and {:?} both give {}",
                    header[prev],
                    h,
                    slot_label(slot)
                ));
            }
            field[slot.index()] = Some(i);
            unit[slot.index()] = u;
            names[slot.index()] = h.trim().to_string();
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|s| field[s.index()].is_none())
            .map(|s| slot_label(*s))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "missing required column{} {} (header: {})",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                header.join(",")
            ));
        }
        Ok(CsvLayout {
            field,
            unit,
            names,
            width: header.len(),
            ignored,
        })
    }
}

/// The canonical spelling of a slot in generic files.
pub fn slot_label(slot: Slot) -> &'static str {
    match slot {
        Slot::Wait => "wait_s|wait_ms",
        Slot::Talk => "talk_s|talk_ms",
        Slot::Hold => "hold_s|hold_ms",
        Slot::Acw => "acw_s|acw_ms",
        Slot::Handle => "handle_s|handle_ms",
        _ => slot.column_name(),
    }
}

/// The fields of one parsed CSV record.
pub struct CsvFields<'a> {
    /// The parser holding the record.
    parser: &'a CsvParser,
    /// The file's layout.
    layout: &'a CsvLayout,
    /// The raw record.
    rec: &'a [u8],
    /// The record as text, when it is plain (no quotes) and valid UTF-8:
    /// then fields are slices of it, validated once for the whole record.
    text: Option<&'a str>,
}

impl<'a> CsvFields<'a> {
    /// The fields of `rec`, just parsed by `parser`.
    pub fn new(parser: &'a CsvParser, layout: &'a CsvLayout, rec: &'a [u8]) -> CsvFields<'a> {
        let text = if parser.was_quoted() {
            None
        } else {
            std::str::from_utf8(rec).ok()
        };
        CsvFields {
            parser,
            layout,
            rec,
            text,
        }
    }
}

impl<'a> Fields<'a> for CsvFields<'a> {
    fn get(&self, slot: Slot) -> Result<Option<&'a str>, Problem> {
        let Some(i) = self.layout.field[slot.index()] else {
            return Ok(None);
        };
        if let Some(text) = self.text {
            // Commas are ASCII, so plain field bounds are char boundaries.
            let (a, b) = self.parser.plain_range(i);
            let v = text.get(a..b).unwrap_or_default().trim_ascii();
            return Ok((!v.is_empty()).then_some(v));
        }
        let bytes = self.parser.field(self.rec, i).trim_ascii();
        if bytes.is_empty() {
            return Ok(None);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some(s)),
            Err(e) => Err((
                ReasonCode::InvalidUtf8,
                format!(
                    "{} is not valid UTF-8 (byte {})",
                    self.name(slot),
                    e.valid_up_to()
                ),
            )),
        }
    }

    fn unit(&self, slot: Slot) -> DurationUnit {
        self.layout.unit[slot.index()]
    }

    fn name(&self, slot: Slot) -> &str {
        match self.layout.field[slot.index()] {
            Some(_) => &self.layout.names[slot.index()],
            None => slot_label(slot),
        }
    }
}

/// Parses a JSON object into its keys and raw values, in order.
fn parse_object(line: &[u8]) -> Result<Vec<(String, Box<RawValue>)>, serde_json::Error> {
    struct Pairs(Vec<(String, Box<RawValue>)>);
    impl<'de> serde::Deserialize<'de> for Pairs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Pairs;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Pairs, A::Error> {
                    let mut v = Vec::new();
                    while let Some(pair) = m.next_entry::<String, Box<RawValue>>()? {
                        v.push(pair);
                    }
                    Ok(Pairs(v))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Pairs>(line).map(|p| p.0)
}

/// The fields of one NDJSON object, as text.
#[derive(Debug, Default)]
pub struct JsonFields {
    vals: [Option<String>; N_SLOTS],
    unit: [Option<DurationUnit>; N_SLOTS],
    names: [Option<String>; N_SLOTS],
}

impl JsonFields {
    /// Parses one JSON object line. Unknown keys are ignored; a value that is
    /// an object or array where text is expected is malformed.
    pub fn parse(line: &[u8]) -> Result<JsonFields, Problem> {
        // Values are kept as raw JSON text, so numbers keep every digit
        // (a 30-digit id is not rounded through f64).
        let obj = parse_object(line).map_err(|e| {
            let msg = if e.is_data() {
                "the line is not a JSON object".to_string()
            } else {
                format!("invalid JSON: {e}")
            };
            (ReasonCode::MalformedRow, msg)
        })?;
        let mut f = JsonFields::default();
        for (key, raw) in obj {
            let Some((slot, unit)) = resolve(&key) else {
                continue;
            };
            let i = slot.index();
            if f.names[i].is_some() {
                return Err((
                    ReasonCode::MalformedRow,
                    format!(
                        "keys {:?} and {key:?} both give {}",
                        f.names[i].as_deref().unwrap_or(""),
                        slot_label(slot)
                    ),
                ));
            }
            let text = raw.get();
            let text: Option<Cow<'_, str>> = match text.as_bytes().first() {
                Some(b'n') => None,
                Some(b'"') => Some(Cow::Owned(serde_json::from_str::<String>(text).map_err(
                    |e| {
                        (
                            ReasonCode::MalformedRow,
                            format!("{key}: invalid JSON string: {e}"),
                        )
                    },
                )?)),
                Some(b'[' | b'{') => {
                    return Err((
                        ReasonCode::MalformedRow,
                        format!(
                            "{key} is a JSON {}, expected text or a number",
                            if text.starts_with('[') {
                                "array"
                            } else {
                                "object"
                            }
                        ),
                    ));
                }
                // true, false, or a number: its text as written.
                _ => Some(Cow::Borrowed(text)),
            };
            // Trimmed like CSV fields: ASCII white space only.
            f.vals[i] = text
                .map(|t| t.trim_ascii().to_string())
                .filter(|t| !t.is_empty());
            f.unit[i] = Some(unit);
            f.names[i] = Some(key);
        }
        Ok(f)
    }
}

impl<'a> Fields<'a> for &'a JsonFields {
    fn get(&self, slot: Slot) -> Result<Option<&'a str>, Problem> {
        Ok(self.vals[slot.index()].as_deref())
    }

    fn unit(&self, slot: Slot) -> DurationUnit {
        self.unit[slot.index()].unwrap_or(DurationUnit::Millis)
    }

    fn name(&self, slot: Slot) -> &str {
        self.names[slot.index()]
            .as_deref()
            .unwrap_or_else(|| slot_label(slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn header_order_is_free_and_units_come_from_suffixes() {
        let l = CsvLayout::from_header(&header(
            "ended_at,Channel,interaction_id,direction,arrived_at,talk_s,hold_ms,extra",
        ))
        .expect("valid header");
        assert_eq!(l.field[Slot::EndedAt.index()], Some(0));
        assert_eq!(l.unit[Slot::Talk.index()], DurationUnit::Seconds);
        assert_eq!(l.unit[Slot::Hold.index()], DurationUnit::Millis);
        assert_eq!(l.ignored, vec!["extra".to_string()]);
    }

    #[test]
    fn a_header_without_required_columns_names_them() {
        let err = CsvLayout::from_header(&header("interaction_id,channel,arrived_at"))
            .expect_err("missing columns");
        assert!(err.contains("direction, ended_at"), "{err}");
        let err = CsvLayout::from_header(&header(
            "interaction_id,channel,direction,arrived_at,ended_at,talk_s,talk_ms",
        ))
        .expect_err("ambiguous");
        assert!(err.contains("talk_s"), "{err}");
    }

    #[test]
    fn json_values_become_text() {
        let f = JsonFields::parse(
            br#"{"interaction_id":"x","talk_s":12.5,"abandoned":false,"queue":null,"other":[1]}"#,
        )
        .expect("valid");
        let f = &f;
        assert_eq!(f.get(Slot::Talk), Ok(Some("12.5")));
        assert_eq!(f.unit(Slot::Talk), DurationUnit::Seconds);
        assert_eq!(f.get(Slot::Abandoned), Ok(Some("false")));
        assert_eq!(f.get(Slot::Queue), Ok(None));
        assert!(JsonFields::parse(b"[1,2]").is_err());
        assert!(JsonFields::parse(b"{\"a\":").is_err());
        assert!(JsonFields::parse(br#"{"channel":{"x":1}}"#).is_err());
    }
}
