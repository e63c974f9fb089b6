//! The samples of `data-samples/`: one file per reason code and per
//! whole-file failure, compressed inputs, stdin, folders and line numbers.

use std::fs;

use crate::{Case, Expect, In, by_id, check, failed, gzip, ingested, sample, skipped, zstd};

const MR: &str = "malformed_row";

/// One invalid sample on its own: the given lines are quarantined with the
/// file's reason code, the rest written; exit code 3 (reject rate above 5%).
fn reason_sample(
    file: &'static str,
    code: &'static str,
    read: u64,
    lines: &[u64],
) -> crate::Checked {
    let rejects: Vec<(u64, &'static str)> = lines.iter().map(|l| (*l, code)).collect();
    check(
        &Case::paths(&[sample(&format!("invalid/{file}"))]),
        &Expect::new(3, vec![ingested(file, read, 0, &rejects)]),
    )
}

#[test]
fn malformed_row_csv() {
    // Too few fields, too many fields, a line of text, an unterminated quote
    // (which costs its own line only: the rows after it are read).
    let c = reason_sample("malformed_row.csv", MR, 9, &[4, 5, 7, 9]);
    let ids: Vec<&str> = c.rows.iter().map(|r| r.interaction_id.as_str()).collect();
    assert_eq!(ids, ["mr-10", "mr-2", "mr-3", "mr-6", "mr-8"]);
}

#[test]
fn malformed_row_ndjson() {
    // Invalid JSON, an array line, an object value, an array value, a scalar line.
    let c = reason_sample("malformed_row.ndjson", MR, 9, &[3, 4, 5, 7, 8]);
    let lines: Vec<i64> = c.rows.iter().map(|r| r.source_line).collect();
    assert_eq!(lines, [1, 2, 6, 9]);
}

#[test]
fn invalid_utf8() {
    let c = reason_sample("invalid_utf8.csv", "invalid_utf8", 7, &[3, 5, 6, 7]);
    let rows = by_id(&c.rows);
    assert_eq!(
        rows["iu-8"].disposition.as_deref(),
        Some("caf\u{e9} \u{2713}"),
        "valid UTF-8 is kept as is"
    );
}

#[test]
fn missing_required() {
    let c = reason_sample(
        "missing_required.csv",
        "missing_required",
        8,
        &[3, 4, 6, 7, 8],
    );
    let rows = by_id(&c.rows);
    assert!(rows["mq-9"].abandoned);
}

#[test]
fn bad_timestamp() {
    let c = reason_sample("bad_timestamp.csv", "bad_timestamp", 8, &[3, 4, 6, 7, 8]);
    let r = &by_id(&c.rows)["bt-9"];
    // Mixed forms in one row: no offset (UTC), +02:00, and microseconds.
    assert_eq!(r.arrived_at, 1_791_187_200_000_000);
    assert_eq!(r.answered_at, Some(1_791_187_210_000_000));
    assert_eq!(r.ended_at, Some(1_791_187_500_123_456));
    assert_eq!(r.wait_ms, Some(10_000));
}

#[test]
fn bad_duration() {
    let c = reason_sample("bad_duration.csv", "bad_duration", 7, &[3, 4, 6, 7]);
    let r = &by_id(&c.rows)["bd-8"];
    assert_eq!(
        (r.talk_ms, r.hold_ms, r.acw_ms, r.handle_ms),
        (12_500, 250, 0, 12_750)
    );
    // wait_s is checked, not stored: wait_ms comes from the timestamps.
    assert_eq!(by_id(&c.rows)["bd-2"].wait_ms, Some(10_000));
}

#[test]
fn bad_number() {
    let c = reason_sample("bad_number.csv", "bad_number", 6, &[3, 4, 6]);
    let rows = by_id(&c.rows);
    assert_eq!(rows["bn-5"].csat, Some(4), "4.0 is a whole number");
    assert_eq!(rows["bn-7"].csat, None, "a blank csat is null");
}

#[test]
fn bad_enum() {
    let c = reason_sample("bad_enum.csv", "bad_enum", 7, &[3, 4, 6, 7]);
    let r = &by_id(&c.rows)["be-5"];
    assert_eq!(
        (r.channel.as_str(), r.direction.as_str()),
        ("voice", "inbound"),
        "aliases Phone / IN"
    );
}

#[test]
fn time_order() {
    let c = reason_sample("time_order.csv", "time_order", 6, &[3, 4, 5]);
    let rows = by_id(&c.rows);
    assert_eq!(
        rows["to-6"].wait_ms,
        Some(0),
        "arrived = answered = ended is in order"
    );
    assert_eq!(
        rows["to-7"].arrived_at, 1_791_187_200_000_000,
        "offsets are applied before comparing"
    );
    assert_eq!(rows["to-7"].ended_at, Some(1_791_187_260_000_000));
}

#[test]
fn negative_duration() {
    let c = reason_sample("negative_duration.csv", "negative_duration", 6, &[3, 4, 6]);
    assert_eq!(by_id(&c.rows)["nd-5"].acw_ms, 0, "-0 is zero, not negative");
}

#[test]
fn abandoned_with_agent() {
    let c = reason_sample(
        "abandoned_with_agent.csv",
        "abandoned_with_agent",
        6,
        &[3, 4, 7],
    );
    let rows = by_id(&c.rows);
    assert!(
        rows["aw-5"].abandoned,
        "unanswered inbound without a value is abandoned"
    );
    assert!(
        !rows["aw-6"].abandoned,
        "unanswered outbound without a value is not"
    );
}

#[test]
fn csat_out_of_range() {
    let c = reason_sample(
        "csat_out_of_range.csv",
        "csat_out_of_range",
        7,
        &[3, 4, 6, 7],
    );
    let rows = by_id(&c.rows);
    assert_eq!((rows["cr-5"].csat, rows["cr-8"].csat), (Some(1), Some(5)));
}

/// Every file of `data-samples/invalid/`, read as one folder, with the
/// threshold lifted: each reason code is counted, each whole-file failure
/// fails alone, and the run exits 1 because files failed.
#[test]
fn the_invalid_folder_in_one_run() {
    let [connect_bad, connect_cut, five9_bad, talkdesk_bad] = crate::sources::vendor_bad_rows();
    let c = check(
        &Case::paths(&[sample("invalid")])
            .flag("--max-reject-rate")
            .flag("1"),
        &Expect::new(
            1,
            vec![
                ingested(
                    "abandoned_with_agent.csv",
                    6,
                    0,
                    &[
                        (3, "abandoned_with_agent"),
                        (4, "abandoned_with_agent"),
                        (7, "abandoned_with_agent"),
                    ],
                ),
                failed("ambiguous_column.csv", "both give talk_s|talk_ms"),
                failed("array.json", "JSON array"),
                ingested(
                    "bad_duration.csv",
                    7,
                    0,
                    &[
                        (3, "bad_duration"),
                        (4, "bad_duration"),
                        (6, "bad_duration"),
                        (7, "bad_duration"),
                    ],
                ),
                ingested(
                    "bad_enum.csv",
                    7,
                    0,
                    &[
                        (3, "bad_enum"),
                        (4, "bad_enum"),
                        (6, "bad_enum"),
                        (7, "bad_enum"),
                    ],
                ),
                ingested(
                    "bad_number.csv",
                    6,
                    0,
                    &[(3, "bad_number"), (4, "bad_number"), (6, "bad_number")],
                ),
                ingested(
                    "bad_timestamp.csv",
                    8,
                    0,
                    &[
                        (3, "bad_timestamp"),
                        (4, "bad_timestamp"),
                        (6, "bad_timestamp"),
                        (7, "bad_timestamp"),
                        (8, "bad_timestamp"),
                    ],
                ),
                connect_bad,
                failed("connect-not-ctr.ndjson", "not a recognised export"),
                connect_cut,
                failed("corrupt.csv.gz", "checksum"),
                ingested(
                    "csat_out_of_range.csv",
                    7,
                    0,
                    &[
                        (3, "csat_out_of_range"),
                        (4, "csat_out_of_range"),
                        (6, "csat_out_of_range"),
                        (7, "csat_out_of_range"),
                    ],
                ),
                ingested("empty.csv", 0, 0, &[]),
                five9_bad,
                failed(
                    "five9-missing-column.csv",
                    "missing required column TALK TIME",
                ),
                ingested("header_only.csv", 0, 0, &[]),
                ingested(
                    "invalid_utf8.csv",
                    7,
                    0,
                    &[
                        (3, "invalid_utf8"),
                        (5, "invalid_utf8"),
                        (6, "invalid_utf8"),
                        (7, "invalid_utf8"),
                    ],
                ),
                ingested(
                    "malformed_row.csv",
                    9,
                    0,
                    &[(4, MR), (5, MR), (7, MR), (9, MR)],
                ),
                ingested(
                    "malformed_row.ndjson",
                    9,
                    0,
                    &[(3, MR), (4, MR), (5, MR), (7, MR), (8, MR)],
                ),
                failed(
                    "missing_column.csv",
                    "missing required columns direction, ended_at",
                ),
                ingested(
                    "missing_required.csv",
                    8,
                    0,
                    &[
                        (3, "missing_required"),
                        (4, "missing_required"),
                        (6, "missing_required"),
                        (7, "missing_required"),
                        (8, "missing_required"),
                    ],
                ),
                ingested(
                    "negative_duration.csv",
                    6,
                    0,
                    &[
                        (3, "negative_duration"),
                        (4, "negative_duration"),
                        (6, "negative_duration"),
                    ],
                ),
                failed("not_gzip.csv.gz", "gzip"),
                talkdesk_bad,
                failed(
                    "talkdesk-missing-column.csv",
                    "missing required column Finished At",
                ),
                ingested(
                    "time_order.csv",
                    6,
                    0,
                    &[(3, "time_order"), (4, "time_order"), (5, "time_order")],
                ),
                failed("truncated.csv.gz", "read failed"),
            ],
        ),
    );
    let reasons = c.report["totals"]["reasons"].as_object().expect("reasons");
    assert_eq!(
        reasons.len(),
        11,
        "every reason code of SPEC §5 occurs: {reasons:?}"
    );
    // The failed files are not in the ledger: the next run tries them again.
    let ledger: serde_json::Value =
        serde_json::from_slice(&fs::read(c.ds.join("ledger.json")).expect("ledger")).expect("json");
    let names: Vec<&str> = ledger["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    for bad in [
        "ambiguous_column.csv",
        "array.json",
        "corrupt.csv.gz",
        "missing_column.csv",
        "not_gzip.csv.gz",
        "truncated.csv.gz",
        "connect-not-ctr.ndjson",
        "five9-missing-column.csv",
        "talkdesk-missing-column.csv",
    ] {
        assert!(!names.contains(&bad), "{bad} is not in the ledger");
    }
    assert_eq!(names.len(), 18);
}

/// Whole-file failures beside good files: the good ones are ingested, the
/// run exits 1, and nothing of a failed file is kept, even the rows read
/// before its gzip stream broke (truncated: ~260 rows; corrupt: all 400 rows
/// decode, then the checksum fails).
#[test]
fn whole_file_failures_do_not_stop_the_others() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inputs = [
        sample("generic/calls-2026-10-01.csv"),
        sample("invalid/missing_column.csv"),
        sample("invalid/not_gzip.csv.gz"),
        sample("invalid/truncated.csv.gz"),
        sample("invalid/corrupt.csv.gz"),
        sample("invalid/array.json"),
        tmp.path().join("nonexistent.csv"),
        sample("generic/chats.ndjson"),
    ];
    let failures = || {
        vec![
            failed(
                "missing_column.csv",
                "missing required columns direction, ended_at",
            ),
            failed("not_gzip.csv.gz", "the name says gzip"),
            failed("truncated.csv.gz", "read failed"),
            failed("corrupt.csv.gz", "checksum"),
            failed("array.json", "a JSON array"),
            failed("nonexistent.csv", "cannot read"),
        ]
    };
    let mut files = vec![ingested("calls-2026-10-01.csv", 12, 0, &[])];
    files.extend(failures());
    files.push(ingested("chats.ndjson", 3, 0, &[]));
    let c = check(&Case::paths(&inputs), &Expect::new(1, files));
    assert_eq!(c.rows.len(), 15);
    for name in [
        "missing_column.csv",
        "not_gzip.csv.gz",
        "truncated.csv.gz",
        "corrupt.csv.gz",
        "array.json",
        "nonexistent.csv",
    ] {
        assert!(
            c.out.stderr.contains(name),
            "stderr names {name}:\n{}",
            c.out.stderr
        );
    }
    // Again: the good files are skipped, the bad ones fail again.
    let mut files = vec![skipped("calls-2026-10-01.csv")];
    files.extend(failures());
    files.push(skipped("chats.ndjson"));
    let again = check(
        &Case::paths(&inputs).into_dataset(&c.ds),
        &Expect::new(1, files),
    );
    assert_eq!(again.rows, c.rows);
}

