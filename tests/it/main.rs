//! End-to-end tests of the `cxpipe` binary: ingest runs into temporary
//! datasets, checked through the run report, the quarantine files and an
//! independent Parquet reader (the `parquet` crate's row API, not cxpipe's
//! own reading code).
//!
//! Almost every ingest test goes through one data-driven helper, [`check`]:
//! it runs `cxpipe ingest` on some inputs, compares the run report with the
//! expected per-file counts and quarantined lines, and checks conservation,
//! the quarantine files and the rows in the dataset.

mod atomic;
mod cli;
mod dataset;
mod hostile;
mod kpi;
mod layering;
mod mappings;
mod nothing_lost;
mod privacy;
mod real_exports;
mod report;
mod run;
mod samples;
mod settings;
mod sla;
mod snapshots;
mod sources;
mod turnover;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cxpipe")
}

/// `data-samples/<rel>`.
pub fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-samples")
        .join(rel)
}

/// Whether slow tests were asked for.
pub fn slow_tests() -> bool {
    std::env::var("RUN_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// A finished process.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Out {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `cxpipe ARGS` with `stdin` piped in (empty when `None`) and extra
/// environment variables. `CXPIPE_PII_KEY`, `CXPIPE_LOG` and `COLUMNS` are
/// removed unless given.
pub fn cxpipe_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("CXPIPE_PII_KEY")
        .env_remove("CXPIPE_LOG")
        // The text table fits $COLUMNS when it is set; tests set it themselves.
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn cxpipe");
    let input = stdin.map(<[u8]>::to_vec).unwrap_or_default();
    let mut pipe = child.stdin.take().expect("stdin pipe");
    let writer = std::thread::spawn(move || {
        // The binary may exit before reading everything (e.g. usage errors).
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for cxpipe");
    let _ = writer.join();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cxpipe ARGS` with nothing on stdin.
pub fn cxpipe(args: &[&str]) -> Out {
    cxpipe_env(args, None, &[])
}

/// `cxpipe ingest INPUTS --out DS --json FLAGS`, returning the process and
/// the report it printed (Null when it printed none).
pub fn ingest(ds: &Path, inputs: &[&Path], flags: &[&str]) -> (Out, Value) {
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), ds.display().to_string(), "--json".into()]);
    args.extend(flags.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cxpipe(&refs);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

/// `cxpipe generate ARGS --out DIR/month.csv`, ingested into `DIR/ds`:
/// the dataset and the planted facts (`DIR/month.facts.json`).
pub fn generated_month(dir: &Path, args: &[&str]) -> (PathBuf, Value) {
    let export = dir.join("month.csv");
    let mut all = vec!["generate", "--out", export.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let out = cxpipe(&all);
    assert_eq!(out.code, 0, "generate {args:?}: {}", out.stderr);
    let facts = fs::read_to_string(dir.join("month.facts.json")).expect("facts file");
    let facts = serde_json::from_str(&facts).expect("facts json");
    let ds = dir.join("ds");
    let (out, _) = ingest(&ds, &[&export], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    (ds, facts)
}

/// One generated month shared by the tests that only read it (turnover,
/// SLA, the report): generated and ingested once per test run, in a folder
/// that lives as long as the harness. 120,000 rows and 200 agents (about 16
/// planted departures and 15 planted at-risk agents); with
/// `RUN_SLOW_TESTS=1`, 1,000,000 rows and 800 agents.
pub struct SharedMonth {
    _dir: tempfile::TempDir,
    /// The ingested dataset.
    pub ds: PathBuf,
    /// The HR roster `generate --roster` wrote.
    pub roster: PathBuf,
    /// The planted facts.
    pub facts: Value,
}

/// The [`SharedMonth`]; the first caller generates it, the others wait.
pub fn shared_month() -> &'static SharedMonth {
    static MONTH: std::sync::OnceLock<SharedMonth> = std::sync::OnceLock::new();
    MONTH.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let roster = dir.path().join("roster.csv");
        let (rows, agents) = if slow_tests() {
            ("1000000", "800")
        } else {
            ("120000", "200")
        };
        let r = roster.to_str().expect("utf-8").to_string();
        let (ds, facts) = generated_month(
            dir.path(),
            &["--rows", rows, "--agents", agents, "--roster", &r],
        );
        SharedMonth {
            _dir: dir,
            ds,
            roster,
            facts,
        }
    })
}

// ---------------------------------------------------------------------------
// The data-driven check.
// ---------------------------------------------------------------------------

/// One input of a [`Case`].
#[derive(Debug, Clone)]
pub enum In {
    /// A file or folder, by path.
    Path(PathBuf),
    /// `-`, with these bytes on stdin.
    Stdin(Vec<u8>),
}

/// What one file of the run should end as.
#[derive(Debug, Clone)]
pub struct FileExp {
    pub name: &'static str,
    /// `ingested`, `skipped` or `failed`.
    pub status: &'static str,
    pub read: u64,
    pub written: u64,
    pub dups: u64,
    /// Quarantined records: (source_line, reason_code), in file order.
    pub rejects: Vec<(u64, &'static str)>,
    /// A substring of the file's message (failed and skipped files).
    pub message: Option<&'static str>,
}

/// An ingested file: `read` rows, of which `rejects` were quarantined and
/// `dups` dropped as older duplicates; the rest written.
pub fn ingested(
    name: &'static str,
    read: u64,
    dups: u64,
    rejects: &[(u64, &'static str)],
) -> FileExp {
    FileExp {
        name,
        status: "ingested",
        read,
        written: read - dups - rejects.len() as u64,
        dups,
        rejects: rejects.to_vec(),
        message: None,
    }
}

/// A file that failed as a whole, with a message containing `message`.
pub fn failed(name: &'static str, message: &'static str) -> FileExp {
    FileExp {
        name,
        status: "failed",
        read: 0,
        written: 0,
        dups: 0,
        rejects: Vec::new(),
        message: Some(message),
    }
}

/// A file skipped because the ledger has it.
pub fn skipped(name: &'static str) -> FileExp {
    FileExp {
        name,
        status: "skipped",
        read: 0,
        written: 0,
        dups: 0,
        rejects: Vec::new(),
        message: Some("already ingested"),
    }
}

/// An ingest run to check.
#[derive(Debug, Clone, Default)]
pub struct Case {
    pub inputs: Vec<In>,
    pub flags: Vec<String>,
    pub env: Vec<(String, String)>,
    /// An existing dataset to ingest into (default: a fresh one).
    pub dataset: Option<PathBuf>,
}

impl Case {
    pub fn paths<P: AsRef<Path>>(paths: &[P]) -> Case {
        Case {
            inputs: paths
                .iter()
                .map(|p| In::Path(p.as_ref().to_path_buf()))
                .collect(),
            ..Case::default()
        }
    }
    pub fn flag(mut self, f: &str) -> Case {
        self.flags.push(f.to_string());
        self
    }
    pub fn into_dataset(mut self, ds: &Path) -> Case {
        self.dataset = Some(ds.to_path_buf());
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
}

/// The expected outcome of a [`Case`].
#[derive(Debug, Clone)]
pub struct Expect {
    pub files: Vec<FileExp>,
    pub exit: i32,
    /// Rows already in the dataset replaced by newer versions.
    pub replaced: u64,
}

impl Expect {
    pub fn new(exit: i32, files: Vec<FileExp>) -> Expect {
        Expect {
            files,
            exit,
            replaced: 0,
        }
    }
}

/// What [`check`] saw, for further assertions.
pub struct Checked {
    /// Keeps a fresh dataset's folder alive.
    pub _tmp: Option<tempfile::TempDir>,
    pub ds: PathBuf,
    pub out: Out,
    pub report: Value,
    /// Every row of the dataset after the run.
    pub rows: Vec<Rec>,
}

/// Runs the case and checks the outcome against `exp`: exit code, run
/// report (per file and totals), conservation, quarantine files (mode,
/// header, every quarantined line with its reason code and raw text) and the
/// rows in the dataset. Each part is a function below.
pub fn check(case: &Case, exp: &Expect) -> Checked {
    let (tmp, ds) = match &case.dataset {
        Some(ds) => (None, ds.clone()),
        None => {
            let t = tempfile::tempdir().expect("temp dir");
            let ds = t.path().join("ds");
            (Some(t), ds)
        }
    };
    let fresh = case.dataset.is_none() || !ds.join("interactions").exists();
    let (out, report, ctx) = run_case(case, exp, &ds);
    let totals = check_files(&report, exp, &ctx);
    check_totals(&report, exp, &totals, &ctx);
    let id = check_stored_report(&report, &ds, &totals, &ctx);
    check_quarantine(case, exp, &report, &ds, &id, &ctx);
    let rows = check_rows(exp, &ds, fresh, &totals, &ctx);
    Checked {
        _tmp: tmp,
        ds,
        out,
        report,
        rows,
    }
}

/// Counts over the expected files, by status and by row outcome.
struct Totals {
    counts: BTreeMap<&'static str, u64>,
    reasons: BTreeMap<String, u64>,
}

impl Totals {
    fn n(&self, k: &str) -> u64 {
        self.counts.get(k).copied().unwrap_or(0)
    }
}

/// Runs `cxpipe ingest … --json` for the case into `ds` and checks the exit
/// code; returns the process, its report and a context for messages.
fn run_case(case: &Case, exp: &Expect, ds: &Path) -> (Out, Value, String) {
    let mut args: Vec<String> = vec!["ingest".into()];
    let mut stdin: Option<Vec<u8>> = None;
    for i in &case.inputs {
        match i {
            In::Path(p) => args.push(p.display().to_string()),
            In::Stdin(b) => {
                args.push("-".into());
                stdin = Some(b.clone());
            }
        }
    }
    args.extend(["--out".into(), ds.display().to_string(), "--json".into()]);
    args.extend(case.flags.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = case
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = cxpipe_env(&refs, stdin.as_deref(), &env);
    assert_eq!(
        out.code,
        exp.exit,
        "exit code of cxpipe {args:?}\nstderr:\n{}\nstdout:\n{}",
        out.stderr,
        out.stdout_text()
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json stdout is one JSON report ({e}):\n{}\nstderr:\n{}",
            out.stdout_text(),
            out.stderr
        )
    });
    let ctx = format!(
        "cxpipe {args:?}\nreport: {report:#}\nstderr:\n{}",
        out.stderr
    );
    (out, report, ctx)
}

/// Each file's outcome in the report against its expectation; returns the
/// expected totals.
fn check_files(report: &Value, exp: &Expect, ctx: &str) -> Totals {
    let files = report["files"].as_array().expect("files[]");
    assert_eq!(
        files.len(),
        exp.files.len(),
        "number of files in the report\n{ctx}"
    );
    let mut totals = BTreeMap::<&'static str, u64>::new();
    let mut reasons_total = BTreeMap::<String, u64>::new();
    for (f, e) in files.iter().zip(&exp.files) {
        let fctx = format!("file {}\n{ctx}", e.name);
        assert_eq!(f["name"], e.name, "{fctx}");
        assert_eq!(f["status"], e.status, "{fctx}");
        if let Some(m) = e.message {
            let msg = f["message"].as_str().unwrap_or_default();
            assert!(
                msg.contains(m),
                "message {msg:?} should contain {m:?}\n{fctx}"
            );
        }
        let quarantined = e.rejects.len() as u64;
        assert_eq!(f["rows_read"], e.read, "rows_read\n{fctx}");
        assert_eq!(f["rows_written"], e.written, "rows_written\n{fctx}");
        assert_eq!(
            f["rows_quarantined"], quarantined,
            "rows_quarantined\n{fctx}"
        );
        assert_eq!(
            f["duplicates_dropped"], e.dups,
            "duplicates_dropped\n{fctx}"
        );
        assert_eq!(
            e.read,
            e.written + quarantined + e.dups,
            "the expectation itself conserves rows"
        );
        let mut reasons = BTreeMap::<String, u64>::new();
        for (_, code) in &e.rejects {
            *reasons.entry(code.to_string()).or_default() += 1;
        }
        let got: BTreeMap<String, u64> = f["reasons"]
            .as_object()
            .expect("reasons{}")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
            .collect();
        assert_eq!(got, reasons, "reasons histogram\n{fctx}");
        *totals.entry(e.status).or_default() += 1;
        if e.status == "ingested" {
            *totals.entry("rows_read").or_default() += e.read;
            *totals.entry("rows_written").or_default() += e.written;
            *totals.entry("rows_quarantined").or_default() += quarantined;
            *totals.entry("duplicates_dropped").or_default() += e.dups;
            for (k, v) in reasons {
                *reasons_total.entry(k).or_default() += v;
            }
        }
    }

    Totals {
        counts: totals,
        reasons: reasons_total,
    }
}

/// The report's totals, conservation and reject rate.
fn check_totals(report: &Value, exp: &Expect, totals: &Totals, ctx: &str) {
    let files = report["files"].as_array().expect("files[]");
    let reasons_total = &totals.reasons;
    let n = |k: &str| totals.n(k);
    // Totals and conservation.
    let t = &report["totals"];
    assert_eq!(
        t["files_ingested"],
        n("ingested"),
        "totals.files_ingested\n{ctx}"
    );
    assert_eq!(
        t["files_skipped"],
        n("skipped"),
        "totals.files_skipped\n{ctx}"
    );
    assert_eq!(t["files_failed"], n("failed"), "totals.files_failed\n{ctx}");
    for k in [
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "duplicates_dropped",
    ] {
        assert_eq!(t[k], n(k), "totals.{k}\n{ctx}");
    }
    assert_eq!(
        t["rows_replaced"], exp.replaced,
        "totals.rows_replaced\n{ctx}"
    );
    let got_reasons: BTreeMap<String, u64> = t["reasons"]
        .as_object()
        .expect("totals.reasons")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(&got_reasons, reasons_total, "totals.reasons\n{ctx}");
    assert_eq!(report["conservation_ok"], true, "{ctx}");
    for f in files {
        let g = |k: &str| f[k].as_u64().expect("count");
        assert_eq!(
            g("rows_read"),
            g("rows_written") + g("rows_quarantined") + g("duplicates_dropped"),
            "conservation of {}\n{ctx}",
            f["name"]
        );
    }
    assert_eq!(
        n("rows_read"),
        n("rows_written") + n("rows_quarantined") + n("duplicates_dropped"),
        "total conservation\n{ctx}"
    );
    let rate = if n("rows_read") == 0 {
        0.0
    } else {
        n("rows_quarantined") as f64 / n("rows_read") as f64
    };
    let got_rate = report["reject_rate"].as_f64().expect("reject_rate");
    assert!(
        (got_rate - rate).abs() < 1e-12,
        "reject_rate {got_rate} vs {rate}\n{ctx}"
    );
    let max = report["max_reject_rate"].as_f64().expect("max_reject_rate");
    assert_eq!(report["reject_threshold_exceeded"], rate > max, "{ctx}");
}

/// The stored run report equals the printed one, and nothing is staged;
/// returns the ingest id.
fn check_stored_report(report: &Value, ds: &Path, totals: &Totals, ctx: &str) -> String {
    let n = |k: &str| totals.n(k);
    // Only `seconds` is updated after the file is written.
    let id = report["ingest_id"].as_str().expect("ingest_id").to_string();
    let stored = ds.join("ingests").join(format!("{id}.json"));
    let committed = n("ingested") + n("failed") > 0;
    assert_eq!(report["committed"], committed, "{ctx}");
    if committed {
        let text = fs::read(&stored).unwrap_or_else(|e| panic!("{}: {e}\n{ctx}", stored.display()));
        let mut on_disk: Value = serde_json::from_slice(&text).expect("stored report is JSON");
        let mut printed = report.clone();
        on_disk["seconds"] = Value::Null;
        printed["seconds"] = Value::Null;
        assert_eq!(on_disk, printed, "stored run report = printed run report");
    } else {
        assert!(
            !stored.exists(),
            "no report is stored when nothing was ingested"
        );
    }
    assert!(
        !ds.join(".staging").exists(),
        "no staging left behind\n{ctx}"
    );

    id
}

/// Every quarantine file: its rows' lines, reason codes and raw text.
fn check_quarantine(case: &Case, exp: &Expect, report: &Value, ds: &Path, id: &str, ctx: &str) {
    let files = report["files"].as_array().expect("files[]");
    // Quarantine files.
    let sources = source_texts(case);
    for (f, e) in files.iter().zip(&exp.files) {
        let qname = format!("{}.rejects.csv", e.name);
        if e.rejects.is_empty() {
            assert!(
                f.get("quarantine").is_none(),
                "{} has no quarantine\n{ctx}",
                e.name
            );
            assert!(
                !ds.join("quarantine").join(id).join(&qname).exists(),
                "no quarantine file for {}",
                e.name
            );
            continue;
        }
        let rel = f["quarantine"].as_str().expect("quarantine path");
        assert!(rel.starts_with(&format!("quarantine/{id}/")), "{rel}");
        let path = ds.join(rel);
        let rows = read_rejects(&path);
        let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.code.clone())).collect();
        let want: Vec<(u64, String)> = e.rejects.iter().map(|(l, c)| (*l, c.to_string())).collect();
        assert_eq!(
            got, want,
            "quarantined (line, reason_code) of {}\n{ctx}",
            e.name
        );
        for r in &rows {
            assert!(
                !r.reason.trim().is_empty(),
                "reason of line {} is blank",
                r.line
            );
            // JSON arrays number records by element, not line: their raw
            // text is the element, found anywhere in the file.
            match sources.get(e.name) {
                Some(text) if text.trim_ascii_start().starts_with(b"[") => assert!(
                    text.windows(r.raw.len()).any(|w| w == r.raw.as_slice()),
                    "{}: raw element {} is in the file",
                    e.name,
                    r.line
                ),
                Some(text) => assert_raw_matches(text, r, e.name),
                None => {}
            }
        }
    }
}

/// The dataset's rows: ids unique, partitions right, no quarantined line
/// stored, and (in a fresh dataset) the written counts.
fn check_rows(exp: &Expect, ds: &Path, fresh: bool, totals: &Totals, ctx: &str) -> Vec<Rec> {
    let n = |k: &str| totals.n(k);
    // The dataset's rows.
    let rows = read_dataset(ds);
    let mut ids = BTreeSet::new();
    for r in &rows {
        assert!(
            ids.insert(r.interaction_id.clone()),
            "id {} stored twice\n{ctx}",
            r.interaction_id
        );
        assert_eq!(
            r.partition,
            utc_date(r.arrived_at),
            "partition of {}",
            r.interaction_id
        );
    }
    let mut written_by_name = BTreeMap::<&str, u64>::new();
    for e in &exp.files {
        *written_by_name.entry(e.name).or_default() += e.written;
        if exp.files.iter().filter(|o| o.name == e.name).count() > 1 {
            // Two inputs with one name: their rows cannot be told apart.
            continue;
        }
        let quarantined: BTreeSet<u64> = e.rejects.iter().map(|(l, _)| *l).collect();
        for r in rows.iter().filter(|r| r.source_file == e.name) {
            assert!(
                !quarantined.contains(&(r.source_line as u64)),
                "line {} of {} is quarantined and stored",
                r.source_line,
                e.name
            );
        }
    }
    if fresh {
        for (name, written) in written_by_name {
            let stored = rows.iter().filter(|r| r.source_file == name).count() as u64;
            assert_eq!(stored, written, "rows of {name} in the dataset\n{ctx}");
        }
    }
    if fresh {
        assert_eq!(
            rows.len() as u64,
            n("rows_written"),
            "rows in the dataset\n{ctx}"
        );
    }
    rows
}

/// Uncompressed text of the inputs that are plain files or plain stdin, by
/// file name, to compare quarantined raw text with.
fn source_texts(case: &Case) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for i in &case.inputs {
        let (name, bytes) = match i {
            In::Path(p) if p.is_file() => match fs::read(p) {
                Ok(b) => (
                    p.file_name().expect("name").to_string_lossy().into_owned(),
                    b,
                ),
                Err(_) => continue,
            },
            In::Path(_) => continue,
            In::Stdin(b) => ("stdin".to_string(), b.clone()),
        };
        let compressed =
            bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
        if !compressed {
            m.insert(name, bytes);
        }
    }
    m
}

/// The raw text of a quarantined record is the source's text from the start
/// of its line, ending at a line end.
fn assert_raw_matches(text: &[u8], r: &RejectRow, name: &str) {
    let mut start = 0;
    for _ in 1..r.line {
        let nl = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or_else(|| panic!("{name} has no line {}", r.line));
        start += nl + 1;
    }
    let rest = &text[start..];
    assert!(
        rest.starts_with(&r.raw),
        "{name} line {}: raw {:?} is not the source text {:?}",
        r.line,
        String::from_utf8_lossy(&r.raw),
        String::from_utf8_lossy(&rest[..rest.len().min(r.raw.len() + 10)])
    );
    let after = &rest[r.raw.len()..];
    // A record longer than 1 MiB keeps only its first part as raw text.
    let truncated = r.raw.len() >= 1 << 20;
    assert!(
        truncated || after.is_empty() || after.starts_with(b"\n") || after.starts_with(b"\r\n"),
        "{name} line {}: raw text stops before the end of the line",
        r.line
    );
}

// ---------------------------------------------------------------------------
// Quarantine files.
// ---------------------------------------------------------------------------

/// One row of a `.rejects.csv`.
#[derive(Debug, Clone)]
pub struct RejectRow {
    pub line: u64,
    pub code: String,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// Reads a quarantine file, checking its mode (0600) and header.
pub fn read_rejects(path: &Path) -> Vec<RejectRow> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode of {}", path.display());
    }
    let recs = parse_csv(&bytes);
    assert_eq!(
        recs.first().map(|h| h
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect::<Vec<_>>()),
        Some(vec![
            "source_line".into(),
            "reason_code".into(),
            "reason".into(),
            "raw".into()
        ]),
        "header of {}",
        path.display()
    );
    recs[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 4, "a quarantine row has 4 fields: {r:?}");
            RejectRow {
                line: String::from_utf8_lossy(&r[0])
                    .parse()
                    .expect("source_line is a number"),
                code: String::from_utf8_lossy(&r[1]).into_owned(),
                reason: String::from_utf8_lossy(&r[2]).into_owned(),
                raw: r[3].clone(),
            }
        })
        .collect()
}

/// A strict RFC 4180 parser over bytes (fields may hold any bytes): records
/// end at `\n` or `\r\n` outside quotes.
pub fn parse_csv(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut recs = Vec::new();
    let mut rec: Vec<Vec<u8>> = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let mut quoted = false;
    let mut at_start = true;
    while i < data.len() {
        let c = data[i];
        if quoted {
            if c == b'"' {
                if data.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 2;
                    continue;
                }
                quoted = false;
                i += 1;
                assert!(
                    matches!(data.get(i), None | Some(b',' | b'\n' | b'\r')),
                    "text after a closing quote at byte {i}"
                );
                continue;
            }
            field.push(c);
            i += 1;
            continue;
        }
        match c {
            b'"' if at_start && field.is_empty() => {
                quoted = true;
                at_start = false;
            }
            b',' => {
                rec.push(std::mem::take(&mut field));
                at_start = true;
            }
            b'\r' if data.get(i + 1) == Some(&b'\n') => {}
            b'\n' => {
                rec.push(std::mem::take(&mut field));
                recs.push(std::mem::take(&mut rec));
                at_start = true;
            }
            _ => {
                field.push(c);
                at_start = false;
            }
        }
        i += 1;
    }
    assert!(!quoted, "unterminated quote at the end of the CSV");
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        recs.push(rec);
    }
    recs
}

// ---------------------------------------------------------------------------
// Reading the dataset with the parquet crate's row API.
// ---------------------------------------------------------------------------

/// One stored row, every column of SPEC §3, plus the partition it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
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
    /// `YYYY-MM-DD` of the `date=` folder the row is in.
    pub partition: String,
}

/// The stored column names in schema order (SPEC §3).
pub const COLUMNS: [&str; 23] = [
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
];

/// Every `.parquet` file under `DS/interactions`, sorted.
pub fn parquet_files(ds: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let base = ds.join("interactions");
    let Ok(parts) = fs::read_dir(&base) else {
        return out;
    };
    for p in parts.flatten() {
        assert!(
            p.path().is_dir(),
            "only partition folders in interactions/: {}",
            p.path().display()
        );
        let name = p.file_name().to_string_lossy().into_owned();
        assert!(name.starts_with("date="), "partition folder {name}");
        for f in fs::read_dir(p.path()).expect("partition").flatten() {
            let fname = f.file_name().to_string_lossy().into_owned();
            assert!(
                fname.starts_with("part-") && fname.ends_with(".parquet"),
                "unexpected file {name}/{fname}"
            );
            out.push(f.path());
        }
    }
    out.sort();
    out
}

fn opt_str(f: &Field, col: &str) -> Option<String> {
    match f {
        Field::Null => None,
        Field::Str(s) => Some(s.clone()),
        other => panic!("{col}: expected a string, got {other:?}"),
    }
}

fn req_str(f: &Field, col: &str) -> String {
    opt_str(f, col).unwrap_or_else(|| panic!("{col} is null"))
}

fn opt_ts(f: &Field, col: &str) -> Option<i64> {
    match f {
        Field::Null => None,
        Field::TimestampMicros(v) => Some(*v),
        other => panic!("{col}: expected a µs timestamp, got {other:?}"),
    }
}

fn long(f: &Field, col: &str) -> i64 {
    match f {
        Field::Long(v) => *v,
        other => panic!("{col}: expected a non-null Int64, got {other:?}"),
    }
}

fn opt_long(f: &Field, col: &str) -> Option<i64> {
    match f {
        Field::Null => None,
        other => Some(long(other, col)),
    }
}

fn boolean(f: &Field, col: &str) -> bool {
    match f {
        Field::Bool(v) => *v,
        other => panic!("{col}: expected a non-null boolean, got {other:?}"),
    }
}

/// Reads one Parquet file of the dataset row by row.
pub fn read_parquet(path: &Path) -> Vec<Rec> {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader =
        SerializedFileReader::new(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let partition = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().trim_start_matches("date=").to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    for row in reader.get_row_iter(None).expect("row iterator") {
        let row = row.expect("row");
        let cols: Vec<(&String, &Field)> = row.get_column_iter().collect();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, COLUMNS, "columns of {}", path.display());
        let f = |i: usize| cols[i].1;
        out.push(Rec {
            interaction_id: req_str(f(0), COLUMNS[0]),
            chain_id: opt_str(f(1), COLUMNS[1]),
            channel: req_str(f(2), COLUMNS[2]),
            direction: req_str(f(3), COLUMNS[3]),
            queue: opt_str(f(4), COLUMNS[4]),
            agent_id: opt_str(f(5), COLUMNS[5]),
            team: opt_str(f(6), COLUMNS[6]),
            site: opt_str(f(7), COLUMNS[7]),
            customer_key: opt_str(f(8), COLUMNS[8]),
            arrived_at: opt_ts(f(9), COLUMNS[9]).expect("arrived_at is not null"),
            answered_at: opt_ts(f(10), COLUMNS[10]),
            ended_at: opt_ts(f(11), COLUMNS[11]),
            wait_ms: opt_long(f(12), COLUMNS[12]),
            talk_ms: long(f(13), COLUMNS[13]),
            hold_ms: long(f(14), COLUMNS[14]),
            acw_ms: long(f(15), COLUMNS[15]),
            handle_ms: long(f(16), COLUMNS[16]),
            abandoned: boolean(f(17), COLUMNS[17]),
            transferred: boolean(f(18), COLUMNS[18]),
            disposition: opt_str(f(19), COLUMNS[19]),
            csat: match f(20) {
                Field::Null => None,
                Field::Byte(v) => Some(*v),
                other => panic!("csat: expected Int8, got {other:?}"),
            },
            source_file: req_str(f(21), COLUMNS[21]),
            source_line: long(f(22), COLUMNS[22]),
            partition: partition.clone(),
        });
    }
    out
}

/// Every row of the dataset, sorted by interaction_id.
pub fn read_dataset(ds: &Path) -> Vec<Rec> {
    let mut rows: Vec<Rec> = parquet_files(ds)
        .iter()
        .flat_map(|p| read_parquet(p))
        .collect();
    rows.sort_by(|a, b| a.interaction_id.cmp(&b.interaction_id));
    rows
}

/// Rows by interaction_id.
pub fn by_id(rows: &[Rec]) -> BTreeMap<String, Rec> {
    rows.iter()
        .map(|r| (r.interaction_id.clone(), r.clone()))
        .collect()
}

// ---------------------------------------------------------------------------
// Independent time helpers: jiff's calendar and parser, not the civil-date
// arithmetic (`cxpipe_model::civil`) or the fast timestamp path that ingest
// uses, so a mistake there cannot hide behind the same mistake here.
// ---------------------------------------------------------------------------

/// `YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|±HH:MM]` (no offset = UTC) to µs.
pub fn ts_us(s: &str) -> i64 {
    let has_offset = s.len() > 19 && {
        let tail = &s[19..];
        let tail = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        !tail.is_empty()
    };
    if has_offset {
        let t: jiff::Timestamp = s
            .replacen(' ', "T", 1)
            .parse()
            .unwrap_or_else(|e| panic!("timestamp {s}: {e}"));
        return t.as_microsecond();
    }
    let dt: jiff::civil::DateTime = s
        .replacen(' ', "T", 1)
        .parse()
        .unwrap_or_else(|e| panic!("timestamp {s}: {e}"));
    dt.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .unwrap_or_else(|e| panic!("timestamp {s}: {e}"))
        .timestamp()
        .as_microsecond()
}

/// The UTC date (`YYYY-MM-DD`) of a µs timestamp.
pub fn utc_date(us: i64) -> String {
    let t = jiff::Timestamp::from_microsecond(us).expect("a timestamp in jiff's range");
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

#[test]
fn the_time_helpers_agree_with_hand_computed_instants() {
    // 2026-10-01T00:00:00Z is 20727 days after 1970-01-01, by hand: 56
    // years with 14 leap days (1972..2024) = 20454 days to 2026-01-01, plus
    // 273 for January to September (31+28+31+30+31+30+31+31+30).
    let day = 20_727_i64 * 86_400 * 1_000_000;
    assert_eq!(ts_us("2026-10-01T00:00:00Z"), day);
    assert_eq!(ts_us("2026-10-01 00:00:00"), day);
    assert_eq!(ts_us("2026-10-01T02:00:00.5+02:00"), day + 500_000);
    assert_eq!(utc_date(day), "2026-10-01");
    assert_eq!(utc_date(day - 1), "2026-09-30");
}

// ---------------------------------------------------------------------------
// Files and folders.
// ---------------------------------------------------------------------------

/// Every file under `dir` (relative path → bytes), without the lock file.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
                continue;
            }
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            if rel == ".lock" {
                continue;
            }
            out.insert(rel, fs::read(&p).expect("read"));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies a folder tree (without the lock file).
pub fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        let dst = to.join(rel);
        fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        fs::write(&dst, bytes).expect("write");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = to.join(".pii.key");
        if key.exists() {
            fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }
}

/// gzip-compressed bytes (flate2, in process: the test never depends on a
/// `gzip` program being installed).
pub fn gzip(input: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(input).expect("gzip");
    e.finish().expect("gzip")
}

/// zstd-compressed bytes (the zstd crate, in process).
pub fn zstd(input: &[u8]) -> Vec<u8> {
    zstd::encode_all(input, 3).expect("zstd")
}
