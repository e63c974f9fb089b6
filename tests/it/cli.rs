//! The command line: exit codes 0/1/2/3, stdout carrying data only, `info`,
//! the dataset lock, and thread-count independence.

use std::fs;
use std::path::Path;

use crate::{
    Case, Expect, check, cxpipe, cxpipe_env, failed, ingest, ingested, parquet_files, read_dataset,
    sample, snapshot,
};

const HEADER: &str =
    "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s,csat";

/// A CSV of `n` answered calls, with `csat = 9` (out of range) on the
/// given 0-based rows.
fn csv_with_bad_csat(path: &Path, n: usize, bad: &[usize]) {
    let mut s = format!("{HEADER}\n");
    for i in 0..n {
        let csat = if bad.contains(&i) { "9" } else { "4" };
        s.push_str(&format!(
            "t-{i},voice,inbound,billing,A1,2026-10-05T08:{m:02}:00Z,2026-10-05T08:{m:02}:05Z,2026-10-05T08:{m:02}:50Z,45,{csat}\n",
            m = i % 60
        ));
    }
    fs::write(path, s).expect("write");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let ds = ds.to_str().expect("utf-8 path");
    let calls = sample("generic/calls-2026-10-01.csv");
    let calls = calls.to_str().expect("utf-8 path");
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["ingest", "--out", ds],
        vec!["ingest", calls],
        vec!["ingest", calls, "--out", ds, "--tz", "Mars/Olympus"],
        vec!["ingest", calls, "--out", ds, "--max-reject-rate", "5"],
        vec!["ingest", calls, "--out", ds, "--max-reject-rate", "lots"],
        vec!["ingest", calls, "--out", ds, "--source", "avaya"],
        vec!["ingest", calls, "--out", ds, "--threads", "-1"],
        // A huge thread count is refused, not a panic (it aborted, exit 134).
        vec!["ingest", calls, "--out", ds, "--threads", "100000"],
        vec!["ingest", calls, "--out", ds, "--no-such-flag"],
        vec!["info"],
    ];
    for args in cases {
        let out = cxpipe(&args);
        assert_eq!(out.code, 2, "cxpipe {args:?}\n{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "usage errors print nothing on stdout: {args:?}"
        );
        assert!(
            !out.stderr.trim().is_empty(),
            "usage errors say what is wrong: {args:?}"
        );
    }
    assert!(
        !Path::new(ds).exists(),
        "no usage error creates the dataset"
    );
}

#[test]
fn stdin_twice_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let out = cxpipe_env(
        &["ingest", "-", "-", "--out", &ds.display().to_string()],
        Some(b""),
        &[],
    );
    assert!(out.stderr.contains("only once"), "{}", out.stderr);
    // FIXME(bug): `-` twice is a usage error (SPEC §12: exit code 2), but
    // src/cmd/ingest.rs rejects it with anyhow::bail!, which exits 1.
    assert_eq!(out.code, 2, "- twice is a usage error\n{}", out.stderr);
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for args in [
        vec!["--help"],
        vec!["--version"],
        vec!["ingest", "--help"],
        vec!["info", "--help"],
    ] {
        let out = cxpipe(&args);
        assert_eq!(out.code, 0, "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?} prints on stdout");
    }
    let help = cxpipe(&["ingest", "--help"]).stdout_text();
    for flag in [
        "--out",
        "--source",
        "--tz",
        "--max-reject-rate",
        "--force",
        "--threads",
        "--json",
        "Examples",
    ] {
        assert!(help.contains(flag), "ingest --help mentions {flag}");
    }
}

#[test]
fn reject_threshold_boundary_and_exit_3() {
    let tmp = tempfile::tempdir().expect("tmp");
    let one_in_20 = tmp.path().join("one_in_20.csv");
    csv_with_bad_csat(&one_in_20, 20, &[7]);
    // 1/20 = 0.05 is not above the default 0.05.
    check(
        &Case::paths(&[&one_in_20]),
        &Expect::new(
            0,
            vec![ingested(
                "one_in_20.csv",
                20,
                0,
                &[(9, "csat_out_of_range")],
            )],
        ),
    );
    // Above a lower threshold: exit 3, and everything is still written.
    let c = check(
        &Case::paths(&[&one_in_20])
            .flag("--max-reject-rate")
            .flag("0.04"),
        &Expect::new(
            3,
            vec![ingested(
                "one_in_20.csv",
                20,
                0,
                &[(9, "csat_out_of_range")],
            )],
        ),
    );
    assert_eq!(c.report["reject_threshold_exceeded"], true);
    assert_eq!(c.rows.len(), 19);
    assert!(c.ds.join("ledger.json").exists());
    assert!(
        c.out.stderr.contains("max-reject-rate"),
        "the warning names the flag:\n{}",
        c.out.stderr
    );
    // The file is in the ledger: a nightly re-run does not alert again.
    check(
        &Case::paths(&[&one_in_20])
            .flag("--max-reject-rate")
            .flag("0.04")
            .into_dataset(&c.ds),
        &Expect::new(0, vec![crate::skipped("one_in_20.csv")]),
    );
    // A zero threshold with nothing rejected is fine.
    let clean = tmp.path().join("clean.csv");
    csv_with_bad_csat(&clean, 5, &[]);
    check(
        &Case::paths(&[&clean]).flag("--max-reject-rate").flag("0"),
        &Expect::new(0, vec![ingested("clean.csv", 5, 0, &[])]),
    );
}

