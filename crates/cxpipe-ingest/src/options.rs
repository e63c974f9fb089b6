//! What a run is asked to do: its options, and which source reads the files.

use std::path::PathBuf;
use std::sync::Arc;

use crate::source::mapping;

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
    /// Genesys Cloud conversation details (code: several legs a record).
    Genesys,
}

impl SourceKind {
    /// The name used on the command line and in reports.
    pub fn as_str(&self) -> &str {
        match self {
            SourceKind::Auto => "auto",
            SourceKind::Generic => "generic",
            SourceKind::Genesys => "genesys",
            SourceKind::Mapped(m) => &m.name,
        }
    }

    /// The names [`SourceKind::named`] knows.
    pub const NAMES: [&str; 6] = [
        "auto",
        "generic",
        "amazon-connect",
        "five9",
        "genesys",
        "talkdesk",
    ];

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
            "genesys" => Some(SourceKind::Genesys),
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
    pub zone: cxpipe_model::Zone,
    /// Above this share of quarantined rows the run is flagged (exit 3).
    pub max_reject_rate: f64,
    /// Above this share of dropped duplicates the run is flagged (exit 3);
    /// `None`: no limit (SPEC §5 `--max-duplicate-rate`, default off).
    pub max_duplicate_rate: Option<f64>,
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
    /// The plausible times and durations (`[ingest] min_time`, `max_time`,
    /// `max_duration_s`).
    pub limits: crate::row::Limits,
    /// How long superseded snapshots are kept (`[dataset] keep_snapshots_s`).
    pub keep_snapshots_s: u64,
    /// Part files all workers together keep open at most (default 512);
    /// the binary lowers it to fit the process's open-file limit.
    pub max_open_parts: usize,
}

impl IngestOptions {
    /// Defaults for a dataset folder.
    pub fn new(dataset: impl Into<PathBuf>) -> IngestOptions {
        IngestOptions {
            dataset: dataset.into(),
            source: SourceKind::Auto,
            zone: cxpipe_model::Zone::utc(),
            max_reject_rate: 0.05,
            max_duplicate_rate: None,
            force: false,
            threads: 0,
            pii_key: None,
            pii_key_file: None,
            chunk_bytes: 4 << 20,
            limits: crate::row::Limits::default(),
            keep_snapshots_s: cxpipe_dataset::DEFAULT_KEEP_SNAPSHOTS_S,
            max_open_parts: crate::write::part::MAX_OPEN_PARTS,
        }
    }
}
