//! Field parsers shared by every source: timestamps, durations, booleans,
//! integers. They take trimmed text and return typed values or a short
//! description of what is wrong; the caller adds the field name.

use cxpipe_model::civil::days_in_month;
use cxpipe_model::zone::DAY_US;

pub use cxpipe_model::civil::{civil_from_days, days_from_civil, format_day};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// The site zone: the one zone type of cxpipe (`cxpipe_model::Zone`).
pub use cxpipe_model::Zone;

/// [`cxpipe_model::Zone::named`] with ingest's message for an unknown name
/// (the one `--tz` and a mapping's `zone` key have always given).
pub fn zone_named(name: &str) -> Result<cxpipe_model::Zone, String> {
    cxpipe_model::Zone::named(name)
        .map_err(|e| format!("unknown time zone {:?}: {}", e.name, e.reason))
}

/// The UTC instant of a civil time read in `zone`.
fn local_to_utc(zone: &cxpipe_model::Zone, civil: Civil) -> Result<Micros, String> {
    if zone.is_utc() {
        return Ok(civil.as_utc_micros());
    }
    // jiff's "compatible" disambiguation: in a DST gap the later instant,
    // in a fold the earlier one (what most exports mean).
    let dt = jiff::civil::DateTime::new(
        civil.year as i16,
        civil.month as i8,
        civil.day as i8,
        civil.hour as i8,
        civil.minute as i8,
        civil.second as i8,
        (civil.micro * 1000) as i32,
    )
    .map_err(|e| e.to_string())?;
    zone.local_to_utc(dt)
}

#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micro: u32,
}

impl Civil {
    fn as_utc_micros(&self) -> Micros {
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        secs * 1_000_000 + i64::from(self.micro)
    }
}

/// The UTC day number of a timestamp.
pub fn utc_day(ts: Micros) -> i64 {
    ts.div_euclid(DAY_US)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

const TS_HELP: &str = "expected YYYY-MM-DD[T ]HH:MM[:SS[.fff]] with an optional Z or ±HH:MM offset";

/// Parses an ISO 8601 / RFC 3339 timestamp. With an offset (`Z`, `±HH:MM`,
/// `±HHMM`, `±HH`) it is exact; without one it is wall-clock time in `zone`.
pub fn timestamp(s: &str, zone: &cxpipe_model::Zone) -> Result<Micros, String> {
    let b = s.as_bytes();
    let bad = || format!("{s:?} is not a timestamp ({TS_HELP})");
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b' ' && b[10] != b't')
    {
        return Err(bad());
    }
    let year = digits(b, 0, 4).ok_or_else(bad)? as i32;
    let month = digits(b, 5, 2).ok_or_else(bad)?;
    let day = digits(b, 8, 2).ok_or_else(bad)?;
    let hour = digits(b, 11, 2).ok_or_else(bad)?;
    if b[13] != b':' {
        return Err(bad());
    }
    let minute = digits(b, 14, 2).ok_or_else(bad)?;
    let mut i = 16;
    let mut second = 0;
    let mut micro = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b, i + 1, 2).ok_or_else(bad)?;
        i += 3;
        if matches!(b.get(i), Some(b'.') | Some(b',')) {
            i += 1;
            let start = i;
            let mut scale = 100_000u32;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                micro += u32::from(c - b'0') * scale;
                scale /= 10;
                i += 1;
            }
            if i == start {
                return Err(bad());
            }
        }
    }
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(format!("{s:?} is not a valid date and time"));
    }
    let civil = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micro,
    };
    let rest = &b[i..];
    let offset_secs: i64 = match rest {
        [] => return local_to_utc(zone, civil).map_err(|e| format!("{s:?}: {e}")),
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [_, _] => (digits(tail, 0, 2), Some(0)),
                [_, _, b':', _, _] => (digits(tail, 0, 2), digits(tail, 3, 2)),
                [_, _, _, _] => (digits(tail, 0, 2), digits(tail, 2, 2)),
                _ => (None, None),
            };
            let (Some(h), Some(m)) = (h, m) else {
                return Err(bad());
            };
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let off = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -off } else { off }
        }
        _ => return Err(bad()),
    };
    Ok(civil.as_utc_micros() - offset_secs * 1_000_000)
}

