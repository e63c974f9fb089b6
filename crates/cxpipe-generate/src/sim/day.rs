//! A day's rows: every slot of the day, in slot order, then sorted by
//! arrival.

use super::handle::{Handled, handle};
use super::roster::Roster;
use super::slot::{Core, core, customer_of};
use super::{
    D_TRANSFERRED, DayStats, F_ABANDONED, F_MIXED_CASE, F_OUTBOUND, F_TRANSFERRED, NO_DISPOSITION,
    NONE32, NONE64, QUEUE_CDF, Row, by_phone, id48,
};
use crate::rng::Rng;
use crate::world::{INTERVAL_S, INTERVALS, World};

/// Generates day `day` into `rows` (cleared first), sorted by arrival.
/// `scratch` is reused memory for sorting.
pub(crate) fn generate_day(
    w: &World,
    n_slots: &[u64],
    day: u32,
    rows: &mut Vec<Row>,
    scratch: &mut Vec<u32>,
) -> DayStats {
    rows.clear();
    let budget = w.day_rows[day as usize];
    rows.reserve(budget as usize);
    let mut d = Day {
        w,
        n_slots,
        day,
        roster: Roster::new(w, day),
        stats: DayStats {
            handled: vec![0; w.agents.len()],
            ..DayStats::default()
        },
        budget,
        seq: 0,
    };
    for k in 0..n_slots[day as usize] {
        d.slot(k, rows);
    }
    debug_assert_eq!(d.seq, budget);
    sort_by_arrival(rows, scratch);
    d.stats
}

/// The state of one day while its slots are generated in order.
struct Day<'a> {
    w: &'a World,
    n_slots: &'a [u64],
    day: u32,
    roster: Roster,
    stats: DayStats,
    /// The day's rows, and how many have been numbered so far.
    budget: u64,
    seq: u64,
}

impl Day<'_> {
    /// The id of the next row of the day: rows are numbered in slot order
    /// across the whole file.
    fn next_id(&mut self) -> u64 {
        let id = id48(
            self.w.day_offset[self.day as usize] + self.seq,
            self.w.id_key,
        );
        self.seq += 1;
        id
    }

    /// Generates slot `k` into `rows`: one row, or the two legs of a
    /// transfer. The draws continue the slot's own stream in a fixed order,
    /// so that a slot's rows depend on nothing but the slot.
    fn slot(&mut self, k: u64, rows: &mut Vec<Row>) {
        let (w, day) = (self.w, self.day);
        let (c, mut r) = core(w, day, k);
        let transfer = c.transfer && self.budget - self.seq >= 2;
        let customer = customer_of(w, self.n_slots, day, k, c);
        let mixed_case = !by_phone(c.channel) && r.chance(0.1);
        let flags =
            if c.outbound { F_OUTBOUND } else { 0 } | if mixed_case { F_MIXED_CASE } else { 0 };
        let mut row = Row {
            id: self.next_id(),
            chain: NONE64,
            customer,
            card: 0,
            arrived: c.arrival,
            answered: NONE32,
            ended: c.arrival + c.wait,
            talk: 0,
            hold: 0,
            acw: 0,
            agent: NONE32,
            channel: c.channel,
            queue: c.queue,
            disposition: NO_DISPOSITION,
            csat: 0,
            flags,
        };
        if c.abandoned {
            row.flags |= F_ABANDONED;
            self.stats.abandoned += 1;
            rows.push(row);
            return;
        }
        let answered = c.arrival + c.wait;
        let agent = self.roster.choose(c.queue, answered, NONE32, &mut r);
        let h = handle(w, day, agent, c.channel, c.queue, c.outbound, &mut r);
        self.count_handled(agent, &h);
        row.answered = answered;
        row.ended = answered + h.talk + h.hold;
        row.talk = h.talk;
        row.hold = h.hold;
        row.acw = h.acw;
        row.agent = agent;
        row.disposition = h.disposition;
        row.csat = h.csat;
        row.card = h.card;
        if !transfer {
            rows.push(row);
            return;
        }
        let leg2 = self.transfer(&mut row, &c, &mut r);
        rows.push(row);
        rows.push(leg2);
    }

    /// The agent of the handled first leg `row` transfers the contact out:
    /// the leg ends, and the returned second leg of the same chain arrives
    /// in (usually) another queue.
    fn transfer(&mut self, row: &mut Row, c: &Core, r: &mut Rng) -> Row {
        let (w, day) = (self.w, self.day);
        self.stats.transfers += 1;
        let flags = row.flags;
        row.flags |= F_TRANSFERRED;
        row.chain = row.id;
        row.disposition = D_TRANSFERRED;
        row.csat = 0;
        let arrival2 = row.ended;
        let mut queue2 = c.queue;
        if r.chance(0.8) {
            for _ in 0..8 {
                queue2 = r.pick(&QUEUE_CDF) as u8;
                if queue2 != c.queue {
                    break;
                }
            }
        }
        let interval2 = (arrival2 / INTERVAL_S) as usize;
        let steep =
            f64::from(w.wait_steep[w.cell(day, usize::from(queue2), interval2.min(INTERVALS - 1))]);
        let answered2 = arrival2 + r.exp(15.0 * steep).min(600.0).round() as u32;
        let agent2 = self.roster.choose(queue2, answered2, row.agent, r);
        let h2 = handle(w, day, agent2, c.channel, queue2, false, r);
        self.count_handled(agent2, &h2);
        Row {
            id: self.next_id(),
            chain: row.id,
            customer: row.customer,
            card: h2.card,
            arrived: arrival2,
            answered: answered2,
            ended: answered2 + h2.talk + h2.hold,
            talk: h2.talk,
            hold: h2.hold,
            acw: h2.acw,
            agent: agent2,
            channel: c.channel,
            queue: queue2,
            disposition: h2.disposition,
            csat: h2.csat,
            flags,
        }
    }

    fn count_handled(&mut self, agent: u32, h: &Handled) {
        self.stats.handled[agent as usize] += 1;
        self.stats.cards += u64::from(h.card != 0);
    }
}

