//! Writing rows into a reusable byte buffer, without per-row allocation: the
//! generic layout (CSV or NDJSON) here, the vendor layouts in [`vendor`].

mod vendor;

use crate::sim::{
    CHANNELS, DISPOSITIONS, F_ABANDONED, F_MIXED_CASE, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION,
    NONE32, NONE64, Row, by_phone,
};
use crate::timefmt::{DIGIT_PAIRS, TsFormatter};
use crate::world::{QUEUES, SITES, World};
use crate::{Error, Format, Layout};

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

/// Formats rows of one [`World`] in one [`Layout`] and [`Format`] (a
/// combination that [`Layout::writes`] accepts). Cloned once per generator
/// thread.
#[derive(Clone)]
pub(crate) struct RowFormatter<'w> {
    w: &'w World,
    layout: Layout,
    format: Format,
    day_start: i64,
    ts: TsFormatter,
    /// Date-and-time without offset, for the CSV vendor layouts.
    wall: vendor::WallClock,
    /// The Five9 layout's time zone.
    zone: Option<vendor::Zone>,
}

impl<'w> RowFormatter<'w> {
    /// A formatter; fails only when the time zone the layout needs is
    /// missing from the time zone database.
    pub(crate) fn new(
        w: &'w World,
        layout: Layout,
        format: Format,
    ) -> Result<RowFormatter<'w>, Error> {
        let (wall, zone) = match layout {
            Layout::Five9 => (
                vendor::WallClock::new(vendor::DateOrder::MonthFirst),
                Some(vendor::Zone::get(crate::FIVE9_TIME_ZONE, layout)?),
            ),
            _ => (vendor::WallClock::new(vendor::DateOrder::YearFirst), None),
        };
        Ok(RowFormatter {
            w,
            layout,
            format,
            day_start: 0,
            ts: TsFormatter::default(),
            wall,
            zone,
        })
    }

    /// What the file starts with: a header line (CSV), `[` (JSON array) or
    /// nothing (NDJSON).
    pub(crate) fn header(layout: Layout, format: Format) -> Vec<u8> {
        match (layout, format) {
            (_, Format::Ndjson) => Vec::new(),
            (_, Format::JsonArray) => b"[".to_vec(),
            (Layout::Five9, Format::Csv) => format!("{}\n", vendor::FIVE9_HEADER).into_bytes(),
            (Layout::Talkdesk, Format::Csv) => {
                format!("{}\n", vendor::TALKDESK_HEADER).into_bytes()
            }
            (Layout::Generic | Layout::AmazonConnect, Format::Csv) => {
                let mut h = FIELDS.join(",").into_bytes();
                h.push(b'\n');
                h
            }
        }
    }

    /// What the file ends with: the close of a JSON array, else nothing.
    pub(crate) fn footer(format: Format) -> &'static [u8] {
        match format {
            Format::JsonArray => b"\n]\n",
            Format::Csv | Format::Ndjson => b"",
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
            (Layout::Generic, Format::Ndjson) => {
                self.push_json(out, r);
                1
            }
            (Layout::AmazonConnect, _) => self.push_ctr(out, r),
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

    fn push_csv(&mut self, out: &mut Vec<u8>, r: &Row) {
        push_id(out, r.id);
        out.push(b',');
        if r.chain != NONE64 {
            push_id(out, r.chain);
        }
        out.push(b',');
        out.extend_from_slice(CHANNELS[usize::from(r.channel)].as_bytes());
        out.extend_from_slice(if r.flags & F_OUTBOUND != 0 {
            b",outbound,"
        } else {
            b",inbound,"
        });
        out.extend_from_slice(QUEUES[usize::from(r.queue)].as_bytes());
        out.push(b',');
        if r.agent != NONE32 {
            let a = &self.w.agents[r.agent as usize];
            out.extend_from_slice(a.id.as_bytes());
            out.push(b',');
            out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
            out.push(b',');
            out.extend_from_slice(SITES[a.site].as_bytes());
            out.push(b',');
        } else {
            out.extend_from_slice(b",,,");
        }
        push_customer(out, r);
        out.push(b',');
        self.ts.push(out, self.day_start + i64::from(r.arrived));
        out.push(b',');
        if r.answered != NONE32 {
            self.ts.push(out, self.day_start + i64::from(r.answered));
        }
        out.push(b',');
        self.ts.push(out, self.day_start + i64::from(r.ended));
        out.push(b',');
        push_u64(out, u64::from(r.talk));
        out.push(b',');
        push_u64(out, u64::from(r.hold));
        out.push(b',');
        push_u64(out, u64::from(r.acw));
        out.extend_from_slice(if r.flags & F_ABANDONED != 0 {
            b",true"
        } else {
            b",false"
        });
        out.extend_from_slice(if r.flags & F_TRANSFERRED != 0 {
            b",true,"
        } else {
            b",false,"
        });
        if r.card != 0 {
            // The note contains a comma, so it is quoted (RFC 4180).
            out.extend_from_slice(b"\"refund issued, card ");
            push_u64(out, r.card);
            out.push(b'"');
        } else if r.disposition != NO_DISPOSITION {
            out.extend_from_slice(DISPOSITIONS[usize::from(r.disposition)].as_bytes());
        }
        out.push(b',');
        if r.csat != 0 {
            out.push(b'0' + r.csat);
        }
        out.push(b'\n');
    }

    fn push_json(&mut self, out: &mut Vec<u8>, r: &Row) {
        out.extend_from_slice(b"{\"interaction_id\":\"");
        push_id(out, r.id);
        if r.chain != NONE64 {
            out.extend_from_slice(b"\",\"chain_id\":\"");
            push_id(out, r.chain);
        }
        out.extend_from_slice(b"\",\"channel\":\"");
        out.extend_from_slice(CHANNELS[usize::from(r.channel)].as_bytes());
        out.extend_from_slice(if r.flags & F_OUTBOUND != 0 {
            b"\",\"direction\":\"outbound"
        } else {
            b"\",\"direction\":\"inbound"
        });
        out.extend_from_slice(b"\",\"queue\":\"");
        out.extend_from_slice(QUEUES[usize::from(r.queue)].as_bytes());
        if r.agent != NONE32 {
            let a = &self.w.agents[r.agent as usize];
            out.extend_from_slice(b"\",\"agent_id\":\"");
            out.extend_from_slice(a.id.as_bytes());
            out.extend_from_slice(b"\",\"team\":\"");
            out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
            out.extend_from_slice(b"\",\"site\":\"");
            out.extend_from_slice(SITES[a.site].as_bytes());
        }
        out.extend_from_slice(b"\",\"customer_id\":\"");
        push_customer(out, r);
        out.extend_from_slice(b"\",\"arrived_at\":\"");
        self.ts.push(out, self.day_start + i64::from(r.arrived));
        if r.answered != NONE32 {
            out.extend_from_slice(b"\",\"answered_at\":\"");
            self.ts.push(out, self.day_start + i64::from(r.answered));
        }
        out.extend_from_slice(b"\",\"ended_at\":\"");
        self.ts.push(out, self.day_start + i64::from(r.ended));
        out.extend_from_slice(b"\",\"talk_s\":");
        push_u64(out, u64::from(r.talk));
        out.extend_from_slice(b",\"hold_s\":");
        push_u64(out, u64::from(r.hold));
        out.extend_from_slice(b",\"acw_s\":");
        push_u64(out, u64::from(r.acw));
        out.extend_from_slice(if r.flags & F_ABANDONED != 0 {
            b",\"abandoned\":true"
        } else {
            b",\"abandoned\":false"
        });
        out.extend_from_slice(if r.flags & F_TRANSFERRED != 0 {
            b",\"transferred\":true"
        } else {
            b",\"transferred\":false"
        });
        if r.card != 0 {
            out.extend_from_slice(b",\"disposition\":\"refund issued, card ");
            push_u64(out, r.card);
            out.push(b'"');
        } else if r.disposition != NO_DISPOSITION {
            out.extend_from_slice(b",\"disposition\":\"");
            out.extend_from_slice(DISPOSITIONS[usize::from(r.disposition)].as_bytes());
            out.push(b'"');
        }
        if r.csat != 0 {
            out.extend_from_slice(b",\"csat\":");
            out.push(b'0' + r.csat);
        }
        out.extend_from_slice(b"}\n");
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
    let c = r.customer;
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
