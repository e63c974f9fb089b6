//! Quarantine files (SPEC §5): one CSV per input file with rejects, in the
//! staging area until the commit moves it to
//! `quarantine/<ingest_id>/<file>.rejects.csv`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cxpipe_model::layout;

use crate::error::Error;
use crate::pii::create_private;
use crate::reason::Reject;

/// The header line of every quarantine file.
const HEADER: &[u8] = b"source_line,reason_code,reason,raw\n";

/// One open quarantine file.
pub(crate) struct Quarantine {
    /// Its file name.
    pub(crate) name: String,
    /// Its path relative to the dataset root, once committed.
    pub(crate) rel: String,
    /// Its path in the staging area.
    pub(crate) path: PathBuf,
    out: BufWriter<fs::File>,
}

/// Names the quarantine files of one run: one per input file, a number
/// added when two inputs have the same name.
pub(crate) struct QuarantineNames<'a> {
    staging: &'a Path,
    ingest_id: &'a str,
    taken: BTreeSet<String>,
}

impl<'a> QuarantineNames<'a> {
    /// Names for the run `ingest_id` staged in `staging`.
    pub(crate) fn new(staging: &'a Path, ingest_id: &'a str) -> QuarantineNames<'a> {
        QuarantineNames {
            staging,
            ingest_id,
            taken: BTreeSet::new(),
        }
    }

    /// Creates the quarantine file of input file `base` (mode 0600: it
    /// holds raw records) and writes its header.
    pub(crate) fn open(&mut self, base: &str) -> Result<Quarantine, Error> {
        let mut qname = format!("{base}.rejects.csv");
        let mut n = 2;
        while !self.taken.insert(qname.clone()) {
            qname = format!("{base}.{n}.rejects.csv");
            n += 1;
        }
        let dir = self.staging.join(layout::QUARANTINE);
        fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(&qname);
        let file = create_private(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        let mut out = BufWriter::new(file);
        out.write_all(HEADER)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(Quarantine {
            rel: format!("{}/{}/{qname}", layout::QUARANTINE, self.ingest_id),
            name: qname,
            path,
            out,
        })
    }
}

impl Quarantine {
    /// Appends one rejected record.
    pub(crate) fn write(&mut self, r: &Reject) -> Result<(), Error> {
        write_reject(&mut self.out, r)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e))
    }

    /// Flushes and syncs the file (its input file is fully read).
    pub(crate) fn sync(&mut self) -> Result<(), Error> {
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e))
    }

    /// Closes and deletes the file (its input file failed or was skipped).
    pub(crate) fn remove(self) {
        drop(self.out);
        let _ = fs::remove_file(&self.path);
    }
}

fn write_reject(out: &mut impl Write, r: &Reject) -> std::io::Result<()> {
    write!(out, "{},{},", r.line, r.code.as_str())?;
    write_csv_field(out, r.reason.as_bytes())?;
    out.write_all(b",")?;
    write_csv_field(out, &r.raw)?;
    out.write_all(b"\n")
}

/// Writes one CSV field, quoted when it needs to be.
pub(crate) fn write_csv_field(out: &mut impl Write, v: &[u8]) -> std::io::Result<()> {
    if !v.iter().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        return out.write_all(v);
    }
    out.write_all(b"\"")?;
    for part in v.split_inclusive(|c| *c == b'"') {
        out.write_all(part)?;
        if part.last() == Some(&b'"') {
            out.write_all(b"\"")?;
        }
    }
    out.write_all(b"\"")
}
