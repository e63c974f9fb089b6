//! The reports of `cxpipe run` (`[run] reports`, SPEC §13.1): each spec
//! parsed into a typed [`ReportSpec`], and the whole [`Plan`] resolved —
//! every report with its settings — before anything is ingested.

use std::path::{Path, PathBuf};

use cxpipe_analytics::table::OutputFormat;
use cxpipe_analytics::turnover::{AttritionBy, TurnoverParams};
use cxpipe_analytics::{Group, KpiParams, sla};

use super::{Config, KpiFlags, PageRequest, RunSection, kpi_params, page_request, turnover_params};
use crate::exit::UsageError;

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

impl ReportSpec {
    /// Its name as `[run] reports` spells it (`kpi:agent,day`).
    pub fn name(&self) -> String {
        spec_name(self)
    }
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
pub enum Job {
    /// A KPI table.
    Kpi(KpiParams),
    /// An SLA report at `level`, over the `[[sla]]` rules.
    Sla { level: String, base: KpiParams },
    /// The per-agent turnover table.
    Turnover,
    /// Attrition per group and month.
    Attrition(AttritionBy),
    /// The HTML page.
    Html(Box<PageRequest>),
}

/// What the run will write, and the default reports it leaves out.
pub struct Plan {
    pub jobs: Vec<(ReportSpec, Job)>,
    /// Default reports the configuration cannot support, and why.
    pub skipped: Vec<(ReportSpec, String)>,
    /// The settings of the turnover and attrition reports.
    pub turnover: TurnoverParams,
    /// The `[[sla]]` rules.
    pub rules: Vec<sla::Rule>,
}

/// Resolves every report of `[run] reports` (else the defaults) with the
/// settings of `config`. Any report named explicitly must be writable; of
/// the defaults, those the configuration cannot support are skipped.
pub fn plan(section: &RunSection, config: &Config, dataset: &Path) -> anyhow::Result<Plan> {
    let explicit = section.reports.is_some();
    let names: Vec<&str> = match &section.reports {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => DEFAULT_REPORTS.to_vec(),
    };
    let rules = config.sla.clone();
    let mut plan = Plan {
        jobs: Vec::new(),
        skipped: Vec::new(),
        turnover: turnover_params(config, None)?,
        rules,
    };
    for name in names {
        let spec = ReportSpec::parse(name)?;
        let job = match &spec {
            ReportSpec::Kpi(by) => Job::Kpi(kpi_params(
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
                    base: kpi_params(config, vec![Group::Queue], &KpiFlags::default())?,
                }
            }
            ReportSpec::Turnover => Job::Turnover,
            ReportSpec::Attrition(by) => Job::Attrition(AttritionBy::parse(by)?),
            ReportSpec::Html => Job::Html(Box::new(page_request(
                dataset, config, None, None, None, None,
            )?)),
        };
        plan.jobs.push((spec, job));
    }
    Ok(plan)
}

/// The config file's path, for messages.
pub fn config_name(config: &Config) -> String {
    config
        .path
        .as_ref()
        .map_or("no cxpipe.toml found".to_string(), |p| {
            p.display().to_string()
        })
}

/// What `cxpipe run` will do, resolved from `cxpipe.toml` before anything
/// is read or written.
pub struct RunSettings {
    /// The folder the exports arrive in.
    pub inbox: PathBuf,
    /// The dataset.
    pub dataset: PathBuf,
    /// Where the reports go.
    pub reports_dir: PathBuf,
    /// The tables' format (csv, json or parquet).
    pub format: OutputFormat,
    /// Every report, resolved, and the defaults skipped.
    pub plan: Plan,
}

impl RunSettings {
    /// The file extension of the tables.
    pub fn ext(&self) -> &'static str {
        match self.format {
            OutputFormat::Json => "json",
            OutputFormat::Parquet => "parquet",
            _ => "csv",
        }
    }
}

/// Resolves `[run]` of `config`: its paths (relative to the file), the
/// tables' format, and the [`plan`]. Every mistake is a usage error.
pub fn run_settings(config: &Config) -> anyhow::Result<RunSettings> {
    let Some(section) = &config.run else {
        return Err(UsageError(format!(
            "{}: no [run] section (inbox, dataset, reports_dir, reports); see `cxpipe run --help`",
            config_name(config)
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
    // Reports written inside the inbox would be read back as exports the
    // next night (SPEC §13.1: reports_dir is never inside the inbox).
    let (abs_inbox, abs_reports) = (absolute(&inbox), absolute(&reports_dir));
    if abs_reports.starts_with(&abs_inbox) {
        return Err(UsageError(format!(
            "[run] reports_dir {} is inside the inbox {}: the next run would read the reports as exports; put it elsewhere",
            reports_dir.display(),
            inbox.display()
        ))
        .into());
    }
    let format = match section.format.as_deref() {
        Some(f) => OutputFormat::parse(f)?,
        None => OutputFormat::Csv,
    };
    let plan = plan(section, config, &dataset)?;
    Ok(RunSettings {
        inbox,
        dataset,
        reports_dir,
        format,
        plan,
    })
}

/// `p` as an absolute path without `.` and `..` parts (removed lexically;
/// the folder need not exist yet), with the links of the part that exists
/// followed.
fn absolute(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut lexical = match std::env::current_dir() {
        Ok(cwd) if p.is_relative() => cwd,
        _ => PathBuf::new(),
    };
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
            break;
        };
        rest.push(name);
        existing.pop();
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    out
}
