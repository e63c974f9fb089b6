//! Compressed inputs, compressed in-process (flate2 and zstd writers), so
//! these run on every machine: gzip, zstd, multi-member gzip, gzip under a
//! plain name (found by its magic bytes), and a gzip stream that breaks
//! after its first chunk. Each compressed file must give exactly the rows
//! of its plain original.

use std::fs;
use std::path::{Path, PathBuf};

use cxpipe_ingest::input::Compression;
use cxpipe_ingest::{FileStatus, RunReport};

use crate::{Stored, gzip, opts, read_rows, run, zstd};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data-samples")
        .join(rel)
}

/// The rows of `files`, ingested into a fresh dataset, without their
/// `source_file` (which names the compressed file).
fn rows_of(files: &[PathBuf], tmp: &Path, name: &str) -> (RunReport, Vec<Stored>) {
    let ds = tmp.join(name);
    let report = run(files, &opts(&ds, 4096));
    let mut rows = read_rows(&ds);
    for r in &mut rows {
        r.source_file.clear();
    }
    rows.sort();
    (report, rows)
}

#[test]
fn gzip_zstd_and_multi_member_gzip_give_the_plain_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let calls_path = sample("generic/calls-2026-10-01.csv");
    let chats_path = sample("generic/chats.ndjson");
    let calls = fs::read(&calls_path).expect("calls");
    let chats = fs::read(&chats_path).expect("chats");
    let (_, plain) = rows_of(&[calls_path, chats_path], tmp.path(), "plain");
    assert!(!plain.is_empty());

    let gz = tmp.path().join("calls-2026-10-01.csv.gz");
    fs::write(&gz, gzip(&calls)).expect("write");
    let zst = tmp.path().join("chats.ndjson.zst");
    fs::write(&zst, zstd(&chats)).expect("write");
    let (report, rows) = rows_of(&[gz.clone(), zst], tmp.path(), "compressed");
    assert_eq!(rows, plain);
    let f = &report.files;
    assert_eq!(f[0].compression, Some(Compression::Gzip));
    assert_eq!(f[1].compression, Some(Compression::Zstd));
    assert_eq!(
        f[0].bytes,
        fs::metadata(&gz).expect("meta").len(),
        "bytes as stored, not as decompressed"
    );

    // Two gzip members split in the middle of a record, and gzip content
    // under a plain name.
    let cut = calls.len() / 2;
    let mut multi = gzip(&calls[..cut]);
    multi.extend(gzip(&calls[cut..]));
    let multi_path = tmp.path().join("multi").join("calls-2026-10-01.csv.gz");
    fs::create_dir_all(multi_path.parent().expect("parent")).expect("mkdir");
    fs::write(&multi_path, multi).expect("write");
    let disguised = tmp.path().join("multi").join("chats.ndjson");
    fs::write(&disguised, gzip(&chats)).expect("write");
    let (report, rows) = rows_of(&[multi_path, disguised], tmp.path(), "multi");
    assert_eq!(rows, plain);
    assert_eq!(report.files[1].compression, Some(Compression::Gzip));
    assert!(
        report
            .files
            .iter()
            .all(|f| f.status == FileStatus::Ingested)
    );
}

/// A gzip stream that breaks after a first chunk of rows (with thousands
/// of rejects) was processed: the file fails, and its staged rows and
/// quarantine are dropped with it; the other file is kept.
#[test]
fn a_broken_gzip_with_rejects_leaves_nothing_of_it() {
    let bad = fs::read_to_string(sample("invalid/bad_enum.csv")).expect("sample");
    let mut lines = bad.lines();
    let mut text = format!("{}\n", lines.next().expect("header"));
    let body: Vec<&str> = lines.collect();
    for k in 0..10_000 {
        for l in &body {
            text.push_str(&l.replacen("be-", &format!("be{k}-"), 1));
            text.push('\n');
        }
    }
    let gz = gzip(text.as_bytes());
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("broken.csv.gz");
    fs::write(&path, &gz[..gz.len() * 3 / 4]).expect("write");
    let ds = tmp.path().join("ds");
    let mut o = opts(&ds, 1 << 20);
    o.max_reject_rate = 1.0;
    let report = run(&[path, sample("generic/chats.ndjson")], &o);
    let f = &report.files[0];
    assert_eq!(f.status, FileStatus::Failed, "{f:#?}");
    assert!(
        f.message
            .as_deref()
            .is_some_and(|m| m.contains("read failed")),
        "{f:#?}"
    );
    assert_eq!(report.files[1].status, FileStatus::Ingested);
    let rows = read_rows(&ds);
    assert_eq!(rows.len() as u64, report.files[1].rows_written);
    assert!(rows.iter().all(|r| r.source_file == "chats.ndjson"));
    assert!(report.quarantine_dir.is_none(), "{report:#?}");
    let quarantined = fs::read_dir(ds.join("quarantine"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(quarantined, 0, "no quarantine file of the failed input");
}

/// Page compression of the dataset's own files (SPEC §6): zstd on every
/// column, line numbers and arrivals delta-encoded, the durations and the
/// low-cardinality text in dictionaries, ids and pseudonyms plain. Read
/// back from a real ingest's footers, so a change of writer settings that
/// loses one of them fails here (BENCHMARKS.md measures what each saves).
#[test]
fn dataset_files_use_the_measured_encodings() {
    use parquet::basic::{Compression as Codec, Encoding};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let tmp = tempfile::tempdir().expect("tmp");
    let ds = tmp.path().join("ds");
    let report = run(
        &[sample("generic/calls-2026-10-01.csv")],
        &opts(&ds, 1 << 20),
    );
    assert_eq!(report.files[0].status, FileStatus::Ingested);
    let files = crate::parquet_files(&ds);
    assert!(!files.is_empty());
    for f in files {
        let reader = SerializedFileReader::new(fs::File::open(&f).expect("open")).expect("footer");
        let meta = reader.metadata();
        let rg = meta.row_group(0);
        for c in rg.columns() {
            let name = c.column_path().string();
            let enc = c.encodings().collect::<Vec<_>>();
            assert!(
                matches!(c.compression(), Codec::ZSTD(_)),
                "{name}: {:?}",
                c.compression()
            );
            let has = |e: Encoding| enc.contains(&e);
            match name.as_str() {
                "source_line" | "arrived_at" => {
                    assert!(has(Encoding::DELTA_BINARY_PACKED), "{name}: {enc:?}")
                }
                "talk_ms" | "hold_ms" | "acw_ms" | "handle_ms" | "wait_ms" | "queue"
                | "channel" => {
                    assert!(has(Encoding::RLE_DICTIONARY), "{name}: {enc:?}")
                }
                "interaction_id" | "customer_key" | "ended_at" => assert!(
                    !has(Encoding::RLE_DICTIONARY) && !has(Encoding::DELTA_BINARY_PACKED),
                    "{name}: {enc:?}"
                ),
                _ => {}
            }
        }
    }
}