#[test]
fn whole_file_failure_alone_exits_1_and_keeps_nothing() {
    for (file, msg) in [
        (
            "missing_column.csv",
            "missing required columns direction, ended_at",
        ),
        ("not_gzip.csv.gz", "gzip"),
        ("truncated.csv.gz", "read failed"),
        ("array.json", "JSON array"),
        ("corrupt.csv.gz", "checksum"),
        (
            "ambiguous_column.csv",
            "\"talk_s\" and \"talk_ms\" both give",
        ),
    ] {
        let c = check(
            &Case::paths(&[sample(&format!("invalid/{file}"))]),
            &Expect::new(1, vec![failed(file, msg)]),
        );
        assert!(c.rows.is_empty());
        let q = fs::read_dir(c.ds.join("quarantine"))
            .expect("quarantine")
            .count();
        assert_eq!(q, 0, "{file}: no quarantine folder for a failed file");
    }
}

#[test]
fn empty_and_header_only_files_are_ingested_with_no_rows() {
    let c = check(
        &Case::paths(&[
            sample("invalid/empty.csv"),
            sample("invalid/header_only.csv"),
        ]),
        &Expect::new(
            0,
            vec![
                ingested("empty.csv", 0, 0, &[]),
                ingested("header_only.csv", 0, 0, &[]),
            ],
        ),
    );
    assert!(c.rows.is_empty());
}

