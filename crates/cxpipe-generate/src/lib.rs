//! Realistic synthetic contact-center exports, deterministic by seed, in
//! cxpipe's generic layout or a vendor's (SPEC §4), with a JSON file of
//! *planted facts* (departures, new hires, breach-prone agents, understaffed
//! intervals, the repeat-contact rate) that are true of the rows written.
//!
//! ```no_run
//! use std::path::Path;
//! use cxpipe_generate::{Format, GenConfig, Layout, generate};
//!
//! let out = Path::new("month.csv.zst");
//! let cfg = GenConfig { rows: 1_000_000, format: Format::from_path(out), ..GenConfig::default() };
//! let summary = generate(&cfg, out)?;
//! assert_eq!(summary.rows, 1_000_000);
//!
//! // The same contacts as Amazon Connect contact trace records.
//! let out = Path::new("month.ndjson.gz");
//! let layout = Layout::AmazonConnect;
//! let cfg = GenConfig { rows: 1_000_000, layout, format: layout.format_for(out)?, ..GenConfig::default() };
//! generate(&cfg, out)?;
//! # Ok::<(), cxpipe_generate::Error>(())
//! ```
//!
//! # Layouts
//!
//! A [`Layout`] decides how the contacts are written, never which: the same
//! configuration and seed give the same rows (ids, times, agents, customers,
//! outcomes) in every layout. [`Layout::format_for`] picks the encoding from
//! the file name and refuses names that do not fit. Each vendor layout is
//! exactly the one the built-in ingest mappings read:
//!
//! - **generic** — SPEC §4's own columns ([`FIELDS`]), as CSV or NDJSON.
//! - **amazon-connect** — contact trace records, NDJSON (`.ndjson`,
//!   `.jsonl`) or one JSON array (`.json`: `[`, records separated by `,` and
//!   a line break, `]`). `ContactId` is the generic id and
//!   `InitialContactId` the chain id (`null` when there is none);
//!   `InitiationMethod` is `OUTBOUND`, `TRANSFER` for the second leg of a
//!   transfer, else `INBOUND`, whose `InitiationTimestamp` is 0–30 s of IVR
//!   (drawn from the id) before `Queue.EnqueueTimestamp`, the arrival.
//!   `LastUpdateTimestamp` is the end of after-contact work plus 5 s. SMS and
//!   social contacts are `CHAT` with a `connect:SMS` / `connect:WhatsApp`
//!   subtype; `Attributes` carries `csat` and `disposition` as strings. As
//!   CTR streams deliver at least once, about 0.5 % of the contacts (chosen
//!   by id) are also written as an older version of their record (a minute
//!   older, without ACW time or CSAT), right before or right after the
//!   final one, half each.
//! - **five9** — the call log CSV (`CALL ID,TIMESTAMP,CAMPAIGN,…`): the
//!   arrival as America/New_York wall-clock time `MM/DD/YYYY HH:MM:SS`,
//!   durations `HH:MM:SS`, `[None]` for no agent, `1`/`0` flags. It has no
//!   channel (every contact is written as a call), chain, site or CSAT.
//! - **talkdesk** — the contacts report CSV (`Interaction ID,Contact ID,…`):
//!   the chain id (else the contact's own) as `Interaction ID`, UTC times
//!   `YYYY-MM-DD HH:MM:SS`, whole-second durations, `Yes`/`No`. It has no
//!   channel, site or CSAT.
//!
//! # How it works
//!
//! A world is planned first: agents (team, site, home
//! queue, shift, days off, and whether they join late, leave, fade out, are
//! breach-prone or at risk), rows per day, the intraday arrival curve and the
//! load of every queue interval. Each day's rows are then filled by
//! contacts whose every property is drawn from a generator seeded by
//! `(seed, day, contact)` alone (module `sim`). Days are generated in parallel on
//! scoped threads and written in day order, sorted by arrival within a day
//! (as real exports are). Randomness is a small in-crate xoshiro256**, so
//! files stay identical across dependency updates.
//!
//! # The facts file
//!
//! `seed`, `rows` (distinct contacts), `start`, `end`, `days`, `layout`
//! (its name), `format` (`csv`, `ndjson` or `json`); for amazon-connect also
//! `records` (records written) and `duplicate_records` (older versions among
//! them); for five9 and talkdesk `tz`, the zone of their offset-less times
//! (`America/New_York`, `UTC`);
//! `agents`: one object per agent with `agent_id`, `team`, `site`, `queue`,
//! the planned `first_day` / `last_day`, the observed `first_seen` /
//! `last_seen` (arrival dates of the contacts they handled, `null` if none)
//! and `handled`, and the flags `departed`, `fading`, `breach_prone_acw`,
//! `rising_aht`, `falling_csat`; `departed` (`agent_id`, `last_seen`) and
//! `new_hires` (`agent_id`, `first_seen`) for the agents that were seen;
//! `breach_prone_agents`, `rising_aht_agents`, `falling_csat_agents` (ids);
//! `understaffed_intervals` (`start` RFC 3339, `queue`; `interval_minutes`
//! long); `repeat_contact_rate` — the share of handled inbound contacts
//! followed by another inbound contact of the same customer, outside their
//! chain, within `fcr_window_hours`, over the `repeat_contact_eligible`
//! contacts whose window ends by the last arrival (1 − FCR of SPEC §8,
//! measured on the rows written); `card_numbers_planted`, `abandoned_rows`,
//! `transfers`.
//!
//! This crate never prints; it returns a [`Summary`] or an [`Error`].
#![warn(missing_docs)]

