//! Specific cases around chunking, encodings and cancellation.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cxpipe_ingest::{Error, FileStatus, Input, Quiet, RunReport};

use crate::{Stored, opts, parquet_files, read_rows, run};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples")
}

fn without_source(mut rows: Vec<Stored>) -> Vec<Stored> {
    for r in &mut rows {
        r.source_file.clear();
    }
    rows.sort();
    rows
}

/// Ingests `files` (paths under data-samples/) into fresh datasets with
/// 1 KiB chunks (records straddle every boundary) and the default 4 MiB:
/// each run's report and stored rows. Every run must conserve its rows.
fn in_two_chunk_sizes(files: &[&str]) -> Vec<(RunReport, Vec<Stored>)> {
    let files: Vec<PathBuf> = files.iter().map(|f| samples().join(f)).collect();
    [1024, 4 << 20]
        .into_iter()
        .map(|chunk| {
            let tmp = tempfile::tempdir().expect("tmp");
            let ds = tmp.path().join("ds");
            let report = run(&files, &opts(&ds, chunk));
            assert!(report.conservation_ok, "chunk {chunk}");
            (report, read_rows(&ds))
        })
        .collect()
}

/// The chunk size changes nothing: 1 KiB chunks give the same rows as the
/// default 4 MiB.
#[test]
fn chunk_size_does_not_change_the_data() {
    let runs = in_two_chunk_sizes(&[
        "generic/calls-2026-10-01.csv",
        "generic/chats.ndjson",
        "invalid/malformed_row.csv",
    ]);
    for (report, _) in &runs {
        let counts: Vec<(u64, u64, u64)> = report
            .files
            .iter()
            .map(|f| (f.rows_read, f.rows_written, f.rows_quarantined))
            .collect();
        assert_eq!(counts, [(12, 12, 0), (3, 3, 0), (9, 5, 4)]);
    }
    assert_eq!(runs[0].1, runs[1].1);
}

/// Duplicate Connect records are settled the same whether both land in one
/// chunk (settled there) or in different ones (settled at the end of the
/// run), and a JSON array reads the same in 1 KiB chunks: the greatest
/// `LastUpdateTimestamp` wins either way.
#[test]
fn versions_win_whatever_the_chunking() {
    let runs = in_two_chunk_sizes(&[
        "amazon-connect/ctr-2026-10-01.ndjson",
        "amazon-connect/ctr-2026-10-01-array.json",
        "amazon-connect/ctr-2026-10-02-update.ndjson",
        "invalid/connect-malformed.ndjson",
        "invalid/connect-truncated-array.json",
    ]);
    for (report, rows) in &runs {
        let counts: Vec<(u64, u64, u64, u64)> = report
            .files
            .iter()
            .map(|f| {
                (
                    f.rows_read,
                    f.rows_written,
                    f.rows_quarantined,
                    f.duplicates_dropped,
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                (11, 9, 0, 2),
                (5, 5, 0, 0),
                (4, 3, 0, 1),
                (15, 4, 11, 0),
                (4, 3, 1, 0)
            ]
        );
        let csat = |prefix: &str| {
            rows.iter()
                .find(|r| r.interaction_id.starts_with(prefix))
                .map(|r| (r.csat, r.source_file.clone()))
        };
        assert_eq!(
            csat("ac-0010"),
            Some((Some(2), "ctr-2026-10-01.ndjson".into()))
        );
        assert_eq!(
            csat("ac-0004"),
            Some((Some(3), "ctr-2026-10-02-update.ndjson".into()))
        );
    }
    assert_eq!(runs[0].1, runs[1].1);
}

const HEADER: &str = "interaction_id,channel,direction,queue,arrived_at,ended_at";

fn row(i: usize) -> String {
    format!(
        "u-{i},voice,outbound,q{},2026-10-05T08:00:00Z,2026-10-05T08:01:00Z\n",
        i % 7
    )
}

/// An unterminated quote in a file of many chunks costs its own line only:
/// the reader carries the open record across chunks until the end of the
/// file, then cuts it at its first line.
#[test]
fn an_unterminated_quote_across_many_chunks_costs_one_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut text = format!("{HEADER}\n");
    for i in 2..300 {
        if i == 40 {
            text.push_str(
                "u-40,voice,outbound,\"never closed,2026-10-05T08:00:00Z,2026-10-05T08:01:00Z\n",
            );
        } else {
            text.push_str(&row(i));
        }
    }
    assert!(text.len() > 10 * 1024);
    let path = tmp.path().join("open-quote.csv");
    fs::write(&path, text).expect("write");
    let ds = tmp.path().join("ds");
    let report = run(std::slice::from_ref(&path), &opts(&ds, 1024));
    let f = &report.files[0];
    assert_eq!(
        (f.rows_read, f.rows_written, f.rows_quarantined),
        (298, 297, 1)
    );
    assert_eq!(f.reasons.get("malformed_row"), Some(&1));
    let rows = read_rows(&ds);
    assert!(
        rows.iter()
            .all(|r| r.source_line == r.interaction_id[2..].parse::<i64>().expect("n"))
    );
}

