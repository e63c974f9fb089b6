//! Part files: each worker writes the rows of one (input file, day) to its
//! own Parquet file in the staging area, closed when the worker moves past
//! the file or the day goes idle, and committed to
//! `interactions/date=YYYY-MM-DD/part-<ingest_id>-<n>.parquet`.

use std::collections::hash_map::Entry as Slot;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::RecordBatch;
use cxpipe_model::layout;
use parquet::arrow::ArrowWriter;
use rustc_hash::FxHashMap;

use super::batch::{RowBuffer, storage_schema};
use super::parquet::{close_writer, create_storage_writer};
use crate::error::Error;
use crate::row::Row;

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 16_384;
/// Encoded-but-unflushed Parquet bytes a worker may hold before it ends a
/// row group early (bounds memory when input is not sorted by time).
const WRITER_BUDGET: usize = 128 << 20;
/// A writer that got no row in this many of its worker's chunks is closed:
/// exports are mostly in time order, so a day that has passed is done.
/// Rows of that day arriving later go to a new part file.
const IDLE_CHUNKS: u64 = 8;
/// Open part files (and so file descriptors) all workers together may
/// hold by default (`IngestOptions::max_open_parts`). One input spanning years of days would otherwise open a file per
/// day and meet the usual limit of 1024 descriptors; past the cap, the
/// writer used least recently is closed (in a time-ordered export, the
/// oldest day, which is done).
pub(crate) const MAX_OPEN_PARTS: usize = 512;

/// A fresh part file's names.
pub(crate) struct PartPath {
    /// Its number, which is also its id in dedupe locations.
    pub(crate) id: u32,
    /// Its path relative to the dataset root, once committed.
    pub(crate) rel: String,
    /// Its path in the staging area.
    pub(crate) path: PathBuf,
}

/// Numbers and places the part files of one run.
pub(crate) struct Parts<'a> {
    staging: &'a Path,
    ingest_id: &'a str,
    next: AtomicU32,
}

impl<'a> Parts<'a> {
    /// Part files of run `ingest_id`, staged in `staging`.
    pub(crate) fn new(staging: &'a Path, ingest_id: &'a str) -> Parts<'a> {
        Parts {
            staging,
            ingest_id,
            next: AtomicU32::new(0),
        }
    }

    /// A fresh part of day `day` in the staging area (its folder created).
    pub(crate) fn path(&self, day: i64) -> Result<PartPath, Error> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = layout::partition_path(layout::INTERACTIONS, day);
        let staged_dir = self.staging.join(&dir);
        fs::create_dir_all(&staged_dir)
            .map_err(|e| Error::io(format!("creating {}", staged_dir.display()), e))?;
        let name = format!("part-{}-{n:05}.parquet", self.ingest_id);
        Ok(PartPath {
            id: n,
            rel: format!("{dir}/{name}"),
            path: staged_dir.join(name),
        })
    }

    /// A writer for the rows of input file `file_idx` on day `day`.
    fn writer(&self, file_idx: u32, day: i64) -> Result<PartWriter, Error> {
        let PartPath { id, rel, path } = self.path(day)?;
        Ok(PartWriter {
            id,
            writer: create_storage_writer(&path)?,
            rel,
            path,
            day,
            file_idx,
            buf: RowBuffer::new(storage_schema(), BATCH_ROWS),
            rows: 0,
            last_used: 0,
        })
    }
}

/// A Parquet file being written by one worker for one (input file, day).
struct PartWriter {
    id: u32,
    rel: String,
    path: PathBuf,
    day: i64,
    file_idx: u32,
    writer: ArrowWriter<BufWriter<fs::File>>,
    buf: RowBuffer,
    rows: u32,
    /// The worker's chunk count when this writer last got a row.
    last_used: u64,
}

/// A finished staged Parquet file.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    /// Its id in dedupe locations.
    pub(crate) id: u32,
    /// Its path relative to the dataset root (and to the staging folder).
    pub(crate) rel: String,
    /// The day of its partition.
    pub(crate) day: i64,
    /// The input file its rows came from.
    pub(crate) file_idx: u32,
    /// Rows written.
    pub(crate) rows: u32,
}

/// Where a stored row is: its part file's id and its index in that file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowPlace {
    /// The part file's id.
    pub(crate) part: u32,
    /// The row's index in the file.
    pub(crate) row: u32,
}

