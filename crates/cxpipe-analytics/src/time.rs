//! Local time (SPEC §7): the site zone, intervals, days, weeks, months and
//! named shifts.
//!
//! Every key is derived from `arrived_at` (µs UTC) and the zone's UTC offset
//! at that instant. The zone rules (jiff's bundled tzdb) give the offset
//! transitions that fall inside the scanned range, and the query turns them
//! into a `when/then` chain, so polars only ever does integer arithmetic on
//! microseconds: `local = arrived_at + offset(arrived_at)`.

use polars::prelude::*;

use crate::Error;

pub use cxpipe_model::zone::{DAY_US, MINUTE_US};

/// `a mod b` in 0..b for an Int64 expression (whatever sign `a` has).
pub fn rem_euclid_expr(a: Expr, b: i64) -> Expr {
    ((a % lit(b)) + lit(b)) % lit(b)
}

/// `floor(a / b)` for an Int64 expression. Built from `%` and an exact
/// division (the dividend is a multiple of `b`, below 2^53 for any
/// timestamp of the next few centuries), not polars' floor division, which
/// needs a feature we do not compile.
pub fn div_floor_expr(a: Expr, b: i64) -> Expr {
    ((a.clone() - rem_euclid_expr(a, b)) / lit(b)).cast(DataType::Int64)
}

/// The site time zone: the one zone type of cxpipe, so `--tz` means the
/// same to every command.
pub use cxpipe_model::Zone;

/// A zone by name; an unknown name is an [`Error::Usage`] that names it.
pub fn zone_named(name: &str) -> Result<Zone, Error> {
    Zone::named(name).map_err(|e| Error::Usage(e.to_string()))
}

/// The UTC instant at which local day `day` starts in `zone` (see
/// [`cxpipe_model::Zone::day_start_utc`]); a day out of range is an
/// [`Error::Usage`].
pub fn day_start_utc(zone: &Zone, day: i64) -> Result<i64, Error> {
    zone.day_start_utc(day).map_err(Error::Usage)
}

/// An expression for `zone`'s offset (µs) at the instant in `utc` (an
/// Int64 µs expression), exact for instants inside the `ranges` (µs,
/// inclusive, sorted, apart): a `when/then` chain over each range's offset
/// at its start and the changes inside it, so polars only does integer
/// arithmetic and the chain grows with the ranges the data covers, not
/// with the time between them. Outside the ranges the offset is that of
/// the nearest range before (or the first range's).
pub fn offset_expr(zone: &Zone, utc: Expr, ranges: &[(i64, i64)]) -> Expr {
    let mut offsets: Vec<(i64, i64)> = Vec::new();
    for &(lo, hi) in ranges {
        for (from, off) in zone.offsets_between(lo, hi) {
            // A range that starts at the offset in force already adds no step.
            if offsets.last().is_none_or(|&(_, o)| o != off) {
                offsets.push((from, off));
            }
        }
    }
    let Some(&(_, first)) = offsets.first() else {
        return lit(zone.offset_us(0));
    };
    let mut expr = lit(first);
    for &(from, off) in &offsets[1..] {
        expr = when(utc.clone().gt_eq(lit(from)))
            .then(lit(off))
            .otherwise(expr);
    }
    expr
}

