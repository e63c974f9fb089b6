//! Mapping features real exports need (SPEC §4.1): row filters counted as
//! `rows_filtered`, ids joined from several fields, a separate time-of-day
//! field, conditions on any column (`when`, `only_if`), subtraction, and a
//! value map's catch-all. Expected values are worked out by hand from the
//! rows below.

use std::fs;

use crate::{Rec, cxpipe, ingest, read_dataset, ts_us};

fn by_id(rows: Vec<Rec>) -> std::collections::BTreeMap<String, Rec> {
    rows.into_iter()
        .map(|r| (r.interaction_id.clone(), r))
        .collect()
}

/// A Technion-like per-call export: ids unique only as `vru+line` with
/// `call_id`, times of day beside a date, PHANTOM calls that are not
/// contacts, and a `server` named on calls no agent served.
#[test]
fn skip_join_time_field_and_when() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("bank.toml");
    fs::write(
        &mapping,
        r#"[source]
name = "bank"
format = "csv"
skip = [{ field = "outcome", is = ["PHANTOM"] }]

[columns.interaction_id]
join = ["vru+line", "call_id"]

[columns.channel]
value = "voice"

[columns.direction]
value = "inbound"

[columns.queue]
field = "type"

[columns.agent_id]
field = "server"
when = { field = "outcome", is = ["AGENT"] }

[columns.arrived_at]
field = "date"
time_field = "q_start"
format = "%Y-%m-%d %H:%M:%S"

[columns.answered_at]
field = "date"
time_field = "ser_start"
format = "%Y-%m-%d %H:%M:%S"
when = { field = "outcome", is = ["AGENT"] }

[columns.ended_at]
from = "arrived_at"
plus = ["q_time", "ser_time"]
unit = "s"

[columns.talk_ms]
field = "ser_time"
unit = "s"

# What the export's silence means: no hold or after-call-work columns.
[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#,
    )
    .expect("mapping");
    let export = tmp.path().join("calls.csv");
    fs::write(
        &export,
        "vru+line,call_id,type,date,q_start,q_time,outcome,ser_start,ser_time,server\n\
         AA0101,100,PS,2010-08-01,07:00:00,30,AGENT,07:00:30,120,ANNA\n\
         AA0102,100,PS,2010-08-01,07:05:00,40,HANG,00:00:00,0,NO_SERVER\n\
         AA0103,101,NW,2010-08-01,07:10:00,0,PHANTOM,00:00:00,0,NO_SERVER\n\
         AA0104,102,PS,2010-08-01,07:20:00,10,HANG,00:00:00,0,ANNA\n",
    )
    .expect("export");
    let config = tmp.path().join("cxpipe.toml");
    fs::write(&config, "[ingest]\nmin_time = \"2000-01-01\"\n").expect("config");
    let ds = tmp.path().join("ds");
    let m = mapping.display().to_string();
    let c = config.display().to_string();
    let (out, report) = ingest(&ds, &[&export], &["--mapping", &m, "--config", &c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (
            &f["rows_read"],
            &f["rows_written"],
            &f["rows_filtered"],
            &f["rows_quarantined"],
            &f["duplicates_dropped"]
        ),
        (&4.into(), &3.into(), &1.into(), &0.into(), &0.into()),
        "{report}"
    );
    assert_eq!(report["totals"]["rows_filtered"], 1, "{report}");
    assert_eq!(report["conservation_ok"], true, "{report}");
    assert!(out.stderr.contains("1 filtered"), "{}", out.stderr);
    let rows = by_id(read_dataset(&ds));
    let ids: Vec<&str> = rows.keys().map(String::as_str).collect();
    // Both calls numbered 100 stay: their ids differ in vru+line.
    assert_eq!(ids, ["AA0101-100", "AA0102-100", "AA0104-102"]);
    let r = &rows["AA0101-100"];
    assert_eq!(r.arrived_at, ts_us("2010-08-01T07:00:00Z"));
    assert_eq!(r.answered_at, Some(ts_us("2010-08-01T07:00:30Z")));
    assert_eq!(
        r.ended_at,
        Some(ts_us("2010-08-01T07:02:30Z")),
        "arrival + 30 s + 120 s"
    );
    assert_eq!(
        (r.agent_id.as_deref(), r.talk_ms, r.abandoned),
        (Some("ANNA"), 120_000, false)
    );
    let r = &rows["AA0104-102"];
    assert_eq!(r.agent_id, None, "named, but outcome HANG: not its agent");
    assert!(r.abandoned && r.answered_at.is_none());
    assert_eq!(r.ended_at, Some(ts_us("2010-08-01T07:20:10Z")));
}

/// Subtraction (answer = end − talk), `when` on a derived time, `only_if`
/// on a text column, and a value map's `"*"` catch-all.
#[test]
fn minus_only_if_on_text_and_a_catch_all_map() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("m2.toml");
    fs::write(
        &mapping,
        r#"[source]
name = "m2"
format = "csv"

[columns.interaction_id]
field = "id"

[columns.channel]
field = "media"
map = { phone = "voice", "*" = "other" }

[columns.direction]
value = "inbound"

[columns.agent_id]
field = "agent"
only_if = "answered_at"

[columns.arrived_at]
field = "start"

[columns.ended_at]
field = "end"

[columns.answered_at]
from = "ended_at"
minus = ["talk"]
unit = "s"
when = { field = "answered", is = ["Y"] }

[columns.talk_ms]
field = "talk"
unit = "s"

# What the export's silence means: no hold or after-call-work columns.
[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#,
    )
    .expect("mapping");
    let export = tmp.path().join("m2.csv");
    fs::write(
        &export,
        "id,media,agent,start,end,talk,answered\n\
         a,PHONE,Bo,2026-10-01T08:00:00Z,2026-10-01T08:05:00Z,240,Y\n\
         b,fax,Bo,2026-10-01T09:00:00Z,2026-10-01T09:01:00Z,0,N\n",
    )
    .expect("export");
    let ds = tmp.path().join("ds");
    let (out, _) = ingest(
        &ds,
        &[&export],
        &["--mapping", &mapping.display().to_string()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = by_id(read_dataset(&ds));
    let a = &rows["a"];
    assert_eq!(
        a.answered_at,
        Some(ts_us("2026-10-01T08:01:00Z")),
        "08:05 − 240 s"
    );
    assert_eq!(
        (a.channel.as_str(), a.agent_id.as_deref()),
        ("voice", Some("Bo"))
    );
    let b = &rows["b"];
    assert_eq!(b.channel, "other", "the catch-all");
    assert_eq!(b.agent_id, None, "only_if answered_at, which b has not");
    assert!(b.abandoned);
}

/// Each new key's mistakes name the file, the line and the key.
#[test]
fn new_keys_are_checked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = "[source]\nname = \"x\"\nformat = \"csv\"\n";
    let req = "[columns.interaction_id]\nfield = \"id\"\n[columns.channel]\nvalue = \"voice\"\n[columns.direction]\nvalue = \"inbound\"\n[columns.arrived_at]\nfield = \"start\"\n[columns.ended_at]\nfield = \"end\"\n";
    for (text, want) in [
        (
            format!("{}skip = [{{ field = \"o\" }}]\n{req}", base),
            "m.toml:4: [source] skip: the condition on \"o\" needs exactly one of is",
        ),
        (
            format!(
                "{base}{req}[columns.queue]\nfield = \"q\"\nwhen = {{ field = \"o\", is = [] }}\n"
            ),
            "[columns.queue] when: the condition on \"o\" needs exactly one of",
        ),
        (
            format!("{base}{req}[columns.queue]\nfield = \"q\"\nseparator = \"-\"\n"),
            "[columns.queue] separator: goes with join",
        ),
        (
            format!("{base}{req}[columns.chain_id]\njoin = [\"a\"]\n"),
            "[columns.chain_id] join: name two or more fields",
        ),
        (
            format!("{base}{req}[columns.answered_at]\nfield = \"a\"\nminus = [\"t\"]\n"),
            "[columns.answered_at] plus/minus: go with from",
        ),
        (
            format!("{base}{req}[columns.queue]\nfield = \"q\"\nminus = [\"t\"]\n"),
            "[columns.queue]",
        ),
        (
            format!(
                "{}skip = [{{ all = [{{ field = \"o\", is = [\"x\"] }}] }}]\n{req}",
                base
            ),
            "m.toml:4: [source] skip: all = [..]: give two or more tests",
        ),
        (
            format!(
                "{}skip = [{{ field = \"o\", all = [{{ field = \"o\", is = [\"x\"] }}, {{ field = \"p\", present = true }}] }}]\n{req}",
                base
            ),
            "m.toml:4: [source] skip: all = [..] holds the tests itself",
        ),
        (
            format!("{base}{req}[columns.answered_at]\nfield = \"d\"\ntime_field = []\n"),
            "[columns.answered_at] time_field: name at least one field",
        ),
        (
            format!("{base}{req}[columns.hold_ms]\nfield = \"h\"\nunit = \"s\"\n"),
            "[columns.talk_ms] is missing: say where talk_ms, acw_ms, transferred come from",
        ),
    ] {
        let p = tmp.path().join("m.toml");
        fs::write(&p, &text).expect("mapping");
        let out = cxpipe(&["mapping", "check", &p.display().to_string()]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(
            out.stderr.contains(want) && out.stderr.contains("m.toml"),
            "{text}\n{}\n  wanted: {want}",
            out.stderr
        );
    }
}

/// `mapping check FILE --sample EXPORT` maps the export through the ingest
/// itself and shows the counts, the first rows as they would be stored and
/// the first rejected record with its reason; nothing is left behind.
#[test]
fn mapping_check_with_a_sample_shows_rows_and_reasons() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("five9.toml");
    let shown = cxpipe(&["mapping", "show", "five9"]);
    fs::write(&mapping, &shown.stdout).expect("mapping");
    let export = tmp.path().join("calls.csv");
    fs::write(
        &export,
        "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION\n\
         k1,10/01/2026 08:00:05,Sales,Inbound,ann,T,2025550102,8005550100,00:00:12,00:04:48,00:00:00,00:00:35,0,0,Sold\n\
         k2,01.10.2026 08:10,Sales,Inbound,ann,T,2025550103,8005550100,00:00:12,00:04:48,00:00:00,00:00:35,0,0,Sold\n",
    )
    .expect("export");
    let before: Vec<_> = fs::read_dir(tmp.path()).expect("dir").flatten().collect();
    let out = cxpipe(&[
        "mapping",
        "check",
        &mapping.display().to_string(),
        "--sample",
        &export.display().to_string(),
        "--tz",
        "America/New_York",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout_text();
    assert!(
        text.contains("2 records read: 1 mapped, 1 rejected, 0 filtered"),
        "{text}"
    );
    assert!(text.contains("rejected as: bad_timestamp 1"), "{text}");
    assert!(
        text.contains(
            "first rejected, line 3: TIMESTAMP: \"01.10.2026 08:10\" matches none of the formats"
        ),
        "{text}"
    );
    // 08:00:05 EDT is 12:00:05Z; + 12 s of queue wait.
    assert!(
        text.contains("line 2: interaction_id=k1 ")
            && text.contains("arrived_at=2026-10-01T12:00:05Z")
            && text.contains("answered_at=2026-10-01T12:00:17Z")
            && text.contains("agent_id=ann"),
        "{text}"
    );
    let after: Vec<_> = fs::read_dir(tmp.path()).expect("dir").flatten().collect();
    assert_eq!(
        before.len(),
        after.len(),
        "no dataset left beside the files"
    );
}

/// A headerless CSV (Asterisk's `Master.csv`): `[source] columns` names its
/// columns, and the first line is the first call, not a header.
#[test]
fn a_headerless_csv_keeps_its_first_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("cdr.toml");
    fs::write(
        &mapping,
        r#"[source]
name = "cdr"
format = "csv"
columns = ["accountcode", "src", "dst", "start", "end", "billsec", "disposition"]

[columns.interaction_id]
join = ["src", "start"]
separator = "@"

[columns.channel]
value = "voice"

[columns.direction]
value = "inbound"

[columns.arrived_at]
field = "start"
format = "%Y-%m-%d %H:%M:%S"

[columns.ended_at]
field = "end"
format = "%Y-%m-%d %H:%M:%S"

[columns.talk_ms]
field = "billsec"
unit = "s"

# What the export's silence means: no hold or after-call-work columns.
[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#,
    )
    .expect("mapping");
    let export = tmp.path().join("Master.csv");
    fs::write(
        &export,
        "\"acc\",\"100\",\"200\",\"2026-10-01 08:00:00\",\"2026-10-01 08:01:00\",\"55\",\"ANSWERED\"\n\
         \"acc\",\"101\",\"200\",\"2026-10-01 08:05:00\",\"2026-10-01 08:07:00\",\"100\",\"ANSWERED\"\n",
    )
    .expect("export");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(
        &ds,
        &[&export],
        &["--mapping", &mapping.display().to_string()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["files"][0]["rows_read"], 2, "{report}");
    let rows = read_dataset(&ds);
    let got: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| (r.interaction_id.as_str(), r.source_line))
        .collect();
    assert_eq!(
        got,
        [
            ("100@2026-10-01 08:00:00", 1),
            ("101@2026-10-01 08:05:00", 2)
        ]
    );
    assert_eq!(rows[0].ended_at, Some(ts_us("2026-10-01T08:01:00Z")));

    // `columns` is for CSV only, and cannot be detected.
    for (extra, want) in [
        (
            "format = \"json\"\ncolumns = [\"a\"]\n",
            "[source] columns: names the columns of a headerless CSV",
        ),
        (
            "format = \"csv\"\ncolumns = [\"a\", \" \"]\n",
            "[source] columns: give every column a name",
        ),
        (
            "format = \"csv\"\ncolumns = [\"a\"]\ndetect = [\"a\"]\n",
            "a headerless CSV has no header to detect by",
        ),
    ] {
        let p = tmp.path().join("bad.toml");
        fs::write(&p, format!("[source]\nname = \"x\"\n{extra}")).expect("mapping");
        let out = cxpipe(&["mapping", "check", &p.display().to_string()]);
        assert_eq!(out.code, 2, "{extra}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{extra}: {}", out.stderr);
    }
}

/// A date column with time-of-day columns: `time_field` takes the first
/// time that is present and not a `null` word; with none, the column has no
/// value — a date alone is never read as midnight. `skip` with `all` drops
/// a record only when every test holds.
#[test]
fn time_fields_never_default_to_midnight_and_all_conditions_skip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("m.toml");
    fs::write(
        &mapping,
        r#"[source]
name = "m"
format = "csv"
skip = [{ all = [{ field = "outcome", is = ["HANG"] }, { field = "queued", is = ["0:00:00"] }] }]

[columns.interaction_id]
field = "id"

[columns.channel]
value = "voice"

[columns.direction]
value = "inbound"

[columns.agent_id]
field = "agent"
only_if = "answered_at"

[columns.arrived_at]
field = "day"
time_field = ["queued", "served"]
null = ["0:00:00"]
format = "%Y-%m-%d %H:%M:%S"

[columns.answered_at]
field = "day"
time_field = "served"
null = ["0:00:00"]
format = "%Y-%m-%d %H:%M:%S"

[columns.ended_at]
field = "day"
time_field = ["done", "left"]
null = ["0:00:00"]
format = "%Y-%m-%d %H:%M:%S"

[columns.talk_ms]
field = "talk"
unit = "s"

[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#,
    )
    .expect("mapping");
    let export = tmp.path().join("calls.csv");
    fs::write(
        &export,
        "id,day,queued,served,done,left,outcome,agent,talk\n\
         q1,2026-10-01,08:00:00,08:00:20,08:05:00,0:00:00,AGENT,ann,280\n\
         d1,2026-10-01,0:00:00,09:00:00,09:01:00,0:00:00,AGENT,bob,60\n\
         h1,2026-10-01,10:00:00,0:00:00,0:00:00,10:00:30,HANG,ann,0\n\
         v1,2026-10-01,0:00:00,0:00:00,0:00:00,0:00:00,HANG,,0\n\
         n1,2026-10-01,0:00:00,0:00:00,0:00:00,0:00:00,AGENT,cid,0\n\
         u1,2026-10-01,11:00:00,0:00:00,0:00:00,0:00:00,LOST,,0\n",
    )
    .expect("export");
    let ds = tmp.path().join("ds");
    let m = mapping.display().to_string();
    let (out, report) = ingest(
        &ds,
        &[&export],
        &["--mapping", &m, "--max-reject-rate", "1"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    // v1 is skipped (HANG and never queued); n1 has no time at all for its
    // arrival: missing_required, not a call at midnight.
    assert_eq!(
        (
            &f["rows_read"],
            &f["rows_written"],
            &f["rows_filtered"],
            &f["rows_quarantined"]
        ),
        (&6.into(), &4.into(), &1.into(), &1.into()),
        "{report}"
    );
    assert_eq!(f["reasons"]["missing_required"], 1, "{report}");
    let rows = by_id(read_dataset(&ds));
    let t = ts_us;
    let q1 = &rows["q1"];
    assert_eq!(
        (
            q1.arrived_at,
            q1.answered_at,
            q1.ended_at,
            q1.agent_id.as_deref()
        ),
        (
            t("2026-10-01T08:00:00Z"),
            Some(t("2026-10-01T08:00:20Z")),
            Some(t("2026-10-01T08:05:00Z")),
            Some("ann")
        )
    );
    assert_eq!(
        rows["d1"].arrived_at,
        t("2026-10-01T09:00:00Z"),
        "the second time field"
    );
    let h1 = &rows["h1"];
    assert_eq!(
        (
            h1.answered_at,
            h1.ended_at,
            h1.agent_id.as_deref(),
            h1.abandoned
        ),
        (None, Some(t("2026-10-01T10:00:30Z")), None, true),
        "served 0:00:00: unanswered, so not ann's; ends when it left"
    );
    let u1 = &rows["u1"];
    assert_eq!(
        (u1.ended_at, u1.wait_ms),
        (None, None),
        "no end recorded: unknown, not midnight"
    );
}

/// CSV dialects: a `;` file (a spreadsheet in a European locale) and a tab
/// one are recognised from their header, whatever their source; a mapping
/// names its `|` delimiter; a quoted field holds the delimiter and a line
/// break. A file whose header does not fit is told which delimiter it has.
#[test]
fn semicolon_tab_and_pipe_delimiters() {
    let tmp = tempfile::tempdir().expect("tmp");
    let semi = tmp.path().join("semi.csv");
    fs::write(
        &semi,
        "interaction_id;channel;direction;queue;agent_id;arrived_at;answered_at;ended_at;talk_s;disposition\n\
         s1;voice;inbound;q;A1;2026-10-01T08:00:00Z;2026-10-01T08:00:10Z;2026-10-01T08:02:00Z;110;\"paid; then\nasked again\"\n\
         s2;voice;inbound;q;;2026-10-01T08:05:00Z;;2026-10-01T08:05:30Z;;\n",
    )
    .expect("write");
    let five9_tab = tmp.path().join("five9.tsv");
    fs::write(
        &five9_tab,
        "CALL ID\tTIMESTAMP\tCAMPAIGN\tCALL TYPE\tAGENT\tANI\tQUEUE WAIT TIME\tTALK TIME\tHOLD TIME\tAFTER CALL WORK TIME\tTRANSFERS\tABANDONED\tDISPOSITION\n\
         t1\t10/01/2026 08:00:05\tSales\tInbound\tann\t2025550100\t00:00:12\t00:04:48\t00:00:20\t00:00:35\t0\t0\tResolved\n",
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&semi, &five9_tab], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("semi.csv: CSV (\";\" delimited), source generic")
            && out
                .stderr
                .contains("five9.tsv: CSV (tab delimited), source five9"),
        "{}",
        out.stderr
    );
    assert_eq!(report["totals"]["rows_written"], 3, "{report}");
    let rows = by_id(read_dataset(&ds));
    assert_eq!(
        rows["s1"].disposition.as_deref(),
        Some("paid; then\nasked again")
    );
    assert_eq!(rows["s1"].source_line, 2);
    assert_eq!(rows["s2"].source_line, 4, "after a record of two lines");
    assert_eq!((rows["t1"].talk_ms, rows["t1"].acw_ms), (288_000, 35_000));

    let mapping = tmp.path().join("pipe.toml");
    let pipe_mapping = r#"[source]
name = "pipe"
format = "csv"
delimiter = "|"

[columns.interaction_id]
field = "id"

[columns.channel]
value = "chat"

[columns.direction]
value = "inbound"

[columns.arrived_at]
field = "start"

[columns.ended_at]
field = "end"

[columns.talk_ms]
default = "0"

[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#;
    fs::write(&mapping, pipe_mapping).expect("mapping");
    let pipe = tmp.path().join("pipe.txt");
    fs::write(
        &pipe,
        "id|start|end\np1|2026-10-01T09:00:00Z|\"2026-10-01T09:01:00Z\"\n",
    )
    .expect("write");
    let m = mapping.display().to_string();
    let ds2 = tmp.path().join("ds2");
    let (out, report) = ingest(&ds2, &[&pipe], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_written"], 1, "{report}");
    assert_eq!(
        read_dataset(&ds2)[0].ended_at,
        Some(ts_us("2026-10-01T09:01:00Z"))
    );

    // The same mapping without its delimiter line: the header is one
    // field, and the message says what it holds.
    fs::write(&mapping, pipe_mapping.replace("delimiter = \"|\"\n", "")).expect("mapping");
    let (out, _) = ingest(&tmp.path().join("ds3"), &[&pipe], &["--mapping", &m]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "is the file \"|\"-delimited? (a mapping says so with [source] delimiter = \"|\")"
        ),
        "{}",
        out.stderr
    );
    fs::write(
        &mapping,
        pipe_mapping.replace("delimiter = \"|\"", "delimiter = \"::\""),
    )
    .expect("mapping");
    let out = cxpipe(&["mapping", "check", &m]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("pipe.toml:4: [source] delimiter: \"::\" is not one of"),
        "{}",
        out.stderr
    );
}

/// Paths into arrays (SPEC §4.1): a user's mapping reads one row per Genesys
/// conversation — the agent's first interact start as the answer, the last
/// interact end as the end (`pick = "last"`) — and a sum over matching
/// array elements (`pick = "sum"`). Expected times are read off the file.
#[test]
fn json_paths_into_arrays_with_filters_and_picks() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("flat.toml");
    fs::write(
        &mapping,
        r#"[source]
name = "genesys-flat"
format = "json"

[columns.interaction_id]
field = "conversationId"

[columns.channel]
field = "participants[purpose=agent].sessions[].mediaType"
map = { callback = "voice" }

[columns.direction]
value = "inbound"

[columns.agent_id]
field = "participants[purpose=agent].userId"

[columns.arrived_at]
field = "conversationStart"

[columns.answered_at]
field = "participants[purpose=agent].sessions[].segments[segmentType=interact].segmentStart"

[columns.ended_at]
field = "participants[purpose=agent].sessions[].segments[segmentType=interact].segmentEnd"
pick = "last"

[columns.talk_ms]
field = "metrics[name=tTalk].value"
pick = "sum"
unit = "ms"
default = "0"

[columns.hold_ms]
default = "0"

[columns.acw_ms]
default = "0"

[columns.transferred]
default = "false"
"#,
    )
    .expect("mapping");
    let m = mapping.display().to_string();
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-exports/genesys-cloud/conversations.ndjson");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&real], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_written"], 25, "{report}");
    let rows = by_id(read_dataset(&ds));
    let r = &rows["585f63eb-e0be-47b6-a1d0-c65ba586bef2"];
    assert_eq!(
        (
            r.agent_id.as_deref(),
            r.answered_at,
            r.ended_at,
            r.channel.as_str()
        ),
        (
            Some("8c88c7f8-b6ba-4761-b2e5-4ae4425a3991"),
            Some(ts_us("2016-09-06T07:06:33.227Z")),
            Some(ts_us("2016-09-06T07:06:49.299Z")),
            "voice"
        ),
        "the first agent only rang: the answer is the second's interact"
    );

    let synthetic = tmp.path().join("metrics.ndjson");
    fs::write(
        &synthetic,
        "{\"conversationId\":\"m1\",\"conversationStart\":\"2026-10-01T08:00:00Z\",\"participants\":[{\"purpose\":\"agent\",\"userId\":\"u\",\"sessions\":[{\"mediaType\":\"chat\",\"segments\":[{\"segmentType\":\"interact\",\"segmentStart\":\"2026-10-01T08:00:05Z\",\"segmentEnd\":\"2026-10-01T08:01:05Z\"}]}]}],\"metrics\":[{\"name\":\"tTalk\",\"value\":20000},{\"name\":\"tHeld\",\"value\":5000},{\"name\":\"tTalk\",\"value\":\"15000\"}]}\n",
    )
    .expect("write");
    let ds2 = tmp.path().join("ds2");
    let (out, _) = ingest(&ds2, &[&synthetic], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        read_dataset(&ds2)[0].talk_ms,
        35_000,
        "20000 + 15000, not the hold"
    );

    for (text, want) in [
        (
            "[columns.queue]\nfield = \"q\"\npick = \"last\"\n",
            "[columns.queue] pick: chooses among the matches of a JSON path into arrays",
        ),
        (
            "[columns.queue]\nfield = \"q[x\"\n",
            "[columns.queue] field: \"q[x\" is not a path into arrays",
        ),
        (
            "[columns.queue]\nfield = \"q[].name\"\npick = \"middle\"\n",
            "[columns.queue] pick: \"middle\" is not one of first, last, sum",
        ),
    ] {
        let p = tmp.path().join("bad.toml");
        let base = fs::read_to_string(&mapping).expect("mapping");
        fs::write(&p, format!("{base}\n{text}")).expect("write");
        let out = cxpipe(&["mapping", "check", &p.display().to_string()]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(
            out.stderr.contains(want),
            "{}\n  wanted: {want}",
            out.stderr
        );
    }
}

/// An export without ids (`position = true`): each record's id is the
/// file's content hash and its line, so two identical calls stay two; the
/// same name with new content (tomorrow's file) gives new ids; the same
/// content again (`--force`) replaces its own rows instead of adding.
#[test]
fn position_ids_for_an_export_without_ids() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("noid.toml");
    fs::write(
        &mapping,
        "[source]\nname = \"noid\"\nformat = \"csv\"\n\n[columns.interaction_id]\nposition = true\n\n[columns.channel]\nvalue = \"voice\"\n\n[columns.direction]\nvalue = \"inbound\"\n\n[columns.arrived_at]\nfield = \"start\"\n\n[columns.ended_at]\nfield = \"end\"\n\n[columns.talk_ms]\ndefault = \"0\"\n\n[columns.hold_ms]\ndefault = \"0\"\n\n[columns.acw_ms]\ndefault = \"0\"\n\n[columns.transferred]\ndefault = \"false\"\n",
    )
    .expect("mapping");
    let m = mapping.display().to_string();
    let night = tmp.path().join("cdr.csv");
    let same = "2026-10-01T08:00:00Z,2026-10-01T08:01:00Z\n";
    fs::write(&night, format!("start,end\n{same}{same}")).expect("write");
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&night], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("cdr.csv: ids are record positions"),
        "{}",
        out.stderr
    );
    assert_eq!(report["totals"]["rows_written"], 2, "{report}");
    let first: Vec<String> = read_dataset(&ds)
        .into_iter()
        .map(|r| r.interaction_id)
        .collect();
    assert_eq!(first.len(), 2);
    let key = first[0].split(':').next().unwrap_or_default().to_string();
    assert_eq!(key.len(), 16, "{first:?}");
    let mut want = vec![format!("{key}:2"), format!("{key}:3")];
    want.sort();
    let mut got = first.clone();
    got.sort();
    assert_eq!(got, want);

    // Tomorrow's file, same name, one new call: new ids, nothing replaced.
    fs::write(
        &night,
        "start,end\n2026-10-02T08:00:00Z,2026-10-02T08:01:00Z\n",
    )
    .expect("write");
    let (out, report) = ingest(&ds, &[&night], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        (
            report["totals"]["rows_written"].as_u64(),
            report["totals"]["rows_replaced"].as_u64()
        ),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(read_dataset(&ds).len(), 3);
    // The same content again, forced: it replaces its own row.
    let (out, report) = ingest(&ds, &[&night], &["--mapping", &m, "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report["totals"]["rows_replaced"], 1, "{report}");
    assert_eq!(read_dataset(&ds).len(), 3);

    // On stdin there is no file to hash: said so.
    let out = crate::cxpipe_env(
        &[
            "ingest",
            "-",
            "--out",
            &tmp.path().join("ds2").display().to_string(),
            "--mapping",
            &m,
        ],
        Some(b"start,end\n2026-10-01T08:00:00Z,2026-10-01T08:01:00Z\n"),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("need the export as a file"),
        "{}",
        out.stderr
    );
    fs::write(
        &mapping,
        fs::read_to_string(&mapping).expect("read").replace(
            "[columns.channel]\nvalue = \"voice\"",
            "[columns.channel]\nposition = true",
        ),
    )
    .expect("write");
    let out = cxpipe(&["mapping", "check", &m]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("on [columns.interaction_id] only"),
        "{}",
        out.stderr
    );
}

/// A path into arrays works wherever a field is named — here a `skip`
/// condition on the same path a column reads (the condition, read first,
/// once registered the path as a plain key, and the column was then
/// always empty).
#[test]
fn array_paths_in_conditions_and_columns_agree() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mapping = tmp.path().join("m.toml");
    fs::write(
        &mapping,
        "[source]\nname = \"m\"\nformat = \"json\"\nskip = [{ field = \"parts[role=agent].user\", present = false }]\n\n[columns.interaction_id]\nfield = \"id\"\n\n[columns.channel]\nvalue = \"chat\"\n\n[columns.direction]\nvalue = \"outbound\"\n\n[columns.agent_id]\nfield = \"parts[role=agent].user\"\n\n[columns.arrived_at]\nfield = \"start\"\n\n[columns.ended_at]\nfield = \"end\"\n\n[columns.talk_ms]\ndefault = \"0\"\n\n[columns.hold_ms]\ndefault = \"0\"\n\n[columns.acw_ms]\ndefault = \"0\"\n\n[columns.transferred]\ndefault = \"false\"\n",
    )
    .expect("mapping");
    let export = tmp.path().join("x.ndjson");
    fs::write(
        &export,
        "{\"id\":\"k1\",\"start\":\"2026-10-01T08:00:00Z\",\"end\":\"2026-10-01T08:01:00Z\",\"parts\":[{\"role\":\"customer\"},{\"role\":\"agent\",\"user\":\"u7\"}]}\n\
         {\"id\":\"k2\",\"start\":\"2026-10-01T08:00:00Z\",\"end\":\"2026-10-01T08:01:00Z\",\"parts\":[{\"role\":\"customer\"}]}\n",
    )
    .expect("export");
    let m = mapping.display().to_string();
    let ds = tmp.path().join("ds");
    let (out, report) = ingest(&ds, &[&export], &["--mapping", &m]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (f["rows_written"].as_u64(), f["rows_filtered"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(read_dataset(&ds)[0].agent_id.as_deref(), Some("u7"));
    let bad = fs::read_to_string(&mapping).expect("read").replace(
        "field = \"parts[role=agent].user\", present",
        "field = \"parts[role=agent.user\", present",
    );
    fs::write(&mapping, bad).expect("write");
    let out = cxpipe(&["mapping", "check", &m]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("is not a path into arrays"),
        "{}",
        out.stderr
    );
}
