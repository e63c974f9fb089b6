//! The dataset on disk (SPEC §3, §6), read back with the `parquet` crate:
//! schema and file properties, row-for-row equality with the samples,
//! time zones, dedupe across lines, files and runs, the ledger and --force.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrow_schema::{DataType, TimeUnit as ArrowUnit};
use parquet::basic::{Compression, Encoding, LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

use crate::{
    COLUMNS, Case, Expect, Rec, by_id, check, ingest, ingested, parquet_files, parse_csv,
    read_dataset, sample, skipped, snapshot, ts_us, utc_date,
};

fn generic_samples() -> crate::Checked {
    check(
        &Case::paths(&[
            sample("generic/calls-2026-10-01.csv"),
            sample("generic/chats.ndjson"),
            sample("generic/crlf-bom-reordered.csv"),
        ]),
        &Expect::new(
            0,
            vec![
                ingested("calls-2026-10-01.csv", 12, 0, &[]),
                ingested("chats.ndjson", 3, 0, &[]),
                ingested("crlf-bom-reordered.csv", 2, 0, &[]),
            ],
        ),
    )
}

/// The Arrow type, nullability and kind of each column, from SPEC §3.
fn spec_column(name: &str) -> (DataType, bool) {
    let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let ts = DataType::Timestamp(ArrowUnit::Microsecond, Some("UTC".into()));
    match name {
        "interaction_id" => (DataType::Utf8, false),
        "chain_id" | "customer_key" => (DataType::Utf8, true),
        "channel" | "direction" | "source_file" => (dict, false),
        "queue" | "agent_id" | "team" | "site" | "disposition" => (dict, true),
        "arrived_at" => (ts, false),
        // Schema version 2: an export may record no end (and so no wait).
        "answered_at" | "ended_at" => (ts, true),
        "wait_ms" => (DataType::Int64, true),
        "talk_ms" | "hold_ms" | "acw_ms" | "handle_ms" | "source_line" => (DataType::Int64, false),
        "abandoned" | "transferred" => (DataType::Boolean, false),
        "csat" => (DataType::Int8, true),
        other => panic!("unknown column {other}"),
    }
}

/// Every Parquet file: the Arrow schema stored in it (ARROW:schema) is the
/// one of SPEC §3, the Parquet types are µs UTC timestamps / strings / Int8,
/// every column chunk is zstd-compressed, with statistics, low-cardinality
/// columns are dictionary-encoded, and the schema version is in the
/// key-value metadata.
#[test]
fn parquet_schema_and_properties() {
    let c = generic_samples();
    let files = parquet_files(&c.ds);
    assert!(files.len() >= 3, "one file per day at least: {files:?}");
    let mut rows = 0;
    for path in &files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let id = c.report["ingest_id"].as_str().expect("id");
        assert!(
            name.starts_with(&format!("part-{id}-")),
            "{name} is named after the ingest"
        );
        let r = SerializedFileReader::new(fs::File::open(path).expect("open")).expect("parquet");
        let md = r.metadata();
        let fm = md.file_metadata();
        rows += fm.num_rows();
        let kv: BTreeMap<&str, Option<&str>> = fm
            .key_value_metadata()
            .expect("key-value metadata")
            .iter()
            .map(|k| (k.key.as_str(), k.value.as_deref()))
            .collect();
        assert_eq!(kv.get("cxpipe.schema_version"), Some(&Some("2")), "{name}");
        assert!(
            kv.contains_key("ARROW:schema"),
            "{name} stores its Arrow schema"
        );

        let arrow =
            parquet::arrow::parquet_to_arrow_schema(fm.schema_descr(), fm.key_value_metadata())
                .expect("arrow schema");
        let names: Vec<&str> = arrow.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, COLUMNS);
        for f in arrow.fields() {
            let (ty, nullable) = spec_column(f.name());
            assert_eq!(f.data_type(), &ty, "Arrow type of {}", f.name());
            assert_eq!(f.is_nullable(), nullable, "nullability of {}", f.name());
        }

        let schema = fm.schema_descr();
        for (i, col) in COLUMNS.iter().enumerate() {
            let d = schema.column(i);
            let (ty, _) = spec_column(col);
            let want = match ty {
                DataType::Utf8 | DataType::Dictionary(..) => {
                    (Physical::BYTE_ARRAY, Some(LogicalType::String))
                }
                DataType::Timestamp(..) => (
                    Physical::INT64,
                    Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
                ),
                DataType::Int64 => (Physical::INT64, None),
                DataType::Boolean => (Physical::BOOLEAN, None),
                DataType::Int8 => (Physical::INT32, Some(LogicalType::integer(8, true))),
                other => panic!("{other:?}"),
            };
            assert_eq!(
                (d.physical_type(), d.logical_type_ref().cloned()),
                want,
                "Parquet type of {col}"
            );
        }
        assert!(md.num_row_groups() >= 1);
        for rg in md.row_groups() {
            for (i, col) in COLUMNS.iter().enumerate() {
                let cc = rg.column(i);
                assert!(
                    matches!(cc.compression(), Compression::ZSTD(_)),
                    "{col} in {name}: {:?}",
                    cc.compression()
                );
                // Pseudonyms, chain ids and free text carry no min/max by
                // choice (parquet_io.rs: they prune nothing); every other
                // column has statistics.
                let pruning = !matches!(*col, "customer_key" | "chain_id" | "disposition");
                assert_eq!(
                    cc.statistics().is_some(),
                    pruning,
                    "statistics of {col} in {name}"
                );
                if matches!(spec_column(col).0, DataType::Dictionary(..)) {
                    let encodings: Vec<Encoding> = cc.encodings().collect();
                    assert!(
                        cc.dictionary_page_offset().is_some()
                            && encodings.iter().any(|e| matches!(
                                e,
                                Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY
                            )),
                        "{col} in {name} is dictionary-encoded: {encodings:?}"
                    );
                }
            }
        }
    }
    assert_eq!(rows, 17);
}

