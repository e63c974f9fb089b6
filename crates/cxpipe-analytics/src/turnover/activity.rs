//! Each agent's work per local day, read once from the KPI engine.

use std::collections::BTreeMap;

use cxpipe_model::col;
use polars::prelude::Float64Type;

use crate::Error;
use crate::frame::{numbers, strings};
use crate::kpi::{Group, KpiParams, kpi};
use crate::names::*;
use crate::scan::Partitions;
use crate::time::{Zone, parse_day};

/// One agent's work on one local day.
#[derive(Debug, Clone, Default)]
pub(super) struct Day {
    pub handled: f64,
    pub handle_s: f64,
    pub csat_sum: f64,
    pub csat_n: f64,
    pub transferred: f64,
}

/// Each agent's days, with the team and site of their latest day.
#[derive(Debug, Default)]
pub struct Activity {
    pub(super) agents: BTreeMap<String, AgentActivity>,
    /// First and last local day with any handled contact.
    pub first_day: Option<i64>,
    /// Last local day with any handled contact.
    pub last_day: Option<i64>,
}

#[derive(Debug, Default)]
pub(super) struct AgentActivity {
    pub days: BTreeMap<i64, Day>,
    pub team: Option<String>,
    pub site: Option<String>,
}

/// Reads every agent's daily activity (one pass over the dataset).
pub fn activity(source: &Partitions, zone: &Zone) -> Result<Activity, Error> {
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
    let (agents, teams, sites, dates) = (s(col::AGENT_ID)?, s(col::TEAM)?, s(col::SITE)?, s(DATE)?);
    let (handled, aht, csat, responses, transfer) = (
        f(HANDLED)?,
        f(AHT_S)?,
        f(CSAT_AVG)?,
        f(CSAT_RESPONSES)?,
        f(TRANSFER_RATE)?,
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
