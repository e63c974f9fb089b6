//! Dedupe by `interaction_id` with memory bounded whatever the input size.
//!
//! Every stored row contributes an [`Entry`]: the xxh3-128 fingerprint of
//! its id, its order (later wins) and where it is stored. Entries go to one
//! of 256 buckets by the fingerprint's top byte; a bucket keeps at most
//! [`SPILL_AT`] entries in memory and appends the rest to its own file in the
//! staging folder. At the end each bucket (1/256 of all entries) is loaded,
//! sorted by (fingerprint, order) and scanned for repeated fingerprints, on
//! all cores, one bucket per thread at a time.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// A row's place in the dedupe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// xxh3-128 of the interaction id.
    pub fp: u128,
    /// Order: the larger wins (see the pipeline for its encoding).
    pub ord: u64,
    /// Where the row is stored (see the pipeline for its encoding).
    pub loc: u64,
}

const ENTRY_BYTES: usize = 32;
const BUCKETS: usize = 256;
/// Entries a bucket holds in memory before it appends them to its file
/// (256 buckets × 4096 × 32 bytes = 32 MiB at most).
pub const SPILL_AT: usize = 4096;

/// The 256 buckets of a run.
pub struct Buckets {
    dir: PathBuf,
    mem: Vec<Vec<Entry>>,
    files: Vec<Option<BufWriter<File>>>,
    len: u64,
}

impl Buckets {
    /// Buckets that spill into `dir` (created on the first spill).
    pub fn new(dir: &Path) -> Buckets {
        Buckets {
            dir: dir.to_path_buf(),
            mem: (0..BUCKETS).map(|_| Vec::new()).collect(),
            files: (0..BUCKETS).map(|_| None).collect(),
            len: 0,
        }
    }

    /// Whether no entry was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an entry.
    pub fn push(&mut self, e: Entry) -> io::Result<()> {
        let b = (e.fp >> 120) as usize;
        self.mem[b].push(e);
        self.len += 1;
        if self.mem[b].len() >= SPILL_AT {
            self.spill(b)?;
        }
        Ok(())
    }

    fn spill(&mut self, b: usize) -> io::Result<()> {
        if self.files[b].is_none() {
            fs::create_dir_all(&self.dir)?;
            let f = File::create(self.dir.join(format!("bucket-{b:03}.bin")))?;
            self.files[b] = Some(BufWriter::with_capacity(1 << 16, f));
        }
        if let Some(w) = self.files[b].as_mut() {
            for e in self.mem[b].drain(..) {
                let mut buf = [0u8; ENTRY_BYTES];
                buf[..16].copy_from_slice(&e.fp.to_le_bytes());
                buf[16..24].copy_from_slice(&e.ord.to_le_bytes());
                buf[24..].copy_from_slice(&e.loc.to_le_bytes());
                w.write_all(&buf)?;
            }
        }
        Ok(())
    }

    /// Every entry that is not the last (by order) of its fingerprint, among
    /// the entries `keep` accepts. The spill files are removed.
    pub fn losers(
        mut self,
        keep: &(dyn Fn(&Entry) -> bool + Sync),
        threads: usize,
    ) -> io::Result<Vec<Entry>> {
        let mut spilled: Vec<Option<PathBuf>> = vec![None; BUCKETS];
        for (b, w) in self.files.iter_mut().enumerate() {
            if let Some(mut w) = w.take() {
                w.flush()?;
                spilled[b] = Some(self.dir.join(format!("bucket-{b:03}.bin")));
            }
        }
        let mut work: Vec<(Vec<Entry>, Option<PathBuf>)> =
            self.mem.drain(..).zip(spilled).collect();
        let threads = threads.clamp(1, 8);
        let per = work.len().div_ceil(threads);
        let mut groups = Vec::new();
        while !work.is_empty() {
            let rest = work.split_off(per.min(work.len()));
            groups.push(std::mem::replace(&mut work, rest));
        }
        let results: Vec<io::Result<Vec<Entry>>> = std::thread::scope(|s| {
            let handles: Vec<_> = groups
                .into_iter()
                .map(|group| {
                    s.spawn(move || {
                        let mut losers = Vec::new();
                        for (mut entries, file) in group {
                            if let Some(path) = file {
                                read_entries(&path, &mut entries)?;
                                let _ = fs::remove_file(&path);
                            }
                            entries.retain(|e| keep(e));
                            entries.sort_unstable_by_key(|e| (e.fp, e.ord));
                            losers.extend(
                                entries
                                    .windows(2)
                                    .filter(|w| w[0].fp == w[1].fp)
                                    .map(|w| w[0]),
                            );
                        }
                        Ok(losers)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(io::Error::other("a dedupe thread panicked")))
                })
                .collect()
        });
        let _ = fs::remove_dir(&self.dir);
        let mut all = Vec::new();
        for r in results {
            all.extend(r?);
        }
        Ok(all)
    }
}

fn read_entries(path: &Path, out: &mut Vec<Entry>) -> io::Result<()> {
    let f = File::open(path)?;
    out.reserve((f.metadata()?.len() as usize) / ENTRY_BYTES);
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut buf = [0u8; ENTRY_BYTES];
    loop {
        match r.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let fp = u128::from_le_bytes(buf[..16].try_into().unwrap_or_default());
        let ord = u64::from_le_bytes(buf[16..24].try_into().unwrap_or_default());
        let loc = u64::from_le_bytes(buf[24..].try_into().unwrap_or_default());
        out.push(Entry { fp, ord, loc });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spilled and in-memory entries give the same losers as a naive
    /// all-pairs reference.
    #[test]
    fn losers_match_a_naive_reference_across_spills() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut b = Buckets::new(&dir.path().join("dedupe"));
        let mut all = Vec::new();
        // 40k entries over 10k ids: every bucket spills several times.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..40_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = x % 10_000;
            let e = Entry {
                fp: xxhash_rust::xxh3::xxh3_128(&id.to_le_bytes()),
                ord: i + 1,
                loc: i,
            };
            all.push(e);
            b.push(e).expect("push");
        }
        let keep = |e: &Entry| !e.loc.is_multiple_of(97);
        let mut got = b.losers(&keep, 2).expect("losers");
        got.sort_by_key(|e| e.loc);
        let mut want: Vec<Entry> = all
            .iter()
            .filter(|e| keep(e))
            .filter(|e| all.iter().any(|o| keep(o) && o.fp == e.fp && o.ord > e.ord))
            .copied()
            .collect();
        want.sort_by_key(|e| e.loc);
        assert_eq!(got, want);
        assert!(
            !dir.path().join("dedupe").exists(),
            "spill files are removed"
        );
    }
}
