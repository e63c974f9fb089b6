//! The ingest engine: one reader thread splits inputs into chunks of whole
//! records; one worker per core parses, validates and pseudonymises them and
//! writes Parquet into the staging area; a sequencer, run by whichever worker
//! finishes a chunk, applies chunk results in input order (quarantine files,
//! counts). At the end, duplicates are resolved over this run and the
//! existing dataset, superseded rows are rewritten away, and everything is
//! committed through the journal of [`crate::dataset`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use parquet::arrow::ArrowWriter;
use xxhash_rust::xxh3::xxh3_128;

use crate::batch::RowBuffer;
use crate::dataset::{self, Commit, Dataset, Ledger, LedgerEntry};
use crate::dedupe::{self, Buckets, Entry};
use crate::generic::{self, CsvFields, CsvLayout, CsvParser, JsonFields};
use crate::input::{self, Compression, InputFile};
use crate::mapping::{self, MapFormat, MappedCsv, Mapping, Record};
use crate::parse::{Zone, format_day, utc_day};
use crate::pii::{Pseudonymizer, create_private};
use crate::reason::{ReasonCode, Reject};
use crate::report::{FileReport, FileStatus, RunReport, Totals};
use crate::row::{Context, Problem, Row, convert};
use crate::split::{Framing, MALFORMED, MAX_RECORD, split};
use crate::{Error, IngestOptions, Input, Reporter, SourceKind, parquet_io};

/// A writer that got no row in this many of its worker's chunks is closed:
/// exports are mostly in time order, so a day that has passed is done.
/// Rows of that day arriving later go to a new part file.
const IDLE_CHUNKS: u64 = 8;
/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 16_384;
/// Encoded-but-unflushed Parquet bytes a worker may hold before it ends a
/// row group early (bounds memory when input is not sorted by time).
const WRITER_BUDGET: usize = 128 << 20;
/// Marks a dedupe location in a file that was already in the dataset.
const EXISTING: u64 = 1 << 63;

/// One input file's parsing context, shared by the chunks of that file.
struct FileCtx {
    idx: u32,
    name: String,
    kind: Kind,
}

enum Kind {
    Csv(Box<CsvLayout>),
    Ndjson,
    MappedCsv(Arc<Mapping>, Box<MappedCsv>),
    /// A JSON mapping over NDJSON (`false`) or a JSON array (`true`).
    MappedJson(Arc<Mapping>, bool),
}

impl Kind {
    /// Records are JSON array elements, numbered by index, not line.
    fn is_array(&self) -> bool {
        matches!(self, Kind::MappedJson(_, true))
    }

    /// Records are lines (NDJSON).
    fn is_lines(&self) -> bool {
        matches!(self, Kind::Ndjson | Kind::MappedJson(_, false))
    }
}

struct Chunk {
    seq: u64,
    file: Arc<FileCtx>,
    data: Vec<u8>,
    start: usize,
    ends: Vec<u32>,
    first_line: u64,
}

/// What the reader learned about a file, for the report.
#[derive(Default, Clone)]
struct FileInfo {
    format: Option<&'static str>,
    source: Option<String>,
    compression: Option<Compression>,
    ignored: Vec<String>,
}

enum Msg {
    Chunk(Chunk),
    FileEnd {
        seq: u64,
        file_idx: u32,
        info: FileInfo,
        result: Result<(u64, String), String>,
    },
}

// Dedupe entries (see `dedupe.rs`): `ord` is `(file_idx + 1) << 40 | line`
// for rows of this run and 0 for rows already in the dataset, so the later
// line, file or run wins; `loc` is `staged_id << 32 | row`, or
// `EXISTING | existing_idx << 32 | row`.

/// The input file of a dedupe entry of this run.
fn file_of(ord: u64) -> Option<usize> {
    (ord != 0).then(|| ((ord >> 40) - 1) as usize)
}

enum Done {
    Chunk {
        seq: u64,
        file_idx: u32,
        rows_read: u64,
        rejects: Vec<Reject>,
        entries: Vec<Entry>,
        /// Older duplicates settled within the chunk (never written).
        dups: u64,
    },
    FileEnd {
        seq: u64,
        file_idx: u32,
        info: FileInfo,
        result: Result<(u64, String), String>,
    },
}

impl Done {
    fn seq(&self) -> u64 {
        match self {
            Done::Chunk { seq, .. } | Done::FileEnd { seq, .. } => *seq,
        }
    }
}

struct Quarantine {
    rel: String,
    path: PathBuf,
    out: BufWriter<fs::File>,
}

struct FileState {
    report: FileReport,
    rows_ok: u64,
    /// Older duplicates dropped within chunks (see `settle_json`).
    chunk_dups: u64,
    quarantine: Option<Quarantine>,
    ended: bool,
    content: Option<(u64, String)>,
}

struct Sequencer<'a> {
    next: u64,
    pending: BTreeMap<u64, Done>,
    files: Vec<FileState>,
    buckets: Buckets,
    staging: &'a Path,
    ingest_id: &'a str,
    quarantine_names: BTreeSet<String>,
    error: Option<Error>,
}

