//! Parquet files of the dataset: writer properties (SPEC §6), reading ids
//! back, and rewriting a file without some of its rows.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow_array::types::Int32Type;
use arrow_array::{Array, BooleanArray, DictionaryArray, Int64Array, RecordBatch, StringArray};
use cxpipe_model::{COLUMNS, ColumnKind, SCHEMA_VERSION, SCHEMA_VERSION_KEY, arrow_schema, col};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::Error;

/// Rows per row group (SPEC §6: about 1M).
pub const ROW_GROUP_ROWS: usize = 1_000_000;

/// The writer properties of every dataset file: zstd, dictionary encoding for
/// the low-cardinality columns only, statistics, the schema version.
pub fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_created_by(format!("cxpipe {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]));
    for c in COLUMNS {
        // Dictionary pages for the low-cardinality columns and the
        // durations (whole seconds in most exports: few distinct values;
        // with milliseconds the dictionary overflows and the chunk falls
        // back to plain). Ids and the other timestamps would overflow it
        // anyway, after hashing every value (the interner was ~7% of ingest
        // CPU with dictionaries on every column). Measured at 10M rows:
        // dictionaries on the durations 436 → 404 MB, and less CPU (13.5 →
        // 13.1 s), as zstd then has less to compress.
        let duration = matches!(
            c.name,
            col::WAIT_MS | col::TALK_MS | col::HOLD_MS | col::ACW_MS | col::HANDLE_MS
        );
        let dict = duration
            || matches!(
                c.kind,
                ColumnKind::Dict | ColumnKind::Int8 | ColumnKind::Bool
            );
        b = b.set_column_dictionary_enabled(ColumnPath::from(c.name), dict);
        // A part file holds one input file's rows in line order, mostly in
        // arrival order: delta encoding stores the line numbers in almost
        // nothing (1.0 → 0.0 B a row) and the arrivals in less (449.6 →
        // 436.1 MB with both, and 5% less ingest CPU: zstd's input shrinks).
        // DuckDB, Spark (≥ 3.3), pyarrow and polars all read it.
        if matches!(c.name, col::SOURCE_LINE | col::ARRIVED_AT) {
            b = b.set_column_encoding(ColumnPath::from(c.name), Encoding::DELTA_BINARY_PACKED);
        }
        // Min/max of pseudonyms, chain ids and free text prune nothing and
        // cost a string comparison per row; every other column keeps them.
        if matches!(c.name, col::CUSTOMER_KEY | col::CHAIN_ID | col::DISPOSITION) {
            b = b.set_column_statistics_enabled(ColumnPath::from(c.name), EnabledStatistics::None);
        }
    }
    b.build()
}

/// Opens a Parquet writer of the canonical schema at `path`, for batches
/// of the canonical schema.
pub fn create_writer(path: &Path) -> Result<ArrowWriter<BufWriter<File>>, Error> {
    let f = File::create(path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, f),
        arrow_schema(),
        Some(writer_properties()),
    )
    .map_err(|e| Error::Parquet(format!("creating {}", path.display()), e))
}

/// Opens a Parquet writer for batches of [`super::batch::storage_schema`]
/// (plain Utf8 where the canonical schema has dictionaries). The file is the
/// same as [`create_writer`]'s: the same Parquet columns and encodings, and
/// the canonical Arrow schema embedded, so readers get dictionary arrays.
pub fn create_storage_writer(path: &Path) -> Result<ArrowWriter<BufWriter<File>>, Error> {
    let f = File::create(path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    let mut props = writer_properties();
    parquet::arrow::add_encoded_arrow_schema_to_metadata(&arrow_schema(), &mut props);
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    ArrowWriter::try_new_with_options(
        BufWriter::with_capacity(1 << 20, f),
        super::batch::storage_schema(),
        options,
    )
    .map_err(|e| Error::Parquet(format!("creating {}", path.display()), e))
}

/// Closes a writer, syncing the file to disk.
pub fn close_writer(w: ArrowWriter<BufWriter<File>>, path: &Path) -> Result<(), Error> {
    let ctx = || format!("writing {}", path.display());
    let buf = w.into_inner().map_err(|e| Error::Parquet(ctx(), e))?;
    let f = buf
        .into_inner()
        .map_err(|e| Error::io(ctx(), e.into_error()))?;
    f.sync_all().map_err(|e| Error::io(ctx(), e))
}

fn open_reader(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, Error> {
    let f = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| Error::Parquet(format!("reading {}", path.display()), e))
}

/// Calls `each(row_index, interaction_id)` for every row of a dataset file.
pub fn for_each_id(path: &Path, mut each: impl FnMut(u32, &str)) -> Result<(), Error> {
    let builder = open_reader(path)?;
    let idx = builder
        .schema()
        .index_of(col::INTERACTION_ID)
        .map_err(|_| Error::Invalid(format!("{} has no interaction_id column", path.display())))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [idx]);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| Error::Parquet(format!("reading {}", path.display()), e))?;
    let mut row = 0u32;
    for batch in reader {
        let batch = batch.map_err(|e| Error::Arrow(format!("reading {}", path.display()), e))?;
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| {
                Error::Invalid(format!("{}: interaction_id is not text", path.display()))
            })?;
        for i in 0..ids.len() {
            each(row, ids.value(i));
            row += 1;
        }
    }
    Ok(())
}

