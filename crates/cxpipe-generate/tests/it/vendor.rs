//! The vendor layouts: each file, read back the way the layout contract
//! says (SPEC §4), gives the same canonical rows as the generic file of the
//! same seed — but for what the layout cannot carry.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use cxpipe_generate::{Error, FileFormat, GenConfig, GenerateSummary, Layout, generate};
use serde_json::Value;

use crate::{Rec, TestResult, parse_ts, read_csv, read_facts};

/// Generates `name` in `dir` in `layout` (the encoding from the name).
fn gen_layout(
    dir: &Path,
    name: &str,
    layout: Layout,
    rows: u64,
    start: (i32, u8, u8),
) -> Result<(PathBuf, GenerateSummary), Error> {
    let path = dir.join(name);
    let cfg = GenConfig {
        rows,
        seed: 7,
        start,
        format: layout.format_for(&path)?,
        layout,
        ..GenConfig::default()
    };
    let summary = generate(&cfg, &path)?;
    Ok((path, summary))
}

const OCTOBER: (i32, u8, u8) = (2026, 10, 1);
/// A month with a daylight-saving change in New York (2026-03-08).
const MARCH: (i32, u8, u8) = (2026, 3, 1);

/// A canonical row (SPEC §3), with the raw customer; empty = null.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Canon {
    id: String,
    chain: String,
    channel: String,
    direction: String,
    queue: String,
    agent: String,
    team: String,
    site: String,
    customer: String,
    arrived: i64,
    answered: Option<i64>,
    ended: i64,
    talk: i64,
    hold: i64,
    acw: i64,
    abandoned: bool,
    transferred: bool,
    disposition: String,
    csat: String,
}

/// "A chain_id equal to the record's own interaction_id is stored as null."
fn chain_of(id: &str, chain: &str) -> String {
    if chain == id {
        String::new()
    } else {
        chain.to_string()
    }
}

fn from_generic(r: &Rec) -> Result<Canon, Box<dyn std::error::Error>> {
    Ok(Canon {
        id: r.get("interaction_id").into(),
        chain: chain_of(r.get("interaction_id"), r.get("chain_id")),
        channel: r.get("channel").into(),
        direction: r.get("direction").into(),
        queue: r.get("queue").into(),
        agent: r.get("agent_id").into(),
        team: r.get("team").into(),
        site: r.get("site").into(),
        customer: r.get("customer_id").into(),
        arrived: r.secs("arrived_at").ok_or("arrived_at")?,
        answered: r.secs("answered_at"),
        ended: r.secs("ended_at").ok_or("ended_at")?,
        talk: r.get("talk_s").parse()?,
        hold: r.get("hold_s").parse()?,
        acw: r.get("acw_s").parse()?,
        abandoned: r.get("abandoned") == "true",
        transferred: r.get("transferred") == "true",
        disposition: r.get("disposition").into(),
        csat: r.get("csat").into(),
    })
}