impl Sequencer<'_> {
    fn submit(&mut self, done: Done, reporter: &dyn Reporter) {
        self.pending.insert(done.seq(), done);
        while let Some(done) = self.pending.remove(&self.next) {
            self.next += 1;
            if let Err(e) = self.apply(done, reporter) {
                self.error.get_or_insert(e);
            }
        }
    }

    fn apply(&mut self, done: Done, reporter: &dyn Reporter) -> Result<(), Error> {
        match done {
            Done::Chunk {
                file_idx,
                rows_read,
                rejects,
                entries,
                dups,
                ..
            } => {
                reporter.rows_done(rows_read);
                let f = &mut self.files[file_idx as usize];
                f.chunk_dups += dups;
                f.report.rows_read += rows_read;
                f.rows_ok += entries.len() as u64;
                f.report.rows_quarantined += rejects.len() as u64;
                for e in entries {
                    self.buckets.push(e).map_err(|e| {
                        Error::io("writing dedupe entries to the staging folder", e)
                    })?;
                }
                if rejects.is_empty() {
                    return Ok(());
                }
                if self.files[file_idx as usize].quarantine.is_none() {
                    let q = self.open_quarantine(file_idx as usize)?;
                    self.files[file_idx as usize].quarantine = Some(q);
                }
                let f = &mut self.files[file_idx as usize];
                let Some(q) = f.quarantine.as_mut() else {
                    return Ok(());
                };
                for r in rejects {
                    *f.report
                        .reasons
                        .entry(r.code.as_str().to_string())
                        .or_default() += 1;
                    write_reject(&mut q.out, &r)
                        .map_err(|e| Error::io(format!("writing {}", q.path.display()), e))?;
                }
                Ok(())
            }
            Done::FileEnd {
                file_idx,
                info,
                result,
                ..
            } => {
                let f = &mut self.files[file_idx as usize];
                f.ended = true;
                f.report.format = info.format.map(str::to_string);
                f.report.source = info.source;
                f.report.compression = info.compression;
                f.report.ignored_columns = info.ignored;
                match result {
                    Ok(content) => {
                        f.report.bytes = content.0;
                        f.report.xxh3_128 = Some(content.1.clone());
                        f.content = Some(content);
                        if let Some(q) = f.quarantine.as_mut() {
                            q.out
                                .flush()
                                .and_then(|()| q.out.get_ref().sync_all())
                                .map_err(|e| {
                                    Error::io(format!("writing {}", q.path.display()), e)
                                })?;
                        }
                    }
                    Err(msg) => {
                        f.report.status = FileStatus::Failed;
                        f.report.message = Some(msg);
                        if let Some(q) = f.quarantine.take() {
                            drop(q.out);
                            let _ = fs::remove_file(&q.path);
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn open_quarantine(&mut self, file_idx: usize) -> Result<Quarantine, Error> {
        let base = self.files[file_idx].report.name.clone();
        let mut qname = format!("{base}.rejects.csv");
        let mut n = 2;
        while !self.quarantine_names.insert(qname.clone()) {
            qname = format!("{base}.{n}.rejects.csv");
            n += 1;
        }
        let dir = self.staging.join(dataset::QUARANTINE);
        fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(&qname);
        let file = create_private(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        let mut out = BufWriter::new(file);
        out.write_all(b"source_line,reason_code,reason,raw\n")
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(Quarantine {
            rel: format!("{}/{}/{qname}", dataset::QUARANTINE, self.ingest_id),
            path,
            out,
        })
    }
}

fn write_reject(out: &mut impl Write, r: &Reject) -> std::io::Result<()> {
    write!(out, "{},{},", r.line, r.code.as_str())?;
    write_csv_field(out, r.reason.as_bytes())?;
    out.write_all(b",")?;
    write_csv_field(out, &r.raw)?;
    out.write_all(b"\n")
}

/// Writes one CSV field, quoted when it needs to be.
fn write_csv_field(out: &mut impl Write, v: &[u8]) -> std::io::Result<()> {
    if !v.iter().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        return out.write_all(v);
    }
    out.write_all(b"\"")?;
    for part in v.split_inclusive(|c| *c == b'"') {
        out.write_all(part)?;
        if part.last() == Some(&b'"') {
            out.write_all(b"\"")?;
        }
    }
    out.write_all(b"\"")
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
struct Staged {
    id: u32,
    rel: String,
    day: i64,
    file_idx: u32,
    rows: u32,
}

struct Shared<'a> {
    staging: &'a Path,
    ingest_id: &'a str,
    next_part: AtomicU32,
    zone: &'a Zone,
    pii: &'a Pseudonymizer,
    cancel: &'a AtomicBool,
    failed: AtomicBool,
}

impl Shared<'_> {
    fn new_part(&self, file_idx: u32, day: i64) -> Result<PartWriter, Error> {
        let (id, rel, path) = self.part_path(day)?;
        Ok(PartWriter {
            id,
            writer: parquet_io::create_storage_writer(&path)?,
            rel,
            path,
            day,
            file_idx,
            buf: RowBuffer::new(crate::batch::storage_schema(), BATCH_ROWS),
            rows: 0,
            last_used: 0,
        })
    }

    /// A fresh part in the staging area: (its number, which is also its id
    /// in dedupe locations; path relative to the dataset root once
    /// committed; path in staging).
    fn part_path(&self, day: i64) -> Result<(u32, String, PathBuf), Error> {
        let n = self.next_part.fetch_add(1, Ordering::Relaxed);
        let dir = format!("{}/date={}", dataset::INTERACTIONS, format_day(day));
        let staged_dir = self.staging.join(&dir);
        fs::create_dir_all(&staged_dir)
            .map_err(|e| Error::io(format!("creating {}", staged_dir.display()), e))?;
        let name = format!("part-{}-{n:05}.parquet", self.ingest_id);
        Ok((n, format!("{dir}/{name}"), staged_dir.join(name)))
    }
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
        parquet_io::close_writer(self.writer, &self.path)?;
        Ok(Staged {
            id: self.id,
            rel: self.rel,
            day: self.day,
            file_idx: self.file_idx,
            rows: self.rows,
        })
    }
}

/// Adapts one CSV record or JSON object to the conversion.
fn process_chunk(
    chunk: &Chunk,
    parser: &mut CsvParser,
    writers: &mut Writers,
    shared: &Shared<'_>,
) -> Result<(u64, Vec<Reject>, Vec<Entry>, u64), Error> {
    let cx = Context {
        zone: shared.zone,
        pii: shared.pii,
    };
    let file = &chunk.file;
    // Records of a JSON mapping are converted together after the loop
    // (`settle_json`), so duplicates within the chunk are settled first.
    let json_mapping = match &file.kind {
        Kind::MappedJson(m, _) => Some(m),
        _ => None,
    };
    let mut pending: Vec<(u64, &[u8])> = Vec::new();
    let mut rejects = Vec::new();
    let mut entries = Vec::with_capacity(chunk.ends.len());
    let mut rows_read = 0u64;
    let mut line = chunk.first_line;
    let mut pos = chunk.start;
    let array = file.kind.is_array();
    for &end_flag in &chunk.ends {
        // Record ends are relative to the chunk's start.
        let end = chunk.start + (end_flag & !MALFORMED) as usize;
        let mut rec = &chunk.data[pos..end];
        pos = end;
        let rec_line = line;
        if array {
            // An element, its separating comma and white space around.
            line += 1;
            rec = rec.trim_ascii();
            rec = rec.strip_suffix(b",").unwrap_or(rec).trim_ascii();
        } else {
            line += if file.kind.is_lines() {
                // A line holds no newline but its last byte.
                u64::from(rec.last() == Some(&b'\n'))
            } else {
                memchr::memchr_iter(b'\n', rec).count() as u64
            };
            if rec.last() == Some(&b'\n') {
                rec = &rec[..rec.len() - 1];
            } else {
                // The last record of a file without a final newline.
                line += 1;
            }
            if rec.last() == Some(&b'\r') {
                rec = &rec[..rec.len() - 1];
            }
        }
        if rec.is_empty() {
            continue;
        }
        rows_read += 1;
        let reject = |code: ReasonCode, reason: String| Reject {
            line: rec_line,
            raw: rec.to_vec(),
            code,
            reason,
        };
        if end_flag & MALFORMED != 0 {
            let why = match &file.kind {
                Kind::MappedJson(_, true) => {
                    "not a whole JSON array element: the file ends inside it (is it cut short?), text follows the closing ], or it is longer than 1 MiB"
                }
                Kind::Csv(_) | Kind::MappedCsv(..) => {
                    "unterminated quote or record longer than 1 MiB; the record is cut at the end of its first line"
                }
                _ => "the line is longer than 1 MiB",
            };
            rejects.push(reject(ReasonCode::MalformedRow, why.to_string()));
            continue;
        }
        let json;
        let mapped;
        let mut version = NO_VERSION;
        let converted: Result<Row<'_>, Problem> = match &file.kind {
            Kind::Csv(layout) => match parser.parse(rec) {
                Err(msg) => Err((ReasonCode::MalformedRow, msg)),
                Ok(n) if n != layout.width => Err((
                    ReasonCode::MalformedRow,
                    format!("{n} fields where the header has {}", layout.width),
                )),
                Ok(_) => convert(&CsvFields::new(parser, layout, rec), &cx),
            },
            Kind::Ndjson => match JsonFields::parse(rec) {
                Err(problem) => Err(problem),
                Ok(fields) => {
                    json = fields;
                    convert(&&json, &cx)
                }
            },
            Kind::MappedCsv(m, layout) => match parser.parse(rec) {
                Err(msg) => Err((ReasonCode::MalformedRow, msg)),
                Ok(n) if n != layout.width => Err((
                    ReasonCode::MalformedRow,
                    format!("{n} fields where the header has {}", layout.width),
                )),
                Ok(_) => {
                    let r = Record::Csv {
                        parser,
                        rec,
                        layout,
                    };
                    mapped = mapping::Mapped::new(m, &r, shared.zone);
                    convert_mapped(&mapped, &cx, &mut version)
                }
            },
            Kind::MappedJson(..) => {
                pending.push((rec_line, rec));
                continue;
            }
        };
        match converted {
            // A failed write is the run's problem, not the record's.
            Ok(row) => push_row(&row, version, file, rec_line, writers, shared, &mut entries)?,
            Err((code, reason)) => rejects.push(reject(code, reason)),
        }
    }
    let mut dups = 0;
    if let Some(m) = json_mapping {
        dups = settle_json(
            m,
            &pending,
            file,
            writers,
            shared,
            &mut rejects,
            &mut entries,
        )?;
        rejects.sort_by_key(|r| r.line);
    }
    enforce_budget(&mut writers.open)?;
    Ok((rows_read, rejects, entries, dups))
}

/// Converts a chunk's JSON records (of a mapping) and stores, of the
/// records of one id in the chunk, only the greatest (version, line): the
/// others are older duplicates, dropped here rather than written and then
/// rewritten away at the end of the run (CTR streams repeat a record close
/// to its first delivery; without a version the later line wins, as at
/// the end of the run). Returns how many were dropped.
fn settle_json(
    m: &Mapping,
    pending: &[(u64, &[u8])],
    file: &FileCtx,
    writers: &mut Writers,
    shared: &Shared<'_>,
    rejects: &mut Vec<Reject>,
    entries: &mut Vec<Entry>,
) -> Result<u64, Error> {
    let cx = Context {
        zone: shared.zone,
        pii: shared.pii,
    };
    let reject = |line: u64, rec: &[u8], (code, reason): Problem| Reject {
        line,
        raw: rec.to_vec(),
        code,
        reason,
    };
    let mut parsed = Vec::with_capacity(pending.len());
    for &(line, rec) in pending {
        match mapping::JsonRecord::parse(m, rec) {
            Ok(v) => parsed.push((line, rec, v)),
            Err(p) => rejects.push(reject(line, rec, p)),
        }
    }
    let mapped: Vec<mapping::Mapped<'_>> = parsed
        .iter()
        .map(|(_, _, v)| mapping::Mapped::new(m, &Record::Json(v), shared.zone))
        .collect();
    let mut rows: Vec<(Row<'_>, i64, u64)> = Vec::with_capacity(mapped.len());
    for (mp, (line, rec, _)) in mapped.iter().zip(&parsed) {
        let mut version = NO_VERSION;
        match convert_mapped(mp, &cx, &mut version) {
            Ok(row) => rows.push((row, version, *line)),
            Err(p) => rejects.push(reject(*line, rec, p)),
        }
    }
    // The winner of each id: the greatest (version, line).
    let mut best: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for (i, (row, version, line)) in rows.iter().enumerate() {
        let slot = best.entry(row.interaction_id).or_insert(i);
        let (_, v0, l0) = &rows[*slot];
        if (*version, *line) > (*v0, *l0) {
            *slot = i;
        }
    }
    let mut dups = 0;
    for (i, (row, version, line)) in rows.iter().enumerate() {
        if best.get(row.interaction_id) == Some(&i) {
            push_row(row, *version, file, *line, writers, shared, entries)?;
        } else {
            dups += 1;
        }
    }
    Ok(dups)
}

/// The version of a record whose source has none: it loses to any
/// versioned record of the same id, and among unversioned records the
/// later one wins.
const NO_VERSION: i64 = i64::MIN;

/// Converts a mapped record and takes its version (a bad version is the
/// record's problem, reported after the row's own checks).
fn convert_mapped<'a>(
    mapped: &'a mapping::Mapped<'_>,
    cx: &Context<'_>,
    version: &mut i64,
) -> Result<Row<'a>, Problem> {
    let row = convert(&mapped, cx)?;
    *version = mapped.version.clone()?.unwrap_or(NO_VERSION);
    Ok(row)
}

/// A worker's open Parquet writers, one per (input file, day).
struct Writers {
    open: HashMap<(u32, i64), PartWriter>,
    /// Chunks this worker has processed.
    tick: u64,
}

fn push_row(
    row: &Row<'_>,
    version: i64,
    file: &FileCtx,
    line: u64,
    writers: &mut Writers,
    shared: &Shared<'_>,
    entries: &mut Vec<Entry>,
) -> Result<(), Error> {
    let day = utc_day(row.arrived_at);
    let w = match writers.open.entry((file.idx, day)) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => v.insert(shared.new_part(file.idx, day)?),
    };
    w.last_used = writers.tick;
    w.buf.push(row, &file.name, line);
    entries.push(Entry {
        fp: xxh3_128(row.interaction_id.as_bytes()),
        ver: version,
        ord: (u64::from(file.idx) + 1) << 40 | line,
        loc: u64::from(w.id) << 32 | u64::from(w.rows),
    });
    w.rows += 1;
    if w.buf.len() >= BATCH_ROWS {
        w.flush_batch()?;
    }
    Ok(())
}

