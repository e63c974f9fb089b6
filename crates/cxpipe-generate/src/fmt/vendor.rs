//! The vendor layouts (the contract in SPEC §4): Amazon Connect contact
//! trace records, the Five9 call log and the Talkdesk contacts report.
//!
//! Each writes the same [`Row`] as the generic layout, so a file in any
//! layout ingests to the same canonical rows (but for what a layout cannot
//! say: Five9 and Talkdesk have no channel, site or CSAT; Five9 no chain).
//! Whatever a layout adds that the generic row does not have (the IVR time
//! before an Amazon Connect contact is queued, its disconnect reason, which
//! records are delivered twice) is derived from the contact's id alone, so
//! it is deterministic and independent of the thread that writes it.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{RowFormatter, push_customer, push_id, push_u64};
use cxpipe_model::civil::civil_from_days;

use crate::rng::mix64;
use crate::sim::{
    CHAT, DISPOSITIONS, EMAIL, F_ABANDONED, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION, NONE32,
    NONE64, Row, SMS, VOICE, by_phone,
};
use crate::timefmt::{pair, push_clock};
use crate::world::{QUEUES, SITES};
use crate::{Error, Format, Layout};

/// The Five9 call log's columns.
pub(crate) const FIVE9_HEADER: &str = "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,\
ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION";

/// The Talkdesk contacts report's columns.
pub(crate) const TALKDESK_HEADER: &str = "Interaction ID,Contact ID,Direction,Started At,\
Answered At,Finished At,Wait Time,Talk Time,Hold Time,After Call Work Time,User ID,Team Name,\
Ring Groups,Contact Person Number,Transfer Out (Yes/No),Disposition";

/// The start of every CTR: the account and the record format version.
const CTR_START: &[u8] =
    b"{\"AWSAccountId\":\"111122223333\",\"AWSContactTraceRecordFormatVersion\":\"2017-03-10\"";
/// The Amazon Connect instance every queue and agent ARN names.
const ARN_PREFIX: &[u8] =
    b"arn:aws:connect:us-east-1:111122223333:instance/4f1a8c2e-5b7d-4e19-a3c6-9d0b2e7f6a51/";
/// The contact center's number, as dialled by (or shown to) customers.
const SYSTEM_NUMBER: &[u8] = b"+18005550100";
/// The Five9 DNIS of inbound calls: one toll-free number per queue.
const DNIS: [&str; 5] = [
    "+18005550101",
    "+18005550102",
    "+18005550103",
    "+18005550104",
    "+18005550105",
];

/// Salt of the per-contact hash that decides the CTR-only details.
const CTR_SALT: u64 = 0x4354_525f_7665_7231;
/// One in this many contacts is also delivered as an older record.
const DUPLICATE_ONE_IN: u64 = 200;
/// How much older the duplicate's `LastUpdateTimestamp` is, in seconds.
const DUPLICATE_AGE_S: i64 = 60;
/// `LastUpdateTimestamp` is this long after the after-contact work ends.
const LAST_UPDATE_LAG_S: i64 = 5;
/// Seconds in the IVR before an inbound contact is queued: 0 ..= this.
const MAX_IVR_S: u64 = 30;

/// What the CTR layout adds to a contact, derived from its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CtrExtras {
    /// Also written as an older record: `Some(true)` before the final one,
    /// `Some(false)` after it.
    pub duplicate_before: Option<bool>,
    /// Seconds between initiation and queueing of an inbound contact.
    pub ivr_s: u32,
    /// Hung up by the customer (else by the agent), when handled and not
    /// transferred.
    pub customer_hung_up: bool,
}

impl CtrExtras {
    pub(crate) fn of(id: u64) -> CtrExtras {
        let h = mix64(id ^ CTR_SALT);
        CtrExtras {
            duplicate_before: h
                .is_multiple_of(DUPLICATE_ONE_IN)
                .then_some((h >> 20) & 1 == 0),
            ivr_s: ((h >> 32) % (MAX_IVR_S + 1)) as u32,
            customer_hung_up: (h >> 48) % 100 < 65,
        }
    }
}

