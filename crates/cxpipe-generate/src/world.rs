//! The planned world behind a generated file: agents and their schedules,
//! per-day volumes, the intraday arrival curve, staffing, queue load and the
//! understaffed intervals. Everything here is a pure function of the
//! configuration, computed once before any contact is generated.

use crate::GenConfig;
use crate::rng::{Rng, cumulative, stream_key};
use cxpipe_model::civil::{days_from_civil, weekday};

/// Queues, and the share of inbound contacts each receives.
pub(crate) const QUEUES: [&str; 5] = ["general", "billing", "tech_support", "sales", "retention"];
pub(crate) const QUEUE_SHARE: [f64; 5] = [0.30, 0.25, 0.25, 0.12, 0.08];
/// Sites; a team belongs to one site.
pub(crate) const SITES: [&str; 3] = ["manila", "austin", "krakow"];
/// Agents per team.
pub(crate) const TEAM_SIZE: u32 = 12;
/// Half-hour intervals per day: the unit of staffing and load.
pub(crate) const INTERVALS: usize = 48;
/// Seconds per interval.
pub(crate) const INTERVAL_S: u32 = 1800;
/// Contacts per agent-day used to derive the head count from the row count.
const CONTACTS_PER_AGENT_DAY: u64 = 60;
/// Waits in an understaffed interval are this many times longer.
const UNDERSTAFFED_FACTOR: f64 = 8.0;

/// Stream domains: each purpose draws from its own independent stream.
pub(crate) mod domain {
    pub(crate) const AGENTS: u64 = 1;
    pub(crate) const DAYS: u64 = 2;
    pub(crate) const SLOT: u64 = 3;
    pub(crate) const CUSTOMER: u64 = 4;
    pub(crate) const IDS: u64 = 5;
    pub(crate) const UNDERSTAFFED: u64 = 6;
    pub(crate) const ROSTER: u64 = 7;
}

/// One agent's plan for the month.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub id: String,
    pub team: u32,
    pub site: usize,
    pub queue: usize,
    /// First and last day index (0-based from the start) the agent may work.
    pub first_day: u32,
    pub last_day: u32,
    pub departed: bool,
    pub fading: bool,
    pub breach_prone: bool,
    pub rising_aht: bool,
    pub falling_csat: bool,
    /// Personal talk-time factor.
    pub speed: f64,
    /// Shift start in minutes after midnight, and length in minutes.
    pub shift_start: u32,
    pub shift_len: u32,
    /// Days off by weekday (Monday = 0).
    pub off: [bool; 7],
}

impl Agent {
    /// Whether the agent works on day index `d` (may be negative: the night
    /// shift of the day before the start reaches into day 0).
    pub(crate) fn works(&self, d: i64, start_day: i64) -> bool {
        let employed_from = if self.first_day == 0 {
            i64::MIN
        } else {
            i64::from(self.first_day)
        };
        d >= employed_from
            && d <= i64::from(self.last_day)
            && !self.off[weekday(start_day + d) as usize]
    }

    /// Whether day `d` lies in the agent's last two weeks while fading out.
    pub(crate) fn fading_on(&self, d: u32) -> bool {
        self.fading && d + 14 > self.last_day
    }
}

/// A planted understaffed interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Understaffed {
    pub day: u32,
    pub interval: usize,
    pub queue: usize,
}

/// Everything fixed before generation.
pub(crate) struct World {
    pub days: u32,
    /// Day number (since 1970-01-01) of the first day.
    pub start_day: i64,
    pub agents: Vec<Agent>,
    pub team_names: Vec<String>,
    /// Rows of each day, and the number of rows before it.
    pub day_rows: Vec<u64>,
    pub day_offset: Vec<u64>,
    /// Cumulative arrival distribution over the half-hours of a day.
    pub arrival_cdf: Vec<f64>,
    /// Mean-wait multiplier per day × queue × half-hour, for channels whose
    /// wait grows steeply with load (voice, chat).
    pub wait_steep: Vec<f32>,
    /// Multiplier for channels with slow-moving backlogs (email, messaging).
    pub wait_flat: Vec<f32>,
    pub understaffed: Vec<Understaffed>,
    pub slot_key: u64,
    pub customer_key: u64,
    pub id_key: u64,
}

