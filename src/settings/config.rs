//! `cxpipe.toml` (SPEC §13): found via `--config`, else `./cxpipe.toml`.
//! Every key has a flag or a default; flags win. An unknown key is an error
//! that names the key and the file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cxpipe_analytics::sla::Rule;
use cxpipe_analytics::turnover::{TurnoverParams, Weights};
use cxpipe_analytics::{Interval, Shift, Shifts, SlVariant, Zone};
use serde::Deserialize;

use super::policy::{RawRule, rules};
use super::reports::ReportSpec;
use crate::exit::UsageError;

/// The whole file. Sections other commands own (`[[sla]]`, `[turnover]`,
/// `[run]`) are accepted here and checked by those commands.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[time]`.
    #[serde(default)]
    pub time: TimeSection,
    /// `[[shift]]`.
    #[serde(default)]
    pub shift: Vec<ShiftSection>,
    /// `[kpi]`.
    #[serde(default)]
    pub kpi: KpiSection,
    /// `[privacy]`.
    #[serde(default)]
    pub privacy: PrivacySection,
    /// `[[sla]]` (SLA policies).
    #[serde(default, rename = "sla")]
    sla_raw: Vec<toml::Spanned<RawRule>>,
    /// The checked `[[sla]]` rules.
    #[serde(skip)]
    pub sla: Vec<Rule>,
    /// `[turnover]`.
    #[serde(default)]
    pub turnover: TurnoverSection,
    /// `[run]`.
    #[serde(default)]
    pub run: Option<RunSection>,
    /// `[ingest]`.
    #[serde(default)]
    pub ingest: IngestSection,
    /// `[dataset]`.
    #[serde(default)]
    pub dataset: DatasetSection,
    /// Where it was read from (`None`: no file, all defaults).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[time]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSection {
    /// IANA site zone (default UTC).
    pub zone: Option<String>,
}

/// One `[[shift]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSection {
    /// Shown in the `shift` column.
    pub name: String,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM` (at or before `start`: crosses midnight).
    pub end: String,
}

/// `[kpi]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSection {
    /// Abandons shorter than this many seconds are short (default 5).
    pub short_abandon_s: Option<f64>,
    /// Service-level threshold in seconds (default 20).
    pub threshold_s: Option<f64>,
    /// Service-level variant (default `excl_short`).
    pub sl_variant: Option<String>,
    /// FCR window, e.g. `"72h"` or `"3d"` (default 72 h).
    pub fcr_window: Option<String>,
    /// Interval for `--by interval` (default `30m`).
    pub interval: Option<String>,
}

/// `[privacy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnoverSection {
    pub gap_days: Option<i64>,
    #[serde(default)]
    pub weights: WeightsSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsSection {
    pub activity: Option<f64>,
    pub aht: Option<f64>,
    pub csat: Option<f64>,
    pub transfer: Option<f64>,
    pub tenure: Option<f64>,
}

impl TurnoverSection {
    /// Turnover settings from `[turnover]`: gap and weights (zone, as-of and
    /// roster are the caller's).
    pub fn params(&self) -> Result<TurnoverParams, UsageError> {
        let mut p = TurnoverParams::new();
        if let Some(g) = self.gap_days {
            p.gap_days = g;
        }
        p.weights = self.weights()?;
        Ok(p)
    }

    /// The risk weights: the defaults, with those given here replaced.
    pub fn weights(&self) -> Result<Weights, UsageError> {
        let d = Weights::default();
        let w = &self.weights;
        let weights = Weights {
            activity: w.activity.unwrap_or(d.activity),
            aht: w.aht.unwrap_or(d.aht),
            csat: w.csat.unwrap_or(d.csat),
            transfer: w.transfer.unwrap_or(d.transfer),
            tenure: w.tenure.unwrap_or(d.tenure),
        };
        weights
            .check()
            .map_err(|e| UsageError(format!("[turnover.weights]: {e}")))?;
        Ok(weights)
    }
}

