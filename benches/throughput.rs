//! Micro-benchmark of the library paths, without the CLI: generate a month
//! of generic CSV, then ingest it into a fresh dataset, and print bytes/s and
//! rows/s for each. `cargo bench --bench throughput -- [ROWS]` (default
//! 1,000,000). The whole-tool comparison with DuckDB and Polars is
//! `scripts/bench.sh`.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cxpipe_generate::{FileFormat, GenConfig, generate};
use cxpipe_ingest::{IngestOptions, Input, Quiet, ingest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("month.csv");
    let cfg = GenConfig {
        rows,
        format: FileFormat::Csv,
        ..GenConfig::default()
    };
    let t = Instant::now();
    let summary = generate(&cfg, &csv)?;
    report("generate", summary.bytes, rows, t.elapsed().as_secs_f64());

    for threads in [1, 0] {
        let out = dir.path().join(format!("dataset-{threads}"));
        let mut opts = IngestOptions::new(&out);
        opts.threads = threads;
        let t = Instant::now();
        let r = ingest(
            &[Input::Path(csv.clone())],
            &opts,
            &Quiet,
            &AtomicBool::new(false),
        )?;
        assert!(r.conservation_ok, "conservation failed");
        let label = if threads == 1 {
            "ingest (1 worker)"
        } else {
            "ingest (all cores)"
        };
        report(
            label,
            summary.bytes,
            r.totals.rows_read,
            t.elapsed().as_secs_f64(),
        );
    }
    Ok(())
}

#[allow(clippy::print_stdout, reason = "a benchmark program reports on stdout")]
fn report(what: &str, bytes: u64, rows: u64, secs: f64) {
    println!(
        "{what:<20} {rows:>11} rows  {:>8.3} s  {:>8.1} MB/s  {:>10.0} rows/s",
        secs,
        bytes as f64 / 1e6 / secs,
        rows as f64 / secs
    );
}
