//! SLA policies and breach reports (SPEC §10).
//!
//! A [`Rule`] is one `[[sla]]` entry. Interval-level rules (`service_level`,
//! `abandon_rate`, `asa`) are judged per queue × interval with the KPI
//! engine over the rule's scope; interaction-level rules (`wait`, `handle`,
//! `acw`, `hold`) compare one duration of each contact with a threshold.
//! Three reports: [`interval_report`], [`agent_report`] and
//! [`interaction_report`]; each is sorted worst first. Exact definitions:
//! ARCHITECTURE.md, "SLA definitions".

use std::collections::HashMap;
use std::collections::HashSet;

use polars::prelude::*;

use crate::Error;
use crate::frame::{numbers, strings};
use crate::kpi::{Group, KpiParams, T, kpi};
use crate::scan::Source;
use crate::time::Interval;

/// What a rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Per queue × interval: met if `service_level` ≥ target.
    ServiceLevel,
    /// Per queue × interval: met if `abandon_rate` ≤ target.
    AbandonRate,
    /// Per queue × interval: met if `asa_s` ≤ target (seconds).
    Asa,
    /// Per inbound contact, queue-attributed: breach if `wait_ms` > threshold.
    Wait,
    /// Per handled contact, agent-attributed: breach if `handle_ms` > threshold.
    Handle,
    /// Per handled contact, agent-attributed: breach if `acw_ms` > threshold.
    Acw,
    /// Per handled contact, agent-attributed: breach if `hold_ms` > threshold.
    Hold,
}

impl Kind {
    /// Every kind, in SPEC order.
    pub const ALL: [Kind; 7] = [
        Kind::ServiceLevel,
        Kind::AbandonRate,
        Kind::Asa,
        Kind::Wait,
        Kind::Handle,
        Kind::Acw,
        Kind::Hold,
    ];

    /// Its name in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ServiceLevel => "service_level",
            Kind::AbandonRate => "abandon_rate",
            Kind::Asa => "asa",
            Kind::Wait => "wait",
            Kind::Handle => "handle",
            Kind::Acw => "acw",
            Kind::Hold => "hold",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown kind {s:?}; choose from {}",
                    Kind::ALL.map(Kind::name).join(", ")
                )
            })
    }

    /// Whether it is judged per queue × interval.
    pub fn interval_level(self) -> bool {
        matches!(self, Kind::ServiceLevel | Kind::AbandonRate | Kind::Asa)
    }

    /// The KPI column (interval level) or duration column (interaction
    /// level) it measures.
    fn column(self) -> &'static str {
        match self {
            Kind::ServiceLevel => "service_level",
            Kind::AbandonRate => "abandon_rate",
            Kind::Asa => "asa_s",
            Kind::Wait => "wait_ms",
            Kind::Handle => "handle_ms",
            Kind::Acw => "acw_ms",
            Kind::Hold => "hold_ms",
        }
    }
}

/// Which contacts a rule covers; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Exact channel name.
    pub channel: Option<String>,
    /// Queue name or glob (`*` any run of characters, `?` one character).
    pub queue: Option<String>,
    /// Exact team name.
    pub team: Option<String>,
    /// Exact site name.
    pub site: Option<String>,
}

impl Scope {
    /// `channel=voice queue=sales-*`, or `all`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("channel", &self.channel),
            ("queue", &self.queue),
            ("team", &self.team),
            ("site", &self.site),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "all".to_string()
        } else {
            parts.join(" ")
        }
    }

    /// The row filter, given the dataset's queue names (for globs).
    fn expr(&self, queues: &[String]) -> Option<Expr> {
        let mut parts = Vec::new();
        for (column, value) in [
            ("channel", &self.channel),
            ("team", &self.team),
            ("site", &self.site),
        ] {
            if let Some(v) = value {
                parts.push(col(column).eq(lit(v.clone())));
            }
        }
        if let Some(glob) = &self.queue {
            let matching = queues.iter().filter(|q| glob_match(glob, q));
            let any = matching
                .map(|q| col("queue").eq(lit(q.clone())))
                .reduce(|a, b| a.or(b));
            parts.push(any.unwrap_or(lit(false)));
        }
        parts.into_iter().reduce(|a, b| a.and(b))
    }
}