mod facts;
mod fmt;
mod rng;
mod sim;
mod sink;
mod timefmt;
mod world;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

pub use fmt::FIELDS;

use cxpipe_model::civil::{format_day, is_valid_date};
use facts::{AgentFacts, Departed, Facts, NewHire, RepeatRec, RepeatTracker, UnderstaffedFact};
use sim::{DayStats, F_ABANDONED, F_OUTBOUND, NONE64, Row, by_phone};
use sink::{AtomicFile, Compression};
use world::{INTERVAL_S, QUEUES, SITES, World};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of data rows (interaction legs) to write, exactly.
    pub rows: u64,
    /// Seed: the same configuration and seed give byte-identical output.
    pub seed: u64,
    /// First day (UTC) as `(year, month, day)`.
    pub start: (i32, u8, u8),
    /// Number of days covered.
    pub days: u32,
    /// Number of agents; `None` derives it from the rows (about 60 contacts
    /// per agent-day, at least 8).
    pub agents: Option<u32>,
    /// Encoding of the data file (CSV, NDJSON or a JSON array); it must be
    /// one the [`Layout`] is written in ([`Layout::format_for`] picks it
    /// from a file name).
    pub format: Format,
    /// Whose export the data file imitates: the same seed gives the same
    /// contacts in every layout, only written differently.
    pub layout: Layout,
}

impl Default for GenConfig {
    /// 1000 rows, seed 42, October 2026 (31 days), agents derived, generic
    /// CSV.
    fn default() -> GenConfig {
        GenConfig {
            rows: 1000,
            seed: 42,
            start: (2026, 10, 1),
            days: 31,
            agents: None,
            format: Format::Csv,
            layout: Layout::Generic,
        }
    }
}

/// Encoding of the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Comma-separated values with a header line, RFC 4180 quoting.
    #[default]
    Csv,
    /// One JSON object per line; in the generic layout empty fields are
    /// omitted.
    Ndjson,
    /// One JSON array: `[`, a line break, the objects separated by `,` and a
    /// line break, then a line break and `]` (only for
    /// [`Layout::AmazonConnect`]; never picked by [`Format::from_path`]).
    JsonArray,
}

