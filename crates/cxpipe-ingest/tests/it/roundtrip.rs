//! Round trip: random valid rows with awkward text (commas, quotes,
//! newlines, unicode, padding), written as correctly quoted CSV or as
//! NDJSON in a random column order, ingested with 1 KiB chunks, read back:
//! the stored rows equal a naive reference (trim, parse, last version of
//! each id wins).

use std::collections::BTreeMap;
use std::fs;

use cxpipe_ingest::FileStatus;
use cxpipe_ingest::pii::{KeySource, Pseudonymizer};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::{KEY, Stored, opts, read_rows, run};

const CHANNELS: [(&str, &str); 11] = [
    ("voice", "voice"),
    ("Phone", "voice"),
    ("CALL", "voice"),
    ("chat", "chat"),
    ("webchat", "chat"),
    ("E-mail", "email"),
    ("sms", "sms"),
    ("Text", "sms"),
    ("social", "social"),
    ("task", "task"),
    ("other", "other"),
];
const DIRECTIONS: [(&str, &str); 6] = [
    ("inbound", "inbound"),
    ("IN", "inbound"),
    ("outbound", "outbound"),
    ("out", "outbound"),
    ("internal", "internal"),
    ("transfer", "internal"),
];
const CUSTOMERS: [&str; 6] = [
    "Ann@Example.com",
    "ann@example.com",
    "+1 (415) 555-0101",
    "+14155550101",
    "bob@x.org",
    "member #42 ✓",
];
const TRUE_WORDS: [&str; 5] = ["true", "1", "yes", "Y", "T"];
const FALSE_WORDS: [&str; 5] = ["false", "0", "no", "N", "f"];

/// Short text made of the characters that break naive CSV writers and
/// readers. At most 12 characters, so never 13 digits (no card numbers).
fn awkward() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        'a', 'b', 'Z', ' ', ',', '"', '\n', '\r', '\t', 'é', '日', '🙂', '\'', ';', '7', '-', '\\',
        '{', ']', '#', 'ß',
    ]);
    prop::collection::vec(chars, 0..12).prop_map(|v| v.into_iter().collect())
}

/// What the pipeline stores for a free-text field: trimmed of ASCII
/// whitespace, null when blank.
fn stored_text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(|t| {
            t.trim_matches(|c: char| c.is_ascii_whitespace())
                .to_string()
        })
        .filter(|t| !t.is_empty())
}

/// A µs timestamp written with a UTC offset in minutes (`None` = no
/// offset, read as UTC).
fn write_ts(us: i64, offset_min: Option<i32>) -> String {
    let local = us + i64::from(offset_min.unwrap_or(0)) * 60_000_000;
    let secs = local.div_euclid(1_000_000);
    let frac = local.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if frac != 0 {
        s.push_str(&format!(".{frac:06}"));
    }
    match offset_min {
        None => {}
        Some(0) => s.push('Z'),
        Some(o) => s.push_str(&format!(
            "{}{:02}:{:02}",
            if o < 0 { '-' } else { '+' },
            o.abs() / 60,
            o.abs() % 60
        )),
    }
    s
}

fn offset() -> impl Strategy<Value = Option<i32>> {
    prop::sample::select(vec![
        None,
        Some(0),
        Some(120),
        Some(-300),
        Some(330),
        Some(-570),
    ])
}

/// One generated record: the text written for each column (`None` =
/// blank) and the row the pipeline must store for it.
#[derive(Debug, Clone)]
struct Rec {
    fields: BTreeMap<&'static str, Option<String>>,
    want: Stored,
    blank_line_after: bool,
}

