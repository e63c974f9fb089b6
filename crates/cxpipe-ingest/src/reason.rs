//! Why a row was quarantined (SPEC §5).

use std::fmt;

use serde::Serialize;

/// The reason code written beside every quarantined row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Unbalanced quotes, wrong field count, invalid JSON, record too long.
    MalformedRow,
    /// A field used by the mapping is not valid UTF-8.
    InvalidUtf8,
    /// A required field is blank or absent.
    MissingRequired,
    /// A timestamp field does not parse.
    BadTimestamp,
    /// A duration field does not parse.
    BadDuration,
    /// A numeric field does not parse.
    BadNumber,
    /// An enumerated field (channel, direction, boolean) has an unknown value.
    BadEnum,
    /// arrived <= answered <= ended does not hold.
    TimeOrder,
    /// A duration is negative.
    NegativeDuration,
    /// Marked abandoned but answered or with an agent.
    AbandonedWithAgent,
    /// CSAT outside 1..5.
    CsatOutOfRange,
}

impl ReasonCode {
    /// Every code, in a stable order.
    pub const ALL: [ReasonCode; 11] = [
        ReasonCode::MalformedRow,
        ReasonCode::InvalidUtf8,
        ReasonCode::MissingRequired,
        ReasonCode::BadTimestamp,
        ReasonCode::BadDuration,
        ReasonCode::BadNumber,
        ReasonCode::BadEnum,
        ReasonCode::TimeOrder,
        ReasonCode::NegativeDuration,
        ReasonCode::AbandonedWithAgent,
        ReasonCode::CsatOutOfRange,
    ];

    /// The snake_case code as written in quarantine files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MalformedRow => "malformed_row",
            ReasonCode::InvalidUtf8 => "invalid_utf8",
            ReasonCode::MissingRequired => "missing_required",
            ReasonCode::BadTimestamp => "bad_timestamp",
            ReasonCode::BadDuration => "bad_duration",
            ReasonCode::BadNumber => "bad_number",
            ReasonCode::BadEnum => "bad_enum",
            ReasonCode::TimeOrder => "time_order",
            ReasonCode::NegativeDuration => "negative_duration",
            ReasonCode::AbandonedWithAgent => "abandoned_with_agent",
            ReasonCode::CsatOutOfRange => "csat_out_of_range",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row that goes to quarantine: where it was, what it was, and why.
#[derive(Debug, Clone)]
pub struct Reject {
    /// 1-based line of the record's start (JSON array: element index).
    pub line: u64,
    /// The raw record, exactly as read (without its line terminator).
    pub raw: Vec<u8>,
    /// Machine-readable reason.
    pub code: ReasonCode,
    /// Human-readable reason naming the field and value.
    pub reason: String,
}
