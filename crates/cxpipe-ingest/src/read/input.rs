//! Inputs: expanding folders, opening files or stdin, decompressing, and
//! hashing the bytes as read for the ledger.

pub use crate::input_file::{Compression, InputFile};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use cxpipe_model::layout;
use flate2::read::MultiGzDecoder;
use xxhash_rust::xxh3::Xxh3;

/// One input as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or a folder.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

/// Extensions of the files taken from a folder (before `.gz` / `.zst`).
pub const DATA_EXTENSIONS: [&str; 5] = ["csv", "ndjson", "jsonl", "json", "txt"];

/// Expands folders into the supported files inside them (recursively,
/// sorted by path, hidden entries skipped). Files named directly are taken
/// whatever their extension. Returns the files and the paths skipped.
pub fn expand(inputs: &[Input]) -> (Vec<InputFile>, Vec<(PathBuf, &'static str)>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => files.push(InputFile {
                path: None,
                name: "stdin".to_string(),
            }),
            Input::Path(p) if p.is_dir() => {
                let mut found = Vec::new();
                let mut seen = std::collections::HashSet::new();
                walk(p, &mut found, &mut skipped, &mut seen);
                found.sort();
                files.extend(found.into_iter().map(|path| InputFile {
                    name: file_name(&path),
                    path: Some(path),
                }));
            }
            Input::Path(p) => files.push(InputFile {
                name: file_name(p),
                path: Some(p.clone()),
            }),
        }
    }
    (files, skipped)
}

/// Walks `dir` into `found`. `seen` holds the (device, inode) of every
/// folder entered, so a folder reached again through a link (a loop, or two
/// links to one folder) is read once: a loop read every file 41 times, and
/// two never finished.
fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, &'static str)>,
    seen: &mut std::collections::HashSet<(u64, u64)>,
) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = std::fs::metadata(dir)
        && !seen.insert((meta.dev(), meta.ino()))
    {
        skipped.push((dir.to_path_buf(), "a link to a folder already read"));
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        skipped.push((dir.to_path_buf(), "the folder cannot be read"));
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            // Said, not silent: a user who saved `.calls.csv` should learn
            // why it was not read.
            skipped.push((path, "a hidden file or folder"));
            continue;
        }
        if path.is_dir() {
            // A cxpipe dataset inside an inbox is output, not input.
            if path.join(layout::LEDGER).is_file() && path.join(layout::INTERACTIONS).is_dir() {
                skipped.push((path, "a cxpipe dataset, not an export"));
                continue;
            }
            walk(&path, found, skipped, seen);
        } else if file_name(&path).ends_with(".facts.json") {
            // `cxpipe generate` writes its facts beside the export.
            skipped.push((
                path,
                "the planted facts of `cxpipe generate`, not an export",
            ));
        } else if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            // A FIFO, socket or device in a folder would block the run
            // (a FIFO never ends until someone writes to it and closes it).
            skipped.push((path, "not a regular file (a FIFO, socket or device)"));
        } else if is_data_file(&path) {
            found.push(path);
        } else {
            skipped.push((path, "not a .csv, .ndjson, .jsonl, .json or .txt file"));
        }
    }
}

fn is_data_file(path: &Path) -> bool {
    let name = file_name(path);
    let (stem, _) = strip_compression(&name);
    let ext = stem.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    ext.is_some_and(|e| DATA_EXTENSIONS.contains(&e.as_str()))
}

/// The file name of a path, lossily as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Splits a `.gz` / `.zst` suffix off a name.
pub fn strip_compression(name: &str) -> (&str, Compression) {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".gz") {
        (&name[..name.len() - 3], Compression::Gzip)
    } else if lower.ends_with(".zst") {
        (&name[..name.len() - 4], Compression::Zstd)
    } else {
        (name, Compression::None)
    }
}

/// What a whole input file was on disk: its size and content hash, the
/// ledger's key (SPEC §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Raw bytes (compressed bytes for compressed inputs).
    pub bytes: u64,
    /// xxh3-128 of the raw bytes, 32 lower-case hex digits.
    pub xxh3_128: String,
}

impl Content {
    fn new(bytes: u64, hasher: &Xxh3) -> Content {
        Content {
            bytes,
            xxh3_128: format!("{:032x}", hasher.digest128()),
        }
    }
}

