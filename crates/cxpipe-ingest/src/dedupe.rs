//! Dedupe by `interaction_id` with memory bounded whatever the input size.
//!
//! Every stored row contributes an [`Entry`]: the xxh3-128 fingerprint of
//! its id, its version (the source's `LastUpdateTimestamp`, or none), its
//! order and where it is stored. Of the entries of one id the greatest
//! (version, order) wins: the newest version, and among equal or absent
//! versions the later line, file or run. Entries go to one
//! of 256 buckets by the fingerprint's top byte; a bucket keeps at most
//! [`SPILL_AT`] entries in memory and appends the rest to its own file in the
//! staging folder. At the end each bucket (1/256 of all entries) is loaded,
//! sorted by (fingerprint, order) and scanned for repeated fingerprints;
//! groups of buckets are settled in parallel with rayon (a `par_iter` over
//! independent groups, on the run's pool).
//!
//! Duplicates cost disk, not memory: before a bucket spills, entries of one
//! fingerprint and one source (the input file, [`source_of`]) are settled
//! at once — all but the greatest lose whatever comes later, since a source
//! is kept or dropped as a whole — and those losers are appended to their
//! bucket's file of early losers (with their fingerprint). A file of one
//! row repeated millions of times keeps one entry per spill in memory, and
//! the losers reach the caller one by one. Every loser reaches the caller
//! with the row that was kept for its id (`duplicates.csv`): an early loser
//! finds it when its bucket is settled, by its fingerprint in the sorted
//! entries, whatever spill it lost in.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// A row's place in the dedupe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// xxh3-128 of the interaction id.
    pub fp: u128,
    /// The record's version (µs), or `i64::MIN` when its source has none.
    pub ver: i64,
    /// Order: the larger wins (see the pipeline for its encoding).
    pub ord: u64,
    /// Where the row is stored (see the pipeline for its encoding).
    pub loc: u64,
}

/// A losing row: its order and where it is stored, and those of the row
/// kept for its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loser {
    /// Its entry's order.
    pub ord: u64,
    /// Its entry's location.
    pub loc: u64,
    /// The kept row's order (0: a row already stored).
    pub kept_ord: u64,
    /// The kept row's location.
    pub kept_loc: u64,
}

/// The bits of `ord` below the source: `ord >> SOURCE_SHIFT` names the
/// entry's source (an input file, or 0 for rows already stored).
pub const SOURCE_SHIFT: u32 = 40;

/// The source of an order: entries of one source are kept or dropped
/// together (the `keep` of [`Buckets::losers`] decides by it).
pub fn source_of(ord: u64) -> u64 {
    ord >> SOURCE_SHIFT
}

/// `loc` of a *hint*: not a row, but the version of the row the dataset
/// stores for this id (from the dataset's versions files). A hint raises
/// the version of the id's stored entries (order 0) and never loses.
pub const HINT: u64 = u64::MAX;

const ENTRY_BYTES: usize = 40;
const LOSER_BYTES: usize = 32;
/// An early loser: fingerprint, order, location.
const EARLY_BYTES: usize = 32;
/// A versions file record: fingerprint and version.
pub const VERSION_BYTES: usize = 24;
const BUCKETS: usize = 256;
/// Entries a bucket holds in memory before it appends them to its file
/// (256 buckets × 4096 × 40 bytes = 40 MiB at most).
pub const SPILL_AT: usize = 4096;

/// The 256 buckets of a run.
pub struct Buckets {
    dir: PathBuf,
    mem: Vec<Vec<Entry>>,
    files: Vec<Option<BufWriter<File>>>,
    /// Each bucket's losers settled before a spill (see the module docs).
    early: Vec<Option<BufWriter<File>>>,
    len: u64,
}

