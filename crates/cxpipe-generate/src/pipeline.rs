//! The days of a file: generated and formatted in parallel, written in
//! order.
//!
//! Every day is a pure function of the [`World`] and the seed (module
//! `sim`), so days are generated independently on rayon's pool and their
//! rows formatted independently in pieces of about [`PIECE_BYTES`]; both
//! steps collect their results in order, so the bytes do not depend on the
//! number of threads. The file itself is written by one thread in file
//! order, fed through a bounded channel: the order of the bytes matters, and
//! the channel's back-pressure is what bounds memory, since generation stops
//! when the writer (compressing, say) falls behind. The repeat-rate
//! measurement needs the rows in file order too, and has its own thread so
//! that it overlaps the writing.
//!
//! Memory is bounded by two windows of days of compact rows (a few days per
//! thread, about 72 bytes a row: one being generated, one being formatted)
//! plus a few formatted pieces per thread in flight; no day's formatted
//! output is ever held whole.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rayon::prelude::*;

use crate::fmt::RowFormatter;
use crate::repeat::{RepeatRate, RepeatRec, RepeatTracker};
use crate::sim::{self, DayStats, Row};
use crate::sink::AtomicFile;
use crate::world::World;
use crate::{Error, Format, Layout};

/// About how many bytes of output a piece handed to the writer holds.
const PIECE_BYTES: u64 = 1 << 20;
/// Days generated in one parallel step, per thread of the pool: more than
/// one, so that a short day (a Sunday) and a long one balance out.
const DAYS_PER_THREAD: usize = 2;
/// Pieces formatted in one parallel step, per thread of the pool.
const PIECES_PER_THREAD: usize = 4;
/// Batches of repeat records waiting for the repeat tracker.
const RECORD_BATCHES_AHEAD: usize = 16;

/// What the writer saw of one agent's rows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AgentSeen {
    /// The first day (index from the start) with a contact they handled.
    pub first_day: Option<u32>,
    /// The last such day.
    pub last_day: Option<u32>,
    /// Rows handled.
    pub handled: u64,
}

/// Counts over the whole file.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Totals {
    /// Abandoned rows.
    pub abandoned: u64,
    /// Transferred contacts (each is two rows).
    pub transfers: u64,
    /// Card numbers planted in wrap-up notes.
    pub cards: u64,
    /// Records written besides one per row (the older duplicate versions of
    /// the amazon-connect layout).
    pub extra_records: u64,
}

/// What the rows written showed, for the facts.
#[derive(Debug)]
pub(crate) struct Observed {
    /// By agent index.
    pub agents: Vec<AgentSeen>,
    /// Over the whole file.
    pub totals: Totals,
    /// The repeat-contact rate of the rows, in file order.
    pub repeat: RepeatRate,
}

/// One day's rows, sorted by arrival, and its statistics (until they are
/// sent with the day's last piece).
struct GeneratedDay {
    /// Index from the start.
    day: u32,
    rows: Vec<Row>,
    stats: Option<DayStats>,
}

/// Rows `rows` of the `day`-th day of a window; `last` for its last piece.
struct Chunk {
    /// Index into the window.
    day: usize,
    rows: Range<usize>,
    last: bool,
}

/// A run of formatted rows, in file order.
struct Piece {
    /// The day the rows are of (index from the start).
    day: u32,
    /// The rows, formatted.
    bytes: Vec<u8>,
    /// Their repeat records (inbound rows only).
    recs: Vec<RepeatRec>,
    /// Records written besides one per row.
    extra_records: u64,
    /// The day's statistics, on the day's last piece.
    day_done: Option<DayStats>,
}

