//! `--level agent`: per rule, every agent who handled a contact in its
//! scope, ranked by breach rate.

use std::collections::{HashMap, HashSet};

use cxpipe_model::col;
use polars::prelude::{col as column, *};

use super::interval::judged_intervals;
use super::query::{rule_params, scope_filter};
use super::rule::Rule;
use crate::Error;
use crate::frame::{numbers, strings, texts};
use crate::kpi::{Group, KpiParams, kpi};
use crate::names::*;
use crate::scan::Partitions;

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

/// One agent's counts for one rule.
#[derive(Default)]
struct Acc {
    handled: i64,
    breaches: i64,
    intervals: i64,
    missed: i64,
}

/// One row of the report: the rule (its index in the policy), the agent.
struct Row {
    rule: usize,
    agent: String,
    acc: Acc,
}

/// `--level agent`: one row per agent × rule, for every agent who handled a
/// contact in the rule's scope.
///
/// - Interaction level: `breaches` = the agent's handled contacts whose
///   duration is over the threshold (for `wait`: the contacts the agent
///   answered after waiting too long), `breach_rate` = breaches ÷ handled.
/// - Interval level: `breaches` = the agent's handled contacts in missed
///   queue × intervals; `missed_interval_share` = the missed queue ×
///   intervals the agent handled a contact in ÷ all the agent worked in.
///
/// Within a rule, `rank` 1 is the worst: highest breach rate, then most
/// breaches, then agent id. Rows are in policy order, then by rank.
pub fn agent_report(
    source: &Partitions,
    base: &KpiParams,
    rules: &[Rule],
) -> Result<DataFrame, Error> {
    let mut per_rule = per_contact_counts(source, base, rules)?;
    let mut out: Vec<Row> = Vec::new();
    for (order, rule) in rules.iter().enumerate() {
        let mut per_agent = std::mem::take(&mut per_rule[order]);
        if rule.kind.interval_level() {
            add_interval_counts(source, base, rule, &mut per_agent)?;
        }
        out.extend(ranked(order, per_agent));
    }
    agent_frame(&out, rules)
}

/// Every per-contact rule in one pass: per rule and agent, the handled
/// contacts in the rule's scope and those over its threshold (empty maps
/// for the interval-level rules).
fn per_contact_counts(
    source: &Partitions,
    base: &KpiParams,
    rules: &[Rule],
) -> Result<Vec<HashMap<String, Acc>>, Error> {
    let mut per_rule: Vec<HashMap<String, Acc>> = rules.iter().map(|_| HashMap::new()).collect();
    let per_contact: Vec<usize> = (0..rules.len())
        .filter(|&i| !rules[i].kind.interval_level())
        .collect();
    if per_contact.is_empty() {
        return Ok(per_rule);
    }
    let mut p = base.clone();
    p.by = vec![Group::Agent];
    p.fcr = false;
    p.filter = None;
    p.counts = Vec::new();
    // Summed per agent below: in any order.
    p.sorted = false;
    let handled_name = |i: usize| format!("__handled_{i}");
    let breaches_name = |i: usize| format!("__breaches_{i}");
    for &i in &per_contact {
        let rule = &rules[i];
        let scope = scope_filter(source, &rule.scope)?.unwrap_or(lit(true));
        let threshold = rule.threshold_ms.unwrap_or_default();
        let over = column(rule.kind.column()).gt(lit(threshold));
        p.counts.push((handled_name(i), scope.clone()));
        p.counts.push((breaches_name(i), scope.and(over)));
    }
    let df = kpi(source, &p)?;
    let agents = strings(&df, col::AGENT_ID)?;
    for &i in &per_contact {
        let handled = numbers::<Int64Type>(&df, &handled_name(i))?;
        let breaches = numbers::<Int64Type>(&df, &breaches_name(i))?;
        for ((agent, handled), breaches) in agents.iter().zip(handled).zip(breaches) {
            let Some(agent) = agent else { continue };
            let acc = per_rule[i].entry(agent.clone()).or_default();
            acc.handled += handled.unwrap_or_default();
            acc.breaches += breaches.unwrap_or_default();
        }
    }
    Ok(per_rule)
}