impl RowFormatter<'_> {
    /// One contact as an Amazon Connect CTR, preceded or followed by an
    /// older version of it for the contacts delivered twice; returns the
    /// number of records written.
    pub(super) fn push_ctr(&mut self, out: &mut Vec<u8>, r: &Row) -> u32 {
        let extras = CtrExtras::of(r.id);
        match extras.duplicate_before {
            None => {
                self.ctr(out, r, extras, false);
                1
            }
            Some(before) => {
                self.ctr(out, r, extras, before);
                self.ctr(out, r, extras, !before);
                2
            }
        }
    }

    /// One CTR; `older` is the version delivered before the after-contact
    /// work was finished: a minute older, without ACW time or CSAT.
    fn ctr(&mut self, out: &mut Vec<u8>, r: &Row, extras: CtrExtras, older: bool) {
        let at = |s: u32| self.day_start + i64::from(s);
        let outbound = r.flags & F_OUTBOUND != 0;
        let abandoned = r.flags & F_ABANDONED != 0;
        let transferred = r.flags & F_TRANSFERRED != 0;
        let second_leg = r.chain != NONE64 && r.chain != r.id;
        let (arrived, ended) = (at(r.arrived), at(r.ended));
        let (answered, dequeued) = if r.answered == NONE32 {
            (None, ended)
        } else {
            (Some(at(r.answered)), at(r.answered))
        };
        let acw = if older { 0 } else { r.acw };

        if self.format == Format::JsonArray {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(CTR_START);
        out.extend_from_slice(b",\"ContactId\":\"");
        push_id(out, r.id);
        out.extend_from_slice(b"\",\"InitialContactId\":");
        push_opt_id(out, r.chain);
        out.extend_from_slice(b",\"PreviousContactId\":");
        push_opt_id(out, if second_leg { r.chain } else { NONE64 });
        out.extend_from_slice(match r.channel {
            VOICE => b",\"Channel\":\"VOICE\"".as_slice(),
            EMAIL => b",\"Channel\":\"EMAIL\"",
            CHAT => {
                b",\"Channel\":\"CHAT\",\"SegmentAttributes\":{\"connect:Subtype\":{\"ValueString\":\"connect:Chat\"}}"
            }
            SMS => {
                b",\"Channel\":\"CHAT\",\"SegmentAttributes\":{\"connect:Subtype\":{\"ValueString\":\"connect:SMS\"}}"
            }
            _ => {
                b",\"Channel\":\"CHAT\",\"SegmentAttributes\":{\"connect:Subtype\":{\"ValueString\":\"connect:WhatsApp\"}}"
            }
        });
        let (method, initiated): (&[u8], i64) = if outbound {
            (b"OUTBOUND", arrived)
        } else if second_leg {
            // The transfer starts the leg: there is no IVR in front of it.
            (b"TRANSFER", arrived)
        } else {
            (b"INBOUND", arrived - i64::from(extras.ivr_s))
        };
        out.extend_from_slice(b",\"InitiationMethod\":\"");
        out.extend_from_slice(method);
        out.extend_from_slice(b"\",\"InitiationTimestamp\":\"");
        self.ts.push(out, initiated);
        out.extend_from_slice(b"\",\"ConnectedToSystemTimestamp\":\"");
        self.ts.push(out, initiated);
        out.extend_from_slice(b"\",\"DisconnectTimestamp\":\"");
        self.ts.push(out, ended);
        out.extend_from_slice(b"\",\"LastUpdateTimestamp\":\"");
        let last_update = ended + i64::from(r.acw) + LAST_UPDATE_LAG_S;
        self.ts.push(
            out,
            if older {
                last_update - DUPLICATE_AGE_S
            } else {
                last_update
            },
        );
        out.extend_from_slice(b"\",\"TransferCompletedTimestamp\":");
        if transferred {
            out.push(b'"');
            self.ts.push(out, ended);
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null");
        }

        let queue = QUEUES[usize::from(r.queue)].as_bytes();
        out.extend_from_slice(b",\"Queue\":{\"ARN\":\"");
        out.extend_from_slice(ARN_PREFIX);
        out.extend_from_slice(b"queue/");
        out.extend_from_slice(queue);
        out.extend_from_slice(b"\",\"Name\":\"");
        out.extend_from_slice(queue);
        if !outbound {
            out.extend_from_slice(b"\",\"EnqueueTimestamp\":\"");
            self.ts.push(out, arrived);
        }
        out.extend_from_slice(b"\",\"DequeueTimestamp\":\"");
        self.ts.push(out, dequeued);
        out.extend_from_slice(b"\",\"Duration\":");
        // An outbound contact is dialled, never queued.
        push_u64(
            out,
            if outbound {
                0
            } else {
                (dequeued - arrived) as u64
            },
        );

        out.extend_from_slice(b"},\"Agent\":");
        match (r.agent, answered) {
            (agent, Some(answered)) if agent != NONE32 => {
                let a = &self.w.agents[agent as usize];
                out.extend_from_slice(b"{\"ARN\":\"");
                out.extend_from_slice(ARN_PREFIX);
                out.extend_from_slice(b"agent/");
                out.extend_from_slice(a.id.as_bytes());
                out.extend_from_slice(b"\",\"Username\":\"");
                out.extend_from_slice(a.id.as_bytes());
                out.extend_from_slice(b"\",\"ConnectedToAgentTimestamp\":\"");
                self.ts.push(out, answered);
                out.extend_from_slice(b"\",\"AgentInteractionDuration\":");
                push_u64(out, u64::from(r.talk));
                out.extend_from_slice(b",\"CustomerHoldDuration\":");
                push_u64(out, u64::from(r.hold));
                out.extend_from_slice(b",\"AfterContactWorkDuration\":");
                push_u64(out, u64::from(acw));
                out.extend_from_slice(b",\"HierarchyGroups\":{\"Level1\":{\"GroupName\":\"");
                out.extend_from_slice(SITES[a.site].as_bytes());
                out.extend_from_slice(b"\"},\"Level2\":{\"GroupName\":\"");
                out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
                out.extend_from_slice(b"\"}}}");
            }
            _ => out.extend_from_slice(b"null"),
        }

        out.extend_from_slice(b",\"CustomerEndpoint\":{\"Address\":\"");
        push_customer(out, r);
        out.extend_from_slice(if by_phone(r.channel) {
            b"\",\"Type\":\"TELEPHONE_NUMBER\"}"
        } else {
            b"\",\"Type\":\"EMAIL_ADDRESS\"}"
        });
        out.extend_from_slice(b",\"SystemEndpoint\":");
        match r.channel {
            VOICE | SMS => {
                out.extend_from_slice(b"{\"Address\":\"");
                out.extend_from_slice(SYSTEM_NUMBER);
                out.extend_from_slice(b"\",\"Type\":\"TELEPHONE_NUMBER\"}");
            }
            EMAIL => out.extend_from_slice(
                b"{\"Address\":\"support@example.com\",\"Type\":\"EMAIL_ADDRESS\"}",
            ),
            _ => out.extend_from_slice(b"null"),
        }

        // Attribute values are strings; a key is absent when not set.
        out.extend_from_slice(b",\"Attributes\":{");
        let surveyed = r.csat != 0 && !older;
        if surveyed {
            out.extend_from_slice(b"\"csat\":\"");
            out.push(b'0' + r.csat);
            out.push(b'"');
        }
        if r.card != 0 || r.disposition != NO_DISPOSITION {
            if surveyed {
                out.push(b',');
            }
            out.extend_from_slice(b"\"disposition\":\"");
            push_disposition(out, r);
            out.push(b'"');
        }
        out.extend_from_slice(if abandoned || (!transferred && extras.customer_hung_up) {
            b"},\"DisconnectReason\":\"CUSTOMER_DISCONNECT\"}"
        } else {
            b"},\"DisconnectReason\":\"AGENT_DISCONNECT\"}"
        });
        if self.format != Format::JsonArray {
            out.push(b'\n');
        }
    }

    /// One row of the Five9 call log.
    pub(super) fn push_five9(&mut self, out: &mut Vec<u8>, r: &Row) {
        let outbound = r.flags & F_OUTBOUND != 0;
        push_id(out, r.id);
        out.push(b',');
        let arrived = self.day_start + i64::from(r.arrived);
        let local = match &mut self.zone {
            Some(zone) => arrived + zone.offset_at(arrived),
            None => arrived,
        };
        self.wall.push(out, local);
        out.push(b',');
        out.extend_from_slice(QUEUES[usize::from(r.queue)].as_bytes());
        out.extend_from_slice(if outbound {
            b",Outbound,"
        } else {
            b",Inbound,"
        });
        if r.agent != NONE32 {
            let a = &self.w.agents[r.agent as usize];
            out.extend_from_slice(a.id.as_bytes());
            out.push(b',');
            out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
        } else {
            out.extend_from_slice(b"[None],");
        }
        out.push(b',');
        push_customer(out, r);
        out.push(b',');
        if outbound {
            // The dialled number is the customer's.
            push_customer(out, r);
        } else {
            out.extend_from_slice(DNIS[usize::from(r.queue)].as_bytes());
        }
        out.push(b',');
        push_hms(out, wait_s(r));
        out.push(b',');
        push_hms(out, r.talk);
        out.push(b',');
        push_hms(out, r.hold);
        out.push(b',');
        push_hms(out, r.acw);
        out.extend_from_slice(if r.flags & F_TRANSFERRED != 0 {
            b",1"
        } else {
            b",0"
        });
        out.extend_from_slice(if r.flags & F_ABANDONED != 0 {
            b",1,"
        } else {
            b",0,"
        });
        push_csv_disposition(out, r);
        out.push(b'\n');
    }

    /// One row of the Talkdesk contacts report.
    pub(super) fn push_talkdesk(&mut self, out: &mut Vec<u8>, r: &Row) {
        push_id(out, if r.chain == NONE64 { r.id } else { r.chain });
        out.push(b',');
        push_id(out, r.id);
        out.extend_from_slice(if r.flags & F_OUTBOUND != 0 {
            b",Outbound,"
        } else {
            b",Inbound,"
        });
        self.wall.push(out, self.day_start + i64::from(r.arrived));
        out.push(b',');
        if r.answered != NONE32 {
            self.wall.push(out, self.day_start + i64::from(r.answered));
        }
        out.push(b',');
        self.wall.push(out, self.day_start + i64::from(r.ended));
        out.push(b',');
        push_u64(out, u64::from(wait_s(r)));
        out.push(b',');
        push_u64(out, u64::from(r.talk));
        out.push(b',');
        push_u64(out, u64::from(r.hold));
        out.push(b',');
        push_u64(out, u64::from(r.acw));
        out.push(b',');
        if r.agent != NONE32 {
            let a = &self.w.agents[r.agent as usize];
            out.extend_from_slice(a.id.as_bytes());
            out.push(b',');
            out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
        } else {
            out.push(b',');
        }
        out.push(b',');
        out.extend_from_slice(QUEUES[usize::from(r.queue)].as_bytes());
        out.push(b',');
        push_customer(out, r);
        out.extend_from_slice(if r.flags & F_TRANSFERRED != 0 {
            b",Yes,"
        } else {
            b",No,"
        });
        push_csv_disposition(out, r);
        out.push(b'\n');
    }
}

