"""Compare two KPI CSVs (e.g. cxpipe's and DuckDB's) column by column.

Columns are matched by name, in any order. Rows are matched by their key
columns (agent_id, date, ... as listed in KEY_COLUMNS; by position if there
are none) and must come in the same order in both files. A value compares:
  - exactly, in a key column, or when it is an integer in both files (counts);
  - within a relative tolerance of 1e-6 or an absolute one of 1e-6 otherwise
    (floats; "0" and "0.0" are equal), widened to half a unit of the last
    decimal a file rounds the column to: a column whose values never have more
    than N decimals (N <= 9, at least one with a decimal point) is taken as
    rounded to N decimals (cxpipe writes seconds to 3 decimals and ratios to
    6), so e.g. 354.803 equals 354.80263 but not 354.8041;
  - an empty field is null and equals only an empty field; NaN equals nothing.
A column only one file has is ignored when it is empty in every row there
(cxpipe's reserved `occupancy`) or named in --ignore; otherwise it is a
mismatch, as are keys only one file has and rows in another order.
Prints `rows=N columns=M mismatches=K`, then the first differences, then
`agree` or `DIFFER`; exit status 0 when the files agree, 1 when they do
not, 2 on a usage error.

Usage: python check_kpi.py A.csv B.csv [--show N] [--ignore COL,COL...]
"""

import csv
import math
import sys

KEY_COLUMNS = {
    "agent_id", "team", "site", "queue", "channel", "date", "shift_date", "shift",
    "interval_start", "week", "month", "sl_variant",
}
REL_TOL = 1e-6
ABS_TOL = 1e-6
MAX_ROUNDED_DECIMALS = 9  # more decimals than this: full precision, not rounding


def read(path: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def is_int(s: str) -> bool:
    try:
        int(s)
        return True
    except ValueError:
        return False


def decimals(s: str) -> int | None:
    """Digits after the decimal point of a plain number, None without one."""
    if "." not in s or "e" in s.lower():
        return None
    return len(s) - s.index(".") - 1


def rounding(rows: list[dict[str, str]], col: str) -> int | None:
    """The number of decimals a file rounds `col` to, or None (full precision / unknown)."""
    seen = [d for d in (decimals(r[col]) for r in rows) if d is not None]
    if not seen or max(seen) > MAX_ROUNDED_DECIMALS:
        return None
    return max(seen)


def same(col: str, a: str, b: str, tol: float = 0.0) -> bool:
    if a == b:
        return True
    if a == "" or b == "" or col in KEY_COLUMNS:
        return False
    if is_int(a) and is_int(b):
        return int(a) == int(b)
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return False
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=max(ABS_TOL, tol))


def fmt_key(keys: list[str], k: tuple) -> str:
    if not keys:
        return f"row {k[0] + 2}"
    return "(" + ", ".join(f"{c}={v!r}" for c, v in zip(keys, k)) + ")"


def main() -> int:
    args = sys.argv[1:]
    show = 10
    ignore: set[str] = set()
    for opt in ("--show", "--ignore"):
        if opt in args:
            i = args.index(opt)
            if i + 1 >= len(args):
                print(__doc__, file=sys.stderr)
                return 2
            value = args[i + 1]
            del args[i : i + 2]
            if opt == "--ignore":
                ignore = {c for c in value.split(",") if c}
            elif value.isdigit():
                show = int(value)
            else:
                print(__doc__, file=sys.stderr)
                return 2
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path_a, path_b = args
    cols_a, rows_a = read(path_a)
    cols_b, rows_b = read(path_b)
    problems: list[str] = []
    notes: list[str] = []
    # A column only one file has is fine when it is all null there (cxpipe's
    # reserved `occupancy`, say) or named in --ignore; any other is a mismatch.
    for name, cols, other, rows in (("A", cols_a, cols_b, rows_a), ("B", cols_b, cols_a, rows_b)):
        for c in cols:
            if c in other:
                continue
            if c in ignore or all(r[c] == "" for r in rows):
                notes.append(f"note: column {c} only in {name} (ignored: {'--ignore' if c in ignore else 'all null'})")
            else:
                problems.append(f"column {c} only in {name}")
    common = [c for c in cols_a if c in cols_b]
    if common != [c for c in cols_b if c in cols_a]:
        notes.append(f"note: columns in another order (A {cols_a}, B {cols_b})")
    if len(rows_a) != len(rows_b):
        problems.append(f"row count differs: A {len(rows_a)}, B {len(rows_b)}")
    cols = [c for c in common if c not in ignore]
    keys = [c for c in cols if c in KEY_COLUMNS]
    tol: dict[str, float] = {}
    for c in cols:
        if c in KEY_COLUMNS:
            continue
        for name, rows in (("A", rows_a), ("B", rows_b)):
            d = rounding(rows, c)
            if d is not None:
                t = 0.5 * 10.0**-d * (1 + 1e-9)
                if t > tol.get(c, 0.0):
                    tol[c] = t
                    notes.append(f"note: {name} rounds {c} to {d} decimals: compared within {t:.1g}")
    # Rows are matched by their key columns (by position when there are none).
    def key_of(i: int, row: dict[str, str]) -> tuple:
        return tuple(row[k] for k in keys) if keys else (i,)

    index_b = {key_of(i, r): r for i, r in enumerate(rows_b)}
    keys_a = [key_of(i, r) for i, r in enumerate(rows_a)]
    set_a = set(keys_a)
    only_a = [k for k in keys_a if k not in index_b]
    only_b = [key_of(i, r) for i, r in enumerate(rows_b) if key_of(i, r) not in set_a]
    if len(set_a) != len(rows_a) or len(index_b) != len(rows_b):
        problems.append(f"duplicate keys: A {len(rows_a) - len(set_a)}, B {len(rows_b) - len(index_b)}")
    for name, missing in (("A", only_a), ("B", only_b)):
        if missing:
            shown = "; ".join(fmt_key(keys, k) for k in missing[:3])
            problems.append(f"{len(missing)} key(s) only in {name}, e.g. {shown}")
    common_b = [key_of(i, r) for i, r in enumerate(rows_b) if key_of(i, r) in set_a]
    common_a = [k for k in keys_a if k in index_b]
    if common_a != common_b:
        first = next(
            (i for i, (x, y) in enumerate(zip(common_a, common_b)) if x != y),
            min(len(common_a), len(common_b)) - 1,
        )
        problems.append(
            f"rows in another order: common row {first + 1} is "
            f"{fmt_key(keys, common_a[first])} in A, {fmt_key(keys, common_b[first])} in B"
        )
    mismatches = 0
    for k, ra in zip(keys_a, rows_a):
        rb = index_b.get(k)
        if rb is None:
            continue
        for c in cols:
            if not same(c, ra[c], rb[c], tol.get(c, 0.0)):
                mismatches += 1
                if len(problems) < show:
                    problems.append(f"{fmt_key(keys, k)}: {c}: A {ra[c]!r} != B {rb[c]!r}")
    print(f"rows={len(rows_a)} columns={len(cols)} mismatches={mismatches}")
    ok = not problems and mismatches == 0
    for line in notes + problems[:show]:
        print(line)
    print(f"{'agree' if ok else 'DIFFER'}: {path_a} vs {path_b}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
