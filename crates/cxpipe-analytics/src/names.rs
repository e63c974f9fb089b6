//! The names of the report columns that are not stored columns, spelled
//! once. A report column that is a stored column (`agent_id`, `queue`,
//! `interaction_id`, …) is named with [`cxpipe_model::col`].

use cxpipe_model::col;

/// KPI key: the local day (`YYYY-MM-DD`).
pub const DATE: &str = "date";
/// KPI key: the local day a shift started.
pub const SHIFT_DATE: &str = "shift_date";
/// KPI key: the shift's name.
pub const SHIFT: &str = "shift";
/// KPI key: the interval's start (RFC 3339 with the zone's offset).
pub const INTERVAL_START: &str = "interval_start";
/// KPI key: the Monday of the ISO week.
pub const WEEK: &str = "week";
/// KPI key and attrition column: the month (`YYYY-MM`).
pub const MONTH: &str = "month";

/// Inbound contacts offered to the queue.
pub const OFFERED: &str = "offered";
/// Inbound contacts answered.
pub const ANSWERED: &str = "answered";
/// Inbound contacts abandoned: the count has the stored flag's name.
pub const ABANDONED: &str = col::ABANDONED;
/// Abandons shorter than the short-abandon limit.
pub const SHORT_ABANDONED: &str = "short_abandoned";
/// Inbound contacts whose wait is unknown (`wait_ms` null): counted in
/// offered, answered and abandoned, left out of service level and ASA,
/// never a short abandon (SPEC §8).
pub const WAIT_UNKNOWN: &str = "wait_unknown";
/// The service level (a fraction).
pub const SERVICE_LEVEL: &str = "service_level";
/// The service-level variant's name.
pub const SL_VARIANT: &str = "sl_variant";
/// The service-level threshold T, seconds.
pub const SL_THRESHOLD_S: &str = "sl_threshold_s";
/// Abandon rate (a fraction).
pub const ABANDON_RATE: &str = "abandon_rate";
/// Average speed of answer, seconds.
pub const ASA_S: &str = "asa_s";

/// Contacts handled (answered) by the group's agents.
pub const HANDLED: &str = "handled";
/// Average handle time, seconds.
pub const AHT_S: &str = "aht_s";
/// Average talk time, seconds.
pub const AVG_TALK_S: &str = "avg_talk_s";
/// Average hold time, seconds.
pub const AVG_HOLD_S: &str = "avg_hold_s";
/// Average after-contact work, seconds.
pub const AVG_ACW_S: &str = "avg_acw_s";
/// Share of handled contacts with hold.
pub const HOLD_RATE: &str = "hold_rate";
/// Share of handled contacts transferred.
pub const TRANSFER_RATE: &str = "transfer_rate";
/// First-contact resolution rate.
pub const FCR_RATE: &str = "fcr_rate";
/// Contacts judged for FCR.
pub const FCR_ELIGIBLE: &str = "fcr_eligible";
/// Mean survey score.
pub const CSAT_AVG: &str = "csat_avg";
/// Survey responses.
pub const CSAT_RESPONSES: &str = "csat_responses";
/// Share of responses scoring 4 or 5.
pub const CSAT_TOP2: &str = "csat_top2";
/// Occupancy (null: the dataset has no agent states).
pub const OCCUPANCY: &str = "occupancy";

/// SLA reports: the rule's name.
pub const RULE: &str = "rule";
/// SLA interval report: the rule's scope in words.
pub const SCOPE: &str = "scope";
/// SLA interval report: the measured value.
pub const MEASURED: &str = "measured";
/// SLA interval report: the rule's target.
pub const TARGET: &str = "target";
/// SLA interval report: whether the target was met.
pub const MET: &str = "met";
/// SLA interval report: how far the measure missed the target.
pub const SHORTFALL: &str = "shortfall";
/// SLA agent report: breaching contacts.
pub const BREACHES: &str = "breaches";
/// SLA agent report: breaches ÷ handled.
pub const BREACH_RATE: &str = "breach_rate";
/// SLA agent report: 1 = worst agent of the rule.
pub const RANK: &str = "rank";
/// SLA agent report: share of the agent's queue × intervals that missed.
pub const MISSED_INTERVAL_SHARE: &str = "missed_interval_share";
/// SLA interaction report: the measured duration, seconds.
pub const MEASURED_S: &str = "measured_s";
/// SLA interaction report: the rule's threshold, seconds.
pub const THRESHOLD_S: &str = "threshold_s";
/// SLA interaction report: measured − threshold, seconds.
pub const OVER_BY_S: &str = "over_by_s";

/// Turnover: first local day with a handled contact.
pub const FIRST_SEEN: &str = "first_seen";
/// Turnover: last local day with a handled contact, up to as-of.
pub const LAST_SEEN: &str = "last_seen";
/// Turnover: days employed.
pub const TENURE_DAYS: &str = "tenure_days";
/// Turnover: active days in the 28 days up to as-of.
pub const ACTIVE_DAYS_28: &str = "active_days_28";
/// Turnover: active days in the 28 days before those.
pub const ACTIVE_DAYS_PREV_28: &str = "active_days_prev_28";
/// Turnover: relative change of handled contacts, last 14 days vs the 14 before.
pub const HANDLED_TREND: &str = "handled_trend";
/// Turnover: relative change of AHT.
pub const AHT_TREND: &str = "aht_trend";
/// Turnover: relative change of CSAT.
pub const CSAT_TREND: &str = "csat_trend";
/// Turnover: days from the last active day to as-of.
pub const DAYS_SINCE_LAST_SEEN: &str = "days_since_last_seen";
/// Turnover: `active`, `new`, `at_risk` or `departed`.
pub const STATUS: &str = "status";
/// Turnover: the weighted risk, 0..1.
pub const RISK_SCORE: &str = "risk_score";
/// Turnover: the factors that drove the score.
pub const REASONS: &str = "reasons";

/// Attrition: employed at the month's start.
pub const HEADCOUNT_START: &str = "headcount_start";
/// Attrition: employed at the month's end.
pub const HEADCOUNT_END: &str = "headcount_end";
/// Attrition: departures in the month.
pub const LEAVERS: &str = "leavers";
/// Attrition: leavers ÷ mean headcount.
pub const ATTRITION_RATE: &str = "attrition_rate";
/// Attrition: the rate × 12.
pub const ANNUALIZED_ATTRITION: &str = "annualized_attrition";
/// Attrition: leavers under 90 days of tenure ÷ recent hires.
pub const NEW_HIRE_90D_ATTRITION: &str = "new_hire_90d_attrition";

/// Evaluation: the day judged as of.
pub const AS_OF: &str = "as_of";
/// Evaluation: departures inferred from activity.
pub const INFERRED_DEPARTURES: &str = "inferred_departures";
/// Evaluation: terminations in the roster.
pub const ROSTER_DEPARTURES: &str = "roster_departures";
/// Evaluation: inferred departures the roster confirms.
pub const MATCHED: &str = "matched";
/// Evaluation: matched ÷ inferred.
pub const PRECISION: &str = "precision";
/// Evaluation: matched ÷ roster.
pub const RECALL: &str = "recall";
/// Evaluation: mean days between inferred and roster dates.
pub const MEAN_DATE_ERROR_DAYS: &str = "mean_date_error_days";
/// Evaluation: inferred departures the roster does not have.
pub const FALSE_DEPARTURES: &str = "false_departures";
/// Evaluation: roster departures not inferred.
pub const MISSED_DEPARTURES: &str = "missed_departures";
