//! The run report (`DATASET/ingests/<id>.json`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::input_file::{Compression, InputFile};

/// What happened to one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read; its rows are in the dataset or the quarantine.
    Ingested,
    /// Already in the ledger; not read again.
    Skipped,
    /// A whole-file problem; nothing of it was kept.
    Failed,
}

/// Counts and outcome for one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// File name (the `source_file` value).
    pub name: String,
    /// Path as given, or `-` for stdin.
    pub path: String,
    /// Outcome.
    pub status: FileStatus,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The source mapping used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `csv` or `ndjson`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Compression of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// Bytes read (as stored, compressed).
    pub bytes: u64,
    /// xxh3-128 of the bytes, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xxh3_128: Option<String>,
    /// Records read (blank lines are not records).
    pub rows_read: u64,
    /// Rows now in the dataset.
    pub rows_written: u64,
    /// Rows sent to quarantine.
    pub rows_quarantined: u64,
    /// Rows dropped because a newer version of the same id won.
    pub duplicates_dropped: u64,
    /// Records a mapping's `[source] skip` says are not contacts (IVR-only
    /// calls, system rows): read, not stored, not quarantined.
    pub rows_filtered: u64,
    /// Legs stored, for a source whose record may give several (Genesys:
    /// a record is one row of the counts above, whatever its legs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legs_written: Option<u64>,
    /// Rows stored after a time out of order by at most `[ingest]
    /// clock_skew_ms` was set equal to the one it must not precede.
    pub clock_skew_fixed: u64,
    /// Quarantine reason histogram.
    pub reasons: BTreeMap<String, u64>,
    /// The first record quarantined (its line, reason and raw start), so a
    /// file rejected whole can be explained in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_reject: Option<FirstReject>,
    /// Quarantine file, relative to the dataset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    /// Header columns that map to nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
    /// Fields the mapping reads that the file does not have (not in its
    /// header; in no record of a JSON file): their columns are empty in
    /// every row. Also a warning in the log.
    pub missing_fields: Vec<String>,
}

impl FileReport {
    /// The report of a file not yet read: ingested, with nothing counted.
    pub fn empty(file: &InputFile) -> FileReport {
        FileReport {
            name: file.name.clone(),
            path: file
                .path
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
            status: FileStatus::Ingested,
            message: None,
            source: None,
            format: None,
            compression: None,
            bytes: 0,
            xxh3_128: None,
            rows_read: 0,
            rows_written: 0,
            legs_written: None,
            rows_quarantined: 0,
            duplicates_dropped: 0,
            rows_filtered: 0,
            clock_skew_fixed: 0,
            reasons: BTreeMap::new(),
            quarantine: None,
            first_reject: None,
            ignored_columns: Vec::new(),
            missing_fields: Vec::new(),
        }
    }

    /// The report of a file that was not read, and why.
    pub fn skipped(file: &InputFile, message: String) -> FileReport {
        FileReport {
            status: FileStatus::Skipped,
            message: Some(message),
            ..FileReport::empty(file)
        }
    }

    /// Whether rows_read = written + quarantined + duplicates + filtered.
    pub fn conserved(&self) -> bool {
        self.rows_read
            == self.rows_written
                + self.rows_quarantined
                + self.duplicates_dropped
                + self.rows_filtered
    }
}

/// The first record of a file that was quarantined.
#[derive(Debug, Clone, Serialize)]
pub struct FirstReject {
    /// Its line (JSON array: element index).
    pub line: u64,
    /// Its reason code.
    pub code: String,
    /// Its reason, in words.
    pub reason: String,
    /// The start of its raw text (at most 120 characters).
    pub raw: String,
}

/// Totals over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Files read into the dataset.
    pub files_ingested: u64,
    /// Files the ledger already had.
    pub files_skipped: u64,
    /// Files that failed as a whole.
    pub files_failed: u64,
    /// Records read from ingested files.
    pub rows_read: u64,
    /// Rows written to the dataset.
    pub rows_written: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Rows dropped as older duplicates within this run.
    pub duplicates_dropped: u64,
    /// Records a mapping's `[source] skip` says are not contacts.
    pub rows_filtered: u64,
    /// Legs stored by sources of several legs a record (Genesys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legs_written: Option<u64>,
    /// Rows stored after a clock-skew fix.
    pub clock_skew_fixed: u64,
    /// Rows already in the dataset replaced by a newer version.
    pub rows_replaced: u64,
    /// Quarantine reason histogram.
    pub reasons: BTreeMap<String, u64>,
    /// Raw bytes read.
    pub bytes_read: u64,
}

/// The report of one ingest run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Sortable id of the run (`YYYYMMDDTHHMMSSZ-xxxxxx`).
    pub ingest_id: String,
    /// The dataset folder.
    pub dataset: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The `--source` asked for.
    pub source: String,
    /// The zone for timestamps without offsets.
    pub tz: String,
    /// Per-file outcome, in input order.
    pub files: Vec<FileReport>,
    /// Totals.
    pub totals: Totals,
    /// rows_read = rows_written + rows_quarantined + duplicates_dropped +
    /// rows_filtered, for
    /// every file and in total.
    pub conservation_ok: bool,
    /// rows_quarantined / rows_read (0 when nothing was read).
    pub reject_rate: f64,
    /// The `--max-reject-rate` in force.
    pub max_reject_rate: f64,
    /// Whether the reject rate is above the maximum (exit code 3).
    pub reject_threshold_exceeded: bool,
    /// duplicates_dropped / rows_read (0 when nothing was read).
    pub duplicate_rate: f64,
    /// The `--max-duplicate-rate` in force, if any.
    pub max_duplicate_rate: Option<f64>,
    /// Whether the duplicate rate is above that maximum (exit code 3).
    pub duplicate_threshold_exceeded: bool,
    /// Partitions (dates) that received rows.
    pub partitions: Vec<String>,
    /// Quarantine folder of this run, relative to the dataset, if any row
    /// went there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_dir: Option<String>,
    /// `quarantine/<ingest_id>/duplicates.csv`, relative to the dataset,
    /// when duplicates were dropped: each with the version kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates_file: Option<String>,
    /// Whether anything was committed to the dataset.
    pub committed: bool,
    /// Rows per second over the run.
    pub rows_per_s: f64,
    /// Raw MB (10^6 bytes) per second over the run.
    pub mb_per_s: f64,
}
