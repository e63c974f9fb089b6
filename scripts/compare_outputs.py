#!/usr/bin/env python3
"""Compares two folders written by scripts/outputs.sh (before and after a
change): CSV, Parquet and text byte for byte, JSON as parsed values, and the
HTML report by its JSON data block and its page with the footer's time
removed. What changes by nature is masked: ingest ids, run timestamps,
timings, temporary paths.

    scripts/compare_outputs.py BEFORE AFTER

Exit 0 when every file agrees, 1 otherwise (each difference is printed).
Standard library only.
"""

import json
import re
import sys
from pathlib import Path

# Keys whose values differ from run to run.
VOLATILE = {"ingest_id", "started_at", "finished_at", "seconds", "rows_per_second",
            "mb_per_second", "quarantine_dir", "config", "inbox", "dataset", "path",
            "reports_dir", "report_path", "elapsed_s", "dataset_path", "rows_per_s",
            "mb_per_s"}
# How many Parquet files an ingest writes, and so their bytes, depends on how
# the worker threads met the days; the rows do not.
INFO_VOLATILE = {"files", "bytes"}
INFO_FILES_LINE = re.compile(r"^files .*$", re.M)
TMP = re.compile(r"/tmp/[^\s\"',]+")
INGEST_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")


def mask(v):
    if isinstance(v, dict):
        return {k: ("<masked>" if k in VOLATILE else mask(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [mask(x) for x in v]
    if isinstance(v, str):
        return INGEST_ID.sub("<id>", TMP.sub("<tmp>", v))
    return v


def page_parts(text):
    start = text.index('id="cx-data">') + len('id="cx-data">')
    end = text.index("</script>", start)
    data = json.loads(text[start:end])
    page = text[:start] + text[end:]
    page = re.sub(r"at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "at <time> UTC", page)
    page = TMP.sub("<tmp>", page)
    return mask(data), page


def compare(a: Path, b: Path):
    if a.suffix == ".json":
        ja, jb = mask(json.loads(a.read_text())), mask(json.loads(b.read_text()))
        if a.name == "run-summary.json":
            # The page's data block is compact JSON since the redesign
            # (serde_json); the page itself is compared by that block's
            # value (report.html), so only the byte count of its entry is
            # left out here.
            for j in (ja, jb):
                for r in j.get("reports", []):
                    if r.get("report") == "html":
                        r["bytes"] = "<masked: see report.html>"
        if a.name == "info.json":
            for j in (ja, jb):
                for k in INFO_VOLATILE:
                    j[k] = "<masked>"
        return None if ja == jb else f"JSON differs:\n  {ja}\n  {jb}"[:4000]
    if a.suffix == ".html":
        (da, pa), (db, pb) = page_parts(a.read_text()), page_parts(b.read_text())
        if da != db:
            return "the page's data block differs"
        return None if pa == pb else "the page (outside its data block) differs"
    ba, bb = a.read_bytes(), b.read_bytes()
    if a.suffix in (".txt", ".csv"):
        def text_mask(raw):
            t = INGEST_ID.sub("<id>", TMP.sub("<tmp>", raw.decode()))
            return INFO_FILES_LINE.sub("files <masked>", t) if a.name == "info.txt" else t
        ba, bb = text_mask(ba).encode(), text_mask(bb).encode()
    return None if ba == bb else f"bytes differ ({len(ba)} vs {len(bb)})"


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    files_a = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    files_b = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    bad = 0
    for rel in sorted(files_a ^ files_b):
        print(f"{rel}: only in {'before' if rel in files_a else 'after'}")
        bad += 1
    for rel in sorted(files_a & files_b):
        why = compare(before / rel, after / rel)
        if why:
            print(f"{rel}: {why}")
            bad += 1
    same = len(files_a & files_b) - bad
    print(f"{same} of {len(files_a | files_b)} files agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
