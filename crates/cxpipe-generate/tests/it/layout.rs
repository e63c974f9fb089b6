//! The data file: layout, invariants, determinism, compression, NDJSON.

use std::collections::HashSet;
use std::io::Read;

use cxpipe_generate::{Error, FIELDS, FileFormat, GenConfig, generate};

use crate::{TestResult, gen_to, generated, read_csv, read_facts};

const HEADER: &str = "interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,\
arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,disposition,csat";

#[test]
fn header_row_count_and_invariants() -> TestResult {
    let (path, summary) = generated(20_000, 7, "data.csv");
    let text = std::fs::read_to_string(&path)?;
    assert_eq!(text.lines().next(), Some(HEADER));
    assert_eq!(FIELDS.join(","), HEADER);
    let (header, rows) = read_csv(&path)?;
    assert_eq!(header.len(), 19);
    assert_eq!(rows.len(), 20_000);
    assert_eq!(summary.rows, 20_000);
    assert_eq!(summary.bytes, std::fs::metadata(&path)?.len());

    let mut ids = HashSet::new();
    let mut prev_arrival = i64::MIN;
    for r in &rows {
        assert_eq!(r.f.len(), 19);
        let id = r.get("interaction_id");
        assert!(id.len() == 13 && id.starts_with('c'), "{id}");
        assert!(
            id[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{id}"
        );
        assert!(ids.insert(id.to_string()), "duplicate id {id}");

        let arrived = r.secs("arrived_at").expect("arrived_at");
        let answered = r.secs("answered_at");
        let ended = r.secs("ended_at").expect("ended_at");
        assert!(arrived >= prev_arrival, "rows sorted by arrival");
        prev_arrival = arrived;
        let talk: i64 = r.get("talk_s").parse()?;
        let hold: i64 = r.get("hold_s").parse()?;
        let acw: i64 = r.get("acw_s").parse()?;
        assert!(talk >= 0 && hold >= 0 && acw >= 0);

        let abandoned = match r.get("abandoned") {
            "true" => true,
            "false" => false,
            other => panic!("abandoned = {other}"),
        };
        assert!(matches!(r.get("transferred"), "true" | "false"));
        assert!(matches!(
            r.get("channel"),
            "voice" | "chat" | "email" | "sms" | "social"
        ));
        assert!(matches!(r.get("direction"), "inbound" | "outbound"));
        assert!(matches!(
            r.get("queue"),
            "general" | "billing" | "tech_support" | "sales" | "retention"
        ));
        if abandoned {
            assert_eq!(answered, None, "abandoned ⇒ no answered_at");
            assert_eq!(r.get("agent_id"), "", "abandoned ⇒ no agent");
            assert_eq!((talk, hold, acw), (0, 0, 0));
            assert_eq!(r.get("disposition"), "");
            assert_eq!(r.get("csat"), "");
            assert_eq!(r.get("direction"), "inbound", "outbound is never abandoned");
            assert!(arrived <= ended);
        } else {
            let answered = answered.expect("handled ⇒ answered_at");
            assert!(arrived <= answered && answered <= ended);
            assert_eq!(
                ended,
                answered + talk + hold,
                "ended = answered + talk + hold"
            );
            assert!(r.get("agent_id").starts_with('A') && r.get("team").starts_with("team-"));
            assert!(matches!(r.get("site"), "manila" | "austin" | "krakow"));
        }
        match r.get("csat") {
            "" => {}
            c => assert!((1..=5).contains(&c.parse::<i32>()?), "csat {c}"),
        }
        let customer = r.get("customer_id");
        match r.get("channel") {
            "voice" | "sms" => {
                assert!(
                    customer.len() == 12 && customer.starts_with("+1"),
                    "{customer}"
                );
                assert!(customer[2..].bytes().all(|b| b.is_ascii_digit()));
            }
            _ => assert!(
                customer.contains('@') && customer.contains('.'),
                "{customer}"
            ),
        }
    }
    Ok(())
}

#[test]
fn transfer_legs_share_a_chain() -> TestResult {
    let (path, _) = generated(20_000, 7, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let by_id: std::collections::HashMap<&str, &crate::Rec> =
        rows.iter().map(|r| (r.get("interaction_id"), r)).collect();
    let mut second_legs = 0;
    for r in &rows {
        let chain = r.get("chain_id");
        if chain.is_empty() {
            assert_eq!(r.get("transferred"), "false");
            continue;
        }
        let first = by_id.get(chain).expect("chain_id names the first leg");
        assert_eq!(
            first.get("chain_id"),
            chain,
            "the first leg carries its chain id"
        );
        assert_eq!(first.get("transferred"), "true");
        if r.get("interaction_id") != chain {
            second_legs += 1;
            assert_eq!(
                r.secs("arrived_at"),
                first.secs("ended_at"),
                "second leg arrives as the first ends"
            );
            assert_ne!(r.get("agent_id"), first.get("agent_id"), "another agent");
            assert_eq!(r.get("customer_id"), first.get("customer_id"));
        }
    }
    let transferred = rows
        .iter()
        .filter(|r| r.get("transferred") == "true")
        .count();
    assert_eq!(
        second_legs, transferred,
        "every transfer has exactly one second leg"
    );
    assert!(transferred > 200, "{transferred} transfers in 20k rows");
    Ok(())
}

#[test]
fn mix_of_channels_durations_and_outcomes_is_realistic() -> TestResult {
    let (path, _) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let n = rows.len() as f64;
    let share = |f: &dyn Fn(&crate::Rec) -> bool| rows.iter().filter(|r| f(r)).count() as f64 / n;
    let voice = share(&|r| r.get("channel") == "voice");
    let chat = share(&|r| r.get("channel") == "chat");
    let email = share(&|r| r.get("channel") == "email");
    let outbound = share(&|r| r.get("direction") == "outbound");
    assert!((0.66..0.74).contains(&voice), "voice {voice}");
    assert!((0.17..0.23).contains(&chat), "chat {chat}");
    assert!((0.06..0.10).contains(&email), "email {email}");
    assert!((0.035..0.065).contains(&outbound), "outbound {outbound}");

    let handled: Vec<&crate::Rec> = rows
        .iter()
        .filter(|r| r.get("abandoned") == "false")
        .collect();
    let h = handled.len() as f64;
    let abandon_rate = 1.0 - h / n;
    assert!(
        (0.01..0.12).contains(&abandon_rate),
        "abandon rate {abandon_rate}"
    );
    let no_hold = handled.iter().filter(|r| r.get("hold_s") == "0").count() as f64 / h;
    assert!((0.65..0.80).contains(&no_hold), "hold = 0 for {no_hold}");
    let surveyed = handled.iter().filter(|r| !r.get("csat").is_empty()).count() as f64 / h;
    assert!((0.15..0.22).contains(&surveyed), "surveyed {surveyed}");
    let fives = handled.iter().filter(|r| r.get("csat") == "5").count() as f64 / h / surveyed;
    assert!((0.38..0.50).contains(&fives), "csat 5 share {fives}");

    let median = |mut v: Vec<i64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let voice_talk = median(
        handled
            .iter()
            .filter(|r| r.get("channel") == "voice" && r.get("direction") == "inbound")
            .map(|r| r.get("talk_s").parse().unwrap_or(-1))
            .collect(),
    );
    assert!(
        (240..=300).contains(&voice_talk),
        "voice talk median {voice_talk}"
    );
    let acw = median(
        handled
            .iter()
            .map(|r| r.get("acw_s").parse().unwrap_or(-1))
            .collect(),
    );
    assert!((28..=45).contains(&acw), "acw median {acw}");

    // Email waits hours and is never abandoned.
    let email_waits: Vec<i64> = handled
        .iter()
        .filter(|r| r.get("channel") == "email")
        .map(|r| r.secs("answered_at").unwrap_or(0) - r.secs("arrived_at").unwrap_or(0))
        .collect();
    assert!(median(email_waits) > 3600);
    assert!(
        !rows
            .iter()
            .any(|r| r.get("channel") == "email" && r.get("abandoned") == "true")
    );

    // Morning and afternoon peaks, quiet nights; weekends lighter.
    let mut by_hour = [0u32; 24];
    for r in &rows {
        by_hour[r.get("arrived_at")[11..13].parse::<usize>()?] += 1;
    }
    assert!(
        by_hour[10] > 5 * by_hour[3] && by_hour[15] > 5 * by_hour[3],
        "{by_hour:?}"
    );
    let day_count = |d: &str| {
        rows.iter()
            .filter(|r| r.get("arrived_at").starts_with(d))
            .count()
    };
    // 2026-10-03 is a Saturday, 2026-10-05 a Monday.
    assert!(day_count("2026-10-03") * 10 < day_count("2026-10-05") * 7);
    Ok(())
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    let c = dir.path().join("c.csv");
    gen_to(&a, 30_000, 5);
    gen_to(&b, 30_000, 5);
    gen_to(&c, 30_000, 6);
    assert_eq!(std::fs::read(&a)?, std::fs::read(&b)?);
    assert_eq!(
        std::fs::read(dir.path().join("a.facts.json"))?,
        std::fs::read(dir.path().join("b.facts.json"))?
    );
    assert_ne!(std::fs::read(&a)?, std::fs::read(&c)?);
    Ok(())
}

#[test]
fn gz_and_zst_decompress_to_the_plain_bytes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("x.csv");
    let gz = dir.path().join("x.csv.gz");
    let zst = dir.path().join("x.csv.zst");
    gen_to(&plain, 15_000, 3);
    let s_gz = gen_to(&gz, 15_000, 3);
    let s_zst = gen_to(&zst, 15_000, 3);
    let expected = std::fs::read(&plain)?;
    let mut got = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz)?).read_to_end(&mut got)?;
    assert_eq!(got, expected);
    let got = zstd::decode_all(std::fs::File::open(&zst)?)?;
    assert_eq!(got, expected);
    assert!(s_gz.bytes < expected.len() as u64 / 2 && s_zst.bytes < expected.len() as u64 / 2);
    assert_eq!(s_gz.facts_path, dir.path().join("x.facts.json"));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    Ok(())
}