/// Seconds in queue: until answered, else until the contact ended (SPEC §3
/// `wait_ms`).
fn wait_s(r: &Row) -> u32 {
    if r.answered == NONE32 {
        r.ended - r.arrived
    } else {
        r.answered - r.arrived
    }
}

/// A quoted id, or `null`.
fn push_opt_id(out: &mut Vec<u8>, id: u64) {
    if id == NONE64 {
        out.extend_from_slice(b"null");
    } else {
        out.push(b'"');
        push_id(out, id);
        out.push(b'"');
    }
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

/// The wrap-up as a CSV field: the note with a comma is quoted (RFC 4180).
fn push_csv_disposition(out: &mut Vec<u8>, r: &Row) {
    if r.card != 0 {
        out.push(b'"');
        push_disposition(out, r);
        out.push(b'"');
    } else {
        push_disposition(out, r);
    }
}

/// A duration as `HH:MM:SS` (more hour digits past 99 hours).
fn push_hms(out: &mut Vec<u8>, s: u32) {
    let h = s / 3600;
    if h < 100 {
        out.extend_from_slice(pair(h as usize));
    } else {
        push_u64(out, u64::from(h));
    }
    out.push(b':');
    out.extend_from_slice(pair((s / 60 % 60) as usize));
    out.push(b':');
    out.extend_from_slice(pair((s % 60) as usize));
}

/// Field order of a date written without an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateOrder {
    /// `YYYY-MM-DD` (Talkdesk).
    YearFirst,
    /// `MM/DD/YYYY` (Five9).
    MonthFirst,
}