#[allow(
    clippy::too_many_arguments,
    reason = "one argument per generated part of a record"
)]
fn record(
    id: String,
    texts: [Option<String>; 6],
    customer: Option<usize>,
    (channel, direction): (usize, usize),
    (arrived, wait_ms, dur_ms, offsets): (i64, Option<i64>, i64, [Option<i32>; 3]),
    (talk, hold, acw): (Option<i64>, Option<i64>, Option<i64>),
    (flag_word, transferred, csat, blank_line_after): (
        usize,
        Option<usize>,
        Option<(i8, bool)>,
        bool,
    ),
) -> Rec {
    let [chain, queue, agent, team, site, disposition] = texts;
    let (ch_text, ch) = CHANNELS[channel];
    let (dir_text, dir) = DIRECTIONS[direction];
    let answered = wait_ms.map(|w| arrived + w * 1000);
    let ended = answered.unwrap_or(arrived) + dur_ms * 1000;
    // abandoned must agree with the answer time and the agent.
    // A blank flag is derived; otherwise one of the accepted words.
    let word = |words: &[&str; 5]| {
        if flag_word % 2 == 0 {
            String::new()
        } else {
            words[flag_word / 2 % 5].to_string()
        }
    };
    let (abandoned_text, abandoned, agent) = match (answered, dir) {
        (Some(_), _) => (word(&FALSE_WORDS), false, agent),
        (None, "inbound") => (word(&TRUE_WORDS), true, None),
        (None, _) => (word(&FALSE_WORDS), false, agent),
    };
    let (transferred_text, transferred_val) = match transferred {
        None => (String::new(), false),
        Some(i) if i % 2 == 0 => (TRUE_WORDS[i % 5].to_string(), true),
        Some(i) => (FALSE_WORDS[i % 5].to_string(), false),
    };
    // Durations are kept in ms here; the writer converts to the file's unit.
    let dur = |ms: Option<i64>| -> Option<String> { ms.map(|v| v.to_string()) };
    let pseudonymizer = Pseudonymizer::from_material(KEY.as_bytes(), KeySource::Env);
    let customer_key = customer.map(|c| {
        let mut out = [0u8; 32];
        pseudonymizer.customer_key(CUSTOMERS[c], &mut out);
        String::from_utf8(out.to_vec()).expect("hex")
    });
    let fields: BTreeMap<&'static str, Option<String>> = BTreeMap::from([
        ("interaction_id", Some(id.clone())),
        ("chain_id", chain.clone()),
        ("channel", Some(ch_text.to_string())),
        ("direction", Some(dir_text.to_string())),
        ("queue", queue.clone()),
        ("agent_id", agent.clone()),
        ("team", team.clone()),
        ("site", site.clone()),
        ("customer_id", customer.map(|c| CUSTOMERS[c].to_string())),
        ("arrived_at", Some(write_ts(arrived, offsets[0]))),
        ("answered_at", answered.map(|a| write_ts(a, offsets[1]))),
        ("ended_at", Some(write_ts(ended, offsets[2]))),
        ("talk", dur(talk)),
        ("hold", dur(hold)),
        ("acw", dur(acw)),
        ("abandoned", Some(abandoned_text).filter(|s| !s.is_empty())),
        (
            "transferred",
            Some(transferred_text).filter(|s| !s.is_empty()),
        ),
        ("disposition", disposition.clone()),
        (
            "csat",
            csat.map(|(v, dot)| if dot { format!("{v}.0") } else { v.to_string() }),
        ),
    ]);
    let (talk, hold, acw) = (talk.unwrap_or(0), hold.unwrap_or(0), acw.unwrap_or(0));
    let want = Stored {
        interaction_id: stored_text(&Some(id)).expect("non-blank id"),
        chain_id: stored_text(&chain),
        channel: ch.to_string(),
        direction: dir.to_string(),
        queue: stored_text(&queue),
        agent_id: stored_text(&agent),
        team: stored_text(&team),
        site: stored_text(&site),
        customer_key,
        arrived_at: arrived,
        answered_at: answered,
        ended_at: Some(ended),
        wait_ms: Some((answered.unwrap_or(ended) - arrived) / 1000),
        talk_ms: talk,
        hold_ms: hold,
        acw_ms: acw,
        handle_ms: talk + hold + acw,
        abandoned,
        transferred: transferred_val,
        disposition: stored_text(&disposition),
        csat: csat.map(|(v, _)| v),
        source_file: String::new(),
        source_line: 0,
    };
    Rec {
        fields,
        want,
        blank_line_after,
    }
}

fn records(ids: Vec<String>) -> impl Strategy<Value = Vec<Rec>> {
    let n = ids.len();
    let one = (
        0..n,
        prop::array::uniform6(prop::option::of(awkward())),
        prop::option::of(0..CUSTOMERS.len()),
        (0..CHANNELS.len(), 0..DIRECTIONS.len()),
        (
            1_767_225_600_000_000i64..1_798_761_600_000_000,
            prop::option::of(0i64..3_600_000),
            0i64..7_200_000,
            [offset(), offset(), offset()],
        ),
        (
            prop::option::of(0i64..10_000_000),
            prop::option::of(0i64..10_000_000),
            prop::option::of(0i64..10_000_000),
        ),
        (
            0usize..10,
            prop::option::of(0usize..10),
            prop::option::of((1i8..=5, any::<bool>())),
            prop::bool::weighted(0.1),
        ),
    );
    prop::collection::vec(one, 1..40).prop_map(move |parts| {
        parts
            .into_iter()
            .map(|(k, texts, customer, enums, times, durations, flags)| {
                record(
                    ids[k].clone(),
                    texts,
                    customer,
                    enums,
                    times,
                    durations,
                    flags,
                )
            })
            .collect()
    })
}

/// The columns of a generated file: canonical names, durations with the
/// file's unit suffix.
fn column_names(seconds: bool) -> Vec<(&'static str, String)> {
    [
        "interaction_id",
        "chain_id",
        "channel",
        "direction",
        "queue",
        "agent_id",
        "team",
        "site",
        "customer_id",
        "arrived_at",
        "answered_at",
        "ended_at",
        "talk",
        "hold",
        "acw",
        "abandoned",
        "transferred",
        "disposition",
        "csat",
    ]
    .into_iter()
    .map(|k| {
        let name = match k {
            "talk" | "hold" | "acw" => format!("{k}{}", if seconds { "_s" } else { "_ms" }),
            other => other.to_string(),
        };
        (k, name)
    })
    .collect()
}