/// Writes every day of `w` into `file` (after its header) with `formatter`,
/// and returns what the rows showed. Stops with [`Error::Cancelled`] soon
/// after `cancel` becomes true; `out` names the file in errors.
pub(crate) fn write_days(
    w: &World,
    formatter: &RowFormatter<'_>,
    layout: Layout,
    format: Format,
    file: &mut AtomicFile,
    out: &Path,
    cancel: &AtomicBool,
) -> Result<Observed, Error> {
    let n_slots = count_slots(w);
    let threads = rayon::current_num_threads().max(1);
    let worker_failed = || Error::Worker {
        path: out.to_path_buf(),
    };
    std::thread::scope(|s| {
        let (rec_tx, rec_rx) = sync_channel(RECORD_BATCHES_AHEAD);
        let tracker = s.spawn(move || track_repeats(rec_rx));
        let (tx, rx) = sync_channel(2 * PIECES_PER_THREAD * threads);
        let writer = s.spawn(move || {
            let sink = Sink {
                file,
                first_in_array: format == Format::JsonArray,
                out,
                cancel,
            };
            sink.write_pieces(rx, &rec_tx, w.agents.len())
        });
        let rows_per_piece = (PIECE_BYTES / layout.approx_row_bytes()).max(1) as usize;
        // Generation runs here, on the caller's thread, so that it uses the
        // caller's rayon pool; a panic in it (a bug) is reported as
        // `Error::Worker` like one in the writer or the tracker.
        let produced = catch_unwind(AssertUnwindSafe(|| {
            produce(w, &n_slots, formatter, threads, rows_per_piece, &tx, cancel);
        }));
        // Hanging up ends the writer (and, through it, the tracker).
        drop(tx);
        let (agents, totals) = writer.join().map_err(|_| worker_failed())??;
        let repeat = tracker.join().map_err(|_| worker_failed())?;
        produced.map_err(|_| worker_failed())?;
        Ok(Observed {
            agents,
            totals,
            repeat,
        })
    })
}

/// Pass 1: the slots of every day (repeat customers look up earlier days'
/// slots, so this comes before any day is generated).
fn count_slots(w: &World) -> Vec<u64> {
    (0..w.days)
        .into_par_iter()
        .map(|day| sim::count_slots(w, day))
        .collect()
}

/// Generates the days in windows of `DAYS_PER_THREAD * threads` and sends
/// their formatted rows to the writer in file order. Stops when the writer
/// hangs up or `cancel` becomes true.
///
/// Each window is generated while the previous one is formatted and sent
/// (`rayon::join`), so that threads done with their days of one step help
/// with the other instead of waiting for the slowest day. Sending may block
/// a pool thread until the writer catches up; that cannot deadlock, as the
/// writer never waits for the pool.
fn produce(
    w: &World,
    n_slots: &[u64],
    formatter: &RowFormatter<'_>,
    threads: usize,
    rows_per_piece: usize,
    tx: &SyncSender<Piece>,
    cancel: &AtomicBool,
) {
    let send = |days: Vec<GeneratedDay>| -> bool {
        send_window(days, formatter, threads, rows_per_piece, tx)
    };
    let days: Vec<u32> = (0..w.days).collect();
    let mut previous: Option<Vec<GeneratedDay>> = None;
    for window in days.chunks(DAYS_PER_THREAD * threads) {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let (generated, sent) = rayon::join(
            || generate_window(w, n_slots, window),
            || previous.take().is_none_or(send),
        );
        if !sent {
            return;
        }
        previous = Some(generated);
    }
    if let Some(last) = previous {
        send(last);
    }
}

/// Generates the days of `window`, in parallel, in order.
fn generate_window(w: &World, n_slots: &[u64], window: &[u32]) -> Vec<GeneratedDay> {
    window
        .par_iter()
        .map_init(Vec::new, |scratch, &day| {
            let mut rows = Vec::new();
            let stats = sim::generate_day(w, n_slots, day, &mut rows, scratch);
            GeneratedDay {
                day,
                rows,
                stats: Some(stats),
            }
        })
        .collect()
}

/// Formats the rows of `days` in pieces, in parallel, and sends them in
/// order; false when the writer hung up.
fn send_window(
    mut days: Vec<GeneratedDay>,
    formatter: &RowFormatter<'_>,
    threads: usize,
    rows_per_piece: usize,
    tx: &SyncSender<Piece>,
) -> bool {
    let chunks = chunks_of(&days, rows_per_piece);
    for group in chunks.chunks(PIECES_PER_THREAD * threads) {
        let pieces: Vec<Piece> = group
            .par_iter()
            .map(|c| format_piece(formatter, &days[c.day], c.rows.clone()))
            .collect();
        for (mut piece, c) in pieces.into_iter().zip(group) {
            if c.last {
                piece.day_done = days[c.day].stats.take();
            }
            if tx.send(piece).is_err() {
                return false;
            }
        }
    }
    true
}

