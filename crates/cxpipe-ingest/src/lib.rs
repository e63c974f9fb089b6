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
pub mod parse;
pub mod pii;
mod read;
mod reason;
mod report;
mod row;
mod run;
mod source;
mod write;

use std::path::PathBuf;
use std::sync::Arc;

/// The dataset on disk lives in its own crate; ingest writes through it.
pub use cxpipe_dataset as dataset;
pub use cxpipe_dataset::{Dataset, Ledger, LedgerEntry};
pub use read::input::{self, Input};
pub use reason::{ReasonCode, Reject};
pub use report::{FileReport, FileStatus, RunReport, Totals};
pub use run::ingest;
pub use source::mapping;
pub use write::parquet::{read_all, writer_properties};

/// Errors that stop a whole ingest (per-row problems are quarantined and
/// per-file problems are reported, neither is an `Error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    /// Writing or reading Parquet failed.
    #[error("{0}")]
    Parquet(String, #[source] parquet::errors::ParquetError),
    /// An Arrow operation failed.
    #[error("{0}")]
    Arrow(String, #[source] arrow_schema::ArrowError),
    /// Something about the dataset or the options is wrong.
    #[error("{0}")]
    Invalid(String),
    /// Opening, locking or committing the dataset failed.
    #[error(transparent)]
    Dataset(#[from] cxpipe_dataset::Error),
    /// The run was interrupted (Ctrl-C); the dataset is unchanged.
    #[error("interrupted; the dataset is unchanged")]
    Interrupted,
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io(what.into(), source)
    }
}

/// Which mapping reads the files.
#[derive(Debug, Clone, Default)]
pub enum SourceKind {
    /// Recognise each file from its header or first record.
    #[default]
    Auto,
    /// The canonical names (`cxpipe generate`'s layout).
    Generic,
    /// A mapping: a built-in vendor source or a user's mapping file.
    Mapped(Arc<mapping::Mapping>),
}

impl SourceKind {
    /// The name used on the command line and in reports.
    pub fn as_str(&self) -> &str {
        match self {
            SourceKind::Auto => "auto",
            SourceKind::Generic => "generic",
            SourceKind::Mapped(m) => &m.name,
        }
    }

    /// The names [`SourceKind::named`] knows.
    pub const NAMES: [&str; 5] = ["auto", "generic", "amazon-connect", "five9", "talkdesk"];

    /// A user's mapping file; errors name the file, line and key.
    pub fn from_mapping_file(path: &std::path::Path) -> Result<SourceKind, String> {
        mapping::Mapping::from_file(path).map(|m| SourceKind::Mapped(Arc::new(m)))
    }

    /// A source by its command-line name: `auto`, `generic` or a built-in
    /// vendor (`amazon-connect`, `five9`, `talkdesk`).
    pub fn named(name: &str) -> Option<SourceKind> {
        match name {
            "auto" => Some(SourceKind::Auto),
            "generic" => Some(SourceKind::Generic),
            _ => mapping::vendors()
                .into_iter()
                .find(|m| m.name == name)
                .map(|m| SourceKind::Mapped(Arc::new(m))),
        }
    }
}

/// Options of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The dataset folder (created if missing).
    pub dataset: PathBuf,
    /// Mapping to use.
    pub source: SourceKind,
    /// Zone of timestamps without an offset.
    pub zone: parse::Zone,
    /// Above this share of quarantined rows the run is flagged (exit 3).
    pub max_reject_rate: f64,
    /// Re-read files the ledger already has.
    pub force: bool,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// `CXPIPE_PII_KEY`, when set.
    pub pii_key: Option<String>,
    /// `[privacy] key_file`, when configured.
    pub pii_key_file: Option<PathBuf>,
    /// Bytes read per chunk (tests use small chunks to exercise splitting).
    pub chunk_bytes: usize,
}

impl IngestOptions {
    /// Defaults for a dataset folder.
    pub fn new(dataset: impl Into<PathBuf>) -> IngestOptions {
        IngestOptions {
            dataset: dataset.into(),
            source: SourceKind::Auto,
            zone: parse::Zone::utc(),
            max_reject_rate: 0.05,
            force: false,
            threads: 0,
            pii_key: None,
            pii_key_file: None,
            chunk_bytes: 4 << 20,
        }
    }
}

/// Receives progress from an ingest. Called from several threads; every
/// method has a no-op default.
pub trait Reporter: Sync {
    /// A file is about to be read; `size` is its size on disk when known.
    fn file_started(&self, _name: &str, _size: Option<u64>) {}
    /// More raw bytes of the current file were read.
    fn bytes_read(&self, _bytes: u64) {}
    /// More rows were processed (any file).
    fn rows_done(&self, _rows: u64) {}
    /// A file is finished (ingested, skipped or failed).
    fn file_finished(&self, _report: &FileReport) {}
    /// A note worth telling the user (recovery, detection, skipped files).
    fn note(&self, _message: &str) {}
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Reporter for Quiet {}
