//! The planted facts written beside the data: the plan of the [`World`],
//! as observed in the rows actually written.

use cxpipe_model::civil::format_day;
use serde::Serialize;

use crate::pipeline::Observed;
use crate::timefmt::timestamp_string;
use crate::world::{self, INTERVAL_S, QUEUES, SITES, World};
use crate::{FIVE9_TIME_ZONE, GenConfig, Layout, sim};

/// The facts file: what was planted, as observed in the written rows.
#[derive(Debug, Serialize)]
pub(crate) struct Facts {
    pub seed: u64,
    pub rows: u64,
    pub start: String,
    pub end: String,
    pub days: u32,
    pub layout: &'static str,
    pub format: &'static str,
    /// The zone of times written without an offset (five9, talkdesk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<&'static str>,
    /// Records written, duplicates included (amazon-connect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Older versions of records also written (amazon-connect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_records: Option<u64>,
    pub agents: Vec<AgentFacts>,
    pub departed: Vec<Departed>,
    pub new_hires: Vec<NewHire>,
    pub breach_prone_agents: Vec<String>,
    pub rising_aht_agents: Vec<String>,
    pub falling_csat_agents: Vec<String>,
    pub understaffed_intervals: Vec<UnderstaffedFact>,
    pub interval_minutes: u32,
    pub fcr_window_hours: u32,
    pub repeat_contact_rate: Option<f64>,
    pub repeat_contact_eligible: u64,
    pub card_numbers_planted: u64,
    pub abandoned_rows: u64,
    pub transfers: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct AgentFacts {
    pub agent_id: String,
    pub team: String,
    pub site: &'static str,
    pub queue: &'static str,
    pub first_day: String,
    pub last_day: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub handled: u64,
    pub departed: bool,
    pub fading: bool,
    pub breach_prone_acw: bool,
    pub rising_aht: bool,
    pub falling_csat: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Departed {
    pub agent_id: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct NewHire {
    pub agent_id: String,
    pub first_seen: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct UnderstaffedFact {
    pub start: String,
    pub queue: &'static str,
}

impl Facts {
    /// The facts of `cfg`'s month planned as `w`, of which the writer saw
    /// `seen`.
    pub(crate) fn new(cfg: &GenConfig, w: &World, seen: &Observed) -> Facts {
        let date = |d: u32| format_day(w.start_day + i64::from(d));
        let ids = |p: fn(&world::Agent) -> bool| -> Vec<String> {
            w.agents
                .iter()
                .filter(|a| p(a))
                .map(|a| a.id.clone())
                .collect()
        };
        let vendor = cfg.layout == Layout::AmazonConnect;
        let (y, m, d) = cfg.start;
        Facts {
            seed: cfg.seed,
            rows: cfg.rows,
            start: format!("{y:04}-{m:02}-{d:02}"),
            end: date(cfg.days - 1),
            days: cfg.days,
            layout: cfg.layout.as_str(),
            format: cfg.format.name(),
            tz: match cfg.layout {
                Layout::Five9 => Some(FIVE9_TIME_ZONE),
                Layout::Talkdesk => Some("UTC"),
                Layout::Generic | Layout::AmazonConnect | Layout::Genesys => None,
            },
            records: vendor.then_some(cfg.rows + seen.totals.extra_records),
            duplicate_records: vendor.then_some(seen.totals.extra_records),
            agents: agent_facts(w, seen),
            departed: departed(w, seen),
            new_hires: new_hires(w, seen),
            breach_prone_agents: ids(|a| a.breach_prone),
            rising_aht_agents: ids(|a| a.rising_aht),
            falling_csat_agents: ids(|a| a.falling_csat),
            understaffed_intervals: understaffed(w),
            interval_minutes: INTERVAL_S / 60,
            fcr_window_hours: sim::REPEAT_WINDOW_S / 3600,
            repeat_contact_rate: seen.repeat.rate,
            repeat_contact_eligible: seen.repeat.eligible,
            card_numbers_planted: seen.totals.cards,
            abandoned_rows: seen.totals.abandoned,
            transfers: seen.totals.transfers,
        }
    }
}

/// Every agent's plan beside what their rows show.
fn agent_facts(w: &World, seen: &Observed) -> Vec<AgentFacts> {
    let date = |d: u32| format_day(w.start_day + i64::from(d));
    w.agents
        .iter()
        .zip(&seen.agents)
        .map(|(a, s)| AgentFacts {
            agent_id: a.id.clone(),
            team: w.team_names[a.team as usize].clone(),
            site: SITES[a.site],
            queue: QUEUES[a.queue],
            first_day: date(a.first_day),
            last_day: date(a.last_day),
            first_seen: s.first_day.map(date),
            last_seen: s.last_day.map(date),
            handled: s.handled,
            departed: a.departed,
            fading: a.fading,
            breach_prone_acw: a.breach_prone,
            rising_aht: a.rising_aht,
            falling_csat: a.falling_csat,
        })
        .collect()
}

/// The departed agents that handled a contact, with the day of their last.
fn departed(w: &World, seen: &Observed) -> Vec<Departed> {
    w.agents
        .iter()
        .zip(&seen.agents)
        .filter(|(a, _)| a.departed)
        .filter_map(|(a, s)| {
            Some(Departed {
                agent_id: a.id.clone(),
                last_seen: format_day(w.start_day + i64::from(s.last_day?)),
            })
        })
        .collect()
}

/// The agents hired during the period that handled a contact, with the day
/// of their first.
fn new_hires(w: &World, seen: &Observed) -> Vec<NewHire> {
    w.agents
        .iter()
        .zip(&seen.agents)
        .filter(|(a, _)| a.first_day > 0)
        .filter_map(|(a, s)| {
            Some(NewHire {
                agent_id: a.id.clone(),
                first_seen: format_day(w.start_day + i64::from(s.first_day?)),
            })
        })
        .collect()
}

/// The planted understaffed intervals, by start time and queue.
fn understaffed(w: &World) -> Vec<UnderstaffedFact> {
    w.understaffed
        .iter()
        .map(|u| UnderstaffedFact {
            start: timestamp_string(
                (w.start_day + i64::from(u.day)) * 86_400
                    + i64::from(u.interval as u32 * INTERVAL_S),
            ),
            queue: QUEUES[u.queue],
        })
        .collect()
}