/// Ends the row group of the largest writers while the worker holds more
/// than its budget of encoded data.
fn enforce_budget(writers: &mut HashMap<(u32, i64), PartWriter>) -> Result<(), Error> {
    loop {
        let total: usize = writers.values().map(|w| w.writer.in_progress_size()).sum();
        if total <= WRITER_BUDGET {
            return Ok(());
        }
        let Some(w) = writers
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

fn worker(
    rx: Receiver<Msg>,
    recycle: Sender<Vec<u8>>,
    seq: &Mutex<Sequencer<'_>>,
    shared: &Shared<'_>,
    reporter: &dyn Reporter,
) -> Result<Vec<Staged>, Error> {
    let mut writers = Writers {
        open: HashMap::new(),
        tick: 0,
    };
    let mut staged = Vec::new();
    let mut parser = CsvParser::default();
    let result = (|| -> Result<(), Error> {
        for msg in rx.iter() {
            let done = match msg {
                Msg::Chunk(chunk) => {
                    // Chunks arrive in input order, so this worker is done
                    // with every earlier file; and a day it has not seen for
                    // a while is most likely over. Close those writers.
                    writers.tick += 1;
                    let tick = writers.tick;
                    let done: Vec<_> = writers
                        .open
                        .iter()
                        .filter(|(k, w)| k.0 < chunk.file.idx || w.last_used + IDLE_CHUNKS < tick)
                        .map(|(k, _)| *k)
                        .collect();
                    for k in done {
                        if let Some(w) = writers.open.remove(&k) {
                            staged.push(w.close()?);
                        }
                    }
                    let (rows_read, rejects, entries, dups) =
                        process_chunk(&chunk, &mut parser, &mut writers, shared)?;
                    let _ = recycle.send(chunk.data);
                    Done::Chunk {
                        seq: chunk.seq,
                        file_idx: chunk.file.idx,
                        rows_read,
                        rejects,
                        entries,
                        dups,
                    }
                }
                Msg::FileEnd {
                    seq,
                    file_idx,
                    info,
                    result,
                } => Done::FileEnd {
                    seq,
                    file_idx,
                    info,
                    result,
                },
            };
            let mut s = seq
                .lock()
                .map_err(|_| Error::Invalid("a worker panicked".into()))?;
            s.submit(done, reporter);
        }
        Ok(())
    })();
    if let Err(e) = result {
        shared.failed.store(true, Ordering::Relaxed);
        return Err(e);
    }
    for (_, w) in writers.open.drain() {
        staged.push(w.close()?);
    }
    Ok(staged)
}

/// What the reader does with each file.
enum Plan {
    Read,
    Skip(String),
}

struct Reader<'a> {
    tx: Sender<Msg>,
    recycle: Receiver<Vec<u8>>,
    seq: u64,
    chunk_bytes: usize,
    source: SourceKind,
    /// The vendor mappings `auto` tries.
    vendors: Vec<Arc<Mapping>>,
    reporter: &'a dyn Reporter,
    cancel: &'a AtomicBool,
    failed: &'a AtomicBool,
}

impl Reader<'_> {
    fn source_is_auto(&self) -> bool {
        matches!(self.source, SourceKind::Auto)
    }

    /// The mapping of a JSON array, from its first element.
    fn json_mapping(&self, first: Option<&[u8]>) -> Result<Arc<Mapping>, String> {
        match self.json_source(first)? {
            Some(m) => Ok(m),
            None => Err(
                "a JSON array; the generic source reads CSV or NDJSON (one object per line)"
                    .to_string(),
            ),
        }
    }

    /// The source of a JSON file from its first object: a mapping, or
    /// `None` for generic.
    fn json_source(&self, first: Option<&[u8]>) -> Result<Option<Arc<Mapping>>, String> {
        match &self.source {
            SourceKind::Generic => Ok(None),
            SourceKind::Mapped(m) if m.format == MapFormat::Json => Ok(Some(m.clone())),
            SourceKind::Mapped(m) => Err(format!(
                "the file is JSON, but source {} reads CSV (its mapping says format = \"csv\")",
                m.name
            )),
            SourceKind::Auto => {
                let obj = first.and_then(|r| serde_json::from_slice::<serde_json::Value>(r).ok());
                let Some(obj) = obj.filter(serde_json::Value::is_object) else {
                    // No record to go by: the generic reader quarantines
                    // what is not a record.
                    return Ok(None);
                };
                if let Some(m) = self.vendors.iter().find(|m| m.detects_object(&obj)) {
                    return Ok(Some(m.clone()));
                }
                let keys: Vec<&str> = obj
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                if keys.iter().any(|k| generic::resolve(k).is_some()) {
                    return Ok(None);
                }
                let tried: Vec<String> = self
                    .vendors
                    .iter()
                    .filter(|m| m.format == MapFormat::Json)
                    .map(|m| format!("{} (needs keys {})", m.name, m.detect.join(", ")))
                    .chain(std::iter::once(
                        "generic (needs canonical keys such as interaction_id)".to_string(),
                    ))
                    .collect();
                Err(format!(
                    "not a recognised export (tried: {}); the first record has keys {}. Name the source with --source, or write a mapping (--mapping)",
                    tried.join("; "),
                    keys.join(", ")
                ))
            }
        }
    }

    /// The source of a CSV file from its header.
    fn csv_source(&self, header: &[String]) -> Result<Kind, String> {
        match &self.source {
            SourceKind::Generic => Ok(Kind::Csv(Box::new(CsvLayout::from_header(header)?))),
            SourceKind::Mapped(m) if m.format == MapFormat::Csv => {
                Ok(Kind::MappedCsv(m.clone(), Box::new(m.csv_layout(header)?)))
            }
            SourceKind::Mapped(m) => Err(format!(
                "the file is CSV, but source {} reads JSON (its mapping says format = \"json\")",
                m.name
            )),
            SourceKind::Auto => {
                if let Some(m) = self.vendors.iter().find(|m| m.detects_header(header)) {
                    let layout = m.csv_layout(header)?;
                    return Ok(Kind::MappedCsv(m.clone(), Box::new(layout)));
                }
                match CsvLayout::from_header(header) {
                    Ok(layout) => Ok(Kind::Csv(Box::new(layout))),
                    Err(e) => {
                        let tried: Vec<String> = self
                            .vendors
                            .iter()
                            .filter(|m| m.format == MapFormat::Csv)
                            .map(|m| format!("{} (needs columns {})", m.name, m.detect.join(", ")))
                            .chain(std::iter::once(format!("generic ({e})")))
                            .collect();
                        Err(format!(
                            "not a recognised export (tried: {}). Name the source with --source, or write a mapping (--mapping)",
                            tried.join("; ")
                        ))
                    }
                }
            }
        }
    }

    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq - 1
    }

    fn buffer(&self, carry: &[u8]) -> Vec<u8> {
        let mut buf = self.recycle.try_recv().unwrap_or_default();
        buf.clear();
        buf.reserve(self.chunk_bytes + carry.len());
        buf.extend_from_slice(carry);
        buf
    }

    /// Reads one file into chunks. Returns false when the run is stopping.
    fn read_file(&mut self, idx: u32, file: &InputFile) -> bool {
        let mut info = FileInfo::default();
        let result = self.read_file_inner(idx, file, &mut info);
        let seq = self.next_seq();
        let result = match result {
            Ok(Some(content)) => Ok(content),
            Ok(None) => return false,
            Err(msg) => Err(msg),
        };
        self.tx
            .send(Msg::FileEnd {
                seq,
                file_idx: idx,
                info,
                result,
            })
            .is_ok()
    }

    fn read_file_inner(
        &mut self,
        idx: u32,
        file: &InputFile,
        info: &mut FileInfo,
    ) -> Result<Option<(u64, String)>, String> {
        let mut opened = input::open(file).map_err(|e| format!("cannot read: {e}"))?;
        info.compression = Some(opened.compression);
        self.reporter.file_started(&file.name, opened.size);
        let (stem, _) = input::strip_compression(&file.name);
        let ext = stem
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let mut carry: Vec<u8> = Vec::new();
        let mut ctx: Option<Arc<FileCtx>> = None;
        let mut line: u64 = 1;
        let mut first = true;
        let mut framing = Framing::Csv;
        let mut reported = 0u64;
        loop {
            if self.stopped() {
                return Ok(None);
            }
            let mut buf = self.buffer(&carry);
            let eof = fill(&mut opened, &mut buf, self.chunk_bytes)
                .map_err(|e| format!("read failed after {} bytes: {e}", opened.raw_bytes()))?;
            let raw = opened.raw_bytes();
            self.reporter.bytes_read(raw - reported);
            reported = raw;
            let mut start = 0;
            if first && (buf.len() >= 3 || eof) {
                // The BOM is removed from the buffer itself, so a header that
                // spans several reads (carried over) never sees it again.
                first = false;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
            }
            if ctx.is_none() {
                let body = &buf[start..];
                let Some(first_at) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
                    if eof {
                        // An empty file: nothing to read, nothing lost.
                        info.format = Some("empty");
                        return finish(opened).map(Some);
                    }
                    carry = buf;
                    continue;
                };
                let first_byte = body[first_at];
                let detected = if self.source_is_auto() {
                    " (detected)"
                } else {
                    ""
                };
                if first_byte == b'[' {
                    // A JSON array: its first element picks the source.
                    let open = start + first_at + 1;
                    let s = split(&buf[open..], Framing::JsonArray, eof);
                    if s.closed
                        && s.ends.is_empty()
                        && eof
                        && buf[open + s.consumed..].iter().all(u8::is_ascii_whitespace)
                    {
                        // `[]`: an export with no records (a quiet night),
                        // whatever its source.
                        info.format = Some("empty");
                        return finish(opened).map(Some);
                    }
                    let first = match s.ends.first() {
                        Some(&e) if e & MALFORMED == 0 => {
                            let rec = buf[open..open + e as usize].trim_ascii();
                            Some(rec.strip_suffix(b",").unwrap_or(rec).to_vec())
                        }
                        _ if !eof && !s.closed && buf.len() - open < MAX_RECORD => {
                            carry = buf;
                            continue;
                        }
                        _ => None,
                    };
                    let m = self.json_mapping(first.as_deref())?;
                    info.format = Some("json-array");
                    info.source = Some(m.name.clone());
                    self.reporter.note(&format!(
                        "{}: JSON array, source {}{detected}",
                        file.name, m.name
                    ));
                    ctx = Some(Arc::new(FileCtx {
                        idx,
                        name: file.name.clone(),
                        kind: Kind::MappedJson(m, true),
                    }));
                    // The elements are numbered from 1, whatever the lines.
                    line = 1;
                    start = open;
                    framing = Framing::JsonArray;
                } else if matches!(ext.as_str(), "ndjson" | "jsonl") || first_byte == b'{' {
                    let s = split(&buf[start..], Framing::Lines, eof);
                    if s.ends.is_empty() && !eof {
                        carry = buf;
                        continue;
                    }
                    // The first line that is a JSON object picks the source.
                    let mut prev = start;
                    let mut first = None;
                    for &e in &s.ends {
                        let end = start + (e & !MALFORMED) as usize;
                        let rec = buf[prev..end].trim_ascii();
                        prev = end;
                        if rec.first() == Some(&b'{')
                            && serde_json::from_slice::<serde_json::Value>(rec).is_ok()
                        {
                            first = Some(rec.to_vec());
                            break;
                        }
                    }
                    info.format = Some("ndjson");
                    let kind = match self.json_source(first.as_deref())? {
                        None => Kind::Ndjson,
                        Some(m) => Kind::MappedJson(m, false),
                    };
                    let name = match &kind {
                        Kind::MappedJson(m, _) => m.name.clone(),
                        _ => "generic".to_string(),
                    };
                    self.reporter
                        .note(&format!("{}: NDJSON, source {name}{detected}", file.name));
                    info.source = Some(name);
                    ctx = Some(Arc::new(FileCtx {
                        idx,
                        name: file.name.clone(),
                        kind,
                    }));
                    framing = Framing::Lines;
                } else {
                    info.format = Some("csv");
                    // Blank lines before the header are skipped (and counted,
                    // so line numbers stay true).
                    let first_at = start + first_at;
                    let line_start = memchr::memrchr(b'\n', &buf[start..first_at])
                        .map_or(start, |p| start + p + 1);
                    line += buf[start..line_start]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                    buf.drain(start..line_start);
                    let s = split(&buf[start..], Framing::Csv, eof);
                    let Some(&header_end) = s.ends.first() else {
                        carry = buf;
                        continue;
                    };
                    if header_end & MALFORMED != 0 {
                        return Err("the header line is malformed (unterminated quote)".to_string());
                    }
                    let header_end = start + header_end as usize;
                    let mut rec = &buf[start..header_end];
                    line += memchr::memchr_iter(b'\n', rec).count() as u64;
                    while let Some(stripped) =
                        rec.strip_suffix(b"\n").or_else(|| rec.strip_suffix(b"\r"))
                    {
                        rec = stripped;
                    }
                    let mut p = CsvParser::default();
                    let n = p.parse(rec).map_err(|e| format!("header: {e}"))?;
                    let header = p.strings(rec, n);
                    let kind = self.csv_source(&header)?;
                    let name = match &kind {
                        Kind::MappedCsv(m, layout) => {
                            info.ignored = layout.ignored.clone();
                            if !layout.missing.is_empty() {
                                self.reporter.note(&format!(
                                    "{}: no column {}; {} is empty in every row",
                                    file.name,
                                    layout.missing.join(", "),
                                    if layout.missing.len() > 1 {
                                        "they are"
                                    } else {
                                        "it is"
                                    },
                                ));
                            }
                            m.name.clone()
                        }
                        Kind::Csv(layout) => {
                            info.ignored = layout.ignored.clone();
                            "generic".to_string()
                        }
                        _ => String::new(),
                    };
                    self.reporter
                        .note(&format!("{}: CSV, source {name}{detected}", file.name));
                    info.source = Some(name);
                    ctx = Some(Arc::new(FileCtx {
                        idx,
                        name: file.name.clone(),
                        kind,
                    }));
                    framing = Framing::Csv;
                    start = header_end;
                }
            }
            let Some(file_ctx) = ctx.as_ref() else {
                continue;
            };
            let s = split(&buf[start..], framing, eof);
            let consumed = start + s.consumed;
            carry.clear();
            carry.extend_from_slice(&buf[consumed..]);
            let newlines = if framing == Framing::JsonArray || framing == Framing::AfterArray {
                s.ends.len() as u64
            } else if framing == Framing::Lines {
                // Every line record ends at its newline, but a cut one or
                // the last of a file without a final newline.
                s.ends
                    .iter()
                    .filter(|&&e| buf[start + (e & !MALFORMED) as usize - 1] == b'\n')
                    .count() as u64
            } else {
                memchr::memchr_iter(b'\n', &buf[start..consumed]).count() as u64
            };
            if s.closed {
                framing = Framing::AfterArray;
            }
            if eof && framing == Framing::JsonArray {
                self.reporter.note(&format!(
                    "{}: the JSON array has no closing ] (is the file cut short?); every element read is kept or quarantined",
                    file.name
                ));
            }
            buf.truncate(consumed);
            if !s.ends.is_empty() {
                let seq = self.next_seq();
                let chunk = Chunk {
                    seq,
                    file: file_ctx.clone(),
                    data: buf,
                    start,
                    ends: s.ends,
                    first_line: line,
                };
                if self.tx.send(Msg::Chunk(chunk)).is_err() {
                    return Ok(None);
                }
            }
            line += newlines;
            if eof {
                return finish(opened).map(Some);
            }
        }
    }
}

