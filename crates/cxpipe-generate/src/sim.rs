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
//! abandonment, transfer; module `slot`) is cheap and is all that a repeat
//! look-up or the slot count needs; the rest (agent from the day's `roster`,
//! durations and outcome in `handle`) continues the same stream in
//! [`generate_day`] (module `day`).

mod day;
mod handle;
mod roster;
mod slot;

pub(crate) use day::generate_day;
pub(crate) use slot::count_slots;

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
    /// Below [`CUSTOMER_POOL`] (4·10⁹), so 32 bits: a `Row` is 64 bytes,
    /// not 72 (two days of a 100M-row month held by the generator: 56 MB).
    pub customer: u32,
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

const _: () = assert!(std::mem::size_of::<Row>() == 64);
const _: () = assert!(
    CUSTOMER_POOL <= 1 << 32,
    "a customer must fit Row::customer"
);

/// What the writer needs to know about a day besides its rows.
#[derive(Debug, Default)]
pub(crate) struct DayStats {
    /// Handled rows per agent index.
    pub handled: Vec<u32>,
    pub abandoned: u64,
    pub transfers: u64,
    pub cards: u64,
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
    fn luhn_check_digit() {
        assert_eq!(luhn_complete(411_111_111_111_111), 4_111_111_111_111_111);
        assert_eq!(luhn_complete(453_201_511_283_036), 4_532_015_112_830_366);
    }
}