/// A UTF-8 byte-order mark before a header longer than one chunk.
#[test]
fn a_bom_before_a_header_longer_than_a_chunk() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extra: Vec<String> = (0..80)
        .map(|i| format!("vendor_extra_column_{i:03}"))
        .collect();
    let header = format!("\u{feff}{HEADER},{}\n", extra.join(","));
    assert!(header.len() > 1024);
    let mut text = header;
    for i in 2..10 {
        text.push_str(row(i).trim_end());
        text.push_str(&",".repeat(extra.len()));
        text.push('\n');
    }
    let path = tmp.path().join("wide.csv");
    fs::write(&path, text).expect("write");
    let ds = tmp.path().join("ds");
    let report = run(std::slice::from_ref(&path), &opts(&ds, 1024));
    let f = &report.files[0];
    // Regression: the BOM used to be stripped from the first buffer only, so
    // a header needing a second read kept it glued to `interaction_id` and
    // the file failed with "missing required column interaction_id".
    assert_eq!(f.status, FileStatus::Ingested, "{:?}", f.message);
    assert_eq!(f.rows_written, 8);
}

/// JSON numbers as ids are kept digit for digit: two different 30-digit
/// ids are two rows, not one id rounded through f64.
#[test]
fn big_json_number_ids_are_not_rounded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("big.ndjson");
    let line = |id: &str| {
        format!(
            "{{\"interaction_id\":{id},\"channel\":\"chat\",\"direction\":\"outbound\",\
             \"arrived_at\":\"2026-10-05T08:00:00Z\",\"ended_at\":\"2026-10-05T08:01:00Z\"}}\n"
        )
    };
    fs::write(
        &path,
        line("123456789012345678901234567890") + &line("123456789012345678901234567891"),
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let report = run(std::slice::from_ref(&path), &opts(&ds, 1024));
    let f = &report.files[0];
    assert_eq!(f.rows_read, 2);
    let ids: Vec<String> = read_rows(&ds)
        .into_iter()
        .map(|r| r.interaction_id)
        .collect();
    // Regression: numbers used to become text through f64, so both ids
    // became "1.2345678901234568e29" and one row was dropped as a duplicate.
    assert_eq!(
        ids,
        [
            "123456789012345678901234567890",
            "123456789012345678901234567891"
        ],
        "report: written {} duplicates {} quarantined {}",
        f.rows_written,
        f.duplicates_dropped,
        f.rows_quarantined
    );
}

