//! Recognising a vendor's export from its CSV header or first JSON object
//! (`--source auto`).

use serde_json::Value;

use super::compile::{MapFormat, Mapping};

impl Mapping {
    /// Whether a CSV header (trimmed, any case) has every `detect` field.
    pub fn detects_header(&self, header: &[String]) -> bool {
        self.format == MapFormat::Csv
            && !self.detect.is_empty()
            && self
                .detect
                .iter()
                .all(|d| header.iter().any(|h| h.trim().eq_ignore_ascii_case(d)))
    }

    /// Whether a JSON object has every `detect` path (null counts).
    pub fn detects_object(&self, obj: &Value) -> bool {
        self.format == MapFormat::Json
            && !self.detect.is_empty()
            && self.detect.iter().all(|d| value_at(obj, d).is_some())
    }
}

/// The value at a dotted path of object keys (`data.items`), if there.
pub fn value_at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}
