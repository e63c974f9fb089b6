//! `cxpipe ingest`: exports into the dataset (SPEC §4–§6, §9).

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;
use cxpipe_ingest::{Input, RunReport, SourceKind};
use cxpipe_model::Zone;

use crate::exit::{EXIT_ERROR, EXIT_OK, EXIT_REJECTS, EXIT_USAGE};
use crate::global::Global;
use crate::interrupt::CANCEL;
use crate::progress::{IngestProgress, human};
use crate::settings::{self, Config, IngestFlags};

const EXAMPLES: &str = "\
Examples:
  cxpipe ingest exports/october.csv --out dataset
  cxpipe ingest inbox/ --out dataset --tz America/New_York
  zcat nightly.csv.gz | cxpipe ingest - --out dataset --json > run.json

Every row read is written, quarantined (DATASET/quarantine/<ingest_id>/) or
dropped as an older duplicate; the run report (DATASET/ingests/<id>.json)
shows the counts per file. Files already ingested (same size and content)
are skipped unless --force. The customer's phone or email is stored only as
a keyed hash; the key is CXPIPE_PII_KEY, else [privacy] key_file of
cxpipe.toml, else DATASET/.pii.key (created once).";

/// Read exports into the dataset.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Files, folders (every .csv/.ndjson/.jsonl/.json/.txt inside, also
    /// .gz/.zst), or - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The dataset folder (created if missing).
    #[arg(long, value_name = "DATASET")]
    pub out: PathBuf,
    /// Which export layout the files have: auto recognises each file from
    /// its header or first record (and says which it chose); the others
    /// force one. `cxpipe mapping show NAME` prints a built-in mapping.
    #[arg(long, value_enum, default_value_t = SourceName::Auto)]
    pub source: SourceName,
    /// Read the files with this mapping file (TOML; start from
    /// `cxpipe mapping show NAME`) instead of a built-in source.
    #[arg(long, value_name = "FILE.toml", conflicts_with = "source")]
    pub mapping: Option<PathBuf>,
    /// IANA time zone of timestamps that carry no offset (Five9's local
    /// times, for one) [default: `[time] zone` of cxpipe.toml, else UTC].
    #[arg(long, value_parser = parse_zone)]
    pub tz: Option<Zone>,
    /// Exit with code 3 when more than this share of rows is quarantined.
    #[arg(long, default_value_t = 0.05, value_parser = parse_rate)]
    pub max_reject_rate: f64,
    /// Exit with code 3 when more than this share of rows is dropped as
    /// older duplicates (default: no limit), for exports whose ids may not
    /// be unique.
    #[arg(long, value_parser = parse_rate)]
    pub max_duplicate_rate: Option<f64>,
    /// Read files again even if the ledger has them (dedupe keeps the
    /// dataset exact).
    #[arg(long)]
    pub force: bool,
    /// Worker threads, 1 to 256 (default 0: one per core).
    #[arg(long, default_value_t = 0, value_parser = parse_threads)]
    pub threads: usize,
    /// Print the run report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Config file (default ./cxpipe.toml when present); ingest reads its
    /// `[privacy] key_file`, `[time] zone`, `[ingest] min_time`, `max_time`,
    /// `max_duration_s` and `[dataset] keep_snapshots_s`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--source` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceName {
    /// Recognise each file from its header or first record.
    Auto,
    /// Canonical column names (the layout of `cxpipe generate`).
    Generic,
    /// Amazon Connect contact trace records, NDJSON or a JSON array.
    AmazonConnect,
    /// Five9 call log report CSV (local times: give --tz).
    Five9,
    /// Genesys Cloud conversation details (API response, JSON array or NDJSON).
    Genesys,
    /// Talkdesk contacts report CSV.
    Talkdesk,
}

/// The ingest source of `--source` / `--mapping`.
fn source_kind(
    source: SourceName,
    mapping: Option<&std::path::Path>,
) -> anyhow::Result<SourceKind> {
    if let Some(path) = mapping {
        return SourceKind::from_mapping_file(path).map_err(anyhow::Error::msg);
    }
    // The value names clap shows are the names the ingest library knows.
    let name = source
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    SourceKind::named(&name)
        .ok_or_else(|| anyhow::anyhow!("built-in source {name:?} is missing (a bug)"))
}

fn parse_zone(s: &str) -> Result<Zone, String> {
    cxpipe_ingest::parse::zone_named(s)
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of threads"))?;
    if n > cxpipe_ingest::MAX_THREADS {
        return Err(format!(
            "{n} is more than {} threads",
            cxpipe_ingest::MAX_THREADS
        ));
    }
    Ok(n)
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{v} is outside 0..1 (0.05 means 5%)"));
    }
    Ok(v)
}