/// Counts and hashes the raw bytes that pass through it.
pub struct Tee<R> {
    inner: R,
    hasher: Xxh3,
    bytes: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A raw input with magic-byte sniffing: the first bytes are peeked and
/// replayed.
struct Peeked<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Peeked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

type Raw = Tee<Peeked<Box<dyn Read + Send>>>;

/// An open input: decompressed bytes out, raw bytes counted and hashed.
pub struct Opened {
    reader: Decoder,
    /// The compression found (by magic bytes, else by extension).
    pub compression: Compression,
    /// Size on disk, when known (not for stdin).
    pub size: Option<u64>,
}

enum Decoder {
    Plain(Box<Raw>),
    Gzip(Box<MultiGzDecoder<Raw>>),
    Zstd(Box<zstd::Decoder<'static, BufReader<Raw>>>),
}

impl Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.reader {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(r) => r.read(buf),
            Decoder::Zstd(r) => r.read(buf),
        }
    }
}

impl Opened {
    /// Raw bytes read so far (compressed bytes for compressed inputs).
    pub fn raw_bytes(&self) -> u64 {
        self.raw().bytes
    }

    fn raw(&self) -> &Raw {
        match &self.reader {
            Decoder::Plain(r) => r,
            Decoder::Gzip(r) => r.get_ref(),
            Decoder::Zstd(r) => r.get_ref().get_ref(),
        }
    }

    /// Reads whatever raw bytes the decoder left (so the hash covers the
    /// whole file) and returns what was read.
    pub fn finish(self) -> io::Result<Content> {
        let mut raw = match self.reader {
            Decoder::Plain(r) => *r,
            Decoder::Gzip(r) => r.into_inner(),
            Decoder::Zstd(r) => r.finish().into_inner(),
        };
        io::copy(&mut raw, &mut io::sink())?;
        Ok(Content::new(raw.bytes, &raw.hasher))
    }
}

/// Opens a file (or stdin) for reading, detecting compression from magic
/// bytes first and the extension second.
pub fn open(file: &InputFile) -> io::Result<Opened> {
    let (inner, size): (Box<dyn Read + Send>, Option<u64>) = match &file.path {
        Some(p) => {
            use std::os::unix::fs::FileTypeExt;
            let kind = std::fs::metadata(p)?.file_type();
            if kind.is_fifo() {
                // Read like stdin: no size, and a writer must come.
                (Box::new(open_fifo(p, FIFO_WAIT)?), None)
            } else {
                let f = File::open(p)?;
                let meta = f.metadata()?;
                if meta.is_dir() {
                    return Err(io::Error::other("is a folder"));
                }
                (Box::new(f), Some(meta.len()))
            }
        }
        None => (Box::new(io::stdin()), None),
    };
    let mut head = vec![0u8; 4];
    let mut got = 0;
    let mut inner = inner;
    while got < head.len() {
        let n = inner.read(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    head.truncate(got);
    let by_magic = if head.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else {
        None
    };
    let (_, by_name) = strip_compression(&file.name);
    let compression = match (by_magic, by_name) {
        (Some(c), _) => c,
        (None, Compression::None) => Compression::None,
        (None, named) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the name says {} but the file does not start like one (corrupt or not compressed)",
                    if named == Compression::Gzip {
                        "gzip"
                    } else {
                        "zstd"
                    }
                ),
            ));
        }
    };
    let raw = Tee {
        inner: Peeked {
            head,
            pos: 0,
            inner,
        },
        hasher: Xxh3::new(),
        bytes: 0,
    };
    let reader = match compression {
        Compression::None => Decoder::Plain(Box::new(raw)),
        Compression::Gzip => Decoder::Gzip(Box::new(MultiGzDecoder::new(raw))),
        Compression::Zstd => Decoder::Zstd(Box::new(zstd::Decoder::new(raw)?)),
    };
    Ok(Opened {
        reader,
        compression,
        size,
    })
}

/// How long a FIFO named as an input may wait for a program to open it for
/// writing.
pub const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens a FIFO for reading. Opening blocks until a writer opens the other
/// end, so it happens on a helper thread; if none comes within `wait`, the
/// file fails with a message that says so (the helper stays blocked until
/// the process ends, which costs nothing).
fn open_fifo(path: &Path, wait: std::time::Duration) -> io::Result<File> {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::Builder::new()
        .name("fifo-open".into())
        .spawn(move || {
            let _ = tx.send(File::open(&p));
        })?;
    match rx.recv_timeout(wait) {
        Ok(opened) => opened,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "it is a FIFO (named pipe) and no program opened it for writing within {} s; start the writer first, or pipe the data to `cxpipe ingest -`",
                wait.as_secs()
            ),
        )),
    }
}

/// Hashes a whole file (xxh3-128, hex) without decompressing it.
pub fn hash_file(path: &Path) -> io::Result<Content> {
    let mut f = File::open(path)?;
    let mut h = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok(Content::new(n, &h))
}