/// Trimmed, non-blank field values of one input record, by lower-case name.
type Fields = BTreeMap<String, String>;

/// The records of a CSV sample (header names lower-cased, BOM removed),
/// with their 1-based line numbers (the samples have no multi-line records).
fn csv_records(path: &Path) -> Vec<(i64, Fields)> {
    let bytes = fs::read(path).expect("sample");
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let recs = parse_csv(bytes);
    let header: Vec<String> = recs[0]
        .iter()
        .map(|h| String::from_utf8_lossy(h).to_lowercase())
        .collect();
    recs[1..]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            assert_eq!(r.len(), header.len());
            let f = header
                .iter()
                .zip(r)
                .map(|(h, v)| {
                    (
                        h.clone(),
                        String::from_utf8(v.clone())
                            .expect("utf-8")
                            .trim()
                            .to_string(),
                    )
                })
                .filter(|(_, v)| !v.is_empty())
                .collect();
            (i as i64 + 2, f)
        })
        .collect()
}

/// The records of an NDJSON sample with their line numbers (blank lines skipped).
fn ndjson_records(path: &Path) -> Vec<(i64, Fields)> {
    let text = fs::read_to_string(path).expect("sample");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Map<String, Value> = serde_json::from_str(line).expect("object");
        let f = v
            .into_iter()
            .filter_map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => return None,
                    other => panic!("{other}"),
                };
                Some((k.to_lowercase(), s)).filter(|(_, s)| !s.is_empty())
            })
            .collect();
        out.push((i as i64 + 1, f));
    }
    out
}

fn duration_ms(f: &Fields, stem: &str) -> i64 {
    if let Some(s) = f.get(&format!("{stem}_s")) {
        (s.parse::<f64>().expect("seconds") * 1000.0).round() as i64
    } else if let Some(ms) = f.get(&format!("{stem}_ms")) {
        ms.parse().expect("ms")
    } else {
        0
    }
}

