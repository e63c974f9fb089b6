//! The output file: written under a temporary name in the target folder,
//! compressed by extension, and renamed into place only when complete, so a
//! killed run never leaves a half file under the final name.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Compression picked from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub(crate) fn from_path(path: &Path) -> Compression {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gz") => Compression::Gzip,
            Some("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// Compression levels: the fastest of each. Generated files are for
/// exercising readers, and the single writer thread compresses everything,
/// so a higher level would make compression the bottleneck of a large run.
const GZIP_LEVEL: u32 = 1;
const ZSTD_LEVEL: i32 = 1;

enum Encoder {
    Plain(File),
    Gzip(flate2::write::GzEncoder<File>),
    Zstd(zstd::Encoder<'static, File>),
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(f) => f.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(f) => f.write_all(buf),
            Encoder::Gzip(e) => e.write_all(buf),
            Encoder::Zstd(e) => e.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(f) => f.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

/// A file being written under a temporary name. Dropping it without
/// [`AtomicFile::commit`] removes the temporary file.
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    target: PathBuf,
    writer: Option<BufWriter<Encoder>>,
}

/// Temporary name beside `target`: hidden, with the process id, so two runs
/// writing the same target don't collide and a reader globbing `*.csv` does
/// not pick it up.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

impl AtomicFile {
    pub(crate) fn create(target: &Path, compression: Compression) -> io::Result<AtomicFile> {
        let tmp = temp_path(target);
        let file = File::create(&tmp)?;
        let mut this = AtomicFile {
            tmp,
            target: target.to_path_buf(),
            writer: None,
        };
        let encoder = match compression {
            Compression::None => Encoder::Plain(file),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::new(GZIP_LEVEL),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::Encoder::new(file, ZSTD_LEVEL)?),
        };
        this.writer = Some(BufWriter::with_capacity(1 << 20, encoder));
        Ok(this)
    }

    pub(crate) fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.writer {
            Some(w) => w.write_all(buf),
            None => Err(io::Error::other("file already finished")),
        }
    }

    /// Finishes the compressed stream, renames the file into place and
    /// returns its size in bytes.
    pub(crate) fn commit(mut self) -> io::Result<u64> {
        let Some(writer) = self.writer.take() else {
            return Err(io::Error::other("file already finished"));
        };
        let finish = || -> io::Result<u64> {
            let encoder = writer
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?;
            let file = match encoder {
                Encoder::Plain(f) => f,
                Encoder::Gzip(e) => e.finish()?,
                Encoder::Zstd(e) => e.finish()?,
            };
            let bytes = file.metadata()?.len();
            drop(file);
            fs::rename(&self.tmp, &self.target)?;
            Ok(bytes)
        };
        let result = finish();
        if result.is_err() {
            // Best effort, as in `Drop`.
            let _ = fs::remove_file(&self.tmp);
        }
        result
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer = None;
            // Best effort: the run already failed, and the error it reports
            // matters more than a leftover temporary file.
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `target` atomically (temporary name, then rename).
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target, Compression::None)?;
    f.write_all(bytes)?;
    f.commit().map(|_| ())
}
