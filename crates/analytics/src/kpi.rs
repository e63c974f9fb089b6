//! KPIs per grouping (SPEC §8).
//!
//! One lazy query aggregates counts and sums per group; ratios are computed
//! from those (a zero denominator gives null). FCR needs every contact of a
//! customer in time order, so it is a second query: the inbound contacts
//! with a `customer_key`, sorted by (customer, arrival), walked once by
//! [`crate::fcr::resolved`], aggregated per group and joined on the keys.
//! Exact definitions: ARCHITECTURE.md, "KPI definitions".

use polars::prelude::*;

use crate::Error;
use crate::fcr;
use crate::scan::Source;
use crate::time::{
    DAY_US, Interval, Shifts, Zone, div_floor_expr, format_day, format_month, rem_euclid_expr,
};

/// A `--by` grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `agent_id`.
    Agent,
    /// `team`.
    Team,
    /// `site`.
    Site,
    /// `queue`.
    Queue,
    /// `channel`.
    Channel,
    /// Local `date`.
    Day,
    /// `shift_date`, `shift`.
    Shift,
    /// `interval_start`.
    Interval,
    /// `week` (the Monday).
    Week,
    /// `month` (`YYYY-MM`).
    Month,
}

impl Group {
    /// Every grouping, in SPEC order.
    pub const ALL: [Group; 10] = [
        Group::Agent,
        Group::Team,
        Group::Site,
        Group::Queue,
        Group::Channel,
        Group::Day,
        Group::Shift,
        Group::Interval,
        Group::Week,
        Group::Month,
    ];

    /// The name used in `--by`.
    pub fn name(self) -> &'static str {
        match self {
            Group::Agent => "agent",
            Group::Team => "team",
            Group::Site => "site",
            Group::Queue => "queue",
            Group::Channel => "channel",
            Group::Day => "day",
            Group::Shift => "shift",
            Group::Interval => "interval",
            Group::Week => "week",
            Group::Month => "month",
        }
    }

    /// The key columns it adds to the output, in order.
    pub fn key_columns(self) -> &'static [&'static str] {
        match self {
            Group::Agent => &["agent_id"],
            Group::Team => &["team"],
            Group::Site => &["site"],
            Group::Queue => &["queue"],
            Group::Channel => &["channel"],
            Group::Day => &["date"],
            Group::Shift => &["shift_date", "shift"],
            Group::Interval => &["interval_start"],
            Group::Week => &["week"],
            Group::Month => &["month"],
        }
    }

    /// Parses a comma-separated `--by` list (no repeats; empty = totals).
    pub fn parse_list(s: &str) -> Result<Vec<Group>, Error> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = part.to_ascii_lowercase();
            let g = Group::ALL
                .into_iter()
                .find(|g| g.name() == lower || (lower == "date" && *g == Group::Day))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown grouping {part:?} in --by; choose from {}",
                        Group::ALL.map(Group::name).join(", ")
                    ))
                })?;
            if out.contains(&g) {
                return Err(Error::Usage(format!("--by names {part:?} twice")));
            }
            out.push(g);
        }
        Ok(out)
    }
}

/// How `service_level` is computed (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlVariant {
    /// answered ≤ T ÷ (offered − short abandoned): the default.
    ExclShort,
    /// answered ≤ T ÷ offered.
    Offered,
    /// answered ≤ T ÷ (answered + abandoned), the Genesys default.
    AnsweredPlusAbandoned,
    /// (answered ≤ T + abandoned ≤ T) ÷ offered.
    AbandPositive,
    /// answered ≤ T ÷ answered.
    Answered,
}

impl SlVariant {
    /// Every variant.
    pub const ALL: [SlVariant; 5] = [
        SlVariant::ExclShort,
        SlVariant::Offered,
        SlVariant::AnsweredPlusAbandoned,
        SlVariant::AbandPositive,
        SlVariant::Answered,
    ];

