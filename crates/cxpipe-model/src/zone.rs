//! The site time zone (SPEC §7): one type for every command, so the same
//! `--tz` or `[time] zone` is accepted (or refused) the same way by
//! `ingest`, `kpi` and the rest. The rules are jiff's bundled tzdb.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::civil::{civil_from_days, format_day};

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;
/// Microseconds in a minute.
pub const MINUTE_US: i64 = 60_000_000;

/// A zone name that is not a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone {
    /// The name as given.
    pub name: String,
    /// What jiff said.
    pub reason: String,
}

impl std::fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown time zone {:?} (use an IANA name such as Europe/Berlin): {}",
            self.name, self.reason
        )
    }
}

impl std::error::Error for UnknownZone {}

/// A site time zone: UTC or an IANA zone.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
    utc: bool,
}

impl Zone {
    /// UTC, the default.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_string(),
            tz: TimeZone::UTC,
            utc: true,
        }
    }

    /// A zone by name: `UTC` (any case), `Etc/UTC` and `Z` are UTC; anything
    /// else must be an IANA name (`Europe/Berlin`).
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        let trimmed = name.trim();
        if trimmed.eq_ignore_ascii_case("utc") || trimmed == "Etc/UTC" || trimmed == "Z" {
            return Ok(Zone::utc());
        }
        let tz = TimeZone::get(trimmed).map_err(|e| UnknownZone {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Zone {
            name: trimmed.to_string(),
            tz,
            utc: false,
        })
    }

    /// The zone's name as given (`UTC` for every spelling of UTC).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is UTC (no conversion needed).
    pub fn is_utc(&self) -> bool {
        self.utc
    }

    /// The jiff time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    fn ts(us: i64) -> Timestamp {
        Timestamp::from_microsecond(us).unwrap_or(if us < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    }

    /// The UTC offset in force at `utc_us`, in microseconds.
    pub fn offset_us(&self, utc_us: i64) -> i64 {
        i64::from(self.tz.to_offset(Self::ts(utc_us)).seconds()) * 1_000_000
    }

    /// Local wall-clock microseconds since the epoch for the instant `utc_us`.
    pub fn local_us(&self, utc_us: i64) -> i64 {
        utc_us + self.offset_us(utc_us)
    }

    /// The offset in force at `lo_us` and every change of it up to `hi_us`:
    /// `(from_utc_us, offset_us)`, ascending; the first entry starts at `lo_us`.
    pub fn offsets_between(&self, lo_us: i64, hi_us: i64) -> Vec<(i64, i64)> {
        let mut out = vec![(lo_us, self.offset_us(lo_us))];
        for t in self.tz.following(Self::ts(lo_us)) {
            let at = t.timestamp().as_microsecond();
            if at > hi_us {
                break;
            }
            let off = i64::from(t.offset().seconds()) * 1_000_000;
            if out.last().is_some_and(|&(_, o)| o != off) {
                out.push((at, off));
            }
        }
        out
    }

    /// The UTC instant at which local day `day` (days since 1970-01-01)
    /// starts. On a day whose midnight is skipped by DST this is the first
    /// instant of the day.
    pub fn day_start_utc(&self, day: i64) -> Result<i64, String> {
        let (y, m, d) = civil_from_days(day);
        let date = i16::try_from(y)
            .ok()
            .and_then(|y| jiff::civil::Date::new(y, m as i8, d as i8).ok())
            .ok_or_else(|| format!("date {} is out of range", format_day(day)))?;
        let zdt = date
            .to_zoned_datetime(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map_err(|e| format!("date {} in {}: {e}", format_day(day), self.name))?;
        Ok(zdt.timestamp().as_microsecond())
    }

    /// The UTC instant of a local wall-clock time, as µs since the epoch.
    /// In a DST gap the later instant, in a fold the earlier one (jiff's
    /// "compatible" rule, what most exports mean).
    pub fn local_to_utc(&self, local: jiff::civil::DateTime) -> Result<i64, String> {
        let ts = self.tz.to_timestamp(local).map_err(|e| e.to_string())?;
        Ok(ts.as_microsecond())
    }

    /// RFC 3339 with the zone's offset at that instant, to the second:
    /// `2026-10-25T02:00:00+01:00` (`Z` is written as `+00:00`).
    pub fn format_instant(&self, utc_us: i64) -> String {
        let off_us = self.offset_us(utc_us);
        let local = utc_us + off_us;
        let day = local.div_euclid(DAY_US);
        let secs = local.rem_euclid(DAY_US) / 1_000_000;
        let off_min = off_us / MINUTE_US;
        let sign = if off_min < 0 { '-' } else { '+' };
        let off_min = off_min.abs();
        format!(
            "{}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            format_day(day),
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            off_min / 60,
            off_min % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_utc_is_utc_and_names_are_checked() {
        for name in ["UTC", "utc", "Etc/UTC", "Z", " UTC "] {
            let z = Zone::named(name).expect("utc");
            assert!(z.is_utc() && z.name() == "UTC", "{name}");
        }
        let berlin = Zone::named("Europe/Berlin").expect("berlin");
        assert!(!berlin.is_utc());
        let e = Zone::named("Mars/Olympus").expect_err("not a zone");
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn berlin_offsets_days_and_instants() {
        let z = Zone::named("Europe/Berlin").expect("zone");
        // 2026-10-25: CEST (+2) until 01:00 UTC, then CET (+1).
        let day = crate::civil::days_from_civil(2026, 10, 25);
        let start = z.day_start_utc(day).expect("day start");
        assert_eq!(start, (day * 86_400 - 2 * 3600) * 1_000_000);
        assert_eq!(z.format_instant(start), "2026-10-25T00:00:00+02:00");
        let switch = (day * 86_400 + 3600) * 1_000_000;
        assert_eq!(z.offset_us(switch), 3_600_000_000);
        assert_eq!(z.offset_us(switch - 1), 7_200_000_000);
        let offs = z.offsets_between(start, start + DAY_US);
        assert_eq!(offs, vec![(start, 7_200_000_000), (switch, 3_600_000_000)]);
        // 02:30 local happens twice: the earlier instant (+02:00) is taken.
        let dt = jiff::civil::date(2026, 10, 25).at(2, 30, 0, 0);
        assert_eq!(
            z.local_to_utc(dt).expect("fold"),
            (day * 86_400 + 30 * 60) * 1_000_000
        );
    }
}
