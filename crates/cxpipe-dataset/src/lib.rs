//! cxpipe's dataset on disk (SPEC §6) and how it changes atomically (SPEC §5).
//!
//! An ingest writes everything it produces under `DATASET/.staging/<id>/`,
//! laid out like the dataset itself. To commit, it writes a journal listing
//! the renames (staged file → final place, the ledger last) and deletions
//! (files whose rows were superseded), renames the journal into place, and
//! then applies it. A run killed before the journal exists leaves only a
//! staging folder, which the next open deletes; one killed after is rolled
//! forward by the next open. Writers open the dataset through
//! [`Dataset::open`] (the exclusive lock), readers through
//! [`Dataset::open_for_reading`], which returns a [`ReadGuard`]: the shared
//! lock, held while it lives. Analytics reads only through a `ReadGuard`, so
//! it never reads a half-applied commit or beside an ingest.
//!
//! Readers outside cxpipe take no lock; for them each commit that changes
//! the interactions table builds an immutable snapshot and switches the
//! table's path to it in one rename (see [`snapshot`]).
#![warn(missing_docs)]

pub mod snapshot;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use cxpipe_model::layout::{
    INGESTS, INTERACTIONS, JOURNAL, LEDGER, LOCK, PII_KEY, QUARANTINE, SNAPSHOTS, STAGING, VERSIONS,
};
use snapshot::SnapshotPlan;
pub use snapshot::{DEFAULT_KEEP_SNAPSHOTS_S, Snapshot, SnapshotFile};

/// What can go wrong with the dataset on disk.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem operation failed.
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    /// Reading a Parquet footer failed.
    #[error("{0}")]
    Parquet(String, #[source] parquet::errors::ParquetError),
    /// Something about the dataset is wrong (missing, locked, unreadable).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io(what.into(), source)
    }
}

/// An open dataset, locked for writing while this value lives.
#[derive(Debug)]
pub struct Dataset {
    root: PathBuf,
    _lock: File,
    /// Whether opening finished an interrupted commit or removed leftovers.
    pub recovered: Option<String>,
}

/// One file the ledger knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerEntry {
    /// File name (not path).
    pub name: String,
    /// Size in bytes as read (compressed size for .gz/.zst).
    pub size: u64,
    /// xxh3-128 of the bytes, hex.
    pub xxh3_128: String,
    /// The ingest that read it.
    pub ingest_id: String,
    /// Rows read from it.
    pub rows_read: u64,
    /// Rows of it written to the dataset.
    pub rows_written: u64,
}

/// The ledger of ingested files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// Format version.
    pub version: u32,
    /// Ingested files, oldest first.
    pub files: Vec<LedgerEntry>,
}

impl Ledger {
    /// The entry with this content, if any.
    pub fn find(&self, size: u64, xxh3_128: &str) -> Option<&LedgerEntry> {
        self.files
            .iter()
            .rev()
            .find(|e| e.size == size && e.xxh3_128 == xxh3_128)
    }

    /// Whether some ingested file has this size (a cheap pre-check before
    /// hashing).
    pub fn has_size(&self, size: u64) -> bool {
        self.files.iter().any(|e| e.size == size)
    }
}

/// The commit journal.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    ingest_id: String,
    /// (from, to), relative to the dataset root, applied in order.
    moves: Vec<(String, String)>,
    /// Files to delete, relative to the dataset root.
    deletes: Vec<String>,
    /// The snapshot this commit makes, when it changes the table; moves
    /// into `interactions/` then land in the snapshot's folder. A journal
    /// without one (written before snapshots existed) is applied in place.
    #[serde(default)]
    snapshot: Option<SnapshotPlan>,
}

/// A commit being assembled: what to move into place and what to delete.
#[derive(Debug)]
pub struct Commit {
    moves: Vec<(String, String)>,
    deletes: Vec<String>,
    keep_snapshots_s: u64,
}

impl Default for Commit {
    fn default() -> Commit {
        Commit {
            moves: Vec::new(),
            deletes: Vec::new(),
            keep_snapshots_s: DEFAULT_KEEP_SNAPSHOTS_S,
        }
    }
}

