//! Contacts: what happens to each one, as a pure function of its slot.
//!
//! A day's budget of rows is filled by *slots* `k = 0, 1, …`; each slot is
//! one customer contact (one row, or two when it is transferred). Everything
//! about slot `(day, k)` is drawn from a generator seeded by `(seed, day, k)`
//! alone, so any slot can be re-derived at any time without generating the
//! others. That is what makes repeat customers work in parallel: a contact
//! that repeats an earlier one looks that one up by re-deriving it.
//!
//! The draws are split in two: [`core`] (arrival, channel, queue, wait,
//! abandonment, transfer) is cheap and is all that a repeat look-up or the
//! slot count needs; the rest (agent, durations, outcome) continues the same
//! stream in [`generate_day`].

use crate::rng::{Rng, mix64};
use crate::world::{INTERVAL_S, INTERVALS, QUEUES, World, for_each_shift_interval};

/// Channels, in the order of the codes used in [`Row::channel`].
pub(crate) const CHANNELS: [&str; 5] = ["voice", "chat", "email", "sms", "social"];
pub(crate) const VOICE: u8 = 0;
pub(crate) const CHAT: u8 = 1;
pub(crate) const EMAIL: u8 = 2;
pub(crate) const SMS: u8 = 3;
/// Shares of inbound contacts by channel; with 5 % outbound voice on top
/// this gives voice ≈ 70 %, chat ≈ 20 %, email ≈ 8 %, sms + social the rest.
const INBOUND_CHANNEL_CDF: [f64; 5] = [0.6842, 0.8947, 0.9789, 0.9916, 1.0];
const QUEUE_CDF: [f64; 5] = [0.30, 0.55, 0.80, 0.92, 1.0];
const SALES: u8 = 3;
const RETENTION: u8 = 4;
const P_OUTBOUND: f64 = 0.05;

/// Wrap-up codes, in the order of [`Row::disposition`].
pub(crate) const DISPOSITIONS: [&str; 8] = [
    "resolved",
    "follow_up",
    "escalated",
    "sale",
    "no_sale",
    "info_provided",
    "callback",
    "transferred",
];
const D_RESOLVED: u8 = 0;
const D_TRANSFERRED: u8 = 7;
pub(crate) const NO_DISPOSITION: u8 = u8::MAX;
/// Wrap-up shares for service queues: resolved, follow_up, escalated,
/// info_provided, callback.
const SERVICE_CDF: [(f64, u8); 5] = [(0.62, 0), (0.76, 1), (0.84, 2), (0.94, 5), (1.0, 6)];
/// CSAT 1..5 shares: 7 %, 6 %, 12 %, 30 %, 45 %.
const CSAT_CDF: [f64; 5] = [0.07, 0.13, 0.25, 0.55, 1.0];
const P_SURVEYED: f64 = 0.20;
/// A free-text wrap-up note carrying a card number, about 1 in 100k rows.
const P_CARD_NOTE: f64 = 1e-5;

/// Probability that an inbound contact repeats an earlier contact of the
/// same customer within 72 hours; calibrated so that about 30 % of handled
/// inbound contacts are followed by a repeat (FCR ≈ 70 %).
const P_REPEAT: f64 = 0.295;
/// Repeat window in seconds (SPEC §8 `fcr_window` default).
pub(crate) const REPEAT_WINDOW_S: u32 = 72 * 3600;
const REPEAT_TRIES: usize = 8;
const REPEAT_DEPTH: usize = 24;
/// Size of the pool fresh customers are drawn from.
const CUSTOMER_POOL: u64 = 4_000_000_000;

/// Marker for "no value" in the `u32`/`u64` fields of [`Row`].
pub(crate) const NONE32: u32 = u32::MAX;
pub(crate) const NONE64: u64 = u64::MAX;