impl Format {
    /// Picks the layout from a file name, ignoring a `.gz` or `.zst` suffix:
    /// `.ndjson` and `.jsonl` are [`Format::Ndjson`], anything else CSV.
    pub fn from_path(path: &Path) -> Format {
        let stem = strip_compression(path);
        match stem
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => Format::Csv,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::JsonArray => "json",
        }
    }
}

/// Whose export the data file imitates (the built-in sources of SPEC §4).
///
/// The same configuration and seed give the same contacts (ids, times,
/// agents, customers, outcomes) in every layout; only their representation
/// differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// cxpipe's own columns (SPEC §4 `generic`), as CSV or NDJSON.
    #[default]
    Generic,
    /// Amazon Connect contact trace records, as NDJSON or a JSON array, with
    /// about 0.5 % of the contacts also delivered as an older version of
    /// their record (as CTR streams deliver at least once).
    AmazonConnect,
    /// A Five9 call log report: CSV with upper-case headers, call start in
    /// America/New_York wall-clock time, `HH:MM:SS` durations.
    Five9,
    /// A Talkdesk contacts report: CSV, UTC times without an offset, whole
    /// seconds.
    Talkdesk,
}

/// The time zone of the Five9 layout's `TIMESTAMP` column (recorded as
/// `tz` in the facts file).
pub const FIVE9_TIME_ZONE: &str = "America/New_York";

impl Layout {
    /// Every layout, in the order of [`Layout::as_str`]'s documentation.
    pub const ALL: [Layout; 4] = [
        Layout::Generic,
        Layout::AmazonConnect,
        Layout::Five9,
        Layout::Talkdesk,
    ];

