//! What the HTML report (`cxpipe report`, SPEC §12) shows, computed: the
//! queries behind each section, cut to the rows a browser lays out quickly,
//! and the facts of the page's header. The binary only fills its template:
//! [`PageData`] serialises to the page's JSON data block.

use cxpipe_model::col;
use polars::prelude::*;
use serde::{Serialize, Serializer};

use crate::names::{BREACHES, HANDLED, RANK, STATUS};
use crate::scan::Partitions;
use crate::sla::{self, Rule, RuleKind};
use crate::table::Table;
use crate::time::format_day;
use crate::turnover::{self, AttritionBy, TurnoverParams};
use crate::{Error, Group, KpiParams, kpi, sort_descending};

/// Agents in the SLA breach chart.
const CHART_AGENTS: usize = 15;

/// What a report covers.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Zone, dates, service-level settings and interval.
    pub base: KpiParams,
    /// The SLA rules (empty: the SLA section is left empty).
    pub rules: Vec<Rule>,
    /// Where the rules came from (a file name), shown in the header.
    pub policy_name: Option<String>,
    /// Turnover settings (zone, gap, weights).
    pub turnover: TurnoverParams,
    /// Rows of the leaderboard and risk tables (the top ones; a fifth of it
    /// per rule in the SLA table); 0 = all.
    pub table_rows: usize,
}

/// The page's settings line of its data block.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// The service-level variant's name.
    pub sl_variant: &'static str,
    /// The service-level threshold, seconds.
    pub sl_threshold_s: f64,
    /// The interval of the service-level chart (`30m`, …).
    pub interval: &'static str,
}

/// How many rows the full tables have (the page carries the top ones).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Counts {
    /// Rows of the agent leaderboard.
    pub agents: usize,
    /// Rows of the SLA agent report.
    pub sla_agents: usize,
    /// Rows of the turnover signals.
    pub turnover: usize,
}

/// Everything the page shows. Serialised, it is the page's JSON data block
/// (`meta` … `attrition`, tables as arrays of row objects rounded as the
/// JSON output of [`crate::table::write`]); the header facts and the
/// section lists are for the page's text and the log, not serialised.
#[derive(Debug, Clone, Serialize)]
pub struct PageData {
    /// Service-level settings.
    pub meta: Meta,
    /// The target of the first `service_level` rule, if any.
    pub sl_target: Option<f64>,
    /// That rule's name.
    pub sl_target_rule: Option<String>,
    /// Where the rules came from.
    pub sla_policy: Option<String>,
    /// The sizes of the full tables.
    pub counts: Counts,
    /// KPIs by interval.
    pub sl_by_interval: Table,
    /// KPIs by day.
    pub by_day: Table,
    /// The top agents by handled contacts.
    pub agents: Table,
    /// The SLA agent report, the worst agents of each rule.
    #[serde(serialize_with = "rows_or_empty")]
    pub sla_agents: Option<Table>,
    /// The SLA agent report's rows of the agents with the most breaches.
    #[serde(serialize_with = "rows_or_empty")]
    pub sla_chart: Option<Table>,
    /// The highest-risk agents still employed, then every departed one.
    #[serde(serialize_with = "rows_or_empty")]
    pub turnover: Option<Table>,
    /// Attrition by team and month.
    #[serde(serialize_with = "rows_or_empty")]
    pub attrition: Option<Table>,
    /// The day turnover was judged as of (none when it could not be).
    #[serde(skip)]
    pub as_of: Option<i64>,
    /// The time range in words ([`time_range`]).
    #[serde(skip)]
    pub time_range: String,
    /// The sections with data, in page order.
    #[serde(skip)]
    pub sections: Vec<&'static str>,
    /// The sections left empty, and why.
    #[serde(skip)]
    pub empty: Vec<(&'static str, String)>,
}

impl PageData {
    /// The header's "Turnover as of" text (`–` when there is none).
    pub fn as_of_text(&self) -> String {
        self.as_of.map_or("–".to_string(), format_day)
    }
}

/// A missing table is an empty array.
fn rows_or_empty<S: Serializer>(t: &Option<Table>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => t.serialize(s),
        None => s.collect_seq(std::iter::empty::<()>()),
    }
}

