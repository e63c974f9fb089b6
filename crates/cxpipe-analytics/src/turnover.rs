//! Agent turnover signals and attrition (SPEC §11).
//!
//! Activity is read once: the KPI engine gives each agent's handled
//! contacts, handle time, CSAT and transfers per local day (and the team
//! and site they worked in). Everything else — windows, trends, status,
//! risk, monthly attrition — is computed in Rust over that small table.
//! Exact definitions and the score's weights: ARCHITECTURE.md, "Turnover
//! definitions", and `cxpipe turnover --help`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;

use crate::Error;
use crate::frame::{numbers, strings};
use crate::kpi::{Group, KpiParams, kpi};
use crate::scan::Source;
use crate::time::{Zone, format_day, format_month, month_index, parse_day};

/// How much each factor counts in `risk_score` (normalised by their sum).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Falling activity: the drop in handled contacts, last 14 days vs the
    /// 14 before (a full drop counts 1).
    pub activity: f64,
    /// Rising AHT: +30 % or more counts 1.
    pub aht: f64,
    /// Falling CSAT: −20 % or more counts 1.
    pub csat: f64,
    /// Rising transfer rate: +10 percentage points or more counts 1.
    pub transfer: f64,
    /// Short tenure: (90 − tenure days) ÷ 90 below 90 days.
    pub tenure: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            activity: 0.35,
            aht: 0.2,
            csat: 0.2,
            transfer: 0.1,
            tenure: 0.15,
        }
    }
}

impl Weights {
    /// Checks that every weight is ≥ 0 and at least one is > 0.
    pub fn check(&self) -> Result<(), String> {
        let all = [
            self.activity,
            self.aht,
            self.csat,
            self.transfer,
            self.tenure,
        ];
        if all.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err("weights must be numbers >= 0".into());
        }
        if all.iter().sum::<f64>() <= 0.0 {
            return Err("at least one weight must be > 0".into());
        }
        Ok(())
    }
}

/// One roster line: what HR knows about an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterEntry {
    /// Hire date (day number).
    pub hire: Option<i64>,
    /// Termination date (day number); `None` while employed.
    pub termination: Option<i64>,
    /// Team.
    pub team: Option<String>,
}

/// A roster file (`agent_id,hire_date,termination_date,team`).
#[derive(Debug, Clone, Default)]
pub struct Roster(pub HashMap<String, RosterEntry>);

impl Roster {
    /// Reads a roster CSV; errors name the file and line.
    pub fn read(path: &Path) -> Result<Roster, Error> {
        let bad =
            |line: u64, what: String| Error::Usage(format!("{}:{line}: {what}", path.display()));
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| Error::Usage(format!("reading roster {}: {e}", path.display())))?;
        let headers = r
            .headers()
            .map_err(|e| bad(1, e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect::<Vec<_>>();
        let at = |name: &str| headers.iter().position(|h| h == name);
        let id_col = at("agent_id").ok_or_else(|| {
            bad(
                1,
                "no agent_id column (expected agent_id,hire_date,termination_date,team)".into(),
            )
        })?;
        let (hire_col, term_col, team_col) = (at("hire_date"), at("termination_date"), at("team"));
        let mut out = HashMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let field = |c: Option<usize>| c.and_then(|c| rec.get(c)).filter(|v| !v.is_empty());
            let id = field(Some(id_col)).ok_or_else(|| bad(line, "agent_id is empty".into()))?;
            let day = |c: Option<usize>, name: &str| -> Result<Option<i64>, Error> {
                field(c)
                    .map(|v| {
                        parse_day(v).map_err(|_| {
                            bad(line, format!("{name} {v:?} is not a date (YYYY-MM-DD)"))
                        })
                    })
                    .transpose()
            };
            let entry = RosterEntry {
                hire: day(hire_col, "hire_date")?,
                termination: day(term_col, "termination_date")?,
                team: field(team_col).map(str::to_string),
            };
            if let (Some(h), Some(t)) = (entry.hire, entry.termination)
                && t < h
            {
                return Err(bad(
                    line,
                    format!(
                        "termination_date {} is before hire_date {}",
                        format_day(t),
                        format_day(h)
                    ),
                ));
            }
            if out.insert(id.to_string(), entry).is_some() {
                return Err(bad(line, format!("agent {id} appears twice")));
            }
        }
        Ok(Roster(out))
    }
}

