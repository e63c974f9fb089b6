//! Fuzzing the parts that meet raw bytes: the record splitter, the CSV
//! and NDJSON field readers with the row checks behind them, and the
//! mapping compiler (with a mapping's JSON reader).
//!
//! `cargo fuzz` needs a nightly toolchain, which this project's machines do
//! not have; this is the stable alternative: proptest drives each target
//! with inputs mutated from a corpus kept in the repository
//! (`crates/cxpipe-ingest/fuzz/corpus/<target>/`), plus bytes from a small
//! alphabet of the characters that matter (quotes, commas, CR, LF, NUL,
//! braces). Each target checks properties, not just "no panic":
//!
//! - `split`: records tile the buffer, splitting in two pieces gives the
//!   records of one piece, and (under 1 MiB, at the end of input) the
//!   records are those of a naive RFC 4180 reference;
//! - `csv`: every path of the parser (quote-free, simply quoted, csv-core's)
//!   gives csv-core's fields;
//! - `row`: a record the generic source accepts satisfies SPEC §3 (time
//!   order, durations within the limits, handle = talk + hold + acw,
//!   derived wait, no agent on an abandon, CSAT 1..5);
//! - `mapping`: compiling any text returns a mapping or a message that
//!   names the origin, and a compiled JSON mapping reads any bytes, its
//!   fast JSON walk reading what the serde walk reads whenever it does not
//!   give up.
//!
//! Every corpus file is replayed by `corpus_replays` on every test run.
//! `CXPIPE_FUZZ_CASES=N` sets the generated cases per target (default
//! 256); a long run is `CXPIPE_FUZZ_CASES=200000 cargo test --release -p
//! cxpipe-ingest fuzz`. A failure proptest finds is shrunk; its input
//! belongs in the corpus as a new file.

use std::path::PathBuf;

use proptest::prelude::*;

use crate::csv::CsvParser;
use crate::pii::{KeySource, Pseudonymizer};
use crate::read::split::{Framing, MALFORMED, MAX_RECORD, split};
use crate::row::{Context, Limits, Row, convert};
use crate::source::generic::{CsvFields, CsvLayout, JsonFields};
use crate::source::mapping::{BUILTIN, Mapped, Mapping, Record};

/// The targets, named as their corpus folders.
const TARGETS: [&str; 5] = ["split", "csv", "row", "ndjson", "mapping"];

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The corpus files of a target (sorted, so runs are repeatable).
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir(target))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

fn run_target(target: &str, input: &[u8]) {
    match target {
        "split" => check_split(input),
        "csv" => check_csv(input),
        "row" => check_row(input),
        "ndjson" => check_ndjson(input),
        "mapping" => check_mapping(input),
        _ => panic!("unknown fuzz target {target}"),
    }
}

// ---------------------------------------------------------------------------
// split
// ---------------------------------------------------------------------------

/// The records of `buf` as (start, end, malformed), splitting it at once.
fn records(buf: &[u8], framing: Framing, delim: u8) -> Vec<(usize, usize, bool)> {
    let s = split(buf, framing, true, delim);
    assert!(s.skipped_bytes == 0 && s.framing_after.is_none() || buf.len() >= MAX_RECORD);
    let out = spans(&s.ends, s.skipped_bytes);
    let prev = out.last().map_or(s.skipped_bytes, |r| r.1);
    assert_eq!(
        s.consumed,
        buf.len(),
        "at the end of input every byte is consumed"
    );
    assert_eq!(prev, buf.len(), "the records tile the buffer");
    out
}

/// Record ends (with the malformed flag) as (start, end, malformed) spans
/// from `start`; each record is non-empty and follows the last.
fn spans(ends: &[u32], start: usize) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::with_capacity(ends.len());
    let mut prev = start;
    for &e in ends {
        let end = (e & !MALFORMED) as usize;
        assert!(
            end > prev,
            "records are not empty and in order: {prev}..{end}"
        );
        out.push((prev, end, e & MALFORMED != 0));
        prev = end;
    }
    out
}

