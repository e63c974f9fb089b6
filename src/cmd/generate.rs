//! `cxpipe generate`: a realistic synthetic export in the generic layout or
//! a vendor's (Amazon Connect, Five9, Talkdesk, Genesys Cloud; SPEC §4), deterministic by
//! seed, with the facts planted in it (departed agents, new hires,
//! breach-prone agents, understaffed intervals, the repeat-contact rate)
//! written beside it as JSON.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use cxpipe_generate::{GenConfig, Layout};

use crate::exit::UsageError;

const EXAMPLES: &str = "\
Examples:
  cxpipe generate --rows 1000000 --out exports/october.csv
  cxpipe generate --rows 10000000 --out big.csv.zst --seed 7
  cxpipe generate --rows 50000 --out nov.ndjson.gz --start 2026-11-01 --days 30 --agents 40
  cxpipe generate --rows 100000 --out ctr/october.ndjson.gz --layout amazon-connect
  cxpipe generate --rows 100000 --out ctr/october.json --layout amazon-connect
  cxpipe generate --rows 100000 --out five9/october.csv --layout five9
  cxpipe generate --rows 100000 --out talkdesk/october.csv.zst --layout talkdesk

--layout picks whose export to imitate; the same seed gives the same contacts in
every layout. generic (default): cxpipe's own columns, CSV (.csv) or NDJSON
(.ndjson, .jsonl). amazon-connect: contact trace records, NDJSON (.ndjson,
.jsonl) or one JSON array (.json), about 0.5% of contacts delivered twice (an
older version too, as CTR streams do). five9: the call log CSV, times in
America/New_York wall-clock time. talkdesk: the contacts report CSV, UTC times.
A name that does not fit the layout (five9 as .ndjson, amazon-connect as .csv)
is refused. Any file may be compressed with a further .gz or .zst. The planted
facts are written beside it (exports/october.facts.json). The same flags and
seed give byte-identical files.";

/// Write a realistic synthetic export and a file of the facts planted in it.
#[derive(Debug, ClapArgs)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Number of rows (interaction legs) to write, exactly.
    #[arg(long)]
    pub rows: u64,
    /// Output file: .csv, .ndjson or .jsonl (or .json for amazon-connect
    /// and genesys), optionally .gz or .zst; its folder is created if needed.
    #[arg(long)]
    pub out: PathBuf,
    /// Whose export to imitate: generic (cxpipe's own columns),
    /// amazon-connect (contact trace records), five9 (call log), talkdesk
    /// (contacts report) or genesys (conversation details). The --out name
    /// must fit it.
    #[arg(
        long,
        value_name = "LAYOUT",
        default_value = "generic",
        value_parser = PossibleValuesParser::new(Layout::ALL.map(Layout::as_str))
            .try_map(|s| s.parse::<Layout>()),
    )]
    pub layout: Layout,
    /// Quote every text field (ids, names, channel, queue, customer,
    /// disposition) as pandas and pyarrow write CSV; generic CSV only. The
    /// rows are the same; only the bytes differ.
    #[arg(long)]
    pub quote_text: bool,
    /// Seed of the generator: the same seed and flags give the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First day covered (UTC), as YYYY-MM-DD.
    #[arg(long, default_value = "2026-10-01")]
    pub start: String,
    /// Number of days covered.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Number of agents [default: about one per 60 contacts a day, at least 8].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub agents: Option<u32>,
    /// Also write the matching HR roster (agent_id, hire_date,
    /// termination_date, team) as CSV, for `cxpipe turnover --roster`.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
}

