//! Building Arrow record batches of the canonical schema from rows.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int8Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray};
use arrow_schema::SchemaRef;
use cxpipe_model::{Channel, Direction};

use crate::row::Row;

/// A dictionary column of keys into a fixed list of values.
fn enum_column<'a>(keys: &mut Vec<i32>, values: impl Iterator<Item = &'a str>) -> ArrayRef {
    let keys = Int32Array::from(std::mem::take(keys));
    let values: ArrayRef = Arc::new(StringArray::from_iter_values(values));
    // Keys are indices of the value lists they were made from.
    Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, values)
            .unwrap_or_else(|e| panic!("enum dictionary keys out of range: {e}")),
    )
}

/// The schema of the batches a [`RowBuffer`] makes: the canonical schema,
/// except that queue, agent_id, team, site and disposition are plain Utf8.
/// Parquet dictionary-encodes them either way (one hash per value); building
/// Arrow dictionaries first would hash every value twice. The files still
/// carry the canonical Arrow schema (see `super::parquet::create_writer`), so
/// readers get dictionary arrays back.
pub fn storage_schema() -> SchemaRef {
    use cxpipe_model::col;
    let canonical = cxpipe_model::arrow_schema();
    let fields: Vec<arrow_schema::Field> = canonical
        .fields()
        .iter()
        .map(|f| {
            if matches!(
                f.name().as_str(),
                col::QUEUE | col::AGENT_ID | col::TEAM | col::SITE | col::DISPOSITION
            ) {
                f.as_ref()
                    .clone()
                    .with_data_type(arrow_schema::DataType::Utf8)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        canonical.metadata().clone(),
    ))
}

/// Bytes of the text columns of one batch.
#[derive(Default)]
struct TextBytes {
    interaction_id: usize,
    chain_id: usize,
    queue: usize,
    agent_id: usize,
    team: usize,
    site: usize,
    customer_key: usize,
    disposition: usize,
}

/// Column builders for one batch of canonical rows.
pub struct RowBuffer {
    schema: SchemaRef,
    interaction_id: StringBuilder,
    chain_id: StringBuilder,
    // Enum columns are stored as dictionary keys into their fixed value
    // lists: no hashing per row.
    channel: Vec<i32>,
    direction: Vec<i32>,
    queue: StringBuilder,
    agent_id: StringBuilder,
    team: StringBuilder,
    site: StringBuilder,
    customer_key: StringBuilder,
    arrived_at: TimestampMicrosecondBuilder,
    answered_at: TimestampMicrosecondBuilder,
    ended_at: TimestampMicrosecondBuilder,
    wait_ms: Int64Builder,
    talk_ms: Int64Builder,
    hold_ms: Int64Builder,
    acw_ms: Int64Builder,
    handle_ms: Int64Builder,
    abandoned: BooleanBuilder,
    transferred: BooleanBuilder,
    disposition: StringBuilder,
    csat: Int8Builder,
    // A buffer holds rows of one file: one dictionary value, key 0.
    source_file: Option<String>,
    source_line: Int64Builder,
    len: usize,
}

impl RowBuffer {
    /// An empty buffer for rows of the given schema.
    pub fn new(schema: SchemaRef, capacity: usize) -> RowBuffer {
        let text = TextBytes {
            interaction_id: capacity * 16,
            chain_id: capacity * 4,
            customer_key: capacity * 32,
            ..TextBytes::default()
        };
        RowBuffer::sized(schema, capacity, &text)
    }

    /// An empty buffer with room for `capacity` rows and `text` bytes.
    fn sized(schema: SchemaRef, capacity: usize, text: &TextBytes) -> RowBuffer {
        let ts = || TimestampMicrosecondBuilder::with_capacity(capacity);
        let i64b = || Int64Builder::with_capacity(capacity);
        let strings = |bytes: usize| StringBuilder::with_capacity(capacity, bytes);
        RowBuffer {
            schema,
            interaction_id: strings(text.interaction_id),
            chain_id: strings(text.chain_id),
            channel: Vec::with_capacity(capacity),
            direction: Vec::with_capacity(capacity),
            queue: strings(text.queue),
            agent_id: strings(text.agent_id),
            team: strings(text.team),
            site: strings(text.site),
            customer_key: strings(text.customer_key),
            arrived_at: ts(),
            answered_at: ts(),
            ended_at: ts(),
            wait_ms: i64b(),
            talk_ms: i64b(),
            hold_ms: i64b(),
            acw_ms: i64b(),
            handle_ms: i64b(),
            abandoned: BooleanBuilder::with_capacity(capacity),
            transferred: BooleanBuilder::with_capacity(capacity),
            disposition: strings(text.disposition),
            csat: Int8Builder::with_capacity(capacity),
            source_file: None,
            source_line: i64b(),
            len: 0,
        }
    }

    /// Rows buffered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no row is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one row.
    pub fn push(&mut self, row: &Row<'_>, source_file: &str, source_line: u64) {
        self.interaction_id.append_value(row.interaction_id);
        self.chain_id.append_option(row.chain_id);
        self.channel.push(row.channel.index() as i32);
        self.direction.push(row.direction.index() as i32);
        self.queue.append_option(row.queue);
        self.agent_id.append_option(row.agent_id);
        self.team.append_option(row.team);
        self.site.append_option(row.site);
        match &row.customer_key {
            // The key is 32 lower-case hex digits, always ASCII.
            Some(k) => self
                .customer_key
                .append_value(std::str::from_utf8(k).unwrap_or("")),
            None => self.customer_key.append_null(),
        }
        self.arrived_at.append_value(row.arrived_at);
        self.answered_at.append_option(row.answered_at);
        self.ended_at.append_option(row.ended_at);
        self.wait_ms.append_option(row.wait_ms);
        self.talk_ms.append_value(row.talk_ms);
        self.hold_ms.append_value(row.hold_ms);
        self.acw_ms.append_value(row.acw_ms);
        self.handle_ms.append_value(row.handle_ms);
        self.abandoned.append_value(row.abandoned);
        self.transferred.append_value(row.transferred);
        self.disposition.append_option(row.disposition.as_deref());
        self.csat.append_option(row.csat);
        // One source file per buffer: set by its first row (comparing the
        // name on every row was a memcmp a row).
        if self.source_file.is_none() {
            self.source_file = Some(source_file.to_string());
        }
        debug_assert_eq!(self.source_file.as_deref(), Some(source_file));
        self.source_line.append_value(source_line as i64);
        self.len += 1;
    }

    /// Takes the buffered rows as a record batch and empties the buffer.
    ///
    /// The emptied buffer has room for as many rows and text bytes as the
    /// batch it gave: Arrow's builders hand their buffers to the arrays
    /// they finish and would otherwise start again from nothing, growing by
    /// doubling (a realloc and a copy each time) through every batch. A full
    /// buffer is the common case (a part file's batches are all full but
    /// its last), so the next batch needs the same.
    pub fn finish(&mut self) -> RecordBatch {
        let text = TextBytes {
            interaction_id: self.interaction_id.values_slice().len(),
            chain_id: self.chain_id.values_slice().len(),
            queue: self.queue.values_slice().len(),
            agent_id: self.agent_id.values_slice().len(),
            team: self.team.values_slice().len(),
            site: self.site.values_slice().len(),
            customer_key: self.customer_key.values_slice().len(),
            disposition: self.disposition.values_slice().len(),
        };
        let fresh = RowBuffer::sized(self.schema.clone(), self.len, &text);
        std::mem::replace(self, fresh).into_batch()
    }

    fn into_batch(mut self) -> RecordBatch {
        let utc = "UTC";
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.interaction_id.finish()),
            Arc::new(self.chain_id.finish()),
            enum_column(&mut self.channel, Channel::ALL.iter().map(|c| c.as_str())),
            enum_column(
                &mut self.direction,
                Direction::ALL.iter().map(|d| d.as_str()),
            ),
            Arc::new(self.queue.finish()),
            Arc::new(self.agent_id.finish()),
            Arc::new(self.team.finish()),
            Arc::new(self.site.finish()),
            Arc::new(self.customer_key.finish()),
            Arc::new(self.arrived_at.finish().with_timezone(utc)),
            Arc::new(self.answered_at.finish().with_timezone(utc)),
            Arc::new(self.ended_at.finish().with_timezone(utc)),
            Arc::new(self.wait_ms.finish()),
            Arc::new(self.talk_ms.finish()),
            Arc::new(self.hold_ms.finish()),
            Arc::new(self.acw_ms.finish()),
            Arc::new(self.handle_ms.finish()),
            Arc::new(self.abandoned.finish()),
            Arc::new(self.transferred.finish()),
            Arc::new(self.disposition.finish()),
            Arc::new(self.csat.finish()),
            {
                let mut keys = vec![0i32; self.len];
                enum_column(&mut keys, self.source_file.as_deref().into_iter())
            },
            Arc::new(self.source_line.finish()),
        ];
        // The builders produce exactly the schema's types; a mismatch is a
        // bug in this file, caught by the unit test below.
        RecordBatch::try_new(self.schema.clone(), columns)
            .unwrap_or_else(|e| panic!("canonical batch does not match its schema: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxpipe_model::arrow_schema;

    #[test]
    fn a_batch_matches_the_canonical_schema() {
        let mut b = RowBuffer::new(storage_schema(), 4);
        let row = Row {
            interaction_id: "c1",
            chain_id: None,
            channel: Channel::Voice,
            direction: Direction::Inbound,
            queue: Some("billing"),
            agent_id: None,
            team: None,
            site: None,
            customer_key: Some([b'a'; 32]),
            arrived_at: 0,
            answered_at: None,
            ended_at: Some(5_000_000),
            wait_ms: Some(5_000),
            talk_ms: 0,
            hold_ms: 0,
            acw_ms: 0,
            handle_ms: 0,
            abandoned: true,
            transferred: false,
            disposition: None,
            csat: None,
            skew_fixed: false,
        };
        b.push(&row, "x.csv", 2);
        b.push(&row, "x.csv", 3);
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), storage_schema());
        assert_eq!(
            storage_schema().fields().len(),
            arrow_schema().fields().len()
        );
        assert!(b.is_empty());
        // The emptied buffer (sized from the first batch) takes rows again.
        b.push(&row, "x.csv", 4);
        let again = b.finish();
        assert_eq!(again.num_rows(), 1);
        let lines = again
            .column_by_name(cxpipe_model::col::SOURCE_LINE)
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::Int64Array>())
            .expect("source_line");
        assert_eq!(lines.values(), &[4]);
        assert_eq!(again.slice(0, 1).column(0), batch.slice(0, 1).column(0));
    }
}
