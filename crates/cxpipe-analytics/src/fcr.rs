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

use crate::Error;

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
    let bytes: &[u8; 32] = s.as_bytes().try_into().ok()?;
    // Branch-free: a digit's value, or 0x80 for anything that is not one.
    const DIGITS: [u8; 256] = {
        let mut t = [0x80u8; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let half = |digits: &[u8]| {
        let (mut v, mut bad) = (0u64, 0u8);
        for &b in digits {
            let d = DIGITS[b as usize];
            bad |= d;
            v = (v << 4) | u64::from(d & 0x0f);
        }
        (v, bad)
    };
    let (hi, bad_hi) = half(&bytes[..16]);
    let (lo, bad_lo) = half(&bytes[16..]);
    ((bad_hi | bad_lo) & 0x80 == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
}

/// "No group": the contact is a possible repeat, not a subject.
pub const NOT_A_SUBJECT: u32 = u32::MAX;

/// One inbound contact with a customer, 40 bytes: the customer as a
/// number, the arrival, a 64-bit hash of the chain, and the group it counts
/// for as an FCR subject ([`NOT_A_SUBJECT`] when it is only a possible
/// repeat).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    hi: u64,
    lo: u64,
    t: i64,
    chain: u64,
    slot: u32,
    /// 0: a pseudonym's own 128 bits; 1: a dense number for any other key.
    foreign: u8,
}

impl Candidate {
    fn order(&self) -> (u8, u64, u64, i64) {
        (self.foreign, self.hi, self.lo, self.t)
    }

    /// Its partition once candidates spill: every contact of one customer
    /// has the same (pseudonyms by their top bits, dense numbers by their
    /// low bits).
    fn partition(&self) -> usize {
        let bits = if self.foreign == 0 {
            self.hi >> (64 - PARTITIONS.trailing_zeros())
        } else {
            self.lo
        };
        bits as usize % PARTITIONS
    }

    fn to_bytes(self) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        b[0..8].copy_from_slice(&self.hi.to_le_bytes());
        b[8..16].copy_from_slice(&self.lo.to_le_bytes());
        b[16..24].copy_from_slice(&self.t.to_le_bytes());
        b[24..32].copy_from_slice(&self.chain.to_le_bytes());
        b[32..36].copy_from_slice(&self.slot.to_le_bytes());
        b[36] = self.foreign;
        b
    }

    fn from_bytes(b: &[u8; RECORD]) -> Candidate {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        Candidate {
            hi: u64_at(0),
            lo: u64_at(8),
            t: u64_at(16) as i64,
            chain: u64_at(24),
            slot: u32::from_le_bytes(b[32..36].try_into().unwrap_or_default()),
            foreign: b[36],
        }
    }
}

/// Candidates held in memory before they go to partition files: 12M
/// candidates, 480 MiB, so a month of 10M contacts never touches the disk.
const IN_MEMORY: usize = 12 << 20;
/// Partition files once candidates spill: each customer's contacts all go
/// to one, by the top bits of its key, so each is sorted and walked alone.
const PARTITIONS: usize = 64;
/// One candidate in a partition file.
const RECORD: usize = 40;

/// The inbound contacts with a customer, collected batch by batch, then
/// sorted and walked once by [`resolved_by`].
///
/// Memory is bounded: past [`IN_MEMORY`] candidates, they are written to
/// [`PARTITIONS`] anonymous temporary files (in `TMPDIR`, removed by the
/// system when closed, even if the process is killed) by the top bits of
/// the customer key, and resolved one partition at a time, two side by
/// side. 100M contacts take about 4 GB of temporary disk instead of 4 GB
/// of memory.
///
/// Chains are compared by a 64-bit hash. Only contacts of one customer are
/// compared with each other, so a collision (two chains taken for one,
/// about one chance in 10^12 for a dataset of 10 million contacts) is not
/// a practical concern; it would only ever turn a repeat into a resolution.
#[derive(Debug)]
pub struct Candidates {
    rows: Vec<Candidate>,
    /// Dense numbers for keys that are not pseudonyms.
    foreign: rustc_hash::FxHashMap<String, u64>,
    /// How many candidates are held before they spill.
    limit: usize,
    /// The partition files, once candidates have spilled.
    spill: Option<Vec<std::io::BufWriter<std::fs::File>>>,
}

impl Default for Candidates {
    fn default() -> Candidates {
        Candidates::with_limit(IN_MEMORY)
    }
}

