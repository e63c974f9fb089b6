//! The Amazon Connect layout: contact trace records (CTRs), one JSON object
//! per contact, as NDJSON or a JSON array (SPEC §4).
//!
//! What a CTR says that the generic row does not (the IVR time before the
//! contact is queued, its disconnect reason, which contacts are delivered
//! twice) is derived from the contact's id alone, so it is deterministic and
//! independent of the piece and the thread that writes it.

use super::{RowFormatter, push_customer, push_disposition, push_id, push_u64};
use crate::FileFormat;
use crate::rng::mix64;
use crate::sim::{
    CHAT, EMAIL, F_ABANDONED, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION, NONE32, NONE64, Row, SMS,
    VOICE, by_phone,
};
use crate::world::{QUEUES, SITES};

/// The start of every CTR: the account and the record format version.
const CTR_START: &[u8] =
    b"{\"AWSAccountId\":\"111122223333\",\"AWSContactTraceRecordFormatVersion\":\"2017-03-10\"";
/// The Amazon Connect instance every queue and agent ARN names.
const ARN_PREFIX: &[u8] =
    b"arn:aws:connect:us-east-1:111122223333:instance/4f1a8c2e-5b7d-4e19-a3c6-9d0b2e7f6a51/";
/// The contact center's number, as dialled by (or shown to) customers.
const SYSTEM_NUMBER: &[u8] = b"+18005550100";
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
    /// The extras of the contact with id `id`.
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

/// A contact's times as Unix seconds, as a CTR states them.
struct CtrTimes {
    arrived: i64,
    ended: i64,
    /// When an agent answered, if one did.
    answered: Option<i64>,
    /// When the contact left the queue: answered, else ended.
    dequeued: i64,
}