fn finish(opened: input::Opened) -> Result<(u64, String), String> {
    opened
        .finish()
        .map_err(|e| format!("read failed at the end of the file: {e}"))
}

/// Reads until `buf` holds `want` more bytes or the input ends. Returns
/// whether the input ended. (`read_to_end` fills spare capacity without
/// zeroing it first, unlike a `resize` + `read` loop.)
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let before = buf.len();
    buf.reserve(want);
    r.take(want as u64).read_to_end(buf)?;
    Ok(buf.len() - before < want)
}

fn new_ingest_id(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = crate::parse::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let tag = blake3::hash(format!("{}-{}", d.as_nanos(), std::process::id()).as_bytes());
    format!(
        "{y:04}{m:02}{day:02}T{:02}{:02}{:02}Z-{}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        &tag.to_hex()[..6]
    )
}

fn rfc3339(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = crate::parse::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn skipped_report(file: &InputFile, message: String) -> FileReport {
    let mut r = empty_report(file);
    r.status = FileStatus::Skipped;
    r.message = Some(message);
    r
}

fn empty_report(file: &InputFile) -> FileReport {
    FileReport {
        name: file.name.clone(),
        path: file
            .path
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
        status: FileStatus::Ingested,
        message: None,
        source: None,
        format: None,
        compression: None,
        bytes: 0,
        xxh3_128: None,
        rows_read: 0,
        rows_written: 0,
        rows_quarantined: 0,
        duplicates_dropped: 0,
        reasons: BTreeMap::new(),
        quarantine: None,
        ignored_columns: Vec::new(),
    }
}

/// Ingests `inputs` into the dataset of `opts`. Whole-file problems are
/// reported per file and do not stop the others; the returned error means
/// the run as a whole could not be done and the dataset is unchanged.
pub fn ingest(
    inputs: &[Input],
    opts: &IngestOptions,
    reporter: &dyn Reporter,
    cancel: &AtomicBool,
) -> Result<RunReport, Error> {
    let t0 = Instant::now();
    let now = SystemTime::now();
    let ds = Dataset::open(&opts.dataset)?;
    if let Some(note) = &ds.recovered {
        reporter.note(note);
    }
    let ledger = ds.ledger()?;
    let pii = Pseudonymizer::load(
        opts.pii_key.as_deref(),
        opts.pii_key_file.as_deref(),
        ds.root(),
    )?;
    let ingest_id = new_ingest_id(now);
    let staging = ds.staging_dir(&ingest_id);
    fs::create_dir_all(&staging)
        .map_err(|e| Error::io(format!("creating {}", staging.display()), e))?;

    let (files, skipped_paths) = input::expand(inputs);
    for (p, why) in &skipped_paths {
        reporter.note(&format!("skipping {} ({why})", p.display()));
    }
    // Files the ledger already has are skipped before any work; the
    // pre-check hashes only files whose size matches a ledger entry.
    let mut plans = Vec::with_capacity(files.len());
    for f in &files {
        let plan = match (&f.path, opts.force) {
            (Some(p), false) => match fs::metadata(p) {
                Ok(m) if m.is_file() && ledger.has_size(m.len()) => match input::hash_file(p) {
                    Ok((size, hash)) => match ledger.find(size, &hash) {
                        Some(e) => Plan::Skip(already(e)),
                        None => Plan::Read,
                    },
                    Err(_) => Plan::Read,
                },
                _ => Plan::Read,
            },
            _ => Plan::Read,
        };
        plans.push(plan);
    }

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let sequencer = Mutex::new(Sequencer {
        next: 0,
        pending: BTreeMap::new(),
        files: files
            .iter()
            .map(|f| FileState {
                report: empty_report(f),
                rows_ok: 0,
                chunk_dups: 0,
                quarantine: None,
                ended: false,
                content: None,
            })
            .collect(),
        buckets: Buckets::new(&staging.join("dedupe")),
        staging: &staging,
        ingest_id: &ingest_id,
        quarantine_names: BTreeSet::new(),
        error: None,
    });
    let shared = Shared {
        staging: &staging,
        ingest_id: &ingest_id,
        next_part: AtomicU32::new(0),
        zone: &opts.zone,
        pii: &pii,
        cancel,
        failed: AtomicBool::new(false),
    };

    let (tx, rx) = bounded::<Msg>(threads * 2);
    let (recycle_tx, recycle_rx) = unbounded::<Vec<u8>>();
    let mut staged: Vec<Staged> = Vec::new();
    let mut worker_error = None;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .filter_map(|i| {
                let rx = rx.clone();
                let recycle = recycle_tx.clone();
                let (seq, shared) = (&sequencer, &shared);
                std::thread::Builder::new()
                    .name(format!("cxpipe-worker-{i}"))
                    .spawn_scoped(s, move || worker(rx, recycle, seq, shared, reporter))
                    .map_err(|e| {
                        worker_error.get_or_insert(Error::io("starting a worker thread", e))
                    })
                    .ok()
            })
            .collect();
        drop(rx);
        drop(recycle_tx);
        let mut reader = Reader {
            tx,
            recycle: recycle_rx,
            seq: 0,
            chunk_bytes: opts.chunk_bytes.max(1024),
            source: opts.source.clone(),
            vendors: mapping::vendors().into_iter().map(Arc::new).collect(),
            reporter,
            cancel: shared.cancel,
            failed: &shared.failed,
        };
        for (idx, (file, plan)) in files.iter().zip(&plans).enumerate() {
            if matches!(plan, Plan::Skip(_)) {
                continue;
            }
            if !reader.read_file(idx as u32, file) {
                break;
            }
        }
        drop(reader);
        for h in handles {
            match h.join() {
                Ok(Ok(mut files)) => staged.append(&mut files),
                Ok(Err(e)) => {
                    worker_error.get_or_insert(e);
                }
                Err(_) => {
                    worker_error.get_or_insert(Error::Invalid("a worker thread panicked".into()));
                }
            }
        }
    });
    let mut seq = sequencer
        .into_inner()
        .map_err(|_| Error::Invalid("a worker thread panicked".into()))?;
    if cancel.load(Ordering::Relaxed) {
        drop(seq);
        ds.discard(&ingest_id)?;
        return Err(Error::Interrupted);
    }
    if let Some(e) = worker_error.or(seq.error.take()) {
        drop(seq);
        ds.discard(&ingest_id)?;
        return Err(e);
    }

    // File outcomes: planned skips, content already in the ledger (stdin),
    // and files whose reading never finished are settled here.
    for (i, plan) in plans.iter().enumerate() {
        let st = &mut seq.files[i];
        if let Plan::Skip(msg) = plan {
            st.report = skipped_report(&files[i], msg.clone());
            continue;
        }
        if st.report.status == FileStatus::Failed {
            continue;
        }
        if !st.ended {
            st.report.status = FileStatus::Failed;
            st.report.message = Some("reading did not finish".to_string());
            continue;
        }
        if let (false, Some((size, hash))) = (opts.force, &st.content)
            && let Some(e) = ledger.find(*size, hash)
        {
            st.report = skipped_report(&files[i], already(e));
            if let Some(q) = st.quarantine.take() {
                let _ = fs::remove_file(&q.path);
            }
        }
    }
    let ingested: Vec<bool> = seq
        .files
        .iter()
        .map(|f| f.report.status == FileStatus::Ingested)
        .collect();

    // Dedupe over this run's rows and the dataset's.
    let existing_files = ds.parquet_files()?;
    let mut buckets = std::mem::replace(&mut seq.buckets, Buckets::new(&staging.join("unused")));
    if !buckets.is_empty() {
        for (i, rel) in existing_files.iter().enumerate() {
            let mut failed = None;
            parquet_io::for_each_id(&ds.root().join(rel), |row, id| {
                let e = Entry {
                    fp: xxh3_128(id.as_bytes()),
                    ver: NO_VERSION,
                    ord: 0,
                    loc: EXISTING | (i as u64) << 32 | u64::from(row),
                };
                if let Err(err) = buckets.push(e) {
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
    }
    // The versions of stored rows whose source has one (hints, see
    // `dedupe.rs`).
    if !buckets.is_empty() {
        for rel in ds.versions_files()? {
            let path = ds.root().join(&rel);
            dedupe::read_versions(&path, |e| buckets.push(e))
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        }
    }
    // Rows of failed or skipped files take no part: they are not stored.
    let keep = |e: &Entry| file_of(e.ord).is_none_or(|f| ingested[f]);
    let (losers, version_files) = buckets
        .losers(
            &keep,
            threads,
            &staging.join(dataset::VERSIONS).join(&ingest_id),
        )
        .map_err(|e| Error::io("settling duplicates in the staging folder", e))?;
    let mut commit = Commit::default();
    let staging_rel = |rel: &str| format!("{}/{ingest_id}/{rel}", dataset::STAGING);
    let mut staged_drops: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut existing_drops: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let mut rows_replaced = 0u64;
    for path in &version_files {
        let name = file_name_of(&path.to_string_lossy()).to_string();
        commit.add_move(
            staging_rel(&format!("{}/{name}", dataset::VERSIONS)),
            format!("{}/{name}", dataset::VERSIONS),
        );
    }
    for e in losers {
        let row = (e.loc & 0xffff_ffff) as u32;
        if e.loc & EXISTING != 0 {
            let idx = ((e.loc & !EXISTING) >> 32) as usize;
            existing_drops.entry(idx).or_default().push(row);
            rows_replaced += 1;
        } else {
            staged_drops
                .entry((e.loc >> 32) as u32)
                .or_default()
                .push(row);
            if let Some(f) = file_of(e.ord) {
                seq.files[f].report.duplicates_dropped += 1;
            }
        }
    }

    // Assemble the commit.
    let mut partitions = BTreeSet::new();
    staged.sort_by_key(|s| s.id);
    // Staged files that hold losers are rewritten without them, in
    // parallel (duplicates spread over many days touch many files).
    let mut rewrites = Vec::new();
    for s in &staged {
        if !ingested[s.file_idx as usize] || s.rows == 0 {
            continue;
        }
        match staged_drops.get_mut(&s.id) {
            None => {
                commit.add_move(staging_rel(&s.rel), s.rel.clone());
                partitions.insert(s.day);
            }
            Some(drops) => {
                drops.sort_unstable();
                let (_, rel, path) = shared.part_path(s.day)?;
                rewrites.push((
                    staging.join(&s.rel),
                    rel,
                    path,
                    std::mem::take(drops),
                    s.day,
                ));
            }
        }
    }
    let kept = parallel_map(&rewrites, threads, |(src, _, dst, drops, _)| {
        let kept = parquet_io::rewrite_without(src, dst, drops)?;
        let _ = fs::remove_file(src);
        Ok(kept)
    })?;
    for ((_, rel, _, _, day), kept) in rewrites.into_iter().zip(kept) {
        if kept > 0 {
            commit.add_move(staging_rel(&rel), rel);
            partitions.insert(day);
        }
    }
    for (idx, mut drops) in existing_drops {
        drops.sort_unstable();
        let old_rel = &existing_files[idx];
        let day = day_of_partition(old_rel);
        let (_, rel, path) = match day {
            Some(d) => shared.part_path(d)?,
            None => continue,
        };
        let kept = parquet_io::rewrite_without(&ds.root().join(old_rel), &path, &drops)?;
        if kept > 0 {
            commit.add_move(staging_rel(&rel), rel);
        }
        commit.add_delete(old_rel.clone());
    }

    let mut totals = Totals {
        rows_replaced,
        ..Totals::default()
    };
    let mut new_ledger: Ledger = ledger.clone();
    let mut quarantine_dir = None;
    for st in &mut seq.files {
        let r = &mut st.report;
        match r.status {
            FileStatus::Skipped => {
                totals.files_skipped += 1;
                continue;
            }
            FileStatus::Failed => {
                totals.files_failed += 1;
                r.rows_read = 0;
                r.rows_quarantined = 0;
                r.duplicates_dropped = 0;
                r.reasons.clear();
                continue;
            }
            FileStatus::Ingested => totals.files_ingested += 1,
        }
        r.rows_written = st.rows_ok - r.duplicates_dropped;
        r.duplicates_dropped += st.chunk_dups;
        if let Some(q) = st.quarantine.take() {
            commit.add_move(
                staging_rel(&format!("{}/{}", dataset::QUARANTINE, file_name_of(&q.rel))),
                q.rel.clone(),
            );
            quarantine_dir = Some(format!("{}/{ingest_id}", dataset::QUARANTINE));
            r.quarantine = Some(q.rel);
        }
        totals.rows_read += r.rows_read;
        totals.rows_written += r.rows_written;
        totals.rows_quarantined += r.rows_quarantined;
        totals.duplicates_dropped += r.duplicates_dropped;
        totals.bytes_read += r.bytes;
        for (k, v) in &r.reasons {
            *totals.reasons.entry(k.clone()).or_default() += v;
        }
        if let Some((size, hash)) = &st.content {
            // A forced re-read replaces the file's entry instead of adding one.
            new_ledger
                .files
                .retain(|e| !(e.size == *size && &e.xxh3_128 == hash));
            new_ledger.files.push(LedgerEntry {
                name: r.name.clone(),
                size: *size,
                xxh3_128: hash.clone(),
                ingest_id: ingest_id.clone(),
                rows_read: r.rows_read,
                rows_written: r.rows_written,
            });
        }
    }
    let reports: Vec<FileReport> = seq.files.iter().map(|f| f.report.clone()).collect();
    drop(seq);
    let conservation_ok = reports
        .iter()
        .filter(|r| r.status == FileStatus::Ingested)
        .all(FileReport::conserved)
        && totals.rows_read
            == totals.rows_written + totals.rows_quarantined + totals.duplicates_dropped;
    let reject_rate = if totals.rows_read == 0 {
        0.0
    } else {
        totals.rows_quarantined as f64 / totals.rows_read as f64
    };
    let seconds = t0.elapsed().as_secs_f64();
    let anything = totals.files_ingested + totals.files_failed > 0;
    let mut report = RunReport {
        ingest_id: ingest_id.clone(),
        dataset: ds.root().display().to_string(),
        started_at: rfc3339(now),
        seconds,
        source: opts.source.as_str().to_string(),
        tz: opts.zone.name().to_string(),
        files: reports,
        conservation_ok,
        reject_rate,
        max_reject_rate: opts.max_reject_rate,
        reject_threshold_exceeded: reject_rate > opts.max_reject_rate,
        partitions: partitions.into_iter().map(format_day).collect(),
        quarantine_dir,
        committed: anything,
        rows_per_s: totals.rows_read as f64 / seconds.max(1e-9),
        mb_per_s: totals.bytes_read as f64 / 1e6 / seconds.max(1e-9),
        totals,
    };
    if !anything {
        ds.discard(&ingest_id)?;
        for f in &report.files {
            reporter.file_finished(f);
        }
        return Ok(report);
    }
    let report_rel = format!("{}/{ingest_id}.json", dataset::INGESTS);
    let report_staged = format!("{}/{ingest_id}/report.json", dataset::STAGING);
    dataset::write_json_durable(&ds.root().join(&report_staged), &report)?;
    commit.add_move(report_staged, report_rel);
    if totals_ingested(&report) {
        let ledger_staged = format!("{}/{ingest_id}/ledger.json", dataset::STAGING);
        dataset::write_json_durable(&ds.root().join(&ledger_staged), &new_ledger)?;
        commit.add_move(ledger_staged, dataset::LEDGER.to_string());
    }
    if cancel.load(Ordering::Relaxed) {
        ds.discard(&ingest_id)?;
        return Err(Error::Interrupted);
    }
    ds.commit(&ingest_id, commit)?;
    report.seconds = t0.elapsed().as_secs_f64();
    for f in &report.files {
        reporter.file_finished(f);
    }
    Ok(report)
}

/// `f` over `items` on up to `threads` threads, results in item order;
/// the first error wins.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<R, Error> + Sync,
) -> Result<Vec<R>, Error> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = threads.clamp(1, items.len().max(1));
    let mut results: Vec<(usize, Result<R, Error>)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return out;
                        };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if results.len() != items.len() {
        return Err(Error::Invalid("a rewrite thread panicked".into()));
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn totals_ingested(r: &RunReport) -> bool {
    r.totals.files_ingested > 0
}

fn already(e: &LedgerEntry) -> String {
    format!(
        "already ingested by {} as {} (same size and content hash); --force reads it again",
        e.ingest_id, e.name
    )
}

fn file_name_of(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

fn day_of_partition(rel: &str) -> Option<i64> {
    let date = rel.split('/').find_map(|p| p.strip_prefix("date="))?;
    let b = date.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let y: i32 = date[0..4].parse().ok()?;
    let m: u32 = date[5..7].parse().ok()?;
    let d: u32 = date[8..10].parse().ok()?;
    Some(crate::parse::days_from_civil(y, m, d))
}