/// What SPEC §3 says the stored row of a valid generic record is, computed
/// without cxpipe's code; `offset_us` is added to timestamps without an offset
/// (the zone's UTC offset). The customer key is checked separately.
fn expected(f: &Fields, file: &str, line: i64, offset_us: i64) -> Rec {
    let t = |k: &str| {
        f.get(k).map(|s| {
            let naive = !(s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'));
            ts_us(s) + if naive { offset_us } else { 0 }
        })
    };
    let arrived_at = t("arrived_at").expect("arrived_at");
    let answered_at = t("answered_at");
    let ended_at = t("ended_at");
    let (talk_ms, hold_ms, acw_ms) = (
        duration_ms(f, "talk"),
        duration_ms(f, "hold"),
        duration_ms(f, "acw"),
    );
    let direction = f["direction"].clone();
    let s = |k: &str| f.get(k).cloned();
    Rec {
        interaction_id: f["interaction_id"].clone(),
        chain_id: s("chain_id"),
        channel: f["channel"].clone(),
        queue: s("queue"),
        agent_id: s("agent_id"),
        team: s("team"),
        site: s("site"),
        customer_key: None,
        arrived_at,
        answered_at,
        ended_at,
        wait_ms: answered_at.or(ended_at).map(|t| (t - arrived_at) / 1000),
        talk_ms,
        hold_ms,
        acw_ms,
        handle_ms: talk_ms + hold_ms + acw_ms,
        abandoned: match f.get("abandoned").map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            Some(other) => panic!("{other}"),
            None => answered_at.is_none() && direction == "inbound",
        },
        direction,
        transferred: f.get("transferred").is_some_and(|v| v == "true"),
        disposition: s("disposition")
            .map(|d| d.replace("4111 1111 1111 1111", "**** **** **** 1111")),
        csat: f.get("csat").map(|v| v.parse().expect("csat")),
        source_file: file.to_string(),
        source_line: line,
        partition: utc_date(arrived_at),
    }
}

/// Compares stored rows with the expected ones, id by id. The customer key
/// must be 32 lower-case hex digits exactly when the record had a customer.
fn assert_rows(stored: &[Rec], records: &[(&str, i64, Fields)], offset_us: i64) {
    let stored = by_id(stored);
    assert_eq!(stored.len(), records.len(), "one stored row per record");
    for (file, line, f) in records {
        let mut want = expected(f, file, *line, offset_us);
        let got = stored
            .get(&want.interaction_id)
            .unwrap_or_else(|| panic!("{} stored", want.interaction_id));
        match (&got.customer_key, f.contains_key("customer_id")) {
            (Some(k), true) => {
                assert_eq!(k.len(), 32, "{k}");
                assert!(
                    k.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                    "{k}"
                );
                want.customer_key = Some(k.clone());
            }
            (None, false) => {}
            (k, had) => panic!(
                "{}: customer_key {k:?}, record had a customer: {had}",
                want.interaction_id
            ),
        }
        assert_eq!(*got, want, "row {}", want.interaction_id);
    }
}

fn sample_records() -> Vec<(&'static str, i64, Fields)> {
    let mut records = Vec::new();
    for (name, recs) in [
        (
            "calls-2026-10-01.csv",
            csv_records(&sample("generic/calls-2026-10-01.csv")),
        ),
        (
            "chats.ndjson",
            ndjson_records(&sample("generic/chats.ndjson")),
        ),
        (
            "crlf-bom-reordered.csv",
            csv_records(&sample("generic/crlf-bom-reordered.csv")),
        ),
    ] {
        records.extend(recs.into_iter().map(|(l, f)| (name, l, f)));
    }
    records
}

/// Row for row, every column of every sample equals what the input says.
#[test]
fn rows_equal_the_samples() {
    let c = generic_samples();
    assert_rows(&c.rows, &sample_records(), 0);
    // Spot checks of the derivations, in plain numbers.
    let r = by_id(&c.rows);
    let c1 = &r["c000000000001"];
    assert_eq!(
        (c1.arrived_at, c1.wait_ms, c1.talk_ms, c1.handle_ms),
        (1_790_841_605_000_000, Some(12_000), 303_000, 358_000)
    );
    assert_eq!(
        r["c000000000008"].disposition.as_deref(),
        Some("refund to card **** **** **** 1111 issued")
    );
    assert_eq!(
        r["c000000000010"].arrived_at,
        ts_us("2026-10-01T20:10:00Z"),
        "+02:00 is converted to UTC"
    );
    assert_eq!(
        r["c000000000011"].partition, "2026-10-01",
        "partition = UTC date of arrival"
    );
    assert_eq!(r["j-3"].source_line, 4, "NDJSON lines count blank lines");
    assert_eq!((r["j-3"].talk_ms, r["j-3"].acw_ms), (300_000, 60_000));
    assert_eq!(r["n-2"].csat, None);
    assert_eq!(r["n-2"].source_line, 3);
}