/// CSV and NDJSON records with the same values store the same values
/// (here: a non-breaking space at the end of an agent id).
#[test]
fn csv_and_ndjson_trim_alike() {
    let tmp = tempfile::tempdir().expect("tmp");
    let csv = tmp.path().join("a.csv");
    fs::write(
        &csv,
        "interaction_id,channel,direction,agent_id,arrived_at,ended_at\n\
         t-1,voice,outbound, A7\u{a0},2026-10-05T08:00:00Z,2026-10-05T08:01:00Z\n",
    )
    .expect("write");
    let nd = tmp.path().join("b.ndjson");
    fs::write(
        &nd,
        "{\"interaction_id\":\"t-2\",\"channel\":\"voice\",\"direction\":\"outbound\",\"agent_id\":\" A7\u{a0}\",\
         \"arrived_at\":\"2026-10-05T08:00:00Z\",\"ended_at\":\"2026-10-05T08:01:00Z\"}\n",
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    run(&[csv, nd], &opts(&ds, 1024));
    let agents: Vec<Option<String>> = read_rows(&ds).into_iter().map(|r| r.agent_id).collect();
    // Regression: NDJSON values used to be trimmed of all Unicode white
    // space and CSV fields of ASCII white space only: one agent became two.
    assert_eq!(agents[0], agents[1], "{agents:?}");
}

/// A run cancelled before it starts returns `Interrupted` and leaves no
/// data, quarantine, report or ledger behind.
#[test]
fn a_cancelled_run_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let cancel = AtomicBool::new(true);
    let inputs = [Input::Path(samples().join("invalid/bad_enum.csv"))];
    let result = cxpipe_ingest::ingest(&inputs, &opts(&ds, 1024), &Quiet, &cancel);
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert!(parquet_files(&ds).is_empty());
    assert!(!ds.join("ledger.json").exists());
    assert!(!ds.join(".staging").exists());
    assert_eq!(
        fs::read_dir(ds.join("quarantine"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    assert_eq!(
        fs::read_dir(ds.join("ingests"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    // The next run is unaffected.
    let report = run(&[samples().join("invalid/bad_enum.csv")], &opts(&ds, 1024));
    assert_eq!(report.totals.rows_written, 3);
}

/// Re-running the same files into a dataset through the library: skipped,
/// nothing changes; with `force`, the same rows.
#[test]
fn ledger_through_the_library() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let files = [samples().join("generic/calls-2026-10-01.csv")];
    let first = run(&files, &opts(&ds, 1024));
    assert_eq!(first.totals.rows_written, 12);
    let rows = read_rows(&ds);
    let again = run(&files, &opts(&ds, 1024));
    assert_eq!(again.files[0].status, FileStatus::Skipped);
    assert!(!again.committed);
    let mut o = opts(&ds, 1024);
    o.force = true;
    let forced = run(&files, &o);
    assert_eq!(forced.totals.rows_replaced, 12);
    assert_eq!(without_source(read_rows(&ds)), without_source(rows));
}

/// JSON numbers in exponent form are numbers: `1.5e2` seconds is 150 s,
/// `2E3` ms is 2 s, `5e-05` s rounds to 0 ms (Python writes small floats so).
#[test]
fn json_numbers_with_exponents_are_numbers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("exp.ndjson");
    fs::write(
        &path,
        "{\"interaction_id\":\"e-1\",\"channel\":\"chat\",\"direction\":\"outbound\",\
         \"arrived_at\":\"2026-10-05T08:00:00Z\",\"ended_at\":\"2026-10-05T08:01:00Z\",\
         \"talk_s\":1.5e2,\"hold_ms\":2E3,\"acw_s\":5e-05}\n",
    )
    .expect("write");
    let ds = tmp.path().join("ds");
    let report = run(std::slice::from_ref(&path), &opts(&ds, 1024));
    // FIXME(bug): since NDJSON values keep their raw text (generic.rs
    // JsonFields::parse), a number is passed on as written and
    // parse::duration_ms (decimal_scaled) has no exponent syntax: valid JSON
    // numbers are quarantined as bad_duration. Before, they went through f64
    // and were accepted.
    assert_eq!(
        report.files[0].rows_quarantined, 0,
        "{:?}",
        report.files[0].reasons
    );
    let rows = read_rows(&ds);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].talk_ms, rows[0].hold_ms, rows[0].acw_ms),
        (150_000, 2_000, 0)
    );
}
