//! cxpipe's ingest: export files → canonical Arrow batches → the partitioned
//! Parquet dataset, with every row accounted for (SPEC §2–§6, §9).
//!
//! The entry point is [`ingest`]. It never prints: progress goes through the
//! [`Reporter`] trait and the outcome is the returned [`RunReport`], which is
//! also written to `DATASET/ingests/<id>.json`.
//!
//! The modules, in the order data passes through them: `read` (opening,
//! decompressing, format and source detection, record splitting), `csv`
//! (fields of one CSV record), `source` (the generic source and the
//! mappings: source fields to canonical slots), `row` (the canonical row
//! and its checks), `write` (Arrow batches, part files, quarantine files,
//! Parquet), `dedupe` (bounded-memory duplicate resolution) and `run` (the
//! phases of one ingest). [`parse`] and [`pii`] are shared by the sources.
#![warn(missing_docs)]

mod csv;
mod dedupe;
mod error;
#[cfg(test)]
mod fuzz;
mod input_file;
mod options;
pub mod parse;
pub mod pii;
mod read;
mod reason;
mod report;
mod reporter;
mod row;
mod run;
mod source;
mod write;

/// The most worker threads an ingest uses (`--threads` above it is refused
/// by the binary; the library uses at most this many).
pub const MAX_THREADS: usize = 256;

/// The dataset on disk lives in its own crate; ingest writes through it.
pub use cxpipe_dataset as dataset;
pub use cxpipe_dataset::{Dataset, Ledger, LedgerEntry};
pub use error::Error;
pub use options::{IngestOptions, SourceKind};
pub use read::input::{self, Input};
pub use reason::{ReasonCode, Reject};
pub use report::{FileReport, FileStatus, FirstReject, RunReport, Totals};
pub use reporter::{Quiet, Reporter};
pub use row::Limits;
pub use run::ingest;
pub use source::{genesys, mapping};
pub use write::parquet::{read_all, writer_properties};
