//! The KPI table's keys as SPEC §8 writes them: day numbers as dates,
//! instants in the site zone, shift indexes as names; and the empty table.

use polars::prelude::*;

use super::params::{Group, KpiParams, column_dtype};
use super::rows::ALL_KEY;
use crate::Error;
use crate::names::SHIFT_DATE;
use crate::time::{DAY_US, Interval, format_day, format_month};

/// Formats the raw keys (day numbers, µs instants, shift indexes) and drops
/// the internal all-rows key.
pub(super) fn finish(mut df: DataFrame, p: &KpiParams) -> Result<DataFrame, Error> {
    let err = || Error::polars("formatting KPI keys");
    if p.by.is_empty() {
        df = df.drop(ALL_KEY).map_err(err())?;
    }
    for g in &p.by {
        for &name in g.key_columns() {
            let fmt: Option<Box<dyn Fn(i64) -> String>> = match (g, name) {
                (Group::Day | Group::Week, _) | (Group::Shift, SHIFT_DATE) => {
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
pub(super) fn empty_table(p: &KpiParams) -> Result<DataFrame, Error> {
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
