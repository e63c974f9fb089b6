//! What is known of an input file before it is read: where it is and how
//! it is compressed. A leaf module: the reader (`read`) and the run report
//! (`report`) both name these, so neither depends on the other.

use std::path::PathBuf;

/// One file to ingest, after folders were expanded.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Where to read it; `None` for stdin.
    pub path: Option<PathBuf>,
    /// File name, as stored in `source_file`.
    pub name: String,
}

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}