/// Parses a timestamp with a `strftime`-style `format` (jiff's `strtime`:
/// `%m/%d/%Y %H:%M:%S`, `%d.%m.%Y %H:%M`, `%Y-%m-%dT%H:%M:%S%.f%:z`, …).
/// When the format reads an offset (`%z`, `%:z`) the instant is exact;
/// otherwise the text is wall-clock time in `zone`.
pub fn timestamp_with_format(
    s: &str,
    format: &str,
    zone: &cxpipe_model::Zone,
) -> Result<Micros, String> {
    let tm = jiff::fmt::strtime::parse(format, s)
        .map_err(|e| format!("{s:?} does not match the format {format:?}: {e}"))?;
    if tm.offset().is_some() {
        let ts = tm
            .to_timestamp()
            .map_err(|e| format!("{s:?} is not a valid time: {e}"))?;
        return Ok(ts.as_microsecond());
    }
    let dt = tm
        .to_datetime()
        .map_err(|e| format!("{s:?} is not a valid date and time: {e}"))?;
    let civil = Civil {
        year: i32::from(dt.year()),
        month: dt.month() as u32,
        day: dt.day() as u32,
        hour: dt.hour() as u32,
        minute: dt.minute() as u32,
        second: dt.second() as u32,
        micro: (dt.subsec_nanosecond() / 1000) as u32,
    };
    local_to_utc(zone, civil).map_err(|e| format!("{s:?}: {e}"))
}

/// How a mapping's timestamp field is written (`format = …`; a list is
/// tried in order, the first that parses wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// A strftime format (jiff's), read in the column's zone unless it
    /// carries an offset.
    Strftime(String),
    /// Seconds since 1970-01-01 UTC (`epoch_s`), possibly fractional.
    EpochS,
    /// Milliseconds since 1970-01-01 UTC (`epoch_ms`).
    EpochMs,
    /// Microseconds since 1970-01-01 UTC (`epoch_us`).
    EpochUs,
    /// A spreadsheet serial date (`serial`): days since 1899-12-30, the
    /// fraction the time of day, as local wall time.
    Serial,
}

impl TimeFormat {
    /// The format a mapping's `format` text names.
    pub fn named(text: &str) -> TimeFormat {
        match text {
            "epoch_s" => TimeFormat::EpochS,
            "epoch_ms" => TimeFormat::EpochMs,
            "epoch_us" => TimeFormat::EpochUs,
            "serial" => TimeFormat::Serial,
            f => TimeFormat::Strftime(f.to_string()),
        }
    }

    /// As written in a mapping.
    pub fn text(&self) -> &str {
        match self {
            TimeFormat::Strftime(f) => f,
            TimeFormat::EpochS => "epoch_s",
            TimeFormat::EpochMs => "epoch_ms",
            TimeFormat::EpochUs => "epoch_us",
            TimeFormat::Serial => "serial",
        }
    }

    /// Parses `s` (with `time`, a separate time-of-day field, if the
    /// mapping has one) as µs UTC.
    pub fn parse(
        &self,
        s: &str,
        time: Option<&str>,
        zone: &cxpipe_model::Zone,
    ) -> Result<Micros, String> {
        match self {
            TimeFormat::Strftime(f) => match time {
                Some(t) => timestamp_with_format(&format!("{s} {t}"), f, zone),
                None => timestamp_with_format(s, f, zone),
            },
            TimeFormat::EpochS | TimeFormat::EpochMs | TimeFormat::EpochUs => {
                if time.is_some() {
                    return Err("an epoch time has no separate time of day".into());
                }
                let per = match self {
                    TimeFormat::EpochS => 1e6,
                    TimeFormat::EpochMs => 1e3,
                    _ => 1.0,
                };
                let v =
                    decimal(s).ok_or_else(|| format!("{s:?} is not a number ({})", self.text()))?;
                let us = v * per;
                if !us.is_finite() || us.abs() > 9.0e18 {
                    return Err(format!("{s:?} is out of range ({})", self.text()));
                }
                Ok(us.round() as i64)
            }
            TimeFormat::Serial => serial_datetime(s, time, zone),
        }
    }
}

