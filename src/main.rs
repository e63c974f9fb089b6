//! `cxpipe`: the command-line glue. Argument parsing, logging, progress bars
//! and exit codes live here; the work lives in the library crates.

mod cmd;
mod config;
mod progress;
mod settings;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error; nothing or only part was done.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: finished, but the reject threshold was exceeded.
pub const EXIT_REJECTS: u8 = 3;

/// Set by Ctrl-C; long operations check it and stop cleanly.
pub static CANCEL: AtomicBool = AtomicBool::new(false);

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
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Flags every subcommand takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (-vv for debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never draw progress bars (they are drawn only when stderr is a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Global {
    /// Whether to draw progress bars.
    pub fn progress(&self) -> bool {
        !self.no_progress && !self.quiet && std::io::stderr().is_terminal()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for schedulers.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
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

fn init_logging(g: &Global) {
    use tracing_subscriber::EnvFilter;
    let level = match (g.quiet, g.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("CXPIPE_LOG").unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "cxpipe={level},cxpipe_ingest={level},cxpipe_generate={level},cxpipe_analytics={level}"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match g.log_format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .without_time()
            .with_ansi(std::io::stderr().is_terminal())
            .with_level(true)
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(&cli.global);
    // Commands that write install a handler so that Ctrl-C stops them
    // cleanly; read-only ones (kpi, sla, turnover, report, info, schema) just stop.
    let writes = matches!(
        cli.command,
        Command::Ingest(_) | Command::Generate(_) | Command::Run(_)
    );
    let _ = writes.then(|| {
        ctrlc::set_handler(|| {
            if CANCEL.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: stop now. Staged work is discarded by the
                // next run, so the dataset is still as before.
                std::process::exit(130);
            }
            tracing::warn!(
                "interrupted: finishing up without changing the dataset (Ctrl-C again to quit now)"
            );
        })
    });
    let result = match &cli.command {
        Command::Ingest(args) => cmd::ingest::run(args, &cli.global),
        Command::Generate(args) => cmd::generate::run(args).map(|()| EXIT_OK),
        Command::Kpi(args) => cmd::kpi::run(args).map(|()| EXIT_OK),
        Command::Sla(args) => cmd::sla::run(args).map(|()| EXIT_OK),
        Command::Turnover(args) => cmd::turnover::run(args).map(|()| EXIT_OK),
        Command::Report(args) => cmd::report::run(args).map(|()| EXIT_OK),
        Command::Run(args) => cmd::run::run(args, &cli.global),
        Command::Info(args) => cmd::info::run(args).map(|()| EXIT_OK),
        Command::Schema(args) => cmd::schema::run(args).map(|()| EXIT_OK),
        Command::Mapping(args) => cmd::mapping::run(args).map(|()| EXIT_OK),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) if is_usage(&e) => {
            tracing::error!("{e:#}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// A mistake in the flags or the config file (exit code 2), as opposed to
/// a failure while doing the work.
fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<config::UsageError>()
            || matches!(
                c.downcast_ref::<cxpipe_analytics::Error>(),
                Some(cxpipe_analytics::Error::Usage(_))
            )
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
