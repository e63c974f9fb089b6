//! `quarantine/<ingest_id>/duplicates.csv` (SPEC §5): every dropped
//! duplicate — its id, export file and line — with the file and line of the
//! version kept, so that nothing is dropped without a trace.
//!
//! Duplicates are dropped in two places. Records of one JSON chunk with
//! the same id are settled in the chunk (`settle_json`): the losers are
//! never written; the sequencer appends them to a staging file of
//! [`ChunkDup`]s, in input order. Every other loser is a stored row the
//! dedupe (`dedupe.rs`) rules out: it is listed as its part file is
//! rewritten without it (`settle::place`), from the row itself. The row
//! kept is what the dedupe found ([`Kept`]); a chunk's winner that later
//! lost too passes its own kept row on to the chunk's losers.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};

use super::keys::{self, Loc};
use crate::dedupe::Loser;
use crate::error::Error;
use crate::write::parquet::origins_of;
use crate::write::quarantine::write_csv_field;

/// The listing's header.
pub(crate) const HEADER: &[u8] =
    b"interaction_id,source_file,source_line,kept_source_file,kept_source_line,replaced\n";

/// A record dropped within its chunk for a newer one of the same id.
#[derive(Debug, Clone)]
pub(crate) struct ChunkDup {
    /// Its id.
    pub(crate) id: String,
    /// Its line (or array element).
    pub(crate) line: u64,
    /// The line of the chunk's winner for the id.
    pub(crate) kept_line: u64,
}

/// The row kept for a dropped one: a row of this run by its dedupe order
/// (input file and line, bit 63 clear), or a row already stored by its
/// location (bit 63 set; see `keys.rs`).
pub(crate) type Kept = u64;

/// The [`Kept`] of a loser.
pub(crate) fn kept_of(l: &Loser) -> Kept {
    if l.kept_ord != 0 {
        l.kept_ord
    } else {
        l.kept_loc
    }
}

fn is_stored(k: Kept) -> bool {
    k >> 63 == 1
}

/// The staging file of a run's [`ChunkDup`]s, created on the first.
pub(crate) struct ChunkDupFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl ChunkDupFile {
    /// The file at `path` (not created yet).
    pub(crate) fn new(path: PathBuf) -> ChunkDupFile {
        ChunkDupFile { path, out: None }
    }

    /// Appends the chunk duplicates of input file `file_idx`.
    pub(crate) fn push(&mut self, file_idx: u32, dups: &[ChunkDup]) -> Result<(), Error> {
        if dups.is_empty() {
            return Ok(());
        }
        let err = |e| Error::io(format!("writing {}", self.path.display()), e);
        if self.out.is_none() {
            self.out = Some(BufWriter::new(File::create(&self.path).map_err(err)?));
        }
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        for d in dups {
            let mut head = [0u8; 24];
            head[..4].copy_from_slice(&file_idx.to_le_bytes());
            head[4..12].copy_from_slice(&d.line.to_le_bytes());
            head[12..20].copy_from_slice(&d.kept_line.to_le_bytes());
            head[20..].copy_from_slice(&(d.id.len() as u32).to_le_bytes());
            out.write_all(&head)
                .and_then(|()| out.write_all(d.id.as_bytes()))
                .map_err(err)?;
        }
        Ok(())
    }

    /// Flushes the file; its path, if anything was written.
    pub(crate) fn finish(self) -> Result<Option<PathBuf>, Error> {
        match self.out {
            None => Ok(None),
            Some(mut out) => {
                out.flush()
                    .map_err(|e| Error::io(format!("writing {}", self.path.display()), e))?;
                Ok(Some(self.path))
            }
        }
    }
}

/// Calls `f(file_idx, ChunkDup)` for each record of a [`ChunkDupFile`].
pub(crate) fn for_each_chunk_dup(
    path: &Path,
    mut f: impl FnMut(u32, ChunkDup) -> Result<(), Error>,
) -> Result<(), Error> {
    let err = |e| Error::io(format!("reading {}", path.display()), e);
    let mut r = BufReader::new(File::open(path).map_err(err)?);
    let mut head = [0u8; 24];
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(err(e)),
        }
        let num = |a: usize, b: usize| {
            let mut v = [0u8; 8];
            v[..b - a].copy_from_slice(&head[a..b]);
            u64::from_le_bytes(v)
        };
        let mut id = vec![0u8; num(20, 24) as usize];
        r.read_exact(&mut id).map_err(err)?;
        f(
            num(0, 4) as u32,
            ChunkDup {
                id: String::from_utf8_lossy(&id).into_owned(),
                line: num(4, 12),
                kept_line: num(12, 20),
            },
        )?;
    }
}

/// The orders of the chunk winners that had chunk losers (so that a
/// later loss of theirs is passed on).
pub(crate) fn chunk_winners(path: &Path) -> Result<FxHashSet<u64>, Error> {
    let mut out = FxHashSet::default();
    for_each_chunk_dup(path, |file, d| {
        out.insert(keys::order(file, d.kept_line));
        Ok(())
    })?;
    Ok(out)
}

/// Names the kept rows of the listing.
pub(crate) struct KeptNames {
    /// Input file names, by index.
    inputs: Vec<String>,
    /// The export file and line of stored rows kept, by location.
    stored: FxHashMap<u64, (String, i64)>,
    /// Chunk winners that lost later: their order → the row kept.
    later: FxHashMap<u64, Kept>,
}

impl KeptNames {
    /// Reads the origins of every stored row in `kept` from the dataset's
    /// files (`existing`, absolute paths by index).
    pub(crate) fn new(
        inputs: Vec<String>,
        kept: impl IntoIterator<Item = Kept>,
        later: FxHashMap<u64, Kept>,
        existing: &[PathBuf],
    ) -> Result<KeptNames, Error> {
        let mut by_file: FxHashMap<usize, Vec<u32>> = FxHashMap::default();
        for k in kept.into_iter().chain(later.values().copied()) {
            if let (true, Loc::Existing { file, row }) = (is_stored(k), keys::loc(k)) {
                by_file.entry(file).or_default().push(row);
            }
        }
        let mut stored = FxHashMap::default();
        for (file, mut rows) in by_file {
            rows.sort_unstable();
            rows.dedup();
            let Some(path) = existing.get(file) else {
                continue;
            };
            for (row, origin) in rows.iter().zip(origins_of(path, &rows)?) {
                stored.insert(keys::existing_loc(file, *row), origin);
            }
        }
        Ok(KeptNames {
            inputs,
            stored,
            later,
        })
    }

    /// The export file and line of a kept row.
    pub(crate) fn name(&self, k: Kept) -> (&str, u64) {
        let k = self.later.get(&k).copied().unwrap_or(k);
        if is_stored(k) {
            return match self.stored.get(&k) {
                Some((file, line)) => (file, (*line).max(0) as u64),
                None => ("", 0),
            };
        }
        let (file, line) = keys::file_and_line(k);
        (
            file.and_then(|f| self.inputs.get(f))
                .map_or("", String::as_str),
            line,
        )
    }
}

/// Writes one line of the listing.
pub(crate) fn write_line(
    out: &mut impl Write,
    id: &str,
    (file, line): (&str, u64),
    (kept_file, kept_line): (&str, u64),
    replaced: bool,
) -> io::Result<()> {
    write_csv_field(out, id.as_bytes())?;
    out.write_all(b",")?;
    write_csv_field(out, file.as_bytes())?;
    write!(out, ",{line},")?;
    write_csv_field(out, kept_file.as_bytes())?;
    writeln!(out, ",{kept_line},{replaced}")
}
