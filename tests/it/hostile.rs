//! Hostile inputs and faults (issue 15): far-off times, many days in one
//! file under a low open-file limit, FIFOs named as inputs, binary data
//! where a header should be, configured plausibility limits, and temporary
//! files a killed writer leaves behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Case, Expect, check, cxpipe, ingest, ingested, read_dataset};

const HEADER: &str =
    "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write");
    p
}

/// A time outside `[ingest] min_time .. max_time` (1990-01-01 .. 2100-01-01)
/// is `bad_timestamp`: one accepted row in year 3000 made `kpi --tz
/// Europe/Berlin` take 1.55 GB, and years 0001 + 9999 never finished.
#[test]
fn times_outside_the_plausible_range_are_quarantined() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = write(
        tmp.path(),
        "far.csv",
        &format!(
            "{HEADER}\n\
             ok,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,60\n\
             y3000,voice,inbound,q,A1,3000-01-01T10:00:00Z,3000-01-01T10:00:05Z,3000-01-01T10:05:00Z,60\n\
             y0001,voice,inbound,q,A1,0001-01-01T10:00:00Z,,0001-01-01T10:05:00Z,0\n\
             end9999,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,9999-12-31T10:05:00Z,60\n\
             ans2101,voice,inbound,q,A1,2026-10-01T10:00:00Z,2101-01-01T00:00:00Z,2101-01-01T00:05:00Z,60\n\
             lo1990,voice,inbound,q,A1,1990-01-01T00:00:00Z,1990-01-01T00:00:05Z,1990-01-01T00:05:00Z,60\n\
             hi2100,voice,inbound,q,A1,2099-12-31T23:00:00Z,2099-12-31T23:00:05Z,2100-01-01T00:00:00Z,60\n"
        ),
    );
    let c = check(
        &Case::paths(&[&path]).flag("--max-reject-rate").flag("1"),
        &Expect::new(
            0,
            vec![ingested(
                "far.csv",
                7,
                0,
                &[
                    (3, "bad_timestamp"),
                    (4, "bad_timestamp"),
                    (5, "bad_timestamp"),
                    (6, "bad_timestamp"),
                ],
            )],
        ),
    );
    let ids: Vec<&str> = c.rows.iter().map(|r| r.interaction_id.as_str()).collect();
    assert_eq!(
        ids,
        ["hi2100", "lo1990", "ok"],
        "the bounds themselves are accepted"
    );
    let rejects = crate::read_rejects(
        &c.ds
            .join("quarantine")
            .join(c.report["ingest_id"].as_str().expect("id"))
            .join("far.csv.rejects.csv"),
    );
    assert!(
        rejects[0]
            .reason
            .contains("outside 1990-01-01 .. 2100-01-01")
            && rejects[0].reason.contains("min_time"),
        "{}",
        rejects[0].reason
    );
}

