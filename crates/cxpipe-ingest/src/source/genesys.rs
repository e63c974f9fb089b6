//! The `genesys` source (SPEC §4): Genesys Cloud analytics conversation
//! details, one record per conversation (participants → sessions →
//! segments), several stored legs per record. It is code, not a mapping:
//! the rules are [`RULES`], which `cxpipe mapping show genesys` prints.

use serde_json::Value;

use crate::parse::DurationUnit;
use crate::reason::ReasonCode;
use crate::row::{Fields, N_SLOTS, Problem, Slot};

/// How conversations become legs, as `cxpipe mapping show genesys` prints
/// them (the code below follows them in this order).
pub const RULES: &str = "\
# cxpipe source: genesys (Genesys Cloud analytics conversation details).
#
# Built-in code, not a mapping file: a conversation gives several legs, which
# a mapping cannot say. Files: the API response {\"conversations\": [...]}
# (POST /api/v2/analytics/conversations/details/query, or a jobs result page),
# a JSON array of conversations, or NDJSON; detected by conversationId and
# participants. A conversation counts once in rows_read/rows_written; its
# stored legs are legs_written.
#
# - A leg per session of an ACD participant (purpose \"acd\"): queue = the
#   participant's name (the queue's name), else the segment's queueId;
#   arrived_at = the session's first segment start; its agent = the agent
#   session (purpose \"agent\") whose first interact segment starts first at
#   or after that and before the next ACD leg's start (legs in time order,
#   each agent session taken once), answered_at = that segment's start; no
#   such agent: abandoned.
# - A contact an agent took with no ACD participant (direct routing): one
#   leg, queue null, arrived_at = conversationStart.
# - talk_ms = the agent session's interact segments, hold_ms = its hold
#   segments, acw_ms = its wrapup segments (none: 0); a segment still open
#   lasts until the conversation's end; ended_at = the end of its last
#   interact or hold segment, else the conversation's end. An abandoned leg ends with its ACD
#   session's last segmentEnd, else conversationEnd, else the conversation's
#   latest segmentEnd (conversationEnd is often absent); a leg with no end at
#   all makes the conversation missing_required.
# - interaction_id = conversationId:sessionId (the ACD session's, or the
#   agent's for a direct contact); chain_id = conversationId, so transfers
#   between queues are legs of one chain.
# - channel from mediaType (callback: voice, direction inbound: a call the
#   customer asked for; message: sms, or social for another messageType);
#   direction from the session (default inbound); customer_id = the customer
#   (or external) participant's ani (without tel:), else addressFrom, else
#   its first callbackNumbers; agent_id = the agent's
#   userId; disposition = the wrap-up code; transferred = the agent's last
#   interact segment ended by \"transfer\".
# - A conversation without a leg (IVR only, no agent interaction and no
#   queue) is not a contact: rows_filtered.
";

/// Where an API response (`{"conversations":[…]}`) keeps the records.
pub const RECORDS: &str = "conversations";

/// Keys a record must have to be a Genesys conversation (`auto`).
pub const DETECT: [&str; 2] = ["conversationId", "participants"];

/// Whether a JSON object is a Genesys conversation.
pub fn detects(obj: &Value) -> bool {
    DETECT.iter().all(|k| obj.get(k).is_some()) && obj["participants"].is_array()
}

/// One leg's fields, as text the canonical conversion reads (ISO 8601
/// times as Genesys writes them, durations in ms).
#[derive(Debug, Default, Clone)]
pub struct Leg {
    text: [Option<String>; N_SLOTS],
}

impl Leg {
    fn set(&mut self, slot: Slot, v: Option<String>) {
        self.text[slot.index()] = v.filter(|t| !t.trim().is_empty());
    }
}

impl<'a> Fields<'a> for &'a Leg {
    fn get(&self, slot: Slot) -> Result<Option<&'a str>, Problem> {
        Ok(self.text[slot.index()].as_deref())
    }

    fn unit(&self, _slot: Slot) -> DurationUnit {
        DurationUnit::Millis
    }

    fn blank_is_zero(&self, _slot: Slot) -> bool {
        // A duration the segments cannot give is unknown (the leg is
        // refused), never 0; a leg with none sets "0" itself.
        false
    }

    fn name(&self, slot: Slot) -> &str {
        match slot {
            Slot::ArrivedAt => "the leg's start",
            Slot::AnsweredAt => "the agent's interact start",
            Slot::EndedAt => "the leg's end",
            Slot::InteractionId => "conversationId:sessionId",
            Slot::Channel => "mediaType",
            Slot::Direction => "direction",
            _ => slot.column_name(),
        }
    }
}

/// A segment: type, start and end (ms since the epoch; end may be absent).
struct Segment<'v> {
    kind: &'v str,
    start: Option<i64>,
    end: Option<i64>,
    start_text: Option<&'v str>,
    end_text: Option<&'v str>,
    v: &'v Value,
}

