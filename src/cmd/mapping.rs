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
  cxpipe mapping check my-five9.toml --sample call-log.csv --tz America/New_York
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
    /// Check a mapping file: parse and validate it, and say what it reads;
    /// with --sample, map an export with it and show the first records as
    /// they would be stored, or why they are not.
    Check {
        /// The mapping file.
        file: PathBuf,
        /// An export to map (read whole, into a temporary dataset that is
        /// removed after; give a small file or the head of a big one).
        #[arg(long, value_name = "EXPORT")]
        sample: Option<PathBuf>,
        /// Records of the sample to show.
        #[arg(long, default_value_t = 5)]
        rows: usize,
        /// IANA zone of the sample's timestamps without an offset.
        #[arg(long, default_value = "UTC")]
        tz: String,
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
            out.push_str(&format!(
                "{:<16} conversation details: an API response document, a JSON array or NDJSON; detected by {}; read by built-in code (several legs a conversation; `mapping show genesys` gives its rules)\n",
                "genesys",
                cxpipe_ingest::genesys::DETECT.join(", ")
            ));
            crate::output::emit(&out)
        }
        Action::Show { name } if name == "genesys" => {
            crate::output::emit(cxpipe_ingest::genesys::RULES)
        }
        Action::Show { name } => match mapping::builtin_text(name) {
            Some(text) => crate::output::emit(text),
            None => Err(UsageError(format!(
                "no built-in mapping {name:?}; the built-in ones are {}, and genesys (code)",
                BUILTIN.map(|(n, _)| n).join(", ")
            ))
            .into()),
        },
        Action::Check {
            file,
            sample,
            rows,
            tz,
        } => {
            let m = Mapping::from_file(file).map_err(UsageError)?;
            let mut out = format!(
                "{}: ok, source {} ({})\n",
                file.display(),
                m.name,
                describe(&m, false)
            );
            if let Some(sample) = sample {
                let zone = cxpipe_ingest::parse::zone_named(tz).map_err(UsageError)?;
                out.push_str(&check_sample(m, sample, *rows, zone)?);
            }
            crate::output::emit(&out)
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
        mapping::MapFormat::Json => "NDJSON, a JSON array or a JSON document",
    };
    let how = if m.detect.is_empty() {
        format!("{format}; not auto-detected (use --mapping)")
    } else {
        format!("{format}; detected by {}", m.detect.join(", "))
    };
    match &m.description {
        Some(d) => format!("{d} — {how}"),
        None => how,
    }
}

/// Maps `sample` with `m` through the ingest itself (into a temporary
/// dataset), and says what came out: the counts, the missing fields, the
/// first rows as stored, and the first rejected record with its reason.
fn check_sample(
    m: Mapping,
    sample: &std::path::Path,
    rows: usize,
    zone: cxpipe_ingest::parse::Zone,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let tmp = tempfile::tempdir()?;
    let mut opts = cxpipe_ingest::IngestOptions::new(tmp.path().join("dataset"));
    opts.source = cxpipe_ingest::SourceKind::Mapped(std::sync::Arc::new(m));
    opts.zone = zone;
    opts.max_reject_rate = 1.0;
    opts.threads = 1;
    let input = cxpipe_ingest::Input::Path(sample.to_path_buf());
    let report = cxpipe_ingest::ingest(
        &[input],
        &opts,
        &cxpipe_ingest::Quiet,
        &std::sync::atomic::AtomicBool::new(false),
    )?;
    let Some(f) = report.files.first() else {
        anyhow::bail!("{}: nothing was read", sample.display());
    };
    let mut out = String::new();
    if let Some(msg) = &f.message {
        writeln!(out, "{}: {msg}", sample.display())?;
        return Ok(out);
    }
    writeln!(
        out,
        "{}: {} records read: {} mapped, {} rejected, {} filtered, {} older duplicates",
        sample.display(),
        f.rows_read,
        f.rows_written,
        f.rows_quarantined,
        f.rows_filtered,
        f.duplicates_dropped
    )?;
    if !f.missing_fields.is_empty() {
        writeln!(
            out,
            "fields not in the file: {}",
            f.missing_fields.join(", ")
        )?;
    }
    if !f.reasons.is_empty() {
        let reasons: Vec<String> = f.reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "rejected as: {}", reasons.join(", "))?;
    }
    if let Some(r) = &f.first_reject {
        writeln!(
            out,
            "first rejected, line {}: {} ({}): {:?}",
            r.line, r.reason, r.code, r.raw
        )?;
    }
    let ds = cxpipe_dataset::Dataset::open_for_reading(&opts.dataset)?;
    let mut shown: Vec<(i64, String)> = Vec::new();
    for rel in ds.parquet_files()? {
        for batch in cxpipe_ingest::read_all(&ds.root().join(rel))? {
            for i in 0..batch.num_rows() {
                shown.push(describe_row(&batch, i));
            }
        }
    }
    shown.sort();
    for (line, text) in shown.into_iter().take(rows) {
        writeln!(out, "line {line}: {text}")?;
    }
    Ok(out)
}

/// One stored row as `column=value` pairs (empty columns left out), and
/// its source line.
fn describe_row(batch: &arrow_array::RecordBatch, i: usize) -> (i64, String) {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int8Type, Int32Type, Int64Type, TimestampMicrosecondType};
    let mut parts = Vec::new();
    let mut line = 0;
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        if col.is_null(i) {
            continue;
        }
        let name = field.name();
        let value = if let Some(a) = col.as_string_opt::<i32>() {
            a.value(i).to_string()
        } else if let Some(d) = col.as_dictionary_opt::<Int32Type>() {
            let key = d.keys().value(i) as usize;
            d.values().as_string::<i32>().value(key).to_string()
        } else if let Some(t) = col.as_primitive_opt::<TimestampMicrosecondType>() {
            jiff::Timestamp::from_microsecond(t.value(i))
                .map_or_else(|e| e.to_string(), |ts| ts.to_string())
        } else if let Some(v) = col.as_primitive_opt::<Int64Type>() {
            v.value(i).to_string()
        } else if let Some(v) = col.as_primitive_opt::<Int8Type>() {
            v.value(i).to_string()
        } else if let Some(b) = col.as_boolean_opt() {
            b.value(i).to_string()
        } else {
            continue;
        };
        if name == "source_line" {
            line = value.parse().unwrap_or(0);
            continue;
        }
        if name == "source_file" {
            continue;
        }
        parts.push(format!("{name}={value}"));
    }
    (line, parts.join(" "))
}