/// The same records, with the buffer given in two pieces: the first
/// without `eof`, its unconsumed tail carried into the second.
fn records_in_two(
    buf: &[u8],
    framing: Framing,
    delim: u8,
    cut: usize,
) -> Vec<(usize, usize, bool)> {
    let first = split(&buf[..cut], framing, false, delim);
    assert!(first.consumed <= cut);
    let mut out = spans(&first.ends, 0);
    let prev = out.last().map_or(0, |r| r.1);
    assert_eq!(prev, first.consumed, "consumed ends at the last record");
    let base = first.consumed;
    for (a, b, m) in records(&buf[base..], framing, delim) {
        out.push((a + base, b + base, m));
    }
    out
}

/// A naive RFC 4180 record splitter (the reference): a quote opens a
/// quoted field only at a field's start, `""` inside one is a quote, and
/// a newline outside quotes ends the record. A record whose quote never
/// closes is cut after its first line and marked malformed.
fn reference_csv(buf: &[u8], delim: u8) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let (mut i, mut quoted, mut field_start) = (start, false, true);
        let end = loop {
            if i == buf.len() {
                break None;
            }
            let c = buf[i];
            if quoted {
                if c == b'"' {
                    if buf.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        quoted = false;
                    }
                }
            } else if c == b'"' && field_start {
                quoted = true;
            } else if c == b'\n' {
                break Some(i + 1);
            }
            field_start = !quoted && c == delim;
            i += 1;
        };
        match end {
            Some(e) => {
                out.push((start, e, false));
                start = e;
            }
            None if !quoted => {
                out.push((start, buf.len(), false));
                start = buf.len();
            }
            None => {
                let e = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p + 1);
                out.push((start, e, true));
                start = e;
            }
        }
    }
    out
}

/// The delimiters CSV exports use (`[source] delimiter`).
const DELIMITERS: [u8; 4] = [b',', b';', b'|', b'\t'];

