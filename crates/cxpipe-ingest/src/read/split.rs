//! Finding record boundaries in a byte buffer, before any field is parsed.
//!
//! The reader thread splits each buffer into whole records so that workers
//! can parse them in parallel. CSV follows RFC 4180: a record ends at a
//! newline outside quotes, and a quote opens a quoted field only at the start
//! of a field (a quote inside an unquoted field is literal, as in csv-core).
//! A record that never closes its quote, or grows past [`MAX_RECORD`], is cut
//! at the end of its first physical line and flagged malformed, so one bad
//! quote costs one row, not the rest of the file.

use memchr::{memchr, memchr2};

/// The longest record accepted, in bytes.
pub const MAX_RECORD: usize = 1 << 20;

/// Set on a record end to mark a record cut short (unterminated quote or
/// over-long line): the worker quarantines it as `malformed_row`.
pub const MALFORMED: u32 = 1 << 31;

/// How records are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// RFC 4180 CSV with quoted fields that may span lines.
    Csv,
    /// One record per line (NDJSON).
    Lines,
    /// The elements of a JSON array whose opening `[` was already read.
    /// A record is one element and the `,` after it; the closing `]` ends
    /// the array ([`Split::closed`]).
    JsonArray,
    /// What follows a JSON array's closing `]`: white space, or one
    /// malformed record of whatever else is there.
    AfterArray,
    /// The rest of a line longer than [`MAX_RECORD`] whose first MiB was
    /// one malformed record: skipped through its newline, then CSV again.
    /// (Split in pieces, such a line counted as several rows and shifted
    /// every later line number.)
    SkipCsv,
    /// The same, then NDJSON lines again.
    SkipLines,
}

/// The records found in a buffer.
#[derive(Debug, Default)]
pub struct Split {
    /// End offset (exclusive, after the newline) of each record, with
    /// [`MALFORMED`] or-ed in for records cut short.
    pub ends: Vec<u32>,
    /// Bytes consumed; the rest is a partial record to carry over.
    pub consumed: usize,
    /// [`Framing::JsonArray`]: the closing `]` was consumed.
    pub closed: bool,
    /// The framing to continue with, when it changes: into a skip state
    /// after a line cut at the buffer's end, back out of one at its newline.
    pub framing_after: Option<Framing>,
    /// Newlines consumed by a skip state (they end no record).
    pub skipped_newlines: u64,
    /// Bytes at the start consumed by a skip state: the records (and
    /// `ends`) begin after them.
    pub skipped_bytes: usize,
}

/// Splits `buf` into complete records. With `eof` every byte is consumed.
/// `buf` must be shorter than 2 GiB. `delim` is the CSV field delimiter (a
/// quote opens a quoted field only after it or at a record's start).
pub fn split(buf: &[u8], framing: Framing, eof: bool, delim: u8) -> Split {
    match framing {
        Framing::JsonArray => return split_array(buf, eof),
        Framing::AfterArray => return split_after_array(buf, eof),
        Framing::SkipCsv => return skip_line(buf, Framing::Csv, eof, delim),
        Framing::SkipLines => return skip_line(buf, Framing::Lines, eof, delim),
        Framing::Csv | Framing::Lines => {}
    }
    let mut out = Split::default();
    let mut pos = 0;
    while pos < buf.len() {
        let found = match framing {
            Framing::Lines => memchr(b'\n', &buf[pos..]).map(|i| pos + i + 1),
            _ => csv_record_end(buf, pos, delim),
        };
        match found {
            Some(end) => {
                if end - pos > MAX_RECORD {
                    pos = cut(buf, pos, &mut out, framing, eof);
                } else {
                    out.ends.push(end as u32);
                    pos = end;
                }
            }
            None => {
                let unterminated_quote =
                    framing == Framing::Csv && in_quotes_at_end(buf, pos, delim);
                if eof {
                    if unterminated_quote {
                        pos = cut(buf, pos, &mut out, framing, eof);
                    } else {
                        out.ends.push(buf.len() as u32);
                        pos = buf.len();
                    }
                } else if buf.len() - pos > MAX_RECORD {
                    pos = cut(buf, pos, &mut out, framing, eof);
                    if out.framing_after.is_some() {
                        break;
                    }
                } else {
                    break;
                }
            }
        }
    }
    out.consumed = pos;
    out
}

