//! The last phases: each file's final counts and the run's totals, the
//! new ledger, the run report, and the commit that makes it all visible
//! at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use cxpipe_model::civil::format_day;
use cxpipe_model::layout;

use super::context::Run;
use super::sequencer::FileState;
use crate::error::Error;
use crate::options::IngestOptions;
use crate::report::{FileReport, FileStatus, RunReport, Totals};
use crate::reporter::Reporter;
use cxpipe_dataset::{Commit, Ledger, LedgerEntry, write_json_durable};

/// The run's counts, and what the ledger becomes.
pub(crate) struct Tally {
    /// Totals over the run.
    pub(crate) totals: Totals,
    /// The ledger with this run's files.
    pub(crate) ledger: Ledger,
    /// The run's quarantine folder, if any row went there.
    pub(crate) quarantine_dir: Option<String>,
    /// The run's list of dropped duplicates, if any.
    pub(crate) duplicates_file: Option<String>,
}

/// Moves the versions files of this run's winners into the dataset.
pub(crate) fn add_version_files(run: &Run, files: &[PathBuf], commit: &mut Commit) {
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rel = format!("{}/{name}", layout::VERSIONS);
        commit.add_move(run.staging_rel(&rel), rel);
    }
}

/// Finishes each file's report (a failed file keeps nothing) and adds it
/// up; ingested files enter the ledger and their quarantine files the
/// commit.
pub(crate) fn tally(
    run: &Run,
    files: &mut [FileState],
    rows_replaced: u64,
    commit: &mut Commit,
) -> Tally {
    let mut t = Tally {
        totals: Totals {
            rows_replaced,
            ..Totals::default()
        },
        ledger: run.ledger.clone(),
        quarantine_dir: None,
        duplicates_file: None,
    };
    for st in files {
        let r = &mut st.report;
        match r.status {
            FileStatus::Skipped => {
                t.totals.files_skipped += 1;
                continue;
            }
            FileStatus::Failed => {
                t.totals.files_failed += 1;
                r.rows_read = 0;
                r.rows_quarantined = 0;
                r.duplicates_dropped = 0;
                r.rows_filtered = 0;
                r.clock_skew_fixed = 0;
                r.reasons.clear();
                continue;
            }
            FileStatus::Ingested => t.totals.files_ingested += 1,
        }
        r.rows_written = st.rows_ok - r.duplicates_dropped;
        if r.source.as_deref() == Some("genesys") {
            r.legs_written = Some(st.legs_ok - st.legs_lost);
        }
        // (rows_filtered was counted as the chunks were read.)
        r.duplicates_dropped += st.chunk_dups;
        if let Some(q) = st.quarantine.take() {
            commit.add_move(
                run.staging_rel(&format!("{}/{}", layout::QUARANTINE, q.name)),
                q.rel.clone(),
            );
            t.quarantine_dir = Some(format!("{}/{}", layout::QUARANTINE, run.ingest_id));
            r.quarantine = Some(q.rel);
        }
        add_to_totals(&mut t.totals, r);
        if let Some(c) = &st.content {
            // A forced re-read replaces the file's entry instead of adding one.
            t.ledger
                .files
                .retain(|e| !(e.size == c.bytes && e.xxh3_128 == c.xxh3_128));
            t.ledger.files.push(LedgerEntry {
                name: r.name.clone(),
                size: c.bytes,
                xxh3_128: c.xxh3_128.clone(),
                ingest_id: run.ingest_id.clone(),
                rows_read: r.rows_read,
                rows_written: r.rows_written,
            });
        }
    }
    t
}

fn add_to_totals(totals: &mut Totals, r: &FileReport) {
    totals.rows_read += r.rows_read;
    totals.rows_written += r.rows_written;
    totals.rows_quarantined += r.rows_quarantined;
    totals.duplicates_dropped += r.duplicates_dropped;
    totals.rows_filtered += r.rows_filtered;
    if let Some(legs) = r.legs_written {
        *totals.legs_written.get_or_insert(0) += legs;
    }
    totals.clock_skew_fixed += r.clock_skew_fixed;
    totals.bytes_read += r.bytes;
    for (k, v) in &r.reasons {
        *totals.reasons.entry(k.clone()).or_default() += v;
    }
}

