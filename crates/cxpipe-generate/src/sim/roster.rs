//! Who is on shift: the agent who answers a contact.

use crate::rng::Rng;
use crate::world::{INTERVAL_S, INTERVALS, QUEUES, World, for_each_shift_interval};

/// Agents on shift, by queue and half-hour, for one day (and the next, for
/// contacts answered after midnight).
pub(super) struct Roster {
    by_queue: Vec<Vec<u32>>,
    any: Vec<Vec<u32>>,
    working: Vec<u32>,
    employed: Vec<u32>,
    all: Vec<u32>,
    /// Whether each agent is fading out on this day (a compact copy: the
    /// agent records are too large to stay in cache on this hot path).
    fading: Vec<bool>,
}

const ROSTER_SPAN: usize = 2 * INTERVALS;

impl Roster {
    /// The agents on shift on day `day` (and into the next).
    pub(super) fn new(w: &World, day: u32) -> Roster {
        let mut by_queue = vec![Vec::new(); QUEUES.len() * ROSTER_SPAN];
        let mut any = vec![Vec::new(); ROSTER_SPAN];
        let mut working = Vec::new();
        let mut employed = Vec::new();
        for (idx, a) in w.agents.iter().enumerate() {
            let idx = idx as u32;
            for_each_shift_interval(a, day, w.start_day, 0..ROSTER_SPAN, |i| {
                by_queue[a.queue * ROSTER_SPAN + i].push(idx);
                any[i].push(idx);
            });
            if a.works(i64::from(day), w.start_day) {
                working.push(idx);
            }
            if a.first_day <= day && day <= a.last_day {
                employed.push(idx);
            }
        }
        let all = (0..w.agents.len() as u32).collect();
        let fading = w.agents.iter().map(|a| a.fading_on(day)).collect();
        Roster {
            by_queue,
            any,
            working,
            employed,
            all,
            fading,
        }
    }

    /// Picks the agent who answers a contact of `queue` at `at` seconds after
    /// the day's midnight: someone on shift in that queue, else on shift
    /// anywhere, else working that day, else employed. Agents fading out
    /// take fewer contacts. Never `exclude` if anyone else is available.
    pub(super) fn choose(&self, queue: u8, at: u32, exclude: u32, r: &mut Rng) -> u32 {
        let i = ((at / INTERVAL_S) as usize).min(ROSTER_SPAN - 1);
        let lists = [
            &self.by_queue[usize::from(queue) * ROSTER_SPAN + i],
            &self.any[i],
            &self.working,
            &self.employed,
            &self.all,
        ];
        let Some(list) = lists.into_iter().find(|l| l.iter().any(|&a| a != exclude)) else {
            return self.all[0];
        };
        let mut pick = list[0];
        for _ in 0..4 {
            pick = list[r.below(list.len() as u64) as usize];
            if pick == exclude {
                continue;
            }
            if self.fading[pick as usize] && !r.chance(0.35) {
                continue;
            }
            return pick;
        }
        if pick == exclude {
            list.iter().copied().find(|&a| a != exclude).unwrap_or(pick)
        } else {
            pick
        }
    }
}
