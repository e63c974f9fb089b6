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
use super::duplicates::{self, Kept, KeptNames};
use super::keys::{self, Loc};
use super::sequencer::FileState;
use crate::dedupe::{self, Buckets};
use crate::error::Error;
use crate::write::parquet::{for_each_id, rewrite_without};
use crate::write::part::{PartPath, Parts, Staged};
use cxpipe_dataset::{Commit, Dataset};
use cxpipe_model::layout;

/// The losing rows, by where they are stored, each with the row kept for
/// its id.
pub(crate) struct Losers {
    /// Rows to drop from this run's parts, by part id.
    staged: FxHashMap<u32, Vec<(u32, Kept)>>,
    /// Rows to drop from the dataset's files, by index into
    /// [`Losers::existing_files`].
    existing: BTreeMap<usize, Vec<(u32, Kept)>>,
    /// Input file names, by index (for `duplicates.csv`).
    inputs: Vec<String>,
    /// Duplicates dropped within chunks (see `duplicates.rs`), if any.
    chunk_dups: Option<PathBuf>,
    /// Chunk winners that lost later: their order → the row kept.
    later: FxHashMap<u64, Kept>,
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
    chunk_dups: Option<PathBuf>,
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
    let winners = match &chunk_dups {
        Some(path) => duplicates::chunk_winners(path)?,
        None => Default::default(),
    };
    let mut out = Losers {
        staged: FxHashMap::default(),
        existing: BTreeMap::new(),
        inputs: files.iter().map(|f| f.report.name.clone()).collect(),
        chunk_dups,
        later: FxHashMap::default(),
        existing_files,
        rows_replaced: 0,
        version_files: Vec::new(),
    };
    let mut lost_legs: FxHashMap<(usize, u64), u32> = FxHashMap::default();
    let mut on_loser = |l: dedupe::Loser| {
        let kept = duplicates::kept_of(&l);
        if winners.contains(&l.ord) {
            out.later.insert(l.ord, kept);
        }
        match keys::loc(l.loc) {
            Loc::Existing { file, row } => {
                out.existing.entry(file).or_default().push((row, kept));
                out.rows_replaced += 1;
            }
            Loc::Staged { part, row } => {
                out.staged.entry(part).or_default().push((row, kept));
                if let Some(f) = keys::file_of(l.ord) {
                    files[f].legs_lost += 1;
                    if files[f].multi_legs.is_empty() {
                        files[f].report.duplicates_dropped += 1;
                    } else {
                        // A record of several legs is a dropped duplicate
                        // when all its legs are (counted below).
                        *lost_legs
                            .entry((f, keys::file_and_line(l.ord).1))
                            .or_default() += 1;
                    }
                }
            }
        }
    };
    let version_files = buckets
        .losers(&keep, groups, versions_out, &mut on_loser)
        .map_err(|e| Error::io("settling duplicates in the staging folder", e))?;
    out.version_files = version_files;
    for ((f, line), lost) in lost_legs {
        let legs = files[f].multi_legs.get(&line).copied().unwrap_or(1);
        if lost >= legs {
            files[f].report.duplicates_dropped += 1;
        }
    }
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
    /// The row kept for each of `drops`.
    kept: Vec<Kept>,
    /// The file was in the dataset before the run (its rows dropped were
    /// replaced by newer versions).
    replaced: bool,
    /// The day of its partition.
    day: i64,
}

impl Rewrite {
    fn new(
        src: PathBuf,
        dst: PartPath,
        mut drops: Vec<(u32, Kept)>,
        day: i64,
        replaced: bool,
    ) -> Rewrite {
        drops.sort_unstable_by_key(|d| d.0);
        let (drops, kept) = drops.into_iter().unzip();
        Rewrite {
            src,
            dst,
            drops,
            kept,
            replaced,
            day,
        }
    }

    /// Copies the file without its losers, and lists them in `listing`
    /// (a fragment of `duplicates.csv`). Returns the rows kept.
    fn run(&self, names: &KeptNames, listing: &Path) -> Result<u64, Error> {
        let err = |e| Error::io(format!("writing {}", listing.display()), e);
        let mut out = std::io::BufWriter::new(fs::File::create(listing).map_err(err)?);
        let kept = rewrite_without(&self.src, &self.dst.path, &self.drops, &mut |k, o| {
            let line = o.line.max(0) as u64;
            duplicates::write_line(
                &mut out,
                o.id,
                (o.file, line),
                names.name(self.kept[k]),
                self.replaced,
            )
            .map_err(err)
        })?;
        std::io::Write::flush(&mut out).map_err(err)?;
        Ok(kept)
    }
}

