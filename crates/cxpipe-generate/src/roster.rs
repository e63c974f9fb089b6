//! The HR roster that matches a generated month (SPEC §11).

use std::path::Path;

use cxpipe_model::civil::format_day;

use crate::world::{self, World};
use crate::{Error, GenConfig, config, rng};

/// Writes the HR roster that matches `cfg`'s synthetic month as CSV
/// (`agent_id,hire_date,termination_date,team`, SPEC §11): agents hired
/// during the month have their first possible working day as hire date,
/// the others a date 30 days to about two years before the month (drawn
/// per agent from the seed); departed agents have their last possible
/// working day as termination date. Deterministic, like the data.
pub fn write_roster(cfg: &GenConfig, path: &Path) -> Result<(), Error> {
    config::validate(cfg)?;
    let w = World::new(cfg);
    let key = rng::stream_key(cfg.seed, world::domain::ROSTER);
    let mut out = String::from("agent_id,hire_date,termination_date,team\n");
    for (i, a) in w.agents.iter().enumerate() {
        let hire = if a.first_day == 0 {
            let mut r = rng::Rng::for_item(key, 0, i as u64);
            w.start_day - 30 - r.below(700) as i64
        } else {
            w.start_day + i64::from(a.first_day)
        };
        let termination = if a.departed {
            format_day(w.start_day + i64::from(a.last_day))
        } else {
            String::new()
        };
        let team = &w.team_names[a.team as usize];
        out.push_str(&format!(
            "{},{},{termination},{team}\n",
            a.id,
            format_day(hire)
        ));
    }
    std::fs::write(path, out).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
