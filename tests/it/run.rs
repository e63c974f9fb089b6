//! `cxpipe run`, the nightly job: two runs over an inbox (the second does
//! nothing and says so), a bad file among good ones, and a run killed in
//! the middle followed by a clean one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{bin, cxpipe};

const REPORTS: [&str; 7] = [
    "kpi-agent-day.csv",
    "kpi-queue-interval.csv",
    "sla-interval.csv",
    "sla-agent.csv",
    "turnover.csv",
    "attrition-team.csv",
    "report.html",
];

/// A job folder: cxpipe.toml with [run] and two SLA rules, an empty inbox.
fn job(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir.join("inbox")).expect("inbox");
    let config = dir.join("cxpipe.toml");
    fs::write(
        &config,
        "[run]\ninbox = \"inbox\"\ndataset = \"dataset\"\nreports_dir = \"reports\"\n\n\
         [[sla]]\nname = \"sl\"\nkind = \"service_level\"\ntarget = 0.8\n\n\
         [[sla]]\nname = \"acw\"\nkind = \"acw\"\nthreshold_s = 120\n",
    )
    .expect("config");
    config
}

/// A generated export of `rows` rows, written to `inbox/<name>` (the facts
/// file stays outside the inbox).
fn export(dir: &Path, name: &str, rows: &str, seed: &str) {
    let staging = dir.join("staging");
    fs::create_dir_all(&staging).expect("staging");
    let file = staging.join(name);
    let out = cxpipe(&[
        "generate",
        "--rows",
        rows,
        "--seed",
        seed,
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    fs::rename(&file, dir.join("inbox").join(name)).expect("move into the inbox");
}

/// `cxpipe run --config C`: exit code and the JSON summary.
fn run(config: &Path) -> (i32, Value, String) {
    let out = cxpipe(&["run", "--config", config.to_str().expect("utf-8")]);
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "summary is not JSON ({e}): {}\n{}",
            out.stdout_text(),
            out.stderr
        )
    });
    (out.code, summary, out.stderr)
}

