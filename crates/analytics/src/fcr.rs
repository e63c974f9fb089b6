//! First-contact resolution (SPEC §8 `fcr_rate`): does the same customer come
//! back, on another chain, within the window?
//!
//! The query sorts the inbound contacts that have a `customer_key` by
//! (customer, arrival); [`resolved`] then walks each customer's contacts once
//! from the last to the first, remembering the earliest later arrival and the
//! earliest later arrival on a *different* chain than that one. That is
//! enough to answer "the first later contact outside my own chain" for every
//! contact in O(n), with contacts at the same instant never counting as later
//! than each other.

/// For each contact (sorted by customer, then arrival): `true` when no
/// contact of the same customer on another chain arrives strictly later
/// and at most `window_us` after it.
pub fn resolved<K: PartialEq, C: PartialEq + Copy>(
    customers: &[K],
    times: &[i64],
    chains: &[C],
    window_us: i64,
) -> Vec<bool> {
    debug_assert!(customers.len() == times.len() && chains.len() == times.len());
    resolved_by(
        times.len(),
        |i| &customers[i],
        |i| times[i],
        |i| chains[i],
        window_us,
    )
}

/// [`resolved`] over `n` contacts given by accessors, so that callers with
/// the contacts in another shape need not copy them into slices.
pub fn resolved_by<K: PartialEq, C: PartialEq + Copy>(
    n: usize,
    customer: impl Fn(usize) -> K,
    time: impl Fn(usize) -> i64,
    chain: impl Fn(usize) -> C,
    window_us: i64,
) -> Vec<bool> {
    let mut out = vec![true; n];
    // The earliest later contact, and the earliest later one whose chain
    // differs from that contact's chain.
    let mut first: Option<(i64, C)> = None;
    let mut other: Option<i64> = None;
    let mut end = n;
    while end > 0 {
        let last = end - 1;
        if end == n || customer(end) != customer(last) {
            first = None;
            other = None;
        }
        // [start, end): contacts of one customer at one instant.
        let mut start = last;
        while start > 0 && time(start - 1) == time(last) && customer(start - 1) == customer(last) {
            start -= 1;
        }
        let t = time(last);
        for (i, slot) in out.iter_mut().enumerate().take(end).skip(start) {
            let next = match first {
                Some((t1, c1)) if c1 != chain(i) => Some(t1),
                Some(_) => other,
                None => None,
            };
            *slot = next.is_none_or(|next| next - t > window_us);
        }
        for i in start..end {
            let c = chain(i);
            if let Some((t1, c1)) = first
                && c1 != c
            {
                other = Some(t1);
            }
            first = Some((t, c));
        }
        end = start;
    }
    out
}

/// A customer key as a number, exact for the dataset's pseudonyms (32
/// lower-case hex digits); `None` for anything else.
pub fn hex_key(s: &str) -> Option<u128> {
    if s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        u128::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(customers: &[&str], times: &[i64], chains: &[&str], window: i64) -> Vec<bool> {
        (0..times.len())
            .map(|i| {
                !(0..times.len()).any(|j| {
                    customers[j] == customers[i]
                        && chains[j] != chains[i]
                        && times[j] > times[i]
                        && times[j] - times[i] <= window
                })
            })
            .collect()
    }

    #[test]
    fn chain_legs_do_not_count_and_the_window_is_inclusive() {
        let customers = ["a", "a", "a", "a", "b"];
        let times = [0, 10, 20, 120, 15];
        let chains = ["x", "x", "y", "z", "q"];
        // a@0 (x): y at 20 is within 20 -> repeat. a@10 (x): y at 20 -> repeat.
        // a@20 (y): z at 120 is 100 later -> repeat with window 100, not with 99.
        assert_eq!(
            resolved(&customers, &times, &chains, 100),
            vec![false, false, false, true, true]
        );
        assert_eq!(
            resolved(&customers, &times, &chains, 99),
            vec![false, false, true, true, true]
        );
    }

    #[test]
    fn same_instant_is_not_later() {
        let customers = ["a", "a", "a"];
        let times = [5, 5, 5];
        let chains = ["x", "y", "x"];
        assert_eq!(resolved(&customers, &times, &chains, 100), vec![true; 3]);
    }

    #[test]
    fn hex_keys_are_exact() {
        assert_eq!(hex_key("0000000000000000000000000000000a"), Some(10));
        assert_eq!(hex_key("0000000000000000000000000000000A"), None);
        assert_eq!(hex_key("a"), None);
        assert_eq!(hex_key("+14155550101"), None);
    }

    proptest! {
        #[test]
        fn equals_the_quadratic_definition(
            mut rows in prop::collection::vec((0u8..4, 0i64..40, 0u8..4), 0..60),
            window in 0i64..30,
        ) {
            rows.sort_by_key(|&(c, t, _)| (c, t));
            let names = ["a", "b", "c", "d"];
            let customers: Vec<&str> = rows.iter().map(|r| names[r.0 as usize]).collect();
            let times: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let chains: Vec<&str> = rows.iter().map(|r| names[r.2 as usize]).collect();
            prop_assert_eq!(
                resolved(&customers, &times, &chains, window),
                naive(&customers, &times, &chains, window)
            );
        }
    }
}