impl World {
    pub(crate) fn new(cfg: &GenConfig) -> World {
        let (y, m, d) = cfg.start;
        let start_day = days_from_civil(y, u32::from(m), u32::from(d));
        let days = cfg.days;
        let n_agents = cfg
            .agents
            .unwrap_or_else(|| {
                let derived = cfg.rows / (u64::from(days) * CONTACTS_PER_AGENT_DAY);
                derived.clamp(8, 999_999) as u32
            })
            .max(1);
        let (agents, team_names) = plan_agents(cfg.seed, n_agents, days);
        let (day_rows, day_offset) = plan_days(cfg.seed, cfg.rows, days, start_day);
        let arrival_weights: Vec<f64> = (0..INTERVALS).map(arrival_weight).collect();
        let arrival_cdf = cumulative(&arrival_weights);
        let understaffed = plan_understaffed(cfg.seed, days, &day_rows);
        let mut world = World {
            days,
            start_day,
            agents,
            team_names,
            day_rows,
            day_offset,
            arrival_cdf,
            wait_steep: Vec::new(),
            wait_flat: Vec::new(),
            understaffed,
            slot_key: stream_key(cfg.seed, domain::SLOT),
            customer_key: stream_key(cfg.seed, domain::CUSTOMER),
            id_key: stream_key(cfg.seed, domain::IDS),
        };
        world.plan_load(&arrival_weights);
        world
    }

    /// Index into the per day × queue × interval tables.
    #[inline]
    pub(crate) fn cell(&self, day: u32, queue: usize, interval: usize) -> usize {
        (day as usize * QUEUES.len() + queue) * INTERVALS + interval
    }

    /// Computes the load of every queue interval: expected arrivals per
    /// scheduled agent, relative to the volume-weighted average. Busier
    /// intervals wait longer; planted understaffed intervals much longer.
    fn plan_load(&mut self, arrival_weights: &[f64]) {
        let total_w: f64 = arrival_weights.iter().sum();
        let n_cells = self.days as usize * QUEUES.len() * INTERVALS;
        let mut expected = vec![0.0f64; n_cells];
        let mut staff = vec![0.0f64; n_cells];
        for day in 0..self.days {
            for agent in &self.agents {
                let weight = if agent.fading_on(day) { 0.35 } else { 1.0 };
                for_each_shift_interval(agent, day, self.start_day, 0..INTERVALS, |i| {
                    let c = self.cell(day, agent.queue, i);
                    staff[c] += weight;
                });
            }
            for (q, share) in QUEUE_SHARE.iter().enumerate() {
                for (i, w) in arrival_weights.iter().enumerate() {
                    let c = self.cell(day, q, i);
                    expected[c] = self.day_rows[day as usize] as f64 * share * w / total_w;
                }
            }
        }
        let (mut num, mut den) = (0.0, 0.0);
        for c in 0..n_cells {
            if staff[c] > 0.0 {
                num += expected[c] * expected[c] / staff[c];
                den += expected[c];
            }
        }
        let reference = if num > 0.0 { num / den } else { 1.0 };
        self.wait_steep = vec![1.0; n_cells];
        self.wait_flat = vec![1.0; n_cells];
        for c in 0..n_cells {
            let r = if staff[c] > 0.0 {
                (expected[c] / staff[c] / reference).clamp(0.5, 3.0)
            } else {
                3.0
            };
            self.wait_steep[c] = r.powf(1.5) as f32;
            self.wait_flat[c] = r as f32;
        }
        for u in &self.understaffed {
            let c = self.cell(u.day, u.queue, u.interval);
            self.wait_steep[c] *= UNDERSTAFFED_FACTOR as f32;
            self.wait_flat[c] *= 2.0;
        }
    }
}

