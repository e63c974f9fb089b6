//! Fast formatting of UTC times and digits on the per-row hot path.
//!
//! Calendar arithmetic (day numbers, leap years, weekdays) is
//! `cxpipe_model::civil`'s; this module only writes the results, caching the
//! date part of consecutive rows, which is cheaper than a date-time crate.

use cxpipe_model::civil::civil_from_days;

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

/// Field order of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateOrder {
    /// `YYYY-MM-DD` (RFC 3339, Talkdesk).
    YearFirst,
    /// `MM/DD/YYYY` (Five9).
    MonthFirst,
}

/// Writes the date of a day number in a [`DateOrder`] followed by a
/// separator, caching it for the last day seen (consecutive rows almost
/// always share it).
#[derive(Debug, Clone)]
pub(crate) struct DatePrefix {
    order: DateOrder,
    day: Option<i64>,
    /// The date and the separator.
    prefix: [u8; 11],
}

impl DatePrefix {
    /// Dates in `order`, each followed by `separator`.
    pub(crate) fn new(order: DateOrder, separator: u8) -> DatePrefix {
        DatePrefix {
            order,
            day: None,
            prefix: [separator; 11],
        }
    }

    /// Appends the date of day `day` (years 0000..=9999) and the separator.
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, day: i64) {
        if self.day != Some(day) {
            let (y, m, d) = civil_from_days(day);
            let y = y.clamp(0, 9999) as usize;
            let mut year = [0u8; 4];
            year[..2].copy_from_slice(pair(y / 100));
            year[2..].copy_from_slice(pair(y % 100));
            let (month, date) = (pair(m as usize), pair(d as usize));
            let p = &mut self.prefix;
            match self.order {
                DateOrder::YearFirst => {
                    p[0..4].copy_from_slice(&year);
                    p[4] = b'-';
                    p[5..7].copy_from_slice(month);
                    p[7] = b'-';
                    p[8..10].copy_from_slice(date);
                }
                DateOrder::MonthFirst => {
                    p[0..2].copy_from_slice(month);
                    p[2] = b'/';
                    p[3..5].copy_from_slice(date);
                    p[5] = b'/';
                    p[6..10].copy_from_slice(&year);
                }
            }
            self.day = Some(day);
        }
        out.extend_from_slice(&self.prefix);
    }
}

/// Writes `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone)]
pub(crate) struct TsFormatter {
    date: DatePrefix,
}

impl Default for TsFormatter {
    fn default() -> TsFormatter {
        TsFormatter {
            date: DatePrefix::new(DateOrder::YearFirst, b'T'),
        }
    }
}

impl TsFormatter {
    /// Appends the timestamp of Unix time `t` (years 0000..=9999).
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, t: i64) {
        self.date.push(out, t.div_euclid(86_400));
        push_clock(out, t.rem_euclid(86_400) as usize);
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
    fn known_timestamps() {
        assert_eq!(timestamp_string(1_790_842_532), "2026-10-01T08:15:32Z");
        assert_eq!(timestamp_string(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp_string(951_782_399), "2000-02-28T23:59:59Z");
        assert_eq!(timestamp_string(951_782_400), "2000-02-29T00:00:00Z");
    }

    proptest! {
        #[test]
        fn timestamp_matches_naive_formatting(t in 0i64..253_402_300_799) {
            let (y, m, d) = civil_from_days(t.div_euclid(86_400));
            let s = t.rem_euclid(86_400);
            let naive = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60);
            prop_assert_eq!(timestamp_string(t), naive);
        }
    }
}
