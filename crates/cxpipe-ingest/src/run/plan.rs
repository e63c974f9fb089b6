//! Before any work: which files to read, and which the ledger already has.

use std::fs;

use crate::read::input::Input;
use crate::read::input::{self, InputFile};
use crate::report::{FileReport, FileStatus};
use crate::reporter::Reporter;
use cxpipe_dataset::{Ledger, LedgerEntry};

use super::sequencer::FileState;

/// What the reader does with each file.
pub(crate) enum Plan {
    /// Read it.
    Read,
    /// Skip it, for this reason.
    Skip(String),
}

/// The files of `inputs` (folders expanded) and what to do with each.
/// Files the ledger already has are skipped before any work; the
/// pre-check hashes only files whose size matches a ledger entry.
pub(crate) fn plan(
    inputs: &[Input],
    ledger: &Ledger,
    force: bool,
    reporter: &dyn Reporter,
) -> (Vec<InputFile>, Vec<Plan>) {
    let (files, skipped_paths) = input::expand(inputs);
    for (p, why) in &skipped_paths {
        reporter.note(&format!("skipping {} ({why})", p.display()));
    }
    let plans = files
        .iter()
        .map(|f| match (&f.path, force) {
            (Some(p), false) => match fs::metadata(p) {
                Ok(m) if m.is_file() && ledger.has_size(m.len()) => match input::hash_file(p) {
                    Ok(c) => match ledger.find(c.bytes, &c.xxh3_128) {
                        // Recorded with no rows: read it again, and let the
                        // end of the run decide (`settle_outcomes`). An older
                        // cxpipe read some files as empty (CR-only lines).
                        Some(e) if e.rows_read == 0 => Plan::Read,
                        Some(e) => Plan::Skip(already(e)),
                        None => Plan::Read,
                    },
                    Err(_) => Plan::Read,
                },
                _ => Plan::Read,
            },
            _ => Plan::Read,
        })
        .collect();
    (files, plans)
}

/// Why a file the ledger has is skipped.
pub(crate) fn already(e: &LedgerEntry) -> String {
    format!(
        "already ingested by {} as {} (same size and content hash); --force reads it again",
        e.ingest_id, e.name
    )
}

/// Settles the outcome of files the workers could not: planned skips,
/// content already in the ledger (stdin, or a file whose size the
/// pre-check did not match), and files whose reading never finished.
pub(crate) fn settle_outcomes(
    states: &mut [FileState],
    files: &[InputFile],
    plans: &[Plan],
    ledger: &Ledger,
    force: bool,
    reporter: &dyn Reporter,
) {
    for (i, plan) in plans.iter().enumerate() {
        let st = &mut states[i];
        if let Plan::Skip(msg) = plan {
            st.report = FileReport::skipped(&files[i], msg.clone());
            continue;
        }
        if st.report.status == FileStatus::Failed {
            continue;
        }
        if !st.ended {
            st.report.status = FileStatus::Failed;
            st.report.message = Some("reading did not finish".to_string());
            continue;
        }
        // The same content again is skipped, unless the ledger recorded it
        // with no rows and this read found some (a file an older cxpipe
        // misread, such as one with CR-only line endings).
        if let (false, Some(c)) = (force, &st.content)
            && let Some(e) = ledger.find(c.bytes, &c.xxh3_128)
        {
            if e.rows_read == 0 && st.report.rows_read > 0 {
                reporter.note(&format!(
                    "{}: the ledger recorded it with 0 rows ({}); reading it again found {}",
                    files[i].name, e.ingest_id, st.report.rows_read
                ));
                continue;
            }
            st.report = FileReport::skipped(&files[i], already(e));
            if let Some(q) = st.quarantine.take() {
                q.remove();
            }
        }
    }
}