/// `--tz`: wall-clock times are read in the zone (DST-aware) and stored as
/// UTC; times with an offset are unaffected; partitions follow the UTC date.
#[test]
fn time_zone_flag() {
    let tmp = tempfile::tempdir().expect("tmp");
    let late = tmp.path().join("late.csv");
    fs::write(
        &late,
        "interaction_id,channel,direction,arrived_at,ended_at\n\
         z-2,voice,outbound,2026-10-02 22:30:00,2026-10-02 22:35:00\n\
         z-3,voice,outbound,2026-12-02 22:30:00,2026-12-02T22:35:00-05:00\n\
         z-4,voice,outbound,2026-10-02T22:30:00Z,2026-10-02T22:35:00Z\n\
         z-5,voice,outbound,2026-03-08 02:30:00,2026-03-08 03:40:00\n\
         z-6,voice,outbound,2026-11-01 01:30:00,2026-11-01 01:40:00\n",
    )
    .expect("write");
    let c = check(
        &Case::paths(&[sample("generic/crlf-bom-reordered.csv"), late.clone()])
            .flag("--tz")
            .flag("America/New_York"),
        &Expect::new(
            0,
            vec![
                ingested("crlf-bom-reordered.csv", 2, 0, &[]),
                ingested("late.csv", 5, 0, &[]),
            ],
        ),
    );
    assert_eq!(c.report["tz"], "America/New_York");
    let edt = 4 * 3_600_000_000;
    let records: Vec<(&str, i64, Fields)> = csv_records(&sample("generic/crlf-bom-reordered.csv"))
        .into_iter()
        .map(|(l, f)| ("crlf-bom-reordered.csv", l, f))
        .collect();
    let stored: Vec<Rec> = c
        .rows
        .iter()
        .filter(|r| r.source_file == "crlf-bom-reordered.csv")
        .cloned()
        .collect();
    assert_rows(&stored, &records, edt);
    let r = by_id(&c.rows);
    assert_eq!(r["n-1"].arrived_at, ts_us("2026-10-02T13:00:00Z"));
    assert_eq!(
        r["z-2"].arrived_at,
        ts_us("2026-10-03T02:30:00Z"),
        "EDT is UTC-4"
    );
    assert_eq!(
        r["z-2"].partition, "2026-10-03",
        "the partition is the UTC date"
    );
    assert_eq!(
        r["z-3"].arrived_at,
        ts_us("2026-12-03T03:30:00Z"),
        "EST is UTC-5"
    );
    assert_eq!(r["z-3"].ended_at, Some(ts_us("2026-12-03T03:35:00Z")));
    assert_eq!(
        r["z-4"].arrived_at,
        ts_us("2026-10-02T22:30:00Z"),
        "an explicit Z ignores --tz"
    );
    // DST: 02:30 on 8 March does not exist (the later instant, 03:30 EDT, is
    // taken); 01:30 on 1 November happens twice (the earlier, EDT, is taken).
    assert_eq!(r["z-5"].arrived_at, ts_us("2026-03-08T07:30:00Z"));
    assert_eq!(r["z-5"].ended_at, Some(ts_us("2026-03-08T07:40:00Z")));
    assert_eq!(r["z-6"].arrived_at, ts_us("2026-11-01T05:30:00Z"));
}

// ---------------------------------------------------------------------------
// Dedupe, ledger, --force.
// ---------------------------------------------------------------------------

const HEADER: &str =
    "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s";

/// A CSV of answered calls: (id, queue, day of October 2026).
pub(crate) fn calls_csv(dir: &Path, name: &str, rows: &[(&str, &str, u32)]) -> PathBuf {
    let mut s = format!("{HEADER}\n");
    for (id, queue, day) in rows {
        s.push_str(&format!(
            "{id},voice,inbound,{queue},A1,2026-10-{day:02}T08:00:00Z,2026-10-{day:02}T08:00:05Z,2026-10-{day:02}T08:01:00Z,50\n"
        ));
    }
    let p = dir.join(name);
    fs::write(&p, s).expect("write");
    p
}