fn dataset_rows(ds: &Path) -> u64 {
    let out = cxpipe(&["info", ds.to_str().expect("utf-8"), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let info: Value = serde_json::from_slice(&out.stdout).expect("info json");
    info["rows"].as_u64().expect("rows")
}

#[test]
fn the_second_run_without_new_files_does_nothing_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "day1.csv", "5000", "1");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s["ingest"]["new_files"], 1, "{s}");
    assert_eq!(s["ingest"]["rows_written"], 5000, "{s}");
    assert_eq!(s["reports"].as_array().map(Vec::len), Some(7), "{s}");
    let reports = dir.path().join("reports");
    for r in REPORTS {
        assert!(reports.join(r).is_file(), "{r} missing");
    }
    let mtimes: Vec<_> = REPORTS
        .iter()
        .map(|r| {
            fs::metadata(reports.join(r))
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();

    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s["ingest"]["new_files"], 0, "{s}");
    assert_eq!(s["ingest"]["files_skipped"], 1, "{s}");
    assert_eq!(s["reports_up_to_date"], true, "{s}");
    assert!(
        err.contains("no new files") && err.contains("up to date"),
        "{err}"
    );
    let again: Vec<_> = REPORTS
        .iter()
        .map(|r| {
            fs::metadata(reports.join(r))
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    assert_eq!(mtimes, again, "the second run rewrote a report");

    // A new day arrives: it is ingested and the reports are rewritten.
    export(dir.path(), "day2.csv", "3000", "2");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (
            s["ingest"]["new_files"].as_u64(),
            s["ingest"]["files_skipped"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(s["reports_up_to_date"], false);
    assert_eq!(dataset_rows(&dir.path().join("dataset")), 8000);
}

#[test]
fn a_bad_file_fails_alone_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "good.csv", "4000", "3");
    fs::write(dir.path().join("inbox/bad.csv"), "a,b\n1,2\n").expect("bad file");
    let (code, s, err) = run(&config);
    assert_eq!(code, 1, "a failed file means exit 1: {err}");
    assert_eq!(s["exit_code"], 1);
    assert_eq!(s["ingest"]["new_files"], 1, "{s}");
    assert_eq!(s["ingest"]["files_failed"], 1, "{s}");
    let failed = &s["ingest"]["failed"][0];
    assert!(
        failed["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("bad.csv")),
        "{s}"
    );
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing required columns")),
        "{s}"
    );
    assert_eq!(s["reports"].as_array().map(Vec::len), Some(7), "{s}");
    assert_eq!(dataset_rows(&dir.path().join("dataset")), 4000);
    // Logs stay on stderr: stdout is the summary alone (parsed above).
    assert!(err.contains("bad.csv"), "{err}");
}

#[test]
fn a_run_killed_in_the_middle_is_followed_by_a_clean_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "big.csv", "300000", "4");
    let ds = dir.path().join("dataset");
    // Kill at a few moments: during the ingest, during the reports.
    for delay_ms in [150, 600, 1200] {
        let mut child = Command::new(bin())
            .args(["-q", "run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        if ds.join("interactions").is_dir() {
            // Whatever was committed is whole: all rows or none.
            let rows = dataset_rows(&ds);
            assert!(rows == 0 || rows == 300_000, "after a kill: {rows} rows");
        }
    }
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(dataset_rows(&ds), 300_000);
    let reports = dir.path().join("reports");
    for r in REPORTS {
        assert!(reports.join(r).is_file(), "{r} missing: {s}");
    }
    let leftovers: Vec<String> = fs::read_dir(&reports)
        .expect("reports")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".cxpipe-reports.json")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("i")).expect("inbox");
    let config = dir.path().join("cxpipe.toml");
    let c = config.to_str().expect("utf-8");
    for (text, says) in [
        ("[time]\nzone = \"UTC\"\n", "no [run] section"),
        (
            "[run]\ninbox = \"nowhere\"\ndataset = \"d\"\nreports_dir = \"r\"\n",
            "nowhere",
        ),
        (
            "[run]\ninbox = \"i\"\ndataset = \"d\"\nreports_dir = \"r\"\nreports = [\"pie\"]\n",
            "\"pie\"",
        ),
        (
            "[run]\ninbox = \"i\"\ndataset = \"d\"\nreports_dir = \"r\"\nsource = \"avaya\"\n",
            "[run] source: \"avaya\"",
        ),
        (
            "[run]\ninbox = \"i\"\ndataset = \"d\"\nreports_dir = \"r\"\nmapping = \"none.toml\"\n",
            "none.toml: cannot read the mapping",
        ),
        // Reports inside the inbox would come back as exports next night.
        (
            "[run]\ninbox = \"i\"\ndataset = \"d\"\nreports_dir = \"i/reports\"\n",
            "is inside the inbox",
        ),
        (
            "[run]\ninbox = \"i\"\ndataset = \"d\"\nreports_dir = \"./x/../i\"\n",
            "is inside the inbox",
        ),
    ] {
        fs::write(&config, text).expect("config");
        let out = cxpipe(&["run", "--config", c]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{text}: {}", out.stderr);
    }
}

/// A Five9 inbox: `[run] source` names the layout and `[time] zone` reads
/// its local wall-clock times, so the 08:00 call is in the 08:00 interval.
#[test]
fn a_vendor_inbox_is_read_in_the_site_zone() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("inbox")).expect("inbox");
    fs::copy(
        crate::sample("five9/call-log-2026-10-01.csv"),
        dir.path().join("inbox/call-log.csv"),
    )
    .expect("copy");
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[time]\nzone = \"America/New_York\"\n\n[run]\ninbox = \"inbox\"\ndataset = \"dataset\"\n\
         reports_dir = \"reports\"\nreports = [\"kpi:queue,interval\"]\nsource = \"five9\"\n",
    )
    .expect("config");
    let (code, summary, stderr) = run(&config);
    assert_eq!(code, 0, "{summary}\n{stderr}");
    assert!(stderr.contains("source five9"), "{stderr}");
    let kpi = fs::read_to_string(dir.path().join("reports/kpi-queue-interval.csv")).expect("kpi");
    assert!(
        kpi.contains("2026-10-01T08:00:00-04:00"),
        "f9-2 arrived at 08:00:05 local time:\n{kpi}"
    );
}

