//! `cxpipe info`: what a dataset holds.

use std::path::PathBuf;

/// Summarise a dataset.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cxpipe info dataset\n  cxpipe info dataset --json")]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the summary. A read-only command: it takes the dataset's shared
/// lock (so it runs beside `kpi` or `report`, not beside an ingest) and
/// creates nothing; opening the dataset finishes (or discards) an ingest
/// that was interrupted, as every command that opens it does.
pub fn run(args: &Args) -> anyhow::Result<()> {
    // Its errors name the dataset (or the file in it) already.
    let ds = cxpipe_dataset::Dataset::open_for_reading(&args.dataset)?;
    if let Some(note) = ds.recovered() {
        tracing::info!("{note}");
    }
    let s = ds.summary()?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&s)?)
    } else {
        let range = match (s.partitions.first(), s.partitions.last()) {
            (Some(a), Some(b)) => format!("{a} .. {b} ({} days)", s.partitions.len()),
            _ => "empty".to_string(),
        };
        format!(
            "dataset      {}\nrows         {}\ndates        {range}\nfiles        {} Parquet ({:.1} MB)\ningested     {} files in {} runs\n",
            args.dataset.display(),
            s.rows,
            s.files,
            s.bytes as f64 / 1e6,
            s.ledger_files,
            s.ingests,
        )
    };
    crate::output::emit(&text)
}
