//! `--level interaction`: the contacts over an interaction-level rule's
//! threshold, worst first.

use cxpipe_model::{Direction, col};
use polars::prelude::{col as column, *};

use super::query::scope_filter;
use super::rule::{Rule, RuleKind};
use crate::Error;
use crate::frame::numbers;
use crate::kpi::KpiParams;
use crate::names::*;
use crate::scan::{Partitions, T};

/// The interaction report's columns.
pub const INTERACTION_COLUMNS: [&str; 8] = [
    RULE,
    col::INTERACTION_ID,
    col::AGENT_ID,
    col::QUEUE,
    col::ARRIVED_AT,
    MEASURED_S,
    THRESHOLD_S,
    OVER_BY_S,
];

/// The measured duration (ms) of a breaching contact.
const MEASURE: &str = "__m";

/// `--level interaction`: the contacts that breached an interaction-level
/// rule, worst first within each rule (policy order); `agent` keeps one
/// agent's, `top` the worst `top` of each rule. `arrived_at` is local time
/// in the site zone.
pub fn interaction_report(
    source: &Partitions,
    base: &KpiParams,
    rules: &[Rule],
    agent: Option<&str>,
    top: Option<usize>,
) -> Result<DataFrame, Error> {
    let (lo, hi) = base.bounds()?;
    let files = source.files_between(lo, hi);
    // Every rule reads the same batches of files.
    let batches = crate::kpi::batches(&files, base.batch_bytes);
    let mut frames: Vec<DataFrame> = Vec::new();
    for rule in rules.iter().filter(|r| !r.kind.interval_level()) {
        if files.is_empty() {
            break;
        }
        let scope = scope_filter(source, &rule.scope)?;
        let scan = |files: &[std::path::PathBuf]| -> Result<DataFrame, Error> {
            let mut lf = source.scan_range(files, lo, hi)?;
            if let Some(f) = &scope {
                lf = lf.filter(f.clone());
            }
            source.collect(breaches(lf, rule, agent, top), files)
        };
        // A batch of files at a time (the memory of a batch, not of the
        // dataset: read whole, the five-rule policy of BENCHMARKS.md held
        // 6.5 GB at 100M rows), the breaches kept as found and sorted once
        // at the end. With `top`, each batch's worst `n` suffice (the order
        // is total), and what is kept is cut back to the worst `n` whenever
        // it grows past a few times that.
        let mut kept: Option<DataFrame> = None;
        for batch in &batches {
            let part = own_strings(scan(batch)?)?;
            let all = match kept.take() {
                None => part,
                Some(mut k) => {
                    k.vstack_mut_owned(part)
                        .map_err(Error::polars("building the interaction report"))?;
                    k
                }
            };
            kept = Some(match top {
                Some(n) if all.height() > 4 * n => worst(all, top)?,
                _ => all,
            });
        }
        let Some(all) = kept else { continue };
        let df = worst(all, top)?;
        frames.push(rule_frame(&df, rule, base)?);
    }
    let mut out = match frames.first() {
        Some(f) => f.clone(),
        None => empty(&INTERACTION_COLUMNS)?,
    };
    for f in frames.iter().skip(1) {
        out.vstack_mut(f)
            .map_err(Error::polars("building the interaction report"))?;
    }
    Ok(out)
}

/// The query for one rule's breaching contacts: the contact's ids, arrival
/// and measured duration; with `top`, only the worst `top`, worst first.
fn breaches(lf: LazyFrame, rule: &Rule, agent: Option<&str>, top: Option<usize>) -> LazyFrame {
    let threshold = rule.threshold_ms.unwrap_or_default();
    let m = column(rule.kind.column());
    let subject = if rule.kind == RuleKind::Wait {
        column(col::DIRECTION).eq(lit(Direction::Inbound.as_str()))
    } else {
        column(col::ANSWERED_AT).is_not_null()
    };
    let mut lf = lf.filter(subject.and(m.clone().gt(lit(threshold))));
    if let Some(a) = agent {
        lf = lf.filter(column(col::AGENT_ID).eq(lit(a.to_string())));
    }
    let lf = lf.select([
        column(col::INTERACTION_ID),
        column(col::AGENT_ID).cast(DataType::String),
        column(col::QUEUE).cast(DataType::String),
        column(T),
        m.alias(MEASURE),
    ]);
    match top {
        Some(n) => worst_first(lf).limit(n as IdxSize),
        None => lf,
    }
}

