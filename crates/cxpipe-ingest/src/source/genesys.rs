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

/// The legs of one conversation, or why it has none that can be read.
pub fn legs(conv: &Value) -> Result<Vec<Leg>, Problem> {
    let Some(conversation_id) = conv["conversationId"].as_str().filter(|s| !s.is_empty()) else {
        return Err((
            ReasonCode::MissingRequired,
            "conversationId is missing".to_string(),
        ));
    };
    if !conv["participants"].is_array() {
        return Err((
            ReasonCode::MissingRequired,
            format!("conversation {conversation_id} has no participants array"),
        ));
    }
    let all = sessions(conv);
    // The conversation's end: conversationEnd, else its latest segmentEnd.
    let latest_end = all
        .iter()
        .flat_map(|s| s.segments.iter())
        .filter_map(|g| Some((g.end?, g.end_text?)))
        .max_by_key(|(ms, _)| *ms)
        .map(|(_, t)| t.to_string());
    let conversation_end = conv["conversationEnd"]
        .as_str()
        .map(str::to_string)
        .or(latest_end);
    let conversation_end_ms = conversation_end.as_deref().and_then(ms_of);
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
    let agents: Vec<&Session<'_>> = all.iter().filter(|s| s.purpose == "agent").collect();
    let mut out = Vec::new();
    let acd: Vec<&Session<'_>> = all.iter().filter(|s| s.purpose == "acd").collect();
    let base = |leg_session: &Session<'_>, leg: &mut Leg| {
        // The leg's own session (ACD, or the agent's when direct) names it.
        let session_id = text(&leg_session.session["sessionId"]).unwrap_or_default();
        leg.set(
            Slot::InteractionId,
            Some(format!("{conversation_id}:{session_id}")),
        );
        leg.set(Slot::ChainId, Some(conversation_id.to_string()));
        let media = leg_session.session["mediaType"].as_str().unwrap_or("");
        let (channel, direction) = match media {
            "callback" => ("voice", Some("inbound")),
            "voice" => ("voice", None),
            "chat" | "webchat" => ("chat", None),
            "email" => ("email", None),
            "message" => match leg_session.session["messageType"].as_str() {
                Some("sms") | None => ("sms", None),
                Some(_) => ("social", None),
            },
            "sms" => ("sms", None),
            "" => ("", None),
            _ => ("other", None),
        };
        leg.set(Slot::Channel, Some(channel.to_string()));
        let dir = direction
            .map(str::to_string)
            .or_else(|| text(&leg_session.session["direction"]))
            .unwrap_or_else(|| "inbound".to_string());
        leg.set(Slot::Direction, Some(dir));
        leg.set(Slot::CustomerId, customer.clone());
    };
    let agent_part = |agent: &Session<'_>, leg: &mut Leg| {
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
        let ms = |kind| total(segs, kind, conversation_end_ms).map(|v| v.to_string());
        leg.set(Slot::Talk, ms("interact"));
        leg.set(Slot::Hold, ms("hold"));
        leg.set(Slot::Acw, ms("wrapup"));
        let end = segs
            .iter()
            .filter(|g| matches!(g.kind, "interact" | "hold"))
            .filter_map(|g| Some((g.end?, g.end_text?)))
            .max_by_key(|(ms, _)| *ms)
            .map(|(_, t)| t.to_string());
        // An interact still open in the export: the conversation's end.
        leg.set(Slot::EndedAt, end.or_else(|| conversation_end.clone()));
        let last_interact = segs.iter().rev().find(|g| g.kind == "interact");
        let transferred = last_interact
            .and_then(|g| g.v["disconnectType"].as_str())
            .is_some_and(|d| d == "transfer");
        leg.set(Slot::Transferred, Some(transferred.to_string()));
        leg.set(
            Slot::Disposition,
            segs.iter()
                .find(|g| g.kind == "wrapup")
                .and_then(|g| text(&g.v["wrapUpCode"])),
        );
    };
    // The ACD legs in time order; each takes the agent session that
    // interacted first at or after its start and before the next leg's
    // start, each agent session at most once (participants are not listed
    // in time order, and an unanswered queue must not take a later queue's
    // agent).
    let start_of = |q: &Session<'_>| q.segments.iter().find_map(|g| g.start);
    let mut acd = acd;
    acd.sort_by_key(|q| start_of(q).unwrap_or(i64::MAX));
    let mut taken = vec![false; agents.len()];
    for (i, q) in acd.iter().enumerate() {
        let next_start = acd.get(i + 1).and_then(|n| start_of(n)).unwrap_or(i64::MAX);
        let mut leg = Leg::default();
        base(q, &mut leg);
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
        let start = first.and_then(|g| g.start);
        let agent = start.and_then(|t| {
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
                agent_part(agents[k], &mut leg);
            }
            None => {
                // Abandoned: ends with its queue session, else the
                // conversation.
                let end = q
                    .segments
                    .iter()
                    .filter_map(|g| Some((g.end?, g.end_text?)))
                    .max_by_key(|(ms, _)| *ms)
                    .map(|(_, t)| t.to_string())
                    .or_else(|| conversation_end.clone());
                leg.set(Slot::EndedAt, end);
                leg.set(Slot::Transferred, Some("false".to_string()));
                leg.set(Slot::Talk, Some("0".to_string()));
                leg.set(Slot::Hold, Some("0".to_string()));
                leg.set(Slot::Acw, Some("0".to_string()));
            }
        }
        out.push(leg);
    }
    if acd.is_empty()
        && let Some(a) = agents.iter().find(|a| first_interact(a).is_some())
    {
        // Direct routing: an agent took it without a queue.
        let mut leg = Leg::default();
        base(a, &mut leg);
        leg.set(
            Slot::ArrivedAt,
            text(&conv["conversationStart"]).or_else(|| {
                a.segments
                    .first()
                    .and_then(|g| g.start_text)
                    .map(str::to_string)
            }),
        );
        agent_part(a, &mut leg);
        out.push(leg);
    }
    if out.iter().any(|l| l.text[Slot::EndedAt.index()].is_none()) {
        return Err((
            ReasonCode::MissingRequired,
            format!(
                "conversation {conversation_id} has no conversationEnd and a leg without any segmentEnd: its end is unknown"
            ),
        ));
    }
    Ok(out)
}
