//! Nothing lost quietly (SPEC §5): a mapped field a file does not have is a
//! warning (also under `-q`) and `missing_fields` in the run report and in
//! `run`'s summary; `--max-duplicate-rate` flags an export whose ids are
//! not unique.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::{cxpipe, ingest, sample};

/// A Five9-like mapping whose CSAT column names a field the export lacks
/// (a misspelling), and an export of two calls.
fn five9_with_csat(dir: &Path) -> (String, String) {
    let mapping = dir.join("mine.toml");
    fs::write(
        &mapping,
        "[source]\nname = \"mine\"\nextends = \"five9\"\n\n[columns.csat]\nfield = \"CSAT SCORE\"\n",
    )
    .expect("mapping");
    let export = dir.join("calls.csv");
    fs::write(
        &export,
        "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION,CSAT\n\
         a,10/01/2026 08:00:05,Sales,Inbound,x@y.z,T,2025550102,8005550100,00:00:12,00:04:48,00:00:00,00:00:35,0,0,Sold,5\n\
         b,10/01/2026 08:10:05,Sales,Inbound,x@y.z,T,2025550103,8005550100,00:00:12,00:04:48,00:00:00,00:00:35,0,0,Sold,4\n",
    )
    .expect("export");
    (mapping.display().to_string(), export.display().to_string())
}

#[test]
fn a_mapped_field_missing_from_a_csv_header_is_a_warning_and_in_the_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mapping, export) = five9_with_csat(tmp.path());
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(
        &ds,
        &[Path::new(&export)],
        &["-q", "--mapping", &mapping, "--tz", "UTC"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        report["files"][0]["missing_fields"],
        serde_json::json!(["CSAT SCORE"]),
        "{report}"
    );
    assert!(
        out.stderr.contains("WARN")
            && out.stderr.contains("CSAT SCORE")
            && out.stderr.contains("calls.csv"),
        "a warning even under -q: {}",
        out.stderr
    );
    // The stored run report says it too.
    let id = report["ingest_id"].as_str().expect("id");
    let stored: Value = serde_json::from_slice(
        &fs::read(ds.join("ingests").join(format!("{id}.json"))).expect("run report"),
    )
    .expect("json");
    assert_eq!(
        stored["files"][0]["missing_fields"],
        serde_json::json!(["CSAT SCORE"])
    );
    // A file that has every field is quiet.
    let (out, report) = ingest(
        &tmp.path().join("ds2"),
        &[&sample("five9/call-log-2026-10-01.csv")],
        &["--tz", "UTC"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        report["files"][0]["missing_fields"],
        serde_json::json!([]),
        "{report}"
    );
    assert!(!out.stderr.contains("WARN"), "{}", out.stderr);
}

/// In JSON, a field is missing when no record of the file has it; one
/// record with it (even as null) is enough.
#[test]
fn a_mapped_field_in_no_record_of_a_json_file_is_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = fs::read_to_string(sample("amazon-connect/ctr-2026-10-01.ndjson")).expect("sample");
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    // File A: every record without a csat attribute but one with csat null.
    // File B: no record has Attributes.csat at all.
    let strip = |keep_null: bool| -> String {
        records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                if !r["Attributes"].is_object() {
                    r["Attributes"] = serde_json::json!({});
                }
                let attrs = r["Attributes"].as_object_mut().expect("Attributes");
                attrs.remove("csat");
                if keep_null && i == 3 {
                    attrs.insert("csat".into(), Value::Null);
                }
                format!("{r}\n")
            })
            .collect()
    };
    let a = tmp.path().join("a.ndjson");
    let b = tmp.path().join("b.ndjson");
    fs::write(&a, strip(true)).expect("a");
    fs::write(&b, strip(false)).expect("b");
    let (out, report) = ingest(&tmp.path().join("ds"), &[&a, &b], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let missing = |i: usize| -> Vec<String> {
        report["files"][i]["missing_fields"]
            .as_array()
            .expect("list")
            .iter()
            .map(|v| v.as_str().expect("text").to_string())
            .collect()
    };
    assert!(
        !missing(0).contains(&"Attributes.csat".to_string()),
        "{:?}",
        missing(0)
    );
    assert!(
        missing(1).contains(&"Attributes.csat".to_string()),
        "{:?}",
        missing(1)
    );
    assert!(
        out.stderr.contains("b.ndjson") && out.stderr.contains("Attributes.csat"),
        "{}",
        out.stderr
    );
}

