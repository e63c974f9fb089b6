//! Pinned bytes: any change to what the generator writes fails here.
//!
//! The expected hashes are XXH3-64 of files written by the generator as it
//! was before the issue-14 refactoring (`cxpipe generate` of commit
//! 2094305), each in a folder of its own (a data file's facts go beside it
//! under one name per stem), hashed once outside Rust with the xxHash
//! project's own tool, `xxhsum -H3 FILE` (Debian package `xxhash`, 0.8.1).
//! For example the first case is
//!
//! ```text
//! cxpipe generate --rows 8000 --seed 2026 --days 40 --out generic.csv --roster roster.csv
//! xxhsum -H3 generic.csv generic.facts.json roster.csv
//! ```
//!
//! (`sha256sum` of the same files, for a reader without xxhsum:
//! generic.csv 51ec109c51c4e315…, connect.ndjson d98a22e2ec018fd1…,
//! connect.json 5e51c8be1d76a069…, five9.csv 9e08f5fbb05e5963…,
//! talkdesk.csv 49ad9f8c374151f1…, generic.ndjson de44a123d3a64171…,
//! busy.csv b028f0e2df47beab….)
//!
//! A deliberate change of the generated data updates these numbers in the
//! same commit, recomputed the same way, and says why.

use std::path::Path;

use cxpipe_generate::{GenConfig, GenerateSummary, Layout, generate, write_roster};
use xxhash_rust::xxh3::xxh3_64;

use crate::TestResult;

/// 40 days from 2026-10-01 (through the end of US daylight saving time on
/// 2026-11-01, which the Five9 layout's New York times cross), 8000 rows,
/// seed 2026: 8 agents, with hires, departures, transfers and (in the
/// amazon-connect layout) duplicate records.
fn month(layout: Layout, out: &Path) -> Result<GenConfig, cxpipe_generate::Error> {
    Ok(GenConfig {
        rows: 8000,
        seed: 2026,
        days: 40,
        layout,
        format: layout.format_for(out)?,
        ..GenConfig::default()
    })
}

/// Generates `name` in `layout` and returns the hashes of the data file and
/// of its facts file.
fn hashes(
    layout: Layout,
    name: &str,
) -> Result<(u64, u64, GenerateSummary), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join(name);
    let summary = generate(&month(layout, &out)?, &out)?;
    let data = xxh3_64(&std::fs::read(&out)?);
    let facts = xxh3_64(&std::fs::read(&summary.facts_path)?);
    Ok((data, facts, summary))
}

#[test]
fn generic_csv_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::Generic, "generic.csv")?;
    assert_eq!(summary.bytes, 1_348_758);
    assert_eq!(
        data, 0x4ebc_5eb6_0117_6e16,
        "generic.csv changed: {data:016x}"
    );
    assert_eq!(
        facts, 0xc217_af8b_4d5c_14b9,
        "generic.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn generic_ndjson_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::Generic, "generic.ndjson")?;
    assert_eq!(summary.bytes, 3_032_740);
    assert_eq!(
        data, 0xb033_90a9_5611_65d1,
        "generic.ndjson changed: {data:016x}"
    );
    // The facts differ from the CSV's only in `"format": "ndjson"`.
    assert_eq!(
        facts, 0x7e8f_e94f_48af_41b9,
        "generic.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn amazon_connect_ndjson_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::AmazonConnect, "connect.ndjson")?;
    assert_eq!(summary.bytes, 9_776_111);
    assert_eq!(
        data, 0x964c_849c_6575_5428,
        "connect.ndjson changed: {data:016x}"
    );
    assert_eq!(
        facts, 0xa10e_afdc_b40a_df1d,
        "connect.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn amazon_connect_json_array_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::AmazonConnect, "connect.json")?;
    assert_eq!(summary.bytes, 9_784_146);
    assert_eq!(
        data, 0xde23_2b50_6c62_b4ce,
        "connect.json changed: {data:016x}"
    );
    assert_eq!(
        facts, 0x6bab_f296_aa9d_cff8,
        "connect.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn five9_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::Five9, "five9.csv")?;
    assert_eq!(summary.bytes, 1_153_854);
    assert_eq!(
        data, 0xba23_198e_edb6_d552,
        "five9.csv changed: {data:016x}"
    );
    assert_eq!(
        facts, 0x8ab4_0d68_1c39_0d48,
        "five9.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn talkdesk_bytes_are_pinned() -> TestResult {
    let (data, facts, summary) = hashes(Layout::Talkdesk, "talkdesk.csv")?;
    assert_eq!(summary.bytes, 1_262_732);
    assert_eq!(
        data, 0xec17_d28e_efb6_256b,
        "talkdesk.csv changed: {data:016x}"
    );
    assert_eq!(
        facts, 0xc43d_1713_42c7_9461,
        "talkdesk.facts.json: {facts:016x}"
    );
    Ok(())
}

/// Three busy days (4000 rows a day): the understaffed intervals are
/// planted (they need 2000 rows a day), which changes the waits.
#[test]
fn busy_days_bytes_are_pinned() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("busy.csv");
    let cfg = GenConfig {
        rows: 12_000,
        seed: 5,
        days: 3,
        ..GenConfig::default()
    };
    let summary = generate(&cfg, &out)?;
    let data = xxh3_64(&std::fs::read(&out)?);
    let facts = xxh3_64(&std::fs::read(&summary.facts_path)?);
    assert_eq!(data, 0x8090_7898_da45_d698, "busy.csv changed: {data:016x}");
    assert_eq!(
        facts, 0x107a_954c_5416_3c5f,
        "busy.facts.json: {facts:016x}"
    );
    Ok(())
}

#[test]
fn roster_bytes_are_pinned() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("roster.csv");
    write_roster(&month(Layout::Generic, Path::new("generic.csv"))?, &out)?;
    let roster = xxh3_64(&std::fs::read(&out)?);
    assert_eq!(
        roster, 0x514d_12dc_11c0_41d2,
        "roster.csv changed: {roster:016x}"
    );
    Ok(())
}

/// Generation runs on the caller's rayon pool; the bytes do not depend on
/// its size (one thread, or more threads than this machine has cores).
#[test]
fn the_bytes_do_not_depend_on_the_number_of_threads() -> TestResult {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let (csv, _, _) =
            pool.install(|| hashes(Layout::Generic, "generic.csv").map_err(|e| e.to_string()))?;
        assert_eq!(csv, 0x4ebc_5eb6_0117_6e16, "{threads} threads");
        let (json, facts, _) = pool
            .install(|| hashes(Layout::AmazonConnect, "connect.json").map_err(|e| e.to_string()))?;
        assert_eq!(json, 0xde23_2b50_6c62_b4ce, "{threads} threads");
        assert_eq!(facts, 0x6bab_f296_aa9d_cff8, "{threads} threads");
    }
    Ok(())
}