/// A minimal `[run]` (no `reports` list, no `[[sla]]` rules) writes the
/// default reports its configuration supports, names the SLA ones it
/// skipped and why, and exits 0 — every night, not only the first.
#[test]
fn a_minimal_config_writes_what_it_can_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("inbox")).expect("inbox");
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[run]\ninbox = \"inbox\"\ndataset = \"dataset\"\nreports_dir = \"reports\"\n",
    )
    .expect("config");
    export(dir.path(), "day1.csv", "3000", "5");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{s}\n{err}");
    let written: Vec<&str> = s["reports"]
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| r["report"].as_str().expect("name"))
        .collect();
    assert_eq!(
        written,
        [
            "kpi:agent,day",
            "kpi:queue,interval",
            "turnover",
            "attrition:team",
            "html"
        ],
        "{s}"
    );
    let skipped = s["reports_skipped"].as_array().expect("reports_skipped");
    assert_eq!(skipped.len(), 2, "{s}");
    for (entry, name) in skipped.iter().zip(["sla:interval", "sla:agent"]) {
        assert_eq!(entry["report"], name, "{s}");
        let reason = entry["reason"].as_str().expect("reason");
        assert!(reason.contains("no [[sla]] rules"), "{reason}");
    }
    assert!(
        s["report_errors"].as_array().is_some_and(Vec::is_empty),
        "{s}"
    );
    assert!(
        err.contains("skipping report sla:agent: no [[sla]] rules"),
        "{err}"
    );
    let reports = dir.path().join("reports");
    assert!(!reports.join("sla-agent.csv").exists());
    // The next night with nothing new: up to date, still exit 0.
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{s}\n{err}");
    assert_eq!(s["reports_up_to_date"], true, "{s}");
}

/// An SLA report named in `[run] reports` without rules is a usage error
/// found before anything is ingested.
#[test]
fn an_sla_report_without_rules_is_refused_before_the_ingest() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("inbox")).expect("inbox");
    export(dir.path(), "day1.csv", "500", "6");
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[run]\ninbox = \"inbox\"\ndataset = \"dataset\"\nreports_dir = \"reports\"\n\
         reports = [\"kpi:agent\", \"sla:agent\"]\n",
    )
    .expect("config");
    let out = cxpipe(&["run", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("\"sla:agent\"") && out.stderr.contains("no [[sla]] rules"),
        "{}",
        out.stderr
    );
    assert!(
        !dir.path().join("dataset").exists(),
        "the inbox was ingested before the plan was checked"
    );
    assert!(!dir.path().join("reports").exists());
}

/// The run says what it wrote: rows and bytes of a table, size and
/// sections of the HTML page (not "1 rows").
#[test]
fn the_html_report_is_described_by_its_sections_and_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "day1.csv", "2000", "7");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    let reports = s["reports"].as_array().expect("reports");
    let html = reports
        .iter()
        .find(|r| r["report"] == "html")
        .expect("html entry");
    let bytes = fs::metadata(dir.path().join("reports/report.html"))
        .expect("page")
        .len();
    assert_eq!(html["bytes"], bytes, "{html}");
    assert!(html.get("rows").is_none(), "{html}");
    let sections: Vec<&str> = html["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|v| v.as_str().expect("section"))
        .collect();
    assert!(
        sections.contains(&"agent leaderboard") && sections.contains(&"SLA breaches by agent"),
        "{sections:?}"
    );
    let kpi = reports
        .iter()
        .find(|r| r["report"] == "kpi:agent,day")
        .expect("kpi entry");
    let text = fs::read_to_string(dir.path().join("reports/kpi-agent-day.csv")).expect("kpi");
    assert_eq!(kpi["rows"], text.lines().count() - 1, "{kpi}");
    assert!(!err.contains("(1 rows)"), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("report.html ("))
        .unwrap_or_else(|| panic!("no line for the page: {err}"));
    assert!(line.contains("KB") && line.contains("sections"), "{line}");
}

