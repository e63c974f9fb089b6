//! Snapshots (SPEC §6): every commit that changes the table leaves an
//! immutable folder a reader can name (`cxpipe info --snapshot`), the
//! table's path switches to it in one rename, and superseded snapshots are
//! kept for `[dataset] keep_snapshots_s`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::dataset::calls_csv as calls;
use crate::{cxpipe, ingest, read_parquet};

/// Every file under `dir` (relative path → bytes), not following links.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            let meta = fs::symlink_metadata(&p).expect("meta");
            if meta.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under").display().to_string();
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// id → queue of the Parquet files under a table folder.
fn queues(table: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (rel, _) in tree(table) {
        if rel.ends_with(".parquet") {
            for r in read_parquet(&table.join(&rel)) {
                out.insert(r.interaction_id, r.queue.unwrap_or_default());
            }
        }
    }
    out
}

fn snapshot_path(ds: &Path) -> PathBuf {
    let out = cxpipe(&["info", &ds.display().to_string(), "--snapshot"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    PathBuf::from(out.stdout_text().trim())
}

fn expect_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn a_commit_leaves_the_last_snapshot_whole_and_info_names_the_new_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let a = calls(
        tmp.path(),
        "a.csv",
        &[("c1", "q1", 1), ("c2", "q1", 2), ("c3", "q1", 3)],
    );
    let (out, _) = ingest(&ds, &[&a], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let first = snapshot_path(&ds);
    assert!(first.starts_with(std::path::absolute(&ds).expect("abs").join("snapshots")));
    let before = tree(&first);
    assert_eq!(before.len(), 3, "one file per day: {:?}", before.keys());
    assert_eq!(
        queues(&first),
        expect_map(&[("c1", "q1"), ("c2", "q1"), ("c3", "q1")])
    );

    // c2 again in a newer file: the day-2 file of the dataset is rewritten.
    let b = calls(tmp.path(), "b.csv", &[("c2", "q2", 2), ("c4", "q2", 4)]);
    let (out, _) = ingest(&ds, &[&b], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let second = snapshot_path(&ds);
    assert_ne!(first, second);
    // The first snapshot did not change by a byte.
    assert_eq!(tree(&first), before, "the superseded snapshot is immutable");
    let want = expect_map(&[("c1", "q1"), ("c2", "q2"), ("c3", "q1"), ("c4", "q2")]);
    assert_eq!(queues(&second), want);
    // The glob path is a link to the new snapshot, and reads the same rows.
    fs::read_link(ds.join("interactions")).expect("interactions is a link");
    assert_eq!(
        fs::canonicalize(ds.join("interactions")).expect("resolves"),
        fs::canonicalize(&second).expect("resolves")
    );
    assert_eq!(queues(&ds.join("interactions")), want);
    // Unchanged files are shared, not copied: days 1 and 3 are hard links.
    let shared: Vec<String> = tree(&second)
        .keys()
        .filter(|rel| fs::metadata(second.join(rel)).expect("meta").nlink() == 2)
        .cloned()
        .collect();
    assert_eq!(shared.len(), 2, "days 1 and 3 are shared: {shared:?}");
    assert!(
        shared
            .iter()
            .all(|r| r.contains("2026-10-01") || r.contains("2026-10-03"))
    );

    // --json lists the files with their sizes.
    let out = cxpipe(&["info", &ds.display().to_string(), "--snapshot", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), tree(&second).len());
    for f in files {
        let p = PathBuf::from(f["path"].as_str().expect("path"));
        assert_eq!(
            fs::metadata(&p).expect("listed file exists").len(),
            f["bytes"].as_u64().expect("bytes")
        );
    }
    // `info` names it too.
    let out = cxpipe(&["info", &ds.display().to_string(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        Some(v["snapshot"].as_str().expect("snapshot")),
        second
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
    );
}

#[test]
fn keep_snapshots_s_zero_removes_what_a_commit_supersedes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let config = tmp.path().join("cxpipe.toml");
    fs::write(&config, "[dataset]\nkeep_snapshots_s = 0\n").expect("config");
    let c = config.display().to_string();
    let a = calls(tmp.path(), "a.csv", &[("c1", "q1", 1)]);
    let b = calls(tmp.path(), "b.csv", &[("c2", "q1", 2)]);
    assert_eq!(ingest(&ds, &[&a], &["--config", &c]).0.code, 0);
    let first = snapshot_path(&ds);
    assert_eq!(ingest(&ds, &[&b], &["--config", &c]).0.code, 0);
    assert!(
        !first.parent().expect("snapshot folder").exists(),
        "removed at once"
    );
    let names: Vec<_> = fs::read_dir(ds.join("snapshots"))
        .expect("snapshots")
        .flatten()
        .collect();
    assert_eq!(names.len(), 1, "only the current snapshot is left");
    assert_eq!(
        queues(&snapshot_path(&ds)),
        expect_map(&[("c1", "q1"), ("c2", "q1")])
    );

    // With the default (an hour) both are kept.
    let ds2 = tmp.path().join("ds2");
    assert_eq!(ingest(&ds2, &[&a], &[]).0.code, 0);
    let first = snapshot_path(&ds2);
    assert_eq!(ingest(&ds2, &[&b], &[]).0.code, 0);
    assert_eq!(
        queues(&first),
        expect_map(&[("c1", "q1")]),
        "kept, and still the old state"
    );

    // A bad value names the key.
    fs::write(&config, "[dataset]\nkeep_snapshot_s = 0\n").expect("config");
    let (out, _) = ingest(&ds, &[&a], &["--config", &c]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("keep_snapshot_s"), "{}", out.stderr);
}

/// A dataset made before snapshots (a plain `interactions/` folder) is
/// switched over by its next commit, and nothing is lost.
#[test]
fn a_dataset_without_snapshots_gets_one_on_its_next_commit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let a = calls(tmp.path(), "a.csv", &[("c1", "q1", 1), ("c2", "q1", 2)]);
    assert_eq!(ingest(&ds, &[&a], &[]).0.code, 0);
    // Make it look as an older cxpipe left it.
    let table = snapshot_path(&ds);
    let plain = tmp.path().join("plain");
    fs::rename(&table, &plain).expect("move the table out");
    fs::remove_file(ds.join("interactions")).expect("remove the link");
    fs::remove_dir_all(ds.join("snapshots")).expect("remove snapshots");
    fs::rename(&plain, ds.join("interactions")).expect("plain folder");
    let out = cxpipe(&["info", &ds.display().to_string(), "--snapshot"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no snapshot yet"), "{}", out.stderr);
    assert_eq!(
        queues(&ds.join("interactions")),
        expect_map(&[("c1", "q1"), ("c2", "q1")])
    );

    let b = calls(tmp.path(), "b.csv", &[("c2", "q2", 2), ("c3", "q2", 3)]);
    let (out, _) = ingest(&ds, &[&b], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        fs::symlink_metadata(ds.join("interactions"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    let want = expect_map(&[("c1", "q1"), ("c2", "q2"), ("c3", "q2")]);
    assert_eq!(queues(&snapshot_path(&ds)), want);
    assert_eq!(queues(&ds.join("interactions")), want);
    let leftovers: Vec<_> = fs::read_dir(ds.join("snapshots"))
        .expect("snapshots")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `info --snapshot` takes no lock: it answers while an ingest holds the
/// dataset's write lock (here held by the test itself).
#[test]
fn info_snapshot_answers_beside_a_writer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let a = calls(tmp.path(), "a.csv", &[("c1", "q1", 1)]);
    assert_eq!(ingest(&ds, &[&a], &[]).0.code, 0);
    let lock = fs::File::options()
        .write(true)
        .open(ds.join(".lock"))
        .expect("lock file");
    lock.lock().expect("take the write lock");
    let out = cxpipe(&["info", &ds.display().to_string(), "--snapshot"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        queues(Path::new(out.stdout_text().trim())),
        expect_map(&[("c1", "q1")])
    );
    // Plain `info` still waits for no one and says why.
    let out = cxpipe(&["info", &ds.display().to_string()]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("lock"), "{}", out.stderr);
}
