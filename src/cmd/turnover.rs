//! `cxpipe turnover`: agent turnover signals, attrition per month, and how
//! well inferred departures match a roster (SPEC §11).

use std::path::PathBuf;

use anyhow::Context;
use cxpipe_analytics::Table;
use cxpipe_analytics::table::OutputFormat;
use cxpipe_analytics::time::{format_day, parse_day};
use cxpipe_analytics::turnover::{self, AttritionBy, Roster};

use crate::exit::UsageError;
use crate::open::open_source;
use crate::output::OutputArgs;
use crate::settings::{self, Config};

const EXAMPLES: &str = "\
Examples:
  cxpipe turnover dataset                              # every agent, the risk list first
  cxpipe turnover dataset --as-of 2026-10-15 --tz Europe/Berlin
  cxpipe turnover dataset --attrition --by team        # per team and month
  cxpipe turnover dataset --roster roster.csv          # HR dates win over inferred ones
  cxpipe turnover dataset --roster roster.csv --evaluate

Activity is a day with at least one handled contact (local days in --tz).
status:
  departed  active on at least 5 days in the 28 up to last_seen, and not seen for
            --gap-days (default 14) before as-of; departs on last_seen
  at_risk   not departed, risk_score >= 0.5
  new       first seen (or hired, with a roster) less than 28 days before as-of
  active    everyone else
Trends compare the last 14 days to as-of with the 14 before: handled (total),
AHT and CSAT (means), relative changes.

risk_score = the weighted mean of five factors, each 0..1:
  activity 0.35  handled drop, last 14 d vs the 14 before (-100% counts 1)
  aht      0.20  AHT rise (+30% or more counts 1)
  csat     0.20  CSAT fall (-20% or more counts 1)
  transfer 0.10  transfer-rate rise (+10 points or more counts 1)
  tenure   0.15  (90 - tenure days) / 90 for tenure under 90 days
Set the weights in cxpipe.toml: [turnover.weights] activity = 0.5 ... ; reasons lists
the factors that add at least 0.05 to the score, largest first.
Tenure counts from first_seen (or the roster's hire_date): in data shorter than 90
days every agent's tenure is short.

--attrition, per group and month: headcount_start, headcount_end, leavers,
attrition_rate = leavers / mean headcount, annualized_attrition = x 12,
new_hire_90d_attrition = leavers with tenure < 90 d / agents who began in the 90
days to the month's end. Agents seen in the data's first week count as employed
before it.";

/// Agent turnover signals and attrition.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// Judge as of this local date (default: the last day of data).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Days without activity that make a departure (default [turnover]
    /// gap_days, else 14).
    #[arg(long, value_name = "DAYS")]
    pub gap_days: Option<i64>,
    /// Attrition per group and month instead of the per-agent table.
    #[arg(long)]
    pub attrition: bool,
    /// With --attrition: team, site or all.
    #[arg(long, default_value = "all", value_parser = ["team", "site", "all"])]
    pub by: String,
    /// Roster CSV (agent_id,hire_date,termination_date,team): its dates and
    /// teams replace the inferred ones.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// With --roster: how well the inferred departures match the roster
    /// (precision, recall).
    #[arg(long, requires = "roster", conflicts_with = "attrition")]
    pub evaluate: bool,
    /// Site time zone (IANA name); default [time] zone, else UTC.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Config file (default ./cxpipe.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the report and writes it.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let mut p = settings::turnover_params(&config, args.tz.as_deref())?;
    p.as_of = args
        .as_of
        .as_deref()
        .map(parse_day)
        .transpose()
        .context("--as-of")?;
    if let Some(g) = args.gap_days {
        if !(1..=3650).contains(&g) {
            return Err(UsageError(format!("--gap-days {g} must be 1 to 3650")).into());
        }
        p.gap_days = g;
    }
    let roster = args.roster.as_deref().map(Roster::read).transpose()?;
    if args.by != "all" && !args.attrition {
        return Err(UsageError("--by goes with --attrition".into()).into());
    }
    let format = args.output.format()?;
    let (_lock, source) = open_source(&args.dataset)?;
    let started = std::time::Instant::now();
    let activity = turnover::activity(&source, &p.zone)?;
    let (as_of, inferred) = turnover::signals(&activity, &p)?;
    let caption;
    let mut t = Table::from(if args.evaluate {
        let roster = roster.context("--evaluate needs --roster")?;
        let e = turnover::evaluate(&inferred, &roster, as_of);
        caption = format!(
            "inferred departures vs {} as of {} · gap {} days · zone {}",
            args.roster
                .as_ref()
                .map_or(String::new(), |r| r.display().to_string()),
            format_day(as_of),
            p.gap_days,
            p.zone.name()
        );
        turnover::evaluation_frame(&e, as_of)?
    } else {
        let rows = match roster {
            Some(r) => {
                p.roster = Some(r);
                turnover::signals(&activity, &p)?.1
            }
            None => inferred,
        };
        let roster_note = args
            .roster
            .as_ref()
            .map_or(String::new(), |r| format!(" · roster {}", r.display()));
        if args.attrition {
            let by = AttritionBy::parse(&args.by)?;
            caption = format!(
                "attrition by {} and month, as of {} · departures after {} days without activity · zone {}{roster_note}",
                args.by,
                format_day(as_of),
                p.gap_days,
                p.zone.name()
            );
            turnover::attrition(&activity, &rows, as_of, by)?
        } else {
            let w = p.weights;
            caption = format!(
                "as of {} · gap {} days · zone {} · weights activity {} aht {} csat {} transfer {} tenure {}{roster_note}",
                format_day(as_of),
                p.gap_days,
                p.zone.name(),
                w.activity,
                w.aht,
                w.csat,
                w.transfer,
                w.tenure
            );
            turnover::signals_frame(&rows)?
        }
    });
    tracing::debug!(
        rows = t.height(),
        seconds = started.elapsed().as_secs_f64(),
        "turnover computed"
    );
    if format != OutputFormat::Table {
        tracing::info!("{caption}");
    }
    args.output
        .emit(&mut t, format, &caption)
        .context("writing the turnover report")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--help` documents the weights the code uses.
    #[test]
    fn help_states_the_default_weights() {
        let w = turnover::Weights::default();
        for (name, v) in [
            ("activity", w.activity),
            ("aht", w.aht),
            ("csat", w.csat),
            ("transfer", w.transfer),
            ("tenure", w.tenure),
        ] {
            let line = format!("{name:<8} {v:.2}");
            assert!(EXAMPLES.contains(&line), "help lacks {line:?}");
        }
    }
}