#[test]
fn ndjson_carries_the_same_rows_as_csv() -> TestResult {
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("d.csv");
    let json_path = dir.path().join("d.ndjson");
    gen_to(&csv_path, 5_000, 11);
    let cfg = GenConfig {
        rows: 5_000,
        seed: 11,
        format: FileFormat::Ndjson,
        ..GenConfig::default()
    };
    generate(&cfg, &json_path)?;
    let (_, rows) = read_csv(&csv_path)?;
    let text = std::fs::read_to_string(&json_path)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), rows.len());
    for (line, r) in lines.iter().zip(&rows) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let obj = v.as_object().ok_or("not an object")?;
        for (name, csv_value) in FIELDS.iter().zip(&r.f) {
            match obj.get(*name) {
                None | Some(serde_json::Value::Null) => {
                    assert_eq!(csv_value, "", "{name} omitted only when empty")
                }
                Some(serde_json::Value::String(s)) => assert_eq!(s, csv_value, "{name}"),
                Some(serde_json::Value::Bool(b)) => assert_eq!(b.to_string(), *csv_value, "{name}"),
                Some(serde_json::Value::Number(n)) => {
                    assert!(
                        matches!(*name, "talk_s" | "hold_s" | "acw_s" | "csat"),
                        "{name} is a number"
                    );
                    assert_eq!(n.to_string(), *csv_value, "{name}");
                }
                Some(other) => panic!("{name}: unexpected {other}"),
            }
        }
    }
    Ok(())
}