/// `*` matches any run of characters, `?` any one; everything else itself.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut i, mut j) = (0, 0);
    // Where the last `*` was, and where in `s` it is retried from.
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// One SLA rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name, unique within a policy.
    pub name: String,
    /// What it measures.
    pub kind: Kind,
    /// Which contacts it covers.
    pub scope: Scope,
    /// Interaction level: the breach threshold. `service_level`: T (default:
    /// the `[kpi]` threshold). Others: none.
    pub threshold_ms: Option<i64>,
    /// Interval level: the target (a fraction; seconds for `asa`).
    pub target: Option<f64>,
    /// Interval level: the interval (default 30m).
    pub interval: Interval,
}

impl Rule {
    /// Checks a rule as written in a policy file; the error says what is
    /// wrong (the caller adds the file and line).
    pub fn new(
        name: &str,
        kind: &str,
        scope: Scope,
        threshold_s: Option<f64>,
        target: Option<f64>,
        interval: Option<&str>,
    ) -> Result<Rule, String> {
        if name.trim().is_empty() {
            return Err("`name` is empty".into());
        }
        let kind = Kind::parse(kind)?;
        let k = kind.name();
        let threshold_ms = match threshold_s {
            Some(t) if !(t.is_finite() && (0.0..=1e9).contains(&t)) => {
                return Err(format!("threshold_s {t} is not a number of seconds >= 0"));
            }
            Some(_) if matches!(kind, Kind::AbandonRate | Kind::Asa) => {
                return Err(format!(
                    "threshold_s does not apply to kind {k} (its limit is `target`)"
                ));
            }
            Some(t) => Some((t * 1000.0).round() as i64),
            None if !kind.interval_level() => {
                return Err(format!(
                    "kind {k} needs threshold_s (a breach is {} > threshold_s)",
                    kind.column()
                ));
            }
            None => None,
        };
        match (kind, target) {
            (Kind::ServiceLevel | Kind::AbandonRate, None) => {
                return Err(format!(
                    "kind {k} needs `target`, a fraction from 0 to 1 (e.g. 0.80)"
                ));
            }
            (Kind::ServiceLevel | Kind::AbandonRate, Some(t)) if !(0.0..=1.0).contains(&t) => {
                return Err(format!(
                    "target {t} is out of range: a {k} target is a fraction from 0 to 1"
                ));
            }
            (Kind::Asa, None) => return Err("kind asa needs `target`, in seconds".into()),
            (Kind::Asa, Some(t)) if !(t.is_finite() && t > 0.0) => {
                return Err(format!(
                    "target {t} is out of range: an asa target is seconds > 0"
                ));
            }
            (_, Some(_)) if !kind.interval_level() => {
                return Err(format!(
                    "`target` does not apply to kind {k} (its limit is threshold_s)"
                ));
            }
            _ => {}
        }
        let interval = match interval {
            Some(_) if !kind.interval_level() => {
                return Err(format!("`interval` does not apply to kind {k}"));
            }
            Some(i) => Interval::parse(i).map_err(|e| e.to_string())?,
            None => Interval::M30,
        };
        Ok(Rule {
            name: name.trim().to_string(),
            kind,
            scope,
            threshold_ms,
            target,
            interval,
        })
    }

    fn target(&self) -> f64 {
        self.target.unwrap_or_default()
    }
}

/// The interval report's columns.
pub const INTERVAL_COLUMNS: [&str; 9] = [
    "rule",
    "scope",
    "queue",
    "interval_start",
    "offered",
    "measured",
    "target",
    "met",
    "shortfall",
];

/// The agent report's columns.
pub const AGENT_COLUMNS: [&str; 7] = [
    "rule",
    "agent_id",
    "handled",
    "breaches",
    "breach_rate",
    "rank",
    "missed_interval_share",
];

/// The interaction report's columns.
pub const INTERACTION_COLUMNS: [&str; 8] = [
    "rule",
    "interaction_id",
    "agent_id",
    "queue",
    "arrived_at",
    "measured_s",
    "threshold_s",
    "over_by_s",
];