impl Buckets {
    /// Buckets that spill into `dir` (created on the first spill).
    pub fn new(dir: &Path) -> Buckets {
        Buckets {
            dir: dir.to_path_buf(),
            mem: (0..BUCKETS).map(|_| Vec::new()).collect(),
            files: (0..BUCKETS).map(|_| None).collect(),
            early: (0..BUCKETS).map(|_| None).collect(),
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
        self.settle_early(b)?;
        if self.files[b].is_none() {
            fs::create_dir_all(&self.dir)?;
            let f = File::create(self.dir.join(format!("bucket-{b:03}.bin")))?;
            self.files[b] = Some(BufWriter::with_capacity(1 << 16, f));
        }
        if let Some(w) = self.files[b].as_mut() {
            for e in self.mem[b].drain(..) {
                let mut buf = [0u8; ENTRY_BYTES];
                buf[..16].copy_from_slice(&e.fp.to_le_bytes());
                buf[16..24].copy_from_slice(&e.ver.to_le_bytes());
                buf[24..32].copy_from_slice(&e.ord.to_le_bytes());
                buf[32..].copy_from_slice(&e.loc.to_le_bytes());
                w.write_all(&buf)?;
            }
        }
        Ok(())
    }

    /// Settles bucket `b`'s entries in memory that share a fingerprint and
    /// a source (of this run): all but the greatest (version, order) go to
    /// the bucket's early losers' file. Stored rows (source 0) and hints
    /// stay, as their rank depends on hints not seen yet.
    fn settle_early(&mut self, b: usize) -> io::Result<()> {
        let mem = &mut self.mem[b];
        mem.sort_unstable_by_key(|e| (e.fp, source_of(e.ord), e.ver, e.ord));
        let mut kept = 0;
        for i in 0..mem.len() {
            let e = mem[i];
            let dominated = source_of(e.ord) != 0
                && e.loc != HINT
                && mem.get(i + 1).is_some_and(|n| {
                    n.fp == e.fp && source_of(n.ord) == source_of(e.ord) && n.loc != HINT
                });
            if dominated {
                if self.early[b].is_none() {
                    fs::create_dir_all(&self.dir)?;
                    let f = File::create(early_path(&self.dir, b))?;
                    self.early[b] = Some(BufWriter::with_capacity(1 << 13, f));
                }
                if let Some(w) = self.early[b].as_mut() {
                    let mut buf = [0u8; EARLY_BYTES];
                    buf[..16].copy_from_slice(&e.fp.to_le_bytes());
                    buf[16..24].copy_from_slice(&e.ord.to_le_bytes());
                    buf[24..].copy_from_slice(&e.loc.to_le_bytes());
                    w.write_all(&buf)?;
                }
            } else {
                mem[kept] = e;
                kept += 1;
            }
        }
        mem.truncate(kept);
        Ok(())
    }

    /// Every row entry that is not the greatest (version, order) of its
    /// fingerprint, among the entries `keep` accepts. The version of the
    /// winners of this run (order > 0) that have one is written to
    /// `versions_out` (one file per group of buckets, `<prefix>-<n>.bin`,
    /// records of [`VERSION_BYTES`]), so a later run knows the stored row's
    /// version. The buckets are settled in `groups` groups (at most 8) in
    /// parallel on the current rayon pool; the group count, not the pool,
    /// decides the versions files. `keep` decides by source
    /// ([`source_of`] the order). Each loser goes to `on_loser`; returns the
    /// versions files. The spill files are removed.
    pub fn losers(
        mut self,
        keep: &(dyn Fn(u64) -> bool + Sync),
        groups: usize,
        versions_out: &Path,
        on_loser: &mut dyn FnMut(Loser),
    ) -> io::Result<Vec<PathBuf>> {
        let mut spilled: Vec<Option<PathBuf>> = vec![None; BUCKETS];
        for (b, w) in self.files.iter_mut().enumerate() {
            if let Some(mut w) = w.take() {
                w.flush()?;
                spilled[b] = Some(self.dir.join(format!("bucket-{b:03}.bin")));
            }
        }
        let mut early: Vec<Option<PathBuf>> = vec![None; BUCKETS];
        for (b, w) in self.early.iter_mut().enumerate() {
            if let Some(mut w) = w.take() {
                w.flush()?;
                early[b] = Some(early_path(&self.dir, b));
            }
        }
        let work: Vec<Bucket> = self
            .mem
            .drain(..)
            .zip(spilled)
            .zip(early)
            .map(|((entries, spill), early)| Bucket {
                entries,
                spill,
                early,
            })
            .collect();
        let per = work.len().div_ceil(groups.clamp(1, 8));
        let prefix = versions_out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut work = work.into_iter();
        let groups: Vec<(PathBuf, Vec<Bucket>)> = (0..)
            .map_while(|t| {
                let group: Vec<Bucket> = work.by_ref().take(per).collect();
                let out = versions_out.with_file_name(format!("{prefix}-{t}.bin"));
                (!group.is_empty()).then_some((out, group))
            })
            .collect();
        let dir = &self.dir;
        let results: Vec<io::Result<Settled>> = groups
            .into_par_iter()
            .enumerate()
            .map(|(g, (out, group))| {
                settle_group(group, keep, &out, &dir.join(format!("losers-{g}.bin")))
            })
            .collect();
        let mut files = Vec::new();
        let mut loser_files: Vec<PathBuf> = Vec::new();
        for r in results {
            let settled = r?;
            loser_files.extend(settled.losers);
            files.extend(settled.versions);
        }
        for path in &loser_files {
            for_each_record(path, |buf: &[u8; LOSER_BYTES]| {
                let l = Loser {
                    ord: u64::from_le_bytes(field(buf, 0)),
                    loc: u64::from_le_bytes(field(buf, 8)),
                    kept_ord: u64::from_le_bytes(field(buf, 16)),
                    kept_loc: u64::from_le_bytes(field(buf, 24)),
                };
                if keep(l.ord) {
                    on_loser(l);
                }
                Ok(())
            })?;
            let _ = fs::remove_file(path);
        }
        let _ = fs::remove_dir(&self.dir);
        Ok(files)
    }
}

fn early_path(dir: &Path, b: usize) -> PathBuf {
    dir.join(format!("early-{b:03}.bin"))
}

fn write_loser(w: &mut impl Write, l: &Loser) -> io::Result<()> {
    let mut buf = [0u8; LOSER_BYTES];
    buf[..8].copy_from_slice(&l.ord.to_le_bytes());
    buf[8..16].copy_from_slice(&l.loc.to_le_bytes());
    buf[16..24].copy_from_slice(&l.kept_ord.to_le_bytes());
    buf[24..].copy_from_slice(&l.kept_loc.to_le_bytes());
    w.write_all(&buf)
}

/// One bucket's entries: those in memory, its spill file and its file of
/// early losers, if any.
struct Bucket {
    entries: Vec<Entry>,
    spill: Option<PathBuf>,
    early: Option<PathBuf>,
}

/// What settling a group of buckets gave.
struct Settled {
    /// The file of its losers, if any.
    losers: Option<PathBuf>,
    /// The versions file written, if any winner had a version.
    versions: Option<PathBuf>,
}

/// Settles a group of buckets: loads each, sorts it by fingerprint and
/// settles each run of equal fingerprints. Winners' versions go to
/// `out_path`, created on the first one.
fn settle_group(
    group: Vec<Bucket>,
    keep: &(dyn Fn(u64) -> bool + Sync),
    out_path: &Path,
    losers_path: &Path,
) -> io::Result<Settled> {
    let mut losers = Vec::new();
    let mut loser_file: Option<BufWriter<File>> = None;
    let mut versions: Option<BufWriter<File>> = None;
    for Bucket {
        mut entries,
        spill,
        early,
    } in group
    {
        if let Some(path) = spill {
            read_entries(&path, &mut entries)?;
            let _ = fs::remove_file(&path);
        }
        entries.retain(|e| e.loc == HINT || keep(e.ord));
        entries.sort_unstable_by_key(|e| e.fp);
        // The winner of each fingerprint's run (an early loser's kept row).
        let mut winners: Vec<(u128, Entry)> = Vec::new();
        for run in entries.chunk_by(|a, b| a.fp == b.fp) {
            let winner = settle(run, &mut losers);
            if losers.len() >= SPILL_AT {
                spill_losers(&mut losers, &mut loser_file, losers_path)?;
            }
            if early.is_some()
                && let Some(w) = winner
            {
                winners.push((w.fp, w));
            }
            let Some(w) = winner.filter(|w| w.ord != 0 && w.ver != i64::MIN) else {
                continue;
            };
            if versions.is_none() {
                if let Some(dir) = out_path.parent() {
                    fs::create_dir_all(dir)?;
                }
                versions = Some(BufWriter::new(File::create(out_path)?));
            }
            if let Some(out) = versions.as_mut() {
                out.write_all(&w.fp.to_le_bytes())?;
                out.write_all(&w.ver.to_le_bytes())?;
            }
        }
        if let Some(path) = early {
            // Each early loser lost to an entry of its own source that is
            // still here (or lost later itself): the winner of its
            // fingerprint's run is the row kept for it.
            for_each_record(&path, |buf: &[u8; EARLY_BYTES]| {
                let fp = u128::from_le_bytes(field(buf, 0));
                let ord = u64::from_le_bytes(field(buf, 16));
                if !keep(ord) {
                    return Ok(());
                }
                let at = winners.binary_search_by_key(&fp, |w| w.0).map_err(|_| {
                    io::Error::other("an early duplicate lost to a row that is gone")
                })?;
                let kept = winners[at].1;
                losers.push(Loser {
                    ord,
                    loc: u64::from_le_bytes(field(buf, 24)),
                    kept_ord: kept.ord,
                    kept_loc: kept.loc,
                });
                if losers.len() >= SPILL_AT {
                    spill_losers(&mut losers, &mut loser_file, losers_path)?;
                }
                Ok(())
            })?;
            let _ = fs::remove_file(&path);
        }
    }
    let versions = match versions {
        Some(mut out) => {
            out.flush()?;
            out.get_ref().sync_all()?;
            Some(out_path.to_path_buf())
        }
        None => None,
    };
    spill_losers(&mut losers, &mut loser_file, losers_path)?;
    let losers = match loser_file {
        Some(mut w) => {
            w.flush()?;
            Some(losers_path.to_path_buf())
        }
        None => None,
    };
    Ok(Settled { losers, versions })
}

/// Appends `losers` to the group's losers file (created on first use).
fn spill_losers(
    losers: &mut Vec<Loser>,
    file: &mut Option<BufWriter<File>>,
    path: &Path,
) -> io::Result<()> {
    if losers.is_empty() {
        return Ok(());
    }
    if file.is_none() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        *file = Some(BufWriter::with_capacity(1 << 16, File::create(path)?));
    }
    if let Some(w) = file.as_mut() {
        for l in losers.drain(..) {
            write_loser(w, &l)?;
        }
    }
    Ok(())
}

