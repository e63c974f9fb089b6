//! Rows and a world for the formatters' unit tests.

use super::RowFormatter;
use crate::sim::{EMAIL, F_ABANDONED, F_MIXED_CASE, NO_DISPOSITION, NONE32, NONE64, Row, VOICE};
use crate::world::{SITES, World};
use crate::{FileFormat, GenConfig, Layout};

/// The default configuration's world (2026-10-01 is its day 0).
pub(super) fn world() -> World {
    World::new(&GenConfig::default())
}

/// A handled inbound voice contact at 08:15:32 UTC, answered after 12 s.
pub(super) fn handled(agent: u32) -> Row {
    Row {
        id: 0xABCD_EF01_2345,
        chain: NONE64,
        customer: 5_550_101,
        card: 0,
        arrived: 8 * 3600 + 15 * 60 + 32,
        answered: 8 * 3600 + 15 * 60 + 44,
        ended: 8 * 3600 + 15 * 60 + 44 + 187 + 20,
        talk: 187,
        hold: 20,
        acw: 41,
        agent,
        channel: VOICE,
        queue: 1,
        disposition: 0, // resolved
        csat: 4,
        flags: 0,
    }
}

/// An e-mail that was never answered (abandoned), from a customer who
/// types capitals.
pub(super) fn abandoned() -> Row {
    Row {
        id: 0x0000_0000_0042,
        chain: NONE64,
        customer: 64 * 3 + 1 + 4096 * 7,
        card: 0,
        arrived: 23 * 3600 + 59 * 60 + 50,
        answered: NONE32,
        ended: 23 * 3600 + 59 * 60 + 50 + 3725,
        talk: 0,
        hold: 0,
        acw: 0,
        agent: NONE32,
        channel: EMAIL,
        queue: 0,
        disposition: NO_DISPOSITION,
        csat: 0,
        flags: F_ABANDONED | F_MIXED_CASE,
    }
}

/// The whole file of `rows`, put together as `generate` does (which
/// drops the separator before the first record of a JSON array).
pub(super) fn format(layout: Layout, format: FileFormat, rows: &[Row]) -> String {
    let w = world();
    let mut f = RowFormatter::new(&w, layout, format).expect("formatter");
    f.set_day(0);
    let mut body = Vec::new();
    for r in rows {
        f.push(&mut body, r);
    }
    let mut out = RowFormatter::header(layout, format);
    match body.split_first() {
        Some((b',', rest)) if format == FileFormat::JsonArray => out.extend_from_slice(rest),
        _ => out.extend_from_slice(&body),
    }
    out.extend_from_slice(RowFormatter::footer(format));
    String::from_utf8(out).expect("UTF-8")
}

/// Agent `i`'s id, team and site.
pub(super) fn agent_of(w: &World, i: u32) -> (String, String, &'static str) {
    let a = &w.agents[i as usize];
    (
        a.id.clone(),
        w.team_names[a.team as usize].clone(),
        SITES[a.site],
    )
}
