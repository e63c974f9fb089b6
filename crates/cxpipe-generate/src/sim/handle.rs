//! What an agent makes of a contact: durations and outcome.

use super::{
    CHAT, CSAT_CDF, D_RESOLVED, EMAIL, P_CARD_NOTE, P_SURVEYED, SALES, SERVICE_CDF, VOICE,
    luhn_complete,
};
use crate::rng::Rng;
use crate::world::World;

/// Agent-dependent durations and outcome of a handled leg.
pub(super) struct Handled {
    pub talk: u32,
    pub hold: u32,
    pub acw: u32,
    pub disposition: u8,
    pub csat: u8,
    pub card: u64,
}

/// Draws, from `r`, how `agent` handles a contact of `channel` in `queue`
/// on day `day`.
pub(super) fn handle(
    w: &World,
    day: u32,
    agent: u32,
    channel: u8,
    queue: u8,
    outbound: bool,
    r: &mut Rng,
) -> Handled {
    let a = &w.agents[agent as usize];
    let progress = f64::from(day) / f64::from(w.days.max(2) - 1);
    let aht = if a.rising_aht {
        1.0 + 0.7 * progress
    } else {
        1.0
    };
    let (median, sigma) = match channel {
        _ if outbound => (180.0, 0.7),
        VOICE => (270.0, 0.55),
        CHAT => (420.0, 0.6),
        EMAIL => (300.0, 0.7),
        _ => (360.0, 0.7),
    };
    let talk = (r.lognormal(median, sigma) * a.speed * aht)
        .clamp(5.0, 7200.0)
        .round() as u32;
    let hold = if (channel == VOICE || channel == CHAT) && r.chance(0.3) {
        r.lognormal(50.0, 0.8).clamp(1.0, 1800.0).round() as u32
    } else {
        0
    };
    let acw = if a.breach_prone {
        r.lognormal(110.0, 0.5)
    } else {
        r.lognormal(35.0, 0.55)
    };
    let acw = (acw * aht.sqrt()).min(3600.0).round() as u32;
    let u = r.f64();
    let disposition = if outbound {
        if u < 0.25 {
            3
        } else if u < 0.8 {
            4
        } else {
            6
        }
    } else if queue == SALES {
        if u < 0.35 {
            3
        } else if u < 0.7 {
            4
        } else if u < 0.9 {
            D_RESOLVED
        } else {
            1
        }
    } else {
        SERVICE_CDF
            .iter()
            .find(|(c, _)| u < *c)
            .map_or(D_RESOLVED, |&(_, d)| d)
    };
    let csat = if r.chance(P_SURVEYED) {
        let mut s = r.pick(&CSAT_CDF) as u8 + 1;
        if a.falling_csat && r.chance(0.75 * progress) {
            s = s.saturating_sub(if r.chance(0.4) { 2 } else { 1 }).max(1);
        }
        s
    } else {
        0
    };
    let card = if r.chance(P_CARD_NOTE) {
        luhn_complete(400_000_000_000_000 + r.below(100_000_000_000_000))
    } else {
        0
    };
    Handled {
        talk,
        hold,
        acw,
        disposition,
        csat,
        card,
    }
}
