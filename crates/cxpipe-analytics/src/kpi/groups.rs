//! The group-by half of the KPI query: each batch's rows are added to
//! their groups' sums ([`Groups`]) and the FCR candidates collected; once
//! every batch is in, the KPI ratios are computed from the sums.

use cxpipe_model::col;
use polars::prelude::{col as column, *};

use super::params::{KpiParams, SlVariant};
use super::rows::*;
use crate::Error;
use crate::agg::Groups;
use crate::fcr::{Candidates, NOT_A_SUBJECT};
use crate::names::*;
use crate::scan::T;

/// The FCR sums, filled by hand after the walk.
pub(super) const FCR_OK: &str = "__fcr_ok";

/// The sums a query needs, (output name, per-row column; `None` for the
/// sums added by hand), and the per-row columns to read.
pub(super) fn sum_specs(
    p: &KpiParams,
) -> (Vec<(PlSmallStr, Option<PlSmallStr>)>, Vec<&'static str>) {
    let mut sums: Vec<(PlSmallStr, Option<PlSmallStr>)> = Vec::new();
    let mut wanted: Vec<&'static str> = AGENT_SUMS.iter().map(|s| s.1).collect();
    let spec = |(o, r): &(&str, &str)| ((*o).into(), Some((*r).into()));
    if p.queue_side() {
        wanted.extend(QUEUE_SUMS.iter().map(|s| s.1));
        // UNKNOWN and ANS_UNKNOWN are derived from it (`RowQuery::collect`).
        wanted.push(WAIT_NULL);
        sums.extend(QUEUE_SUMS.iter().map(spec));
    }
    sums.extend(AGENT_SUMS.iter().map(spec));
    sums.push((FCR_ELIGIBLE.into(), None));
    sums.push((FCR_OK.into(), None));
    for (name, _) in &p.counts {
        sums.push((name.as_str().into(), Some(count_column(name).into())));
    }
    (sums, wanted)
}

/// The per-row column of an extra [`KpiParams::counts`] column.
pub(super) fn count_column(name: &str) -> String {
    format!("__count_{name}")
}

/// Where a batch's rows go, and what the walk needs to know about them.
pub(super) struct BatchSink<'a> {
    pub p: &'a KpiParams,
    /// The end of the range (rows after it are possible FCR repeats only).
    pub hi: Option<i64>,
    pub window_us: i64,
    /// The dataset's last arrival (an FCR window must end by then).
    pub last_arrival: i64,
    pub groups: Groups,
    pub candidates: Candidates,
}

/// Adds one batch of rows: their sums to their groups, and the inbound
/// contacts with a customer to the FCR candidates.
///
/// Rows after `hi` (read only as possible repeats) belong to no group, and
/// neither do unanswered rows when the output is agent-side. A candidate
/// is an FCR subject when it was answered, is in range, and its window ends
/// at or before the dataset's last arrival (right-censoring: a window that
/// ends exactly at the last arrival was fully observed).
impl BatchSink<'_> {
    pub(super) fn add_batch(&mut self, df: &DataFrame) -> Result<(), Error> {
        let (p, hi, window_us, last_arrival) = (self.p, self.hi, self.window_us, self.last_arrival);
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
        let answered = bools(ANSWERED_ROW)?;
        let inbound = bools(INBOUND)?;
        let in_range = |t: i64| hi.is_none_or(|h| t < h);
        let queue_side = p.queue_side();
        let slots = self
            .groups
            .assign(df, |i| in_range(times[i]) && (queue_side || answered[i]))?;
        self.groups.add(df, &slots)?;

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
            self.candidates
                .push(customer, t, chain.unwrap_or(""), slot)?;
        }
        Ok(())
    }
}

/// Queue-side sums: (output name, per-row column).
const QUEUE_SUMS: [(&str, &str); 9] = [
    (OFFERED, INBOUND),
    (ANSWERED, IB_ANSWERED),
    (ABANDONED, IB_ABANDONED),
    (SHORT_ABANDONED, SHORT),
    (WAIT_UNKNOWN, UNKNOWN),
    (ANS_UNKNOWN_SUM, ANS_UNKNOWN),
    (ANS_IN_T, ANS_IN_T),
    (AB_IN_T, AB_IN_T),
    (WAIT_SUM, WAIT),
];