/// Writes a wall-clock time given as seconds since 1970-01-01 00:00 of its
/// own clock, as the date in a [`DateOrder`], a space and `HH:MM:SS`;
/// caches the date part of the last day seen.
#[derive(Debug, Clone)]
pub(crate) struct WallClock {
    order: DateOrder,
    day: Option<i64>,
    prefix: [u8; 11],
}

impl WallClock {
    pub(crate) fn new(order: DateOrder) -> WallClock {
        WallClock {
            order,
            day: None,
            prefix: [b' '; 11],
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, t: i64) {
        let day = t.div_euclid(86_400);
        let sod = t.rem_euclid(86_400) as usize;
        if self.day != Some(day) {
            let (y, m, d) = civil_from_days(day);
            let y = y.clamp(0, 9999) as usize;
            let mut year = [0u8; 4];
            year[..2].copy_from_slice(pair(y / 100));
            year[2..].copy_from_slice(pair(y % 100));
            let (month, date) = (pair(m as usize), pair(d as usize));
            let p = &mut self.prefix;
            match self.order {
                DateOrder::YearFirst => {
                    p[0..4].copy_from_slice(&year);
                    p[4] = b'-';
                    p[5..7].copy_from_slice(month);
                    p[7] = b'-';
                    p[8..10].copy_from_slice(date);
                }
                DateOrder::MonthFirst => {
                    p[0..2].copy_from_slice(month);
                    p[2] = b'/';
                    p[3..5].copy_from_slice(date);
                    p[5] = b'/';
                    p[6..10].copy_from_slice(&year);
                }
            }
            p[10] = b' ';
            self.day = Some(day);
        }
        out.extend_from_slice(&self.prefix);
        push_clock(out, sod);
    }
}

/// A time zone's UTC offset, cached between its transitions (rows come in
/// arrival order, so the zone database is consulted about once per
/// transition rather than once per row).
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    /// The cached offset holds for Unix times in `from..until`.
    from: i64,
    until: i64,
    offset: i64,
}

