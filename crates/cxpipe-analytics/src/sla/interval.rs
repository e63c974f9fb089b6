//! `--level interval`: every queue × interval of the interval-level rules,
//! judged against their targets.

use cxpipe_model::col;
use polars::prelude::*;

use super::query::rule_params;
use super::rule::{Rule, RuleKind};
use crate::Error;
use crate::frame::{numbers, strings};
use crate::kpi::{Group, KpiParams, kpi};
use crate::names::*;
use crate::scan::Partitions;

/// The interval report's columns.
pub const INTERVAL_COLUMNS: [&str; 9] = [
    RULE,
    SCOPE,
    col::QUEUE,
    INTERVAL_START,
    OFFERED,
    MEASURED,
    TARGET,
    MET,
    SHORTFALL,
];

/// One judged queue × interval of an interval-level rule.
pub(super) struct Judged {
    pub queue: Option<String>,
    pub start: Option<String>,
    offered: i64,
    measured: f64,
    pub met: bool,
    shortfall: f64,
}

/// Every queue × interval of one interval-level rule, judged (intervals
/// with nothing to measure are left out: no offered contacts, or only
/// short abandons).
pub(super) fn judged_intervals(
    source: &Partitions,
    base: &KpiParams,
    rule: &Rule,
) -> Result<Vec<Judged>, Error> {
    let p = rule_params(source, base, rule, vec![Group::Queue, Group::Interval])?;
    let df = kpi(source, &p)?;
    let queues = strings(&df, col::QUEUE)?;
    let starts = strings(&df, INTERVAL_START)?;
    let offered = numbers::<Int64Type>(&df, OFFERED)?;
    let measured = numbers::<Float64Type>(&df, rule.kind.column())?;
    let rows = queues.into_iter().zip(starts).zip(offered).zip(measured);
    Ok(rows
        .filter_map(|(((queue, start), offered), measured)| {
            let measured = measured?;
            let (met, shortfall) = judge(rule.kind, measured, rule.target());
            Some(Judged {
                queue,
                start,
                offered: offered.unwrap_or_default(),
                measured,
                met,
                shortfall,
            })
        })
        .collect())
}

/// Met if the measured value is on the right side of the target; the
/// shortfall is how far it is on the wrong side (0 when met).
fn judge(kind: RuleKind, measured: f64, target: f64) -> (bool, f64) {
    let gap = if kind == RuleKind::ServiceLevel {
        target - measured
    } else {
        measured - target
    };
    (gap <= 0.0, gap.max(0.0))
}

/// `--level interval`: every queue × interval of every interval-level rule:
/// the missed ones first, rule by rule (policy order), worst first — the
/// largest shortfall × offered, so a missed busy interval comes before a
/// missed interval with one contact — then the met ones; ties by queue and
/// time.
pub fn interval_report(
    source: &Partitions,
    base: &KpiParams,
    rules: &[Rule],
) -> Result<DataFrame, Error> {
    let mut rows: Vec<(usize, Judged)> = Vec::new();
    for (order, rule) in rules.iter().enumerate() {
        if rule.kind.interval_level() {
            let judged = judged_intervals(source, base, rule)?;
            rows.extend(judged.into_iter().map(|j| (order, j)));
        }
    }
    // Worst first: a missed busy interval before a missed interval with one
    // contact (shortfall weighted by the contacts offered).
    let weight = |r: &Judged| r.shortfall * r.offered as f64;
    rows.sort_by(|(ao, a), (bo, b)| {
        a.met
            .cmp(&b.met)
            .then(ao.cmp(bo))
            .then(weight(b).total_cmp(&weight(a)))
            .then(b.shortfall.total_cmp(&a.shortfall))
            .then(a.queue.cmp(&b.queue))
            .then(a.start.cmp(&b.start))
    });
    let rule_of = |(o, _): &(usize, Judged)| rules[*o].name.as_str();
    let columns = vec![
        Column::new(RULE.into(), rows.iter().map(rule_of).collect::<Vec<_>>()),
        Column::new(
            SCOPE.into(),
            rows.iter()
                .map(|(o, _)| rules[*o].scope.describe())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::QUEUE.into(),
            rows.iter()
                .map(|(_, r)| r.queue.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            INTERVAL_START.into(),
            rows.iter()
                .map(|(_, r)| r.start.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            OFFERED.into(),
            rows.iter().map(|(_, r)| r.offered).collect::<Vec<_>>(),
        ),
        Column::new(
            MEASURED.into(),
            rows.iter().map(|(_, r)| r.measured).collect::<Vec<_>>(),
        ),
        Column::new(
            TARGET.into(),
            rows.iter()
                .map(|(o, _)| rules[*o].target())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            MET.into(),
            rows.iter().map(|(_, r)| r.met).collect::<Vec<_>>(),
        ),
        Column::new(
            SHORTFALL.into(),
            rows.iter().map(|(_, r)| r.shortfall).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(rows.len(), columns).map_err(Error::polars("building the interval report"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging() {
        assert_eq!(judge(RuleKind::ServiceLevel, 0.8, 0.8), (true, 0.0));
        let (met, short) = judge(RuleKind::ServiceLevel, 0.5, 0.8);
        assert!(!met && (short - 0.3).abs() < 1e-12);
        assert_eq!(judge(RuleKind::AbandonRate, 0.05, 0.05), (true, 0.0));
        assert_eq!(judge(RuleKind::Asa, 45.0, 30.0), (false, 15.0));
    }
}
