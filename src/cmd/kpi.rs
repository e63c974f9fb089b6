//! `cxpipe kpi`: KPIs per agent, team, queue, day, shift, interval… (SPEC §8).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use cxpipe_analytics::table::{self, Format};
use cxpipe_analytics::{DataFrame, Group, KpiParams, Source};

use crate::config::{Config, UsageError};
use crate::settings::{self, KpiFlags};

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

/// The KPIs a narrow table shows first, after the keys (then the others
/// that still fit, in their usual order).
pub const FIRST_COLUMNS: [&str; 8] = [
    "offered",
    "service_level",
    "abandon_rate",
    "asa_s",
    "handled",
    "aht_s",
    "fcr_rate",
    "csat_avg",
];

/// `--format` and `--out`, for every command that writes a table.
#[derive(Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format; default: from --out's extension, else table on a
    /// terminal and csv when piped.
    #[arg(long, value_parser = ["table", "csv", "json", "parquet"])]
    pub format: Option<String>,
    /// Write to this file instead of stdout (- = stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// Whether the output goes to stdout (no `--out`, or `--out -`).
    pub fn to_stdout(&self) -> bool {
        self.out.as_ref().is_none_or(|o| o.as_os_str() == "-")
    }

    /// The output format: --format, else from --out, else by terminal.
    pub fn format(&self) -> anyhow::Result<Format> {
        output_format(self.format.as_deref(), self.out.as_deref())
    }

    /// Writes `df` to --out (replaced atomically) or stdout.
    pub fn emit(
        &self,
        df: &mut cxpipe_analytics::DataFrame,
        format: Format,
        caption: &str,
    ) -> anyhow::Result<()> {
        emit_frame(df, format, Some(caption), self.out.as_deref())
    }
}

