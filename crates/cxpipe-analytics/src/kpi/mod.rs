//! KPIs per grouping (SPEC §8).
//!
//! A lazy polars query (`rows.rs`) computes, batch by batch, each row's group
//! keys and the flags and durations the KPIs count; `agg::Groups`
//! sums them per group in one pass (`groups.rs`). FCR needs every contact
//! of a customer in time order: the inbound contacts with a `customer_key`
//! are collected as compact [`crate::fcr::Candidates`], sorted by (customer,
//! arrival) and walked once by [`crate::fcr::resolved_by`]. Ratios are
//! computed from the sums (a zero denominator gives null), and the keys
//! are formatted last (`keys.rs`). Exact definitions: ARCHITECTURE.md, "KPI
//! definitions".

mod groups;
mod keys;
mod params;
mod rows;
pub(crate) use rows::batches;

use std::path::PathBuf;

use polars::prelude::{col as column, *};

pub use params::{AGENT_COLUMNS, Group, KpiParams, QUEUE_COLUMNS, SlVariant, column_dtype};

use self::groups::{BatchSink, FCR_OK, agent_outputs, queue_outputs, sum_specs};
use self::rows::RowQuery;
use crate::Error;
use crate::agg::Groups;
use crate::fcr::Candidates;
use crate::names::FCR_ELIGIBLE;
use crate::scan::Partitions;
use crate::table::Table;

/// Computes the KPI table: key columns (formatted as SPEC §8 says), then the
/// queue-side and agent-side columns, sorted by the keys.
///
/// The files of the selected days, and of one FCR window after them
/// (repeats may come later), are read in batches of about
/// [`KpiParams::batch_bytes`]. polars computes per row the group keys and
/// the flags and durations each KPI counts; `Groups` adds them up per
/// group, and the inbound contacts with a customer go to [`Candidates`](crate::fcr::Candidates). A
/// second thread reads the next batch meanwhile. Once every batch is in,
/// the FCR walk adds its counts to the groups, and the ratios are computed
/// from the sums (a zero denominator gives null).
pub fn kpi(source: &Partitions, p: &KpiParams) -> Result<DataFrame, Error> {
    let (lo, hi) = p.bounds()?;
    if source.files_between(lo, hi).is_empty() {
        return keys::empty_table(p);
    }
    let window_us = p.fcr_window_ms * 1000;
    // The FCR window past the range is read for repeats only (its rows
    // belong to no group): without FCR it is not read. A run of one day,
    // as the SLA agent report sums at 100M rows, read four days before.
    let repeat_hi = if p.fcr {
        hi.map(|h| h.saturating_add(window_us))
    } else {
        hi
    };
    let files = source.files_between(lo, repeat_hi);
    let query = RowQuery::new(source, p, lo, repeat_hi);
    let (sums, wanted) = sum_specs(p);
    let mut sink = BatchSink {
        p,
        hi,
        window_us,
        last_arrival: source.last_arrival_us()?.unwrap_or(i64::MIN),
        groups: Groups::new(query.keys(), sums),
        candidates: Candidates::default(),
    };
    read_ahead(&query, &batches(&files, p.batch_bytes), &wanted, &mut sink)?;
    let BatchSink {
        mut groups,
        candidates,
        ..
    } = sink;
    let fcr_eligible = groups.sum_index(FCR_ELIGIBLE).unwrap_or_default();
    let fcr_ok = groups.sum_index(FCR_OK).unwrap_or_default();
    candidates.resolve(window_us, |slot, ok| {
        groups.add_to(slot, fcr_eligible, 1);
        if ok {
            groups.add_to(slot, fcr_ok, 1);
        }
    })?;
    let key_names: Vec<PlSmallStr> = query.keys().into_iter().map(|(n, _)| n).collect();
    let sorted = ratios(groups, key_names, p, source)?;
    keys::finish(sorted, p)
}

/// [`kpi()`] as a [`Table`].
pub fn kpi_table(source: &Partitions, p: &KpiParams) -> Result<Table, Error> {
    kpi(source, p).map(Table::from)
}

/// Reads the batches and adds each to `sink`, reading the next batch while
/// the last one is added up.
///
/// This is a streaming pipeline, not a data-parallel loop, so it is one
/// plain thread and a channel of one batch, not rayon: the reader runs
/// polars (which has its own thread pool; calling it from inside a rayon
/// task of ours could deadlock the nested pools), and the channel bounds
/// the memory to two batches however large the dataset is.
fn read_ahead(
    query: &RowQuery,
    batches: &[Vec<PathBuf>],
    wanted: &[&str],
    sink: &mut BatchSink,
) -> Result<(), Error> {
    std::thread::scope(|s| -> Result<(), Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        s.spawn(move || {
            for files in batches {
                let batch = query.collect(files, wanted);
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        for batch in rx {
            sink.add_batch(&batch?)?;
        }
        Ok(())
    })
}

/// One row per group: the keys, the queue-side and agent-side columns
/// computed from the sums, and the extra counts, sorted by the keys unless
/// [`KpiParams::sorted`] is off.
fn ratios(
    groups: Groups,
    key_names: Vec<PlSmallStr>,
    p: &KpiParams,
    source: &Partitions,
) -> Result<DataFrame, Error> {
    let mut out: Vec<Expr> = key_names.iter().map(|n| column(n.clone())).collect();
    if p.queue_side() {
        out.extend(queue_outputs(p));
    }
    out.extend(agent_outputs());
    out.extend(p.count_columns().map(column));
    let mut lf = groups.into_frame()?.lazy().select(out);
    if p.sorted {
        lf = lf.sort(
            key_names,
            SortMultipleOptions::new()
                .with_nulls_last(true)
                .with_maintain_order(true),
        );
    }
    lf.collect().map_err(Error::polars(format!(
        "computing KPIs over {}",
        source.root().display()
    )))
}
