//! What the reader hands the workers: chunks of whole records of one file
//! (with how to read them) and the end of each file.

use std::sync::Arc;

use super::input::{Compression, Content};
use super::split::MALFORMED;
use crate::source::generic::CsvLayout;
use crate::source::mapping::{MappedCsv, Mapping};

/// How the records of one file are read.
pub(crate) enum FileKind {
    /// Generic CSV.
    Csv(Box<CsvLayout>),
    /// Generic NDJSON.
    Ndjson,
    /// CSV through a mapping.
    MappedCsv(Arc<Mapping>, Box<MappedCsv>),
    /// JSON through a mapping: NDJSON, or the elements of a JSON array.
    MappedJson {
        /// The mapping.
        mapping: Arc<Mapping>,
        /// Records are array elements, numbered by index, not line.
        array: bool,
    },
    /// Genesys Cloud conversations (`source/genesys.rs`): several legs a
    /// record.
    Genesys {
        /// Records are array elements, numbered by index, not line.
        array: bool,
    },
}

impl FileKind {
    /// Records are JSON array elements, numbered by index, not line.
    fn is_array(&self) -> bool {
        matches!(
            self,
            FileKind::MappedJson { array: true, .. } | FileKind::Genesys { array: true }
        )
    }

    /// Records are lines (NDJSON).
    fn is_lines(&self) -> bool {
        matches!(
            self,
            FileKind::Ndjson
                | FileKind::MappedJson { array: false, .. }
                | FileKind::Genesys { array: false }
        )
    }

    /// Why a record cut short by the splitter is malformed.
    pub(crate) fn malformed_reason(&self) -> &'static str {
        match self {
            FileKind::MappedJson { array: true, .. } | FileKind::Genesys { array: true } => {
                "not a whole JSON array element: the file ends inside it (is it cut short?), text follows the closing ], or it is longer than 1 MiB"
            }
            FileKind::Csv(_) | FileKind::MappedCsv(..) => {
                "unterminated quote or record longer than 1 MiB; the record is cut at the end of its first line"
            }
            _ => "the line is longer than 1 MiB",
        }
    }
}

/// One input file's parsing context, shared by the chunks of that file.
pub(crate) struct FileCtx {
    /// The file's index among the run's inputs.
    pub(crate) idx: u32,
    /// File name, as stored in `source_file`.
    pub(crate) name: String,
    /// How its records are read.
    pub(crate) kind: FileKind,
    /// The CSV field delimiter (`,` for every other file).
    pub(crate) delimiter: u8,
    /// The file's content key when its mapping takes ids from record
    /// positions (`<key>:<line>`).
    pub(crate) position: Option<String>,
}

/// Whole records of one file, cut from its bytes by the reader.
pub(crate) struct Chunk {
    /// Position in the run's stream of chunks and file ends.
    pub(crate) seq: u64,
    /// The file the records are from.
    pub(crate) file: Arc<FileCtx>,
    /// The bytes (recycled after use).
    pub(crate) data: Vec<u8>,
    /// Where the first record starts in `data`.
    pub(super) start: usize,
    /// Record ends relative to `start`, with [`MALFORMED`] or-ed in.
    pub(super) ends: Vec<u32>,
    /// Line (or array element) number of the first record.
    pub(super) first_line: u64,
}

/// One record of a chunk.
pub(crate) struct Rec<'c> {
    /// Its line (or, in a JSON array, element) number.
    pub(crate) line: u64,
    /// Its bytes, without line terminator (or the array's comma).
    pub(crate) bytes: &'c [u8],
    /// Cut short by the splitter (unterminated quote, too long).
    pub(crate) malformed: bool,
}

impl Chunk {
    /// How many records the chunk holds at most (blank ones are skipped).
    pub(crate) fn capacity(&self) -> usize {
        self.ends.len()
    }

    /// The chunk's non-empty records with their line numbers.
    pub(crate) fn records(&self) -> impl Iterator<Item = Rec<'_>> {
        let array = self.file.kind.is_array();
        let lines = self.file.kind.is_lines();
        let mut line = self.first_line;
        let mut pos = self.start;
        self.ends.iter().filter_map(move |&end_flag| {
            let end = self.start + (end_flag & !MALFORMED) as usize;
            let mut rec = &self.data[pos..end];
            pos = end;
            let rec_line = line;
            if array {
                // An element, its separating comma and white space around.
                line += 1;
                rec = rec.trim_ascii();
                rec = rec.strip_suffix(b",").unwrap_or(rec).trim_ascii();
            } else {
                line += if lines {
                    // A line holds no newline but its last byte.
                    u64::from(rec.last() == Some(&b'\n'))
                } else {
                    memchr::memchr_iter(b'\n', rec).count() as u64
                };
                if rec.last() == Some(&b'\n') {
                    rec = &rec[..rec.len() - 1];
                } else {
                    // The last record of a file without a final newline.
                    line += 1;
                }
                if rec.last() == Some(&b'\r') {
                    rec = &rec[..rec.len() - 1];
                }
            }
            (!rec.is_empty()).then_some(Rec {
                line: rec_line,
                bytes: rec,
                malformed: end_flag & MALFORMED != 0,
            })
        })
    }
}

/// What the reader learned about a file, for the report.
#[derive(Default, Clone)]
pub(crate) struct FileInfo {
    /// `csv`, `ndjson`, `json-array` or `empty`.
    pub(crate) format: Option<&'static str>,
    /// The source that read it.
    pub(crate) source: Option<String>,
    /// How it was compressed.
    pub(crate) compression: Option<Compression>,
    /// Header columns no canonical column uses.
    pub(crate) ignored: Vec<String>,
    /// Fields the mapping reads that the file's header does not have.
    pub(crate) missing: Vec<String>,
    /// A JSON mapping's field names (the sequencer finds which no record
    /// had).
    pub(crate) json_fields: Option<Vec<String>>,
}

/// The end of one file: what it was, or why reading it failed.
pub(crate) struct FileEnd {
    /// Position in the run's stream of chunks and file ends.
    pub(crate) seq: u64,
    /// The file's index among the run's inputs.
    pub(crate) file_idx: u32,
    /// What the reader learned.
    pub(crate) info: FileInfo,
    /// The file's size and hash, or the whole-file problem.
    pub(crate) result: Result<Content, String>,
}

/// What the reader sends the workers.
pub(crate) enum Msg {
    /// Records to convert.
    Chunk(Chunk),
    /// A file is done.
    FileEnd(FileEnd),
}
