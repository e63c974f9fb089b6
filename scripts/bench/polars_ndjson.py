"""Polars side of the connect benchmark: convert one NDJSON file to one Parquet file.

The obvious pipeline for Amazon Connect contact trace records,
`pl.scan_ndjson(...).sink_parquet(...)`, with Polars' defaults like
polars_sink.py (all cores, streaming sink, default Parquet codec, the schema
inferred from the first records, nested objects kept as structs).

Should this Polars version refuse to stream the plan (InvalidOperationError,
e.g. "not yet supported in standard engine"), it falls back to
`collect().write_parquet(...)`, which holds the whole frame in memory, and
prints a line starting with FALLBACK on stderr so that bench.sh says so in
a note. Any other error is raised as is: the run fails and bench.sh reports
it.

Usage: python polars_ndjson.py INPUT.ndjson OUTPUT.parquet
"""

import sys

import polars as pl

FALLBACK_MARK = "FALLBACK:"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: polars_ndjson.py INPUT.ndjson OUTPUT.parquet")
    src, dst = sys.argv[1], sys.argv[2]
    try:
        pl.scan_ndjson(src).sink_parquet(dst)
    except pl.exceptions.InvalidOperationError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(
            f"{FALLBACK_MARK} sink_parquet could not stream this plan ({first}); "
            "used collect().write_parquet() instead",
            file=sys.stderr,
            flush=True,
        )
        pl.scan_ndjson(src).collect().write_parquet(dst)


if __name__ == "__main__":
    main()