/// Relative arrival intensity of half-hour `i` (UTC): a morning peak around
/// 10:30, an afternoon peak around 15:00, quiet nights.
fn arrival_weight(i: usize) -> f64 {
    let h = i as f64 / 2.0 + 0.25;
    let bump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    0.03 + bump(10.5, 2.2) + 0.85 * bump(15.0, 2.4) + 0.15 * bump(20.0, 2.0)
}

/// Calls `f` with every interval of `range` (half-hours from day `day`'s
/// midnight; may extend into the next day) in which `agent` is on shift,
/// counting night shifts that started the day before.
pub(crate) fn for_each_shift_interval(
    agent: &Agent,
    day: u32,
    start_day: i64,
    range: std::ops::Range<usize>,
    mut f: impl FnMut(usize),
) {
    let d = i64::from(day);
    for dd in d - 1..=d + 1 {
        if !agent.works(dd, start_day) {
            continue;
        }
        let from = (dd - d) * 1440 + i64::from(agent.shift_start);
        let to = from + i64::from(agent.shift_len);
        let first = from.div_euclid(30).max(range.start as i64);
        let last = (to - 1).div_euclid(30).min(range.end as i64 - 1);
        for i in first..=last {
            f(i as usize);
        }
    }
}

/// Mid-month joiners need room for a few weeks of work, departures a gap
/// of two weeks before the end (SPEC §11's default departure rule): the
/// shortest periods in which either is planted.
const MIN_DAYS_TO_HIRE: u32 = 14;
const MIN_DAYS_TO_DEPART: u32 = 25;

/// `n` agents for a period of `days`, in teams of [`TEAM_SIZE`] spread over
/// the sites, and the team names.
fn plan_agents(seed: u64, n: u32, days: u32) -> (Vec<Agent>, Vec<String>) {
    let key = stream_key(seed, domain::AGENTS);
    let n_teams = n.div_ceil(TEAM_SIZE);
    let n_sites = (n_teams as usize).clamp(1, SITES.len());
    let team_width = (n_teams.to_string().len()).max(2);
    let team_names = (0..n_teams)
        .map(|t| format!("team-{:0team_width$}", t + 1))
        .collect();
    let queue_cdf = cumulative(&QUEUE_SHARE);
    let mut agents: Vec<Agent> = (0..n)
        .map(|i| draw_agent(key, i, n, days, &queue_cdf))
        .collect();
    for a in &mut agents {
        a.site = a.team as usize % n_sites;
    }
    if n >= 8 {
        plant_every_pattern(key, &mut agents, days);
    }
    (agents, team_names)
}

/// Agent `i` of `n`, drawn from its own stream of `key` (its site is set
/// by the caller, from its team).
fn draw_agent(key: u64, i: u32, n: u32, days: u32, queue_cdf: &[f64]) -> Agent {
    const SHIFT_STARTS: [u32; 11] = [6, 7, 8, 8, 9, 9, 10, 11, 12, 13, 14];
    let id_width = (n.to_string().len()).max(4);
    let mut r = Rng::for_item(key, 0, u64::from(i));
    // Home queues in contiguous blocks proportional to volume, so a team of
    // consecutive agents mostly shares a queue.
    let pos = (f64::from(i) + 0.5) / f64::from(n);
    let queue = queue_cdf
        .partition_point(|&c| c <= pos)
        .min(QUEUES.len() - 1);
    let new_hire = days >= MIN_DAYS_TO_HIRE && r.chance(0.08);
    let first_day = if new_hire { hire_day(&mut r, days) } else { 0 };
    let departed = days >= MIN_DAYS_TO_DEPART && !new_hire && r.chance(0.08);
    let last_day = if departed {
        departure_day(&mut r, days)
    } else {
        days - 1
    };
    let fading = departed && r.chance(0.5);
    let breach_prone = r.chance(0.05);
    let rising_aht = r.chance(0.06);
    let falling_csat = if rising_aht {
        r.chance(0.5)
    } else {
        r.chance(0.04)
    };
    let speed = r.lognormal(1.0, 0.12);
    let shift_start = if r.chance(0.06) {
        22 * 60
    } else {
        SHIFT_STARTS[r.below(11) as usize] * 60
    };
    Agent {
        id: format!("A{:0id_width$}", i + 1),
        team: i / TEAM_SIZE,
        site: 0,
        queue,
        first_day,
        last_day,
        departed,
        fading,
        breach_prone,
        rising_aht,
        falling_csat,
        speed,
        shift_start,
        shift_len: 540,
        off: draw_days_off(&mut r),
    }
}

