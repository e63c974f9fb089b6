//! Monthly attrition per team or site (SPEC §11).

use std::collections::BTreeMap;

use cxpipe_model::civil::days_from_civil;
use cxpipe_model::col;
use polars::prelude::*;

use super::activity::Activity;
use super::signals::Signals;
use crate::Error;
use crate::names::*;
use crate::time::{format_month, month_index};

/// What `--attrition --by` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttritionBy {
    /// Per team.
    Team,
    /// Per site.
    Site,
    /// One group of everyone.
    All,
}

impl AttritionBy {
    /// Parses `team`, `site` or `all`.
    pub fn parse(s: &str) -> Result<AttritionBy, Error> {
        match s.trim() {
            "team" => Ok(AttritionBy::Team),
            "site" => Ok(AttritionBy::Site),
            "all" => Ok(AttritionBy::All),
            other => Err(Error::Usage(format!(
                "--by {other:?}: choose team, site or all"
            ))),
        }
    }
}

/// First and last day of a month index.
fn month_bounds(m: i64) -> (i64, i64) {
    let first = days_from_civil(m.div_euclid(12) as i32, (m.rem_euclid(12) + 1) as u32, 1);
    let next = m + 1;
    let next_first = days_from_civil(
        next.div_euclid(12) as i32,
        (next.rem_euclid(12) + 1) as u32,
        1,
    );
    (first, next_first - 1)
}

/// Attrition per group and month, from the month of the first day of data
/// to the month of as-of (SPEC §11):
///
/// - `headcount_start`: employed before the month's first day and not
///   departed before it; `headcount_end`: employed by its last day and not
///   departed by then (a departure date is the last day worked);
/// - `leavers`: departures in the month; `attrition_rate` = leavers ÷ the
///   mean of the two headcounts; `annualized_attrition` = × 12;
/// - `new_hire_90d_attrition` = leavers with tenure under 90 days ÷ agents
///   whose employment began in the 90 days up to the month's last day.
pub fn attrition(
    act: &Activity,
    rows: &[Signals],
    as_of: i64,
    by: AttritionBy,
) -> Result<DataFrame, Error> {
    let first = act.first_day.unwrap_or(as_of);
    let months = month_index(first)..=month_index(as_of);
    let group_of = |r: &Signals| match by {
        AttritionBy::Team => r.team.clone(),
        AttritionBy::Site => r.site.clone(),
        AttritionBy::All => Some("all".to_string()),
    };
    let mut groups: BTreeMap<Option<String>, Vec<&Signals>> = BTreeMap::new();
    for r in rows {
        groups.entry(group_of(r)).or_default().push(r);
    }
    let mut key = Vec::new();
    let mut month = Vec::new();
    let (mut start_n, mut end_n, mut leavers_n) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rate, mut annual, mut new90) = (Vec::new(), Vec::new(), Vec::new());
    for (g, members) in &groups {
        for m in months.clone() {
            let (lo, hi) = month_bounds(m);
            let employed_at = |r: &Signals, day: i64, strict: bool| {
                let began = if strict {
                    r.employed_from < day
                } else {
                    r.employed_from <= day
                };
                let gone = r
                    .departed_on
                    .is_some_and(|d| if strict { d < day } else { d <= day });
                began && !gone
            };
            let start = members.iter().filter(|r| employed_at(r, lo, true)).count() as i64;
            let end = members.iter().filter(|r| employed_at(r, hi, false)).count() as i64;
            let left: Vec<&&Signals> = members
                .iter()
                .filter(|r| r.departed_on.is_some_and(|d| (lo..=hi).contains(&d)))
                .collect();
            let short = left.iter().filter(|r| r.tenure_days < 90).count() as f64;
            let hires = members
                .iter()
                .filter(|r| {
                    r.employed_from != i64::MIN && (hi - 89..=hi).contains(&r.employed_from)
                })
                .count() as f64;
            let avg = (start + end) as f64 / 2.0;
            let r = (avg > 0.0).then(|| left.len() as f64 / avg);
            key.push(g.clone());
            month.push(format_month(m));
            start_n.push(start);
            end_n.push(end);
            leavers_n.push(left.len() as i64);
            rate.push(r);
            annual.push(r.map(|r| r * 12.0));
            new90.push((hires > 0.0).then(|| short / hires));
        }
    }
    let n = month.len();
    let mut columns = Vec::new();
    match by {
        AttritionBy::Team => columns.push(Column::new(col::TEAM.into(), key)),
        AttritionBy::Site => columns.push(Column::new(col::SITE.into(), key)),
        AttritionBy::All => {}
    }
    columns.extend([
        Column::new(MONTH.into(), month),
        Column::new(HEADCOUNT_START.into(), start_n),
        Column::new(HEADCOUNT_END.into(), end_n),
        Column::new(LEAVERS.into(), leavers_n),
        Column::new(ATTRITION_RATE.into(), rate),
        Column::new(ANNUALIZED_ATTRITION.into(), annual),
        Column::new(NEW_HIRE_90D_ATTRITION.into(), new90),
    ]);
    DataFrame::new(n, columns).map_err(Error::polars("building the attrition table"))
}
