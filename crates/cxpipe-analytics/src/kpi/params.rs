//! What a KPI query asks for: the groupings, the service-level variant and
//! every parameter of SPEC §8, with the output columns they give.

use cxpipe_model::col;
use polars::prelude::{DataType, Expr};

use crate::Error;
use crate::names::*;
use crate::time::{Interval, Shifts, Zone, format_day};

/// A `--by` grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `agent_id`.
    Agent,
    /// `team`.
    Team,
    /// `site`.
    Site,
    /// `queue`.
    Queue,
    /// `channel`.
    Channel,
    /// Local `date`.
    Day,
    /// `shift_date`, `shift`.
    Shift,
    /// `interval_start`.
    Interval,
    /// `week` (the Monday).
    Week,
    /// `month` (`YYYY-MM`).
    Month,
}

impl Group {
    /// Every grouping, in SPEC order.
    pub const ALL: [Group; 10] = [
        Group::Agent,
        Group::Team,
        Group::Site,
        Group::Queue,
        Group::Channel,
        Group::Day,
        Group::Shift,
        Group::Interval,
        Group::Week,
        Group::Month,
    ];

    /// The name used in `--by`.
    pub fn name(self) -> &'static str {
        match self {
            Group::Agent => "agent",
            Group::Team => "team",
            Group::Site => "site",
            Group::Queue => "queue",
            Group::Channel => "channel",
            Group::Day => "day",
            Group::Shift => "shift",
            Group::Interval => "interval",
            Group::Week => "week",
            Group::Month => "month",
        }
    }

    /// The key columns it adds to the output, in order.
    pub fn key_columns(self) -> &'static [&'static str] {
        match self {
            Group::Agent => &[col::AGENT_ID],
            Group::Team => &[col::TEAM],
            Group::Site => &[col::SITE],
            Group::Queue => &[col::QUEUE],
            Group::Channel => &[col::CHANNEL],
            Group::Day => &[DATE],
            Group::Shift => &[SHIFT_DATE, SHIFT],
            Group::Interval => &[INTERVAL_START],
            Group::Week => &[WEEK],
            Group::Month => &[MONTH],
        }
    }

    /// Parses a comma-separated `--by` list (no repeats; empty = totals).
    pub fn parse_list(s: &str) -> Result<Vec<Group>, Error> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = part.to_ascii_lowercase();
            let g = Group::ALL
                .into_iter()
                .find(|g| g.name() == lower || (lower == "date" && *g == Group::Day))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown grouping {part:?} in --by; choose from {}",
                        Group::ALL.map(Group::name).join(", ")
                    ))
                })?;
            if out.contains(&g) {
                return Err(Error::Usage(format!("--by names {part:?} twice")));
            }
            out.push(g);
        }
        Ok(out)
    }
}

/// How `service_level` is computed (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlVariant {
    /// answered ≤ T ÷ (offered − short abandoned): the default.
    ExclShort,
    /// answered ≤ T ÷ offered.
    Offered,
    /// answered ≤ T ÷ (answered + abandoned), the Genesys default.
    AnsweredPlusAbandoned,
    /// (answered ≤ T + abandoned ≤ T) ÷ offered.
    AbandPositive,
    /// answered ≤ T ÷ answered.
    Answered,
}

impl SlVariant {
    /// Every variant.
    pub const ALL: [SlVariant; 5] = [
        SlVariant::ExclShort,
        SlVariant::Offered,
        SlVariant::AnsweredPlusAbandoned,
        SlVariant::AbandPositive,
        SlVariant::Answered,
    ];

    /// Its name in flags, config and output.
    pub fn name(self) -> &'static str {
        match self {
            SlVariant::ExclShort => "excl_short",
            SlVariant::Offered => "offered",
            SlVariant::AnsweredPlusAbandoned => "answered_plus_abandoned",
            SlVariant::AbandPositive => "aband_positive",
            SlVariant::Answered => "answered",
        }
    }

    /// Parses a variant name.
    pub fn parse(s: &str) -> Result<SlVariant, Error> {
        SlVariant::ALL
            .into_iter()
            .find(|v| v.name() == s.trim())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown service-level variant {s:?}; choose from {}",
                    SlVariant::ALL.map(SlVariant::name).join(", ")
                ))
            })
    }
}