    /// The layout's name: `generic`, `amazon-connect`, `five9` or
    /// `talkdesk` (the name of the matching `cxpipe ingest --source`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Layout::Generic => "generic",
            Layout::AmazonConnect => "amazon-connect",
            Layout::Five9 => "five9",
            Layout::Talkdesk => "talkdesk",
        }
    }

    /// The encoding this layout is written in for a file called `path`
    /// (a `.gz` or `.zst` suffix is ignored), or [`Error::Config`] when the
    /// name does not fit the layout:
    ///
    /// - generic: [`Format::from_path`] (`.ndjson` / `.jsonl` are NDJSON,
    ///   anything else CSV), as before layouts existed;
    /// - amazon-connect: `.ndjson` / `.jsonl` are NDJSON, `.json` a JSON
    ///   array; any other name is refused;
    /// - five9, talkdesk: CSV; a `.ndjson`, `.jsonl` or `.json` name is
    ///   refused.
    pub fn format_for(self, path: &Path) -> Result<Format, Error> {
        let ext = strip_compression(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let ext = ext.as_deref();
        match self {
            Layout::Generic => Ok(Format::from_path(path)),
            Layout::AmazonConnect => match ext {
                Some("ndjson" | "jsonl") => Ok(Format::Ndjson),
                Some("json") => Ok(Format::JsonArray),
                _ => Err(Error::Config(format!(
                    "the amazon-connect layout is JSON: name the file .ndjson or .jsonl \
                     (one record a line) or .json (one array), optionally followed by .gz \
                     or .zst, not {}",
                    path.display()
                ))),
            },
            Layout::Five9 | Layout::Talkdesk => match ext {
                Some("ndjson" | "jsonl" | "json") => Err(Error::Config(format!(
                    "the {self} layout is a CSV report: name the file .csv (optionally \
                     followed by .gz or .zst), not {}",
                    path.display()
                ))),
                _ => Ok(Format::Csv),
            },
        }
    }

    /// Whether this layout can be written in `format`.
    fn writes(self, format: Format) -> bool {
        match self {
            Layout::Generic => matches!(format, Format::Csv | Format::Ndjson),
            Layout::AmazonConnect => matches!(format, Format::Ndjson | Format::JsonArray),
            Layout::Five9 | Layout::Talkdesk => format == Format::Csv,
        }
    }

    /// About how many bytes a row takes, for sizing the writer's queue.
    fn approx_row_bytes(self) -> u64 {
        match self {
            Layout::AmazonConnect => 1200,
            _ => 200,
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Layout {
    type Err = ParseLayoutError;

    /// Parses a name of [`Layout::as_str`], ignoring ASCII case.
    fn from_str(s: &str) -> Result<Layout, ParseLayoutError> {
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLayoutError {
                name: s.to_string(),
            })
    }
}

/// A layout name that [`Layout`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout {name:?}: choose generic, amazon-connect, five9 or talkdesk")]
pub struct ParseLayoutError {
    name: String,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Data rows (interaction legs, distinct contacts) written, header
    /// excluded: always the configured number.
    pub rows: u64,
    /// Records written: `rows` plus the older duplicate versions of the
    /// amazon-connect layout (equal to `rows` in the other layouts).
    pub records: u64,
    /// Size of the data file on disk (after compression).
    pub bytes: u64,
    /// Where the planted facts were written.
    pub facts_path: PathBuf,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot be generated.
    #[error("invalid generator configuration: {0}")]
    Config(String),
    /// Writing a file failed.
    #[error("writing {}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Serialising the facts failed.
    #[error("serialising the facts for {}", path.display())]
    Facts {
        /// The facts file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Generation was cancelled; no file was left behind.
    #[error("cancelled writing {}", path.display())]
    Cancelled {
        /// The data file.
        path: PathBuf,
    },
    /// A time zone a layout needs is not in the time zone database.
    #[error("looking up the time zone {zone} (needed by the {layout} layout)")]
    TimeZone {
        /// The zone's name.
        zone: &'static str,
        /// The layout that needs it.
        layout: Layout,
        /// The underlying error.
        #[source]
        source: jiff::Error,
    },
    /// A generator thread panicked (a bug).
    #[error("a generator thread failed while writing {}", path.display())]
    Worker {
        /// The data file.
        path: PathBuf,
    },
}

/// Where the facts of data file `out` go: beside it, with the compression
/// and data extensions replaced by `.facts.json` (`data.csv` and
/// `data.csv.gz` both give `data.facts.json`).
pub fn facts_path(out: &Path) -> PathBuf {
    let stem = strip_compression(out);
    let base = stem
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{base}.facts.json"))
}

fn strip_compression(path: &Path) -> PathBuf {
    match Compression::from_path(path) {
        Compression::None => path.to_path_buf(),
        _ => path.with_extension(""),
    }
}

/// Bytes per piece handed from a generator thread to the writer.
const PIECE_BYTES: usize = 1 << 20;
/// At most this many pieces wait for the writer per generator thread.
const MAX_PIECES_AHEAD: usize = 192;

/// Messages from a generator thread to the writer.
enum Msg {
    Piece(Vec<u8>, Vec<RepeatRec>),
    DayDone(DayStats),
}

/// Generates `cfg.rows` rows into `out` (compressed by its `.gz` / `.zst`
/// extension) in `cfg.layout` and `cfg.format`, and the planted facts into
/// [`facts_path`]`(out)`.
///
/// Both files are written under temporary names and renamed into place when
/// complete.
pub fn generate(cfg: &GenConfig, out: &Path) -> Result<Summary, Error> {
    generate_with_cancel(cfg, out, &AtomicBool::new(false))
}

/// [`generate`], stopping with [`Error::Cancelled`] soon after `cancel`
/// becomes true (e.g. on Ctrl-C); nothing is then left under `out`'s name
/// nor under a temporary one.
pub fn generate_with_cancel(
    cfg: &GenConfig,
    out: &Path,
    cancel: &AtomicBool,
) -> Result<Summary, Error> {
    validate(cfg)?;
    let world = World::new(cfg);
    let formatter = fmt::RowFormatter::new(&world, cfg.layout, cfg.format)?;
    let days = cfg.days;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, days as usize);

    // Pass 1: slots per day (repeat customers look up earlier days' slots).
    let n_slots: Vec<u64> = parallel_days(days, threads, |d| sim::count_slots(&world, d));

    let io_err = |source| Error::Io {
        path: out.to_path_buf(),
        source,
    };
    let mut file = AtomicFile::create(out, Compression::from_path(out)).map_err(io_err)?;
    file.write_all(&fmt::RowFormatter::header(cfg.layout, cfg.format))
        .map_err(io_err)?;
    // Records of a JSON array are written each after a `,` and a line break;
    // the first one's comma is dropped here, so the array needs no state
    // shared between the generator threads.
    let mut first_in_array = cfg.format == Format::JsonArray;

    let mut handled_days: Vec<(Option<u32>, Option<u32>, u64)> =
        vec![(None, None, 0); world.agents.len()];
    let mut totals = DayStats::default();

    let repeat = std::thread::scope(|s| -> Result<(Option<f64>, u64), Error> {
        // The repeat-rate measurement needs rows in file order, like the
        // writer, but has its own thread so the two overlap.
        let (rec_tx, rec_rx) = sync_channel::<Vec<RepeatRec>>(16);
        let tracker = s.spawn(move || {
            let mut tracker = RepeatTracker::new();
            for recs in rec_rx {
                for r in recs {
                    tracker.feed(r);
                }
            }
            tracker.finish()
        });
        let mut receivers: Vec<Receiver<Msg>> = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        // Each thread may run a whole day ahead of the writer (the writer
        // takes days in order, so a thread that finished its day early would
        // otherwise sit idle): memory is about `threads` days of output, up
        // to a cap for very large days.
        let max_day = world.day_rows.iter().copied().max().unwrap_or(0);
        let pieces_per_day =
            ((max_day * cfg.layout.approx_row_bytes() / PIECE_BYTES as u64) as usize + 2)
                .min(MAX_PIECES_AHEAD);
        for t in 0..threads {
            let (tx, rx) = sync_channel::<Msg>(pieces_per_day);
            receivers.push(rx);
            let (world, n_slots, f) = (&world, &n_slots, formatter.clone());
            handles.push(s.spawn(move || worker(world, n_slots, f, t as u32, threads as u32, &tx)));
        }
        // Day `d` comes from thread `d % threads`; the writer reads that
        // thread's channel until the day is done.
        let mut write_days = || -> Result<(), Error> {
            for day in 0..days {
                loop {
                    let Ok(msg) = receivers[day as usize % threads].recv() else {
                        // The thread ended early: it panicked.
                        return Err(Error::Worker {
                            path: out.to_path_buf(),
                        });
                    };
                    match msg {
                        Msg::Piece(bytes, recs) => {
                            if cancel.load(Ordering::Relaxed) {
                                return Err(Error::Cancelled {
                                    path: out.to_path_buf(),
                                });
                            }
                            let bytes = match bytes.split_first() {
                                Some((b',', rest)) if first_in_array => {
                                    first_in_array = false;
                                    rest
                                }
                                _ => &bytes[..],
                            };
                            file.write_all(bytes).map_err(io_err)?;
                            if rec_tx.send(recs).is_err() {
                                return Err(Error::Worker {
                                    path: out.to_path_buf(),
                                });
                            }
                        }
                        Msg::DayDone(stats) => {
                            for (a, &n) in stats.handled.iter().enumerate() {
                                if n > 0 {
                                    let e = &mut handled_days[a];
                                    e.0 = Some(e.0.map_or(day, |f: u32| f.min(day)));
                                    e.1 = Some(day);
                                    e.2 += u64::from(n);
                                }
                            }
                            totals.abandoned += stats.abandoned;
                            totals.transfers += stats.transfers;
                            totals.cards += stats.cards;
                            totals.extra_records += stats.extra_records;
                            break;
                        }
                    }
                }
            }
            Ok(())
        };
        let written = write_days();
        // Hanging up stops threads that are still generating (on error).
        drop(receivers);
        drop(rec_tx);
        let panicked = handles
            .into_iter()
            .map(|h| h.join().is_err())
            .fold(false, |a, b| a | b);
        let repeat = tracker.join();
        written?;
        match repeat {
            Ok(repeat) if !panicked => Ok(repeat),
            _ => Err(Error::Worker {
                path: out.to_path_buf(),
            }),
        }
    })?;
    file.write_all(fmt::RowFormatter::footer(cfg.format))
        .map_err(io_err)?;
    let bytes = file.commit().map_err(io_err)?;

    let (repeat_contact_rate, repeat_contact_eligible) = repeat;
    let facts = build_facts(
        cfg,
        &world,
        &handled_days,
        &totals,
        repeat_contact_rate,
        repeat_contact_eligible,
    );
    let facts_path = facts_path(out);
    let mut json = serde_json::to_vec_pretty(&facts).map_err(|source| Error::Facts {
        path: facts_path.clone(),
        source,
    })?;
    json.push(b'\n');
    sink::write_atomic(&facts_path, &json).map_err(|source| Error::Io {
        path: facts_path.clone(),
        source,
    })?;
    Ok(Summary {
        rows: cfg.rows,
        records: cfg.rows + totals.extra_records,
        bytes,
        facts_path,
    })
}

fn validate(cfg: &GenConfig) -> Result<(), Error> {
    let (y, m, d) = cfg.start;
    if !(1900..=9000).contains(&y) || !is_valid_date(y, u32::from(m), u32::from(d)) {
        return Err(Error::Config(format!(
            "start {y:04}-{m:02}-{d:02} is not a valid date in 1900..=9000"
        )));
    }
    if cfg.days == 0 || cfg.days > 3660 {
        return Err(Error::Config(format!(
            "days must be 1..=3660, not {}",
            cfg.days
        )));
    }
    if cfg.agents == Some(0) {
        return Err(Error::Config("agents must be at least 1".into()));
    }
    if cfg.rows >= 1 << 40 {
        return Err(Error::Config(format!(
            "rows must be below 2^40, not {}",
            cfg.rows
        )));
    }
    if !cfg.layout.writes(cfg.format) {
        return Err(Error::Config(format!(
            "the {} layout cannot be written as {}",
            cfg.layout,
            cfg.format.name()
        )));
    }
    Ok(())
}

/// Runs `f` for every day on `threads` scoped threads; results in day order.
fn parallel_days<T: Send + Default + Clone>(
    days: u32,
    threads: usize,
    f: impl Fn(u32) -> T + Sync,
) -> Vec<T> {
    let mut out = vec![T::default(); days as usize];
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t as u32..days)
                        .step_by(threads)
                        .map(|d| (d, f(d)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A panic in `f` is a bug; re-raise it on this thread.
            let results = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (d, v) in results {
                out[d as usize] = v;
            }
        }
    });
    out
}

