//! Agent turnover signals and attrition (SPEC §11).
//!
//! Activity is read once ([`activity`]): the KPI engine gives each agent's
//! handled contacts, handle time, CSAT and transfers per local day (and the
//! team and site they worked in). Everything else — windows, trends,
//! status, risk ([`signals`]), monthly attrition ([`attrition`]), the
//! comparison with a roster ([`evaluate`]) — is computed in Rust over that
//! small table. Exact definitions and the score's weights:
//! ARCHITECTURE.md, "Turnover definitions", and `cxpipe turnover --help`.

mod activity;
mod attrition;
mod evaluate;
mod params;
mod roster;
mod signals;

pub use activity::{Activity, activity};
pub use attrition::{AttritionBy, attrition};
pub use evaluate::{Evaluation, evaluate, evaluation_frame};
pub use params::{TurnoverParams, Weights};
pub use roster::{Roster, RosterEntry};
pub use signals::{DEPARTED, Signals, signals, signals_frame};

#[cfg(test)]
mod tests;
