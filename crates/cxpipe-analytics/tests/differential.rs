//! The polars engine against a naive, row-by-row reading of SPEC §7–§8.
//!
//! Each case writes random contacts as a generic CSV, ingests it with the
//! real ingest (so the engine reads real dataset files: dictionary columns,
//! µs UTC timestamps, day partitions), reads the stored rows back, and
//! computes every KPI the obvious way: local time from jiff's zone rules,
//! one pass per group, FCR by comparing every pair of contacts.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use cxpipe_analytics::time::{Shift, Shifts};
use cxpipe_analytics::{Group, Interval, KpiParams, Partitions, SlVariant, Zone, kpi};
use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use polars::prelude::DataFrame;
use proptest::prelude::*;

/// A stored row, as the naive side needs it.
#[derive(Debug, Clone)]
struct Rec {
    interaction_id: String,
    chain_id: Option<String>,
    channel: String,
    direction: String,
    queue: Option<String>,
    agent_id: Option<String>,
    team: Option<String>,
    site: Option<String>,
    customer_key: Option<String>,
    arrived_us: i64,
    answered: bool,
    wait_ms: Option<i64>,
    talk_ms: i64,
    hold_ms: i64,
    acw_ms: i64,
    handle_ms: i64,
    abandoned: bool,
    transferred: bool,
    csat: Option<i8>,
}

/// One generated contact, before ingest.
#[derive(Debug, Clone)]
struct Gen {
    chain: Option<u8>,
    channel: u8,
    direction: u8,
    queue: Option<u8>,
    agent: Option<u8>,
    customer: Option<u8>,
    arrive_s: i64,
    answered: bool,
    abandoned: bool,
    wait_s: i64,
    talk_s: i64,
    hold_s: i64,
    acw_s: i64,
    transferred: bool,
    csat: Option<u8>,
    /// An unanswered contact whose export records no end (so no wait).
    end_unknown: bool,
}

fn gen_contact() -> impl Strategy<Value = Gen> {
    (
        (
            prop::option::weighted(0.3, 0u8..4),
            0u8..3,
            prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
            prop::option::weighted(0.9, 0u8..3),
            prop::option::weighted(0.9, 0u8..4),
            prop::option::weighted(0.8, 0u8..3),
        ),
        (
            // Mostly on a 15-minute grid, so that contacts share instants
            // and land exactly one FCR window (whole hours) apart.
            prop_oneof![3 => (0i64..576).prop_map(|q| q * 900), 1 => 0i64..(6 * 86_400)],
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(0i64), Just(4), Just(5), Just(20), Just(21), 0i64..120],
            0i64..900,
            prop_oneof![Just(0i64), 1i64..120],
            0i64..120,
            any::<bool>(),
            prop::option::weighted(0.5, 1u8..6),
        ),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(
                (chain, channel, direction, queue, agent, customer),
                (arrive_s, answered, abandoned, wait_s, talk_s, hold_s, acw_s, transferred, csat),
                end_unknown,
            )| Gen {
                chain,
                channel,
                direction,
                queue,
                agent,
                customer,
                arrive_s,
                answered,
                abandoned: abandoned && !answered,
                wait_s,
                talk_s,
                hold_s,
                acw_s,
                transferred,
                csat,
                end_unknown: end_unknown && !answered,
            },
        )
}

fn epoch() -> jiff::civil::Date {
    jiff::civil::Date::new(1970, 1, 1).unwrap()
}

fn date_from_days(n: i64) -> jiff::civil::Date {
    epoch().checked_add(jiff::Span::new().days(n)).unwrap()
}

fn days_of(d: jiff::civil::Date) -> i64 {
    i64::from(epoch().until(d).unwrap().get_days())
}

fn iso(us: i64) -> String {
    Timestamp::from_microsecond(us).unwrap().to_string()
}

