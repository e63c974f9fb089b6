//! SLA policies and breach reports (SPEC §10).
//!
//! A [`Rule`] is one `[[sla]]` entry. Interval-level rules (`service_level`,
//! `abandon_rate`, `asa`) are judged per queue × interval with the KPI
//! engine over the rule's scope; interaction-level rules (`wait`, `handle`,
//! `acw`, `hold`) compare one duration of each contact with a threshold.
//! Three reports: [`interval_report`], [`agent_report`] and
//! [`interaction_report`]; each is sorted worst first. Exact definitions:
//! ARCHITECTURE.md, "SLA definitions".

mod agent;
mod interaction;
mod interval;
mod query;
mod rule;

pub use agent::{AGENT_COLUMNS, agent_report};
pub use interaction::{INTERACTION_COLUMNS, interaction_report};
pub use interval::{INTERVAL_COLUMNS, interval_report};
pub use rule::{Rule, RuleKind, Scope, glob_match};