fn plain_rows() -> crate::Checked {
    check(
        &Case::paths(&[
            sample("generic/calls-2026-10-01.csv"),
            sample("generic/chats.ndjson"),
        ]),
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv", 12, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
            ],
        ),
    )
}

/// Rows equal apart from where they came from and the customer pseudonym
/// (each dataset has its own key).
fn same_content(a: &[crate::Rec], b: &[crate::Rec]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        let mut y = y.clone();
        y.source_file = x.source_file.clone();
        y.customer_key = x.customer_key.clone();
        assert_eq!(*x, y);
    }
}

#[test]
fn gzip_zstd_and_multi_member_gzip_inputs() {
    let plain = plain_rows();
    let tmp = tempfile::tempdir().expect("tmp");
    let calls = fs::read(sample("generic/calls-2026-10-01.csv")).expect("calls");
    let chats = fs::read(sample("generic/chats.ndjson")).expect("chats");
    let gz = tmp.path().join("calls-2026-10-01.csv.gz");
    fs::write(&gz, gzip(&calls)).expect("write");
    let zst = tmp.path().join("chats.ndjson.zst");
    fs::write(&zst, zstd(&chats)).expect("write");
    let c = check(
        &Case::paths(&[&gz, &zst]),
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv.gz", 12, 0, &[]),
                ingested("chats.ndjson.zst", 3, 0, &[]),
            ],
        ),
    );
    same_content(&plain.rows, &c.rows);
    let files = c.report["files"].as_array().expect("files");
    assert_eq!(files[0]["compression"], "gzip");
    assert_eq!(files[1]["compression"], "zstd");
    assert_eq!(
        files[0]["bytes"],
        fs::metadata(&gz).expect("meta").len(),
        "bytes as stored"
    );

    // Two gzip members (split in the middle of a record), and gzip content
    // under a plain name (found by its magic bytes).
    let cut = calls.len() / 2;
    let mut multi = gzip(&calls[..cut]);
    multi.extend(gzip(&calls[cut..]));
    let multi_path = tmp.path().join("calls-2026-10-01.csv.gz");
    fs::write(&multi_path, multi).expect("write");
    let disguised = tmp.path().join("chats.ndjson");
    fs::write(&disguised, gzip(&chats)).expect("write");
    let c = check(
        &Case::paths(&[&multi_path, &disguised]),
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv.gz", 12, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
            ],
        ),
    );
    same_content(&plain.rows, &c.rows);
}

