//! Each agent's signals as of a day: activity windows, trends, departure,
//! risk and status.

use cxpipe_model::col;
use polars::prelude::*;

use super::activity::{Activity, AgentActivity, Day};
use super::params::{TurnoverParams, Weights};
use super::roster::RosterEntry;
use crate::Error;
use crate::names::*;
use crate::time::format_day;

/// One agent's signals as of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// The agent.
    pub agent_id: String,
    /// The roster's team, else the team of the agent's latest day.
    pub team: Option<String>,
    /// The site of the agent's latest day.
    pub site: Option<String>,
    /// First local day with a handled contact.
    pub first_seen: i64,
    /// Last local day with a handled contact, up to as-of.
    pub last_seen: i64,
    /// Days from the start of employment to the departure (or as-of).
    pub tenure_days: i64,
    /// Active days in the 28 days up to as-of.
    pub active_days_28: i64,
    /// Active days in the 28 days before those.
    pub active_days_prev_28: i64,
    /// Relative change of handled contacts, last 14 days vs the 14 before.
    pub handled_trend: Option<f64>,
    /// Relative change of AHT, same windows.
    pub aht_trend: Option<f64>,
    /// Relative change of CSAT, same windows.
    pub csat_trend: Option<f64>,
    /// Change of the transfer rate (a difference of fractions).
    pub transfer_change: Option<f64>,
    /// Days from `last_seen` to as-of.
    pub days_since_last_seen: i64,
    /// `active`, `new`, `at_risk` or `departed`.
    pub status: &'static str,
    /// The weighted risk, 0..1.
    pub risk_score: f64,
    /// The factors that drove the score, largest first.
    pub reasons: String,
    /// The departure date: `last_seen` when inferred, else the roster's.
    pub departed_on: Option<i64>,
    /// Start of employment for headcounts: the roster's hire date, else
    /// `first_seen` (or "before the data" when seen in its first week).
    pub employed_from: i64,
}

/// `status` of an agent who left (by the roster, or inferred).
pub const DEPARTED: &str = "departed";

/// Relative change `(b − a) ÷ a`, `None` when `a` is 0.
fn relative(a: f64, b: f64) -> Option<f64> {
    (a > 0.0).then(|| (b - a) / a)
}

/// The per-agent signals as of `as_of`, sorted: everyone still employed by
/// risk score (highest first), then the departed by departure date (latest
/// first); ties by agent id.
pub fn signals(act: &Activity, p: &TurnoverParams) -> Result<(i64, Vec<Signals>), Error> {
    let (Some(data_first), Some(data_last)) = (act.first_day, act.last_day) else {
        return Err(Error::Usage(
            "the dataset has no handled contacts: no agent activity to judge".into(),
        ));
    };
    let as_of = p.as_of.unwrap_or(data_last);
    if as_of < data_first {
        return Err(Error::Usage(format!(
            "--as-of {} is before the first day of data ({}); the data covers {} to {}",
            format_day(as_of),
            format_day(data_first),
            format_day(data_first),
            format_day(data_last)
        )));
    }
    let mut out: Vec<Signals> = act
        .agents
        .iter()
        .filter_map(|(id, a)| agent_signals(id, a, p, as_of, data_first))
        .collect();
    out.sort_by(|a, b| {
        a.departed_on
            .is_some()
            .cmp(&b.departed_on.is_some())
            .then(b.departed_on.cmp(&a.departed_on))
            .then(b.risk_score.total_cmp(&a.risk_score))
            .then(a.agent_id.cmp(&b.agent_id))
    });
    Ok((as_of, out))
}

/// The sums of an agent's days in `from..=to`, and how many were active.
fn window(a: &AgentActivity, from: i64, to: i64) -> (Day, i64) {
    let mut s = Day::default();
    let mut active = 0;
    for (_, d) in a.days.range(from..=to) {
        s.handled += d.handled;
        s.handle_s += d.handle_s;
        s.csat_sum += d.csat_sum;
        s.csat_n += d.csat_n;
        s.transferred += d.transferred;
        active += i64::from(d.handled > 0.0);
    }
    (s, active)
}

/// The last 14 days against the 14 before.
struct Trends {
    handled: Option<f64>,
    aht: Option<f64>,
    csat: Option<f64>,
    transfer_change: Option<f64>,
}

impl Trends {
    fn of(a: &AgentActivity, as_of: i64) -> Trends {
        let (last14, _) = window(a, as_of - 13, as_of);
        let (prev14, _) = window(a, as_of - 27, as_of - 14);
        let mean = |sum: f64, n: f64| (n > 0.0).then(|| sum / n);
        let both = |a: Option<f64>, b: Option<f64>| a.zip(b);
        Trends {
            handled: relative(prev14.handled, last14.handled),
            aht: both(
                mean(prev14.handle_s, prev14.handled),
                mean(last14.handle_s, last14.handled),
            )
            .and_then(|(a, b)| relative(a, b)),
            csat: both(
                mean(prev14.csat_sum, prev14.csat_n),
                mean(last14.csat_sum, last14.csat_n),
            )
            .and_then(|(a, b)| relative(a, b)),
            transfer_change: both(
                mean(prev14.transferred, prev14.handled),
                mean(last14.transferred, last14.handled),
            )
            .map(|(a, b)| b - a),
        }
    }
}

