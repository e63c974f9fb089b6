//! What to generate: the configuration, the encodings and the layouts, and
//! the names of the files written.

use std::path::{Path, PathBuf};

use cxpipe_model::civil::is_valid_date;

use crate::Error;
use crate::sink::Compression;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of data rows (interaction legs) to write, exactly.
    pub rows: u64,
    /// Seed: the same configuration and seed give byte-identical output.
    pub seed: u64,
    /// First day (UTC) as `(year, month, day)`.
    pub start: (i32, u8, u8),
    /// Number of days covered.
    pub days: u32,
    /// Number of agents; `None` derives it from the rows (about 60 contacts
    /// per agent-day, at least 8).
    pub agents: Option<u32>,
    /// Encoding of the data file (CSV, NDJSON or a JSON array); it must be
    /// one the [`Layout`] is written in ([`Layout::format_for`] picks it
    /// from a file name).
    pub format: FileFormat,
    /// Whose export the data file imitates: the same seed gives the same
    /// contacts in every layout, only written differently.
    pub layout: Layout,
    /// Generic CSV: every text field in quotes, as pandas and pyarrow write
    /// strings (numbers, booleans and times stay bare; an empty field
    /// stays empty).
    pub quote_text: bool,
}

impl Default for GenConfig {
    /// 1000 rows, seed 42, October 2026 (31 days), agents derived, generic
    /// CSV.
    fn default() -> GenConfig {
        GenConfig {
            rows: 1000,
            seed: 42,
            start: (2026, 10, 1),
            days: 31,
            agents: None,
            format: FileFormat::Csv,
            layout: Layout::Generic,
            quote_text: false,
        }
    }
}

/// Encoding of the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// Comma-separated values with a header line, RFC 4180 quoting.
    #[default]
    Csv,
    /// One JSON object per line; in the generic layout empty fields are
    /// omitted.
    Ndjson,
    /// One JSON array: `[`, a line break, the objects separated by `,` and a
    /// line break, then a line break and `]` (only for
    /// [`Layout::AmazonConnect`]; never picked by [`FileFormat::from_path`]).
    JsonArray,
}

impl FileFormat {
    /// Picks the layout from a file name, ignoring a `.gz` or `.zst` suffix:
    /// `.ndjson` and `.jsonl` are [`FileFormat::Ndjson`], anything else CSV.
    pub fn from_path(path: &Path) -> FileFormat {
        let stem = strip_compression(path);
        match stem
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("ndjson" | "jsonl") => FileFormat::Ndjson,
            _ => FileFormat::Csv,
        }
    }

    /// The name written in the facts file: `csv`, `ndjson` or `json`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
            FileFormat::JsonArray => "json",
        }
    }
}

/// Whose export the data file imitates (the built-in sources of SPEC §4).
///
/// The same configuration and seed give the same contacts (ids, times,
/// agents, customers, outcomes) in every layout; only their representation
/// differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// cxpipe's own columns (SPEC §4 `generic`), as CSV or NDJSON.
    #[default]
    Generic,
    /// Amazon Connect contact trace records, as NDJSON or a JSON array, with
    /// about 0.5 % of the contacts also delivered as an older version of
    /// their record (as CTR streams deliver at least once).
    AmazonConnect,
    /// A Five9 call log report: CSV with upper-case headers, call start in
    /// America/New_York wall-clock time, `HH:MM:SS` durations.
    Five9,
    /// A Talkdesk contacts report: CSV, UTC times without an offset, whole
    /// seconds.
    Talkdesk,
    /// Genesys Cloud analytics conversation details: one conversation a leg,
    /// NDJSON (`.ndjson`) or a JSON array (`.json`).
    Genesys,
}

/// The time zone of the Five9 layout's `TIMESTAMP` column (recorded as
/// `tz` in the facts file).
pub const FIVE9_TIME_ZONE: &str = "America/New_York";