#[test]
fn stdin_plain_gzip_and_zstd() {
    let plain = check(
        &Case::paths(&[sample("generic/calls-2026-10-01.csv")]),
        &Expect::new(0, vec![ingested("calls-2026-10-01.csv", 12, 0, &[])]),
    );
    let calls = fs::read(sample("generic/calls-2026-10-01.csv")).expect("calls");
    let c = check(
        &Case {
            inputs: vec![In::Stdin(calls.clone())],
            ..Case::default()
        },
        &Expect::new(0, vec![ingested("stdin", 12, 0, &[])]),
    );
    same_content(&plain.rows, &c.rows);
    assert!(c.rows.iter().all(|r| r.source_file == "stdin"));
    // The same bytes again are recognised from their content and skipped.
    let again = check(
        &Case {
            inputs: vec![In::Stdin(calls.clone())],
            dataset: Some(c.ds.clone()),
            ..Case::default()
        },
        &Expect::new(0, vec![skipped("stdin")]),
    );
    assert_eq!(again.rows, c.rows);

    for bytes in [gzip(&calls), zstd(&calls)] {
        let c = check(
            &Case {
                inputs: vec![In::Stdin(bytes)],
                ..Case::default()
            },
            &Expect::new(0, vec![ingested("stdin", 12, 0, &[])]),
        );
        same_content(&plain.rows, &c.rows);
    }
}

#[test]
fn stdin_with_rejects_and_beside_files() {
    let bad = fs::read(sample("invalid/bad_enum.csv")).expect("sample");
    let c = check(
        &Case {
            inputs: vec![
                In::Path(sample("generic/chats.ndjson")),
                In::Stdin(bad),
                In::Path(sample("invalid/csat_out_of_range.csv")),
            ],
            flags: vec!["--max-reject-rate".into(), "0.9".into()],
            ..Case::default()
        },
        &Expect::new(
            0,
            vec![
                ingested("chats.ndjson", 3, 0, &[]),
                ingested(
                    "stdin",
                    7,
                    0,
                    &[
                        (3, "bad_enum"),
                        (4, "bad_enum"),
                        (6, "bad_enum"),
                        (7, "bad_enum"),
                    ],
                ),
                ingested(
                    "csat_out_of_range.csv",
                    7,
                    0,
                    &[
                        (3, "csat_out_of_range"),
                        (4, "csat_out_of_range"),
                        (6, "csat_out_of_range"),
                        (7, "csat_out_of_range"),
                    ],
                ),
            ],
        ),
    );
    assert!(
        c.ds.join(format!(
            "quarantine/{}/stdin.rejects.csv",
            c.report["ingest_id"].as_str().expect("id")
        ))
        .exists()
    );
}

