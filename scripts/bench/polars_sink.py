"""Polars side of the ingest benchmark: convert one CSV to one Parquet file.

This is exactly the pipeline SPEC.md section 14 names,
`pl.scan_csv(...).sink_parquet(...)`, with Polars' defaults (all cores,
streaming sink, default Parquet codec).

Usage: python polars_sink.py INPUT.csv OUTPUT.parquet
"""

import sys

import polars as pl


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: polars_sink.py INPUT.csv OUTPUT.parquet")
    src, dst = sys.argv[1], sys.argv[2]
    pl.scan_csv(src).sink_parquet(dst)


if __name__ == "__main__":
    main()
