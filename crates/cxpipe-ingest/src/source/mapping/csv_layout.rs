//! Resolving a CSV file's header against a mapping: which column holds
//! each source field, which are missing, which are ignored.

use super::compile::{COVERED, ColumnRule, Mapping, REQUIRED};
use crate::row::Slot;

/// A mapping's CSV columns, resolved from one file's header.
#[derive(Debug, Clone)]
pub struct MappedCsv {
    /// The header column of each source field of the mapping.
    pub(super) col_of: Vec<Option<usize>>,
    /// Fields in the header.
    pub width: usize,
    /// Fields the mapping names that the header lacks (absent in every row).
    pub missing: Vec<String>,
    /// Header columns the mapping does not use.
    pub ignored: Vec<String>,
}

impl Mapping {
    /// Source fields a CSV header must have: those of the required
    /// columns, of the never-null ones and of `ended_at` (without which
    /// every answered record would be refused: a file that would be
    /// "detected" and then rejected whole fails up front instead). For
    /// each, the alternatives of which one must be present.
    fn required_fields(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let slots = REQUIRED.into_iter().chain(COVERED).chain([Slot::EndedAt]);
        for slot in slots {
            let Some(col) = &self.cols[slot.index()] else {
                continue;
            };
            if col.default.is_some() {
                continue;
            }
            match &col.rule {
                ColumnRule::Fields(f) => {
                    out.push(f.clone());
                    if !col.time_field.is_empty() {
                        out.push(col.time_field.clone());
                    }
                }
                ColumnRule::Derived { plus, minus, .. } => {
                    out.extend(plus.iter().chain(minus).map(|p| vec![*p]));
                }
                ColumnRule::Join { ids, .. } => out.extend(ids.iter().map(|p| vec![*p])),
                _ => {}
            }
        }
        out
    }

    /// Resolves a CSV header against the mapping: which column holds each
    /// field. A required field missing fails the file; other missing
    /// fields are absent in every row and listed in `missing`.
    pub fn csv_layout(&self, header: &[String]) -> Result<MappedCsv, String> {
        let col_of: Vec<Option<usize>> = self
            .fields
            .iter()
            .map(|f| header.iter().position(|h| h.trim().eq_ignore_ascii_case(f)))
            .collect();
        let mut missing_required: Vec<String> = Vec::new();
        for alts in self.required_fields() {
            if alts.iter().any(|a| col_of[*a].is_some()) {
                continue;
            }
            let names = alts
                .iter()
                .map(|a| self.fields[*a].as_str())
                .collect::<Vec<_>>()
                .join(" or ");
            // One field can feed several columns (TALK TIME: talk_ms and
            // the derived end): name it once.
            if !missing_required.contains(&names) {
                missing_required.push(names);
            }
        }
        if !missing_required.is_empty() {
            return Err(format!(
                "missing required column{} {} for source {} (header: {})",
                if missing_required.len() > 1 { "s" } else { "" },
                missing_required.join(", "),
                self.name,
                header.join(",")
            ));
        }
        let missing = self
            .fields
            .iter()
            .zip(&col_of)
            .filter(|(_, c)| c.is_none())
            .map(|(f, _)| f.clone())
            .collect();
        let ignored = header
            .iter()
            .enumerate()
            .filter(|(i, _)| !col_of.contains(&Some(*i)))
            .map(|(_, h)| h.clone())
            .collect();
        Ok(MappedCsv {
            col_of,
            width: header.len(),
            missing,
            ignored,
        })
    }
}
