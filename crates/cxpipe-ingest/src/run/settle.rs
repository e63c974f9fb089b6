//! The end of the run: duplicates are resolved over this run's rows and
//! the dataset's, and every file that holds a losing row is rewritten
//! without it (this run's parts and the dataset's files alike), in
//! parallel on the run's rayon pool.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::context::Run;
use super::keys::{self, Loc};
use super::sequencer::FileState;
use crate::dedupe::{self, Buckets};
use crate::error::Error;
use crate::write::parquet::{for_each_id, rewrite_without};
use crate::write::part::{PartPath, Parts, Staged};
use cxpipe_dataset::{Commit, Dataset};
use cxpipe_model::layout;

/// The losing rows, by where they are stored.
pub(crate) struct Losers {
    /// Rows to drop from this run's parts, by part id.
    staged: FxHashMap<u32, Vec<u32>>,
    /// Rows to drop from the dataset's files, by index into
    /// [`Losers::existing_files`].
    existing: BTreeMap<usize, Vec<u32>>,
    /// The dataset's Parquet files when the run began.
    existing_files: Vec<String>,
    /// Rows of the dataset replaced by a newer version.
    pub(crate) rows_replaced: u64,
    /// The versions files written for the winners (see `dedupe.rs`).
    pub(crate) version_files: Vec<PathBuf>,
}

/// Resolves duplicates: the run's entries (in `buckets`) meet those of the
/// dataset's rows and the versions it stores. Rows of failed or skipped
/// files take no part (they are not stored). Counts each input file's
/// dropped duplicates.
pub(crate) fn losers(
    ds: &Dataset,
    mut buckets: Buckets,
    ingested: &[bool],
    files: &mut [FileState],
    groups: usize,
    versions_out: &Path,
) -> Result<Losers, Error> {
    let existing_files = ds.parquet_files()?;
    if !buckets.is_empty() {
        push_existing(ds, &existing_files, &mut buckets)?;
        // The versions of stored rows whose source has one (hints, see
        // `dedupe.rs`).
        for rel in ds.versions_files()? {
            let path = ds.root().join(&rel);
            dedupe::read_versions(&path, |e| buckets.push(e))
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        }
    }
    let keep = |ord: u64| keys::file_of(ord).is_none_or(|f| ingested[f]);
    let mut out = Losers {
        staged: FxHashMap::default(),
        existing: BTreeMap::new(),
        existing_files,
        rows_replaced: 0,
        version_files: Vec::new(),
    };
    let mut on_loser = |l: dedupe::Loser| match keys::loc(l.loc) {
        Loc::Existing { file, row } => {
            out.existing.entry(file).or_default().push(row);
            out.rows_replaced += 1;
        }
        Loc::Staged { part, row } => {
            out.staged.entry(part).or_default().push(row);
            if let Some(f) = keys::file_of(l.ord) {
                files[f].report.duplicates_dropped += 1;
            }
        }
    };
    let version_files = buckets
        .losers(&keep, groups, versions_out, &mut on_loser)
        .map_err(|e| Error::io("settling duplicates in the staging folder", e))?;
    out.version_files = version_files;
    Ok(out)
}

/// An entry for every row already in the dataset.
fn push_existing(ds: &Dataset, existing: &[String], buckets: &mut Buckets) -> Result<(), Error> {
    for (i, rel) in existing.iter().enumerate() {
        let mut failed = None;
        for_each_id(&ds.root().join(rel), |row, id| {
            if let Err(err) = buckets.push(keys::existing(id, i, row)) {
                failed.get_or_insert(err);
            }
        })?;
        if let Some(err) = failed {
            return Err(Error::io(
                "writing dedupe entries to the staging folder",
                err,
            ));
        }
    }
    Ok(())
}

/// One file to copy without some of its rows.
struct Rewrite {
    /// The file to read.
    src: PathBuf,
    /// The new part.
    dst: PartPath,
    /// Rows to leave out, sorted.
    drops: Vec<u32>,
    /// The day of its partition.
    day: i64,
}

impl Rewrite {
    /// Rows kept.
    fn run(&self) -> Result<u64, Error> {
        rewrite_without(&self.src, &self.dst.path, &self.drops)
    }
}

/// Adds this run's parts to `commit`: those without losers as they are,
/// the others rewritten without them; then rewrites the dataset's files
/// that hold losers, replacing them. The rewrites run in parallel (on the
/// caller's rayon pool: duplicates spread over many days touch many
/// files); the commit lists them in a fixed order. Returns the days whose
/// partitions received rows.
pub(crate) fn place(
    run: &Run,
    parts: &Parts<'_>,
    mut staged: Vec<Staged>,
    mut losers: Losers,
    ingested: &[bool],
    commit: &mut Commit,
) -> Result<BTreeSet<i64>, Error> {
    let (ds, staging) = (&run.ds, &run.staging);
    let mut partitions = BTreeSet::new();
    staged.sort_by_key(|s| s.id);
    let mut rewrites = Vec::new();
    for s in &staged {
        if !ingested[s.file_idx as usize] || s.rows == 0 {
            continue;
        }
        match losers.staged.get_mut(&s.id) {
            None => {
                commit.add_move(run.staging_rel(&s.rel), s.rel.clone());
                partitions.insert(s.day);
            }
            Some(drops) => {
                drops.sort_unstable();
                rewrites.push(Rewrite {
                    src: staging.join(&s.rel),
                    dst: parts.path(s.day)?,
                    drops: std::mem::take(drops),
                    day: s.day,
                });
            }
        }
    }
    let kept: Vec<u64> = rewrites
        .par_iter()
        .map(|r| {
            let kept = r.run()?;
            let _ = fs::remove_file(&r.src);
            Ok(kept)
        })
        .collect::<Result<_, Error>>()?;
    for (r, kept) in rewrites.into_iter().zip(kept) {
        if kept > 0 {
            commit.add_move(run.staging_rel(&r.dst.rel), r.dst.rel);
            partitions.insert(r.day);
        }
    }
    let mut replaced = Vec::new();
    for (idx, mut drops) in std::mem::take(&mut losers.existing) {
        drops.sort_unstable();
        let old_rel = &losers.existing_files[idx];
        let Some(day) = layout::partition_day_of_path(old_rel) else {
            continue;
        };
        let rewrite = Rewrite {
            src: ds.root().join(old_rel),
            dst: parts.path(day)?,
            drops,
            day,
        };
        replaced.push((old_rel.clone(), rewrite));
    }
    let kept: Vec<u64> = replaced
        .par_iter()
        .map(|(_, r)| r.run())
        .collect::<Result<_, Error>>()?;
    for ((old_rel, r), kept) in replaced.into_iter().zip(kept) {
        if kept > 0 {
            commit.add_move(run.staging_rel(&r.dst.rel), r.dst.rel);
        }
        commit.add_delete(old_rel);
    }
    Ok(partitions)
}