/// Adds this run's parts to `commit`: those without losers as they are,
/// the others rewritten without them; then rewrites the dataset's files
/// that hold losers, replacing them. The rewrites run in parallel (on the
/// caller's rayon pool: duplicates spread over many days touch many
/// files); the commit lists them in a fixed order. Every row dropped is
/// listed in `duplicates.csv` with the row kept. Returns the days whose
/// partitions received rows, and the listing's path (relative to the
/// dataset) when there is one.
pub(crate) fn place(
    run: &Run,
    parts: &Parts<'_>,
    mut staged: Vec<Staged>,
    mut losers: Losers,
    ingested: &[bool],
    commit: &mut Commit,
) -> Result<(BTreeSet<i64>, Option<String>), Error> {
    let (ds, staging) = (&run.ds, &run.staging);
    let mut partitions = BTreeSet::new();
    staged.sort_by_key(|s| s.id);
    let mut rewrites = Vec::new();
    for s in &staged {
        if !ingested[s.file_idx as usize] || s.rows == 0 {
            continue;
        }
        match losers.staged.remove(&s.id) {
            None => {
                commit.add_move(run.staging_rel(&s.rel), s.rel.clone());
                partitions.insert(s.day);
            }
            Some(drops) => {
                let dst = parts.path(s.day)?;
                rewrites.push(Rewrite::new(staging.join(&s.rel), dst, drops, s.day, false));
            }
        }
    }
    let mut old_rels = Vec::new();
    for (idx, drops) in std::mem::take(&mut losers.existing) {
        let old_rel = &losers.existing_files[idx];
        let Some(day) = layout::partition_day_of_path(old_rel) else {
            continue;
        };
        let src = ds.root().join(old_rel);
        rewrites.push(Rewrite::new(src, parts.path(day)?, drops, day, true));
        old_rels.push(old_rel.clone());
    }
    let existing: Vec<PathBuf> = losers
        .existing_files
        .iter()
        .map(|rel| ds.root().join(rel))
        .collect();
    let all_kept = rewrites.iter().flat_map(|r| r.kept.iter().copied());
    let names = KeptNames::new(
        std::mem::take(&mut losers.inputs),
        all_kept,
        std::mem::take(&mut losers.later),
        &existing,
    )?;
    let listings_dir = staging.join("duplicates");
    fs::create_dir_all(&listings_dir)
        .map_err(|e| Error::io(format!("creating {}", listings_dir.display()), e))?;
    let listing = |i: usize| listings_dir.join(format!("{i:06}.csv"));
    let kept: Vec<u64> = rewrites
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let kept = r.run(&names, &listing(i))?;
            if !r.replaced {
                let _ = fs::remove_file(&r.src);
            }
            Ok(kept)
        })
        .collect::<Result<_, Error>>()?;
    let n_rewrites = rewrites.len();
    let mut old_rels = old_rels.into_iter();
    for (r, kept) in rewrites.into_iter().zip(kept) {
        if kept > 0 {
            commit.add_move(run.staging_rel(&r.dst.rel), r.dst.rel);
            if !r.replaced {
                partitions.insert(r.day);
            }
        }
        if r.replaced
            && let Some(old_rel) = old_rels.next()
        {
            commit.add_delete(old_rel);
        }
    }
    let listed = assemble_duplicates(
        run,
        &names,
        losers.chunk_dups.as_deref(),
        ingested,
        (0..n_rewrites).map(listing),
    )?;
    let _ = fs::remove_dir_all(&listings_dir);
    let rel = listed.map(|staged_rel| {
        let rel = format!("{}/{}/duplicates.csv", layout::QUARANTINE, run.ingest_id);
        commit.add_move(run.staging_rel(&staged_rel), rel.clone());
        rel
    });
    Ok((partitions, rel))
}

/// Writes `duplicates.csv` in staging: the duplicates dropped within
/// chunks (of files ingested), then the listings of the rewrites, in
/// order. Returns its path relative to the staging folder, or `None` when
/// nothing was dropped.
fn assemble_duplicates(
    run: &Run,
    names: &KeptNames,
    chunk_dups: Option<&Path>,
    ingested: &[bool],
    listings: impl Iterator<Item = PathBuf>,
) -> Result<Option<String>, Error> {
    let rel = format!("{}/duplicates.csv", layout::QUARANTINE);
    let path = run.staging.join(&rel);
    let err = |e| Error::io(format!("writing {}", path.display()), e);
    let mut out: Option<std::io::BufWriter<fs::File>> = None;
    let open = |out: &mut Option<std::io::BufWriter<fs::File>>| -> Result<(), Error> {
        if out.is_none() {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(err)?;
            }
            let mut w = std::io::BufWriter::new(fs::File::create(&path).map_err(err)?);
            std::io::Write::write_all(&mut w, duplicates::HEADER).map_err(err)?;
            *out = Some(w);
        }
        Ok(())
    };
    if let Some(chunk_dups) = chunk_dups {
        duplicates::for_each_chunk_dup(chunk_dups, |file, d| {
            if !ingested.get(file as usize).copied().unwrap_or(false) {
                return Ok(());
            }
            open(&mut out)?;
            let Some(w) = out.as_mut() else {
                return Ok(());
            };
            let own = names.name(keys::order(file, d.line));
            let kept = names.name(keys::order(file, d.kept_line));
            duplicates::write_line(w, &d.id, own, kept, false).map_err(err)
        })?;
    }
    for listing in listings {
        let len = fs::metadata(&listing).map_or(0, |m| m.len());
        if len == 0 {
            continue;
        }
        open(&mut out)?;
        if let Some(w) = out.as_mut() {
            let mut r = fs::File::open(&listing).map_err(err)?;
            std::io::copy(&mut r, w).map_err(err)?;
        }
    }
    match out {
        None => Ok(None),
        Some(mut w) => {
            std::io::Write::flush(&mut w).map_err(err)?;
            w.get_ref().sync_all().map_err(err)?;
            Ok(Some(rel))
        }
    }
}
