//! `cxpipe run`: the nightly job (SPEC §12). Ingest the new files of the
//! configured inbox into the dataset, then write every configured report
//! into the reports folder, each replacing the previous one atomically.
//! One JSON run summary goes to stdout; logs go to stderr.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use cxpipe_analytics::table::Format;
use cxpipe_analytics::turnover::{self, AttritionBy, TurnoverParams};
use cxpipe_analytics::{DataFrame, Group, KpiParams, Source, sla};
use cxpipe_ingest::{IngestOptions, Input};
use serde_json::{Value, json};

use crate::cmd::kpi::{TEMP_PREFIX, emit_frame, open_source, write_atomic};
use crate::cmd::report::Request;
use crate::config::{Config, RunSection, UsageError};
use crate::progress::IngestProgress;
use crate::settings::{self, KpiFlags};
use crate::{CANCEL, EXIT_ERROR, EXIT_OK, EXIT_REJECTS, Global};

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
max_reject_rate were quarantined.";

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

/// One configured report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSpec {
    /// `kpi:agent,day`.
    Kpi(String),
    /// `sla:agent`.
    Sla(String),
    /// `turnover`.
    Turnover,
    /// `attrition:team`.
    Attrition(String),
    /// `html`.
    Html,
}

/// The reports written when `[run] reports` is not given.
pub const DEFAULT_REPORTS: [&str; 7] = [
    "kpi:agent,day",
    "kpi:queue,interval",
    "sla:interval",
    "sla:agent",
    "turnover",
    "attrition:team",
    "html",
];

impl ReportSpec {
    /// Parses `kind[:arg]`.
    pub fn parse(s: &str) -> anyhow::Result<ReportSpec> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k.trim(), Some(a.trim())),
            None => (s.trim(), None),
        };
        let spec = match (kind, arg) {
            ("kpi", Some(by)) => {
                cxpipe_analytics::Group::parse_list(by)?;
                ReportSpec::Kpi(by.to_string())
            }
            ("sla", Some(level)) if ["interval", "agent", "interaction"].contains(&level) => {
                ReportSpec::Sla(level.to_string())
            }
            ("turnover", None) => ReportSpec::Turnover,
            ("attrition", Some(by)) => {
                AttritionBy::parse(by)?;
                ReportSpec::Attrition(by.to_string())
            }
            ("html", None) => ReportSpec::Html,
            _ => {
                return Err(UsageError(format!(
                    "report {s:?}: choose kpi:BY, sla:interval|agent|interaction, turnover, attrition:team|site|all or html"
                ))
                .into());
            }
        };
        Ok(spec)
    }

    /// Its file name in the reports folder.
    pub fn file_name(&self, ext: &str) -> String {
        match self {
            ReportSpec::Kpi(by) => format!("kpi-{}.{ext}", by.replace(',', "-")),
            ReportSpec::Sla(level) => format!("sla-{level}.{ext}"),
            ReportSpec::Turnover => format!("turnover.{ext}"),
            ReportSpec::Attrition(by) => format!("attrition-{by}.{ext}"),
            ReportSpec::Html => "report.html".to_string(),
        }
    }
}

