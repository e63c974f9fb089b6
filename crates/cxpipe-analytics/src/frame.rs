//! Reading a result frame's columns as plain Rust vectors, for the reports
//! that post-process KPI tables in Rust (SLA, turnover).

use polars::prelude::*;

use crate::Error;

/// Column `name` as text (any type cast to a string); null stays `None`.
pub(crate) fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, Error> {
    let err = || Error::polars(format!("reading {name}"));
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(err())?;
    let ca = c.str().map_err(err())?;
    Ok(ca.iter().map(|s| s.map(str::to_string)).collect())
}

/// Column `name`, a string column, read in place (no `String` per value,
/// unlike [`strings`]).
pub(crate) fn texts<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked, Error> {
    df.column(name)
        .and_then(|c| c.str())
        .map_err(Error::polars(format!("reading {name}")))
}

/// Column `name` cast to the numeric type `T`; null stays `None`.
pub(crate) fn numbers<T: PolarsNumericType>(
    df: &DataFrame,
    name: &str,
) -> Result<Vec<Option<T::Native>>, Error> {
    let err = || Error::polars(format!("reading {name}"));
    let c = df
        .column(name)
        .and_then(|c| c.cast(&T::get_static_dtype()))
        .map_err(err())?;
    let ca: &ChunkedArray<T> = c.as_materialized_series().unpack().map_err(err())?;
    Ok(ca.iter().collect())
}
