//! Integration tests of `cxpipe-generate`: the files it writes, read back
//! with an independent CSV/JSON parser and checked against the layout, the
//! invariants of SPEC §3 and the planted facts.

mod facts;
mod layout;
mod pinned;
mod vendor;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cxpipe_generate::{FileFormat, GenConfig, GenerateSummary, generate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A generated file kept for the whole test binary (generation is the slow
/// part, and several tests read the same file).
struct Generated {
    _dir: tempfile::TempDir,
    path: PathBuf,
    summary: GenerateSummary,
}

/// Generates (once per configuration) and returns the file's path and summary.
fn generated(rows: u64, seed: u64, name: &str) -> (PathBuf, GenerateSummary) {
    type Cache = Mutex<HashMap<(u64, u64, String), Generated>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let g = cache
        .entry((rows, seed, name.to_string()))
        .or_insert_with(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join(name);
            let summary = gen_to(&path, rows, seed);
            Generated {
                _dir: dir,
                path,
                summary,
            }
        });
    (g.path.clone(), g.summary.clone())
}

fn gen_to(path: &Path, rows: u64, seed: u64) -> GenerateSummary {
    let cfg = GenConfig {
        rows,
        seed,
        format: FileFormat::from_path(path),
        ..GenConfig::default()
    };
    generate(&cfg, path).expect("generation succeeds")
}

/// One CSV row, by field name.
#[derive(Debug, Clone)]
struct Rec {
    f: Vec<String>,
}

impl Rec {
    fn get(&self, name: &str) -> &str {
        let i = cxpipe_generate::FIELDS
            .iter()
            .position(|f| *f == name)
            .expect("known field");
        &self.f[i]
    }
    fn secs(&self, name: &str) -> Option<i64> {
        let v = self.get(name);
        (!v.is_empty()).then(|| parse_ts(v))
    }
}

/// Reads a generated CSV file with the `csv` crate (strict: every record
/// must have as many fields as the header).
fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Rec>), Box<dyn std::error::Error>> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)?;
    let header = rd.headers()?.iter().map(str::to_string).collect();
    let mut out = Vec::new();
    for r in rd.records() {
        let r = r?;
        out.push(Rec {
            f: r.iter().map(str::to_string).collect(),
        });
    }
    Ok((header, out))
}

/// `YYYY-MM-DDTHH:MM:SSZ` to Unix seconds, strictly.
fn parse_ts(s: &str) -> i64 {
    let b = s.as_bytes();
    assert_eq!(b.len(), 20, "timestamp {s}");
    assert!(
        b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'Z',
        "{s}"
    );
    let n = |r: std::ops::Range<usize>| -> i64 { s[r].parse().expect("digits") };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // days_from_civil
    let y2 = y - i64::from(m <= 2);
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// Reads the facts file as JSON.
fn read_facts(summary: &GenerateSummary) -> serde_json::Value {
    let text = std::fs::read_to_string(&summary.facts_path).expect("facts file");
    serde_json::from_str(&text).expect("facts are JSON")
}