#[test]
fn a_failed_file_wins_over_the_reject_threshold() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = tmp.path().join("bad.csv");
    csv_with_bad_csat(&bad, 4, &[0, 1]);
    check(
        &Case::paths(&[bad.clone(), sample("invalid/missing_column.csv")]),
        &Expect::new(
            1,
            vec![
                ingested(
                    "bad.csv",
                    4,
                    0,
                    &[(2, "csat_out_of_range"), (3, "csat_out_of_range")],
                ),
                failed("missing_column.csv", "missing required column"),
            ],
        ),
    );
}

#[test]
fn stdout_carries_the_report_only_with_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let out = cxpipe(&[
        "ingest",
        &sample("generic/chats.ndjson").display().to_string(),
        "--out",
        &ds.display().to_string(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "no --json: nothing on stdout, got {}",
        out.stdout_text()
    );
    assert!(
        out.stderr.contains("3 rows read"),
        "summary on stderr:\n{}",
        out.stderr
    );
    let q = cxpipe(&[
        "-q",
        "ingest",
        &sample("generic/calls-2026-10-01.csv").display().to_string(),
        "--out",
        &ds.display().to_string(),
    ]);
    assert_eq!(q.code, 0);
    assert!(
        q.stderr.trim().is_empty(),
        "-q prints no info lines:\n{}",
        q.stderr
    );
}

#[test]
fn info_text_json_and_errors() {
    let c = check(
        &Case::paths(&[sample("generic")]),
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv", 12, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
                ingested("crlf-bom-reordered.csv", 2, 0, &[]),
            ],
        ),
    );
    let ds = c.ds.display().to_string();
    let out = cxpipe(&["info", &ds, "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info --json is JSON");
    assert_eq!(s["rows"], 17);
    assert_eq!(
        s["partitions"],
        serde_json::json!(["2026-10-01", "2026-10-02", "2026-10-03"])
    );
    assert_eq!(s["files"], parquet_files(&c.ds).len());
    assert_eq!(s["ledger_files"], 3);
    assert_eq!(s["ingests"], 1);
    let text = cxpipe(&["info", &ds]);
    assert_eq!(text.code, 0);
    let t = text.stdout_text();
    assert!(
        t.contains("17") && t.contains("2026-10-01 .. 2026-10-03"),
        "{t}"
    );

    let tmp = tempfile::tempdir().expect("tmp");
    let nothing = tmp.path().join("nothing");
    let out = cxpipe(&["info", &nothing.display().to_string()]);
    assert_eq!(out.code, 1, "info on a missing dataset");
    assert!(
        out.stderr
            .contains(&format!("{} does not exist", nothing.display())),
        "{}",
        out.stderr
    );
    assert!(!nothing.exists(), "info created the missing dataset");
    // A folder that is not a dataset stays as it was.
    let out = cxpipe(&["info", &tmp.path().display().to_string()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("not a cxpipe dataset"),
        "{}",
        out.stderr
    );
    assert_eq!(
        fs::read_dir(tmp.path()).expect("ls").count(),
        0,
        "info wrote into it"
    );
}

#[test]
fn fatal_errors_exit_1() {
    let tmp = tempfile::tempdir().expect("tmp");
    let not_a_dir = tmp.path().join("file");
    fs::write(&not_a_dir, "x").expect("write");
    let (out, _) = ingest(&not_a_dir, &[&sample("generic/chats.ndjson")], &[]);
    assert_eq!(out.code, 1, "--out is a file\n{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read(&not_a_dir).expect("read"), b"x");
}

/// A second writer is refused while the dataset's lock is held, and
/// changes nothing.
#[test]
fn a_locked_dataset_is_refused() {
    let c = check(
        &Case::paths(&[sample("generic/chats.ndjson")]),
        &Expect::new(0, vec![ingested("chats.ndjson", 3, 0, &[])]),
    );
    let before = snapshot(&c.ds);
    let lock = fs::File::options()
        .write(true)
        .open(c.ds.join(".lock"))
        .expect("lock file");
    lock.try_lock().expect("take the lock");
    let (out, _) = ingest(&c.ds, &[&sample("generic/calls-2026-10-01.csv")], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("another cxpipe"), "{}", out.stderr);
    assert_eq!(snapshot(&c.ds), before);
    drop(lock);
    let (out, _) = ingest(&c.ds, &[&sample("generic/calls-2026-10-01.csv")], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// `info` is a reader: it works while another reader (a `kpi`, here this
/// test holding the same shared lock a `kpi` holds) has the dataset open,
/// and creates no folder or file in it.
#[test]
fn info_takes_the_read_lock_and_creates_nothing() {
    let c = check(
        &Case::paths(&[sample("generic/chats.ndjson")]),
        &Expect::new(0, vec![ingested("chats.ndjson", 3, 0, &[])]),
    );
    // A dataset written by another tool, or copied without its empty
    // folders: info must not add them.
    for dir in ["quarantine", "ingests"] {
        fs::remove_dir_all(c.ds.join(dir)).expect("remove a folder");
    }
    let before = snapshot(&c.ds);
    let lock = fs::File::open(c.ds.join(".lock")).expect("lock file");
    lock.try_lock_shared()
        .expect("take the shared lock, as kpi does");
    let ds = c.ds.display().to_string();
    let out = cxpipe(&["info", &ds, "--json"]);
    assert_eq!(out.code, 0, "info beside a reader: {}", out.stderr);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info --json is JSON");
    assert_eq!(s["rows"], 3);
    drop(lock);
    assert_eq!(snapshot(&c.ds), before, "info changed the dataset");
    for dir in ["quarantine", "ingests"] {
        assert!(!c.ds.join(dir).exists(), "info created {dir}/");
    }
    // Beside a writer it is refused, and says why.
    let lock = fs::File::open(c.ds.join(".lock")).expect("lock file");
    lock.try_lock()
        .expect("take the write lock, as an ingest does");
    let out = cxpipe(&["info", &ds]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("an ingest is writing"),
        "{}",
        out.stderr
    );
}

/// The data does not depend on the number of worker threads.
#[test]
fn threads_do_not_change_the_data() {
    let inputs = [
        sample("generic/calls-2026-10-01.csv"),
        sample("invalid/bad_enum.csv"),
        sample("generic/chats.ndjson"),
    ];
    let mut seen = Vec::new();
    for threads in ["1", "2", "5"] {
        let case = Case::paths(&inputs)
            .flag("--threads")
            .flag(threads)
            .flag("--max-reject-rate")
            .flag("1")
            .env("CXPIPE_PII_KEY", "a fixed key for this test only");
        let c = check(
            &case,
            &Expect::new(
                0,
                vec![
                    ingested("calls-2026-10-01.csv", 12, 0, &[]),
                    ingested(
                        "bad_enum.csv",
                        7,
                        0,
                        &[
                            (3, "bad_enum"),
                            (4, "bad_enum"),
                            (6, "bad_enum"),
                            (7, "bad_enum"),
                        ],
                    ),
                    ingested("chats.ndjson", 3, 0, &[]),
                ],
            ),
        );
        seen.push(read_dataset(&c.ds));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
}

/// `--source generic` reads the same files as `auto` and says so in the report.
#[test]
fn source_generic_flag() {
    let c = check(
        &Case::paths(&[sample("generic/chats.ndjson")])
            .flag("--source")
            .flag("generic"),
        &Expect::new(0, vec![ingested("chats.ndjson", 3, 0, &[])]),
    );
    assert_eq!(c.report["source"], "generic");
    assert_eq!(c.report["files"][0]["source"], "generic");
    assert_eq!(c.report["files"][0]["format"], "ndjson");
    assert!(!c.out.stderr.contains("(detected)"), "{}", c.out.stderr);
    let auto = check(
        &Case::paths(&[sample("generic/chats.ndjson")]),
        &Expect::new(0, vec![ingested("chats.ndjson", 3, 0, &[])]),
    );
    assert_eq!(auto.report["source"], "auto");
    assert!(
        auto.out.stderr.contains("(detected)"),
        "{}",
        auto.out.stderr
    );
}

/// An empty inbox is not an error: nothing is read, nothing is committed.
#[test]
fn an_empty_folder_is_a_no_op() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inbox = tmp.path().join("inbox");
    fs::create_dir_all(&inbox).expect("mkdir");
    let c = check(&Case::paths(&[&inbox]), &Expect::new(0, vec![]));
    assert_eq!(c.report["committed"], false);
    assert!(!c.ds.join("ledger.json").exists());
}
