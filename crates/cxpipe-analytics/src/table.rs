//! Rendering a result table: an aligned text table for people, CSV, JSON or
//! Parquet for programs.
//!
//! Numbers are styled by column name, the same way for every report:
//! rates (`*_rate`, `*_attrition`, `*_trend`, `service_level`, `csat_top2`,
//! `missed_interval_share`, `precision`, `recall`) are fractions, shown as
//! percentages in the text table; durations (`*_s`) are seconds, shown with
//! one decimal. CSV and JSON carry fractions and seconds rounded to 6 and 3
//! decimals (JSON through serde_json: a number that is not finite becomes
//! null); Parquet keeps full precision. [`Table`] wraps a result frame with
//! this rendering.

use std::io::Write;

use polars::prelude::*;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::Error;
use crate::names::{CSAT_TOP2, MISSED_INTERVAL_SHARE, PRECISION, RECALL, SERVICE_LEVEL};

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned text table.
    Table,
    /// RFC 4180 CSV with a header.
    Csv,
    /// A JSON array of row objects.
    Json,
    /// A Parquet file (zstd).
    Parquet,
}

impl OutputFormat {
    /// Parses `table`, `csv`, `json` or `parquet`.
    pub fn parse(s: &str) -> Result<OutputFormat, Error> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "csv" => Ok(OutputFormat::Csv),
            "json" => Ok(OutputFormat::Json),
            "parquet" => Ok(OutputFormat::Parquet),
            _ => Err(Error::Usage(format!(
                "unknown format {s:?}; choose table, csv, json or parquet"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Text,
    Int,
    Rate,
    Seconds,
    Float,
}

fn style(name: &str, dtype: &DataType) -> Style {
    match dtype {
        DataType::Float32 | DataType::Float64 => {
            if name.ends_with("_rate")
                || name.ends_with("_attrition")
                || name.ends_with("_trend")
                || matches!(
                    name,
                    SERVICE_LEVEL | CSAT_TOP2 | MISSED_INTERVAL_SHARE | PRECISION | RECALL
                )
            {
                Style::Rate
            } else if name.ends_with("_s") {
                Style::Seconds
            } else {
                Style::Float
            }
        }
        d if d.is_integer() => Style::Int,
        _ => Style::Text,
    }
}

/// One cell as the text table shows it (`-` for null).
fn table_cell(v: &AnyValue, style: Style) -> String {
    if v.is_null() {
        return "-".to_string();
    }
    match (style, v.extract::<f64>()) {
        (Style::Rate, Some(f)) => format!("{:.1}%", f * 100.0),
        (Style::Seconds, Some(f)) => format!("{f:.1}"),
        (Style::Float, Some(f)) => format!("{f:.2}"),
        (Style::Int, Some(_)) => v
            .extract::<i64>()
            .map_or_else(|| v.to_string(), |i| i.to_string()),
        _ => printable(&text(v)),
    }
}

/// Text for a terminal: control characters from the data (an escape
/// sequence could move the cursor, retitle the window or hide rows) are
/// shown escaped (`\u{1b}`), never sent raw.
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A text cell for CSV: one a spreadsheet would run as a formula (it starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// as OWASP's CSV-injection advice says. Numbers are never text cells, so
/// they are never changed.
fn spreadsheet_safe(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A number for CSV/JSON: rounded by style, trailing zeros trimmed.
fn plain_number(f: f64, style: Style) -> String {
    let decimals = match style {
        Style::Seconds => 3,
        _ => 6,
    };
    let s = format!("{f:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn plain_cell(v: &AnyValue, style: Style) -> Option<String> {
    if v.is_null() {
        return None;
    }
    Some(match (style, v.extract::<f64>()) {
        (Style::Rate | Style::Seconds | Style::Float, Some(f)) => plain_number(f, style),
        (Style::Int, _) => v
            .extract::<i64>()
            .map_or_else(|| text(v), |i| i.to_string()),
        _ => text(v),
    })
}

/// Writes `df` in `format`. `caption` (the parameters a reader needs, such
/// as the service-level variant) heads the text table; the other formats
/// carry it in their columns.
pub fn write(
    df: &mut DataFrame,
    format: OutputFormat,
    caption: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let io = |what: &str| Error::io(format!("writing the {what} output"));
    match format {
        OutputFormat::Table => write_table(df, caption, out).map_err(io("table")),
        OutputFormat::Csv => write_csv(df, out).map_err(io("CSV")),
        OutputFormat::Json => write_json(df, out).map_err(io("JSON")),
        OutputFormat::Parquet => {
            ParquetWriter::new(out)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(df)
                .map_err(Error::polars("writing the Parquet output"))?;
            Ok(())
        }
    }
}

fn columns(df: &DataFrame) -> Vec<(String, Style, &Column)> {
    df.columns()
        .iter()
        .map(|c| (c.name().to_string(), style(c.name(), c.dtype()), c))
        .collect()
}

/// Every cell of the text table, column by column, the heading first.
fn table_cells(cols: &[(String, Style, &Column)], height: usize) -> Vec<Vec<String>> {
    cols.iter()
        .map(|(name, style, c)| {
            let mut col_cells = Vec::with_capacity(height + 1);
            col_cells.push(name.clone());
            for i in 0..height {
                let v = c.get(i).unwrap_or(AnyValue::Null);
                col_cells.push(table_cell(&v, *style));
            }
            col_cells
        })
        .collect()
}

fn cell_widths(cells: &[Vec<String>]) -> Vec<usize> {
    cells
        .iter()
        .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect()
}

/// The width of each column of `df` in the text table (its heading
/// included), in the frame's order.
pub fn table_widths(df: &DataFrame) -> Vec<(String, usize)> {
    let cols = columns(df);
    let widths = cell_widths(&table_cells(&cols, df.height()));
    cols.into_iter().map(|(n, _, _)| n).zip(widths).collect()
}

/// The gap between two columns of the text table.
const GAP: usize = 2;

/// Chooses the columns of a text table at most `width` characters wide:
/// every key (even when the keys alone are wider), then the columns of
/// `first` in that order, then the others in the frame's order, each one
/// that still fits. Returns the columns shown, in the frame's order, and
/// those left out, in the frame's order. `widths` is [`table_widths`].
pub fn fit_columns(
    widths: &[(String, usize)],
    keys: &[&str],
    first: &[&str],
    width: usize,
) -> (Vec<String>, Vec<String>) {
    let mut shown = vec![false; widths.len()];
    let mut used = 0usize;
    let mut take = |i: usize, must: bool, used: &mut usize| {
        if shown[i] {
            return;
        }
        let extra = widths[i].1 + if *used == 0 { 0 } else { GAP };
        if must || *used + extra <= width {
            shown[i] = true;
            *used += extra;
        }
    };
    let index = |name: &str| widths.iter().position(|(n, _)| n == name);
    for k in keys {
        if let Some(i) = index(k) {
            take(i, true, &mut used);
        }
    }
    for f in first {
        if let Some(i) = index(f) {
            take(i, false, &mut used);
        }
    }
    for i in 0..widths.len() {
        take(i, false, &mut used);
    }
    let mut kept = Vec::new();
    let mut left = Vec::new();
    for (i, (name, _)) in widths.iter().enumerate() {
        if shown[i] {
            kept.push(name.clone());
        } else {
            left.push(name.clone());
        }
    }
    (kept, left)
}

fn write_table(df: &DataFrame, caption: Option<&str>, out: &mut dyn Write) -> std::io::Result<()> {
    let cols = columns(df);
    let cells = table_cells(&cols, df.height());
    let widths = cell_widths(&cells);
    if let Some(caption) = caption {
        writeln!(out, "{caption}")?;
    }
    let mut line = String::new();
    for row in 0..=df.height() {
        line.clear();
        for (j, ((_, style, _), col_cells)) in cols.iter().zip(&cells).enumerate() {
            if j > 0 {
                line.extend(std::iter::repeat_n(' ', GAP));
            }
            let cell = &col_cells[row];
            let pad = widths[j] - cell.chars().count();
            let right = *style != Style::Text && row > 0;
            if right {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if j + 1 < cols.len() {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    if df.height() == 0 {
        writeln!(out, "(no rows)")?;
    }
    Ok(())
}

fn write_csv(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let cols = columns(df);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(cols.iter().map(|(n, _, _)| n.as_str()))?;
    for i in 0..df.height() {
        let row = cols.iter().map(|(_, style, c)| {
            let v = c.get(i).unwrap_or(AnyValue::Null);
            let cell = plain_cell(&v, *style).unwrap_or_default();
            match v {
                AnyValue::String(_) | AnyValue::StringOwned(_) => spreadsheet_safe(cell),
                _ => cell,
            }
        });
        w.write_record(row)?;
    }
    w.flush()
}

/// One cell of a JSON row: what [`plain_cell`] writes in CSV, typed.
enum JsonCell {
    Null,
    Bool(bool),
    Int(i64),
    /// Already rounded by style; a non-finite number is written as null.
    Float(f64),
    Text(String),
}

impl JsonCell {
    fn of(v: &AnyValue, style: Style) -> JsonCell {
        let Some(plain) = plain_cell(v, style) else {
            return JsonCell::Null;
        };
        match (v, style) {
            (AnyValue::Boolean(b), _) => JsonCell::Bool(*b),
            (_, Style::Text) => JsonCell::Text(plain),
            (_, Style::Int) => plain.parse().map_or(JsonCell::Text(plain), JsonCell::Int),
            // `plain` is the number rounded and trimmed (or `NaN`, `inf`).
            _ => plain.parse().map_or(JsonCell::Null, JsonCell::Float),
        }
    }
}

impl Serialize for JsonCell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonCell::Null => s.serialize_none(),
            JsonCell::Bool(b) => s.serialize_bool(*b),
            JsonCell::Int(i) => s.serialize_i64(*i),
            JsonCell::Float(f) if f.is_finite() => s.serialize_f64(*f),
            JsonCell::Float(_) => s.serialize_none(),
            JsonCell::Text(t) => s.serialize_str(t),
        }
    }
}

/// Row `row` of a frame as a JSON object, columns in the frame's order.
struct JsonRow<'a> {
    cols: &'a [(String, Style, &'a Column)],
    row: usize,
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.cols.len()))?;
        for (name, style, c) in self.cols {
            let v = c.get(self.row).unwrap_or(AnyValue::Null);
            map.serialize_entry(name, &JsonCell::of(&v, *style))?;
        }
        map.end()
    }
}

/// A frame's rows as a JSON array of objects, with the numbers rounded as
/// in [`write`]'s JSON: what a page embeds as data.
pub struct JsonRows<'a>(pub &'a DataFrame);

