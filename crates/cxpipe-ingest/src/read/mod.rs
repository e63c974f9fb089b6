//! Reading inputs: one reader thread opens each file ([`input`]), finds
//! its format and source from the first bytes (`detect`), and cuts the
//! decompressed bytes into chunks of whole records ([`split`]) for the
//! workers. It sends chunks and a [`FileEnd`] per file, in input order,
//! numbered so that the sequencer can put results back in that order.

mod chunk;
mod detect;
pub mod input;
pub mod split;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};

use crate::csv::CsvParser;
use crate::options::SourceKind;
use crate::reporter::Reporter;
pub(crate) use chunk::{Chunk, FileCtx, FileEnd, FileInfo, FileKind, Msg, Rec};
use detect::Detector;
use input::{Content, InputFile, Opened};
use split::{Framing, MALFORMED, MAX_RECORD, split};

/// The reader thread's state.
pub(crate) struct Reader<'a> {
    tx: Sender<Msg>,
    recycle: Receiver<Vec<u8>>,
    seq: u64,
    chunk_bytes: usize,
    detector: Detector,
    reporter: &'a dyn Reporter,
    cancel: &'a AtomicBool,
    failed: &'a AtomicBool,
}

/// How far one file's reading has come.
struct FileRead<'f> {
    idx: u32,
    file: &'f InputFile,
    /// The extension before any `.gz`/`.zst`, lower case.
    ext: String,
    /// A partial record carried into the next buffer.
    carry: Vec<u8>,
    /// Set once the format and source are known.
    ctx: Option<Arc<FileCtx>>,
    /// Line (or element) number of the next record.
    line: u64,
    /// The byte-order mark was looked for.
    bom_checked: bool,
    /// Whether the line endings were looked at, and whether they are old
    /// Mac ones (CR only), which are read as LF.
    cr_checked: bool,
    cr_only: bool,
    /// The CSV field delimiter, once the file is known to be CSV.
    delimiter: u8,
    /// Blank lines dropped before the first record or header was seen
    /// (added to `line` once the format is known; a JSON array numbers
    /// elements, not lines).
    blank_lines: u64,
    framing: Framing,
}

/// Whether `bytes` (the start of a file) end their lines with a bare CR
/// ("CSV (Macintosh)"): a CR and no LF at all. Read as one line, such a
/// file lost every row with exit 0.
fn is_cr_only(bytes: &[u8]) -> bool {
    memchr::memchr(b'\r', bytes).is_some() && memchr::memchr(b'\n', bytes).is_none()
}

/// What the first bytes of a file said.
enum Start {
    /// An empty file (or `[]`): nothing to read, nothing lost.
    Empty,
    /// Not enough bytes yet to tell.
    NeedMore,
    /// Records begin at this offset of the buffer.
    Records(usize),
}

