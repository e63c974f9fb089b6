//! The turnover computations on hand-made activity, with expected values
//! worked out by hand.

use std::collections::HashMap;

use super::activity::Day;
use super::*;
use crate::time::parse_day;

/// An agent working `handled` contacts on each of `days`.
fn agent(act: &mut Activity, id: &str, team: &str, days: impl IntoIterator<Item = i64>) {
    let a = act.agents.entry(id.to_string()).or_default();
    a.team = Some(team.to_string());
    for d in days {
        a.days.insert(
            d,
            Day {
                handled: 10.0,
                handle_s: 3000.0,
                csat_sum: 8.0,
                csat_n: 2.0,
                transferred: 1.0,
            },
        );
        act.first_day = Some(act.first_day.map_or(d, |f| f.min(d)));
        act.last_day = Some(act.last_day.map_or(d, |l| l.max(d)));
    }
}

fn day(s: &str) -> i64 {
    parse_day(s).expect("day")
}

/// Two teams over Jan–Mar 2026 (day numbers from dates):
/// - t1: `a` works all of it; `b` works Jan 1 – Jan 31 and leaves
///   (last seen Jan 31); `c` starts Feb 10 (a hire) and leaves Mar 5
///   (tenure 23 days), but March ends Mar 31 with as-of Mar 31, so the
///   gap before as-of is 26 days ≥ 14: departed.
/// - t2: `d` works all of it.
fn world() -> Activity {
    let mut act = Activity::default();
    let (jan1, feb10, mar5, mar31) = (
        day("2026-01-01"),
        day("2026-02-10"),
        day("2026-03-05"),
        day("2026-03-31"),
    );
    agent(&mut act, "a", "t1", jan1..=mar31);
    agent(&mut act, "b", "t1", jan1..=day("2026-01-31"));
    agent(&mut act, "c", "t1", feb10..=mar5);
    agent(&mut act, "d", "t2", jan1..=mar31);
    act
}

#[test]
fn status_and_departure_dates() {
    let (as_of, rows) = signals(&world(), &TurnoverParams::new()).expect("signals");
    assert_eq!(as_of, day("2026-03-31"));
    let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
    assert_eq!(by["b"].departed_on, Some(day("2026-01-31")));
    assert_eq!(by["c"].departed_on, Some(day("2026-03-05")));
    assert_eq!(by["c"].tenure_days, 23);
    assert_eq!(by["a"].status, "active");
    assert_eq!(by["a"].handled_trend, Some(0.0));
    assert_eq!(by["a"].active_days_28, 28);
    // The departed sort last, latest departure first.
    let order: Vec<&str> = rows.iter().map(|r| r.agent_id.as_str()).collect();
    assert_eq!(&order[2..], ["c", "b"]);
}