impl Layout {
    /// Every layout, in the order of [`Layout::as_str`]'s documentation.
    pub const ALL: [Layout; 5] = [
        Layout::Generic,
        Layout::AmazonConnect,
        Layout::Five9,
        Layout::Talkdesk,
        Layout::Genesys,
    ];

    /// The layout's name: `generic`, `amazon-connect`, `five9` or
    /// `talkdesk` (the name of the matching `cxpipe ingest --source`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Layout::Generic => "generic",
            Layout::AmazonConnect => "amazon-connect",
            Layout::Five9 => "five9",
            Layout::Talkdesk => "talkdesk",
            Layout::Genesys => "genesys",
        }
    }

    /// The encoding this layout is written in for a file called `path`
    /// (a `.gz` or `.zst` suffix is ignored), or [`Error::Config`] when the
    /// name does not fit the layout:
    ///
    /// - generic: [`FileFormat::from_path`] (`.ndjson` / `.jsonl` are NDJSON,
    ///   anything else CSV), as before layouts existed;
    /// - amazon-connect: `.ndjson` / `.jsonl` are NDJSON, `.json` a JSON
    ///   array; any other name is refused;
    /// - five9, talkdesk: CSV; a `.ndjson`, `.jsonl` or `.json` name is
    ///   refused.
    pub fn format_for(self, path: &Path) -> Result<FileFormat, Error> {
        let ext = strip_compression(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let ext = ext.as_deref();
        match self {
            Layout::Generic => Ok(FileFormat::from_path(path)),
            Layout::AmazonConnect | Layout::Genesys => match ext {
                Some("ndjson" | "jsonl") => Ok(FileFormat::Ndjson),
                Some("json") => Ok(FileFormat::JsonArray),
                _ => Err(Error::Config(format!(
                    "the {self} layout is JSON: name the file .ndjson or .jsonl \
                     (one record a line) or .json (one array), optionally followed by .gz \
                     or .zst, not {}",
                    path.display()
                ))),
            },
            Layout::Five9 | Layout::Talkdesk => match ext {
                Some("ndjson" | "jsonl" | "json") => Err(Error::Config(format!(
                    "the {self} layout is a CSV report: name the file .csv (optionally \
                     followed by .gz or .zst), not {}",
                    path.display()
                ))),
                _ => Ok(FileFormat::Csv),
            },
        }
    }

    /// Whether this layout can be written in `format`.
    pub(crate) fn writes(self, format: FileFormat) -> bool {
        match self {
            Layout::Generic => matches!(format, FileFormat::Csv | FileFormat::Ndjson),
            Layout::AmazonConnect | Layout::Genesys => {
                matches!(format, FileFormat::Ndjson | FileFormat::JsonArray)
            }
            Layout::Five9 | Layout::Talkdesk => format == FileFormat::Csv,
        }
    }

    /// About how many bytes a row takes, for sizing the writer's queue.
    pub(crate) fn approx_row_bytes(self) -> u64 {
        match self {
            Layout::AmazonConnect => 1200,
            Layout::Genesys => 1500,
            _ => 200,
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Layout {
    type Err = ParseLayoutError;

    /// Parses a name of [`Layout::as_str`], ignoring ASCII case.
    fn from_str(s: &str) -> Result<Layout, ParseLayoutError> {
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLayoutError {
                name: s.to_string(),
            })
    }
}

/// A layout name that [`Layout`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout {name:?}: choose generic, amazon-connect, five9, talkdesk or genesys")]
pub struct ParseLayoutError {
    name: String,
}

/// Where the facts of data file `out` go: beside it, with the compression
/// and data extensions replaced by `.facts.json` (`data.csv` and
/// `data.csv.gz` both give `data.facts.json`).
pub fn facts_path(out: &Path) -> PathBuf {
    let stem = strip_compression(out);
    let base = stem
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{base}.facts.json"))
}

/// `path` without a `.gz` or `.zst` extension.
fn strip_compression(path: &Path) -> PathBuf {
    match Compression::from_path(path) {
        Compression::None => path.to_path_buf(),
        _ => path.with_extension(""),
    }
}

/// Checks `cfg` before anything is planned or written.
pub(crate) fn validate(cfg: &GenConfig) -> Result<(), Error> {
    let (y, m, d) = cfg.start;
    if !(1900..=9000).contains(&y) || !is_valid_date(y, u32::from(m), u32::from(d)) {
        return Err(Error::Config(format!(
            "start {y:04}-{m:02}-{d:02} is not a valid date in 1900..=9000"
        )));
    }
    if cfg.days == 0 || cfg.days > 3660 {
        return Err(Error::Config(format!(
            "days must be 1..=3660, not {}",
            cfg.days
        )));
    }
    if cfg.agents == Some(0) {
        return Err(Error::Config("agents must be at least 1".into()));
    }
    if cfg.rows >= 1 << 40 {
        return Err(Error::Config(format!(
            "rows must be below 2^40, not {}",
            cfg.rows
        )));
    }
    if !cfg.layout.writes(cfg.format) {
        return Err(Error::Config(format!(
            "the {} layout cannot be written as {}",
            cfg.layout,
            cfg.format.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_facts_path_from_names() {
        assert_eq!(
            FileFormat::from_path(Path::new("a/data.csv")),
            FileFormat::Csv
        );
        assert_eq!(
            FileFormat::from_path(Path::new("data.ndjson.gz")),
            FileFormat::Ndjson
        );
        assert_eq!(
            FileFormat::from_path(Path::new("data.JSONL.zst")),
            FileFormat::Ndjson
        );
        assert_eq!(
            FileFormat::from_path(Path::new("data.json")),
            FileFormat::Csv
        );
        assert_eq!(FileFormat::from_path(Path::new("data")), FileFormat::Csv);
        assert_eq!(
            facts_path(Path::new("x/data.csv")),
            Path::new("x/data.facts.json")
        );
        assert_eq!(
            facts_path(Path::new("x/data.csv.gz")),
            Path::new("x/data.facts.json")
        );
        assert_eq!(
            facts_path(Path::new("data.ndjson.zst")),
            Path::new("data.facts.json")
        );
        assert_eq!(facts_path(Path::new("data")), Path::new("data.facts.json"));
    }

    #[test]
    fn layout_names_round_trip_and_unknown_names_are_refused() {
        let names: Vec<&str> = Layout::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(
            names,
            ["generic", "amazon-connect", "five9", "talkdesk", "genesys"]
        );
        for l in Layout::ALL {
            assert_eq!(l.as_str().parse::<Layout>(), Ok(l));
            assert_eq!(l.to_string(), l.as_str());
        }
        assert_eq!("Five9".parse::<Layout>(), Ok(Layout::Five9));
        assert_eq!(Layout::default(), Layout::Generic);
        for bad in ["", "amazon_connect", "connect", "five-9", "generic "] {
            let err = bad.parse::<Layout>().expect_err(bad);
            assert!(err.to_string().contains("amazon-connect"), "{err}");
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            GenConfig {
                start: (2026, 2, 30),
                ..GenConfig::default()
            },
            GenConfig {
                days: 0,
                ..GenConfig::default()
            },
            GenConfig {
                agents: Some(0),
                ..GenConfig::default()
            },
            GenConfig {
                layout: Layout::Five9,
                format: FileFormat::Ndjson,
                ..GenConfig::default()
            },
            GenConfig {
                layout: Layout::AmazonConnect,
                format: FileFormat::Csv,
                ..GenConfig::default()
            },
        ];
        for cfg in bad {
            assert!(matches!(validate(&cfg), Err(Error::Config(_))), "{cfg:?}");
        }
        assert!(validate(&GenConfig::default()).is_ok());
    }
}