/// Row flags.
pub(crate) const F_OUTBOUND: u8 = 1;
pub(crate) const F_ABANDONED: u8 = 2;
pub(crate) const F_TRANSFERRED: u8 = 4;
/// The customer typed their e-mail address with capitals.
pub(crate) const F_MIXED_CASE: u8 = 8;

/// Whether a channel identifies customers by phone number (else e-mail).
#[inline]
pub(crate) fn by_phone(channel: u8) -> bool {
    channel == VOICE || channel == SMS
}

/// The cheap, customer-independent part of a slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Core {
    /// Seconds after the day's midnight (UTC).
    pub arrival: u32,
    pub channel: u8,
    pub outbound: bool,
    pub queue: u8,
    /// Time in queue: until answered, or until the customer gave up.
    pub wait: u32,
    pub abandoned: bool,
    /// Wants to be transferred (only handled voice/chat before 20:00, so
    /// the second leg starts the same day).
    pub transfer: bool,
}

impl Core {
    #[inline]
    fn handled_inbound(&self) -> bool {
        !self.outbound && !self.abandoned
    }
}

/// Derives slot `(day, k)`'s core, returning the generator positioned after
/// it so that the caller can continue the same stream.
#[inline]
pub(crate) fn core(w: &World, day: u32, k: u64) -> (Core, Rng) {
    let mut r = Rng::for_item(w.slot_key, day, k);
    let interval = r.pick(&w.arrival_cdf);
    let arrival = interval as u32 * INTERVAL_S + r.below(u64::from(INTERVAL_S)) as u32;
    let outbound = r.chance(P_OUTBOUND);
    let (channel, queue) = if outbound {
        (VOICE, if r.chance(0.6) { SALES } else { RETENTION })
    } else {
        (r.pick(&INBOUND_CHANNEL_CDF) as u8, r.pick(&QUEUE_CDF) as u8)
    };
    let cell = w.cell(day, usize::from(queue), interval);
    let steep = f64::from(w.wait_steep[cell]);
    let flat = f64::from(w.wait_flat[cell]);
    let impatient = |r: &mut Rng, p: f64, median: f64| {
        if r.chance(p) {
            1.0 + r.below(8) as f64
        } else {
            r.lognormal(median, 1.0)
        }
    };
    let (wait, patience) = if outbound {
        // Dial to connect; outbound contacts are never abandoned.
        ((5 + r.below(21)) as f64, f64::INFINITY)
    } else {
        match channel {
            VOICE => (
                r.exp(10.0 * steep).min(3600.0),
                impatient(&mut r, 0.03, 110.0),
            ),
            CHAT => (
                r.exp(20.0 * steep).min(3600.0),
                impatient(&mut r, 0.02, 240.0),
            ),
            EMAIL => (
                r.lognormal(5400.0 * flat, 0.7).min(3.0 * 86_400.0),
                f64::INFINITY,
            ),
            _ => (
                r.lognormal(240.0 * flat, 0.8).min(6.0 * 3600.0),
                r.lognormal(3600.0, 1.0),
            ),
        }
    };
    let abandoned = patience < wait;
    let wait = if abandoned { patience } else { wait }.round() as u32;
    let p_transfer = match channel {
        VOICE => 0.10,
        CHAT => 0.06,
        _ => 0.0,
    };
    let transfer = !outbound && !abandoned && arrival < 20 * 3600 && r.chance(p_transfer);
    (
        Core {
            arrival,
            channel,
            outbound,
            queue,
            wait,
            abandoned,
            transfer,
        },
        r,
    )
}

/// Number of slots that fill day `day`'s row budget (a transfer takes two
/// rows; the last slot is not transferred if only one row is left).
pub(crate) fn count_slots(w: &World, day: u32) -> u64 {
    let budget = w.day_rows[day as usize];
    let (mut rows, mut k) = (0u64, 0u64);
    while rows < budget {
        let (c, _) = core(w, day, k);
        rows += if c.transfer && rows + 2 <= budget {
            2
        } else {
            1
        };
        k += 1;
    }
    k
}