/// Folders are read recursively, sorted by path; hidden entries and files
/// with other extensions are skipped, each with a note; a file named directly
/// is read whatever its extension; two files with the same name in
/// different folders get separate quarantine files.
#[test]
fn folders_recursive_sorted_and_filtered() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inbox = tmp.path().join("inbox");
    fs::create_dir_all(inbox.join("a/deeper")).expect("mkdir");
    fs::create_dir_all(inbox.join("b")).expect("mkdir");
    fs::create_dir_all(inbox.join(".hidden")).expect("mkdir");
    let calls = fs::read(sample("generic/calls-2026-10-01.csv")).expect("calls");
    fs::write(inbox.join("a/calls.CSV"), &calls).expect("write");
    fs::write(
        inbox.join("a/deeper/chats.jsonl"),
        fs::read(sample("generic/chats.ndjson")).expect("chats"),
    )
    .expect("write");
    fs::write(
        inbox.join("a/x.csv"),
        fs::read(sample("invalid/bad_number.csv")).expect("bad"),
    )
    .expect("write");
    fs::write(
        inbox.join("b/x.csv"),
        fs::read(sample("invalid/bad_enum.csv")).expect("bad"),
    )
    .expect("write");
    fs::write(inbox.join(".secret.csv"), &calls).expect("write");
    fs::write(inbox.join(".hidden/calls.csv"), &calls).expect("write");
    fs::write(inbox.join("notes.md"), "# not data\n").expect("write");
    fs::write(inbox.join("old.parquet"), b"PAR1").expect("write");
    let odd = tmp.path().join("export.dat");
    fs::write(
        &odd,
        fs::read(sample("generic/crlf-bom-reordered.csv")).expect("crlf"),
    )
    .expect("write");
    let c = check(
        &Case::paths(&[&inbox, &odd])
            .flag("--max-reject-rate")
            .flag("1"),
        &Expect::new(
            0,
            vec![
                ingested("calls.CSV", 12, 0, &[]),
                ingested("chats.jsonl", 3, 0, &[]),
                ingested(
                    "x.csv",
                    6,
                    0,
                    &[(3, "bad_number"), (4, "bad_number"), (6, "bad_number")],
                ),
                ingested(
                    "x.csv",
                    7,
                    0,
                    &[
                        (3, "bad_enum"),
                        (4, "bad_enum"),
                        (6, "bad_enum"),
                        (7, "bad_enum"),
                    ],
                ),
                ingested("export.dat", 2, 0, &[]),
            ],
        ),
    );
    let files = c.report["files"].as_array().expect("files");
    let q2 = files[2]["quarantine"].as_str().expect("q");
    let q3 = files[3]["quarantine"].as_str().expect("q");
    assert_ne!(q2, q3, "two files named x.csv get two quarantine files");
    assert!(
        c.out.stderr.contains("notes.md") && c.out.stderr.contains("old.parquet"),
        "skipped files are named:\n{}",
        c.out.stderr
    );
    for hidden in [".secret.csv", ".hidden"] {
        assert!(
            c.out
                .stderr
                .contains(&format!("{hidden} (a hidden file or folder)")),
            "hidden entries are skipped with a word, not silently:\n{}",
            c.out.stderr
        );
    }
}

/// A FIFO in an input folder is skipped with a note, not opened: reading
/// one blocks until a writer closes it, so the run used to hang for ever.
/// The test kills cxpipe after 60 s rather than hang itself.
#[test]
fn a_fifo_in_a_folder_is_skipped_not_waited_for() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inbox = tmp.path().join("inbox");
    fs::create_dir_all(&inbox).expect("mkdir");
    fs::copy(sample("generic/chats.ndjson"), inbox.join("chats.ndjson")).expect("copy");
    let fifo = inbox.join("pipe.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils)");
    assert!(made.success(), "mkfifo failed");
    let ds = tmp.path().join("ds");
    let mut child = std::process::Command::new(crate::bin())
        .args(["ingest", inbox.to_str().expect("utf-8"), "--out"])
        .arg(&ds)
        .env_remove("CXPIPE_PII_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cxpipe");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("cxpipe ingest still waits on the FIFO after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("pipe.csv (not a regular file"),
        "the FIFO is named: {stderr}"
    );
    assert_eq!(crate::read_dataset(&ds).len(), 3, "the other file is read");
}

/// Source lines count physical lines: a BOM, CRLF endings, a quoted field
/// spanning two lines, blank lines (not records) and a last line without a
/// newline. Raw text in quarantine has no line terminator.
#[test]
fn line_numbers_with_crlf_bom_multiline_and_blank_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let text = "\u{feff}interaction_id,channel,direction,arrived_at,ended_at,disposition\r\n\
l-2,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,\"two\r\nlines\"\r\n\
\r\n\
l-5,fax,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,x\r\n\
\n\
l-7,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,\"a \"\"quoted\"\" word, and a comma\"\r\n\
l-8,voice,inbound,2026-10-05T08:00:00Z,yesterday,x";
    let path = tmp.path().join("lines.csv");
    fs::write(&path, text).expect("write");
    let c = check(
        &Case::paths(&[&path]).flag("--max-reject-rate").flag("1"),
        &Expect::new(
            0,
            vec![ingested(
                "lines.csv",
                4,
                0,
                &[(5, "bad_enum"), (8, "bad_timestamp")],
            )],
        ),
    );
    let rows = by_id(&c.rows);
    assert_eq!(rows["l-2"].source_line, 2);
    assert_eq!(rows["l-2"].disposition.as_deref(), Some("two\r\nlines"));
    assert_eq!(rows["l-7"].source_line, 7);
    assert_eq!(
        rows["l-7"].disposition.as_deref(),
        Some("a \"quoted\" word, and a comma")
    );
    let q = crate::read_rejects(
        &c.ds
            .join(c.report["files"][0]["quarantine"].as_str().expect("q")),
    );
    assert_eq!(
        q[0].raw,
        b"l-5,fax,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,x"
    );
    assert_eq!(
        q[1].raw,
        b"l-8,voice,inbound,2026-10-05T08:00:00Z,yesterday,x"
    );
}