/// Runs the job; the exit code follows SPEC §12.
pub fn run(args: &Args, global: &Global) -> anyhow::Result<u8> {
    let started = Instant::now();
    let started_at = jiff::Timestamp::now().to_string();
    let config = Config::load(args.config.as_deref())?;
    let Some(section) = &config.run else {
        return Err(UsageError(format!(
            "{}: no [run] section (inbox, dataset, reports_dir, reports); see `cxpipe run --help`",
            config_name(&config)
        ))
        .into());
    };
    let need = |v: &Option<PathBuf>, key: &str| -> anyhow::Result<PathBuf> {
        v.as_deref()
            .map(|p| config.resolve(p))
            .ok_or_else(|| UsageError(format!("[run] {key} is missing")).into())
    };
    let inbox = need(&section.inbox, "inbox")?;
    let dataset = need(&section.dataset, "dataset")?;
    let reports_dir = need(&section.reports_dir, "reports_dir")?;
    if !inbox.is_dir() {
        return Err(UsageError(format!("[run] inbox {} is not a folder", inbox.display())).into());
    }
    let format = match section.format.as_deref() {
        Some(f) => Format::parse(f)?,
        None => Format::Csv,
    };
    // The whole plan is checked before anything is ingested: a report that
    // cannot be written is a usage error now, not a failure after the ingest.
    let plan = plan(section, &config, &dataset)?;
    for (spec, why) in &plan.skipped {
        tracing::info!("skipping report {}: {why}", spec_name(spec));
    }

    // 1. Ingest whatever is new in the inbox.
    let ingest_started = Instant::now();
    let mut opts = IngestOptions::new(&dataset);
    opts.pii_key = std::env::var("CXPIPE_PII_KEY").ok();
    opts.pii_key_file = config.key_file();
    opts.zone = config.ingest_zone()?;
    opts.source = config.run_source()?;
    if let Some(r) = section.max_reject_rate {
        opts.max_reject_rate = r;
    }
    let progress = IngestProgress::new(global.progress());
    let result = cxpipe_ingest::ingest(&[Input::Path(inbox.clone())], &opts, &progress, &CANCEL);
    progress.finish();
    let report = result
        .with_context(|| format!("ingesting {} into {}", inbox.display(), dataset.display()))?;
    let ingest_seconds = ingest_started.elapsed().as_secs_f64();
    let t = &report.totals;
    let failed: Vec<Value> = report
        .files
        .iter()
        .filter(|f| f.status == cxpipe_ingest::FileStatus::Failed)
        .map(|f| json!({ "file": f.path, "error": f.message }))
        .collect();
    // The ingest has logged each failed file already.
    let new_files = t.files_ingested;
    if new_files == 0 {
        tracing::info!(
            "no new files in {} ({} already ingested, {} failed): no ingest work done",
            inbox.display(),
            t.files_skipped,
            t.files_failed
        );
    } else {
        tracing::info!(
            "ingested {new_files} new file(s) from {}: {} rows written, {} quarantined, {} older duplicates dropped",
            inbox.display(),
            t.rows_written,
            t.rows_quarantined,
            t.duplicates_dropped
        );
    }

    // 2. The reports.
    let reports_started = Instant::now();
    std::fs::create_dir_all(&reports_dir)
        .with_context(|| format!("creating {}", reports_dir.display()))?;
    remove_stale_temp_files(&reports_dir);
    let ext = match format {
        Format::Json => "json",
        Format::Parquet => "parquet",
        _ => "csv",
    };
    let all_there = plan
        .jobs
        .iter()
        .all(|(s, _)| reports_dir.join(s.file_name(ext)).is_file());
    let skip_reports = new_files == 0 && all_there && !args.refresh;
    let mut written = Vec::new();
    let mut report_errors = Vec::new();
    if skip_reports {
        tracing::info!(
            "nothing new: the {} report(s) in {} are up to date (--refresh rewrites them)",
            plan.jobs.len(),
            reports_dir.display()
        );
    } else if !dataset.join("interactions").is_dir() {
        report_errors.push(
            json!({ "report": "all", "error": format!("{} has no data yet", dataset.display()) }),
        );
    } else {
        let (_lock, source) = open_source(&dataset)?;
        let mut turnover_rows = None;
        for (spec, job) in &plan.jobs {
            if CANCEL.load(Ordering::SeqCst) {
                report_errors.push(json!({ "report": "rest", "error": "interrupted" }));
                break;
            }
            let path = reports_dir.join(spec.file_name(ext));
            let t0 = Instant::now();
            match write_report(job, &plan, &source, &path, format, &mut turnover_rows) {
                Ok(w) => {
                    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
                    let mut entry = json!({
                        "report": spec_name(spec),
                        "path": path.display().to_string(),
                        "bytes": bytes,
                        "seconds": round2(t0.elapsed().as_secs_f64()),
                    });
                    match w {
                        Written::Table { rows } => {
                            let noun = if rows == 1 { "row" } else { "rows" };
                            tracing::info!(
                                "wrote {} ({rows} {noun}, {bytes} bytes)",
                                path.display()
                            );
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
                    written.push(entry);
                }
                Err(e) => {
                    tracing::error!("report {}: {e:#}", spec_name(spec));
                    report_errors
                        .push(json!({ "report": spec_name(spec), "error": format!("{e:#}") }));
                }
            }
        }
    }

    let code = if !failed.is_empty() || !report_errors.is_empty() || !report.conservation_ok {
        EXIT_ERROR
    } else if report.reject_threshold_exceeded {
        EXIT_REJECTS
    } else {
        EXIT_OK
    };
    let skipped: Vec<Value> = plan
        .skipped
        .iter()
        .map(|(spec, why)| json!({ "report": spec_name(spec), "reason": why }))
        .collect();
    let summary = json!({
        "started_at": started_at,
        "config": config.path.as_ref().map(|p| p.display().to_string()),
        "inbox": inbox.display().to_string(),
        "dataset": dataset.display().to_string(),
        "ingest": {
            "new_files": new_files,
            "files_skipped": t.files_skipped,
            "files_failed": t.files_failed,
            "failed": failed,
            "rows_read": t.rows_read,
            "rows_written": t.rows_written,
            "rows_quarantined": t.rows_quarantined,
            "duplicates_dropped": t.duplicates_dropped,
            "reject_rate": report.reject_rate,
            "reject_threshold_exceeded": report.reject_threshold_exceeded,
            "ingest_id": (new_files > 0).then(|| report.ingest_id.clone()),
            "quarantine_dir": report.quarantine_dir,
        },
        "reports_dir": reports_dir.display().to_string(),
        "reports_up_to_date": skip_reports,
        "reports": written,
        "reports_skipped": skipped,
        "report_errors": report_errors,
        "seconds": {
            "ingest": round2(ingest_seconds),
            "reports": round2(reports_started.elapsed().as_secs_f64()),
            "total": round2(started.elapsed().as_secs_f64()),
        },
        "exit_code": code,
    });
    super::emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
    Ok(code)
}

/// The config file's path, for messages.
fn config_name(config: &Config) -> String {
    config
        .path
        .as_ref()
        .map_or("no cxpipe.toml found".to_string(), |p| {
            p.display().to_string()
        })
}

/// Removes the temporary files a killed run left in the reports folder.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => {
                    tracing::info!("removed {}, left by an interrupted run", e.path().display())
                }
                Err(err) => tracing::warn!("could not remove {}: {err}", e.path().display()),
            }
        }
    }
}

