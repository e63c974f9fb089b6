//! The HTML report (SPEC §12): one self-contained page with the charts and
//! tables an operations review needs. What it shows is computed by
//! `cxpipe_analytics::page`; this module only fills the template: the
//! header, the JSON data block, the title and the footer. Chart.js (MIT,
//! vendored in `assets/vendor/`) and the page's own script are inlined; the
//! page makes no network request (its Content-Security-Policy forbids them).

use cxpipe_analytics::Partitions;
use cxpipe_analytics::page::{self, PageData};

use crate::settings::PageRequest;

const TEMPLATE: &str = include_str!("../assets/report.html");
const APP_JS: &str = include_str!("../assets/report.js");
const CHART_JS: &str = include_str!("../assets/vendor/chart-4.6.1.umd.min.js");

/// A rendered page and what it shows.
pub struct Page {
    /// The whole HTML file.
    pub html: String,
    /// The sections with data, in page order.
    pub sections: Vec<&'static str>,
    /// The sections left empty, and why.
    pub empty: Vec<(&'static str, String)>,
}

impl Page {
    /// One line for a log: size, the sections shown and those left empty.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} KB; {} of {} sections: {}",
            self.html.len().div_ceil(1024),
            self.sections.len(),
            self.sections.len() + self.empty.len(),
            self.sections.join(", ")
        );
        for (name, why) in &self.empty {
            s.push_str(&format!("; {name} empty: {why}"));
        }
        s
    }
}

/// Runs the page's queries and fills the template.
pub fn render(source: &Partitions, req: &PageRequest) -> anyhow::Result<Page> {
    let data = page::page_data(source, &req.page)?;
    // The library does not log: say here why the turnover sections (risk
    // and attrition, one cause) are empty, once.
    if let Some((_, why)) = data.empty.iter().find(|(s, _)| *s == "turnover risk")
        && why != "no rows"
    {
        tracing::warn!("turnover section left empty: {why}");
    }
    let json = serde_json::to_string(&data)?;
    let title = format!(
        "cxpipe report: {}",
        req.dataset.file_name().map_or_else(
            || req.dataset.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    let footer = format!(
        "Written by cxpipe {} at {} UTC. Charts: Chart.js 4.6.1 (MIT License), inlined.",
        env!("CARGO_PKG_VERSION"),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M")
    );
    // Placeholders are filled last to first, so no inserted text is searched.
    let html = TEMPLATE
        .replacen("{{APP}}", APP_JS, 1)
        .replacen("{{DATA}}", &script_safe(&json), 1)
        .replacen("{{FOOTER}}", &escape(&footer), 1)
        .replacen("{{META}}", &header(req, &data), 1)
        .replacen("{{CHARTJS}}", CHART_JS, 1)
        .replace("{{TITLE}}", &escape(&title));
    Ok(Page {
        html,
        sections: data.sections,
        empty: data.empty,
    })
}

/// The header's facts as `<dt>`/`<dd>` pairs.
fn header(req: &PageRequest, data: &PageData) -> String {
    let p = &req.page.base;
    let meta = [
        ("Dataset", req.dataset.display().to_string()),
        ("Time range", data.time_range.clone()),
        ("Zone", p.zone.name().to_string()),
        (
            "Service level",
            format!(
                "{} at {} s (short abandon < {} s)",
                p.sl_variant.name(),
                p.threshold_ms as f64 / 1000.0,
                p.short_abandon_ms as f64 / 1000.0
            ),
        ),
        (
            "FCR window",
            format!("{} h", p.fcr_window_ms as f64 / 3_600_000.0),
        ),
        (
            "SLA policy",
            req.page
                .policy_name
                .clone()
                .unwrap_or_else(|| "none".to_string()),
        ),
        ("Turnover as of", data.as_of_text()),
    ];
    meta.iter()
        .map(|(k, v)| format!("<div><dt>{}</dt><dd>{}</dd></div>", escape(k), escape(v)))
        .collect()
}

/// HTML text escaping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON inside a `<script>` element: every `<` becomes `\u003c`, so no
/// value can end the element (`</script>`) or open an HTML comment
/// (`<!--`, which changes how the parser reads the rest of the script and
/// blanks the page). In JSON a `<` can only stand inside a string, where
/// the escape means the same character.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::script_safe;

    #[test]
    fn no_value_can_close_the_script_or_open_a_comment() {
        let json = serde_json::to_string(&["<!--<script>", "</script>", "a<b"]).expect("json");
        let safe = script_safe(&json);
        assert!(!safe.contains('<'), "{safe}");
        let back: Vec<String> = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, ["<!--<script>", "</script>", "a<b"]);
    }
}
