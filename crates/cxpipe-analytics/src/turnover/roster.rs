//! The roster file: what HR knows about each agent.

use std::collections::HashMap;
use std::path::Path;

use cxpipe_model::col;

use crate::Error;
use crate::time::format_day;

/// The roster's hire date column.
const HIRE_DATE: &str = "hire_date";
/// The roster's termination date column.
const TERMINATION_DATE: &str = "termination_date";

/// One roster line: what HR knows about an agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterEntry {
    /// Hire date (day number).
    pub hire: Option<i64>,
    /// Termination date (day number); `None` while employed.
    pub termination: Option<i64>,
    /// Team.
    pub team: Option<String>,
}

/// A roster file (`agent_id,hire_date,termination_date,team`).
#[derive(Debug, Clone, Default)]
pub struct Roster(pub HashMap<String, RosterEntry>);

impl Roster {
    /// Reads a roster CSV; errors name the file and line.
    pub fn read(path: &Path) -> Result<Roster, Error> {
        let bad =
            |line: u64, what: String| Error::Usage(format!("{}:{line}: {what}", path.display()));
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| Error::Usage(format!("reading roster {}: {e}", path.display())))?;
        let headers = r
            .headers()
            .map_err(|e| bad(1, e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect::<Vec<_>>();
        let at = |name: &str| headers.iter().position(|h| h == name);
        let id_col = at(col::AGENT_ID).ok_or_else(|| {
            bad(
                1,
                "no agent_id column (expected agent_id,hire_date,termination_date,team)".into(),
            )
        })?;
        let (hire_col, term_col, team_col) = (at(HIRE_DATE), at(TERMINATION_DATE), at(col::TEAM));
        let mut out = HashMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let field = |c: Option<usize>| c.and_then(|c| rec.get(c)).filter(|v| !v.is_empty());
            let id = field(Some(id_col)).ok_or_else(|| bad(line, "agent_id is empty".into()))?;
            let day = |c: Option<usize>, name: &str| -> Result<Option<i64>, Error> {
                field(c)
                    .map(|v| {
                        cxpipe_model::civil::parse_day(v).ok_or_else(|| {
                            bad(line, format!("{name} {v:?} is not a date (YYYY-MM-DD)"))
                        })
                    })
                    .transpose()
            };
            let entry = RosterEntry {
                hire: day(hire_col, HIRE_DATE)?,
                termination: day(term_col, TERMINATION_DATE)?,
                team: field(team_col).map(str::to_string),
            };
            if let (Some(h), Some(t)) = (entry.hire, entry.termination)
                && t < h
            {
                return Err(bad(
                    line,
                    format!(
                        "termination_date {} is before hire_date {}",
                        format_day(t),
                        format_day(h)
                    ),
                ));
            }
            if out.insert(id.to_string(), entry).is_some() {
                return Err(bad(line, format!("agent {id} appears twice")));
            }
        }
        Ok(Roster(out))
    }
}
