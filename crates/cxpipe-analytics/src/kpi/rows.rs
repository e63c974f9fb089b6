//! The per-row half of the KPI query: polars computes, for each row of a
//! batch of files, its group keys (raw integers for time keys, formatted
//! later), the arrival, and the flags and durations each KPI counts, each
//! already restricted to the contacts it counts, so the group-by only adds
//! them up.

use std::path::PathBuf;

use cxpipe_model::{Direction, col};
use polars::prelude::{col as column, *};

use super::params::{Group, KpiParams};
use crate::Error;
use crate::agg::KeyKind;
use crate::names::*;
use crate::scan::{Partitions, T};
use crate::time::{DAY_US, Interval, div_floor_expr, rem_euclid_expr};

/// The arrival as local wall-clock µs.
const LOCAL: &str = "__local";
/// The constant key of a query without groupings (one row of totals).
pub(super) const ALL_KEY: &str = "__all";

/// The per-row query over a batch of files: key columns, the arrival, the
/// [`row_columns`] and the FCR inputs.
pub(super) struct RowQuery<'a> {
    source: &'a Partitions,
    p: &'a KpiParams,
    lo: Option<i64>,
    hi: Option<i64>,
    /// Where the zone's offsets must be exact (every arrival the scan
    /// sees), µs UTC ranges.
    zone_ranges: Vec<(i64, i64)>,
}

impl<'a> RowQuery<'a> {
    pub(super) fn new(
        source: &'a Partitions,
        p: &'a KpiParams,
        lo: Option<i64>,
        hi: Option<i64>,
    ) -> Self {
        RowQuery {
            source,
            p,
            lo,
            hi,
            zone_ranges: crate::time::zone_ranges(&source.day_runs(lo, hi)),
        }
    }