/// The first working day of an agent hired during a period of `days`.
fn hire_day(r: &mut Rng, days: u32) -> u32 {
    2 + r.below(u64::from(days / 2 - 1)) as u32
}

/// The last working day of an agent leaving during a period of `days`: at
/// least two weeks before its end.
fn departure_day(r: &mut Rng, days: u32) -> u32 {
    9 + r.below(u64::from(days - 15 - 9 + 1)) as u32
}

/// Two days off a week: the weekend for most, else two consecutive days.
fn draw_days_off(r: &mut Rng) -> [bool; 7] {
    let mut off = [false; 7];
    if r.chance(0.55) {
        off[5] = true;
        off[6] = true;
    } else {
        let o = r.below(7) as usize;
        off[o] = true;
        off[(o + 1) % 7] = true;
    }
    off
}

/// Guarantees at least one of each planted pattern (a breach-prone agent,
/// a new hire, a departure) when the period allows it, so that every
/// generated file exercises the detectors.
fn plant_every_pattern(key: u64, agents: &mut [Agent], days: u32) {
    let mut r = Rng::for_item(key, 1, 0);
    let pick = |r: &mut Rng, agents: &[Agent], ok: &dyn Fn(&Agent) -> bool| -> Option<usize> {
        let candidates: Vec<usize> = (0..agents.len()).filter(|&i| ok(&agents[i])).collect();
        (!candidates.is_empty()).then(|| candidates[r.below(candidates.len() as u64) as usize])
    };
    let plain = |a: &Agent| a.first_day == 0 && !a.departed;
    let spare = |a: &Agent| plain(a) && !a.breach_prone;
    let none_breach_prone = !agents.iter().any(|a| a.breach_prone);
    if let Some(i) = pick(&mut r, agents, &plain).filter(|_| none_breach_prone) {
        agents[i].breach_prone = true;
    }
    let none_hired = days >= MIN_DAYS_TO_HIRE && !agents.iter().any(|a| a.first_day > 0);
    if let Some(i) = pick(&mut r, agents, &spare).filter(|_| none_hired) {
        agents[i].first_day = hire_day(&mut r, days);
    }
    let none_departed = days >= MIN_DAYS_TO_DEPART && !agents.iter().any(|a| a.departed);
    if let Some(i) = pick(&mut r, agents, &spare).filter(|_| none_departed) {
        agents[i].departed = true;
        agents[i].last_day = departure_day(&mut r, days);
        agents[i].fading = true;
    }
}

/// Rows per day: weekdays full, Saturdays 60 %, Sundays 50 %, ±5 % noise;
/// allocated by largest remainder so that they sum to exactly `rows`.
fn plan_days(seed: u64, rows: u64, days: u32, start_day: i64) -> (Vec<u64>, Vec<u64>) {
    let key = stream_key(seed, domain::DAYS);
    let weights: Vec<f64> = (0..days)
        .map(|d| {
            let base = match weekday(start_day + i64::from(d)) {
                5 => 0.6,
                6 => 0.5,
                _ => 1.0,
            };
            base * (0.95 + 0.1 * Rng::for_item(key, d, 0).f64())
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| rows as f64 * w / total).collect();
    let mut day_rows: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let assigned: u64 = day_rows.iter().sum();
    let mut order: Vec<usize> = (0..days as usize).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    let mut left = rows.saturating_sub(assigned);
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        day_rows[i] += 1;
        left -= 1;
    }
    let mut day_offset = Vec::with_capacity(days as usize);
    let mut acc = 0;
    for r in &day_rows {
        day_offset.push(acc);
        acc += r;
    }
    (day_rows, day_offset)
}

