"""Write one Parquet file with every row of a cxpipe dataset (kpi benchmark set-up).

DuckDB and Polars are timed over a single file with the dataset's rows, as
SPEC.md section 14 says; this makes it, untimed, with

  COPY (SELECT * FROM read_parquet('DATASET/interactions/**/*.parquet',
                                   hive_partitioning = false)) TO OUT (FORMAT parquet)

`hive_partitioning = false` keeps the rows as stored: no extra `date` column
from the `date=YYYY-MM-DD` folder names. The file is written under a temporary
name, its row count checked against the dataset's, then renamed into place.
Prints the row count on stdout.

Usage: python dataset_to_parquet.py DATASET OUT.parquet
"""

import os
import sys

import duckdb


def sql_str(s: str) -> str:
    """Quote a path as a SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: dataset_to_parquet.py DATASET OUT.parquet")
    dataset, out = sys.argv[1], sys.argv[2]
    pattern = os.path.join(dataset, "interactions", "**", "*.parquet")
    src = f"read_parquet({sql_str(pattern)}, hive_partitioning = false)"
    tmp = out + ".tmp"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"COPY (SELECT * FROM {src}) TO {sql_str(tmp)} (FORMAT parquet)")
    (n_dataset,) = con.execute(f"SELECT count(*) FROM {src}").fetchone()
    (n_out,) = con.execute(f"SELECT count(*) FROM read_parquet({sql_str(tmp)})").fetchone()
    con.close()
    if n_dataset != n_out:
        os.remove(tmp)
        sys.exit(f"{out}: wrote {n_out} rows, but the dataset has {n_dataset}")
    os.replace(tmp, out)
    print(n_dataset)


if __name__ == "__main__":
    main()