/// The run report, before the commit.
pub(crate) fn run_report(
    run: &Run,
    opts: &IngestOptions,
    files: &[FileState],
    tally: Tally,
    partitions: impl IntoIterator<Item = i64>,
) -> (RunReport, Ledger) {
    let Tally {
        totals,
        ledger,
        quarantine_dir,
        duplicates_file,
    } = tally;
    let reports: Vec<FileReport> = files.iter().map(|f| f.report.clone()).collect();
    let conservation_ok = reports
        .iter()
        .filter(|r| r.status == FileStatus::Ingested)
        .all(FileReport::conserved)
        && totals.rows_read
            == totals.rows_written
                + totals.rows_quarantined
                + totals.duplicates_dropped
                + totals.rows_filtered;
    // SPEC §5: quarantined ÷ (read − filtered): records that are not
    // contacts are not rejects waiting to happen.
    let contacts = totals.rows_read - totals.rows_filtered;
    let reject_rate = if contacts == 0 {
        0.0
    } else {
        totals.rows_quarantined as f64 / contacts as f64
    };
    let duplicate_rate = if totals.rows_read == 0 {
        0.0
    } else {
        totals.duplicates_dropped as f64 / totals.rows_read as f64
    };
    let seconds = run.t0.elapsed().as_secs_f64();
    let committed = totals.files_ingested + totals.files_failed > 0;
    let report = RunReport {
        ingest_id: run.ingest_id.clone(),
        dataset: run.ds.root().display().to_string(),
        started_at: super::context::rfc3339(run.now),
        seconds,
        source: opts.source.as_str().to_string(),
        tz: opts.zone.name().to_string(),
        files: reports,
        conservation_ok,
        reject_rate,
        max_reject_rate: opts.max_reject_rate,
        reject_threshold_exceeded: reject_rate > opts.max_reject_rate,
        duplicate_rate,
        max_duplicate_rate: opts.max_duplicate_rate,
        duplicate_threshold_exceeded: opts.max_duplicate_rate.is_some_and(|m| duplicate_rate > m),
        partitions: partitions.into_iter().map(format_day).collect(),
        quarantine_dir,
        duplicates_file,
        committed,
        rows_per_s: totals.rows_read as f64 / seconds.max(1e-9),
        mb_per_s: totals.bytes_read as f64 / 1e6 / seconds.max(1e-9),
        totals,
    };
    (report, ledger)
}

/// Stages the report (and the ledger, when a file was ingested) and
/// commits; a run that read nothing commits nothing. The report returned
/// has the run's whole wall time.
pub(crate) fn commit(
    run: &Run,
    mut report: RunReport,
    ledger: &Ledger,
    mut commit: Commit,
    reporter: &dyn Reporter,
    cancel: &AtomicBool,
) -> Result<RunReport, Error> {
    let id = &run.ingest_id;
    if !report.committed {
        run.ds.discard(id)?;
        for f in &report.files {
            reporter.file_finished(f);
        }
        return Ok(report);
    }
    let report_staged = format!("{}/{id}/report.json", layout::STAGING);
    write_json_durable(&run.ds.root().join(&report_staged), &report)?;
    commit.add_move(report_staged, format!("{}/{id}.json", layout::INGESTS));
    if report.totals.files_ingested > 0 {
        let ledger_staged = format!("{}/{id}/ledger.json", layout::STAGING);
        write_json_durable(&run.ds.root().join(&ledger_staged), ledger)?;
        commit.add_move(ledger_staged, layout::LEDGER.to_string());
    }
    if cancel.load(Ordering::Relaxed) {
        run.ds.discard(id)?;
        return Err(Error::Interrupted);
    }
    run.ds.commit(id, commit)?;
    report.seconds = run.t0.elapsed().as_secs_f64();
    for f in &report.files {
        reporter.file_finished(f);
    }
    Ok(report)
}