/// `df` with its text columns copied into buffers of their own. A filtered
/// or limited string column still points into the batch it was read from
/// (Arrow string views), so a few breaches kept from each batch held every
/// batch's `interaction_id` bytes: 470 MB for `--top 100` at 10M rows.
fn own_strings(df: DataFrame) -> Result<DataFrame, Error> {
    let err = || Error::polars("building the interaction report");
    let columns = df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::String => {
                let ca = c.str().map_err(err())?;
                let owned: StringChunked = ca.iter().collect();
                Ok(owned.with_name(c.name().clone()).into_column())
            }
            _ => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>, Error>>()?;
    DataFrame::new(df.height(), columns).map_err(err())
}

/// The rows of `df` worst first, the worst `top` of them if given.
fn worst(df: DataFrame, top: Option<usize>) -> Result<DataFrame, Error> {
    let mut lf = worst_first(df.lazy());
    if let Some(n) = top {
        lf = lf.limit(n as IdxSize);
    }
    lf.collect()
        .map_err(Error::polars("building the interaction report"))
}

/// Breaches worst first: the longest, then the earliest, then by id (a
/// total order, so the worst `n` are the same however the rows are split).
fn worst_first(lf: LazyFrame) -> LazyFrame {
    lf.sort(
        [MEASURE, T, col::INTERACTION_ID],
        SortMultipleOptions::new().with_order_descending_multi([true, false, false]),
    )
}

/// One rule's rows of the report, from its [`breaches`].
fn rule_frame(df: &DataFrame, rule: &Rule, base: &KpiParams) -> Result<DataFrame, Error> {
    let threshold = rule.threshold_ms.unwrap_or_default();
    let times = numbers::<Int64Type>(df, T)?;
    // Built straight into columns, not into a `Vec<Option<String>>` first
    // (both held at once: 9.2M formatted times at 100M rows).
    let arrived: StringChunked = times
        .iter()
        .map(|t| t.map(|t| base.zone.format_instant(t)))
        .collect();
    let secs = |v: Option<i64>| v.map(|v| v as f64 / 1000.0);
    let m = numbers::<Int64Type>(df, MEASURE)?;
    let measured: Float64Chunked = m.iter().map(|v| secs(*v)).collect();
    let over: Float64Chunked = m.iter().map(|v| secs(v.map(|v| v - threshold))).collect();
    let n = df.height();
    let stored = |name: &str| {
        df.column(name)
            .cloned()
            .map_err(Error::polars("building the interaction report"))
    };
    DataFrame::new(
        n,
        vec![
            Column::new(RULE.into(), vec![rule.name.as_str(); n]),
            stored(col::INTERACTION_ID)?,
            stored(col::AGENT_ID)?,
            stored(col::QUEUE)?,
            arrived.with_name(col::ARRIVED_AT.into()).into_column(),
            measured.with_name(MEASURED_S.into()).into_column(),
            Column::new(THRESHOLD_S.into(), vec![threshold as f64 / 1000.0; n]),
            over.with_name(OVER_BY_S.into()).into_column(),
        ],
    )
    .map_err(Error::polars("building the interaction report"))
}

/// A frame with these columns and no rows.
fn empty(names: &[&str]) -> Result<DataFrame, Error> {
    let cols = names
        .iter()
        .map(|n| {
            let dtype = match *n {
                MEASURED_S | THRESHOLD_S | OVER_BY_S => DataType::Float64,
                _ => DataType::String,
            };
            Column::new_empty((*n).into(), &dtype)
        })
        .collect();
    DataFrame::new(0, cols).map_err(Error::polars("building an empty report"))
}
