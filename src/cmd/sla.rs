//! `cxpipe sla`: SLA breach reports, from queue × interval down to the
//! agent and the exact interactions (SPEC §10).

use std::path::PathBuf;

use anyhow::Context;
use cxpipe_analytics::sla::{self, Rule};
use cxpipe_analytics::table::OutputFormat;
use cxpipe_analytics::{Group, KpiParams, Partitions, Table};

use crate::exit::UsageError;
use crate::open::open_source;
use crate::output::OutputArgs;
use crate::settings::{self, Config, QueryArgs, load_policy};

const EXAMPLES: &str = "\
Examples:
  cxpipe sla dataset --policy sla.toml                       # agents behind the breaches
  cxpipe sla dataset --policy sla.toml --level interval      # which queue x intervals missed
  cxpipe sla dataset --policy sla.toml --level interaction --agent a-0042 --top 20

Levels:
  interval     every queue x interval of each service_level / abandon_rate / asa
               rule: offered, measured, target, met, shortfall (missed first)
  agent        (default) one row per agent x rule: handled, breaches, breach_rate,
               rank (1 = worst breach rate within the rule), and for interval rules
               the share of the missed intervals among those the agent worked in
  interaction  every contact over a wait / handle / acw / hold threshold, worst
               first: measured, threshold and excess in seconds, arrival in local time

Rules come from --policy FILE, else from [[sla]] in cxpipe.toml. A rule:
  [[sla]]
  name = \"voice-80-20\"
  kind = \"service_level\"          # or abandon_rate, asa, wait, handle, acw, hold
  scope = { channel = \"voice\", queue = \"sales-*\" }   # optional: channel, queue (glob), team, site
  threshold_s = 20                 # service_level: T (default [kpi] threshold_s, else 20);
                                   # wait/handle/acw/hold: the limit
  target = 0.80                    # service_level, abandon_rate: a fraction; asa: seconds
  interval = \"30m\"                 # interval rules: 15m, 30m (default), 1h, 1d
The report states the policy, dates and zone it covers (the table's caption;
on stderr for csv, json and parquet).";

/// SLA breach reports.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// Policy file with [[sla]] rules (default: [[sla]] in cxpipe.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Report level.
    #[arg(long, default_value = "agent", value_parser = ["interval", "agent", "interaction"])]
    pub level: String,
    /// With --level interaction: only this agent's contacts.
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// With --level interaction: the worst N contacts of each rule.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    #[command(flatten)]
    pub query: QueryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the report and writes it.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.query.config.as_deref())?;
    let (rules, policy_name) = match &args.policy {
        Some(path) => (load_policy(path)?, path.display().to_string()),
        None if !config.sla.is_empty() => {
            let name = config
                .path
                .as_ref()
                .map_or("cxpipe.toml".to_string(), |p| p.display().to_string());
            (config.sla.clone(), name)
        }
        None => {
            return Err(UsageError(
                "no SLA rules: pass --policy FILE or add [[sla]] rules to cxpipe.toml".into(),
            )
            .into());
        }
    };
    if args.level != "interaction" && (args.agent.is_some() || args.top.is_some()) {
        return Err(UsageError("--agent and --top go with --level interaction".into()).into());
    }
    if args.top == Some(0) {
        return Err(UsageError("--top must be at least 1".into()).into());
    }
    let base = settings::kpi_params(&config, vec![Group::Queue], &args.query.flags())?;
    let format = args.output.format()?;
    let (_lock, source) = open_source(&args.dataset)?;
    let wanted = |interval: bool| {
        rules
            .iter()
            .filter(|r| r.kind.interval_level() == interval)
            .count()
    };
    let none = match args.level.as_str() {
        "interval" if wanted(true) == 0 => Some("service_level, abandon_rate or asa"),
        "interaction" if wanted(false) == 0 => Some("wait, handle, acw or hold"),
        _ => None,
    };
    if let Some(kinds) = none {
        tracing::warn!(
            "{policy_name} has no {kinds} rules: the {} report is empty",
            args.level
        );
    }
    let started = std::time::Instant::now();
    let mut t = Table::from(match args.level.as_str() {
        "interval" => sla::interval_report(&source, &base, &rules)?,
        "interaction" => {
            sla::interaction_report(&source, &base, &rules, args.agent.as_deref(), args.top)?
        }
        _ => sla::agent_report(&source, &base, &rules)?,
    });
    tracing::debug!(
        rows = t.height(),
        seconds = started.elapsed().as_secs_f64(),
        "SLA report computed"
    );
    let caption = caption(&policy_name, &rules, &base, &source);
    if format != OutputFormat::Table {
        tracing::info!("{caption}");
    }
    args.output
        .emit(&mut t, format, &caption)
        .context("writing the SLA report")
}

/// What the report covers: policy, dates, zone and service-level settings.
fn caption(policy: &str, rules: &[Rule], p: &KpiParams, source: &Partitions) -> String {
    let dates = cxpipe_analytics::page::time_range(p, source);
    let mut parts = vec![
        format!("policy {policy} ({} rules)", rules.len()),
        dates,
        format!("zone {}", p.zone.name()),
    ];
    if rules.iter().any(|r| r.kind == sla::RuleKind::ServiceLevel) {
        parts.push(format!(
            "service level {} at a rule's threshold_s, else {} s (short abandon < {} s)",
            p.sl_variant.name(),
            p.threshold_ms as f64 / 1000.0,
            p.short_abandon_ms as f64 / 1000.0
        ));
    }
    parts.join(" · ")
}
