//! The error of a whole run.

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
