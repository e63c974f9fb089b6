//! Which source reads a file: the one named with `--source`/`--mapping`,
//! or (`auto`) the first vendor mapping whose `detect` fields the CSV
//! header or first JSON object has, else generic. A file nothing
//! recognises fails with a message listing what was tried.

use std::sync::Arc;

use crate::options::SourceKind;
use crate::source::generic::{self, CsvLayout};
use crate::source::mapping::{self, MapFormat, Mapping};

use super::chunk::FileKind;

/// Picks the source of each file.
pub(crate) struct Detector {
    source: SourceKind,
    /// The vendor mappings `auto` tries.
    vendors: Vec<Arc<Mapping>>,
}

impl Detector {
    /// A detector for the run's `--source`.
    pub(crate) fn new(source: SourceKind) -> Detector {
        Detector {
            source,
            vendors: mapping::vendors().into_iter().map(Arc::new).collect(),
        }
    }

    /// `" (detected)"` when the source was recognised rather than named,
    /// for the notes.
    pub(crate) fn detected_note(&self) -> &'static str {
        if matches!(self.source, SourceKind::Auto) {
            " (detected)"
        } else {
            ""
        }
    }

    /// The mapping of a JSON array, from its first element.
    pub(crate) fn json_mapping(&self, first: Option<&[u8]>) -> Result<Arc<Mapping>, String> {
        match self.json_source(first)? {
            Some(m) => Ok(m),
            None => Err(
                "a JSON array; the generic source reads CSV or NDJSON (one object per line)"
                    .to_string(),
            ),
        }
    }

    /// The source of a JSON file from its first object: a mapping, or
    /// `None` for generic.
    pub(crate) fn json_source(&self, first: Option<&[u8]>) -> Result<Option<Arc<Mapping>>, String> {
        match &self.source {
            SourceKind::Generic => Ok(None),
            SourceKind::Mapped(m) if m.format == MapFormat::Json => Ok(Some(m.clone())),
            SourceKind::Mapped(m) => Err(format!(
                "the file is JSON, but source {} reads CSV (its mapping says format = \"csv\")",
                m.name
            )),
            SourceKind::Auto => self.detect_json(first),
        }
    }

    fn detect_json(&self, first: Option<&[u8]>) -> Result<Option<Arc<Mapping>>, String> {
        let obj = first.and_then(|r| serde_json::from_slice::<serde_json::Value>(r).ok());
        let Some(obj) = obj.filter(serde_json::Value::is_object) else {
            // No record to go by: the generic reader quarantines what is
            // not a record.
            return Ok(None);
        };
        if let Some(m) = self.vendors.iter().find(|m| m.detects_object(&obj)) {
            return Ok(Some(m.clone()));
        }
        let keys: Vec<&str> = obj
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys.iter().any(|k| generic::resolve(k).is_some()) {
            return Ok(None);
        }
        let tried: Vec<String> = self
            .vendors
            .iter()
            .filter(|m| m.format == MapFormat::Json)
            .map(|m| format!("{} (needs keys {})", m.name, m.detect.join(", ")))
            .chain(std::iter::once(
                "generic (needs canonical keys such as interaction_id)".to_string(),
            ))
            .collect();
        Err(format!(
            "not a recognised export (tried: {}); the first record has keys {}. Name the source with --source, or write a mapping (--mapping)",
            tried.join("; "),
            keys.join(", ")
        ))
    }

    /// The source of a CSV file from its header.
    /// The column names of an explicit headerless-CSV mapping.
    /// The delimiter a named CSV mapping gives; `None` (auto, generic):
    /// each file's header says (`,` unless it has none and one other).
    pub(crate) fn csv_delimiter(&self) -> Option<u8> {
        match &self.source {
            SourceKind::Mapped(m) if m.format == MapFormat::Csv => Some(m.delimiter),
            _ => None,
        }
    }

    pub(crate) fn headerless_columns(&self) -> Option<Vec<String>> {
        match &self.source {
            SourceKind::Mapped(m) if m.format == MapFormat::Csv => m.columns.clone(),
            _ => None,
        }
    }

    pub(crate) fn csv_source(&self, header: &[String]) -> Result<FileKind, String> {
        match &self.source {
            SourceKind::Generic => Ok(FileKind::Csv(Box::new(CsvLayout::from_header(header)?))),
            SourceKind::Mapped(m) if m.format == MapFormat::Csv => Ok(FileKind::MappedCsv(
                m.clone(),
                Box::new(m.csv_layout(header)?),
            )),
            SourceKind::Mapped(m) => Err(format!(
                "the file is CSV, but source {} reads JSON (its mapping says format = \"json\")",
                m.name
            )),
            SourceKind::Auto => self.detect_csv(header),
        }
    }

    fn detect_csv(&self, header: &[String]) -> Result<FileKind, String> {
        if let Some(m) = self.vendors.iter().find(|m| m.detects_header(header)) {
            let layout = m.csv_layout(header)?;
            return Ok(FileKind::MappedCsv(m.clone(), Box::new(layout)));
        }
        CsvLayout::from_header(header)
            .map(|layout| FileKind::Csv(Box::new(layout)))
            .map_err(|e| {
                let tried: Vec<String> = self
                    .vendors
                    .iter()
                    .filter(|m| m.format == MapFormat::Csv)
                    .map(|m| format!("{} (needs columns {})", m.name, m.detect.join(", ")))
                    .chain(std::iter::once(format!("generic ({e})")))
                    .collect();
                format!(
                    "not a recognised export (tried: {}). Name the source with --source, or write a mapping (--mapping)",
                    tried.join("; ")
                )
            })
    }
}