impl<'a> Reader<'a> {
    /// A reader sending chunks of about `chunk_bytes` to `tx`, reusing the
    /// buffers that come back on `recycle`.
    pub(crate) fn new(
        tx: Sender<Msg>,
        recycle: Receiver<Vec<u8>>,
        chunk_bytes: usize,
        source: SourceKind,
        reporter: &'a dyn Reporter,
        cancel: &'a AtomicBool,
        failed: &'a AtomicBool,
    ) -> Reader<'a> {
        Reader {
            tx,
            recycle,
            seq: 0,
            chunk_bytes: chunk_bytes.max(1024),
            detector: Detector::new(source),
            reporter,
            cancel,
            failed,
        }
    }

    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq - 1
    }

    fn buffer(&self, carry: &[u8]) -> Vec<u8> {
        // A recycled buffer keeps its length: those bytes are initialized,
        // so `fill` reads over them without zeroing them first (reading
        // into the spare capacity of a cleared buffer zeroed it on every
        // read: 2 % of a Connect ingest's CPU).
        let mut buf = self.recycle.try_recv().unwrap_or_default();
        if buf.len() < carry.len() {
            buf.resize(carry.len(), 0);
        }
        buf[..carry.len()].copy_from_slice(carry);
        buf
    }

    /// Reads one file into chunks. Returns false when the run is stopping.
    pub(crate) fn read_file(&mut self, idx: u32, file: &InputFile) -> bool {
        let mut info = FileInfo::default();
        let result = self.read_chunks(idx, file, &mut info);
        let seq = self.next_seq();
        let result = match result {
            Ok(Some(content)) => Ok(content),
            Ok(None) => return false,
            Err(msg) => Err(msg),
        };
        self.tx
            .send(Msg::FileEnd(FileEnd {
                seq,
                file_idx: idx,
                info,
                result,
            }))
            .is_ok()
    }

    /// Sends the file's records; `Ok(None)` when the run is stopping.
    fn read_chunks(
        &mut self,
        idx: u32,
        file: &InputFile,
        info: &mut FileInfo,
    ) -> Result<Option<Content>, String> {
        let mut opened = input::open(file).map_err(|e| format!("cannot read: {e}"))?;
        info.compression = Some(opened.compression);
        self.reporter.file_started(&file.name, opened.size);
        let (stem, _) = input::strip_compression(&file.name);
        let mut st = FileRead {
            idx,
            file,
            ext: stem
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default(),
            carry: Vec::new(),
            ctx: None,
            line: 1,
            bom_checked: false,
            cr_checked: false,
            cr_only: false,
            blank_lines: 0,
            delimiter: b',',
            framing: Framing::Csv,
        };
        let mut reported = 0u64;
        loop {
            if self.stopped() {
                return Ok(None);
            }
            let carried = st.carry.len();
            let mut buf = self.buffer(&st.carry);
            let eof = fill(&mut opened, &mut buf, carried, self.chunk_bytes)
                .map_err(|e| format!("read failed after {} bytes: {e}", opened.raw_bytes()))?;
            if !st.cr_checked {
                st.cr_checked = true;
                st.cr_only = is_cr_only(&buf);
                if st.cr_only {
                    self.reporter.note(&format!(
                        "{}: lines end with CR only (old Mac line endings); read as LF",
                        file.name
                    ));
                }
            }
            if st.cr_only {
                // The carried part was translated when it was read.
                for b in &mut buf[carried..] {
                    if *b == b'\r' {
                        *b = b'\n';
                    }
                }
            }
            let raw = opened.raw_bytes();
            self.reporter.bytes_read(raw - reported);
            reported = raw;
            if !st.bom_checked && (buf.len() >= 3 || eof) {
                // The BOM is removed from the buffer itself, so a header that
                // spans several reads (carried over) never sees it again.
                st.bom_checked = true;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
            }
            let mut start = 0;
            if st.ctx.is_none() {
                match self.start_file(&mut st, &mut buf, eof, info)? {
                    Start::Empty => return finish(opened).map(Some),
                    Start::NeedMore => {
                        st.carry = buf;
                        continue;
                    }
                    Start::Records(at) => start = at,
                }
            }
            if !self.send_records(&mut st, buf, start, eof) {
                return Ok(None);
            }
            if eof {
                return finish(opened).map(Some);
            }
        }
    }

    /// Splits the records of `buf` from `start` into a chunk and sends it;
    /// the partial record at the end is carried over. Returns false when
    /// the workers are gone.
    fn send_records(
        &mut self,
        st: &mut FileRead<'_>,
        mut buf: Vec<u8>,
        start: usize,
        eof: bool,
    ) -> bool {
        let Some(file_ctx) = st.ctx.clone() else {
            return true;
        };
        let s = split(&buf[start..], st.framing, eof, st.delimiter);
        // A skip (the rest of an over-long line) ends no record: the
        // records begin after it.
        let records_at = start + s.skipped_bytes;
        let consumed = start + s.consumed;
        st.carry.clear();
        st.carry.extend_from_slice(&buf[consumed..]);
        let newlines = match st.framing {
            Framing::JsonArray | Framing::AfterArray => s.ends.len() as u64,
            // Every line record ends at its newline, but a cut one or the
            // last of a file without a final newline; a skip's newline (the
            // end of an over-long line) ends no record.
            Framing::Lines | Framing::SkipLines => {
                s.skipped_newlines
                    + s.ends
                        .iter()
                        .filter(|&&e| buf[records_at + (e & !MALFORMED) as usize - 1] == b'\n')
                        .count() as u64
            }
            Framing::Csv | Framing::SkipCsv => {
                memchr::memchr_iter(b'\n', &buf[start..consumed]).count() as u64
            }
        };
        if s.closed {
            st.framing = Framing::AfterArray;
        }
        if let Some(f) = s.framing_after {
            st.framing = f;
        }
        if eof && st.framing == Framing::JsonArray {
            self.reporter.note(&format!(
                "{}: the JSON array has no closing ] (is the file cut short?); every element read is kept or quarantined",
                st.file.name
            ));
        }
        buf.truncate(consumed);
        if !s.ends.is_empty() {
            let chunk = Chunk {
                seq: self.next_seq(),
                file: file_ctx,
                data: buf,
                start: records_at,
                ends: s.ends,
                first_line: st.line + s.skipped_newlines,
            };
            if self.tx.send(Msg::Chunk(chunk)).is_err() {
                return false;
            }
        }
        st.line += newlines;
        true
    }

    /// Finds the file's format and source from its first bytes: a JSON
    /// array (`[`), NDJSON (`{`, or a `.ndjson`/`.jsonl` name), else CSV.
    fn start_file(
        &self,
        st: &mut FileRead<'_>,
        buf: &mut Vec<u8>,
        eof: bool,
        info: &mut FileInfo,
    ) -> Result<Start, String> {
        let Some(first_at) = buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            if eof {
                info.format = Some("empty");
                return Ok(Start::Empty);
            }
            // Only blank lines so far: count and drop them, so that the
            // carried buffer does not grow and get scanned again with every
            // read (that was quadratic: 256 MiB of newlines took 11 s).
            if let Some(last) = memchr::memrchr(b'\n', buf) {
                st.blank_lines += memchr::memchr_iter(b'\n', &buf[..=last]).count() as u64;
                buf.drain(..=last);
            }
            return Ok(Start::NeedMore);
        };
        let first_byte = buf[first_at];
        if first_byte == b'[' {
            self.start_json_array(st, buf, first_at, eof, info)
        } else if matches!(st.ext.as_str(), "ndjson" | "jsonl") || first_byte == b'{' {
            self.start_ndjson(st, buf, eof, info)
        } else {
            self.start_csv(st, buf, first_at, eof, info)
        }
    }

    /// A JSON array: its first element picks the source.
    fn start_json_array(
        &self,
        st: &mut FileRead<'_>,
        buf: &[u8],
        first_at: usize,
        eof: bool,
        info: &mut FileInfo,
    ) -> Result<Start, String> {
        let open = first_at + 1;
        let s = split(&buf[open..], Framing::JsonArray, eof, b',');
        if s.closed
            && s.ends.is_empty()
            && eof
            && buf[open + s.consumed..].iter().all(u8::is_ascii_whitespace)
        {
            // `[]`: an export with no records (a quiet night), whatever
            // its source.
            info.format = Some("empty");
            return Ok(Start::Empty);
        }
        let first = match s.ends.first() {
            Some(&e) if e & MALFORMED == 0 => {
                let rec = buf[open..open + e as usize].trim_ascii();
                Some(rec.strip_suffix(b",").unwrap_or(rec).to_vec())
            }
            _ if !eof && !s.closed && buf.len() - open < MAX_RECORD => return Ok(Start::NeedMore),
            _ => None,
        };
        let (kind, name) = self.detector.json_kind(first.as_deref(), true)?;
        info.format = Some("json-array");
        self.begin(st, info, "JSON array", name, kind, Framing::JsonArray)?;
        // The elements are numbered from 1, whatever the lines.
        st.line = 1;
        Ok(Start::Records(open))
    }

    /// NDJSON: the first line that is a JSON object picks the source. A
    /// file whose first line is not one, but the whole of which is one
    /// JSON object, is a document ([`Reader::start_document`]).
    fn start_ndjson(
        &self,
        st: &mut FileRead<'_>,
        buf: &mut Vec<u8>,
        eof: bool,
        info: &mut FileInfo,
    ) -> Result<Start, String> {
        let s = split(buf, Framing::Lines, eof, b',');
        if s.ends.is_empty() && !eof {
            return Ok(Start::NeedMore);
        }
        // The first two lines that are not blank (the splitter keeps blank
        // lines out of a record, but a file may start with them).
        let mut lines = Vec::with_capacity(2);
        let mut prev = 0;
        for &e in &s.ends {
            let end = (e & !MALFORMED) as usize;
            let l = buf[prev..end].trim_ascii();
            prev = end;
            if !l.is_empty() {
                lines.push(l);
                if lines.len() == 2 {
                    break;
                }
            }
        }
        let parse = |l: &[u8]| serde_json::from_slice::<serde_json::Value>(l).ok();
        let first = lines.first().copied();
        let first_value = first.and_then(parse);
        // A document: a first line that is not a whole value and a second
        // that is not one either (NDJSON with a broken first line has whole
        // records after it), or one line that is a wrapper whose records
        // sit at a records path (a compact API page).
        let pretty = first.is_some_and(|l| l.first() == Some(&b'{'))
            && first_value.is_none()
            && !lines
                .get(1)
                .is_some_and(|l| parse(l).is_some_and(|v| v.is_object()));
        let wrapper = first_value.as_ref().is_some_and(|v| self.is_wrapper(v));
        if pretty || wrapper {
            if !eof {
                if buf.len() > MAX_DOCUMENT {
                    return Err(format!(
                        "a JSON document over {} MiB (its first line is not a record, so it is not NDJSON): split it, or write it as NDJSON (one record per line)",
                        MAX_DOCUMENT >> 20
                    ));
                }
                return Ok(Start::NeedMore);
            }
            if let Some(start) = self.start_document(st, buf, info)? {
                return Ok(start);
            }
        }
        st.line += std::mem::take(&mut st.blank_lines);
        let mut prev = 0;
        let mut first = None;
        for &e in &s.ends {
            let end = (e & !MALFORMED) as usize;
            let rec = buf[prev..end].trim_ascii();
            prev = end;
            if rec.first() == Some(&b'{')
                && serde_json::from_slice::<serde_json::Value>(rec).is_ok()
            {
                first = Some(rec.to_vec());
                break;
            }
        }
        info.format = Some("ndjson");
        let (kind, name) = self.detector.json_kind(first.as_deref(), false)?;
        self.begin(st, info, "NDJSON", name, kind, Framing::Lines)?;
        Ok(Start::Records(0))
    }

    /// Whether a JSON object is a wrapping document rather than a record:
    /// it has an array at the named source's records path, or (auto) at
    /// one `auto` tries, and is not itself a record auto recognises.
    fn is_wrapper(&self, v: &serde_json::Value) -> bool {
        match self.detector.records_path() {
            Some(Some(path)) => document_records(v, Some(path)).is_some(),
            Some(None) => false,
            None => {
                self.detector
                    .auto_records_paths()
                    .into_iter()
                    .any(|p| document_records(v, Some(p)).is_some())
                    && serde_json::to_vec(v)
                        .ok()
                        .is_some_and(|b| self.detector.json_kind(Some(&b), false).is_err())
            }
        }
    }

    /// A JSON document (SPEC §4.1): one pretty-printed record, or records
    /// under a path of a wrapping object (`[source] records`; under auto,
    /// Genesys' `conversations` or a vendor mapping's path). The whole file
    /// is in `buf`; it is read as NDJSON of its records, compacted one per
    /// line, so records are numbered by their index. `Ok(None)`: not one
    /// JSON value after all (read as NDJSON).
    fn start_document(
        &self,
        st: &mut FileRead<'_>,
        buf: &mut Vec<u8>,
        info: &mut FileInfo,
    ) -> Result<Option<Start>, String> {
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(buf) else {
            return Ok(None);
        };
        if !doc.is_object() {
            return Ok(None);
        }
        let (records, under) = match self.detector.records_path() {
            Some(Some(path)) => match document_records(&doc, Some(path)) {
                Some(r) => (r.iter().collect::<Vec<_>>(), Some(path)),
                None => {
                    let keys: Vec<&str> = doc
                        .as_object()
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    return Err(format!(
                        "a JSON document without an array at {path:?} (its records path); its keys are {}",
                        keys.join(", ")
                    ));
                }
            },
            Some(None) => (vec![&doc], None),
            None => match self
                .detector
                .auto_records_paths()
                .into_iter()
                .find_map(|p| document_records(&doc, Some(p)).map(|r| (r, p)))
            {
                Some((r, p)) => (r.iter().collect(), Some(p)),
                None => (vec![&doc], None),
            },
        };
        let mut lines = Vec::with_capacity(buf.len() / 2);
        for r in &records {
            serde_json::to_writer(&mut lines, r)
                .map_err(|e| format!("re-reading a record: {e}"))?;
            lines.push(b'\n');
        }
        info.format = Some("json-document");
        if records.is_empty() {
            info.format = Some("empty");
            return Ok(Some(Start::Empty));
        }
        let first = serde_json::to_vec(records[0]).ok();
        let (kind, name) = self.detector.json_kind(first.as_deref(), false)?;
        let what = match under {
            Some(p) => format!("JSON document ({} records under {p:?})", records.len()),
            None => "JSON document (one record)".to_string(),
        };
        *buf = lines;
        st.blank_lines = 0;
        st.line = 1;
        self.begin(st, info, &what, name, kind, Framing::Lines)?;
        Ok(Some(Start::Records(0)))
    }

    /// CSV: the header picks the source. Blank lines before it are
    /// skipped (and counted, so line numbers stay true).
    fn start_csv(
        &self,
        st: &mut FileRead<'_>,
        buf: &mut Vec<u8>,
        first_at: usize,
        eof: bool,
        info: &mut FileInfo,
    ) -> Result<Start, String> {
        info.format = Some("csv");
        st.line += std::mem::take(&mut st.blank_lines);
        let line_start = memchr::memrchr(b'\n', &buf[..first_at]).map_or(0, |p| p + 1);
        st.line += buf[..line_start].iter().filter(|&&b| b == b'\n').count() as u64;
        buf.drain(..line_start);
        st.delimiter = self.detector.csv_delimiter().unwrap_or(b',');
        if let Some(cols) = self.detector.headerless_columns() {
            // `[source] columns`: no header line; the first line is a record.
            let kind = self.detector.csv_source(&cols)?;
            if let FileKind::MappedCsv(m, layout) = &kind {
                info.ignored = layout.ignored.clone();
                info.missing = layout.missing.clone();
                let name = m.name.clone();
                self.begin(st, info, "CSV (no header)", name, kind, Framing::Csv)?;
                return Ok(Start::Records(0));
            }
        }
        let mut s = split(buf, Framing::Csv, eof, st.delimiter);
        let Some(&first_end) = s.ends.first() else {
            return Ok(Start::NeedMore);
        };
        if self.detector.csv_delimiter().is_none()
            && let Some(d) = sniff_delimiter(&buf[..(first_end & !MALFORMED) as usize])
        {
            // Auto: a header with no comma and one other delimiter
            // (`;` from a spreadsheet in a European locale, `|`, tab).
            st.delimiter = d;
            s = split(buf, Framing::Csv, eof, d);
        }
        let Some(&header_end) = s.ends.first() else {
            return Ok(Start::NeedMore);
        };
        let header_rec = &buf[..(header_end & !MALFORMED) as usize];
        if header_end & MALFORMED != 0 || header_rec.contains(&0) {
            return Err(malformed_header(header_rec));
        }
        let header_end = header_end as usize;
        let mut rec = &buf[..header_end];
        st.line += memchr::memchr_iter(b'\n', rec).count() as u64;
        while let Some(stripped) = rec.strip_suffix(b"\n").or_else(|| rec.strip_suffix(b"\r")) {
            rec = stripped;
        }
        let mut p = CsvParser::with_delimiter(st.delimiter);
        let n = p.parse(rec).map_err(|e| format!("header: {e}"))?;
        let header = p.strings(rec, n);
        let kind = self
            .detector
            .csv_source(&header)
            .map_err(|e| with_delimiter_hint(e, &header, st.delimiter))?;
        let name = match &kind {
            FileKind::MappedCsv(m, layout) => {
                info.ignored = layout.ignored.clone();
                info.missing = layout.missing.clone();
                m.name.clone()
            }
            FileKind::Csv(layout) => {
                info.ignored = layout.ignored.clone();
                "generic".to_string()
            }
            _ => String::new(),
        };
        let format = match st.delimiter {
            b',' => "CSV".to_string(),
            d => format!("CSV ({} delimited)", delimiter_name(d)),
        };
        self.begin(st, info, &format, name, kind, Framing::Csv)?;
        Ok(Start::Records(header_end))
    }

    /// The file's format and source are known: says so, and sets up the
    /// reading of its records.
    fn begin(
        &self,
        st: &mut FileRead<'_>,
        info: &mut FileInfo,
        format: &str,
        source: String,
        kind: FileKind,
        framing: Framing,
    ) -> Result<(), String> {
        if let FileKind::MappedJson { mapping, .. } = &kind {
            info.json_fields = Some(mapping.field_names().to_vec());
        }
        let mapping = match &kind {
            FileKind::MappedJson { mapping, .. } | FileKind::MappedCsv(mapping, _) => Some(mapping),
            _ => None,
        };
        let position = match mapping {
            Some(m) if m.position_ids => {
                let Some(path) = &st.file.path else {
                    return Err(
                        "the mapping takes ids from record positions (position = true), which need the export as a file: its content hash names its rows; save the input to a file first"
                            .to_string(),
                    );
                };
                let content = input::hash_file(path).map_err(|e| format!("cannot read: {e}"))?;
                let key = content.xxh3_128[..16].to_string();
                self.reporter.note(&format!(
                    "{}: ids are record positions ({key}:<line>): no two records of it are duplicates of each other or of another file's; the same content read again (--force) replaces its own rows",
                    st.file.name
                ));
                Some(key)
            }
            _ => None,
        };
        self.reporter.note(&format!(
            "{}: {format}, source {source}{}",
            st.file.name,
            self.detector.detected_note()
        ));
        info.source = Some(source);
        st.ctx = Some(Arc::new(FileCtx {
            idx: st.idx,
            name: st.file.name.clone(),
            kind,
            delimiter: st.delimiter,
            position,
        }));
        st.framing = framing;
        Ok(())
    }
}

