//! `cxpipe mapping`: the built-in source mappings (SPEC §4), printed so a
//! user can copy one and adapt it, and a check of a user's mapping file.

use std::path::PathBuf;

use cxpipe_ingest::mapping::{self, BUILTIN, Mapping};

use crate::exit::UsageError;

const EXAMPLES: &str = "\
Examples:
  cxpipe mapping list
  cxpipe mapping show five9 > my-five9.toml
  cxpipe mapping check my-five9.toml
  cxpipe ingest exports/ --mapping my-five9.toml --tz America/New_York --out dataset

A mapping says which source field (CSV column or dotted JSON path) gives each
canonical column and how to parse it; the keys are listed at the top of
`cxpipe mapping show amazon-connect`.";

/// Print or check source mappings.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

/// What `cxpipe mapping` does.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List the built-in sources.
    List,
    /// Print a built-in mapping (TOML) to copy and adapt.
    Show {
        /// amazon-connect, five9, talkdesk or generic.
        name: String,
    },
    /// Check a mapping file: parse and validate it, and say what it reads.
    Check {
        /// The mapping file.
        file: PathBuf,
    },
}

/// Runs the subcommand.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.action {
        Action::List => {
            let mut out = String::new();
            for (name, text) in BUILTIN {
                let m = Mapping::parse(text, name).map_err(anyhow::Error::msg)?;
                out.push_str(&format!("{name:<16} {}\n", describe(&m, true)));
            }
            crate::output::emit(&out)
        }
        Action::Show { name } => match mapping::builtin_text(name) {
            Some(text) => crate::output::emit(text),
            None => Err(UsageError(format!(
                "no built-in mapping {name:?}; the built-in ones are {}",
                BUILTIN.map(|(n, _)| n).join(", ")
            ))
            .into()),
        },
        Action::Check { file } => {
            let m = Mapping::from_file(file).map_err(UsageError)?;
            crate::output::emit(&format!(
                "{}: ok, source {} ({})\n",
                file.display(),
                m.name,
                describe(&m, false)
            ))
        }
    }
}

fn describe(m: &Mapping, builtin: bool) -> String {
    if builtin && m.name == "generic" {
        return "CSV or NDJSON with the canonical names; detected by its columns (read by \
                built-in code, which also takes *_ms durations; this mapping documents it)"
            .to_string();
    }
    let format = match m.format {
        mapping::MapFormat::Csv => "CSV",
        mapping::MapFormat::Json => "NDJSON or a JSON array",
    };
    if m.detect.is_empty() {
        format!("{format}; not auto-detected (use --mapping)")
    } else {
        format!("{format}; detected by {}", m.detect.join(", "))
    }
}