/// The customer of slot `(day, k)` (whose core is `c`): with probability
/// [`P_REPEAT`] an inbound contact repeats a handled inbound contact of the
/// same kind of address from the preceding 72 hours, found by re-deriving
/// random earlier slots, and takes its customer (recursively); otherwise it
/// is a fresh customer from a large pool.
pub(crate) fn customer_of(
    w: &World,
    n_slots: &[u64],
    mut day: u32,
    mut k: u64,
    mut c: Core,
) -> u64 {
    for _ in 0..REPEAT_DEPTH {
        if c.outbound {
            break;
        }
        let mut r = Rng::for_item(w.customer_key, day, k);
        if !r.chance(P_REPEAT) {
            break;
        }
        let t = u64::from(day) * 86_400 + u64::from(c.arrival);
        let mut found = None;
        for _ in 0..REPEAT_TRIES {
            let back = r.below(4) as u32;
            let Some(d2) = day.checked_sub(back) else {
                continue;
            };
            let n = n_slots[d2 as usize];
            if n == 0 {
                continue;
            }
            let k2 = r.below(n);
            let (c2, _) = core(w, d2, k2);
            let t2 = u64::from(d2) * 86_400 + u64::from(c2.arrival);
            if c2.handled_inbound()
                && by_phone(c2.channel) == by_phone(c.channel)
                && t2 < t
                && t - t2 < u64::from(REPEAT_WINDOW_S)
            {
                found = Some((d2, k2, c2));
                break;
            }
        }
        match found {
            Some((d2, k2, c2)) => (day, k, c) = (d2, k2, c2),
            None => break,
        }
    }
    mix64(w.customer_key ^ mix64((u64::from(day) << 40) ^ k ^ 0x5EED)) % CUSTOMER_POOL
}

/// A 48-bit bijection of the row number, keyed by the seed: interaction ids
/// look random yet can never collide within a file.
#[inline]
pub(crate) fn id48(n: u64, key: u64) -> u64 {
    const M: u64 = (1 << 48) - 1;
    let mut x = (n ^ key) & M;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & M;
    x ^= x >> 24;
    x = x.wrapping_mul(0x5851_F42D_4C95) & M;
    x ^= x >> 21;
    x.wrapping_add(key >> 16) & M
}

/// Completes 15 payload digits with a Luhn check digit.
pub(crate) fn luhn_complete(payload: u64) -> u64 {
    let mut sum = 0;
    let mut p = payload;
    let mut double = true; // the rightmost payload digit is doubled
    while p > 0 {
        let mut d = p % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        p /= 10;
    }
    payload * 10 + (10 - sum % 10) % 10
}

/// One output row, compact (no heap data) so a day sorts quickly.
///
/// Within a day, rows are generated (and numbered) in slot order and then
/// sorted by arrival.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub id: u64,
    pub chain: u64,
    pub customer: u64,
    /// Card number planted in the wrap-up note, or 0.
    pub card: u64,
    /// Seconds after the day's midnight; answered may be [`NONE32`].
    pub arrived: u32,
    pub answered: u32,
    pub ended: u32,
    pub talk: u32,
    pub hold: u32,
    pub acw: u32,
    pub agent: u32,
    pub channel: u8,
    pub queue: u8,
    pub disposition: u8,
    /// 1..=5, or 0 when not surveyed.
    pub csat: u8,
    pub flags: u8,
}

/// What the writer needs to know about a day besides its rows.
#[derive(Debug, Default)]
pub(crate) struct DayStats {
    /// Handled rows per agent index.
    pub handled: Vec<u32>,
    pub abandoned: u64,
    pub transfers: u64,
    pub cards: u64,
}