    /// The key columns, in output order (a constant one for totals).
    pub(super) fn keys(&self) -> Vec<(PlSmallStr, KeyKind)> {
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
    pub(super) fn collect(&self, files: &[PathBuf], wanted: &[&str]) -> Result<DataFrame, Error> {
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
        select.push(column(T));
        select.extend(
            row_columns(self.p)
                .into_iter()
                .filter(|(n, _)| [ANSWERED_ROW, INBOUND].contains(n) || wanted.contains(n))
                .map(|(n, e)| e.alias(n)),
        );
        for (name, e) in &self.p.counts {
            select.push(e.clone().alias(format!("__count_{name}")));
        }
        if self.p.fcr {
            select.extend([
                column(col::CUSTOMER_KEY).alias(CUSTOMER),
                coalesce(&[column(col::CHAIN_ID), column(col::INTERACTION_ID)]).alias(CHAIN),
            ]);
        }
        let mut lf = self.source.scan_range(files, self.lo, self.hi)?;
        if let Some(f) = &self.p.filter {
            lf = lf.filter(f.clone());
        }
        let offset = crate::time::offset_expr(&self.p.zone, column(T), &self.zone_ranges);
        let lf = lf
            .with_column((column(T) + offset).alias(LOCAL))
            .select(select);
        // The contacts of unknown wait, from the flags already computed
        // (evaluated in the select, `inbound` again cost 0.4 s at 10M rows).
        let lf = if wanted.contains(&WAIT_NULL) {
            let null = || column(WAIT_NULL);
            lf.with_columns([
                column(INBOUND).and(null()).alias(UNKNOWN),
                column(IB_ANSWERED).and(null()).alias(ANS_UNKNOWN),
            ])
        } else {
            lf
        };
        self.source.collect(lf, files)
    }
}

/// Splits `files` (in order) into batches of about `target` bytes.
pub(crate) fn batches(files: &[PathBuf], target: u64) -> Vec<Vec<PathBuf>> {
    let mut out: Vec<Vec<PathBuf>> = Vec::new();
    let mut size = 0;
    for f in files {
        let len = crate::scan::file_bytes(f);
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

/// Per-row flags and FCR inputs the batch walk reads by name.
pub(super) const ANSWERED_ROW: &str = "__answered";
pub(super) const INBOUND: &str = "__inbound";
pub(super) const CUSTOMER: &str = "__customer";
pub(super) const CHAIN: &str = "__chain";
pub(super) const IB_ANSWERED: &str = "__ib_answered";
pub(super) const IB_ABANDONED: &str = "__ib_abandoned";
pub(super) const SHORT: &str = "__short";
pub(super) const ANS_IN_T: &str = "__ans_in_t";
pub(super) const AB_IN_T: &str = "__ab_in_t";
pub(super) const WAIT: &str = "__wait";
pub(super) const UNKNOWN: &str = "__wait_unknown";
pub(super) const WAIT_NULL: &str = "__wait_null";
pub(super) const ANS_UNKNOWN: &str = "__ans_wait_unknown";
pub(super) const HELD: &str = "__held";
pub(super) const TRANSFERRED: &str = "__transferred";
pub(super) const SURVEYED: &str = "__surveyed";
pub(super) const TOP2: &str = "__top2";
pub(super) const CSAT_SCORE: &str = "__csat";

/// Whether a key column is a (categorical) dimension, not a time key.
fn is_dimension(name: &str) -> bool {
    matches!(
        name,
        col::AGENT_ID | col::TEAM | col::SITE | col::QUEUE | col::CHANNEL
    )
}

/// The raw key expressions: strings for dimensions, integers for time keys
/// (formatted in [`finish`]).
pub(super) fn key_exprs(p: &KpiParams) -> Vec<(&'static str, Expr)> {
    let local = || column(LOCAL);
    let day = || div_floor_expr(local(), DAY_US);
    // Dimensions stay categorical until after the group-by.
    let dim = |name: &'static str| (name, column(name));
    let mut out = Vec::new();
    for g in &p.by {
        match g {
            Group::Agent => out.push(dim(col::AGENT_ID)),
            Group::Team => out.push(dim(col::TEAM)),
            Group::Site => out.push(dim(col::SITE)),
            Group::Queue => out.push(dim(col::QUEUE)),
            Group::Channel => out.push(dim(col::CHANNEL)),
            Group::Day => out.push((DATE, day())),
            Group::Week => out.push((WEEK, day() - rem_euclid_expr(day() + lit(3i64), 7))),
            Group::Month => {
                let date = day().cast(DataType::Int32).cast(DataType::Date);
                out.push((
                    MONTH,
                    date.clone().dt().year().cast(DataType::Int64) * lit(12i64)
                        + date.dt().month().cast(DataType::Int64)
                        - lit(1i64),
                ));
            }
            Group::Shift => {
                let (index, date) = p.shifts.exprs(local());
                out.push((SHIFT_DATE, date));
                out.push((SHIFT, index));
            }
            Group::Interval => {
                let e = if p.interval == Interval::D1 {
                    day()
                } else {
                    // Local floor, back to UTC with the offset at arrival:
                    // the repeated hour of a fall-back day stays two intervals.
                    let iv = p.interval.micros();
                    local() - rem_euclid_expr(local(), iv) - (local() - column(T))
                };
                out.push((INTERVAL_START, e));
            }
        }
    }
    out
}

/// `name` on handled rows, 0 on the others (SPEC §3 says they are 0 there
/// anyway; this does not rely on it).
fn handled_only(name: &str) -> Expr {
    when(column(col::ANSWERED_AT).is_not_null())
        .then(column(name))
        .otherwise(lit(0i64))
}

/// Per-row columns the group-by only has to sum: flags (booleans, counted
/// where true) and durations, each already restricted to the contacts it
/// counts.
pub(super) fn row_columns(p: &KpiParams) -> Vec<(&'static str, Expr)> {
    let answered = column(col::ANSWERED_AT).is_not_null();
    let inbound = column(col::DIRECTION).eq(lit(Direction::Inbound.as_str()));
    let aband = column(col::ABANDONED).fill_null(lit(false));
    let wait = column(col::WAIT_MS);
    let unknown = wait.clone().is_null();
    let ib_ans = inbound.clone().and(answered.clone());
    let ib_ab = inbound.clone().and(aband);
    // SPEC §8: a contact of unknown wait is offered, answered or abandoned
    // like any other, but never "within T", never a short abandon, and an
    // answered one is left out of service level and ASA altogether. A
    // comparison with a null wait is null, and the sums count only valid
    // trues and values (`agg::Groups::add`), so the tests below need no
    // null check; the null waits themselves are counted apart.
    let csat = when(answered.clone())
        .then(column(col::CSAT).cast(DataType::Int64))
        .otherwise(lit(NULL).cast(DataType::Int64));
    vec![
        (ANSWERED_ROW, answered.clone()),
        (INBOUND, inbound.clone()),
        (IB_ANSWERED, ib_ans.clone()),
        (IB_ABANDONED, ib_ab.clone()),
        (
            SHORT,
            ib_ab.clone().and(wait.clone().lt(lit(p.short_abandon_ms))),
        ),
        (
            ANS_IN_T,
            ib_ans.clone().and(wait.clone().lt_eq(lit(p.threshold_ms))),
        ),
        (AB_IN_T, ib_ab.and(wait.clone().lt_eq(lit(p.threshold_ms)))),
        (WAIT, when(ib_ans.clone()).then(wait).otherwise(lit(0i64))),
        (WAIT_NULL, unknown),
        (col::HANDLE_MS, handled_only(col::HANDLE_MS)),
        (col::TALK_MS, handled_only(col::TALK_MS)),
        (col::HOLD_MS, handled_only(col::HOLD_MS)),
        (col::ACW_MS, handled_only(col::ACW_MS)),
        (
            HELD,
            answered.clone().and(column(col::HOLD_MS).gt(lit(0i64))),
        ),
        (
            TRANSFERRED,
            answered.and(column(col::TRANSFERRED).fill_null(lit(false))),
        ),
        (SURVEYED, csat.clone().is_not_null()),
        (TOP2, csat.clone().fill_null(lit(0i64)).gt_eq(lit(4i64))),
        (CSAT_SCORE, csat),
    ]
}
