//! cxpipe's shared vocabulary: the canonical interaction record of SPEC §3.
//!
//! Every crate that reads or writes the dataset agrees on the names, types and
//! enum values defined here, so that a column is spelled once. This crate has
//! no IO and depends on `arrow-schema` and `jiff` only, which keeps it cheap
//! to compile.
#![warn(missing_docs)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Version of the on-disk schema, stored in every Parquet file's key-value
/// metadata under [`SCHEMA_VERSION_KEY`]. Bump it when a column changes.
///
/// Version 2 made `ended_at` and `wait_ms` nullable (an export that does
/// not record them); files of version 1 have the same columns, never null,
/// and read the same.
pub const SCHEMA_VERSION: &str = "2";

/// Key of the schema version in the Parquet key-value metadata.
pub const SCHEMA_VERSION_KEY: &str = "cxpipe.schema_version";

pub mod civil;
pub mod layout;
pub mod zone;

pub use zone::Zone;

/// Names of the stored columns, in schema order.
pub mod col {
    /// Id from the source system; unique in the dataset after dedupe.
    pub const INTERACTION_ID: &str = "interaction_id";
    /// Id shared by the legs of one customer contact.
    pub const CHAIN_ID: &str = "chain_id";
    /// Channel, one of [`super::Channel`].
    pub const CHANNEL: &str = "channel";
    /// Direction, one of [`super::Direction`].
    pub const DIRECTION: &str = "direction";
    /// Queue, skill or campaign.
    pub const QUEUE: &str = "queue";
    /// Agent who handled it; null when none did.
    pub const AGENT_ID: &str = "agent_id";
    /// Team or supervisor group.
    pub const TEAM: &str = "team";
    /// Site or vendor location.
    pub const SITE: &str = "site";
    /// Keyed-hash pseudonym of the customer (SPEC §9).
    pub const CUSTOMER_KEY: &str = "customer_key";
    /// Entered the queue (outbound: dial start).
    pub const ARRIVED_AT: &str = "arrived_at";
    /// Connected to the agent; null if never answered.
    pub const ANSWERED_AT: &str = "answered_at";
    /// Contact ended.
    pub const ENDED_AT: &str = "ended_at";
    /// Queue wait in milliseconds.
    pub const WAIT_MS: &str = "wait_ms";
    /// Agent talk time in milliseconds.
    pub const TALK_MS: &str = "talk_ms";
    /// Customer hold time in milliseconds.
    pub const HOLD_MS: &str = "hold_ms";
    /// After-contact work in milliseconds.
    pub const ACW_MS: &str = "acw_ms";
    /// talk + hold + acw, in milliseconds.
    pub const HANDLE_MS: &str = "handle_ms";
    /// Customer left the queue before an agent answered.
    pub const ABANDONED: &str = "abandoned";
    /// The agent transferred it out.
    pub const TRANSFERRED: &str = "transferred";
    /// Wrap-up / disposition code.
    pub const DISPOSITION: &str = "disposition";
    /// Survey score 1..5.
    pub const CSAT: &str = "csat";
    /// File name of the export the row came from.
    pub const SOURCE_FILE: &str = "source_file";
    /// 1-based line (or element index) in that file.
    pub const SOURCE_LINE: &str = "source_line";
}

/// The kind of Arrow column a canonical field is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Utf8 with high cardinality (ids, pseudonyms).
    Text,
    /// Dictionary-encoded Utf8 (low cardinality).
    Dict,
    /// Timestamp(µs, UTC).
    Timestamp,
    /// Int64 milliseconds, or a line number.
    Int64,
    /// Boolean.
    Bool,
    /// Int8 survey score.
    Int8,
}

/// One stored column of the canonical record.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name as stored.
    pub name: &'static str,
    /// Storage kind.
    pub kind: ColumnKind,
    /// Whether null is allowed.
    pub nullable: bool,
}

/// The stored columns in schema order (SPEC §3).
pub const COLUMNS: [Column; 23] = [
    c(col::INTERACTION_ID, ColumnKind::Text, false),
    c(col::CHAIN_ID, ColumnKind::Text, true),
    c(col::CHANNEL, ColumnKind::Dict, false),
    c(col::DIRECTION, ColumnKind::Dict, false),
    c(col::QUEUE, ColumnKind::Dict, true),
    c(col::AGENT_ID, ColumnKind::Dict, true),
    c(col::TEAM, ColumnKind::Dict, true),
    c(col::SITE, ColumnKind::Dict, true),
    c(col::CUSTOMER_KEY, ColumnKind::Text, true),
    c(col::ARRIVED_AT, ColumnKind::Timestamp, false),
    c(col::ANSWERED_AT, ColumnKind::Timestamp, true),
    c(col::ENDED_AT, ColumnKind::Timestamp, true),
    c(col::WAIT_MS, ColumnKind::Int64, true),
    c(col::TALK_MS, ColumnKind::Int64, false),
    c(col::HOLD_MS, ColumnKind::Int64, false),
    c(col::ACW_MS, ColumnKind::Int64, false),
    c(col::HANDLE_MS, ColumnKind::Int64, false),
    c(col::ABANDONED, ColumnKind::Bool, false),
    c(col::TRANSFERRED, ColumnKind::Bool, false),
    c(col::DISPOSITION, ColumnKind::Dict, true),
    c(col::CSAT, ColumnKind::Int8, true),
    c(col::SOURCE_FILE, ColumnKind::Dict, false),
    c(col::SOURCE_LINE, ColumnKind::Int64, false),
];

const fn c(name: &'static str, kind: ColumnKind, nullable: bool) -> Column {
    Column {
        name,
        kind,
        nullable,
    }
}

