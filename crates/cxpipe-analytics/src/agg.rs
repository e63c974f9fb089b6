//! The group-by of the KPI query, done in Rust over batches of rows.
//!
//! polars computes the per-row key and flag columns (see `kpi.rs`); this
//! module gives each row a group number and adds its flags and durations to
//! that group's sums. Groups live across batches, so the dataset is read a
//! batch at a time and only the sums stay in memory. Every key column
//! becomes an `i64` per row: categorical dimensions get a dense number per
//! distinct string (valid across batches, whatever codes polars used), time
//! keys are already integers, and a null key is [`NULL_KEY`].

use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::Error;

/// A row that counts for no group.
pub const NO_GROUP: u32 = u32::MAX;

/// A null key value (no day, instant, index or dimension number is this).
const NULL_KEY: i64 = i64::MIN;

/// What a key column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A string (categorical) dimension; output as a string column.
    Dim,
    /// An integer (day, instant, index); output as an `Int64` column.
    Int,
}

/// Keys of at most this many columns are fixed arrays (unused places 0).
const SHORT: usize = 4;

/// Group numbers by key: in `short` when a key has at most [`SHORT`]
/// columns, else in `wide`. Fx (rustc's hash): a multiply and a rotate per
/// word, all that integer keys need, far cheaper than the default SipHash.
#[derive(Default)]
struct Index {
    short: FxHashMap<[i64; SHORT], u32>,
    wide: FxHashMap<Box<[i64]>, u32>,
}

/// Sums per group of the per-row columns, plus sums added by hand.
pub struct Groups {
    keys: Vec<(PlSmallStr, KeyKind)>,
    /// Distinct strings of each dimension key (empty for integer keys).
    dims: Vec<Strings>,
    /// Output name and, unless it is added by hand, the per-row column.
    sums: Vec<(PlSmallStr, Option<PlSmallStr>)>,
    /// Group numbers by key.
    index: Index,
    /// `keys.len()` values per group.
    key_values: Vec<i64>,
    /// `sums.len()` values per group.
    totals: Vec<i64>,
}

impl Groups {
    /// Groups by `keys`, summing `sums` (output name, per-row column; `None`
    /// for a sum that [`Groups::add_to`] fills).
    pub fn new(
        keys: Vec<(PlSmallStr, KeyKind)>,
        sums: Vec<(PlSmallStr, Option<PlSmallStr>)>,
    ) -> Groups {
        Groups {
            dims: keys.iter().map(|_| Strings::default()).collect(),
            keys,
            sums,
            index: Index::default(),
            key_values: Vec::new(),
            totals: Vec::new(),
        }
    }

    /// The number of groups so far.
    pub fn len(&self) -> usize {
        self.index.short.len() + self.index.wide.len()
    }

    /// The index of the sum named `name`.
    pub fn sum_index(&self, name: &str) -> Option<usize> {
        self.sums.iter().position(|(n, _)| n == name)
    }

