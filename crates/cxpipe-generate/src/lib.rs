//! Realistic synthetic contact-center exports, deterministic by seed, in
//! cxpipe's generic layout or a vendor's (SPEC §4), with a JSON file of
//! *planted facts* (departures, new hires, breach-prone agents, understaffed
//! intervals, the repeat-contact rate) that are true of the rows written.
//!
//! ```no_run
//! use std::path::Path;
//! use cxpipe_generate::{FileFormat, GenConfig, Layout, generate};
//!
//! let out = Path::new("month.csv.zst");
//! let cfg = GenConfig { rows: 1_000_000, format: FileFormat::from_path(out), ..GenConfig::default() };
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
//! `(seed, day, contact)` alone (module `sim`). Days are generated and
//! formatted in parallel on rayon's pool, and written in day order by one
//! writer thread, sorted by arrival within a day (as real exports are); the
//! bytes are the same whatever the number of threads (module `pipeline`).
//! Randomness is a small in-crate xoshiro256**, so files stay identical
//! across dependency updates.
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
//! This crate never prints; it returns a [`GenerateSummary`] or an [`Error`].
#![warn(missing_docs)]

mod config;
mod encode;
mod error;
mod facts;
mod pipeline;
mod repeat;
mod rng;
mod roster;
mod sim;
mod sink;
mod timefmt;
mod world;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub use config::{FIVE9_TIME_ZONE, FileFormat, GenConfig, Layout, ParseLayoutError, facts_path};
pub use encode::FIELDS;
pub use error::Error;
pub use roster::write_roster;

use facts::Facts;
use sink::{AtomicFile, Compression};
use world::World;

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
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

/// Generates `cfg.rows` rows into `out` (compressed by its `.gz` / `.zst`
/// extension) in `cfg.layout` and `cfg.format`, and the planted facts into
/// [`facts_path`]`(out)`.
///
/// Both files are written under temporary names and renamed into place when
/// complete.
pub fn generate(cfg: &GenConfig, out: &Path) -> Result<GenerateSummary, Error> {
    generate_with_cancel(cfg, out, &AtomicBool::new(false))
}

/// [`generate`], stopping with [`Error::Cancelled`] soon after `cancel`
/// becomes true (e.g. on Ctrl-C); nothing is then left under `out`'s name
/// nor under a temporary one.
///
/// Days are generated on the rayon pool of the calling thread (the global
/// one unless called inside `ThreadPool::install`); the bytes written are
/// the same whatever its number of threads.
pub fn generate_with_cancel(
    cfg: &GenConfig,
    out: &Path,
    cancel: &AtomicBool,
) -> Result<GenerateSummary, Error> {
    config::validate(cfg)?;
    let world = World::new(cfg);
    let mut formatter = encode::RowFormatter::new(&world, cfg.layout, cfg.format)?;
    formatter.quote_text = cfg.quote_text;
    let io_err = |source| Error::Io {
        path: out.to_path_buf(),
        source,
    };
    let mut file = AtomicFile::create(out, Compression::from_path(out)).map_err(io_err)?;
    file.write_all(&encode::RowFormatter::header(cfg.layout, cfg.format))
        .map_err(io_err)?;
    let seen = pipeline::write_days(
        &world, &formatter, cfg.layout, cfg.format, &mut file, out, cancel,
    )?;
    file.write_all(encode::RowFormatter::footer(cfg.format))
        .map_err(io_err)?;
    let bytes = file.commit().map_err(io_err)?;
    let facts_path = write_facts(&Facts::new(cfg, &world, &seen), out)?;
    Ok(GenerateSummary {
        rows: cfg.rows,
        records: cfg.rows + seen.totals.extra_records,
        bytes,
        facts_path,
    })
}

/// Writes `facts` as pretty JSON to [`facts_path`]`(out)`, atomically, and
/// returns that path.
fn write_facts(facts: &Facts, out: &Path) -> Result<PathBuf, Error> {
    let path = facts_path(out);
    let mut json = serde_json::to_vec_pretty(facts).map_err(|source| Error::Facts {
        path: path.clone(),
        source,
    })?;
    json.push(b'\n');
    sink::write_atomic(&path, &json).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
