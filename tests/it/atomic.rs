//! Atomicity (SPEC §5): an ingest killed at any moment leaves the dataset
//! as it was before the run or as after it, once the next command has
//! opened it (`cxpipe info` finishes or discards the interrupted commit).
//! Ctrl-C stops a run cleanly without changing the dataset.
//!
//! The inputs are generated here: A has ids 0..N, B has ids N/2..3N/2 with
//! other values, so B both adds rows and replaces half of A's, spread over
//! ten days (partitions). The default N keeps the test quick in a debug
//! build; `RUN_SLOW_TESTS=1` uses 200k rows per file and more kill points.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{bin, copy_tree, cxpipe, parquet_files, read_dataset, slow_tests, snapshot};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const HEADER: &str = "interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,\
arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,disposition,csat";

fn hms(secs: u64) -> String {
    let day = 1 + secs / 86_400;
    let s = secs % 86_400;
    format!(
        "2026-10-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Writes a valid generic CSV with ids `ids`, values drawn from `seed`.
/// Returns, per id, the line it is on.
fn generate(path: &Path, ids: std::ops::Range<u64>, seed: u64) -> BTreeMap<String, i64> {
    let mut rng = Rng(seed);
    let mut s = String::with_capacity((ids.end - ids.start) as usize * 190);
    s.push_str(HEADER);
    s.push('\n');
    let mut lines = BTreeMap::new();
    let channels = ["voice", "chat", "email", "sms"];
    for (n, i) in ids.enumerate() {
        let id = format!("g{i:09}");
        let arrived = rng.below(10 * 86_400 - 3600);
        let wait = rng.below(300);
        let abandoned = rng.below(10) == 0;
        let queue = format!("q{}", rng.below(12));
        let customer = format!("+1415{:07}", rng.below(10_000_000));
        let (agent, answered, ended, talk, hold, acw, csat) = if abandoned {
            (
                String::new(),
                String::new(),
                hms(arrived + wait),
                0,
                0,
                0,
                String::new(),
            )
        } else {
            let talk = 30 + rng.below(900);
            let hold = rng.below(60);
            let acw = rng.below(120);
            let csat = if rng.below(3) == 0 {
                (1 + rng.below(5)).to_string()
            } else {
                String::new()
            };
            (
                format!("A{:04}", rng.below(300)),
                hms(arrived + wait),
                hms(arrived + wait + talk + hold),
                talk,
                hold,
                acw,
                csat,
            )
        };
        s.push_str(&format!(
            "{id},,{},inbound,{queue},{agent},team-{},site-{},{customer},{},{answered},{ended},{talk},{hold},{acw},{abandoned},{},\"note, {seed}\",{csat}\n",
            channels[rng.below(4) as usize],
            rng.below(9),
            rng.below(3),
            hms(arrived),
            rng.below(7) == 0,
        ));
        lines.insert(id, n as i64 + 2);
    }
    fs::write(path, s).expect("write input");
    lines
}

/// id → (source_file, source_line) of the dataset; panics on duplicate ids.
fn state(ds: &Path) -> BTreeMap<String, (String, i64)> {
    let rows = read_dataset(ds);
    let n = rows.len();
    let m: BTreeMap<_, _> = rows
        .into_iter()
        .map(|r| (r.interaction_id, (r.source_file, r.source_line)))
        .collect();
    assert_eq!(m.len(), n, "no id is stored twice");
    m
}

fn expected(parts: &[(&str, &BTreeMap<String, i64>)]) -> BTreeMap<String, (String, i64)> {
    let mut m = BTreeMap::new();
    for (file, lines) in parts {
        for (id, line) in *lines {
            m.insert(id.clone(), (file.to_string(), *line));
        }
    }
    m
}

fn ledger_len(ds: &Path) -> usize {
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(ds.join("ledger.json")).expect("ledger")).expect("json");
    v["files"].as_array().expect("files").len()
}

fn spawn_ingest(input: &Path, ds: &Path) -> std::process::Child {
    Command::new(bin())
        .args(["-q", "ingest"])
        .arg(input)
        .arg("--out")
        .arg(ds)
        .env_remove("CXPIPE_PII_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cxpipe")
}

fn signal(child: &std::process::Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: `pid` is our own child, not yet waited for, so it cannot have
    // been reused by another process.
    #[allow(unsafe_code, reason = "sending a signal to our own child process")]
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

struct Setup {
    _tmp: tempfile::TempDir,
    tmp: PathBuf,
    b: PathBuf,
    /// The dataset after ingesting A only.
    base: PathBuf,
    only_a: BTreeMap<String, (String, i64)>,
    a_then_b: BTreeMap<String, (String, i64)>,
    /// Wall time of an uninterrupted ingest of B into a copy of `base`.
    run_time: Duration,
}

fn setup(rows: u64) -> Setup {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_path_buf();
    let a = dir.join("a.csv");
    let b = dir.join("b.csv");
    let lines_a = generate(&a, 0..rows, 1);
    let lines_b = generate(&b, rows / 2..rows / 2 + rows, 2);
    let base = dir.join("base");
    let out = cxpipe(&[
        "-q",
        "ingest",
        &a.display().to_string(),
        "--out",
        &base.display().to_string(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let only_a = expected(&[("a.csv", &lines_a)]);
    let a_then_b = expected(&[("a.csv", &lines_a), ("b.csv", &lines_b)]);
    assert_eq!(state(&base), only_a);

    let reference = dir.join("reference");
    copy_tree(&base, &reference);
    let t0 = Instant::now();
    let child = spawn_ingest(&b, &reference);
    let out = child.wait_with_output().expect("wait");
    let run_time = t0.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        state(&reference),
        a_then_b,
        "an uninterrupted run gives A then B"
    );
    assert_eq!(a_then_b.len() as u64, rows + rows / 2);
    Setup {
        _tmp: tmp,
        tmp: dir,
        b,
        base,
        only_a,
        a_then_b,
        run_time,
    }
}

/// When to kill the run.
#[derive(Debug, Clone, Copy)]
enum When {
    /// This share of the uninterrupted run's wall time after the start.
    Share(f64),
    /// As soon as the staging area holds a file whose name ends so.
    Staged(&'static str),
    /// As soon as the commit has moved a first new Parquet file into the
    /// dataset (the commit is half applied).
    Applied,
}

/// Number of files in the folders of `dir` (the partitions of
/// `interactions/`), tolerating files that move while it counts.
fn count_files(dir: &Path) -> usize {
    let Ok(parts) = fs::read_dir(dir) else {
        return 0;
    };
    parts
        .flatten()
        .map(|p| fs::read_dir(p.path()).map(|d| d.count()).unwrap_or(0))
        .sum()
}

/// Whether some file under `dir` has a name ending with `suffix`.
fn has_file(dir: &Path, suffix: &str) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_file(&p, suffix)
        } else {
            e.file_name().to_string_lossy().ends_with(suffix)
        }
    })
}

/// Kill -9 at several points of the run (spread over its expected wall
/// time, plus right after the first Parquet part is staged and right after
/// the commit journal appears): after `cxpipe info` the dataset is exactly A
/// (and byte for byte the dataset before the run) or exactly A then B (with
/// the ledger to match); ingesting B again then gives A then B.
#[test]
fn kill_9_at_any_moment_leaves_before_or_after() {
    let (rows, shares): (u64, Vec<f64>) = if slow_tests() {
        (
            200_000,
            (1..=8)
                .map(|i| f64::from(i) / 9.0)
                .chain([0.97, 1.0, 1.1, 1.3])
                .collect(),
        )
    } else {
        (12_000, vec![0.1, 0.3, 0.5, 0.7, 0.9])
    };
    let mut points: Vec<When> = shares.into_iter().map(When::Share).collect();
    points.push(When::Staged(".parquet"));
    points.push(When::Staged("journal.json"));
    points.push(When::Applied);
    let s = setup(rows);
    let base_files = snapshot(&s.base);
    let base_parts = parquet_files(&s.base).len();
    let mut outcomes = Vec::new();
    for (k, when) in points.iter().enumerate() {
        let ds = s.tmp.join(format!("killed-{k}"));
        copy_tree(&s.base, &ds);
        let mut child = spawn_ingest(&s.b, &ds);
        let t0 = Instant::now();
        match when {
            When::Share(f) => std::thread::sleep(s.run_time.mul_f64(*f)),
            When::Staged(suffix) => {
                let staging = ds.join(".staging");
                while !has_file(&staging, suffix) {
                    if child.try_wait().expect("try_wait").is_some() {
                        break;
                    }
                    assert!(t0.elapsed() < s.run_time * 20, "{suffix} never appeared");
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            When::Applied => {
                let parts = ds.join("interactions");
                while count_files(&parts) == base_parts {
                    if child.try_wait().expect("try_wait").is_some() {
                        break;
                    }
                    assert!(t0.elapsed() < s.run_time * 20, "the commit never started");
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
        }
        signal(&child, libc::SIGKILL);
        let delay = t0.elapsed();
        let status = child.wait().expect("wait");
        let finished = status.success();
        let journaled = has_file(&ds.join(".staging"), "journal.json");

        let info = cxpipe(&["info", &ds.display().to_string(), "--json"]);
        assert_eq!(
            info.code, 0,
            "info after a kill at {delay:?}: {}",
            info.stderr
        );
        assert!(
            !ds.join(".staging").exists(),
            "info cleared the staging area"
        );
        let summary: serde_json::Value = serde_json::from_slice(&info.stdout).expect("info json");
        let now = state(&ds);
        assert_eq!(summary["rows"], now.len(), "info counts what is stored");
        let outcome = if now == s.only_a {
            assert_eq!(
                ledger_len(&ds),
                1,
                "kill at {delay:?}: rows of A, ledger of A"
            );
            assert_eq!(
                snapshot(&ds),
                base_files,
                "kill at {delay:?}: byte for byte as before"
            );
            assert!(!finished, "a finished run committed");
            "before"
        } else if now == s.a_then_b {
            assert_eq!(
                ledger_len(&ds),
                2,
                "kill at {delay:?}: rows of A then B, ledger of both"
            );
            assert_eq!(
                fs::read_dir(ds.join("ingests")).expect("ingests").count(),
                2
            );
            "after"
        } else {
            let only_b = now.values().filter(|(f, _)| f == "b.csv").count();
            panic!(
                "kill at {delay:?} ({when:?}) left {} rows ({only_b} from b.csv): neither A ({}) nor A then B ({})",
                now.len(),
                s.only_a.len(),
                s.a_then_b.len()
            );
        };
        if let When::Staged("journal.json") | When::Applied = when {
            assert_eq!(
                outcome, "after",
                "once the journal exists, the commit is rolled forward"
            );
        }
        if journaled {
            assert_eq!(outcome, "after", "a journal left behind is rolled forward");
            assert!(
                info.stderr.contains("finished interrupted ingest"),
                "info says so:\n{}",
                info.stderr
            );
        }
        outcomes.push((*when, delay, journaled, outcome));

        let again = spawn_ingest(&s.b, &ds).wait_with_output().expect("wait");
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(
            state(&ds),
            s.a_then_b,
            "re-running B after a kill at {delay:?}"
        );
        assert_eq!(ledger_len(&ds), 2);
    }
    println!(
        "uninterrupted run: {:?}; kills (when, after, journal left, outcome): {outcomes:?}",
        s.run_time
    );
    assert_eq!(
        outcomes[0].3, "before",
        "a kill at 10% of the run cannot have committed"
    );
    let staged = outcomes
        .iter()
        .find(|o| matches!(o.0, When::Staged(".parquet")))
        .expect("point");
    assert_eq!(
        staged.3, "before",
        "a kill while parts are being staged leaves the dataset as before"
    );
}

/// Ctrl-C (SIGINT) in the middle of a run: exit code 1, and the dataset is
/// byte for byte as before, without leftovers.
#[test]
fn sigint_mid_run_exits_1_and_changes_nothing() {
    let s = setup(if slow_tests() { 200_000 } else { 12_000 });
    let before = snapshot(&s.base);
    let ds = s.tmp.join("interrupted");
    copy_tree(&s.base, &ds);
    let child = spawn_ingest(&s.b, &ds);
    std::thread::sleep(s.run_time.mul_f64(0.4));
    signal(&child, libc::SIGINT);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code after Ctrl-C\n{stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        !ds.join(".staging").exists(),
        "the run removed its staging area"
    );
    assert_eq!(snapshot(&ds), before, "the dataset is unchanged");
    assert_eq!(state(&ds), s.only_a);
}
