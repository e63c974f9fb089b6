//! The vendor sources of SPEC §4 (`amazon-connect`, `five9`, `talkdesk`),
//! `auto` detection, user mapping files and `cxpipe mapping`, on the samples
//! of `data-samples/` (each expectation is the one data-samples/README.md
//! writes down).

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Case, Expect, FileExp, Rec, by_id, check, cxpipe, failed, ingest, ingested, sample};

const MR: &str = "malformed_row";

/// µs since the epoch of an RFC 3339 time.
fn utc(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .as_microsecond()
}

/// The stored row whose id starts with `prefix`.
fn row<'a>(rows: &'a [Rec], prefix: &str) -> &'a Rec {
    let found: Vec<&Rec> = rows
        .iter()
        .filter(|r| r.interaction_id.starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "one row {prefix}*: {found:#?}");
    found[0]
}

fn sources_of(report: &serde_json::Value) -> Vec<String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["source"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn connect_ndjson_keeps_the_greatest_last_update_in_a_file() {
    let c = check(
        &Case::paths(&[sample("amazon-connect/ctr-2026-10-01.ndjson")]),
        // Line 11 is an older record of line 10's ContactId: it loses
        // though it comes later.
        &Expect::new(0, vec![ingested("ctr-2026-10-01.ndjson", 11, 1, &[])]),
    );
    assert_eq!(sources_of(&c.report), ["amazon-connect"]);
    assert!(
        c.out.stderr.contains("source amazon-connect (detected)"),
        "{}",
        c.out.stderr
    );
    let rows = &c.rows;
    let r = row(rows, "ac-0010");
    assert_eq!((r.csat, r.source_line), (Some(2), 10), "the newer version");
    let r = row(rows, "ac-0001");
    assert_eq!(
        r.arrived_at,
        utc("2026-10-01T08:15:20Z"),
        "EnqueueTimestamp"
    );
    assert_eq!(r.answered_at, Some(utc("2026-10-01T08:15:38Z")));
    assert_eq!(r.ended_at, Some(utc("2026-10-01T08:20:20Z")));
    assert_eq!(
        (r.wait_ms, r.talk_ms, r.hold_ms, r.acw_ms, r.handle_ms),
        (Some(18_000), 262_000, 20_000, 45_000, 327_000)
    );
    assert_eq!(
        (r.agent_id.as_deref(), r.team.as_deref(), r.site.as_deref()),
        (Some("maria.santos"), Some("team-01"), Some("manila"))
    );
    assert_eq!(
        (r.queue.as_deref(), r.disposition.as_deref(), r.csat),
        (Some("billing"), Some("resolved"), Some(5))
    );
    assert_eq!(r.chain_id, None);
    assert!(r.customer_key.is_some());
    let r = row(rows, "ac-0002");
    assert!(r.abandoned && r.agent_id.is_none() && r.answered_at.is_none());
    let r = row(rows, "ac-0003");
    assert!(r.transferred && !r.abandoned);
    let r = row(rows, "ac-0004");
    assert_eq!(r.chain_id.as_deref().map(|c| &c[..7]), Some("ac-0003"));
    assert_eq!(r.direction, "inbound", "TRANSFER");
    let r = row(rows, "ac-0005");
    assert_eq!(
        (r.direction.as_str(), r.arrived_at, r.abandoned),
        ("outbound", utc("2026-10-01T10:00:00Z"), false),
        "outbound: InitiationTimestamp, never abandoned"
    );
    assert_eq!(row(rows, "ac-0006").channel, "chat");
    assert_eq!(row(rows, "ac-0007").channel, "sms");
    let r = row(rows, "ac-0008");
    assert_eq!(
        (r.channel.as_str(), r.direction.as_str()),
        ("task", "inbound")
    );
    let r = row(rows, "ac-0009");
    assert_eq!(
        (r.team.as_deref(), r.csat),
        (None, None),
        "absent optional fields"
    );
}

#[test]
fn connect_json_array_is_numbered_by_element() {
    let c = check(
        &Case::paths(&[sample("amazon-connect/ctr-2026-10-01-array.json")]),
        &Expect::new(0, vec![ingested("ctr-2026-10-01-array.json", 5, 0, &[])]),
    );
    let lines: Vec<(String, i64)> = by_id(&c.rows)
        .values()
        .map(|r| (r.interaction_id[..7].to_string(), r.source_line))
        .collect();
    assert_eq!(
        lines,
        [
            ("aa-0001".to_string(), 1),
            ("aa-0002".to_string(), 2),
            ("aa-0003".to_string(), 3),
            ("aa-0004".to_string(), 4),
            ("aa-0005".to_string(), 5)
        ]
    );
    let r = row(&c.rows, "aa-0001");
    assert_eq!(
        r.chain_id.as_ref(),
        Some(&r.interaction_id),
        "its own id, as given"
    );
    assert_eq!(row(&c.rows, "aa-0002").channel, "social");
    assert!(row(&c.rows, "aa-0003").abandoned);
    assert_eq!(row(&c.rows, "aa-0005").direction, "outbound");
}

#[test]
fn connect_versions_win_across_files_and_across_runs() {
    let a = sample("amazon-connect/ctr-2026-10-01.ndjson");
    let j = sample("amazon-connect/ctr-2026-10-01-array.json");
    let u = sample("amazon-connect/ctr-2026-10-02-update.ndjson");
    // One run: U:1 is newer than A:4, U:2 older than A:1.
    let one = check(
        &Case::paths(&[&a, &j, &u]),
        &Expect::new(
            0,
            vec![
                ingested("ctr-2026-10-01.ndjson", 11, 2, &[]),
                ingested("ctr-2026-10-01-array.json", 5, 0, &[]),
                ingested("ctr-2026-10-02-update.ndjson", 4, 1, &[]),
            ],
        ),
    );
    assert_eq!(one.rows.len(), 17);
    let check_winners = |rows: &[Rec]| {
        let r = row(rows, "ac-0004");
        assert_eq!(
            (r.csat, r.source_file.as_str()),
            (Some(3), "ctr-2026-10-02-update.ndjson")
        );
        let r = row(rows, "ac-0001");
        assert_eq!(r.source_file, "ctr-2026-10-01.ndjson");
    };
    check_winners(&one.rows);

    // Two runs, in both orders: the same rows win.
    for (first, second, dups, replaced) in [(&a, &u, 1, 1), (&u, &a, 2, 1)] {
        let tmp = tempfile::tempdir().expect("tmp");
        let ds = tmp.path().join("ds");
        let (out, _) = ingest(&ds, &[first.as_path()], &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let name = second.file_name().and_then(|n| n.to_str()).expect("name");
        let read = if name.contains("update") { 4 } else { 11 };
        let mut exp = Expect::new(
            0,
            vec![ingested(
                if name.contains("update") {
                    "ctr-2026-10-02-update.ndjson"
                } else {
                    "ctr-2026-10-01.ndjson"
                },
                read,
                dups,
                &[],
            )],
        );
        exp.replaced = replaced;
        let c = check(&Case::paths(&[second]).into_dataset(&ds), &exp);
        check_winners(&c.rows);
        assert!(
            fs::read_dir(ds.join("versions"))
                .expect("versions folder")
                .count()
                >= 2,
            "each run records its rows' versions"
        );
    }
}

#[test]
fn five9_timestamps_in_all_three_report_forms() {
    // Five9 writes TIMESTAMP as `10/27/2016 14:51:34`, `2016-10-27
    // 14:51:34` or `Thu, 27 Oct 2016 14:51:34` depending on the report's
    // settings (SPEC §4.1); the second form was 100% bad_timestamp.
    // 14:51:34 in New York (EDT) is 18:51:34Z (Python's zoneinfo gives
    // 1477594294 s); + 12 s of queue wait is the answer.
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("five9-forms.csv");
    let header = "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION";
    let mut text = format!("{header}\n");
    for (id, ts) in [
        ("slash", "10/27/2016 14:51:34"),
        ("iso", "2016-10-27 14:51:34"),
        ("rfc", "\"Thu, 27 Oct 2016 14:51:34\""),
    ] {
        text.push_str(&format!(
            "{id},{ts},Sales,Inbound,a@b.com,Team,2025550102,8005550100,00:00:12,00:04:48,00:00:00,00:00:35,0,0,Sold\n"
        ));
    }
    fs::write(&path, text).expect("write");
    let c = check(
        &Case::paths(&[&path]).flag("--tz").flag("America/New_York"),
        &Expect::new(0, vec![ingested("five9-forms.csv", 3, 0, &[])]),
    );
    assert_eq!(sources_of(&c.report), ["five9"]);
    let t = 1_477_594_294_000_000i64;
    for r in &c.rows {
        assert_eq!(
            (r.arrived_at, r.answered_at),
            (t, Some(t + 12_000_000)),
            "{}",
            r.interaction_id
        );
    }
}

#[test]
fn five9_local_times_are_read_in_tz() {
    let c = check(
        &Case::paths(&[sample("five9/call-log-2026-10-01.csv")])
            .flag("--tz")
            .flag("America/New_York"),
        &Expect::new(0, vec![ingested("call-log-2026-10-01.csv", 10, 0, &[])]),
    );
    assert_eq!(sources_of(&c.report), ["five9"]);
    let rows = &c.rows;
    let r = row(rows, "f9-2");
    assert_eq!(r.arrived_at, utc("2026-10-01T12:00:05Z"), "EDT = UTC-4");
    assert_eq!(r.answered_at, Some(utc("2026-10-01T12:00:17Z")));
    assert_eq!(r.ended_at, Some(utc("2026-10-01T12:05:25Z")));
    assert_eq!(
        (r.channel.as_str(), r.direction.as_str(), r.queue.as_deref()),
        ("voice", "inbound", Some("Inbound Billing"))
    );
    assert_eq!(
        (r.wait_ms, r.talk_ms, r.hold_ms, r.acw_ms),
        (Some(12_000), 288_000, 20_000, 35_000)
    );
    let r = row(rows, "f9-3");
    assert!(
        r.abandoned && r.agent_id.is_none() && r.answered_at.is_none(),
        "[None]"
    );
    assert_eq!(r.wait_ms, Some(105_000));
    assert!(row(rows, "f9-4").transferred, "TRANSFERS 1");
    assert_eq!(row(rows, "f9-5").direction, "outbound", "Manual");
    assert_eq!(
        row(rows, "f9-6").disposition.as_deref(),
        Some("Callback requested, customer busy")
    );
    assert_eq!(row(rows, "f9-8").talk_ms, 3_723_000, "01:02:03");
    let r = row(rows, "f9-11");
    assert_eq!(
        (r.partition.as_str(), r.arrived_at),
        ("2026-10-02", utc("2026-10-02T00:45:10Z"))
    );
}

#[test]
fn talkdesk_contacts_of_one_interaction_share_a_chain() {
    let c = check(
        &Case::paths(&[sample("talkdesk/contacts-2026-10-01.csv")]),
        &Expect::new(0, vec![ingested("contacts-2026-10-01.csv", 10, 0, &[])]),
    );
    assert_eq!(sources_of(&c.report), ["talkdesk"]);
    let rows = &c.rows;
    assert_eq!(
        row(rows, "td-2").chain_id.as_deref(),
        Some("td-2"),
        "as given"
    );
    let (a, b) = (row(rows, "td-3"), row(rows, "td-4"));
    assert_eq!(
        (a.chain_id.as_deref(), b.chain_id.as_deref()),
        (Some("ti-3"), Some("ti-3"))
    );
    assert!(a.transferred && !b.transferred, "Transfer Out (Yes/No)");
    let r = row(rows, "td-5");
    assert!(
        r.abandoned && r.agent_id.is_none(),
        "derived: inbound, never answered"
    );
    let r = row(rows, "td-9");
    assert_eq!((r.direction.as_str(), r.abandoned), ("outbound", false));
    let r = row(rows, "td-2");
    assert_eq!(
        (r.arrived_at, r.talk_ms, r.hold_ms, r.acw_ms),
        (utc("2026-10-01T08:00:00Z"), 318_000, 30_000, 40_000)
    );
}

#[test]
fn auto_detects_each_file_and_one_run_mixes_sources() {
    let c = check(
        &Case::paths(&[
            sample("amazon-connect/ctr-2026-10-01-array.json"),
            sample("five9/call-log-2026-10-01.csv"),
            sample("generic/chats.ndjson"),
            sample("talkdesk/contacts-2026-10-01.csv"),
        ]),
        &Expect::new(
            0,
            vec![
                ingested("ctr-2026-10-01-array.json", 5, 0, &[]),
                ingested("call-log-2026-10-01.csv", 10, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
                ingested("contacts-2026-10-01.csv", 10, 0, &[]),
            ],
        ),
    );
    assert_eq!(
        sources_of(&c.report),
        ["amazon-connect", "five9", "generic", "talkdesk"]
    );
    for said in [
        "ctr-2026-10-01-array.json: JSON array, source amazon-connect (detected)",
        "call-log-2026-10-01.csv: CSV, source five9 (detected)",
        "chats.ndjson: NDJSON, source generic (detected)",
        "contacts-2026-10-01.csv: CSV, source talkdesk (detected)",
    ] {
        assert!(c.out.stderr.contains(said), "{said}\n{}", c.out.stderr);
    }
}

/// The vendor files of `data-samples/invalid/` with bad records, in name
/// order, and what each quarantines (data-samples/README.md).
pub fn vendor_bad_rows() -> [FileExp; 4] {
    [
        ingested(
            "connect-malformed.ndjson",
            15,
            0,
            &[
                (2, MR),
                (3, MR),
                (4, MR),
                (5, "bad_timestamp"),
                (6, "missing_required"),
                (8, "bad_timestamp"),
                (9, "time_order"),
                (10, "negative_duration"),
                (11, "abandoned_with_agent"),
                (12, "csat_out_of_range"),
                (13, "bad_enum"),
            ],
        ),
        ingested("connect-truncated-array.json", 4, 0, &[(4, MR)]),
        ingested(
            "five9-bad-rows.csv",
            12,
            0,
            &[
                (3, "bad_timestamp"),
                (4, "bad_timestamp"),
                (6, "bad_duration"),
                (7, "bad_duration"),
                (8, "bad_enum"),
                (9, "bad_number"),
                (10, "abandoned_with_agent"),
                (11, MR),
                (12, "missing_required"),
            ],
        ),
        ingested(
            "talkdesk-bad-rows.csv",
            10,
            0,
            &[
                (3, "time_order"),
                (4, "missing_required"),
                (6, "bad_enum"),
                (7, "negative_duration"),
                (8, "bad_enum"),
                (9, MR),
            ],
        ),
    ]
}

#[test]
fn vendor_files_with_bad_records_quarantine_each_with_its_reason() {
    let c = check(
        &Case::paths(&[
            sample("invalid/connect-malformed.ndjson"),
            sample("invalid/connect-truncated-array.json"),
            sample("invalid/five9-bad-rows.csv"),
            sample("invalid/talkdesk-bad-rows.csv"),
        ])
        .flag("--max-reject-rate")
        .flag("1"),
        &Expect::new(0, vendor_bad_rows().into()),
    );
    // A path through a string is malformed, not "no agent".
    let q = fs::read_to_string(
        c.ds.join(
            c.report["files"][0]["quarantine"]
                .as_str()
                .expect("quarantine"),
        ),
    )
    .expect("rejects");
    assert!(q.contains("Agent is a JSON string"), "{q}");
    assert!(
        c.out.stderr.contains("has no closing ]"),
        "the truncated array is named: {}",
        c.out.stderr
    );
    let ids: Vec<&str> = c.rows.iter().map(|r| r.interaction_id.as_str()).collect();
    for id in [
        "cm-1", "cm-7", "cm-14", "cm-15", "ct-1", "ct-3", "fb-13", "tb-11",
    ] {
        assert!(
            ids.iter().any(|i| i.starts_with(id)),
            "{id} stored: {ids:?}"
        );
    }
}

#[test]
fn files_no_source_can_read_fail_and_name_what_was_tried() {
    check(
        &Case::paths(&[
            sample("invalid/connect-not-ctr.ndjson"),
            sample("invalid/five9-missing-column.csv"),
            sample("invalid/talkdesk-missing-column.csv"),
            sample("talkdesk/contacts-2026-10-01.csv"),
        ]),
        &Expect::new(
            1,
            vec![
                failed(
                    "connect-not-ctr.ndjson",
                    "not a recognised export (tried: amazon-connect (needs keys ContactId",
                ),
                failed(
                    "five9-missing-column.csv",
                    "missing required column TALK TIME",
                ),
                failed(
                    "talkdesk-missing-column.csv",
                    "missing required column Finished At",
                ),
                ingested("contacts-2026-10-01.csv", 10, 0, &[]),
            ],
        ),
    );
    // Forcing the source reads every line and quarantines what is missing.
    check(
        &Case::paths(&[sample("invalid/connect-not-ctr.ndjson")])
            .flag("--source")
            .flag("amazon-connect"),
        &Expect::new(
            3,
            vec![ingested(
                "connect-not-ctr.ndjson",
                3,
                0,
                &[
                    (1, "missing_required"),
                    (2, "missing_required"),
                    (3, "missing_required"),
                ],
            )],
        ),
    );
    // A CSV file under a JSON source is refused, naming both.
    check(
        &Case::paths(&[sample("five9/call-log-2026-10-01.csv")])
            .flag("--source")
            .flag("amazon-connect"),
        &Expect::new(
            1,
            vec![failed(
                "call-log-2026-10-01.csv",
                "the file is CSV, but source amazon-connect reads JSON",
            )],
        ),
    );
}

#[test]
fn mapping_show_prints_each_builtin_and_check_accepts_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    for name in ["amazon-connect", "five9", "talkdesk", "generic"] {
        let out = cxpipe(&["mapping", "show", name]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let text = out.stdout_text();
        assert!(text.contains(&format!("name = \"{name}\"")), "{text}");
        let copy = tmp.path().join(format!("{name}.toml"));
        fs::write(&copy, &text).expect("write");
        let out = cxpipe(&["mapping", "check", copy.to_str().expect("utf-8")]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout_text().contains(&format!("ok, source {name}")));
    }
    let out = cxpipe(&["mapping", "list"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout_text().lines().count(),
        5,
        "{}",
        out.stdout_text()
    );
    // Genesys is code: `show` prints its rules (comments, not a mapping).
    let out = cxpipe(&["mapping", "show", "genesys"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout_text().lines().all(|l| l.starts_with('#'))
            && out.stdout_text().contains("conversationId:sessionId"),
        "{}",
        out.stdout_text()
    );
    let out = cxpipe(&["mapping", "show", "avaya"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("amazon-connect, five9, talkdesk, generic, and genesys (code)"),
        "{}",
        out.stderr
    );
}

/// Writes a mapping and an export into `dir` and returns the ingest of
/// the export with that mapping and no reject threshold, and the mapping's
/// path.
fn mapped_export(dir: &Path, mapping: (&str, &str), export: (&str, &str)) -> (Case, PathBuf) {
    let m = dir.join(mapping.0);
    fs::write(&m, mapping.1).expect("mapping");
    let e = dir.join(export.0);
    fs::write(&e, export.1).expect("export");
    let case = Case::paths(&[&e])
        .flag("--mapping")
        .flag(m.to_str().expect("utf-8"))
        .flag("--max-reject-rate")
        .flag("1");
    (case, m)
}

/// A user's mapping: renamed columns, a day-first timestamp format with an
/// offset, minutes, a value map, boolean words, a 1–10 CSAT scale and a
/// default; and the same file's mistakes named by line and key.
#[test]
fn a_user_mapping_reads_a_custom_export() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (case, mapping) = mapped_export(
        tmp.path(),
        (
            "crm.toml",
            r#"[source]
name = "crm"
format = "csv"

[columns.interaction_id]
field = "Ticket"

[columns.channel]
field = "Medium"
map = { Phone = "voice", WebChat = "chat" }

[columns.direction]
field = "Way"
default = "inbound"

[columns.agent_id]
field = "Owner"
null = ["-", "nobody"]

[columns.customer_id]
field = "Caller"

[columns.arrived_at]
field = "Opened"
format = "%d.%m.%Y %H:%M %z"

[columns.answered_at]
field = "Picked"
format = "%d.%m.%Y %H:%M %z"

[columns.ended_at]
field = "Closed"
format = "%d.%m.%Y %H:%M %z"

[columns.talk_ms]
field = "Talk (min)"
unit = "min"

[columns.transferred]
field = "Moved"
true = ["ja"]
false = ["nein"]

# What the export's silence means: no hold or after-call-work columns.
[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.csat]
field = "Score"
scale = [1, 10]
"#,
        ),
        (
            "crm.csv",
            "Ticket,Medium,Way,Owner,Caller,Opened,Picked,Closed,Talk (min),Moved,Score\n\
         t-2,Phone,,anna,+4930123,01.10.2026 10:00 +0200,01.10.2026 10:01 +0200,01.10.2026 10:05 +0200,2.5,ja,10\n\
         t-3,WebChat,outbound,-,,01.10.2026 11:00 +0200,,01.10.2026 11:02 +0200,0,nein,\n\
         t-4,Phone,,anna,,01.10.2026 12:00 +0200,01.10.2026 12:01 +0200,01.10.2026 12:05 +0200,1,vielleicht,5\n\
         t-5,Phone,,anna,,01.10.2026 12:00 +0200,01.10.2026 12:01 +0200,01.10.2026 12:05 +0200,1,ja,11\n",
        ),
    );
    let export = tmp.path().join("crm.csv");
    let c = check(
        &case,
        &Expect::new(
            0,
            vec![ingested(
                "crm.csv",
                4,
                0,
                &[(4, "bad_enum"), (5, "csat_out_of_range")],
            )],
        ),
    );
    assert_eq!(sources_of(&c.report), ["crm"]);
    let r = row(&c.rows, "t-2");
    assert_eq!(
        (
            r.channel.as_str(),
            r.direction.as_str(),
            r.agent_id.as_deref()
        ),
        ("voice", "inbound", Some("anna"))
    );
    assert_eq!(r.arrived_at, utc("2026-10-01T08:00:00Z"));
    assert_eq!((r.talk_ms, r.transferred, r.csat), (150_000, true, Some(5)));
    let r = row(&c.rows, "t-3");
    assert_eq!(
        (
            r.channel.as_str(),
            r.direction.as_str(),
            r.agent_id.as_deref(),
            r.csat
        ),
        ("chat", "outbound", None, None)
    );

    // Mistakes are named by file, line and key; nothing is ingested.
    let text = fs::read_to_string(&mapping).expect("read");
    fs::write(&mapping, text.replace("unit = \"min\"", "unit = \"hours\"")).expect("write");
    let ds = tmp.path().join("ds2");
    let (out, _) = ingest(
        &ds,
        &[export.as_path()],
        &["--mapping", mapping.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let want = format!(
        "{}:35: [columns.talk_ms] unit: \"hours\"",
        mapping.display()
    );
    assert!(out.stderr.contains(&want), "{want}\n{}", out.stderr);
    assert!(!Path::new(&ds).join("interactions").exists());
}

/// One synthetic month written in every layout (`cxpipe generate --layout`)
/// and ingested with `auto`: each dataset agrees with the generic one on
/// every field its layout carries, row for row (SPEC §4, issue 3).
#[test]
fn every_layout_of_one_month_gives_the_generic_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = ("CXPIPE_PII_KEY", "layout-agreement");
    let month = |layout: &str, name: &str, tz: &str| -> (crate::Checked, serde_json::Value) {
        let export = tmp.path().join(name);
        let out = cxpipe(&[
            "generate",
            "--rows",
            "4000",
            "--days",
            "10",
            "--seed",
            "11",
            "--layout",
            layout,
            "--out",
            export.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.code, 0, "generate {layout}: {}", out.stderr);
        let stem = name.split('.').next().expect("stem");
        let facts: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(tmp.path().join(format!("{stem}.facts.json"))).expect("facts"),
        )
        .expect("json");
        assert_eq!(facts["layout"], layout);
        let records = facts["records"].as_u64().unwrap_or(4000);
        let dups = facts["duplicate_records"].as_u64().unwrap_or(0);
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        let c = check(
            &Case::paths(&[&export])
                .flag("--tz")
                .flag(tz)
                .env(key.0, key.1),
            &Expect::new(0, vec![ingested(name, records, dups, &[])]),
        );
        assert_eq!(sources_of(&c.report), [layout]);
        (c, facts)
    };
    let (generic, _) = month("generic", "generic.csv", "UTC");
    let want = by_id(&generic.rows);
    assert_eq!(want.len(), 4000);
    let (connect, facts) = month("amazon-connect", "connect.ndjson", "UTC");
    assert!(
        facts["duplicate_records"].as_u64().unwrap_or(0) > 0,
        "the Connect month has records delivered twice: {facts}"
    );
    let (array, _) = month("amazon-connect", "connect-array.json", "UTC");
    let (five9, facts) = month("five9", "five9.csv", "America/New_York");
    assert_eq!(facts["tz"], "America/New_York");
    let (talkdesk, _) = month("talkdesk", "talkdesk.csv", "UTC");
    let (genesys, _) = month("genesys", "genesys.ndjson", "UTC");
    let (genesys_array, _) = month("genesys", "genesys-array.json", "UTC");
    // A Genesys leg is `conversationId:sessionId`: the chain's first leg
    // and the leg's own id; keyed here by the leg's id.
    let by_leg = |mut c: crate::Checked| -> crate::Checked {
        for r in &mut c.rows {
            let (conv, leg) = r
                .interaction_id
                .split_once(':')
                .expect("conversation:session");
            assert_eq!(r.chain_id.as_deref(), Some(conv), "{r:?}");
            r.interaction_id = leg.to_string();
        }
        c
    };
    let (genesys, genesys_array) = (by_leg(genesys), by_leg(genesys_array));

    // What each layout carries (SPEC §3 columns; source_* differ by design).
    type Get = fn(&Rec) -> String;
    let all: [(&str, Get); 20] = [
        // A chain id equal to the row's own id means its own chain, as a
        // null one does (SPEC §3; Talkdesk always names the interaction).
        ("chain", |r| {
            r.chain_id
                .clone()
                .unwrap_or_else(|| r.interaction_id.clone())
        }),
        ("channel", |r| r.channel.clone()),
        ("direction", |r| r.direction.clone()),
        ("queue", |r| format!("{:?}", r.queue)),
        ("agent_id", |r| format!("{:?}", r.agent_id)),
        ("team", |r| format!("{:?}", r.team)),
        ("site", |r| format!("{:?}", r.site)),
        ("customer_key", |r| format!("{:?}", r.customer_key)),
        ("arrived_at", |r| r.arrived_at.to_string()),
        ("answered_at", |r| format!("{:?}", r.answered_at)),
        ("ended_at", |r| format!("{:?}", r.ended_at)),
        ("wait_ms", |r| format!("{:?}", r.wait_ms)),
        ("talk_ms", |r| r.talk_ms.to_string()),
        ("hold_ms", |r| r.hold_ms.to_string()),
        ("acw_ms", |r| r.acw_ms.to_string()),
        ("handle_ms", |r| r.handle_ms.to_string()),
        ("abandoned", |r| r.abandoned.to_string()),
        ("transferred", |r| r.transferred.to_string()),
        ("disposition", |r| format!("{:?}", r.disposition)),
        ("csat", |r| format!("{:?}", r.csat)),
    ];
    let not_in_five9 = ["chain", "channel", "site", "csat"];
    let not_in_talkdesk = ["channel", "site", "csat"];
    // Conversation details have no team, site or survey; a wrap-up code
    // belongs to an agent's session (compared below for answered legs).
    let not_in_genesys = ["team", "site", "csat", "disposition"];
    for (name, got, missing) in [
        ("amazon-connect ndjson", &connect, &[][..]),
        ("amazon-connect array", &array, &[][..]),
        ("five9", &five9, &not_in_five9[..]),
        ("talkdesk", &talkdesk, &not_in_talkdesk[..]),
        ("genesys ndjson", &genesys, &not_in_genesys[..]),
        ("genesys array", &genesys_array, &not_in_genesys[..]),
    ] {
        let got = by_id(&got.rows);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{name}: the same interaction ids"
        );
        let mut compared = 0;
        for (field, get) in &all {
            if missing.contains(field) {
                continue;
            }
            let differ: Vec<String> = want
                .iter()
                .filter(|(id, w)| get(w) != get(&got[*id]))
                .take(3)
                .map(|(id, w)| format!("{id}: generic {} vs {}", get(w), get(&got[id])))
                .collect();
            assert!(differ.is_empty(), "{name}: {field} differs: {differ:#?}");
            compared += 1;
        }
        assert_eq!(compared, all.len() - missing.len());
        // A layout without channel reads every contact as a call.
        if missing.contains(&"channel") {
            assert!(got.values().all(|r| r.channel == "voice"), "{name}");
        }
        if name.starts_with("genesys") {
            let answered = want.iter().filter(|(_, w)| w.answered_at.is_some());
            let differ: Vec<&String> = answered
                .filter(|(id, w)| w.disposition != got[*id].disposition)
                .map(|(id, _)| id)
                .take(3)
                .collect();
            assert!(differ.is_empty(), "{name}: disposition differs: {differ:?}");
        }
    }
}

/// A folder holding `cxpipe generate`'s export and its facts file ingests
/// the export only, and says why it skipped the facts.
#[test]
fn a_folder_ingest_skips_the_facts_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("exports");
    let export = dir.join("october.ndjson");
    let out = cxpipe(&[
        "generate",
        "--rows",
        "50",
        "--days",
        "2",
        "--layout",
        "amazon-connect",
        "--out",
        export.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.join("october.facts.json").is_file());
    let (out, report) = ingest(&tmp.path().join("ds"), &[dir.as_path()], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let names: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["october.ndjson"]);
    assert!(
        out.stderr.contains("october.facts.json (the planted facts"),
        "{}",
        out.stderr
    );
}

/// "CSAT from a configurable attribute key": a two-table mapping that
/// extends the built-in Connect mapping reads another attribute on another
/// scale; everything else (versions included) stays the built-in's.
#[test]
fn a_connect_mapping_that_extends_the_builtin_reads_csat_elsewhere() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = r#""Channel":"VOICE","InitiationMethod":"INBOUND","InitiationTimestamp":"2026-10-01T08:00:00Z","DisconnectTimestamp":"2026-10-01T08:05:00Z","Agent":{"Username":"a1","ConnectedToAgentTimestamp":"2026-10-01T08:00:30Z","AgentInteractionDuration":240}"#;
    let export = format!(
        "{{\"ContactId\":\"x-1\",{base},\"LastUpdateTimestamp\":\"2026-10-01T08:07:00Z\",\"Attributes\":{{\"csat\":\"1\",\"survey_score\":\"9\"}}}}\n\
             {{\"ContactId\":\"x-1\",{base},\"LastUpdateTimestamp\":\"2026-10-01T08:06:00Z\",\"Attributes\":{{\"survey_score\":\"2\"}}}}\n\
             {{\"ContactId\":\"x-3\",{base},\"LastUpdateTimestamp\":\"2026-10-01T08:06:00Z\",\"Attributes\":{{\"survey_score\":\"11\"}}}}\n"
    );
    let (case, _) = mapped_export(
        tmp.path(),
        (
            "my-connect.toml",
            "[source]\nname = \"my-connect\"\nextends = \"amazon-connect\"\n\n[columns.csat]\nfield = \"Attributes.survey_score\"\nscale = [1, 10]\n",
        ),
        ("ctr.ndjson", &export),
    );
    let c = check(
        &case,
        &Expect::new(
            0,
            vec![ingested("ctr.ndjson", 3, 1, &[(3, "csat_out_of_range")])],
        ),
    );
    assert_eq!(sources_of(&c.report), ["my-connect"]);
    let r = row(&c.rows, "x-1");
    assert_eq!(
        (r.csat, r.source_line),
        (Some(5), 1),
        "9 of 10, the newer record"
    );
}

/// An export with no records as a JSON array (`[]`, a quiet night) is an
/// empty file, whatever its source: ingested, 0 rows, exit 0.
#[test]
fn an_empty_json_array_is_an_empty_export() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = tmp.path().join("quiet.json");
    let b = tmp.path().join("quiet-spaced.json");
    fs::write(&a, "[]").expect("write");
    fs::write(&b, " \n[\n  ]\n").expect("write");
    let c = check(
        &Case::paths(&[&a, &b]),
        &Expect::new(
            0,
            vec![
                ingested("quiet.json", 0, 0, &[]),
                ingested("quiet-spaced.json", 0, 0, &[]),
            ],
        ),
    );
    assert!(c.rows.is_empty());
}

/// Genesys rules on conversations written by hand (SPEC §4, `genesys`):
/// a transfer between two queues is two legs of one chain and one record;
/// an ACD session no agent interacted after is abandoned and ends with its
/// segment; an IVR-only conversation is not a contact (filtered); a
/// conversation with no end anywhere is refused; the same conversations in
/// a second file are duplicates counted per record, listed per leg.
#[test]
fn genesys_legs_transfers_abandons_and_duplicates() {
    let tmp = tempfile::tempdir().expect("tmp");
    let seg = |kind: &str, start: &str, end: Option<&str>, extra: &str| {
        let end = end
            .map(|e| format!(",\"segmentEnd\":\"2026-10-01T{e}Z\""))
            .unwrap_or_default();
        format!(
            "{{\"segmentType\":\"{kind}\",\"segmentStart\":\"2026-10-01T{start}Z\"{end}{extra}}}"
        )
    };
    let session = |id: &str, media: &str, segs: &[String]| {
        format!(
            "{{\"sessionId\":\"{id}\",\"mediaType\":\"{media}\",\"segments\":[{}]}}",
            segs.join(",")
        )
    };
    let participant = |purpose: &str, extra: &str, sessions: &[String]| {
        format!(
            "{{\"purpose\":\"{purpose}\"{extra},\"sessions\":[{}]}}",
            sessions.join(",")
        )
    };
    let conv = |id: &str, parts: &[String]| {
        format!(
            "{{\"conversationId\":\"{id}\",\"conversationStart\":\"2026-10-01T08:00:00Z\",\"participants\":[{}]}}\n",
            parts.join(",")
        )
    };
    let customer = participant(
        "customer",
        "",
        &[format!(
            "{{\"sessionId\":\"c\",\"mediaType\":\"voice\",\"ani\":\"tel:+14155550100\",\"segments\":[{}]}}",
            seg("interact", "08:00:00", Some("08:10:00"), "")
        )],
    );
    // t1: queue Sales 08:00:05, agent a1 08:00:15–08:02:00 (transfer),
    // queue Billing 08:02:01, agent a2 08:02:31–08:05:00 + wrapup 30 s.
    let t1 = conv(
        "t1",
        &[
            customer.clone(),
            participant(
                "acd",
                ",\"participantName\":\"Sales\"",
                &[session(
                    "q1",
                    "voice",
                    &[seg(
                        "interact",
                        "08:00:05",
                        Some("08:00:15"),
                        ",\"queueId\":\"qs\"",
                    )],
                )],
            ),
            participant(
                "agent",
                ",\"userId\":\"a1\"",
                &[session(
                    "s1",
                    "voice",
                    &[
                        seg("alert", "08:00:10", Some("08:00:15"), ""),
                        seg(
                            "interact",
                            "08:00:15",
                            Some("08:02:00"),
                            ",\"disconnectType\":\"transfer\"",
                        ),
                    ],
                )],
            ),
            participant(
                "acd",
                ",\"participantName\":\"Billing\"",
                &[session(
                    "q2",
                    "voice",
                    &[seg("interact", "08:02:01", Some("08:02:31"), "")],
                )],
            ),
            participant(
                "agent",
                ",\"userId\":\"a2\"",
                &[session(
                    "s2",
                    "voice",
                    &[
                        seg("interact", "08:02:31", Some("08:05:00"), ""),
                        seg(
                            "wrapup",
                            "08:05:00",
                            Some("08:05:30"),
                            ",\"wrapUpCode\":\"paid\"",
                        ),
                    ],
                )],
            ),
        ],
    );
    // ab: queued 09:00:00–09:00:40, no agent: abandoned after 40 s.
    let ab = conv(
        "ab",
        &[
            customer.clone(),
            participant(
                "acd",
                ",\"participantName\":\"Sales\"",
                &[session(
                    "q3",
                    "voice",
                    &[seg("interact", "09:00:00", Some("09:00:40"), "")],
                )],
            ),
        ],
    );
    let ivr = conv(
        "ivr",
        &[
            customer.clone(),
            participant(
                "ivr",
                "",
                &[session(
                    "i",
                    "voice",
                    &[seg("ivr", "10:00:00", Some("10:01:00"), "")],
                )],
            ),
        ],
    );
    let open = conv(
        "open",
        &[participant(
            "acd",
            ",\"participantName\":\"Sales\"",
            &[session(
                "q4",
                "voice",
                &[seg("interact", "11:00:00", None, "")],
            )],
        )],
    );
    // Participants out of time order: queue Q1 09:30 unanswered, then Q2
    // 09:32 taken by a3 at 09:33 (listed first), and an interact still open
    // in the export (the leg ends at conversationEnd).
    let late = conv(
        "late",
        &[
            participant(
                "agent",
                ",\"userId\":\"a3\"",
                &[session(
                    "s3",
                    "voice",
                    &[seg("interact", "09:33:00", None, "")],
                )],
            ),
            participant(
                "acd",
                ",\"participantName\":\"Q2\"",
                &[session(
                    "q6",
                    "voice",
                    &[seg("interact", "09:32:00", Some("09:33:00"), "")],
                )],
            ),
            participant(
                "acd",
                ",\"participantName\":\"Q1\"",
                &[session(
                    "q5",
                    "voice",
                    &[seg("interact", "09:30:00", Some("09:31:00"), "")],
                )],
            ),
        ],
    )
    .replace(
        "\"participants\"",
        "\"conversationEnd\":\"2026-10-01T09:40:00Z\",\"participants\"",
    );
    let third = tmp.path().join("late.ndjson");
    fs::write(&third, &late).expect("write");
    let (out, report) = ingest(&tmp.path().join("ds-late"), &[&third], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = crate::read_dataset(&tmp.path().join("ds-late"));
    let by = crate::by_id(&rows);
    assert_eq!(report["files"][0]["legs_written"], 2, "{report}");
    assert!(
        by["late:q5"].abandoned && by["late:q5"].agent_id.is_none(),
        "Q1 was not answered"
    );
    let q2 = &by["late:q6"];
    assert_eq!(
        (
            q2.agent_id.as_deref(),
            q2.answered_at,
            q2.ended_at,
            q2.talk_ms
        ),
        (
            Some("a3"),
            Some(crate::ts_us("2026-10-01T09:33:00Z")),
            Some(crate::ts_us("2026-10-01T09:40:00Z")),
            420_000
        ),
        "the open interact lasts until conversationEnd"
    );

    let first = tmp.path().join("night-1.ndjson");
    fs::write(&first, format!("{t1}{ab}{ivr}{open}")).expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&first], &["--max-reject-rate", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    let counts = |f: &serde_json::Value| {
        [
            "rows_read",
            "rows_written",
            "rows_quarantined",
            "duplicates_dropped",
            "rows_filtered",
            "legs_written",
        ]
        .map(|k| f[k].as_u64().unwrap_or(u64::MAX))
    };
    assert_eq!(counts(f), [4, 2, 1, 0, 1, 3], "{report}");
    assert_eq!(f["reasons"]["missing_required"], 1, "{report}");
    let rows = crate::read_dataset(&ds);
    let by = crate::by_id(&rows);
    let t = crate::ts_us;
    let sales = &by["t1:q1"];
    let billing = &by["t1:q2"];
    assert_eq!(
        (
            sales.queue.as_deref(),
            sales.agent_id.as_deref(),
            sales.transferred,
            sales.wait_ms,
            sales.talk_ms
        ),
        (Some("Sales"), Some("a1"), true, Some(10_000), 105_000)
    );
    assert_eq!(
        (
            billing.queue.as_deref(),
            billing.agent_id.as_deref(),
            billing.transferred
        ),
        (Some("Billing"), Some("a2"), false)
    );
    assert_eq!(
        (
            billing.arrived_at,
            billing.answered_at,
            billing.ended_at,
            billing.acw_ms
        ),
        (
            t("2026-10-01T08:02:01Z"),
            Some(t("2026-10-01T08:02:31Z")),
            Some(t("2026-10-01T08:05:00Z")),
            30_000
        )
    );
    assert_eq!(sales.chain_id, billing.chain_id, "one chain");
    assert!(sales.customer_key.is_some());
    let a = &by["ab:q3"];
    assert_eq!(
        (a.abandoned, a.agent_id.as_deref(), a.ended_at, a.wait_ms),
        (true, None, Some(t("2026-10-01T09:00:40Z")), Some(40_000))
    );

    // The same conversations again, in another file: duplicates, counted
    // per record (t1 and ab), listed per leg (three lines).
    let second = tmp.path().join("night-2.ndjson");
    fs::write(&second, format!("{ab}{t1}")).expect("write");
    let (out, report) = ingest(&ds, &[&second], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(counts(&report["files"][0]), [2, 2, 0, 0, 0, 3], "{report}");
    assert_eq!(report["totals"]["rows_replaced"], 3, "{report}");
    let listing = fs::read_to_string(ds.join(report["duplicates_file"].as_str().expect("listing")))
        .expect("duplicates.csv");
    let mut lines: Vec<&str> = listing.lines().skip(1).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "ab:q3,night-1.ndjson,2,night-2.ndjson,1,true",
            "t1:q1,night-1.ndjson,1,night-2.ndjson,2,true",
            "t1:q2,night-1.ndjson,1,night-2.ndjson,2,true",
        ]
    );
    // Both files at once: the earlier file's records are the duplicates.
    let ds2 = tmp.path().join("ds2");
    let (out, report) = ingest(&ds2, &[&first, &second], &["--max-reject-rate", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(counts(&report["files"][0]), [4, 0, 1, 2, 1, 0], "{report}");
    assert_eq!(counts(&report["files"][1]), [2, 2, 0, 0, 0, 3], "{report}");

    // --source genesys on a CSV says what it reads.
    let csv = tmp.path().join("calls.csv");
    fs::write(&csv, "a,b\n1,2\n").expect("write");
    let (out, _) = ingest(&tmp.path().join("ds3"), &[&csv], &["--source", "genesys"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("source genesys reads JSON"),
        "{}",
        out.stderr
    );
}

/// JSON documents (SPEC §4.1, §5): one pretty-printed record is read as one
/// record, never line by line; records under a path of a wrapping object
/// are read with `[source] records`; a document without that path fails
/// naming its keys.
#[test]
fn json_documents_one_record_or_records_under_a_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ctr = |id: &str, updated: &str| {
        serde_json::json!({
            "ContactId": id,
            "Channel": "VOICE",
            "InitiationMethod": "INBOUND",
            "InitiationTimestamp": "2026-10-01T08:00:00Z",
            "DisconnectTimestamp": "2026-10-01T08:05:00Z",
            "LastUpdateTimestamp": updated,
        })
    };
    let one = tmp.path().join("one-ctr.json");
    fs::write(
        &one,
        serde_json::to_string_pretty(&ctr("p-1", "2026-10-01T08:06:00Z")).expect("json"),
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&one], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (
            f["format"].as_str(),
            f["source"].as_str(),
            f["rows_read"].as_u64(),
            f["rows_written"].as_u64()
        ),
        (
            Some("json-document"),
            Some("amazon-connect"),
            Some(1),
            Some(1)
        ),
        "{report}"
    );
    assert!(
        out.stderr
            .contains("one-ctr.json: JSON document (one record), source amazon-connect"),
        "{}",
        out.stderr
    );

    let wrapped = tmp.path().join("page.json");
    let doc = serde_json::json!({
        "data": {"items": [ctr("w-1", "2026-10-01T08:06:00Z"), ctr("w-2", "2026-10-01T08:06:00Z"), ctr("w-1", "2026-10-01T08:09:00Z")]},
        "nextPage": null
    });
    fs::write(&wrapped, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    let mapping = tmp.path().join("paged.toml");
    fs::write(&mapping, "[source]\nname = \"paged-connect\"\nextends = \"amazon-connect\"\nrecords = \"data.items\"\n").expect("mapping");
    let m = mapping.display().to_string();
    let ds2 = tmp.path().join("ds2");
    let (out, report) = ingest(&ds2, &[&wrapped], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        ["rows_read", "rows_written", "duplicates_dropped"].map(|k| f[k].as_u64()),
        [Some(3), Some(2), Some(1)],
        "{report}"
    );
    let rows = crate::read_dataset(&ds2);
    let w1 = row(&rows, "w-1");
    assert_eq!(
        w1.source_line, 3,
        "records are numbered by their index: the newer w-1"
    );

    // Without the path, the page is one record that is not a CTR.
    let (out, _) = ingest(&tmp.path().join("ds3"), &[&wrapped], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the first record has keys data, nextPage"),
        "{}",
        out.stderr
    );
    // A records path that is not there fails naming the keys.
    fs::write(
        &mapping,
        "[source]\nname = \"paged-connect\"\nextends = \"amazon-connect\"\nrecords = \"items\"\n",
    )
    .expect("mapping");
    let (out, _) = ingest(&tmp.path().join("ds4"), &[&wrapped], &["--mapping", &m]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("a JSON document without an array at \"items\" (its records path); its keys are data, nextPage"),
        "{}",
        out.stderr
    );
    // The same page on one line (as saved from the API) is a document too,
    // not one NDJSON record; so is a pretty document after blank lines.
    fs::write(
        &mapping,
        "[source]\nname = \"paged-connect\"\nextends = \"amazon-connect\"\nrecords = \"data.items\"\n",
    )
    .expect("mapping");
    let compact = tmp.path().join("page-compact.json");
    fs::write(&compact, serde_json::to_string(&doc).expect("json")).expect("write");
    let blank_first = tmp.path().join("page-blank-first.json");
    fs::write(
        &blank_first,
        format!("\n\n{}", serde_json::to_string_pretty(&doc).expect("json")),
    )
    .expect("write");
    for (i, f) in [&compact, &blank_first].into_iter().enumerate() {
        let (out, report) = ingest(
            &tmp.path().join(format!("ds-doc{i}")),
            &[f],
            &["--mapping", &m],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let f = &report["files"][0];
        assert_eq!(
            (
                f["format"].as_str(),
                f["rows_read"].as_u64(),
                f["rows_written"].as_u64()
            ),
            (Some("json-document"), Some(3), Some(2)),
            "{report}"
        );
    }
    // NDJSON whose first line is broken: one malformed record, the rest read.
    let broken = tmp.path().join("broken-first.ndjson");
    fs::write(
        &broken,
        format!(
            "{{\"ContactId\": \"x\",\n{}\n{}\n",
            ctr("b-1", "2026-10-01T08:06:00Z"),
            ctr("b-2", "2026-10-01T08:06:00Z")
        ),
    )
    .expect("write");
    let (out, report) = ingest(
        &tmp.path().join("ds-broken"),
        &[&broken],
        &["--max-reject-rate", "1"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (
            f["format"].as_str(),
            f["rows_read"].as_u64(),
            f["rows_written"].as_u64(),
            f["rows_quarantined"].as_u64()
        ),
        (Some("ndjson"), Some(3), Some(2), Some(1)),
        "{report}"
    );
    fs::write(
        &mapping,
        "[source]\nname = \"x\"\nformat = \"csv\"\nrecords = \"items\"\n",
    )
    .expect("mapping");
    let out = cxpipe(&["mapping", "check", &m]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("paged.toml:4: [source] records: names where a JSON document keeps its records; this mapping reads CSV"), "{}", out.stderr);
}