/// The requested days in words: `2026-10-01 to 2026-10-31`, `from …`,
/// `up to …`, or the dataset's partitions (`all data (… to … UTC)`).
pub fn time_range(p: &KpiParams, source: &Partitions) -> String {
    match (p.from, p.to) {
        (Some(f), Some(t)) => format!("{} to {}", format_day(f), format_day(t)),
        (Some(f), None) => format!("from {}", format_day(f)),
        (None, Some(t)) => format!("up to {}", format_day(t)),
        (None, None) => match source.day_range() {
            Some((a, b)) => format!("all data ({} to {} UTC)", format_day(a), format_day(b)),
            None => "all data (none yet)".to_string(),
        },
    }
}

/// The full tables behind the page, before they are cut.
struct Full {
    sl: DataFrame,
    by_day: DataFrame,
    agents: DataFrame,
    sla_agents: Option<DataFrame>,
    as_of: Option<i64>,
    risk: Option<DataFrame>,
    attrition: Option<DataFrame>,
    /// Why the turnover sections are empty, when they are.
    turnover_error: Option<String>,
}

/// Runs the queries and gathers what the page shows.
pub fn page_data(source: &Partitions, req: &PageRequest) -> Result<PageData, Error> {
    let full = queries(source, req)?;
    let (sections, empty) = sections(&full, req);
    let p = &req.base;
    let target = req.rules.iter().find(|r| r.kind == RuleKind::ServiceLevel);
    let rows = match req.table_rows {
        0 => usize::MAX,
        n => n,
    };
    let per_rule = i64::try_from((rows / 5).max(1)).unwrap_or(i64::MAX);
    let (sla_agents, sla_chart) = match &full.sla_agents {
        Some(df) => {
            let table = top_rows(df, |rank| rank <= per_rule, None, usize::MAX)?;
            let chart = filter_agents(df, &worst_agents(df, CHART_AGENTS)?)?;
            (Some(table.into()), Some(chart.into()))
        }
        None => (None, None),
    };
    Ok(PageData {
        meta: Meta {
            sl_variant: p.sl_variant.name(),
            sl_threshold_s: p.threshold_ms as f64 / 1000.0,
            interval: p.interval.name(),
        },
        sl_target: target.and_then(|r| r.target),
        sl_target_rule: target.map(|r| r.name.clone()),
        sla_policy: req.policy_name.clone(),
        counts: Counts {
            agents: full.agents.height(),
            sla_agents: full.sla_agents.as_ref().map_or(0, DataFrame::height),
            turnover: full.risk.as_ref().map_or(0, DataFrame::height),
        },
        agents: top_rows(&full.agents, |_| true, Some(HANDLED), rows)?.into(),
        sla_agents,
        sla_chart,
        turnover: full
            .risk
            .as_ref()
            .map(|df| top_risk(df, rows))
            .transpose()?,
        attrition: full.attrition.map(Table::from),
        sl_by_interval: full.sl.into(),
        by_day: full.by_day.into(),
        as_of: full.as_of,
        time_range: time_range(p, source),
        sections,
        empty,
    })
}

/// Every query of the page: KPIs by interval, by day and by agent, the SLA
/// agent report, the turnover signals and attrition by team.
fn queries(source: &Partitions, req: &PageRequest) -> Result<Full, Error> {
    let with = |by: Vec<Group>, fcr: bool| {
        let mut p = req.base.clone();
        p.by = by;
        p.fcr = fcr;
        p
    };
    let sl = kpi(source, &with(vec![Group::Interval], false))?;
    let by_day = kpi(source, &with(vec![Group::Day], false))?;
    let agents = kpi(source, &with(vec![Group::Agent], true))?;
    let sla_agents = if req.rules.is_empty() {
        None
    } else {
        Some(sla::agent_report(source, &req.base, &req.rules)?)
    };
    let tp = &req.turnover;
    let activity = turnover::activity(source, &tp.zone)?;
    let mut full = Full {
        sl,
        by_day,
        agents,
        sla_agents,
        as_of: None,
        risk: None,
        attrition: None,
        turnover_error: None,
    };
    // No activity to judge is a page with empty turnover sections, not a
    // failed report.
    match turnover::signals(&activity, tp) {
        Ok((as_of, rows)) => {
            full.attrition = Some(turnover::attrition(
                &activity,
                &rows,
                as_of,
                AttritionBy::Team,
            )?);
            full.risk = Some(turnover::signals_frame(&rows)?);
            full.as_of = Some(as_of);
        }
        Err(e) => full.turnover_error = Some(e.to_string()),
    }
    Ok(full)
}

