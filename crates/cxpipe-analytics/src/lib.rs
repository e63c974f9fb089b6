//! Analytics over a cxpipe dataset: KPIs (SPEC §8) on polars' lazy engine.
//!
//! This is the only crate of the workspace that depends on polars. It reads
//! the dataset's Parquet files directly (pruning day partitions by the
//! requested dates), only through a [`Partitions`] made from the dataset's
//! [`cxpipe_dataset::ReadGuard`], and returns result tables that [`table`]
//! renders as an aligned table, CSV, JSON or Parquet; [`page`] gathers what
//! the HTML report shows.
//!
//! Module map: [`scan`] (the dataset's files) ← [`kpi`] (the KPI engine,
//! with `agg` and [`fcr`]) ← [`sla`], [`turnover`] ← [`page`]; [`time`],
//! [`names`] and [`table`] are used by all of them.
//!
//! Result types: [`kpi()`], the [`sla`] reports and the [`turnover`] frames
//! return a polars `DataFrame` (the crate's own code and tests work on
//! it); [`kpi_table`] and `Table::from(frame)` give a [`Table`], the output
//! type callers outside use, so that they need not name polars (the
//! binary does not depend on it).
#![warn(missing_docs)]

mod agg;
pub mod fcr;
mod frame;
pub mod kpi;
pub mod names;
pub mod page;
pub mod scan;
pub mod sla;
pub mod table;
pub mod time;
pub mod turnover;

use polars::prelude::DataFrame;

pub use kpi::{Group, KpiParams, SlVariant, kpi, kpi_table};
pub use scan::{Partitions, ScanObserver};
pub use table::Table;
pub use time::{Interval, Shift, Shifts, Zone};

/// The rows of `df` where `keep` is true (`keep` has one entry per row).
pub(crate) fn filter_rows(df: &DataFrame, keep: Vec<bool>) -> Result<DataFrame, Error> {
    use polars::prelude::{BooleanChunked, NewChunkedArray};
    df.filter(&BooleanChunked::from_slice("keep".into(), &keep))
        .map_err(Error::polars("selecting rows"))
}

/// `df` sorted by `column`, largest first; ties keep their order.
pub(crate) fn sort_descending(df: &DataFrame, column: &str) -> Result<DataFrame, Error> {
    use polars::prelude::SortMultipleOptions;
    let options = SortMultipleOptions::new()
        .with_order_descending(true)
        .with_maintain_order(true);
    df.sort([column], options)
        .map_err(Error::polars(format!("sorting by {column}")))
}

/// What can go wrong in an analytics query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request does not make sense (bad grouping, zone, date, shift).
    #[error("{0}")]
    Usage(String),
    /// A dataset file cannot be read; the message names it.
    #[error("{0}")]
    Broken(String),
    /// Reading the dataset or writing the output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Listing the dataset's files failed (the message names the folder).
    #[error(transparent)]
    Dataset(#[from] cxpipe_dataset::Error),
    /// polars refused a query or a file.
    #[error("{context}: {source}")]
    Polars {
        /// What was being done.
        context: String,
        /// The cause.
        source: polars::error::PolarsError,
    },
}

impl Error {
    pub(crate) fn polars(
        context: impl Into<String>,
    ) -> impl FnOnce(polars::error::PolarsError) -> Error {
        let context = context.into();
        move |source| Error::Polars { context, source }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}