/// Runs the ingest and returns the exit code.
pub fn run(args: &Args, global: &Global) -> anyhow::Result<u8> {
    let inputs: Vec<Input> = args
        .inputs
        .iter()
        .map(|s| {
            if s == "-" {
                Input::Stdin
            } else {
                Input::Path(PathBuf::from(s))
            }
        })
        .collect();
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        tracing::error!("- (stdin) can be given only once");
        return Ok(EXIT_USAGE);
    }
    let source = match source_kind(args.source, args.mapping.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e:#}");
            return Ok(EXIT_USAGE);
        }
    };
    let config = Config::load(args.config.as_deref())?;
    let flags = IngestFlags {
        tz: args.tz.clone(),
        source: Some(source),
        max_reject_rate: Some(args.max_reject_rate),
        max_duplicate_rate: args.max_duplicate_rate,
        force: args.force,
        threads: args.threads,
    };
    let opts = settings::ingest_options(&config, &args.out, flags)?;
    let progress = IngestProgress::new(global.progress());
    let result = cxpipe_ingest::ingest(&inputs, &opts, &progress, &CANCEL);
    progress.finish();
    let report = result.with_context(|| format!("ingesting into {}", args.out.display()))?;
    if args.json {
        crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
    }
    summarize(&report, &args.out);
    Ok(exit_code(&report))
}

/// The exit code of a finished run: 1 when a file failed, 3 when too many
/// rows were quarantined, else 0.
pub fn exit_code(r: &RunReport) -> u8 {
    if r.totals.files_failed > 0 || !r.conservation_ok {
        EXIT_ERROR
    } else if r.reject_threshold_exceeded || r.duplicate_threshold_exceeded {
        EXIT_REJECTS
    } else {
        EXIT_OK
    }
}

fn summarize(r: &RunReport, out: &std::path::Path) {
    let t = &r.totals;
    if t.files_ingested == 0 {
        tracing::info!(
            "nothing new to ingest into {}: {} file(s) already ingested, {} failed",
            out.display(),
            t.files_skipped,
            t.files_failed
        );
        return;
    }
    let mut s = format!(
        "ingested {} file(s) into {} in {:.1} s ({} skipped, {} failed): {} rows read = {} written + {} quarantined + {} older duplicates dropped",
        t.files_ingested,
        out.display(),
        r.seconds,
        t.files_skipped,
        t.files_failed,
        t.rows_read,
        t.rows_written,
        t.rows_quarantined,
        t.duplicates_dropped,
    );
    if t.rows_filtered > 0 {
        s.push_str(&format!(
            " + {} filtered (not contacts, by the mapping's [source] skip)",
            t.rows_filtered
        ));
    }
    if t.clock_skew_fixed > 0 {
        s.push_str(&format!(
            "; {} rows with a time out of order by at most [ingest] clock_skew_ms set equal (clock_skew_fixed)",
            t.clock_skew_fixed
        ));
    }
    if t.rows_replaced > 0 {
        s.push_str(&format!(
            "; {} rows already in the dataset replaced by newer versions",
            t.rows_replaced
        ));
    }
    s.push_str(&format!(
        ". {} rows/s, {:.0} MB/s.",
        human(r.rows_per_s),
        r.mb_per_s
    ));
    if let Some(q) = &r.quarantine_dir {
        // What the folder holds: rejected rows by reason, and the dropped
        // duplicates' list (a run can have the one without the other).
        let mut held: Vec<String> = t.reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if r.duplicates_file.is_some() {
            let n = t.duplicates_dropped + t.rows_replaced;
            let s = if n == 1 { "" } else { "s" };
            held.push(format!("{n} duplicate{s} in duplicates.csv"));
        }
        s.push_str(&format!(
            " Quarantine: {} ({}; reject rate {:.2}%, max {:.2}%).",
            out.join(q).display(),
            held.join(", "),
            r.reject_rate * 100.0,
            r.max_reject_rate * 100.0
        ));
    }
    s.push_str(&format!(
        " Report: {}.",
        out.join(format!("ingests/{}.json", r.ingest_id)).display()
    ));
    if !r.conservation_ok {
        s.push_str(" CONSERVATION CHECK FAILED: rows_read != written + quarantined + duplicates + filtered; this is a bug, please report it.");
    }
    tracing::info!("{s}");
    if r.reject_threshold_exceeded {
        tracing::warn!(
            "reject rate {:.2}% is above --max-reject-rate {:.2}% (exit code {})",
            r.reject_rate * 100.0,
            r.max_reject_rate * 100.0,
            exit_code(r)
        );
    }
    if r.duplicate_threshold_exceeded {
        tracing::warn!(
            "{:.2}% of the rows read were dropped as older duplicates, above --max-duplicate-rate {:.2}% (exit code {}): are the export's ids unique?",
            r.duplicate_rate * 100.0,
            r.max_duplicate_rate.unwrap_or_default() * 100.0,
            exit_code(r)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_flag_accepts_shares_only() {
        assert_eq!(parse_rate("0.05"), Ok(0.05));
        assert!(parse_rate("5").is_err());
        assert!(parse_rate("-0.1").is_err());
        assert!(parse_rate("abc").is_err());
    }

    #[test]
    fn zone_flag_rejects_unknown_zones() {
        assert!(parse_zone("Europe/Berlin").is_ok());
        assert!(parse_zone("Europe/Atlantis").is_err());
    }

    #[test]
    fn every_source_flag_names_a_library_source() {
        for s in SourceName::value_variants() {
            let kind = source_kind(*s, None).expect("a source");
            let name = s.to_possible_value().expect("value");
            assert_eq!(kind.as_str(), name.get_name());
        }
        assert_eq!(SourceName::value_variants().len(), SourceKind::NAMES.len());
    }
}
