"""Sanity checks on what a benchmarked tool wrote, run after the timed runs.

Prints `key=value` lines on stdout for bench.sh to collect; a value that
cannot be found is printed as `n/a` rather than failing, because the run
report's fields may still be changing while cxpipe is being written.

Usage:
  python check_output.py parquet PATH_OR_GLOB   # rows in a Parquet file (or glob)
  python check_output.py dataset DATASET        # rows in a cxpipe dataset + run report totals
"""

import glob
import json
import os
import sys

import duckdb

# Fields of `totals` in DATASET/ingests/<ingest_id>.json (SPEC.md section 5-6).
TOTALS = ("rows_read", "rows_written", "rows_quarantined", "duplicates_dropped")


def sql_str(s: str) -> str:
    """Quote a path as a SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def count_parquet(pattern: str) -> int:
    """Count rows the way SPEC.md section 6 says must just work."""
    con = duckdb.connect()
    (n,) = con.execute(f"select count(*) from {sql_str(pattern)}").fetchone()
    con.close()
    return int(n)


def codecs(path: str) -> str:
    """The Parquet compression codec(s) used in one file, e.g. ZSTD."""
    con = duckdb.connect()
    rows = con.execute(
        f"select distinct compression from parquet_metadata({sql_str(path)}) order by 1"
    ).fetchall()
    con.close()
    return "+".join(str(r[0]) for r in rows) or "n/a"


def report_totals(dataset: str) -> dict:
    """Sum `totals.*` over every run report in the dataset; absent fields stay None."""
    out: dict = {k: None for k in TOTALS}
    reports = sorted(glob.glob(os.path.join(dataset, "ingests", "*.json")))
    for path in reports:
        try:
            with open(path, encoding="utf-8") as f:
                totals = json.load(f).get("totals") or {}
        except (OSError, ValueError, AttributeError):
            continue
        for key in TOTALS:
            value = totals.get(key) if isinstance(totals, dict) else None
            if isinstance(value, int):
                out[key] = (out[key] or 0) + value
    out["reports"] = len(reports)
    return out


def show(value) -> str:
    return "n/a" if value is None else str(value)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("parquet", "dataset"):
        sys.exit(__doc__)
    kind, target = sys.argv[1], sys.argv[2]
    if kind == "parquet":
        print(f"rows_out={count_parquet(target)}")
        print(f"out_mb={os.path.getsize(target) / 1e6:.1f}")
        print(f"codec={codecs(target)}")
        return
    pattern = os.path.join(target, "interactions", "**", "*.parquet")
    files = glob.glob(pattern, recursive=True)
    print(f"rows_out={count_parquet(pattern) if files else 0}")
    print(f"parquet_files={len(files)}")
    print(f"out_mb={sum(os.path.getsize(f) for f in files) / 1e6:.1f}")
    print(f"codec={codecs(files[0]) if files else 'n/a'}")
    for key, value in report_totals(target).items():
        print(f"{key}={show(value)}")


if __name__ == "__main__":
    main()
