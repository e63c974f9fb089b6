//! Finding and scanning the dataset's Parquet files (SPEC §6).
//!
//! The dataset is partitioned by the UTC date of `arrived_at`
//! (`interactions/date=YYYY-MM-DD/part-*.parquet`), so a time range selects
//! whole partitions before polars opens a single file; the exact bounds are
//! then applied as a row filter (which polars also pushes down to the row
//! group statistics).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use cxpipe_dataset::ReadGuard;
use cxpipe_model::col;
use cxpipe_model::layout::partition_day_of_path;
use polars::prelude::{col as column, *};

use crate::Error;
use crate::time::DAY_US;

/// The arrival as µs UTC (`Int64`), the column [`Partitions::scan_range`] adds.
pub(crate) const T: &str = "__t";

/// A dataset file's size in bytes (0 when it cannot be read: reading it
/// then says why), what batches and windows of files are measured in.
pub(crate) fn file_bytes(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// What a [`ScanObserver`] calls with each batch of files read.
pub type OnBatch = dyn Fn(&[PathBuf]) + Send + Sync;

/// Told of each batch of files a query has read (for progress bars).
#[derive(Clone)]
pub struct ScanObserver(pub std::sync::Arc<OnBatch>);

impl std::fmt::Debug for ScanObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScanObserver")
    }
}

/// The day partitions of a dataset and their files.
#[derive(Debug, Clone)]
pub struct Partitions {
    root: PathBuf,
    parts: BTreeMap<i64, Vec<PathBuf>>,
    observer: Option<ScanObserver>,
}

impl Partitions {
    /// Lists the partitions of a dataset open for reading. Holding the
    /// [`ReadGuard`] is the proof that an interrupted ingest was finished or
    /// discarded and that no ingest runs while the query does: keep it alive
    /// as long as this source is used.
    pub fn from_guard(guard: &ReadGuard) -> Result<Partitions, Error> {
        let root = guard.root();
        let files = guard.parquet_files()?;
        let mut parts: BTreeMap<i64, Vec<PathBuf>> = BTreeMap::new();
        for rel in files {
            if let Some(day) = partition_day_of_path(&rel) {
                parts.entry(day).or_default().push(root.join(rel));
            }
        }
        Ok(Partitions {
            root: root.to_path_buf(),
            parts,
            observer: None,
        })
    }

    /// Calls `observer` with the files of every batch a query reads, once
    /// read (a progress bar's feed; queries may read the dataset in several
    /// passes).
    pub fn observe(&mut self, observer: ScanObserver) {
        self.observer = Some(observer);
    }

    /// Every Parquet file of the dataset.
    pub fn all_files(&self) -> impl Iterator<Item = &PathBuf> {
        self.parts.values().flatten()
    }

    /// The dataset folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the dataset has no rows at all.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// First and last partition day (UTC days since the epoch).
    pub fn day_range(&self) -> Option<(i64, i64)> {
        Some((*self.parts.keys().next()?, *self.parts.keys().next_back()?))
    }