fn ms_of(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

fn segments(session: &Value) -> Vec<Segment<'_>> {
    session["segments"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    let start_text = g["segmentStart"].as_str();
                    let end_text = g["segmentEnd"].as_str();
                    Segment {
                        kind: g["segmentType"].as_str().unwrap_or(""),
                        start: start_text.and_then(ms_of),
                        end: end_text.and_then(ms_of),
                        start_text,
                        end_text,
                        v: g,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A participant's sessions with their purpose.
struct Session<'v> {
    purpose: &'v str,
    participant: &'v Value,
    session: &'v Value,
    segments: Vec<Segment<'v>>,
}

fn sessions(conv: &Value) -> Vec<Session<'_>> {
    let mut out = Vec::new();
    for p in conv["participants"].as_array().into_iter().flatten() {
        let purpose = p["purpose"].as_str().unwrap_or("");
        for s in p["sessions"].as_array().into_iter().flatten() {
            out.push(Session {
                purpose,
                participant: p,
                session: s,
                segments: segments(s),
            });
        }
    }
    out
}

/// The start of a session's first `interact` segment (ms, text).
fn first_interact<'v>(s: &Session<'v>) -> Option<(i64, &'v str)> {
    s.segments
        .iter()
        .find(|g| g.kind == "interact")
        .and_then(|g| Some((g.start?, g.start_text?)))
}

/// Milliseconds of the segments of `kind`; a segment still open in the
/// export lasts until the conversation's end (`open_end`, ms), and with
/// none the total is unknown (`None`: the leg is refused, never 0).
fn total(segs: &[Segment<'_>], kind: &str, open_end: Option<i64>) -> Option<i64> {
    let mut sum = 0;
    for g in segs.iter().filter(|g| g.kind == kind) {
        let d = g.end.or(open_end)? - g.start?;
        sum += d.max(0);
    }
    Some(sum)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The end (text) of the latest of `segs` that has one.
fn latest_end<'a, 'v: 'a>(segs: impl IntoIterator<Item = &'a Segment<'v>>) -> Option<String> {
    segs.into_iter()
        .filter_map(|g| Some((g.end?, g.end_text?)))
        .max_by_key(|(ms, _)| *ms)
        .map(|(_, t)| t.to_string())
}

/// A session's channel and direction (`callback`: inbound voice, a call
/// the customer asked for; `message`: sms, or social for another
/// `messageType`; direction from the session, default inbound).
fn channel_and_direction(session: &Value) -> (&'static str, String) {
    let (channel, direction) = match session["mediaType"].as_str().unwrap_or("") {
        "callback" => ("voice", Some("inbound")),
        "voice" => ("voice", None),
        "chat" | "webchat" => ("chat", None),
        "email" => ("email", None),
        "message" => match session["messageType"].as_str() {
            Some("sms") | None => ("sms", None),
            Some(_) => ("social", None),
        },
        "sms" => ("sms", None),
        "" => ("", None),
        _ => ("other", None),
    };
    let direction = direction
        .map(str::to_string)
        .or_else(|| text(&session["direction"]))
        .unwrap_or_else(|| "inbound".to_string());
    (channel, direction)
}

/// What every leg of one conversation shares.
struct Conversation<'v> {
    id: &'v str,
    /// `conversationEnd`, else its latest `segmentEnd`.
    end: Option<String>,
    end_ms: Option<i64>,
    /// The customer's address (without `tel:`).
    customer: Option<String>,
}

