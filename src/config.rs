//! `cxpipe.toml` (SPEC §13): found via `--config`, else `./cxpipe.toml`.
//! Every key has a flag or a default; flags win. An unknown key is an error
//! that names the key and the file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use cxpipe_analytics::{Interval, Shift, Shifts, SlVariant, Zone};
use serde::Deserialize;

/// A mistake in the config file or the flags: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

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
    #[serde(default)]
    #[expect(dead_code, reason = "read by `cxpipe sla`, still to come")]
    pub sla: Vec<toml::Table>,
    /// `[turnover]`.
    #[serde(default)]
    #[expect(dead_code, reason = "read by `cxpipe turnover`, still to come")]
    pub turnover: Option<toml::Table>,
    /// `[run]`.
    #[serde(default)]
    #[expect(dead_code, reason = "read by `cxpipe run`, still to come")]
    pub run: Option<toml::Table>,
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
        Ok(config)
    }

    /// Checks the values, so a bad zone or shift is reported at load time.
    fn check(&self) -> anyhow::Result<()> {
        if let Some(z) = &self.time.zone {
            Zone::named(z).context("[time] zone")?;
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

    /// `[privacy] key_file`, relative to the config file's folder.
    pub fn key_file(&self) -> Option<PathBuf> {
        let f = self.privacy.key_file.as_ref()?;
        match self.path.as_ref().and_then(|p| p.parent()) {
            Some(dir) if f.is_relative() => Some(dir.join(f)),
            _ => Some(f.clone()),
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