/// Agents on shift, by queue and half-hour, for one day (and the next, for
/// contacts answered after midnight).
struct Roster {
    by_queue: Vec<Vec<u32>>,
    any: Vec<Vec<u32>>,
    working: Vec<u32>,
    employed: Vec<u32>,
    all: Vec<u32>,
    /// Whether each agent is fading out on this day (a compact copy: the
    /// agent records are too large to stay in cache on this hot path).
    fading: Vec<bool>,
}

const ROSTER_SPAN: usize = 2 * INTERVALS;

impl Roster {
    fn new(w: &World, day: u32) -> Roster {
        let mut by_queue = vec![Vec::new(); QUEUES.len() * ROSTER_SPAN];
        let mut any = vec![Vec::new(); ROSTER_SPAN];
        let mut working = Vec::new();
        let mut employed = Vec::new();
        for (idx, a) in w.agents.iter().enumerate() {
            let idx = idx as u32;
            for_each_shift_interval(a, day, w.start_day, 0..ROSTER_SPAN, |i| {
                by_queue[a.queue * ROSTER_SPAN + i].push(idx);
                any[i].push(idx);
            });
            if a.works(i64::from(day), w.start_day) {
                working.push(idx);
            }
            if a.first_day <= day && day <= a.last_day {
                employed.push(idx);
            }
        }
        let all = (0..w.agents.len() as u32).collect();
        let fading = w.agents.iter().map(|a| a.fading_on(day)).collect();
        Roster {
            by_queue,
            any,
            working,
            employed,
            all,
            fading,
        }
    }

    /// Picks the agent who answers a contact of `queue` at `at` seconds after
    /// the day's midnight: someone on shift in that queue, else on shift
    /// anywhere, else working that day, else employed. Agents fading out
    /// take fewer contacts. Never `exclude` if anyone else is available.
    fn choose(&self, queue: u8, at: u32, exclude: u32, r: &mut Rng) -> u32 {
        let i = ((at / INTERVAL_S) as usize).min(ROSTER_SPAN - 1);
        let lists = [
            &self.by_queue[usize::from(queue) * ROSTER_SPAN + i],
            &self.any[i],
            &self.working,
            &self.employed,
            &self.all,
        ];
        let Some(list) = lists.into_iter().find(|l| l.iter().any(|&a| a != exclude)) else {
            return self.all[0];
        };
        let mut pick = list[0];
        for _ in 0..4 {
            pick = list[r.below(list.len() as u64) as usize];
            if pick == exclude {
                continue;
            }
            if self.fading[pick as usize] && !r.chance(0.35) {
                continue;
            }
            return pick;
        }
        if pick == exclude {
            list.iter().copied().find(|&a| a != exclude).unwrap_or(pick)
        } else {
            pick
        }
    }
}

/// Agent-dependent durations and outcome of a handled leg.
struct Handled {
    talk: u32,
    hold: u32,
    acw: u32,
    disposition: u8,
    csat: u8,
    card: u64,
}

