//! `cxpipe report`: the HTML page opened by headless Chromium from disk —
//! every chart drawn, no console error, no network request, known agents
//! and figures on the page, and a screenshot that is not blank.
//!
//! The page's static promises (a Content-Security-Policy, no external URL,
//! a data block that parses and agrees with `cxpipe kpi`) are checked on
//! every machine. Only the browser part needs Chromium, the Debian package
//! `chromium` (`.ci/run` installs it where missing): without it that part
//! says SKIPPED on stderr, unless `CXPIPE_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), where it fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cxpipe;

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CXPIPE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `extra` flags; returns stdout.
fn browse(chrome: &Path, profile: &Path, page: &Path, extra: &[&str]) -> String {
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `1234567` as the page writes it: `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).expect("digits"))
        .collect();
    groups.join(",")
}

fn attr<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!("{name}=\"");
    dom.match_indices(&key)
        .map(|(i, _)| {
            let rest = &dom[i + key.len()..];
            &rest[..rest.find('"').unwrap_or(0)]
        })
        .collect()
}

/// The JSON data block of a page.
fn data_block(html: &str) -> serde_json::Value {
    let start = html.find("id=\"cx-data\">").expect("data block") + "id=\"cx-data\">".len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("end of the data block");
    serde_json::from_str(&html[start..end]).expect("the data block is JSON")
}

/// The page refers to nothing outside it and its Content-Security-Policy
/// forbids every request.
fn assert_self_contained(html: &str) {
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "@import",
        "url(http",
        "//cdn",
    ] {
        assert!(!html.contains(bad), "the page refers to the network: {bad}");
    }
    let csp = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a Content-Security-Policy meta element");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

/// What needs no browser: the page refers to nothing outside it, forbids
/// requests, and carries data that parses and agrees with `cxpipe kpi`.
#[test]
fn the_page_is_self_contained_and_its_data_parses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = &crate::shared_month().ds;
    let page = dir.path().join("report.html");
    let d = ds.to_str().expect("utf-8");
    let out = cxpipe(&["report", d, "--html", page.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = fs::read_to_string(&page).expect("page");
    assert_self_contained(&html);
    let data = data_block(&html);
    let kpi = cxpipe(&["kpi", d, "--by", "agent", "--format", "json"]);
    let agents: serde_json::Value = serde_json::from_slice(&kpi.stdout).expect("kpi json");
    let agents = agents.as_array().expect("rows");
    assert_eq!(
        data["counts"]["agents"],
        agents.len(),
        "agents counted on the page"
    );
    let first = &agents[0];
    let on_page = data["agents"]
        .as_array()
        .expect("leaderboard")
        .iter()
        .find(|a| a["agent_id"] == first["agent_id"])
        .expect("the first agent is on the page");
    assert_eq!(on_page["handled"], first["handled"]);
    for key in ["sl_by_interval", "by_day", "turnover", "attrition"] {
        assert!(
            data[key].as_array().is_some_and(|a| !a.is_empty()),
            "{key} is empty"
        );
    }
    assert_eq!(
        data["sla_agents"],
        serde_json::json!([]),
        "no policy, no SLA rows"
    );
}

/// A value that would end the script or open an HTML comment (`<!--`
/// blanked the whole page: no tables, no charts, no error box) is escaped
/// in the data block and comes back intact.
#[test]
fn a_hostile_agent_id_does_not_break_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("calls.csv");
    fs::write(
        &csv,
        "interaction_id,channel,direction,queue,agent_id,arrived_at,answered_at,ended_at,talk_s\n\
         h1,voice,inbound,q,<!--<script>,2026-10-01T10:00:00Z,2026-10-01T10:00:05Z,2026-10-01T10:05:00Z,295\n\
         h2,voice,inbound,q,</script>x,2026-10-01T11:00:00Z,2026-10-01T11:00:05Z,2026-10-01T11:05:00Z,295\n",
    )
    .expect("export");
    let ds = dir.path().join("ds");
    let (out, _) = crate::ingest(&ds, &[&csv], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = dir.path().join("page.html");
    let out = cxpipe(&[
        "report",
        ds.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = fs::read_to_string(&page).expect("page");
    let start = html.find("id=\"cx-data\">").expect("data block") + "id=\"cx-data\">".len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("end of the data block");
    let block = &html[start..end];
    assert!(!block.contains('<'), "a raw < in the data block");
    let agents: Vec<String> = data_block(&html)["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| a["agent_id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(agents.len(), 2, "{agents:?}");
    assert!(agents.contains(&"<!--<script>".to_string()), "{agents:?}");
    assert!(agents.contains(&"</script>x".to_string()), "{agents:?}");
}

#[test]
fn the_report_opens_offline_with_every_chart_drawn() {
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var("CXPIPE_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "no chromium found (install the Debian package `chromium`)"
        );
        eprintln!("SKIPPED: no chromium on PATH; the HTML report's browser test did not run");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = &crate::shared_month().ds;
    let policy = dir.path().join("sla.toml");
    fs::write(
        &policy,
        "[[sla]]\nname = \"sl-80-20\"\nkind = \"service_level\"\ntarget = 0.8\n\n[[sla]]\nname = \"acw-2m\"\nkind = \"acw\"\nthreshold_s = 120\n",
    )
    .expect("policy");
    let page = dir.path().join("report.html");
    let d = ds.to_str().expect("utf-8");
    let out = cxpipe(&[
        "report",
        d,
        "--html",
        page.to_str().expect("utf-8"),
        "--policy",
        policy.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    assert_self_contained(&fs::read_to_string(&page).expect("page"));

    let dom = browse(&chrome, &dir.path().join("profile"), &page, &["--dump-dom"]);
    assert_eq!(attr(&dom, "data-charts-drawn"), ["6"], "charts drawn");
    assert_eq!(attr(&dom, "data-resources"), ["0"], "network requests");
    let errors = dom
        .split("<pre id=\"cx-errors\"")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("error list");
    assert!(errors.ends_with('>'), "errors on the page: {errors}");
    let painted: Vec<u64> = attr(&dom, "data-painted")
        .iter()
        .map(|v| v.parse().expect("count"))
        .collect();
    assert_eq!(painted.len(), 6, "{painted:?}");
    assert!(
        painted.iter().all(|&p| p > 5_000),
        "a chart is blank: {painted:?}"
    );

    // Known agents and figures: the first agent's handled count from `kpi`.
    let kpi = cxpipe(&["kpi", d, "--by", "agent", "--format", "csv"]);
    let first = kpi
        .stdout_text()
        .lines()
        .nth(1)
        .expect("an agent")
        .to_string();
    let fields: Vec<&str> = first.split(',').collect();
    let handled: u64 = fields[1].parse().expect("handled");
    let cell = format!(
        "<td>{}</td><td class=\"num\">{}</td>",
        fields[0],
        thousands(handled)
    );
    assert!(dom.contains(&cell), "leaderboard lacks {cell}");
    assert!(
        dom.contains("sl-80-20") && dom.contains("acw-2m"),
        "SLA rules missing"
    );
    assert!(dom.contains("Zone</dt><dd>UTC"), "header lacks the zone");

    table_rows_keep_the_top(&chrome, dir.path(), d, &kpi.stdout_text());
    // A screenshot of the page is far from blank (a white page is ~10 KB).
    let shot = dir.path().join("report.png");
    let flag = format!("--screenshot={}", shot.display());
    browse(
        &chrome,
        &dir.path().join("profile2"),
        &page,
        &[&flag, "--window-size=1280,2400"],
    );
    let size = fs::metadata(&shot).expect("screenshot").len();
    assert!(size > 100_000, "screenshot is {size} bytes");
}

/// `--table-rows` keeps the top of the big tables and says so.
fn table_rows_keep_the_top(chrome: &Path, dir: &Path, d: &str, kpi_csv: &str) {
    let small = dir.join("small.html");
    let out = cxpipe(&[
        "report",
        d,
        "--html",
        small.to_str().expect("utf-8"),
        "--table-rows",
        "5",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let agents_total = kpi_csv.lines().count() - 1;
    let dom_small = browse(chrome, &dir.join("profile3"), &small, &["--dump-dom"]);
    let note = format!("The table shows 5 of {agents_total} agents");
    assert!(dom_small.contains(&note), "no note {note:?}");
    let leaderboard = dom_small
        .split("id=\"table-agents\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .expect("leaderboard");
    assert_eq!(
        leaderboard.matches("<tr>").count(),
        1 + 5,
        "header and 5 rows"
    );
    // The 5 shown are those who handled the most.
    let mut handled: Vec<u64> = kpi_csv
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(1)
                .expect("handled")
                .parse()
                .expect("number")
        })
        .collect();
    handled.sort_unstable_by(|a, b| b.cmp(a));
    assert!(
        leaderboard.contains(&format!("<td class=\"num\">{}</td>", thousands(handled[0]))),
        "top agent missing"
    );
}