/// A run that cannot start its work (the dataset locked by another cxpipe)
/// still prints its JSON summary, with the error and exit code 1, so a
/// scheduler reading stdout learns why.
#[test]
fn a_locked_dataset_still_gives_a_json_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "day1.csv", "500", "8");
    // A first run creates the dataset; then another process holds its lock.
    let (code, _, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    export(dir.path(), "day2.csv", "500", "9");
    let lock = fs::File::open(dir.path().join("dataset/.lock")).expect("lock file");
    lock.try_lock()
        .expect("hold the write lock, as an ingest does");
    let (code, s, err) = run(&config);
    assert_eq!(code, 1, "{err}");
    assert_eq!(s["exit_code"], 1, "{s}");
    let error = s["error"].as_str().unwrap_or_default();
    assert!(error.contains("another cxpipe"), "{s}");
}

/// The reports record the dataset state they reflect (its snapshot) and the
/// settings: a dataset that moved on without them (a run killed between
/// the ingest's commit and the last report, or an ingest run by hand) or a
/// changed config rewrites them although no new file arrived. Before, the
/// run said `reports_up_to_date: true` and kept the stale reports for good.
#[test]
fn reports_are_refreshed_when_they_do_not_reflect_the_dataset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = job(dir.path());
    export(dir.path(), "day1.csv", "2000", "1");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    let ds = dir.path().join("dataset");
    let reports = dir.path().join("reports");
    let snapshot_id = |ds: &Path| -> String {
        let out = cxpipe(&["info", ds.to_str().expect("utf-8"), "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout).expect("info json");
        v["snapshot"].as_str().expect("snapshot").to_string()
    };
    assert_eq!(
        s["snapshot"].as_str(),
        Some(snapshot_id(&ds).as_str()),
        "{s}"
    );
    let fresh_kpi = || {
        let out = cxpipe(&[
            "kpi",
            ds.to_str().expect("utf-8"),
            "--by",
            "agent,day",
            "--format",
            "csv",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    let report_kpi = || fs::read(reports.join("kpi-agent-day.csv")).expect("kpi report");
    assert_eq!(report_kpi(), fresh_kpi());

    // The dataset moves on outside the run: the state a run killed right
    // after its ingest's commit leaves (new data, old reports).
    let extra = dir.path().join("staging").join("extra.csv");
    let out = cxpipe(&[
        "generate",
        "--rows",
        "1500",
        "--seed",
        "9",
        "--start",
        "2026-11-01",
        "--out",
        extra.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = cxpipe(&[
        "-q",
        "ingest",
        extra.to_str().expect("utf-8"),
        "--out",
        ds.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(report_kpi(), fresh_kpi(), "the report is stale now");
    let (code, s, err) = run(&config);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s["ingest"]["new_files"], 0, "{s}");
    assert_eq!(s["reports_up_to_date"], false, "{s}");
    assert!(err.contains("rewriting them"), "{err}");
    assert_eq!(report_kpi(), fresh_kpi(), "rewritten from the current data");
    assert_eq!(
        s["snapshot"].as_str(),
        Some(snapshot_id(&ds).as_str()),
        "{s}"
    );

    // Now they are current.
    let (_, s, _) = run(&config);
    assert_eq!(s["reports_up_to_date"], true, "{s}");

    // A changed setting rewrites them: a threshold in [kpi].
    let mut text = fs::read_to_string(&config).expect("config");
    text.push_str("\n[kpi]\nthreshold_s = 30\n");
    fs::write(&config, text).expect("config");
    let (_, s, _) = run(&config);
    assert_eq!(s["reports_up_to_date"], false, "{s}");
    let (_, s, _) = run(&config);
    assert_eq!(s["reports_up_to_date"], true, "{s}");

    // A run killed while writing the reports leaves no record of them
    // (it is removed first and written last): the next run rewrites all.
    fs::remove_file(reports.join(".cxpipe-reports.json")).expect("state file");
    let (_, s, _) = run(&config);
    assert_eq!(s["reports_up_to_date"], false, "{s}");
    assert_eq!(
        s["reports"].as_array().map(Vec::len),
        Some(REPORTS.len()),
        "{s}"
    );
}