/// An interval-level rule: per agent, the queue × intervals worked, the
/// missed ones, and the contacts handled in them.
fn add_interval_counts(
    source: &Partitions,
    base: &KpiParams,
    rule: &Rule,
    per_agent: &mut HashMap<String, Acc>,
) -> Result<(), Error> {
    let judged = judged_intervals(source, base, rule)?;
    let missed: HashSet<(Option<&str>, Option<&str>)> = judged
        .iter()
        .filter(|j| !j.met)
        .map(|j| (j.queue.as_deref(), j.start.as_deref()))
        .collect();
    // Agent × queue × interval groups grow with the rows (more agents, more
    // intervals): about 20M of them at 100M rows held 7 GiB at once. An interval
    // lies within a local day, so runs of whole days are summed one after
    // another, each into the same per-agent counts.
    // The rule's query is made once (its scope may list the dataset's
    // queues); each window only narrows its days.
    let by = vec![Group::Agent, Group::Queue, Group::Interval];
    let mut window = rule_params(source, base, rule, by)?;
    // Summed per agent below: in any order.
    window.sorted = false;
    let window_bytes = base.batch_bytes.saturating_mul(WINDOW_BATCHES);
    for (from, to) in source.day_windows(base.from, base.to, window_bytes) {
        window.from = Some(from);
        window.to = Some(to);
        let df = kpi(source, &window)?;
        // Read in place: a `String` per group and column was most of this
        // loop (about 2M groups at 10M rows).
        let (agents, queues, starts) = (
            texts(&df, col::AGENT_ID)?,
            texts(&df, col::QUEUE)?,
            texts(&df, INTERVAL_START)?,
        );
        let handled = numbers::<Int64Type>(&df, HANDLED)?;
        for (((agent, queue), start), handled) in agents
            .iter()
            .zip(queues.iter())
            .zip(starts.iter())
            .zip(handled)
        {
            let Some(agent) = agent else { continue };
            let handled = handled.unwrap_or_default();
            let acc = match per_agent.get_mut(agent) {
                Some(acc) => acc,
                None => per_agent.entry(agent.to_string()).or_default(),
            };
            acc.handled += handled;
            acc.intervals += 1;
            if missed.contains(&(queue, start)) {
                acc.missed += 1;
                acc.breaches += handled;
            }
        }
    }
    Ok(())
}

/// Parquet bytes of the days summed at once by [`add_interval_counts`], in
/// KPI batches: 4 × 32 MiB, about 3M rows and 0.8M agent × queue × interval
/// groups.
const WINDOW_BATCHES: u64 = 4;

/// The agents of rule `order` who handled a contact, worst first.
fn ranked(order: usize, per_agent: HashMap<String, Acc>) -> Vec<Row> {
    let rate = |a: &Acc| a.breaches as f64 / a.handled.max(1) as f64;
    let mut rows: Vec<Row> = per_agent
        .into_iter()
        .filter(|(_, a)| a.handled > 0)
        .map(|(agent, acc)| Row {
            rule: order,
            agent,
            acc,
        })
        .collect();
    rows.sort_by(|a, b| {
        rate(&b.acc)
            .total_cmp(&rate(&a.acc))
            .then(b.acc.breaches.cmp(&a.acc.breaches))
            .then(a.agent.cmp(&b.agent))
    });
    rows
}

/// The report's frame; `rank` restarts at 1 with each rule.
fn agent_frame(out: &[Row], rules: &[Rule]) -> Result<DataFrame, Error> {
    let mut ranks = Vec::with_capacity(out.len());
    for (i, r) in out.iter().enumerate() {
        let rank = match i.checked_sub(1).map(|j| &out[j]) {
            Some(prev) if prev.rule == r.rule => ranks.last().copied().unwrap_or(0) + 1,
            _ => 1i64,
        };
        ranks.push(rank);
    }
    let interval_level = |r: &Row| rules[r.rule].kind.interval_level();
    let columns = vec![
        Column::new(
            RULE.into(),
            out.iter()
                .map(|r| rules[r.rule].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::AGENT_ID.into(),
            out.iter().map(|r| r.agent.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            HANDLED.into(),
            out.iter().map(|r| r.acc.handled).collect::<Vec<_>>(),
        ),
        Column::new(
            BREACHES.into(),
            out.iter().map(|r| r.acc.breaches).collect::<Vec<_>>(),
        ),
        Column::new(
            BREACH_RATE.into(),
            out.iter()
                .map(|r| r.acc.breaches as f64 / r.acc.handled as f64)
                .collect::<Vec<_>>(),
        ),
        Column::new(RANK.into(), ranks),
        Column::new(
            MISSED_INTERVAL_SHARE.into(),
            out.iter()
                .map(|r| {
                    (interval_level(r) && r.acc.intervals > 0)
                        .then(|| r.acc.missed as f64 / r.acc.intervals as f64)
                })
                .collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(out.len(), columns).map_err(Error::polars("building the agent report"))
}
