//! Which source reads a file: the one named with `--source`/`--mapping`,
//! or (`auto`) the first vendor mapping whose `detect` fields the CSV
//! header or first JSON object has, else generic. A file nothing
//! recognises fails with a message listing what was tried.

use std::sync::Arc;

use crate::options::SourceKind;
use crate::source::generic::{self, CsvLayout};
use crate::source::genesys;
use crate::source::mapping::{self, MapFormat, Mapping};

use super::chunk::FileKind;

/// What reads a JSON file.
enum JsonSource {
    Generic,
    Mapped(Arc<Mapping>),
    Genesys,
}

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

    /// How a JSON file's records are read, from its first record, and
    /// the source's name. `array`: the records are array elements (the
    /// generic source reads NDJSON only).
    pub(crate) fn json_kind(
        &self,
        first: Option<&[u8]>,
        array: bool,
    ) -> Result<(FileKind, String), String> {
        match self.json_source(first)? {
            JsonSource::Genesys => Ok((FileKind::Genesys { array }, "genesys".to_string())),
            JsonSource::Mapped(mapping) => {
                let name = mapping.name.clone();
                Ok((FileKind::MappedJson { mapping, array }, name))
            }
            JsonSource::Generic if array => Err(
                "a JSON array; the generic source reads CSV or NDJSON (one object per line)"
                    .to_string(),
            ),
            JsonSource::Generic => Ok((FileKind::Ndjson, "generic".to_string())),
        }
    }

    /// The `[source] records` path of the mapping a JSON document is read
    /// with, when the source is named; `None` under auto.
    pub(crate) fn records_path(&self) -> Option<Option<&str>> {
        match &self.source {
            SourceKind::Mapped(m) => Some(m.records.as_deref()),
            SourceKind::Genesys => Some(Some(genesys::RECORDS)),
            SourceKind::Generic => Some(None),
            SourceKind::Auto => None,
        }
    }

    /// The records paths `auto` tries in a JSON document: the vendor
    /// mappings' and Genesys' (`conversations`).
    pub(crate) fn auto_records_paths(&self) -> Vec<&str> {
        std::iter::once(genesys::RECORDS)
            .chain(self.vendors.iter().filter_map(|m| m.records.as_deref()))
            .collect()
    }

    fn json_source(&self, first: Option<&[u8]>) -> Result<JsonSource, String> {
        match &self.source {
            SourceKind::Generic => Ok(JsonSource::Generic),
            SourceKind::Genesys => Ok(JsonSource::Genesys),
            SourceKind::Mapped(m) if m.format == MapFormat::Json => {
                Ok(JsonSource::Mapped(m.clone()))
            }
            SourceKind::Mapped(m) => Err(format!(
                "the file is JSON, but source {} reads CSV (its mapping says format = \"csv\")",
                m.name
            )),
            SourceKind::Auto => self.detect_json(first),
        }
    }

    fn detect_json(&self, first: Option<&[u8]>) -> Result<JsonSource, String> {
        let obj = first.and_then(|r| serde_json::from_slice::<serde_json::Value>(r).ok());
        let Some(obj) = obj.filter(serde_json::Value::is_object) else {
            // No record to go by: the generic reader quarantines what is
            // not a record.
            return Ok(JsonSource::Generic);
        };
        if genesys::detects(&obj) {
            return Ok(JsonSource::Genesys);
        }
        if let Some(m) = self.vendors.iter().find(|m| m.detects_object(&obj)) {
            return Ok(JsonSource::Mapped(m.clone()));
        }
        let keys: Vec<&str> = obj
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys.iter().any(|k| generic::resolve(k).is_some()) {
            return Ok(JsonSource::Generic);
        }
        let tried: Vec<String> = self
            .vendors
            .iter()
            .filter(|m| m.format == MapFormat::Json)
            .map(|m| format!("{} (needs keys {})", m.name, m.detect.join(", ")))
            .chain(std::iter::once(format!(
                "genesys (needs keys {})",
                genesys::DETECT.join(", ")
            )))
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
            SourceKind::Genesys => Err(
                "the file is CSV, but source genesys reads JSON (conversation details)".to_string(),
            ),
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
