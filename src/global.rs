//! The flags every subcommand takes (`-q`, `-v`, `--no-progress`,
//! `--log-format`).

use std::io::IsTerminal;

use clap::ValueEnum;

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