/// Reads every row of a dataset file.
pub fn read_all(path: &Path) -> Result<Vec<RecordBatch>, Error> {
    batches(path)?.collect()
}

/// The rows of a dataset file, one batch of at most 65,536 rows at a time
/// (memory stays that of a batch and a row group, however large the file).
fn batches(path: &Path) -> Result<impl Iterator<Item = Result<RecordBatch, Error>>, Error> {
    let reader = open_reader(path)?
        .with_batch_size(65_536)
        .build()
        .map_err(|e| Error::Parquet(format!("reading {}", path.display()), e))?;
    let path = path.to_path_buf();
    Ok(reader.map(move |b| b.map_err(|e| Error::Arrow(format!("reading {}", path.display()), e))))
}

/// Where a stored row came from: its id, export file and line.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// `interaction_id`.
    pub id: &'a str,
    /// `source_file`.
    pub file: &'a str,
    /// `source_line`.
    pub line: i64,
}

/// The origin columns of a batch of stored rows.
struct Origins<'b> {
    ids: &'b StringArray,
    files: &'b DictionaryArray<Int32Type>,
    names: &'b StringArray,
    lines: &'b Int64Array,
}

impl<'b> Origins<'b> {
    fn of(batch: &'b RecordBatch, path: &Path) -> Result<Origins<'b>, Error> {
        let bad = |c: &str| {
            Error::Invalid(format!(
                "{}: column {c} is missing or of another type",
                path.display()
            ))
        };
        let get = |c: &str| batch.column_by_name(c).ok_or_else(|| bad(c));
        let files = get(col::SOURCE_FILE)?
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .ok_or_else(|| bad(col::SOURCE_FILE))?;
        Ok(Origins {
            ids: get(col::INTERACTION_ID)?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| bad(col::INTERACTION_ID))?,
            names: files
                .values()
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| bad(col::SOURCE_FILE))?,
            files,
            lines: get(col::SOURCE_LINE)?
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| bad(col::SOURCE_LINE))?,
        })
    }

    fn row(&self, i: usize) -> Origin<'b> {
        let key = self.files.keys().value(i) as usize;
        Origin {
            id: self.ids.value(i),
            file: self.names.value(key),
            line: self.lines.value(i),
        }
    }
}

/// The export file and line of the rows `rows` (sorted ascending) of a
/// dataset file, in that order.
pub fn origins_of(path: &Path, rows: &[u32]) -> Result<Vec<(String, i64)>, Error> {
    let mut out = Vec::with_capacity(rows.len());
    let mut base = 0usize;
    let mut next = rows.iter().peekable();
    for batch in batches(path)? {
        let batch = batch?;
        let o = Origins::of(&batch, path)?;
        let end = base + batch.num_rows();
        while let Some(&&r) = next.peek() {
            if r as usize >= end {
                break;
            }
            let row = o.row(r as usize - base);
            out.push((row.file.to_string(), row.line));
            next.next();
        }
        base = end;
    }
    if out.len() != rows.len() {
        return Err(Error::Invalid(format!(
            "{} has fewer rows than the dedupe recorded",
            path.display()
        )));
    }
    Ok(out)
}

/// Copies `src` to `dst` without the rows whose indices are in `drop`
/// (sorted ascending), calling `on_drop(k, origin)` for `drop[k]`. Returns
/// the rows kept; with none kept no file is made.
pub fn rewrite_without(
    src: &Path,
    dst: &Path,
    drop: &[u32],
    on_drop: &mut dyn FnMut(usize, Origin<'_>) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut writer = None;
    let mut kept = 0u64;
    let mut row = 0u32;
    let mut d = 0;
    for batch in batches(src)? {
        let batch = batch?;
        let n = batch.num_rows();
        let origins = Origins::of(&batch, src)?;
        let mut mask = Vec::with_capacity(n);
        for i in 0..n {
            let r = row + i as u32;
            while d < drop.len() && drop[d] < r {
                d += 1;
            }
            let dropped = d < drop.len() && drop[d] == r;
            if dropped {
                on_drop(d, origins.row(i))?;
            }
            mask.push(Some(!dropped));
        }
        let mask: BooleanArray = mask.into_iter().collect();
        row += n as u32;
        let filtered = arrow_select::filter::filter_record_batch(&batch, &mask)
            .map_err(|e| Error::Arrow(format!("filtering {}", src.display()), e))?;
        if filtered.num_rows() == 0 {
            continue;
        }
        kept += filtered.num_rows() as u64;
        if writer.is_none() {
            writer = Some(create_writer(dst)?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&filtered)
                .map_err(|e| Error::Parquet(format!("writing {}", dst.display()), e))?;
        }
    }
    if let Some(w) = writer {
        close_writer(w, dst)?;
    }
    Ok(kept)
}