/// A plain decimal number (`12`, `-3.5`), nothing else: no exponent, no
/// `inf`, no spaces inside.
fn decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits != ".";
    if ok { t.parse().ok() } else { None }
}

/// A spreadsheet serial date (days since 1899-12-30, the 1900 date system
/// of Excel, LibreOffice and Google Sheets; the fraction is the time of
/// day) as local wall time in `zone`, plus an optional time of day given
/// as a fraction of a day (`0.5`) or `HH:MM[:SS]`.
fn serial_datetime(
    date: &str,
    time: Option<&str>,
    zone: &cxpipe_model::Zone,
) -> Result<Micros, String> {
    let days = decimal(date).ok_or_else(|| format!("{date:?} is not a spreadsheet serial date"))?;
    if !(1.0..2_958_466.0).contains(&days) {
        return Err(format!(
            "{date:?} is outside the spreadsheet dates 1900-01-01 .. 9999-12-31"
        ));
    }
    let mut us = (days * 86_400e6).round() as i64;
    if let Some(t) = time {
        us += match decimal(t) {
            Some(f) if (0.0..1.0).contains(&f) => (f * 86_400e6).round() as i64,
            Some(_) => {
                return Err(format!(
                    "time of day {t:?} is not a fraction of a day (0 .. 1)"
                ));
            }
            None => duration_ms(t, DurationUnit::Hms)
                .ok()
                .filter(|ms| (0..86_400_000).contains(ms))
                .map(|ms| ms * 1000)
                .ok_or_else(|| {
                    format!("time of day {t:?} is not HH:MM:SS or a fraction of a day")
                })?,
        };
    }
    // Day 0 of the serial system is 1899-12-30.
    let epoch_day = days_from_civil(1899, 12, 30);
    let total_day = epoch_day + us.div_euclid(86_400_000_000);
    let rem = us.rem_euclid(86_400_000_000);
    let (year, month, day) = cxpipe_model::civil::civil_from_days(total_day);
    let secs = rem / 1_000_000;
    let civil = Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs / 60 % 60) as u32,
        second: (secs % 60) as u32,
        micro: (rem % 1_000_000) as u32,
    };
    local_to_utc(zone, civil).map_err(|e| format!("{date:?}: {e}"))
}

/// The unit of a duration field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    /// Seconds, possibly fractional (`12.5`).
    Seconds,
    /// Milliseconds.
    Millis,
    /// Minutes, possibly fractional.
    Minutes,
    /// `HH:MM:SS` (or `MM:SS`, or plain seconds).
    Hms,
}

/// Parses a duration into milliseconds. Negative values parse (the caller
/// reports them as `negative_duration`); garbage is an error.
pub fn duration_ms(s: &str, unit: DurationUnit) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration in {}", unit_name(unit));
    match unit {
        DurationUnit::Millis => decimal_scaled(s, 1).ok_or_else(bad),
        DurationUnit::Seconds => decimal_scaled(s, 1000).ok_or_else(bad),
        DurationUnit::Minutes => decimal_scaled(s, 60_000).ok_or_else(bad),
        DurationUnit::Hms => {
            let (neg, body) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s),
            };
            let parts: Vec<&str> = body.split(':').collect();
            if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
                return Err(bad());
            }
            let (last, higher) = parts.split_last().ok_or_else(bad)?;
            let secs = decimal_scaled(last, 1000)
                .filter(|v| *v >= 0)
                .ok_or_else(bad)?;
            if !higher.is_empty() && secs >= 60_000 {
                return Err(bad());
            }
            let mut ms = secs;
            // higher = [minutes] or [hours, minutes]
            for (i, p) in higher.iter().rev().enumerate() {
                let v: i64 = p.parse::<u32>().map_err(|_| bad())?.into();
                let is_minutes = i == 0;
                if is_minutes && higher.len() == 2 && v >= 60 {
                    return Err(bad());
                }
                let scale = if is_minutes { 60_000 } else { 3_600_000 };
                ms = v
                    .checked_mul(scale)
                    .and_then(|x| x.checked_add(ms))
                    .ok_or_else(bad)?;
            }
            Ok(if neg { -ms } else { ms })
        }
    }
}

