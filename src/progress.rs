//! Progress bars on stderr (only on a terminal) and log lines, behind the
//! ingest crate's `Reporter` trait.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cxpipe_ingest::{FileReport, FileStatus, Reporter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports ingest progress: a bar per file when `bars` is on, log lines
/// always.
pub struct IngestProgress {
    bar: Option<ProgressBar>,
    rows: AtomicU64,
    started: Instant,
    current: Mutex<String>,
}

impl IngestProgress {
    /// A reporter; `bars` draws progress bars on stderr.
    pub fn new(bars: bool) -> IngestProgress {
        let bar = bars
            .then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5)));
        IngestProgress {
            bar,
            rows: AtomicU64::new(0),
            started: Instant::now(),
            current: Mutex::new(String::new()),
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }

    fn set_message(&self) {
        if let Some(pb) = &self.bar {
            let rows = self.rows.load(Ordering::Relaxed);
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            let name = self.current.lock().map(|s| s.clone()).unwrap_or_default();
            pb.set_message(format!(
                "{name}  {} rows  {}/s",
                human(rows as f64),
                human(rows as f64 / secs)
            ));
        }
    }
}

/// 1234567 -> "1.2M".
pub fn human(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

impl Reporter for IngestProgress {
    fn file_started(&self, name: &str, size: Option<u64>) {
        if let Ok(mut c) = self.current.lock() {
            *c = name.to_string();
        }
        tracing::debug!("reading {name}");
        let Some(pb) = &self.bar else { return };
        pb.reset();
        match size {
            Some(len) => {
                pb.set_length(len);
                pb.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}  {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
            }
            None => {
                pb.unset_length();
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec}  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
            }
        }
        self.set_message();
    }

    fn bytes_read(&self, bytes: u64) {
        if let Some(pb) = &self.bar {
            pb.inc(bytes);
        }
    }

    fn rows_done(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.set_message();
    }

    fn file_finished(&self, r: &FileReport) {
        let msg = r.message.as_deref().unwrap_or("");
        match r.status {
            FileStatus::Failed => {
                if let Some(pb) = &self.bar {
                    pb.suspend(|| tracing::error!("{}: {msg}", r.path));
                } else {
                    tracing::error!("{}: {msg}", r.path);
                }
            }
            FileStatus::Skipped => tracing::info!("{}: skipped, {msg}", r.path),
            FileStatus::Ingested => {
                if let Some(text) = rejected_whole(r).or_else(|| missing_fields(r)) {
                    self.warning(&text);
                }
                tracing::debug!(
                    "{}: {} read, {} written, {} quarantined, {} duplicates",
                    r.path,
                    r.rows_read,
                    r.rows_written,
                    r.rows_quarantined,
                    r.duplicates_dropped
                );
            }
        }
    }

    fn note(&self, message: &str) {
        match &self.bar {
            Some(pb) => pb.suspend(|| tracing::info!("{message}")),
            None => tracing::info!("{message}"),
        }
    }

    fn warning(&self, message: &str) {
        match &self.bar {
            Some(pb) => pb.suspend(|| tracing::warn!("{message}")),
            None => tracing::warn!("{message}"),
        }
    }
}

/// One line for a file whose every record was quarantined for one reason:
/// what the reason is and what the first record looks like (SPEC §5).
fn rejected_whole(r: &FileReport) -> Option<String> {
    if r.rows_read == 0 || r.rows_quarantined != r.rows_read || r.reasons.len() != 1 {
        return None;
    }
    let first = r.first_reject.as_ref()?;
    Some(format!(
        "{}: all {} records were rejected as {}; the first, line {}: {}; it reads {:?}",
        r.path, r.rows_read, first.code, first.line, first.reason, first.raw
    ))
}

/// One line for a file read without some of its mapping's fields.
fn missing_fields(r: &FileReport) -> Option<String> {
    let (first, rest) = r.missing_fields.split_first()?;
    Some(if rest.is_empty() {
        format!(
            "{}: the mapping's field {first} is not in this file: a column read from it alone is empty in every row (renamed or misspelled? see `cxpipe mapping check`)",
            r.path
        )
    } else {
        format!(
            "{}: the mapping's fields {} are not in this file: a column read from them alone is empty in every row (renamed or misspelled? see `cxpipe mapping check`)",
            r.path,
            r.missing_fields.join(", ")
        )
    })
}

/// Whether read-only commands draw a bar while they read the dataset (set
/// once by `main` from the global flags).
static SCAN_BARS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The bar of the query running, cleared before its output is written.
static SCAN_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Turns the dataset-reading bar of kpi, sla, turnover, report and run on.
pub fn enable_scan_bars(on: bool) {
    SCAN_BARS.store(on, Ordering::Relaxed);
}

/// A feed for the bar of a query over `files`: rows read (from the files'
/// footers), rows/s and the ETA of the pass; a query that reads the dataset
/// again shows the next pass. `None` when bars are off.
pub fn scan_observer<'a>(
    files: impl Iterator<Item = &'a std::path::PathBuf>,
) -> Option<cxpipe_analytics::ScanObserver> {
    if !SCAN_BARS.load(Ordering::Relaxed) {
        return None;
    }
    let rows: std::collections::HashMap<std::path::PathBuf, u64> = files
        .map(|f| (f.clone(), cxpipe_dataset::parquet_rows(f).unwrap_or(0)))
        .collect();
    let total: u64 = rows.values().sum();
    if total == 0 {
        return None;
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(5));
    pb.set_style(
        ProgressStyle::with_template("{spinner} reading the dataset [{bar:30}] {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if let Ok(mut slot) = SCAN_BAR.lock() {
        *slot = Some(pb.clone());
    }
    let pass = AtomicU64::new(1);
    let started = Instant::now();
    let read = AtomicU64::new(0);
    Some(cxpipe_analytics::ScanObserver(std::sync::Arc::new(
        move |batch: &[std::path::PathBuf]| {
            let n: u64 = batch.iter().filter_map(|f| rows.get(f)).sum();
            if pb.position() + n > total {
                // More than the dataset: the query reads it again.
                pass.fetch_add(1, Ordering::Relaxed);
                pb.reset();
            }
            pb.inc(n);
            let all = read.fetch_add(n, Ordering::Relaxed) + n;
            let rate = all as f64 / started.elapsed().as_secs_f64().max(1e-3);
            let p = pass.load(Ordering::Relaxed);
            pb.set_message(format!(
                "{}/{} rows{}  {} rows/s",
                human(pb.position() as f64),
                human(total as f64),
                if p > 1 {
                    format!(" (pass {p})")
                } else {
                    String::new()
                },
                human(rate)
            ));
        },
    )))
}

/// Removes the dataset-reading bar, if one is drawn (before output).
pub fn clear_scan_bar() {
    if let Ok(mut slot) = SCAN_BAR.lock()
        && let Some(pb) = slot.take()
    {
        pb.finish_and_clear();
    }
}
