//! The canonical row as parsed from one record, and its conversion from raw
//! field text with every check of SPEC §3 and §5.

use std::borrow::Cow;

use cxpipe_model::{Channel, Direction, Zone, col};

use crate::parse::{self, DurationUnit, Micros};
use crate::pii::{Pseudonymizer, mask_card_numbers};
use crate::reason::ReasonCode;

/// The inputs a source provides, before conversion. Each maps to one or
/// more canonical columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// → interaction_id
    InteractionId,
    /// → chain_id
    ChainId,
    /// → channel
    Channel,
    /// → direction
    Direction,
    /// → queue
    Queue,
    /// → agent_id
    AgentId,
    /// → team
    Team,
    /// → site
    Site,
    /// raw phone / email → customer_key
    CustomerId,
    /// → arrived_at
    ArrivedAt,
    /// → answered_at
    AnsweredAt,
    /// → ended_at
    EndedAt,
    /// validated only: wait_ms is derived from the timestamps
    Wait,
    /// → talk_ms
    Talk,
    /// → hold_ms
    Hold,
    /// → acw_ms
    Acw,
    /// validated only: handle_ms = talk + hold + acw
    Handle,
    /// → abandoned (derived when absent)
    Abandoned,
    /// → transferred
    Transferred,
    /// → disposition
    Disposition,
    /// → csat
    Csat,
}

/// Number of [`Slot`]s.
pub const N_SLOTS: usize = 21;

impl Slot {
    /// Every slot, in index order.
    pub const ALL: [Slot; N_SLOTS] = [
        Slot::InteractionId,
        Slot::ChainId,
        Slot::Channel,
        Slot::Direction,
        Slot::Queue,
        Slot::AgentId,
        Slot::Team,
        Slot::Site,
        Slot::CustomerId,
        Slot::ArrivedAt,
        Slot::AnsweredAt,
        Slot::EndedAt,
        Slot::Wait,
        Slot::Talk,
        Slot::Hold,
        Slot::Acw,
        Slot::Handle,
        Slot::Abandoned,
        Slot::Transferred,
        Slot::Disposition,
        Slot::Csat,
    ];

    /// Index into per-slot arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The canonical column a slot gives, as mapping files name it
    /// (`customer_id` is the raw identifier that becomes `customer_key`;
    /// durations are the `_ms` columns).
    pub fn column_name(self) -> &'static str {
        match self {
            Slot::InteractionId => col::INTERACTION_ID,
            Slot::ChainId => col::CHAIN_ID,
            Slot::Channel => col::CHANNEL,
            Slot::Direction => col::DIRECTION,
            Slot::Queue => col::QUEUE,
            Slot::AgentId => col::AGENT_ID,
            Slot::Team => col::TEAM,
            Slot::Site => col::SITE,
            Slot::CustomerId => CUSTOMER_ID,
            Slot::ArrivedAt => col::ARRIVED_AT,
            Slot::AnsweredAt => col::ANSWERED_AT,
            Slot::EndedAt => col::ENDED_AT,
            Slot::Wait => col::WAIT_MS,
            Slot::Talk => col::TALK_MS,
            Slot::Hold => col::HOLD_MS,
            Slot::Acw => col::ACW_MS,
            Slot::Handle => col::HANDLE_MS,
            Slot::Abandoned => col::ABANDONED,
            Slot::Transferred => col::TRANSFERRED,
            Slot::Disposition => col::DISPOSITION,
            Slot::Csat => col::CSAT,
        }
    }

    /// The slot of a canonical column name ([`Slot::column_name`]).
    pub fn named(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.column_name() == name)
    }
}

/// The input field of the raw customer identifier (SPEC §4): sources give
/// it, the dataset stores only its pseudonym, `customer_key`.
pub const CUSTOMER_ID: &str = "customer_id";