/// One agent's signals, or `None` when the agent has no day up to as-of.
fn agent_signals(
    id: &str,
    a: &AgentActivity,
    p: &TurnoverParams,
    as_of: i64,
    data_first: i64,
) -> Option<Signals> {
    let first_seen = *a.days.range(..=as_of).next()?.0;
    let last_seen = *a.days.range(..=as_of).next_back()?.0;
    let trends = Trends::of(a, as_of);
    let roster: Option<&RosterEntry> = p.roster.as_ref().and_then(|r| r.0.get(id));
    let departed_on = match roster {
        Some(r) => r.termination.filter(|&t| t <= as_of),
        None => {
            let (_, active_before) = window(a, last_seen - 27, last_seen);
            (active_before >= 5 && as_of - last_seen >= p.gap_days).then_some(last_seen)
        }
    };
    let hire = roster.and_then(|r| r.hire);
    let start = hire.unwrap_or(first_seen);
    let tenure_days = departed_on.unwrap_or(as_of) - start;
    let employed_from = match hire {
        Some(h) => h,
        // Seen in the data's first week: employed since before it.
        None if first_seen < data_first + 7 => i64::MIN,
        None => first_seen,
    };
    let (risk_score, reasons) = risk(&p.weights, &trends, tenure_days);
    let status = if departed_on.is_some() {
        DEPARTED
    } else if risk_score >= 0.5 {
        "at_risk"
    } else if as_of - start < 28 {
        "new"
    } else {
        "active"
    };
    Some(Signals {
        agent_id: id.to_string(),
        team: roster
            .and_then(|r| r.team.clone())
            .or_else(|| a.team.clone()),
        site: a.site.clone(),
        first_seen,
        last_seen,
        tenure_days,
        active_days_28: window(a, as_of - 27, as_of).1,
        active_days_prev_28: window(a, as_of - 55, as_of - 28).1,
        handled_trend: trends.handled,
        aht_trend: trends.aht,
        csat_trend: trends.csat,
        transfer_change: trends.transfer_change,
        days_since_last_seen: as_of - last_seen,
        status,
        risk_score,
        reasons,
        departed_on,
        employed_from,
    })
}

/// The risk score (each factor 0..1, weighted, normalised by the weights'
/// sum) and the reasons that drove it (each factor worth ≥ 0.05 of the
/// score, largest first).
fn risk(w: &Weights, t: &Trends, tenure_days: i64) -> (f64, String) {
    let total_w = w.activity + w.aht + w.csat + w.transfer + w.tenure;
    let clamp = |v: f64| v.clamp(0.0, 1.0);
    let factors = [
        (
            w.activity,
            clamp(-t.handled.unwrap_or(0.0)),
            t.handled.map(|t| format!("handled {:+.0}%", t * 100.0)),
        ),
        (
            w.aht,
            clamp(t.aht.unwrap_or(0.0) / 0.3),
            t.aht.map(|t| format!("AHT {:+.0}%", t * 100.0)),
        ),
        (
            w.csat,
            clamp(-t.csat.unwrap_or(0.0) / 0.2),
            t.csat.map(|t| format!("CSAT {:+.0}%", t * 100.0)),
        ),
        (
            w.transfer,
            clamp(t.transfer_change.unwrap_or(0.0) / 0.1),
            t.transfer_change
                .map(|t| format!("transfers {:+.0} pts", t * 100.0)),
        ),
        (
            w.tenure,
            clamp((90.0 - tenure_days as f64) / 90.0),
            Some(format!("tenure {tenure_days} d")),
        ),
    ];
    let risk_score = factors.iter().map(|(w, f, _)| w * f).sum::<f64>() / total_w;
    let mut drivers: Vec<(f64, String)> = factors
        .iter()
        .filter(|(w, f, _)| w * f / total_w >= 0.05)
        .filter_map(|(w, f, why)| why.clone().map(|why| (w * f, why)))
        .collect();
    drivers.sort_by(|a, b| b.0.total_cmp(&a.0));
    let reasons = drivers
        .into_iter()
        .map(|(_, why)| why)
        .collect::<Vec<_>>()
        .join("; ");
    (risk_score, reasons)
}

/// The per-agent table (SPEC §11 columns, in order).
pub fn signals_frame(rows: &[Signals]) -> Result<DataFrame, Error> {
    let n = rows.len();
    let s = |f: &dyn Fn(&Signals) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let i = |f: &dyn Fn(&Signals) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let x = |f: &dyn Fn(&Signals) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let columns = vec![
        Column::new(col::AGENT_ID.into(), s(&|r| Some(r.agent_id.clone()))),
        Column::new(col::TEAM.into(), s(&|r| r.team.clone())),
        Column::new(FIRST_SEEN.into(), s(&|r| Some(format_day(r.first_seen)))),
        Column::new(LAST_SEEN.into(), s(&|r| Some(format_day(r.last_seen)))),
        Column::new(TENURE_DAYS.into(), i(&|r| r.tenure_days)),
        Column::new(ACTIVE_DAYS_28.into(), i(&|r| r.active_days_28)),
        Column::new(ACTIVE_DAYS_PREV_28.into(), i(&|r| r.active_days_prev_28)),
        Column::new(HANDLED_TREND.into(), x(&|r| r.handled_trend)),
        Column::new(AHT_TREND.into(), x(&|r| r.aht_trend)),
        Column::new(CSAT_TREND.into(), x(&|r| r.csat_trend)),
        Column::new(DAYS_SINCE_LAST_SEEN.into(), i(&|r| r.days_since_last_seen)),
        Column::new(STATUS.into(), s(&|r| Some(r.status.to_string()))),
        Column::new(RISK_SCORE.into(), x(&|r| Some(r.risk_score))),
        Column::new(REASONS.into(), s(&|r| Some(r.reasons.clone()))),
    ];
    DataFrame::new(n, columns).map_err(Error::polars("building the turnover table"))
}
