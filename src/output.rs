//! Where results go: `--format`/`--out` (a table on a terminal, CSV in a
//! pipe, or the format of `--out`'s extension), files replaced atomically,
//! the text table fitted to the terminal, and the words a caption uses.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use cxpipe_analytics::Table;
use cxpipe_analytics::table::{self, OutputFormat};

use crate::exit::UsageError;

/// `--format` and `--out`, for every command that writes a table.
#[derive(Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format; default: from --out's extension, else table on a
    /// terminal and csv when piped.
    #[arg(long, value_parser = ["table", "csv", "json", "parquet"])]
    pub format: Option<String>,
    /// Write to this file instead of stdout (- = stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// Whether the output goes to stdout (no `--out`, or `--out -`).
    pub fn to_stdout(&self) -> bool {
        self.out.as_ref().is_none_or(|o| o.as_os_str() == "-")
    }

    /// The output format: --format, else from --out, else by terminal.
    pub fn format(&self) -> anyhow::Result<OutputFormat> {
        output_format(self.format.as_deref(), self.out.as_deref())
    }

    /// Writes `t` to --out (replaced atomically) or stdout.
    pub fn emit(&self, t: &mut Table, format: OutputFormat, caption: &str) -> anyhow::Result<()> {
        emit_table(t, format, Some(caption), self.out.as_deref())
    }
}

/// Where and how the result goes.
pub fn output_format(format: Option<&str>, out: Option<&Path>) -> anyhow::Result<OutputFormat> {
    if let Some(f) = format {
        return Ok(OutputFormat::parse(f)?);
    }
    let to_file = out.filter(|p| p.as_os_str() != "-");
    if let Some(p) = to_file {
        return Ok(match p.extension().and_then(|e| e.to_str()) {
            Some("parquet") => OutputFormat::Parquet,
            Some("json") => OutputFormat::Json,
            Some("txt") => OutputFormat::Table,
            _ => OutputFormat::Csv,
        });
    }
    Ok(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Csv
    })
}

/// Writes `text` to stdout (data only ever goes to stdout).
pub fn emit(text: &str) -> anyhow::Result<()> {
    crate::progress::clear_scan_bar();
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes a file through `fill`, replacing `path` atomically and durably
/// ([`cxpipe_dataset::write_atomic`]).
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    cxpipe_dataset::write_atomic(path, fill).map_err(|e| match e {
        cxpipe_dataset::AtomicWriteError::Io(e) => anyhow::Error::new(e),
        cxpipe_dataset::AtomicWriteError::Fill(e) => e,
    })
}

/// Writes `t` to `out` (a file, replaced atomically) or stdout.
pub fn emit_table(
    t: &mut Table,
    format: OutputFormat,
    caption: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    crate::progress::clear_scan_bar();
    match out.filter(|p| p.as_os_str() != "-") {
        Some(path) => write_atomic(path, |w| Ok(t.write(format, caption, w)?)),
        None => {
            let stdout = std::io::stdout();
            if format == OutputFormat::Parquet && stdout.is_terminal() {
                anyhow::bail!(
                    "will not write Parquet to a terminal; use --out FILE.parquet or a pipe"
                );
            }
            let mut w = std::io::BufWriter::new(stdout.lock());
            t.write(format, caption, &mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// The KPIs a narrow table shows first, after the keys (then the others
/// that still fit, in their usual order).
pub const FIRST_COLUMNS: [&str; 8] = [
    "offered",
    "service_level",
    "abandon_rate",
    "asa_s",
    "handled",
    "aht_s",
    "fcr_rate",
    "csat_avg",
];

/// The width the text table must fit: `$COLUMNS`, else the terminal's
/// (None: stdout is no terminal, so nothing wraps).
pub fn table_width() -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
    {
        return Some(w);
    }
    let (terminal_size::Width(w), _) = terminal_size::terminal_size_of(std::io::stdout())?;
    Some(usize::from(w))
}

/// The columns of the text table (`--columns`, else those that fit
/// `width`), and the line that names what was left out.
pub fn table_columns(
    t: Table,
    keys: &[&str],
    columns: Option<&str>,
    width: Option<usize>,
) -> anyhow::Result<(Table, Option<String>)> {
    let chosen: Vec<String> = match columns.map(str::trim) {
        Some("all") => return Ok((t, None)),
        Some(list) => {
            let names = t.column_names();
            let mut chosen: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            for want in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                if !names.iter().any(|n| n == want) {
                    return Err(UsageError(format!(
                        "--columns: no column {want:?} in this table; it has {}",
                        names.join(", ")
                    ))
                    .into());
                }
                if !chosen.iter().any(|c| c == want) {
                    chosen.push(want.to_string());
                }
            }
            chosen
        }
        None => {
            let Some(width) = width else {
                return Ok((t, None));
            };
            let (kept, left) = table::fit_columns(&t.widths(), keys, &FIRST_COLUMNS, width);
            if left.is_empty() {
                return Ok((t, None));
            }
            let note = format!(
                "not shown: {} (--columns all, or --columns a,b,c)",
                left.join(", ")
            );
            let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
            return Ok((t.select(&kept)?, Some(note)));
        }
    };
    let chosen: Vec<&str> = chosen.iter().map(String::as_str).collect();
    Ok((t.select(&chosen)?, None))
}