/// Writes the contacts as a generic CSV and ingests them into `ds`.
fn ingest(contacts: &[Gen], base_us: i64, dir: &Path, ds: &Path) {
    let channels = ["voice", "chat", "email"];
    let directions = ["inbound", "outbound", "internal"];
    let mut csv = String::from(
        "interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,csat\n",
    );
    for (i, c) in contacts.iter().enumerate() {
        let arrived = base_us + c.arrive_s * 1_000_000;
        let (answered_at, ended, talk, hold, acw, agent) = if c.answered {
            let a = arrived + c.wait_s * 1_000_000;
            let e = a + (c.talk_s + c.hold_s) * 1_000_000;
            (iso(a), iso(e), c.talk_s, c.hold_s, c.acw_s, c.agent)
        } else if c.end_unknown {
            (String::new(), String::new(), 0, 0, 0, None)
        } else {
            let e = arrived + c.wait_s * 1_000_000;
            (String::new(), iso(e), 0, 0, 0, None)
        };
        let opt = |v: Option<u8>, p: &str| v.map(|v| format!("{p}{v}")).unwrap_or_default();
        csv.push_str(&format!(
            "i{i},{},{},{},{},{},{},{},{},{},{},{},{talk},{hold},{acw},{},{},{}\n",
            opt(c.chain, "ch"),
            channels[c.channel as usize],
            directions[c.direction as usize],
            opt(c.queue, "q"),
            opt(agent, "A"),
            agent.map(|a| format!("t{}", a % 2)).unwrap_or_default(),
            opt(c.queue.map(|q| q % 2), "s"),
            opt(c.customer, "+1415555010"),
            iso(arrived),
            answered_at,
            ended,
            c.abandoned,
            c.transferred && c.answered,
            opt(c.csat.filter(|_| c.answered), ""),
        ));
    }
    let file = dir.join("contacts.csv");
    std::fs::write(&file, csv).unwrap();
    let mut opts = cxpipe_ingest::IngestOptions::new(ds);
    opts.pii_key = Some("differential-test-key".into());
    opts.threads = 1;
    let report = cxpipe_ingest::ingest(
        &[cxpipe_ingest::Input::Path(file)],
        &opts,
        &cxpipe_ingest::Quiet,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.totals.rows_quarantined, 0, "{report:?}");
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let col = b.column_by_name(name).unwrap();
    let col = arrow_cast_to_utf8(col.as_ref());
    (0..col.len())
        .map(|i| (!col.is_null(i)).then(|| col.value(i).to_string()))
        .collect()
}

fn arrow_cast_to_utf8(a: &dyn Array) -> arrow_array::StringArray {
    if let Some(d) = a.as_any_dictionary_opt() {
        let values = d.values().as_string::<i32>();
        let keys = d.normalized_keys();
        (0..a.len())
            .map(|i| (!a.is_null(i)).then(|| values.value(keys[i]).to_string()))
            .collect()
    } else {
        a.as_string::<i32>().clone()
    }
}

fn read_back(ds: &Path) -> Vec<Rec> {
    let mut out = Vec::new();
    let guard = cxpipe_dataset::Dataset::open_for_reading(ds).unwrap();
    let src = Partitions::from_guard(&guard).unwrap();
    for f in src.files_between(None, None) {
        for b in cxpipe_ingest::read_all(&f).unwrap() {
            let s = |n| strings(&b, n);
            let i64s = |n: &str| {
                b.column_by_name(n)
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .clone()
            };
            let bools = |n: &str| b.column_by_name(n).unwrap().as_boolean().clone();
            let (ids, chains, channels, dirs, queues, agents, teams, sites, custs) = (
                s("interaction_id"),
                s("chain_id"),
                s("channel"),
                s("direction"),
                s("queue"),
                s("agent_id"),
                s("team"),
                s("site"),
                s("customer_key"),
            );
            let arrived = b
                .column_by_name("arrived_at")
                .unwrap()
                .as_primitive::<TimestampMicrosecondType>()
                .clone();
            let answered = b.column_by_name("answered_at").unwrap().clone();
            let (wait, talk, hold, acw, handle) = (
                i64s("wait_ms"),
                i64s("talk_ms"),
                i64s("hold_ms"),
                i64s("acw_ms"),
                i64s("handle_ms"),
            );
            let (aband, transf) = (bools("abandoned"), bools("transferred"));
            let csat = b
                .column_by_name("csat")
                .unwrap()
                .as_primitive::<Int8Type>()
                .clone();
            for i in 0..b.num_rows() {
                out.push(Rec {
                    interaction_id: ids[i].clone().unwrap(),
                    chain_id: chains[i].clone(),
                    channel: channels[i].clone().unwrap(),
                    direction: dirs[i].clone().unwrap(),
                    queue: queues[i].clone(),
                    agent_id: agents[i].clone(),
                    team: teams[i].clone(),
                    site: sites[i].clone(),
                    customer_key: custs[i].clone(),
                    arrived_us: arrived.value(i),
                    answered: !answered.is_null(i),
                    wait_ms: (!wait.is_null(i)).then(|| wait.value(i)),
                    talk_ms: talk.value(i),
                    hold_ms: hold.value(i),
                    acw_ms: acw.value(i),
                    handle_ms: handle.value(i),
                    abandoned: aband.value(i),
                    transferred: transf.value(i),
                    csat: (!csat.is_null(i)).then(|| csat.value(i)),
                });
            }
        }
    }
    out
}

