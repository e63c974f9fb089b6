//! The repeat-contact rate of the rows written (1 − FCR of SPEC §8),
//! measured as they stream past in file order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::{HashTable, hash_table as table};

use crate::sim::{F_ABANDONED, F_OUTBOUND, NONE64, REPEAT_WINDOW_S, Row, by_phone};

/// One inbound row, as the repeat tracker sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RepeatRec {
    /// Arrival, seconds since the start of the period.
    pub t: u32,
    /// Customer identity (number and kind of address).
    pub customer: u64,
    /// Id of the first leg of its chain.
    pub chain: u64,
    /// Answered by an agent (else abandoned).
    pub handled: bool,
}

impl RepeatRec {
    /// The record of row `r` of the day starting `day_t` seconds into the
    /// period; `None` for an outbound row, which no customer repeats.
    #[inline]
    pub(crate) fn of_row(day_t: u32, r: &Row) -> Option<RepeatRec> {
        (r.flags & F_OUTBOUND == 0).then(|| RepeatRec {
            t: day_t + r.arrived,
            customer: u64::from(r.customer) << 1 | u64::from(by_phone(r.channel)),
            chain: if r.chain == NONE64 { r.id } else { r.chain },
            handled: r.flags & F_ABANDONED == 0,
        })
    }
}

/// The measured repeat-contact rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RepeatRate {
    /// Followed contacts over eligible ones; `None` when none was eligible.
    pub rate: Option<f64>,
    /// Handled inbound contacts whose window ends by the last arrival.
    pub eligible: u64,
}

impl RepeatRate {
    fn of(followed: u64, eligible: u64) -> RepeatRate {
        RepeatRate {
            rate: (eligible > 0).then(|| followed as f64 / eligible as f64),
            eligible,
        }
    }
}

/// A multiplicative hasher for keys that are already well mixed.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A customer's first unresolved contact, packed in 16 bytes: the customer
/// (34 bits), the chain (48), the arrival (32) and whether the customer has
/// more (1; those, rare, are in [`RepeatTracker::more`]). At 100M rows
/// 7.7–10.2M customers are pending at once, in a table of 16.7M slots: of
/// 32 bytes each as a `HashMap` entry (530 MiB), packed 16 (270 MiB).
#[derive(Clone, Copy)]
struct Packed(u128);

const KEY_BITS: u32 = 34;
const CHAIN_BITS: u32 = 48;
const T_SHIFT: u32 = KEY_BITS + CHAIN_BITS;
const MORE_BIT: u32 = T_SHIFT + 32;

impl Packed {
    /// # Panics
    ///
    /// When the customer or the chain does not fit: customers are below
    /// 2 × [`crate::sim`]'s pool of 4·10⁹ and chains are 48-bit ids, so
    /// that would be a bug.
    fn new(key: u64, t: u32, chain: u64) -> Packed {
        assert!(
            key < 1 << KEY_BITS && chain < 1 << CHAIN_BITS,
            "repeat tracker: customer {key} or chain {chain} out of range"
        );
        Packed(u128::from(key) | u128::from(chain) << KEY_BITS | u128::from(t) << T_SHIFT)
    }

    fn key(self) -> u64 {
        (self.0 & ((1 << KEY_BITS) - 1)) as u64
    }

    fn chain(self) -> u64 {
        ((self.0 >> KEY_BITS) & ((1 << CHAIN_BITS) - 1)) as u64
    }

    fn t(self) -> u32 {
        (self.0 >> T_SHIFT) as u32
    }

    fn more(self) -> bool {
        self.0 >> MORE_BIT & 1 == 1
    }

    fn with_more(self, more: bool) -> Packed {
        Packed(self.0 & !(1 << MORE_BIT) | u128::from(more) << MORE_BIT)
    }
}

