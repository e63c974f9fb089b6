//! The KPI query behind a rule: its scope as a row filter, its interval
//! and threshold.

use cxpipe_model::col;
use polars::prelude::Expr;

use super::rule::{Rule, RuleKind, Scope};
use crate::Error;
use crate::kpi::{Group, KpiParams};
use crate::scan::Partitions;

/// The KPI query behind a rule: its scope, interval and threshold, no FCR.
pub(super) fn rule_params(
    source: &Partitions,
    base: &KpiParams,
    rule: &Rule,
    by: Vec<Group>,
) -> Result<KpiParams, Error> {
    let mut p = base.clone();
    p.by = by;
    p.interval = rule.interval;
    if rule.kind == RuleKind::ServiceLevel
        && let Some(t) = rule.threshold_ms
    {
        p.threshold_ms = t;
    }
    p.filter = scope_filter(source, &rule.scope)?;
    p.fcr = false;
    p.counts = Vec::new();
    Ok(p)
}

/// The scope's row filter; a queue glob is matched against the queue names
/// of the whole dataset.
pub(super) fn scope_filter(source: &Partitions, scope: &Scope) -> Result<Option<Expr>, Error> {
    let queues = match &scope.queue {
        Some(q) if q.contains(['*', '?']) => source.distinct_strings(col::QUEUE)?,
        Some(q) => vec![q.clone()],
        None => Vec::new(),
    };
    Ok(scope.expr(&queues))
}
