//! `cxpipe kpi` end to end: golden tables on `data-samples/`, DST days and
//! midnight shifts, formats, configuration and usage errors.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{cxpipe, cxpipe_env, ingest, sample};

/// Ingests `inputs` into a fresh dataset under `dir`.
fn dataset(dir: &Path, inputs: &[&Path]) -> PathBuf {
    let ds = dir.join("ds");
    let (out, report) = ingest(&ds, inputs, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_quarantined"], 0, "{report}");
    ds
}

/// `cxpipe kpi DS ARGS --format csv`, which must succeed.
fn kpi_csv(ds: &Path, args: &[&str]) -> String {
    let mut all = vec!["kpi", ds.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv"]);
    let out = cxpipe(&all);
    assert_eq!(out.code, 0, "kpi {args:?} failed: {}", out.stderr);
    out.stdout_text()
}

/// The bundled generic samples, ingested.
fn samples_dataset(dir: &Path) -> PathBuf {
    dataset(dir, &[&sample("generic")])
}

/// Hand-checked: the 17 sample contacts (see data-samples/README.md), per
/// agent and UTC day, with a 24 h FCR window so that contacts before
/// 2026-10-02T10:05Z (the last arrival, j-2, minus 24 h) are eligible.
///
/// - A0001 on 10-01: c1 (303+20+35 s) and c8 (340+12+25 s): AHT (358+377)/2
///   = 367.5; both held; c1's customer calls again (c8) 5.5 h later on
///   another chain, so c1 is not resolved and c8 is: FCR 1/2; CSAT 5 and 3.
/// - A0002 on 10-01: c3 (380+21+44 = 445 s, transferred, no survey); its
///   customer's next contact is c4, an internal leg of the same chain, so
///   it is resolved. A0002 on 10-02: c12 (220+15+20 = 255 s), eligible.
/// - A0003: c4 is internal (not inbound), so no FCR subject; CSAT 4.
/// - A0004 on 10-01: c5 (940 s, CSAT 5) and c6 (480 s): mean 710;
///   on 10-02: n-1 (540+0+30 = 570 s) eligible; on 10-03: j-1 (685 s,
///   CSAT 4) and j-3 (360 s): mean 522.5, not eligible (too late).
/// - A0005: c7 is outbound: handled, but no FCR subject.
/// - A0006: c10 arrived 20:10Z on 10-01 (CSAT 2); c11 arrived 23:59:30Z on
///   10-01 although answered on 10-02 (CSAT 1): both on 10-01.
const AGENT_DAY: &str = "\
agent_id,date,handled,aht_s,avg_talk_s,avg_hold_s,avg_acw_s,hold_rate,transfer_rate,fcr_rate,fcr_eligible,csat_avg,csat_responses,csat_top2,occupancy
A0001,2026-10-01,2,367.5,321.5,16,30,1,0,0.5,2,4,2,0.5,
A0002,2026-10-01,1,445,380,21,44,1,1,1,1,,0,,
A0002,2026-10-02,1,255,220,15,20,1,0,1,1,,0,,
A0003,2026-10-01,1,683,610,22,51,1,0,,0,4,1,1,
A0004,2026-10-01,2,710,630,0,80,0,0,1,2,5,1,1,
A0004,2026-10-02,1,570,540,0,30,0,0,1,1,,0,,
A0004,2026-10-03,2,522.5,480,0,42.5,0,0,,0,4,1,1,
A0005,2026-10-01,1,258,228,0,30,0,0,,0,,0,,
A0006,2026-10-01,2,397.5,350,15,32.5,0.5,0,1,2,1.5,2,0,
";

#[test]
fn golden_agent_day_on_the_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    assert_eq!(
        kpi_csv(&ds, &["--by", "agent,day", "--fcr-window", "24h"]),
        AGENT_DAY
    );
}

/// Hand-checked queue side per queue (all days): offered counts inbound
/// contacts only (c4 is internal, c7 outbound).
/// - billing: c1 (wait 12 s), c2 (abandoned after 105 s), c8 (8 s),
///   c9 (abandoned after 3 s: short), n-2 (unanswered inbound with a blank
///   `abandoned`: abandoned, after 60 s). Offered 5, answered 2, abandoned 3,
///   short 1; SL = 2 / (5-1); abandon rate = (3-1)/(5-1); ASA = (12+8)/2.
/// - general: c5 (40 s), c6 (email, 3 h 45 m), c10 (20 s, exactly the
///   threshold: in), n-1 (60 s), j-1 (30 s), j-2 (abandoned after 120 s),
///   j-3 (4 h). Offered 7 (c10 is in queue general), answered 6.
///   ASA (40 + 13500 + 20 + 60 + 30 + 14400) / 6 = 4675 s; AHT 3255 / 6.
/// - retention: c11 (40 s), c12 (5 s). tech_support: c3 (31 s) is offered;
///   c4, its internal transfer leg, is handled there too (agent side).
/// - sales: c7 is outbound: nothing offered, one handled.
const QUEUE: &str = "\
queue,offered,answered,abandoned,short_abandoned,wait_unknown,service_level,sl_variant,sl_threshold_s,abandon_rate,asa_s,handled,aht_s,avg_talk_s,avg_hold_s,avg_acw_s,hold_rate,transfer_rate,fcr_rate,fcr_eligible,csat_avg,csat_responses,csat_top2,occupancy
billing,5,2,3,1,0,0.5,excl_short,20,0.5,10,2,367.5,321.5,16,30,1,0,,0,4,2,0.5,
general,7,6,1,0,0,0.142857,excl_short,20,0.142857,4675,6,542.5,493.333,0,49.167,0,0,,0,3.666667,3,0.666667,
retention,2,2,0,0,0,0.5,excl_short,20,0,22.5,2,415,360,22.5,32.5,1,0,,0,1,1,0,
tech_support,1,1,0,0,0,0,excl_short,20,0,31,2,564,495,21.5,47.5,1,0.5,,0,4,1,1,
sales,0,0,0,0,0,,excl_short,20,,,1,258,228,0,30,0,0,,0,,0,,
";

#[test]
fn golden_queue_on_the_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let got = kpi_csv(&ds, &["--by", "queue"]);
    let mut want: Vec<&str> = QUEUE.lines().collect();
    let header = want.remove(0);
    want.sort();
    let mut got_lines: Vec<&str> = got.lines().collect();
    assert_eq!(got_lines.remove(0), header);
    let sorted = {
        let mut s = got_lines.clone();
        s.sort();
        s
    };
    assert_eq!(got_lines, sorted, "rows are sorted by the key");
    assert_eq!(sorted, want);
}

