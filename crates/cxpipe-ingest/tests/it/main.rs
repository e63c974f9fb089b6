//! Integration tests of the `cxpipe-ingest` library through its public API
//! (`ingest`, `read_all`): property tests of the whole pipeline with small
//! chunks, so that records straddle chunk boundaries, and regression tests.

mod compression;
mod corruption;
mod regressions;
mod roundtrip;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use cxpipe_ingest::{IngestOptions, Input, Quiet, RunReport};

/// The pseudonymisation key used by these tests.
pub const KEY: &str = "integration tests of cxpipe-ingest";

/// Options for a test run: small chunks, two workers, a fixed key, no
/// reject threshold.
pub fn opts(ds: &Path, chunk_bytes: usize) -> IngestOptions {
    let mut o = IngestOptions::new(ds);
    o.chunk_bytes = chunk_bytes;
    o.threads = 2;
    o.pii_key = Some(KEY.to_string());
    o.max_reject_rate = 1.0;
    o
}

/// Ingests files; the run itself must succeed.
pub fn run(files: &[PathBuf], opts: &IngestOptions) -> RunReport {
    let inputs: Vec<Input> = files.iter().map(|p| Input::Path(p.clone())).collect();
    cxpipe_ingest::ingest(&inputs, opts, &Quiet, &AtomicBool::new(false)).expect("ingest runs")
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stored {
    pub interaction_id: String,
    pub chain_id: Option<String>,
    pub channel: String,
    pub direction: String,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub team: Option<String>,
    pub site: Option<String>,
    pub customer_key: Option<String>,
    pub arrived_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub wait_ms: Option<i64>,
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub acw_ms: i64,
    pub handle_ms: i64,
    pub abandoned: bool,
    pub transferred: bool,
    pub disposition: Option<String>,
    pub csat: Option<i8>,
    pub source_file: String,
    pub source_line: i64,
}

fn text(col: &ArrayRef, i: usize) -> Option<String> {
    if col.is_null(i) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(i).to_string(),
        DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
            let d = col.as_dictionary::<Int32Type>();
            let key = usize::try_from(d.keys().value(i)).expect("key");
            d.values().as_string::<i32>().value(key).to_string()
        }
        other => panic!("not text: {other:?}"),
    })
}

fn int64(col: &ArrayRef, i: usize) -> Option<i64> {
    (!col.is_null(i)).then(|| col.as_primitive::<Int64Type>().value(i))
}

fn ts(col: &ArrayRef, i: usize) -> Option<i64> {
    (!col.is_null(i)).then(|| col.as_primitive::<TimestampMicrosecondType>().value(i))
}

/// Every `.parquet` file under `DS/interactions`.
pub fn parquet_files(ds: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(parts) = std::fs::read_dir(ds.join("interactions")) {
        for p in parts.flatten() {
            for f in std::fs::read_dir(p.path()).expect("partition").flatten() {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// Every row of the dataset (through `cxpipe_ingest::read_all`), sorted.
pub fn read_rows(ds: &Path) -> Vec<Stored> {
    let mut rows = Vec::new();
    for path in parquet_files(ds) {
        for batch in cxpipe_ingest::read_all(&path).expect("read_all") {
            let c = |name: &str| -> ArrayRef {
                batch
                    .column_by_name(name)
                    .unwrap_or_else(|| panic!("column {name}"))
                    .clone()
            };
            let cols: Vec<ArrayRef> = [
                "interaction_id",
                "chain_id",
                "channel",
                "direction",
                "queue",
                "agent_id",
                "team",
                "site",
                "customer_key",
                "arrived_at",
                "answered_at",
                "ended_at",
                "wait_ms",
                "talk_ms",
                "hold_ms",
                "acw_ms",
                "handle_ms",
                "abandoned",
                "transferred",
                "disposition",
                "csat",
                "source_file",
                "source_line",
            ]
            .iter()
            .map(|n| c(n))
            .collect();
            for i in 0..batch.num_rows() {
                let req =
                    |v: Option<String>, what: &str| v.unwrap_or_else(|| panic!("{what} is null"));
                rows.push(Stored {
                    interaction_id: req(text(&cols[0], i), "interaction_id"),
                    chain_id: text(&cols[1], i),
                    channel: req(text(&cols[2], i), "channel"),
                    direction: req(text(&cols[3], i), "direction"),
                    queue: text(&cols[4], i),
                    agent_id: text(&cols[5], i),
                    team: text(&cols[6], i),
                    site: text(&cols[7], i),
                    customer_key: text(&cols[8], i),
                    arrived_at: ts(&cols[9], i).expect("arrived_at"),
                    answered_at: ts(&cols[10], i),
                    ended_at: ts(&cols[11], i),
                    wait_ms: int64(&cols[12], i),
                    talk_ms: int64(&cols[13], i).expect("talk_ms"),
                    hold_ms: int64(&cols[14], i).expect("hold_ms"),
                    acw_ms: int64(&cols[15], i).expect("acw_ms"),
                    handle_ms: int64(&cols[16], i).expect("handle_ms"),
                    abandoned: cols[17].as_boolean().value(i),
                    transferred: cols[18].as_boolean().value(i),
                    disposition: text(&cols[19], i),
                    csat: (!cols[20].is_null(i))
                        .then(|| cols[20].as_primitive::<Int8Type>().value(i)),
                    source_file: req(text(&cols[21], i), "source_file"),
                    source_line: int64(&cols[22], i).expect("source_line"),
                });
            }
        }
    }
    rows.sort();
    rows
}

/// `data` as one gzip member, compressed in-process (no `gzip` program
/// needed, so the compressed-input tests always run).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// `data` as one zstd frame, compressed in-process.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

/// Number of records in a CSV file (RFC 4180, header included), counting
/// quoted newlines as part of their record.
pub fn csv_record_count(data: &[u8]) -> usize {
    let mut n = 0;
    let mut quoted = false;
    let mut in_record = false;
    for &b in data {
        in_record = true;
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                n += 1;
                in_record = false;
            }
            _ => {}
        }
    }
    n + usize::from(in_record)
}