impl Commit {
    /// Moves a staged file (relative to the root) to its final place.
    pub fn add_move(&mut self, from: String, to: String) {
        self.moves.push((from, to));
    }

    /// Deletes a file (relative to the root) superseded by this commit.
    pub fn add_delete(&mut self, path: String) {
        self.deletes.push(path);
    }

    /// Whether there is nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.deletes.is_empty()
    }

    /// How long the snapshots this commit supersedes are kept (`[dataset]
    /// keep_snapshots_s`; default [`DEFAULT_KEEP_SNAPSHOTS_S`]).
    pub fn keep_snapshots_s(&mut self, secs: u64) {
        self.keep_snapshots_s = secs;
    }

    /// Whether it changes the interactions table.
    fn changes_table(&self) -> bool {
        self.moves.iter().any(|(_, to)| in_table(to)) || self.deletes.iter().any(|d| in_table(d))
    }
}

/// Whether a path relative to the root is in the interactions table.
fn in_table(rel: &str) -> bool {
    rel.strip_prefix(INTERACTIONS)
        .is_some_and(|rest| rest.starts_with('/'))
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |e| Error::io(what, e)
}

/// The dataset's lock file (created if missing) and its path.
fn open_lock_file(root: &Path) -> Result<(File, PathBuf), Error> {
    let lock_path = root.join(LOCK);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(format!("opening {}", lock_path.display())))?;
    Ok((lock, lock_path))
}

