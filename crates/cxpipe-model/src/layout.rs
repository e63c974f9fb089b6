//! The dataset's layout on disk (SPEC §6): the names of its tables, folders
//! and files, spelled once for the crates that write it (ingest, dataset)
//! and those that read it (analytics, the binary).
//!
//! ```text
//! DATASET/
//!   interactions -> snapshots/<ingest_id>/interactions     (a symbolic link)
//!   snapshots/<ingest_id>/interactions/date=YYYY-MM-DD/part-<ingest_id>-<n>.parquet
//!   snapshots/<ingest_id>/snapshot.json
//!   quarantine/<ingest_id>/<file>.rejects.csv
//!   ingests/<ingest_id>.json
//!   versions/<ingest_id>-<n>.bin
//!   ledger.json   .lock   .pii.key   .staging/<ingest_id>/…
//! ```

use crate::civil::{format_day, parse_day};

/// The table of interactions: one folder of day partitions.
pub const INTERACTIONS: &str = "interactions";
/// Folder of the table's immutable snapshots, one per commit that changed
/// it (`snapshots/<ingest_id>/interactions/…`); `interactions` is a
/// symbolic link to the current one.
pub const SNAPSHOTS: &str = "snapshots";
/// A snapshot's manifest: when it was committed and its files.
pub const SNAPSHOT_MANIFEST: &str = "snapshot.json";
/// Folder of quarantined rows.
pub const QUARANTINE: &str = "quarantine";
/// Folder of run reports.
pub const INGESTS: &str = "ingests";
/// The ledger of ingested files.
pub const LEDGER: &str = "ledger.json";
/// Work in progress of an ingest.
pub const STAGING: &str = ".staging";
/// Versions of stored rows whose source has one (`<ingest_id>-<n>.bin`).
pub const VERSIONS: &str = "versions";
/// The lock file (`flock`): shared by readers, exclusive for a writer.
pub const LOCK: &str = ".lock";
/// A staged commit's journal.
pub const JOURNAL: &str = "journal.json";
/// The pseudonymisation key created when none is configured.
pub const PII_KEY: &str = ".pii.key";

/// The prefix of a day partition's folder name.
pub const PARTITION_PREFIX: &str = "date=";

/// The folder name of the partition of `day` (days since 1970-01-01):
/// `date=YYYY-MM-DD`.
pub fn partition_name(day: i64) -> String {
    format!("{PARTITION_PREFIX}{}", format_day(day))
}

/// The path of the partition of `day` relative to the dataset root, in
/// table `table`: `interactions/date=YYYY-MM-DD`.
pub fn partition_path(table: &str, day: i64) -> String {
    format!("{table}/{}", partition_name(day))
}

/// The day of a partition folder name (`date=2026-10-01`), or `None` for a
/// name that is not one.
pub fn partition_day(name: &str) -> Option<i64> {
    parse_day(name.strip_prefix(PARTITION_PREFIX)?)
}

/// The day of the partition a dataset-relative path is in
/// (`interactions/date=2026-10-01/part-….parquet`), if any.
pub fn partition_day_of_path(rel: &str) -> Option<i64> {
    rel.split('/').find_map(partition_day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::days_from_civil;

    #[test]
    fn partition_names_round_trip() {
        let day = days_from_civil(2026, 10, 1);
        assert_eq!(partition_name(day), "date=2026-10-01");
        assert_eq!(
            partition_path(INTERACTIONS, day),
            "interactions/date=2026-10-01"
        );
        assert_eq!(partition_day("date=2026-10-01"), Some(day));
        assert_eq!(partition_day("date=2026-10-32"), None);
        assert_eq!(partition_day("2026-10-01"), None);
        assert_eq!(
            partition_day_of_path("interactions/date=2026-10-01/part-x-1.parquet"),
            Some(day)
        );
        assert_eq!(partition_day_of_path("ledger.json"), None);
    }
}
