//! One setting, one meaning: `[kpi] threshold_s` in `cxpipe.toml` is the
//! service-level threshold of `kpi`, of a `service_level` rule without its
//! own `threshold_s` in `sla` and `report`, and of every report `run` writes.
//!
//! The data, by hand: three answered calls in queue `sales`, all in the
//! 10:00 UTC half hour of 2026-10-01, waiting 10 s, 25 s and 40 s. At the
//! configured T = 30 s two of the three are answered in time: service
//! level 2/3 ≈ 0.666667, which meets the rule's target 0.5, so no agent has
//! a breach. At the default T = 20 s it would be 1/3, a missed interval,
//! and every agent would have one breach.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::{cxpipe, ingest};

const CALLS: &str = "\
interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s
t1,voice,inbound,sales,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:10Z,2026-10-01T10:05:00Z,290
t2,voice,inbound,sales,A2,2026-10-01T10:01:00Z,2026-10-01T10:01:25Z,2026-10-01T10:06:00Z,275
t3,voice,inbound,sales,A3,2026-10-01T10:02:00Z,2026-10-01T10:02:40Z,2026-10-01T10:07:00Z,260
";

const CONFIG: &str = "\
[kpi]
threshold_s = 30

[[sla]]
name = \"sl-half\"
kind = \"service_level\"
target = 0.5
interval = \"30m\"

[run]
inbox = \"inbox\"
dataset = \"run-dataset\"
reports_dir = \"reports\"
reports = [\"kpi:queue\", \"sla:interval\", \"sla:agent\", \"html\"]
";

/// The configured service level, 2 of 3 in 30 s.
const SL_AT_30: f64 = 2.0 / 3.0;

fn csv_rows(text: &str) -> Vec<Vec<(String, String)>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {name} in {row:?}"))
}

fn close(got: &str, want: f64) -> bool {
    got.parse::<f64>().is_ok_and(|g| (g - want).abs() < 1e-6)
}

/// The JSON data block of a report page.
fn page_data(html: &str) -> Value {
    let start = html.find("id=\"cx-data\">").expect("data block") + "id=\"cx-data\">".len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("end of the data block");
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).expect("data block is JSON")
}

/// Checks the SLA interval CSV (one judged interval, met at 2/3) and the
/// agent CSV (three agents, no breach).
fn check_sla_csvs(interval: &str, agent: &str, who: &str) {
    let rows = csv_rows(interval);
    assert_eq!(rows.len(), 1, "{who}: one judged interval\n{interval}");
    assert!(
        close(field(&rows[0], "measured"), SL_AT_30),
        "{who}: judged at [kpi] threshold_s = 30\n{interval}"
    );
    assert_eq!(field(&rows[0], "met"), "true", "{who}\n{interval}");
    let rows = csv_rows(agent);
    assert_eq!(rows.len(), 3, "{who}\n{agent}");
    for r in &rows {
        assert_eq!(field(r, "breaches"), "0", "{who}\n{agent}");
    }
}

#[test]
fn kpi_threshold_s_is_the_same_in_kpi_sla_report_and_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = d.join("cxpipe.toml");
    fs::write(&config, CONFIG).expect("config");
    fs::create_dir_all(d.join("inbox")).expect("inbox");
    fs::write(d.join("inbox/calls.csv"), CALLS).expect("calls");
    let ds = d.join("dataset");
    let (out, _) = ingest(&ds, &[&d.join("inbox/calls.csv")], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (c, s) = (config.to_str().expect("utf-8"), ds.to_str().expect("utf-8"));

    let kpi = cxpipe(&["kpi", s, "--by", "queue", "--format", "csv", "--config", c]);
    assert_eq!(kpi.code, 0, "{}", kpi.stderr);
    let rows = csv_rows(&kpi.stdout_text());
    assert!(close(field(&rows[0], "service_level"), SL_AT_30), "kpi");
    assert_eq!(field(&rows[0], "sl_threshold_s"), "30", "kpi");

    let sla = |level: &str| {
        let out = cxpipe(&["sla", s, "--level", level, "--format", "csv", "--config", c]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout_text()
    };
    check_sla_csvs(&sla("interval"), &sla("agent"), "cxpipe sla");

    let page = d.join("page.html");
    let out = cxpipe(&[
        "report",
        s,
        "--html",
        page.to_str().expect("utf-8"),
        "--config",
        c,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data = page_data(&fs::read_to_string(&page).expect("page"));
    assert_eq!(data["meta"]["sl_threshold_s"], 30.0, "report meta");
    let sl = data["sl_by_interval"][0]["service_level"]
        .as_f64()
        .expect("report service level");
    assert!((sl - SL_AT_30).abs() < 1e-6, "report: {sl}");
    let agents = data["sla_agents"].as_array().expect("report SLA table");
    assert_eq!(agents.len(), 3, "{agents:?}");
    assert!(
        agents.iter().all(|a| a["breaches"] == 0),
        "report: no agent breached at T = 30\n{agents:?}"
    );

    let out = cxpipe(&["run", "--config", c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reports = d.join("reports");
    let read = |name: &str| fs::read_to_string(reports.join(name)).expect(name);
    check_sla_csvs(&read("sla-interval.csv"), &read("sla-agent.csv"), "run");
    let rows = csv_rows(&read("kpi-queue.csv"));
    assert!(close(field(&rows[0], "service_level"), SL_AT_30), "run kpi");
    let data = page_data(&read("report.html"));
    assert_eq!(data["meta"]["sl_threshold_s"], 30.0, "run report.html");
    assert!(
        data["sla_agents"]
            .as_array()
            .expect("SLA table")
            .iter()
            .all(|a| a["breaches"] == 0),
        "run report.html"
    );
    assert!(Path::new(&reports.join("report.html")).is_file());
}