/// The KPI query behind a rule: its scope, interval and threshold, no FCR.
fn rule_params(
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
fn scope_filter(source: &Source, scope: &Scope) -> Result<Option<Expr>, Error> {
    let queues = match &scope.queue {
        Some(q) if q.contains(['*', '?']) => source.distinct_strings("queue")?,
        Some(q) => vec![q.clone()],
        None => Vec::new(),
    };
    Ok(scope.expr(&queues))
}

/// One judged queue × interval of an interval-level rule.
struct Judged {
    queue: Option<String>,
    start: Option<String>,
    offered: i64,
    measured: f64,
    met: bool,
    shortfall: f64,
}

/// Every queue × interval of one interval-level rule, judged (intervals
/// with nothing to measure are left out: no offered contacts, or only
/// short abandons).
fn judged_intervals(source: &Source, base: &KpiParams, rule: &Rule) -> Result<Vec<Judged>, Error> {
    let p = rule_params(source, base, rule, vec![Group::Queue, Group::Interval])?;
    let df = kpi(source, &p)?;
    let queues = strings(&df, "queue")?;
    let starts = strings(&df, "interval_start")?;
    let offered = numbers::<Int64Type>(&df, "offered")?;
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
fn judge(kind: Kind, measured: f64, target: f64) -> (bool, f64) {
    let gap = if kind == Kind::ServiceLevel {
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
    source: &Source,
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
        Column::new("rule".into(), rows.iter().map(rule_of).collect::<Vec<_>>()),
        Column::new(
            "scope".into(),
            rows.iter()
                .map(|(o, _)| rules[*o].scope.describe())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "queue".into(),
            rows.iter()
                .map(|(_, r)| r.queue.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "interval_start".into(),
            rows.iter()
                .map(|(_, r)| r.start.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "offered".into(),
            rows.iter().map(|(_, r)| r.offered).collect::<Vec<_>>(),
        ),
        Column::new(
            "measured".into(),
            rows.iter().map(|(_, r)| r.measured).collect::<Vec<_>>(),
        ),
        Column::new(
            "target".into(),
            rows.iter()
                .map(|(o, _)| rules[*o].target())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "met".into(),
            rows.iter().map(|(_, r)| r.met).collect::<Vec<_>>(),
        ),
        Column::new(
            "shortfall".into(),
            rows.iter().map(|(_, r)| r.shortfall).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(rows.len(), columns).map_err(Error::polars("building the interval report"))
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
pub fn agent_report(source: &Source, base: &KpiParams, rules: &[Rule]) -> Result<DataFrame, Error> {
    #[derive(Default)]
    struct Acc {
        handled: i64,
        breaches: i64,
        intervals: i64,
        missed: i64,
    }
    struct Row {
        rule: usize,
        agent: String,
        acc: Acc,
    }
    let mut out: Vec<Row> = Vec::new();
    let mut per_rule: Vec<HashMap<String, Acc>> = rules.iter().map(|_| HashMap::new()).collect();
    // Every per-contact rule in one pass: per agent, the handled contacts in
    // each rule's scope and those over its threshold.
    let per_contact: Vec<usize> = (0..rules.len())
        .filter(|&i| !rules[i].kind.interval_level())
        .collect();
    if !per_contact.is_empty() {
        let mut p = base.clone();
        p.by = vec![Group::Agent];
        p.fcr = false;
        p.filter = None;
        p.counts = Vec::new();
        for &i in &per_contact {
            let rule = &rules[i];
            let scope = scope_filter(source, &rule.scope)?.unwrap_or(lit(true));
            let threshold = rule.threshold_ms.unwrap_or_default();
            let over = col(rule.kind.column()).gt(lit(threshold));
            p.counts.push((format!("__handled_{i}"), scope.clone()));
            p.counts.push((format!("__breaches_{i}"), scope.and(over)));
        }
        let df = kpi(source, &p)?;
        let agents = strings(&df, "agent_id")?;
        for &i in &per_contact {
            let handled = numbers::<Int64Type>(&df, &format!("__handled_{i}"))?;
            let breaches = numbers::<Int64Type>(&df, &format!("__breaches_{i}"))?;
            for ((agent, handled), breaches) in agents.iter().zip(handled).zip(breaches) {
                let Some(agent) = agent else { continue };
                let acc = per_rule[i].entry(agent.clone()).or_default();
                acc.handled += handled.unwrap_or_default();
                acc.breaches += breaches.unwrap_or_default();
            }
        }
    }
    for (order, rule) in rules.iter().enumerate() {
        let mut per_agent = std::mem::take(&mut per_rule[order]);
        if rule.kind.interval_level() {
            let missed: HashSet<(Option<String>, Option<String>)> =
                judged_intervals(source, base, rule)?
                    .into_iter()
                    .filter(|j| !j.met)
                    .map(|j| (j.queue, j.start))
                    .collect();
            let p = rule_params(
                source,
                base,
                rule,
                vec![Group::Agent, Group::Queue, Group::Interval],
            )?;
            let df = kpi(source, &p)?;
            let agents = strings(&df, "agent_id")?;
            let queues = strings(&df, "queue")?;
            let starts = strings(&df, "interval_start")?;
            let handled = numbers::<Int64Type>(&df, "handled")?;
            for (((agent, queue), start), handled) in
                agents.into_iter().zip(queues).zip(starts).zip(handled)
            {
                let Some(agent) = agent else { continue };
                let handled = handled.unwrap_or_default();
                let acc = per_agent.entry(agent).or_default();
                acc.handled += handled;
                acc.intervals += 1;
                if missed.contains(&(queue, start)) {
                    acc.missed += 1;
                    acc.breaches += handled;
                }
            }
        }
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
        out.extend(rows);
    }
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
            "rule".into(),
            out.iter()
                .map(|r| rules[r.rule].name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent_id".into(),
            out.iter().map(|r| r.agent.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "handled".into(),
            out.iter().map(|r| r.acc.handled).collect::<Vec<_>>(),
        ),
        Column::new(
            "breaches".into(),
            out.iter().map(|r| r.acc.breaches).collect::<Vec<_>>(),
        ),
        Column::new(
            "breach_rate".into(),
            out.iter()
                .map(|r| r.acc.breaches as f64 / r.acc.handled as f64)
                .collect::<Vec<_>>(),
        ),
        Column::new("rank".into(), ranks),
        Column::new(
            "missed_interval_share".into(),
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

/// `--level interaction`: the contacts that breached an interaction-level
/// rule, worst first within each rule (policy order); `agent` keeps one
/// agent's, `top` the worst `top` of each rule. `arrived_at` is local time
/// in the site zone.
pub fn interaction_report(
    source: &Source,
    base: &KpiParams,
    rules: &[Rule],
    agent: Option<&str>,
    top: Option<usize>,
) -> Result<DataFrame, Error> {
    let (lo, hi) = base.bounds()?;
    let files = source.files_between(lo, hi);
    let mut frames: Vec<DataFrame> = Vec::new();
    for rule in rules.iter().filter(|r| !r.kind.interval_level()) {
        if files.is_empty() {
            break;
        }
        let threshold = rule.threshold_ms.unwrap_or_default();
        let m = col(rule.kind.column());
        let mut lf = source.scan_range(&files, lo, hi)?;
        if let Some(f) = scope_filter(source, &rule.scope)? {
            lf = lf.filter(f);
        }
        let subject = if rule.kind == Kind::Wait {
            col("direction").eq(lit("inbound"))
        } else {
            col("answered_at").is_not_null()
        };
        lf = lf.filter(subject.and(m.clone().gt(lit(threshold))));
        if let Some(a) = agent {
            lf = lf.filter(col("agent_id").eq(lit(a.to_string())));
        }
        let mut lf = lf
            .select([
                col("interaction_id"),
                col("agent_id").cast(DataType::String),
                col("queue").cast(DataType::String),
                col(T),
                m.alias("__m"),
            ])
            .sort(
                ["__m", T, "interaction_id"],
                SortMultipleOptions::new().with_order_descending_multi([true, false, false]),
            );
        if let Some(n) = top {
            lf = lf.limit(n as IdxSize);
        }
        let df = source.collect(lf, &files)?;
        let times = numbers::<Int64Type>(&df, T)?;
        let arrived: Vec<Option<String>> = times
            .iter()
            .map(|t| t.map(|t| base.zone.format_instant(t)))
            .collect();
        let secs = |v: Option<i64>| v.map(|v| v as f64 / 1000.0);
        let measured: Vec<Option<f64>> = numbers::<Int64Type>(&df, "__m")?
            .into_iter()
            .map(secs)
            .collect();
        let over: Vec<Option<f64>> = numbers::<Int64Type>(&df, "__m")?
            .into_iter()
            .map(|v| secs(v.map(|v| v - threshold)))
            .collect();
        let n = df.height();
        let err = Error::polars("building the interaction report");
        let frame = DataFrame::new(
            n,
            vec![
                Column::new("rule".into(), vec![rule.name.as_str(); n]),
                df.column("interaction_id").map_err(err)?.clone(),
                df.column("agent_id")
                    .map_err(Error::polars("agent_id"))?
                    .clone(),
                df.column("queue").map_err(Error::polars("queue"))?.clone(),
                Column::new("arrived_at".into(), arrived),
                Column::new("measured_s".into(), measured),
                Column::new("threshold_s".into(), vec![threshold as f64 / 1000.0; n]),
                Column::new("over_by_s".into(), over),
            ],
        )
        .map_err(Error::polars("building the interaction report"))?;
        frames.push(frame);
    }
    let mut out = match frames.first() {
        Some(f) => f.clone(),
        None => empty(&INTERACTION_COLUMNS)?,
    };
    for f in frames.iter().skip(1) {
        out.vstack_mut(f)
            .map_err(Error::polars("building the interaction report"))?;
    }
    Ok(out)
}

/// A frame with these columns and no rows.
fn empty(names: &[&str]) -> Result<DataFrame, Error> {
    let cols = names
        .iter()
        .map(|n| {
            let dtype = match *n {
                "measured_s" | "threshold_s" | "over_by_s" => DataType::Float64,
                _ => DataType::String,
            };
            Column::new_empty((*n).into(), &dtype)
        })
        .collect();
    DataFrame::new(0, cols).map_err(Error::polars("building an empty report"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("sales-*", "sales-east"));
        assert!(glob_match("sales-*", "sales-"));
        assert!(!glob_match("sales-*", "support"));
        assert!(glob_match("*-east", "sales-east"));
        assert!(glob_match("s?les*st", "sales-east"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("*a*b", "xxaxxbxx"));
        assert!(glob_match("billing", "billing"));
        assert!(!glob_match("billing", "Billing"));
    }

    #[test]
    fn rules_are_checked() {
        let ok = |kind, t: Option<f64>, target: Option<f64>| {
            Rule::new("r", kind, Scope::default(), t, target, None)
        };
        assert!(ok("service_level", Some(20.0), Some(0.8)).is_ok());
        assert!(ok("service_level", None, Some(0.8)).is_ok());
        assert!(ok("acw", Some(120.0), None).is_ok());
        let msg = |r: Result<Rule, String>| r.expect_err("should be refused");
        assert!(msg(ok("speed", None, None)).contains("unknown kind \"speed\""));
        assert!(msg(ok("service_level", None, None)).contains("needs `target`"));
        assert!(msg(ok("service_level", None, Some(1.5))).contains("out of range"));
        assert!(msg(ok("abandon_rate", Some(5.0), Some(0.05))).contains("does not apply"));
        assert!(msg(ok("acw", None, None)).contains("needs threshold_s"));
        assert!(msg(ok("acw", Some(-1.0), None)).contains("not a number of seconds"));
        assert!(msg(ok("handle", Some(9.0), Some(0.5))).contains("does not apply"));
        assert!(msg(ok("asa", None, Some(0.0))).contains("out of range"));
        let interval = Rule::new("r", "wait", Scope::default(), Some(1.0), None, Some("1h"));
        assert!(msg(interval).contains("`interval` does not apply"));
        let bad = Rule::new("r", "asa", Scope::default(), None, Some(30.0), Some("7m"));
        assert!(bad.is_err());
    }

    #[test]
    fn judging() {
        assert_eq!(judge(Kind::ServiceLevel, 0.8, 0.8), (true, 0.0));
        let (met, short) = judge(Kind::ServiceLevel, 0.5, 0.8);
        assert!(!met && (short - 0.3).abs() < 1e-12);
        assert_eq!(judge(Kind::AbandonRate, 0.05, 0.05), (true, 0.0));
        assert_eq!(judge(Kind::Asa, 45.0, 30.0), (false, 15.0));
    }
}