/// The lock file of an existing dataset, opened read-only (a lock needs no
/// write access); created only if missing.
fn open_lock_file_for_reading(root: &Path) -> Result<(File, PathBuf), Error> {
    let lock_path = root.join(LOCK);
    match File::open(&lock_path) {
        Ok(f) => Ok((f, lock_path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => open_lock_file(root),
        Err(e) => Err(Error::io(format!("opening {}", lock_path.display()), e)),
    }
}

/// The rows of a Parquet file, from its footer (nothing else is read).
pub fn parquet_rows(path: &Path) -> Result<u64, Error> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
    let r = SerializedFileReader::new(f)
        .map_err(|e| Error::Parquet(format!("reading {}", path.display()), e))?;
    Ok(r.metadata().file_metadata().num_rows().max(0) as u64)
}

impl Dataset {
    /// Opens (creating it if needed) the dataset at `root`, takes its write
    /// lock and finishes or discards an interrupted ingest.
    pub fn open(root: &Path) -> Result<Dataset, Error> {
        fs::create_dir_all(root).map_err(io_err(format!("creating dataset {}", root.display())))?;
        let (lock, lock_path) = open_lock_file(root)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Invalid(format!(
                    "another cxpipe is reading or writing {} (its lock {} is held); try again when it is done",
                    root.display(),
                    lock_path.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", lock_path.display()), e));
            }
        }
        for dir in [QUARANTINE, INGESTS] {
            let p = root.join(dir);
            fs::create_dir_all(&p).map_err(io_err(format!("creating {}", p.display())))?;
        }
        let mut ds = Dataset {
            root: root.to_path_buf(),
            _lock: lock,
            recovered: None,
        };
        ds.recovered = ds.recover()?;
        // A new dataset starts with an empty snapshot, so the table's path
        // is a link from the start and every commit switches it in one
        // rename; a link (even a broken one) or a plain folder is left
        // alone. (After the recovery: an interrupted switch finishes first.)
        if fs::symlink_metadata(root.join(INTERACTIONS)).is_err() {
            snapshot::create_empty(root, unix_now())?;
        }
        Ok(ds)
    }

    /// Opens an existing dataset for reading: finishes or discards an
    /// interrupted ingest when no other cxpipe has it open, then holds a
    /// shared lock, so any number of readers run side by side but never
    /// beside an ingest (which would fail to take its lock, and say so).
    ///
    /// It creates nothing but the lock file of a dataset that has none
    /// (one copied without its hidden files): no folder, no other file.
    pub fn open_for_reading(root: &Path) -> Result<ReadGuard, Error> {
        if !root.exists() {
            return Err(Error::Invalid(format!(
                "dataset {} does not exist; create one with `cxpipe ingest`",
                root.display()
            )));
        }
        // A commit interrupted while it switched a plain `interactions/`
        // folder (a dataset made before snapshots) to its first snapshot
        // leaves no `interactions` for an instant, but a journal: recovery
        // below finishes it.
        let interrupted = root.join(STAGING).is_dir() && root.join(SNAPSHOTS).is_dir();
        if !root.join(INTERACTIONS).is_dir() && !interrupted {
            return Err(Error::Invalid(format!(
                "{} is not a cxpipe dataset (no {INTERACTIONS}/ folder); create one with `cxpipe ingest`",
                root.display()
            )));
        }
        let (lock, lock_path) = open_lock_file_for_reading(root)?;
        let mut ds = Dataset {
            root: root.to_path_buf(),
            _lock: lock,
            recovered: None,
        };
        match ds._lock.try_lock() {
            Ok(()) => {
                ds.recovered = ds.recover()?;
                // flock converts the exclusive lock in place.
                ds._lock
                    .lock_shared()
                    .map_err(io_err(format!("locking {}", lock_path.display())))?;
            }
            Err(fs::TryLockError::WouldBlock) => match ds._lock.try_lock_shared() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::Invalid(format!(
                        "an ingest is writing {} (its lock {} is held); try again when it is done",
                        root.display(),
                        lock_path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::io(format!("locking {}", lock_path.display()), e));
                }
            },
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", lock_path.display()), e));
            }
        }
        Ok(ReadGuard { ds })
    }

    /// The dataset's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Finishes a journaled commit or removes an uncommitted staging area.
    fn recover(&self) -> Result<Option<String>, Error> {
        let staging = self.root.join(STAGING);
        let Ok(entries) = fs::read_dir(&staging) else {
            return Ok(None);
        };
        let mut notes = Vec::new();
        for entry in entries.flatten() {
            let dir = entry.path();
            let journal = dir.join(JOURNAL);
            if journal.exists() {
                let text =
                    fs::read(&journal).map_err(io_err(format!("reading {}", journal.display())))?;
                let j: Journal = serde_json::from_slice(&text).map_err(|e| {
                    Error::Invalid(format!(
                        "commit journal {} is unreadable: {e}",
                        journal.display()
                    ))
                })?;
                self.apply(&j)?;
                notes.push(format!("finished interrupted ingest {}", j.ingest_id));
            } else {
                notes.push(format!(
                    "discarded unfinished ingest {}",
                    entry.file_name().to_string_lossy()
                ));
            }
            fs::remove_dir_all(&dir).map_err(io_err(format!("removing {}", dir.display())))?;
        }
        let _ = fs::remove_dir(&staging);
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// Applies a journal. Idempotent: a move whose source is gone was done,
    /// a snapshot's link that exists was made.
    fn apply(&self, j: &Journal) -> Result<(), Error> {
        let (ledger_moves, data_moves): (Vec<_>, Vec<_>) =
            j.moves.iter().partition(|(_, to)| to == LEDGER);
        let Some(plan) = &j.snapshot else {
            for (from, to) in data_moves {
                self.apply_move(from, to)?;
            }
            self.apply_deletes(&j.deletes)?;
            for (from, to) in ledger_moves {
                self.apply_move(from, to)?;
            }
            sync_dir(&self.root);
            return Ok(());
        };
        let (table_moves, other_moves): (Vec<_>, Vec<_>) =
            data_moves.into_iter().partition(|(_, to)| in_table(to));
        let (table_deletes, other_deletes): (Vec<String>, Vec<String>) =
            j.deletes.iter().cloned().partition(|d| in_table(d));
        let snap = snapshot::snapshot_rel(&plan.id);
        for (from, to) in table_moves {
            self.apply_move(from, &format!("{snap}/{to}"))?;
        }
        snapshot::build(&self.root, plan, &table_deletes)?;
        for (from, to) in other_moves {
            self.apply_move(from, to)?;
        }
        self.apply_deletes(&other_deletes)?;
        snapshot::switch(&self.root, &plan.id)?;
        for (from, to) in ledger_moves {
            self.apply_move(from, to)?;
        }
        sync_dir(&self.root);
        snapshot::prune(
            &self.root,
            plan.keep_s,
            plan.committed_unix_s.max(unix_now()),
        )?;
        Ok(())
    }

    fn apply_deletes(&self, deletes: &[String]) -> Result<(), Error> {
        for d in deletes {
            let p = self.root.join(d);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("removing {}", p.display()), e)),
            }
            if let Some(parent) = p.parent() {
                // An emptied partition folder goes too; a non-empty one stays.
                let _ = fs::remove_dir(parent);
            }
        }
        Ok(())
    }

    fn apply_move(&self, from: &str, to: &str) -> Result<(), Error> {
        let src = self.root.join(from);
        let dst = self.root.join(to);
        if !src.exists() {
            return Ok(());
        }
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(io_err(format!("creating {}", parent.display())))?;
        }
        fs::rename(&src, &dst).map_err(io_err(format!(
            "moving {} to {}",
            src.display(),
            dst.display()
        )))?;
        if let Some(parent) = dst.parent() {
            sync_dir(parent);
        }
        Ok(())
    }

    /// Makes `commit` durable and visible: journal first, then the moves,
    /// deletions and the ledger, then the staging folder goes.
    pub fn commit(&self, ingest_id: &str, commit: Commit) -> Result<(), Error> {
        let staging = self.staging_dir(ingest_id);
        let snapshot = commit.changes_table().then(|| {
            let now = unix_now();
            SnapshotPlan {
                id: ingest_id.to_string(),
                base: snapshot::current_id(&self.root),
                committed_at: snapshot::rfc3339(now),
                committed_unix_s: now,
                keep_s: commit.keep_snapshots_s,
            }
        });
        let journal = Journal {
            ingest_id: ingest_id.to_string(),
            moves: commit.moves,
            deletes: commit.deletes,
            snapshot,
        };
        let tmp = staging.join("journal.tmp");
        write_json_durable(&tmp, &journal)?;
        let path = staging.join(JOURNAL);
        fs::rename(&tmp, &path).map_err(io_err(format!("writing {}", path.display())))?;
        sync_dir(&staging);
        self.apply(&journal)?;
        self.discard(ingest_id)
    }

    /// Removes an ingest's staging folder without committing anything.
    pub fn discard(&self, ingest_id: &str) -> Result<(), Error> {
        let staging = self.staging_dir(ingest_id);
        match fs::remove_dir_all(&staging) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("removing {}", staging.display()), e)),
        }
        let _ = fs::remove_dir(self.root.join(STAGING));
        Ok(())
    }

    /// The staging folder of an ingest.
    pub fn staging_dir(&self, ingest_id: &str) -> PathBuf {
        self.root.join(STAGING).join(ingest_id)
    }

    /// Reads the ledger (empty when the dataset is new).
    pub fn ledger(&self) -> Result<Ledger, Error> {
        let path = self.root.join(LEDGER);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!("ledger {} is unreadable: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger {
                version: 1,
                files: Vec::new(),
            }),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// The dataset's versions files (see [`VERSIONS`]), relative to the
    /// root, sorted.
    pub fn versions_files(&self) -> Result<Vec<String>, Error> {
        let dir = self.root.join(VERSIONS);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("listing {}", dir.display()), e)),
        };
        let mut out: Vec<String> = entries
            .flatten()
            .map(|f| f.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".bin") && !n.starts_with('.'))
            .map(|n| format!("{VERSIONS}/{n}"))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Every Parquet file of the dataset, relative to the root, sorted.
    pub fn parquet_files(&self) -> Result<Vec<String>, Error> {
        let base = self.root.join(INTERACTIONS);
        if !base.is_dir() {
            return Err(Error::Invalid(format!(
                "{} is missing or points nowhere: the dataset's table is gone",
                base.display()
            )));
        }
        snapshot::table_files(&base)
    }

    /// The current snapshot: its manifest, or `None` for a dataset whose
    /// table has no snapshot yet (new, or made before snapshots; its next
    /// commit makes one).
    pub fn snapshot(&self) -> Result<Option<Snapshot>, Error> {
        current_snapshot(&self.root)
    }
}