fn generic_rows(
    dir: &Path,
    rows: u64,
    start: (i32, u8, u8),
) -> Result<Vec<Canon>, Box<dyn std::error::Error>> {
    let (path, _) = gen_layout(dir, "generic.csv", Layout::Generic, rows, start)?;
    let (_, recs) = read_csv(&path)?;
    recs.iter().map(from_generic).collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn ts(v: &Value) -> Option<i64> {
    v.as_str().map(parse_ts)
}

/// A CTR read as the contract says.
fn from_ctr(v: &Value) -> Result<Canon, Box<dyn std::error::Error>> {
    let id = s(&v["ContactId"]);
    let subtype = v["SegmentAttributes"]["connect:Subtype"]["ValueString"].as_str();
    let channel = match (subtype, v["Channel"].as_str()) {
        (Some("connect:SMS"), _) => "sms",
        (Some("connect:WhatsApp" | "connect:AppleBusinessChat"), _) => "social",
        (Some("connect:Chat"), _) | (None, Some("CHAT")) => "chat",
        (None, Some("VOICE")) => "voice",
        (None, Some("EMAIL")) => "email",
        (None, Some("TASK")) => "task",
        other => return Err(format!("channel {other:?}").into()),
    };
    let direction = match v["InitiationMethod"].as_str() {
        Some("INBOUND" | "TRANSFER" | "QUEUE_TRANSFER") => "inbound",
        Some("OUTBOUND" | "CALLBACK" | "API") => "outbound",
        other => return Err(format!("InitiationMethod {other:?}").into()),
    };
    let agent = &v["Agent"];
    let enqueued = ts(&v["Queue"]["EnqueueTimestamp"]);
    let answered = ts(&agent["ConnectedToAgentTimestamp"]);
    let secs = |k: &str| agent[k].as_i64().unwrap_or(0);
    Ok(Canon {
        chain: chain_of(&id, v["InitialContactId"].as_str().unwrap_or_default()),
        id,
        channel: channel.into(),
        direction: direction.into(),
        queue: s(&v["Queue"]["Name"]),
        agent: s(&agent["Username"]),
        team: s(&agent["HierarchyGroups"]["Level2"]["GroupName"]),
        site: s(&agent["HierarchyGroups"]["Level1"]["GroupName"]),
        customer: s(&v["CustomerEndpoint"]["Address"]),
        arrived: enqueued
            .or_else(|| ts(&v["InitiationTimestamp"]))
            .ok_or("arrival")?,
        answered,
        ended: ts(&v["DisconnectTimestamp"]).ok_or("DisconnectTimestamp")?,
        talk: secs("AgentInteractionDuration"),
        hold: secs("CustomerHoldDuration"),
        acw: secs("AfterContactWorkDuration"),
        abandoned: enqueued.is_some() && answered.is_none(),
        transferred: !v["TransferCompletedTimestamp"].is_null(),
        disposition: s(&v["Attributes"]["disposition"]),
        csat: s(&v["Attributes"]["csat"]),
    })
}

/// Keeps, per ContactId, the record with the greatest LastUpdateTimestamp,
/// in the order of first appearance; returns those and the number dropped.
fn dedupe(records: &[Value]) -> (Vec<&Value>, usize) {
    let mut order: Vec<&str> = Vec::new();
    let mut best: HashMap<&str, &Value> = HashMap::new();
    for r in records {
        let id = r["ContactId"].as_str().unwrap_or_default();
        match best.get(id) {
            None => {
                order.push(id);
                best.insert(id, r);
            }
            Some(old) if ts(&old["LastUpdateTimestamp"]) < ts(&r["LastUpdateTimestamp"]) => {
                best.insert(id, r);
            }
            Some(_) => {}
        }
    }
    let kept: Vec<&Value> = order
        .iter()
        .filter_map(|id| best.get(id).copied())
        .collect();
    let dropped = records.len() - kept.len();
    (kept, dropped)
}

fn hms(v: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let parts: Vec<&str> = v.split(':').collect();
    match parts[..] {
        [h, m, s] if m.len() == 2 && s.len() == 2 && h.len() >= 2 => {
            Ok(h.parse::<i64>()? * 3600 + m.parse::<i64>()? * 60 + s.parse::<i64>()?)
        }
        _ => Err(format!("duration {v:?}").into()),
    }
}

/// A CSV record by column name.
type Named = HashMap<String, String>;

/// Reads a CSV file with the `csv` crate: the header and each record by
/// column name.
fn read_vendor_csv(path: &Path) -> Result<(Vec<String>, Vec<Named>), Box<dyn std::error::Error>> {
    let mut rd = csv::ReaderBuilder::new().flexible(false).from_path(path)?;
    let header: Vec<String> = rd.headers()?.iter().map(str::to_string).collect();
    let mut out = Vec::new();
    for r in rd.records() {
        let r = r?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok((header, out))
}

#[test]
fn amazon_connect_ndjson_and_array_read_back_as_the_generic_rows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let generic = generic_rows(dir.path(), 20_000, OCTOBER)?;
    for name in ["ctr.ndjson", "ctr.json"] {
        let (path, summary) = gen_layout(dir.path(), name, Layout::AmazonConnect, 20_000, OCTOBER)?;
        let text = std::fs::read_to_string(&path)?;
        let records: Vec<Value> = if name.ends_with(".json") {
            assert!(text.starts_with("[\n{\"AWSAccountId\":") && text.ends_with("}\n]\n"));
            match serde_json::from_str(&text)? {
                Value::Array(a) => a,
                other => return Err(format!("not an array: {other:.80}").into()),
            }
        } else {
            text.lines()
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()?
        };
        let (kept, dropped) = dedupe(&records);
        let canon: Vec<Canon> = kept.into_iter().map(from_ctr).collect::<Result<_, _>>()?;
        assert_eq!(canon.len(), generic.len());
        for (c, g) in canon.iter().zip(&generic) {
            assert_eq!(c, g);
        }

        // Duplicates: about 0.5 %, counted in the facts and the summary,
        // the older record on either side of the final one.
        let facts = read_facts(&summary);
        assert_eq!(facts["layout"], "amazon-connect");
        assert_eq!(
            facts["format"],
            if name.ends_with(".json") {
                "json"
            } else {
                "ndjson"
            }
        );
        assert_eq!(facts["rows"], 20_000);
        assert_eq!(facts["duplicate_records"].as_u64(), Some(dropped as u64));
        assert_eq!(facts["records"].as_u64(), Some(records.len() as u64));
        assert_eq!(summary.records, records.len() as u64);
        assert_eq!(summary.rows, 20_000);
        assert!((50..=150).contains(&dropped), "{dropped} duplicates");
        let (mut before, mut after) = (0, 0);
        for pair in records.windows(2) {
            if pair[0]["ContactId"] == pair[1]["ContactId"] {
                let (a, b) = (
                    ts(&pair[0]["LastUpdateTimestamp"]),
                    ts(&pair[1]["LastUpdateTimestamp"]),
                );
                assert_eq!(a.zip(b).map(|(a, b)| (a - b).abs()), Some(60));
                if a < b {
                    before += 1;
                } else {
                    after += 1;
                }
            }
        }
        assert_eq!(before + after, dropped, "duplicates are adjacent");
        assert!(
            before > dropped / 5 && after > dropped / 5,
            "{before} before, {after} after"
        );
    }
    Ok(())
}

/// Unix seconds of a Five9 `MM/DD/YYYY HH:MM:SS` read in America/New_York.
fn five9_ts(v: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let tz = jiff::tz::TimeZone::get(cxpipe_generate::FIVE9_TIME_ZONE)?;
    let dt = jiff::civil::DateTime::strptime("%m/%d/%Y %H:%M:%S", v)?;
    Ok(dt.to_zoned_datetime(tz)?.timestamp().as_second())
}

/// What the Five9 call log can say of a generic row.
fn as_five9(g: &Canon) -> Canon {
    Canon {
        chain: String::new(),
        channel: "voice".into(),
        site: String::new(),
        csat: String::new(),
        ..g.clone()
    }
}

#[test]
fn five9_reads_back_as_the_generic_rows() -> TestResult {
    for start in [OCTOBER, MARCH] {
        let dir = tempfile::tempdir()?;
        let generic = generic_rows(dir.path(), 20_000, start)?;
        let (path, summary) = gen_layout(dir.path(), "calls.csv", Layout::Five9, 20_000, start)?;
        let (header, rows) = read_vendor_csv(&path)?;
        assert_eq!(
            header.join(","),
            "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,\
             TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION"
        );
        assert_eq!(rows.len(), generic.len());
        for (r, g) in rows.iter().zip(&generic) {
            let arrived = five9_ts(&r["TIMESTAMP"])?;
            let wait = hms(&r["QUEUE WAIT TIME"])?;
            let (talk, hold) = (hms(&r["TALK TIME"])?, hms(&r["HOLD TIME"])?);
            let agent = if r["AGENT"] == "[None]" {
                ""
            } else {
                &r["AGENT"]
            };
            let c = Canon {
                id: r["CALL ID"].clone(),
                chain: String::new(),
                channel: "voice".into(),
                direction: match r["CALL TYPE"].as_str() {
                    "Inbound" => "inbound".into(),
                    "Outbound" => "outbound".into(),
                    other => return Err(format!("CALL TYPE {other}").into()),
                },
                queue: r["CAMPAIGN"].clone(),
                agent: agent.into(),
                team: r["AGENT GROUP"].clone(),
                site: String::new(),
                customer: r["ANI"].clone(),
                arrived,
                answered: (!agent.is_empty()).then_some(arrived + wait),
                ended: arrived + wait + talk + hold,
                talk,
                hold,
                acw: hms(&r["AFTER CALL WORK TIME"])?,
                abandoned: r["ABANDONED"] == "1",
                transferred: r["TRANSFERS"].parse::<u32>()? > 0,
                disposition: r["DISPOSITION"].clone(),
                csat: String::new(),
            };
            assert_eq!(c, as_five9(g));
            assert!(matches!(r["ABANDONED"].as_str(), "0" | "1"));
            assert!(matches!(r["TRANSFERS"].as_str(), "0" | "1"));
        }
        let facts = read_facts(&summary);
        assert_eq!(facts["layout"], "five9");
        assert_eq!(facts["tz"], "America/New_York");
        assert!(facts.get("duplicate_records").is_none());
    }
    Ok(())
}

#[test]
fn talkdesk_reads_back_as_the_generic_rows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let generic = generic_rows(dir.path(), 20_000, OCTOBER)?;
    let (path, summary) = gen_layout(
        dir.path(),
        "contacts.csv.gz",
        Layout::Talkdesk,
        20_000,
        OCTOBER,
    )?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path)?).read_to_string(&mut text)?;
    let plain = dir.path().join("contacts.csv");
    std::fs::write(&plain, &text)?;
    let (header, rows) = read_vendor_csv(&plain)?;
    assert_eq!(
        header.join(","),
        "Interaction ID,Contact ID,Direction,Started At,Answered At,Finished At,Wait Time,\
         Talk Time,Hold Time,After Call Work Time,User ID,Team Name,Ring Groups,\
         Contact Person Number,Transfer Out (Yes/No),Disposition"
    );
    let utc = |v: &str| -> Option<i64> {
        (!v.is_empty()).then(|| {
            assert_eq!(v.len(), 19, "{v}");
            parse_ts(&format!("{}T{}Z", &v[..10], &v[11..]))
        })
    };
    assert_eq!(rows.len(), generic.len());
    let mut legs_per_interaction: HashMap<&str, u32> = HashMap::new();
    for (r, g) in rows.iter().zip(&generic) {
        let direction = r["Direction"].to_lowercase();
        let arrived = utc(&r["Started At"]).ok_or("Started At")?;
        let answered = utc(&r["Answered At"]);
        let ended = utc(&r["Finished At"]).ok_or("Finished At")?;
        let wait: i64 = r["Wait Time"].parse()?;
        assert_eq!(wait, answered.unwrap_or(ended) - arrived, "{r:?}");
        let c = Canon {
            id: r["Contact ID"].clone(),
            chain: chain_of(&r["Contact ID"], &r["Interaction ID"]),
            channel: "voice".into(),
            abandoned: direction == "inbound" && answered.is_none(),
            direction,
            queue: r["Ring Groups"].clone(),
            agent: r["User ID"].clone(),
            team: r["Team Name"].clone(),
            site: String::new(),
            customer: r["Contact Person Number"].clone(),
            arrived,
            answered,
            ended,
            talk: r["Talk Time"].parse()?,
            hold: r["Hold Time"].parse()?,
            acw: r["After Call Work Time"].parse()?,
            transferred: match r["Transfer Out (Yes/No)"].as_str() {
                "Yes" => true,
                "No" => false,
                other => return Err(format!("Transfer Out {other}").into()),
            },
            disposition: r["Disposition"].clone(),
            csat: String::new(),
        };
        let expected = Canon {
            channel: "voice".into(),
            site: String::new(),
            csat: String::new(),
            ..g.clone()
        };
        assert_eq!(c, expected);
        *legs_per_interaction
            .entry(&r["Interaction ID"])
            .or_default() += 1;
    }
    assert!(
        legs_per_interaction.values().any(|&n| n == 2),
        "transfer legs share an Interaction ID"
    );
    let facts = read_facts(&summary);
    assert_eq!(facts["layout"], "talkdesk");
    assert_eq!(facts["format"], "csv");
    Ok(())
}

