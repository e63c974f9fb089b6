//! The cheap part of a slot, its [`Core`], and the customer behind it.

use super::{
    CHAT, CUSTOMER_POOL, EMAIL, INBOUND_CHANNEL_CDF, P_OUTBOUND, P_REPEAT, QUEUE_CDF, REPEAT_DEPTH,
    REPEAT_TRIES, REPEAT_WINDOW_S, RETENTION, SALES, VOICE, by_phone,
};
use crate::rng::{Rng, mix64};
use crate::world::{INTERVAL_S, World};

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
) -> u32 {
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
    // Below CUSTOMER_POOL (4·10⁹ < 2³²): the cast keeps every value.
    (mix64(w.customer_key ^ mix64((u64::from(day) << 40) ^ k ^ 0x5EED)) % CUSTOMER_POOL) as u32
}
