//! One record through a mapping: each canonical column's text (field,
//! constant, default, value map) and typed value (timestamps with their
//! formats and zones, derived times, boolean rules, CSAT scales), ready for
//! `row::convert`.

use std::borrow::Cow;

use cxpipe_model::Zone;

use super::compile::{Col, ColumnRule, Condition, Mapping};
use super::csv_layout::MappedCsv;
use super::json_paths::{JsonRecord, JsonVal};
use crate::csv::CsvParser;
use crate::parse::{self, DurationUnit, Micros};
use crate::reason::ReasonCode;
use crate::row::{Fields, N_SLOTS, Problem, Slot};

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
    /// The mapping's fields of a JSON object ([`Mapping::json_record`]).
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
                JsonVal::Absent | JsonVal::Null => Ok(None),
                JsonVal::Text(t) => {
                    // Borrowed from the parsed record, owned text or not: a
                    // number's text is owned there, and cloning it for each
                    // rule that reads the field was an allocation each time.
                    let trimmed = t.trim_ascii();
                    Ok((!trimmed.is_empty()).then_some(Cow::Borrowed(trimmed)))
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

impl Record<'_> {
    /// Whether every test of `c` holds for this record.
    fn meets(&self, m: &Mapping, c: &Condition) -> Result<bool, Problem> {
        for (field, test) in &c.all {
            if !test.holds(self.text(m, *field)?.as_deref()) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Mapping {
    /// The `[source] skip` condition a record meets, if any: it is not a
    /// contact and is counted as filtered, not stored.
    pub fn skipped(&self, rec: &Record<'_>) -> Result<Option<usize>, Problem> {
        for (i, c) in self.skip.iter().enumerate() {
            if rec.meets(self, c)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

/// One record after mapping: every slot's text and typed value, computed
/// up front so that `row::convert` sees them in its fixed order.
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
                let is_derived = matches!(col.rule, ColumnRule::Derived { .. });
                if is_derived != derived {
                    continue;
                }
                let v = out.time(slot, col, rec, zone);
                out.times[time_index(slot)] = Some(v);
            }
        }
        // `only_if` on a column that is not a time: it has a value only when
        // the other column has one (a time: once computed above). One
        // level: chains of `only_if` are not followed.
        for s in Slot::ALL {
            let Some(Col {
                only_if: Some(other),
                ..
            }) = &m.cols[s.index()]
            else {
                continue;
            };
            if matches!(s, Slot::ArrivedAt | Slot::AnsweredAt | Slot::EndedAt) {
                continue;
            }
            let other_empty = match other {
                Slot::ArrivedAt | Slot::AnsweredAt | Slot::EndedAt => {
                    matches!(out.times[time_index(*other)], None | Some(Ok(None)))
                }
                _ => matches!(out.text[other.index()], Ok(None)),
            };
            if other_empty {
                out.text[s.index()] = Ok(None);
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

    /// Sets `interaction_id` of a mapping whose ids are record positions
    /// (`position = true`).
    pub fn set_position_id(&mut self, id: String) {
        self.text[Slot::InteractionId.index()] = Ok(Some(Cow::Owned(id)));
    }

    fn gated(&self, col: &Col, rec: &Record<'r>) -> Result<bool, Problem> {
        if let Some(c) = &col.when
            && !rec.meets(self.m, c)?
        {
            return Ok(false);
        }
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
        if !self.gated(col, rec)? {
            return Ok(None);
        }
        let bad = |e: String| (ReasonCode::BadTimestamp, format!("{}: {e}", col.label));
        if let ColumnRule::Derived { from, plus, minus } = &col.rule {
            let Some(Some(Ok(base))) = self.times.get(time_index(*from)).cloned() else {
                // The base time is missing or bad: that column reports it.
                return Ok(None);
            };
            let Some(mut t) = base else {
                return Ok(None);
            };
            let signed = plus
                .iter()
                .map(|p| (*p, 1))
                .chain(minus.iter().map(|p| (*p, -1)));
            for (p, sign) in signed {
                // A blank part makes the time unknown, never "plus 0".
                let Some(text) = rec.text(self.m, p)? else {
                    return Ok(None);
                };
                let ms = parse::duration_ms(&text, col.unit).map_err(|e| {
                    (
                        ReasonCode::BadDuration,
                        format!("{}: {e}", self.m.fields[p]),
                    )
                })?;
                if ms < 0 {
                    return Err((
                        ReasonCode::NegativeDuration,
                        format!("{} is negative ({text})", self.m.fields[p]),
                    ));
                }
                t = ms
                    .checked_mul(1000 * sign)
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
        // The time of day: the first of the time fields with a text that
        // is not a `null` word. With time fields and none present, the
        // column has no value: a date alone is never taken as midnight.
        let mut time = None;
        for id in &col.time_field {
            if let Some(t) = rec.text(self.m, *id)?
                && !col.is_null_word(&t)
            {
                time = Some(t);
                break;
            }
        }
        if !col.time_field.is_empty() && time.is_none() {
            return Ok(None);
        }
        if col.formats.is_empty() {
            let joined;
            let text = match &time {
                Some(t) => {
                    joined = format!("{text} {t}");
                    joined.as_str()
                }
                None => text,
            };
            return parse::timestamp(text, zone).map(Some).map_err(bad);
        }
        let mut first_err = None;
        for f in &col.formats {
            match f.parse(text, time.as_deref(), zone) {
                Ok(t) => return Ok(Some(t)),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if col.formats.len() == 1 {
            return Err(bad(first_err.unwrap_or_default()));
        }
        let list: Vec<&str> = col.formats.iter().map(|f| f.text()).collect();
        let shown = match &time {
            Some(t) => format!("{text} {t}"),
            None => text.to_string(),
        };
        Err(bad(format!(
            "{shown:?} matches none of the formats {list:?}"
        )))
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
        ColumnRule::Value(v) => Some(Cow::Borrowed(v.as_str())),
        ColumnRule::Fields(ids) => {
            let mut found = None;
            for id in ids {
                if let Some(t) = rec.text(m, *id)?
                    && !col.is_null_word(&t)
                {
                    found = Some(t);
                    break;
                }
            }
            found
        }
        ColumnRule::Derived { .. } | ColumnRule::Position => None,
        ColumnRule::Join { ids, separator } => {
            let mut parts = Vec::with_capacity(ids.len());
            for id in ids {
                match rec.text(m, *id)? {
                    Some(t) => parts.push(t),
                    None => {
                        parts.clear();
                        break;
                    }
                }
            }
            (!parts.is_empty()).then(|| Cow::Owned(parts.join(separator.as_str())))
        }
        ColumnRule::Presence { present, absent } => {
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
    if let Some(c) = &col.when
        && !rec.meets(m, c)?
    {
        // The condition does not hold: no value, and no default either
        // (an agent named on an unanswered call is not its agent).
        return Ok(None);
    }
    if text.is_none() {
        text = col.default.as_deref().map(Cow::Borrowed);
    }
    if let Some(t) = &text {
        let exact = col
            .map
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(t));
        // `"*"` maps every text no other key matched.
        let any = || col.map.iter().find(|(from, _)| from == "*");
        if let Some((_, to)) = exact.or_else(any) {
            text = Some(Cow::Borrowed(to.as_str()));
        }
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
            .map_or_else(|| slot.column_name(), |c| c.label.as_str())
    }

    fn blank_is_zero(&self, _slot: Slot) -> bool {
        // A mapping says "blank means 0" with `default`, and then the text
        // is not blank.
        false
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
        if matches!(col.rule, ColumnRule::Presence { .. }) {
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
