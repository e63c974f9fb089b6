//! `cxpipe turnover` end to end: departures and risk on a generated month
//! against its planted facts, the generated roster and `--evaluate`, and
//! the awkward cases (one contact, one day, `--as-of` before the data).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::{cxpipe, ingest, sample, shared_month};

fn turnover_csv(ds: &Path, args: &[&str]) -> Vec<Vec<String>> {
    let mut all = vec!["turnover", ds.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv"]);
    let out = cxpipe(&all);
    assert_eq!(out.code, 0, "turnover {args:?}: {}", out.stderr);
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let mut rows = vec![header];
    rows.extend(
        r.records()
            .map(|rec| rec.expect("record").iter().map(String::from).collect()),
    );
    rows
}

fn ids(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| {
            x.as_str()
                .or(x["agent_id"].as_str())
                .expect("id")
                .to_string()
        })
        .collect()
}

#[test]
fn inferred_departures_and_risk_match_the_planted_facts() {
    let m = shared_month();
    let rows = turnover_csv(&m.ds, &[]);
    let header = &rows[0];
    assert_eq!(
        header.join(","),
        "agent_id,team,first_seen,last_seen,tenure_days,active_days_28,active_days_prev_28,handled_trend,aht_trend,csat_trend,days_since_last_seen,status,risk_score,reasons"
    );
    let status = |r: &Vec<String>| r[11].clone();
    let planted = ids(&m.facts["departed"]);
    let inferred: BTreeSet<String> = rows[1..]
        .iter()
        .filter(|r| status(r) == "departed")
        .map(|r| r[0].clone())
        .collect();
    let hits = planted.intersection(&inferred).count() as f64;
    let precision = hits / inferred.len() as f64;
    let recall = hits / planted.len() as f64;
    assert!(
        planted.len() >= 10,
        "only {} planted departures",
        planted.len()
    );
    assert!(
        precision >= 0.9 && recall >= 0.9,
        "precision {precision}, recall {recall}"
    );
    // A departure is dated by the last day seen, as the facts record it.
    for d in m.facts["departed"].as_array().expect("departed") {
        let id = d["agent_id"].as_str().expect("id");
        let row = rows.iter().find(|r| r[0] == id).expect("listed");
        assert_eq!(
            Some(row[3].as_str()),
            d["last_seen"].as_str().map(|s| &s[..10]),
            "{id}"
        );
    }

    // The planted rising-AHT and falling-CSAT agents who are still there
    // lead the risk list (everyone not departed, highest score first).
    let mut at_risk = ids(&m.facts["rising_aht_agents"]);
    at_risk.extend(ids(&m.facts["falling_csat_agents"]));
    let at_risk: BTreeSet<String> = at_risk.difference(&planted).cloned().collect();
    let live: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| status(r) != "departed")
        .collect();
    let n = at_risk.len();
    let in_top = |k: usize| {
        live.iter()
            .take(k)
            .filter(|r| at_risk.contains(&r[0]))
            .count()
    };
    assert!(n >= 8, "only {n} planted at-risk agents");
    assert!(
        3 * in_top(n) >= 2 * n && 5 * in_top(2 * n) >= 4 * n,
        "{} of {n} planted at-risk agents in the top {n}, {} in the top {}",
        in_top(n),
        in_top(2 * n),
        2 * n
    );
    // Scores are in 0..1 and explain themselves.
    for r in &live {
        let score: f64 = r[12].parse().expect("score");
        assert!((0.0..=1.0).contains(&score), "{r:?}");
    }
    assert!(
        live[0][13].contains('%') || live[0][13].contains("tenure"),
        "{:?}",
        live[0]
    );
}

#[test]
fn the_generated_roster_matches_and_evaluate_says_so() {
    let m = shared_month();
    let roster = m.roster.to_str().expect("utf-8");
    let eval = turnover_csv(&m.ds, &["--roster", roster, "--evaluate"]);
    assert_eq!(
        eval[0].join(","),
        "as_of,inferred_departures,roster_departures,matched,precision,recall,mean_date_error_days,false_departures,missed_departures"
    );
    let row = &eval[1];
    let planted = ids(&m.facts["departed"]).len().to_string();
    assert_eq!(row[2], planted, "{row:?}");
    let (precision, recall): (f64, f64) = (row[4].parse().expect("p"), row[5].parse().expect("r"));
    assert!(precision >= 0.9 && recall >= 0.9, "{row:?}");
    // The roster's dates win: tenure counts from the hire date.
    let with = turnover_csv(&m.ds, &["--roster", roster]);
    let text = fs::read_to_string(&m.roster).expect("roster");
    let hired: Vec<(&str, &str)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((f.first().copied()?, f.get(1).copied()?))
        })
        .collect();
    let (id, _) = hired[0];
    let row = with.iter().find(|r| r[0] == id).expect("agent listed");
    assert!(row[4].parse::<i64>().expect("tenure") >= 30, "{row:?}");
    // Attrition by team: every month row has headcounts and a rate.
    let attr = turnover_csv(&m.ds, &["--roster", roster, "--attrition", "--by", "team"]);
    assert_eq!(
        attr[0].join(","),
        "team,month,headcount_start,headcount_end,leavers,attrition_rate,annualized_attrition,new_hire_90d_attrition"
    );
    let leavers: i64 = attr[1..]
        .iter()
        .map(|r| r[4].parse::<i64>().expect("leavers"))
        .sum();
    assert_eq!(leavers.to_string(), planted);
}

