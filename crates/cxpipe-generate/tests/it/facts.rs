//! The planted facts are true of the data written.

use std::collections::HashMap;

use crate::{Rec, TestResult, generated, read_csv, read_facts};

const WINDOW: i64 = 72 * 3600;

/// 1 − FCR of SPEC §8, computed the obvious way: the share of handled
/// inbound contacts (whose 72 h window ends by the last arrival) after which
/// the same customer (e-mail compared case-insensitively) has another
/// inbound contact outside its own chain within 72 h.
fn repeat_rate(rows: &[Rec]) -> (f64, u64) {
    let last = rows
        .iter()
        .filter_map(|r| r.secs("arrived_at"))
        .max()
        .unwrap_or(0);
    let mut by_customer: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.get("direction") == "inbound" {
            by_customer
                .entry(r.get("customer_id").to_lowercase())
                .or_default()
                .push(i);
        }
    }
    let chain = |r: &Rec| {
        if r.get("chain_id").is_empty() {
            r.get("interaction_id").to_string()
        } else {
            r.get("chain_id").to_string()
        }
    };
    let (mut eligible, mut followed) = (0u64, 0u64);
    for list in by_customer.values() {
        for (p, &i) in list.iter().enumerate() {
            let x = &rows[i];
            let t = x.secs("arrived_at").unwrap_or(0);
            if x.get("abandoned") == "true" || t + WINDOW > last {
                continue;
            }
            eligible += 1;
            let cx = chain(x);
            let hit = list[p + 1..].iter().any(|&j| {
                let y = &rows[j];
                chain(y) != cx && y.secs("arrived_at").unwrap_or(0) - t <= WINDOW
            });
            followed += u64::from(hit);
        }
    }
    (followed as f64 / eligible as f64, eligible)
}

#[test]
fn repeat_contact_rate_is_about_thirty_percent_and_as_planted() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let (rate, eligible) = repeat_rate(&rows);
    assert!((0.25..=0.35).contains(&rate), "repeat rate {rate}");
    let facts = read_facts(&summary);
    let planted = facts["repeat_contact_rate"].as_f64().ok_or("rate")?;
    assert!(
        (planted - rate).abs() < 1e-12,
        "facts {planted} vs data {rate}"
    );
    assert_eq!(facts["repeat_contact_eligible"].as_u64(), Some(eligible));
    Ok(())
}

#[test]
fn departed_agents_stop_on_their_last_seen_day() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let departed = facts["departed"].as_array().ok_or("departed")?;
    assert!(!departed.is_empty());
    let mut days: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in &rows {
        if !r.get("agent_id").is_empty() {
            days.entry(r.get("agent_id"))
                .or_default()
                .push(&r.get("arrived_at")[..10]);
        }
    }
    let end = facts["end"].as_str().ok_or("end")?;
    for d in departed {
        let id = d["agent_id"].as_str().ok_or("id")?;
        let last_seen = d["last_seen"].as_str().ok_or("last_seen")?;
        let seen = days.get(id).ok_or("departed agent has contacts")?;
        assert!(
            seen.iter().all(|day| *day <= last_seen),
            "{id} has contacts after {last_seen}"
        );
        assert!(
            seen.contains(&last_seen),
            "{id} has contacts on {last_seen}"
        );
        // Gone for at least two weeks before the end (SPEC §11 default gap),
        // after at least five active days in the 28 before.
        assert!(
            days_between(last_seen, end) >= 14,
            "{id}: {last_seen} .. {end}"
        );
        let mut active: Vec<&str> = seen.clone();
        active.sort_unstable();
        active.dedup();
        assert!(active.len() >= 5, "{id} active on {} days", active.len());
    }
    // Agents who did not depart are seen in the last week.
    for a in facts["agents"].as_array().ok_or("agents")? {
        if a["departed"] == false && a["handled"].as_u64() > Some(100) {
            let last = a["last_seen"].as_str().ok_or("last_seen")?;
            assert!(days_between(last, end) < 7, "{a}");
        }
    }
    Ok(())
}

#[test]
fn new_hires_start_on_their_first_seen_day() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let hires = facts["new_hires"].as_array().ok_or("new_hires")?;
    assert!(!hires.is_empty());
    let start = facts["start"].as_str().ok_or("start")?;
    for h in hires {
        let id = h["agent_id"].as_str().ok_or("id")?;
        let first_seen = h["first_seen"].as_str().ok_or("first_seen")?;
        assert!(first_seen > start);
        let first = rows
            .iter()
            .filter(|r| r.get("agent_id") == id)
            .map(|r| &r.get("arrived_at")[..10])
            .min();
        assert_eq!(first, Some(first_seen), "{id}");
    }
    Ok(())
}

