//! The command line: the top-level parser, the flags every command takes,
//! and the subcommands (each one's `Args` lives in `cmd/<name>.rs`).

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::global::Global;

const EXAMPLES: &str = "\
Examples:
  cxpipe generate --rows 100000 --out exports/october.csv
  cxpipe ingest exports/ --out dataset
  cxpipe ingest - --out dataset < nightly.csv.gz
  cxpipe info dataset
  cxpipe kpi dataset --by agent,day
  cxpipe kpi dataset --by queue,interval --tz Europe/Berlin --format csv --out q.csv
  cxpipe sla dataset --policy sla.toml --level interaction --agent a-0042 --top 20
  cxpipe turnover dataset --attrition --by team
  cxpipe report dataset --html review.html
  cxpipe run --config /etc/cxpipe/cxpipe.toml --log-format json
  cxpipe schema

Exit codes: 0 success; 1 error (nothing or only part was done); 2 usage error;
3 finished, but more rows than --max-reject-rate were quarantined.";

/// Turn contact-center exports into a clean Parquet dataset, and compute
/// KPIs, SLA breaches and turnover signals from it.
#[derive(Debug, Parser)]
#[command(name = "cxpipe", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    /// The subcommand.
    pub command: Command,
    /// Flags every subcommand takes.
    #[command(flatten)]
    pub global: Global,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read exports into the dataset: validate, pseudonymise, dedupe, quarantine.
    Ingest(cmd::ingest::Args),
    /// Write a realistic synthetic export and a file of the facts planted in it.
    Generate(cmd::generate::Args),
    /// KPIs per agent, team, queue, day, shift, interval, week or month.
    Kpi(cmd::kpi::Args),
    /// SLA breaches per queue x interval, per agent, or per interaction.
    Sla(cmd::sla::Args),
    /// Agent turnover signals, risk scores and attrition per month.
    Turnover(cmd::turnover::Args),
    /// Write one self-contained HTML report with charts and tables.
    Report(cmd::report::Args),
    /// The nightly job: ingest the inbox, then write every configured report.
    Run(cmd::run::Args),
    /// Summarise a dataset: partitions, rows, files, ingests.
    Info(cmd::info::Args),
    /// Print the canonical interaction schema.
    Schema(cmd::schema::Args),
    /// Print a built-in source mapping, list them, or check a mapping file.
    Mapping(cmd::mapping::Args),
}