const WAIT_SUM: &str = "__wait_sum";
const ANS_UNKNOWN_SUM: &str = "__ans_unknown_sum";
const HANDLE_SUM: &str = "__handle_sum";
const TALK_SUM: &str = "__talk_sum";
const HOLD_SUM: &str = "__hold_sum";
const ACW_SUM: &str = "__acw_sum";
const CSAT_SUM: &str = "__csat_sum";
const CSAT_TOP2_SUM: &str = "__csat_top2";

/// Agent-side sums: (output name, per-row column).
const AGENT_SUMS: [(&str, &str); 10] = [
    (HANDLED, ANSWERED_ROW),
    (HANDLE_SUM, col::HANDLE_MS),
    (TALK_SUM, col::TALK_MS),
    (HOLD_SUM, col::HOLD_MS),
    (ACW_SUM, col::ACW_MS),
    (HELD, HELD),
    (TRANSFERRED, TRANSFERRED),
    (CSAT_RESPONSES, SURVEYED),
    (CSAT_SUM, CSAT_SCORE),
    (CSAT_TOP2_SUM, TOP2),
];

/// `num ÷ den`, null when `den` is 0.
fn ratio(num: Expr, den: Expr) -> Expr {
    when(den.clone().gt(lit(0i64)))
        .then(num.cast(DataType::Float64) / den.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The queue-side output columns, from the sums.
pub(super) fn queue_outputs(p: &KpiParams) -> Vec<Expr> {
    let c = |n: &str| column(n);
    let net = c(OFFERED) - c(SHORT_ABANDONED);
    let in_t = c(ANS_IN_T);
    // Answered contacts of unknown wait leave every variant's denominator
    // (they are in none of the numerators), and ASA's.
    let unknown = || c(ANS_UNKNOWN_SUM);
    let sl = match p.sl_variant {
        SlVariant::ExclShort => ratio(in_t, net.clone() - unknown()),
        SlVariant::Offered => ratio(in_t, c(OFFERED) - unknown()),
        SlVariant::AnsweredPlusAbandoned => ratio(in_t, c(ANSWERED) + c(ABANDONED) - unknown()),
        SlVariant::AbandPositive => ratio(in_t + c(AB_IN_T), c(OFFERED) - unknown()),
        SlVariant::Answered => ratio(in_t, c(ANSWERED) - unknown()),
    };
    vec![
        c(OFFERED),
        c(ANSWERED),
        c(ABANDONED),
        c(SHORT_ABANDONED),
        c(WAIT_UNKNOWN),
        sl.alias(SERVICE_LEVEL),
        lit(p.sl_variant.name()).alias(SL_VARIANT),
        lit(p.threshold_ms as f64 / 1000.0).alias(SL_THRESHOLD_S),
        ratio(c(ABANDONED) - c(SHORT_ABANDONED), net).alias(ABANDON_RATE),
        (ratio(c(WAIT_SUM), c(ANSWERED) - unknown()) / lit(1000.0)).alias(ASA_S),
    ]
}

/// The agent-side output columns, from the sums.
pub(super) fn agent_outputs() -> Vec<Expr> {
    let c = |n: &str| column(n);
    let secs = |sum: &str| ratio(c(sum), c(HANDLED)) / lit(1000.0);
    vec![
        c(HANDLED),
        secs(HANDLE_SUM).alias(AHT_S),
        secs(TALK_SUM).alias(AVG_TALK_S),
        secs(HOLD_SUM).alias(AVG_HOLD_S),
        secs(ACW_SUM).alias(AVG_ACW_S),
        ratio(c(HELD), c(HANDLED)).alias(HOLD_RATE),
        ratio(c(TRANSFERRED), c(HANDLED)).alias(TRANSFER_RATE),
        ratio(
            c(FCR_OK).fill_null(lit(0i64)),
            c(FCR_ELIGIBLE).fill_null(lit(0i64)),
        )
        .alias(FCR_RATE),
        c(FCR_ELIGIBLE).fill_null(lit(0i64)).alias(FCR_ELIGIBLE),
        ratio(c(CSAT_SUM), c(CSAT_RESPONSES)).alias(CSAT_AVG),
        c(CSAT_RESPONSES),
        ratio(c(CSAT_TOP2_SUM), c(CSAT_RESPONSES)).alias(CSAT_TOP2),
        lit(NULL).cast(DataType::Float64).alias(OCCUPANCY),
    ]
}