impl CtrTimes {
    fn of(day_start: i64, r: &Row) -> CtrTimes {
        let at = |s: u32| day_start + i64::from(s);
        let (answered, dequeued) = if r.answered == NONE32 {
            (None, at(r.ended))
        } else {
            (Some(at(r.answered)), at(r.answered))
        };
        CtrTimes {
            arrived: at(r.arrived),
            ended: at(r.ended),
            answered,
            dequeued,
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
        let times = CtrTimes::of(self.day_start, r);
        if self.format == FileFormat::JsonArray {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(CTR_START);
        push_ctr_ids_and_channel(out, r);
        self.push_ctr_timestamps(out, r, &times, extras, older);
        self.push_ctr_queue(out, r, &times);
        self.push_ctr_agent(out, r, &times, older);
        push_ctr_endpoints(out, r);
        push_ctr_attributes(out, r, extras, older);
        if self.format != FileFormat::JsonArray {
            out.push(b'\n');
        }
    }

    /// `InitiationMethod` and the contact's own timestamps.
    fn push_ctr_timestamps(
        &mut self,
        out: &mut Vec<u8>,
        r: &Row,
        t: &CtrTimes,
        extras: CtrExtras,
        older: bool,
    ) {
        let (method, initiated): (&[u8], i64) = if r.flags & F_OUTBOUND != 0 {
            (b"OUTBOUND", t.arrived)
        } else if is_second_leg(r) {
            // The transfer starts the leg: there is no IVR in front of it.
            (b"TRANSFER", t.arrived)
        } else {
            (b"INBOUND", t.arrived - i64::from(extras.ivr_s))
        };
        out.extend_from_slice(b",\"InitiationMethod\":\"");
        out.extend_from_slice(method);
        out.extend_from_slice(b"\",\"InitiationTimestamp\":\"");
        self.ts.push(out, initiated);
        out.extend_from_slice(b"\",\"ConnectedToSystemTimestamp\":\"");
        self.ts.push(out, initiated);
        out.extend_from_slice(b"\",\"DisconnectTimestamp\":\"");
        self.ts.push(out, t.ended);
        out.extend_from_slice(b"\",\"LastUpdateTimestamp\":\"");
        let last_update = t.ended + i64::from(r.acw) + LAST_UPDATE_LAG_S;
        self.ts.push(
            out,
            if older {
                last_update - DUPLICATE_AGE_S
            } else {
                last_update
            },
        );
        out.extend_from_slice(b"\",\"TransferCompletedTimestamp\":");
        if r.flags & F_TRANSFERRED != 0 {
            out.push(b'"');
            self.ts.push(out, t.ended);
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null");
        }
    }

    /// The `Queue` object.
    fn push_ctr_queue(&mut self, out: &mut Vec<u8>, r: &Row, t: &CtrTimes) {
        let outbound = r.flags & F_OUTBOUND != 0;
        let queue = QUEUES[usize::from(r.queue)].as_bytes();
        out.extend_from_slice(b",\"Queue\":{\"ARN\":\"");
        out.extend_from_slice(ARN_PREFIX);
        out.extend_from_slice(b"queue/");
        out.extend_from_slice(queue);
        out.extend_from_slice(b"\",\"Name\":\"");
        out.extend_from_slice(queue);
        if !outbound {
            out.extend_from_slice(b"\",\"EnqueueTimestamp\":\"");
            self.ts.push(out, t.arrived);
        }
        out.extend_from_slice(b"\",\"DequeueTimestamp\":\"");
        self.ts.push(out, t.dequeued);
        out.extend_from_slice(b"\",\"Duration\":");
        // An outbound contact is dialled, never queued.
        push_u64(
            out,
            if outbound {
                0
            } else {
                (t.dequeued - t.arrived) as u64
            },
        );
        out.push(b'}');
    }

    /// The `Agent` object, or `null` when no agent answered.
    fn push_ctr_agent(&mut self, out: &mut Vec<u8>, r: &Row, t: &CtrTimes, older: bool) {
        out.extend_from_slice(b",\"Agent\":");
        let (agent, Some(answered)) = (r.agent, t.answered) else {
            out.extend_from_slice(b"null");
            return;
        };
        if agent == NONE32 {
            out.extend_from_slice(b"null");
            return;
        }
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
        push_u64(out, u64::from(if older { 0 } else { r.acw }));
        out.extend_from_slice(b",\"HierarchyGroups\":{\"Level1\":{\"GroupName\":\"");
        out.extend_from_slice(SITES[a.site].as_bytes());
        out.extend_from_slice(b"\"},\"Level2\":{\"GroupName\":\"");
        out.extend_from_slice(self.w.team_names[a.team as usize].as_bytes());
        out.extend_from_slice(b"\"}}}");
    }
}

/// Whether `r` is the second leg of a transfer.
fn is_second_leg(r: &Row) -> bool {
    r.chain != NONE64 && r.chain != r.id
}

/// `ContactId`, `InitialContactId`, `PreviousContactId` and `Channel` (with
/// the subtype of the chat-like channels).
fn push_ctr_ids_and_channel(out: &mut Vec<u8>, r: &Row) {
    out.extend_from_slice(b",\"ContactId\":\"");
    push_id(out, r.id);
    out.extend_from_slice(b"\",\"InitialContactId\":");
    push_opt_id(out, r.chain);
    out.extend_from_slice(b",\"PreviousContactId\":");
    push_opt_id(out, if is_second_leg(r) { r.chain } else { NONE64 });
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
}

/// `CustomerEndpoint` and `SystemEndpoint`.
fn push_ctr_endpoints(out: &mut Vec<u8>, r: &Row) {
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
        EMAIL => out
            .extend_from_slice(b"{\"Address\":\"support@example.com\",\"Type\":\"EMAIL_ADDRESS\"}"),
        _ => out.extend_from_slice(b"null"),
    }
}

/// `Attributes` (string values; a key is absent when not set), then
/// `DisconnectReason` and the record's closing brace.
fn push_ctr_attributes(out: &mut Vec<u8>, r: &Row, extras: CtrExtras, older: bool) {
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
    let abandoned = r.flags & F_ABANDONED != 0;
    let transferred = r.flags & F_TRANSFERRED != 0;
    out.extend_from_slice(if abandoned || (!transferred && extras.customer_hung_up) {
        b"},\"DisconnectReason\":\"CUSTOMER_DISCONNECT\"}"
    } else {
        b"},\"DisconnectReason\":\"AGENT_DISCONNECT\"}"
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;
    use crate::encode::testing::{abandoned, agent_of, format, handled, world};

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
        let text = format(Layout::AmazonConnect, FileFormat::Ndjson, &[r]);
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
        let text = format(Layout::AmazonConnect, FileFormat::Ndjson, &[sms, leg, out]);
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
            let text = format(
                Layout::AmazonConnect,
                FileFormat::JsonArray,
                &[r, abandoned()],
            );
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
        let text = format(Layout::AmazonConnect, FileFormat::JsonArray, &[]);
        assert_eq!(text, "[\n]\n");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v, serde_json::json!([]));
    }
}