/// 10 rows, 3 of them older versions of others: a duplicate rate of 0.3.
#[test]
fn max_duplicate_rate_flags_an_export_with_repeated_ids() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut text = String::from(
        "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n",
    );
    for i in 0..10 {
        let id = if i < 3 {
            format!("d{i}")
        } else {
            format!("u{i}")
        };
        let id = if (3..6).contains(&i) {
            format!("d{}", i - 3)
        } else {
            id
        };
        text.push_str(&format!(
            "{id},voice,inbound,q,A1,2026-10-01T08:0{i}:00Z,2026-10-01T08:0{i}:05Z,2026-10-01T08:0{i}:50Z,40\n"
        ));
    }
    let path = tmp.path().join("repeats.csv");
    fs::write(&path, text).expect("write");
    let (out, report) = ingest(
        &tmp.path().join("ds1"),
        &[&path],
        &["--max-duplicate-rate", "0.2"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(report["totals"]["duplicates_dropped"], 3, "{report}");
    assert_eq!(report["duplicate_rate"], 0.3, "{report}");
    assert_eq!(report["duplicate_threshold_exceeded"], true, "{report}");
    assert!(
        out.stderr.contains("--max-duplicate-rate"),
        "{}",
        out.stderr
    );
    let (out, report) = ingest(
        &tmp.path().join("ds2"),
        &[&path],
        &["--max-duplicate-rate", "0.3"],
    );
    assert_eq!(out.code, 0, "at the limit is not above it: {}", out.stderr);
    assert_eq!(report["duplicate_threshold_exceeded"], false, "{report}");
    let (out, _) = ingest(&tmp.path().join("ds3"), &[&path], &[]);
    assert_eq!(out.code, 0, "off by default: {}", out.stderr);

    // `cxpipe run`: [run] max_duplicate_rate, checked, and in the summary.
    let inbox = tmp.path().join("inbox");
    fs::create_dir_all(&inbox).expect("inbox");
    fs::copy(&path, inbox.join("repeats.csv")).expect("copy");
    let config = tmp.path().join("cxpipe.toml");
    let write_config = |rate: &str| {
        fs::write(
            &config,
            format!("[run]\ninbox = \"inbox\"\ndataset = \"ds-run\"\nreports_dir = \"reports\"\nreports = [\"kpi:agent\"]\nmax_duplicate_rate = {rate}\n"),
        )
        .expect("config")
    };
    write_config("1.5");
    let out = cxpipe(&["run", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("max_duplicate_rate"), "{}", out.stderr);
    write_config("0.1");
    let out = cxpipe(&["run", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let s: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(s["ingest"]["duplicate_rate"], 0.3, "{s}");
    assert_eq!(s["ingest"]["duplicate_threshold_exceeded"], true, "{s}");
    assert_eq!(s["ingest"]["missing_fields"], serde_json::json!([]), "{s}");
}

/// Clock skew (SPEC §5): a time out of order by at most `[ingest]
/// clock_skew_ms` (1000) is set equal to the time it must not precede and
/// counted as `clock_skew_fixed`; beyond that the row is `time_order`.
#[test]
fn small_clock_skew_is_fixed_and_counted() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("skew.csv");
    fs::write(
        &path,
        "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n\
         early,voice,inbound,q,A1,2026-10-01T08:00:00Z,2026-10-01T07:59:59.500Z,2026-10-01T08:05:00Z,299\n\
         end,voice,inbound,q,A1,2026-10-01T09:00:00Z,2026-10-01T09:00:10Z,2026-10-01T09:00:09Z,0\n\
         far,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T09:59:58.999Z,2026-10-01T10:05:00Z,299\n\
         fine,voice,inbound,q,A1,2026-10-01T11:00:00Z,2026-10-01T11:00:05Z,2026-10-01T11:05:00Z,295\n",
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&path], &["--max-reject-rate", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (&f["rows_written"], &f["clock_skew_fixed"]),
        (&3.into(), &2.into()),
        "{report}"
    );
    assert_eq!(f["reasons"]["time_order"], 1, "{report}");
    assert_eq!(report["totals"]["clock_skew_fixed"], 2, "{report}");
    let rows: std::collections::BTreeMap<String, crate::Rec> = crate::read_dataset(&ds)
        .into_iter()
        .map(|r| (r.interaction_id.clone(), r))
        .collect();
    let t = crate::ts_us;
    assert_eq!(
        rows["early"].answered_at,
        Some(t("2026-10-01T08:00:00Z")),
        "answered := arrived"
    );
    assert_eq!(rows["early"].wait_ms, Some(0));
    assert_eq!(
        rows["end"].ended_at,
        Some(t("2026-10-01T09:00:10Z")),
        "ended := answered"
    );
    assert!(!rows.contains_key("far"), "1.001 s is beyond the skew");

    // clock_skew_ms = 0: no fixing.
    let config = tmp.path().join("cxpipe.toml");
    fs::write(&config, "[ingest]\nclock_skew_ms = 0\n").expect("config");
    let (out, report) = ingest(
        &tmp.path().join("ds0"),
        &[&path],
        &[
            "--max-reject-rate",
            "1",
            "--config",
            &config.display().to_string(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["files"][0]["clock_skew_fixed"], 0, "{report}");
    assert_eq!(report["files"][0]["reasons"]["time_order"], 3, "{report}");
    fs::write(&config, "[ingest]\nclock_skew_ms = 7200000\n").expect("config");
    let (out, _) = ingest(
        &tmp.path().join("ds1"),
        &[&path],
        &["--config", &config.display().to_string()],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("clock_skew_ms"), "{}", out.stderr);
}

/// A file whose every record is rejected for one reason gets one line
/// saying so and what its first record looks like (SPEC §5) — the Five9
/// `TIMESTAMP` written `2026-10-01 00:13:17` used to be 100% bad_timestamp
/// with nothing but the reasons histogram to tell.
#[test]
fn a_file_rejected_whole_for_one_reason_is_explained_in_one_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("dates.csv");
    fs::write(
        &path,
        "interaction_id,channel,direction,arrived_at,ended_at\n\
         a,voice,inbound,01.10.2026 08:00,01.10.2026 08:05\n\
         b,voice,inbound,01.10.2026 09:00,01.10.2026 09:05\n\
         c,voice,inbound,01.10.2026 10:00,01.10.2026 10:05\n",
    )
    .expect("write");
    let (out, report) = ingest(&tmp.path().join("ds"), &[&path], &["-q"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(report["files"][0]["first_reject"]["line"], 2, "{report}");
    assert!(
        out.stderr
            .contains("all 3 records were rejected as bad_timestamp; the first, line 2:")
            && out.stderr.contains("a,voice,inbound,01.10.2026 08:00"),
        "{}",
        out.stderr
    );
    // Mixed reasons, or some rows stored: no such line.
    fs::write(
        &path,
        "interaction_id,channel,direction,arrived_at,ended_at\n\
         a,voice,inbound,01.10.2026 08:00,01.10.2026 08:05\n\
         b,voice,inbound,2026-10-01T09:00:00Z,2026-10-01T09:05:00Z\n",
    )
    .expect("write");
    let (out, _) = ingest(
        &tmp.path().join("ds2"),
        &[&path],
        &["-q", "--max-reject-rate", "1"],
    );
    assert!(
        !out.stderr.contains("records were rejected"),
        "{}",
        out.stderr
    );
}

/// `quarantine/<ingest_id>/duplicates.csv` as the run report names it,
/// parsed: (id, file, line, kept file, kept line, replaced) per line.
fn duplicates_of(ds: &Path, report: &Value) -> Vec<[String; 6]> {
    let rel = report["duplicates_file"]
        .as_str()
        .unwrap_or_else(|| panic!("no duplicates_file in {report}"));
    let text = fs::read_to_string(ds.join(rel)).expect("duplicates.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("interaction_id,source_file,source_line,kept_source_file,kept_source_line,replaced")
    );
    let mut out: Vec<[String; 6]> = lines
        .map(|l| {
            let v: Vec<String> = l.split(',').map(str::to_string).collect();
            v.try_into().unwrap_or_else(|v| panic!("six fields: {v:?}"))
        })
        .collect();
    out.sort();
    out
}

fn dup(id: &str, file: &str, line: u32, kept: &str, kept_line: u32, replaced: bool) -> [String; 6] {
    [
        id.to_string(),
        file.to_string(),
        line.to_string(),
        kept.to_string(),
        kept_line.to_string(),
        replaced.to_string(),
    ]
}

const HEADER: &str =
    "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n";

fn call(id: &str, minute: u32) -> String {
    format!(
        "{id},voice,inbound,q,A1,2026-10-01T08:{minute:02}:00Z,2026-10-01T08:{minute:02}:10Z,2026-10-01T08:{minute:02}:50Z,40\n"
    )
}

/// Every dropped duplicate is listed with the version kept (SPEC §5): in
/// one file (the later line wins), across files (the later file), across
/// runs (a stored row replaced), and 5,000 copies of one id in one file —
/// more than a dedupe bucket holds, so most are settled early — each
/// naming the last copy. The expected lines follow from the rules by hand.
#[test]
fn every_dropped_duplicate_is_listed_with_the_version_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("a.csv");
    let b = tmp.path().join("b.csv");
    fs::write(
        &a,
        format!("{HEADER}{}{}{}", call("x", 0), call("y", 1), call("x", 2)),
    )
    .expect("a");
    fs::write(&b, format!("{HEADER}{}", call("y", 3))).expect("b");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&a, &b], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["duplicates_dropped"], 2, "{report}");
    // The summary says what the quarantine folder holds: no rejected rows,
    // only the listing.
    assert!(
        out.stderr
            .contains("(2 duplicates in duplicates.csv; reject rate 0.00%"),
        "{}",
        out.stderr
    );
    assert_eq!(
        duplicates_of(&ds, &report),
        [
            dup("x", "a.csv", 2, "a.csv", 4, false),
            dup("y", "a.csv", 3, "b.csv", 2, false)
        ]
    );

    let c = tmp.path().join("c.csv");
    fs::write(&c, format!("{HEADER}{}", call("x", 9))).expect("c");
    let (out, report) = ingest(&ds, &[&c], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_replaced"], 1, "{report}");
    assert_eq!(
        duplicates_of(&ds, &report),
        [dup("x", "a.csv", 4, "c.csv", 2, true)],
        "the stored row, replaced"
    );
    assert!(
        out.stderr
            .contains("(1 duplicate in duplicates.csv; reject rate"),
        "{}",
        out.stderr
    );

    let many = tmp.path().join("many.csv");
    let mut text = HEADER.to_string();
    for i in 0..5000 {
        text.push_str(&call("m", i % 60));
    }
    fs::write(&many, text).expect("many");
    let ds2 = tmp.path().join("ds2");
    let (out, report) = ingest(&ds2, &[&many], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listed = duplicates_of(&ds2, &report);
    let mut want: Vec<[String; 6]> = (2..5001)
        .map(|line| dup("m", "many.csv", line, "many.csv", 5001, false))
        .collect();
    want.sort();
    assert_eq!(listed.len(), 4999);
    assert_eq!(listed, want);

    // No duplicates: no listing.
    let ds3 = tmp.path().join("ds3");
    let (_, report) = ingest(&ds3, &[&b], &[]);
    assert!(report.get("duplicates_file").is_none(), "{report}");
}

/// Records of one id settled inside a JSON chunk (never written) are listed
/// too, and when the chunk's winner loses to a later file, the listing
/// names that file's record as the version kept, not the chunk's winner.
#[test]
fn duplicates_settled_in_a_chunk_name_the_final_version_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ctr = |updated: &str| {
        format!(
            "{{\"ContactId\":\"c-1\",\"Channel\":\"VOICE\",\"InitiationMethod\":\"INBOUND\",\"InitiationTimestamp\":\"2026-10-01T08:00:00Z\",\"DisconnectTimestamp\":\"2026-10-01T08:05:00Z\",\"LastUpdateTimestamp\":\"{updated}\"}}\n"
        )
    };
    let first = tmp.path().join("night-1.ndjson");
    let second = tmp.path().join("night-2.ndjson");
    fs::write(
        &first,
        format!(
            "{}{}{}",
            ctr("2026-10-01T08:06:00Z"),
            ctr("2026-10-01T08:07:00Z"),
            ctr("2026-10-01T08:06:30Z")
        ),
    )
    .expect("first");
    fs::write(&second, ctr("2026-10-01T09:00:00Z")).expect("second");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&first, &second], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["duplicates_dropped"], 3, "{report}");
    assert_eq!(
        duplicates_of(&ds, &report),
        [
            dup("c-1", "night-1.ndjson", 1, "night-2.ndjson", 1, false),
            dup("c-1", "night-1.ndjson", 2, "night-2.ndjson", 1, false),
            dup("c-1", "night-1.ndjson", 3, "night-2.ndjson", 1, false),
        ]
    );
}

/// A given wait is held to `[ingest] max_duration_s` like any duration:
/// it would set the end of an unanswered contact (`bad_duration`).
#[test]
fn an_implausible_wait_is_refused_not_made_an_end() {
    let tmp = tempfile::tempdir().expect("tmp");
    let export = tmp.path().join("w.csv");
    fs::write(
        &export,
        "interaction_id,channel,direction,arrived_at,ended_at,wait_s\n\
         ok,voice,inbound,2026-10-01T08:00:00Z,,30\n\
         far,voice,inbound,2026-10-01T08:00:00Z,,3600000\n",
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&export], &["--max-reject-rate", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["files"][0]["reasons"]["bad_duration"], 1, "{report}");
    let rows = crate::read_dataset(&ds);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].ended_at, rows[0].wait_ms),
        (Some(crate::ts_us("2026-10-01T08:00:30Z")), Some(30_000)),
        "the end derived from the given wait"
    );
}
