//! `cxpipe kpi`: KPIs per agent, team, queue, day, shift, interval… (SPEC §8).

use std::path::PathBuf;

use cxpipe_analytics::table::OutputFormat;
use cxpipe_analytics::{Group, KpiParams};

use crate::exit::UsageError;
use crate::open::open_source;
use crate::output::{OutputArgs, emit, table_columns, table_width};
use crate::settings::{self, Config, KpiFlags, QueryArgs};

const EXAMPLES: &str = "\
Examples:
  cxpipe kpi dataset --by agent,day
  cxpipe kpi dataset --by queue,day --columns offered,answered,abandon_rate
  cxpipe kpi dataset --by queue,interval --interval 15m --tz Europe/Berlin --from 2026-10-01 --to 2026-10-31
  cxpipe kpi dataset --by agent,shift --format csv --out agent-shift.csv
  cxpipe kpi dataset --by team,week --sl-variant answered_plus_abandoned --threshold 30

Groupings (any combination, in output order): agent, team, site, queue, channel,
day, shift, interval, week, month. Without --by: one row of totals.
A grouping with `agent` has the agent-side columns only (handled .. occupancy);
the others also have the queue-side ones (offered .. asa_s).

Every key is local time in --tz (or [time] zone): a contact belongs to the
interval, day and shift in which it arrived; a shift that crosses midnight
belongs to the day it starts. Rates are fractions (the table shows them as
percentages); durations are seconds. A ratio with nothing to divide by is empty.
On a terminal the table shows the keys and the KPIs that fit its width, and
names the columns left out (--columns all or a list to choose); csv, json and
parquet carry every column.
Defaults come from cxpipe.toml ([time], [[shift]], [kpi]); flags win.";

/// Compute KPIs over a dataset.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// Comma-separated groupings, e.g. agent,day.
    #[arg(long, default_value = "", value_name = "LIST")]
    pub by: String,
    /// Interval for --by interval: 15m, 30m (default), 1h or 1d.
    #[arg(long)]
    pub interval: Option<String>,
    /// Service-level threshold in seconds (default [kpi] threshold_s, else 20).
    #[arg(long, value_name = "SECONDS")]
    pub threshold: Option<f64>,
    /// FCR window, e.g. 72h (default) or 7d.
    #[arg(long, value_name = "DURATION")]
    pub fcr_window: Option<String>,
    /// Columns of the text table: `all`, or a comma-separated list shown
    /// after the grouping keys. Default on a terminal: the keys, then the
    /// KPIs read first that fit its width ($COLUMNS, else the terminal's).
    /// CSV, JSON and Parquet always carry every column.
    #[arg(long, value_name = "all|LIST")]
    pub columns: Option<String>,
    #[command(flatten)]
    pub query: QueryArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl Args {
    /// The KPI settings its flags give.
    pub fn flags(&self) -> KpiFlags {
        KpiFlags {
            threshold: self.threshold,
            interval: self.interval.clone(),
            fcr_window: self.fcr_window.clone(),
            ..self.query.flags()
        }
    }
}

/// The line above the text table: what the numbers mean.
pub fn caption(p: &KpiParams) -> String {
    let mut parts = vec![format!("zone {}", p.zone.name())];
    if p.queue_side() {
        parts.push(format!(
            "service level {} at {} s (short abandon < {} s)",
            p.sl_variant.name(),
            p.threshold_ms as f64 / 1000.0,
            p.short_abandon_ms as f64 / 1000.0
        ));
    }
    parts.push(format!(
        "FCR window {} h",
        p.fcr_window_ms as f64 / 3_600_000.0
    ));
    if p.by.contains(&Group::Interval) {
        parts.push(format!("interval {}", p.interval.name()));
    }
    parts.join(" · ")
}

/// Runs the query and writes the table.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.query.config.as_deref())?;
    let p = settings::kpi_params(&config, Group::parse_list(&args.by)?, &args.flags())?;
    let format = args.output.format()?;
    let (_lock, source) = open_source(&args.dataset)?;
    let started = std::time::Instant::now();
    let mut t = cxpipe_analytics::kpi_table(&source, &p)?;
    tracing::debug!(
        rows = t.height(),
        seconds = started.elapsed().as_secs_f64(),
        "KPIs computed"
    );
    let mut note = None;
    if format == OutputFormat::Table {
        // The caption names them once instead of on every line.
        t = t.drop(&["sl_variant", "sl_threshold_s"]);
        // Fitted to the terminal only when the table goes to it.
        let width = args.output.to_stdout().then(table_width).flatten();
        (t, note) = table_columns(t, &p.key_columns(), args.columns.as_deref(), width)?;
    } else if args.columns.is_some() {
        return Err(UsageError(
            "--columns chooses the columns of the text table; csv, json and parquet always carry every column"
                .into(),
        )
        .into());
    }
    let caption = caption(&p);
    args.output.emit(&mut t, format, &caption)?;
    if let Some(note) = note {
        emit(&format!("{note}\n"))?;
    }
    Ok(())
}