    /// Its name in flags, config and output.
    pub fn name(self) -> &'static str {
        match self {
            SlVariant::ExclShort => "excl_short",
            SlVariant::Offered => "offered",
            SlVariant::AnsweredPlusAbandoned => "answered_plus_abandoned",
            SlVariant::AbandPositive => "aband_positive",
            SlVariant::Answered => "answered",
        }
    }

    /// Parses a variant name.
    pub fn parse(s: &str) -> Result<SlVariant, Error> {
        SlVariant::ALL
            .into_iter()
            .find(|v| v.name() == s.trim())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown service-level variant {s:?}; choose from {}",
                    SlVariant::ALL.map(SlVariant::name).join(", ")
                ))
            })
    }
}

/// Everything a KPI query needs.
#[derive(Debug, Clone)]
pub struct KpiParams {
    /// Groupings, in output order (empty: one row of totals).
    pub by: Vec<Group>,
    /// Site zone for days, intervals and shifts.
    pub zone: Zone,
    /// Interval length for `Group::Interval`.
    pub interval: Interval,
    /// Shift windows for `Group::Shift`.
    pub shifts: Shifts,
    /// First local day (days since the epoch), inclusive.
    pub from: Option<i64>,
    /// Last local day, inclusive.
    pub to: Option<i64>,
    /// Service-level threshold T, ms (default 20 s).
    pub threshold_ms: i64,
    /// Abandons shorter than this are short, ms (default 5 s).
    pub short_abandon_ms: i64,
    /// Service-level variant.
    pub sl_variant: SlVariant,
    /// FCR window, ms (default 72 h).
    pub fcr_window_ms: i64,
}

impl KpiParams {
    /// SPEC defaults for the given groupings.
    pub fn new(by: Vec<Group>) -> KpiParams {
        KpiParams {
            by,
            zone: Zone::utc(),
            interval: Interval::M30,
            shifts: Shifts::defaults(),
            from: None,
            to: None,
            threshold_ms: 20_000,
            short_abandon_ms: 5_000,
            sl_variant: SlVariant::ExclShort,
            fcr_window_ms: 72 * 3_600_000,
        }
    }

    /// Whether the output has the queue-side columns (no `agent` grouping).
    pub fn queue_side(&self) -> bool {
        !self.by.contains(&Group::Agent)
    }

    /// Output key columns, in order.
    pub fn key_columns(&self) -> Vec<&'static str> {
        self.by
            .iter()
            .flat_map(|g| g.key_columns().iter().copied())
            .collect()
    }

    /// Every output column, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut cols = self.key_columns();
        if self.queue_side() {
            cols.extend(QUEUE_COLUMNS);
        }
        cols.extend(AGENT_COLUMNS);
        cols
    }

    /// `[lo, hi)` in µs UTC from `from`/`to`.
    fn bounds(&self) -> Result<(Option<i64>, Option<i64>), Error> {
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            return Err(Error::Usage(format!(
                "--from {} is after --to {}",
                format_day(f),
                format_day(t)
            )));
        }
        let lo = self.from.map(|d| self.zone.day_start_utc(d)).transpose()?;
        let hi = self
            .to
            .map(|d| self.zone.day_start_utc(d + 1))
            .transpose()?;
        Ok((lo, hi))
    }
}

/// Queue-side columns (groupings without `agent`).
pub const QUEUE_COLUMNS: [&str; 9] = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "service_level",
    "sl_variant",
    "sl_threshold_s",
    "abandon_rate",
    "asa_s",
];

/// Agent-side columns (every grouping).
pub const AGENT_COLUMNS: [&str; 13] = [
    "handled",
    "aht_s",
    "avg_talk_s",
    "avg_hold_s",
    "avg_acw_s",
    "hold_rate",
    "transfer_rate",
    "fcr_rate",
    "fcr_eligible",
    "csat_avg",
    "csat_responses",
    "csat_top2",
    "occupancy",
];

const T: &str = "__t";
const LOCAL: &str = "__local";
const ALL_KEY: &str = "__all";

