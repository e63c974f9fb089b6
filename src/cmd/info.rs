//! `cxpipe info`: what a dataset holds.

use std::path::PathBuf;

/// Summarise a dataset.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cxpipe info dataset\n  cxpipe info dataset --json\n  duckdb -c \"select count(*) from '$(cxpipe info dataset --snapshot)/**/*.parquet'\"\n\n\
A snapshot is one whole state of the interactions table, left by the commit\n\
that made it: nothing in it changes, and it is kept for [dataset]\n\
keep_snapshots_s (default 3600 s) after a later commit replaces it. A reader\n\
outside cxpipe that must not see a commit half-way (a poller, a Spark job)\n\
reads the snapshot's folder; `DATASET/interactions` always points at the\n\
newest one."
)]
pub struct Args {
    /// The dataset folder.
    pub dataset: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the current snapshot's folder (with --json: its manifest, the
    /// files as absolute paths).
    #[arg(long)]
    pub snapshot: bool,
}

/// Prints the summary. A read-only command: it takes the dataset's shared
/// lock (so it runs beside `kpi` or `report`, not beside an ingest) and
/// creates nothing; opening the dataset finishes (or discards) an ingest
/// that was interrupted, as every command that opens it does.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.snapshot {
        return print_snapshot(args);
    }
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
            "dataset      {}\nrows         {}\ndates        {range}\nfiles        {} Parquet ({:.1} MB)\ningested     {} files in {} runs\nsnapshot     {}\n",
            args.dataset.display(),
            s.rows,
            s.files,
            s.bytes as f64 / 1e6,
            s.ledger_files,
            s.ingests,
            s.snapshot
                .as_deref()
                .unwrap_or("none yet (the next ingest makes one)"),
        )
    };
    crate::output::emit(&text)
}

/// `--snapshot`: the current snapshot's folder, or its manifest. It takes
/// no lock, so it answers beside a running ingest: the link it reads only
/// ever points at a whole snapshot.
fn print_snapshot(args: &Args) -> anyhow::Result<()> {
    if !args.dataset.exists() {
        anyhow::bail!(
            "dataset {} does not exist; create one with `cxpipe ingest`",
            args.dataset.display()
        );
    }
    let Some(snap) = cxpipe_dataset::current_snapshot(&args.dataset)? else {
        anyhow::bail!(
            "dataset {} has no snapshot yet: it is new or was made before snapshots; its next ingest makes one",
            args.dataset.display()
        );
    };
    let root = std::path::absolute(&args.dataset)?;
    let folder = root.join(cxpipe_dataset::SNAPSHOTS).join(&snap.id);
    let table = folder.join(cxpipe_dataset::INTERACTIONS);
    let text = if args.json {
        let files: Vec<serde_json::Value> = snap
            .files
            .iter()
            .map(|f| {
                serde_json::json!({
                    "path": folder.join(&f.path).display().to_string(),
                    "bytes": f.bytes,
                })
            })
            .collect();
        let v = serde_json::json!({
            "snapshot": snap.id,
            "committed_at": snap.committed_at,
            "path": table.display().to_string(),
            "files": files,
        });
        format!("{}\n", serde_json::to_string_pretty(&v)?)
    } else {
        format!("{}\n", table.display())
    };
    crate::output::emit(&text)
}
