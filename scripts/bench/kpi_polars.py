"""Polars side of the kpi benchmark: `cxpipe kpi --by agent,day` as one lazy query.

Reads one Parquet file holding every row of the dataset and writes the
agent-side KPIs per (agent_id, date) as CSV, with the same semantics as
kpi_duckdb.py (see its docstring; zone UTC, FCR window 72 h), in one
`collect()` with Polars' defaults (all cores).

FCR, exactly: the inbound rows with a customer_key are sorted by
(customer_key, t), ties in any order; a tick is a customer's rows with one
arrival time. On that order:
  nxt   on the last row of each run of equal chains, the next row's arrival
        (a sentinel "never" on a customer's last row); null elsewhere.
  ndt   nxt filled backwards: the first run end at or after the row, which
        (nxt being non-decreasing over a customer) is the suffix minimum.
For a subject s with chain c and q = the first row strictly later than s.t
(the row after the last row of s's tick), the earliest repeat is t(q) when
chain(q) != c, else ndt(q) (the row after the run q starts). If q's tick
holds c and another chain, q's run ends inside that tick, so ndt(q) = t(q)
and the answer is t(q) either way: exact with equal timestamps, whatever
order the sort leaves ties in. q's values are taken on the last row of each
tick and filled backwards over the tick's other rows.

(DuckDB's formulation, min/max of the chain over a frame (t, t + 72 h] per
customer, would be `LazyFrame.rolling(..., group_by="ck")` here: exact too,
but about 2.5x slower than this whole script at 10M rows. A self-join on
customer_key filtered to the window is exact too, but needs over 3 GiB for
the FCR part alone.)

Usage: python kpi_polars.py ALL.parquet OUT.csv
"""

import sys

import polars as pl

FCR_WINDOW_US = 72 * 3600 * 1_000_000
NEVER = 2**62  # "no repeat": later than any t + window


def build(src: str) -> pl.LazyFrame:
    base = pl.scan_parquet(src).select(
        pl.col("agent_id").cast(pl.String),
        pl.col("arrived_at").dt.date().alias("date"),  # arrived_at is UTC
        pl.col("arrived_at").dt.epoch("us").alias("t"),
        pl.col("answered_at").is_not_null().alias("handled"),
        (pl.col("direction").cast(pl.String) == "inbound").alias("inbound"),
        pl.col("customer_key").alias("ck"),
        pl.coalesce("chain_id", "interaction_id").alias("ch"),
        "handle_ms",
        "talk_ms",
        "hold_ms",
        "acw_ms",
        "transferred",
        "csat",
    )
    last = base.select(pl.col("t").max().alias("last_t"))

    t, ch = pl.col("t"), pl.col("ch")
    same = pl.col("ck").shift(-1).eq_missing(pl.col("ck"))  # next row: same customer
    nt, nch = t.shift(-1), ch.shift(-1)
    fcr = (
        base.filter(pl.col("inbound") & pl.col("ck").is_not_null())
        .select("agent_id", "date", "handled", "ck", "t", "ch")
        .sort("ck", "t")
        .with_columns(
            nxt=pl.when(~same).then(pl.lit(NEVER)).when(nch != ch).then(nt),
            tick_end=~same | (nt != t),
        )
        .with_columns(ndt=pl.col("nxt").fill_null(strategy="backward"))
        .with_columns(
            # q = the next row after the tick's last row; null on the tick's other rows.
            qt=pl.when(~same).then(pl.lit(NEVER)).when(pl.col("tick_end")).then(nt),
            qch=pl.when(~same).then(ch).when(pl.col("tick_end")).then(nch),
            qndt=pl.when(~same)
            .then(pl.lit(NEVER))
            .when(pl.col("tick_end"))
            .then(pl.col("ndt").shift(-1)),
        )
        .with_columns(pl.col("qt", "qch", "qndt").fill_null(strategy="backward"))
        .filter(pl.col("handled"))
        .with_columns(
            rep_t=pl.when(pl.col("qch") != ch).then(pl.col("qt")).otherwise(pl.col("qndt"))
        )
        .join(last, how="cross")
        .with_columns(eligible=t + FCR_WINDOW_US <= pl.col("last_t"))
        .group_by("agent_id", "date")
        .agg(
            fcr_eligible=pl.col("eligible").sum(),
            fcr_resolved=(pl.col("eligible") & (pl.col("rep_t") > t + FCR_WINDOW_US)).sum(),
        )
    )

    n = pl.len()
    agent = (
        base.filter(pl.col("handled"))
        .group_by("agent_id", "date")
        .agg(
            handled=n,
            aht_s=pl.col("handle_ms").mean() / 1000,
            avg_talk_s=pl.col("talk_ms").mean() / 1000,
            avg_hold_s=pl.col("hold_ms").mean() / 1000,
            avg_acw_s=pl.col("acw_ms").mean() / 1000,
            hold_rate=(pl.col("hold_ms") > 0).sum() / n,
            transfer_rate=pl.col("transferred").sum() / n,
            csat_avg=pl.col("csat").cast(pl.Float64).mean(),
            csat_responses=pl.col("csat").count(),
            csat_top2_n=(pl.col("csat") >= 4).sum(),
        )
    )

    elig, resp = pl.col("fcr_eligible"), pl.col("csat_responses")
    return (
        agent.join(fcr, on=["agent_id", "date"], how="left", nulls_equal=True)
        .with_columns(
            fcr_rate=pl.when(elig > 0).then(pl.col("fcr_resolved") / elig),
            fcr_eligible=elig.fill_null(0),
            csat_top2=pl.when(resp > 0).then(pl.col("csat_top2_n") / resp),
        )
        .select(
            "agent_id",
            "date",
            "handled",
            "aht_s",
            "avg_talk_s",
            "avg_hold_s",
            "avg_acw_s",
            "hold_rate",
            "transfer_rate",
            "fcr_rate",
            "fcr_eligible",
            "csat_avg",
            "csat_responses",
            "csat_top2",
        )
        .sort("agent_id", "date", nulls_last=True)
    )


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: kpi_polars.py ALL.parquet OUT.csv")
    src, dst = sys.argv[1], sys.argv[2]
    build(src).collect().write_csv(dst)


if __name__ == "__main__":
    main()
