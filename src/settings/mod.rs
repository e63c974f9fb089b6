//! The one place where flags meet `cxpipe.toml` (SPEC §13): every command
//! turns its flags into a [`KpiFlags`] and gets its parameters from
//! [`kpi_params`] (and [`turnover_params`], [`page_request`], the run's
//! [`reports::plan`]), so a key means the same thing in `kpi`, `sla`,
//! `report` and `run`. For each setting the flag wins, then the config file
//! (`config`), then the SPEC default. SLA policies are `policy`.

mod config;
mod policy;
pub mod reports;

use std::path::{Path, PathBuf};

use anyhow::Context;
use cxpipe_analytics::time::parse_day;
use cxpipe_analytics::turnover::TurnoverParams;
use cxpipe_analytics::{Group, Interval, KpiParams, SlVariant, Zone};

pub use config::{Config, RunSection, parse_duration_ms, seconds_ms};
pub use policy::load_policy;

use crate::exit::UsageError;

/// The KPI settings a command's flags can give; `None` means the flag was
/// not given (or the command has no such flag), so `cxpipe.toml` or the
/// default applies.
#[derive(Debug, Default, Clone)]
pub struct KpiFlags {
    /// `--from` (local date).
    pub from: Option<String>,
    /// `--to` (local date).
    pub to: Option<String>,
    /// `--tz`.
    pub tz: Option<String>,
    /// `--sl-variant`.
    pub sl_variant: Option<String>,
    /// `--short-abandon` (seconds).
    pub short_abandon: Option<f64>,
    /// `--threshold` (seconds).
    pub threshold: Option<f64>,
    /// `--interval`.
    pub interval: Option<String>,
    /// `--fcr-window`.
    pub fcr_window: Option<String>,
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

/// The KPI parameters for grouping `by`: each setting from its flag, else
/// `[time]`, `[[shift]]` and `[kpi]` of `config`, else the default.
pub fn kpi_params(config: &Config, by: Vec<Group>, flags: &KpiFlags) -> anyhow::Result<KpiParams> {
    let mut p = KpiParams::new(by);
    p.zone = zone(config, flags.tz.as_deref())?;
    if let Some(v) = flags
        .sl_variant
        .as_deref()
        .or(config.kpi.sl_variant.as_deref())
    {
        p.sl_variant = SlVariant::parse(v)?;
    }
    if let Some(s) = flags.short_abandon.or(config.kpi.short_abandon_s) {
        p.short_abandon_ms = seconds_ms(s)
            .map_err(UsageError)
            .context("--short-abandon / [kpi] short_abandon_s")?;
    }
    if let Some(t) = flags.threshold.or(config.kpi.threshold_s) {
        p.threshold_ms = seconds_ms(t)
            .map_err(UsageError)
            .context("--threshold / [kpi] threshold_s")?;
    }
    if let Some(i) = flags.interval.as_deref().or(config.kpi.interval.as_deref()) {
        p.interval = Interval::parse(i)?;
    }
    if let Some(w) = flags
        .fcr_window
        .as_deref()
        .or(config.kpi.fcr_window.as_deref())
    {
        p.fcr_window_ms = parse_duration_ms(w)
            .map_err(UsageError)
            .context("--fcr-window / [kpi] fcr_window")?;
    }
    p.shifts = config.shifts()?;
    p.from = day(flags.from.as_deref()).context("--from")?;
    p.to = day(flags.to.as_deref()).context("--to")?;
    Ok(p)
}

/// The site zone: `--tz`, else `[time] zone`, else UTC.
pub fn zone(config: &Config, tz: Option<&str>) -> anyhow::Result<Zone> {
    match tz.or(config.time.zone.as_deref()) {
        Some(z) => Ok(cxpipe_analytics::time::zone_named(z)?),
        None => Ok(Zone::utc()),
    }
}

/// Turnover parameters: `[turnover]` (gap, weights) and the zone as for
/// the KPIs; as-of, a `--gap-days` flag and the roster are the caller's.
pub fn turnover_params(config: &Config, tz: Option<&str>) -> anyhow::Result<TurnoverParams> {
    let mut p = config.turnover.params()?;
    p.zone = zone(config, tz)?;
    Ok(p)
}

fn day(s: Option<&str>) -> anyhow::Result<Option<i64>> {
    Ok(s.map(parse_day).transpose()?)
}

/// The ingest settings a command's flags can give; `None` means not given,
/// so `cxpipe.toml` or the default applies.
#[derive(Debug, Default)]
pub struct IngestFlags {
    /// `--tz`: the zone of timestamps without an offset.
    pub tz: Option<Zone>,
    /// `--source` / `--mapping` (`None`: `[run] source` / `mapping`).
    pub source: Option<cxpipe_ingest::SourceKind>,
    /// `--max-reject-rate` (`None`: `[run] max_reject_rate`, else 0.05).
    pub max_reject_rate: Option<f64>,
    /// `--max-duplicate-rate` (`None`: `[run] max_duplicate_rate`, else off).
    pub max_duplicate_rate: Option<f64>,
    /// `--force`.
    pub force: bool,
    /// `--threads` (0: one per core).
    pub threads: usize,
}

/// The options of an ingest into `dataset`: each from its flag, else
/// `cxpipe.toml` (`[time] zone`, `[privacy] key_file`, `[run]`), else the
/// default; the key `CXPIPE_PII_KEY` wins over every key file.
pub fn ingest_options(
    config: &Config,
    dataset: &Path,
    flags: IngestFlags,
) -> anyhow::Result<cxpipe_ingest::IngestOptions> {
    let mut opts = cxpipe_ingest::IngestOptions::new(dataset);
    opts.source = match flags.source {
        Some(s) => s,
        None => config.run_source()?,
    };
    opts.zone = match flags.tz {
        Some(z) => z,
        None => config.ingest_zone()?,
    };
    let configured = config.run.as_ref().and_then(|r| r.max_reject_rate);
    if let Some(r) = flags.max_reject_rate.or(configured) {
        opts.max_reject_rate = r;
    }
    opts.max_duplicate_rate = flags
        .max_duplicate_rate
        .or(config.run.as_ref().and_then(|r| r.max_duplicate_rate));
    opts.force = flags.force;
    opts.threads = flags.threads;
    opts.pii_key = std::env::var("CXPIPE_PII_KEY").ok();
    opts.pii_key_file = config.key_file();
    opts.limits = config.ingest.limits(config.path.as_deref())?;
    opts.max_open_parts = max_open_parts(opts.max_open_parts);
    if let Some(k) = config.dataset.keep_snapshots_s {
        opts.keep_snapshots_s = k;
    }
    Ok(opts)
}

/// The part files ingest may keep open: at most `default`, and no more
/// than a third of the open-file limit left after a margin of 64 (the input
/// files, dedupe spill files, the dataset's own), at least 8.
fn max_open_parts(default: usize) -> usize {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _)) => {
            let fit = usize::try_from(soft.saturating_sub(64) / 3).unwrap_or(usize::MAX);
            default.min(fit).max(8)
        }
        Err(_) => default,
    }
}