/// The quarantine keeps the raw bytes of a record, even when they are not
/// UTF-8 or hold quotes and newlines, so the record can be fixed and re-fed.
#[test]
fn quarantined_raw_text_round_trips() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut text = b"interaction_id,channel,direction,arrived_at,ended_at,disposition\n".to_vec();
    text.extend_from_slice(b"q-2,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,ok\n");
    text.extend_from_slice(b"q-3,fax,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,\"multi\nline, \"\"quoted\"\"\"\n");
    text.extend_from_slice(b"q-5,voice,in\xffbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,x\n");
    let path = tmp.path().join("raw.csv");
    fs::write(&path, &text).expect("write");
    let c = check(
        &Case::paths(&[&path]).flag("--max-reject-rate").flag("1"),
        &Expect::new(
            0,
            vec![ingested(
                "raw.csv",
                3,
                0,
                &[(3, "bad_enum"), (5, "invalid_utf8")],
            )],
        ),
    );
    let q = crate::read_rejects(
        &c.ds
            .join(c.report["files"][0]["quarantine"].as_str().expect("q")),
    );
    assert_eq!(
        q[0].raw,
        b"q-3,fax,inbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,\"multi\nline, \"\"quoted\"\"\"".to_vec()
    );
    assert_eq!(
        q[1].raw,
        b"q-5,voice,in\xffbound,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z,x".to_vec()
    );
}

/// Header names are matched case-insensitively and in any order; columns
/// that map to nothing are ignored and listed in the report.
#[test]
fn header_names_are_case_insensitive_and_extra_columns_ignored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("mixed-case.csv");
    fs::write(
        &path,
        "Vendor_Note,ENDED_AT,Talk_S,Channel,INTERACTION_ID,Arrived_At,Direction,Answered_At,Hold_MS\n\
         ignored text,2026-10-05T08:01:00Z,12.5,Chat,h-2,2026-10-05T08:00:00Z,Out,2026-10-05T08:00:03Z,1500\n",
    )
    .expect("write");
    let c = check(
        &Case::paths(&[&path]),
        &Expect::new(0, vec![ingested("mixed-case.csv", 1, 0, &[])]),
    );
    let r = &c.rows[0];
    assert_eq!(
        (
            r.interaction_id.as_str(),
            r.channel.as_str(),
            r.direction.as_str()
        ),
        ("h-2", "chat", "outbound")
    );
    assert_eq!(
        (r.talk_ms, r.hold_ms, r.wait_ms),
        (12_500, 1_500, Some(3_000))
    );
    assert_eq!(
        c.report["files"][0]["ignored_columns"],
        serde_json::json!(["Vendor_Note"])
    );
}