/// The limits come from `[ingest]`; a bad value is a usage error naming
/// the key and the file; `max_duration_s` bounds talk, hold and ACW.
#[test]
fn ingest_limits_are_configurable_and_checked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = write(
        tmp.path(),
        "calls.csv",
        &format!(
            "{HEADER}\n\
             old,voice,inbound,q,A1,1985-06-01T10:00:00Z,1985-06-01T10:00:05Z,1985-06-01T10:05:00Z,60\n\
             long,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,61\n\
             ok,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,60\n"
        ),
    );
    let config = tmp.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[ingest]\nmin_time = \"1980-01-01\"\nmax_time = \"2030-01-01T00:00:00Z\"\nmax_duration_s = 60\n",
    )
    .expect("config");
    let c = config.display().to_string();
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&path], &["--config", &c, "--max-reject-rate", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_written"], 2, "{report}");
    assert_eq!(report["totals"]["reasons"]["bad_duration"], 1, "{report}");
    let mut ids: Vec<String> = read_dataset(&ds)
        .into_iter()
        .map(|r| r.interaction_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["ok", "old"]);

    for (text, key) in [
        ("[ingest]\nmin_time = \"yesterday\"\n", "min_time"),
        (
            "[ingest]\nmin_time = \"2030-01-01\"\nmax_time = \"2020-01-01\"\n",
            "min_time",
        ),
        ("[ingest]\nmax_duration_s = 0\n", "max_duration_s"),
        ("[ingest]\nmax_duraton_s = 10\n", "max_duraton_s"),
    ] {
        fs::write(&config, text).expect("config");
        let (out, _) = ingest(&tmp.path().join("ds2"), &[&path], &["--config", &c]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(
            out.stderr.contains(key) && out.stderr.contains("cxpipe.toml"),
            "{text}: {}",
            out.stderr
        );
        assert!(
            !tmp.path().join("ds2").exists(),
            "refused before anything is written"
        );
    }
}

/// Analytics' cost is bounded by the days the data covers, not the span
/// between them: a dataset holding rows in 2026 and in 9000 (admitted by
/// a wide `[ingest]` range) gives `kpi --tz Europe/Berlin` right local
/// days for both, at once. Berlin is UTC+1 in January of both years
/// (jiff extends the zone's last rule) and UTC+2 in July 2026.
#[test]
fn far_apart_days_cost_only_their_own_zone_changes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = write(
        tmp.path(),
        "far.csv",
        &format!(
            "{HEADER}\n\
             a,voice,inbound,q,A1,2026-01-15T23:30:00Z,2026-01-15T23:30:05Z,2026-01-15T23:35:00Z,60\n\
             b,voice,inbound,q,A1,2026-07-15T22:30:00Z,2026-07-15T22:30:05Z,2026-07-15T22:35:00Z,60\n\
             c,voice,inbound,q,A1,9000-01-15T23:30:00Z,9000-01-15T23:30:05Z,9000-01-15T23:35:00Z,60\n"
        ),
    );
    let config = write(
        tmp.path(),
        "cxpipe.toml",
        "[ingest]\nmin_time = \"0001-01-01\"\nmax_time = \"9999-12-31\"\n",
    );
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&path], &["--config", &config.display().to_string()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_written"], 3, "{report}");
    let t0 = Instant::now();
    let out = cxpipe(&[
        "kpi",
        &ds.display().to_string(),
        "--by",
        "day",
        "--tz",
        "Europe/Berlin",
        "--format",
        "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let days: Vec<String> = out
        .stdout_text()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect();
    // 23:30 UTC is 00:30 the next day in Berlin (+01:00 in winter, +02:00
    // in summer: 22:30 UTC is 00:30 too).
    assert_eq!(days, ["2026-01-16", "2026-07-16", "9000-01-16"]);
    // Not a timing test: a guard that it did not build centuries of zone
    // changes (that took minutes and gigabytes).
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

/// One file spanning 1,200 days under an open-file limit of 128: the part
/// files open at once are bounded (and fit the limit), so it ingests
/// whole. It failed with "Too many open files" under the usual 1,024.
#[test]
fn a_file_spanning_years_ingests_under_a_low_open_file_limit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let export = tmp.path().join("long.csv");
    let out = cxpipe(&[
        "generate",
        "--rows",
        "12000",
        "--days",
        "1200",
        "--out",
        &export.display().to_string(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = fs::read_to_string(&export).expect("export");
    let rows = text.lines().count() - 1;
    let days: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(9))
        .map(|t| &t[..10])
        .collect();
    assert!(days.len() > 1000, "{} days", days.len());
    let ds = tmp.path().join("ds");
    // `ulimit -n` in a shell: no unsafe pre_exec in the test.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 128 && exec {} -q ingest {} --out {}",
            crate::bin(),
            export.display(),
            ds.display()
        ))
        .env_remove("CXPIPE_PII_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("sh");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stored = read_dataset(&ds);
    assert_eq!(stored.len(), rows);
    let parts: std::collections::BTreeSet<&str> =
        stored.iter().map(|r| r.partition.as_str()).collect();
    assert_eq!(parts, days, "one partition per day of the export");
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success(), "mkfifo failed");
}

/// A FIFO named as an input is read like stdin while a program writes to
/// it; with no writer, the file fails after a wait with a message that
/// says so, and the others are still read.
#[test]
fn a_fifo_named_as_an_input_is_read_or_fails_clearly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fifo = tmp.path().join("calls.csv");
    mkfifo(&fifo);
    let text = format!(
        "{HEADER}\n\
         f1,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,60\n\
         f2,voice,inbound,q,A1,2026-10-01T11:00:00Z,2026-10-01T11:00:05Z,2026-10-01T11:05:00Z,60\n"
    );
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || fs::write(&fifo, text).expect("write the FIFO"))
    };
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&fifo], &[]);
    writer.join().expect("writer");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_written"], 2, "{report}");

    // No writer: a clear failure, not a hang; the other file is read.
    let lonely = tmp.path().join("lonely.csv");
    mkfifo(&lonely);
    let other = write(
        tmp.path(),
        "other.csv",
        &format!(
            "{HEADER}\no1,voice,inbound,q,A1,2026-10-02T10:00:00Z,2026-10-02T10:00:05Z,2026-10-02T10:05:00Z,60\n"
        ),
    );
    let t0 = Instant::now();
    let (out, report) = ingest(&ds, &[&lonely, &other], &[]);
    assert!(t0.elapsed() < Duration::from_secs(50), "{:?}", t0.elapsed());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("lonely.csv")
            && out.stderr.contains("no program opened it for writing"),
        "{}",
        out.stderr
    );
    assert_eq!(report["totals"]["files_failed"], 1, "{report}");
    assert_eq!(report["totals"]["rows_written"], 1, "{report}");
}

