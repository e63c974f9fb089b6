//! Civil (proleptic Gregorian) dates as day numbers since 1970-01-01, with
//! Howard Hinnant's `days_from_civil` / `civil_from_days`: exact, a few
//! integer steps, cheap enough for per-row hot paths. Shared by ingest
//! (partition dates), the generator and analytics (local days).

/// Days since 1970-01-01 of a civil date.
#[inline]
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
#[inline]
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((yoe + era * 400 + i64::from(m <= 2)) as i32, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether `y` is a leap year of the proleptic Gregorian calendar.
pub fn is_leap_year(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The number of days of month `m` (1..=12) of year `y`.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether `y-m-d` is a real calendar date (`m` in 1..=12, `d` within the
/// month).
pub fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// The weekday of a day number since 1970-01-01 (a Thursday), Monday = 0
/// … Sunday = 6.
pub fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// Parses a `YYYY-MM-DD` date (exactly that shape, a real calendar day) to
/// its day number since 1970-01-01; `None` for anything else. The one date
/// parser of cxpipe: flags, config keys and rosters all go through it.
pub fn parse_day(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let y = i32::try_from(y).ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_only_when_they_are_real_days() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(
            parse_day(" 2028-02-29 "),
            Some(days_from_civil(2028, 2, 29))
        );
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-4-01",
            "26-04-01",
            "2026/04/01",
            "2026-04-01T00",
            "",
            "+026-04-01",
            "2026-0a-01",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
        assert_eq!(parse_day("2000-02-29"), Some(days_from_civil(2000, 2, 29)));
        assert!(is_leap_year(2000) && !is_leap_year(1900) && is_leap_year(2028));
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2026, 12), 31);
    }

    #[test]
    fn valid_dates_and_weekdays() {
        assert!(is_valid_date(2028, 2, 29) && is_valid_date(2000, 2, 29));
        assert!(is_valid_date(2026, 12, 31) && is_valid_date(2026, 1, 1));
        for (y, m, d) in [(2026, 2, 29), (1900, 2, 29), (2026, 13, 1), (2026, 0, 1)] {
            assert!(!is_valid_date(y, m, d), "{y}-{m}-{d}");
        }
        assert!(!is_valid_date(2026, 4, 31) && !is_valid_date(2026, 4, 0));
        // 1970-01-01 was a Thursday, 2026-10-01 too; 2026-10-05 a Monday,
        // 1969-12-28 a Sunday (as any calendar shows).
        assert_eq!(weekday(0), 3);
        assert_eq!(weekday(days_from_civil(2026, 10, 1)), 3);
        assert_eq!(weekday(days_from_civil(2026, 10, 5)), 0);
        assert_eq!(weekday(-4), 6);
    }

    #[test]
    fn round_trip_over_four_thousand_years() {
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_day(days_from_civil(2028, 2, 29)), "2028-02-29");
        assert_eq!(format_day(-1), "1969-12-31");
    }
}