fn unit_name(unit: DurationUnit) -> &'static str {
    match unit {
        DurationUnit::Seconds => "seconds",
        DurationUnit::Millis => "milliseconds",
        DurationUnit::Minutes => "minutes",
        DurationUnit::Hms => "HH:MM:SS",
    }
}

/// Parses a decimal number and multiplies it by `scale`, rounding half away
/// from zero to an integer. No exponent, no thousands separators.
fn decimal_scaled(s: &str, scale: i64) -> Option<i64> {
    if s.contains(['e', 'E']) {
        return exponent_scaled(s, scale);
    }
    let b = s.as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return None;
    }
    let mut int: i64 = 0;
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        int = int.checked_mul(10)?.checked_add(i64::from(b[i] - b'0'))?;
        i += 1;
    }
    let int_digits = i;
    let mut frac_num: i64 = 0;
    let mut frac_den: i64 = 1;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            if frac_den < 1_000_000_000 {
                frac_num = frac_num * 10 + i64::from(b[i] - b'0');
                frac_den *= 10;
            }
            i += 1;
        }
        if int_digits == 0 && frac_den == 1 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let whole = int.checked_mul(scale)?;
    let frac = (frac_num * scale * 2 + frac_den) / (frac_den * 2);
    let v = whole.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

/// A number with an exponent (`1.5e2`, as JSON writers produce), through
/// f64: exact for any duration that fits in one.
fn exponent_scaled(s: &str, scale: i64) -> Option<i64> {
    let (mantissa, exp) = s.split_once(['e', 'E'])?;
    let exp: i32 = exp.parse().ok()?;
    if mantissa.is_empty() || mantissa.contains(['e', 'E']) || !(-30..=30).contains(&exp) {
        return None;
    }
    let m: f64 = mantissa.parse().ok()?;
    let v = (m * 10f64.powi(exp) * scale as f64).round();
    (v.is_finite() && v.abs() < 9.0e18).then_some(v as i64)
}

/// Parses an integer, allowing a trailing `.0` (spreadsheets write `4.0`).
pub fn integer(s: &str) -> Result<i64, String> {
    let t = s.strip_suffix(".0").unwrap_or(s);
    t.parse::<i64>()
        .map_err(|_| format!("{s:?} is not a whole number"))
}

