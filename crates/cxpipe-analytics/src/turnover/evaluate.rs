//! How departures inferred from activity compare with a roster.

use std::collections::HashMap;

use polars::prelude::*;

use super::roster::Roster;
use super::signals::Signals;
use crate::Error;
use crate::names::*;
use crate::time::format_day;

/// How the inferred departures compare with a roster's terminations.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Departures inferred, among the agents the roster knows.
    pub inferred: usize,
    /// Roster terminations up to as-of, among the agents seen in the data.
    pub roster: usize,
    /// Inferred departures the roster confirms.
    pub matched: usize,
    /// matched ÷ inferred.
    pub precision: Option<f64>,
    /// matched ÷ roster.
    pub recall: Option<f64>,
    /// Mean |inferred date − termination date| over the matched, days.
    pub mean_date_error_days: Option<f64>,
    /// Inferred departures the roster does not have, by id.
    pub false_departures: Vec<String>,
    /// Roster terminations that were not inferred, by id.
    pub missed_departures: Vec<String>,
}

/// Compares departures inferred without the roster (`inferred`, computed
/// with `roster: None`) with the roster's terminations up to as-of, for the
/// agents both know.
pub fn evaluate(inferred: &[Signals], roster: &Roster, as_of: i64) -> Evaluation {
    let seen: HashMap<&str, &Signals> = inferred.iter().map(|s| (s.agent_id.as_str(), s)).collect();
    let mut truth: Vec<(&str, i64)> = roster
        .0
        .iter()
        .filter(|(id, _)| seen.contains_key(id.as_str()))
        .filter_map(|(id, e)| {
            e.termination
                .filter(|&t| t <= as_of)
                .map(|t| (id.as_str(), t))
        })
        .collect();
    truth.sort();
    let guessed: Vec<&Signals> = inferred
        .iter()
        .filter(|s| s.departed_on.is_some() && roster.0.contains_key(&s.agent_id))
        .collect();
    let truth_map: HashMap<&str, i64> = truth.iter().copied().collect();
    let mut matched = 0;
    let mut err_sum = 0.0;
    let mut false_departures = Vec::new();
    for s in &guessed {
        match truth_map.get(s.agent_id.as_str()) {
            Some(&t) => {
                matched += 1;
                err_sum += (s.departed_on.unwrap_or(t) - t).abs() as f64;
            }
            None => false_departures.push(s.agent_id.clone()),
        }
    }
    let missed_departures = truth
        .iter()
        .filter(|(id, _)| seen.get(id).is_none_or(|s| s.departed_on.is_none()))
        .map(|(id, _)| id.to_string())
        .collect();
    false_departures.sort();
    Evaluation {
        inferred: guessed.len(),
        roster: truth.len(),
        matched,
        precision: (!guessed.is_empty()).then(|| matched as f64 / guessed.len() as f64),
        recall: (!truth.is_empty()).then(|| matched as f64 / truth.len() as f64),
        mean_date_error_days: (matched > 0).then(|| err_sum / matched as f64),
        false_departures,
        missed_departures,
    }
}

/// The evaluation as a one-row table.
pub fn evaluation_frame(e: &Evaluation, as_of: i64) -> Result<DataFrame, Error> {
    DataFrame::new(
        1,
        vec![
            Column::new(AS_OF.into(), [format_day(as_of)]),
            Column::new(INFERRED_DEPARTURES.into(), [e.inferred as i64]),
            Column::new(ROSTER_DEPARTURES.into(), [e.roster as i64]),
            Column::new(MATCHED.into(), [e.matched as i64]),
            Column::new(PRECISION.into(), [e.precision]),
            Column::new(RECALL.into(), [e.recall]),
            Column::new(MEAN_DATE_ERROR_DAYS.into(), [e.mean_date_error_days]),
            Column::new(FALSE_DEPARTURES.into(), [e.false_departures.join(" ")]),
            Column::new(MISSED_DEPARTURES.into(), [e.missed_departures.join(" ")]),
        ],
    )
    .map_err(Error::polars("building the evaluation table"))
}