/// Contacts around Berlin's DST changes (UTC instants; local in comments).
const DST_CSV: &str = "\
interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s
a,voice,inbound,q,A1,2026-10-24T22:30:00Z,2026-10-24T22:30:10Z,2026-10-24T22:35:00Z,290,0,10
b,voice,inbound,q,A1,2026-10-25T00:30:00Z,2026-10-25T00:30:10Z,2026-10-25T00:35:00Z,290,0,10
c,voice,inbound,q,A1,2026-10-25T01:30:00Z,2026-10-25T01:30:10Z,2026-10-25T01:35:00Z,290,0,10
g,voice,inbound,q,A1,2026-10-25T09:00:00Z,2026-10-25T09:00:10Z,2026-10-25T09:05:00Z,290,0,10
d,voice,inbound,q,A1,2026-10-25T22:30:00Z,2026-10-25T22:30:10Z,2026-10-25T22:35:00Z,290,0,10
e,voice,inbound,q,A1,2026-10-25T23:30:00Z,2026-10-25T23:30:10Z,2026-10-25T23:35:00Z,290,0,10
f,voice,inbound,q,A1,2026-10-26T02:00:00Z,2026-10-26T02:00:10Z,2026-10-26T02:05:00Z,290,0,10
h,voice,inbound,q,A1,2026-03-29T00:30:00Z,2026-03-29T00:30:10Z,2026-03-29T00:35:00Z,290,0,10
i,voice,inbound,q,A1,2026-03-29T01:30:00Z,2026-03-29T01:30:10Z,2026-03-29T01:35:00Z,290,0,10
";