/// The sections with rows, and those without and why, in page order.
#[allow(
    clippy::type_complexity,
    reason = "two plain lists, named by the caller"
)]
fn sections(full: &Full, req: &PageRequest) -> (Vec<&'static str>, Vec<(&'static str, String)>) {
    let mut shown = Vec::new();
    let mut empty = Vec::new();
    let no_rules =
        (req.rules.is_empty()).then(|| "no [[sla]] rules (--policy or cxpipe.toml)".to_string());
    let list: [(&'static str, Option<&DataFrame>, Option<String>); 6] = [
        ("service level by interval", Some(&full.sl), None),
        ("volume and AHT by day", Some(&full.by_day), None),
        ("agent leaderboard", Some(&full.agents), None),
        ("SLA breaches by agent", full.sla_agents.as_ref(), no_rules),
        (
            "turnover risk",
            full.risk.as_ref(),
            full.turnover_error.clone(),
        ),
        (
            "attrition by team",
            full.attrition.as_ref(),
            full.turnover_error.clone(),
        ),
    ];
    for (name, df, why_none) in list {
        match (df, why_none) {
            (Some(df), _) if df.height() > 0 => shown.push(name),
            (None, Some(why)) => empty.push((name, why)),
            _ => empty.push((name, "no rows".to_string())),
        }
    }
    (shown, empty)
}

/// The first `n` rows of `df` where `keep(rank)` holds (`rank` is the
/// `rank` column, or 0), sorted by `by` (largest first, ties in order).
fn top_rows(
    df: &DataFrame,
    keep: impl Fn(i64) -> bool,
    by: Option<&str>,
    n: usize,
) -> Result<DataFrame, Error> {
    let err = || Error::polars("choosing the rows of the page");
    let mask: Vec<bool> = match df.column(RANK) {
        Ok(c) => c
            .i64()
            .map_err(err())?
            .iter()
            .map(|v| keep(v.unwrap_or(0)))
            .collect(),
        Err(_) => vec![keep(0); df.height()],
    };
    let mut out = crate::filter_rows(df, mask)?;
    if let Some(by) = by {
        out = sort_descending(&out, by)?;
    }
    Ok(out.head(Some(n)))
}

/// The `n` agents with the most breaches over all rules (ties by id).
fn worst_agents(df: &DataFrame, n: usize) -> Result<Vec<String>, Error> {
    let err = || Error::polars("finding the agents with the most breaches");
    let agents = df
        .column(col::AGENT_ID)
        .and_then(|c| c.str())
        .map_err(err())?;
    let breaches = df.column(BREACHES).and_then(|c| c.i64()).map_err(err())?;
    let mut totals: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (a, b) in agents.iter().zip(breaches.iter()) {
        if let (Some(a), Some(b)) = (a, b) {
            *totals.entry(a).or_default() += b;
        }
    }
    let mut list: Vec<(&str, i64)> = totals.into_iter().filter(|(_, b)| *b > 0).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Ok(list
        .into_iter()
        .take(n)
        .map(|(a, _)| a.to_string())
        .collect())
}

/// The rows of these agents.
fn filter_agents(df: &DataFrame, agents: &[String]) -> Result<DataFrame, Error> {
    let ids = df
        .column(col::AGENT_ID)
        .and_then(|c| c.str())
        .map_err(Error::polars("selecting the chart's agents"))?;
    let mask: Vec<bool> = ids
        .iter()
        .map(|a| a.is_some_and(|a| agents.iter().any(|x| x == a)))
        .collect();
    crate::filter_rows(df, mask)
}

/// The `n` highest-risk agents still employed (the rows come sorted by
/// risk), then every departed one.
fn top_risk(df: &DataFrame, n: usize) -> Result<Table, Error> {
    let status = df
        .column(STATUS)
        .and_then(|c| c.str())
        .map_err(Error::polars("choosing the risk rows"))?;
    let mut employed = 0;
    let mask: Vec<bool> = status
        .iter()
        .map(|s| {
            if s == Some(turnover::DEPARTED) {
                true
            } else {
                employed += 1;
                employed <= n
            }
        })
        .collect();
    crate::filter_rows(df, mask).map(Table::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla_frame() -> DataFrame {
        // Two rules; agent b has 3 + 1 breaches, a 2 + 2, c 0 + 0.
        DataFrame::new_infer_height(vec![
            Column::new(
                crate::names::RULE.into(),
                ["r1", "r1", "r1", "r2", "r2", "r2"],
            ),
            Column::new(
                col::AGENT_ID.into(),
                [Some("b"), Some("a"), Some("c"), Some("a"), Some("b"), None],
            ),
            Column::new(BREACHES.into(), [3i64, 2, 0, 2, 1, 9]),
            Column::new(RANK.into(), [1i64, 2, 3, 1, 2, 3]),
        ])
        .expect("frame")
    }

    fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        let c = df.column(name).expect("column");
        let ca = c.str().expect("strings");
        ca.iter().map(|s| s.map(str::to_string)).collect()
    }

    #[test]
    fn the_worst_agents_add_up_their_breaches_over_the_rules() {
        let df = sla_frame();
        // a: 4, b: 4 (tie, by id), c: 0 (left out); the null agent is skipped.
        assert_eq!(worst_agents(&df, 15).expect("worst"), ["a", "b"]);
        assert_eq!(worst_agents(&df, 1).expect("worst"), ["a"]);
        let chart = filter_agents(&df, &["b".to_string()]).expect("chart");
        assert_eq!(chart.height(), 2);
    }

    #[test]
    fn top_rows_keeps_the_ranks_asked_for_then_sorts_and_cuts() {
        let df = sla_frame();
        let kept = top_rows(&df, |r| r <= 2, None, usize::MAX).expect("top");
        assert_eq!(
            strings(&kept, col::AGENT_ID),
            [Some("b"), Some("a"), Some("a"), Some("b")].map(|s| s.map(String::from))
        );
        let sorted = top_rows(&df, |_| true, Some(BREACHES), 2).expect("top");
        // 9 (the null agent), then 3 (b).
        assert_eq!(strings(&sorted, col::AGENT_ID), [None, Some("b".into())]);
    }

    #[test]
    fn the_risk_list_keeps_n_employed_and_every_departed() {
        let df = DataFrame::new_infer_height(vec![Column::new(
            STATUS.into(),
            ["at_risk", "active", "new", "departed", "departed"],
        )])
        .expect("frame");
        let t = top_risk(&df, 2).expect("risk");
        let statuses = strings(t.frame(), STATUS);
        let want = ["at_risk", "active", "departed", "departed"];
        assert_eq!(statuses, want.map(|s| Some(s.to_string())));
    }

    #[test]
    fn a_missing_table_is_an_empty_array() {
        #[derive(Serialize)]
        struct T {
            #[serde(serialize_with = "rows_or_empty")]
            t: Option<Table>,
        }
        assert_eq!(
            serde_json::to_string(&T { t: None }).expect("json"),
            r#"{"t":[]}"#
        );
    }

    #[test]
    fn the_data_block_has_the_page_keys_in_order_with_rounded_rows() {
        let day = DataFrame::new_infer_height(vec![
            Column::new(crate::names::DATE.into(), ["2026-10-01"]),
            Column::new(crate::names::AHT_S.into(), [Some(312.345_67)]),
            Column::new(crate::names::SERVICE_LEVEL.into(), [Some(0.812_345_678)]),
        ])
        .expect("frame");
        let empty = DataFrame::new(0, vec![]).expect("frame");
        let page = PageData {
            meta: Meta {
                sl_variant: "excl_short",
                sl_threshold_s: 20.0,
                interval: "30m",
            },
            sl_target: Some(0.8),
            sl_target_rule: Some("voice".into()),
            sla_policy: None,
            counts: Counts {
                agents: 3,
                sla_agents: 0,
                turnover: 0,
            },
            sl_by_interval: Table::from(empty.clone()),
            by_day: Table::from(day),
            agents: Table::from(empty),
            sla_agents: None,
            sla_chart: None,
            turnover: None,
            attrition: None,
            as_of: Some(0),
            time_range: "all data (none yet)".into(),
            sections: vec![],
            empty: vec![],
        };
        assert_eq!(page.as_of_text(), "1970-01-01");
        assert_eq!(
            serde_json::to_string(&page).expect("json"),
            concat!(
                r#"{"meta":{"sl_variant":"excl_short","sl_threshold_s":20.0,"interval":"30m"},"#,
                r#""sl_target":0.8,"sl_target_rule":"voice","sla_policy":null,"#,
                r#""counts":{"agents":3,"sla_agents":0,"turnover":0},"#,
                r#""sl_by_interval":[],"#,
                r#""by_day":[{"date":"2026-10-01","aht_s":312.346,"service_level":0.812346}],"#,
                r#""agents":[],"sla_agents":[],"sla_chart":[],"turnover":[],"attrition":[]}"#
            )
        );
    }
}
