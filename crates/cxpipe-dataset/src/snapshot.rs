//! Immutable snapshots of the interactions table (SPEC §6).
//!
//! Every commit that changes the table builds a new folder
//! `snapshots/<ingest_id>/interactions/` holding the table's whole new
//! state: the commit's new Parquet files (moved in from staging) and hard
//! links to the unchanged files of the previous snapshot. Its manifest
//! (`snapshot.json`) is written, then `interactions` — a symbolic link to
//! the current snapshot's folder — is replaced by one `rename`. So:
//!
//! - a reader that names a snapshot folder (`cxpipe info --snapshot`) sees
//!   one whole state for as long as the snapshot is kept: nothing in it is
//!   ever changed, and it is removed only `keep_snapshots_s` after it
//!   stopped being current;
//! - a reader that globs `interactions/**/*.parquet` sees the old state or
//!   the new one, and a mix only if its listing spans the instant of the
//!   rename (a glob lists folder by folder, and each folder is reached
//!   through the link again).
//!
//! A dataset made before snapshots existed has a real `interactions/`
//! folder; its first commit moves that folder aside and puts the link in
//! its place, the one moment a globbing reader can find no table at all.
//! Every step is idempotent, so an interrupted commit is finished by the
//! next open (see the crate docs).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, io_err, sync_dir, write_json_durable};
use cxpipe_model::layout::{INTERACTIONS, SNAPSHOT_MANIFEST, SNAPSHOTS, partition_day};

/// How long a superseded snapshot is kept by default (SPEC §13.1
/// `[dataset] keep_snapshots_s`).
pub const DEFAULT_KEEP_SNAPSHOTS_S: u64 = 3600;

/// A snapshot's manifest (`snapshots/<id>/snapshot.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    /// The snapshot's name: the id of the ingest that committed it.
    pub id: String,
    /// When it was committed, RFC 3339 UTC.
    pub committed_at: String,
    /// The same instant, in seconds since 1970-01-01 UTC.
    pub committed_unix_s: i64,
    /// The snapshot it replaced, if any: the one current until this one
    /// was committed.
    #[serde(default)]
    pub base: Option<String>,
    /// Its Parquet files, relative to the snapshot's folder
    /// (`interactions/date=…/part-….parquet`), sorted.
    pub files: Vec<SnapshotFile>,
}

/// One file of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Path relative to the snapshot's folder.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// What a commit does to the table, recorded in its journal so that
/// applying it again gives the same snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotPlan {
    /// The new snapshot's name.
    pub(crate) id: String,
    /// The snapshot it starts from; `None` when the table was a plain
    /// folder (a dataset made before snapshots) or did not exist.
    pub(crate) base: Option<String>,
    pub(crate) committed_at: String,
    pub(crate) committed_unix_s: i64,
    /// Superseded snapshots older than this are removed after the switch.
    pub(crate) keep_s: u64,
}

/// The folder of snapshot `id`, relative to the root.
pub fn snapshot_rel(id: &str) -> String {
    format!("{SNAPSHOTS}/{id}")
}

/// The target the `interactions` link has when snapshot `id` is current.
fn link_target(id: &str) -> PathBuf {
    PathBuf::from(format!("{SNAPSHOTS}/{id}/{INTERACTIONS}"))
}

/// The current snapshot's name: where the `interactions` link points.
/// `None` when `interactions` is a plain folder or missing.
pub(crate) fn current_id(root: &Path) -> Option<String> {
    let target = fs::read_link(root.join(INTERACTIONS)).ok()?;
    let mut parts = target.components().map(|c| c.as_os_str().to_string_lossy());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(id), Some(t), None) if s == SNAPSHOTS && t == INTERACTIONS => {
            Some(id.into_owned())
        }
        _ => None,
    }
}

