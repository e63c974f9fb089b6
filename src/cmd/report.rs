//! `cxpipe report`: one self-contained HTML page with the charts and tables
//! an operations review needs (SPEC §12); the page itself is `html.rs`.

use std::path::PathBuf;

use anyhow::Context;

use crate::open::open_source;
use crate::output::write_atomic;
use crate::settings::{self, Config};

const EXAMPLES: &str = "\
Examples:
  cxpipe report dataset --html review.html
  cxpipe report dataset --html october.html --from 2026-10-01 --to 2026-10-31 --tz Europe/Berlin --policy sla.toml

The page shows: service level by interval against the first service_level
rule's target; volume and AHT by day; the agent leaderboard; SLA breaches by
agent and rule (rules from --policy, else [[sla]] in cxpipe.toml); the
turnover risk list; attrition by team and month. Tables sort by a click on a
heading. It opens offline in any browser and prints.";

/// Write the HTML report.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// The HTML file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// SLA policy file (default: [[sla]] in cxpipe.toml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// First local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last local date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Site time zone (IANA name); default [time] zone, else UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Config file (default ./cxpipe.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rows in the leaderboard and risk tables (the top ones; a fifth of
    /// it per rule in the SLA table); 0 = all. Browsers lay out tens of
    /// thousands of rows slowly.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub table_rows: usize,
}

/// Writes the report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let mut req = settings::page_request(
        &args.dataset,
        &config,
        args.policy.as_deref(),
        args.tz.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    req.page.table_rows = args.table_rows;
    let (_lock, source) = open_source(&args.dataset)?;
    let started = std::time::Instant::now();
    let page = crate::html::render(&source, &req)?;
    write_atomic(&args.html, |w| Ok(w.write_all(page.html.as_bytes())?))
        .context("writing the HTML report")?;
    tracing::info!(
        "wrote {} ({}) in {:.1} s",
        args.html.display(),
        page.describe(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
