//! The CSV report layouts (SPEC §4): the Five9 call log (New York
//! wall-clock times, `HH:MM:SS` durations) and the Talkdesk contacts report
//! (UTC times without an offset, whole seconds).
//!
//! Each writes the same [`Row`] as the generic layout, so a file in either
//! ingests to the same canonical rows but for what the report cannot say:
//! neither has a channel, site or CSAT, and Five9 has no chain.

use super::{RowFormatter, push_customer, push_disposition, push_id, push_u64};
use crate::sim::{F_ABANDONED, F_OUTBOUND, F_TRANSFERRED, NONE32, NONE64, Row};
use crate::timefmt::pair;
use crate::world::QUEUES;

/// The Five9 call log's columns.
pub(crate) const FIVE9_HEADER: &str = "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,\
ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION";

/// The Talkdesk contacts report's columns.
pub(crate) const TALKDESK_HEADER: &str = "Interaction ID,Contact ID,Direction,Started At,\
Answered At,Finished At,Wait Time,Talk Time,Hold Time,After Call Work Time,User ID,Team Name,\
Ring Groups,Contact Person Number,Transfer Out (Yes/No),Disposition";

/// The Five9 DNIS of inbound calls: one toll-free number per queue.
const DNIS: [&str; 5] = [
    "+18005550101",
    "+18005550102",
    "+18005550103",
    "+18005550104",
    "+18005550105",
];

impl RowFormatter<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::testing::{abandoned, agent_of, format, handled, world};
    use crate::{FileFormat, Layout};

    #[test]
    fn five9_rows_are_exact() {
        let w = world();
        let (agent, team, _) = agent_of(&w, 2);
        let text = format(Layout::Five9, FileFormat::Csv, &[handled(2), abandoned()]);
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
        let text = format(Layout::Talkdesk, FileFormat::Csv, &[second, abandoned()]);
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
}