/// The current snapshot of the dataset at `root`, read without any lock:
/// the `interactions` link only ever points at a whole snapshot, so this
/// works beside a running ingest (a poller or a Spark job names the state
/// it reads while the nightly job writes the next one). `None` for a
/// dataset without a snapshot yet.
pub fn current_snapshot(root: &Path) -> Result<Option<Snapshot>, Error> {
    // A commit may switch the link, and with keep_snapshots_s = 0 remove
    // the old snapshot, between reading the link and the manifest; and the
    // first commit of a dataset made before snapshots moves its plain
    // folder aside for an instant. Then the link is read again.
    let mut last = None;
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if fs::symlink_metadata(root.join(INTERACTIONS)).is_err() {
            last = Some(Error::Invalid(format!(
                "{} is not a cxpipe dataset (no {INTERACTIONS})",
                root.display()
            )));
            continue;
        }
        let Some(id) = snapshot::current_id(root) else {
            return Ok(None);
        };
        match snapshot::read_manifest(root, &id) {
            Ok(m) => return Ok(Some(m)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Invalid("no snapshot".into())))
}

/// Now, in seconds since 1970-01-01 UTC.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A dataset open for reading: its shared lock is held while this value
/// lives, so any number of readers run side by side, never beside an
/// ingest, and never over a half-applied commit (opening finished or
/// discarded one). The only way analytics reaches the dataset's files.
#[derive(Debug)]
pub struct ReadGuard {
    ds: Dataset,
}

