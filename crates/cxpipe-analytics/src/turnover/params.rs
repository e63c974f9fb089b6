//! What `turnover` needs besides the activity: the zone, as-of, the gap
//! that makes a departure, the risk weights and an optional roster.

use super::roster::Roster;
use crate::time::Zone;

/// How much each factor counts in `risk_score` (normalised by their sum).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Falling activity: the drop in handled contacts, last 14 days vs the
    /// 14 before (a full drop counts 1).
    pub activity: f64,
    /// Rising AHT: +30 % or more counts 1.
    pub aht: f64,
    /// Falling CSAT: −20 % or more counts 1.
    pub csat: f64,
    /// Rising transfer rate: +10 percentage points or more counts 1.
    pub transfer: f64,
    /// Short tenure: (90 − tenure days) ÷ 90 below 90 days.
    pub tenure: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            activity: 0.35,
            aht: 0.2,
            csat: 0.2,
            transfer: 0.1,
            tenure: 0.15,
        }
    }
}

impl Weights {
    /// Checks that every weight is ≥ 0 and at least one is > 0.
    pub fn check(&self) -> Result<(), String> {
        let all = [
            self.activity,
            self.aht,
            self.csat,
            self.transfer,
            self.tenure,
        ];
        if all.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err("weights must be numbers >= 0".into());
        }
        if all.iter().sum::<f64>() <= 0.0 {
            return Err("at least one weight must be > 0".into());
        }
        Ok(())
    }
}

/// Everything `turnover` needs besides the activity.
#[derive(Debug, Clone)]
pub struct TurnoverParams {
    /// Site zone for local days.
    pub zone: Zone,
    /// The day to judge as of (default: the last day of data).
    pub as_of: Option<i64>,
    /// Days without activity before as-of that make a departure (default 14).
    pub gap_days: i64,
    /// Risk score weights.
    pub weights: Weights,
    /// Roster overrides, if any.
    pub roster: Option<Roster>,
}

impl TurnoverParams {
    /// SPEC defaults.
    pub fn new() -> TurnoverParams {
        TurnoverParams {
            zone: Zone::utc(),
            as_of: None,
            gap_days: 14,
            weights: Weights::default(),
            roster: None,
        }
    }
}

impl Default for TurnoverParams {
    fn default() -> Self {
        Self::new()
    }
}