/// `[run]`: the nightly job (`cxpipe run`). Paths are relative to the
/// config file's folder.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub inbox: Option<PathBuf>,
    pub dataset: Option<PathBuf>,
    pub reports_dir: Option<PathBuf>,
    pub reports: Option<Vec<String>>,
    pub format: Option<String>,
    pub max_reject_rate: Option<f64>,
    /// Above this share of dropped duplicates: exit 3 (default: off).
    pub max_duplicate_rate: Option<f64>,
    /// `auto` (default), `generic` or a built-in vendor source.
    pub source: Option<String>,
    /// A mapping file (relative to the config file) instead of `source`.
    pub mapping: Option<PathBuf>,
}

/// `[ingest]`: what ingest accepts as plausible (SPEC §5, §13.1).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSection {
    /// Earliest time accepted (default "1990-01-01").
    pub min_time: Option<String>,
    /// Latest time accepted (default "2100-01-01").
    pub max_time: Option<String>,
    /// Longest talk, hold or after-contact time, seconds (default 604800).
    pub max_duration_s: Option<u64>,
    /// Out-of-order times within this many ms are set equal (default 1000).
    pub clock_skew_ms: Option<u64>,
}

impl IngestSection {
    /// The limits, the defaults where a key is absent; an error names the
    /// key and the file.
    pub fn limits(&self, file: Option<&Path>) -> Result<cxpipe_ingest::Limits, UsageError> {
        use cxpipe_ingest::Limits;
        Limits::new(
            self.min_time.as_deref().unwrap_or(Limits::DEFAULT_MIN_TIME),
            self.max_time.as_deref().unwrap_or(Limits::DEFAULT_MAX_TIME),
            self.max_duration_s
                .unwrap_or(Limits::DEFAULT_MAX_DURATION_S),
            self.clock_skew_ms.unwrap_or(Limits::DEFAULT_CLOCK_SKEW_MS),
        )
        .map_err(|e| match file {
            Some(f) => UsageError(format!("{}: {e}", f.display())),
            None => UsageError(e),
        })
    }
}

/// `[dataset]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// Seconds a superseded snapshot is kept (default 3600).
    pub keep_snapshots_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySection {
    /// File holding the pseudonymisation key.
    pub key_file: Option<PathBuf>,
}

