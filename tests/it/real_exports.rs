//! Real third-party exports (`../shared/real-exports/`, never copied into
//! the repository) through the built-in sources and the example mappings
//! of `mappings/examples/`. Every expected number is computed here from the
//! raw file, by the rules each example's note writes down — never taken
//! from cxpipe's output. A missing file fails the test: nothing skips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{by_id, cxpipe, ingest, read_dataset};

/// `../shared/real-exports/<rel>`, which must exist.
fn real(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-exports")
        .join(rel);
    assert!(
        p.is_file(),
        "{} is missing: the real exports live in ../shared/real-exports beside the repository",
        p.display()
    );
    p
}

/// `mappings/examples/<name>.toml`.
fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mappings/examples")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

/// The per-file counts of a one-file ingest: read, written, quarantined,
/// duplicates, filtered.
fn counts(report: &Value) -> [u64; 5] {
    let f = &report["files"][0];
    [
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "duplicates_dropped",
        "rows_filtered",
    ]
    .map(|k| f[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}")))
}

/// `cxpipe kpi DS ARGS --format json`, keyed by the first key column.
fn kpi_rows(ds: &Path, args: &[&str]) -> BTreeMap<String, Value> {
    let mut all = vec!["kpi", ds.to_str().expect("utf-8"), "--format", "json"];
    all.extend_from_slice(args);
    let out = cxpipe(&all);
    assert_eq!(out.code, 0, "kpi {args:?}: {}", out.stderr);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("kpi json");
    let key = args[1].split(',').next().unwrap_or_default();
    let key = if key == "agent" { "agent_id" } else { key };
    rows.into_iter()
        .map(|r| (r[key].as_str().unwrap_or("").to_string(), r))
        .collect()
}

/// What the naive side expects of one group.
#[derive(Debug, Default)]
struct Want {
    offered: i64,
    answered: i64,
    abandoned: i64,
    wait_unknown: i64,
    within_20s: i64,
    wait_sum_s: i64,
    handled: i64,
    talk_sum_s: i64,
}

/// `got` (as kpi prints it: seconds to 3 decimals, ratios to 6) against
/// `want`.
fn assert_close(what: &str, got: &Value, want: Option<f64>) {
    let tolerance = if what.ends_with("_s") { 5.1e-4 } else { 5.1e-7 };
    match (got.as_f64(), want) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!((g - w).abs() <= tolerance, "{what}: kpi {g}, by hand {w}"),
        (g, w) => panic!("{what}: kpi {g:?}, by hand {w:?}"),
    }
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Checks the queue side of `kpi --by queue` (each queue's naive sums and
/// its short abandons) and the agent side of `kpi --by agent` against the
/// naive groups, with SPEC §8's defaults (excl_short, T = 20 s). Neither
/// file has an answered call of unknown wait, so SL = within 20 s ÷
/// (offered − short).
fn check_kpis(ds: &Path, queues: &BTreeMap<String, (Want, i64)>, agents: &BTreeMap<String, Want>) {
    let got = kpi_rows(ds, &["--by", "queue"]);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        queues.keys().collect::<Vec<_>>()
    );
    for (q, (w, short)) in queues {
        let g = &got[q];
        let ints = |k: &str| g[k].as_i64().unwrap_or(-1);
        assert_eq!(
            [
                ints("offered"),
                ints("answered"),
                ints("abandoned"),
                ints("short_abandoned"),
                ints("wait_unknown")
            ],
            [w.offered, w.answered, w.abandoned, *short, w.wait_unknown],
            "queue {q}: offered, answered, abandoned, short, wait_unknown"
        );
        assert_close(
            &format!("{q} asa_s"),
            &g["asa_s"],
            ratio(w.wait_sum_s, w.answered),
        );
        assert_close(
            &format!("{q} service_level"),
            &g["service_level"],
            ratio(w.within_20s, w.offered - short),
        );
        assert_close(
            &format!("{q} abandon_rate"),
            &g["abandon_rate"],
            ratio(w.abandoned - short, w.offered - short),
        );
    }
    let got = kpi_rows(ds, &["--by", "agent"]);
    let named: Vec<&String> = got.keys().filter(|k| !k.is_empty()).collect();
    assert_eq!(named, agents.keys().collect::<Vec<_>>());
    for (a, w) in agents {
        let g = &got[a];
        assert_eq!(g["handled"].as_i64(), Some(w.handled), "agent {a} handled");
        assert_close(
            &format!("{a} aht_s"),
            &g["aht_s"],
            ratio(w.talk_sum_s, w.handled),
        );
    }
}

/// Seconds of `H:MM:SS`.
fn secs(t: &str) -> i64 {
    let p: Vec<i64> = t
        .split(':')
        .map(|x| x.parse().expect("a time of day"))
        .collect();
    p[0] * 3600 + p[1] * 60 + p[2]
}

fn records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(|v| v.trim().to_string()))
                .collect()
        })
        .collect()
}