impl Zone {
    pub(crate) fn get(name: &'static str, layout: Layout) -> Result<Zone, Error> {
        let tz = TimeZone::get(name).map_err(|source| Error::TimeZone {
            zone: name,
            layout,
            source,
        })?;
        Ok(Zone::new(tz))
    }

    pub(crate) fn new(tz: TimeZone) -> Zone {
        Zone {
            tz,
            from: 0,
            until: 0,
            offset: 0,
        }
    }

    /// Seconds to add to Unix time `t` to get the wall-clock time.
    #[inline]
    pub(crate) fn offset_at(&mut self, t: i64) -> i64 {
        if !(self.from <= t && t < self.until) {
            // Generated times lie in years 1899..=9001 (`validate`), well
            // inside jiff's range; were one outside, it would be written as
            // UTC rather than fail the run.
            let Ok(ts) = Timestamp::from_second(t) else {
                return 0;
            };
            self.offset = i64::from(self.tz.to_offset(ts).seconds());
            self.from = t;
            self.until = self
                .tz
                .following(ts)
                .next()
                .map_or(i64::MAX, |tr| tr.timestamp().as_second());
        }
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GenConfig;
    use crate::sim::F_MIXED_CASE;
    use crate::world::World;
    use proptest::prelude::*;

    fn world() -> World {
        World::new(&GenConfig::default())
    }

    /// 2026-10-01 is day 0 of the default world.
    const DAY0: i64 = 20_727 * 86_400;

    /// A handled inbound voice contact at 08:15:32 UTC, answered after 12 s.
    fn handled(agent: u32) -> Row {
        Row {
            id: 0xABCD_EF01_2345,
            chain: NONE64,
            customer: 5_550_101,
            card: 0,
            arrived: 8 * 3600 + 15 * 60 + 32,
            answered: 8 * 3600 + 15 * 60 + 44,
            ended: 8 * 3600 + 15 * 60 + 44 + 187 + 20,
            talk: 187,
            hold: 20,
            acw: 41,
            agent,
            channel: VOICE,
            queue: 1,
            disposition: 0, // resolved
            csat: 4,
            flags: 0,
        }
    }

    /// An e-mail that was never answered (abandoned), from a customer who
    /// types capitals.
    fn abandoned() -> Row {
        Row {
            id: 0x0000_0000_0042,
            chain: NONE64,
            customer: 64 * 3 + 1 + 4096 * 7,
            card: 0,
            arrived: 23 * 3600 + 59 * 60 + 50,
            answered: NONE32,
            ended: 23 * 3600 + 59 * 60 + 50 + 3725,
            talk: 0,
            hold: 0,
            acw: 0,
            agent: NONE32,
            channel: EMAIL,
            queue: 0,
            disposition: NO_DISPOSITION,
            csat: 0,
            flags: F_ABANDONED | F_MIXED_CASE,
        }
    }

    /// The whole file of `rows`, put together as `generate` does (which
    /// drops the separator before the first record of a JSON array).
    fn format(layout: Layout, format: Format, rows: &[Row]) -> String {
        let w = world();
        let mut f = RowFormatter::new(&w, layout, format).expect("formatter");
        f.set_day(0);
        let mut body = Vec::new();
        for r in rows {
            f.push(&mut body, r);
        }
        let mut out = RowFormatter::header(layout, format);
        match body.split_first() {
            Some((b',', rest)) if format == Format::JsonArray => out.extend_from_slice(rest),
            _ => out.extend_from_slice(&body),
        }
        out.extend_from_slice(RowFormatter::footer(format));
        String::from_utf8(out).expect("UTF-8")
    }

    fn agent_of(w: &World, i: u32) -> (String, String, &'static str) {
        let a = &w.agents[i as usize];
        (
            a.id.clone(),
            w.team_names[a.team as usize].clone(),
            SITES[a.site],
        )
    }

    #[test]
    fn five9_rows_are_exact() {
        let w = world();
        let (agent, team, _) = agent_of(&w, 2);
        let text = format(Layout::Five9, Format::Csv, &[handled(2), abandoned()]);
        // October: EDT, UTC−4.
        let expected = format!(
            "{FIVE9_HEADER}\n\
             cabcdef012345,10/01/2026 04:15:32,billing,Inbound,{agent},{team},+12005550101,\
             +18005550102,00:00:12,00:03:07,00:00:20,00:00:41,0,0,resolved\n\
             c000000000042,10/01/2026 19:59:50,general,Inbound,[None],,James.Khan7@Example.com,\
             +18005550101,01:02:05,00:00:00,00:00:00,00:00:00,0,1,\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn talkdesk_rows_are_exact() {
        let w = world();
        let (agent, team, _) = agent_of(&w, 2);
        let mut second = handled(2);
        second.id = 0x1234;
        second.chain = 0xABCD_EF01_2345;
        second.card = 4_111_111_111_111_111;
        second.flags |= F_TRANSFERRED;
        let text = format(Layout::Talkdesk, Format::Csv, &[second, abandoned()]);
        let expected = format!(
            "{TALKDESK_HEADER}\n\
             cabcdef012345,c000000001234,Inbound,2026-10-01 08:15:32,2026-10-01 08:15:44,\
             2026-10-01 08:19:11,12,187,20,41,{agent},{team},billing,+12005550101,Yes,\
             \"refund issued, card 4111111111111111\"\n\
             c000000000042,c000000000042,Inbound,2026-10-01 23:59:50,,2026-10-02 01:01:55,\
             3725,0,0,0,,,general,James.Khan7@Example.com,No,\n"
        );
        assert_eq!(text, expected);
    }

    /// Finds an id whose CTR extras are as wanted.
    fn id_where(p: impl Fn(CtrExtras) -> bool) -> u64 {
        (1u64..).find(|&id| p(CtrExtras::of(id))).unwrap_or(0)
    }

    #[test]
    fn amazon_connect_record_is_exact() {
        let w = world();
        let (agent, team, site) = agent_of(&w, 2);
        let mut r = handled(2);
        r.id = id_where(|e| e.duplicate_before.is_none() && e.ivr_s == 7);
        let id = String::from_utf8({
            let mut v = Vec::new();
            push_id(&mut v, r.id);
            v
        })
        .expect("ascii");
        let e = CtrExtras::of(r.id);
        let reason = if e.customer_hung_up {
            "CUSTOMER_DISCONNECT"
        } else {
            "AGENT_DISCONNECT"
        };
        let arn = std::str::from_utf8(ARN_PREFIX).expect("ascii");
        let text = format(Layout::AmazonConnect, Format::Ndjson, &[r]);
        let expected = format!(
            "{{\"AWSAccountId\":\"111122223333\",\"AWSContactTraceRecordFormatVersion\":\"2017-03-10\",\
             \"ContactId\":\"{id}\",\"InitialContactId\":null,\"PreviousContactId\":null,\
             \"Channel\":\"VOICE\",\"InitiationMethod\":\"INBOUND\",\
             \"InitiationTimestamp\":\"2026-10-01T08:15:25Z\",\
             \"ConnectedToSystemTimestamp\":\"2026-10-01T08:15:25Z\",\
             \"DisconnectTimestamp\":\"2026-10-01T08:19:11Z\",\
             \"LastUpdateTimestamp\":\"2026-10-01T08:19:57Z\",\
             \"TransferCompletedTimestamp\":null,\
             \"Queue\":{{\"ARN\":\"{arn}queue/billing\",\"Name\":\"billing\",\
             \"EnqueueTimestamp\":\"2026-10-01T08:15:32Z\",\"DequeueTimestamp\":\"2026-10-01T08:15:44Z\",\
             \"Duration\":12}},\
             \"Agent\":{{\"ARN\":\"{arn}agent/{agent}\",\"Username\":\"{agent}\",\
             \"ConnectedToAgentTimestamp\":\"2026-10-01T08:15:44Z\",\"AgentInteractionDuration\":187,\
             \"CustomerHoldDuration\":20,\"AfterContactWorkDuration\":41,\
             \"HierarchyGroups\":{{\"Level1\":{{\"GroupName\":\"{site}\"}},\"Level2\":{{\"GroupName\":\"{team}\"}}}}}},\
             \"CustomerEndpoint\":{{\"Address\":\"+12005550101\",\"Type\":\"TELEPHONE_NUMBER\"}},\
             \"SystemEndpoint\":{{\"Address\":\"+18005550100\",\"Type\":\"TELEPHONE_NUMBER\"}},\
             \"Attributes\":{{\"csat\":\"4\",\"disposition\":\"resolved\"}},\
             \"DisconnectReason\":\"{reason}\"}}\n"
        );
        assert_eq!(text, expected);
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["Agent"]["HierarchyGroups"]["Level2"]["GroupName"], team);
    }

    #[test]
    fn amazon_connect_abandoned_sms_and_second_legs() {
        let mut sms = abandoned();
        sms.channel = SMS;
        sms.id = id_where(|e| e.duplicate_before.is_none());
        let mut leg = handled(3);
        leg.id = id_where(|e| e.duplicate_before.is_none() && e.ivr_s > 0);
        leg.chain = 0x77;
        leg.channel = CHAT;
        let mut out = handled(4);
        out.id = id_where(|e| e.duplicate_before.is_none() && e.ivr_s > 0);
        out.flags |= F_OUTBOUND;
        let text = format(Layout::AmazonConnect, Format::Ndjson, &[sms, leg, out]);
        let v: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(v.len(), 3);

        let s = &v[0];
        assert_eq!(s["Channel"], "CHAT");
        assert_eq!(
            s["SegmentAttributes"]["connect:Subtype"]["ValueString"],
            "connect:SMS"
        );
        assert_eq!(s["Agent"], serde_json::Value::Null);
        assert_eq!(s["Queue"]["EnqueueTimestamp"], "2026-10-01T23:59:50Z");
        assert_eq!(s["Queue"]["DequeueTimestamp"], "2026-10-02T01:01:55Z");
        assert_eq!(s["Queue"]["Duration"], 3725);
        assert_eq!(s["DisconnectTimestamp"], "2026-10-02T01:01:55Z");
        assert_eq!(s["LastUpdateTimestamp"], "2026-10-02T01:02:00Z");
        assert_eq!(s["DisconnectReason"], "CUSTOMER_DISCONNECT");
        assert_eq!(s["Attributes"], serde_json::json!({}));
        assert_eq!(s["CustomerEndpoint"]["Address"], "+12000028865");
        assert_eq!(s["CustomerEndpoint"]["Type"], "TELEPHONE_NUMBER");

        let l = &v[1];
        assert_eq!(l["InitiationMethod"], "TRANSFER");
        assert_eq!(l["InitialContactId"], "c000000000077");
        assert_eq!(l["PreviousContactId"], "c000000000077");
        assert_eq!(l["InitiationTimestamp"], "2026-10-01T08:15:32Z");
        assert_eq!(
            l["SegmentAttributes"]["connect:Subtype"]["ValueString"],
            "connect:Chat"
        );

        let o = &v[2];
        assert_eq!(o["InitiationMethod"], "OUTBOUND");
        assert_eq!(o["InitiationTimestamp"], "2026-10-01T08:15:32Z");
        assert!(o["Queue"].get("EnqueueTimestamp").is_none());
        assert_eq!(o["Queue"]["Name"], "billing");
        assert_eq!(o["Queue"]["Duration"], 0);
        assert_eq!(
            o["Agent"]["ConnectedToAgentTimestamp"],
            "2026-10-01T08:15:44Z"
        );
    }

    #[test]
    fn duplicated_contacts_get_an_older_record_before_or_after() {
        for before in [true, false] {
            let mut r = handled(1);
            r.id = id_where(|e| e.duplicate_before == Some(before));
            let text = format(Layout::AmazonConnect, Format::JsonArray, &[r, abandoned()]);
            let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON array");
            let recs = v.as_array().expect("array");
            let abandoned_twice = CtrExtras::of(0x42).duplicate_before.is_some();
            assert_eq!(recs.len(), 3 + usize::from(abandoned_twice));
            let (old, new) = if before {
                (&recs[0], &recs[1])
            } else {
                (&recs[1], &recs[0])
            };
            assert_eq!(old["ContactId"], new["ContactId"]);
            assert_eq!(new["LastUpdateTimestamp"], "2026-10-01T08:19:57Z");
            assert_eq!(old["LastUpdateTimestamp"], "2026-10-01T08:18:57Z");
            assert_eq!(old["Agent"]["AfterContactWorkDuration"], 0);
            assert_eq!(new["Agent"]["AfterContactWorkDuration"], 41);
            assert_eq!(
                old["Attributes"],
                serde_json::json!({"disposition": "resolved"})
            );
            assert_eq!(
                new["Attributes"],
                serde_json::json!({"csat": "4", "disposition": "resolved"})
            );
            assert!(
                text.starts_with("[\n{") && text.ends_with("}\n]\n"),
                "{text}"
            );
            assert_eq!(text.matches(",\n{").count(), recs.len() - 1);
        }
    }

    #[test]
    fn about_one_in_two_hundred_contacts_is_duplicated_half_before() {
        let (mut dup, mut before) = (0u32, 0u32);
        let mut ivr = [0u32; 31];
        for id in 0..200_000u64 {
            let e = CtrExtras::of(id * 7919);
            dup += u32::from(e.duplicate_before.is_some());
            before += u32::from(e.duplicate_before == Some(true));
            ivr[e.ivr_s as usize] += 1;
        }
        assert!((900..1100).contains(&dup), "{dup}");
        assert!((400..600).contains(&before), "{before} of {dup}");
        assert!(ivr.iter().all(|&n| n > 5000), "{ivr:?}");
    }

    #[test]
    fn an_empty_json_array_is_valid() {
        let text = format(Layout::AmazonConnect, Format::JsonArray, &[]);
        assert_eq!(text, "[\n]\n");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v, serde_json::json!([]));
    }

