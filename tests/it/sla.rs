//! `cxpipe sla` end to end: every rule kind on a hand-computed dataset, scope
//! filters and interval boundaries, the three levels, policy errors, and the
//! breaches `cxpipe generate` plants coming out on top.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{cxpipe, ingest};

const HEADER: &str = "interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,disposition,csat";

/// Seven contacts on 2026-10-05 (UTC). Waits are answered − arrived
/// (abandoned: ended − arrived); handle = talk + hold + acw.
///
/// | id | queue, channel, team, site | agent | arrived | wait | talk+hold+acw |
/// |---|---|---|---|---|---|
/// | r1 | sales-east voice t1 s1 | A1 | 09:00:00 | 10 | 100+0+30 = 130 |
/// | r2 | sales-east voice t1 s1 | A1 | 09:10:00 | 40 | 200+50+150 = 400 |
/// | r3 | sales-east voice t1 s1 | (abandoned) | 09:29:59 | 31 | — |
/// | r4 | sales-east voice t1 s1 | A2 | 09:30:00 | 5 | 60+0+200 = 260 |
/// | r5 | sales-east voice t1 s1 | A1 | 09:45:00 | 15 | 60+0+10 = 70 |
/// | r6 | billing voice t1 s1 | A2 | 09:05:00 | 30 | 1000+0+0 = 1000 |
/// | r7 | sales-west chat t2 s2 | A3 | 09:00:00 | 180 | 300+0+20 = 320 |
const CONTACTS: &str = "\
r1,,voice,inbound,sales-east,A1,t1,s1,c1,2026-10-05T09:00:00Z,2026-10-05T09:00:10Z,2026-10-05T09:02:20Z,100,0,30,false,false,resolved,
r2,,voice,inbound,sales-east,A1,t1,s1,c2,2026-10-05T09:10:00Z,2026-10-05T09:10:40Z,2026-10-05T09:17:20Z,200,50,150,false,false,resolved,
r3,,voice,inbound,sales-east,,t1,s1,c3,2026-10-05T09:29:59Z,,2026-10-05T09:30:30Z,0,0,0,true,false,,
r4,,voice,inbound,sales-east,A2,t1,s1,c4,2026-10-05T09:30:00Z,2026-10-05T09:30:05Z,2026-10-05T09:34:25Z,60,0,200,false,false,resolved,
r5,,voice,inbound,sales-east,A1,t1,s1,c5,2026-10-05T09:45:00Z,2026-10-05T09:45:15Z,2026-10-05T09:46:25Z,60,0,10,false,false,resolved,
r6,,voice,inbound,billing,A2,t1,s1,c6,2026-10-05T09:05:00Z,2026-10-05T09:05:30Z,2026-10-05T09:22:10Z,1000,0,0,false,false,resolved,
r7,,chat,inbound,sales-west,A3,t2,s2,c7,2026-10-05T09:00:00Z,2026-10-05T09:03:00Z,2026-10-05T09:08:20Z,300,0,20,false,false,resolved,
";

/// One rule of every kind, with scope filters.
const POLICY: &str = r#"
[[sla]]
name = "sl"
kind = "service_level"
scope = { queue = "sales-*", channel = "voice" }
threshold_s = 20
target = 0.8
interval = "30m"

[[sla]]
name = "aband"
kind = "abandon_rate"
target = 0.05
interval = "1h"

[[sla]]
name = "asa"
kind = "asa"
scope = { team = "t1" }
target = 20

[[sla]]
name = "wait"
kind = "wait"
scope = { site = "s1" }
threshold_s = 30

[[sla]]
name = "acw"
kind = "acw"
threshold_s = 120

[[sla]]
name = "handle"
kind = "handle"
threshold_s = 900

[[sla]]
name = "hold"
kind = "hold"
threshold_s = 45
"#;

/// The hand-computed dataset and the policy file, under `dir`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("contacts.csv");
    fs::write(&input, format!("{HEADER}\n{CONTACTS}")).expect("write input");
    let ds = dir.join("ds");
    let (out, report) = ingest(&ds, &[&input], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_quarantined"], 0, "{report}");
    let policy = dir.join("sla.toml");
    fs::write(&policy, POLICY).expect("write policy");
    (ds, policy)
}

/// `cxpipe sla DS --policy P ARGS --format csv`, which must succeed.
fn sla_csv(ds: &Path, policy: &Path, args: &[&str]) -> String {
    let mut all = vec![
        "sla",
        ds.to_str().expect("utf-8 path"),
        "--policy",
        policy.to_str().expect("utf-8 path"),
    ];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv"]);
    let out = cxpipe(&all);
    assert_eq!(out.code, 0, "sla {args:?} failed: {}", out.stderr);
    out.stdout_text()
}

