//! The workers: each takes chunks off the reader's channel, converts their
//! records (SPEC §3–§5), writes the rows into its own part files and hands
//! the chunk's result to the sequencer.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};
use cxpipe_model::Zone;
use rustc_hash::FxHashMap;

use super::duplicates::ChunkDup;
use super::keys::{self, NO_VERSION};
use super::sequencer::{ChunkDone, Done, Sequencer};
use crate::csv::CsvParser;
use crate::dedupe::Entry;
use crate::error::Error;
use crate::pii::Pseudonymizer;
use crate::read::{Chunk, FileCtx, FileKind, Msg, Rec};
use crate::reason::{ReasonCode, Reject};
use crate::reporter::Reporter;
use crate::row::{Context, Fields, Problem, Row, Slot, convert};
use crate::source::generic::{CsvFields, CsvLayout, JsonFields};
use crate::source::genesys;
use crate::source::mapping::{Mapped, MappedCsv, Mapping, Record};
use crate::write::part::{Parts, Staged, Writers};

/// What every worker shares.
pub(crate) struct Shared<'a> {
    /// The run's part files.
    pub(crate) parts: &'a Parts<'a>,
    /// Zone of timestamps without an offset.
    pub(crate) zone: &'a Zone,
    /// Customer pseudonyms.
    pub(crate) pii: &'a Pseudonymizer,
    /// Plausible times and durations.
    pub(crate) limits: crate::row::Limits,
    /// How many workers share the open part files.
    pub(crate) workers: usize,
    /// How many part files they may keep open together.
    pub(crate) max_open_parts: usize,
    /// Set when a worker fails, so the reader stops.
    pub(crate) failed: AtomicBool,
}

/// One worker thread: converts chunks until the reader is done. Returns
/// the part files it wrote.
pub(crate) fn worker(
    rx: Receiver<Msg>,
    recycle: Sender<Vec<u8>>,
    seq: &Mutex<Sequencer<'_>>,
    shared: &Shared<'_>,
    reporter: &dyn Reporter,
) -> Result<Vec<Staged>, Error> {
    let mut writers = Writers::new(shared.workers, shared.max_open_parts);
    let mut parser = CsvParser::default();
    let result = (|| -> Result<(), Error> {
        for msg in rx.iter() {
            let done = match msg {
                Msg::Chunk(chunk) => {
                    writers.next_chunk(chunk.file.idx)?;
                    let done = process_chunk(&chunk, &mut parser, &mut writers, shared)?;
                    let _ = recycle.send(chunk.data);
                    Done::Chunk(done)
                }
                Msg::FileEnd(end) => Done::FileEnd(end),
            };
            seq.lock()
                .map_err(|_| Error::Invalid("a worker panicked".into()))?
                .submit(done, reporter);
        }
        Ok(())
    })();
    if let Err(e) = result {
        shared.failed.store(true, Ordering::Relaxed);
        return Err(e);
    }
    writers.finish()
}

/// Where one chunk's converted rows and rejects go.
struct Sink<'w, 'a> {
    writers: &'w mut Writers,
    shared: &'w Shared<'a>,
    file: &'w FileCtx,
    rejects: Vec<Reject>,
    entries: Vec<Entry>,
    /// Records the mapping's `[source] skip` dropped.
    filtered: u64,
    /// Rows whose times were set equal within the clock skew.
    skew_fixed: u64,
    /// Records stored as several legs (Genesys): (line, legs).
    multi_legs: Vec<(u64, u32)>,
}

impl Sink<'_, '_> {
    /// Writes a row and records its dedupe entry.
    fn row(&mut self, row: &Row<'_>, version: i64, line: u64) -> Result<(), Error> {
        let at = self
            .writers
            .push(self.shared.parts, row, self.file.idx, &self.file.name, line)?;
        self.entries.push(keys::staged(
            row.interaction_id,
            version,
            self.file.idx,
            line,
            at,
        ));
        Ok(())
    }

    /// Quarantines a record.
    fn reject(&mut self, line: u64, raw: &[u8], (code, reason): Problem) {
        self.rejects.push(Reject {
            line,
            raw: raw.to_vec(),
            code,
            reason,
        });
    }

    /// A converted record: written, or quarantined with its problem. (A
    /// failed write is the run's problem, not the record's.)
    fn take(
        &mut self,
        rec: &Rec<'_>,
        converted: Result<Row<'_>, Problem>,
        version: i64,
    ) -> Result<(), Error> {
        match converted {
            Ok(row) => {
                self.skew_fixed += u64::from(row.skew_fixed);
                self.row(&row, version, rec.line)
            }
            Err(problem) => {
                self.reject(rec.line, rec.bytes, problem);
                Ok(())
            }
        }
    }
}