/// PwC Call Center Trends through `mappings/examples/pwc-call-center-trends.toml`:
/// every row a contact; unanswered calls are abandoned with an unknown wait
/// (no speed of answer, no end), so never short; an agent only on answered
/// calls; wait = speed of answer, talk = `avgtalkduration`.
#[test]
fn pwc_call_center_trends_through_its_example_mapping() {
    let file = real("pwc-call-center-trends/call-center-trends.csv");
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let m = example("pwc-call-center-trends");
    let (out, report) = ingest(&ds, &[&file], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = records(&file);
    assert_eq!(rows.len(), 5000);
    assert_eq!(counts(&report), [5000, 5000, 0, 0, 0], "{report}");

    let mut queues: BTreeMap<String, (Want, i64)> = BTreeMap::new();
    let mut agents: BTreeMap<String, Want> = BTreeMap::new();
    for r in &rows {
        let q = &mut queues.entry(r["topic"].clone()).or_default().0;
        q.offered += 1;
        if r["answered (Y/N)"] == "Y" {
            let wait: i64 = r["speed of answer in seconds"].parse().expect("speed");
            let talk: i64 = r["avgtalkduration"].parse().expect("talk");
            q.answered += 1;
            q.wait_sum_s += wait;
            q.within_20s += i64::from(wait <= 20);
            let a = agents.entry(r["agent"].clone()).or_default();
            a.handled += 1;
            a.talk_sum_s += talk;
        } else {
            assert_eq!(
                r["speed of answer in seconds"], "",
                "no wait when unanswered"
            );
            q.abandoned += 1;
            q.wait_unknown += 1;
        }
    }
    let total_abandoned: i64 = queues.values().map(|(w, _)| w.abandoned).sum();
    assert_eq!(total_abandoned, 946, "the file's unanswered calls");
    check_kpis(&ds, &queues, &agents);

    // The first row as stored: ID0001, 01-01-2021 09:12:58, answered
    // after 109 s, talked 143 s; an unanswered row keeps no agent, end or wait.
    let stored = read_dataset(&ds);
    let by = by_id(&stored);
    let r = &by["ID0001"];
    assert_eq!(r.arrived_at, crate::ts_us("2021-01-01T09:12:58Z"));
    assert_eq!(r.answered_at, Some(crate::ts_us("2021-01-01T09:14:47Z")));
    assert_eq!(r.ended_at, Some(crate::ts_us("2021-01-01T09:17:10Z")));
    assert_eq!(
        (r.agent_id.as_deref(), r.csat, r.disposition.as_deref()),
        (Some("Diane"), Some(3), Some("resolved"))
    );
    let r = &by["ID0006"];
    assert_eq!(
        (r.agent_id.as_deref(), r.ended_at, r.wait_ms, r.abandoned),
        (None, None, None, true),
        "unanswered, routed to Stewart"
    );
    // The date column's second form (M/DD/YYYY) is read too.
    let slash = rows
        .iter()
        .find(|r| r["date"].contains('/'))
        .expect("a M/DD/YYYY row");
    let (m, rest) = slash["date"].split_once('/').expect("m/");
    let (d, y) = rest.split_once('/').expect("d/y");
    let iso = format!("{y}-{m:0>2}-{d:0>2}T{:0>8}Z", slash["time"]);
    assert_eq!(by[&slash["call id"]].arrived_at, crate::ts_us(&iso));
}

/// The Technion "Anonymous Bank" day through
/// `mappings/examples/technion-anonymous-bank.toml`, by the rules of its
/// note: PHANTOM calls and VRU-only hang-ups skipped; arrival = queue
/// entry, else the service start; answered = outcome AGENT with a service
/// start; abandoned = HANG; a service start up to 1 s before the arrival
/// is clock skew (wait 0); times are Israel time (+03:00 that day).
#[test]
fn technion_bank_day_through_its_example_mapping() {
    let file = real("technion-anonymous-bank/calls-one-day.csv");
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let m = example("technion-anonymous-bank");
    let (out, report) = ingest(&ds, &[&file], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = records(&file);
    let zero = "0:00:00";
    let mut queues: BTreeMap<String, (Want, i64)> = BTreeMap::new();
    let mut agents: BTreeMap<String, Want> = BTreeMap::new();
    let (mut filtered, mut skew) = (0u64, 0u64);
    for r in &rows {
        let outcome = r["outcome"].as_str();
        if outcome == "PHANTOM" || (outcome == "HANG" && r["q_start"] == zero) {
            filtered += 1;
            continue;
        }
        let served = outcome == "AGENT" && r["ser_start"] != zero;
        let arrival = if r["q_start"] != zero {
            secs(&r["q_start"])
        } else {
            secs(&r["ser_start"])
        };
        let (q, short) = queues.entry(r["type"].clone()).or_default();
        q.offered += 1;
        if served {
            let mut wait = secs(&r["ser_start"]) - arrival;
            if (-1..0).contains(&wait) {
                wait = 0;
                skew += 1;
            }
            assert!(wait >= 0, "{r:?}");
            q.answered += 1;
            q.wait_sum_s += wait;
            q.within_20s += i64::from(wait <= 20);
            if r["server"] != "NO_SERVER" {
                let a = agents.entry(r["server"].clone()).or_default();
                a.handled += 1;
                a.talk_sum_s += r["ser_time"].parse::<i64>().expect("ser_time");
            }
        } else if outcome == "HANG" {
            q.abandoned += 1;
            let wait = secs(&r["q_exit"]) - arrival;
            *short += i64::from(wait < 5);
        }
    }
    let written = rows.len() as u64 - filtered;
    assert_eq!((rows.len(), filtered, skew), (2375, 136, 2), "by hand");
    assert_eq!(counts(&report), [2375, written, 0, 0, filtered], "{report}");
    assert_eq!(report["files"][0]["clock_skew_fixed"], skew, "{report}");
    check_kpis(&ds, &queues, &agents);

    // Ids join vru+line and call_id: a call number that repeats on two
    // lines stays two calls.
    let stored = read_dataset(&ds);
    let by = by_id(&stored);
    let mut lines_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["outcome"] != "PHANTOM" && r["q_start"] != zero)
    {
        lines_of
            .entry(&r["call_id"])
            .or_default()
            .push(&r["vru+line"]);
    }
    let (call, lines) = lines_of
        .iter()
        .find(|(_, l)| l.len() > 1)
        .expect("a repeated call_id");
    for line in lines {
        assert!(by.contains_key(&format!("{line}-{call}")), "{line}-{call}");
    }
    let r = &by["AA0213-24281"];
    assert_eq!(
        (
            r.arrived_at,
            r.answered_at,
            r.ended_at,
            r.agent_id.as_deref()
        ),
        (
            crate::ts_us("2010-08-01T10:00:51+03:00"),
            Some(crate::ts_us("2010-08-01T10:01:32+03:00")),
            Some(crate::ts_us("2010-08-01T10:03:08+03:00")),
            Some("VICKY")
        )
    );
}

/// The Amazon Connect re-delivery set, as it came: six records of one
/// contact (three versions, each delivered twice) keep exactly one row, the
/// newest version (of its two deliveries, the later).
#[test]
fn connect_redeliveries_keep_exactly_the_newest_version() {
    let file = real("amazon-connect/ctr-redeliveries.json");
    let json: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("a JSON array");
    let newest = json
        .iter()
        .filter_map(|r| r["LastUpdateTimestamp"].as_str())
        .max()
        .expect("versions");
    let last_newest = json
        .iter()
        .rposition(|r| r["LastUpdateTimestamp"].as_str() == Some(newest))
        .expect("newest")
        + 1;
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&file], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(counts(&report), [6, 1, 0, 5, 0], "{report}");
    let stored = read_dataset(&ds);
    assert_eq!(stored.len(), 1);
    let r = &stored[0];
    let kept = &json[last_newest - 1];
    assert_eq!(
        r.source_line, last_newest as i64,
        "the later delivery of {newest}"
    );
    assert_eq!(r.interaction_id, kept["ContactId"].as_str().expect("id"));
    assert_eq!(r.agent_id.as_deref(), kept["Agent"]["Username"].as_str());
    assert_eq!(
        r.talk_ms,
        kept["Agent"]["AgentInteractionDuration"]
            .as_i64()
            .expect("talk")
            * 1000
    );
    assert!(r.transferred, "TransferCompletedTimestamp present");
    // The five others are listed, each naming the delivery kept.
    let listing = std::fs::read_to_string(
        ds.join(report["duplicates_file"].as_str().expect("duplicates_file")),
    )
    .expect("duplicates.csv");
    let want: Vec<String> = (1..=json.len())
        .filter(|&line| line != last_newest)
        .map(|line| {
            format!(
                "{},ctr-redeliveries.json,{line},ctr-redeliveries.json,{last_newest},false",
                kept["ContactId"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(listing.lines().skip(1).collect::<Vec<_>>(), want);
}

/// A stored row's fields that do not depend on which file it came from.
fn row_key(r: &crate::Rec) -> String {
    format!(
        "{} {:?} {} {} {:?} {:?} {:?} {} {:?} {:?} {} {} {} {} {:?}",
        r.interaction_id,
        r.chain_id,
        r.channel,
        r.direction,
        r.queue,
        r.agent_id,
        // Each dataset has its own pseudonym key: whether there is one.
        r.customer_key.is_some(),
        r.arrived_at,
        r.answered_at,
        r.ended_at,
        r.talk_ms,
        r.hold_ms,
        r.acw_ms,
        r.abandoned,
        r.disposition
    )
}

fn ms(t: &str) -> i64 {
    crate::ts_us(t) / 1000
}

/// Genesys Cloud conversation details in all three framings (the API
/// response document, the bare array, NDJSON) through the built-in
/// `genesys` source, detected: 25 conversations, one leg each (21 queued,
/// 4 chats routed straight to an agent), the same rows from every framing.
/// Per queue, offered/answered and ASA come from a naive pass over the JSON
/// here (an ACD session is offered; it is answered by the first agent
/// session whose interact starts at or after it); two legs are checked
/// field by field against times read off the file by hand.
#[test]
fn genesys_conversations_in_three_framings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut stored = Vec::new();
    for (i, (file, format)) in [
        (
            "genesys-cloud/conversation_details_response.json",
            "json-document",
        ),
        ("genesys-cloud/conversations_array.json", "json-array"),
        ("genesys-cloud/conversations.ndjson", "ndjson"),
    ]
    .into_iter()
    .enumerate()
    {
        let ds = tmp.path().join(format!("ds{i}"));
        let (out, report) = ingest(&ds, &[&real(file)], &[]);
        assert_eq!(out.code, 0, "{file}: {}", out.stderr);
        assert_eq!(counts(&report), [25, 25, 0, 0, 0], "{file}: {report}");
        let f = &report["files"][0];
        assert_eq!(
            (
                f["source"].as_str(),
                f["format"].as_str(),
                f["legs_written"].as_u64()
            ),
            (Some("genesys"), Some(format), Some(25)),
            "{report}"
        );
        let mut rows: Vec<String> = read_dataset(&ds).iter().map(row_key).collect();
        rows.sort();
        stored.push((ds, rows));
    }
    assert_eq!(stored[0].1, stored[1].1, "document and array");
    assert_eq!(stored[0].1, stored[2].1, "document and NDJSON");
    let ds = &stored[2].0;

    // The naive pass over the response document.
    let doc: Value = serde_json::from_slice(
        &std::fs::read(real("genesys-cloud/conversation_details_response.json")).expect("read"),
    )
    .expect("json");
    let mut queues: BTreeMap<String, (Want, i64)> = BTreeMap::new();
    let mut waits_ms: BTreeMap<String, i64> = BTreeMap::new();
    for c in doc["conversations"].as_array().expect("conversations") {
        let parts = c["participants"].as_array().expect("participants");
        let sessions = |purpose: &str| -> Vec<(&Value, &Value)> {
            parts
                .iter()
                .filter(|p| p["purpose"] == purpose)
                .flat_map(|p| {
                    p["sessions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(move |s| (p, s))
                })
                .collect()
        };
        let interact_start = |s: &Value| {
            s["segments"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|g| g["segmentType"] == "interact")
                .and_then(|g| g["segmentStart"].as_str())
                .map(ms)
        };
        let agents = sessions("agent");
        let acd = sessions("acd");
        let legs: Vec<(String, i64)> = if acd.is_empty() {
            vec![(
                String::new(),
                ms(c["conversationStart"].as_str().expect("start")),
            )]
        } else {
            acd.iter()
                .map(|(p, s)| {
                    let q = p["participantName"]
                        .as_str()
                        .or(s["segments"][0]["queueId"].as_str())
                        .unwrap_or_default();
                    (
                        q.to_string(),
                        ms(s["segments"][0]["segmentStart"].as_str().expect("start")),
                    )
                })
                .collect()
        };
        for (q, start) in legs {
            let w = &mut queues.entry(q.clone()).or_default().0;
            w.offered += 1;
            if let Some(t) = agents
                .iter()
                .filter_map(|(_, s)| interact_start(s))
                .find(|t| *t >= start)
            {
                w.answered += 1;
                *waits_ms.entry(q).or_default() += t - start;
            } else {
                w.abandoned += 1;
            }
        }
    }
    let got = kpi_rows(ds, &["--by", "queue"]);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        queues.keys().collect::<Vec<_>>()
    );
    for (q, (w, _)) in &queues {
        let g = &got[q];
        assert_eq!(
            (
                g["offered"].as_i64(),
                g["answered"].as_i64(),
                g["abandoned"].as_i64()
            ),
            (Some(w.offered), Some(w.answered), Some(w.abandoned)),
            "queue {q:?}"
        );
        assert_close(
            &format!("{q} asa_s"),
            &g["asa_s"],
            ratio(waits_ms[q], w.answered).map(|v| v / 1000.0),
        );
    }
    assert_eq!(
        queues[""].0.offered, 4,
        "the chats, routed straight to an agent"
    );
    assert_eq!(
        queues[""].0.abandoned, 0,
        "an answered chat is not an abandon"
    );

    // 585f63eb, by hand: queued 07:06:19.524 (JATest Queue); the first agent
    // session only rang; the second interacted 07:06:33.227–07:06:49.299
    // and wrapped up 07:06:49.016–07:06:54.016 with code 1ccb1c09….
    let rows = read_dataset(ds);
    let by = by_id(&rows);
    let r = &by["585f63eb-e0be-47b6-a1d0-c65ba586bef2:4458ac71-6556-4bf8-a184-16c387e13ddb"];
    assert_eq!(
        (
            r.queue.as_deref(),
            r.agent_id.as_deref(),
            r.chain_id.as_deref()
        ),
        (
            Some("JATest Queue"),
            Some("8c88c7f8-b6ba-4761-b2e5-4ae4425a3991"),
            Some("585f63eb-e0be-47b6-a1d0-c65ba586bef2")
        )
    );
    assert_eq!(
        (r.arrived_at, r.answered_at, r.ended_at),
        (
            crate::ts_us("2016-09-06T07:06:19.524Z"),
            Some(crate::ts_us("2016-09-06T07:06:33.227Z")),
            Some(crate::ts_us("2016-09-06T07:06:49.299Z"))
        )
    );
    assert_eq!(
        (
            r.wait_ms,
            r.talk_ms,
            r.hold_ms,
            r.acw_ms,
            r.abandoned,
            r.transferred
        ),
        (Some(13_703), 16_072, 0, 5_000, false, false)
    );
    assert!(
        r.disposition
            .as_deref()
            .is_some_and(|d| d.starts_with("1ccb1c09")),
        "{r:?}"
    );
    // A chat routed straight to an agent: no queue, arrived at the
    // conversation's start, answered.
    let chat = rows
        .iter()
        .find(|r| r.interaction_id.starts_with("e578dec2"))
        .expect("chat e578dec2");
    assert_eq!(
        (chat.channel.as_str(), chat.queue.as_deref(), chat.abandoned),
        ("chat", None, false)
    );
    assert_eq!(chat.arrived_at, crate::ts_us("2016-09-06T10:38:12.756Z"));
}
