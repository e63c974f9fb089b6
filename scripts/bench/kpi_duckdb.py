"""DuckDB side of the kpi benchmark: `cxpipe kpi --by agent,day` in one SQL statement.

Reads one Parquet file holding every row of the dataset and writes the
agent-side KPIs per (agent_id, date) as CSV, with the semantics `cxpipe kpi`
implements (zone UTC: date = UTC date of arrived_at; FCR window 72 h):

  handled rows     answered_at is not null (any direction); only they are output
  aht_s ...        means of handle/talk/hold/acw ms over handled, in seconds
  hold_rate        handled with hold_ms > 0 / handled
  transfer_rate    handled and transferred / handled
  FCR subjects     handled, inbound, customer_key not null; chain = coalesce(chain_id, interaction_id)
  resolved         no inbound row of the same customer, of another chain, with
                   s.t < r.t <= s.t + 72 h anywhere in the file
  eligible         s.t + 72 h <= max(arrived_at) over the whole file (right-censoring)
  fcr_rate         eligible and resolved / eligible
  csat_*           over handled rows with a csat; csat_top2 = csat >= 4 / responses
A ratio or mean with a zero denominator is null (an empty CSV field).

FCR, exactly, in one window over the inbound rows with a customer_key:
partitioned by customer, ordered by arrival time t (µs), frame
RANGE BETWEEN 1 FOLLOWING AND <72 h> FOLLOWING, i.e. the rows r with
s.t < r.t <= s.t + 72 h (strictly after, window end included). s has a
repeat exactly when some chain in that frame differs from its own, i.e. when
min(chain) or max(chain) over the frame is not its chain (an empty frame
gives NULL: no repeat). Equal timestamps need no special care: rows at s.t
are outside the frame whatever their chain.

The file is scanned once per part (FCR, last arrival, agent aggregates)
rather than through one shared CTE, which DuckDB would materialise: same
speed here, half the memory.

Usage: python kpi_duckdb.py ALL.parquet OUT.csv
"""

import sys

import duckdb

FCR_WINDOW_US = 72 * 3600 * 1_000_000


def sql_str(s: str) -> str:
    """Quote a path as a SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


QUERY = """
COPY (
WITH
-- Every inbound row with a customer_key can be a repeat; subjects are the handled ones.
inb AS (
    SELECT
        agent_id,
        CAST(arrived_at AS DATE)               AS date,
        answered_at IS NOT NULL                AS handled,
        customer_key                           AS ck,
        epoch_us(arrived_at)                   AS t,
        coalesce(chain_id, interaction_id)     AS ch
    FROM read_parquet({src})
    WHERE direction = 'inbound' AND customer_key IS NOT NULL
),
-- repeated: some inbound row of the customer in (t, t + window] is of another chain.
rep AS (
    SELECT agent_id, date, t,
        coalesce(min(ch) OVER f <> ch OR max(ch) OVER f <> ch, false) AS repeated
    FROM inb
    WINDOW f AS (PARTITION BY ck ORDER BY t RANGE BETWEEN 1 FOLLOWING AND {w} FOLLOWING)
    QUALIFY handled
),
fcr AS (
    SELECT agent_id, date,
        count(*) FILTER (WHERE t + {w} <= last_t)                   AS eligible,
        count(*) FILTER (WHERE t + {w} <= last_t AND NOT repeated)  AS resolved
    FROM rep, (SELECT epoch_us(max(arrived_at)) AS last_t FROM read_parquet({src}))
    GROUP BY agent_id, date
),
agent AS (
    SELECT
        agent_id,
        CAST(arrived_at AS DATE)                       AS date,
        count(*)                                       AS handled,
        avg(handle_ms) / 1000.0                        AS aht_s,
        avg(talk_ms) / 1000.0                          AS avg_talk_s,
        avg(hold_ms) / 1000.0                          AS avg_hold_s,
        avg(acw_ms) / 1000.0                           AS avg_acw_s,
        count(*) FILTER (WHERE hold_ms > 0) / count(*) AS hold_rate,
        count(*) FILTER (WHERE transferred) / count(*) AS transfer_rate,
        avg(csat)                                      AS csat_avg,
        count(csat)                                    AS csat_responses,
        count(*) FILTER (WHERE csat >= 4)              AS csat_top2_n
    FROM read_parquet({src})
    WHERE answered_at IS NOT NULL
    GROUP BY ALL
)
SELECT
    a.agent_id, a.date, a.handled, a.aht_s, a.avg_talk_s, a.avg_hold_s, a.avg_acw_s,
    a.hold_rate, a.transfer_rate,
    f.resolved / nullif(f.eligible, 0)                 AS fcr_rate,
    coalesce(f.eligible, 0)                            AS fcr_eligible,
    a.csat_avg, a.csat_responses,
    a.csat_top2_n / nullif(a.csat_responses, 0)        AS csat_top2
FROM agent a
LEFT JOIN fcr f ON a.agent_id IS NOT DISTINCT FROM f.agent_id AND a.date = f.date
ORDER BY a.agent_id NULLS LAST, a.date
) TO {dst} (FORMAT csv, HEADER)
"""


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: kpi_duckdb.py ALL.parquet OUT.csv")
    src, dst = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    # arrived_at is TIMESTAMP WITH TIME ZONE; its DATE cast follows this setting.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(QUERY.format(src=sql_str(src), dst=sql_str(dst), w=FCR_WINDOW_US))
    con.close()


if __name__ == "__main__":
    main()