/// Durations whose sum does not fit the handle time are a row problem, not
/// a crash (SPEC §14: no input makes cxpipe panic).
#[test]
fn huge_durations_are_quarantined_not_a_crash() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("huge.csv");
    fs::write(
        &path,
        "interaction_id,channel,direction,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s\n\
         o-2,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:00:05Z,2026-10-05T08:01:00Z,9000000000000000,9000000000000000,1\n\
         o-3,voice,inbound,2026-10-05T08:00:00Z,2026-10-05T08:00:05Z,2026-10-05T08:01:00Z,50,0,1\n",
    )
    .expect("write");
    let (out, report) = crate::ingest(
        &tmp.path().join("ds"),
        &[&path],
        &["--max-reject-rate", "1"],
    );
    // FIXME(bug): batch.rs RowBuffer::push computes handle_ms as
    // `talk_ms + hold_ms + acw_ms` unchecked: each value parses (9e18 ms fits
    // an i64) but the sum overflows. Debug builds panic in a worker ("a
    // worker thread panicked", exit 1, nothing ingested); release builds wrap
    // and store a negative handle_ms.
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &report["files"][0];
    assert_eq!(
        (
            f["rows_read"].as_u64(),
            f["rows_written"].as_u64(),
            f["rows_quarantined"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let code = f["reasons"]
        .as_object()
        .and_then(|r| r.keys().next().cloned());
    assert_eq!(code.as_deref(), Some("bad_duration"), "{f:#}");
    let rows = crate::read_dataset(&tmp.path().join("ds"));
    assert!(rows.iter().all(|r| r.handle_ms >= 0));
}

/// A gzip stream that breaks after a first 4 MiB chunk of rows (with
/// thousands of rejects) was processed: the file fails, and its staged rows
/// and quarantine are dropped with it.
#[test]
fn a_broken_gzip_with_rejects_leaves_no_quarantine() {
    let bad = fs::read_to_string(sample("invalid/bad_enum.csv")).expect("sample");
    let mut lines = bad.lines();
    let mut text = format!("{}\n", lines.next().expect("header"));
    let body: Vec<&str> = lines.collect();
    for k in 0..10_000 {
        for l in &body {
            text.push_str(&l.replacen("be-", &format!("be{k}-"), 1));
            text.push('\n');
        }
    }
    assert!(
        text.len() * 3 / 4 > 5 << 20,
        "more than one 4 MiB chunk decodes"
    );
    let gz = gzip(text.as_bytes());
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("broken.csv.gz");
    fs::write(&path, &gz[..gz.len() * 3 / 4]).expect("write");
    let c = check(
        &Case::paths(&[path.clone(), sample("generic/chats.ndjson")]),
        &Expect::new(
            1,
            vec![
                failed("broken.csv.gz", "read failed"),
                ingested("chats.ndjson", 3, 0, &[]),
            ],
        ),
    );
    assert_eq!(c.rows.len(), 3);
    assert!(c.report.get("quarantine_dir").is_none(), "{:#}", c.report);
    let q: Vec<_> = fs::read_dir(c.ds.join("quarantine"))
        .expect("quarantine")
        .collect();
    assert!(q.is_empty(), "{q:?}");
}

/// A CSV saved with old Mac line endings (CR only, "CSV (Macintosh)") is
/// read line by line like any other: the same rows and source lines as the
/// LF file. It was read as one header line: 0 rows, exit 0, remembered by
/// the ledger for good. Such a ledger entry (0 rows) is read again.
#[test]
fn cr_only_line_endings_are_read_and_an_empty_ledger_entry_is_retried() {
    let tmp = tempfile::tempdir().expect("tmp");
    let lf = fs::read(sample("generic/calls-2026-10-01.csv")).expect("calls");
    assert!(!lf.contains(&b'\r'), "the sample has LF endings");
    let cr: Vec<u8> = lf
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    let path = tmp.path().join("calls-2026-10-01.csv");
    fs::write(&path, &cr).expect("write");
    let plain = check(
        &Case::paths(&[sample("generic/calls-2026-10-01.csv")]),
        &Expect::new(0, vec![ingested("calls-2026-10-01.csv", 12, 0, &[])]),
    );
    let c = check(
        &Case::paths(&[&path]),
        &Expect::new(0, vec![ingested("calls-2026-10-01.csv", 12, 0, &[])]),
    );
    assert!(c.out.stderr.contains("CR only"), "{}", c.out.stderr);
    let lines = |rows: &[crate::Rec]| -> Vec<(String, i64)> {
        rows.iter()
            .map(|r| (r.interaction_id.clone(), r.source_line))
            .collect()
    };
    assert_eq!(
        lines(&c.rows),
        lines(&plain.rows),
        "same rows, same source lines"
    );

    // The ledger of an older cxpipe: the file recorded with 0 rows and no
    // row stored. The next run reads it again instead of skipping it.
    let ledger_path = c.ds.join("ledger.json");
    let mut ledger: serde_json::Value =
        serde_json::from_slice(&fs::read(&ledger_path).expect("ledger")).expect("json");
    for e in ledger["files"].as_array_mut().expect("files") {
        e["rows_read"] = 0.into();
        e["rows_written"] = 0.into();
    }
    fs::write(&ledger_path, serde_json::to_vec(&ledger).expect("json")).expect("write");
    fs::remove_dir_all(c.ds.join("interactions")).expect("rm");
    fs::create_dir_all(c.ds.join("interactions")).expect("mkdir");
    let again = check(
        &Case::paths(&[&path]).into_dataset(&c.ds),
        &Expect::new(0, vec![ingested("calls-2026-10-01.csv", 12, 0, &[])]),
    );
    assert!(
        again.out.stderr.contains("reading it again"),
        "{}",
        again.out.stderr
    );
    assert_eq!(again.rows.len(), 12);
    // A file recorded with its rows is still skipped.
    check(
        &Case::paths(&[&path]).into_dataset(&c.ds),
        &Expect::new(0, vec![skipped("calls-2026-10-01.csv")]),
    );
}

/// Durations are bounded at ingest (SPEC §13.1 `max_duration_s`, 7 days):
/// an accepted `talk_s` of 9.2e15 made `aht_s` wrap to -4611686018426888.
/// Exactly 7 days is kept; a second more, or 9.2e15, is `bad_duration`.
#[test]
fn durations_over_seven_days_are_quarantined() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("long.csv");
    fs::write(
        &path,
        "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n\
         l1,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-09T10:00:00Z,604800\n\
         l2,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-09T10:00:00Z,604801\n\
         l3,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-09T10:00:00Z,9200000000000000\n",
    )
    .expect("write");
    let c = check(
        &Case::paths(&[&path]).flag("--max-reject-rate").flag("1"),
        &Expect::new(
            0,
            vec![ingested(
                "long.csv",
                3,
                0,
                &[(3, "bad_duration"), (4, "bad_duration")],
            )],
        ),
    );
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].talk_ms, 604_800_000);
}

