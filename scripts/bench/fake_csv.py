"""Write a synthetic generic CSV for exercising bench.sh without a cxpipe build.

Same header and value shapes as `cxpipe generate` (generic layout): UTC
timestamps like 2026-10-01T08:15:32Z, booleans true/false, empty = null.
It is only a stand-in for testing the benchmark plumbing; real numbers come
from `cxpipe generate`.

Usage: python fake_csv.py --rows N --out FILE [--seed S]
"""

import argparse
import random
from datetime import datetime, timedelta, timezone

HEADER = (
    "interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,"
    "arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,disposition,csat"
)
CHANNELS = ("voice", "voice", "voice", "chat", "email")
QUEUES = ("billing", "sales", "support", "retention", "tech")
SITES = ("lisbon", "manila", "cairo")
DISPOSITIONS = ("resolved", "callback", "escalated", "info", "sale")


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    span = 31 * 86400
    agents = [f"A{i:05d}" for i in range(2000)]
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        lines = []
        for i in range(a.rows):
            arrived = start + timedelta(seconds=rng.randrange(span))
            channel = rng.choice(CHANNELS)
            abandoned = rng.random() < 0.07
            wait = rng.randrange(0, 300)
            if abandoned:
                agent = team = answered = disposition = csat = ""
                talk = hold = acw = 0
                ended = arrived + timedelta(seconds=wait)
                transferred = False
            else:
                ai = rng.randrange(len(agents))
                agent, team = agents[ai], f"T{ai // 15:03d}"
                talk, hold, acw = rng.randrange(30, 900), rng.randrange(0, 120), rng.randrange(0, 180)
                ans = arrived + timedelta(seconds=wait)
                answered = ts(ans)
                ended = ans + timedelta(seconds=talk + hold)
                transferred = rng.random() < 0.1
                disposition = rng.choice(DISPOSITIONS)
                csat = str(rng.randint(1, 5)) if rng.random() < 0.2 else ""
            lines.append(
                ",".join(
                    (
                        f"I{i:010d}",
                        f"C{i // 2:010d}" if rng.random() < 0.1 else f"C{i:010d}",
                        channel,
                        "inbound" if rng.random() < 0.85 else "outbound",
                        rng.choice(QUEUES),
                        agent,
                        team,
                        rng.choice(SITES),
                        f"K{rng.randrange(5_000_000):08d}",
                        ts(arrived),
                        answered,
                        ts(ended),
                        str(talk),
                        str(hold),
                        str(acw),
                        "true" if abandoned else "false",
                        "true" if transferred else "false",
                        disposition,
                        csat,
                    )
                )
            )
            if len(lines) >= 50_000:
                f.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
