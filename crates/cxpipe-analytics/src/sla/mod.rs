//! SLA policies and breach reports (SPEC §10).
//!
//! A [`Rule`] is one `[[sla]]` entry. Interval-level rules (`service_level`,
//! `abandon_rate`, `asa`) are judged per queue × interval with the KPI
//! engine over the rule's scope; interaction-level rules (`wait`, `handle`,
//! `acw`, `hold`) compare one duration of each contact with a threshold.
//! Three reports: [`interval_report`], [`agent_report`] and
//! [`interaction_report`]; each is sorted worst first. Exact definitions:
//! ARCHITECTURE.md, "SLA definitions".

mod agent;
mod interaction;
mod interval;
mod rule;

use cxpipe_model::col;
use polars::prelude::Expr;

pub use agent::agent_report;
pub use interaction::interaction_report;
pub use interval::interval_report;
pub use rule::{Kind, Rule, Scope, glob_match};

use crate::Error;
use crate::kpi::{Group, KpiParams};
use crate::names::*;
use crate::scan::Source;

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

/// The agent report's columns.
pub const AGENT_COLUMNS: [&str; 7] = [
    RULE,
    col::AGENT_ID,
    HANDLED,
    BREACHES,
    BREACH_RATE,
    RANK,
    MISSED_INTERVAL_SHARE,
];

/// The interaction report's columns.
pub const INTERACTION_COLUMNS: [&str; 8] = [
    RULE,
    col::INTERACTION_ID,
    col::AGENT_ID,
    col::QUEUE,
    col::ARRIVED_AT,
    MEASURED_S,
    THRESHOLD_S,
    OVER_BY_S,
];

/// The KPI query behind a rule: its scope, interval and threshold, no FCR.
pub(super) fn rule_params(
    source: &Source,
    base: &KpiParams,
    rule: &Rule,
    by: Vec<Group>,
) -> Result<KpiParams, Error> {
    let mut p = base.clone();
    p.by = by;
    p.interval = rule.interval;
    if rule.kind == Kind::ServiceLevel
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
pub(super) fn scope_filter(source: &Source, scope: &Scope) -> Result<Option<Expr>, Error> {
    let queues = match &scope.queue {
        Some(q) if q.contains(['*', '?']) => source.distinct_strings(col::QUEUE)?,
        Some(q) => vec![q.clone()],
        None => Vec::new(),
    };
    Ok(scope.expr(&queues))
}