/// Converts the records of one chunk.
fn process_chunk(
    chunk: &Chunk,
    parser: &mut CsvParser,
    writers: &mut Writers,
    shared: &Shared<'_>,
) -> Result<ChunkDone, Error> {
    let cx = Context {
        zone: shared.zone,
        pii: shared.pii,
        limits: shared.limits,
    };
    let file = &*chunk.file;
    parser.set_delimiter(file.delimiter);
    let mut sink = Sink {
        writers,
        shared,
        file,
        rejects: Vec::new(),
        entries: Vec::with_capacity(chunk.capacity()),
        filtered: 0,
        skew_fixed: 0,
        multi_legs: Vec::new(),
    };
    // Records of a JSON mapping are converted together after the loop
    // (`settle_json`), so duplicates within the chunk are settled first.
    let mut pending: Vec<Rec<'_>> = Vec::new();
    let mut rows_read = 0u64;
    for rec in chunk.records() {
        rows_read += 1;
        if rec.malformed {
            let why = file.kind.malformed_reason().to_string();
            sink.reject(rec.line, rec.bytes, (ReasonCode::MalformedRow, why));
            continue;
        }
        match &file.kind {
            FileKind::Csv(layout) => convert_csv(layout, &rec, parser, &cx, &mut sink)?,
            FileKind::Ndjson => convert_ndjson(&rec, &cx, &mut sink)?,
            FileKind::MappedCsv(m, layout) => {
                convert_mapped_csv(m, layout, &rec, parser, &cx, &mut sink)?;
            }
            FileKind::MappedJson { .. } => pending.push(rec),
            FileKind::Genesys { .. } => convert_genesys(&rec, &cx, &mut sink)?,
        }
    }
    let mut dups = Vec::new();
    let mut seen = None;
    if let FileKind::MappedJson { mapping, .. } = &file.kind {
        let mut fields = vec![false; mapping.field_names().len()];
        dups = settle_json(mapping, &pending, &cx, &mut sink, &mut fields)?;
        sink.rejects.sort_by_key(|r| r.line);
        seen = Some(fields);
    }
    sink.writers.enforce_budget()?;
    Ok(ChunkDone {
        seq: chunk.seq,
        file_idx: file.idx,
        rows_read,
        rejects: sink.rejects,
        entries: sink.entries,
        dups,
        seen,
        filtered: sink.filtered,
        skew_fixed: sink.skew_fixed,
        multi_legs: sink.multi_legs,
    })
}

/// Splits a CSV record into fields; a record whose field count differs
/// from the header's is malformed.
fn parse_csv(parser: &mut CsvParser, rec: &[u8], width: usize) -> Result<(), Problem> {
    match parser.parse(rec) {
        Err(msg) => Err((ReasonCode::MalformedRow, msg)),
        Ok(n) if n != width => Err((
            ReasonCode::MalformedRow,
            format!("{n} fields where the header has {width}"),
        )),
        Ok(_) => Ok(()),
    }
}

/// A generic CSV record.
fn convert_csv(
    layout: &CsvLayout,
    rec: &Rec<'_>,
    parser: &mut CsvParser,
    cx: &Context<'_>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    let converted = match parse_csv(parser, rec.bytes, layout.width) {
        Err(problem) => Err(problem),
        Ok(()) => convert(&CsvFields::new(parser, layout, rec.bytes), cx),
    };
    sink.take(rec, converted, NO_VERSION)
}

/// A generic NDJSON record.
fn convert_ndjson(rec: &Rec<'_>, cx: &Context<'_>, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let fields = JsonFields::parse(rec.bytes);
    let converted = match &fields {
        Ok(fields) => convert(&fields, cx),
        Err(problem) => Err(problem.clone()),
    };
    sink.take(rec, converted, NO_VERSION)
}

/// A Genesys conversation: its legs, all stored, or the record refused
/// whole (a record is one unit of conservation); a conversation without
/// a leg is not a contact (filtered).
fn convert_genesys(rec: &Rec<'_>, cx: &Context<'_>, sink: &mut Sink<'_, '_>) -> Result<(), Error> {
    let conv: serde_json::Value = match serde_json::from_slice(rec.bytes) {
        Ok(v) => v,
        Err(e) => {
            sink.reject(
                rec.line,
                rec.bytes,
                (ReasonCode::MalformedRow, format!("invalid JSON: {e}")),
            );
            return Ok(());
        }
    };
    let legs = match genesys::legs(&conv) {
        Ok(legs) => legs,
        Err(problem) => {
            sink.reject(rec.line, rec.bytes, problem);
            return Ok(());
        }
    };
    if legs.is_empty() {
        sink.filtered += 1;
        return Ok(());
    }
    let mut rows = Vec::with_capacity(legs.len());
    for leg in &legs {
        match convert(&leg, cx) {
            Ok(row) => rows.push(row),
            Err((code, reason)) => {
                let id = (&leg)
                    .get(Slot::InteractionId)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                sink.reject(rec.line, rec.bytes, (code, format!("leg {id}: {reason}")));
                return Ok(());
            }
        }
    }
    for row in &rows {
        sink.skew_fixed += u64::from(row.skew_fixed);
        sink.row(row, NO_VERSION, rec.line)?;
    }
    if rows.len() > 1 {
        sink.multi_legs.push((rec.line, rows.len() as u32));
    }
    Ok(())
}

