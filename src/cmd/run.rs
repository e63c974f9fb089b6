//! `cxpipe run`: the nightly job (SPEC §12). Ingest the new files of the
//! configured inbox into the dataset, then write every configured report
//! into the reports folder, each replacing the previous one atomically.
//! One JSON run summary goes to stdout; logs go to stderr.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use cxpipe_analytics::table::OutputFormat;
use cxpipe_analytics::turnover;
use cxpipe_analytics::{Partitions, Table, sla};
use cxpipe_ingest::{Input, RunReport};
use serde_json::{Value, json};

use crate::exit::{EXIT_ERROR, EXIT_OK, EXIT_REJECTS};
use crate::global::Global;
use crate::interrupt::CANCEL;
use crate::open::open_source;
use crate::output::{emit, emit_table, write_atomic};
use crate::progress::IngestProgress;
use crate::settings::reports::{Job, Plan, RunSettings, run_settings};
use crate::settings::{self, Config, IngestFlags};

const EXAMPLES: &str = "\
Example cxpipe.toml:
  [run]
  inbox = \"inbox\"              # folder the exports arrive in
  dataset = \"dataset\"
  reports_dir = \"reports\"
  reports = [\"kpi:agent,day\", \"kpi:queue,interval\", \"sla:interval\", \"sla:agent\",
             \"turnover\", \"attrition:team\", \"html\"]     # the default
  format = \"csv\"               # tables: csv (default), json or parquet
  max_reject_rate = 0.05       # exit 3 above it (default 0.05)
  max_duplicate_rate = 0.01    # exit 3 above it (default: off)

Reports and their files in reports_dir:
  kpi:BY           kpi-BY.csv (BY as for `kpi --by`, commas become dashes)
  sla:LEVEL        sla-LEVEL.csv (interval, agent or interaction; needs [[sla]])
  turnover         turnover.csv
  attrition:BY     attrition-BY.csv (team, site or all)
  html             report.html
Without a reports list, run writes the defaults its configuration supports:
the SLA reports need [[sla]] rules (sla:interval a service_level, abandon_rate
or asa rule); those it cannot write are named, with the reason, in the log
and under \"reports_skipped\" in the summary, and the run still exits 0. A
report named in the list that cannot be written (sla:* without [[sla]]
rules) is a usage error, found before anything is ingested.
Paths are relative to the config file. A file already ingested (by name,
size and content) is skipped; when nothing new arrived and every report is
there, the run writes nothing and says so (--refresh rewrites the reports).

Exit codes: 0 done; 1 a file or a report failed (the rest was still done;
the summary says what); 2 usage error; 3 done, but more rows than
max_reject_rate were quarantined (or dropped as duplicates, above
max_duplicate_rate).";

/// Run the nightly job: ingest the inbox, write every report.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Config file with a [run] section (default ./cxpipe.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rewrite the reports even when no new file arrived.
    #[arg(long)]
    pub refresh: bool,
}