/// The largest JSON document read whole (an API response or one
/// pretty-printed record; arrays and NDJSON are streamed at any size).
const MAX_DOCUMENT: usize = 256 << 20;

/// The records of a JSON document: the array at `path`, or the document
/// itself.
fn document_records<'v>(
    doc: &'v serde_json::Value,
    path: Option<&str>,
) -> Option<&'v Vec<serde_json::Value>> {
    crate::source::mapping::value_at(doc, path?)?.as_array()
}

/// The delimiters a CSV export may use besides `,`.
const OTHER_DELIMITERS: [u8; 3] = [b';', b'\t', b'|'];

/// A header line's delimiter when it is not `,`: the line has no comma
/// (outside nothing: a header with quoted commas has commas) and exactly
/// one of `;`, tab, `|`.
fn sniff_delimiter(header: &[u8]) -> Option<u8> {
    if header.contains(&b',') {
        return None;
    }
    let mut found = OTHER_DELIMITERS.iter().filter(|d| header.contains(d));
    let d = *found.next()?;
    found.next().is_none().then_some(d)
}

/// How a delimiter is written in messages and mapping files.
pub(crate) fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "\",\"",
        b';' => "\";\"",
        b'|' => "\"|\"",
        b'\t' => "tab",
        _ => "?",
    }
}

