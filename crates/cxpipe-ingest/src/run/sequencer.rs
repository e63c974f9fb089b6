//! The sequencer: chunk results arrive from the workers in any order and
//! are applied here in input order, so that quarantine files, counts and
//! dedupe entries come out the same whatever the thread count. Whichever
//! worker finishes a chunk runs it (under a mutex); it holds only results
//! that arrived early.

use std::collections::BTreeMap;
use std::path::Path;

use crate::dedupe::{Buckets, Entry};
use crate::error::Error;
use crate::read::FileEnd;
use crate::read::input::{Content, InputFile};
use crate::reason::Reject;
use crate::report::{FileReport, FileStatus};
use crate::reporter::Reporter;
use crate::write::quarantine::{Quarantine, QuarantineNames};

use super::duplicates::{ChunkDup, ChunkDupFile};

/// What a worker made of one chunk.
pub(crate) struct ChunkDone {
    /// The chunk's position in the stream.
    pub(crate) seq: u64,
    /// The input file.
    pub(crate) file_idx: u32,
    /// Records read (not counting blank lines).
    pub(crate) rows_read: u64,
    /// Records refused, in line order.
    pub(crate) rejects: Vec<Reject>,
    /// Dedupe entries of the rows written.
    pub(crate) entries: Vec<Entry>,
    /// Older duplicates settled within the chunk (never written).
    pub(crate) dups: Vec<ChunkDup>,
    /// A JSON mapping's fields, by id: whether some record of the chunk
    /// has each.
    pub(crate) seen: Option<Vec<bool>>,
    /// Records the mapping's `[source] skip` dropped.
    pub(crate) filtered: u64,
    /// Rows whose times were set equal within the clock skew.
    pub(crate) skew_fixed: u64,
    /// Records stored as several legs: (line, legs).
    pub(crate) multi_legs: Vec<(u64, u32)>,
}

/// A result for the sequencer.
pub(crate) enum Done {
    /// A converted chunk.
    Chunk(ChunkDone),
    /// A file is fully read.
    FileEnd(FileEnd),
}

impl Done {
    fn seq(&self) -> u64 {
        match self {
            Done::Chunk(c) => c.seq,
            Done::FileEnd(f) => f.seq,
        }
    }
}

/// What the run knows of one input file.
pub(crate) struct FileState {
    /// The file's report, filled in as results arrive.
    pub(crate) report: FileReport,
    /// Records written to part files (a record of several legs once).
    pub(crate) rows_ok: u64,
    /// Rows (legs) written to part files.
    pub(crate) legs_ok: u64,
    /// Of those, legs dropped as duplicates.
    pub(crate) legs_lost: u64,
    /// Records stored as several legs, by line: how many (a record not
    /// here has one).
    pub(crate) multi_legs: rustc_hash::FxHashMap<u64, u32>,
    /// Older duplicates dropped within chunks (see `settle_json`).
    pub(crate) chunk_dups: u64,
    /// Its quarantine file, once it has a reject.
    pub(crate) quarantine: Option<Quarantine>,
    /// The reader finished the file (successfully or not).
    pub(crate) ended: bool,
    /// Its size and hash, when read to the end.
    pub(crate) content: Option<Content>,
    /// A JSON mapping's fields some record had (see [`ChunkDone::seen`]).
    seen: Option<Vec<bool>>,
}

impl FileState {
    fn new(file: &InputFile) -> FileState {
        FileState {
            report: FileReport::empty(file),
            rows_ok: 0,
            legs_ok: 0,
            legs_lost: 0,
            multi_legs: Default::default(),
            chunk_dups: 0,
            quarantine: None,
            ended: false,
            content: None,
            seen: None,
        }
    }
}

/// Applies chunk results in input order.
pub(crate) struct Sequencer<'a> {
    next: u64,
    pending: BTreeMap<u64, Done>,
    /// Every input file's state, by index.
    pub(crate) files: Vec<FileState>,
    /// The dedupe entries of the run's rows.
    pub(crate) buckets: Buckets,
    quarantine_names: QuarantineNames<'a>,
    /// Duplicates dropped within chunks, for `duplicates.csv`.
    pub(crate) chunk_dups: ChunkDupFile,
    /// The first error applying a result (it stops the run).
    pub(crate) error: Option<Error>,
}