/// Computes the KPI table: key columns (formatted as SPEC §8 says), then the
/// queue-side and agent-side columns, sorted by the keys.
///
/// One scan reads the columns the KPIs need for the selected days and one
/// FCR window after them (repeats may come later); the FCR flags are
/// computed per row on the collected frame ([`fcr_flags`]); then one
/// group-by aggregates everything.
pub fn kpi(source: &Source, p: &KpiParams) -> Result<DataFrame, Error> {
    let (lo, hi) = p.bounds()?;
    if source.files_between(lo, hi).is_empty() {
        return empty_table(p);
    }
    let window_us = p.fcr_window_ms * 1000;
    let repeat_hi = hi.map(|h| h.saturating_add(window_us));
    let files = source.files_between(lo, repeat_hi);
    let last_arrival = source.last_arrival_us()?.unwrap_or(i64::MIN);
    let (first_day, last_day) = source.day_range().unwrap_or((0, 0));
    // Offsets must be exact for every arrival the scan can see.
    let zone_lo = first_day * DAY_US - DAY_US;
    let zone_hi = (last_day + 2) * DAY_US;
    let keys = key_exprs(p);
    let mut key_names: Vec<PlSmallStr> = keys.iter().map(|(n, _)| (*n).into()).collect();
    let mut with: Vec<Expr> = keys.iter().map(|(n, e)| e.clone().alias(*n)).collect();
    if keys.is_empty() {
        key_names.push(ALL_KEY.into());
        with.push(lit(0i32).alias(ALL_KEY));
    }
    let key_cols: Vec<Expr> = key_names.iter().map(|n| col(n.clone())).collect();

    let mut lf = source
        .scan(&files)?
        .with_column(col("arrived_at").cast(DataType::Int64).alias(T));
    if let Some(lo) = lo {
        lf = lf.filter(col(T).gt_eq(lit(lo)));
    }
    if let Some(hi) = repeat_hi {
        lf = lf.filter(col(T).lt(lit(hi)));
    }
    let offset = p.zone.offset_expr(col(T), zone_lo, zone_hi);
    let mut select = key_cols.clone();
    select.push(col(T));
    select.extend(row_columns(p));
    // FCR inputs, used by `fcr_flags` and dropped before the group-by.
    select.extend([
        col("customer_key").alias(CUSTOMER),
        coalesce(&[col("chain_id"), col("interaction_id")]).alias(CHAIN),
    ]);
    let mut df = lf
        .with_column((col(T) + offset).alias(LOCAL))
        .with_columns(with)
        .select(select)
        .collect()
        .map_err(|e| match Source::find_broken(&files) {
            Some((file, why)) => Error::Broken(format!(
                "{}: {why}; the dataset cannot be read until it is restored or removed",
                file.display()
            )),
            None => Error::polars(format!("reading {}", source.root().display()))(e),
        })?;

    let (eligible, ok) = fcr_flags(&mut df, hi, window_us, last_arrival)?;
    let err = Error::polars("adding the FCR flags");
    df.with_column(eligible).map_err(err)?;
    df.with_column(ok)
        .map_err(Error::polars("adding the FCR flags"))?;

    let mut lf = df.lazy();
    if let Some(hi) = hi {
        lf = lf.filter(col(T).lt(lit(hi)));
    }
    let mut aggs = agent_aggs();
    aggs.push(count(col(FCR_ELIGIBLE)).alias("fcr_eligible"));
    aggs.push(count(col(FCR_OK)).alias("__fcr_ok"));
    if p.queue_side() {
        aggs.extend(queue_aggs());
    } else {
        lf = lf.filter(col(ANSWERED));
    }
    let mut out: Vec<Expr> = key_names
        .iter()
        .map(|n| {
            if is_dimension(n) {
                col(n.clone()).cast(DataType::String)
            } else {
                col(n.clone())
            }
        })
        .collect();
    if p.queue_side() {
        out.extend(queue_outputs(p));
    }
    out.extend(agent_outputs());
    let sorted = lf
        .group_by(key_cols)
        .agg(aggs)
        .select(out)
        .sort(
            key_names.clone(),
            SortMultipleOptions::new()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()
        .map_err(Error::polars(format!(
            "computing KPIs over {}",
            source.root().display()
        )))?;
    finish(sorted, p)
}

const ANSWERED: &str = "__answered";
const INBOUND: &str = "__inbound";
const CUSTOMER: &str = "__customer";
const CHAIN: &str = "__chain";
const FCR_ELIGIBLE: &str = "__fcr_eligible";
const FCR_OK: &str = "__fcr_ok_row";

fn is_dimension(name: &str) -> bool {
    matches!(name, "agent_id" | "team" | "site" | "queue" | "channel")
}

/// Per row: whether it is an eligible FCR subject, and whether it is an
/// eligible subject that was resolved (SPEC §8; ARCHITECTURE.md).
///
/// The inbound contacts with a customer are sorted by (customer, arrival)
/// as plain numbers — a pseudonym is 128 bits of hex, read as a `u128`
/// exactly (other keys get dense ids) — and walked once by
/// [`fcr::resolved`]. The customer column is dropped from `df` as soon as
/// it has been read, the chain column once the walk is done.
fn fcr_flags(
    df: &mut DataFrame,
    hi: Option<i64>,
    window_us: i64,
    last_arrival: i64,
) -> Result<(Column, Column), Error> {
    let err = || Error::polars("FCR");
    let n = df.height();
    let mut rows = match candidates(df, false)? {
        Some(rows) => rows,
        None => candidates(df, true)?.unwrap_or_default(),
    };
    df.drop_in_place(CUSTOMER).map_err(err())?;
    sort_parallel(&mut rows);

    let chain_col = df.column(CHAIN).and_then(|c| c.str()).map_err(err())?;
    let chains: Vec<Option<&str>> = chain_col.iter().collect();
    let resolved = fcr::resolved_by(
        rows.len(),
        |j| rows[j].0,
        |j| rows[j].1,
        |j| chains[rows[j].2 as usize].unwrap_or(""),
        window_us,
    );
    drop(chains);

    let answered: Vec<bool> = df
        .column(ANSWERED)
        .and_then(|c| c.bool())
        .map_err(err())?
        .iter()
        .map(|a| a == Some(true))
        .collect();
    let mut eligible = vec![false; n];
    let mut ok = vec![false; n];
    for (&(_, t, i), res) in rows.iter().zip(resolved) {
        let i = i as usize;
        let in_range = hi.is_none_or(|h| t < h);
        if answered[i] && in_range && t.saturating_add(window_us) < last_arrival {
            eligible[i] = true;
            ok[i] = res;
        }
    }
    df.drop_in_place(CHAIN).map_err(err())?;
    Ok((
        Column::new(FCR_ELIGIBLE.into(), eligible),
        Column::new(FCR_OK.into(), ok),
    ))
}

/// `(customer number, arrival, row)`.
type Candidate = (u128, i64, u32);

/// `(customer number, arrival, row)` of every inbound contact with a
/// customer. With `dense == false` the numbers are the pseudonyms' own
/// 128 bits, and `None` comes back at the first key that is not one.
fn candidates(df: &DataFrame, dense: bool) -> Result<Option<Vec<Candidate>>, Error> {
    let err = || Error::polars("FCR");
    let customers = df.column(CUSTOMER).and_then(|c| c.str()).map_err(err())?;
    let times = df.column(T).and_then(|c| c.i64()).map_err(err())?;
    let inbound = df.column(INBOUND).and_then(|c| c.bool()).map_err(err())?;
    let mut ids: std::collections::HashMap<&str, u128> = std::collections::HashMap::new();
    let wanted = customers
        .iter()
        .zip(inbound.iter())
        .filter(|(c, inb)| c.is_some() && *inb == Some(true))
        .count();
    let mut rows = Vec::with_capacity(wanted);
    let all = customers.iter().zip(times.iter()).zip(inbound.iter());
    for (i, ((c, t), inb)) in all.enumerate() {
        let (Some(c), Some(t), Some(true)) = (c, t, inb) else {
            continue;
        };
        let key = if dense {
            let next = ids.len() as u128;
            *ids.entry(c).or_insert(next)
        } else {
            match fcr::hex_key(c) {
                Some(k) => k,
                None => return Ok(None),
            }
        };
        rows.push((key, t, i as u32));
    }
    Ok(Some(rows))
}

/// Sorts on two threads without extra memory: move the rows whose customer
/// number has its top bit clear to the front (they sort before all others),
/// then sort both parts.
fn sort_parallel(rows: &mut [Candidate]) {
    let mut mid = 0;
    for i in 0..rows.len() {
        if rows[i].0 >> 127 == 0 {
            rows.swap(i, mid);
            mid += 1;
        }
    }
    let (low, high) = rows.split_at_mut(mid);
    std::thread::scope(|s| {
        s.spawn(|| high.sort_unstable());
        low.sort_unstable();
    });
}

/// The raw key expressions: strings for dimensions, integers for time keys
/// (formatted in [`finish`]).
fn key_exprs(p: &KpiParams) -> Vec<(&'static str, Expr)> {
    let local = || col(LOCAL);
    let day = || div_floor_expr(local(), DAY_US);
    // Dimensions stay categorical until after the group-by.
    let dim = |name: &'static str| (name, col(name));
    let mut out = Vec::new();
    for g in &p.by {
        match g {
            Group::Agent => out.push(dim("agent_id")),
            Group::Team => out.push(dim("team")),
            Group::Site => out.push(dim("site")),
            Group::Queue => out.push(dim("queue")),
            Group::Channel => out.push(dim("channel")),
            Group::Day => out.push(("date", day())),
            Group::Week => out.push(("week", day() - rem_euclid_expr(day() + lit(3i64), 7))),
            Group::Month => {
                let date = day().cast(DataType::Int32).cast(DataType::Date);
                out.push((
                    "month",
                    date.clone().dt().year().cast(DataType::Int64) * lit(12i64)
                        + date.dt().month().cast(DataType::Int64)
                        - lit(1i64),
                ));
            }
            Group::Shift => {
                let (index, date) = p.shifts.exprs(local());
                out.push(("shift_date", date));
                out.push(("shift", index));
            }
            Group::Interval => {
                let e = if p.interval == Interval::D1 {
                    day()
                } else {
                    // Local floor, back to UTC with the offset at arrival:
                    // the repeated hour of a fall-back day stays two intervals.
                    let iv = p.interval.micros();
                    local() - rem_euclid_expr(local(), iv) - (local() - col(T))
                };
                out.push(("interval_start", e));
            }
        }
    }
    out
}

fn count(e: Expr) -> Expr {
    e.cast(DataType::Int64).sum()
}

fn sum(name: &str) -> Expr {
    col(name.to_string()).sum().cast(DataType::Int64)
}

/// `name` on handled rows, 0 on the others (SPEC §3 says they are 0 there
/// anyway; this does not rely on it).
fn handled_only(name: &str) -> Expr {
    when(col("answered_at").is_not_null())
        .then(col(name.to_string()))
        .otherwise(lit(0i64))
        .alias(name.to_string())
}

/// Per-row columns the group-by only has to sum: flags (booleans) and
/// durations, each already restricted to the contacts it counts.
fn row_columns(p: &KpiParams) -> Vec<Expr> {
    let answered = col("answered_at").is_not_null();
    let inbound = col("direction").eq(lit("inbound"));
    let aband = col("abandoned").fill_null(lit(false));
    let wait = col("wait_ms");
    let ib_ans = inbound.clone().and(answered.clone());
    let ib_ab = inbound.clone().and(aband);
    let csat = when(answered.clone())
        .then(col("csat").cast(DataType::Int64))
        .otherwise(lit(NULL).cast(DataType::Int64));
    vec![
        answered.clone().alias(ANSWERED),
        inbound.alias(INBOUND),
        ib_ans.clone().alias("__ib_answered"),
        ib_ab.clone().alias("__ib_abandoned"),
        ib_ab
            .clone()
            .and(wait.clone().lt(lit(p.short_abandon_ms)))
            .alias("__short"),
        ib_ans
            .clone()
            .and(wait.clone().lt_eq(lit(p.threshold_ms)))
            .alias("__ans_in_t"),
        ib_ab
            .and(wait.clone().lt_eq(lit(p.threshold_ms)))
            .alias("__ab_in_t"),
        when(ib_ans).then(wait).otherwise(lit(0i64)).alias("__wait"),
        handled_only("handle_ms"),
        handled_only("talk_ms"),
        handled_only("hold_ms"),
        handled_only("acw_ms"),
        answered
            .clone()
            .and(col("hold_ms").gt(lit(0i64)))
            .alias("__held"),
        answered
            .and(col("transferred").fill_null(lit(false)))
            .alias("__transferred"),
        csat.clone().is_not_null().alias("__surveyed"),
        csat.clone()
            .fill_null(lit(0i64))
            .gt_eq(lit(4i64))
            .alias("__top2"),
        csat.alias("__csat"),
    ]
}

fn queue_aggs() -> Vec<Expr> {
    vec![
        count(col(INBOUND)).alias("offered"),
        count(col("__ib_answered")).alias("answered"),
        count(col("__ib_abandoned")).alias("abandoned"),
        count(col("__short")).alias("short_abandoned"),
        count(col("__ans_in_t")).alias("__ans_in_t"),
        count(col("__ab_in_t")).alias("__ab_in_t"),
        sum("__wait").alias("__wait_sum"),
    ]
}

fn agent_aggs() -> Vec<Expr> {
    vec![
        count(col(ANSWERED)).alias("handled"),
        sum("handle_ms").alias("__handle_sum"),
        sum("talk_ms").alias("__talk_sum"),
        sum("hold_ms").alias("__hold_sum"),
        sum("acw_ms").alias("__acw_sum"),
        count(col("__held")).alias("__held"),
        count(col("__transferred")).alias("__transferred"),
        count(col("__surveyed")).alias("csat_responses"),
        sum("__csat").alias("__csat_sum"),
        count(col("__top2")).alias("__csat_top2"),
    ]
}

/// `num ÷ den`, null when `den` is 0.
fn ratio(num: Expr, den: Expr) -> Expr {
    when(den.clone().gt(lit(0i64)))
        .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn queue_outputs(p: &KpiParams) -> Vec<Expr> {
    let c = |n: &str| col(n.to_string());
    let net = c("offered") - c("short_abandoned");
    let in_t = c("__ans_in_t");
    let sl = match p.sl_variant {
        SlVariant::ExclShort => ratio(in_t, net.clone()),
        SlVariant::Offered => ratio(in_t, c("offered")),
        SlVariant::AnsweredPlusAbandoned => ratio(in_t, c("answered") + c("abandoned")),
        SlVariant::AbandPositive => ratio(in_t + c("__ab_in_t"), c("offered")),
        SlVariant::Answered => ratio(in_t, c("answered")),
    };
    vec![
        c("offered"),
        c("answered"),
        c("abandoned"),
        c("short_abandoned"),
        sl.alias("service_level"),
        lit(p.sl_variant.name()).alias("sl_variant"),
        lit(p.threshold_ms as f64 / 1000.0).alias("sl_threshold_s"),
        ratio(c("abandoned") - c("short_abandoned"), net).alias("abandon_rate"),
        (ratio(c("__wait_sum"), c("answered")) / lit(1000.0)).alias("asa_s"),
    ]
}

fn agent_outputs() -> Vec<Expr> {
    let c = |n: &str| col(n.to_string());
    let secs = |sum: &str| ratio(c(sum), c("handled")) / lit(1000.0);
    vec![
        c("handled"),
        secs("__handle_sum").alias("aht_s"),
        secs("__talk_sum").alias("avg_talk_s"),
        secs("__hold_sum").alias("avg_hold_s"),
        secs("__acw_sum").alias("avg_acw_s"),
        ratio(c("__held"), c("handled")).alias("hold_rate"),
        ratio(c("__transferred"), c("handled")).alias("transfer_rate"),
        ratio(
            c("__fcr_ok").fill_null(lit(0i64)),
            c("fcr_eligible").fill_null(lit(0i64)),
        )
        .alias("fcr_rate"),
        c("fcr_eligible").fill_null(lit(0i64)).alias("fcr_eligible"),
        ratio(c("__csat_sum"), c("csat_responses")).alias("csat_avg"),
        c("csat_responses"),
        ratio(c("__csat_top2"), c("csat_responses")).alias("csat_top2"),
        lit(NULL).cast(DataType::Float64).alias("occupancy"),
    ]
}

/// Formats the raw keys (day numbers, µs instants, shift indexes) and drops
/// the internal all-rows key.
fn finish(mut df: DataFrame, p: &KpiParams) -> Result<DataFrame, Error> {
    let err = || Error::polars("formatting KPI keys");
    if p.by.is_empty() {
        df = df.drop(ALL_KEY).map_err(err())?;
    }
    for g in &p.by {
        for &name in g.key_columns() {
            let fmt: Option<Box<dyn Fn(i64) -> String>> = match (g, name) {
                (Group::Day | Group::Week, _) | (Group::Shift, "shift_date") => {
                    Some(Box::new(format_day))
                }
                (Group::Month, _) => Some(Box::new(format_month)),
                (Group::Shift, _) => {
                    let names: Vec<String> =
                        p.shifts.list().iter().map(|s| s.name.clone()).collect();
                    Some(Box::new(move |i| names[i as usize].clone()))
                }
                (Group::Interval, _) if p.interval == Interval::D1 => {
                    let zone = p.zone.clone();
                    Some(Box::new(move |day| {
                        zone.format_instant(zone.day_start_utc(day).unwrap_or(day * DAY_US))
                    }))
                }
                (Group::Interval, _) => {
                    let zone = p.zone.clone();
                    Some(Box::new(move |us| zone.format_instant(us)))
                }
                _ => None,
            };
            let Some(fmt) = fmt else { continue };
            let raw = df
                .column(name)
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(err())?;
            let values: Vec<Option<String>> = raw
                .i64()
                .map_err(err())?
                .iter()
                .map(|v| v.map(&fmt))
                .collect();
            df.with_column(Column::new(name.into(), values))
                .map_err(err())?;
        }
    }
    Ok(df)
}

/// A table with the right columns and no rows.
fn empty_table(p: &KpiParams) -> Result<DataFrame, Error> {
    let cols: Vec<Column> = p
        .columns()
        .into_iter()
        .map(|name| {
            let dtype = column_dtype(name);
            Column::new_empty(name.into(), &dtype)
        })
        .collect();
    DataFrame::new(0, cols).map_err(Error::polars("building an empty KPI table"))
}

/// The output type of a KPI column.
pub fn column_dtype(name: &str) -> DataType {
    match name {
        "offered" | "answered" | "abandoned" | "short_abandoned" | "handled" | "fcr_eligible"
        | "csat_responses" => DataType::Int64,
        n if n.ends_with("_s") || n.ends_with("_rate") || n.ends_with("_avg") => DataType::Float64,
        "service_level" | "csat_top2" | "occupancy" => DataType::Float64,
        _ => DataType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five contacts: customer, arrival, inbound?, chain; all answered.
    fn frame(customers: [&str; 5]) -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new(CUSTOMER.into(), customers.map(Some)),
            Column::new(T.into(), [0i64, 10, 20, 30, 40]),
            Column::new(INBOUND.into(), [true, true, true, false, true]),
            Column::new(ANSWERED.into(), [true; 5]),
            Column::new(CHAIN.into(), ["x", "y", "z", "w", "v"].map(Some)),
        ])
        .expect("frame")
    }

    fn flags(customers: [&str; 5]) -> (Vec<bool>, Vec<bool>) {
        let mut df = frame(customers);
        let (e, o) = fcr_flags(&mut df, None, 25, 1000).expect("flags");
        let v = |c: Column| {
            c.bool()
                .expect("bool")
                .iter()
                .map(|b| b == Some(true))
                .collect()
        };
        (v(e), v(o))
    }

    #[test]
    fn foreign_customer_keys_get_the_same_answers_as_pseudonyms() {
        let a = "000000000000000000000000000000aa";
        let b = "000000000000000000000000000000bb";
        // a@0 sees a@20 on another chain within 25: not resolved. a@30 is
        // outbound: neither a subject nor a repeat. b@10 -> b@40 is 30 later.
        let want = (
            vec![true, true, true, false, true],
            vec![false, true, true, false, true],
        );
        assert_eq!(flags([a, b, a, a, b]), want);
        assert_eq!(flags(["alice", "Bob", "alice", "alice", "Bob"]), want);
        // Upper-case hex is not a pseudonym: dense ids, same answers.
        assert_eq!(flags(["AA", "bb", "AA", "AA", "bb"]), want);
    }
}