#[test]
fn card_numbers_are_planted_quoted_and_counted() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let notes: Vec<&str> = rows
        .iter()
        .map(|r| r.get("disposition"))
        .filter(|d| d.starts_with("refund issued, card "))
        .collect();
    let facts = read_facts(&summary);
    assert_eq!(
        Some(notes.len() as u64),
        facts["card_numbers_planted"].as_u64()
    );
    for note in &notes {
        let digits = note.trim_start_matches("refund issued, card ");
        assert_eq!(digits.len(), 16);
        assert!(luhn_valid(digits), "{digits} passes Luhn");
    }
    // A note with a comma must be quoted in the raw file.
    let raw = std::fs::read_to_string(&path)?;
    assert_eq!(raw.matches("\"refund issued, card ").count(), notes.len());
    Ok(())
}

#[test]
fn card_numbers_appear_at_about_one_in_100k() -> TestResult {
    // Over 1M rows the planted count is Poisson(≈10).
    let dir = tempfile::tempdir()?;
    let s = gen_to(&dir.path().join("m.csv.zst"), 1_000_000, 1);
    let n = read_facts(&s)["card_numbers_planted"]
        .as_u64()
        .ok_or("count")?;
    assert!((2..=25).contains(&n), "{n} card numbers");
    Ok(())
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    matches!(sum % 10, 0)
}

#[test]
fn zero_rows_writes_just_the_header() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("empty.csv");
    let s = gen_to(&path, 0, 1);
    assert_eq!(std::fs::read_to_string(&path)?, format!("{HEADER}\n"));
    assert_eq!(s.rows, 0);
    assert!(read_facts(&s)["repeat_contact_rate"].is_null());
    Ok(())
}

#[test]
fn errors_name_the_path() {
    let path = std::path::Path::new("/nonexistent-cxpipe-dir/sub/x.csv");
    let err = generate(&GenConfig::default(), path).expect_err("no such folder");
    assert!(matches!(err, Error::Io { .. }));
    assert!(
        err.to_string()
            .contains("/nonexistent-cxpipe-dir/sub/x.csv"),
        "{err}"
    );
    let bad = GenConfig {
        start: (2026, 2, 30),
        ..GenConfig::default()
    };
    let err = generate(&bad, path).expect_err("bad date");
    assert!(err.to_string().contains("2026-02-30"), "{err}");
}

#[test]
fn cancelling_leaves_no_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("c.csv.gz");
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let cfg = GenConfig {
        rows: 50_000,
        ..GenConfig::default()
    };
    let err = cxpipe_generate::generate_with_cancel(&cfg, &path, &cancel).expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        0,
        "nothing left behind"
    );
    Ok(())
}

/// The spec's benchmark size (SPEC §14): 10M rows, about 1.8 GB. Slow, so
/// it runs only with `RUN_SLOW_TESTS=1`.
#[test]
fn ten_million_rows() -> TestResult {
    if std::env::var("RUN_SLOW_TESTS").as_deref() != Ok("1") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.csv");
    let began = std::time::Instant::now();
    let s = gen_to(&path, 10_000_000, 42);
    let secs = began.elapsed().as_secs_f64();
    let mut lines = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut f = std::fs::File::open(&path)?;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    assert_eq!(lines, 10_000_001);
    let per_row = s.bytes as f64 / 1e7;
    assert!(
        (150.0..=200.0).contains(&per_row),
        "{per_row} bytes per row"
    );
    assert!(secs < 60.0, "took {secs:.1} s");
    Ok(())
}