/// The flags `kpi` and `sla` share: dates, zone, service-level settings
/// and config.
#[derive(Debug, Default, clap::Args)]
pub struct QueryArgs {
    /// First local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Site time zone (IANA name); default [time] zone, else UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Service-level variant: excl_short (default), offered,
    /// answered_plus_abandoned, aband_positive, answered.
    #[arg(long, value_name = "VARIANT")]
    pub sl_variant: Option<String>,
    /// Abandons shorter than this many seconds are short (default 5).
    #[arg(long, value_name = "SECONDS")]
    pub short_abandon: Option<f64>,
    /// Config file (default ./cxpipe.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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

impl QueryArgs {
    /// The settings these flags give (zone, dates, service-level variant
    /// and short abandons); [`settings::kpi_params`] merges them with
    /// `cxpipe.toml`.
    pub fn flags(&self) -> KpiFlags {
        KpiFlags {
            from: self.from.clone(),
            to: self.to.clone(),
            tz: self.tz.clone(),
            sl_variant: self.sl_variant.clone(),
            short_abandon: self.short_abandon,
            ..KpiFlags::default()
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

/// Where and how the result goes.
fn output_format(format: Option<&str>, out: Option<&Path>) -> anyhow::Result<Format> {
    if let Some(f) = format {
        return Ok(Format::parse(f)?);
    }
    let to_file = out.filter(|p| p.as_os_str() != "-");
    if let Some(p) = to_file {
        return Ok(match p.extension().and_then(|e| e.to_str()) {
            Some("parquet") => Format::Parquet,
            Some("json") => Format::Json,
            Some("txt") => Format::Table,
            _ => Format::Csv,
        });
    }
    Ok(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Csv
    })
}

pub use cxpipe_dataset::TEMP_PREFIX;

/// Writes a file through `fill`, replacing `path` atomically and durably
/// ([`cxpipe_dataset::write_atomic`]).
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    cxpipe_dataset::write_atomic(path, fill).map_err(|e| match e {
        cxpipe_dataset::AtomicWriteError::Io(e) => anyhow::Error::new(e),
        cxpipe_dataset::AtomicWriteError::Fill(e) => e,
    })
}

/// Writes `df` to `out` (a file, replaced atomically) or stdout.
pub fn emit_frame(
    df: &mut cxpipe_analytics::DataFrame,
    format: Format,
    caption: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    match out.filter(|p| p.as_os_str() != "-") {
        Some(path) => write_atomic(path, |w| Ok(table::write(df, format, caption, w)?)),
        None => {
            let stdout = std::io::stdout();
            if format == Format::Parquet && stdout.is_terminal() {
                anyhow::bail!(
                    "will not write Parquet to a terminal; use --out FILE.parquet or a pipe"
                );
            }
            let mut w = std::io::BufWriter::new(stdout.lock());
            table::write(df, format, caption, &mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// The dates a report covers, in words: `--from`/`--to`, else all data.
pub fn date_range(p: &KpiParams, source: &Source) -> String {
    use cxpipe_analytics::time::format_day;
    match (p.from, p.to) {
        (Some(f), Some(t)) => format!("{} to {}", format_day(f), format_day(t)),
        (Some(f), None) => format!("from {}", format_day(f)),
        (None, Some(t)) => format!("up to {}", format_day(t)),
        (None, None) => match source.day_range() {
            Some((a, b)) => format!("all data ({} to {} UTC)", format_day(a), format_day(b)),
            None => "all data (none yet)".to_string(),
        },
    }
}

/// Opens a dataset for reading and lists its partitions. The query must
/// run while the returned dataset (its shared lock) is alive.
pub fn open_source(dataset: &Path) -> anyhow::Result<(cxpipe_dataset::ReadGuard, Source)> {
    // Its errors name the dataset (or the file in it) already.
    let ds = cxpipe_dataset::Dataset::open_for_reading(dataset)?;
    if let Some(note) = ds.recovered() {
        tracing::info!("{note}");
    }
    let source = Source::open(dataset)?;
    if source.is_empty() {
        tracing::warn!("{} has no rows yet", dataset.display());
    }
    Ok((ds, source))
}

/// Runs the query and writes the table.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.query.config.as_deref())?;
    let p = settings::kpi_params(&config, Group::parse_list(&args.by)?, &args.flags())?;
    let format = args.output.format()?;
    let (_lock, source) = open_source(&args.dataset)?;
    let started = std::time::Instant::now();
    let mut df = cxpipe_analytics::kpi(&source, &p)?;
    tracing::debug!(
        rows = df.height(),
        seconds = started.elapsed().as_secs_f64(),
        "KPIs computed"
    );
    let mut note = None;
    if format == Format::Table {
        // The caption names them once instead of on every line.
        df = df.drop_many(["sl_variant", "sl_threshold_s"]);
        // Fitted to the terminal only when the table goes to it.
        let width = args.output.to_stdout().then(table_width).flatten();
        (df, note) = table_columns(df, &p.key_columns(), args.columns.as_deref(), width)?;
    } else if args.columns.is_some() {
        return Err(UsageError(
            "--columns chooses the columns of the text table; csv, json and parquet always carry every column"
                .into(),
        )
        .into());
    }
    let caption = caption(&p);
    args.output.emit(&mut df, format, &caption)?;
    if let Some(note) = note {
        super::emit(&format!("{note}\n"))?;
    }
    Ok(())
}

/// The width the text table must fit: `$COLUMNS`, else the terminal's
/// (None: stdout is no terminal, so nothing wraps).
fn table_width() -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
    {
        return Some(w);
    }
    let (terminal_size::Width(w), _) = terminal_size::terminal_size_of(std::io::stdout())?;
    Some(usize::from(w))
}

/// The columns of the text table (`--columns`, else those that fit
/// `width`), and the line that names what was left out.
fn table_columns(
    df: DataFrame,
    keys: &[&str],
    columns: Option<&str>,
    width: Option<usize>,
) -> anyhow::Result<(DataFrame, Option<String>)> {
    let chosen: Vec<String> = match columns.map(str::trim) {
        Some("all") => return Ok((df, None)),
        Some(list) => {
            let names: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect();
            let mut chosen: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            for want in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                if !names.iter().any(|n| n == want) {
                    return Err(UsageError(format!(
                        "--columns: no column {want:?} in this table; it has {}",
                        names.join(", ")
                    ))
                    .into());
                }
                if !chosen.iter().any(|c| c == want) {
                    chosen.push(want.to_string());
                }
            }
            chosen
        }
        None => {
            let Some(width) = width else {
                return Ok((df, None));
            };
            let (kept, left) =
                table::fit_columns(&table::table_widths(&df), keys, &FIRST_COLUMNS, width);
            if left.is_empty() {
                return Ok((df, None));
            }
            let note = format!(
                "not shown: {} (--columns all, or --columns a,b,c)",
                left.join(", ")
            );
            return Ok((df.select(kept)?, Some(note)));
        }
    };
    Ok((df.select(chosen)?, None))
}
