//! The Genesys Cloud layout: analytics conversation details, one
//! conversation per contact leg, as NDJSON or a JSON array (SPEC §4,
//! `genesys`).
//!
//! Each leg is a conversation whose id is the chain's first leg (so the
//! legs of a transfer share it, as `conversationId` does), with a customer
//! participant (its `ani` or `addressFrom`), an ACD participant named by
//! the queue whose session id is the leg's id (the source's
//! `interaction_id` is then `conversationId:sessionId`), and, when the leg
//! was answered, an agent participant: `alert`, `interact` (talk), `hold`
//! and `wrapup` (ACW, with the wrap-up code) segments. Team, site and CSAT
//! are not in conversation details, and a disposition lives in the agent's
//! wrap-up, so an unanswered leg has none.

use super::{RowFormatter, push_customer, push_disposition, push_id};
use crate::FileFormat;
use crate::sim::{
    CHAT, EMAIL, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION, NONE32, NONE64, Row, SMS, VOICE,
    by_phone,
};
use crate::world::QUEUES;

/// What every participant's one session shares: the leg, its media and
/// direction.
struct Session<'a> {
    id: u64,
    media: &'a [u8],
    direction: &'a [u8],
}

impl Session<'_> {
    /// `{"participantId":"<id><participant>","purpose":"<purpose…>,
    /// "sessions":[{"sessionId":"<id><session>",<media><direction>`: the
    /// caller writes the rest of the session, then `]}]}`.
    fn open(&self, out: &mut Vec<u8>, participant: &[u8], purpose: &[&[u8]], session: &[u8]) {
        out.extend_from_slice(b"{\"participantId\":\"");
        push_id(out, self.id);
        out.extend_from_slice(participant);
        out.extend_from_slice(b"\",\"purpose\":\"");
        for part in purpose {
            out.extend_from_slice(part);
        }
        out.extend_from_slice(b",\"sessions\":[{\"sessionId\":\"");
        push_id(out, self.id);
        out.extend_from_slice(session);
        out.extend_from_slice(b"\",");
        out.extend_from_slice(self.media);
        out.extend_from_slice(self.direction);
    }
}

impl RowFormatter<'_> {
    /// One leg as a Genesys conversation; returns the records written (1).
    pub(super) fn push_genesys(&mut self, out: &mut Vec<u8>, r: &Row) -> u32 {
        if self.format == FileFormat::JsonArray {
            out.extend_from_slice(b",\n");
        }
        let at = |s: u32| self.day_start + i64::from(s);
        let (arrived, ended) = (at(r.arrived), at(r.ended));
        let answered = (r.answered != NONE32 && r.agent != NONE32).then(|| at(r.answered));
        let media: &[u8] = match r.channel {
            VOICE => b"\"mediaType\":\"voice\"",
            CHAT => b"\"mediaType\":\"chat\"",
            EMAIL => b"\"mediaType\":\"email\"",
            SMS => b"\"mediaType\":\"message\",\"messageType\":\"sms\"",
            _ => b"\"mediaType\":\"message\",\"messageType\":\"whatsapp\"",
        };
        let direction: &[u8] = if r.flags & F_OUTBOUND != 0 {
            b",\"direction\":\"outbound\""
        } else {
            b",\"direction\":\"inbound\""
        };
        out.extend_from_slice(b"{\"conversationId\":\"");
        push_id(out, if r.chain == NONE64 { r.id } else { r.chain });
        out.extend_from_slice(b"\",\"conversationStart\":\"");
        self.ts.push(out, arrived);
        out.extend_from_slice(b"\",\"conversationEnd\":\"");
        self.ts.push(out, ended + i64::from(r.acw));
        out.extend_from_slice(b"\",\"participants\":[");

        let session = Session {
            id: r.id,
            media,
            direction,
        };
        // The customer.
        session.open(out, b"-c", &[b"customer\""], b"-c");
        out.extend_from_slice(if by_phone(r.channel) {
            b",\"ani\":\"tel:".as_slice()
        } else {
            b",\"addressFrom\":\""
        });
        push_customer(out, r);
        out.extend_from_slice(b"\",\"segments\":[");
        self.segment(out, b"interact", arrived, ended, b"");
        out.extend_from_slice(b"]}]}");

        // The queue.
        let queue = QUEUES[usize::from(r.queue)].as_bytes();
        out.push(b',');
        // Its session id is the leg's: the source names the leg by it.
        session.open(
            out,
            b"-q",
            &[b"acd\",\"participantName\":\"", queue, b"\""],
            b"",
        );
        out.extend_from_slice(b",\"segments\":[");
        let mut extra = b",\"queueId\":\"".to_vec();
        extra.extend_from_slice(queue);
        extra.extend_from_slice(if answered.is_some() {
            b"\",\"disconnectType\":\"transfer\""
        } else {
            b"\",\"disconnectType\":\"peer\""
        });
        self.segment(out, b"interact", arrived, answered.unwrap_or(ended), &extra);
        out.extend_from_slice(b"]}]}");

        // The agent who answered it.
        if let Some(answered) = answered {
            let a = &self.w.agents[r.agent as usize];
            out.push(b',');
            session.open(
                out,
                b"-a",
                &[b"agent\",\"userId\":\"", a.id.as_bytes(), b"\""],
                b"-a",
            );
            out.extend_from_slice(b",\"segments\":[");
            self.segment(out, b"alert", answered, answered, b"");
            out.push(b',');
            let talked = answered + i64::from(r.talk);
            let how: &[u8] = if r.flags & F_TRANSFERRED != 0 {
                b",\"disconnectType\":\"transfer\""
            } else {
                b",\"disconnectType\":\"client\""
            };
            self.segment(out, b"interact", answered, talked, how);
            if r.hold > 0 {
                out.push(b',');
                self.segment(out, b"hold", talked, talked + i64::from(r.hold), b"");
            }
            if r.acw > 0 || r.card != 0 || r.disposition != NO_DISPOSITION {
                let mut code = Vec::new();
                if r.card != 0 || r.disposition != NO_DISPOSITION {
                    code.extend_from_slice(b",\"wrapUpCode\":\"");
                    push_disposition(&mut code, r);
                    code.push(b'"');
                }
                out.push(b',');
                self.segment(out, b"wrapup", ended, ended + i64::from(r.acw), &code);
            }
            out.extend_from_slice(b"]}]}");
        }
        out.extend_from_slice(b"]}");
        if self.format != FileFormat::JsonArray {
            out.push(b'\n');
        }
        1
    }

    /// One segment object, `extra` being more `,"key":value` pairs.
    fn segment(&mut self, out: &mut Vec<u8>, kind: &[u8], start: i64, end: i64, extra: &[u8]) {
        out.extend_from_slice(b"{\"segmentType\":\"");
        out.extend_from_slice(kind);
        out.extend_from_slice(b"\",\"segmentStart\":\"");
        self.ts.push(out, start);
        out.extend_from_slice(b"\",\"segmentEnd\":\"");
        self.ts.push(out, end);
        out.push(b'"');
        out.extend_from_slice(extra);
        out.push(b'}');
    }
}
