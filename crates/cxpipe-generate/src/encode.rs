//! Writing rows into a byte buffer, without per-row allocation, in every
//! layout: the generic one in [`generic`], Amazon Connect's CTRs in [`ctr`],
//! the Five9 and Talkdesk CSV reports in [`reports`]. Whatever a layout adds
//! that the generic row does not have is derived from the contact's id
//! alone, so the bytes of a row never depend on the rows written before it.

mod ctr;
mod generic;
mod genesys;
mod reports;
#[cfg(test)]
mod testing;
mod wallclock;

use crate::sim::{DISPOSITIONS, F_MIXED_CASE, NO_DISPOSITION, Row, by_phone};
use crate::timefmt::{DIGIT_PAIRS, DateOrder, TsFormatter};
use crate::world::World;
use crate::{Error, FileFormat, Layout};

/// The generic layout's fields, in CSV column order.
pub const FIELDS: [&str; 19] = [
    "interaction_id",
    "chain_id",
    "channel",
    "direction",
    "queue",
    "agent_id",
    "team",
    "site",
    "customer_id",
    "arrived_at",
    "answered_at",
    "ended_at",
    "talk_s",
    "hold_s",
    "acw_s",
    "abandoned",
    "transferred",
    "disposition",
    "csat",
];

const FIRST_NAMES: [&str; 64] = [
    "maria", "james", "li", "fatima", "john", "ana", "mohammed", "olga", "david", "sofia", "wei",
    "priya", "carlos", "emma", "juan", "aisha", "michael", "elena", "hiroshi", "grace", "ahmed",
    "lucia", "ivan", "chloe", "pedro", "mei", "robert", "nadia", "daniel", "sara", "kenji",
    "laura", "omar", "julia", "lucas", "amara", "thomas", "yuki", "peter", "zara", "diego",
    "hannah", "ali", "nina", "mark", "rosa", "sam", "leila", "paul", "irina", "tomas", "kate",
    "raj", "ines", "noah", "maya", "jorge", "eva", "chen", "lena", "oscar", "alice", "ben", "dana",
];
const LAST_NAMES: [&str; 64] = [
    "garcia", "smith", "wang", "khan", "johnson", "santos", "ali", "ivanova", "brown", "rossi",
    "zhang", "patel", "lopez", "miller", "cruz", "okafor", "davis", "popescu", "tanaka", "kim",
    "hassan", "moreno", "petrov", "martin", "silva", "chen", "wilson", "novak", "taylor", "nowak",
    "sato", "fischer", "reyes", "schmidt", "costa", "mensah", "moore", "suzuki", "walker", "ahmed",
    "ramos", "weber", "yilmaz", "kovacs", "clark", "torres", "lewis", "haddad", "young",
    "sokolova", "horvat", "king", "gupta", "ferreira", "scott", "levi", "diaz", "berg", "liu",
    "wagner", "lee", "dubois", "hall", "kowalski",
];
const DOMAINS: [&str; 4] = [
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
];

/// Formats rows of one [`World`] in one [`Layout`] and [`FileFormat`] (a
/// combination that [`Layout::writes`] accepts). Cloned for every piece of
/// rows: its state only caches work (the date of the last time written, the
/// zone's offset), never changes the bytes.
#[derive(Clone)]
pub(crate) struct RowFormatter<'w> {
    w: &'w World,
    layout: Layout,
    format: FileFormat,
    day_start: i64,
    ts: TsFormatter,
    /// Date-and-time without offset, for the CSV vendor layouts.
    wall: wallclock::WallClock,
    /// The Five9 layout's time zone.
    zone: Option<wallclock::ZoneOffsets>,
    /// Generic CSV: quote every text field (`GenConfig::quote_text`).
    pub(crate) quote_text: bool,
}