impl ReadGuard {
    /// The dataset's root folder.
    pub fn root(&self) -> &Path {
        self.ds.root()
    }

    /// What opening it finished or discarded, if anything.
    pub fn recovered(&self) -> Option<&str> {
        self.ds.recovered.as_deref()
    }

    /// The ledger (empty when the dataset is new).
    pub fn ledger(&self) -> Result<Ledger, Error> {
        self.ds.ledger()
    }

    /// Every Parquet file of the interactions table, relative to the root,
    /// sorted.
    pub fn parquet_files(&self) -> Result<Vec<String>, Error> {
        self.ds.parquet_files()
    }

    /// What the dataset holds, from file names and Parquet footers only.
    pub fn summary(&self) -> Result<DatasetSummary, Error> {
        self.ds.summary()
    }

    /// The current snapshot, if the table has one (see [`Dataset::snapshot`]).
    pub fn snapshot(&self) -> Result<Option<Snapshot>, Error> {
        self.ds.snapshot()
    }
}

/// Writes a file through `fill`, replacing `path` atomically and durably:
/// a temporary file in the same folder (named `.cxpipe-tmp-*`, see
/// [`TEMP_PREFIX`]), synced, made readable by others (0644), renamed over
/// `path`, and the folder synced. A reader sees the old file or the new
/// one, never a part; after a crash, one of the two.
pub fn write_atomic<E>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |what: String| move |e: std::io::Error| AtomicWriteError::Io(Error::io(what, e));
    remove_stale_temp_files(&dir, std::time::Duration::from_millis(500));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&dir)
        .map_err(io(format!("creating a file in {}", dir.display())))?;
    // Locked while it is written: a process that finds it unlocked knows its
    // writer is gone (see `remove_stale_temp_files`).
    let _ = tmp.as_file().try_lock();
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        fill(&mut w).map_err(AtomicWriteError::Fill)?;
        w.flush()
            .map_err(io(format!("writing {}", path.display())))?;
    }
    use std::os::unix::fs::PermissionsExt;
    let f = tmp.as_file();
    f.set_permissions(fs::Permissions::from_mode(0o644))
        .and_then(|()| f.sync_all())
        .map_err(io(format!("writing {}", path.display())))?;
    tmp.persist(path).map_err(|e| {
        AtomicWriteError::Io(Error::io(format!("writing {}", path.display()), e.error))
    })?;
    sync_dir(&dir);
    Ok(())
}

