//! Resolving a CSV file's header against a mapping: which column holds
//! each source field, which are missing, which are ignored.

use super::compile::{ColumnRule, Mapping, REQUIRED};

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
    /// Source fields required by the required columns (for CSV headers):
    /// for each, the alternatives of which one must be present.
    fn required_fields(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        for slot in REQUIRED {
            let Some(col) = &self.cols[slot.index()] else {
                continue;
            };
            if col.default.is_some() {
                continue;
            }
            match &col.rule {
                ColumnRule::Fields(f) => out.push(f.clone()),
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
        let missing_required: Vec<String> = self
            .required_fields()
            .iter()
            .filter(|alts| alts.iter().all(|a| col_of[*a].is_none()))
            .map(|alts| {
                alts.iter()
                    .map(|a| self.fields[*a].as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
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