/// Generates the file and its facts, and logs what was written.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let start = parse_start(&args.start)?;
    let format = args.layout.format_for(&args.out).map_err(|e| match e {
        cxpipe_generate::Error::Config(msg) => UsageError(msg),
        other => UsageError(other.to_string()),
    })?;
    let cfg = GenConfig {
        rows: args.rows,
        seed: args.seed,
        start,
        days: args.days,
        agents: args.agents,
        format,
        layout: args.layout,
        quote_text: args.quote_text,
    };
    if args.quote_text
        && (args.layout != Layout::Generic || format != cxpipe_generate::FileFormat::Csv)
    {
        return Err(UsageError(
            "--quote-text applies to the generic layout written as CSV".to_string(),
        )
        .into());
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let began = Instant::now();
    let summary =
        cxpipe_generate::generate_with_cancel(&cfg, &args.out, &crate::interrupt::CANCEL)?;
    if let Some(roster) = &args.roster {
        cxpipe_generate::write_roster(&cfg, roster)?;
        tracing::info!(path = %roster.display(), "wrote the matching roster");
    }
    tracing::info!(
        layout = %args.layout,
        rows = summary.rows,
        records = summary.records,
        bytes = summary.bytes,
        path = %args.out.display(),
        facts = %summary.facts_path.display(),
        seconds = (began.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        "generated"
    );
    Ok(())
}

/// Parses `--start`: a calendar date written `YYYY-MM-DD` (the one date
/// parser, `cxpipe_model::civil::parse_day`), years 1900 to 9000.
fn parse_start(s: &str) -> anyhow::Result<(i32, u8, u8)> {
    use cxpipe_model::civil::{civil_from_days, parse_day};
    let bad = || UsageError(format!("--start {s:?} is not a date written YYYY-MM-DD"));
    let day = parse_day(s).ok_or_else(|| {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if shape {
            UsageError(format!(
                "--start {s:?} is not a calendar date (YYYY-MM-DD, years 1900 to 9000)"
            ))
        } else {
            bad()
        }
    })?;
    let (y, m, d) = civil_from_days(day);
    if !(1900..=9000).contains(&y) {
        return Err(UsageError(format!(
            "--start {s:?} is not a calendar date (YYYY-MM-DD, years 1900 to 9000)"
        ))
        .into());
    }
    Ok((y, m as u8, d as u8))
}

#[cfg(test)]
mod tests {
    use super::{Args, parse_start};
    use clap::{CommandFactory, FromArgMatches, Parser};
    use cxpipe_generate::Layout;

    /// `cxpipe generate` alone, to test its flags.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(flags: &[&str]) -> Result<Args, clap::Error> {
        let argv = ["generate", "--rows", "10"].iter().chain(flags);
        let m = Cli::command().try_get_matches_from(argv)?;
        Cli::from_arg_matches(&m).map(|c| c.args)
    }

    #[test]
    fn layout_flag() {
        let layout = |f: &[&str]| parse(f).map(|a| a.layout).ok();
        assert_eq!(layout(&["--out", "x.csv"]), Some(Layout::Generic));
        for l in Layout::ALL {
            assert_eq!(layout(&["--out", "x.csv", "--layout", l.as_str()]), Some(l));
        }
        let err = parse(&["--out", "x.csv", "--layout", "avaya"]).expect_err("unknown");
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(err.to_string().contains("amazon-connect"), "{err}");
    }

    #[test]
    fn layouts_refuse_names_of_another_encoding() {
        for (layout, out) in [
            ("five9", "x.ndjson"),
            ("talkdesk", "x.json.gz"),
            ("amazon-connect", "x.csv"),
        ] {
            let args = parse(&["--out", out, "--layout", layout]).expect("flags parse");
            let err = super::run(&args).expect_err("refused");
            assert!(
                err.chain().any(|c| c.is::<crate::exit::UsageError>()),
                "{err:#}"
            );
            assert!(err.to_string().contains(out), "{err:#}");
        }
    }

    #[test]
    fn start_dates() {
        assert_eq!(parse_start("2026-10-01").ok(), Some((2026, 10, 1)));
        assert_eq!(parse_start("2028-02-29").ok(), Some((2028, 2, 29)));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-1-01",
            "01-10-2026",
            "2026/10/01",
            "",
            "2026-10-0x",
        ] {
            let err = parse_start(bad).expect_err(bad);
            assert!(err.to_string().contains("--start"), "{err}");
            assert!(err.is::<crate::exit::UsageError>(), "{err}");
        }
    }
}