#[test]
fn one_contact_one_day_and_as_of_before_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The generic samples: A0003 and A0005 handled one contact each; the
    // data covers 2026-10-01 to 2026-10-03.
    let ds = dir.path().join("ds");
    let (out, _) = ingest(&ds, &[&sample("generic")], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = turnover_csv(&ds, &[]);
    let a5 = rows.iter().find(|r| r[0] == "A0005").expect("A0005");
    assert_eq!(
        (
            a5[2].as_str(),
            a5[3].as_str(),
            a5[4].as_str(),
            a5[5].as_str()
        ),
        ("2026-10-01", "2026-10-01", "2", "1")
    );
    assert_eq!(a5[11], "new", "{a5:?}");
    // No 14 days before as-of: trends are empty, not 0 or NaN.
    assert_eq!((a5[7].as_str(), a5[8].as_str()), ("", ""), "{a5:?}");

    // One day of data.
    let one = dir.path().join("one.csv");
    let calls = fs::read_to_string(sample("generic/calls-2026-10-01.csv")).expect("sample");
    let day1: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("interaction_id") || l.contains(",2026-10-01T"))
        .collect();
    fs::write(&one, day1.join("\n") + "\n").expect("write");
    let ds1 = dir.path().join("ds1");
    let (out, _) = ingest(&ds1, &[&one], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = turnover_csv(&ds1, &["--attrition"]);
    assert_eq!(rows[0][0], "month");
    assert_eq!(rows.len(), 2, "{rows:?}");

    // --as-of before the data: exit 2 with the data's range.
    let out = cxpipe(&[
        "turnover",
        ds.to_str().expect("utf-8"),
        "--as-of",
        "2026-09-01",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("before the first day of data (2026-10-01)"),
        "{}",
        out.stderr
    );
    // A bad roster names the file and line.
    let roster = dir.path().join("roster.csv");
    fs::write(
        &roster,
        "agent_id,hire_date,termination_date,team\nA0001,2026-13-01,,t\n",
    )
    .expect("write");
    let out = cxpipe(&[
        "turnover",
        ds.to_str().expect("utf-8"),
        "--roster",
        roster.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("roster.csv:2: hire_date \"2026-13-01\""),
        "{}",
        out.stderr
    );
    let out = cxpipe(&["turnover", ds.to_str().expect("utf-8"), "--evaluate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn weights_and_gap_come_from_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = dir.path().join("ds");
    let (out, _) = ingest(&ds, &[&sample("generic")], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let d = ds.to_str().expect("utf-8");
    // Only tenure counts: every score is (90 - tenure) / 90.
    let config = dir.path().join("cxpipe.toml");
    fs::write(
        &config,
        "[turnover]\ngap_days = 1\n[turnover.weights]\nactivity = 0\naht = 0\ncsat = 0\ntransfer = 0\ntenure = 2\n",
    )
    .expect("write");
    let c = config.to_str().expect("utf-8");
    let rows = turnover_csv(&ds, &["--config", c]);
    for r in &rows[1..] {
        let tenure: f64 = r[4].parse().expect("tenure");
        let score: f64 = r[12].parse().expect("score");
        assert!((score - (90.0 - tenure) / 90.0).abs() < 1e-6, "{r:?}");
    }
    let out = cxpipe(&["turnover", d, "--config", c, "--format", "table"]);
    assert!(
        out.stdout_text()
            .lines()
            .next()
            .is_some_and(|l| l.contains("gap 1 days") && l.contains("tenure 2")),
        "{}",
        out.stdout_text()
    );
    fs::write(&config, "[turnover.weights]\nloyalty = 1\n").expect("write");
    let out = cxpipe(&["turnover", d, "--config", c]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("loyalty"), "{}", out.stderr);
    fs::write(&config, "[turnover.weights]\naht = -1\n").expect("write");
    let out = cxpipe(&["turnover", d, "--config", c]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains(">= 0"), "{}", out.stderr);
}