/// One record through a mapping; a file whose ids are record positions
/// (`position = true`) gets `<content key>:<line>`.
fn map_record<'r>(
    m: &'r Mapping,
    record: &Record<'r>,
    line: u64,
    file: &FileCtx,
    cx: &Context<'_>,
) -> Mapped<'r> {
    let mut mapped = Mapped::new(m, record, cx.zone);
    if let Some(key) = &file.position {
        mapped.set_position_id(format!("{key}:{line}"));
    }
    mapped
}

/// A CSV record through a mapping.
fn convert_mapped_csv(
    m: &Mapping,
    layout: &MappedCsv,
    rec: &Rec<'_>,
    parser: &mut CsvParser,
    cx: &Context<'_>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    if let Err(problem) = parse_csv(parser, rec.bytes, layout.width) {
        sink.reject(rec.line, rec.bytes, problem);
        return Ok(());
    }
    let record = Record::Csv {
        parser,
        rec: rec.bytes,
        layout,
    };
    match m.skipped(&record) {
        Ok(None) => {}
        Ok(Some(_)) => {
            sink.filtered += 1;
            return Ok(());
        }
        Err(problem) => {
            sink.reject(rec.line, rec.bytes, problem);
            return Ok(());
        }
    }
    let mapped = map_record(m, &record, rec.line, sink.file, cx);
    let mut version = NO_VERSION;
    let converted = convert_mapped(&mapped, cx, &mut version);
    sink.take(rec, converted, version)
}

/// A converted record of a JSON mapping, waiting for the others of its
/// chunk.
struct Candidate<'r> {
    row: Row<'r>,
    version: i64,
    line: u64,
}

/// Converts a chunk's JSON records (of a mapping) and stores, of the
/// records of one id in the chunk, only the greatest (version, line): the
/// others are older duplicates, dropped here rather than written and then
/// rewritten away at the end of the run (CTR streams repeat a record close
/// to its first delivery; without a version the later line wins, as at
/// the end of the run). Returns how many were dropped.
fn settle_json(
    m: &Mapping,
    pending: &[Rec<'_>],
    cx: &Context<'_>,
    sink: &mut Sink<'_, '_>,
    seen: &mut [bool],
) -> Result<Vec<ChunkDup>, Error> {
    let mut parsed = Vec::with_capacity(pending.len());
    for rec in pending {
        match m.json_record(rec.bytes) {
            Ok(v) => {
                v.mark_present(seen);
                match m.skipped(&Record::Json(&v)) {
                    Ok(None) => parsed.push((rec, v)),
                    Ok(Some(_)) => sink.filtered += 1,
                    Err(p) => sink.reject(rec.line, rec.bytes, p),
                }
            }
            Err(p) => sink.reject(rec.line, rec.bytes, p),
        }
    }
    let mapped: Vec<Mapped<'_>> = parsed
        .iter()
        .map(|(rec, v)| map_record(m, &Record::Json(v), rec.line, sink.file, cx))
        .collect();
    let mut rows: Vec<Candidate<'_>> = Vec::with_capacity(mapped.len());
    for (mp, (rec, _)) in mapped.iter().zip(&parsed) {
        let mut version = NO_VERSION;
        match convert_mapped(mp, cx, &mut version) {
            Ok(row) => rows.push(Candidate {
                row,
                version,
                line: rec.line,
            }),
            Err(p) => sink.reject(rec.line, rec.bytes, p),
        }
    }
    // The winner of each id: the greatest (version, line).
    let mut best: FxHashMap<&str, usize> = FxHashMap::default();
    best.reserve(rows.len());
    for (i, c) in rows.iter().enumerate() {
        let slot = best.entry(c.row.interaction_id).or_insert(i);
        let b = &rows[*slot];
        if (c.version, c.line) > (b.version, b.line) {
            *slot = i;
        }
    }
    let mut dups = Vec::new();
    for (i, c) in rows.iter().enumerate() {
        match best.get(c.row.interaction_id) {
            Some(&b) if b == i => sink.row(&c.row, c.version, c.line)?,
            Some(&b) => dups.push(ChunkDup {
                id: c.row.interaction_id.to_string(),
                line: c.line,
                kept_line: rows[b].line,
            }),
            None => {}
        }
    }
    Ok(dups)
}

/// Converts a mapped record and takes its version (a bad version is the
/// record's problem, reported after the row's own checks).
fn convert_mapped<'a>(
    mapped: &'a Mapped<'_>,
    cx: &Context<'_>,
    version: &mut i64,
) -> Result<Row<'a>, Problem> {
    let row = convert(&mapped, cx)?;
    *version = mapped.version.clone()?.unwrap_or(NO_VERSION);
    Ok(row)
}