/// Temporary files of [`write_atomic`] start with this; one a killed
/// process left behind can be removed by name.
pub const TEMP_PREFIX: &str = ".cxpipe-tmp-";

/// Removes the temporary files of [`write_atomic`] in `dir` whose writer
/// is gone (killed mid-write): those nobody holds the lock of and not
/// modified for `min_age` (a writer locks its file right after creating
/// it; [`write_atomic`] waits half a second to cover that instant (a few µs), a caller that
/// knows no other cxpipe writes there can pass zero). Returns what it
/// removed. Every atomic write calls it for its folder, so a killed `kpi
/// --out` or `report` leaves its temporary file only until the next write
/// there.
pub fn remove_stale_temp_files(dir: &Path, min_age: std::time::Duration) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = e.path();
        let recent = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age < min_age));
        if recent {
            continue;
        }
        let Ok(f) = File::open(&path) else {
            continue;
        };
        if f.try_lock().is_ok() && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Why [`write_atomic`] failed: the file system, or the caller's `fill`.
#[derive(Debug, thiserror::Error)]
pub enum AtomicWriteError<E> {
    /// Creating, syncing or renaming the file failed.
    #[error(transparent)]
    Io(Error),
    /// `fill` failed.
    #[error("{0}")]
    Fill(E),
}

/// Writes `value` as pretty JSON to `path` and syncs it.
pub fn write_json_durable<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let f = File::create(path).map_err(io_err(format!("creating {}", path.display())))?;
    let mut w = BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, value)
        .map_err(|e| Error::Invalid(format!("writing {}: {e}", path.display())))?;
    w.write_all(b"\n")
        .and_then(|()| w.flush())
        .map_err(io_err(format!("writing {}", path.display())))?;
    let f = w
        .into_inner()
        .map_err(|e| Error::io(format!("writing {}", path.display()), e.into_error()))?;
    f.sync_all()
        .map_err(io_err(format!("syncing {}", path.display())))
}

/// Syncs a directory so renames in it are durable. Best effort: some file
/// systems refuse to sync directories, which changes nothing for atomicity.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What a dataset holds, from file names and Parquet footers only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatasetSummary {
    /// Partition dates, sorted.
    pub partitions: Vec<String>,
    /// Parquet files.
    pub files: usize,
    /// Rows over all files.
    pub rows: u64,
    /// Bytes of Parquet.
    pub bytes: u64,
    /// Files in the ledger.
    pub ledger_files: usize,
    /// Run reports.
    pub ingests: usize,
    /// The current snapshot's name (`snapshots/<name>/`), if the table has
    /// one.
    pub snapshot: Option<String>,
}

impl Dataset {
    /// Summarises the dataset without reading any row.
    pub fn summary(&self) -> Result<DatasetSummary, Error> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let files = self.parquet_files()?;
        let mut s = DatasetSummary {
            snapshot: snapshot::current_id(&self.root),
            files: files.len(),
            ledger_files: self.ledger()?.files.len(),
            ..DatasetSummary::default()
        };
        let mut parts = std::collections::BTreeSet::new();
        for rel in &files {
            let path = self.root.join(rel);
            let f = File::open(&path).map_err(io_err(format!("opening {}", path.display())))?;
            s.bytes += f.metadata().map(|m| m.len()).unwrap_or(0);
            let r = SerializedFileReader::new(f)
                .map_err(|e| Error::Parquet(format!("reading {}", path.display()), e))?;
            s.rows += r.metadata().file_metadata().num_rows() as u64;
            drop(r);
            if let Some(d) = rel
                .split('/')
                .find_map(|p| p.strip_prefix(cxpipe_model::layout::PARTITION_PREFIX))
            {
                parts.insert(d.to_string());
            }
        }
        s.partitions = parts.into_iter().collect();
        s.ingests = fs::read_dir(self.root.join(INGESTS))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0);
        Ok(s)
    }
}
