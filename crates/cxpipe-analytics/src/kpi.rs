//! KPIs per grouping (SPEC §8).
//!
//! A lazy polars query computes, batch by batch, each row's group keys and
//! the flags and durations the KPIs count; [`crate::agg::Groups`] sums them
//! per group in one pass. FCR needs every contact of a customer in time
//! order: the inbound contacts with a `customer_key` are collected as
//! compact [`Candidates`], sorted by (customer, arrival) and walked once by
//! [`crate::fcr::resolved_by`]. Ratios are computed from the sums (a zero
//! denominator gives null). Exact definitions: ARCHITECTURE.md, "KPI
//! definitions".

use std::path::PathBuf;

use polars::prelude::*;

use crate::Error;
use crate::agg::{Groups, KeyKind};
use crate::fcr::{Candidates, NOT_A_SUBJECT};
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
    /// Parquet bytes read per batch (default 64 MiB): bounds the memory of
    /// a query, whatever the size of the dataset. Results do not depend on it.
    pub batch_bytes: u64,
    /// Only rows where this is true are read (SLA scopes); rows outside are
    /// neither counted nor searched as FCR repeats.
    pub filter: Option<Expr>,
    /// Whether to compute FCR (`fcr_rate` and `fcr_eligible` are null and
    /// 0 without it).
    pub fcr: bool,
    /// Extra output columns: per group, the number of counted rows (the
    /// same rows as `handled` with `agent` in `--by`, else every row in
    /// range) where the boolean expression is true.
    pub counts: Vec<(String, Expr)>,
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
            batch_bytes: 64 << 20,
            filter: None,
            fcr: true,
            counts: Vec::new(),
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

    /// The names of the extra [`KpiParams::counts`] columns, after the others.
    pub fn count_columns(&self) -> impl Iterator<Item = &str> {
        self.counts.iter().map(|(n, _)| n.as_str())
    }

    /// `[lo, hi)` in µs UTC from `from`/`to`.
    pub(crate) fn bounds(&self) -> Result<(Option<i64>, Option<i64>), Error> {
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

/// The arrival as µs UTC (`Int64`), added by [`Source::scan_range`].
pub(crate) const T: &str = "__t";
const LOCAL: &str = "__local";
const ALL_KEY: &str = "__all";

/// Computes the KPI table: key columns (formatted as SPEC §8 says), then the
/// queue-side and agent-side columns, sorted by the keys.
///
/// The files of the selected days, and of one FCR window after them
/// (repeats may come later), are read in batches of about
/// [`KpiParams::batch_bytes`]. polars computes per row the group keys and
/// the flags and durations each KPI counts ([`row_columns`]); [`Groups`]
/// adds them up per group, and the inbound contacts with a customer go to
/// [`Candidates`]. A second thread reads the next batch meanwhile. Once
/// every batch is in, the FCR walk adds its counts to the groups, and the
/// ratios are computed from the sums (a zero denominator gives null).
pub fn kpi(source: &Source, p: &KpiParams) -> Result<DataFrame, Error> {
    let (lo, hi) = p.bounds()?;
    if source.files_between(lo, hi).is_empty() {
        return empty_table(p);
    }
    let window_us = p.fcr_window_ms * 1000;
    let repeat_hi = hi.map(|h| h.saturating_add(window_us));
    let files = source.files_between(lo, repeat_hi);
    let last_arrival = source.last_arrival_us()?.unwrap_or(i64::MIN);
    let query = RowQuery::new(source, p, lo, repeat_hi);

    let mut sums: Vec<(PlSmallStr, Option<PlSmallStr>)> = Vec::new();
    let mut wanted: Vec<&str> = AGENT_SUMS.iter().map(|s| s.1).collect();
    if p.queue_side() {
        wanted.extend(QUEUE_SUMS.iter().map(|s| s.1));
        sums.extend(
            QUEUE_SUMS
                .iter()
                .map(|(o, r)| ((*o).into(), Some((*r).into()))),
        );
    }
    sums.extend(
        AGENT_SUMS
            .iter()
            .map(|(o, r)| ((*o).into(), Some((*r).into()))),
    );
    sums.push(("fcr_eligible".into(), None));
    sums.push(("__fcr_ok".into(), None));
    for (name, _) in &p.counts {
        let row = format!("__count_{name}");
        sums.push((name.as_str().into(), Some(row.as_str().into())));
    }
    let mut groups = Groups::new(query.keys(), sums);
    let fcr_eligible = groups.sum_index("fcr_eligible").unwrap_or_default();
    let fcr_ok = groups.sum_index("__fcr_ok").unwrap_or_default();
    let mut candidates = Candidates::default();

    let batches = batches(&files, p.batch_bytes);
    std::thread::scope(|s| -> Result<(), Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let query = &query;
        let wanted = &wanted;
        s.spawn(move || {
            for files in &batches {
                let batch = query.collect(files, wanted);
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        for batch in rx {
            add_batch(
                &batch?,
                p,
                hi,
                window_us,
                last_arrival,
                &mut groups,
                &mut candidates,
            )?;
        }
        Ok(())
    })?;
    candidates.resolve(window_us, |slot, ok| {
        groups.add_to(slot, fcr_eligible, 1);
        if ok {
            groups.add_to(slot, fcr_ok, 1);
        }
    });

    let key_names: Vec<PlSmallStr> = query.keys().into_iter().map(|(n, _)| n).collect();
    let mut out: Vec<Expr> = key_names.iter().map(|n| col(n.clone())).collect();
    if p.queue_side() {
        out.extend(queue_outputs(p));
    }
    out.extend(agent_outputs());
    out.extend(p.count_columns().map(|n| col(n.to_string())));
    let sorted = groups
        .into_frame()?
        .lazy()
        .select(out)
        .sort(
            key_names,
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

/// The per-row query over a batch of files: key columns, the arrival, the
/// [`row_columns`] and the FCR inputs.
struct RowQuery<'a> {
    source: &'a Source,
    p: &'a KpiParams,
    lo: Option<i64>,
    hi: Option<i64>,
    /// Where the zone's offsets must be exact (every arrival the scan sees).
    zone_lo: i64,
    zone_hi: i64,
}

impl<'a> RowQuery<'a> {
    fn new(source: &'a Source, p: &'a KpiParams, lo: Option<i64>, hi: Option<i64>) -> Self {
        let (first_day, last_day) = source.day_range().unwrap_or((0, 0));
        RowQuery {
            source,
            p,
            lo,
            hi,
            zone_lo: first_day * DAY_US - DAY_US,
            zone_hi: (last_day + 2) * DAY_US,
        }
    }

    /// The key columns, in output order (a constant one for totals).
    fn keys(&self) -> Vec<(PlSmallStr, KeyKind)> {
        let keys = key_exprs(self.p);
        if keys.is_empty() {
            return vec![(ALL_KEY.into(), KeyKind::Int)];
        }
        keys.into_iter()
            .map(|(n, _)| {
                let kind = if is_dimension(n) {
                    KeyKind::Dim
                } else {
                    KeyKind::Int
                };
                (n.into(), kind)
            })
            .collect()
    }

    /// Reads `files`, keeping the rows in range and the `wanted` row columns.
    fn collect(&self, files: &[PathBuf], wanted: &[&str]) -> Result<DataFrame, Error> {
        let keys = key_exprs(self.p);
        let mut select: Vec<Expr> = keys
            .iter()
            .map(|(n, e)| {
                if is_dimension(n) {
                    e.clone().alias(*n)
                } else {
                    e.clone().cast(DataType::Int64).alias(*n)
                }
            })
            .collect();
        if keys.is_empty() {
            select.push(lit(0i64).alias(ALL_KEY));
        }
        select.push(col(T));
        select.extend(
            row_columns(self.p)
                .into_iter()
                .filter(|(n, _)| [ANSWERED, INBOUND].contains(n) || wanted.contains(n))
                .map(|(n, e)| e.alias(n)),
        );
        for (name, e) in &self.p.counts {
            select.push(e.clone().alias(format!("__count_{name}")));
        }
        if self.p.fcr {
            select.extend([
                col("customer_key").alias(CUSTOMER),
                coalesce(&[col("chain_id"), col("interaction_id")]).alias(CHAIN),
            ]);
        }
        let mut lf = self.source.scan_range(files, self.lo, self.hi)?;
        if let Some(f) = &self.p.filter {
            lf = lf.filter(f.clone());
        }
        let offset = self.p.zone.offset_expr(col(T), self.zone_lo, self.zone_hi);
        let lf = lf
            .with_column((col(T) + offset).alias(LOCAL))
            .select(select);
        self.source.collect(lf, files)
    }
}

/// Splits `files` (in order) into batches of about `target` bytes.
fn batches(files: &[PathBuf], target: u64) -> Vec<Vec<PathBuf>> {
    let mut out: Vec<Vec<PathBuf>> = Vec::new();
    let mut size = 0;
    for f in files {
        let len = std::fs::metadata(f).map_or(0, |m| m.len());
        match out.last_mut() {
            Some(last) if size + len <= target || last.is_empty() => {
                size += len;
                last.push(f.clone());
            }
            _ => {
                size = len;
                out.push(vec![f.clone()]);
            }
        }
    }
    out
}

/// Adds one batch of rows: their sums to their groups, and the inbound
/// contacts with a customer to the FCR candidates.
///
/// Rows after `hi` (read only as possible repeats) belong to no group, and
/// neither do unanswered rows when the output is agent-side. A candidate
/// is an FCR subject when it was answered, is in range, and its window ends
/// at or before the dataset's last arrival (right-censoring: a window that
/// ends exactly at the last arrival was fully observed).
fn add_batch(
    df: &DataFrame,
    p: &KpiParams,
    hi: Option<i64>,
    window_us: i64,
    last_arrival: i64,
    groups: &mut Groups,
    candidates: &mut Candidates,
) -> Result<(), Error> {
    let err = || Error::polars("reading a batch of rows");
    let bools = |name: &str| -> Result<Vec<bool>, Error> {
        let c = df.column(name).and_then(|c| c.bool()).map_err(err())?;
        Ok(c.iter().map(|v| v == Some(true)).collect())
    };
    let times: Vec<i64> = df
        .column(T)
        .and_then(|c| c.i64())
        .map_err(err())?
        .iter()
        .map(|t| t.unwrap_or(i64::MAX))
        .collect();
    let answered = bools(ANSWERED)?;
    let inbound = bools(INBOUND)?;
    let in_range = |t: i64| hi.is_none_or(|h| t < h);
    let queue_side = p.queue_side();
    let slots = groups.assign(df, |i| in_range(times[i]) && (queue_side || answered[i]))?;
    groups.add(df, &slots)?;

    if !p.fcr {
        return Ok(());
    }
    let customers = df.column(CUSTOMER).and_then(|c| c.str()).map_err(err())?;
    let chains = df.column(CHAIN).and_then(|c| c.str()).map_err(err())?;
    for (i, (customer, chain)) in customers.iter().zip(chains.iter()).enumerate() {
        let (Some(customer), true) = (customer, inbound[i]) else {
            continue;
        };
        let t = times[i];
        let subject = answered[i] && in_range(t) && t.saturating_add(window_us) <= last_arrival;
        let slot = if subject { slots[i] } else { NOT_A_SUBJECT };
        candidates.push(customer, t, chain.unwrap_or(""), slot);
    }
    Ok(())
}

const ANSWERED: &str = "__answered";
const INBOUND: &str = "__inbound";
const CUSTOMER: &str = "__customer";
const CHAIN: &str = "__chain";

fn is_dimension(name: &str) -> bool {
    matches!(name, "agent_id" | "team" | "site" | "queue" | "channel")
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

/// `name` on handled rows, 0 on the others (SPEC §3 says they are 0 there
/// anyway; this does not rely on it).
fn handled_only(name: &str) -> Expr {
    when(col("answered_at").is_not_null())
        .then(col(name.to_string()))
        .otherwise(lit(0i64))
}

/// Per-row columns the group-by only has to sum: flags (booleans, counted
/// where true) and durations, each already restricted to the contacts it
/// counts.
fn row_columns(p: &KpiParams) -> Vec<(&'static str, Expr)> {
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
        (ANSWERED, answered.clone()),
        (INBOUND, inbound),
        ("__ib_answered", ib_ans.clone()),
        ("__ib_abandoned", ib_ab.clone()),
        (
            "__short",
            ib_ab.clone().and(wait.clone().lt(lit(p.short_abandon_ms))),
        ),
        (
            "__ans_in_t",
            ib_ans.clone().and(wait.clone().lt_eq(lit(p.threshold_ms))),
        ),
        (
            "__ab_in_t",
            ib_ab.and(wait.clone().lt_eq(lit(p.threshold_ms))),
        ),
        ("__wait", when(ib_ans).then(wait).otherwise(lit(0i64))),
        ("handle_ms", handled_only("handle_ms")),
        ("talk_ms", handled_only("talk_ms")),
        ("hold_ms", handled_only("hold_ms")),
        ("acw_ms", handled_only("acw_ms")),
        ("__held", answered.clone().and(col("hold_ms").gt(lit(0i64)))),
        (
            "__transferred",
            answered.and(col("transferred").fill_null(lit(false))),
        ),
        ("__surveyed", csat.clone().is_not_null()),
        ("__top2", csat.clone().fill_null(lit(0i64)).gt_eq(lit(4i64))),
        ("__csat", csat),
    ]
}

/// Queue-side sums: (output name, per-row column).
const QUEUE_SUMS: [(&str, &str); 7] = [
    ("offered", INBOUND),
    ("answered", "__ib_answered"),
    ("abandoned", "__ib_abandoned"),
    ("short_abandoned", "__short"),
    ("__ans_in_t", "__ans_in_t"),
    ("__ab_in_t", "__ab_in_t"),
    ("__wait_sum", "__wait"),
];

/// Agent-side sums: (output name, per-row column).
const AGENT_SUMS: [(&str, &str); 10] = [
    ("handled", ANSWERED),
    ("__handle_sum", "handle_ms"),
    ("__talk_sum", "talk_ms"),
    ("__hold_sum", "hold_ms"),
    ("__acw_sum", "acw_ms"),
    ("__held", "__held"),
    ("__transferred", "__transferred"),
    ("csat_responses", "__surveyed"),
    ("__csat_sum", "__csat"),
    ("__csat_top2", "__top2"),
];

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
            // Keys repeat (every agent has the same intervals): format
            // each distinct value once.
            let mut formatted: std::collections::HashMap<i64, String> =
                std::collections::HashMap::new();
            let values: Vec<Option<&str>> = {
                let ca = raw.i64().map_err(err())?;
                for v in ca.iter().flatten() {
                    formatted.entry(v).or_insert_with(|| fmt(v));
                }
                ca.iter()
                    .map(|v| v.and_then(|v| formatted.get(&v).map(String::as_str)))
                    .collect()
            };
            let column = Column::new(name.into(), values);
            df.with_column(column).map_err(err())?;
        }
    }
    Ok(df)
}

/// A table with the right columns and no rows.
fn empty_table(p: &KpiParams) -> Result<DataFrame, Error> {
    let cols: Vec<Column> = p
        .columns()
        .into_iter()
        .map(|name| Column::new_empty(name.into(), &column_dtype(name)))
        .chain(
            p.count_columns()
                .map(|name| Column::new_empty(name.into(), &DataType::Int64)),
        )
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