/// Generates days `first, first + step, …`, sending each as pieces of
/// rows formatted by `f` followed by its statistics. Stops when the writer
/// hangs up.
fn worker(
    w: &World,
    n_slots: &[u64],
    mut f: fmt::RowFormatter<'_>,
    first: u32,
    step: u32,
    tx: &SyncSender<Msg>,
) {
    let mut rows: Vec<Row> = Vec::new();
    let mut scratch: Vec<Row> = Vec::new();
    let mut day = first;
    while day < w.days {
        let mut stats = sim::generate_day(w, n_slots, day, &mut rows, &mut scratch);
        f.set_day(day);
        let day_t = day * 86_400;
        let mut buf = Vec::with_capacity(PIECE_BYTES + 4096);
        let mut recs = Vec::new();
        for r in &rows {
            stats.extra_records += u64::from(f.push(&mut buf, r) - 1);
            if r.flags & F_OUTBOUND == 0 {
                recs.push(RepeatRec {
                    t: day_t + r.arrived,
                    customer: r.customer << 1 | u64::from(by_phone(r.channel)),
                    chain: if r.chain == NONE64 { r.id } else { r.chain },
                    handled: r.flags & F_ABANDONED == 0,
                });
            }
            if buf.len() >= PIECE_BYTES {
                let piece = std::mem::replace(&mut buf, Vec::with_capacity(PIECE_BYTES + 4096));
                if tx
                    .send(Msg::Piece(piece, std::mem::take(&mut recs)))
                    .is_err()
                {
                    return;
                }
            }
        }
        if (!buf.is_empty() || !recs.is_empty()) && tx.send(Msg::Piece(buf, recs)).is_err() {
            return;
        }
        if tx.send(Msg::DayDone(stats)).is_err() {
            return;
        }
        day += step;
    }
}

