"""DuckDB side of the ingest benchmark: convert one CSV to one Parquet file.

This is exactly the statement SPEC.md section 14 names,
`COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)`, with DuckDB's
defaults (all cores, default memory limit, default Parquet codec), so the
number is what a user gets from the obvious one-liner.

Usage: python duckdb_copy.py INPUT.csv OUTPUT.parquet
"""

import sys

import duckdb


def sql_str(s: str) -> str:
    """Quote a path as a SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: duckdb_copy.py INPUT.csv OUTPUT.parquet")
    src, dst = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv({sql_str(src)})) TO {sql_str(dst)} (FORMAT parquet)"
    )
    con.close()


if __name__ == "__main__":
    main()