#[test]
fn agent_facts_match_the_rows() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let mut handled: HashMap<&str, (u64, &str, &str)> = HashMap::new();
    for r in rows.iter().filter(|r| !r.get("agent_id").is_empty()) {
        let e = handled
            .entry(r.get("agent_id"))
            .or_insert((0, r.get("team"), r.get("site")));
        e.0 += 1;
        assert_eq!(
            (e.1, e.2),
            (r.get("team"), r.get("site")),
            "an agent has one team and site"
        );
    }
    let agents = facts["agents"].as_array().ok_or("agents")?;
    assert_eq!(agents.len(), 107, "200k rows / (31 days × 60)");
    for a in agents {
        let id = a["agent_id"].as_str().ok_or("id")?;
        let (n, team, site) = handled.get(id).copied().unwrap_or((0, "", ""));
        assert_eq!(a["handled"].as_u64(), Some(n), "{id}");
        if n > 0 {
            assert_eq!(a["team"].as_str(), Some(team));
            assert_eq!(a["site"].as_str(), Some(site));
        }
    }
    Ok(())
}

#[test]
fn breach_prone_agents_breach_the_acw_limit_far_more_often() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let prone: Vec<&str> = facts["breach_prone_agents"]
        .as_array()
        .ok_or("list")?
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!prone.is_empty());
    let rate = |pick: &dyn Fn(&str) -> bool| {
        let acws: Vec<i64> = rows
            .iter()
            .filter(|r| !r.get("agent_id").is_empty() && pick(r.get("agent_id")))
            .map(|r| r.get("acw_s").parse().unwrap_or(0))
            .collect();
        acws.iter().filter(|&&a| a > 120).count() as f64 / acws.len() as f64
    };
    let prone_rate = rate(&|a| prone.contains(&a));
    let other_rate = rate(&|a| !prone.contains(&a));
    assert!(
        prone_rate > 0.3 && other_rate < 0.05,
        "prone {prone_rate}, others {other_rate}"
    );
    Ok(())
}

#[test]
fn understaffed_intervals_wait_longer() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let intervals = facts["understaffed_intervals"].as_array().ok_or("list")?;
    assert!(intervals.len() >= 31);
    // Answered within 20 s, over inbound voice, per (queue, half-hour start).
    let mut cells: HashMap<(String, String), (u32, u32)> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| r.get("channel") == "voice" && r.get("direction") == "inbound")
    {
        let at = r.get("arrived_at");
        let half = if at[14..16] < *"30" { "00" } else { "30" };
        let key = (
            r.get("queue").to_string(),
            format!("{}:{half}:00Z", &at[..13]),
        );
        let e = cells.entry(key).or_default();
        e.0 += 1;
        let wait = r.secs("answered_at").unwrap_or(i64::MAX) - r.secs("arrived_at").unwrap_or(0);
        e.1 += u32::from(wait <= 20);
    }
    let (mut under, mut under_n) = (0u32, 0u32);
    for i in intervals {
        let key = (
            i["queue"].as_str().ok_or("queue")?.to_string(),
            i["start"].as_str().ok_or("start")?.to_string(),
        );
        if let Some(&(n, ok)) = cells.get(&key) {
            under += ok;
            under_n += n;
        }
    }
    let (all, all_n) = cells
        .values()
        .fold((0, 0), |(a, b), &(n, ok)| (a + ok, b + n));
    let sl_under = f64::from(under) / f64::from(under_n);
    let sl_all = f64::from(all) / f64::from(all_n);
    assert!(
        sl_under < 0.5 * sl_all,
        "service level {sl_under} in understaffed intervals vs {sl_all}"
    );
    Ok(())
}

#[test]
fn rising_aht_agents_talk_longer_at_the_end_of_the_month() -> TestResult {
    let (path, summary) = generated(200_000, 42, "data.csv");
    let (_, rows) = read_csv(&path)?;
    let facts = read_facts(&summary);
    let rising: Vec<&str> = facts["rising_aht_agents"]
        .as_array()
        .ok_or("list")?
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let mean_talk = |from: &str, to: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| rising.contains(&r.get("agent_id")) && r.get("channel") == "voice")
            .filter(|r| (from..to).contains(&&r.get("arrived_at")[..10]))
            .map(|r| r.get("talk_s").parse().unwrap_or(0.0))
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let early = mean_talk("2026-10-01", "2026-10-08");
    let late = mean_talk("2026-10-24", "2026-11-01");
    assert!(late > 1.3 * early, "early {early}, late {late}");
    Ok(())
}

/// Days from `a` to `b` (`YYYY-MM-DD`).
fn days_between(a: &str, b: &str) -> i64 {
    (crate::parse_ts(&format!("{b}T00:00:00Z")) - crate::parse_ts(&format!("{a}T00:00:00Z")))
        / 86_400
}