    #[test]
    fn hms_durations() {
        for (s, want) in [
            (0, "00:00:00"),
            (187, "00:03:07"),
            (3725, "01:02:05"),
            (259_200, "72:00:00"),
            (360_001, "100:00:01"),
        ] {
            let mut out = Vec::new();
            push_hms(&mut out, s);
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
    }

    fn new_york() -> TimeZone {
        TimeZone::get(crate::FIVE9_TIME_ZONE).expect("tzdb has America/New_York")
    }

    #[test]
    fn new_york_offsets_around_the_transitions() {
        let mut z = Zone::new(new_york());
        let mut clock = WallClock::new(DateOrder::MonthFirst);
        let mut show = |t: i64| {
            let mut out = Vec::new();
            clock.push(&mut out, t + z.offset_at(t));
            String::from_utf8(out).expect("ascii")
        };
        // 2026-03-08 07:00 UTC is 03:00 EDT (02:00 EST never happens);
        // 2026-11-01 06:00 UTC is 01:00 EST (01:00 EDT was an hour before).
        let mar8 = cxpipe_model::civil::days_from_civil(2026, 3, 8) * 86_400;
        let nov1 = cxpipe_model::civil::days_from_civil(2026, 11, 1) * 86_400;
        assert_eq!(show(mar8 + 6 * 3600 + 59 * 60 + 59), "03/08/2026 01:59:59");
        assert_eq!(show(mar8 + 7 * 3600), "03/08/2026 03:00:00");
        assert_eq!(show(nov1 + 5 * 3600 + 59 * 60 + 59), "11/01/2026 01:59:59");
        assert_eq!(show(nov1 + 6 * 3600), "11/01/2026 01:00:00");
        // Going back in time re-reads the zone.
        assert_eq!(show(mar8), "03/07/2026 19:00:00");
        assert_eq!(show(DAY0), "09/30/2026 20:00:00");
    }

    proptest! {
        /// The cached offset and the hand-written wall clock agree with
        /// jiff's own conversion and formatting, in any order of times.
        #[test]
        fn five9_time_matches_jiff(ts in proptest::collection::vec(-2_208_988_800i64..4_102_444_800, 1..40)) {
            let tz = new_york();
            let mut z = Zone::new(tz.clone());
            let mut clock = WallClock::new(DateOrder::MonthFirst);
            let mut iso = WallClock::new(DateOrder::YearFirst);
            for t in ts {
                let mut out = Vec::new();
                clock.push(&mut out, t + z.offset_at(t));
                let zoned = Timestamp::from_second(t).expect("in range").to_zoned_datetime(tz.clone());
                prop_assert_eq!(String::from_utf8_lossy(&out), zoned.strftime("%m/%d/%Y %H:%M:%S").to_string());
                let mut out = Vec::new();
                iso.push(&mut out, t);
                let utc = Timestamp::from_second(t).expect("in range").strftime("%Y-%m-%d %H:%M:%S").to_string();
                prop_assert_eq!(String::from_utf8_lossy(&out), utc);
            }
        }
    }
}