/// Everything `turnover` needs besides the activity.
#[derive(Debug, Clone)]
pub struct TurnoverParams {
    /// Site zone for local days.
    pub zone: Zone,
    /// The day to judge as of (default: the last day of data).
    pub as_of: Option<i64>,
    /// Days without activity before as-of that make a departure (default 14).
    pub gap_days: i64,
    /// Risk score weights.
    pub weights: Weights,
    /// Roster overrides, if any.
    pub roster: Option<Roster>,
}

impl TurnoverParams {
    /// SPEC defaults.
    pub fn new() -> TurnoverParams {
        TurnoverParams {
            zone: Zone::utc(),
            as_of: None,
            gap_days: 14,
            weights: Weights::default(),
            roster: None,
        }
    }
}

impl Default for TurnoverParams {
    fn default() -> Self {
        Self::new()
    }
}

/// One agent's work on one local day.
#[derive(Debug, Clone, Default)]
struct Day {
    handled: f64,
    handle_s: f64,
    csat_sum: f64,
    csat_n: f64,
    transferred: f64,
}

/// Each agent's days, with the team and site of their latest day.
#[derive(Debug, Default)]
pub struct Activity {
    agents: BTreeMap<String, AgentActivity>,
    /// First and last local day with any handled contact.
    pub first_day: Option<i64>,
    /// Last local day with any handled contact.
    pub last_day: Option<i64>,
}

#[derive(Debug, Default)]
struct AgentActivity {
    days: BTreeMap<i64, Day>,
    team: Option<String>,
    site: Option<String>,
}