impl Serialize for JsonRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cols = columns(self.0);
        let mut seq = s.serialize_seq(Some(self.0.height()))?;
        for row in 0..self.0.height() {
            seq.serialize_element(&JsonRow { cols: &cols, row })?;
        }
        seq.end()
    }
}

/// serde_json's compact output with a space after `:` and `,`, and
/// numbers in plain decimal notation (`0.000001`, not `1e-6`; `2`, not
/// `2.0`): the rounded numbers read as they do in CSV.
struct RowFormatter;

impl serde_json::ser::Formatter for RowFormatter {
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> std::io::Result<()> {
        // Rust's `Display` is the shortest text that reads back as `value`,
        // never in exponent notation; serde_json calls this for finite
        // values only.
        write!(w, "{value}")
    }
}

/// One JSON row object per line, in an array.
fn write_json(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let cols = columns(df);
    writeln!(out, "[")?;
    for row in 0..df.height() {
        out.write_all(b"  ")?;
        let mut ser = serde_json::Serializer::with_formatter(&mut *out, RowFormatter);
        JsonRow { cols: &cols, row }
            .serialize(&mut ser)
            .map_err(std::io::Error::other)?;
        if row + 1 < df.height() {
            out.write_all(b",")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "]")?;
    Ok(())
}

/// A result table (KPIs, an SLA report, turnover signals, …): a frame with
/// the rendering of this module, so that callers need not name polars.
#[derive(Debug, Clone)]
pub struct Table(DataFrame);

impl Table {
    /// The number of rows.
    pub fn height(&self) -> usize {
        self.0.height()
    }

    /// The column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.0
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    /// These columns, in this order.
    pub fn select(&self, names: &[&str]) -> Result<Table, Error> {
        self.0
            .select(names.iter().copied())
            .map(Table)
            .map_err(Error::polars("selecting columns"))
    }

    /// Every column but these (names it does not have are ignored).
    pub fn drop(&self, names: &[&str]) -> Table {
        Table(self.0.drop_many(names.iter().copied()))
    }

    /// Writes the table in `format` (see [`write`]).
    pub fn write(
        &mut self,
        format: OutputFormat,
        caption: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), Error> {
        write(&mut self.0, format, caption, out)
    }

    /// The width of each column in the text table ([`table_widths`]).
    pub fn widths(&self) -> Vec<(String, usize)> {
        table_widths(&self.0)
    }

    /// The rows as JSON objects, rounded as [`OutputFormat::Json`] writes them.
    pub fn json_rows(&self) -> JsonRows<'_> {
        JsonRows(&self.0)
    }

    /// The frame, for code that still works on polars directly.
    pub fn frame(&self) -> &DataFrame {
        &self.0
    }

    /// The frame, taken out.
    pub fn into_frame(self) -> DataFrame {
        self.0
    }
}