    /// Gives every row of `df` its group (new groups are created as needed),
    /// or [`NO_GROUP`] where `keep` says no.
    pub fn assign(
        &mut self,
        df: &DataFrame,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<u32>, Error> {
        let mut columns = Vec::with_capacity(self.keys.len());
        for j in 0..self.keys.len() {
            columns.push(self.key_column(df, j)?);
        }
        let mut slots = Vec::with_capacity(df.height());
        if columns.len() <= SHORT {
            // The common case (at most four keys): the key is a fixed array,
            // compared and hashed inline, with nothing allocated per row.
            let mut last: Option<([i64; SHORT], u32)> = None;
            for i in 0..df.height() {
                if !keep(i) {
                    slots.push(NO_GROUP);
                    continue;
                }
                let mut key = [0i64; SHORT];
                for (k, c) in key.iter_mut().zip(&columns) {
                    *k = c[i];
                }
                let slot = match last {
                    Some((prev, slot)) if prev == key => slot,
                    _ => {
                        let slot = match self.index.short.get(&key) {
                            Some(&slot) => slot,
                            None => {
                                let slot = self.new_slot(&key[..columns.len()])?;
                                self.index.short.insert(key, slot);
                                slot
                            }
                        };
                        last = Some((key, slot));
                        slot
                    }
                };
                slots.push(slot);
            }
            return Ok(slots);
        }
        let mut key = vec![0i64; columns.len()];
        let mut last: Option<u32> = None;
        for i in 0..df.height() {
            if !keep(i) {
                slots.push(NO_GROUP);
                continue;
            }
            let mut changed = last.is_none();
            for (k, c) in key.iter_mut().zip(&columns) {
                changed |= *k != c[i];
                *k = c[i];
            }
            let slot = match last {
                Some(slot) if !changed => slot,
                _ => {
                    let slot = match self.index.wide.get(&key[..]) {
                        Some(&slot) => slot,
                        None => {
                            let slot = self.new_slot(&key)?;
                            self.index.wide.insert(key.as_slice().into(), slot);
                            slot
                        }
                    };
                    last = Some(slot);
                    slot
                }
            };
            slots.push(slot);
        }
        Ok(slots)
    }

    /// The next group's number, its key and zero sums stored.
    fn new_slot(&mut self, key: &[i64]) -> Result<u32, Error> {
        let slot = u32::try_from(self.len())
            .ok()
            .filter(|&s| s != NO_GROUP)
            .ok_or_else(|| {
                Error::Usage("more than 4 billion groups; choose a coarser --by".into())
            })?;
        self.key_values.extend_from_slice(key);
        self.totals.extend(std::iter::repeat_n(0, self.sums.len()));
        Ok(slot)
    }

    /// Key column `j` of `df` as one `i64` per row.
    fn key_column(&mut self, df: &DataFrame, j: usize) -> Result<Vec<i64>, Error> {
        let (name, kind) = &self.keys[j];
        let err = || Error::polars(format!("grouping by {name}"));
        let c = df.column(name).map_err(err())?;
        let mut out = Vec::with_capacity(c.len());
        match kind {
            KeyKind::Int => {
                let c = c.cast(&DataType::Int64).map_err(err())?;
                out.extend(
                    c.i64()
                        .map_err(err())?
                        .iter()
                        .map(|v| v.unwrap_or(NULL_KEY)),
                );
            }
            KeyKind::Dim => {
                let strings = &mut self.dims[j];
                if let Ok(cat) = c.cat32() {
                    // Codes are translated once per batch, on first sight.
                    let mapping = cat.get_mapping();
                    let mut ids: Vec<u32> = Vec::new();
                    for code in cat.physical().iter() {
                        let Some(code) = code else {
                            out.push(NULL_KEY);
                            continue;
                        };
                        let at = code as usize;
                        if at >= ids.len() {
                            ids.resize(at + 1, NO_GROUP);
                        }
                        if ids[at] == NO_GROUP {
                            let s = mapping.cat_to_str(code).ok_or_else(|| {
                                Error::Usage(format!("{name}: category {code} has no string"))
                            })?;
                            ids[at] = strings.id(s);
                        }
                        out.push(i64::from(ids[at]));
                    }
                } else {
                    let c = c.cast(&DataType::String).map_err(err())?;
                    for s in c.str().map_err(err())?.iter() {
                        out.push(s.map_or(NULL_KEY, |s| i64::from(strings.id(s))));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Adds the per-row columns of `df` to the sums of the rows' groups.
    /// Boolean columns count their `true` rows; integer columns add their
    /// non-null values.
    pub fn add(&mut self, df: &DataFrame, slots: &[u32]) -> Result<(), Error> {
        let width = self.sums.len();
        for (j, (out, src)) in self.sums.iter().enumerate() {
            let Some(src) = src else { continue };
            let err = || Error::polars(format!("summing {out}"));
            let c = df.column(src).map_err(err())?;
            let totals = &mut self.totals;
            let mut overflow = false;
            let mut add = |row: usize, v: i64| {
                let slot = slots[row];
                if slot != NO_GROUP {
                    let t = &mut totals[slot as usize * width + j];
                    match t.checked_add(v) {
                        Some(sum) => *t = sum,
                        None => overflow = true,
                    }
                }
            };
            let mut row = 0;
            if c.dtype() == &DataType::Boolean {
                for arr in c.bool().map_err(err())?.downcast_iter() {
                    let set = match arr.validity() {
                        Some(valid) => arr.values() & valid,
                        None => arr.values().clone(),
                    };
                    for k in set.true_idx_iter() {
                        add(row + k, 1);
                    }
                    row += arr.len();
                }
            } else {
                let c = c.cast(&DataType::Int64).map_err(err())?;
                for arr in c.i64().map_err(err())?.downcast_iter() {
                    let values = arr.values().as_slice();
                    match arr.validity() {
                        None => values
                            .iter()
                            .enumerate()
                            .for_each(|(k, &v)| add(row + k, v)),
                        Some(valid) => {
                            for (k, (&v, ok)) in values.iter().zip(valid.iter()).enumerate() {
                                if ok {
                                    add(row + k, v);
                                }
                            }
                        }
                    }
                    row += arr.len();
                }
            }
            // A sum never wraps silently (it gave a negative AHT): a value
            // that large is not a duration a contact can have.
            if overflow {
                return Err(Error::Broken(format!(
                    "the sum of {out} over a group does not fit in 64 bits: the dataset holds a value far beyond any real duration (ingest refuses durations over 7 days)"
                )));
            }
        }
        Ok(())
    }

    /// Adds `v` to sum `j` of group `slot`.
    pub fn add_to(&mut self, slot: u32, j: usize, v: i64) {
        self.totals[slot as usize * self.sums.len() + j] += v;
    }

    /// One row per group: the key columns, then the sums (`Int64`).
    pub fn into_frame(self) -> Result<DataFrame, Error> {
        let n = self.len();
        let (k, w) = (self.keys.len(), self.sums.len());
        let mut columns = Vec::with_capacity(k + w);
        for (j, (name, kind)) in self.keys.iter().enumerate() {
            let values = (0..n).map(|g| self.key_values[g * k + j]);
            let column = match kind {
                KeyKind::Int => {
                    let v: Vec<Option<i64>> =
                        values.map(|v| (v != NULL_KEY).then_some(v)).collect();
                    Column::new(name.clone(), v)
                }
                KeyKind::Dim => {
                    let names = &self.dims[j].names;
                    let v: Vec<Option<&str>> = values
                        .map(|v| (v != NULL_KEY).then(|| names[v as usize].as_str()))
                        .collect();
                    Column::new(name.clone(), v)
                }
            };
            columns.push(column);
        }
        for (j, (name, _)) in self.sums.iter().enumerate() {
            let v: Vec<i64> = (0..n).map(|g| self.totals[g * w + j]).collect();
            columns.push(Column::new(name.clone(), v));
        }
        DataFrame::new(n, columns).map_err(Error::polars("building the grouped KPI sums"))
    }
}

/// Dense numbers for the distinct strings of one dimension.
#[derive(Debug, Default)]
struct Strings {
    ids: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(s.to_string(), id);
        self.names.push(s.to_string());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(
        agents: &[Option<&str>],
        days: &[Option<i64>],
        flags: &[bool],
        ms: &[Option<i64>],
    ) -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("agent".into(), agents.to_vec()),
            Column::new("day".into(), days.to_vec()),
            Column::new("flag".into(), flags.to_vec()),
            Column::new("ms".into(), ms.to_vec()),
        ])
        .expect("frame")
    }

    fn strings<'a>(df: &'a DataFrame, name: &str) -> Vec<Option<&'a str>> {
        let c = df.column(name).expect("column");
        c.str().expect("strings").iter().collect()
    }

    #[test]
    fn sums_per_group_across_batches_with_null_keys_and_skipped_rows() {
        let mut g = Groups::new(
            vec![("agent".into(), KeyKind::Dim), ("day".into(), KeyKind::Int)],
            vec![
                ("n".into(), Some("flag".into())),
                ("total".into(), Some("ms".into())),
                ("extra".into(), None),
            ],
        );
        let a = batch(
            &[Some("x"), Some("y"), Some("x"), None],
            &[Some(1), Some(1), Some(1), None],
            &[true, false, true, true],
            &[Some(10), Some(20), None, Some(40)],
        );
        let slots = g.assign(&a, |_| true).expect("assign");
        assert_eq!(slots, vec![0, 1, 0, 2]);
        g.add(&a, &slots).expect("add");
        // Second batch: y on day 2 is new; x on day 1 adds up; row 1 skipped.
        let b = batch(
            &[Some("y"), Some("x"), Some("x")],
            &[Some(2), Some(1), Some(1)],
            &[true, true, false],
            &[Some(5), Some(7), Some(1000)],
        );
        let slots = g.assign(&b, |i| i != 2).expect("assign");
        assert_eq!(slots, vec![3, 0, NO_GROUP]);
        g.add(&b, &slots).expect("add");
        g.add_to(3, g.sum_index("extra").expect("extra"), 9);
        let df = g.into_frame().expect("frame");
        let days: Vec<Option<i64>> = df
            .column("day")
            .expect("test")
            .i64()
            .expect("test")
            .iter()
            .collect();
        let col = |n: &str| -> Vec<i64> {
            df.column(n)
                .expect("test")
                .i64()
                .expect("test")
                .iter()
                .map(|v| v.expect("test"))
                .collect()
        };
        assert_eq!(
            strings(&df, "agent"),
            [Some("x"), Some("y"), None, Some("y")]
        );
        assert_eq!(days, [Some(1), Some(1), None, Some(2)]);
        assert_eq!(col("n"), [3, 0, 1, 1]);
        assert_eq!(col("total"), [17, 20, 40, 5]);
        assert_eq!(col("extra"), [0, 0, 0, 9]);
    }

    /// Keys of more than four columns take the other index; rows that
    /// differ only in the last key, and a skipped row between two of one
    /// key, are numbered as by hand.
    #[test]
    fn wide_keys_are_grouped_like_short_ones() {
        let names = ["k1", "k2", "k3", "k4", "k5"];
        let rows: [[i64; 5]; 5] = [
            [1, 2, 3, 4, 5],
            [1, 2, 3, 4, 6],
            [1, 2, 3, 4, 5],
            [9, 2, 3, 4, 5],
            [1, 2, 3, 4, 6],
        ];
        let df = DataFrame::new_infer_height(
            (0..5)
                .map(|j| {
                    Column::new(
                        names[j].into(),
                        rows.iter().map(|r| r[j]).collect::<Vec<_>>(),
                    )
                })
                .collect(),
        )
        .expect("frame");
        for width in [2, 5] {
            let keys = names[5 - width..]
                .iter()
                .map(|n| ((*n).into(), KeyKind::Int))
                .collect();
            let mut g = Groups::new(keys, vec![]);
            let slots = g.assign(&df, |i| i != 2).expect("assign");
            // By hand: with the last two keys, rows 0 and 3 are one group.
            let want = if width == 5 {
                [0, 1, NO_GROUP, 2, 1]
            } else {
                [0, 1, NO_GROUP, 0, 1]
            };
            assert_eq!(slots, want, "{width} keys");
            assert_eq!(g.len(), if width == 5 { 3 } else { 2 });
            let again = g.assign(&df, |_| true).expect("assign");
            assert_eq!(again[2], 0, "{width} keys: row 2 is row 0's key");
        }
    }

    #[test]
    fn a_sum_that_would_wrap_is_an_error() {
        let mut g = Groups::new(
            vec![("agent".into(), KeyKind::Dim)],
            vec![("total".into(), Some("ms".into()))],
        );
        let df = DataFrame::new_infer_height(vec![
            Column::new("agent".into(), ["x", "x"]),
            Column::new("ms".into(), [i64::MAX - 1, 2]),
        ])
        .expect("frame");
        let slots = g.assign(&df, |_| true).expect("assign");
        let e = g.add(&df, &slots).expect_err("i64::MAX - 1 + 2 overflows");
        assert!(e.to_string().contains("does not fit in 64 bits"), "{e}");
    }

    #[test]
    fn categorical_keys_are_numbered_by_string_not_by_code() {
        let cats = |v: &[&str]| {
            Column::new("agent".into(), v.to_vec())
                .cast(&DataType::from_categories(Categories::global()))
                .expect("categorical")
        };
        let mut g = Groups::new(vec![("agent".into(), KeyKind::Dim)], vec![]);
        let a = DataFrame::new_infer_height(vec![cats(&["p", "q"])]).expect("frame");
        let b = DataFrame::new_infer_height(vec![cats(&["q", "r", "p"])]).expect("frame");
        assert!(a.column("agent").expect("test").cat32().is_ok());
        assert_eq!(g.assign(&a, |_| true).expect("test"), [0, 1]);
        assert_eq!(g.assign(&b, |_| true).expect("test"), [1, 2, 0]);
        let df = g.into_frame().expect("test");
        assert_eq!(strings(&df, "agent"), [Some("p"), Some("q"), Some("r")]);
    }
}