impl Conversation<'_> {
    /// A leg named by its own session (ACD, or the agent's when direct).
    fn leg(&self, own: &Session<'_>) -> Leg {
        let mut leg = Leg::default();
        let session_id = text(&own.session["sessionId"]).unwrap_or_default();
        leg.set(
            Slot::InteractionId,
            Some(format!("{}:{session_id}", self.id)),
        );
        leg.set(Slot::ChainId, Some(self.id.to_string()));
        let (channel, direction) = channel_and_direction(own.session);
        leg.set(Slot::Channel, Some(channel.to_string()));
        leg.set(Slot::Direction, Some(direction));
        leg.set(Slot::CustomerId, self.customer.clone());
        leg
    }

    /// What the agent session that took the leg gives it.
    fn answered_by(&self, agent: &Session<'_>, leg: &mut Leg) {
        let segs = &agent.segments;
        leg.set(
            Slot::AgentId,
            text(&agent.participant["userId"])
                .or_else(|| text(&agent.participant["participantName"])),
        );
        leg.set(
            Slot::AnsweredAt,
            first_interact(agent).map(|(_, t)| t.to_string()),
        );
        let ms = |kind| total(segs, kind, self.end_ms).map(|v| v.to_string());
        leg.set(Slot::Talk, ms("interact"));
        leg.set(Slot::Hold, ms("hold"));
        leg.set(Slot::Acw, ms("wrapup"));
        // An interact still open in the export: the conversation's end.
        let end = latest_end(
            segs.iter()
                .filter(|g| matches!(g.kind, "interact" | "hold")),
        );
        leg.set(Slot::EndedAt, end.or_else(|| self.end.clone()));
        let transferred = segs
            .iter()
            .rev()
            .find(|g| g.kind == "interact")
            .and_then(|g| g.v["disconnectType"].as_str())
            .is_some_and(|d| d == "transfer");
        leg.set(Slot::Transferred, Some(transferred.to_string()));
        leg.set(
            Slot::Disposition,
            segs.iter()
                .find(|g| g.kind == "wrapup")
                .and_then(|g| text(&g.v["wrapUpCode"])),
        );
    }

    /// An ACD leg no agent took: abandoned; it ends with its queue
    /// session, else the conversation.
    fn unanswered(&self, queue: &Session<'_>, leg: &mut Leg) {
        leg.set(
            Slot::EndedAt,
            latest_end(&queue.segments).or_else(|| self.end.clone()),
        );
        leg.set(Slot::Transferred, Some("false".to_string()));
        for slot in [Slot::Talk, Slot::Hold, Slot::Acw] {
            leg.set(slot, Some("0".to_string()));
        }
    }

    /// The ACD legs in time order; each takes the agent session that
    /// interacted first at or after its start and before the next leg's
    /// start, each agent session at most once (participants are not listed
    /// in time order, and an unanswered queue must not take a later
    /// queue's agent).
    fn queue_legs(&self, mut acd: Vec<&Session<'_>>, agents: &[&Session<'_>]) -> Vec<Leg> {
        let start_of = |q: &Session<'_>| q.segments.iter().find_map(|g| g.start);
        acd.sort_by_key(|q| start_of(q).unwrap_or(i64::MAX));
        let mut taken = vec![false; agents.len()];
        let mut out = Vec::with_capacity(acd.len());
        for (i, q) in acd.iter().enumerate() {
            let next_start = acd.get(i + 1).and_then(|n| start_of(n)).unwrap_or(i64::MAX);
            let mut leg = self.leg(q);
            let first = q.segments.iter().find(|g| g.start.is_some());
            leg.set(
                Slot::Queue,
                text(&q.participant["participantName"])
                    .or_else(|| q.segments.iter().find_map(|g| text(&g.v["queueId"]))),
            );
            leg.set(
                Slot::ArrivedAt,
                first.and_then(|g| g.start_text).map(str::to_string),
            );
            let agent = first.and_then(|g| g.start).and_then(|t| {
                (0..agents.len())
                    .filter(|&k| !taken[k])
                    .filter_map(|k| Some((k, first_interact(agents[k])?.0)))
                    .filter(|&(_, at)| at >= t && at < next_start)
                    .min_by_key(|&(_, at)| at)
                    .map(|(k, _)| k)
            });
            match agent {
                Some(k) => {
                    taken[k] = true;
                    self.answered_by(agents[k], &mut leg);
                }
                None => self.unanswered(q, &mut leg),
            }
            out.push(leg);
        }
        out
    }
}

/// The legs of one conversation, or why it has none that can be read.
pub fn legs(conv: &Value) -> Result<Vec<Leg>, Problem> {
    let Some(id) = conv["conversationId"].as_str().filter(|s| !s.is_empty()) else {
        return Err((
            ReasonCode::MissingRequired,
            "conversationId is missing".to_string(),
        ));
    };
    if !conv["participants"].is_array() {
        return Err((
            ReasonCode::MissingRequired,
            format!("conversation {id} has no participants array"),
        ));
    }
    let all = sessions(conv);
    let end = conv["conversationEnd"]
        .as_str()
        .map(str::to_string)
        .or_else(|| latest_end(all.iter().flat_map(|s| s.segments.iter())));
    let customer = all
        .iter()
        .find(|s| matches!(s.purpose, "customer" | "external"))
        .and_then(|s| {
            text(&s.session["ani"])
                .or_else(|| text(&s.session["addressFrom"]))
                .or_else(|| text(&s.session["callbackNumbers"][0]))
                // `tel:+14155550100` is the number +14155550100.
                .map(|a| a.strip_prefix("tel:").map(str::to_string).unwrap_or(a))
        });
    let c = Conversation {
        id,
        end_ms: end.as_deref().and_then(ms_of),
        end,
        customer,
    };
    let agents: Vec<&Session<'_>> = all.iter().filter(|s| s.purpose == "agent").collect();
    let acd: Vec<&Session<'_>> = all.iter().filter(|s| s.purpose == "acd").collect();
    let mut out = Vec::new();
    if !acd.is_empty() {
        out = c.queue_legs(acd, &agents);
    } else if let Some(a) = agents.iter().find(|a| first_interact(a).is_some()) {
        // Direct routing: an agent took it without a queue.
        let mut leg = c.leg(a);
        leg.set(
            Slot::ArrivedAt,
            text(&conv["conversationStart"]).or_else(|| {
                a.segments
                    .first()
                    .and_then(|g| g.start_text)
                    .map(str::to_string)
            }),
        );
        c.answered_by(a, &mut leg);
        out.push(leg);
    }
    if out.iter().any(|l| l.text[Slot::EndedAt.index()].is_none()) {
        return Err((
            ReasonCode::MissingRequired,
            format!(
                "conversation {id} has no conversationEnd and a leg without any segmentEnd: its end is unknown"
            ),
        ));
    }
    Ok(out)
}