fn dst_dataset(dir: &Path) -> PathBuf {
    let csv = dir.join("dst.csv");
    fs::write(&csv, DST_CSV).expect("write csv");
    dataset(dir, &[&csv])
}

/// Only the key columns and `offered` of a KPI CSV.
fn keys_and_offered(csv: &str, keys: usize) -> Vec<String> {
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    let offered = header
        .iter()
        .position(|h| *h == "offered")
        .expect("offered column");
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let mut k: Vec<&str> = f[..keys].to_vec();
            k.push(f[offered]);
            k.join(" ")
        })
        .collect()
}

#[test]
fn the_25_and_23_hour_days_in_berlin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = dst_dataset(dir.path());
    let berlin = ["--tz", "Europe/Berlin"];
    let by_day = kpi_csv(&ds, &[&berlin[..], &["--by", "day"]].concat());
    assert_eq!(
        keys_and_offered(&by_day, 1),
        ["2026-03-29 2", "2026-10-25 5", "2026-10-26 2"]
    );
    // The repeated hour 02:00-03:00 on 2026-10-25 is two intervals.
    let hourly = kpi_csv(
        &ds,
        &[&berlin[..], &["--by", "interval", "--interval", "1h"]].concat(),
    );
    assert_eq!(
        keys_and_offered(&hourly, 1),
        [
            "2026-03-29T01:00:00+01:00 1",
            "2026-03-29T03:00:00+02:00 1",
            "2026-10-25T00:00:00+02:00 1",
            "2026-10-25T02:00:00+02:00 1",
            "2026-10-25T02:00:00+01:00 1",
            "2026-10-25T10:00:00+01:00 1",
            "2026-10-25T23:00:00+01:00 1",
            "2026-10-26T00:00:00+01:00 1",
            "2026-10-26T03:00:00+01:00 1",
        ]
    );
    let daily = kpi_csv(
        &ds,
        &[&berlin[..], &["--by", "interval", "--interval", "1d"]].concat(),
    );
    assert_eq!(
        keys_and_offered(&daily, 1),
        [
            "2026-03-29T00:00:00+01:00 2",
            "2026-10-25T00:00:00+02:00 5",
            "2026-10-26T00:00:00+01:00 2",
        ]
    );
    // The same instants in UTC fall on other days.
    let utc = kpi_csv(&ds, &["--by", "day"]);
    assert_eq!(
        keys_and_offered(&utc, 1),
        [
            "2026-03-29 2",
            "2026-10-24 1",
            "2026-10-25 5",
            "2026-10-26 1"
        ]
    );
}

#[test]
fn the_night_shift_belongs_to_the_day_it_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = dst_dataset(dir.path());
    let shifts = kpi_csv(&ds, &["--tz", "Europe/Berlin", "--by", "shift"]);
    assert_eq!(
        keys_and_offered(&shifts, 2),
        [
            // 01:30 CET and 03:30 CEST on the 23-hour day: the night of the 28th.
            "2026-03-28 night 2",
            // 00:30 CEST, 02:30 CEST, 02:30 CET.
            "2026-10-24 night 3",
            // 10:00 CET.
            "2026-10-25 day 1",
            // 23:30 CET, then 00:30 and 03:00 CET on the 26th.
            "2026-10-25 night 3",
        ]
    );
    // Custom shifts from the config file, one crossing midnight.
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[time]\nzone = \"Europe/Berlin\"\n\n[[shift]]\nname = \"late\"\nstart = \"20:00\"\nend = \"02:00\"\n\n[[shift]]\nname = \"rest\"\nstart = \"02:00\"\nend = \"20:00\"\n",
    )
    .expect("write config");
    let custom = kpi_csv(
        &ds,
        &["--config", config.to_str().expect("path"), "--by", "shift"],
    );
    assert_eq!(
        keys_and_offered(&custom, 2),
        [
            "2026-03-28 late 1",
            "2026-03-29 rest 1",
            "2026-10-24 late 1",
            "2026-10-25 rest 3",
            "2026-10-25 late 2",
            "2026-10-26 rest 1",
        ]
    );
}