/// Everything a KPI query needs.
#[derive(Debug, Clone)]
pub struct KpiParams {
    /// Groupings, in output order (empty: one row of totals).
    pub by: Vec<Group>,
    /// Site zone for days, intervals and shifts.
    pub zone: Zone,
    /// Interval length for `Group::Interval`.
    pub interval: Interval,
    /// Shift windows for `Group::Shift`.
    pub shifts: Shifts,
    /// First local day (days since the epoch), inclusive.
    pub from: Option<i64>,
    /// Last local day, inclusive.
    pub to: Option<i64>,
    /// Service-level threshold T, ms (default 20 s).
    pub threshold_ms: i64,
    /// Abandons shorter than this are short, ms (default 5 s).
    pub short_abandon_ms: i64,
    /// Service-level variant.
    pub sl_variant: SlVariant,
    /// FCR window, ms (default 72 h).
    pub fcr_window_ms: i64,
    /// Parquet bytes read per batch (default 32 MiB; 64 MiB held 1.0 GiB at
    /// 10M rows, 32 MiB 0.69 GiB in the same time): bounds the memory of
    /// a query, whatever the size of the dataset. Four of it are the runs
    /// of days the SLA agent report sums at once. Results do not depend on it.
    pub batch_bytes: u64,
    /// Only rows where this is true are read (SLA scopes); rows outside are
    /// neither counted nor searched as FCR repeats.
    pub filter: Option<Expr>,
    /// Whether to compute FCR (`fcr_rate` and `fcr_eligible` are null and
    /// 0 without it).
    pub fcr: bool,
    /// Extra output columns: per group, the number of counted rows (the
    /// same rows as `handled` with `agent` in `--by`, else every row in
    /// range) where the boolean expression is true.
    pub counts: Vec<(String, Expr)>,
    /// Whether the rows are sorted by the keys (the default). A caller that
    /// only adds the rows up elsewhere needs no order: sorting the SLA agent
    /// report's agent × queue × interval groups by their strings was an
    /// eighth of its time.
    pub sorted: bool,
}

impl KpiParams {
    /// SPEC defaults for the given groupings.
    pub fn new(by: Vec<Group>) -> KpiParams {
        KpiParams {
            by,
            zone: Zone::utc(),
            interval: Interval::M30,
            shifts: Shifts::defaults(),
            from: None,
            to: None,
            threshold_ms: 20_000,
            short_abandon_ms: 5_000,
            sl_variant: SlVariant::ExclShort,
            fcr_window_ms: 72 * 3_600_000,
            batch_bytes: 32 << 20,
            filter: None,
            fcr: true,
            counts: Vec::new(),
            sorted: true,
        }
    }

    /// Whether the output has the queue-side columns (no `agent` grouping).
    pub fn queue_side(&self) -> bool {
        !self.by.contains(&Group::Agent)
    }

    /// Output key columns, in order.
    pub fn key_columns(&self) -> Vec<&'static str> {
        self.by
            .iter()
            .flat_map(|g| g.key_columns().iter().copied())
            .collect()
    }

    /// Every output column, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut cols = self.key_columns();
        if self.queue_side() {
            cols.extend(QUEUE_COLUMNS);
        }
        cols.extend(AGENT_COLUMNS);
        cols
    }

    /// The names of the extra [`KpiParams::counts`] columns, after the others.
    pub fn count_columns(&self) -> impl Iterator<Item = &str> {
        self.counts.iter().map(|(n, _)| n.as_str())
    }

    /// `[lo, hi)` in µs UTC from `from`/`to`.
    pub fn bounds(&self) -> Result<(Option<i64>, Option<i64>), Error> {
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            return Err(Error::Usage(format!(
                "--from {} is after --to {}",
                format_day(f),
                format_day(t)
            )));
        }
        let lo = self
            .from
            .map(|d| crate::time::day_start_utc(&self.zone, d))
            .transpose()?;
        let hi = self
            .to
            .map(|d| crate::time::day_start_utc(&self.zone, d + 1))
            .transpose()?;
        Ok((lo, hi))
    }
}

/// Queue-side columns (groupings without `agent`).
pub const QUEUE_COLUMNS: [&str; 10] = [
    OFFERED,
    ANSWERED,
    ABANDONED,
    SHORT_ABANDONED,
    WAIT_UNKNOWN,
    SERVICE_LEVEL,
    SL_VARIANT,
    SL_THRESHOLD_S,
    ABANDON_RATE,
    ASA_S,
];

/// Agent-side columns (every grouping).
pub const AGENT_COLUMNS: [&str; 13] = [
    HANDLED,
    AHT_S,
    AVG_TALK_S,
    AVG_HOLD_S,
    AVG_ACW_S,
    HOLD_RATE,
    TRANSFER_RATE,
    FCR_RATE,
    FCR_ELIGIBLE,
    CSAT_AVG,
    CSAT_RESPONSES,
    CSAT_TOP2,
    OCCUPANCY,
];

/// The output type of a KPI column.
pub fn column_dtype(name: &str) -> DataType {
    match name {
        OFFERED | ANSWERED | ABANDONED | SHORT_ABANDONED | WAIT_UNKNOWN | HANDLED
        | FCR_ELIGIBLE | CSAT_RESPONSES => DataType::Int64,
        n if n.ends_with("_s") || n.ends_with("_rate") || n.ends_with("_avg") => DataType::Float64,
        SERVICE_LEVEL | CSAT_TOP2 | OCCUPANCY => DataType::Float64,
        _ => DataType::String,
    }
}