/// Splits JSON array elements: each ends at the `,` (kept in the record)
/// or `]` (not kept) that follows it outside strings and nested values.
fn split_array(buf: &[u8], eof: bool) -> Split {
    let mut out = Split::default();
    let mut pos = 0;
    loop {
        let mut depth = 0usize;
        let (mut in_str, mut esc, mut seen) = (false, false, false);
        let mut found = None;
        for (i, &b) in buf.iter().enumerate().skip(pos) {
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                }
                continue;
            }
            match b {
                b'"' => {
                    in_str = true;
                    seen = true;
                }
                b'{' | b'[' => {
                    depth += 1;
                    seen = true;
                }
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' => {
                    found = Some((i, true));
                    break;
                }
                b',' if depth == 0 => {
                    found = Some((i, false));
                    break;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ => seen = true,
            }
            if i - pos > MAX_RECORD {
                break;
            }
        }
        match found {
            Some((i, false)) => {
                out.ends.push((i + 1) as u32);
                pos = i + 1;
            }
            Some((i, true)) => {
                if seen {
                    out.ends.push(i as u32);
                }
                out.consumed = i + 1;
                out.closed = true;
                return out;
            }
            None if buf.len() - pos > MAX_RECORD => {
                out.ends.push((pos + MAX_RECORD) as u32 | MALFORMED);
                pos += MAX_RECORD;
            }
            None => {
                if eof && seen {
                    // The file ends inside an element (cut short) or after
                    // one without the closing `]`.
                    let cut = depth > 0 || in_str;
                    out.ends
                        .push(buf.len() as u32 | if cut { MALFORMED } else { 0 });
                    pos = buf.len();
                } else if eof {
                    pos = buf.len();
                }
                out.consumed = pos;
                return out;
            }
        }
    }
}

/// After a JSON array: white space is skipped, anything else is one
/// malformed record.
fn split_after_array(buf: &[u8], eof: bool) -> Split {
    let mut out = Split::default();
    match buf.iter().position(|b| !b.is_ascii_whitespace()) {
        None => out.consumed = buf.len(),
        Some(_) if eof || buf.len() > MAX_RECORD => {
            let end = buf.len().min(MAX_RECORD);
            out.ends.push(end as u32 | MALFORMED);
            out.consumed = if eof { buf.len() } else { end };
        }
        Some(_) => {}
    }
    out
}

/// Cuts a malformed record at the end of its first physical line and
/// returns where scanning resumes. A line longer than [`MAX_RECORD`] is one
/// record however long: up to its newline in this buffer, or, when the
/// buffer ends first, to the buffer's end with the rest of the line skipped
/// by the next split ([`Framing::SkipCsv`] / [`Framing::SkipLines`]).
fn cut(buf: &[u8], pos: usize, out: &mut Split, framing: Framing, eof: bool) -> usize {
    let limit = (pos + MAX_RECORD).min(buf.len());
    let end = match memchr(b'\n', &buf[pos..limit]) {
        Some(i) => pos + i + 1,
        None => match memchr(b'\n', &buf[limit..]) {
            Some(i) => limit + i + 1,
            None => {
                if !eof {
                    out.framing_after = Some(match framing {
                        Framing::Lines => Framing::SkipLines,
                        _ => Framing::SkipCsv,
                    });
                }
                buf.len()
            }
        },
    };
    out.ends.push(end as u32 | MALFORMED);
    end
}

/// In a skip state: consumes through the next newline (no record), then
/// splits the rest as `base`.
fn skip_line(buf: &[u8], base: Framing, eof: bool, delim: u8) -> Split {
    match memchr(b'\n', buf) {
        Some(i) => {
            let mut s = split(&buf[i + 1..], base, eof, delim);
            s.consumed += i + 1;
            s.skipped_bytes = i + 1;
            s.skipped_newlines += 1;
            s.framing_after.get_or_insert(base);
            s
        }
        None => Split {
            consumed: buf.len(),
            framing_after: eof.then_some(base),
            ..Split::default()
        },
    }
}

