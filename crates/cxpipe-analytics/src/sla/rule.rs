//! One `[[sla]]` entry: what it measures, which contacts it covers, and
//! its limit, checked as written in a policy file.

use cxpipe_model::col;
use polars::prelude::{Expr, col as column, lit};

use crate::names::{ABANDON_RATE, ASA_S, SERVICE_LEVEL};
use crate::time::Interval;

/// What a rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// Per queue × interval: met if `service_level` ≥ target.
    ServiceLevel,
    /// Per queue × interval: met if `abandon_rate` ≤ target.
    AbandonRate,
    /// Per queue × interval: met if `asa_s` ≤ target (seconds).
    Asa,
    /// Per inbound contact, queue-attributed: breach if `wait_ms` > threshold.
    Wait,
    /// Per handled contact, agent-attributed: breach if `handle_ms` > threshold.
    Handle,
    /// Per handled contact, agent-attributed: breach if `acw_ms` > threshold.
    Acw,
    /// Per handled contact, agent-attributed: breach if `hold_ms` > threshold.
    Hold,
}

impl RuleKind {
    /// Every kind, in SPEC order.
    pub const ALL: [RuleKind; 7] = [
        RuleKind::ServiceLevel,
        RuleKind::AbandonRate,
        RuleKind::Asa,
        RuleKind::Wait,
        RuleKind::Handle,
        RuleKind::Acw,
        RuleKind::Hold,
    ];

    /// Its name in policy files.
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::ServiceLevel => "service_level",
            RuleKind::AbandonRate => "abandon_rate",
            RuleKind::Asa => "asa",
            RuleKind::Wait => "wait",
            RuleKind::Handle => "handle",
            RuleKind::Acw => "acw",
            RuleKind::Hold => "hold",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Result<RuleKind, String> {
        RuleKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown kind {s:?}; choose from {}",
                    RuleKind::ALL.map(RuleKind::name).join(", ")
                )
            })
    }

    /// Whether it is judged per queue × interval.
    pub fn interval_level(self) -> bool {
        matches!(
            self,
            RuleKind::ServiceLevel | RuleKind::AbandonRate | RuleKind::Asa
        )
    }

    /// The KPI column (interval level) or duration column (interaction
    /// level) it measures.
    pub(super) fn column(self) -> &'static str {
        match self {
            RuleKind::ServiceLevel => SERVICE_LEVEL,
            RuleKind::AbandonRate => ABANDON_RATE,
            RuleKind::Asa => ASA_S,
            RuleKind::Wait => col::WAIT_MS,
            RuleKind::Handle => col::HANDLE_MS,
            RuleKind::Acw => col::ACW_MS,
            RuleKind::Hold => col::HOLD_MS,
        }
    }
}

/// Which contacts a rule covers; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Exact channel name.
    pub channel: Option<String>,
    /// Queue name or glob (`*` any run of characters, `?` one character).
    pub queue: Option<String>,
    /// Exact team name.
    pub team: Option<String>,
    /// Exact site name.
    pub site: Option<String>,
}

impl Scope {
    /// `channel=voice queue=sales-*`, or `all`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (col::CHANNEL, &self.channel),
            (col::QUEUE, &self.queue),
            (col::TEAM, &self.team),
            (col::SITE, &self.site),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "all".to_string()
        } else {
            parts.join(" ")
        }
    }

    /// The row filter, given the dataset's queue names (for globs).
    pub(super) fn expr(&self, queues: &[String]) -> Option<Expr> {
        let mut parts = Vec::new();
        for (name, value) in [
            (col::CHANNEL, &self.channel),
            (col::TEAM, &self.team),
            (col::SITE, &self.site),
        ] {
            if let Some(v) = value {
                parts.push(column(name).eq(lit(v.clone())));
            }
        }
        if let Some(glob) = &self.queue {
            let matching = queues.iter().filter(|q| glob_match(glob, q));
            let any = matching
                .map(|q| column(col::QUEUE).eq(lit(q.clone())))
                .reduce(|a, b| a.or(b));
            parts.push(any.unwrap_or(lit(false)));
        }
        parts.into_iter().reduce(|a, b| a.and(b))
    }
}

/// `*` matches any run of characters, `?` any one; everything else itself.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut i, mut j) = (0, 0);
    // Where the last `*` was, and where in `s` it is retried from.
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// One SLA rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name, unique within a policy.
    pub name: String,
    /// What it measures.
    pub kind: RuleKind,
    /// Which contacts it covers.
    pub scope: Scope,
    /// Interaction level: the breach threshold. `service_level`: T (default:
    /// the `[kpi]` threshold). Others: none.
    pub threshold_ms: Option<i64>,
    /// Interval level: the target (a fraction; seconds for `asa`).
    pub target: Option<f64>,
    /// Interval level: the interval (default 30m).
    pub interval: Interval,
}

