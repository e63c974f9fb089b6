//! How a run tells of its progress (the library never prints).

use crate::report::FileReport;

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
    /// Something the user should act on that does not stop the run (a key
    /// file others can read). By default a note.
    fn warning(&self, message: &str) {
        self.note(message);
    }
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Reporter for Quiet {}