/// Settles the entries of one fingerprint: pushes the losing rows and
/// returns the winning one (with the version it won by), if any row.
fn settle(run: &[Entry], losers: &mut Vec<Loser>) -> Option<Entry> {
    let winner = winner(run)?;
    losers.extend(
        run.iter()
            .filter(|e| e.loc != HINT && **e != winner)
            .map(|e| Loser {
                ord: e.ord,
                loc: e.loc,
                kept_ord: winner.ord,
                kept_loc: winner.loc,
            }),
    );
    Some(winner)
}

/// The entry that wins among those of one fingerprint: the greatest
/// (version, order), where a stored row (order 0) has the version its
/// hints give; `None` when the run holds hints only.
fn winner(run: &[Entry]) -> Option<Entry> {
    let stored = run
        .iter()
        .filter(|e| e.loc == HINT)
        .map(|e| e.ver)
        .max()
        .unwrap_or(i64::MIN);
    let rank = |e: &Entry| {
        let ver = if e.ord == 0 { e.ver.max(stored) } else { e.ver };
        (ver, e.ord)
    };
    run.iter()
        .filter(|e| e.loc != HINT)
        .max_by_key(|e| rank(e))
        .copied()
}

/// Reads a versions file into hint entries.
pub fn read_versions(path: &Path, mut push: impl FnMut(Entry) -> io::Result<()>) -> io::Result<()> {
    for_each_record(path, |buf: &[u8; VERSION_BYTES]| {
        push(Entry {
            fp: u128::from_le_bytes(field(buf, 0)),
            ver: i64::from_le_bytes(field(buf, 16)),
            ord: 0,
            loc: HINT,
        })
    })
}