impl Column {
    /// The Arrow data type this column is stored as.
    pub fn data_type(&self) -> DataType {
        match self.kind {
            ColumnKind::Text => DataType::Utf8,
            ColumnKind::Dict => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnKind::Int64 => DataType::Int64,
            ColumnKind::Bool => DataType::Boolean,
            ColumnKind::Int8 => DataType::Int8,
        }
    }

    /// A one-line description, as printed by `cxpipe schema`.
    pub fn meaning(&self) -> &'static str {
        match self.name {
            col::INTERACTION_ID => {
                "id from the source system; unique within the dataset after dedupe"
            }
            col::CHAIN_ID => "id shared by the legs of one customer contact; null = its own chain",
            col::CHANNEL => "voice, chat, email, sms, social, task, other",
            col::DIRECTION => "inbound, outbound, internal",
            col::QUEUE => "queue / skill / campaign",
            col::AGENT_ID => "null when no agent handled it",
            col::TEAM => "team or supervisor group",
            col::SITE => "site or vendor location",
            col::CUSTOMER_KEY => {
                "keyed-hash pseudonym of the customer; never the raw phone or email"
            }
            col::ARRIVED_AT => "entered the queue (outbound: dial start)",
            col::ANSWERED_AT => "connected to the agent; null if never answered",
            col::ENDED_AT => {
                "contact ended (disconnect or abandon); null when the export records no end"
            }
            col::WAIT_MS => {
                "answered_at - arrived_at if answered, else ended_at - arrived_at; null when unknown"
            }
            col::TALK_MS => "agent talk; 0 when unanswered",
            col::HOLD_MS => "customer hold; 0 when unanswered",
            col::ACW_MS => "after-contact work; 0 when unanswered",
            col::HANDLE_MS => "talk_ms + hold_ms + acw_ms",
            col::ABANDONED => "customer left the queue before an agent answered",
            col::TRANSFERRED => "the agent transferred it out",
            col::DISPOSITION => "wrap-up / disposition code (card numbers masked)",
            col::CSAT => "post-contact survey score 1..5",
            col::SOURCE_FILE => "the export file it came from (file name, not path)",
            col::SOURCE_LINE => "1-based line (CSV: record start; NDJSON: line)",
            _ => "",
        }
    }
}

/// Index of a column in [`COLUMNS`] by name.
pub fn column_index(name: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| c.name == name)
}

/// The Arrow schema of the stored record, with the schema version in its metadata.
pub fn arrow_schema() -> SchemaRef {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|c| Field::new(c.name, c.data_type(), c.nullable))
        .collect();
    let metadata = HashMap::from([(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())]);
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

/// Defines a closed, lower-case string enum with parsing and display.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Position in [`Self::ALL`] (the dictionary key when stored).
            pub fn index(self) -> usize {
                self as usize
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical lower-case spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The channel of an interaction.
    Channel {
        /// Phone call.
        Voice = "voice",
        /// Web or in-app chat.
        Chat = "chat",
        /// Email.
        Email = "email",
        /// Text message.
        Sms = "sms",
        /// Social media message.
        Social = "social",
        /// Back-office task.
        Task = "task",
        /// Anything else.
        Other = "other",
    }
}

string_enum! {
    /// The direction of an interaction.
    Direction {
        /// Customer contacted the center.
        Inbound = "inbound",
        /// The center contacted the customer.
        Outbound = "outbound",
        /// Agent to agent.
        Internal = "internal",
    }
}

impl Channel {
    /// Parses a channel name, accepting common vendor spellings
    /// (`phone`, `call`, `webchat`, `text`, …) case-insensitively.
    pub fn parse(s: &str) -> Option<Channel> {
        // Fast path: the canonical spelling, as most files have it.
        match s {
            "voice" => return Some(Channel::Voice),
            "chat" => return Some(Channel::Chat),
            "email" => return Some(Channel::Email),
            _ => {}
        }
        let lower = s.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "voice" | "phone" | "call" | "telephony" => Channel::Voice,
            "chat" | "webchat" | "web_chat" | "livechat" | "messaging" => Channel::Chat,
            "email" | "e-mail" | "mail" => Channel::Email,
            "sms" | "text" => Channel::Sms,
            "social" => Channel::Social,
            "task" => Channel::Task,
            "other" => Channel::Other,
            _ => return None,
        })
    }
}

impl Direction {
    /// Parses a direction, accepting `in`/`out` and `inbound`/`outbound`
    /// case-insensitively.
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "inbound" => return Some(Direction::Inbound),
            "outbound" => return Some(Direction::Outbound),
            _ => {}
        }
        let lower = s.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "inbound" | "in" | "incoming" => Direction::Inbound,
            "outbound" | "out" | "outgoing" => Direction::Outbound,
            "internal" | "transfer" => Direction::Internal,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_has_every_column_once_in_order() {
        let schema = arrow_schema();
        assert_eq!(schema.fields().len(), COLUMNS.len());
        assert_eq!(schema.field(0).name(), "interaction_id");
        assert_eq!(schema.field(22).name(), "source_line");
        assert_eq!(
            schema
                .metadata()
                .get(SCHEMA_VERSION_KEY)
                .map(String::as_str),
            Some(SCHEMA_VERSION)
        );
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
    }

    #[test]
    fn enums_parse_their_own_spelling_and_aliases() {
        for ch in Channel::ALL {
            assert_eq!(Channel::parse(ch.as_str()), Some(*ch));
        }
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(*d));
        }
        assert_eq!(Channel::parse(" Phone "), Some(Channel::Voice));
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(Direction::parse("OUT"), Some(Direction::Outbound));
    }
}