/// Hand-computed, t1 (a, b, c; a and b employed since before the data):
/// - 2026-01: start 2 (a, b), end 1 (b left Jan 31), leavers 1:
///   rate 1 ÷ 1.5 = 0.666667, annualized 8; no hires: null.
/// - 2026-02: start 1, end 2 (c hired Feb 10), leavers 0: rate 0.
/// - 2026-03: start 2, end 1 (c left Mar 5, tenure 23 d), leavers 1:
///   rate 1 ÷ 1.5; new-hire 90-day attrition 1 ÷ 1 (c began Feb 10,
///   within the 90 days to Mar 31).
#[test]
fn attrition_by_team_and_month() {
    let act = world();
    let (as_of, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
    let df = attrition(&act, &rows, as_of, AttritionBy::Team).expect("attrition");
    let col_i = |n: &str| -> Vec<i64> {
        df.column(n)
            .expect(n)
            .i64()
            .expect(n)
            .iter()
            .map(|v| v.expect(n))
            .collect()
    };
    let col_f =
        |n: &str| -> Vec<Option<f64>> { df.column(n).expect(n).f64().expect(n).iter().collect() };
    assert_eq!(df.height(), 6);
    assert_eq!(col_i("headcount_start")[..3], [2, 1, 2]);
    assert_eq!(col_i("headcount_end")[..3], [1, 2, 1]);
    assert_eq!(col_i("leavers")[..3], [1, 0, 1]);
    let rate = col_f("attrition_rate");
    assert!((rate[0].expect("rate") - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(rate[1], Some(0.0));
    assert!((col_f("annualized_attrition")[0].expect("annual") - 8.0).abs() < 1e-12);
    assert_eq!(
        col_f("new_hire_90d_attrition")[..3],
        [None, Some(0.0), Some(1.0)]
    );
    // t2: d alone, no leavers.
    assert_eq!(col_i("headcount_start")[3..], [1, 1, 1]);
    assert_eq!(
        col_f("attrition_rate")[3..],
        [Some(0.0), Some(0.0), Some(0.0)]
    );
}

#[test]
fn a_roster_overrides_dates_and_is_evaluated() {
    let act = world();
    let mut roster = Roster::default();
    roster.0.insert(
        "b".into(),
        RosterEntry {
            hire: Some(day("2024-05-01")),
            termination: Some(day("2026-02-02")),
            team: None,
        },
    );
    roster.0.insert(
        "c".into(),
        RosterEntry {
            hire: Some(day("2026-02-09")),
            termination: None,
            team: Some("t9".into()),
        },
    );
    roster.0.insert(
        "a".into(),
        RosterEntry {
            termination: Some(day("2026-03-31")),
            ..RosterEntry::default()
        },
    );
    let mut p = TurnoverParams::new();
    let (as_of, inferred) = signals(&act, &p).expect("inferred");
    let e = evaluate(&inferred, &roster, as_of);
    // Inferred: b and c. Roster: b and a. Matched: b (2 days off).
    assert_eq!((e.inferred, e.roster, e.matched), (2, 2, 1));
    assert_eq!((e.precision, e.recall), (Some(0.5), Some(0.5)));
    assert_eq!(e.mean_date_error_days, Some(2.0));
    assert_eq!(
        (e.false_departures.clone(), e.missed_departures.clone()),
        (vec!["c".to_string()], vec!["a".to_string()])
    );
    p.roster = Some(roster);
    let (_, rows) = signals(&act, &p).expect("with roster");
    let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
    assert_eq!(by["b"].departed_on, Some(day("2026-02-02")));
    assert_eq!(by["c"].departed_on, None);
    assert_eq!(by["c"].team.as_deref(), Some("t9"));
    assert_eq!(by["a"].status, "departed");
}

#[test]
fn one_day_one_contact_and_as_of_before_the_data() {
    let mut act = Activity::default();
    agent(&mut act, "once", "t", [day("2026-05-05")]);
    let (as_of, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
    assert_eq!(as_of, day("2026-05-05"));
    let r = &rows[0];
    assert_eq!((r.tenure_days, r.active_days_28, r.status), (0, 1, "new"));
    assert_eq!(
        (r.handled_trend, r.aht_trend, r.csat_trend),
        (None, None, None)
    );
    let mut p = TurnoverParams::new();
    p.as_of = Some(day("2026-06-30"));
    let (_, rows) = signals(&act, &p).expect("later");
    // Seen once, long ago: not enough activity to call it a departure.
    assert_eq!(
        (rows[0].status, rows[0].days_since_last_seen),
        ("active", 56)
    );
    p.as_of = Some(day("2026-05-01"));
    let e = signals(&act, &p).expect_err("before the data");
    assert!(
        e.to_string()
            .contains("before the first day of data (2026-05-05)"),
        "{e}"
    );
}

#[test]
fn risk_grows_with_each_factor() {
    let mut act = Activity::default();
    let start = day("2026-01-01");
    agent(&mut act, "steady", "t", start..start + 120);
    agent(
        &mut act,
        "fading",
        "t",
        (start..start + 106).chain((start + 106..start + 120).step_by(4)),
    );
    let (_, rows) = signals(&act, &TurnoverParams::new()).expect("signals");
    let by: HashMap<&str, &Signals> = rows.iter().map(|r| (r.agent_id.as_str(), r)).collect();
    assert_eq!(by["steady"].risk_score, 0.0);
    assert!(by["fading"].risk_score > 0.2, "{:?}", by["fading"]);
    assert!(
        by["fading"].reasons.contains("handled -71%"),
        "{}",
        by["fading"].reasons
    );
    assert_eq!(rows[0].agent_id, "fading");
}