fn build_facts(
    cfg: &GenConfig,
    w: &World,
    handled_days: &[(Option<u32>, Option<u32>, u64)],
    totals: &DayStats,
    repeat_contact_rate: Option<f64>,
    repeat_contact_eligible: u64,
) -> Facts {
    let date = |d: u32| format_day(w.start_day + i64::from(d));
    let ids = |p: &dyn Fn(&world::Agent) -> bool| -> Vec<String> {
        w.agents
            .iter()
            .filter(|a| p(a))
            .map(|a| a.id.clone())
            .collect()
    };
    let agents = w
        .agents
        .iter()
        .zip(handled_days)
        .map(|(a, &(first, last, handled))| AgentFacts {
            agent_id: a.id.clone(),
            team: w.team_names[a.team as usize].clone(),
            site: SITES[a.site],
            queue: QUEUES[a.queue],
            first_day: date(a.first_day),
            last_day: date(a.last_day),
            first_seen: first.map(date),
            last_seen: last.map(date),
            handled,
            departed: a.departed,
            fading: a.fading,
            breach_prone_acw: a.breach_prone,
            rising_aht: a.rising_aht,
            falling_csat: a.falling_csat,
        })
        .collect();
    let departed = w
        .agents
        .iter()
        .zip(handled_days)
        .filter(|(a, _)| a.departed)
        .filter_map(|(a, &(_, last, _))| {
            Some(Departed {
                agent_id: a.id.clone(),
                last_seen: date(last?),
            })
        })
        .collect();
    let new_hires = w
        .agents
        .iter()
        .zip(handled_days)
        .filter(|(a, _)| a.first_day > 0)
        .filter_map(|(a, &(first, _, _))| {
            Some(NewHire {
                agent_id: a.id.clone(),
                first_seen: date(first?),
            })
        })
        .collect();
    let understaffed_intervals = w
        .understaffed
        .iter()
        .map(|u| UnderstaffedFact {
            start: timefmt::timestamp_string(
                (w.start_day + i64::from(u.day)) * 86_400
                    + i64::from(u.interval as u32 * INTERVAL_S),
            ),
            queue: QUEUES[u.queue],
        })
        .collect();
    let (y, m, d) = cfg.start;
    Facts {
        seed: cfg.seed,
        rows: cfg.rows,
        start: format!("{y:04}-{m:02}-{d:02}"),
        end: date(cfg.days - 1),
        days: cfg.days,
        layout: cfg.layout.as_str(),
        format: cfg.format.name(),
        tz: match cfg.layout {
            Layout::Five9 => Some(FIVE9_TIME_ZONE),
            Layout::Talkdesk => Some("UTC"),
            Layout::Generic | Layout::AmazonConnect => None,
        },
        records: (cfg.layout == Layout::AmazonConnect).then_some(cfg.rows + totals.extra_records),
        duplicate_records: (cfg.layout == Layout::AmazonConnect).then_some(totals.extra_records),
        agents,
        departed,
        new_hires,
        breach_prone_agents: ids(&|a| a.breach_prone),
        rising_aht_agents: ids(&|a| a.rising_aht),
        falling_csat_agents: ids(&|a| a.falling_csat),
        understaffed_intervals,
        interval_minutes: INTERVAL_S / 60,
        fcr_window_hours: sim::REPEAT_WINDOW_S / 3600,
        repeat_contact_rate,
        repeat_contact_eligible,
        card_numbers_planted: totals.cards,
        abandoned_rows: totals.abandoned,
        transfers: totals.transfers,
    }
}

