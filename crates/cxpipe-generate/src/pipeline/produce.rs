//! The producer: days generated and their rows formatted on rayon's pool,
//! handed to the writer in file order.
//!
//! A conveyor rather than a loop of parallel steps: the producer keeps up
//! to a few days per thread being generated and a few pieces per thread
//! being formatted, as independent tasks, and puts their results back in
//! order as they come. No thread waits for the slowest day of a step (a
//! day is the smallest unit of generation, and days differ in size), and
//! memory stays bounded by the numbers in flight.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel};

use rayon::{ScopeFifo, Yield};

use super::Piece;
use crate::encode::RowFormatter;
use crate::repeat::RepeatRec;
use crate::sim::{self, DayStats, Row};
use crate::world::World;

/// Days being generated (or waiting for an earlier day), per thread.
const DAYS_AHEAD_PER_THREAD: usize = 2;
/// At most this many rows held, in days being generated, waiting, or not
/// yet sent whole to the writer, however many days that allows (at least
/// one): two days of a 100M-row month (3.2M rows of 64 bytes each), so
/// that one is generated while the other is formatted. Four days in flight
/// and two more being formatted took 2.7 GiB at 100M rows.
const ROWS_AHEAD: u64 = 7 << 20;
/// Pieces being formatted (or waiting to be sent), per thread.
const PIECES_AHEAD_PER_THREAD: usize = 4;

/// What the producer needs, borrowed for the whole file.
pub(super) struct Producer<'a> {
    pub w: &'a World,
    pub n_slots: &'a [u64],
    pub formatter: &'a RowFormatter<'a>,
    pub threads: usize,
    pub rows_per_piece: usize,
}

/// What a task hands back.
enum Done {
    /// Day `.0`'s rows, sorted, and its statistics.
    Day(u32, Arc<Vec<Row>>, DayStats),
    /// The piece with sequence number `.0`.
    Piece(u64, Piece),
    /// A task panicked (a bug).
    Panicked,
}

/// A piece to format: rows `rows` of day `day`, the `seq`-th of the file;
/// the day's last piece carries the day's statistics.
struct Job {
    seq: u64,
    day: u32,
    rows: Arc<Vec<Row>>,
    range: Range<usize>,
    stats: Option<DayStats>,
}

/// The conveyor's state.
#[derive(Default)]
struct Conveyor {
    /// The next day to start generating, and the days started but not yet
    /// cut into jobs.
    next_day: u32,
    days_in_flight: usize,
    /// Rows of the days started and not yet sent whole, and of the days cut
    /// into jobs: (their last piece's sequence number, rows).
    rows_held: u64,
    days_cut: VecDeque<(u64, u64)>,
    /// Generated days that wait for an earlier one.
    days_done: BTreeMap<u32, (Arc<Vec<Row>>, DayStats)>,
    /// The next day to cut into jobs.
    next_cut: u32,
    /// Jobs not yet started, in file order.
    jobs: VecDeque<Job>,
    next_seq: u64,
    /// Pieces started but not yet sent.
    pieces_in_flight: usize,
    /// Formatted pieces that wait for an earlier one.
    pieces_done: BTreeMap<u64, Piece>,
    /// The next piece to send.
    next_send: u64,
}

