//! Times one generation run:
//! `cargo run --release -p cxpipe-generate --example timed -- ROWS OUT [SEED] [LAYOUT]`
//! (LAYOUT: generic, amazon-connect, five9 or talkdesk; the encoding follows
//! OUT's name).
//!
//! Prints rows, bytes, bytes per row and seconds; a program for measuring,
//! not a test.
#![allow(clippy::print_stdout, reason = "an example that reports a measurement")]

use std::path::PathBuf;
use std::time::Instant;

use cxpipe_generate::{GenConfig, Layout, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args.next().as_deref().unwrap_or("10000000").parse()?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/cxpipe-gen.csv".into()));
    let seed: u64 = args.next().as_deref().unwrap_or("42").parse()?;
    let layout: Layout = args.next().as_deref().unwrap_or("generic").parse()?;
    let cfg = GenConfig {
        rows,
        seed,
        format: layout.format_for(&out)?,
        layout,
        ..GenConfig::default()
    };
    let t = Instant::now();
    let s = generate(&cfg, &out)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "rows={} records={} bytes={} bytes/row={:.1} seconds={:.2} rows/s={:.0} facts={}",
        s.rows,
        s.records,
        s.bytes,
        s.bytes as f64 / s.rows.max(1) as f64,
        secs,
        s.rows as f64 / secs,
        s.facts_path.display()
    );
    Ok(())
}