/// Writes the HR roster that matches `cfg`'s synthetic month as CSV
/// (`agent_id,hire_date,termination_date,team`, SPEC §11): agents hired
/// during the month have their first possible working day as hire date,
/// the others a date 30 days to about two years before the month (drawn
/// per agent from the seed); departed agents have their last possible
/// working day as termination date. Deterministic, like the data.
pub fn write_roster(cfg: &GenConfig, path: &Path) -> Result<(), Error> {
    validate(cfg)?;
    let w = World::new(cfg);
    let key = rng::stream_key(cfg.seed, world::domain::ROSTER);
    let mut out = String::from("agent_id,hire_date,termination_date,team\n");
    for (i, a) in w.agents.iter().enumerate() {
        let hire = if a.first_day == 0 {
            let mut r = rng::Rng::for_item(key, 0, i as u64);
            w.start_day - 30 - r.below(700) as i64
        } else {
            w.start_day + i64::from(a.first_day)
        };
        let termination = if a.departed {
            format_day(w.start_day + i64::from(a.last_day))
        } else {
            String::new()
        };
        let team = &w.team_names[a.team as usize];
        out.push_str(&format!(
            "{},{},{termination},{team}\n",
            a.id,
            format_day(hire)
        ));
    }
    std::fs::write(path, out).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_facts_path_from_names() {
        assert_eq!(Format::from_path(Path::new("a/data.csv")), Format::Csv);
        assert_eq!(
            Format::from_path(Path::new("data.ndjson.gz")),
            Format::Ndjson
        );
        assert_eq!(
            Format::from_path(Path::new("data.JSONL.zst")),
            Format::Ndjson
        );
        assert_eq!(Format::from_path(Path::new("data.json")), Format::Csv);
        assert_eq!(Format::from_path(Path::new("data")), Format::Csv);
        assert_eq!(
            facts_path(Path::new("x/data.csv")),
            Path::new("x/data.facts.json")
        );
        assert_eq!(
            facts_path(Path::new("x/data.csv.gz")),
            Path::new("x/data.facts.json")
        );
        assert_eq!(
            facts_path(Path::new("data.ndjson.zst")),
            Path::new("data.facts.json")
        );
        assert_eq!(facts_path(Path::new("data")), Path::new("data.facts.json"));
    }

    #[test]
    fn layout_names_round_trip_and_unknown_names_are_refused() {
        let names: Vec<&str> = Layout::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(names, ["generic", "amazon-connect", "five9", "talkdesk"]);
        for l in Layout::ALL {
            assert_eq!(l.as_str().parse::<Layout>(), Ok(l));
            assert_eq!(l.to_string(), l.as_str());
        }
        assert_eq!("Five9".parse::<Layout>(), Ok(Layout::Five9));
        assert_eq!(Layout::default(), Layout::Generic);
        for bad in ["", "amazon_connect", "connect", "five-9", "generic "] {
            let err = bad.parse::<Layout>().expect_err(bad);
            assert!(err.to_string().contains("amazon-connect"), "{err}");
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            GenConfig {
                start: (2026, 2, 30),
                ..GenConfig::default()
            },
            GenConfig {
                days: 0,
                ..GenConfig::default()
            },
            GenConfig {
                agents: Some(0),
                ..GenConfig::default()
            },
            GenConfig {
                layout: Layout::Five9,
                format: Format::Ndjson,
                ..GenConfig::default()
            },
            GenConfig {
                layout: Layout::AmazonConnect,
                format: Format::Csv,
                ..GenConfig::default()
            },
        ];
        for cfg in bad {
            assert!(matches!(validate(&cfg), Err(Error::Config(_))), "{cfg:?}");
        }
        assert!(validate(&GenConfig::default()).is_ok());
    }
}