impl<'w> RowFormatter<'w> {
    /// A formatter; fails only when the time zone the layout needs is
    /// missing from the time zone database.
    pub(crate) fn new(
        w: &'w World,
        layout: Layout,
        format: FileFormat,
    ) -> Result<RowFormatter<'w>, Error> {
        let (wall, zone) = match layout {
            Layout::Five9 => (
                wallclock::WallClock::new(DateOrder::MonthFirst),
                Some(wallclock::ZoneOffsets::get(crate::FIVE9_TIME_ZONE, layout)?),
            ),
            _ => (wallclock::WallClock::new(DateOrder::YearFirst), None),
        };
        Ok(RowFormatter {
            w,
            layout,
            format,
            day_start: 0,
            ts: TsFormatter::default(),
            wall,
            zone,
            quote_text: false,
        })
    }

    /// What the file starts with: a header line (CSV), `[` (JSON array) or
    /// nothing (NDJSON).
    pub(crate) fn header(layout: Layout, format: FileFormat) -> Vec<u8> {
        match (layout, format) {
            (_, FileFormat::Ndjson) => Vec::new(),
            (_, FileFormat::JsonArray) => b"[".to_vec(),
            (Layout::Five9, FileFormat::Csv) => format!("{}\n", reports::FIVE9_HEADER).into_bytes(),
            (Layout::Talkdesk, FileFormat::Csv) => {
                format!("{}\n", reports::TALKDESK_HEADER).into_bytes()
            }
            (Layout::Generic | Layout::AmazonConnect | Layout::Genesys, FileFormat::Csv) => {
                let mut h = FIELDS.join(",").into_bytes();
                h.push(b'\n');
                h
            }
        }
    }

    /// What the file ends with: the close of a JSON array, else nothing.
    pub(crate) fn footer(format: FileFormat) -> &'static [u8] {
        match format {
            FileFormat::JsonArray => b"\n]\n",
            FileFormat::Csv | FileFormat::Ndjson => b"",
        }
    }

    /// Sets the day the following rows' times are relative to.
    pub(crate) fn set_day(&mut self, day: u32) {
        self.day_start = (self.w.start_day + i64::from(day)) * 86_400;
    }

    /// Appends one row and its line break (in a JSON array: a `,` and a
    /// line break before it instead); returns the number of records written
    /// for it: 1, or 2 when the layout also delivers an older version.
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, r: &Row) -> u32 {
        match (self.layout, self.format) {
            (Layout::Generic, FileFormat::Ndjson) => {
                self.push_json(out, r);
                1
            }
            (Layout::AmazonConnect, _) => self.push_ctr(out, r),
            (Layout::Genesys, _) => self.push_genesys(out, r),
            (Layout::Five9, _) => {
                self.push_five9(out, r);
                1
            }
            (Layout::Talkdesk, _) => {
                self.push_talkdesk(out, r);
                1
            }
            (Layout::Generic, _) => {
                self.push_csv(out, r);
                1
            }
        }
    }
}

/// `c` and 12 lowercase hex digits.
#[inline]
fn push_id(out: &mut Vec<u8>, id: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 13];
    buf[0] = b'c';
    for (i, b) in buf[1..].iter_mut().enumerate() {
        *b = HEX[((id >> (44 - 4 * i)) & 0xF) as usize];
    }
    out.extend_from_slice(&buf);
}

/// The raw customer address: `+1` and ten digits for phone channels, an
/// e-mail address (sometimes typed with capitals) for the others. Both are
/// injective functions of the customer number.
#[inline]
fn push_customer(out: &mut Vec<u8>, r: &Row) {
    let c = u64::from(r.customer);
    if by_phone(r.channel) {
        out.extend_from_slice(b"+1");
        push_u64(out, 2_000_000_000 + c);
        return;
    }
    let mixed = r.flags & F_MIXED_CASE != 0;
    let word = |out: &mut Vec<u8>, s: &str| {
        let start = out.len();
        out.extend_from_slice(s.as_bytes());
        if mixed {
            out[start] = out[start].to_ascii_uppercase();
        }
    };
    word(out, FIRST_NAMES[(c % 64) as usize]);
    out.push(b'.');
    word(out, LAST_NAMES[(c / 64 % 64) as usize]);
    push_u64(out, c / 4096);
    out.push(b'@');
    word(out, DOMAINS[(c % 7 % 4) as usize]);
}

/// The wrap-up code or note, unquoted (nothing when there is none).
fn push_disposition(out: &mut Vec<u8>, r: &Row) {
    if r.card != 0 {
        out.extend_from_slice(b"refund issued, card ");
        push_u64(out, r.card);
    } else if r.disposition != NO_DISPOSITION {
        out.extend_from_slice(DISPOSITIONS[usize::from(r.disposition)].as_bytes());
    }
}

/// Decimal digits of `v`.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[p..p + 2]);
    }
    if v >= 10 {
        let p = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[p..p + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_thirteen_chars() {
        let mut out = Vec::new();
        push_id(&mut out, 0xABCD_EF01_2345);
        assert_eq!(out, b"cabcdef012345");
        let mut out = Vec::new();
        push_id(&mut out, 1);
        assert_eq!(out, b"c000000000001");
    }

    proptest! {
        #[test]
        fn push_u64_matches_display(v: u64) {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            prop_assert_eq!(out, v.to_string().into_bytes());
        }
    }
}
