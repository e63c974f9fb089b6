//! `cxpipe report`: one self-contained HTML page with the charts and tables
//! an operations review needs (SPEC §12). Chart.js (MIT, vendored in
//! `assets/vendor/`) and the page's own script are inlined; the page makes
//! no network request (its Content-Security-Policy forbids them).

use std::path::{Path, PathBuf};

use anyhow::Context;
use cxpipe_analytics::sla::{self, Kind, Rule};
use cxpipe_analytics::table::{self, Format};
use cxpipe_analytics::time::format_day;
use cxpipe_analytics::turnover::{self, AttritionBy, TurnoverParams};
use cxpipe_analytics::{DataFrame, Group, Interval, KpiParams, Source, kpi};

use crate::cmd::kpi::{open_source, write_atomic};
use crate::config::{Config, UsageError, load_policy};

const TEMPLATE: &str = include_str!("../../assets/report.html");
const APP_JS: &str = include_str!("../../assets/report.js");
const CHART_JS: &str = include_str!("../../assets/vendor/chart-4.6.1.umd.min.js");

const EXAMPLES: &str = "\
Examples:
  cxpipe report dataset --html review.html
  cxpipe report dataset --html october.html --from 2026-10-01 --to 2026-10-31 --tz Europe/Berlin --policy sla.toml

The page shows: service level by interval against the first service_level
rule's target; volume and AHT by day; the agent leaderboard; SLA breaches by
agent and rule (rules from --policy, else [[sla]] in cxpipe.toml); the
turnover risk list; attrition by team and month. Tables sort by a click on a
heading. It opens offline in any browser and prints.";

/// Write the HTML report.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// The HTML file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// SLA policy file (default: [[sla]] in cxpipe.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// First local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Site time zone (IANA name); default [time] zone, else UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Config file (default ./cxpipe.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What a report covers.
pub struct Request<'a> {
    /// The dataset's folder, named in the header.
    pub dataset: &'a Path,
    /// Zone, dates, service-level settings and interval (from config).
    pub base: KpiParams,
    /// SLA rules and where they came from.
    pub rules: Vec<Rule>,
    pub policy_name: Option<String>,
    /// Turnover settings (gap, weights).
    pub turnover: TurnoverParams,
}

/// Runs the queries and fills the page.
pub fn render(source: &Source, req: &Request) -> anyhow::Result<String> {
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
    let mut tp = req.turnover.clone();
    tp.zone = req.base.zone.clone();
    let activity = turnover::activity(source, &tp.zone)?;
    let (as_of, risk, attrition) = match turnover::signals(&activity, &tp) {
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
            (None, None, None)
        }
    };
    let target = req.rules.iter().find(|r| r.kind == Kind::ServiceLevel);

    let p = &req.base;
    let range = crate::cmd::kpi::date_range(p, source);
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
    let data = format!(
        "{{\"meta\": {{\"sl_variant\": {}, \"sl_threshold_s\": {threshold_s}, \"interval\": {}}}, \
         \"sl_target\": {}, \"sl_target_rule\": {}, \"sla_policy\": {}, \
         \"sl_by_interval\": {}, \"by_day\": {}, \"agents\": {}, \"sla_agents\": {}, \
         \"turnover\": {}, \"attrition\": {}}}",
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
        json(sla_agents.as_ref())?,
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
    Ok(page)
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

/// Builds the request from flags and config.
pub fn request<'a>(
    dataset: &'a Path,
    config: &Config,
    policy: Option<&Path>,
    tz: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<Request<'a>> {
    let mut base = KpiParams::new(vec![Group::Interval]);
    crate::cmd::kpi::QueryArgs {
        from: from.map(String::from),
        to: to.map(String::from),
        tz: tz.map(String::from),
        sl_variant: None,
        short_abandon: None,
        format: None,
        out: None,
        config: None,
    }
    .apply(&mut base, config)?;
    if let Some(t) = config.kpi.threshold_s {
        base.threshold_ms = crate::config::seconds_ms(t).map_err(UsageError)?;
    }
    if let Some(i) = config.kpi.interval.as_deref() {
        base.interval = Interval::parse(i)?;
    }
    if let Some(w) = config.kpi.fcr_window.as_deref() {
        base.fcr_window_ms = crate::config::parse_duration_ms(w).map_err(UsageError)?;
    }
    base.shifts = config.shifts()?;
    let (rules, policy_name) = match policy {
        Some(p) => (load_policy(p)?, Some(p.display().to_string())),
        None if !config.sla.is_empty() => (
            config.sla.clone(),
            Some(
                config
                    .path
                    .as_ref()
                    .map_or("cxpipe.toml".to_string(), |p| p.display().to_string()),
            ),
        ),
        None => (Vec::new(), None),
    };
    let mut turnover = TurnoverParams::new();
    if let Some(g) = config.turnover.gap_days {
        turnover.gap_days = g;
    }
    turnover.weights = config.turnover.weights()?;
    Ok(Request {
        dataset,
        base,
        rules,
        policy_name,
        turnover,
    })
}

/// Writes the report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let req = request(
        &args.dataset,
        &config,
        args.policy.as_deref(),
        args.tz.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    let (_lock, source) = open_source(&args.dataset)?;
    let started = std::time::Instant::now();
    let page = render(&source, &req)?;
    write_atomic(&args.html, |w| Ok(w.write_all(page.as_bytes())?))
        .context("writing the HTML report")?;
    tracing::info!(
        "wrote {} ({} KB) in {:.1} s",
        args.html.display(),
        page.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