/// A row that passed every check, borrowing text from the record.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// Source id.
    pub interaction_id: &'a str,
    /// Chain id.
    pub chain_id: Option<&'a str>,
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// Queue.
    pub queue: Option<&'a str>,
    /// Agent.
    pub agent_id: Option<&'a str>,
    /// Team.
    pub team: Option<&'a str>,
    /// Site.
    pub site: Option<&'a str>,
    /// Pseudonym (hex), when the record had a customer.
    pub customer_key: Option<[u8; 32]>,
    /// Arrival, µs UTC.
    pub arrived_at: Micros,
    /// Answer, µs UTC.
    pub answered_at: Option<Micros>,
    /// End, µs UTC; `None` only for an unanswered contact whose export
    /// records no end (nor a wait to derive it from).
    pub ended_at: Option<Micros>,
    /// Derived wait; `None` exactly when `ended_at` is (never stored as 0).
    pub wait_ms: Option<i64>,
    /// Talk.
    pub talk_ms: i64,
    /// Hold.
    pub hold_ms: i64,
    /// After-contact work.
    pub acw_ms: i64,
    /// talk + hold + acw.
    pub handle_ms: i64,
    /// Abandoned flag.
    pub abandoned: bool,
    /// Transferred flag.
    pub transferred: bool,
    /// Disposition, card numbers masked.
    pub disposition: Option<Cow<'a, str>>,
    /// CSAT 1..5.
    pub csat: Option<i8>,
    /// A time was moved by at most `[ingest] clock_skew_ms` to keep the
    /// order of SPEC §3 (counted as `clock_skew_fixed`).
    pub skew_fixed: bool,
}

/// A problem with one record: the reason code and a human message.
pub type Problem = (ReasonCode, String);

/// Access to the raw text of each slot of one record. `Ok(None)` means the
/// field is absent or blank (after trimming).
///
/// The typed accessors have defaults that parse the text the way the
/// generic source writes it (ISO 8601 timestamps, `unit()` durations,
/// boolean words, CSAT 1..5); a mapping overrides them with its own parsers
/// (timestamp formats, derived times, boolean rules, CSAT scales).
pub trait Fields<'a> {
    /// The trimmed text of `slot`, if any.
    fn get(&self, slot: Slot) -> Result<Option<&'a str>, Problem>;
    /// The unit of a duration slot in this record.
    fn unit(&self, slot: Slot) -> DurationUnit;
    /// The source's name for a slot, for messages (`talk_s`, `TALK TIME`).
    fn name(&self, slot: Slot) -> &str;

    /// A timestamp slot, µs UTC; wall-clock times are read in `zone`.
    fn timestamp(&self, slot: Slot, zone: &Zone) -> Result<Option<Micros>, Problem> {
        match self.get(slot)? {
            None => Ok(None),
            Some(text) => parse::timestamp(text, zone).map(Some).map_err(|e| {
                (
                    ReasonCode::BadTimestamp,
                    format!("{}: {e}", self.name(slot)),
                )
            }),
        }
    }

    /// A duration slot in milliseconds (negative values are the caller's
    /// to refuse).
    fn duration(&self, slot: Slot) -> Result<Option<i64>, Problem> {
        match self.get(slot)? {
            None => Ok(None),
            Some(text) => parse::duration_ms(text, self.unit(slot))
                .map(Some)
                .map_err(|e| (ReasonCode::BadDuration, format!("{}: {e}", self.name(slot)))),
        }
    }

    /// A boolean slot.
    fn boolean(&self, slot: Slot) -> Result<Option<bool>, Problem> {
        match self.get(slot)? {
            None => Ok(None),
            Some(t) => parse::boolean(t)
                .map(Some)
                .map_err(|e| (ReasonCode::BadEnum, format!("{}: {e}", self.name(slot)))),
        }
    }

    /// Whether a blank duration in `slot` means 0 for an answered contact.
    /// The generic layout says so (it writes 0 or nothing); a mapping says
    /// so only with `default` (then the text is never blank), so a blank
    /// there is unknown and the row is refused.
    fn blank_is_zero(&self, _slot: Slot) -> bool {
        true
    }

    /// The CSAT score on the canonical 1..5 scale (range checked by the
    /// caller).
    fn csat(&self) -> Result<Option<i64>, Problem> {
        match self.get(Slot::Csat)? {
            None => Ok(None),
            Some(t) => parse::integer(t).map(Some).map_err(|e| {
                (
                    ReasonCode::BadNumber,
                    format!("{}: {e}", self.name(Slot::Csat)),
                )
            }),
        }
    }
}

/// What conversion needs besides the record.
#[derive(Debug)]
pub struct Context<'p> {
    /// Zone for timestamps without offsets.
    pub zone: &'p Zone,
    /// Customer pseudonyms.
    pub pii: &'p Pseudonymizer,
    /// Plausible times and durations.
    pub limits: Limits,
}

fn required<'a>(f: &impl Fields<'a>, slot: Slot) -> Result<&'a str, Problem> {
    f.get(slot)?.ok_or_else(|| {
        (
            ReasonCode::MissingRequired,
            format!("{} is blank", f.name(slot)),
        )
    })
}