/// Reads the manifest of snapshot `id`.
pub(crate) fn read_manifest(root: &Path, id: &str) -> Result<Snapshot, Error> {
    let path = root.join(snapshot_rel(id)).join(SNAPSHOT_MANIFEST);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::Invalid(format!(
            "snapshot manifest {} is unreadable: {e}",
            path.display()
        ))
    })
}

/// The Parquet files of a table folder (`<dir>/date=…/*.parquet`), relative
/// to `dir`'s parent (`interactions/date=…/part-….parquet`), sorted. A
/// missing folder has none.
pub(crate) fn table_files(dir: &Path) -> Result<Vec<String>, Error> {
    let parts = match fs::read_dir(dir) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("listing {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for part in parts.flatten() {
        let name = part.file_name().to_string_lossy().into_owned();
        if partition_day(&name).is_none() || !part.path().is_dir() {
            continue;
        }
        let files = fs::read_dir(part.path())
            .map_err(io_err(format!("listing {}", part.path().display())))?;
        for f in files.flatten() {
            let fname = f.file_name().to_string_lossy().into_owned();
            if fname.ends_with(".parquet") && !fname.starts_with('.') {
                out.push(format!("{INTERACTIONS}/{name}/{fname}"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Builds snapshot `plan.id` from its base, the commit's moves into the
/// table (already done by the caller into the snapshot's folder) and its
/// deletions; writes the manifest. Idempotent.
pub(crate) fn build(root: &Path, plan: &SnapshotPlan, deletes: &[String]) -> Result<(), Error> {
    let new_dir = root.join(snapshot_rel(&plan.id));
    let base_table = match &plan.base {
        Some(b) => root.join(snapshot_rel(b)).join(INTERACTIONS),
        // A plain folder (or, once switched, the link to this very
        // snapshot: every file then exists already and is skipped).
        None => root.join(INTERACTIONS),
    };
    let gone: BTreeSet<&str> = deletes.iter().map(String::as_str).collect();
    let mut made_dirs = BTreeSet::new();
    for rel in table_files(&base_table)? {
        if gone.contains(rel.as_str()) {
            continue;
        }
        let dst = new_dir.join(&rel);
        if dst.exists() {
            continue;
        }
        // `rel` starts with `interactions/`; the base folder is that.
        let src = base_table.join(
            rel.strip_prefix(&format!("{INTERACTIONS}/"))
                .unwrap_or(&rel),
        );
        if let Some(parent) = dst.parent()
            && made_dirs.insert(parent.to_path_buf())
        {
            fs::create_dir_all(parent).map_err(io_err(format!("creating {}", parent.display())))?;
        }
        fs::hard_link(&src, &dst).map_err(io_err(format!(
            "linking {} to {} (a snapshot shares unchanged files by hard link; the dataset's file system must allow them)",
            src.display(),
            dst.display()
        )))?;
    }
    let table = new_dir.join(INTERACTIONS);
    fs::create_dir_all(&table).map_err(io_err(format!("creating {}", table.display())))?;
    for dir in &made_dirs {
        sync_dir(dir);
    }
    let mut files = Vec::new();
    for rel in table_files(&table)? {
        let p = new_dir.join(&rel);
        let bytes = fs::metadata(&p)
            .map_err(io_err(format!("reading {}", p.display())))?
            .len();
        files.push(SnapshotFile { path: rel, bytes });
    }
    let manifest = Snapshot {
        id: plan.id.clone(),
        committed_at: plan.committed_at.clone(),
        committed_unix_s: plan.committed_unix_s,
        base: plan.base.clone(),
        files,
    };
    let tmp = new_dir.join(format!("{SNAPSHOT_MANIFEST}.tmp"));
    write_json_durable(&tmp, &manifest)?;
    let path = new_dir.join(SNAPSHOT_MANIFEST);
    fs::rename(&tmp, &path).map_err(io_err(format!("writing {}", path.display())))?;
    sync_dir(&new_dir);
    sync_dir(&root.join(SNAPSHOTS));
    Ok(())
}

/// The name of a new dataset's first, empty snapshot.
pub const EMPTY: &str = "00000000T000000Z-empty";

/// Gives a new dataset its first snapshot, empty, and the link to it.
pub(crate) fn create_empty(root: &Path, now_unix_s: i64) -> Result<(), Error> {
    let plan = SnapshotPlan {
        id: EMPTY.to_string(),
        base: None,
        committed_at: rfc3339(now_unix_s),
        committed_unix_s: now_unix_s,
        keep_s: 0,
    };
    fs::create_dir_all(root.join(SNAPSHOTS)).map_err(io_err(format!(
        "creating {}",
        root.join(SNAPSHOTS).display()
    )))?;
    build(root, &plan, &[])?;
    switch(root, EMPTY)
}

/// Points `interactions` at snapshot `id` in one rename. A plain
/// `interactions/` folder (a dataset made before snapshots) is moved aside
/// first and removed after: its files live on as the snapshot's links.
pub(crate) fn switch(root: &Path, id: &str) -> Result<(), Error> {
    let link = root.join(INTERACTIONS);
    let aside = root.join(SNAPSHOTS).join(format!(".{id}.plain"));
    let tmp = root.join(format!(".{INTERACTIONS}.{id}.link"));
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(format!("removing {}", tmp.display()), e)),
    }
    std::os::unix::fs::symlink(link_target(id), &tmp)
        .map_err(io_err(format!("creating the link {}", tmp.display())))?;
    // The link is ready before the plain folder moves: the table is
    // missing only between these two renames.
    let is_plain_dir = fs::symlink_metadata(&link).is_ok_and(|m| m.is_dir());
    if is_plain_dir {
        fs::rename(&link, &aside).map_err(io_err(format!(
            "moving {} to {}",
            link.display(),
            aside.display()
        )))?;
    }
    fs::rename(&tmp, &link).map_err(io_err(format!(
        "pointing {} at snapshot {id}",
        link.display()
    )))?;
    sync_dir(root);
    if aside.exists() {
        fs::remove_dir_all(&aside).map_err(io_err(format!("removing {}", aside.display())))?;
    }
    Ok(())
}

/// Removes the snapshots superseded `keep_s` seconds or more before
/// `now_unix_s` (with 0, every one but the current); never the current one.
/// A snapshot is superseded when the one whose base it is was committed.
pub(crate) fn prune(root: &Path, keep_s: u64, now_unix_s: i64) -> Result<Vec<String>, Error> {
    let dir = root.join(SNAPSHOTS);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let current = current_id(root);
    let mut snaps: Vec<Snapshot> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.path().is_dir() {
            continue;
        }
        // A folder without a manifest is one being built; leave it.
        if let Ok(m) = read_manifest(root, &name) {
            snaps.push(m);
        }
    }
    let superseded_at: std::collections::BTreeMap<&str, i64> = snaps
        .iter()
        .filter_map(|s| Some((s.base.as_deref()?, s.committed_unix_s)))
        .collect();
    let mut removed = Vec::new();
    for s in &snaps {
        if Some(&s.id) == current.as_ref() {
            continue;
        }
        // One that nothing replaced and is not current (the link was
        // changed by hand) counts from its own commit.
        let since = superseded_at
            .get(s.id.as_str())
            .copied()
            .unwrap_or(s.committed_unix_s);
        if now_unix_s.saturating_sub(since) >= keep_s as i64 {
            let p = dir.join(&s.id);
            fs::remove_dir_all(&p).map_err(io_err(format!("removing {}", p.display())))?;
            removed.push(s.id.clone());
        }
    }
    if !removed.is_empty() {
        sync_dir(&dir);
    }
    Ok(removed)
}

/// An instant as RFC 3339 UTC, to the second.
pub(crate) fn rfc3339(unix_s: i64) -> String {
    let (y, m, d) = cxpipe_model::civil::civil_from_days(unix_s.div_euclid(86_400));
    let rem = unix_s.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