/// (id → (queue, source_file, source_line, partition)) of the dataset.
fn versions(rows: &[Rec]) -> BTreeMap<String, (String, String, i64, String)> {
    rows.iter()
        .map(|r| {
            (
                r.interaction_id.clone(),
                (
                    r.queue.clone().unwrap_or_default(),
                    r.source_file.clone(),
                    r.source_line,
                    r.partition.clone(),
                ),
            )
        })
        .collect()
}

fn v(q: &str, f: &str, l: i64, p: &str) -> (String, String, i64, String) {
    (q.into(), f.into(), l, p.into())
}

fn no_empty_partitions(ds: &Path) {
    for p in fs::read_dir(ds.join("interactions"))
        .expect("interactions")
        .flatten()
    {
        assert!(
            fs::read_dir(p.path()).expect("partition").next().is_some(),
            "{} is empty",
            p.path().display()
        );
    }
}

#[test]
fn dedupe_within_a_file_later_line_wins() {
    let tmp = tempfile::tempdir().expect("tmp");
    let f = calls_csv(
        tmp.path(),
        "d.csv",
        &[
            ("d1", "old", 5),
            ("d2", "old", 5),
            ("d1", "new", 6),
            ("d3", "only", 5),
            ("d2", "new", 7),
            ("d1", "newest", 5),
        ],
    );
    let c = check(
        &Case::paths(&[&f]),
        &Expect::new(0, vec![ingested("d.csv", 6, 3, &[])]),
    );
    let want = BTreeMap::from([
        ("d1".to_string(), v("newest", "d.csv", 7, "2026-10-05")),
        ("d2".to_string(), v("new", "d.csv", 6, "2026-10-07")),
        ("d3".to_string(), v("only", "d.csv", 5, "2026-10-05")),
    ]);
    assert_eq!(versions(&c.rows), want);
    no_empty_partitions(&c.ds);
}

#[test]
fn dedupe_across_files_of_one_run_later_file_wins() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = calls_csv(
        tmp.path(),
        "a.csv",
        &[("x1", "a", 5), ("x2", "a", 5), ("x3", "a", 5)],
    );
    let b = calls_csv(tmp.path(), "b.csv", &[("x2", "b", 6), ("x4", "b", 6)]);
    let c = check(
        &Case::paths(&[&a, &b]),
        &Expect::new(
            0,
            vec![ingested("a.csv", 3, 1, &[]), ingested("b.csv", 2, 0, &[])],
        ),
    );
    assert_eq!(versions(&c.rows)["x2"], v("b", "b.csv", 2, "2026-10-06"));
    let c = check(
        &Case::paths(&[&b, &a]),
        &Expect::new(
            0,
            vec![ingested("b.csv", 2, 1, &[]), ingested("a.csv", 3, 0, &[])],
        ),
    );
    assert_eq!(versions(&c.rows)["x2"], v("a", "a.csv", 3, "2026-10-05"));
    assert_eq!(c.rows.len(), 4);
    // The same file twice in one run: the second copy wins every row.
    check(
        &Case::paths(&[&a, &a]),
        &Expect::new(
            0,
            vec![ingested("a.csv", 3, 3, &[]), ingested("a.csv", 3, 0, &[])],
        ),
    );
}