/// A failure writing or reading the partition files.
fn spill_error(e: std::io::Error) -> Error {
    Error::Io {
        context: format!(
            "spilling FCR candidates to the temporary folder {} (set TMPDIR to a folder with room: about 40 bytes a contact)",
            std::env::temp_dir().display()
        ),
        source: e,
    }
}

impl Candidates {
    /// Candidates that spill to disk past `limit` in memory.
    pub fn with_limit(limit: usize) -> Candidates {
        Candidates {
            rows: Vec::new(),
            foreign: Default::default(),
            limit: limit.max(1),
            spill: None,
        }
    }

    /// Adds a contact: `slot` is the group it counts for as a subject, or
    /// [`NOT_A_SUBJECT`].
    pub fn push(&mut self, customer: &str, t: i64, chain: &str, slot: u32) -> Result<(), Error> {
        let (foreign, key) = match hex_key(customer) {
            Some(k) => (0, k),
            None => {
                let next = self.foreign.len() as u64;
                let id = match self.foreign.get(customer) {
                    Some(&id) => id,
                    None => *self.foreign.entry(customer.to_string()).or_insert(next),
                };
                (1, u128::from(id))
            }
        };
        if self.rows.len() == self.rows.capacity() {
            // Grown by hand: doubling past the limit would hold up to twice
            // its memory.
            let want = (self.rows.capacity() * 2)
                .max(1 << 10)
                .min(self.limit)
                .max(self.rows.len() + 1);
            self.rows.reserve_exact(want - self.rows.len());
        }
        self.rows.push(Candidate {
            hi: (key >> 64) as u64,
            lo: key as u64,
            t,
            chain: xxhash_rust::xxh3::xxh3_64(chain.as_bytes()),
            slot,
            foreign,
        });
        if self.rows.len() >= self.limit {
            self.spill_rows().map_err(spill_error)?;
        }
        Ok(())
    }

    /// Moves the candidates in memory to their partition files.
    fn spill_rows(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        if self.spill.is_none() {
            let mut files = Vec::with_capacity(PARTITIONS);
            for _ in 0..PARTITIONS {
                files.push(std::io::BufWriter::with_capacity(
                    1 << 16,
                    tempfile::tempfile()?,
                ));
            }
            self.spill = Some(files);
        }
        let files = self.spill.as_mut().expect("partition files were just made");
        for c in self.rows.drain(..) {
            files[c.partition()].write_all(&c.to_bytes())?;
        }
        Ok(())
    }

    /// Sorts by (customer, arrival) and walks the contacts, in parallel on
    /// rayon's pool (plain Rust, never called from inside polars' pool);
    /// calls `subject(slot, resolved)` for every subject.
    pub fn resolve(
        mut self,
        window_us: i64,
        mut subject: impl FnMut(u32, bool),
    ) -> Result<(), Error> {
        use rayon::prelude::*;
        self.foreign = Default::default();
        if self.spill.is_none() {
            resolve_rows(&mut self.rows, window_us, true, &mut subject);
            return Ok(());
        }
        self.spill_rows().map_err(spill_error)?;
        self.rows = Vec::new();
        let mut files = self.spill.take().unwrap_or_default().into_iter();
        // Two partitions side by side, each sorted and walked on its own.
        loop {
            let pair: Vec<_> = files.by_ref().take(2).collect();
            if pair.is_empty() {
                return Ok(());
            }
            let results: Vec<Result<Vec<(u32, bool)>, Error>> = pair
                .into_par_iter()
                .map(|f| {
                    let mut rows = read_partition(f).map_err(spill_error)?;
                    let mut out = Vec::new();
                    resolve_rows(&mut rows, window_us, false, &mut |slot, ok| {
                        out.push((slot, ok))
                    });
                    Ok(out)
                })
                .collect();
            for r in results {
                for (slot, ok) in r? {
                    subject(slot, ok);
                }
            }
        }
    }
}