impl Producer<'_> {
    /// Generates every day and sends its formatted rows to `tx` in file
    /// order. Stops early when the writer hangs up or `cancel` becomes true.
    ///
    /// # Panics
    ///
    /// When a generating or formatting task panicked (a bug), after the
    /// tasks still running have ended.
    pub(super) fn run(&self, tx: &SyncSender<Piece>, cancel: &AtomicBool) {
        let days_ahead = DAYS_AHEAD_PER_THREAD * self.threads;
        let pieces_ahead = PIECES_AHEAD_PER_THREAD * self.threads;
        let panicked = rayon::in_place_scope_fifo(|s| {
            let (done_tx, done_rx) = channel();
            let mut c = Conveyor::default();
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return false;
                }
                // Sending first: it frees room for more work, which is then
                // started before this thread waits (else it could wait with
                // nothing running).
                while let Some(piece) = c.pieces_done.remove(&c.next_send) {
                    if tx.send(piece).is_err() {
                        return false;
                    }
                    while let Some(&(last, rows)) = c.days_cut.front()
                        && last <= c.next_send
                    {
                        c.rows_held -= rows;
                        c.days_cut.pop_front();
                    }
                    c.next_send += 1;
                    c.pieces_in_flight -= 1;
                }
                // Cut days into jobs in order, only as the jobs run out, so
                // that days in flight stay bounded.
                while c.jobs.len() < pieces_ahead {
                    let Some((rows, stats)) = c.days_done.remove(&c.next_cut) else {
                        break;
                    };
                    self.cut(&mut c, rows, stats);
                }
                // Formatting first: it feeds the writer.
                while c.pieces_in_flight < pieces_ahead {
                    let Some(job) = c.jobs.pop_front() else {
                        break;
                    };
                    c.pieces_in_flight += 1;
                    self.spawn_format(s, job, done_tx.clone());
                }
                while c.next_day < self.w.days && c.days_in_flight < days_ahead {
                    let rows = self.w.day_rows[c.next_day as usize];
                    if c.rows_held > 0 && c.rows_held + rows > ROWS_AHEAD {
                        break;
                    }
                    c.days_in_flight += 1;
                    c.rows_held += rows;
                    self.spawn_day(s, c.next_day, done_tx.clone());
                    c.next_day += 1;
                }
                if c.next_cut == self.w.days && c.jobs.is_empty() && c.pieces_in_flight == 0 {
                    return false;
                }
                match next_done(&done_rx) {
                    Done::Day(day, rows, stats) => {
                        c.days_done.insert(day, (rows, stats));
                    }
                    Done::Piece(seq, piece) => {
                        c.pieces_done.insert(seq, piece);
                    }
                    Done::Panicked => return true,
                }
            }
        });
        // Raised here, once the scope has waited for the other tasks, so
        // that the caller reports it (as `Error::Worker`).
        assert!(!panicked, "a generator task panicked");
    }

    /// Cuts a generated day into jobs of `rows_per_piece` rows (an empty
    /// day into one empty job, which carries its statistics).
    fn cut(&self, c: &mut Conveyor, rows: Arc<Vec<Row>>, stats: DayStats) {
        let n = rows.len();
        let mut start = 0;
        let mut stats = Some(stats);
        loop {
            let end = (start + self.rows_per_piece).min(n);
            let last = end == n;
            c.jobs.push_back(Job {
                seq: c.next_seq,
                day: c.next_cut,
                rows: Arc::clone(&rows),
                range: start..end,
                stats: if last { stats.take() } else { None },
            });
            c.next_seq += 1;
            if last {
                break;
            }
            start = end;
        }
        c.days_cut
            .push_back((c.next_seq - 1, self.w.day_rows[c.next_cut as usize]));
        c.next_cut += 1;
        c.days_in_flight -= 1;
    }

    fn spawn_day<'s>(&'s self, s: &ScopeFifo<'s>, day: u32, done: Sender<Done>) {
        s.spawn_fifo(move |_| {
            let generated = catch_unwind(AssertUnwindSafe(|| {
                let mut rows = Vec::new();
                let stats =
                    sim::generate_day(self.w, self.n_slots, day, &mut rows, &mut Vec::new());
                (Arc::new(rows), stats)
            }));
            // The producer may have stopped listening (cancelled); nothing
            // then needs the day.
            let _ = done.send(match generated {
                Ok((rows, stats)) => Done::Day(day, rows, stats),
                Err(_) => Done::Panicked,
            });
        });
    }

    fn spawn_format<'s>(&'s self, s: &ScopeFifo<'s>, job: Job, done: Sender<Done>) {
        s.spawn_fifo(move |_| {
            let formatted = catch_unwind(AssertUnwindSafe(|| {
                let mut piece = format_piece(self.formatter, job.day, &job.rows[job.range.clone()]);
                piece.day_done = job.stats;
                piece
            }));
            let _ = done.send(match formatted {
                Ok(piece) => Done::Piece(job.seq, piece),
                Err(_) => Done::Panicked,
            });
        });
    }
}

/// The next result of a task. A pool thread (when the caller runs inside a
/// rayon pool) runs pending tasks while it waits, so that even a pool of
/// one thread makes progress; it blocks only when nothing is pending, that
/// is when every task it waits for is running elsewhere.
fn next_done(rx: &Receiver<Done>) -> Done {
    loop {
        match rx.try_recv() {
            Ok(done) => return done,
            Err(TryRecvError::Disconnected) => return Done::Panicked,
            Err(TryRecvError::Empty) => {}
        }
        match rayon::yield_now() {
            Some(Yield::Executed) => {}
            Some(Yield::Idle) | None => return rx.recv().unwrap_or(Done::Panicked),
        }
    }
}

/// Formats `rows` of day `day`, with the repeat records of its inbound
/// rows. The formatter's caches only save work, so a piece's bytes do not
/// depend on which formatter wrote the piece before.
fn format_piece(formatter: &RowFormatter<'_>, day: u32, rows: &[Row]) -> Piece {
    let mut f = formatter.clone();
    f.set_day(day);
    let day_t = day * 86_400;
    let mut bytes = Vec::with_capacity(super::PIECE_BYTES as usize + 4096);
    let mut recs = Vec::with_capacity(rows.len());
    let mut extra_records = 0;
    for r in rows {
        extra_records += u64::from(f.push(&mut bytes, r) - 1);
        recs.extend(RepeatRec::of_row(day_t, r));
    }
    Piece {
        day,
        bytes,
        recs,
        extra_records,
        day_done: None,
    }
}