fn required_ts<'a>(f: &impl Fields<'a>, slot: Slot, zone: &Zone) -> Result<Micros, Problem> {
    f.timestamp(slot, zone)?.ok_or_else(|| {
        (
            ReasonCode::MissingRequired,
            format!("{} is blank", f.name(slot)),
        )
    })
}

fn duration<'a>(f: &impl Fields<'a>, slot: Slot, max_ms: i64) -> Result<Option<i64>, Problem> {
    let Some(ms) = f.duration(slot)? else {
        return Ok(None);
    };
    if ms < 0 {
        return Err((
            ReasonCode::NegativeDuration,
            format!(
                "{} is negative ({})",
                f.name(slot),
                f.get(slot)?.unwrap_or_default()
            ),
        ));
    }
    if ms > max_ms {
        return Err((
            ReasonCode::BadDuration,
            format!(
                "{} is {} s, over the maximum of {} s ([ingest] max_duration_s)",
                f.name(slot),
                ms / 1000,
                max_ms / 1000
            ),
        ));
    }
    Ok(Some(ms))
}

/// What ingest accepts as a plausible value (SPEC §5): a time outside
/// `min_time_us ..= max_time_us` is `bad_timestamp`, a talk, hold or
/// after-contact time over `max_duration_ms` is `bad_duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The earliest time accepted, µs UTC (default 1990-01-01).
    pub min_time_us: i64,
    /// The latest time accepted, µs UTC (default 2100-01-01).
    pub max_time_us: i64,
    /// The longest duration accepted, ms (default 7 days).
    pub max_duration_ms: i64,
    /// Times out of order by at most this much are set equal (default
    /// 1000 ms, `[ingest] clock_skew_ms`; 0: none).
    pub clock_skew_us: i64,
}

impl Limits {
    /// The default earliest time, `[ingest] min_time`.
    pub const DEFAULT_MIN_TIME: &str = "1990-01-01";
    /// The default latest time, `[ingest] max_time`.
    pub const DEFAULT_MAX_TIME: &str = "2100-01-01";
    /// The default longest duration in seconds, `[ingest] max_duration_s`.
    pub const DEFAULT_MAX_DURATION_S: u64 = 604_800;
    /// The default clock skew tolerated, `[ingest] clock_skew_ms`.
    pub const DEFAULT_CLOCK_SKEW_MS: u64 = 1000;
    /// The largest `max_duration_s` allowed: 100 years. KPI sums are
    /// checked, so even then a total too large for 64 bits is an error,
    /// never a wrapped number.
    pub const MAX_MAX_DURATION_S: u64 = 3_153_600_000;

    /// Limits from the configured texts (`YYYY-MM-DD` or an RFC 3339
    /// instant) and seconds; the error says which key is wrong and how.
    pub fn new(
        min_time: &str,
        max_time: &str,
        max_duration_s: u64,
        clock_skew_ms: u64,
    ) -> Result<Limits, String> {
        let utc = cxpipe_model::Zone::utc();
        let instant = |key: &str, text: &str| -> Result<i64, String> {
            let t = text.trim();
            if let Some(day) = cxpipe_model::civil::parse_day(t) {
                return Ok(day * 86_400_000_000);
            }
            crate::parse::timestamp(t, &utc).map_err(|e| {
                format!(
                    "[ingest] {key} = {text:?}: {e}; write a date (YYYY-MM-DD) or an RFC 3339 time"
                )
            })
        };
        let min_time_us = instant("min_time", min_time)?;
        let max_time_us = instant("max_time", max_time)?;
        if min_time_us >= max_time_us {
            return Err(format!(
                "[ingest] min_time {min_time:?} is not before max_time {max_time:?}"
            ));
        }
        if max_duration_s == 0 || max_duration_s > Self::MAX_MAX_DURATION_S {
            return Err(format!(
                "[ingest] max_duration_s = {max_duration_s}: use 1 .. {} (100 years)",
                Self::MAX_MAX_DURATION_S
            ));
        }
        if clock_skew_ms > 3_600_000 {
            return Err(format!(
                "[ingest] clock_skew_ms = {clock_skew_ms}: use 0 .. 3600000 (an hour); more is not skew"
            ));
        }
        Ok(Limits {
            min_time_us,
            max_time_us,
            max_duration_ms: max_duration_s as i64 * 1000,
            clock_skew_us: clock_skew_ms as i64 * 1000,
        })
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // 1990-01-01 and 2100-01-01, µs UTC.
            min_time_us: 631_152_000_000_000,
            max_time_us: 4_102_444_800_000_000,
            max_duration_ms: Self::DEFAULT_MAX_DURATION_S as i64 * 1000,
            clock_skew_us: Self::DEFAULT_CLOCK_SKEW_MS as i64 * 1000,
        }
    }
}