/// Sorts `rows` by (customer, arrival) and walks them, the two halves
/// (split between customers) side by side when `parallel`; calls
/// `subject(slot, resolved)` for every subject.
fn resolve_rows(
    rows: &mut [Candidate],
    window_us: i64,
    parallel: bool,
    subject: &mut dyn FnMut(u32, bool),
) {
    use rayon::slice::ParallelSliceMut;
    if parallel {
        rows.par_sort_unstable_by_key(Candidate::order);
    } else {
        rows.sort_unstable_by_key(Candidate::order);
    }
    let rows = &rows[..];
    let same = |a: &Candidate, b: &Candidate| (a.foreign, a.hi, a.lo) == (b.foreign, b.hi, b.lo);
    let mut split = if parallel { rows.len() / 2 } else { 0 };
    while split > 0 && split < rows.len() && same(&rows[split - 1], &rows[split]) {
        split += 1;
    }
    let walk = |part: &[Candidate]| {
        resolved_by(
            part.len(),
            |j| (part[j].foreign, part[j].hi, part[j].lo),
            |j| part[j].t,
            |j| part[j].chain,
            window_us,
        )
    };
    let (first, second) = rows.split_at(split);
    let (a, b) = rayon::join(|| walk(first), || walk(second));
    for (c, ok) in rows.iter().zip(a.into_iter().chain(b)) {
        if c.slot != NOT_A_SUBJECT {
            subject(c.slot, ok);
        }
    }
}

/// The candidates of one partition file, read back.
fn read_partition(f: std::io::BufWriter<std::fs::File>) -> std::io::Result<Vec<Candidate>> {
    use std::io::{Read, Seek};
    let mut f = f
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    let len = f.seek(std::io::SeekFrom::End(0))? as usize;
    f.seek(std::io::SeekFrom::Start(0))?;
    let mut rows = Vec::with_capacity(len / RECORD);
    let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
    let mut rec = [0u8; RECORD];
    for _ in 0..len / RECORD {
        reader.read_exact(&mut rec)?;
        rows.push(Candidate::from_bytes(&rec));
    }
    Ok(rows)
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
        assert_eq!(hex_key("ffffffffffffffffffffffffffffffff"), Some(u128::MAX));
        assert_eq!(hex_key("000000000000000000000000000000g0"), None);
        assert_eq!(hex_key("00000000000000000000000000000é0"), None);
    }

    /// `Candidates::resolve` on `(customer, time, chain, subject?)` in any
    /// order: `(index, resolved)` for each subject, sorted by index.
    /// `limit` is how many candidates stay in memory before they spill to
    /// partition files.
    fn resolve_all(
        rows: &[(&str, i64, &str, bool)],
        window: i64,
        limit: usize,
    ) -> Vec<(u32, bool)> {
        let mut c = Candidates::with_limit(limit);
        for (i, &(cust, t, chain, subject)) in rows.iter().enumerate() {
            c.push(
                cust,
                t,
                chain,
                if subject { i as u32 } else { NOT_A_SUBJECT },
            )
            .expect("pushing a candidate");
        }
        let spilled = c.spill.is_some();
        assert_eq!(
            spilled,
            rows.len() >= limit,
            "spilled at {limit} with {} rows",
            rows.len()
        );
        let mut out = Vec::new();
        c.resolve(window, |slot, ok| out.push((slot, ok)))
            .expect("resolving the candidates");
        out.sort();
        out
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

        /// The parallel sort and walk over mixed keys (pseudonyms with
        /// either first bit, and foreign keys) in any input order, in
        /// memory or spilled to partition files (from a limit of one
        /// candidate, which spills every push, to none).
        #[test]
        fn candidates_equal_the_quadratic_definition(
            rows in prop::collection::vec((0usize..8, 0i64..40, 0u8..4, any::<bool>()), 0..80),
            window in 0i64..30,
            limit in prop::sample::select(vec![1usize, 2, 7, 30, usize::MAX]),
        ) {
            let names = [
                "0000000000000000000000000000000a",
                "8000000000000000000000000000000a",
                "ffffffffffffffffffffffffffffffff",
                "alice",
                "Bob",
                "0000000000000000000000000000000A",
                "fc00000000000000000000000000000a",
                "fc00000000000000000000000000000b",
            ];
            let chains = ["w", "x", "y", "z"];
            let input: Vec<(&str, i64, &str, bool)> = rows
                .iter()
                .map(|&(c, t, ch, s)| (names[c], t, chains[ch as usize], s))
                .collect();
            let customers: Vec<&str> = input.iter().map(|r| r.0).collect();
            let times: Vec<i64> = input.iter().map(|r| r.1).collect();
            let chain: Vec<&str> = input.iter().map(|r| r.2).collect();
            let want: Vec<(u32, bool)> = naive(&customers, &times, &chain, window)
                .into_iter()
                .enumerate()
                .filter(|&(i, _)| input[i].3)
                .map(|(i, ok)| (i as u32, ok))
                .collect();
            prop_assert_eq!(resolve_all(&input, window, limit), want);
        }
    }
}
