//! What every phase of a run shares: the open dataset, the ledger and key
//! as the run found them, its id and staging folder, and its one thread
//! count with the rayon pool of that size.

use std::fs;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cxpipe_dataset::{Dataset, Ledger};
use cxpipe_model::civil::civil_from_days;
use cxpipe_model::layout;

use crate::error::Error;
use crate::options::IngestOptions;
use crate::pii::Pseudonymizer;
use crate::reporter::Reporter;

/// What every phase of a run shares.
pub(crate) struct Run {
    /// The dataset, locked for writing.
    pub(crate) ds: Dataset,
    /// The ledger when the run began.
    pub(crate) ledger: Ledger,
    /// Customer pseudonyms.
    pub(crate) pii: Pseudonymizer,
    /// The run's id.
    pub(crate) ingest_id: String,
    /// This run's staging folder.
    pub(crate) staging: PathBuf,
    /// Worker threads, and the size of `pool`.
    pub(crate) threads: usize,
    /// The pool of the end-of-run `par_iter`s.
    pub(crate) pool: rayon::ThreadPool,
    /// When the run began (for its wall time).
    pub(crate) t0: Instant,
    /// When the run began (for its id and report).
    pub(crate) now: SystemTime,
}

impl Run {
    /// Opens (or creates) the dataset, loads the ledger and the PII key,
    /// and makes the run's staging folder.
    pub(crate) fn start(opts: &IngestOptions, reporter: &dyn Reporter) -> Result<Run, Error> {
        let t0 = Instant::now();
        let now = SystemTime::now();
        let ds = Dataset::open(&opts.dataset)?;
        if let Some(note) = &ds.recovered {
            reporter.note(note);
        }
        let ledger = ds.ledger()?;
        let pii = Pseudonymizer::load(
            opts.pii_key.as_deref(),
            opts.pii_key_file.as_deref(),
            ds.root(),
        )?;
        if let Some(w) = pii.warning() {
            reporter.warning(&w);
        }
        let ingest_id = new_ingest_id(now);
        let staging = ds.staging_dir(&ingest_id);
        fs::create_dir_all(&staging)
            .map_err(|e| Error::io(format!("creating {}", staging.display()), e))?;
        let threads = thread_count(opts.threads);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("cxpipe-rayon-{i}"))
            .build()
            .map_err(|e| Error::Invalid(format!("starting the thread pool: {e}")))?;
        Ok(Run {
            ds,
            ledger,
            pii,
            ingest_id,
            staging,
            threads,
            pool,
            t0,
            now,
        })
    }

    /// A path of this run's staging folder, relative to the dataset root.
    pub(crate) fn staging_rel(&self, rel: &str) -> String {
        format!("{}/{}/{rel}", layout::STAGING, self.ingest_id)
    }

    /// Drops the staged work and returns `e`.
    pub(crate) fn abandon<T>(&self, e: Error) -> Result<T, Error> {
        self.ds.discard(&self.ingest_id)?;
        Err(e)
    }
}

/// The run's one thread count: `--threads`, or one per core (0), at most
/// [`crate::MAX_THREADS`] (each worker holds chunks and open writers, so a
/// huge count would only exhaust memory and file descriptors).
fn thread_count(threads: usize) -> usize {
    let n = if threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        threads
    };
    n.min(crate::MAX_THREADS)
}

/// A sortable, unique run id: `YYYYMMDDTHHMMSSZ-xxxxxx`.
fn new_ingest_id(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let tag = blake3::hash(format!("{}-{}", d.as_nanos(), std::process::id()).as_bytes());
    format!(
        "{y:04}{m:02}{day:02}T{:02}{:02}{:02}Z-{}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        &tag.to_hex()[..6]
    )
}

/// An instant as RFC 3339 UTC, to the second.
pub(crate) fn rfc3339(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