/// Later runs replace rows already in the dataset, wherever they are
/// stored: a row that moves to another day leaves its old partition, and a
/// partition left empty goes away.
#[test]
fn dedupe_across_runs_later_run_wins() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = calls_csv(
        tmp.path(),
        "a.csv",
        &[
            ("x1", "a", 5),
            ("x2", "a", 5),
            ("x3", "a", 5),
            ("x9", "a", 7),
        ],
    );
    let b = calls_csv(
        tmp.path(),
        "b.csv",
        &[("x2", "b", 6), ("x4", "b", 6), ("x9", "b", 8)],
    );
    let first = check(
        &Case::paths(&[&a]),
        &Expect::new(0, vec![ingested("a.csv", 4, 0, &[])]),
    );
    let mut exp = Expect::new(0, vec![ingested("b.csv", 3, 0, &[])]);
    exp.replaced = 2;
    let c = check(&Case::paths(&[&b]).into_dataset(&first.ds), &exp);
    let want = BTreeMap::from([
        ("x1".to_string(), v("a", "a.csv", 2, "2026-10-05")),
        ("x2".to_string(), v("b", "b.csv", 2, "2026-10-06")),
        ("x3".to_string(), v("a", "a.csv", 4, "2026-10-05")),
        ("x4".to_string(), v("b", "b.csv", 3, "2026-10-06")),
        ("x9".to_string(), v("b", "b.csv", 4, "2026-10-08")),
    ]);
    assert_eq!(versions(&c.rows), want);
    assert!(
        !first.ds.join("interactions/date=2026-10-07").exists(),
        "the emptied partition is removed"
    );
    no_empty_partitions(&first.ds);
    assert!(
        c.out
            .stderr
            .contains("2 rows already in the dataset replaced"),
        "{}",
        c.out.stderr
    );

    // A changed file under the same name is read again; its rows win.
    let a2 = calls_csv(tmp.path(), "a.csv", &[("x1", "a2", 5)]);
    let mut exp = Expect::new(0, vec![ingested("a.csv", 1, 0, &[])]);
    exp.replaced = 1;
    let c = check(&Case::paths(&[&a2]).into_dataset(&first.ds), &exp);
    assert_eq!(versions(&c.rows)["x1"], v("a2", "a.csv", 2, "2026-10-05"));
    assert_eq!(c.rows.len(), 5);
}

/// Re-ingesting an ingested file is a no-op (not even a run report); a copy
/// under another name has the same content and is skipped too; `--force`
/// reads it again and the dataset stays exactly the same rows.
#[test]
fn ledger_skip_and_force() {
    let c = check(
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
    );
    let before = snapshot(&c.ds);
    let again = check(
        &Case::paths(&[
            sample("generic/calls-2026-10-01.csv"),
            sample("generic/chats.ndjson"),
        ])
        .into_dataset(&c.ds),
        &Expect::new(
            0,
            vec![skipped("calls-2026-10-01.csv"), skipped("chats.ndjson")],
        ),
    );
    assert_eq!(again.report["committed"], false);
    assert_eq!(
        snapshot(&c.ds),
        before,
        "a skipped run changes nothing on disk"
    );
    assert!(
        again.out.stderr.contains("already ingested"),
        "{}",
        again.out.stderr
    );

    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("renamed.csv");
    fs::copy(sample("generic/calls-2026-10-01.csv"), &copy).expect("copy");
    check(
        &Case::paths(&[&copy]).into_dataset(&c.ds),
        &Expect::new(0, vec![skipped("renamed.csv")]),
    );
    assert_eq!(snapshot(&c.ds), before);

    let mut exp = Expect::new(0, vec![ingested("calls-2026-10-01.csv", 12, 0, &[])]);
    exp.replaced = 12;
    let forced = check(
        &Case::paths(&[sample("generic/calls-2026-10-01.csv")])
            .flag("--force")
            .into_dataset(&c.ds),
        &exp,
    );
    assert_eq!(
        forced.rows, c.rows,
        "--force keeps the dataset exact: same rows, no duplicates"
    );
    // A forced re-read replaces its ledger entry.
    let ledger: Value =
        serde_json::from_slice(&fs::read(c.ds.join("ledger.json")).expect("ledger")).expect("json");
    let entries = ledger["files"].as_array().expect("files");
    assert_eq!(entries.len(), 2, "{ledger:#}");
    let calls: Vec<&Value> = entries
        .iter()
        .filter(|e| e["name"] == "calls-2026-10-01.csv")
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["ingest_id"], forced.report["ingest_id"]);
    assert_eq!(
        fs::read_dir(c.ds.join("ingests")).expect("ingests").count(),
        2
    );
    // And --force with a file that has rejects: the quarantine is written again.
    let (out, report) = ingest(
        &c.ds,
        &[&sample("invalid/bad_enum.csv")],
        &["--max-reject-rate", "1"],
    );
    assert_eq!(out.code, 0);
    let (out2, report2) = ingest(
        &c.ds,
        &[&sample("invalid/bad_enum.csv")],
        &["--max-reject-rate", "1", "--force"],
    );
    assert_eq!(out2.code, 0);
    assert_eq!(report2["totals"]["rows_replaced"], 3);
    assert_ne!(
        report["files"][0]["quarantine"],
        report2["files"][0]["quarantine"]
    );
    assert!(
        c.ds.join(report2["files"][0]["quarantine"].as_str().expect("q"))
            .exists()
    );
    assert_eq!(read_dataset(&c.ds).len(), 18);
}