impl PartWriter {
    fn flush_batch(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let batch: RecordBatch = self.buf.finish();
        self.writer
            .write(&batch)
            .map_err(|e| Error::Parquet(format!("writing {}", self.path.display()), e))
    }

    fn close(mut self) -> Result<Staged, Error> {
        self.flush_batch()?;
        close_writer(self.writer, &self.path)?;
        Ok(Staged {
            id: self.id,
            rel: self.rel,
            day: self.day,
            file_idx: self.file_idx,
            rows: self.rows,
        })
    }
}

/// A worker's open Parquet writers, one per (input file, day), and the
/// files it has finished.
pub(crate) struct Writers {
    open: FxHashMap<(u32, i64), PartWriter>,
    /// At most this many writers are open at once.
    max_open: usize,
    /// Chunks this worker has processed.
    tick: u64,
    staged: Vec<Staged>,
}

impl Writers {
    /// The writers of one of `workers` workers, which share `max_open`
    /// open files between them (at least 4 each).
    pub(crate) fn new(workers: usize, max_open: usize) -> Writers {
        Writers {
            open: FxHashMap::default(),
            max_open: (max_open / workers.max(1)).max(4),
            tick: 0,
            staged: Vec::new(),
        }
    }

    /// A new chunk of input file `file_idx` begins. Chunks arrive in input
    /// order, so this worker is done with every earlier file; and a day it
    /// has not seen for a while is most likely over. Those writers close.
    pub(crate) fn next_chunk(&mut self, file_idx: u32) -> Result<(), Error> {
        self.tick += 1;
        let tick = self.tick;
        let done: Vec<_> = self
            .open
            .iter()
            .filter(|(k, w)| k.0 < file_idx || w.last_used + IDLE_CHUNKS < tick)
            .map(|(k, _)| *k)
            .collect();
        for k in done {
            if let Some(w) = self.open.remove(&k) {
                self.staged.push(w.close()?);
            }
        }
        Ok(())
    }

    /// Writes one row of input file `file_idx` (file name `file`, line
    /// `line`) into the part of its day.
    pub(crate) fn push(
        &mut self,
        parts: &Parts<'_>,
        row: &Row<'_>,
        file_idx: u32,
        file: &str,
        line: u64,
    ) -> Result<RowPlace, Error> {
        let day = crate::parse::utc_day(row.arrived_at);
        if self.open.len() >= self.max_open && !self.open.contains_key(&(file_idx, day)) {
            self.close_least_recent()?;
        }
        let w = match self.open.entry((file_idx, day)) {
            Slot::Occupied(o) => o.into_mut(),
            Slot::Vacant(v) => v.insert(parts.writer(file_idx, day)?),
        };
        w.last_used = self.tick;
        w.buf.push(row, file, line);
        let place = RowPlace {
            part: w.id,
            row: w.rows,
        };
        w.rows += 1;
        if w.buf.len() >= BATCH_ROWS {
            w.flush_batch()?;
        }
        Ok(place)
    }

    /// Closes the writer that got a row least recently.
    fn close_least_recent(&mut self) -> Result<(), Error> {
        let Some(k) = self
            .open
            .iter()
            .min_by_key(|(k, w)| (w.last_used, k.1))
            .map(|(k, _)| *k)
        else {
            return Ok(());
        };
        if let Some(w) = self.open.remove(&k) {
            self.staged.push(w.close()?);
        }
        Ok(())
    }

    /// Ends the row group of the largest writers while the worker holds
    /// more than its budget of encoded data.
    pub(crate) fn enforce_budget(&mut self) -> Result<(), Error> {
        loop {
            let total: usize = self
                .open
                .values()
                .map(|w| w.writer.in_progress_size())
                .sum();
            if total <= WRITER_BUDGET {
                return Ok(());
            }
            let Some(w) = self
                .open
                .values_mut()
                .max_by_key(|w| w.writer.in_progress_size())
            else {
                return Ok(());
            };
            w.writer
                .flush()
                .map_err(|e| Error::Parquet(format!("writing {}", w.path.display()), e))?;
        }
    }

    /// Closes every writer; returns every file this worker wrote.
    pub(crate) fn finish(mut self) -> Result<Vec<Staged>, Error> {
        for (_, w) in self.open.drain() {
            self.staged.push(w.close()?);
        }
        Ok(self.staged)
    }
}