fn round2(s: f64) -> f64 {
    (s * 100.0).round() / 100.0
}

fn spec_name(spec: &ReportSpec) -> String {
    match spec {
        ReportSpec::Kpi(by) => format!("kpi:{by}"),
        ReportSpec::Sla(level) => format!("sla:{level}"),
        ReportSpec::Turnover => "turnover".to_string(),
        ReportSpec::Attrition(by) => format!("attrition:{by}"),
        ReportSpec::Html => "html".to_string(),
    }
}

/// One report of the plan, with every setting it needs resolved.
enum Job<'a> {
    /// A KPI table.
    Kpi(KpiParams),
    /// An SLA report at `level`, over the `[[sla]]` rules.
    Sla { level: String, base: KpiParams },
    /// The per-agent turnover table.
    Turnover,
    /// Attrition per group and month.
    Attrition(AttritionBy),
    /// The HTML page.
    Html(Box<Request<'a>>),
}

/// What the run will write, and the default reports it leaves out.
struct Plan<'a> {
    jobs: Vec<(ReportSpec, Job<'a>)>,
    /// Default reports the configuration cannot support, and why.
    skipped: Vec<(ReportSpec, String)>,
    /// The settings of the turnover and attrition reports.
    turnover: TurnoverParams,
    /// The `[[sla]]` rules.
    rules: Vec<sla::Rule>,
}

/// Resolves every report of `[run] reports` (else the defaults) with the
/// settings of `config`. Any report named explicitly must be writable; of
/// the defaults, those the configuration cannot support are skipped.
fn plan<'a>(section: &RunSection, config: &Config, dataset: &'a Path) -> anyhow::Result<Plan<'a>> {
    let explicit = section.reports.is_some();
    let names: Vec<&str> = match &section.reports {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => DEFAULT_REPORTS.to_vec(),
    };
    let rules = config.sla.clone();
    let mut plan = Plan {
        jobs: Vec::new(),
        skipped: Vec::new(),
        turnover: settings::turnover_params(config, None)?,
        rules,
    };
    for name in names {
        let spec = ReportSpec::parse(name)?;
        let job = match &spec {
            ReportSpec::Kpi(by) => Job::Kpi(settings::kpi_params(
                config,
                Group::parse_list(by)?,
                &KpiFlags::default(),
            )?),
            ReportSpec::Sla(level) => {
                let interval_rules = plan.rules.iter().any(|r| r.kind.interval_level());
                let missing = if plan.rules.is_empty() {
                    Some("no [[sla]] rules")
                } else if level == "interval" && !interval_rules {
                    Some("no service_level, abandon_rate or asa rule")
                } else {
                    None
                };
                match missing {
                    Some(what) if !explicit => {
                        let why = format!("{what} in {}", config_name(config));
                        plan.skipped.push((spec, why));
                        continue;
                    }
                    Some(what) if plan.rules.is_empty() => {
                        return Err(UsageError(format!(
                            "[run] reports names {name:?}, but {} has {what}; add [[sla]] rules or take it out of the list",
                            config_name(config)
                        ))
                        .into());
                    }
                    Some(what) => tracing::warn!(
                        "{} has {what}: the {name} report will be empty",
                        config_name(config)
                    ),
                    None => {}
                }
                Job::Sla {
                    level: level.clone(),
                    base: settings::kpi_params(config, vec![Group::Queue], &KpiFlags::default())?,
                }
            }
            ReportSpec::Turnover => Job::Turnover,
            ReportSpec::Attrition(by) => Job::Attrition(AttritionBy::parse(by)?),
            ReportSpec::Html => Job::Html(Box::new(crate::cmd::report::request(
                dataset, config, None, None, None, None,
            )?)),
        };
        plan.jobs.push((spec, job));
    }
    Ok(plan)
}

/// Agent activity and signals, computed once per run for the turnover
/// and attrition reports.
type TurnoverRows = (turnover::Activity, i64, Vec<turnover::Signals>);

/// What a report wrote.
enum Written {
    /// A table of this many rows.
    Table { rows: usize },
    /// The HTML page.
    Page(crate::cmd::report::Page),
}

/// Computes one report and replaces its file.
fn write_report(
    job: &Job,
    plan: &Plan,
    source: &Source,
    path: &Path,
    format: Format,
    turnover_rows: &mut Option<TurnoverRows>,
) -> anyhow::Result<Written> {
    let rules = &plan.rules;
    let mut df: DataFrame = match job {
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
            let page = crate::cmd::report::render(source, req)?;
            write_atomic(path, |w| Ok(w.write_all(page.html.as_bytes())?))?;
            return Ok(Written::Page(page));
        }
    };
    emit_frame(&mut df, format, None, Some(path))?;
    Ok(Written::Table { rows: df.height() })
}
