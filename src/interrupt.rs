//! Ctrl-C: the commands that write stop cleanly on the first one (the
//! dataset or the reports stay as they were), and quit on the second.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C; long operations check it and stop cleanly.
pub static CANCEL: AtomicBool = AtomicBool::new(false);

/// Installs the handler (for `ingest`, `generate`, `run`; read-only
/// commands just stop).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: stop now. Staged work is discarded by the
            // next run, so the dataset is still as before.
            std::process::exit(130);
        }
        tracing::warn!(
            "interrupted: finishing up without changing the dataset (Ctrl-C again to quit now)"
        );
    });
}
