//! The generic layout (SPEC §4 `generic`): cxpipe's own columns
//! ([`FIELDS`](super::FIELDS)), as CSV or NDJSON.

use super::{RowFormatter, push_customer, push_id, push_u64};
use crate::sim::{
    CHANNELS, DISPOSITIONS, F_ABANDONED, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION, NONE32, NONE64,
    Row,
};
use crate::world::{QUEUES, SITES};

impl RowFormatter<'_> {
    /// One row as a CSV record (text fields quoted with `quote_text`).
    pub(super) fn push_csv(&mut self, out: &mut Vec<u8>, r: &Row) {
        let q: &[u8] = if self.quote_text { b"\"" } else { b"" };
        let text = |out: &mut Vec<u8>, v: &[u8]| {
            out.extend_from_slice(q);
            out.extend_from_slice(v);
            out.extend_from_slice(q);
        };
        out.extend_from_slice(q);
        push_id(out, r.id);
        out.extend_from_slice(q);
        out.push(b',');
        if r.chain != NONE64 {
            out.extend_from_slice(q);
            push_id(out, r.chain);
            out.extend_from_slice(q);
        }
        out.push(b',');
        text(out, CHANNELS[usize::from(r.channel)].as_bytes());
        out.push(b',');
        text(
            out,
            if r.flags & F_OUTBOUND != 0 {
                b"outbound"
            } else {
                b"inbound"
            },
        );
        out.push(b',');
        text(out, QUEUES[usize::from(r.queue)].as_bytes());
        out.push(b',');
        if r.agent != NONE32 {
            let a = &self.w.agents[r.agent as usize];
            text(out, a.id.as_bytes());
            out.push(b',');
            text(out, self.w.team_names[a.team as usize].as_bytes());
            out.push(b',');
            text(out, SITES[a.site].as_bytes());
            out.push(b',');
        } else {
            out.extend_from_slice(b",,,");
        }
        out.extend_from_slice(q);
        push_customer(out, r);
        out.extend_from_slice(q);
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
            text(out, DISPOSITIONS[usize::from(r.disposition)].as_bytes());
        }
        out.push(b',');
        if r.csat != 0 {
            out.push(b'0' + r.csat);
        }
        out.push(b'\n');
    }

    /// One row as a JSON object on a line of its own; empty fields are
    /// omitted.
    pub(super) fn push_json(&mut self, out: &mut Vec<u8>, r: &Row) {
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