/// A key value the naive side sorts by: (null last, then number or text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sort {
    Val(i64, String),
    Null,
}

/// Keys of a row, the obvious way: jiff converts the instant to local time.
fn naive_keys(
    r: &Rec,
    p: &KpiParams,
    tz: &TimeZone,
    shifts: &[Shift],
) -> Vec<(Sort, Option<String>)> {
    let z = Timestamp::from_microsecond(r.arrived_us)
        .unwrap()
        .to_zoned_datetime(tz.clone());
    let date = z.date();
    let day = |d: jiff::civil::Date| (Sort::Val(days_of(d), String::new()), Some(d.to_string()));
    let text = |v: &Option<String>| match v {
        Some(s) => (Sort::Val(0, s.clone()), Some(s.clone())),
        None => (Sort::Null, None),
    };
    let mut out = Vec::new();
    for g in &p.by {
        match g {
            Group::Agent => out.push(text(&r.agent_id)),
            Group::Team => out.push(text(&r.team)),
            Group::Site => out.push(text(&r.site)),
            Group::Queue => out.push(text(&r.queue)),
            Group::Channel => out.push(text(&Some(r.channel.clone()))),
            Group::Day => out.push(day(date)),
            Group::Week => {
                let mut d = date;
                while d.weekday() != Weekday::Monday {
                    d = d.yesterday().unwrap();
                }
                out.push(day(d));
            }
            Group::Month => out.push((
                Sort::Val(
                    i64::from(date.year()) * 12 + i64::from(date.month()),
                    String::new(),
                ),
                Some(format!("{:04}-{:02}", date.year(), date.month())),
            )),
            Group::Shift => {
                let minute = u32::from(z.hour() as u8) * 60 + u32::from(z.minute() as u8);
                let found = shifts.iter().enumerate().find_map(|(i, s)| {
                    let crosses = s.end_min <= s.start_min;
                    let same_day = if crosses {
                        minute >= s.start_min
                    } else {
                        minute >= s.start_min && minute < s.end_min
                    };
                    if same_day {
                        Some((i, date))
                    } else if crosses && minute < s.end_min {
                        Some((i, date.yesterday().unwrap()))
                    } else {
                        None
                    }
                });
                match found {
                    Some((i, d)) => {
                        out.push(day(d));
                        out.push((
                            Sort::Val(i as i64, String::new()),
                            Some(shifts[i].name.clone()),
                        ));
                    }
                    None => {
                        out.push((Sort::Null, None));
                        out.push((Sort::Null, None));
                    }
                }
            }
            Group::Interval => {
                let minutes = p.interval.micros() / 60_000_000;
                let start = if p.interval == Interval::D1 {
                    date.to_zoned_datetime(tz.clone())
                        .unwrap()
                        .start_of_day()
                        .unwrap()
                } else {
                    let local_min = i64::from(z.hour()) * 60 + i64::from(z.minute());
                    let floor = local_min - local_min % minutes;
                    let back = (local_min - floor) * 60 + i64::from(z.second());
                    let t = z.timestamp().as_second() - back;
                    Timestamp::from_second(t)
                        .unwrap()
                        .to_zoned_datetime(tz.clone())
                };
                // Written with the offset in force at the interval's start
                // (for sub-day intervals: at the arrival, the same instant
                // seen from the arrival's offset).
                let s = start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
                out.push((
                    Sort::Val(start.timestamp().as_microsecond(), String::new()),
                    Some(s),
                ));
            }
        }
    }
    out
}