fn read_entries(path: &Path, out: &mut Vec<Entry>) -> io::Result<()> {
    out.reserve((fs::metadata(path)?.len() as usize) / ENTRY_BYTES);
    for_each_record(path, |buf: &[u8; ENTRY_BYTES]| {
        out.push(Entry {
            fp: u128::from_le_bytes(field(buf, 0)),
            ver: i64::from_le_bytes(field(buf, 16)),
            ord: u64::from_le_bytes(field(buf, 24)),
            loc: u64::from_le_bytes(field(buf, 32)),
        });
        Ok(())
    })
}

/// Calls `f` with each fixed-size record of a file (a partial last record,
/// from a write cut short, is ignored).
fn for_each_record<const N: usize>(
    path: &Path,
    mut f: impl FnMut(&[u8; N]) -> io::Result<()>,
) -> io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut buf = [0u8; N];
    loop {
        match r.read_exact(&mut buf) {
            Ok(()) => f(&buf)?,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// `M` bytes of `buf` from `at`.
fn field<const M: usize>(buf: &[u8], at: usize) -> [u8; M] {
    buf[at..at + M].try_into().unwrap_or([0; M])
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
        // 40k entries over 10k ids: every bucket spills several times;
        // then one id repeated 20k times (settled early, before spills).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = if i < 40_000 { x % 10_000 } else { 77 };
            // Every third entry has a version; versions beat order.
            let ver = if i % 3 == 0 {
                (x % 50) as i64
            } else {
                i64::MIN
            };
            // Five sources (input files); source 4 failed.
            let source = x % 5 + 1;
            let e = Entry {
                fp: xxhash_rust::xxh3::xxh3_128(&id.to_le_bytes()),
                ver,
                ord: source << SOURCE_SHIFT | (i + 1),
                loc: i,
            };
            all.push(e);
            b.push(e).expect("push");
        }
        let keep = |ord: u64| source_of(ord) != 4;
        let mut got = Vec::new();
        let versions = b
            .losers(&keep, 2, &dir.path().join("v/versions"), &mut |l| {
                got.push(l)
            })
            .expect("losers");
        got.sort_by_key(|l| l.loc);
        let beats = |o: &Entry, e: &Entry| (o.ver, o.ord) > (e.ver, e.ord);
        // The naive reference: quadratic, so the repeated id is checked
        // against its group's maximum instead of all pairs.
        let best = |fp: u128| {
            all.iter()
                .filter(|o| keep(o.ord) && o.fp == fp)
                .max_by_key(|o| (o.ver, o.ord))
                .copied()
        };
        // Each loser names its id's winner as the row kept.
        let mut want: Vec<Loser> = all
            .iter()
            .filter(|e| keep(e.ord))
            .filter_map(|e| best(e.fp).filter(|o| beats(o, e)).map(|o| (e, o)))
            .map(|(e, o)| Loser {
                ord: e.ord,
                loc: e.loc,
                kept_ord: o.ord,
                kept_loc: o.loc,
            })
            .collect();
        want.sort_by_key(|l| l.loc);
        assert_eq!(got.len(), want.len());
        assert_eq!(got, want);
        assert!(
            !dir.path().join("dedupe").exists(),
            "spill files are removed"
        );
        // One version record per id whose winner has a version.
        let mut hints = Vec::new();
        for v in &versions {
            read_versions(v, |e| {
                hints.push(e);
                Ok(())
            })
            .expect("read");
        }
        let mut want_hints: Vec<(u128, i64)> = all
            .iter()
            .filter(|e| keep(e.ord) && e.ver != i64::MIN)
            .filter(|e| !want.iter().any(|l| l.loc == e.loc))
            .map(|e| (e.fp, e.ver))
            .collect();
        want_hints.sort_unstable();
        let mut got_hints: Vec<(u128, i64)> = hints.iter().map(|e| (e.fp, e.ver)).collect();
        got_hints.sort_unstable();
        assert_eq!(got_hints, want_hints);
    }

    /// A stored row (order 0) keeps the version its hint records, so an
    /// older record arriving later loses and a newer one wins.
    #[test]
    fn hints_carry_the_stored_version_across_runs() {
        let run = |incoming_ver: i64| {
            let fp = 7u128;
            let entries = [
                Entry {
                    fp,
                    ver: i64::MIN,
                    ord: 0,
                    loc: 1,
                },
                Entry {
                    fp,
                    ver: 100,
                    ord: 0,
                    loc: HINT,
                },
                Entry {
                    fp,
                    ver: incoming_ver,
                    ord: 5,
                    loc: 2,
                },
            ];
            let mut losers = Vec::new();
            let w = settle(&entries, &mut losers).expect("winner");
            (w.loc, losers.iter().map(|e| e.loc).collect::<Vec<_>>())
        };
        assert_eq!(run(50), (1, vec![2]));
        assert_eq!(run(150), (2, vec![1]));
        assert_eq!(run(100), (2, vec![1]), "equal versions: the later wins");
        assert_eq!(
            run(i64::MIN),
            (1, vec![2]),
            "a versioned row beats an unversioned one"
        );
    }
}