/// - sl (sales-* voice, 30m): sales-east 09:00 has r1 (10 s ≤ 20), r2 (40 s)
///   and r3 (abandoned after 31 s, not short): 1/3, missed by 0.466667;
///   09:30 starts with r4 (arrived exactly 09:30:00) and r5: 2/2, met.
///   billing (not sales-*) and sales-west (chat) are out of scope.
/// - aband (1h): sales-east 09:00–10:00 has 1 abandon of 5: 0.2, missed by
///   0.15; billing and sales-west 0, met.
/// - asa (team t1): sales-east 09:00 (10+40)/2 = 25 s, missed by 5; billing
///   30 s, missed by 10; sales-east 09:30 (5+15)/2 = 10 s, met. Missed
///   ones worst first by shortfall × offered: 5 × 3 = 15 before 10 × 1.
const INTERVALS: &str = "\
rule,scope,queue,interval_start,offered,measured,target,met,shortfall
sl,channel=voice queue=sales-*,sales-east,2026-10-05T09:00:00+00:00,3,0.333333,0.8,false,0.466667
aband,all,sales-east,2026-10-05T09:00:00+00:00,5,0.2,0.05,false,0.15
asa,team=t1,sales-east,2026-10-05T09:00:00+00:00,3,25,20,false,5
asa,team=t1,billing,2026-10-05T09:00:00+00:00,1,30,20,false,10
sl,channel=voice queue=sales-*,sales-east,2026-10-05T09:30:00+00:00,2,1,0.8,true,0
aband,all,billing,2026-10-05T09:00:00+00:00,1,0,0.05,true,0
aband,all,sales-west,2026-10-05T09:00:00+00:00,1,0,0.05,true,0
asa,team=t1,sales-east,2026-10-05T09:30:00+00:00,2,10,20,true,0
";

#[test]
fn interval_report_every_interval_kind_with_scopes_and_boundaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ds, policy) = setup(dir.path());
    assert_eq!(sla_csv(&ds, &policy, &["--level", "interval"]), INTERVALS);
    // JSON has booleans; --out writes a file others can read.
    let out_file = dir.path().join("intervals.json");
    let out = cxpipe(&[
        "sla",
        ds.to_str().expect("utf-8"),
        "--policy",
        policy.to_str().expect("utf-8"),
        "--level",
        "interval",
        "--out",
        out_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("policy ") && out.stderr.contains("zone UTC"),
        "{}",
        out.stderr
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(&out_file).expect("read")).expect("json");
    assert_eq!(json[0]["met"], false);
    assert_eq!(json[0]["offered"], 3);
    assert_eq!(json[4]["met"], true);
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(&out_file).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
}

/// - sl: A1 handled r1, r2 (missed 09:00) and r5 (met 09:30): 2 of 3
///   contacts in missed intervals, 1 of 2 intervals missed. A2 handled r4
///   (09:30, met).
/// - aband: A1 3 contacts, A2 2 (r4 and r6), all in sales-east's missed hour
///   except r6 (billing); A3 r7 (met).
/// - asa: A1 r1, r2 in missed 09:00, r5 met; A2 r6 (billing, missed), r4
///   (met).
/// - wait (site s1, > 30 s): r2 (A1, 40 s); r3 has no agent; r6's 30 s is
///   not over. acw (> 120 s): r2 (A1), r4 (A2). handle (> 900 s): r6 (A2).
///   hold (> 45 s): r2 (A1).
/// - rank 1 = highest breach rate; ties by breaches, then agent id.
#[test]
fn agent_report_ranks_agents_within_each_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ds, policy) = setup(dir.path());
    let got = sla_csv(&ds, &policy, &[]);
    let want = "\
rule,agent_id,handled,breaches,breach_rate,rank,missed_interval_share
sl,A1,3,2,0.666667,1,0.5
sl,A2,1,0,0,2,0
aband,A1,3,3,1,1,1
aband,A2,2,1,0.5,2,0.5
aband,A3,1,0,0,3,0
asa,A1,3,2,0.666667,1,0.5
asa,A2,2,1,0.5,2,0.5
wait,A1,3,1,0.333333,1,
wait,A2,2,0,0,2,
acw,A2,2,1,0.5,1,
acw,A1,3,1,0.333333,2,
acw,A3,1,0,0,3,
handle,A2,2,1,0.5,1,
handle,A1,3,0,0,2,
handle,A3,1,0,0,3,
hold,A1,3,1,0.333333,1,
hold,A2,2,0,0,2,
hold,A3,1,0,0,3,
";
    assert_eq!(got, want);
}