#[derive(Debug, Default, Clone)]
struct Acc {
    offered: i64,
    answered: i64,
    abandoned: i64,
    short: i64,
    unknown: i64,
    ans_unknown: i64,
    ans_in_t: i64,
    ab_in_t: i64,
    wait_sum: i64,
    handled: i64,
    handle: i64,
    talk: i64,
    hold: i64,
    acw: i64,
    held: i64,
    transferred: i64,
    csat_n: i64,
    csat_sum: i64,
    top2: i64,
    fcr_eligible: i64,
    fcr_ok: i64,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

type Table = Vec<(Vec<Option<String>>, BTreeMap<&'static str, Option<f64>>)>;

fn naive(rows: &[Rec], p: &KpiParams, shifts: &[Shift]) -> Table {
    let tz = if p.zone.name() == "UTC" {
        TimeZone::UTC
    } else {
        TimeZone::get(p.zone.name()).unwrap()
    };
    let lo = p.from.map(|d| {
        date_from_days(d)
            .to_zoned_datetime(tz.clone())
            .unwrap()
            .start_of_day()
            .unwrap()
            .timestamp()
            .as_microsecond()
    });
    let hi = p.to.map(|d| {
        date_from_days(d + 1)
            .to_zoned_datetime(tz.clone())
            .unwrap()
            .start_of_day()
            .unwrap()
            .timestamp()
            .as_microsecond()
    });
    let last = rows.iter().map(|r| r.arrived_us).max().unwrap_or(i64::MIN);
    let window = p.fcr_window_ms * 1000;
    let chain = |r: &Rec| {
        r.chain_id
            .clone()
            .unwrap_or_else(|| r.interaction_id.clone())
    };
    let mut groups: BTreeMap<Vec<Sort>, (Vec<Option<String>>, Acc)> = BTreeMap::new();
    for r in rows {
        if lo.is_some_and(|lo| r.arrived_us < lo) || hi.is_some_and(|hi| r.arrived_us >= hi) {
            continue;
        }
        if !p.queue_side() && !r.answered {
            continue;
        }
        let keys = naive_keys(r, p, &tz, shifts);
        let sort: Vec<Sort> = keys.iter().map(|k| k.0.clone()).collect();
        let shown: Vec<Option<String>> = keys.into_iter().map(|k| k.1).collect();
        let a = &mut groups
            .entry(sort)
            .or_insert_with(|| (shown, Acc::default()))
            .1;
        let inbound = r.direction == "inbound";
        if inbound {
            a.offered += 1;
            // SPEC §8, wait_unknown: counted everywhere, never short or
            // within T, an answered one out of SL and ASA altogether.
            a.unknown += i64::from(r.wait_ms.is_none());
            if r.answered {
                a.answered += 1;
                match r.wait_ms {
                    None => a.ans_unknown += 1,
                    Some(w) => {
                        a.wait_sum += w;
                        a.ans_in_t += i64::from(w <= p.threshold_ms);
                    }
                }
            }
            if r.abandoned {
                a.abandoned += 1;
                if let Some(w) = r.wait_ms {
                    a.short += i64::from(w < p.short_abandon_ms);
                    a.ab_in_t += i64::from(w <= p.threshold_ms);
                }
            }
        }
        if r.answered {
            a.handled += 1;
            a.handle += r.handle_ms;
            a.talk += r.talk_ms;
            a.hold += r.hold_ms;
            a.acw += r.acw_ms;
            a.held += i64::from(r.hold_ms > 0);
            a.transferred += i64::from(r.transferred);
            if let Some(c) = r.csat {
                a.csat_n += 1;
                a.csat_sum += i64::from(c);
                a.top2 += i64::from(c >= 4);
            }
            if inbound && r.customer_key.is_some() && r.arrived_us + window <= last {
                a.fcr_eligible += 1;
                let repeat = rows.iter().any(|o| {
                    o.direction == "inbound"
                        && o.customer_key == r.customer_key
                        && chain(o) != chain(r)
                        && o.arrived_us > r.arrived_us
                        && o.arrived_us - r.arrived_us <= window
                });
                a.fcr_ok += i64::from(!repeat);
            }
        }
    }
    groups
        .into_values()
        .map(|(keys, a)| {
            let mut m = BTreeMap::new();
            let net = a.offered - a.short;
            let u = a.ans_unknown;
            if p.queue_side() {
                m.insert("offered", Some(a.offered as f64));
                m.insert("answered", Some(a.answered as f64));
                m.insert("abandoned", Some(a.abandoned as f64));
                m.insert("short_abandoned", Some(a.short as f64));
                m.insert("wait_unknown", Some(a.unknown as f64));
                let sl = match p.sl_variant {
                    SlVariant::ExclShort => ratio(a.ans_in_t, net - u),
                    SlVariant::Offered => ratio(a.ans_in_t, a.offered - u),
                    SlVariant::AnsweredPlusAbandoned => {
                        ratio(a.ans_in_t, a.answered + a.abandoned - u)
                    }
                    SlVariant::AbandPositive => ratio(a.ans_in_t + a.ab_in_t, a.offered - u),
                    SlVariant::Answered => ratio(a.ans_in_t, a.answered - u),
                };
                m.insert("service_level", sl);
                m.insert("sl_threshold_s", Some(p.threshold_ms as f64 / 1000.0));
                m.insert("abandon_rate", ratio(a.abandoned - a.short, net));
                m.insert(
                    "asa_s",
                    ratio(a.wait_sum, a.answered - u).map(|v| v / 1000.0),
                );
            }
            m.insert("handled", Some(a.handled as f64));
            let secs = |s: i64| ratio(s, a.handled).map(|v| v / 1000.0);
            m.insert("aht_s", secs(a.handle));
            m.insert("avg_talk_s", secs(a.talk));
            m.insert("avg_hold_s", secs(a.hold));
            m.insert("avg_acw_s", secs(a.acw));
            m.insert("hold_rate", ratio(a.held, a.handled));
            m.insert("transfer_rate", ratio(a.transferred, a.handled));
            m.insert("fcr_rate", ratio(a.fcr_ok, a.fcr_eligible));
            m.insert("fcr_eligible", Some(a.fcr_eligible as f64));
            m.insert("csat_avg", ratio(a.csat_sum, a.csat_n));
            m.insert("csat_responses", Some(a.csat_n as f64));
            m.insert("csat_top2", ratio(a.top2, a.csat_n));
            m.insert("occupancy", None);
            (keys, m)
        })
        .collect()
}

fn engine_table(df: &DataFrame, p: &KpiParams) -> Table {
    let keys = p.key_columns();
    let mut out = Vec::new();
    for i in 0..df.height() {
        let key: Vec<Option<String>> = keys
            .iter()
            .map(|k| {
                let v = df.column(k).unwrap().get(i).unwrap();
                v.get_str().map(str::to_string)
            })
            .collect();
        let mut m = BTreeMap::new();
        for name in p.columns() {
            if keys.contains(&name) || name == "sl_variant" {
                continue;
            }
            let v = df.column(name).unwrap().get(i).unwrap();
            m.insert(name, v.extract::<f64>());
        }
        out.push((key, m));
    }
    out
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

const ZONES: [(&str, &str); 5] = [
    ("UTC", "2026-10-23T00:00:00Z"),
    ("Europe/Berlin", "2026-10-23T00:00:00Z"), // 25-hour day 2026-10-25
    ("Europe/Berlin", "2026-03-27T00:00:00Z"), // 23-hour day 2026-03-29
    ("America/New_York", "2026-10-30T00:00:00Z"), // 25-hour day 2026-11-01
    ("Asia/Kolkata", "2026-10-23T00:00:00Z"),  // +05:30, no DST
];

/// groupings, zone, interval, variant, threshold s, short abandon s, window h,
/// (from, length) in days, custom shifts, one file per batch.
type Params = (
    Vec<Group>,
    usize,
    u8,
    u8,
    i64,
    i64,
    i64,
    Option<(i64, i64)>,
    bool,
    bool,
);

fn params_strategy() -> impl Strategy<Value = Params> {
    (
        prop::sample::subsequence(Group::ALL.to_vec(), 0..=3).prop_shuffle(),
        0usize..ZONES.len(),
        0u8..4,
        0u8..5,
        prop_oneof![Just(20i64), 0i64..60],
        prop_oneof![Just(5i64), 0i64..10],
        prop_oneof![Just(72i64), 1i64..60],
        prop::option::of((0i64..6, 0i64..4)),
        any::<bool>(),
        any::<bool>(),
    )
}

fn check(
    contacts: Vec<Gen>,
    (by, zone, interval, variant, threshold, short, window_h, dates, custom_shifts, small_batches): Params,
) -> Result<(), TestCaseError> {
    let (zone_name, base) = ZONES[zone];
    let base_us = base.parse::<Timestamp>().unwrap().as_microsecond();
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    if contacts.is_empty() {
        std::fs::create_dir_all(ds.join("interactions")).unwrap();
    } else {
        ingest(&contacts, base_us, dir.path(), &ds);
    }
    let rows = read_back(&ds);
    prop_assert_eq!(rows.len(), contacts.len());

    let mut p = KpiParams::new(by);
    p.zone = Zone::named(zone_name).unwrap();
    p.interval = [Interval::M15, Interval::M30, Interval::H1, Interval::D1][interval as usize];
    p.sl_variant = SlVariant::ALL[variant as usize];
    p.threshold_ms = threshold * 1000;
    p.short_abandon_ms = short * 1000;
    p.fcr_window_ms = window_h * 3_600_000;
    if custom_shifts {
        p.shifts = Shifts::new(vec![
            Shift::new("early", "05:30", "13:00").unwrap(),
            Shift::new("late", "18:00", "01:30").unwrap(),
        ])
        .unwrap();
    }
    if small_batches {
        // Every file its own batch: groups and FCR span batches.
        p.batch_bytes = 1;
    }
    if let Some((from, len)) = dates {
        let first = base_us.div_euclid(86_400_000_000);
        p.from = Some(first + from);
        p.to = Some(first + from + len);
    }
    // The engine reads through the guard, as the binary will.
    let guard = cxpipe_dataset::Dataset::open_for_reading(&ds).unwrap();
    let src = Partitions::from_guard(&guard).unwrap();
    let df = kpi(&src, &p).unwrap();
    prop_assert_eq!(
        df.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        p.columns()
    );
    let got = engine_table(&df, &p);
    let want = naive(&rows, &p, p.shifts.list());
    same_tables(&got, &want, |_| true, "")?;
    if p.queue_side() {
        for i in 0..df.height() {
            let v = df.column("sl_variant").unwrap().get(i).unwrap();
            prop_assert_eq!(v.get_str(), Some(p.sl_variant.name()));
        }
    }

    // Without FCR and in any order, as the SLA reports ask for their sums
    // (nothing past the range is read then): the same groups and figures,
    // FCR's aside.
    let mut q = p.clone();
    q.fcr = false;
    q.sorted = false;
    let mut plain = engine_table(&kpi(&src, &q).unwrap(), &q);
    let mut want = want;
    plain.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    same_tables(&plain, &want, |n| !n.starts_with("fcr"), " without FCR")
}

/// The engine's table has the naive one's groups in its order, and each
/// column `compared` holds within [`close`]; `case` names the run in messages.
fn same_tables(
    got: &Table,
    want: &Table,
    compared: impl Fn(&str) -> bool,
    case: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        got.len(),
        want.len(),
        "groups differ{}:\n got {:?}\nwant {:?}",
        case,
        got.iter().map(|g| &g.0).collect::<Vec<_>>(),
        want.iter().map(|g| &g.0).collect::<Vec<_>>()
    );
    for (g, w) in got.iter().zip(want) {
        prop_assert_eq!(&g.0, &w.0, "keys/order differ{}", case);
        for (name, wv) in w.1.iter().filter(|(n, _)| compared(n)) {
            let gv = g.1.get(name).copied().flatten();
            prop_assert!(
                close(gv, *wv),
                "{} for {:?}{}: engine {:?}, naive {:?}",
                name,
                w.0,
                case,
                gv,
                wv
            );
        }
    }
    Ok(())
}

/// The SLA agent report sums its interval-level rules over runs of days
/// (`Partitions::day_windows`, four KPI batches of files each); with
/// one-byte batches every partition is its own run, so intervals, agents
/// and queues are split across runs, and the report must not change.
fn check_sla_windows_and_batches(contacts: Vec<Gen>, zone: usize) -> Result<(), TestCaseError> {
    use cxpipe_analytics::sla::{Rule, Scope, agent_report, interaction_report};
    let (zone_name, base) = ZONES[zone];
    let base_us = base.parse::<Timestamp>().unwrap().as_microsecond();
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    ingest(&contacts, base_us, dir.path(), &ds);
    let guard = cxpipe_dataset::Dataset::open_for_reading(&ds).unwrap();
    let src = Partitions::from_guard(&guard).unwrap();
    let rules = vec![
        Rule::new(
            "sl",
            "service_level",
            Scope::default(),
            Some(20.0),
            Some(0.8),
            Some("30m"),
        )
        .unwrap(),
        Rule::new(
            "ab",
            "abandon_rate",
            Scope::default(),
            None,
            Some(0.1),
            Some("1d"),
        )
        .unwrap(),
        Rule::new(
            "handle",
            "handle",
            Scope::default(),
            Some(300.0),
            None,
            None,
        )
        .unwrap(),
    ];
    let mut p = KpiParams::new(vec![]);
    p.zone = Zone::named(zone_name).unwrap();
    let whole = agent_report(&src, &p, &rules).unwrap();
    let every_at_once = interaction_report(&src, &p, &rules, None, None).unwrap();
    p.batch_bytes = 1;
    prop_assert!(src.day_windows(None, None, 4).len() > 1 || contacts.is_empty());
    let windows = agent_report(&src, &p, &rules).unwrap();
    prop_assert!(whole.height() > 0 || contacts.iter().all(|c| c.agent.is_none() || !c.answered));
    prop_assert!(
        whole.equals_missing(&windows),
        "one pass:\n{whole}\nby runs of days:\n{windows}"
    );

    // The interaction report's worst 3 of each rule, taken batch by batch
    // (one-byte batches: every file), are the first 3 of its full list.
    let every = interaction_report(&src, &p, &rules, None, None).unwrap();
    prop_assert!(
        every.equals_missing(&every_at_once),
        "by batches:\n{every}\nin one:\n{every_at_once}"
    );
    // With 3, what is kept is cut back past 12 rows: after a few files.
    let top = interaction_report(&src, &p, &rules, None, Some(3)).unwrap();
    let rule_col = every.column("rule").unwrap().str().unwrap().clone();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let keep: Vec<bool> = rule_col
        .iter()
        .map(|r| {
            let n = seen.entry(r.unwrap().to_string()).or_default();
            *n += 1;
            *n <= 3
        })
        .collect();
    let mask: polars::prelude::BooleanChunked = keep.into_iter().map(Some).collect();
    let want = every.filter(&mask).unwrap();
    prop_assert!(want.height() > 0 || every.height() == 0);
    prop_assert!(
        top.equals_missing(&want),
        "worst 3 by batches:\n{top}\nfirst 3 of the full list:\n{want}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn sla_reports_are_the_same_by_runs_of_days_and_by_batches(
        contacts in prop::collection::vec(gen_contact(), 1..90),
        zone in 0..ZONES.len(),
    ) {
        check_sla_windows_and_batches(contacts, zone)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_equals_naive(
        contacts in prop::collection::vec(gen_contact(), 0..90),
        params in params_strategy(),
    ) {
        check(contacts, params)?;
    }
}