fn check_split(input: &[u8]) {
    for (framing, delim) in [(Framing::Lines, b',')]
        .into_iter()
        .chain(DELIMITERS.map(|d| (Framing::Csv, d)))
    {
        let whole = records(input, framing, delim);
        for cut in [
            input.len() / 3,
            input.len() / 2,
            input.len().saturating_sub(1),
        ] {
            assert_eq!(
                records_in_two(input, framing, delim, cut),
                whole,
                "{framing:?} ({delim}), cut at {cut} of {}",
                input.len()
            );
        }
        if framing == Framing::Csv && input.len() < MAX_RECORD {
            assert_eq!(
                whole,
                reference_csv(input, delim),
                "against the reference ({delim})"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// csv
// ---------------------------------------------------------------------------

/// csv-core's fields of one record (the reference for the fast path).
fn csv_core_fields(rec: &[u8], delim: u8) -> Vec<Vec<u8>> {
    let mut rdr = csv_core::ReaderBuilder::new()
        .delimiter(delim)
        .terminator(csv_core::Terminator::Any(b'\n'))
        .build();
    let mut out = vec![0u8; rec.len() + 16];
    let mut ends = vec![0usize; rec.len() + 2];
    let (res, _, _, n) = rdr.read_record(rec, &mut out, &mut ends);
    let n = match res {
        csv_core::ReadRecordResult::Record => n,
        _ => {
            let (_, _, _, m) = rdr.read_record(&[], &mut out, &mut ends[n..]);
            n + m
        }
    };
    let mut fields = Vec::new();
    let mut start = 0;
    for &e in &ends[..n] {
        fields.push(out[start..e].to_vec());
        start = e;
    }
    fields
}

fn check_csv(input: &[u8]) {
    for delim in DELIMITERS {
        check_csv_with(input, delim);
    }
}

fn check_csv_with(input: &[u8], delim: u8) {
    let mut p = CsvParser::with_delimiter(delim);
    for rec in input.split(|&b| b == b'\n') {
        let Ok(n) = p.parse(rec) else {
            continue;
        };
        assert!(n >= 1, "a record has at least one field");
        let ours: Vec<Vec<u8>> = (0..n).map(|i| p.field(rec, i).to_vec()).collect();
        // (csv-core gives no field at all for an empty record; cxpipe one
        // empty field, and the splitter drops blank lines before.)
        if !rec.contains(&b'"') && !rec.is_empty() {
            assert!(!p.was_quoted());
        }
        // Every path (bare, simply quoted, csv-core's) gives csv-core's fields.
        if !rec.is_empty() {
            assert_eq!(
                ours,
                csv_core_fields(rec, delim),
                "parser vs csv-core on {rec:?} (quoted path: {})",
                p.was_quoted()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// row: the generic CSV source and the checks of SPEC §3
// ---------------------------------------------------------------------------

fn context<'p>(
    zone: &'p cxpipe_model::Zone,
    pii: &'p Pseudonymizer,
    limits: Limits,
) -> Context<'p> {
    Context { zone, pii, limits }
}

fn pii() -> Pseudonymizer {
    Pseudonymizer::from_material(b"fuzzing cxpipe-ingest, not a secret", KeySource::Env)
}

/// SPEC §3's invariants of a row that passed the checks.
fn assert_valid(r: &Row<'_>, limits: &Limits) {
    let times = [Some(r.arrived_at), r.answered_at, r.ended_at];
    for t in times.into_iter().flatten() {
        assert!(
            (limits.min_time_us..=limits.max_time_us).contains(&t),
            "{t} out of range"
        );
    }
    match (r.answered_at, r.ended_at) {
        (Some(a), Some(e)) => assert!(r.arrived_at <= a && a <= e),
        (None, Some(e)) => assert!(r.arrived_at <= e),
        (Some(_), None) => panic!("an answered contact without an end"),
        (None, None) => assert!(r.wait_ms.is_none()),
    }
    for d in [r.talk_ms, r.hold_ms, r.acw_ms] {
        assert!((0..=limits.max_duration_ms).contains(&d), "duration {d}");
    }
    assert_eq!(r.handle_ms, r.talk_ms + r.hold_ms + r.acw_ms);
    assert_eq!(
        r.wait_ms,
        r.answered_at
            .or(r.ended_at)
            .map(|t| (t - r.arrived_at) / 1000)
    );
    if r.abandoned {
        assert!(r.answered_at.is_none() && r.agent_id.is_none());
    }
    if let Some(c) = r.csat {
        assert!((1..=5).contains(&c));
    }
    assert!(!r.interaction_id.is_empty());
}

/// A row corpus file is a generic CSV: its first line is the header.
fn check_row(input: &[u8]) {
    let mut lines = input.split(|&b| b == b'\n');
    let mut p = CsvParser::default();
    let head = lines.next().unwrap_or_default();
    let Ok(n) = p.parse(head) else {
        return;
    };
    let header = p.strings(head, n);
    let Ok(layout) = CsvLayout::from_header(&header) else {
        return;
    };
    let (zone, pii, limits) = (cxpipe_model::Zone::utc(), pii(), Limits::default());
    let cx = context(&zone, &pii, limits);
    for rec in lines {
        let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
        if p.parse(rec).ok() != Some(layout.width) {
            continue;
        }
        if let Ok(row) = convert(&CsvFields::new(&p, &layout, rec), &cx) {
            assert_valid(&row, &limits);
        }
    }
}

fn check_ndjson(input: &[u8]) {
    let (zone, pii, limits) = (cxpipe_model::Zone::utc(), pii(), Limits::default());
    let cx = context(&zone, &pii, limits);
    for line in input.split(|&b| b == b'\n') {
        if let Ok(fields) = JsonFields::parse(line)
            && let Ok(row) = convert(&&fields, &cx)
        {
            assert_valid(&row, &limits);
        }
    }
}

// ---------------------------------------------------------------------------
// mapping: the compiler, and a compiled JSON mapping's reader
// ---------------------------------------------------------------------------

/// A mapping corpus file is the mapping text, then optionally a line
/// `---` and records to read with it (JSON lines for a JSON mapping).
fn check_mapping(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let (mapping_text, records) = match text.split_once("\n---\n") {
        Some((m, r)) => (m, r),
        None => (text.as_ref(), ""),
    };
    let m = match Mapping::parse(mapping_text, "fuzz.toml") {
        Ok(m) => m,
        Err(e) => {
            assert!(e.starts_with("fuzz.toml"), "errors name the file: {e}");
            return;
        }
    };
    let (zone, pii, limits) = (cxpipe_model::Zone::utc(), pii(), Limits::default());
    let cx = context(&zone, &pii, limits);
    for line in records.as_bytes().split(|&b| b == b'\n') {
        m.check_json_walks(line);
        if let Ok(rec) = m.json_record(line) {
            let mapped = Mapped::new(&m, &Record::Json(&rec), &zone);
            if let Ok(row) = convert(&&mapped, &cx) {
                assert_valid(&row, &limits);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The drivers
// ---------------------------------------------------------------------------

fn cases() -> u32 {
    std::env::var("CXPIPE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// One mutation of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize, u8),
}

/// Bytes that matter to the readers, weighted towards them.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => prop::sample::select(b"\",\n\r{}[]:0 1-T.Z\\\t\0".to_vec()),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop::collection::vec(interesting_byte(), 1..8)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..64, interesting_byte())
            .prop_map(|(i, n, b)| Mutation::Repeat(i, n, b)),
    ]
}

fn mutate(mut v: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Flip(i, b) if !v.is_empty() => {
                let k = i % v.len();
                v[k] = *b;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, bytes) => {
                let k = at(*i, v.len());
                v.splice(k..k, bytes.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let k = at(*i, v.len());
                let e = (k + n).min(v.len());
                v.drain(k..e);
            }
            Mutation::Repeat(i, n, b) => {
                let k = at(*i, v.len());
                v.splice(k..k, std::iter::repeat_n(*b, *n));
            }
        }
    }
    v
}

/// Inputs for a target: a corpus file mutated, or bytes of the alphabet.
fn inputs(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "the {target} corpus is empty");
    prop_oneof![
        4 => (prop::sample::select(seeds), prop::collection::vec(mutation(), 0..12))
            .prop_map(|(s, m)| mutate(s, &m)),
        1 => prop::collection::vec(interesting_byte(), 0..400),
    ]
}

#[test]
fn corpus_replays() {
    for target in TARGETS {
        let files = corpus(target);
        assert!(
            !files.is_empty(),
            "{target}: no corpus in {}",
            corpus_dir(target).display()
        );
        for input in files {
            run_target(target, &input);
        }
    }
}

/// The reference itself, on inputs whose records are known by hand.
#[test]
fn the_reference_splitter_splits_by_hand() {
    let b = b"a,b\n\"x\ny\",z\nq\"r\n\"open\nlast";
    assert_eq!(
        reference_csv(b, b','),
        vec![
            (0, 4, false),
            (4, 12, false),
            (12, 16, false),
            (16, 22, true),
            (22, 26, false)
        ]
    );
    // With `;` the quote after the comma is inside a field: literal.
    let b = b"a;\"x\ny\";z\nq,\"r\nlast";
    assert_eq!(
        reference_csv(b, b';'),
        vec![(0, 10, false), (10, 15, false), (15, 19, false)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzz_split(input in inputs("split")) { check_split(&input); }

    #[test]
    fn fuzz_csv(input in inputs("csv")) { check_csv(&input); }

    #[test]
    fn fuzz_row(input in inputs("row")) { check_row(&input); }

    #[test]
    fn fuzz_ndjson(input in inputs("ndjson")) { check_ndjson(&input); }

    #[test]
    fn fuzz_mapping(input in inputs("mapping")) { check_mapping(&input); }
}

/// The built-in mappings are part of the mapping corpus, in spirit: each
/// compiles, and its mutations are fuzzed like the corpus files.
#[test]
fn builtin_mappings_compile_under_the_fuzzer() {
    for (name, text) in BUILTIN {
        check_mapping(text.as_bytes());
        assert!(Mapping::parse(text, name).is_ok(), "{name}");
    }
}
