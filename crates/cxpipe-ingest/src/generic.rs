//! The `generic` source (SPEC §4): CSV or NDJSON whose fields carry the
//! canonical names, with `customer_id` (raw) in place of `customer_key` and
//! durations as `*_s` (seconds) or `*_ms` (milliseconds).

use std::borrow::Cow;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use serde_json::value::RawValue;

use crate::parse::DurationUnit;
use crate::reason::ReasonCode;
use crate::row::{Fields, N_SLOTS, Problem, Slot};

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
        "interaction_id" => plain(Slot::InteractionId),
        "chain_id" => plain(Slot::ChainId),
        "channel" => plain(Slot::Channel),
        "direction" => plain(Slot::Direction),
        "queue" => plain(Slot::Queue),
        "agent_id" => plain(Slot::AgentId),
        "team" => plain(Slot::Team),
        "site" => plain(Slot::Site),
        "customer_id" => plain(Slot::CustomerId),
        "arrived_at" => plain(Slot::ArrivedAt),
        "answered_at" => plain(Slot::AnsweredAt),
        "ended_at" => plain(Slot::EndedAt),
        "abandoned" => plain(Slot::Abandoned),
        "transferred" => plain(Slot::Transferred),
        "disposition" => plain(Slot::Disposition),
        "csat" => plain(Slot::Csat),
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
        _ => crate::mapping::column_name(slot),
    }
}

/// A reusable CSV field parser for single records.
///
/// A record without any quote is split on commas directly (its fields are
/// slices of the record); one with quotes goes through csv-core, which
/// unescapes into an internal buffer. The fast path is what makes plain
/// exports cheap: most records of most exports have no quote at all.
#[derive(Debug)]
pub struct CsvParser {
    rdr: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    plain: Vec<(usize, usize)>,
    quoted: bool,
}

impl Default for CsvParser {
    fn default() -> Self {
        CsvParser {
            rdr: ReaderBuilder::new()
                .terminator(Terminator::Any(b'\n'))
                .build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            plain: Vec::with_capacity(64),
            quoted: false,
        }
    }
}

impl CsvParser {
    /// Parses one record (without its line terminator) into fields.
    /// Returns the number of fields, or an error when the bytes hold more
    /// than one record.
    pub fn parse(&mut self, rec: &[u8]) -> Result<usize, String> {
        if memchr::memchr(b'"', rec).is_none() {
            self.quoted = false;
            self.plain.clear();
            let mut start = 0;
            for i in memchr::memchr_iter(b',', rec) {
                self.plain.push((start, i));
                start = i + 1;
            }
            self.plain.push((start, rec.len()));
            return Ok(self.plain.len());
        }
        self.quoted = true;
        self.rdr.reset();
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        loop {
            let input = &rec[nin..];
            let (res, i, o, e) =
                self.rdr
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            nin += i;
            nout += o;
            nend += e;
            match res {
                ReadRecordResult::InputEmpty => {
                    if nin < rec.len() {
                        continue;
                    }
                    // Signal end of input so the last field is closed.
                    let (res, _, o, e) =
                        self.rdr
                            .read_record(&[], &mut self.out[nout..], &mut self.ends[nend..]);
                    nout += o;
                    nend += e;
                    match res {
                        ReadRecordResult::Record => return Ok(nend),
                        ReadRecordResult::OutputFull => self.grow_out(),
                        ReadRecordResult::OutputEndsFull => self.grow_ends(),
                        _ => return Ok(nend),
                    }
                }
                ReadRecordResult::OutputFull => self.grow_out(),
                ReadRecordResult::OutputEndsFull => self.grow_ends(),
                ReadRecordResult::Record => {
                    if nin < rec.len() {
                        return Err("the line holds more than one record".to_string());
                    }
                    return Ok(nend);
                }
                ReadRecordResult::End => return Ok(nend),
            }
        }
    }

    fn grow_out(&mut self) {
        let n = self.out.len() * 2;
        self.out.resize(n, 0);
    }

    fn grow_ends(&mut self) {
        let n = self.ends.len() * 2;
        self.ends.resize(n, 0);
    }

    /// Whether the last record went through the quoted (unescaping) path.
    pub fn was_quoted(&self) -> bool {
        self.quoted
    }

    /// The bytes of field `i` of the last parsed record `rec`.
    pub fn field<'a>(&'a self, rec: &'a [u8], i: usize) -> &'a [u8] {
        if self.quoted {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.out[start..self.ends[i]]
        } else {
            let (a, b) = self.plain[i];
            &rec[a..b]
        }
    }

    /// The byte range of field `i` in the record (plain records only).
    fn plain_range(&self, i: usize) -> (usize, usize) {
        self.plain[i]
    }

    /// All fields of the last parsed record as (lossy) strings.
    pub fn strings(&self, rec: &[u8], n: usize) -> Vec<String> {
        (0..n)
            .map(|i| String::from_utf8_lossy(self.field(rec, i)).into_owned())
            .collect()
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
    fn csv_records_parse_with_quotes() {
        let mut p = CsvParser::default();
        let rec = b"a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"";
        assert_eq!(p.parse(rec), Ok(4));
        assert_eq!(p.field(rec, 0), b"a");
        assert_eq!(p.field(rec, 1), b"b,c");
        assert_eq!(p.field(rec, 2), b"say \"hi\"");
        assert_eq!(p.field(rec, 3), b"x\ny");
        let long = vec![b'z'; 10_000];
        assert_eq!(p.parse(&long), Ok(1));
        assert_eq!(p.field(&long, 0).len(), 10_000);
        let many = ",".repeat(200);
        assert_eq!(p.parse(many.as_bytes()), Ok(201));
        let plain = b"x,,y z";
        assert_eq!(p.parse(plain), Ok(3));
        assert_eq!(p.field(plain, 1), b"");
        assert_eq!(p.field(plain, 2), b"y z");
        let quoted_many = format!("\"q\"{}", ",\"\"".repeat(100));
        assert_eq!(p.parse(quoted_many.as_bytes()), Ok(101));
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