impl<'a> Sequencer<'a> {
    /// A sequencer for `files`, staging in `staging`.
    pub(crate) fn new(files: &[InputFile], staging: &'a Path, ingest_id: &'a str) -> Sequencer<'a> {
        Sequencer {
            next: 0,
            pending: BTreeMap::new(),
            files: files.iter().map(FileState::new).collect(),
            buckets: Buckets::new(&staging.join("dedupe")),
            quarantine_names: QuarantineNames::new(staging, ingest_id),
            chunk_dups: ChunkDupFile::new(staging.join("chunk-dups.bin")),
            error: None,
        }
    }

    /// Takes one result; applies it and every result it was holding back.
    pub(crate) fn submit(&mut self, done: Done, reporter: &dyn Reporter) {
        self.pending.insert(done.seq(), done);
        while let Some(done) = self.pending.remove(&self.next) {
            self.next += 1;
            let applied = match done {
                Done::Chunk(c) => self.apply_chunk(c, reporter),
                Done::FileEnd(f) => self.apply_file_end(f),
            };
            if let Err(e) = applied {
                self.error.get_or_insert(e);
            }
        }
    }

    fn apply_chunk(&mut self, c: ChunkDone, reporter: &dyn Reporter) -> Result<(), Error> {
        reporter.rows_done(c.rows_read);
        let idx = c.file_idx as usize;
        let f = &mut self.files[idx];
        f.chunk_dups += c.dups.len() as u64;
        self.chunk_dups.push(c.file_idx, &c.dups)?;
        f.report.rows_read += c.rows_read;
        let extra: u64 = c.multi_legs.iter().map(|(_, n)| u64::from(n - 1)).sum();
        f.rows_ok += c.entries.len() as u64 - extra;
        f.legs_ok += c.entries.len() as u64;
        f.multi_legs.extend(c.multi_legs);
        f.report.rows_quarantined += c.rejects.len() as u64;
        f.report.rows_filtered += c.filtered;
        f.report.clock_skew_fixed += c.skew_fixed;
        if let Some(seen) = c.seen {
            match &mut f.seen {
                None => f.seen = Some(seen),
                Some(all) => all.iter_mut().zip(seen).for_each(|(a, s)| *a |= s),
            }
        }
        for e in c.entries {
            self.buckets
                .push(e)
                .map_err(|e| Error::io("writing dedupe entries to the staging folder", e))?;
        }
        if c.rejects.is_empty() {
            return Ok(());
        }
        let f = &mut self.files[idx];
        if f.quarantine.is_none() {
            f.quarantine = Some(self.quarantine_names.open(&f.report.name)?);
        }
        let Some(q) = f.quarantine.as_mut() else {
            return Ok(());
        };
        if f.report.first_reject.is_none()
            && let Some(r) = c.rejects.first()
        {
            let raw = String::from_utf8_lossy(&r.raw);
            f.report.first_reject = Some(crate::report::FirstReject {
                line: r.line,
                code: r.code.as_str().to_string(),
                reason: r.reason.clone(),
                raw: raw.chars().take(120).collect(),
            });
        }
        for r in c.rejects {
            *f.report
                .reasons
                .entry(r.code.as_str().to_string())
                .or_default() += 1;
            q.write(&r)?;
        }
        Ok(())
    }

    fn apply_file_end(&mut self, end: FileEnd) -> Result<(), Error> {
        let f = &mut self.files[end.file_idx as usize];
        f.ended = true;
        f.report.format = end.info.format.map(str::to_string);
        f.report.source = end.info.source;
        f.report.compression = end.info.compression;
        f.report.ignored_columns = end.info.ignored;
        f.report.missing_fields = end.info.missing;
        // A JSON file: the mapping's fields no record had (read to the
        // end, with records).
        if let (Some(seen), Some(names)) = (f.seen.take(), &end.info.json_fields)
            && f.report.rows_read > 0
        {
            f.report.missing_fields = names
                .iter()
                .zip(seen)
                .filter(|(_, s)| !s)
                .map(|(n, _)| n.clone())
                .collect();
        }
        match end.result {
            Ok(content) => {
                f.report.bytes = content.bytes;
                f.report.xxh3_128 = Some(content.xxh3_128.clone());
                f.content = Some(content);
                if let Some(q) = f.quarantine.as_mut() {
                    q.sync()?;
                }
            }
            Err(msg) => {
                f.report.status = FileStatus::Failed;
                f.report.message = Some(msg);
                if let Some(q) = f.quarantine.take() {
                    q.remove();
                }
            }
        }
        Ok(())
    }
}
