//! Opening a dataset for reading: the shared lock (and the recovery of an
//! interrupted ingest) first, then the partitions. Every read-only command
//! goes through [`open_source`].

use std::path::Path;

use cxpipe_analytics::Partitions;

/// Opens a dataset for reading and lists its partitions. The query must
/// run while the returned dataset (its shared lock) is alive.
pub fn open_source(dataset: &Path) -> anyhow::Result<(cxpipe_dataset::ReadGuard, Partitions)> {
    // Its errors name the dataset (or the file in it) already.
    let ds = cxpipe_dataset::Dataset::open_for_reading(dataset)?;
    if let Some(note) = ds.recovered() {
        tracing::info!("{note}");
    }
    let mut source = Partitions::from_guard(&ds)?;
    if let Some(observer) = crate::progress::scan_observer(source.all_files()) {
        source.observe(observer);
    }
    if source.is_empty() {
        tracing::warn!("{} has no rows yet", dataset.display());
    }
    Ok((ds, source))
}
