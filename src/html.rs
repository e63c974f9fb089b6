//! The HTML report (SPEC §12): one self-contained page with the charts and
//! tables an operations review needs. Chart.js (MIT, vendored in
//! `assets/vendor/`) and the page's own script are inlined; the page makes
//! no network request (its Content-Security-Policy forbids them).

use cxpipe_analytics::sla::{self, Kind};
use cxpipe_analytics::table::{self, Format};
use cxpipe_analytics::time::format_day;
use cxpipe_analytics::turnover::{self, AttritionBy};
use cxpipe_analytics::{DataFrame, Group, Source, kpi};

use crate::settings::PageRequest;

const TEMPLATE: &str = include_str!("../assets/report.html");
const APP_JS: &str = include_str!("../assets/report.js");
const CHART_JS: &str = include_str!("../assets/vendor/chart-4.6.1.umd.min.js");

/// A rendered page and what it shows.
pub struct Page {
    /// The whole HTML file.
    pub html: String,
    /// The sections with data, in page order.
    pub sections: Vec<&'static str>,
    /// The sections left empty, and why.
    pub empty: Vec<(&'static str, String)>,
}

impl Page {
    /// One line for a log: size, the sections shown and those left empty.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} KB; {} of {} sections: {}",
            self.html.len().div_ceil(1024),
            self.sections.len(),
            self.sections.len() + self.empty.len(),
            self.sections.join(", ")
        );
        for (name, why) in &self.empty {
            s.push_str(&format!("; {name} empty: {why}"));
        }
        s
    }
}