/// One to three understaffed half-hours per day, in business hours, in
/// queues drawn by volume; none on days too small for it to show.
fn plan_understaffed(seed: u64, days: u32, day_rows: &[u64]) -> Vec<Understaffed> {
    let key = stream_key(seed, domain::UNDERSTAFFED);
    let queue_cdf = cumulative(&QUEUE_SHARE);
    let mut out = Vec::new();
    for day in 0..days {
        if day_rows[day as usize] < 2_000 {
            continue;
        }
        let mut r = Rng::for_item(key, day, 0);
        let n = 1 + r.below(3);
        for _ in 0..n {
            let u = Understaffed {
                day,
                interval: 16 + r.below(20) as usize,
                queue: r.pick(&queue_cdf),
            };
            if !out.iter().any(|o: &Understaffed| {
                o.day == u.day && o.interval == u.interval && o.queue == u.queue
            }) {
                out.push(u);
            }
        }
    }
    out.sort_by_key(|u| (u.day, u.interval, u.queue));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileFormat;

    fn cfg(rows: u64) -> GenConfig {
        GenConfig {
            rows,
            seed: 9,
            start: (2026, 10, 1),
            days: 31,
            agents: None,
            format: FileFormat::Csv,
            layout: crate::Layout::Generic,
            quote_text: false,
        }
    }

    #[test]
    fn day_rows_sum_exactly_and_weekends_are_lighter() {
        for rows in [0, 1, 7, 31, 1_000, 123_457] {
            let w = World::new(&cfg(rows));
            assert_eq!(w.day_rows.iter().sum::<u64>(), rows);
        }
        let w = World::new(&cfg(310_000));
        // 2026-10-03 is a Saturday, 2026-10-05 a Monday.
        assert!(w.day_rows[2] < w.day_rows[4] * 7 / 10);
        assert_eq!(w.day_offset[1], w.day_rows[0]);
    }

    #[test]
    fn agent_count_teams_and_plans() {
        let w = World::new(&cfg(1_860_000));
        assert_eq!(w.agents.len(), 1000);
        assert_eq!(w.agents[0].id, "A0001");
        assert_eq!(w.team_names.len(), 84);
        assert_eq!(w.team_names[0], "team-01");
        for pair in w.agents.windows(2) {
            if pair[0].team == pair[1].team {
                assert_eq!(pair[0].site, pair[1].site);
            }
        }
        assert_eq!(w.agents.iter().map(|a| a.site).max(), Some(2));
        let departed = w.agents.iter().filter(|a| a.departed).count();
        assert!((40..=130).contains(&departed), "{departed} departed");
        assert!(
            w.agents
                .iter()
                .filter(|a| a.departed)
                .all(|a| (9..=16).contains(&a.last_day))
        );
        assert!(w.agents.iter().any(|a| a.first_day > 0));
        assert!(w.agents.iter().any(|a| a.breach_prone));
        for q in 0..QUEUES.len() {
            assert!(w.agents.iter().any(|a| a.queue == q), "queue {q} unstaffed");
        }
        assert_eq!(World::new(&cfg(10)).agents.len(), 8);
    }

    #[test]
    fn agents_work_five_days_of_seven() {
        let w = World::new(&cfg(100_000));
        for a in w.agents.iter().filter(|a| a.first_day == 0 && !a.departed) {
            let worked = (0..28).filter(|&d| a.works(d, w.start_day)).count();
            assert_eq!(worked, 20, "{}", a.id);
        }
    }
}