/// What the HTML report covers: the dataset it names, and the analytics
/// request (zone, dates, service-level settings, SLA rules, turnover).
pub struct PageRequest {
    /// The dataset's folder, named in the header and the title.
    pub dataset: PathBuf,
    /// What the page's queries need.
    pub page: cxpipe_analytics::page::PageRequest,
}

/// Builds the page request from flags and config; the SLA rules are
/// `--policy`'s, else `[[sla]]` of `cxpipe.toml`, else none.
pub fn page_request(
    dataset: &Path,
    config: &Config,
    policy: Option<&Path>,
    tz: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<PageRequest> {
    let flags = KpiFlags {
        from: from.map(String::from),
        to: to.map(String::from),
        tz: tz.map(String::from),
        ..KpiFlags::default()
    };
    let base = kpi_params(config, vec![Group::Interval], &flags)?;
    let (rules, policy_name) = match policy {
        Some(p) => (load_policy(p)?, Some(p.display().to_string())),
        None if !config.sla.is_empty() => (
            config.sla.clone(),
            Some(
                config
                    .path
                    .as_ref()
                    .map_or("cxpipe.toml".to_string(), |p| p.display().to_string()),
            ),
        ),
        None => (Vec::new(), None),
    };
    let turnover = turnover_params(config, tz)?;
    Ok(PageRequest {
        dataset: dataset.to_path_buf(),
        page: cxpipe_analytics::page::PageRequest {
            base,
            rules,
            policy_name,
            turnover,
            table_rows: 500,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("cxpipe.toml")).expect("config")
    }

    #[test]
    fn the_flag_wins_then_the_config_then_the_default() {
        let c = config("[kpi]\nthreshold_s = 30\nfcr_window = \"24h\"\n");
        let p = kpi_params(&c, vec![], &KpiFlags::default()).expect("params");
        assert_eq!(p.threshold_ms, 30_000);
        assert_eq!(p.fcr_window_ms, 24 * 3_600_000);
        assert_eq!(p.short_abandon_ms, 5_000, "the default");
        let flags = KpiFlags {
            threshold: Some(15.0),
            ..KpiFlags::default()
        };
        let p = kpi_params(&c, vec![], &flags).expect("params");
        assert_eq!(p.threshold_ms, 15_000);
        let p = kpi_params(&Config::default(), vec![], &KpiFlags::default()).expect("params");
        assert_eq!(p.threshold_ms, 20_000);
    }

    #[test]
    fn the_zone_comes_from_the_flag_else_the_config() {
        let c = config("[time]\nzone = \"Europe/Berlin\"\n");
        assert_eq!(zone(&c, None).expect("zone").name(), "Europe/Berlin");
        assert_eq!(
            zone(&c, Some("America/New_York")).expect("zone").name(),
            "America/New_York"
        );
        assert_eq!(zone(&Config::default(), None).expect("zone").name(), "UTC");
    }
}