/// The pieces of a window's days, in file order: every day has at least
/// one (an empty day an empty one, which carries its statistics).
fn chunks_of(days: &[GeneratedDay], rows_per_piece: usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for (i, g) in days.iter().enumerate() {
        let n = g.rows.len();
        let mut start = 0;
        loop {
            let end = (start + rows_per_piece).min(n);
            chunks.push(Chunk {
                day: i,
                rows: start..end,
                last: end == n,
            });
            if end == n {
                break;
            }
            start = end;
        }
    }
    chunks
}

/// Formats rows `rows` of day `g`, with the repeat records of its inbound
/// rows. The formatter's caches only save work, so a piece's bytes do not
/// depend on which formatter wrote the piece before.
fn format_piece(formatter: &RowFormatter<'_>, g: &GeneratedDay, rows: Range<usize>) -> Piece {
    let mut f = formatter.clone();
    f.set_day(g.day);
    let day_t = g.day * 86_400;
    let rows = &g.rows[rows];
    let mut bytes = Vec::with_capacity(PIECE_BYTES as usize + 4096);
    let mut recs = Vec::with_capacity(rows.len());
    let mut extra_records = 0;
    for r in rows {
        extra_records += u64::from(f.push(&mut bytes, r) - 1);
        recs.extend(RepeatRec::of_row(day_t, r));
    }
    Piece {
        day: g.day,
        bytes,
        recs,
        extra_records,
        day_done: None,
    }
}

/// The writer's end: the file and what it needs to write it.
struct Sink<'a> {
    file: &'a mut AtomicFile,
    /// Records of a JSON array are each written after a `,` and a line
    /// break; the first one's comma is dropped here, so that formatting
    /// needs no state shared between pieces.
    first_in_array: bool,
    out: &'a Path,
    cancel: &'a AtomicBool,
}

impl Sink<'_> {
    /// Writes the pieces in the order received, hands their repeat records
    /// to the tracker and adds up what the days showed.
    fn write_pieces(
        mut self,
        rx: Receiver<Piece>,
        rec_tx: &SyncSender<Vec<RepeatRec>>,
        agents: usize,
    ) -> Result<(Vec<AgentSeen>, Totals), Error> {
        let mut seen = vec![AgentSeen::default(); agents];
        let mut totals = Totals::default();
        for piece in rx {
            self.check_cancel()?;
            self.write(&piece.bytes)?;
            totals.extra_records += piece.extra_records;
            if rec_tx.send(piece.recs).is_err() {
                return Err(Error::Worker {
                    path: self.out.to_path_buf(),
                });
            }
            if let Some(stats) = piece.day_done {
                record_day(&mut seen, &mut totals, piece.day, &stats);
            }
        }
        // The producer also stops on `cancel`, perhaps before sending
        // anything.
        self.check_cancel()?;
        Ok((seen, totals))
    }

    /// [`Error::Cancelled`] once `cancel` is true.
    fn check_cancel(&self) -> Result<(), Error> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled {
                path: self.out.to_path_buf(),
            });
        }
        Ok(())
    }

    /// Appends `bytes` to the file (without the separator before the first
    /// record of a JSON array).
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let bytes = match bytes.split_first() {
            Some((b',', rest)) if self.first_in_array => {
                self.first_in_array = false;
                rest
            }
            _ => bytes,
        };
        self.file.write_all(bytes).map_err(|source| Error::Io {
            path: self.out.to_path_buf(),
            source,
        })
    }
}

/// Adds day `day`'s statistics to the agents' and the file's.
fn record_day(seen: &mut [AgentSeen], totals: &mut Totals, day: u32, stats: &DayStats) {
    for (s, &n) in seen.iter_mut().zip(&stats.handled) {
        if n > 0 {
            s.first_day = Some(s.first_day.map_or(day, |f| f.min(day)));
            s.last_day = Some(day);
            s.handled += u64::from(n);
        }
    }
    totals.abandoned += stats.abandoned;
    totals.transfers += stats.transfers;
    totals.cards += stats.cards;
}

/// The repeat tracker's thread: every inbound row, in file order.
fn track_repeats(rx: Receiver<Vec<RepeatRec>>) -> RepeatRate {
    let mut tracker = RepeatTracker::new();
    for recs in rx {
        for r in recs {
            tracker.feed(r);
        }
    }
    tracker.finish()
}