impl Rule {
    /// Checks a rule as written in a policy file; the error says what is
    /// wrong (the caller adds the file and line).
    pub fn new(
        name: &str,
        kind: &str,
        scope: Scope,
        threshold_s: Option<f64>,
        target: Option<f64>,
        interval: Option<&str>,
    ) -> Result<Rule, String> {
        if name.trim().is_empty() {
            return Err("`name` is empty".into());
        }
        let kind = RuleKind::parse(kind)?;
        let k = kind.name();
        let threshold_ms = match threshold_s {
            Some(t) if !(t.is_finite() && (0.0..=1e9).contains(&t)) => {
                return Err(format!("threshold_s {t} is not a number of seconds >= 0"));
            }
            Some(_) if matches!(kind, RuleKind::AbandonRate | RuleKind::Asa) => {
                return Err(format!(
                    "threshold_s does not apply to kind {k} (its limit is `target`)"
                ));
            }
            Some(t) => Some((t * 1000.0).round() as i64),
            None if !kind.interval_level() => {
                return Err(format!(
                    "kind {k} needs threshold_s (a breach is {} > threshold_s)",
                    kind.column()
                ));
            }
            None => None,
        };
        match (kind, target) {
            (RuleKind::ServiceLevel | RuleKind::AbandonRate, None) => {
                return Err(format!(
                    "kind {k} needs `target`, a fraction from 0 to 1 (e.g. 0.80)"
                ));
            }
            (RuleKind::ServiceLevel | RuleKind::AbandonRate, Some(t))
                if !(0.0..=1.0).contains(&t) =>
            {
                return Err(format!(
                    "target {t} is out of range: a {k} target is a fraction from 0 to 1"
                ));
            }
            (RuleKind::Asa, None) => return Err("kind asa needs `target`, in seconds".into()),
            (RuleKind::Asa, Some(t)) if !(t.is_finite() && t > 0.0) => {
                return Err(format!(
                    "target {t} is out of range: an asa target is seconds > 0"
                ));
            }
            (_, Some(_)) if !kind.interval_level() => {
                return Err(format!(
                    "`target` does not apply to kind {k} (its limit is threshold_s)"
                ));
            }
            _ => {}
        }
        let interval = match interval {
            Some(_) if !kind.interval_level() => {
                return Err(format!("`interval` does not apply to kind {k}"));
            }
            Some(i) => Interval::parse(i).map_err(|e| e.to_string())?,
            None => Interval::M30,
        };
        Ok(Rule {
            name: name.trim().to_string(),
            kind,
            scope,
            threshold_ms,
            target,
            interval,
        })
    }

    /// The target, 0 when the rule has none.
    pub(super) fn target(&self) -> f64 {
        self.target.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("sales-*", "sales-east"));
        assert!(glob_match("sales-*", "sales-"));
        assert!(!glob_match("sales-*", "support"));
        assert!(glob_match("*-east", "sales-east"));
        assert!(glob_match("s?les*st", "sales-east"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("*a*b", "xxaxxbxx"));
        assert!(glob_match("billing", "billing"));
        assert!(!glob_match("billing", "Billing"));
    }

    #[test]
    fn rules_are_checked() {
        let ok = |kind, t: Option<f64>, target: Option<f64>| {
            Rule::new("r", kind, Scope::default(), t, target, None)
        };
        assert!(ok("service_level", Some(20.0), Some(0.8)).is_ok());
        assert!(ok("service_level", None, Some(0.8)).is_ok());
        assert!(ok("acw", Some(120.0), None).is_ok());
        let msg = |r: Result<Rule, String>| r.expect_err("should be refused");
        assert!(msg(ok("speed", None, None)).contains("unknown kind \"speed\""));
        assert!(msg(ok("service_level", None, None)).contains("needs `target`"));
        assert!(msg(ok("service_level", None, Some(1.5))).contains("out of range"));
        assert!(msg(ok("abandon_rate", Some(5.0), Some(0.05))).contains("does not apply"));
        assert!(msg(ok("acw", None, None)).contains("needs threshold_s"));
        assert!(msg(ok("acw", Some(-1.0), None)).contains("not a number of seconds"));
        assert!(msg(ok("handle", Some(9.0), Some(0.5))).contains("does not apply"));
        assert!(msg(ok("asa", None, Some(0.0))).contains("out of range"));
        let interval = Rule::new("r", "wait", Scope::default(), Some(1.0), None, Some("1h"));
        assert!(msg(interval).contains("`interval` does not apply"));
        let bad = Rule::new("r", "asa", Scope::default(), None, Some(30.0), Some("7m"));
        assert!(bad.is_err());
    }
}