/// Refuses a time outside the plausible range (`bad_timestamp`).
fn plausible<'a>(
    f: &impl Fields<'a>,
    slot: Slot,
    t: Micros,
    limits: &Limits,
) -> Result<(), Problem> {
    if (limits.min_time_us..=limits.max_time_us).contains(&t) {
        return Ok(());
    }
    let day = |us: i64| cxpipe_model::civil::format_day(us.div_euclid(86_400_000_000));
    Err((
        ReasonCode::BadTimestamp,
        format!(
            "{} {} is outside {} .. {} ([ingest] min_time, max_time)",
            f.name(slot),
            f.get(slot).ok().flatten().unwrap_or_default(),
            day(limits.min_time_us),
            day(limits.max_time_us),
        ),
    ))
}

/// An instant as RFC 3339 UTC, for messages.
fn utc_text(us: Micros) -> String {
    jiff::Timestamp::from_microsecond(us).map_or_else(|_| format!("{us} µs"), |t| t.to_string())
}

/// Converts one record into a canonical row, or says why it cannot be one.
/// Checks run in a fixed order, so a record with several problems always
/// reports the same one.
pub fn convert<'a>(f: &impl Fields<'a>, cx: &Context<'_>) -> Result<Row<'a>, Problem> {
    let interaction_id = required(f, Slot::InteractionId)?;
    let channel_text = required(f, Slot::Channel)?;
    let channel = Channel::parse(channel_text).ok_or_else(|| {
        (
            ReasonCode::BadEnum,
            format!(
                "{} {channel_text:?} is not one of voice, chat, email, sms, social, task, other",
                f.name(Slot::Channel)
            ),
        )
    })?;
    let direction_text = required(f, Slot::Direction)?;
    let direction = Direction::parse(direction_text).ok_or_else(|| {
        (
            ReasonCode::BadEnum,
            format!(
                "{} {direction_text:?} is not one of inbound, outbound, internal",
                f.name(Slot::Direction)
            ),
        )
    })?;
    let arrived_at = required_ts(f, Slot::ArrivedAt, cx.zone)?;
    let mut ended_at = f.timestamp(Slot::EndedAt, cx.zone)?;
    let mut answered_at = f.timestamp(Slot::AnsweredAt, cx.zone)?;
    plausible(f, Slot::ArrivedAt, arrived_at, &cx.limits)?;
    if let Some(t) = ended_at {
        plausible(f, Slot::EndedAt, t, &cx.limits)?;
    }
    if let Some(t) = answered_at {
        plausible(f, Slot::AnsweredAt, t, &cx.limits)?;
    }
    // Provided wait values are checked for shape; the stored wait is
    // derived from the times as SPEC §3 defines it, and a given wait is
    // used only to derive the end of an unanswered contact that has none.
    let given_wait = duration(f, Slot::Wait, cx.limits.max_duration_ms)?;
    if ended_at.is_none() {
        if answered_at.is_some() {
            return Err((
                ReasonCode::MissingRequired,
                format!(
                    "{} is blank for an answered contact (it has {}); an answered contact needs its end",
                    f.name(Slot::EndedAt),
                    f.name(Slot::AnsweredAt)
                ),
            ));
        }
        if let Some(w) = given_wait {
            ended_at = w
                .checked_mul(1000)
                .and_then(|us| arrived_at.checked_add(us))
                .filter(|t| *t <= cx.limits.max_time_us);
            if ended_at.is_none() {
                return Err((
                    ReasonCode::BadDuration,
                    format!("{} is too long to be a wait", f.name(Slot::Wait)),
                ));
            }
        }
    }
    // Clock skew (SPEC §5): a time before the one it must not precede by
    // at most `clock_skew_ms` is set equal to it; beyond that, time_order.
    let skew = cx.limits.clock_skew_us;
    let mut skew_fixed = false;
    if let Some(ans) = answered_at
        && ans < arrived_at
        && arrived_at - ans <= skew
    {
        answered_at = Some(arrived_at);
        skew_fixed = true;
    }
    let floor = answered_at.unwrap_or(arrived_at).max(arrived_at);
    if let Some(end) = ended_at
        && end < floor
        && floor - end <= skew
    {
        ended_at = Some(floor);
        skew_fixed = true;
    }
    // The times as read (UTC), beside the source's names: a name alone
    // can be ambiguous (a date column with a time-of-day column).
    let at = |slot: Slot, t: Micros| format!("{} ({})", f.name(slot), utc_text(t));
    if let Some(end) = ended_at
        && arrived_at > end
    {
        return Err((
            ReasonCode::TimeOrder,
            format!(
                "{} is after {}",
                at(Slot::ArrivedAt, arrived_at),
                at(Slot::EndedAt, end)
            ),
        ));
    }
    if let (Some(ans), Some(end)) = (answered_at, ended_at)
        && (ans < arrived_at || ans > end)
    {
        return Err((
            ReasonCode::TimeOrder,
            format!(
                "{} is outside {} .. {}",
                at(Slot::AnsweredAt, ans),
                at(Slot::ArrivedAt, arrived_at),
                at(Slot::EndedAt, end)
            ),
        ));
    }
    // A provided handle time is checked for shape only; the stored one is
    // talk + hold + acw. A blank duration is 0 for an unanswered contact
    // (SPEC §3), and for an answered one only where the source says so.
    let max = cx.limits.max_duration_ms;
    let answered = answered_at.is_some();
    let agent_time = |slot: Slot| -> Result<i64, Problem> {
        match duration(f, slot, max)? {
            Some(ms) => Ok(ms),
            None if !answered || f.blank_is_zero(slot) => Ok(0),
            None => Err((
                ReasonCode::MissingRequired,
                format!(
                    "{} is blank for an answered contact; if blank means none, give [columns.{}] default = \"0\"",
                    f.name(slot),
                    slot.column_name()
                ),
            )),
        }
    };
    let talk_ms = agent_time(Slot::Talk)?;
    let hold_ms = agent_time(Slot::Hold)?;
    let acw_ms = agent_time(Slot::Acw)?;
    duration(f, Slot::Handle, max.saturating_mul(3))?;
    let handle_ms = talk_ms
        .checked_add(hold_ms)
        .and_then(|v| v.checked_add(acw_ms))
        .ok_or_else(|| {
            (
                ReasonCode::BadDuration,
                "talk + hold + after-contact work is too large to store".to_string(),
            )
        })?;
    let agent_id = f.get(Slot::AgentId)?;
    let abandoned = f
        .boolean(Slot::Abandoned)?
        .unwrap_or(answered_at.is_none() && direction == Direction::Inbound);
    if abandoned && (answered_at.is_some() || agent_id.is_some()) {
        return Err((
            ReasonCode::AbandonedWithAgent,
            if answered_at.is_some() {
                "abandoned but has an answer time".to_string()
            } else {
                format!("abandoned but has agent {:?}", agent_id.unwrap_or_default())
            },
        ));
    }
    let transferred = f.boolean(Slot::Transferred)?.unwrap_or(false);
    let csat = match f.csat()? {
        None => None,
        Some(v) => {
            if !(1..=5).contains(&v) {
                return Err((
                    ReasonCode::CsatOutOfRange,
                    format!(
                        "{} {} is outside 1..5",
                        f.name(Slot::Csat),
                        f.get(Slot::Csat)?.unwrap_or_default()
                    ),
                ));
            }
            Some(v as i8)
        }
    };
    let customer_key = f.get(Slot::CustomerId)?.map(|raw| {
        let mut out = [0u8; 32];
        cx.pii.customer_key(raw, &mut out);
        out
    });
    let disposition = f
        .get(Slot::Disposition)?
        .map(|d| match mask_card_numbers(d) {
            Some(masked) => Cow::Owned(masked),
            None => Cow::Borrowed(d),
        });
    let wait_ms = answered_at.or(ended_at).map(|t| (t - arrived_at) / 1000);
    Ok(Row {
        interaction_id,
        chain_id: f.get(Slot::ChainId)?,
        channel,
        direction,
        queue: f.get(Slot::Queue)?,
        agent_id,
        team: f.get(Slot::Team)?,
        site: f.get(Slot::Site)?,
        customer_key,
        arrived_at,
        answered_at,
        ended_at,
        wait_ms,
        talk_ms,
        hold_ms,
        acw_ms,
        handle_ms,
        abandoned,
        transferred,
        disposition,
        csat,
        skew_fixed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Limits::default()` spells the defaults as numbers; they must be the
    /// documented ones that `Limits::new` reads from the texts.
    #[test]
    fn default_limits_are_the_documented_defaults() {
        let from_texts = Limits::new(
            Limits::DEFAULT_MIN_TIME,
            Limits::DEFAULT_MAX_TIME,
            Limits::DEFAULT_MAX_DURATION_S,
            Limits::DEFAULT_CLOCK_SKEW_MS,
        );
        assert_eq!(from_texts, Ok(Limits::default()));
    }
}