/// Binary data or a first line over 1 MiB is not an "unterminated quote".
#[test]
fn binary_data_and_endless_first_lines_are_named_for_what_they_are() {
    let tmp = tempfile::tempdir().expect("tmp");
    let long = write(
        tmp.path(),
        "long.csv",
        &format!("{}\n1\n", "a".repeat(2 << 20)),
    );
    let nul = tmp.path().join("zeros.csv");
    fs::write(&nul, vec![0u8; 3 << 20]).expect("write");
    let quote = write(
        tmp.path(),
        "quote.csv",
        "\"interaction_id,channel\n1,voice\n",
    );
    for (path, want) in [
        (&long, "the first line is over 1 MiB"),
        (&nul, "binary data (NUL bytes)"),
        (
            &Path::new("/dev/zero").to_path_buf(),
            "binary data (NUL bytes)",
        ),
        (&quote, "a quote that is never closed"),
    ] {
        let (out, _) = ingest(&tmp.path().join("ds"), &[path], &[]);
        assert_eq!(out.code, 1, "{}: {}", path.display(), out.stderr);
        assert!(
            out.stderr.contains(want),
            "{}: {}",
            path.display(),
            out.stderr
        );
    }
}

/// A temporary file a killed `kpi --out` left behind (unlocked, not
/// touched for a while) is removed by the next write into that folder;
/// one whose writer still holds its lock is left alone.
#[test]
fn the_next_write_removes_a_killed_writers_temporary_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = write(
        tmp.path(),
        "calls.csv",
        &format!(
            "{HEADER}\nk1,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,60\n"
        ),
    );
    let ds = tmp.path().join("ds");
    assert_eq!(ingest(&ds, &[&path], &[]).0.code, 0);
    let out_dir = tmp.path().join("out");
    fs::create_dir_all(&out_dir).expect("mkdir");
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let stale = out_dir.join(".cxpipe-tmp-stale1");
    fs::write(&stale, "half a report").expect("stale");
    fs::File::options()
        .write(true)
        .open(&stale)
        .and_then(|f| f.set_modified(old))
        .expect("age it");
    let busy = out_dir.join(".cxpipe-tmp-busy1");
    fs::write(&busy, "being written").expect("busy");
    let held = fs::File::options().write(true).open(&busy).expect("open");
    held.set_modified(old).expect("age it");
    held.lock().expect("lock");
    let out = cxpipe(&[
        "kpi",
        &ds.display().to_string(),
        "--by",
        "agent",
        "--out",
        &out_dir.join("kpi.csv").display().to_string(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out_dir.join("kpi.csv").is_file());
    assert!(!stale.exists(), "the dead writer's file is removed");
    assert!(busy.exists(), "a locked one is in use and stays");
}
