//! The days of a file: generated and formatted in parallel, written in
//! order.
//!
//! Every day is a pure function of the [`World`] and the seed (module
//! `sim`), so the slots of every day are counted with a `par_iter` over the
//! days, and then days are generated independently on rayon's pool and
//! their rows formatted independently in pieces of about [`PIECE_BYTES`]
//! (module `produce`); the results are put back in file order, so the bytes
//! do not depend on the number of threads. The file itself is written by
//! one thread in file order, fed through a bounded channel: the order of
//! the bytes matters, and the channel's back-pressure is what bounds
//! memory, since generation stops when the writer (compressing, say) falls
//! behind. The repeat-rate measurement needs the rows in file order too,
//! and has its own thread so that it overlaps the writing.
//!
//! Memory is bounded by the rows held (64 bytes a row: a few days per
//! thread, but never more than `produce::ROWS_AHEAD` rows unless one day
//! alone is larger), the repeat tracker's one window of handled contacts,
//! and a few formatted pieces per thread in flight; no day's formatted
//! output is ever held whole.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rayon::prelude::*;

use crate::encode::RowFormatter;
use crate::repeat::{RepeatRate, RepeatRec, RepeatTracker};
use crate::sim::{self, DayStats};
use crate::sink::AtomicFile;
use crate::world::World;
use crate::{Error, FileFormat, Layout};

mod produce;

/// About how many bytes of output a piece handed to the writer holds.
const PIECE_BYTES: u64 = 1 << 20;
/// Batches of repeat records waiting for the repeat tracker.
const RECORD_BATCHES_AHEAD: usize = 16;
/// Formatted pieces waiting for the writer, per thread of the pool.
const PIECES_QUEUED_PER_THREAD: usize = 8;

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
    format: FileFormat,
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
        let (tx, rx) = sync_channel(PIECES_QUEUED_PER_THREAD * threads);
        let writer = s.spawn(move || {
            let sink = Sink {
                file,
                first_in_array: format == FileFormat::JsonArray,
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
            let producer = produce::Producer {
                w,
                n_slots: &n_slots,
                formatter,
                threads,
                rows_per_piece,
            };
            producer.run(&tx, cancel);
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