    /// The runs of consecutive partition days (first, last) that can hold
    /// an arrival in `[lo_us, hi_us)`, in order. A query's time-zone work
    /// is bounded by these, not by the span from the first to the last day:
    /// one stray row in year 3000 adds one short run, not ten centuries.
    pub fn day_runs(&self, lo_us: Option<i64>, hi_us: Option<i64>) -> Vec<(i64, i64)> {
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for (&day, _) in self.parts_between(lo_us, hi_us) {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == day => *end = day,
                _ => runs.push((day, day)),
            }
        }
        runs
    }

    /// Runs of local days `(first, last)`, inclusive, that together cover
    /// `[from, to]` (unbounded: every day with data, and one more on each
    /// side for the zone's offset), each holding about `bytes` of Parquet
    /// files: a query whose groups grow with the rows (agent × queue ×
    /// interval) runs window by window in bounded memory. Only the
    /// partitions that exist are looked at, so a stray row centuries away
    /// adds one window, not one per day. A window ends at a partition's
    /// UTC day; in a zone other than UTC the partitions at its edges are
    /// read by both windows that touch them. Empty when no partition is in
    /// range.
    pub fn day_windows(&self, from: Option<i64>, to: Option<i64>, bytes: u64) -> Vec<(i64, i64)> {
        let lo = from.map(|f| f.saturating_sub(1));
        let hi = to.map(|t| t.saturating_add(1));
        let days: Vec<(i64, u64)> = self
            .parts
            .range(lo.unwrap_or(i64::MIN)..)
            .take_while(|(d, _)| hi.is_none_or(|h| **d <= h))
            .map(|(&d, files)| {
                let size = files.iter().map(|f| file_bytes(f)).sum();
                (d, size)
            })
            .collect();
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Vec::new();
        };
        let mut start = from.unwrap_or(first.0 - 1);
        let end = to.unwrap_or(last.0 + 1);
        let mut out = Vec::new();
        let mut acc = 0u64;
        for &(day, size) in &days {
            acc += size;
            if acc >= bytes && day >= start && day < end {
                out.push((start, day));
                start = day + 1;
                acc = 0;
            }
        }
        if start <= end {
            out.push((start, end));
        }
        out
    }

    /// The files of every partition that can hold an arrival in
    /// `[lo_us, hi_us)` (µs UTC; `None` = unbounded).
    pub fn files_between(&self, lo_us: Option<i64>, hi_us: Option<i64>) -> Vec<PathBuf> {
        self.parts_between(lo_us, hi_us)
            .flat_map(|(_, files)| files.iter().cloned())
            .collect()
    }

    /// The partitions (day, files) that can hold an arrival in
    /// `[lo_us, hi_us)` (µs UTC; `None` = unbounded), in day order.
    fn parts_between(
        &self,
        lo_us: Option<i64>,
        hi_us: Option<i64>,
    ) -> impl Iterator<Item = (&i64, &Vec<PathBuf>)> {
        let first = lo_us.map_or(i64::MIN, |lo| lo.div_euclid(DAY_US));
        let last = hi_us.map_or(i64::MAX, |hi| (hi - 1).div_euclid(DAY_US));
        // (`range(first..=last)` would panic when first > last.)
        self.parts
            .range(first..)
            .take_while(move |(day, _)| **day <= last)
    }

    /// A lazy scan over `files` (at least one).
    pub fn scan(&self, files: &[PathBuf]) -> Result<LazyFrame, Error> {
        let mut paths = Vec::with_capacity(files.len());
        for f in files {
            let p = PlRefPath::try_from_path(f)
                .map_err(Error::polars(format!("reading {}", f.display())))?;
            paths.push(p);
        }
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(false),
                ..HiveOptions::default()
            },
            glob: false,
            ..ScanArgsParquet::default()
        };
        LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
            .map_err(Error::polars(format!("scanning {}", self.root.display())))
    }

    /// A lazy scan over `files` with the arrival as µs UTC in column
    /// `__t`, keeping the arrivals in `[lo, hi)` (µs UTC; `None` = unbounded).
    pub fn scan_range(
        &self,
        files: &[PathBuf],
        lo: Option<i64>,
        hi: Option<i64>,
    ) -> Result<LazyFrame, Error> {
        let mut lf = self
            .scan(files)?
            .with_column(column(col::ARRIVED_AT).cast(DataType::Int64).alias(T));
        if let Some(lo) = lo {
            lf = lf.filter(column(T).gt_eq(lit(lo)));
        }
        if let Some(hi) = hi {
            lf = lf.filter(column(T).lt(lit(hi)));
        }
        Ok(lf)
    }

    /// Runs a query over `files`; when it fails because one of them is
    /// broken, the error names that file.
    pub fn collect(&self, lf: LazyFrame, files: &[PathBuf]) -> Result<DataFrame, Error> {
        let df = lf
            .collect()
            .map_err(|e| match Partitions::find_broken(files) {
                Some((file, why)) => Error::Broken(format!(
                    "{}: {why}; the dataset cannot be read until it is restored or removed",
                    file.display()
                )),
                None => Error::polars(format!("reading {}", self.root.display()))(e),
            })?;
        if let Some(o) = &self.observer {
            (o.0)(files);
        }
        Ok(df)
    }

    /// The distinct non-null values of a text column over the whole dataset.
    pub fn distinct_strings(&self, name: &str) -> Result<Vec<String>, Error> {
        let files: Vec<PathBuf> = self.parts.values().flatten().cloned().collect();
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let lf = self
            .scan(&files)?
            .select([column(name).cast(DataType::String)])
            .group_by([column(name)])
            .agg(Vec::<Expr>::new());
        let df = self.collect(lf, &files)?;
        let values = df
            .column(name)
            .and_then(|c| {
                c.str()
                    .map(|ca| ca.iter().flatten().map(str::to_string).collect())
            })
            .map_err(Error::polars(format!("listing the values of {name}")))?;
        Ok(values)
    }

    /// After a failed query: the first of `files` that is not a whole
    /// Parquet file (magic bytes at both ends), so the message can name it.
    pub fn find_broken(files: &[PathBuf]) -> Option<(PathBuf, String)> {
        use std::io::{Read, Seek, SeekFrom};
        for f in files {
            let check = || -> std::io::Result<Option<String>> {
                let mut file = fs::File::open(f)?;
                let len = file.metadata()?.len();
                if len < 12 {
                    return Ok(Some(format!("{len} bytes is too short for a Parquet file")));
                }
                let mut head = [0u8; 4];
                file.read_exact(&mut head)?;
                let mut tail = [0u8; 4];
                file.seek(SeekFrom::End(-4))?;
                file.read_exact(&mut tail)?;
                Ok((&head != b"PAR1" || &tail != b"PAR1")
                    .then(|| "not a whole Parquet file (truncated or overwritten?)".to_string()))
            };
            match check() {
                Ok(None) => {}
                Ok(Some(why)) => return Some((f.clone(), why)),
                Err(e) => return Some((f.clone(), e.to_string())),
            }
        }
        None
    }

    /// The latest `arrived_at` in the dataset (µs UTC), from its last partition.
    pub fn last_arrival_us(&self) -> Result<Option<i64>, Error> {
        let Some((_, files)) = self.parts.iter().next_back() else {
            return Ok(None);
        };
        let lf = self.scan(files)?.select([column(col::ARRIVED_AT)
            .cast(DataType::Int64)
            .max()
            .alias("max")]);
        let df = self.collect(lf, files)?;
        let max = df
            .column("max")
            .and_then(|c| c.i64().map(|ca| ca.get(0)))
            .map_err(Error::polars("reading the last arrival"))?;
        Ok(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxpipe_model::layout::INTERACTIONS;

    /// A dataset folder laid out by hand: two partitions with files (one
    /// partition listed out of order), an empty one, a hidden temporary
    /// file, and folders and files that are not partitions.
    fn layout(root: &Path) {
        let part = |name: &str, files: &[&str]| {
            let dir = root.join(INTERACTIONS).join(name);
            fs::create_dir_all(&dir).expect("mkdir");
            for f in files {
                fs::write(dir.join(f), b"PAR1").expect("write");
            }
        };
        part("date=2026-10-02", &["part-b-1.parquet", "part-a-1.parquet"]);
        part(
            "date=2026-10-01",
            &["part-a-2.parquet", ".cxpipe-tmp-x.parquet"],
        );
        part("date=2026-10-03", &[]);
        part("not-a-partition", &["part-z-1.parquet"]);
        part("date=2026-13-01", &["part-z-2.parquet"]);
        fs::write(root.join(INTERACTIONS).join("notes.txt"), b"x").expect("write");
    }

    fn names(files: Vec<PathBuf>) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                let day = f.parent().and_then(Path::file_name).expect("folder");
                let name = f.file_name().expect("name");
                format!("{}/{}", day.to_string_lossy(), name.to_string_lossy())
            })
            .collect()
    }

    #[test]
    fn the_guard_lists_the_partitions_and_their_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        layout(dir.path());
        let guard = cxpipe_dataset::Dataset::open_for_reading(dir.path()).expect("open");
        let from_guard = Partitions::from_guard(&guard).expect("from guard");
        let oct1 = cxpipe_model::civil::days_from_civil(2026, 10, 1);
        let want = [
            "date=2026-10-01/part-a-2.parquet",
            "date=2026-10-02/part-a-1.parquet",
            "date=2026-10-02/part-b-1.parquet",
        ];
        let source = &from_guard;
        {
            assert_eq!(source.day_range(), Some((oct1, oct1 + 1)));
            assert!(!source.is_empty());
            assert_eq!(names(source.files_between(None, None)), want);
            // The second day only: [Oct 2 00:00, Oct 3 00:00) UTC.
            let oct2 = (oct1 + 1) * DAY_US;
            assert_eq!(
                names(source.files_between(Some(oct2), Some(oct2 + DAY_US))),
                want[1..]
            );
        }
    }
}