/// Sorts rows by arrival second, keeping generation order among equal
/// arrivals. A stable counting sort: a day has only 86 400 possible keys, so
/// this is linear and several times cheaper than comparison-sorting the rows.
fn sort_by_arrival(rows: &mut [Row], dest: &mut Vec<u32>) {
    let Some(max) = rows.iter().map(|r| r.arrived).max() else {
        return;
    };
    let mut next = vec![0u32; max as usize + 2];
    for r in rows.iter() {
        next[r.arrived as usize + 1] += 1;
    }
    for i in 1..next.len() {
        next[i] += next[i - 1];
    }
    // Each row's place (stable: rows of one second keep their order), then
    // the rows moved there in place, cycle by cycle: 4 bytes a row instead
    // of a copy of the day (64 bytes a row, 205 MB for a day of a 100M-row
    // month).
    dest.clear();
    dest.extend(rows.iter().map(|r| {
        let slot = &mut next[r.arrived as usize];
        let place = *slot;
        *slot += 1;
        place
    }));
    for i in 0..rows.len() {
        while dest[i] as usize != i {
            let j = dest[i] as usize;
            rows.swap(i, j);
            dest.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_sort_equals_stable_sort() {
        let mut r = Rng::new(3);
        let mut rows: Vec<Row> = (0..5000)
            .map(|i| Row {
                id: i,
                chain: NONE64,
                customer: 0,
                card: 0,
                arrived: r.below(2000) as u32 * 40,
                answered: NONE32,
                ended: 0,
                talk: 0,
                hold: 0,
                acw: 0,
                agent: NONE32,
                channel: 0,
                queue: 0,
                disposition: NO_DISPOSITION,
                csat: 0,
                flags: 0,
            })
            .collect();
        let mut expected = rows.clone();
        expected.sort_by_key(|r| r.arrived);
        sort_by_arrival(&mut rows, &mut Vec::new());
        let ids = |v: &[Row]| v.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(&rows), ids(&expected));
    }
}
