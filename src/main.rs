//! `cxpipe`: the command-line glue. Argument parsing (`cli`), settings
//! (`settings`: flags merged with `cxpipe.toml`, once), output (`output`,
//! `html`), logging, progress bars and exit codes live here; the work lives
//! in the library crates.

mod cli;
mod cmd;
mod exit;
mod global;
mod html;
mod interrupt;
mod logging;
mod open;
mod output;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::{EXIT_OK, EXIT_USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    logging::init(&cli.global);
    progress::enable_scan_bars(cli.global.progress());
    raise_open_file_limit();
    if matches!(
        cli.command,
        Command::Ingest(_) | Command::Generate(_) | Command::Run(_)
    ) {
        interrupt::install();
    }
    let ok = |r: anyhow::Result<()>| r.map(|()| EXIT_OK);
    let result = match &cli.command {
        Command::Ingest(args) => cmd::ingest::run(args, &cli.global),
        Command::Generate(args) => ok(cmd::generate::run(args)),
        Command::Kpi(args) => ok(cmd::kpi::run(args)),
        Command::Sla(args) => ok(cmd::sla::run(args)),
        Command::Turnover(args) => ok(cmd::turnover::run(args)),
        Command::Report(args) => ok(cmd::report::run(args)),
        Command::Run(args) => cmd::run::run(args, &cli.global),
        Command::Info(args) => ok(cmd::info::run(args)),
        Command::Schema(args) => ok(cmd::schema::run(args)),
        Command::Mapping(args) => ok(cmd::mapping::run(args)),
    };
    progress::clear_scan_bar();
    exit::exit_code(result)
}

/// Raises the soft limit on open files to the hard limit, where the system
/// allows: many day partitions, dedupe spill files and a large input folder
/// then never meet the usual soft limit of 1024. Ingest bounds its own open
/// part files as well, so this is a margin, not a requirement.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!("open file limit {n}"),
        Err(e) => tracing::debug!("could not raise the open file limit: {e}"),
    }
}
