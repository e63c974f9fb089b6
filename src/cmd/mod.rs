//! One module per subcommand, each with its `Args` and `run`.

pub mod generate;
pub mod info;
pub mod ingest;
pub mod kpi;
pub mod mapping;
pub mod report;
pub mod run;
pub mod schema;
pub mod sla;
pub mod turnover;

use std::io::Write;

/// Writes `text` to stdout (data only ever goes to stdout).
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