/// Runs the queries and fills the page.
pub fn render(source: &Source, req: &PageRequest) -> anyhow::Result<Page> {
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
    let mut turnover_error = None;
    let (as_of, risk, attrition) = match turnover::signals(&activity, tp) {
        Ok((as_of, rows)) => {
            let attrition = turnover::attrition(&activity, &rows, as_of, AttritionBy::Team)?;
            (
                Some(as_of),
                Some(turnover::signals_frame(&rows)?),
                Some(attrition),
            )
        }
        Err(e) => {
            tracing::warn!("turnover section left empty: {e}");
            turnover_error = Some(e.to_string());
            (None, None, None)
        }
    };
    let mut sections = Vec::new();
    let mut empty = Vec::new();
    let mut section =
        |name: &'static str, df: Option<&DataFrame>, why_none: Option<String>| match (df, why_none)
        {
            (Some(df), _) if df.height() > 0 => sections.push(name),
            (Some(_), _) => empty.push((name, "no rows".to_string())),
            (None, Some(why)) => empty.push((name, why)),
            (None, None) => empty.push((name, "no rows".to_string())),
        };
    section("service level by interval", Some(&sl), None);
    section("volume and AHT by day", Some(&by_day), None);
    section("agent leaderboard", Some(&agents), None);
    section(
        "SLA breaches by agent",
        sla_agents.as_ref(),
        Some("no [[sla]] rules (--policy or cxpipe.toml)".to_string()),
    );
    section("turnover risk", risk.as_ref(), turnover_error.clone());
    section("attrition by team", attrition.as_ref(), turnover_error);
    let target = req.rules.iter().find(|r| r.kind == Kind::ServiceLevel);

    let p = &req.base;
    let range = crate::output::date_range(p, source);
    let threshold_s = p.threshold_ms as f64 / 1000.0;
    let meta = [
        ("Dataset", req.dataset.display().to_string()),
        ("Time range", range),
        ("Zone", p.zone.name().to_string()),
        (
            "Service level",
            format!(
                "{} at {threshold_s} s (short abandon < {} s)",
                p.sl_variant.name(),
                p.short_abandon_ms as f64 / 1000.0
            ),
        ),
        (
            "FCR window",
            format!("{} h", p.fcr_window_ms as f64 / 3_600_000.0),
        ),
        (
            "SLA policy",
            req.policy_name
                .clone()
                .unwrap_or_else(|| "none".to_string()),
        ),
        ("Turnover as of", as_of.map_or("–".to_string(), format_day)),
    ];
    let meta_html: String = meta
        .iter()
        .map(|(k, v)| format!("<div><dt>{}</dt><dd>{}</dd></div>", escape(k), escape(v)))
        .collect();
    let json = |df: Option<&DataFrame>| -> anyhow::Result<String> {
        let Some(df) = df else {
            return Ok("[]".to_string());
        };
        let mut out = Vec::new();
        table::write(&mut df.clone(), Format::Json, None, &mut out)?;
        Ok(String::from_utf8(out)?)
    };
    // The page carries the top of the big tables (a browser lays out
    // tens of thousands of rows slowly); the full ones are `cxpipe kpi`,
    // `sla` and `turnover`. The counts say how many there are.
    let counts = format!(
        "{{\"agents\": {}, \"sla_agents\": {}, \"turnover\": {}}}",
        agents.height(),
        sla_agents.as_ref().map_or(0, DataFrame::height),
        risk.as_ref().map_or(0, DataFrame::height)
    );
    let rows = match req.table_rows {
        0 => usize::MAX,
        n => n,
    };
    let per_rule = (rows / 5).max(1);
    let agents = top_rows(&agents, |_, _| true, "handled", rows)?;
    let (sla_table, sla_chart) = match &sla_agents {
        Some(df) => {
            let worst = worst_agents(df, CHART_AGENTS)?;
            let table = top_rows(
                df,
                |_, rank| rank <= i64::try_from(per_rule).unwrap_or(i64::MAX),
                "",
                usize::MAX,
            )?;
            let chart = filter_agents(df, &worst)?;
            (Some(table), Some(chart))
        }
        None => (None, None),
    };
    let risk = match &risk {
        Some(df) => Some(top_risk(df, rows)?),
        None => None,
    };
    let data = format!(
        "{{\"meta\": {{\"sl_variant\": {}, \"sl_threshold_s\": {threshold_s}, \"interval\": {}}}, \
         \"sl_target\": {}, \"sl_target_rule\": {}, \"sla_policy\": {}, \"counts\": {counts}, \
         \"sl_by_interval\": {}, \"by_day\": {}, \"agents\": {}, \"sla_agents\": {}, \
         \"sla_chart\": {}, \"turnover\": {}, \"attrition\": {}}}",
        js_string(p.sl_variant.name()),
        js_string(p.interval.name()),
        target
            .and_then(|r| r.target)
            .map_or("null".to_string(), |t| t.to_string()),
        target.map_or("null".to_string(), |r| js_string(&r.name)),
        req.policy_name
            .as_deref()
            .map_or("null".to_string(), js_string),
        json(Some(&sl))?,
        json(Some(&by_day))?,
        json(Some(&agents))?,
        json(sla_table.as_ref())?,
        json(sla_chart.as_ref())?,
        json(risk.as_ref())?,
        json(attrition.as_ref())?,
    );
    let title = format!(
        "cxpipe report: {}",
        req.dataset.file_name().map_or_else(
            || req.dataset.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    let footer = format!(
        "Written by cxpipe {} at {} UTC. Charts: Chart.js 4.6.1 (MIT License), inlined.",
        env!("CARGO_PKG_VERSION"),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M")
    );
    // Placeholders are filled last to first, so no inserted text is searched.
    let page = TEMPLATE
        .replacen("{{APP}}", APP_JS, 1)
        .replacen("{{DATA}}", &script_safe(&data), 1)
        .replacen("{{FOOTER}}", &escape(&footer), 1)
        .replacen("{{META}}", &meta_html, 1)
        .replacen("{{CHARTJS}}", CHART_JS, 1)
        .replace("{{TITLE}}", &escape(&title));
    Ok(Page {
        html: page,
        sections,
        empty,
    })
}

/// Agents in the SLA breach chart.
const CHART_AGENTS: usize = 15;

/// The first `n` rows of `df` sorted by `by` (descending; `""` keeps the
/// order) among those where `keep(row, rank)` holds (`rank` is the `rank`
/// column, or 0).
fn top_rows(
    df: &DataFrame,
    keep: impl Fn(usize, i64) -> bool,
    by: &str,
    n: usize,
) -> anyhow::Result<DataFrame> {
    let ranks: Vec<i64> = match df.column("rank") {
        Ok(c) => c.i64()?.iter().map(|v| v.unwrap_or(0)).collect(),
        Err(_) => vec![0; df.height()],
    };
    let mask: Vec<bool> = (0..df.height()).map(|i| keep(i, ranks[i])).collect();
    let mut out = cxpipe_analytics::filter_rows(df, mask)?;
    if !by.is_empty() {
        out = cxpipe_analytics::sort_descending(&out, by)?;
    }
    Ok(out.head(Some(n)))
}

/// The `n` agents with the most breaches over all rules.
fn worst_agents(df: &DataFrame, n: usize) -> anyhow::Result<Vec<String>> {
    let mut totals: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let agents = df.column("agent_id")?.str()?;
    let breaches = df.column("breaches")?.i64()?;
    for (a, b) in agents.iter().zip(breaches.iter()) {
        if let (Some(a), Some(b)) = (a, b) {
            *totals.entry(a.to_string()).or_default() += b;
        }
    }
    let mut list: Vec<(String, i64)> = totals.into_iter().filter(|(_, b)| *b > 0).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(list.into_iter().take(n).map(|(a, _)| a).collect())
}

/// The rows of these agents.
fn filter_agents(df: &DataFrame, agents: &[String]) -> anyhow::Result<DataFrame> {
    let ids = df.column("agent_id")?.str()?;
    let mask: Vec<bool> = ids
        .iter()
        .map(|a| a.is_some_and(|a| agents.iter().any(|x| x == a)))
        .collect();
    Ok(cxpipe_analytics::filter_rows(df, mask)?)
}

/// The `n` highest-risk agents still employed, then every departed one.
fn top_risk(df: &DataFrame, n: usize) -> anyhow::Result<DataFrame> {
    let status = df.column("status")?.str()?;
    let mut employed = 0;
    let mask: Vec<bool> = status
        .iter()
        .map(|s| {
            if s == Some("departed") {
                true
            } else {
                employed += 1;
                employed <= n
            }
        })
        .collect();
    Ok(cxpipe_analytics::filter_rows(df, mask)?)
}

/// HTML text escaping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JSON string literal.
fn js_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// JSON inside a `<script>` element must not contain `</`.
fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/")
}
