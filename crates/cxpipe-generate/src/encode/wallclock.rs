//! Times written without an offset, as the CSV report layouts write them:
//! a wall-clock date and time, and the cached UTC offsets of a time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::timefmt::DateOrder;
use crate::timefmt::{DatePrefix, push_clock};
use crate::{Error, Layout};

/// Writes a wall-clock time given as seconds since 1970-01-01 00:00 of its
/// own clock, as the date in a [`DateOrder`], a space and `HH:MM:SS`.
#[derive(Debug, Clone)]
pub(crate) struct WallClock {
    date: DatePrefix,
}

impl WallClock {
    /// A clock writing dates in `order`.
    pub(crate) fn new(order: DateOrder) -> WallClock {
        WallClock {
            date: DatePrefix::new(order, b' '),
        }
    }

    /// Appends the wall-clock time `t`.
    #[inline]
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, t: i64) {
        self.date.push(out, t.div_euclid(86_400));
        push_clock(out, t.rem_euclid(86_400) as usize);
    }
}

/// A time zone's UTC offset, cached between its transitions (rows come in
/// arrival order, so the zone database is consulted about once per
/// transition rather than once per row).
#[derive(Debug, Clone)]
pub(crate) struct ZoneOffsets {
    tz: TimeZone,
    /// The cached offset holds for Unix times in `from..until`.
    from: i64,
    until: i64,
    offset: i64,
}

impl ZoneOffsets {
    /// The offsets of the zone called `name`, which `layout` needs.
    pub(crate) fn get(name: &'static str, layout: Layout) -> Result<ZoneOffsets, Error> {
        let tz = TimeZone::get(name).map_err(|source| Error::TimeZone {
            zone: name,
            layout,
            source,
        })?;
        Ok(ZoneOffsets::new(tz))
    }

    /// The offsets of `tz`, none cached yet.
    pub(crate) fn new(tz: TimeZone) -> ZoneOffsets {
        ZoneOffsets {
            tz,
            from: 0,
            until: 0,
            offset: 0,
        }
    }

    /// Seconds to add to Unix time `t` to get the wall-clock time.
    #[inline]
    pub(crate) fn offset_at(&mut self, t: i64) -> i64 {
        if !(self.from <= t && t < self.until) {
            // Generated times lie in years 1899..=9001 (`validate`), well
            // inside jiff's range; were one outside, it would be written as
            // UTC rather than fail the run.
            let Ok(ts) = Timestamp::from_second(t) else {
                return 0;
            };
            self.offset = i64::from(self.tz.to_offset(ts).seconds());
            self.from = t;
            self.until = self
                .tz
                .following(ts)
                .next()
                .map_or(i64::MAX, |tr| tr.timestamp().as_second());
        }
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxpipe_model::civil::days_from_civil;
    use proptest::prelude::*;

    /// 2026-10-01, day 0 of the default world.
    const DAY0: i64 = 20_727 * 86_400;

    fn new_york() -> TimeZone {
        TimeZone::get(crate::FIVE9_TIME_ZONE).expect("tzdb has America/New_York")
    }

    #[test]
    fn new_york_offsets_around_the_transitions() {
        let mut z = ZoneOffsets::new(new_york());
        let mut clock = WallClock::new(DateOrder::MonthFirst);
        let mut show = |t: i64| {
            let mut out = Vec::new();
            clock.push(&mut out, t + z.offset_at(t));
            String::from_utf8(out).expect("ascii")
        };
        // 2026-03-08 07:00 UTC is 03:00 EDT (02:00 EST never happens);
        // 2026-11-01 06:00 UTC is 01:00 EST (01:00 EDT was an hour before).
        let mar8 = days_from_civil(2026, 3, 8) * 86_400;
        let nov1 = days_from_civil(2026, 11, 1) * 86_400;
        assert_eq!(show(mar8 + 6 * 3600 + 59 * 60 + 59), "03/08/2026 01:59:59");
        assert_eq!(show(mar8 + 7 * 3600), "03/08/2026 03:00:00");
        assert_eq!(show(nov1 + 5 * 3600 + 59 * 60 + 59), "11/01/2026 01:59:59");
        assert_eq!(show(nov1 + 6 * 3600), "11/01/2026 01:00:00");
        // Going back in time re-reads the zone.
        assert_eq!(show(mar8), "03/07/2026 19:00:00");
        assert_eq!(show(DAY0), "09/30/2026 20:00:00");
    }

    proptest! {
        /// The cached offset and the hand-written wall clock agree with
        /// jiff's own conversion and formatting, in any order of times.
        #[test]
        fn five9_time_matches_jiff(ts in proptest::collection::vec(-2_208_988_800i64..4_102_444_800, 1..40)) {
            let tz = new_york();
            let mut z = ZoneOffsets::new(tz.clone());
            let mut clock = WallClock::new(DateOrder::MonthFirst);
            let mut iso = WallClock::new(DateOrder::YearFirst);
            for t in ts {
                let mut out = Vec::new();
                clock.push(&mut out, t + z.offset_at(t));
                let zoned = Timestamp::from_second(t).expect("in range").to_zoned_datetime(tz.clone());
                prop_assert_eq!(String::from_utf8_lossy(&out), zoned.strftime("%m/%d/%Y %H:%M:%S").to_string());
                let mut out = Vec::new();
                iso.push(&mut out, t);
                let utc = Timestamp::from_second(t).expect("in range").strftime("%Y-%m-%d %H:%M:%S").to_string();
                prop_assert_eq!(String::from_utf8_lossy(&out), utc);
            }
        }
    }
}