fn csv_field(out: &mut String, v: &str, quote_all: bool) {
    if quote_all || v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// The way a file is written.
#[derive(Debug, Clone)]
struct Layout {
    ndjson: bool,
    seconds: bool,
    crlf: bool,
    bom: bool,
    quote_all: bool,
    /// A permutation of the columns.
    order: Vec<usize>,
    /// NDJSON: omit blank fields instead of writing null / "".
    omit_blank: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        Just((0..19).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
    )
        .prop_map(
            |(ndjson, seconds, crlf, bom, quote_all, order, omit_blank)| Layout {
                ndjson,
                seconds,
                crlf,
                bom,
                quote_all,
                order,
                omit_blank,
            },
        )
}

/// Writes records in a layout; returns the bytes and each record's line.
fn write_file(recs: &[Rec], l: &Layout) -> (Vec<u8>, Vec<i64>) {
    let cols = column_names(l.seconds);
    let cols: Vec<&(&str, String)> = l.order.iter().map(|&i| &cols[i]).collect();
    let eol = if l.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    if l.bom {
        out.push('\u{feff}');
    }
    let mut lines = Vec::new();
    if !l.ndjson {
        let header: Vec<&str> = cols.iter().map(|(_, n)| n.as_str()).collect();
        out.push_str(&header.join(","));
        out.push_str(eol);
    }
    for r in recs {
        lines.push(1 + out.matches('\n').count() as i64);
        let value = |k: &str| -> Option<String> {
            let v = r.fields[k].clone();
            match (k, v) {
                ("talk" | "hold" | "acw", Some(ms)) if l.seconds => {
                    let ms: i64 = ms.parse().expect("ms");
                    Some(format!("{}.{:03}", ms / 1000, ms % 1000))
                }
                (_, v) => v,
            }
        };
        if l.ndjson {
            let mut obj = Map::new();
            for (k, name) in &cols {
                let v = value(k);
                let value = match (v, *k) {
                    (None, _) if l.omit_blank => continue,
                    (None, _) => Value::Null,
                    (Some(t), "talk" | "hold" | "acw") if !l.seconds => {
                        Value::Number(t.parse::<i64>().expect("ms").into())
                    }
                    (Some(t), "csat") if !t.contains('.') => {
                        Value::Number(t.parse::<i64>().expect("csat").into())
                    }
                    (Some(t), "abandoned" | "transferred") if t == "true" || t == "false" => {
                        Value::Bool(t == "true")
                    }
                    (Some(t), _) => Value::String(t),
                };
                obj.insert(name.clone(), value);
            }
            out.push_str(&serde_json::to_string(&obj).expect("json"));
        } else {
            for (i, (k, _)) in cols.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(&mut out, value(k).as_deref().unwrap_or(""), l.quote_all);
            }
        }
        out.push_str(eol);
        if r.blank_line_after {
            out.push_str(eol);
        }
    }
    (out.into_bytes(), lines)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_valid_rows_round_trip(
        recs in prop::collection::vec(awkward(), 1..12)
            .prop_map(|v| v.into_iter().enumerate().map(|(k, s)| format!("{s}#{k}")).collect::<Vec<_>>())
            .prop_flat_map(records),
        split in 0usize..40,
        layouts in (layout(), layout()),
    ) {
        let tmp = tempfile::tempdir().expect("tmp");
        let split = split.min(recs.len());
        let parts = [(&recs[..split], &layouts.0, "first"), (&recs[split..], &layouts.1, "second")];
        let mut files = Vec::new();
        let mut want: BTreeMap<String, Stored> = BTreeMap::new();
        let mut counts = Vec::new();
        for (part, layout, stem) in parts {
            if part.is_empty() {
                continue;
            }
            let name = format!("{stem}.{}", if layout.ndjson { "ndjson" } else { "csv" });
            let (bytes, lines) = write_file(part, layout);
            let path = tmp.path().join(&name);
            fs::write(&path, bytes).expect("write");
            files.push(path);
            // Later records (and later files) replace earlier ones.
            for (r, line) in part.iter().zip(lines) {
                let mut w = r.want.clone();
                w.source_file = name.clone();
                w.source_line = line;
                want.insert(w.interaction_id.clone(), w);
            }
            counts.push((name, part.len() as u64));
        }
        let ds = tmp.path().join("ds");
        let report = run(&files, &opts(&ds, 1024));
        prop_assert!(report.conservation_ok);
        prop_assert_eq!(report.totals.rows_quarantined, 0, "{:#?}", report.files);
        prop_assert_eq!(report.files.len(), counts.len());
        for (f, (name, n)) in report.files.iter().zip(&counts) {
            prop_assert_eq!(&f.name, name);
            prop_assert_eq!(f.status, FileStatus::Ingested);
            prop_assert_eq!(f.rows_read, *n);
            prop_assert_eq!(f.rows_read, f.rows_written + f.rows_quarantined + f.duplicates_dropped);
        }
        prop_assert_eq!(report.totals.rows_written, want.len() as u64);
        let got = read_rows(&ds);
        let want: Vec<Stored> = want.into_values().collect();
        prop_assert_eq!(got, want);
    }
}