fn handle(
    w: &World,
    day: u32,
    agent: u32,
    channel: u8,
    queue: u8,
    outbound: bool,
    r: &mut Rng,
) -> Handled {
    let a = &w.agents[agent as usize];
    let progress = f64::from(day) / f64::from(w.days.max(2) - 1);
    let aht = if a.rising_aht {
        1.0 + 0.7 * progress
    } else {
        1.0
    };
    let (median, sigma) = match channel {
        _ if outbound => (180.0, 0.7),
        VOICE => (270.0, 0.55),
        CHAT => (420.0, 0.6),
        EMAIL => (300.0, 0.7),
        _ => (360.0, 0.7),
    };
    let talk = (r.lognormal(median, sigma) * a.speed * aht)
        .clamp(5.0, 7200.0)
        .round() as u32;
    let hold = if (channel == VOICE || channel == CHAT) && r.chance(0.3) {
        r.lognormal(50.0, 0.8).clamp(1.0, 1800.0).round() as u32
    } else {
        0
    };
    let acw = if a.breach_prone {
        r.lognormal(110.0, 0.5)
    } else {
        r.lognormal(35.0, 0.55)
    };
    let acw = (acw * aht.sqrt()).min(3600.0).round() as u32;
    let u = r.f64();
    let disposition = if outbound {
        if u < 0.25 {
            3
        } else if u < 0.8 {
            4
        } else {
            6
        }
    } else if queue == SALES {
        if u < 0.35 {
            3
        } else if u < 0.7 {
            4
        } else if u < 0.9 {
            D_RESOLVED
        } else {
            1
        }
    } else {
        SERVICE_CDF
            .iter()
            .find(|(c, _)| u < *c)
            .map_or(D_RESOLVED, |&(_, d)| d)
    };
    let csat = if r.chance(P_SURVEYED) {
        let mut s = r.pick(&CSAT_CDF) as u8 + 1;
        if a.falling_csat && r.chance(0.75 * progress) {
            s = s.saturating_sub(if r.chance(0.4) { 2 } else { 1 }).max(1);
        }
        s
    } else {
        0
    };
    let card = if r.chance(P_CARD_NOTE) {
        luhn_complete(400_000_000_000_000 + r.below(100_000_000_000_000))
    } else {
        0
    };
    Handled {
        talk,
        hold,
        acw,
        disposition,
        csat,
        card,
    }
}

/// Generates day `day` into `rows` (cleared first), sorted by arrival.
/// `scratch` is reused memory for sorting.
pub(crate) fn generate_day(
    w: &World,
    n_slots: &[u64],
    day: u32,
    rows: &mut Vec<Row>,
    scratch: &mut Vec<Row>,
) -> DayStats {
    rows.clear();
    let budget = w.day_rows[day as usize];
    rows.reserve(budget as usize);
    let roster = Roster::new(w, day);
    let mut stats = DayStats {
        handled: vec![0; w.agents.len()],
        ..DayStats::default()
    };
    let offset = w.day_offset[day as usize];
    let mut seq = 0u64;
    let next_id = |seq: &mut u64| {
        let id = id48(offset + *seq, w.id_key);
        *seq += 1;
        id
    };
    for k in 0..n_slots[day as usize] {
        let (c, mut r) = core(w, day, k);
        let transfer = c.transfer && budget - seq >= 2;
        let customer = customer_of(w, n_slots, day, k, c);
        let mixed_case = !by_phone(c.channel) && r.chance(0.1);
        let mut flags =
            if c.outbound { F_OUTBOUND } else { 0 } | if mixed_case { F_MIXED_CASE } else { 0 };
        let id = next_id(&mut seq);
        let mut row = Row {
            id,
            chain: NONE64,
            customer,
            card: 0,
            arrived: c.arrival,
            answered: NONE32,
            ended: c.arrival + c.wait,
            talk: 0,
            hold: 0,
            acw: 0,
            agent: NONE32,
            channel: c.channel,
            queue: c.queue,
            disposition: NO_DISPOSITION,
            csat: 0,
            flags,
        };
        if c.abandoned {
            row.flags |= F_ABANDONED;
            stats.abandoned += 1;
            rows.push(row);
            continue;
        }
        let answered = c.arrival + c.wait;
        let agent = roster.choose(c.queue, answered, NONE32, &mut r);
        let h = handle(w, day, agent, c.channel, c.queue, c.outbound, &mut r);
        stats.handled[agent as usize] += 1;
        stats.cards += u64::from(h.card != 0);
        row.answered = answered;
        row.ended = answered + h.talk + h.hold;
        row.talk = h.talk;
        row.hold = h.hold;
        row.acw = h.acw;
        row.agent = agent;
        row.disposition = h.disposition;
        row.csat = h.csat;
        row.card = h.card;
        if !transfer {
            rows.push(row);
            continue;
        }
        // The agent transfers the contact out: the first leg ends, a second
        // leg of the same chain arrives in (usually) another queue.
        stats.transfers += 1;
        flags = row.flags;
        row.flags |= F_TRANSFERRED;
        row.chain = row.id;
        row.disposition = D_TRANSFERRED;
        row.csat = 0;
        let arrival2 = row.ended;
        let mut queue2 = c.queue;
        if r.chance(0.8) {
            for _ in 0..8 {
                queue2 = r.pick(&QUEUE_CDF) as u8;
                if queue2 != c.queue {
                    break;
                }
            }
        }
        let interval2 = (arrival2 / INTERVAL_S) as usize;
        let steep =
            f64::from(w.wait_steep[w.cell(day, usize::from(queue2), interval2.min(INTERVALS - 1))]);
        let answered2 = arrival2 + r.exp(15.0 * steep).min(600.0).round() as u32;
        let agent2 = roster.choose(queue2, answered2, agent, &mut r);
        let h2 = handle(w, day, agent2, c.channel, queue2, false, &mut r);
        stats.handled[agent2 as usize] += 1;
        stats.cards += u64::from(h2.card != 0);
        let id2 = next_id(&mut seq);
        let leg2 = Row {
            id: id2,
            chain: row.id,
            customer,
            card: h2.card,
            arrived: arrival2,
            answered: answered2,
            ended: answered2 + h2.talk + h2.hold,
            talk: h2.talk,
            hold: h2.hold,
            acw: h2.acw,
            agent: agent2,
            channel: c.channel,
            queue: queue2,
            disposition: h2.disposition,
            csat: h2.csat,
            flags,
        };
        rows.push(row);
        rows.push(leg2);
    }
    debug_assert_eq!(seq, budget);
    sort_by_arrival(rows, scratch);
    stats
}

