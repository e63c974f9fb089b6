"""DuckDB side of the connect benchmark: convert one NDJSON file to one Parquet file.

The obvious one-liner for Amazon Connect contact trace records,
`COPY (SELECT * FROM read_json(..., format='newline_delimited')) TO ... (FORMAT parquet)`,
with DuckDB's defaults like duckdb_copy.py (all cores, default memory limit,
default Parquet codec, the nested fields inferred from a sample and kept as
STRUCTs), so the number is what a user gets without tuning.

Usage: python duckdb_json.py INPUT.ndjson OUTPUT.parquet
"""

import sys

import duckdb


def sql_str(s: str) -> str:
    """Quote a path as a SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: duckdb_json.py INPUT.ndjson OUTPUT.parquet")
    src, dst = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_json({sql_str(src)}, format='newline_delimited')) "
        f"TO {sql_str(dst)} (FORMAT parquet)"
    )
    con.close()


if __name__ == "__main__":
    main()