/// Parses a boolean word: true/false, t/f, yes/no, y/n, 1/0 (any case).
pub fn boolean(s: &str) -> Result<bool, String> {
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        Ok(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        Ok(false)
    } else {
        Err(format!("{s:?} is not a boolean (true/false, yes/no, 1/0)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Result<Micros, String> {
        timestamp(s, &Zone::utc())
    }

    #[test]
    fn timestamps_with_and_without_offsets() {
        let base = ts("2026-10-01T08:15:32Z").expect("valid");
        assert_eq!(base, 1_790_842_532_000_000);
        assert_eq!(ts("2026-10-01 08:15:32").expect("valid"), base);
        assert_eq!(ts("2026-10-01T10:15:32+02:00").expect("valid"), base);
        assert_eq!(ts("2026-10-01T10:15:32+0200").expect("valid"), base);
        assert_eq!(ts("2026-10-01T03:15:32-05").expect("valid"), base);
        assert_eq!(
            ts("2026-10-01T08:15:32.250Z").expect("valid"),
            base + 250_000
        );
        assert_eq!(ts("2026-10-01T08:15Z").expect("valid"), base - 32_000_000);
        for bad in [
            "",
            "2026-10-01",
            "2026-13-01T00:00:00Z",
            "2026-02-30 00:00:00",
            "yesterday",
            "2026-10-01T08:15:32+25:00",
            "2026-10-01T08:15:32Zulu",
            "2026-10-01T24:00:00Z",
        ] {
            assert!(ts(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn wall_clock_in_a_zone_follows_dst() {
        let ny = Zone::named("America/New_York").expect("zone");
        // EDT (UTC-4) in October, EST (UTC-5) in December.
        assert_eq!(
            timestamp("2026-10-01 08:00:00", &ny).expect("valid"),
            ts("2026-10-01T12:00:00Z").expect("valid")
        );
        assert_eq!(
            timestamp("2026-12-01 08:00:00", &ny).expect("valid"),
            ts("2026-12-01T13:00:00Z").expect("valid")
        );
        assert!(Zone::named("Mars/Olympus").is_err());
    }

    #[test]
    fn formatted_timestamps_in_a_zone_or_with_an_offset() {
        let ny = Zone::named("America/New_York").expect("zone");
        assert_eq!(
            timestamp_with_format("10/01/2026 08:00:00", "%m/%d/%Y %H:%M:%S", &ny),
            ts("2026-10-01T12:00:00Z")
        );
        assert_eq!(
            timestamp_with_format("01.12.2026 08:00 +0100", "%d.%m.%Y %H:%M %z", &ny),
            ts("2026-12-01T07:00:00Z")
        );
        for bad in ["2026-10-01T08:00:00", "13/45/2026 08:00:00", "10/01/2026"] {
            let e = timestamp_with_format(bad, "%m/%d/%Y %H:%M:%S", &ny).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn civil_day_round_trip() {
        for day in [-800_000, -1, 0, 1, 20_362, 2_932_896] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(
            format_day(utc_day(ts("2026-10-01T23:59:59Z").expect("valid"))),
            "2026-10-01"
        );
    }

    #[test]
    fn durations_in_every_unit() {
        use DurationUnit::*;
        assert_eq!(duration_ms("12", Seconds), Ok(12_000));
        assert_eq!(duration_ms("12.5", Seconds), Ok(12_500));
        assert_eq!(duration_ms("0.0004", Seconds), Ok(0));
        assert_eq!(duration_ms("-3", Seconds), Ok(-3_000));
        assert_eq!(duration_ms("1500", Millis), Ok(1_500));
        assert_eq!(duration_ms("1.5", Minutes), Ok(90_000));
        assert_eq!(duration_ms("01:02:03", Hms), Ok(3_723_000));
        assert_eq!(duration_ms("02:03", Hms), Ok(123_000));
        assert_eq!(duration_ms("45", Hms), Ok(45_000));
        assert_eq!(duration_ms("100:00:00", Hms), Ok(360_000_000));
        assert_eq!(duration_ms("1.5e2", Seconds), Ok(150_000));
        assert_eq!(duration_ms("2E3", Millis), Ok(2_000));
        assert_eq!(duration_ms("5e-05", Seconds), Ok(0));
        assert!(duration_ms("1e", Seconds).is_err());
        assert!(duration_ms("e5", Seconds).is_err());
        assert!(duration_ms("1e999", Seconds).is_err());
        for bad in ["", "abc", "1,5", ".", "1:30", "1e3e2", "0x10"] {
            assert!(duration_ms(bad, Seconds).is_err(), "{bad} as seconds");
        }
        for bad in ["", "1:2:3:4", "00:61:00", "00:00:60", "::", "1:-2", "x:00"] {
            assert!(duration_ms(bad, Hms).is_err(), "{bad} as HH:MM:SS");
        }
        assert!(duration_ms("99999999999999999999", Seconds).is_err());
    }

    #[test]
    fn booleans_and_integers() {
        assert_eq!(boolean("Yes"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert!(boolean("maybe").is_err());
        assert_eq!(integer("4.0"), Ok(4));
        assert!(integer("4.5").is_err());
    }
}
