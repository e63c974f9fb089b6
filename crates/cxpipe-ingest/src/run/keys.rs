//! How this run fills the dedupe entries of `dedupe.rs`: `ord` is
//! `(file_idx + 1) << 40 | line` for rows of this run and 0 for rows already
//! in the dataset, so the later line, file or run wins; `loc` is
//! `part_id << 32 | row` for a staged part, or
//! `EXISTING | existing_idx << 32 | row` for a file already in the dataset.

use xxhash_rust::xxh3::xxh3_128;

use crate::dedupe::{Entry, SOURCE_SHIFT, source_of};
use crate::write::part::RowPlace;

/// Marks a dedupe location in a file that was already in the dataset.
const EXISTING: u64 = 1 << 63;

/// The version of a record whose source has none: it loses to any
/// versioned record of the same id, and among unversioned records the
/// later one wins.
pub(crate) const NO_VERSION: i64 = i64::MIN;

/// The entry of a row this run wrote.
pub(crate) fn staged(id: &str, version: i64, file_idx: u32, line: u64, at: RowPlace) -> Entry {
    Entry {
        fp: xxh3_128(id.as_bytes()),
        ver: version,
        ord: order(file_idx, line),
        loc: u64::from(at.part) << 32 | u64::from(at.row),
    }
}

/// The order of line `line` of input file `file_idx`.
pub(crate) fn order(file_idx: u32, line: u64) -> u64 {
    (u64::from(file_idx) + 1) << SOURCE_SHIFT | line
}

/// The input file and line of an order.
pub(crate) fn file_and_line(ord: u64) -> (Option<usize>, u64) {
    (file_of(ord), ord & ((1 << SOURCE_SHIFT) - 1))
}

/// The entry of row `row` of the dataset's file number `file`.
pub(crate) fn existing(id: &str, file: usize, row: u32) -> Entry {
    Entry {
        fp: xxh3_128(id.as_bytes()),
        ver: NO_VERSION,
        ord: 0,
        loc: existing_loc(file, row),
    }
}

/// The location of row `row` of the dataset's file number `file`.
pub(crate) fn existing_loc(file: usize, row: u32) -> u64 {
    EXISTING | (file as u64) << 32 | u64::from(row)
}

/// The input file of an entry's order (`None`: a row already stored).
pub(crate) fn file_of(ord: u64) -> Option<usize> {
    let source = source_of(ord);
    (source != 0).then(|| (source - 1) as usize)
}

/// Where an entry's row is stored.
pub(crate) enum Loc {
    /// Row `row` of this run's part `part`.
    Staged {
        /// The part's id.
        part: u32,
        /// The row's index.
        row: u32,
    },
    /// Row `row` of the dataset's file number `file`.
    Existing {
        /// Index into the dataset's Parquet files.
        file: usize,
        /// The row's index.
        row: u32,
    },
}

/// Decodes an entry's location.
pub(crate) fn loc(loc: u64) -> Loc {
    let row = (loc & 0xffff_ffff) as u32;
    if loc & EXISTING != 0 {
        Loc::Existing {
            file: ((loc & !EXISTING) >> 32) as usize,
            row,
        }
    } else {
        Loc::Staged {
            part: (loc >> 32) as u32,
            row,
        }
    }
}