#[test]
fn the_facts_are_the_same_in_every_layout_but_for_the_layout_fields() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut all = Vec::new();
    for (name, layout) in [
        ("g.csv", Layout::Generic),
        ("a.ndjson", Layout::AmazonConnect),
        ("f.csv", Layout::Five9),
        ("t.csv", Layout::Talkdesk),
    ] {
        let (_, summary) = gen_layout(dir.path(), name, layout, 10_000, OCTOBER)?;
        let mut facts = read_facts(&summary);
        let obj = facts.as_object_mut().ok_or("object")?;
        assert_eq!(obj.remove("layout"), Some(Value::from(layout.as_str())));
        for key in ["format", "tz", "records", "duplicate_records"] {
            obj.remove(key);
        }
        all.push(facts);
    }
    let generic =
        read_facts(&gen_layout(dir.path(), "g2.csv", Layout::Generic, 10_000, OCTOBER)?.1);
    for key in ["tz", "records", "duplicate_records"] {
        assert!(generic.get(key).is_none(), "generic facts have no {key}");
    }
    assert!(all.windows(2).all(|w| w[0] == w[1]));
    Ok(())
}

#[test]
fn layouts_refuse_file_names_of_another_encoding() {
    let cases = [
        (Layout::AmazonConnect, "x.csv"),
        (Layout::AmazonConnect, "x"),
        (Layout::AmazonConnect, "x.csv.gz"),
        (Layout::Five9, "x.ndjson"),
        (Layout::Five9, "x.json.zst"),
        (Layout::Talkdesk, "x.jsonl"),
        (Layout::Talkdesk, "x.JSON"),
    ];
    for (layout, name) in cases {
        let err = layout
            .format_for(Path::new(name))
            .expect_err("a name that does not fit");
        let msg = err.to_string();
        assert!(msg.contains(layout.as_str()) && msg.contains(name), "{msg}");
    }
    let ok = [
        (Layout::AmazonConnect, "x.ndjson.gz", FileFormat::Ndjson),
        (Layout::AmazonConnect, "x.jsonl", FileFormat::Ndjson),
        (Layout::AmazonConnect, "x.JSON.zst", FileFormat::JsonArray),
        (Layout::Five9, "x.csv.zst", FileFormat::Csv),
        (Layout::Talkdesk, "x.csv", FileFormat::Csv),
        (Layout::Generic, "x.ndjson", FileFormat::Ndjson),
        (Layout::Generic, "x.csv", FileFormat::Csv),
    ];
    for (layout, name, format) in ok {
        assert_eq!(
            layout.format_for(Path::new(name)).ok(),
            Some(format),
            "{name}"
        );
    }
}

#[test]
fn generate_refuses_a_layout_in_an_encoding_it_is_not_written_in() -> TestResult {
    let dir = tempfile::tempdir()?;
    for (layout, format) in [
        (Layout::AmazonConnect, FileFormat::Csv),
        (Layout::Five9, FileFormat::Ndjson),
        (Layout::Talkdesk, FileFormat::JsonArray),
        (Layout::Generic, FileFormat::JsonArray),
    ] {
        let path = dir.path().join("x.out");
        let cfg = GenConfig {
            layout,
            format,
            ..GenConfig::default()
        };
        let err = generate(&cfg, &path).expect_err("refused");
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(!path.exists());
    }
    Ok(())
}