#[test]
fn weeks_months_and_date_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = dst_dataset(dir.path());
    let weeks = kpi_csv(&ds, &["--by", "week"]);
    // 2026-03-29 is a Sunday (week of the 23rd); 10-24 a Saturday, 10-25 a
    // Sunday (week of the 19th), 10-26 a Monday.
    assert_eq!(
        keys_and_offered(&weeks, 1),
        ["2026-03-23 2", "2026-10-19 6", "2026-10-26 1"]
    );
    let months = kpi_csv(&ds, &["--by", "month"]);
    assert_eq!(keys_and_offered(&months, 1), ["2026-03 2", "2026-10 7"]);
    let filtered = kpi_csv(
        &ds,
        &[
            "--tz",
            "Europe/Berlin",
            "--by",
            "day",
            "--from",
            "2026-10-25",
            "--to",
            "2026-10-25",
        ],
    );
    assert_eq!(keys_and_offered(&filtered, 1), ["2026-10-25 5"]);
    let totals = kpi_csv(&ds, &["--from", "2026-10-01"]);
    assert_eq!(keys_and_offered(&totals, 0), ["7"]);
}

#[test]
fn formats_and_output_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let d = ds.to_str().expect("path");
    // Piped stdout: CSV by default.
    let out = cxpipe(&["kpi", d, "--by", "channel"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text().starts_with("channel,offered,"),
        "{}",
        out.stdout_text()
    );
    // The text table: percentages, one decimal, a caption naming the variant.
    let out = cxpipe(&["kpi", d, "--by", "queue", "--format", "table"]);
    let text = out.stdout_text();
    assert!(
        text.starts_with("zone UTC · service level excl_short at 20 s (short abandon < 5 s)"),
        "{text}"
    );
    assert!(text.contains("50.0%"), "{text}");
    assert!(text.contains("4675.0"), "{text}");
    // JSON parses and has the same rows.
    let out = cxpipe(&["kpi", d, "--by", "queue", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(5));
    assert_eq!(json[0]["queue"], "billing");
    assert_eq!(json[0]["service_level"], 0.5);
    assert_eq!(json[3]["queue"], "sales");
    assert_eq!(json[3]["service_level"], serde_json::Value::Null);
    // --out picks the format from the extension; Parquet reads back.
    let pq = dir.path().join("kpi.parquet");
    let out = cxpipe(&[
        "kpi",
        d,
        "--by",
        "agent",
        "--out",
        pq.to_str().expect("path"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let reader =
        parquet::file::reader::SerializedFileReader::new(fs::File::open(&pq).expect("open"))
            .expect("parquet");
    use parquet::file::reader::FileReader;
    let meta = reader.metadata();
    assert_eq!(meta.file_metadata().num_rows(), 6);
    let names: Vec<String> = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names[0], "agent_id");
    assert!(names.contains(&"fcr_rate".to_string()));
    let csv = dir.path().join("kpi.csv");
    let out = cxpipe(&[
        "kpi",
        d,
        "--by",
        "agent",
        "--out",
        csv.to_str().expect("path"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = fs::read_to_string(&csv).expect("csv");
    assert!(text.starts_with("agent_id,handled,"), "{text}");
    assert_eq!(text.lines().count(), 7);
}

#[test]
fn variants_and_thresholds_are_named_and_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let billing = |args: &[&str]| -> Vec<String> {
        let csv = kpi_csv(&ds, &[&["--by", "queue"], args].concat());
        let header: Vec<String> = csv
            .lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .map(String::from)
            .collect();
        let row: Vec<String> = csv
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split(',')
            .map(String::from)
            .collect();
        [
            "service_level",
            "sl_variant",
            "sl_threshold_s",
            "short_abandoned",
        ]
        .iter()
        .map(|c| row[header.iter().position(|h| h == c).expect("column")].clone())
        .collect()
    };
    // billing: offered 5, answered 2 (12 s, 8 s), abandoned 3 (105 s, 3 s, 60 s).
    assert_eq!(billing(&[]), ["0.5", "excl_short", "20", "1"]);
    assert_eq!(
        billing(&["--sl-variant", "offered"]),
        ["0.4", "offered", "20", "1"]
    );
    assert_eq!(
        billing(&["--sl-variant", "answered_plus_abandoned"]),
        ["0.4", "answered_plus_abandoned", "20", "1"]
    );
    assert_eq!(
        billing(&["--sl-variant", "aband_positive"]),
        ["0.6", "aband_positive", "20", "1"]
    );
    assert_eq!(
        billing(&["--sl-variant", "answered"]),
        ["1", "answered", "20", "1"]
    );
    assert_eq!(
        billing(&["--threshold", "10"]),
        ["0.25", "excl_short", "10", "1"]
    );
    assert_eq!(
        billing(&["--short-abandon", "2"]),
        ["0.4", "excl_short", "20", "0"]
    );
    // Config sets them; flags win.
    let config = dir.path().join("k.toml");
    fs::write(
        &config,
        "[kpi]\nsl_variant = \"offered\"\nthreshold_s = 10\n",
    )
    .expect("config");
    let c = config.to_str().expect("path");
    assert_eq!(billing(&["--config", c]), ["0.2", "offered", "10", "1"]);
    assert_eq!(
        billing(&["--config", c, "--threshold", "20"]),
        ["0.4", "offered", "20", "1"]
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let d = ds.to_str().expect("path");
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[kpi]\nthreshold_s = 20\nsla_variant = \"offered\"\n",
    )
    .expect("config");
    let c = config.to_str().expect("path");
    for (args, needle) in [
        (
            vec!["kpi", d, "--by", "agent,colour"],
            "unknown grouping \"colour\"",
        ),
        (vec!["kpi", d, "--by", "day,day"], "twice"),
        (vec!["kpi", d, "--tz", "Mars/Olympus"], "unknown time zone"),
        (vec!["kpi", d, "--from", "2026-13-01"], "not a date"),
        (
            vec!["kpi", d, "--from", "2026-10-03", "--to", "2026-10-01"],
            "after --to",
        ),
        (
            vec!["kpi", d, "--sl-variant", "best"],
            "unknown service-level variant",
        ),
        (vec!["kpi", d, "--fcr-window", "soon"], "not a duration"),
        (vec!["kpi", d, "--interval", "7m"], "unknown interval"),
        (vec!["kpi", d, "--config", c], "sla_variant"),
    ] {
        let out = cxpipe(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    // The unknown key's message names the file and the line.
    let out = cxpipe(&["kpi", d, "--config", c]);
    assert!(out.stderr.contains(c), "{}", out.stderr);
    assert!(out.stderr.contains("line 3"), "{}", out.stderr);
    // No dataset there: exit 1 with the folder named.
    let nope = dir.path().join("nope");
    let out = cxpipe(&["kpi", nope.to_str().expect("path")]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("{} does not exist", nope.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_range_gives_the_header_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let csv = kpi_csv(&ds, &["--by", "agent,day", "--from", "2030-01-01"]);
    assert_eq!(
        csv,
        "agent_id,date,handled,aht_s,avg_talk_s,avg_hold_s,avg_acw_s,hold_rate,transfer_rate,fcr_rate,fcr_eligible,csat_avg,csat_responses,csat_top2,occupancy\n"
    );
}

#[test]
fn a_broken_dataset_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let part = crate::parquet_files(&ds)
        .into_iter()
        .next()
        .expect("a part file");
    fs::write(&part, b"not parquet at all").expect("overwrite");
    let out = cxpipe(&["kpi", ds.to_str().expect("path"), "--by", "day"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let name = part.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(out.stderr.contains(name), "{}", out.stderr);
    assert!(
        out.stderr.contains("not a whole Parquet file"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

/// Right-censoring (SPEC §8): a contact whose FCR window ends exactly at
/// the dataset's last arrival was fully observed, so it is eligible; one
/// whose window ends a second later is not.
///
/// By hand, window 72 h: f1 (A1) arrived 10-01 10:00:00, its window ends
/// 10-04 10:00:00, the arrival of f2, the last one: eligible, and resolved
/// (its customer never calls again): fcr_rate 1 of 1. f3 (A3) arrived
/// 10-01 10:00:01: its window ends one second after the last arrival, not
/// eligible. f2 (A2): its window ends three days later, not eligible.
#[test]
fn a_window_ending_at_the_last_arrival_is_eligible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("fcr.csv");
    fs::write(
        &file,
        "interaction_id,channel,direction,queue,agent_id,customer_id,arrived_at,answered_at,ended_at,talk_s\n\
         f1,voice,inbound,q,A1,+15550001,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,295\n\
         f3,voice,inbound,q,A3,+15550003,2026-10-01T10:00:01Z,2026-10-01T10:00:06Z,2026-10-01T10:05:00Z,294\n\
         f2,voice,inbound,q,A2,+15550002,2026-10-04T10:00:00Z,2026-10-04T10:00:05Z,2026-10-04T10:05:00Z,295\n",
    )
    .expect("export");
    let ds = dataset(dir.path(), &[&file]);
    let csv = kpi_csv(&ds, &["--by", "agent", "--fcr-window", "72h"]);
    let got: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            // agent_id, fcr_rate, fcr_eligible
            format!("{},{},{}", f[0], f[8], f[9])
        })
        .collect();
    assert!(
        csv.starts_with("agent_id,handled,aht_s,avg_talk_s,avg_hold_s,avg_acw_s,hold_rate,transfer_rate,fcr_rate,fcr_eligible,"),
        "{csv}"
    );
    assert_eq!(got, ["A1,1,1", "A2,,0", "A3,,0"], "{csv}");
}

/// The text table fits the terminal: the keys, then the KPIs read first,
/// and one line naming what was left out; `--columns` chooses; files keep
/// every column.
#[test]
fn the_text_table_fits_the_terminal_width() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let d = ds.to_str().expect("path");
    let table = |width: &str, extra: &[&str]| {
        let mut args = vec!["kpi", d, "--by", "queue,day", "--format", "table"];
        args.extend_from_slice(extra);
        let out = cxpipe_env(&args, None, &[("COLUMNS", width)]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout_text()
    };
    let text = table("80", &[]);
    let lines: Vec<&str> = text.lines().collect();
    // lines[0] is the caption, lines[1] the heading, the last the note.
    let heading: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&heading[..3], ["queue", "date", "offered"], "{text}");
    for line in &lines[1..lines.len() - 1] {
        assert!(line.chars().count() <= 80, "{} wide: {line}", line.len());
    }
    let note = lines[lines.len() - 1];
    assert!(
        note.starts_with("not shown: ")
            && note.contains("answered")
            && note.contains("--columns all"),
        "{note}"
    );
    for shown in &heading {
        assert!(
            !note.contains(&format!(" {shown},")),
            "{shown} shown and listed as left out"
        );
    }
    // At 80 columns, which of the first KPIs fit is a matter of their
    // widths; the order of preference is not: offered before handled.
    assert!(heading.contains(&"service_level"), "{text}");

    // Wide enough for everything: every column, no note.
    let wide = table("1000", &[]);
    assert!(!wide.contains("not shown"), "{wide}");
    assert!(wide.contains("csat_top2"), "{wide}");

    // --columns: the keys, then the list, in its order.
    let chosen = table("80", &["--columns", "aht_s,offered"]);
    let heading: Vec<&str> = chosen
        .lines()
        .nth(1)
        .expect("heading")
        .split_whitespace()
        .collect();
    assert_eq!(heading, ["queue", "date", "aht_s", "offered"], "{chosen}");
    let all = table("80", &["--columns", "all"]);
    assert!(
        all.contains("csat_top2") && !all.contains("not shown"),
        "{all}"
    );
    let out = cxpipe(&[
        "kpi",
        d,
        "--by",
        "queue",
        "--format",
        "table",
        "--columns",
        "speed",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no column \"speed\""), "{}", out.stderr);

    // CSV keeps every column, whatever the width.
    let out = cxpipe_env(
        &["kpi", d, "--by", "queue,day", "--format", "csv"],
        None,
        &[("COLUMNS", "40")],
    );
    let header = out
        .stdout_text()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(header.split(',').count(), 25, "{header}");
    let out = cxpipe(&[
        "kpi",
        d,
        "--by",
        "queue",
        "--format",
        "csv",
        "--columns",
        "aht_s",
    ]);
    assert_eq!(out.code, 2, "--columns with csv: {}", out.stderr);
}

/// One queue with every kind of wait (SPEC §8, `wait_unknown`): two calls
/// answered after 10 s and 30 s, an abandon after 3 s (short), one after
/// 60 s, and two unanswered calls whose export records no end, so no wait.
/// By hand, T = 20 s, short abandon 5 s:
/// - offered 6, answered 2, abandoned 4, short 1, wait_unknown 2;
/// - excl_short SL = 1 / (6 − 1) = 0.2; abandon rate (4 − 1) / (6 − 1) = 0.6;
/// - aband_positive = (1 answered + 1 abandoned within 20 s) / 6: the two
///   unknown waits are not "within T" (were they read as 0 s, it would be
///   4 / 6, short would be 3 and abandon rate 1 / 3);
/// - ASA = (10 + 30) / 2 = 20 s.
const UNKNOWN_WAITS: &str = "\
interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s
a1,voice,inbound,q,A1,2026-10-01T08:00:00Z,2026-10-01T08:00:10Z,2026-10-01T08:01:40Z,90,0,0
a2,voice,inbound,q,A1,2026-10-01T08:10:00Z,2026-10-01T08:10:30Z,2026-10-01T08:12:30Z,120,0,0
s1,voice,inbound,q,,2026-10-01T08:20:00Z,,2026-10-01T08:20:03Z,,,
b1,voice,inbound,q,,2026-10-01T08:30:00Z,,2026-10-01T08:31:00Z,,,
u1,voice,inbound,q,,2026-10-01T08:40:00Z,,,,,
u2,voice,inbound,q,,2026-10-01T08:50:00Z,,,,,
";

fn column_of(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|l| l.split(',').nth(i).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn unknown_waits_are_counted_but_never_short_or_within_the_threshold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("waits.csv");
    fs::write(&export, UNKNOWN_WAITS).expect("write");
    let ds = dataset(dir.path(), &[&export]);
    let rows = crate::by_id(&crate::read_dataset(&ds));
    assert_eq!((rows["u1"].ended_at, rows["u1"].wait_ms), (None, None));
    assert!(rows["u1"].abandoned, "unanswered inbound: abandoned");
    let csv = kpi_csv(&ds, &["--by", "queue"]);
    let got: Vec<String> = [
        "offered",
        "answered",
        "abandoned",
        "short_abandoned",
        "wait_unknown",
        "service_level",
        "abandon_rate",
        "asa_s",
    ]
    .iter()
    .map(|c| column_of(&csv, c).concat())
    .collect();
    assert_eq!(got, ["6", "2", "4", "1", "2", "0.2", "0.6", "20"], "{csv}");
    let positive = kpi_csv(&ds, &["--by", "queue", "--sl-variant", "aband_positive"]);
    assert_eq!(
        column_of(&positive, "service_level"),
        ["0.333333"],
        "{positive}"
    );
    let answered = kpi_csv(&ds, &["--by", "queue", "--sl-variant", "answered"]);
    assert_eq!(column_of(&answered, "service_level"), ["0.5"], "{answered}");
}

/// Rewrites a Parquet file as schema version 1 wrote it: `ended_at` and
/// `wait_ms` not nullable, version "1" in the metadata.
fn rewrite_as_version_1(path: &Path) {
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).expect("open"))
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<arrow_array::RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let old = batches[0].schema();
    let fields: Vec<arrow_schema::Field> = old
        .fields()
        .iter()
        .map(|f| {
            let v1_required = ["ended_at", "wait_ms"].contains(&f.name().as_str());
            f.as_ref()
                .clone()
                .with_nullable(f.is_nullable() && !v1_required)
        })
        .collect();
    let metadata =
        std::collections::HashMap::from([("cxpipe.schema_version".to_string(), "1".to_string())]);
    let schema = std::sync::Arc::new(arrow_schema::Schema::new_with_metadata(fields, metadata));
    let tmp = path.with_extension("v1-tmp");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "cxpipe.schema_version".to_string(),
            "1".to_string(),
        )]))
        .build();
    let file = fs::File::create(&tmp).expect("create");
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).expect("writer");
    for b in batches {
        let b = arrow_array::RecordBatch::try_new(schema.clone(), b.columns().to_vec())
            .expect("a version-1 batch (no nulls in ended_at, wait_ms)");
        w.write(&b).expect("write");
    }
    w.close().expect("close");
    fs::rename(&tmp, path).expect("rename");
}

/// SPEC §3: datasets written with schema version 1 stay readable. The
/// samples' files rewritten as version 1 give the same KPIs, and a later
/// version-2 ingest with unknown waits reads beside them.
#[test]
fn version_1_files_read_beside_version_2_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let before = kpi_csv(&ds, &["--by", "queue"]);
    let files = crate::parquet_files(&ds);
    assert!(!files.is_empty());
    for f in &files {
        rewrite_as_version_1(f);
        let r = parquet::file::reader::SerializedFileReader::new(fs::File::open(f).expect("open"))
            .expect("parquet");
        use parquet::file::reader::FileReader;
        let kv = r.metadata().file_metadata().key_value_metadata().cloned();
        assert!(
            kv.unwrap_or_default()
                .iter()
                .any(|k| k.key == "cxpipe.schema_version" && k.value.as_deref() == Some("1")),
            "{} was rewritten as version 1",
            f.display()
        );
    }
    assert_eq!(kpi_csv(&ds, &["--by", "queue"]), before);
    let export = dir.path().join("waits.csv");
    fs::write(&export, UNKNOWN_WAITS).expect("write");
    let (out, _) = ingest(&ds, &[&export], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = kpi_csv(&ds, &[]);
    // The samples offer 15 inbound contacts (the golden table above), the
    // new file 6, 2 of them of unknown wait.
    assert_eq!(column_of(&after, "offered"), ["21"], "{after}");
    assert_eq!(column_of(&after, "wait_unknown"), ["2"], "{after}");
}

/// On a terminal, a query draws a bar while it reads the dataset (rows
/// read, rows/s, ETA); piped, or with `--no-progress`, it draws nothing.
/// The terminal is `script`'s pseudo-terminal (util-linux).
#[test]
fn a_query_draws_a_progress_bar_only_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = samples_dataset(dir.path());
    let out_csv = dir.path().join("k.csv");
    let command = |extra: &str| {
        format!(
            "{} kpi {} --by agent --format csv --out {}{extra}",
            crate::bin(),
            ds.display(),
            out_csv.display()
        )
    };
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok();
    if !has_script {
        assert!(
            std::env::var("CXPIPE_REQUIRE_TTY").as_deref() != Ok("1"),
            "`script` (Debian's bsdutils) is needed here: CXPIPE_REQUIRE_TTY=1"
        );
        eprintln!("skipped: no `script` to give the query a terminal");
        return;
    }
    let tty = |extra: &str| {
        let o = std::process::Command::new("script")
            .args(["-qc", &command(extra), "/dev/null"])
            .output()
            .expect("script");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = tty("");
    assert!(
        shown.contains("reading the dataset") && shown.contains("rows/s"),
        "{shown:?}"
    );
    assert!(!tty(" --no-progress").contains("reading the dataset"));
    let piped = cxpipe(&[
        "kpi",
        ds.to_str().expect("utf-8"),
        "--by",
        "agent",
        "--format",
        "csv",
    ]);
    assert!(
        !piped.stderr.contains("reading the dataset"),
        "{}",
        piped.stderr
    );
    assert!(
        fs::read_to_string(&out_csv)
            .expect("csv")
            .starts_with("agent_id,")
    );
}