/// The end (after the newline) of the CSV record starting at `start`, or
/// `None` when the buffer ends first.
fn csv_record_end(buf: &[u8], start: usize, delim: u8) -> Option<usize> {
    let mut i = start;
    loop {
        let j = i + memchr2(b'\n', b'"', &buf[i..])?;
        if buf[j] == b'\n' {
            return Some(j + 1);
        }
        let at_field_start = j == start || buf[j - 1] == delim;
        if !at_field_start {
            i = j + 1;
            continue;
        }
        i = quoted_end(buf, j + 1)?;
    }
}

/// Given the position after an opening quote, the position after the closing
/// quote, or `None` when the buffer ends inside the quoted field.
fn quoted_end(buf: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let q = i + memchr(b'"', &buf[i..])?;
        match buf.get(q + 1) {
            Some(b'"') => i = q + 2,
            Some(_) => return Some(q + 1),
            // A quote as the last byte: closed only if the data ends here,
            // which the caller decides (it sees no newline after it).
            None => return Some(q + 1),
        }
    }
}

/// Whether the CSV record starting at `start` is still inside a quoted field
/// at the end of the buffer.
fn in_quotes_at_end(buf: &[u8], start: usize, delim: u8) -> bool {
    let mut i = start;
    loop {
        let Some(off) = memchr2(b'\n', b'"', &buf[i..]) else {
            return false;
        };
        let j = i + off;
        if buf[j] == b'\n' {
            return false;
        }
        if !(j == start || buf[j - 1] == delim) {
            i = j + 1;
            continue;
        }
        match quoted_end(buf, j + 1) {
            Some(next) => i = next,
            None => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(data: &str, framing: Framing, eof: bool) -> (Vec<(String, bool)>, usize) {
        let s = split(data.as_bytes(), framing, eof, b',');
        let mut prev = 0;
        let recs = s
            .ends
            .iter()
            .map(|&e| {
                let end = (e & !MALFORMED) as usize;
                let r = (data[prev..end].to_string(), e & MALFORMED != 0);
                prev = end;
                r
            })
            .collect();
        (recs, s.consumed)
    }

    #[test]
    fn quoted_newlines_commas_and_quotes_stay_in_one_record() {
        let data = "a,b\n\"x,1\",\"line\nbreak\"\n\"say \"\"hi\"\"\",2\nlast,1";
        let (recs, consumed) = records(data, Framing::Csv, false);
        assert_eq!(
            recs,
            vec![
                ("a,b\n".into(), false),
                ("\"x,1\",\"line\nbreak\"\n".into(), false),
                ("\"say \"\"hi\"\"\",2\n".into(), false),
            ]
        );
        assert_eq!(&data[consumed..], "last,1");
        let (recs, consumed) = records(data, Framing::Csv, true);
        assert_eq!(recs.last(), Some(&("last,1".to_string(), false)));
        assert_eq!(consumed, data.len());
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_literal() {
        let (recs, _) = records("1,ab\"c,2\n3,4,5\n", Framing::Csv, true);
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn an_unterminated_quote_costs_one_line() {
        let data = "1,\"oops,2\n3,4,5\n6,7,8\n";
        let (recs, consumed) = records(data, Framing::Csv, true);
        assert_eq!(consumed, data.len());
        assert_eq!(recs[0], ("1,\"oops,2\n".to_string(), true));
        assert_eq!(recs[1], ("3,4,5\n".to_string(), false));
        assert_eq!(recs.len(), 3);
    }

    #[test]
    fn an_open_quote_is_carried_over_until_eof_or_the_limit() {
        let data = "1,\"open\nstill open";
        let (recs, consumed) = records(data, Framing::Csv, false);
        assert!(recs.is_empty());
        assert_eq!(consumed, 0);
    }

    #[test]
    fn over_long_records_are_cut() {
        let mut data = String::from("1,\"");
        data.push_str(&"x\n".repeat(MAX_RECORD));
        let (recs, consumed) = records(&data, Framing::Csv, false);
        assert!(consumed > 0);
        assert_eq!(recs[0], ("1,\"x\n".to_string(), true));
        let long_line = "y".repeat(MAX_RECORD + 10);
        let (recs, _) = records(&long_line, Framing::Lines, false);
        assert!(recs[0].1, "an over-long line is malformed");
    }

    #[test]
    fn an_over_long_line_is_one_record_even_across_buffers() {
        // Within one buffer: the whole line, through its newline.
        let line = format!("{}\nnext\n", "z".repeat(3 * MAX_RECORD));
        let s = split(line.as_bytes(), Framing::Lines, false, b',');
        assert_eq!(s.ends.len(), 2, "one malformed record and the next line");
        assert!(s.ends[0] & MALFORMED != 0);
        assert_eq!((s.ends[0] & !MALFORMED) as usize, 3 * MAX_RECORD + 1);
        // Across buffers: the first ends at the buffer's end and the rest
        // of the line is skipped by the next split, which finds "next".
        let first = "z".repeat(2 * MAX_RECORD);
        let s = split(first.as_bytes(), Framing::Csv, false, b',');
        assert_eq!(s.ends.len(), 1);
        assert_eq!(s.framing_after, Some(Framing::SkipCsv));
        let s = split(b"zzzz\nnext,1\n", Framing::SkipCsv, false, b',');
        assert_eq!(s.skipped_bytes, 5);
        assert_eq!(s.ends, vec![7], "only the next record, after the skip");
        assert_eq!(s.skipped_newlines, 1);
        assert_eq!(s.framing_after, Some(Framing::Csv));
        // Still inside the line: everything is skipped, the state stays.
        let s = split(b"zzzz", Framing::SkipLines, false, b',');
        assert!(s.ends.is_empty() && s.consumed == 4 && s.framing_after.is_none());
    }

    #[test]
    fn json_array_elements_split_outside_strings_and_nesting() {
        let data = r#" {"a":"x,]}"}, {"b":[1,{"c":"\"]"}]}} ,42]  "#;
        let (recs, consumed) = records(data, Framing::JsonArray, false);
        assert_eq!(
            recs,
            vec![
                (r#" {"a":"x,]}"},"#.to_string(), false),
                (r#" {"b":[1,{"c":"\"]"}]}} ,"#.to_string(), false),
                ("42".to_string(), false),
            ]
        );
        assert_eq!(&data[consumed..], "  ");
        assert!(split(data.as_bytes(), Framing::JsonArray, false, b',').closed);
    }

    #[test]
    fn a_cut_json_array_ends_in_a_malformed_element() {
        let data = "{\"a\":1},\n{\"b\":{\"c\":";
        let (recs, consumed) = records(data, Framing::JsonArray, false);
        assert_eq!(recs.len(), 1);
        assert_eq!(consumed, 8);
        let (recs, consumed) = records(data, Framing::JsonArray, true);
        assert_eq!(recs.len(), 2);
        assert!(recs[1].1, "the cut element is malformed");
        assert_eq!(consumed, data.len());
        // A complete last element without the closing bracket is a record.
        let s = split(b"{\"a\":1}\n", Framing::JsonArray, true, b',');
        assert_eq!((s.ends.len(), s.closed), (1, false));
        // Text after the array is one malformed record.
        let (recs, _) = records("  \n oops", Framing::AfterArray, true);
        assert_eq!(recs, vec![("  \n oops".to_string(), true)]);
        let (recs, consumed) = records("  \n ", Framing::AfterArray, true);
        assert_eq!((recs.len(), consumed), (0, 4));
    }

    #[test]
    fn lines_framing_splits_on_newlines_only() {
        let (recs, consumed) = records("{\"a\":\"x\ny\"}\n{}\npartial", Framing::Lines, false);
        assert_eq!(recs.len(), 3);
        assert_eq!(consumed, 15);
    }
}