/// A header that did not fit, read as one field holding another
/// delimiter: says which `[source] delimiter` would read it.
fn with_delimiter_hint(e: String, header: &[String], delimiter: u8) -> String {
    let [only] = header else {
        return e;
    };
    match OTHER_DELIMITERS
        .iter()
        .chain(b",")
        .find(|d| **d != delimiter && only.as_bytes().contains(d))
    {
        Some(d) => format!(
            "{e}; the header is one field that holds {}: is the file {}-delimited? (a mapping says so with [source] delimiter = {})",
            delimiter_name(*d),
            delimiter_name(*d),
            if *d == b'\t' {
                "\"\\t\"".to_string()
            } else {
                delimiter_name(*d).to_string()
            }
        ),
        None => e,
    }
}

fn finish(opened: Opened) -> Result<Content, String> {
    opened
        .finish()
        .map_err(|e| format!("read failed at the end of the file: {e}"))
}

/// Reads up to `want` bytes into `buf` from `start` (what is there past
/// `start` is overwritten; `buf` ends where the bytes read end). Returns
/// whether the input ended. Only the part of `buf` never used before is
/// zeroed (`resize`), unlike `read_to_end` into spare capacity, which
/// zeroes it on every call for a reader without a `read_buf` of its own.
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, start: usize, want: usize) -> std::io::Result<bool> {
    let end = start + want;
    if buf.len() < end {
        buf.resize(end, 0);
    }
    let mut n = start;
    while n < end {
        match r.read(&mut buf[n..end]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(n);
                return Err(e);
            }
        }
    }
    buf.truncate(n);
    Ok(n < end)
}

/// Why a header record the splitter cut short is not one, in words: binary
/// data, a line over the record limit, or an unterminated quote.
fn malformed_header(rec: &[u8]) -> String {
    let head = &rec[..rec.len().min(MAX_RECORD)];
    if head.contains(&0) {
        "the file holds binary data (NUL bytes) where a CSV header or JSON should be: not a text export".to_string()
    } else if rec.len() >= MAX_RECORD && memchr::memchr(b'"', head).is_none() {
        format!(
            "the first line is over {} MiB without an end: not a CSV header (a file with no line breaks, or not a text export)",
            MAX_RECORD >> 20
        )
    } else {
        "the header line is malformed (a quote that is never closed, or a quoted header over 1 MiB)"
            .to_string()
    }
}