/// Links between folders are followed once: a loop (`inbox/a/back ->
/// inbox`) and a second link to a folder read already are skipped with a
/// note, so every file is read exactly once and the run ends.
#[test]
fn a_symlink_loop_in_a_folder_reads_each_file_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inbox = tmp.path().join("inbox");
    fs::create_dir_all(inbox.join("a")).expect("mkdir");
    fs::copy(sample("generic/chats.ndjson"), inbox.join("a/chats.ndjson")).expect("copy");
    std::os::unix::fs::symlink(&inbox, inbox.join("a/back")).expect("loop link");
    std::os::unix::fs::symlink(inbox.join("a"), inbox.join("again")).expect("second link");
    let c = check(
        &Case::paths(&[&inbox]),
        &Expect::new(0, vec![ingested("chats.ndjson", 3, 0, &[])]),
    );
    assert!(
        c.out.stderr.contains("a link to a folder already read"),
        "{}",
        c.out.stderr
    );
    assert_eq!(c.rows.len(), 3);
}

/// Blank lines before the header are counted, not carried: 10 MiB of them
/// (more than two 4 MiB reads) before a CSV header, and before NDJSON
/// records, still give each record its true line. (Carried, they were
/// scanned again with every read: 256 MiB took 11 s and 538 MB.)
#[test]
fn many_blank_lines_before_the_header_keep_the_line_numbers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let blank = 10 << 20;
    let mut csv = vec![b'\n'; blank];
    csv.extend_from_slice(
        b"interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n\
          b1,voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,295\n",
    );
    let path = tmp.path().join("blank.csv");
    fs::write(&path, &csv).expect("write");
    let mut ndjson = vec![b'\n'; blank];
    ndjson.extend_from_slice(
        br#"{"interaction_id":"b2","channel":"chat","direction":"inbound","queue":"q","agent_id":"A1","arrived_at":"2026-10-01T10:00:00Z","answered_at":"2026-10-01T10:00:05Z","ended_at":"2026-10-01T10:05:00Z","talk_s":295}"#,
    );
    ndjson.push(b'\n');
    let nd = tmp.path().join("blank.ndjson");
    fs::write(&nd, &ndjson).expect("write");
    let c = check(
        &Case::paths(&[&path, &nd]),
        &Expect::new(
            0,
            vec![
                ingested("blank.csv", 1, 0, &[]),
                ingested("blank.ndjson", 1, 0, &[]),
            ],
        ),
    );
    let line = |id: &str| {
        c.rows
            .iter()
            .find(|r| r.interaction_id == id)
            .expect(id)
            .source_line
    };
    // The header is on line blank + 1, the record on blank + 2.
    assert_eq!(line("b1"), blank as i64 + 2);
    assert_eq!(line("b2"), blank as i64 + 1);
}

/// A line longer than 1 MiB is one malformed record however long, even when
/// it spans the reader's 4 MiB reads: it was split into 1 MiB pieces, each
/// counted as a row, and every later line number shifted by their number.
#[test]
fn an_over_long_line_is_one_record_and_later_lines_keep_their_numbers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let long = "x".repeat(6 << 20);
    let row = |id: &str| {
        format!(
            "{id},voice,inbound,q,A1,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,295\n"
        )
    };
    let csv = format!(
        "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n{}{long}\n{}{}",
        row("o1"),
        row("o2"),
        row("o3")
    );
    let path = tmp.path().join("long-line.csv");
    fs::write(&path, csv).expect("write");
    let json = |id: &str| {
        format!(
            r#"{{"interaction_id":"{id}","channel":"chat","direction":"inbound","queue":"q","agent_id":"A1","arrived_at":"2026-10-01T10:00:00Z","answered_at":"2026-10-01T10:00:05Z","ended_at":"2026-10-01T10:05:00Z","talk_s":295}}"#
        ) + "\n"
    };
    let ndjson = format!("{}{long}\n{}{}", json("n1"), json("n2"), json("n3"));
    let nd = tmp.path().join("long-line.ndjson");
    fs::write(&nd, ndjson).expect("write");
    let c = check(
        &Case::paths(&[&path, &nd])
            .flag("--max-reject-rate")
            .flag("1"),
        &Expect::new(
            0,
            vec![
                ingested("long-line.csv", 4, 0, &[(3, "malformed_row")]),
                ingested("long-line.ndjson", 4, 0, &[(2, "malformed_row")]),
            ],
        ),
    );
    let line = |id: &str| {
        c.rows
            .iter()
            .find(|r| r.interaction_id == id)
            .expect(id)
            .source_line
    };
    assert_eq!((line("o1"), line("o2"), line("o3")), (2, 4, 5));
    assert_eq!((line("n1"), line("n2"), line("n3")), (1, 3, 4));
}