/// Reads every agent's daily activity (one pass over the dataset).
pub fn activity(source: &Source, zone: &Zone) -> Result<Activity, Error> {
    let mut p = KpiParams::new(vec![Group::Agent, Group::Team, Group::Site, Group::Day]);
    p.zone = zone.clone();
    p.fcr = false;
    let df = kpi(source, &p)?;
    let s = |n: &str| strings(&df, n);
    let f = |n: &str| -> Result<Vec<f64>, Error> {
        Ok(numbers::<Float64Type>(&df, n)?
            .into_iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let (agents, teams, sites, dates) = (s("agent_id")?, s("team")?, s("site")?, s("date")?);
    let (handled, aht, csat, responses, transfer) = (
        f("handled")?,
        f("aht_s")?,
        f("csat_avg")?,
        f("csat_responses")?,
        f("transfer_rate")?,
    );
    let mut out = Activity::default();
    for i in 0..df.height() {
        let (Some(agent), Some(date)) = (&agents[i], &dates[i]) else {
            continue;
        };
        let day = parse_day(date)?;
        let a = out.agents.entry(agent.clone()).or_default();
        // Rows come sorted by team, site, then date: keep the latest day's.
        if a.days.keys().next_back().is_none_or(|&last| day >= last) {
            a.team = teams[i].clone();
            a.site = sites[i].clone();
        }
        let d = a.days.entry(day).or_default();
        d.handled += handled[i];
        d.handle_s += aht[i] * handled[i];
        d.csat_sum += csat[i] * responses[i];
        d.csat_n += responses[i];
        d.transferred += transfer[i] * handled[i];
        out.first_day = Some(out.first_day.map_or(day, |f| f.min(day)));
        out.last_day = Some(out.last_day.map_or(day, |l| l.max(day)));
    }
    Ok(out)
}

/// One agent's signals as of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub agent_id: String,
    pub team: Option<String>,
    pub site: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub tenure_days: i64,
    pub active_days_28: i64,
    pub active_days_prev_28: i64,
    pub handled_trend: Option<f64>,
    pub aht_trend: Option<f64>,
    pub csat_trend: Option<f64>,
    pub transfer_change: Option<f64>,
    pub days_since_last_seen: i64,
    pub status: &'static str,
    pub risk_score: f64,
    pub reasons: String,
    /// The departure date: `last_seen` when inferred, else the roster's.
    pub departed_on: Option<i64>,
    /// Start of employment for headcounts: the roster's hire date, else
    /// `first_seen` (or "before the data" when seen in its first week).
    pub employed_from: i64,
}

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
    let w = p.weights;
    let total_w = w.activity + w.aht + w.csat + w.transfer + w.tenure;
    let mut out = Vec::new();
    for (id, a) in &act.agents {
        let days: Vec<(&i64, &Day)> = a.days.range(..=as_of).collect();
        let (Some(&(&first_seen, _)), Some(&(&last_seen, _))) = (days.first(), days.last()) else {
            continue;
        };
        let window = |from: i64, to: i64| {
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
        };
        let (_, active_days_28) = window(as_of - 27, as_of);
        let (_, active_days_prev_28) = window(as_of - 55, as_of - 28);
        let (last14, _) = window(as_of - 13, as_of);
        let (prev14, _) = window(as_of - 27, as_of - 14);
        let handled_trend = relative(prev14.handled, last14.handled);
        let mean = |sum: f64, n: f64| (n > 0.0).then(|| sum / n);
        let aht_trend = match (
            mean(prev14.handle_s, prev14.handled),
            mean(last14.handle_s, last14.handled),
        ) {
            (Some(a), Some(b)) => relative(a, b),
            _ => None,
        };
        let csat_trend = match (
            mean(prev14.csat_sum, prev14.csat_n),
            mean(last14.csat_sum, last14.csat_n),
        ) {
            (Some(a), Some(b)) => relative(a, b),
            _ => None,
        };
        let transfer_change = match (
            mean(prev14.transferred, prev14.handled),
            mean(last14.transferred, last14.handled),
        ) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        let roster = p.roster.as_ref().and_then(|r| r.0.get(id));
        let inferred_departure = {
            let (_, active_before) = window(last_seen - 27, last_seen);
            (active_before >= 5 && as_of - last_seen >= p.gap_days).then_some(last_seen)
        };
        let departed_on = match roster {
            Some(r) => r.termination.filter(|&t| t <= as_of),
            None => inferred_departure,
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

        // Risk factors, each 0..1, and the reasons that drove the score.
        let clamp = |v: f64| v.clamp(0.0, 1.0);
        let factors = [
            (
                w.activity,
                clamp(-handled_trend.unwrap_or(0.0)),
                handled_trend.map(|t| format!("handled {:+.0}%", t * 100.0)),
            ),
            (
                w.aht,
                clamp(aht_trend.unwrap_or(0.0) / 0.3),
                aht_trend.map(|t| format!("AHT {:+.0}%", t * 100.0)),
            ),
            (
                w.csat,
                clamp(-csat_trend.unwrap_or(0.0) / 0.2),
                csat_trend.map(|t| format!("CSAT {:+.0}%", t * 100.0)),
            ),
            (
                w.transfer,
                clamp(transfer_change.unwrap_or(0.0) / 0.1),
                transfer_change.map(|t| format!("transfers {:+.0} pts", t * 100.0)),
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
        let status = if departed_on.is_some() {
            "departed"
        } else if risk_score >= 0.5 {
            "at_risk"
        } else if as_of - start < 28 {
            "new"
        } else {
            "active"
        };
        out.push(Signals {
            agent_id: id.clone(),
            team: roster
                .and_then(|r| r.team.clone())
                .or_else(|| a.team.clone()),
            site: a.site.clone(),
            first_seen,
            last_seen,
            tenure_days,
            active_days_28,
            active_days_prev_28,
            handled_trend,
            aht_trend,
            csat_trend,
            transfer_change,
            days_since_last_seen: as_of - last_seen,
            status,
            risk_score,
            reasons,
            departed_on,
            employed_from,
        });
    }
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

/// The per-agent table (SPEC §11 columns, in order).
pub fn signals_frame(rows: &[Signals]) -> Result<DataFrame, Error> {
    let n = rows.len();
    let s = |f: &dyn Fn(&Signals) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let i = |f: &dyn Fn(&Signals) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let x = |f: &dyn Fn(&Signals) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let columns = vec![
        Column::new("agent_id".into(), s(&|r| Some(r.agent_id.clone()))),
        Column::new("team".into(), s(&|r| r.team.clone())),
        Column::new("first_seen".into(), s(&|r| Some(format_day(r.first_seen)))),
        Column::new("last_seen".into(), s(&|r| Some(format_day(r.last_seen)))),
        Column::new("tenure_days".into(), i(&|r| r.tenure_days)),
        Column::new("active_days_28".into(), i(&|r| r.active_days_28)),
        Column::new("active_days_prev_28".into(), i(&|r| r.active_days_prev_28)),
        Column::new("handled_trend".into(), x(&|r| r.handled_trend)),
        Column::new("aht_trend".into(), x(&|r| r.aht_trend)),
        Column::new("csat_trend".into(), x(&|r| r.csat_trend)),
        Column::new(
            "days_since_last_seen".into(),
            i(&|r| r.days_since_last_seen),
        ),
        Column::new("status".into(), s(&|r| Some(r.status.to_string()))),
        Column::new("risk_score".into(), x(&|r| Some(r.risk_score))),
        Column::new("reasons".into(), s(&|r| Some(r.reasons.clone()))),
    ];
    DataFrame::new(n, columns).map_err(Error::polars("building the turnover table"))
}

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
    let first = cxpipe_model::civil::days_from_civil(
        m.div_euclid(12) as i32,
        (m.rem_euclid(12) + 1) as u32,
        1,
    );
    let next = m + 1;
    let next_first = cxpipe_model::civil::days_from_civil(
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
        AttritionBy::Team => columns.push(Column::new("team".into(), key)),
        AttritionBy::Site => columns.push(Column::new("site".into(), key)),
        AttritionBy::All => {}
    }
    columns.extend([
        Column::new("month".into(), month),
        Column::new("headcount_start".into(), start_n),
        Column::new("headcount_end".into(), end_n),
        Column::new("leavers".into(), leavers_n),
        Column::new("attrition_rate".into(), rate),
        Column::new("annualized_attrition".into(), annual),
        Column::new("new_hire_90d_attrition".into(), new90),
    ]);
    DataFrame::new(n, columns).map_err(Error::polars("building the attrition table"))
}

/// How the inferred departures compare with a roster's terminations.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub inferred: usize,
    pub roster: usize,
    pub matched: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    /// Mean |inferred date − termination date| over the matched, days.
    pub mean_date_error_days: Option<f64>,
    pub false_departures: Vec<String>,
    pub missed_departures: Vec<String>,
}

/// Compares departures inferred without the roster (`inferred`, computed
/// with `roster: None`) with the roster's terminations up to as-of, for the
/// agents both know.
pub fn evaluate(inferred: &[Signals], roster: &Roster, as_of: i64) -> Evaluation {
    let seen: HashMap<&str, &Signals> = inferred.iter().map(|s| (s.agent_id.as_str(), s)).collect();
    let mut truth: Vec<(&str, i64)> = roster
        .0
        .iter()
        .filter(|(id, _)| seen.contains_key(id.as_str()))
        .filter_map(|(id, e)| {
            e.termination
                .filter(|&t| t <= as_of)
                .map(|t| (id.as_str(), t))
        })
        .collect();
    truth.sort();
    let guessed: Vec<&Signals> = inferred
        .iter()
        .filter(|s| s.departed_on.is_some() && roster.0.contains_key(&s.agent_id))
        .collect();
    let truth_map: HashMap<&str, i64> = truth.iter().copied().collect();
    let mut matched = 0;
    let mut err_sum = 0.0;
    let mut false_departures = Vec::new();
    for s in &guessed {
        match truth_map.get(s.agent_id.as_str()) {
            Some(&t) => {
                matched += 1;
                err_sum += (s.departed_on.unwrap_or(t) - t).abs() as f64;
            }
            None => false_departures.push(s.agent_id.clone()),
        }
    }
    let missed_departures = truth
        .iter()
        .filter(|(id, _)| seen.get(id).is_none_or(|s| s.departed_on.is_none()))
        .map(|(id, _)| id.to_string())
        .collect();
    false_departures.sort();
    Evaluation {
        inferred: guessed.len(),
        roster: truth.len(),
        matched,
        precision: (!guessed.is_empty()).then(|| matched as f64 / guessed.len() as f64),
        recall: (!truth.is_empty()).then(|| matched as f64 / truth.len() as f64),
        mean_date_error_days: (matched > 0).then(|| err_sum / matched as f64),
        false_departures,
        missed_departures,
    }
}

/// The evaluation as a one-row table.
pub fn evaluation_frame(e: &Evaluation, as_of: i64) -> Result<DataFrame, Error> {
    DataFrame::new(
        1,
        vec![
            Column::new("as_of".into(), [format_day(as_of)]),
            Column::new("inferred_departures".into(), [e.inferred as i64]),
            Column::new("roster_departures".into(), [e.roster as i64]),
            Column::new("matched".into(), [e.matched as i64]),
            Column::new("precision".into(), [e.precision]),
            Column::new("recall".into(), [e.recall]),
            Column::new("mean_date_error_days".into(), [e.mean_date_error_days]),
            Column::new("false_departures".into(), [e.false_departures.join(" ")]),
            Column::new("missed_departures".into(), [e.missed_departures.join(" ")]),
        ],
    )
    .map_err(Error::polars("building the evaluation table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An agent working `handled` contacts on each of `days`.
    fn agent(act: &mut Activity, id: &str, team: &str, days: impl IntoIterator<Item = i64>) {
        let a = act.agents.entry(id.to_string()).or_default();
        a.team = Some(team.to_string());
        for d in days {
            a.days.insert(
                d,
                Day {
                    handled: 10.0,
                    handle_s: 3000.0,
                    csat_sum: 8.0,
                    csat_n: 2.0,
                    transferred: 1.0,
                },
            );
            act.first_day = Some(act.first_day.map_or(d, |f| f.min(d)));
            act.last_day = Some(act.last_day.map_or(d, |l| l.max(d)));
        }
    }

    fn day(s: &str) -> i64 {
        parse_day(s).expect("day")
    }

    /// Two teams over Jan–Mar 2026 (day numbers from dates):
    /// - t1: `a` works all of it; `b` works Jan 1 – Jan 31 and leaves
    ///   (last seen Jan 31); `c` starts Feb 10 (a hire) and leaves Mar 5
    ///   (tenure 23 days), but March ends Mar 31 with as-of Mar 31, so the
    ///   gap before as-of is 26 days ≥ 14: departed.
    /// - t2: `d` works all of it.
    fn world() -> Activity {
        let mut act = Activity::default();
        let (jan1, feb10, mar5, mar31) = (
            day("2026-01-01"),
            day("2026-02-10"),
            day("2026-03-05"),
            day("2026-03-31"),
        );
        agent(&mut act, "a", "t1", jan1..=mar31);
        agent(&mut act, "b", "t1", jan1..=day("2026-01-31"));
        agent(&mut act, "c", "t1", feb10..=mar5);
        agent(&mut act, "d", "t2", jan1..=mar31);
        act
    }

    #[test]
    fn status_and_departure_dates() {
        let (as_of, rows) = signals(&world(), &TurnoverParams::new()).expect("signals");
        assert_eq!(as_of, day("2026-03-31"));
        let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
        assert_eq!(by["b"].departed_on, Some(day("2026-01-31")));
        assert_eq!(by["c"].departed_on, Some(day("2026-03-05")));
        assert_eq!(by["c"].tenure_days, 23);
        assert_eq!(by["a"].status, "active");
        assert_eq!(by["a"].handled_trend, Some(0.0));
        assert_eq!(by["a"].active_days_28, 28);
        // The departed sort last, latest departure first.
        let order: Vec<&str> = rows.iter().map(|r| r.agent_id.as_str()).collect();
        assert_eq!(&order[2..], ["c", "b"]);
    }

    /// Hand-computed, t1 (a, b, c; a and b employed since before the data):
    /// - 2026-01: start 2 (a, b), end 1 (b left Jan 31), leavers 1:
    ///   rate 1 ÷ 1.5 = 0.666667, annualized 8; no hires: null.
    /// - 2026-02: start 1, end 2 (c hired Feb 10), leavers 0: rate 0.
    /// - 2026-03: start 2, end 1 (c left Mar 5, tenure 23 d), leavers 1:
    ///   rate 1 ÷ 1.5; new-hire 90-day attrition 1 ÷ 1 (c began Feb 10,
    ///   within the 90 days to Mar 31).
    #[test]
    fn attrition_by_team_and_month() {
        let act = world();
        let (as_of, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
        let df = attrition(&act, &rows, as_of, AttritionBy::Team).expect("attrition");
        let col_i = |n: &str| -> Vec<i64> {
            df.column(n)
                .expect(n)
                .i64()
                .expect(n)
                .iter()
                .map(|v| v.expect(n))
                .collect()
        };
        let col_f = |n: &str| -> Vec<Option<f64>> {
            df.column(n).expect(n).f64().expect(n).iter().collect()
        };
        assert_eq!(df.height(), 6);
        assert_eq!(col_i("headcount_start")[..3], [2, 1, 2]);
        assert_eq!(col_i("headcount_end")[..3], [1, 2, 1]);
        assert_eq!(col_i("leavers")[..3], [1, 0, 1]);
        let rate = col_f("attrition_rate");
        assert!((rate[0].expect("rate") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(rate[1], Some(0.0));
        assert!((col_f("annualized_attrition")[0].expect("annual") - 8.0).abs() < 1e-12);
        assert_eq!(
            col_f("new_hire_90d_attrition")[..3],
            [None, Some(0.0), Some(1.0)]
        );
        // t2: d alone, no leavers.
        assert_eq!(col_i("headcount_start")[3..], [1, 1, 1]);
        assert_eq!(
            col_f("attrition_rate")[3..],
            [Some(0.0), Some(0.0), Some(0.0)]
        );
    }

    #[test]
    fn a_roster_overrides_dates_and_is_evaluated() {
        let act = world();
        let mut roster = Roster::default();
        roster.0.insert(
            "b".into(),
            RosterEntry {
                hire: Some(day("2024-05-01")),
                termination: Some(day("2026-02-02")),
                team: None,
            },
        );
        roster.0.insert(
            "c".into(),
            RosterEntry {
                hire: Some(day("2026-02-09")),
                termination: None,
                team: Some("t9".into()),
            },
        );
        roster.0.insert(
            "a".into(),
            RosterEntry {
                termination: Some(day("2026-03-31")),
                ..RosterEntry::default()
            },
        );
        let mut p = TurnoverParams::new();
        let (as_of, inferred) = signals(&act, &p).expect("inferred");
        let e = evaluate(&inferred, &roster, as_of);
        // Inferred: b and c. Roster: b and a. Matched: b (2 days off).
        assert_eq!((e.inferred, e.roster, e.matched), (2, 2, 1));
        assert_eq!((e.precision, e.recall), (Some(0.5), Some(0.5)));
        assert_eq!(e.mean_date_error_days, Some(2.0));
        assert_eq!(
            (e.false_departures.clone(), e.missed_departures.clone()),
            (vec!["c".to_string()], vec!["a".to_string()])
        );
        p.roster = Some(roster);
        let (_, rows) = signals(&act, &p).expect("with roster");
        let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
        assert_eq!(by["b"].departed_on, Some(day("2026-02-02")));
        assert_eq!(by["c"].departed_on, None);
        assert_eq!(by["c"].team.as_deref(), Some("t9"));
        assert_eq!(by["a"].status, "departed");
    }

    #[test]
    fn one_day_one_contact_and_as_of_before_the_data() {
        let mut act = Activity::default();
        agent(&mut act, "once", "t", [day("2026-05-05")]);
        let (as_of, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
        assert_eq!(as_of, day("2026-05-05"));
        let r = &rows[0];
        assert_eq!((r.tenure_days, r.active_days_28, r.status), (0, 1, "new"));
        assert_eq!(
            (r.handled_trend, r.aht_trend, r.csat_trend),
            (None, None, None)
        );
        let mut p = TurnoverParams::new();
        p.as_of = Some(day("2026-06-30"));
        let (_, rows) = signals(&act, &p).expect("later");
        // Seen once, long ago: not enough activity to call it a departure.
        assert_eq!(
            (rows[0].status, rows[0].days_since_last_seen),
            ("active", 56)
        );
        p.as_of = Some(day("2026-05-01"));
        let e = signals(&act, &p).expect_err("before the data");
        assert!(
            e.to_string()
                .contains("before the first day of data (2026-05-05)"),
            "{e}"
        );
    }

    #[test]
    fn risk_grows_with_each_factor() {
        let mut act = Activity::default();
        let start = day("2026-01-01");
        agent(&mut act, "steady", "t", start..start + 120);
        agent(
            &mut act,
            "fading",
            "t",
            (start..start + 106).chain((start + 106..start + 120).step_by(4)),
        );
        let (_, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
        let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
        assert_eq!(by["steady"].risk_score, 0.0);
        assert!(by["fading"].risk_score > 0.2, "{:?}", by["fading"]);
        assert!(
            by["fading"].reasons.contains("handled -71%"),
            "{}",
            by["fading"].reasons
        );
        assert_eq!(rows[0].agent_id, "fading");
    }
}