/// Sorts rows by arrival second, keeping generation order among equal
/// arrivals. A stable counting sort: a day has only 86 400 possible keys, so
/// this is linear and several times cheaper than comparison-sorting the rows.
fn sort_by_arrival(rows: &mut [Row], scratch: &mut Vec<Row>) {
    let Some(max) = rows.iter().map(|r| r.arrived).max() else {
        return;
    };
    let mut next = vec![0u32; max as usize + 2];
    for r in rows.iter() {
        next[r.arrived as usize + 1] += 1;
    }
    for i in 1..next.len() {
        next[i] += next[i - 1];
    }
    scratch.clear();
    scratch.extend_from_slice(rows);
    for r in scratch.iter() {
        let slot = &mut next[r.arrived as usize];
        rows[*slot as usize] = *r;
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn id48_is_injective_on_a_range_and_depends_on_the_key() {
        let ids: HashSet<u64> = (0..200_000).map(|n| id48(n, 12345)).collect();
        assert_eq!(ids.len(), 200_000);
        assert!(ids.iter().all(|&i| i < 1 << 48));
        assert_ne!(id48(0, 1), id48(0, 2));
    }

    #[test]
    fn counting_sort_equals_stable_sort() {
        let mut r = Rng::new(3);
        let mut rows: Vec<Row> = (0..5000)
            .map(|i| Row {
                id: i,
                chain: NONE64,
                customer: 0,
                card: 0,
                arrived: r.below(2000) as u32 * 40,
                answered: NONE32,
                ended: 0,
                talk: 0,
                hold: 0,
                acw: 0,
                agent: NONE32,
                channel: 0,
                queue: 0,
                disposition: NO_DISPOSITION,
                csat: 0,
                flags: 0,
            })
            .collect();
        let mut expected = rows.clone();
        expected.sort_by_key(|r| r.arrived);
        sort_by_arrival(&mut rows, &mut Vec::new());
        let ids = |v: &[Row]| v.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(&rows), ids(&expected));
    }

    #[test]
    fn luhn_check_digit() {
        assert_eq!(luhn_complete(411_111_111_111_111), 4_111_111_111_111_111);
        assert_eq!(luhn_complete(453_201_511_283_036), 4_532_015_112_830_366);
    }
}