/// The ledger records name, size and content hash (xxh3-128) of each ingested file, and the
/// counts; `ingests/` holds one report per committed run.
#[test]
fn ledger_contents() {
    let c = generic_samples();
    let ledger: Value =
        serde_json::from_slice(&fs::read(c.ds.join("ledger.json")).expect("ledger")).expect("json");
    let files = ledger["files"].as_array().expect("files");
    assert_eq!(files.len(), 3);
    for (e, name) in files.iter().zip([
        "calls-2026-10-01.csv",
        "chats.ndjson",
        "crlf-bom-reordered.csv",
    ]) {
        assert_eq!(e["name"], name);
        let path = sample(&format!("generic/{name}"));
        let bytes = fs::read(&path).expect("read");
        assert_eq!(e["size"], bytes.len());
        assert_eq!(e["xxh3_128"].as_str().expect("hash").len(), 32);
        assert_eq!(e["ingest_id"], c.report["ingest_id"]);
        assert_eq!(e["rows_read"], e["rows_written"]);
    }
    let reports: Vec<_> = fs::read_dir(c.ds.join("ingests"))
        .expect("ingests")
        .flatten()
        .collect();
    assert_eq!(reports.len(), 1);
}

/// Rows per column read back with the parquet row API match the column
/// order the dataset promises, for files rewritten by dedupe too.
#[test]
fn rewritten_files_keep_the_schema() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = calls_csv(tmp.path(), "a.csv", &[("r1", "a", 5), ("r2", "a", 5)]);
    let b = calls_csv(tmp.path(), "b.csv", &[("r2", "b", 5)]);
    let first = check(
        &Case::paths(&[&a]),
        &Expect::new(0, vec![ingested("a.csv", 2, 0, &[])]),
    );
    let mut exp = Expect::new(0, vec![ingested("b.csv", 1, 0, &[])]);
    exp.replaced = 1;
    check(&Case::paths(&[&b]).into_dataset(&first.ds), &exp);
    for path in parquet_files(&first.ds) {
        let r = SerializedFileReader::new(fs::File::open(&path).expect("open")).expect("parquet");
        let kv = r
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap_or_default();
        assert!(
            kv.iter()
                .any(|k| k.key == "cxpipe.schema_version" && k.value.as_deref() == Some("2")),
            "{} keeps the schema version",
            path.display()
        );
    }
}

/// `generate --quote-text` writes every text field quoted, as pandas and
/// pyarrow write CSV: the same rows, other bytes. Ingested, both shapes give
/// the same dataset row for row (the quoted one goes through the CSV
/// parser's quoted path on every record).
#[test]
fn quoted_and_bare_text_fields_ingest_to_the_same_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut rows = Vec::new();
    for (name, extra) in [("bare.csv", None), ("quoted.csv", Some("--quote-text"))] {
        let export = tmp.path().join(name);
        let mut args = vec![
            "generate",
            "--rows",
            "3000",
            "--days",
            "5",
            "--seed",
            "5",
            "--out",
            export.to_str().expect("utf-8"),
        ];
        args.extend(extra);
        let out = crate::cxpipe(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let text = fs::read_to_string(&export).expect("export");
        let second = text.lines().nth(1).unwrap_or_default();
        assert_eq!(second.starts_with('"'), extra.is_some(), "{second}");
        let ds = tmp.path().join(format!("ds-{name}"));
        let out = crate::cxpipe_env(
            &[
                "ingest",
                export.to_str().expect("utf-8"),
                "--out",
                ds.to_str().expect("utf-8"),
                "--json",
            ],
            None,
            &[("CXPIPE_PII_KEY", "quoted-and-bare-text-fields")],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let report: Value = serde_json::from_slice(&out.stdout).expect("report");
        assert_eq!(report["totals"]["rows_written"], 3000, "{report}");
        let mut got: Vec<String> = read_dataset(&ds)
            .into_iter()
            .map(|mut r| {
                r.source_file = String::new();
                format!("{r:?}")
            })
            .collect();
        got.sort();
        rows.push(got);
    }
    assert_eq!(rows[0], rows[1]);
}
