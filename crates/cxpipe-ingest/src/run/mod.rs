//! One ingest run, as a list of phases: open the dataset and plan the
//! files ([`plan`]), stream them through the workers ([`stream`]), settle
//! duplicates and rewrite the files that hold losers ([`settle`]), then
//! count, report and commit ([`finish`]).
//!
//! Threads. The streaming phase is an ordered pipeline: one reader thread
//! splits inputs into chunks of whole records and sends them over a
//! bounded crossbeam channel (back-pressure: the reader is never more than
//! two chunks per worker ahead); one worker per thread converts chunks
//! and writes Parquet into the staging area; the sequencer (run by
//! whichever worker finishes a chunk) applies results in input order.
//! That pipeline stays on plain threads and channels because order and
//! back-pressure matter. The end-of-run work is data-parallel over
//! independent items (groups of dedupe buckets, files to rewrite) and runs
//! as rayon `par_iter`s on a pool built once per run. Both use the one
//! thread count of `IngestOptions::threads`.

mod context;
mod duplicates;
mod finish;
mod keys;
mod plan;
mod sequencer;
mod settle;
mod work;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{bounded, unbounded};
use cxpipe_model::layout;

use crate::dedupe::Buckets;
use crate::error::Error;
use crate::options::IngestOptions;
use crate::read::input::{Input, InputFile};
use crate::read::{Msg, Reader};
use crate::report::{FileStatus, RunReport};
use crate::reporter::Reporter;
use crate::write::part::{Parts, Staged};
use context::Run;
use cxpipe_dataset::Commit;
use plan::Plan;
use sequencer::{FileState, Sequencer};
use work::{Shared, worker};

/// Ingests `inputs` into the dataset of `opts`. Whole-file problems are
/// reported per file and do not stop the others; the returned error means
/// the run as a whole could not be done and the dataset is unchanged.
pub fn ingest(
    inputs: &[Input],
    opts: &IngestOptions,
    reporter: &dyn Reporter,
    cancel: &AtomicBool,
) -> Result<RunReport, Error> {
    let run = Run::start(opts, reporter)?;
    let (files, plans) = plan::plan(inputs, &run.ledger, opts.force, reporter);
    let mut streamed = stream(&run, opts, &files, &plans, reporter, cancel)?;
    plan::settle_outcomes(
        &mut streamed.files,
        &files,
        &plans,
        &run.ledger,
        opts.force,
        reporter,
    );
    let ingested: Vec<bool> = streamed
        .files
        .iter()
        .map(|f| f.report.status == FileStatus::Ingested)
        .collect();
    let versions_out = run.staging.join(layout::VERSIONS).join(&run.ingest_id);
    let losers = run.pool.install(|| {
        settle::losers(
            &run.ds,
            streamed.buckets,
            &ingested,
            &mut streamed.files,
            run.threads,
            &versions_out,
            streamed.chunk_dups.take(),
        )
    })?;
    let mut commit = Commit::default();
    commit.keep_snapshots_s(opts.keep_snapshots_s);
    finish::add_version_files(&run, &losers.version_files, &mut commit);
    let rows_replaced = losers.rows_replaced;
    let (partitions, duplicates) = run.pool.install(|| {
        settle::place(
            &run,
            &streamed.parts,
            streamed.staged,
            losers,
            &ingested,
            &mut commit,
        )
    })?;
    let mut tally = finish::tally(&run, &mut streamed.files, rows_replaced, &mut commit);
    if let Some(rel) = duplicates {
        tally.quarantine_dir = Some(format!("{}/{}", layout::QUARANTINE, run.ingest_id));
        tally.duplicates_file = Some(rel);
    }
    let (report, ledger) = finish::run_report(&run, opts, &streamed.files, tally, partitions);
    finish::commit(&run, report, &ledger, commit, reporter, cancel)
}

/// What the streaming phase leaves.
struct Streamed<'r> {
    /// Every input file's state.
    files: Vec<FileState>,
    /// The dedupe entries of the rows written.
    buckets: Buckets,
    /// The part files written.
    staged: Vec<Staged>,
    /// Numbers further part files (rewrites) after the workers' ones.
    parts: Parts<'r>,
    /// The staging file of duplicates dropped within chunks, if any.
    chunk_dups: Option<PathBuf>,
}

/// Reads every planned file through the workers into staged part files.
fn stream<'r>(
    run: &'r Run,
    opts: &IngestOptions,
    files: &[InputFile],
    plans: &[Plan],
    reporter: &dyn Reporter,
    cancel: &AtomicBool,
) -> Result<Streamed<'r>, Error> {
    let sequencer = Mutex::new(Sequencer::new(files, &run.staging, &run.ingest_id));
    let parts = Parts::new(&run.staging, &run.ingest_id);
    let shared = Shared {
        parts: &parts,
        zone: &opts.zone,
        limits: opts.limits,
        workers: run.threads,
        max_open_parts: opts.max_open_parts,
        pii: &run.pii,
        failed: AtomicBool::new(false),
    };
    let (tx, rx) = bounded::<Msg>(run.threads * 2);
    let (recycle_tx, recycle_rx) = unbounded::<Vec<u8>>();
    let mut staged: Vec<Staged> = Vec::new();
    let mut worker_error = None;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..run.threads)
            .filter_map(|i| {
                let rx = rx.clone();
                let recycle = recycle_tx.clone();
                let (seq, shared) = (&sequencer, &shared);
                std::thread::Builder::new()
                    .name(format!("cxpipe-worker-{i}"))
                    .spawn_scoped(s, move || worker(rx, recycle, seq, shared, reporter))
                    .map_err(|e| {
                        worker_error.get_or_insert(Error::io("starting a worker thread", e))
                    })
                    .ok()
            })
            .collect();
        drop(rx);
        drop(recycle_tx);
        let mut reader = Reader::new(
            tx,
            recycle_rx,
            opts.chunk_bytes,
            opts.source.clone(),
            reporter,
            cancel,
            &shared.failed,
        );
        for (idx, (file, plan)) in files.iter().zip(plans).enumerate() {
            if matches!(plan, Plan::Skip(_)) {
                continue;
            }
            if !reader.read_file(idx as u32, file) {
                break;
            }
        }
        drop(reader);
        for h in handles {
            match h.join() {
                Ok(Ok(mut files)) => staged.append(&mut files),
                Ok(Err(e)) => {
                    worker_error.get_or_insert(e);
                }
                Err(_) => {
                    worker_error.get_or_insert(Error::Invalid("a worker thread panicked".into()));
                }
            }
        }
    });
    let mut seq = sequencer
        .into_inner()
        .map_err(|_| Error::Invalid("a worker thread panicked".into()))?;
    if cancel.load(Ordering::Relaxed) {
        drop(seq);
        return run.abandon(Error::Interrupted);
    }
    if let Some(e) = worker_error.or(seq.error.take()) {
        drop(seq);
        return run.abandon(e);
    }
    let chunk_dups = seq.chunk_dups.finish()?;
    Ok(Streamed {
        files: seq.files,
        buckets: seq.buckets,
        staged,
        parts,
        chunk_dups,
    })
}