#[test]
fn interaction_report_drills_down_to_agents_and_the_worst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ds, policy) = setup(dir.path());
    let all = sla_csv(&ds, &policy, &["--level", "interaction"]);
    assert_eq!(
        all,
        "\
rule,interaction_id,agent_id,queue,arrived_at,measured_s,threshold_s,over_by_s
wait,r2,A1,sales-east,2026-10-05T09:10:00+00:00,40,30,10
wait,r3,,sales-east,2026-10-05T09:29:59+00:00,31,30,1
acw,r4,A2,sales-east,2026-10-05T09:30:00+00:00,200,120,80
acw,r2,A1,sales-east,2026-10-05T09:10:00+00:00,150,120,30
handle,r6,A2,billing,2026-10-05T09:05:00+00:00,1000,900,100
hold,r2,A1,sales-east,2026-10-05T09:10:00+00:00,50,45,5
"
    );
    // The interaction ids (second column) of a report.
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--level", "interaction"];
        all.extend_from_slice(args);
        let csv = sla_csv(&ds, &policy, &all);
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(ids(&["--agent", "A1"]), ["r2", "r2", "r2"]);
    assert_eq!(ids(&["--top", "1"]), ["r2", "r4", "r6", "r2"]);
    // Local time in the site zone, and the dates and zone in the caption.
    let berlin = cxpipe(&[
        "sla",
        ds.to_str().expect("utf-8"),
        "--policy",
        policy.to_str().expect("utf-8"),
        "--level",
        "interaction",
        "--top",
        "1",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2026-10-05",
        "--to",
        "2026-10-05",
        "--format",
        "table",
    ]);
    assert_eq!(berlin.code, 0, "{}", berlin.stderr);
    let text = berlin.stdout_text();
    assert!(text.contains("2026-10-05T11:10:00+02:00"), "{text}");
    assert!(
        text.lines().next().is_some_and(|l| l.contains("sla.toml")
            && l.contains("2026-10-05 to 2026-10-05")
            && l.contains("zone Europe/Berlin")),
        "{text}"
    );
}

#[test]
fn rules_from_the_config_file_and_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ds, policy) = setup(dir.path());
    let ds_s = ds.to_str().expect("utf-8");
    // [[sla]] inside cxpipe.toml works like a policy file.
    let config = dir.path().join("cxpipe.toml");
    fs::write(&config, format!("[time]\nzone = \"UTC\"\n{POLICY}")).expect("write config");
    let out = cxpipe(&[
        "sla",
        ds_s,
        "--config",
        config.to_str().expect("utf-8"),
        "--level",
        "interval",
        "--format",
        "csv",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout_text(), INTERVALS);

    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        "[[sla]]\nname = \"x\"\nkind = \"service_level\"\ntarget = 80\n",
    )
    .expect("write");
    let out = cxpipe(&["sla", ds_s, "--policy", bad.to_str().expect("utf-8")]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("bad.toml:1: [[sla]] \"x\": target 80 is out of range"),
        "{}",
        out.stderr
    );

    // Run from the repository root, which has no cxpipe.toml.
    let out = cxpipe(&["sla", ds_s]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no SLA rules"), "{}", out.stderr);

    let p = policy.to_str().expect("utf-8");
    let out = cxpipe(&["sla", ds_s, "--policy", p, "--top", "3"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--level interaction"), "{}", out.stderr);
    let out = cxpipe(&["sla", ds_s, "--policy", p, "--level", "everything"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

/// On a generated month, the planted breach-prone agents (long ACW) are the
/// top of the acw rule, and the planted understaffed intervals are far
/// more frequent at the top of the service-level report than elsewhere.
#[test]
fn planted_breaches_come_out_on_top() {
    let dir = tempfile::tempdir().expect("tempdir");
    let month = crate::shared_month();
    let (ds, facts) = (&month.ds, &month.facts);
    let policy = dir.path().join("sla.toml");
    fs::write(
        &policy,
        "[[sla]]\nname = \"sl\"\nkind = \"service_level\"\ntarget = 0.8\n\n[[sla]]\nname = \"acw\"\nkind = \"acw\"\nthreshold_s = 120\n",
    )
    .expect("policy");

    let prone: Vec<String> = facts["breach_prone_agents"]
        .as_array()
        .expect("breach_prone_agents")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    assert!(!prone.is_empty());
    let agents = sla_csv(ds, &policy, &[]);
    let mut top: Vec<String> = agents
        .lines()
        .filter(|l| l.starts_with("acw,"))
        .take(prone.len())
        .map(|l| l.split(',').nth(1).unwrap_or("").to_string())
        .collect();
    top.sort();
    let mut want = prone.clone();
    want.sort();
    assert_eq!(top, want, "acw ranking:\n{agents}");

    let planted: Vec<(String, String)> = facts["understaffed_intervals"]
        .as_array()
        .expect("understaffed_intervals")
        .iter()
        .map(|u| {
            let start = u["start"].as_str().expect("start").replace('Z', "+00:00");
            (u["queue"].as_str().expect("queue").to_string(), start)
        })
        .collect();
    let report = sla_csv(ds, &policy, &["--level", "interval"]);
    let rows: Vec<Vec<&str>> = report
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let key = |r: &[&str]| (r[2].to_string(), r[3].to_string());
    for p in &planted {
        let row = rows
            .iter()
            .find(|r| key(r) == *p)
            .unwrap_or_else(|| panic!("{p:?} not judged"));
        assert_eq!(row[7], "false", "planted {p:?} was met: {row:?}");
    }
    // The first row is planted; at the top, planted intervals are more than
    // 20 times as frequent as among all the judged ones.
    assert!(planted.contains(&key(&rows[0])), "first row {:?}", rows[0]);
    let n = planted.len();
    let at_top = rows
        .iter()
        .take(n)
        .filter(|r| planted.contains(&key(r)))
        .count();
    let base = n as f64 / rows.len() as f64;
    assert!(
        at_top as f64 / n as f64 > 20.0 * base,
        "{at_top} of the top {n} are planted; base rate {base:.4}"
    );
}