/// Runs the job; the exit code follows SPEC §12.
pub fn run(args: &Args, global: &Global) -> anyhow::Result<u8> {
    let started = Instant::now();
    let started_at = jiff::Timestamp::now().to_string();
    let config = Config::load(args.config.as_deref())?;
    // The whole plan is checked before anything is ingested: a report that
    // cannot be written is a usage error now, not a failure after the ingest.
    let job = run_settings(&config)?;
    // So are the ingest settings (source, mapping, zone, key file).
    let opts = settings::ingest_options(&config, &job.dataset, IngestFlags::default())?;
    for (spec, why) in &job.plan.skipped {
        tracing::info!("skipping report {}: {why}", spec.name());
    }
    // From here on a scheduler gets a JSON summary whatever happens: a
    // failure of the whole run (the dataset locked by another cxpipe, a
    // full disk, too many open files) is one too.
    let failure = |e: anyhow::Error| -> anyhow::Result<u8> {
        tracing::error!("{e:#}");
        let summary = json!({
            "started_at": started_at,
            "config": config.path.as_ref().map(|p| p.display().to_string()),
            "inbox": job.inbox.display().to_string(),
            "dataset": job.dataset.display().to_string(),
            "reports_dir": job.reports_dir.display().to_string(),
            "error": format!("{e:#}"),
            "seconds": { "total": round2(started.elapsed().as_secs_f64()) },
            "exit_code": EXIT_ERROR,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
        Ok(EXIT_ERROR)
    };
    let ingest_started = Instant::now();
    let report = match ingest_inbox(&job, &opts, global) {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let ingest_seconds = ingest_started.elapsed().as_secs_f64();
    let reports_started = Instant::now();
    let reports = match write_reports(&job, &config, args.refresh) {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let failed = failed_files(&report);
    let code = if !failed.is_empty() || !reports.errors.is_empty() || !report.conservation_ok {
        EXIT_ERROR
    } else if report.reject_threshold_exceeded || report.duplicate_threshold_exceeded {
        EXIT_REJECTS
    } else {
        EXIT_OK
    };
    let seconds = json!({
        "ingest": round2(ingest_seconds),
        "reports": round2(reports_started.elapsed().as_secs_f64()),
        "total": round2(started.elapsed().as_secs_f64()),
    });
    let summary = summary(
        &config, &job, &report, failed, reports, seconds, code, started_at,
    );
    emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
    Ok(code)
}

/// Phase 1: ingests whatever is new in the inbox, and says what it did.
fn ingest_inbox(
    job: &RunSettings,
    opts: &cxpipe_ingest::IngestOptions,
    global: &Global,
) -> anyhow::Result<RunReport> {
    let progress = IngestProgress::new(global.progress());
    let inbox = &job.inbox;
    let result = cxpipe_ingest::ingest(&[Input::Path(inbox.clone())], opts, &progress, &CANCEL);
    progress.finish();
    let report = result.with_context(|| {
        format!(
            "ingesting {} into {}",
            inbox.display(),
            job.dataset.display()
        )
    })?;
    let t = &report.totals;
    // The ingest has logged each failed file already.
    if t.files_ingested == 0 {
        tracing::info!(
            "no new files in {} ({} already ingested, {} failed): no ingest work done",
            inbox.display(),
            t.files_skipped,
            t.files_failed
        );
    } else {
        tracing::info!(
            "ingested {} new file(s) from {}: {} rows written, {} quarantined, {} older duplicates dropped",
            t.files_ingested,
            inbox.display(),
            t.rows_written,
            t.rows_quarantined,
            t.duplicates_dropped
        );
    }
    Ok(report)
}

/// The files read without some of their mapping's fields, and which.
fn missing_fields(report: &RunReport) -> Vec<Value> {
    report
        .files
        .iter()
        .filter(|f| !f.missing_fields.is_empty())
        .map(|f| json!({ "file": f.path, "fields": f.missing_fields }))
        .collect()
}

/// The files of the ingest that failed, with their errors.
fn failed_files(report: &RunReport) -> Vec<Value> {
    report
        .files
        .iter()
        .filter(|f| f.status == cxpipe_ingest::FileStatus::Failed)
        .map(|f| json!({ "file": f.path, "error": f.message }))
        .collect()
}

/// What phase 2 did: the reports written and the errors.
struct Reports {
    /// Whether every report already reflected this dataset state and
    /// these settings.
    up_to_date: bool,
    /// The dataset state the reports reflect: its snapshot.
    state: ReportsState,
    written: Vec<Value>,
    errors: Vec<Value>,
}

/// What the reports in a folder reflect, kept beside them in
/// [`STATE_FILE`]: the dataset's snapshot, the settings, and the reports
/// written from them. It is removed before any report is replaced and
/// written after the last one, so a run killed in between leaves none, and
/// the next run rewrites every report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ReportsState {
    /// The dataset's snapshot (`None`: a dataset without one yet).
    snapshot: Option<String>,
    /// A hash of cxpipe's version and the config file's text.
    settings: String,
    /// The reports written from them (their names, e.g. `kpi:agent,day`).
    #[serde(default)]
    reports: Vec<String>,
}

/// The reports folder's record of what its reports reflect.
pub const STATE_FILE: &str = ".cxpipe-reports.json";

/// A hash of what the reports depend on besides the data: cxpipe's version
/// and the config file's bytes (a changed setting rewrites every report).
/// `DefaultHasher` is stable for one build of cxpipe, which is all this
/// needs: a new build rewrites the reports once.
fn settings_hash(config: &Config) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    match &config.path {
        Some(p) => std::fs::read(p).unwrap_or_default().hash(&mut h),
        None => 0u8.hash(&mut h),
    }
    format!("{:016x}", h.finish())
}

fn read_state(dir: &Path) -> Option<ReportsState> {
    serde_json::from_slice(&std::fs::read(dir.join(STATE_FILE)).ok()?).ok()
}

/// Phase 2: writes every report of the plan, unless every one already
/// reflects the dataset's current snapshot and these settings (and
/// `--refresh` was not given).
fn write_reports(job: &RunSettings, config: &Config, refresh: bool) -> anyhow::Result<Reports> {
    let dir = &job.reports_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    remove_stale_temp_files(dir);
    let ext = job.ext();
    let mut out = Reports {
        up_to_date: false,
        state: ReportsState {
            snapshot: None,
            settings: settings_hash(config),
            reports: Vec::new(),
        },
        written: Vec::new(),
        errors: Vec::new(),
    };
    if !job.dataset.join(cxpipe_dataset::INTERACTIONS).is_dir() {
        let error = format!("{} has no data yet", job.dataset.display());
        out.errors.push(json!({ "report": "all", "error": error }));
        return Ok(out);
    }
    let (guard, source) = open_source(&job.dataset)?;
    out.state.snapshot = guard.snapshot()?.map(|s| s.id);
    let names: Vec<String> = job.plan.jobs.iter().map(|(s, _)| s.name()).collect();
    let recorded = read_state(dir);
    out.up_to_date = !refresh
        && recorded.as_ref().is_some_and(|r| {
            r.snapshot == out.state.snapshot
                && r.settings == out.state.settings
                && names.iter().all(|n| r.reports.contains(n))
        })
        && job
            .plan
            .jobs
            .iter()
            .all(|(s, _)| dir.join(s.file_name(ext)).is_file());
    if out.up_to_date {
        tracing::info!(
            "the {} report(s) in {} are up to date: they reflect snapshot {} of {} (--refresh rewrites them)",
            job.plan.jobs.len(),
            dir.display(),
            out.state.snapshot.as_deref().unwrap_or("(none)"),
            job.dataset.display()
        );
        return Ok(out);
    }
    if let Some(r) = &recorded
        && r.snapshot != out.state.snapshot
    {
        tracing::info!(
            "the reports in {} reflect snapshot {}, the dataset is at {}: rewriting them",
            dir.display(),
            r.snapshot.as_deref().unwrap_or("(none)"),
            out.state.snapshot.as_deref().unwrap_or("(none)")
        );
    }
    let state_path = dir.join(STATE_FILE);
    match std::fs::remove_file(&state_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing {}", state_path.display())),
    }
    let mut turnover_rows = None;
    for (spec, report) in &job.plan.jobs {
        if CANCEL.load(Ordering::SeqCst) {
            out.errors
                .push(json!({ "report": "rest", "error": "interrupted" }));
            break;
        }
        let path = dir.join(spec.file_name(ext));
        let t0 = Instant::now();
        match write_report(
            report,
            &job.plan,
            &source,
            &path,
            job.format,
            &mut turnover_rows,
        ) {
            Ok(w) => {
                out.written.push(describe(&spec.name(), &path, w, t0));
                out.state.reports.push(spec.name());
            }
            Err(e) => {
                tracing::error!("report {}: {e:#}", spec.name());
                out.errors
                    .push(json!({ "report": spec.name(), "error": format!("{e:#}") }));
            }
        }
    }
    write_atomic(&state_path, |w| {
        serde_json::to_writer_pretty(&mut *w, &out.state)?;
        Ok(w.write_all(b"\n")?)
    })?;
    Ok(out)
}

/// The summary's entry for a report just written, logged too.
fn describe(name: &str, path: &Path, w: Written, t0: Instant) -> Value {
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut entry = json!({
        "report": name,
        "path": path.display().to_string(),
        "bytes": bytes,
        "seconds": round2(t0.elapsed().as_secs_f64()),
    });
    match w {
        Written::Table { rows } => {
            let noun = if rows == 1 { "row" } else { "rows" };
            tracing::info!("wrote {} ({rows} {noun}, {bytes} bytes)", path.display());
            entry["rows"] = json!(rows);
        }
        Written::Page(page) => {
            tracing::info!("wrote {} ({})", path.display(), page.describe());
            entry["sections"] = json!(page.sections);
            entry["empty_sections"] = page
                .empty
                .iter()
                .map(|(name, why)| json!({ "section": name, "reason": why }))
                .collect();
        }
    }
    entry
}

/// The JSON run summary (stdout).
#[allow(clippy::too_many_arguments)] // reason: one value per part of the summary
fn summary(
    config: &Config,
    job: &RunSettings,
    report: &RunReport,
    failed: Vec<Value>,
    reports: Reports,
    seconds: Value,
    code: u8,
    started_at: String,
) -> Value {
    let t = &report.totals;
    let new_files = t.files_ingested;
    let skipped: Vec<Value> = job
        .plan
        .skipped
        .iter()
        .map(|(spec, why)| json!({ "report": spec.name(), "reason": why }))
        .collect();
    json!({
        "started_at": started_at,
        "config": config.path.as_ref().map(|p| p.display().to_string()),
        "inbox": job.inbox.display().to_string(),
        "dataset": job.dataset.display().to_string(),
        "ingest": {
            "new_files": new_files,
            "files_skipped": t.files_skipped,
            "files_failed": t.files_failed,
            "failed": failed,
            "missing_fields": missing_fields(report),
            "rows_read": t.rows_read,
            "rows_written": t.rows_written,
            "rows_quarantined": t.rows_quarantined,
            "duplicates_dropped": t.duplicates_dropped,
            "rows_filtered": t.rows_filtered,
            "clock_skew_fixed": t.clock_skew_fixed,
            "reject_rate": report.reject_rate,
            "reject_threshold_exceeded": report.reject_threshold_exceeded,
            "duplicate_rate": report.duplicate_rate,
            "duplicate_threshold_exceeded": report.duplicate_threshold_exceeded,
            "ingest_id": (new_files > 0).then(|| report.ingest_id.clone()),
            "quarantine_dir": report.quarantine_dir,
        },
        "reports_dir": job.reports_dir.display().to_string(),
        "reports_up_to_date": reports.up_to_date,
        "snapshot": reports.state.snapshot,
        "reports": reports.written,
        "reports_skipped": skipped,
        "report_errors": reports.errors,
        "seconds": seconds,
        "exit_code": code,
    })
}

/// Removes the temporary files a killed run left in the reports folder,
/// however recent: no other cxpipe writes there now, as a second run's
/// ingest cannot take the dataset's lock while this one reads it.
fn remove_stale_temp_files(dir: &Path) {
    for path in cxpipe_dataset::remove_stale_temp_files(dir, std::time::Duration::ZERO) {
        tracing::info!("removed {}, left by an interrupted run", path.display());
    }
}

fn round2(s: f64) -> f64 {
    (s * 100.0).round() / 100.0
}

/// Agent activity and signals, computed once per run for the turnover
/// and attrition reports.
type TurnoverRows = (turnover::Activity, i64, Vec<turnover::Signals>);

/// What a report wrote.
enum Written {
    /// A table of this many rows.
    Table { rows: usize },
    /// The HTML page.
    Page(crate::html::Page),
}

/// Computes one report and replaces its file.
fn write_report(
    job: &Job,
    plan: &Plan,
    source: &Partitions,
    path: &Path,
    format: OutputFormat,
    turnover_rows: &mut Option<TurnoverRows>,
) -> anyhow::Result<Written> {
    let rules = &plan.rules;
    let mut t = Table::from(match job {
        Job::Kpi(p) => cxpipe_analytics::kpi(source, p)?,
        Job::Sla { level, base } => match level.as_str() {
            "interval" => sla::interval_report(source, base, rules)?,
            "interaction" => sla::interaction_report(source, base, rules, None, None)?,
            _ => sla::agent_report(source, base, rules)?,
        },
        Job::Turnover | Job::Attrition(_) => {
            // One pass over the dataset serves both reports.
            if turnover_rows.is_none() {
                let p = &plan.turnover;
                let activity = turnover::activity(source, &p.zone)?;
                let (as_of, rows) = turnover::signals(&activity, p)?;
                *turnover_rows = Some((activity, as_of, rows));
            }
            let Some((activity, as_of, rows)) = turnover_rows.as_ref() else {
                anyhow::bail!("agent activity was not read");
            };
            match job {
                Job::Attrition(by) => turnover::attrition(activity, rows, *as_of, *by)?,
                _ => turnover::signals_frame(rows)?,
            }
        }
        Job::Html(req) => {
            let page = crate::html::render(source, req)?;
            write_atomic(path, |w| Ok(w.write_all(page.html.as_bytes())?))?;
            return Ok(Written::Page(page));
        }
    });
    emit_table(&mut t, format, None, Some(path))?;
    Ok(Written::Table { rows: t.height() })
}