/// The table's hash of a customer key: the keys are already well mixed (a
/// customer is a 64-bit mix modulo the pool), so one multiply spreads them
/// over the table's slots (low bits) and tags (top bits), as `IdHasher`.
fn hash_key(key: u64) -> u64 {
    (key ^ (key >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Keeps the contacts of one customer (`p` and its others in `more`) for
/// which `keep` is true; `keep` is called once for each, in no particular
/// order. Returns whether any is left (then in `p`, and the others in
/// `more` with `p`'s flag set).
fn retain_customer(
    p: &mut Packed,
    more: &mut HashMap<u64, Vec<(u32, u64)>, BuildHasherDefault<IdHasher>>,
    mut keep: impl FnMut(u32, u64) -> bool,
) -> bool {
    let first = keep(p.t(), p.chain());
    if !p.more() {
        return first;
    }
    let key = p.key();
    let Some(rest) = more.get_mut(&key) else {
        *p = p.with_more(false);
        return first;
    };
    rest.retain(|&(t, c)| keep(t, c));
    let next = if first { None } else { rest.pop() };
    let has_more = !rest.is_empty();
    if !has_more {
        more.remove(&key);
    }
    match (first, next) {
        (true, _) => {}
        (false, Some((t, c))) => *p = Packed::new(key, t, c),
        (false, None) => return false,
    }
    *p = p.with_more(has_more);
    true
}

const RING: usize = REPEAT_WINDOW_S as usize + 1;

/// Measures, over rows streamed in arrival order, the share of handled
/// inbound contacts after which the same customer has another inbound
/// contact outside its own chain within the window: 1 − FCR of SPEC §8,
/// over the contacts whose window ends by the last arrival (the eligible).
pub(crate) struct RepeatTracker {
    /// Per customer: the first unresolved handled inbound contact.
    pending: HashTable<Packed>,
    /// The customers with more than one: their others (arrival, chain).
    more: HashMap<u64, Vec<(u32, u64)>, BuildHasherDefault<IdHasher>>,
    /// Outcomes (contacts, followed) already known to be eligible.
    eligible: (u64, u64),
    /// Outcomes of contacts whose eligibility is not known yet, by arrival
    /// second modulo the ring size.
    ring: Vec<(u32, u32)>,
    /// Every arrival up to this second has been moved out of the ring.
    drained: Option<u32>,
    now: u32,
    last_purge: u32,
}

impl RepeatTracker {
    pub(crate) fn new() -> RepeatTracker {
        RepeatTracker {
            pending: HashTable::new(),
            more: HashMap::default(),
            eligible: (0, 0),
            ring: vec![(0, 0); RING],
            drained: None,
            now: 0,
            last_purge: 0,
        }
    }

    fn resolve(
        eligible: &mut (u64, u64),
        ring: &mut [(u32, u32)],
        now: u32,
        t0: u32,
        followed: bool,
    ) {
        if t0 + REPEAT_WINDOW_S <= now {
            eligible.0 += 1;
            eligible.1 += u64::from(followed);
        } else {
            let slot = &mut ring[t0 as usize % RING];
            slot.0 += 1;
            slot.1 += u32::from(followed);
        }
    }

    /// Moves ring outcomes that became eligible at time `now`.
    fn drain(&mut self) {
        let Some(upto) = self.now.checked_sub(REPEAT_WINDOW_S) else {
            return;
        };
        let from = self.drained.map_or(0, |d| d + 1);
        for s in from..=upto {
            let slot = &mut self.ring[s as usize % RING];
            self.eligible.0 += u64::from(slot.0);
            self.eligible.1 += u64::from(slot.1);
            *slot = (0, 0);
        }
        if from <= upto {
            self.drained = Some(upto);
        }
    }

    pub(crate) fn feed(&mut self, rec: RepeatRec) {
        debug_assert!(rec.t >= self.now, "rows must arrive in order");
        if rec.t > self.now {
            self.now = rec.t;
            self.drain();
        }
        let RepeatTracker {
            pending,
            more,
            eligible,
            ring,
            now,
            ..
        } = self;
        let key = rec.customer;
        match pending.entry(hash_key(key), |p| p.key() == key, |p| hash_key(p.key())) {
            table::Entry::Occupied(mut o) => {
                let left = retain_customer(o.get_mut(), more, |t0, chain0| {
                    if rec.t - t0 > REPEAT_WINDOW_S {
                        Self::resolve(eligible, ring, *now, t0, false);
                        false
                    } else if chain0 != rec.chain {
                        Self::resolve(eligible, ring, *now, t0, true);
                        false
                    } else {
                        true
                    }
                });
                match (left, rec.handled) {
                    (true, true) => {
                        more.entry(key).or_default().push((rec.t, rec.chain));
                        let p = o.get_mut();
                        *p = p.with_more(true);
                    }
                    (false, true) => *o.get_mut() = Packed::new(key, rec.t, rec.chain),
                    (false, false) => {
                        o.remove();
                    }
                    (true, false) => {}
                }
            }
            table::Entry::Vacant(v) => {
                if rec.handled {
                    v.insert(Packed::new(key, rec.t, rec.chain));
                }
            }
        }
        if self.now >= self.last_purge + 86_400 {
            self.purge(false);
            self.last_purge = self.now;
        }
    }

    /// Resolves pending contacts whose window has passed (all of them at the
    /// end), as not followed.
    fn purge(&mut self, all: bool) {
        let RepeatTracker {
            pending,
            more,
            eligible,
            ring,
            now,
            ..
        } = self;
        pending.retain(|p| {
            retain_customer(p, more, |t0, _| {
                let expired = all || *now - t0 > REPEAT_WINDOW_S;
                if expired {
                    Self::resolve(eligible, ring, *now, t0, false);
                }
                !expired
            })
        });
    }

    /// The repeat rate over eligible contacts, and how many were eligible.
    pub(crate) fn finish(mut self) -> RepeatRate {
        self.purge(true);
        self.drain();
        let (n, followed) = self.eligible;
        RepeatRate::of(followed, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obviously-correct quadratic definition.
    fn naive(recs: &[RepeatRec]) -> RepeatRate {
        let Some(last) = recs.iter().map(|r| r.t).max() else {
            return RepeatRate {
                rate: None,
                eligible: 0,
            };
        };
        let (mut n, mut f) = (0u64, 0u64);
        for (i, x) in recs.iter().enumerate() {
            if !x.handled || x.t + REPEAT_WINDOW_S > last {
                continue;
            }
            n += 1;
            let followed = recs.iter().enumerate().any(|(j, y)| {
                j > i
                    && y.customer == x.customer
                    && y.chain != x.chain
                    && y.t - x.t <= REPEAT_WINDOW_S
            });
            f += u64::from(followed);
        }
        RepeatRate {
            rate: (n > 0).then(|| f as f64 / n as f64),
            eligible: n,
        }
    }

    proptest! {
        #[test]
        fn streaming_equals_naive(
            mut recs in proptest::collection::vec((0u32..800_000, 0u64..6, 0u64..40, any::<bool>()), 0..120)
        ) {
            recs.sort_by_key(|r| r.0);
            let recs: Vec<RepeatRec> = recs
                .into_iter()
                .map(|(t, customer, chain, handled)| RepeatRec { t, customer, chain, handled })
                .collect();
            let mut tracker = RepeatTracker::new();
            for r in &recs {
                tracker.feed(*r);
            }
            prop_assert_eq!(tracker.finish(), naive(&recs));
        }
    }
}