/// The instants (µs UTC, inclusive) a query's arrivals can fall in, from
/// the runs of partition days it reads, each widened by a day on each side
/// (a local day reaches into the UTC days around it); overlapping ranges
/// are merged.
pub fn zone_ranges(day_runs: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &(first, last) in day_runs {
        let lo = first.saturating_sub(1).saturating_mul(DAY_US);
        let hi = last.saturating_add(2).saturating_mul(DAY_US);
        match out.last_mut() {
            Some((_, end)) if *end >= lo => *end = (*end).max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Interval length for `--by interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// 15 minutes.
    M15,
    /// 30 minutes (the default).
    M30,
    /// One hour.
    H1,
    /// One local day.
    D1,
}

impl Interval {
    /// Parses `15m`, `30m`, `1h` or `1d`.
    pub fn parse(s: &str) -> Result<Interval, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "15m" | "15min" => Ok(Interval::M15),
            "30m" | "30min" => Ok(Interval::M30),
            "1h" | "60m" => Ok(Interval::H1),
            "1d" | "24h" => Ok(Interval::D1),
            _ => Err(Error::Usage(format!(
                "unknown interval {s:?}: use 15m, 30m, 1h or 1d"
            ))),
        }
    }

    /// Its length in microseconds.
    pub fn micros(self) -> i64 {
        match self {
            Interval::M15 => 15 * MINUTE_US,
            Interval::M30 => 30 * MINUTE_US,
            Interval::H1 => 60 * MINUTE_US,
            Interval::D1 => DAY_US,
        }
    }

    /// The name it is parsed from.
    pub fn name(self) -> &'static str {
        match self {
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::D1 => "1d",
        }
    }
}

/// A named local-time window, `[start, end)` in minutes after midnight. A
/// window with `end <= start` crosses midnight and belongs to the day it
/// starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// Its name, as shown in the `shift` column.
    pub name: String,
    /// Start, minutes after local midnight.
    pub start_min: u32,
    /// End, minutes after local midnight (exclusive).
    pub end_min: u32,
}

impl Shift {
    /// A shift from `HH:MM` times.
    pub fn new(name: &str, start: &str, end: &str) -> Result<Shift, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Usage("a shift needs a name".to_string()));
        }
        Ok(Shift {
            name: name.to_string(),
            start_min: parse_hhmm(start)
                .map_err(|e| Error::Usage(format!("shift {name:?}: start {e}")))?,
            end_min: parse_hhmm(end)
                .map_err(|e| Error::Usage(format!("shift {name:?}: end {e}")))?,
        })
    }

    /// Whether local minute-of-day `m` falls in the window, and if so
    /// whether it belongs to the previous day's shift (after midnight).
    pub fn contains(&self, m: u32) -> Option<bool> {
        if self.start_min < self.end_min {
            (self.start_min..self.end_min).contains(&m).then_some(false)
        } else if m >= self.start_min {
            Some(false)
        } else if m < self.end_min {
            Some(true)
        } else {
            None
        }
    }

    fn minutes(&self) -> u32 {
        if self.start_min < self.end_min {
            self.end_min - self.start_min
        } else {
            24 * 60 - self.start_min + self.end_min
        }
    }
}

fn parse_hhmm(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a time of day (HH:MM, 00:00..24:00)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok((h * 60 + m) % (24 * 60))
}

/// The shifts of a site: non-overlapping windows, ordered by start time
/// (the order they sort in within a `shift_date`). Minutes covered by no
/// shift give a null shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shifts(Vec<Shift>);

impl Shifts {
    /// SPEC §7's defaults: day 06:00–14:00, swing 14:00–22:00, night 22:00–06:00.
    pub fn defaults() -> Shifts {
        Shifts(vec![
            Shift {
                name: "day".into(),
                start_min: 6 * 60,
                end_min: 14 * 60,
            },
            Shift {
                name: "swing".into(),
                start_min: 14 * 60,
                end_min: 22 * 60,
            },
            Shift {
                name: "night".into(),
                start_min: 22 * 60,
                end_min: 6 * 60,
            },
        ])
    }

    /// Checks that names are unique and windows do not overlap, and orders
    /// the shifts by start time.
    pub fn new(mut shifts: Vec<Shift>) -> Result<Shifts, Error> {
        shifts.sort_by_key(|s| s.start_min);
        if shifts.is_empty() {
            return Err(Error::Usage("at least one shift is needed".to_string()));
        }
        let mut total = 0;
        for (i, a) in shifts.iter().enumerate() {
            total += a.minutes();
            for b in &shifts[..i] {
                if a.name == b.name {
                    return Err(Error::Usage(format!("shift {:?} is defined twice", a.name)));
                }
                if (0..24 * 60).any(|m| a.contains(m).is_some() && b.contains(m).is_some()) {
                    return Err(Error::Usage(format!(
                        "shifts {:?} and {:?} overlap",
                        b.name, a.name
                    )));
                }
            }
        }
        debug_assert!(total <= 24 * 60);
        Ok(Shifts(shifts))
    }

    /// The shifts in order.
    pub fn list(&self) -> &[Shift] {
        &self.0
    }

    /// `(shift index, shift_date)` for a local instant, or `None` when no
    /// shift covers it.
    pub fn assign(&self, local_us: i64) -> Option<(usize, i64)> {
        let day = local_us.div_euclid(DAY_US);
        let minute = (local_us.rem_euclid(DAY_US) / MINUTE_US) as u32;
        self.0.iter().enumerate().find_map(|(i, s)| {
            s.contains(minute)
                .map(|prev| (i, if prev { day - 1 } else { day }))
        })
    }

    /// Expressions for the shift index (UInt32, null outside every shift)
    /// and the shift date (days since the epoch) from local µs `local`.
    pub fn exprs(&self, local: Expr) -> (Expr, Expr) {
        let day = div_floor_expr(local.clone(), DAY_US);
        let minute = div_floor_expr(rem_euclid_expr(local, DAY_US), MINUTE_US);
        let mut index = lit(NULL).cast(DataType::UInt32);
        let mut date = lit(NULL).cast(DataType::Int64);
        for (i, s) in self.0.iter().enumerate().rev() {
            let (start, end) = (i64::from(s.start_min), i64::from(s.end_min));
            let (same_day, next_day) = if start < end {
                (
                    minute
                        .clone()
                        .gt_eq(lit(start))
                        .and(minute.clone().lt(lit(end))),
                    lit(false),
                )
            } else {
                (
                    minute.clone().gt_eq(lit(start)),
                    minute.clone().lt(lit(end)),
                )
            };
            let idx = lit(i as u32);
            index = when(same_day.clone().or(next_day.clone()))
                .then(idx)
                .otherwise(index);
            date = when(same_day)
                .then(day.clone())
                .when(next_day)
                .then(day.clone() - lit(1i64))
                .otherwise(date);
        }
        (index, date)
    }
}

pub use cxpipe_model::civil::{civil_from_days, days_from_civil, format_day};

/// Parses a `YYYY-MM-DD` date to a day number with
/// [`cxpipe_model::civil::parse_day`]; anything else is an
/// [`Error::Usage`] that quotes it.
pub fn parse_day(s: &str) -> Result<i64, Error> {
    cxpipe_model::civil::parse_day(s)
        .ok_or_else(|| Error::Usage(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

/// The Monday (day number) of the ISO week of `day`.
pub fn week_monday(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

/// `year * 12 + month - 1` of a day number.
pub fn month_index(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    i64::from(y) * 12 + i64::from(m) - 1
}

/// `YYYY-MM` of a month index.
pub fn format_month(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of days a day apart share a range; far-apart ones do not, so a
    /// stray year-9000 day adds a range of three days, not 7,000 years.
    #[test]
    fn zone_ranges_cover_each_run_with_a_day_either_side() {
        let d = |y, m, dd| days_from_civil(y, m, dd);
        let runs = [
            (d(2026, 10, 1), d(2026, 10, 3)),
            (d(2026, 10, 5), d(2026, 10, 5)),
            (d(9000, 1, 1), d(9000, 1, 1)),
        ];
        let got = zone_ranges(&runs);
        assert_eq!(
            got,
            vec![
                ((d(2026, 9, 30)) * DAY_US, d(2026, 10, 7) * DAY_US),
                (d(8999, 12, 31) * DAY_US, d(9000, 1, 3) * DAY_US),
            ]
        );
        // Berlin changes offset once in those October days (the 25th is
        // outside them): no change inside the ranges, so one step each.
        let berlin = Zone::named("Europe/Berlin").expect("zone");
        let steps: usize = got
            .iter()
            .map(|&(lo, hi)| berlin.offsets_between(lo, hi).len())
            .sum();
        assert_eq!(steps, 2);
    }

    #[test]
    fn civil_round_trip() {
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(
            parse_day("2024-02-29").map(format_day).ok().as_deref(),
            Some("2024-02-29")
        );
        assert!(parse_day("2023-02-29").is_err());
        assert!(parse_day("2023-13-01").is_err());
        assert!(parse_day("23-1-1").is_err());
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-23 is a Monday, 2026-11-29 a Sunday.
        let mon = parse_day("2026-11-23").unwrap_or_default();
        for d in mon..mon + 7 {
            assert_eq!(week_monday(d), mon);
        }
        assert_eq!(week_monday(mon - 1), mon - 7);
        assert_eq!(format_month(month_index(mon)), "2026-11");
    }

    #[test]
    fn berlin_offsets_and_formatting() {
        let z = zone_named("Europe/Berlin").expect("zone");
        // 2026-10-25: clocks go back at 01:00 UTC (03:00 CEST -> 02:00 CET).
        let day = parse_day("2026-10-25").unwrap_or_default();
        let start = z.day_start_utc(day).unwrap_or_default();
        let end = z.day_start_utc(day + 1).unwrap_or_default();
        assert_eq!(end - start, 25 * 3600 * 1_000_000);
        let t = day * DAY_US + 3600 * 1_000_000; // 01:00 UTC
        assert_eq!(z.format_instant(t - 1_000_000), "2026-10-25T02:59:59+02:00");
        assert_eq!(z.format_instant(t), "2026-10-25T02:00:00+01:00");
        let offs = z.offsets_between(start, end);
        assert_eq!(offs, vec![(start, 7_200_000_000), (t, 3_600_000_000)]);
        // 2026-03-29 has 23 hours.
        let day = parse_day("2026-03-29").unwrap_or_default();
        let len =
            z.day_start_utc(day + 1).unwrap_or_default() - z.day_start_utc(day).unwrap_or_default();
        assert_eq!(len, 23 * 3600 * 1_000_000);
        assert!(matches!(zone_named("Mars/Olympus"), Err(Error::Usage(_))));
    }

    #[test]
    fn shifts() {
        let s = Shifts::defaults();
        let day = 20_000;
        let at = |h: i64, m: i64| s.assign(day * DAY_US + h * 3_600_000_000 + m * MINUTE_US);
        assert_eq!(at(6, 0), Some((0, day)));
        assert_eq!(at(13, 59), Some((0, day)));
        assert_eq!(at(14, 0), Some((1, day)));
        assert_eq!(at(22, 0), Some((2, day)));
        assert_eq!(at(23, 59), Some((2, day)));
        assert_eq!(at(0, 0), Some((2, day - 1)));
        assert_eq!(at(5, 59), Some((2, day - 1)));
        let gap =
            Shifts::new(vec![Shift::new("am", "08:00", "12:00").expect("shift")]).expect("shifts");
        assert_eq!(gap.assign(day * DAY_US), None);
        assert!(
            Shifts::new(vec![
                Shift::new("a", "22:00", "06:00").expect("shift"),
                Shift::new("b", "05:00", "07:00").expect("shift"),
            ])
            .is_err()
        );
        assert!(Shift::new("x", "25:00", "06:00").is_err());
        assert!(Shift::new("x", "6am", "06:00").is_err());
    }
}