impl Config {
    /// Reads `explicit` (which must exist), else `./cxpipe.toml` if present,
    /// else the defaults.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from("cxpipe.toml");
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| UsageError(format!("reading config {}: {e}", path.display())))?;
        Config::parse(&text, &path)
    }

    /// Parses config text; errors name `path`, the line and the key.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| UsageError(format!("{}: {}", path.display(), e.to_string().trim_end())))?;
        config.path = Some(path.to_path_buf());
        config
            .check()
            .with_context(|| format!("in {}", path.display()))?;
        config.sla = rules(std::mem::take(&mut config.sla_raw), text, path)?;
        Ok(config)
    }

    /// Checks the values, so a bad zone or shift is reported at load time.
    fn check(&self) -> anyhow::Result<()> {
        if let Some(z) = &self.time.zone {
            cxpipe_analytics::time::zone_named(z).context("[time] zone")?;
        }
        self.shifts().context("[[shift]]")?;
        if let Some(v) = &self.kpi.sl_variant {
            SlVariant::parse(v).context("[kpi] sl_variant")?;
        }
        if let Some(w) = &self.kpi.fcr_window {
            parse_duration_ms(w)
                .map_err(UsageError)
                .context("[kpi] fcr_window")?;
        }
        if let Some(i) = &self.kpi.interval {
            Interval::parse(i).context("[kpi] interval")?;
        }
        if let Some(g) = self.turnover.gap_days
            && !(1..=3650).contains(&g)
        {
            return Err(UsageError(format!("[turnover] gap_days {g} must be 1 to 3650")).into());
        }
        self.turnover.weights()?;
        if let Some(run) = &self.run {
            for r in run.reports.iter().flatten() {
                ReportSpec::parse(r).context("[run] reports")?;
            }
            if let Some(f) = &run.format
                && !["csv", "json", "parquet"].contains(&f.as_str())
            {
                return Err(
                    UsageError(format!("[run] format {f:?}: choose csv, json or parquet")).into(),
                );
            }
            for (key, rate) in [
                ("max_reject_rate", run.max_reject_rate),
                ("max_duplicate_rate", run.max_duplicate_rate),
            ] {
                if let Some(r) = rate
                    && !(0.0..=1.0).contains(&r)
                {
                    return Err(
                        UsageError(format!("[run] {key} {r} must be a share from 0 to 1")).into(),
                    );
                }
            }
        }
        for (key, v) in [
            ("short_abandon_s", self.kpi.short_abandon_s),
            ("threshold_s", self.kpi.threshold_s),
        ] {
            if let Some(v) = v {
                seconds_ms(v)
                    .map_err(UsageError)
                    .with_context(|| format!("[kpi] {key}"))?;
            }
        }
        Ok(())
    }

    /// The zone ingest reads wall-clock timestamps in: `[time] zone`, else
    /// UTC (checked at load time).
    pub fn ingest_zone(&self) -> anyhow::Result<Zone> {
        let name = self.time.zone.as_deref().unwrap_or("UTC");
        cxpipe_ingest::parse::zone_named(name)
            .map_err(anyhow::Error::msg)
            .context("[time] zone")
    }

    /// The ingest source of `[run] source` / `[run] mapping` (auto when
    /// neither is set).
    pub fn run_source(&self) -> anyhow::Result<cxpipe_ingest::SourceKind> {
        use cxpipe_ingest::SourceKind;
        let section = self.run.as_ref();
        if let Some(m) = section.and_then(|r| r.mapping.as_ref()) {
            return Ok(SourceKind::from_mapping_file(&self.resolve(m)).map_err(UsageError)?);
        }
        let name = section.and_then(|r| r.source.as_deref()).unwrap_or("auto");
        SourceKind::named(name).ok_or_else(|| {
            UsageError(format!(
                "[run] source: {name:?} is not one of {}",
                SourceKind::NAMES.join(", ")
            ))
            .into()
        })
    }

    /// `[privacy] key_file`, relative to the config file's folder.
    pub fn key_file(&self) -> Option<PathBuf> {
        let f = self.privacy.key_file.as_ref()?;
        Some(self.resolve(f))
    }

    /// A path from the config file, relative to the file's folder.
    pub fn resolve(&self, f: &Path) -> PathBuf {
        match self.path.as_ref().and_then(|p| p.parent()) {
            Some(dir) if f.is_relative() => dir.join(f),
            _ => f.to_path_buf(),
        }
    }

    /// The configured shifts, or the defaults.
    pub fn shifts(&self) -> anyhow::Result<Shifts> {
        if self.shift.is_empty() {
            return Ok(Shifts::defaults());
        }
        let shifts = self
            .shift
            .iter()
            .map(|s| Shift::new(&s.name, &s.start, &s.end))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Shifts::new(shifts)?)
    }
}

/// Seconds (from a flag or the config) to whole milliseconds, >= 0.
pub fn seconds_ms(v: f64) -> Result<i64, String> {
    if !(0.0..=1e9).contains(&v) {
        return Err(format!("{v} is not a number of seconds >= 0"));
    }
    Ok((v * 1000.0).round() as i64)
}

/// Parses a duration such as `72h`, `3d`, `90m` or `3600s` to milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("{s:?} is not a duration (a number and a unit: 72h, 3d, 90m, 3600s)");
    let split = t.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.trim().parse().map_err(|_| bad())?;
    let unit_ms = match unit.trim() {
        "s" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(bad()),
    };
    if !n.is_finite() || n <= 0.0 || n > 3650.0 * 86_400.0 {
        return Err(format!(
            "{s:?} must be a positive duration of at most ten years"
        ));
    }
    Ok((n * unit_ms).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("72h"), Ok(72 * 3_600_000));
        assert_eq!(parse_duration_ms("3d"), Ok(3 * 86_400_000));
        assert_eq!(parse_duration_ms("90 m"), Ok(90 * 60_000));
        assert!(parse_duration_ms("72").is_err());
        assert!(parse_duration_ms("-1h").is_err());
        assert!(parse_duration_ms("3 weeks").is_err());
    }
}
