//! Civil (proleptic Gregorian, UTC) dates and fast RFC 3339 formatting.
//!
//! The generator only needs UTC calendar arithmetic, which Howard Hinnant's
//! `days_from_civil` / `civil_from_days` do exactly in a few integer steps;
//! that is cheaper than a date-time crate on the per-row hot path.

pub(crate) use cxpipe_model::civil::{civil_from_days, days_from_civil};

/// Whether `y-m-d` is a real calendar date.
pub(crate) fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= len
}

/// Weekday of a day number, Monday = 0 … Sunday = 6.
pub(crate) fn weekday(z: i64) -> usize {
    (z + 3).rem_euclid(7) as usize
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn date_string(z: i64) -> String {
    let (y, m, d) = civil_from_days(z);
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 UTC timestamp with second precision of a Unix time.
pub(crate) fn timestamp_string(t: i64) -> String {
    let mut f = TsFormatter::default();
    let mut out = Vec::with_capacity(20);
    f.push(&mut out, t);
    String::from_utf8_lossy(&out).into_owned()
}

/// `"00" "01" … "99"`, for writing two digits at once.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `YYYY-MM-DDTHH:MM:SSZ`, caching the date part of the last day seen
/// (consecutive rows almost always share it).
#[derive(Default, Clone)]
pub(crate) struct TsFormatter {
    day: Option<i64>,
    prefix: [u8; 11],
}

impl TsFormatter {
    /// Appends the timestamp of Unix time `t` (years 0000..=9999).
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, t: i64) {
        let day = t.div_euclid(86_400);
        let sod = t.rem_euclid(86_400) as usize;
        if self.day != Some(day) {
            let (y, m, d) = civil_from_days(day);
            let y = y.clamp(0, 9999) as usize;
            let p = &mut self.prefix;
            p[0..2].copy_from_slice(pair(y / 100));
            p[2..4].copy_from_slice(pair(y % 100));
            p[4] = b'-';
            p[5..7].copy_from_slice(pair(m as usize));
            p[7] = b'-';
            p[8..10].copy_from_slice(pair(d as usize));
            p[10] = b'T';
            self.day = Some(day);
        }
        out.extend_from_slice(&self.prefix);
        push_clock(out, sod);
        out.push(b'Z');
    }
}

/// Appends `HH:MM:SS` of a second of the day (0..86_400).
#[inline]
pub(crate) fn push_clock(out: &mut Vec<u8>, sod: usize) {
    out.extend_from_slice(pair(sod / 3600));
    out.push(b':');
    out.extend_from_slice(pair(sod / 60 % 60));
    out.push(b':');
    out.extend_from_slice(pair(sod % 60));
}

/// Two digits of `n` (0..100).
#[inline]
pub(crate) fn pair(n: usize) -> &'static [u8] {
    &DIGIT_PAIRS[2 * n..2 * n + 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 10, 1), 20_727);
        assert_eq!(civil_from_days(20_727), (2026, 10, 1));
        assert_eq!(weekday(days_from_civil(2026, 10, 1)), 3); // a Thursday
        assert_eq!(timestamp_string(1_790_842_532), "2026-10-01T08:15:32Z");
        assert_eq!(date_string(days_from_civil(2028, 2, 29)), "2028-02-29");
        assert!(is_valid_date(2028, 2, 29));
        assert!(!is_valid_date(2026, 2, 29));
        assert!(!is_valid_date(2026, 13, 1));
        assert!(!is_valid_date(2026, 4, 31));
    }

    proptest! {
        #[test]
        fn civil_round_trips(z in -200_000i64..2_900_000) {
            let (y, m, d) = civil_from_days(z);
            prop_assert!(is_valid_date(y, m, d));
            prop_assert_eq!(days_from_civil(y, m, d), z);
        }

        #[test]
        fn timestamp_matches_naive_formatting(t in 0i64..253_402_300_799) {
            let (y, m, d) = civil_from_days(t.div_euclid(86_400));
            let s = t.rem_euclid(86_400);
            let naive = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60);
            prop_assert_eq!(timestamp_string(t), naive);
        }
    }
}