impl From<DataFrame> for Table {
    fn from(df: DataFrame) -> Table {
        Table(df)
    }
}

impl Serialize for Table {
    /// As [`Table::json_rows`].
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json_rows().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("agent_id".into(), [Some("a,1"), None]),
            Column::new("handled".into(), [3i64, 0]),
            Column::new("aht_s".into(), [Some(123.456_78), None]),
            Column::new("hold_rate".into(), [Some(2.0 / 3.0), None]),
        ])
        .expect("frame")
    }

    fn render(format: OutputFormat) -> String {
        let mut buf = Vec::new();
        write(&mut sample(), format, Some("caption"), &mut buf).expect("write");
        String::from_utf8(buf).expect("utf8")
    }

    #[test]
    fn table_is_aligned_with_percentages_and_one_decimal() {
        let t = render(OutputFormat::Table);
        assert_eq!(
            t,
            "caption\nagent_id  handled  aht_s  hold_rate\na,1             3  123.5      66.7%\n-               0      -          -\n"
        );
    }

    #[test]
    fn the_widths_are_those_of_the_rendered_cells() {
        // agent_id: "agent_id" (8); handled: "handled" (7); aht_s: "123.5"
        // (5); hold_rate: "hold_rate" (9).
        let w = table_widths(&sample());
        let w: Vec<(&str, usize)> = w.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        assert_eq!(
            w,
            [
                ("agent_id", 8),
                ("handled", 7),
                ("aht_s", 5),
                ("hold_rate", 9)
            ]
        );
    }

    #[test]
    fn columns_fit_keys_first_then_the_first_list_then_the_rest() {
        let w: Vec<(String, usize)> = [("k", 4), ("a", 10), ("b", 10), ("c", 3), ("d", 10)]
            .iter()
            .map(|(n, w)| (n.to_string(), *w))
            .collect();
        let names = |v: Vec<String>| v.join(",");
        // 4 + 2+10 (b, first) = 16; a does not fit in 20 (28); c: 16+2+3 = 21 > 20.
        let (kept, left) = fit_columns(&w, &["k"], &["b"], 20);
        assert_eq!((names(kept), names(left)), ("k,b".into(), "a,c,d".into()));
        // At 21, c fits after b; shown in the frame's order.
        let (kept, left) = fit_columns(&w, &["k"], &["b"], 21);
        assert_eq!((names(kept), names(left)), ("k,b,c".into(), "a,d".into()));
        // Everything fits in 4+4*12 = 52.
        let (kept, left) = fit_columns(&w, &["k"], &[], 52);
        assert_eq!((names(kept), left.len()), ("k,a,b,c,d".into(), 0));
        // The keys are shown even when they alone are too wide.
        let (kept, _) = fit_columns(&w, &["k", "a"], &["c"], 5);
        assert_eq!(names(kept), "k,a");
    }

    #[test]
    fn json_writes_nan_as_null_and_small_numbers_plainly() {
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("x_rate".into(), [f64::NAN, 0.000_001_2, 2.0, -0.000_000_1]),
            Column::new("ok".into(), [true, false, true, false]),
            Column::new("name".into(), ["a\"b\u{1}", "", "é", "\n"]),
        ])
        .expect("frame");
        let mut buf = Vec::new();
        write(&mut df, OutputFormat::Json, None, &mut buf).expect("write");
        assert_eq!(
            String::from_utf8(buf).expect("utf8"),
            "[\n  {\"x_rate\": null, \"ok\": true, \"name\": \"a\\\"b\\u0001\"},\n  \
             {\"x_rate\": 0.000001, \"ok\": false, \"name\": \"\"},\n  \
             {\"x_rate\": 2, \"ok\": true, \"name\": \"é\"},\n  \
             {\"x_rate\": 0, \"ok\": false, \"name\": \"\\n\"}\n]\n"
        );
        let rows = serde_json::to_string(&Table::from(df).json_rows()).expect("json");
        assert!(rows.starts_with("[{\"x_rate\":null,\"ok\":true,"), "{rows}");
    }

    #[test]
    fn csv_text_cells_cannot_be_formulas_and_terminal_text_cannot_escape() {
        let mut df = DataFrame::new_infer_height(vec![
            Column::new(
                "agent_id".into(),
                [
                    "=HYPERLINK(\"x\")",
                    "+1",
                    "-2",
                    "@SUM(A1)",
                    "ok",
                    "\x1b[2Jgone",
                ],
            ),
            Column::new("delta_s".into(), [-1.5f64, 2.0, -3.0, 0.0, 1.0, 2.0]),
        ])
        .expect("frame");
        let mut csv = Vec::new();
        write(&mut df, OutputFormat::Csv, None, &mut csv).expect("csv");
        assert_eq!(
            String::from_utf8(csv).expect("utf8"),
            "agent_id,delta_s\n\"'=HYPERLINK(\"\"x\"\")\",-1.5\n'+1,2\n'-2,-3\n'@SUM(A1),0\nok,1\n\u{1b}[2Jgone,2\n"
        );
        let mut table = Vec::new();
        write(&mut df, OutputFormat::Table, None, &mut table).expect("table");
        let table = String::from_utf8(table).expect("utf8");
        assert!(!table.contains('\x1b'), "{table}");
        assert!(table.contains("\\u{1b}[2Jgone"), "{table}");
    }

    #[test]
    fn csv_and_json_round_and_quote() {
        assert_eq!(
            render(OutputFormat::Csv),
            "agent_id,handled,aht_s,hold_rate\n\"a,1\",3,123.457,0.666667\n,0,,\n"
        );
        let json = render(OutputFormat::Json);
        assert_eq!(
            json,
            "[\n  {\"agent_id\": \"a,1\", \"handled\": 3, \"aht_s\": 123.457, \"hold_rate\": 0.666667},\n  {\"agent_id\": null, \"handled\": 0, \"aht_s\": null, \"hold_rate\": null}\n]\n"
        );
    }
}
