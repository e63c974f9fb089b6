#!/usr/bin/env python3
"""The hostile-input suite of issue 15 (stdlib only).

    suite.py BIN WORKDIR

Makes every input under WORKDIR (which run.sh creates and removes), runs
BIN on it under the caps of measure.py (60 s, 4 GiB of address space),
checks the outcome and prints one markdown table on stdout (progress on
stderr). Exit status 1 when any row is FAIL.

Each row's verdict is computed from the checks listed in its `expected`
cell, plus these for every measured command: finished before the timeout,
exit code in the allowed set, no "panicked" on stderr, and no
`.cxpipe-tmp-*` file left anywhere in the case's folder.
"""
import csv
import datetime as dt
import glob
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import parquet_rows  # noqa: E402

TIMEOUT = 60.0
AS_LIMIT = 4 << 30
TEMP_PREFIX = ".cxpipe-tmp-"
MIB = 1 << 20

BIN = None
WORK = None


# ---------------------------------------------------------------------------
# rows of the table


class Row:
    def __init__(self, case, what, expected):
        self.case = case
        self.what = what
        self.expected = expected
        self.code = "-"
        self.rss = "-"
        self.wall = "-"
        self.rows = "-"
        self.failures = []
        self.notes = []
        self.measured = False

    def check(self, cond, msg):
        if not cond:
            self.failures.append(msg)
        return bool(cond)

    def note(self, msg):
        self.notes.append(msg)

    def measure(self, res, allowed=(0,), rss_mib=None, wall_s=None):
        """Takes the figures of `res` and applies the common checks."""
        self.measured = True
        self.code = res.code_text()
        self.rss = "%.0f" % res.rss_mib
        self.wall = "%.2f" % res.wall
        if res.timed_out:
            self.failures.append("hit the %.0f s timeout" % TIMEOUT)
        elif not res.killed:
            self.check(res.rc in allowed, "exit %s, allowed %s"
                       % (res.code_text(), "/".join(map(str, allowed))))
        self.check("panicked" not in res.stderr,
                   "panic: " + first_line(res.stderr, "panicked"))
        if rss_mib is not None:
            self.check(res.rss_mib < rss_mib, "RSS %.0f MiB >= %d MiB"
                       % (res.rss_mib, rss_mib))
        if wall_s is not None and not res.timed_out:
            self.check(res.wall < wall_s, "wall %.1f s >= %g s"
                       % (res.wall, wall_s))
        if res.rss_mib > (AS_LIMIT >> 20) * 0.9 or \
                "memory allocation" in res.stderr:
            self.note("ran into the 4 GiB address-space cap")

    def set_rows(self, summary):
        t = (summary or {}).get("totals") or (summary or {}).get("ingest")
        if t and "rows_read" in t:
            self.rows = "%s / %s" % (t.get("rows_read"), t.get("rows_written"))

    @property
    def verdict(self):
        return "ok" if self.measured and not self.failures else "FAIL"


ROWS = []


def first_line(text, needle=None):
    for line in text.splitlines():
        if needle is None or needle in line:
            return line.strip()[:200]
    return ""


def last_error(text):
    """The last ERROR/WARN line of a log, else its last line."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in reversed(lines):
        if "ERROR" in l or "error" in l:
            return l[:220]
    return lines[-1][:220] if lines else ""


# ---------------------------------------------------------------------------
# running cxpipe


class SetupError(Exception):
    pass


def child_env(extra=None):
    env = dict(os.environ)
    for k in ("CXPIPE_PII_KEY", "CXPIPE_LOG"):
        env.pop(k, None)
    env.update(extra or {})
    return env


def cx(args, cwd, *, env=None, timeout=TIMEOUT, nofile=None, watch=None,
       name=None):
    """Runs BIN with args in cwd under the caps; stdout/stderr kept in files."""
    name = name or "cmd"
    n = 0
    while os.path.exists(os.path.join(cwd, ".%s.%d.out" % (name, n))):
        n += 1
    out = os.path.join(cwd, ".%s.%d.out" % (name, n))
    err = os.path.join(cwd, ".%s.%d.err" % (name, n))
    return measure.run([BIN] + [str(a) for a in args], cwd=cwd,
                       env=child_env(env), stdout_path=out, stderr_path=err,
                       timeout=timeout, as_limit=AS_LIMIT, nofile=nofile,
                       watch=watch)


def must(res, what):
    if res.timed_out or res.rc != 0:
        raise SetupError("%s: exit %s: %s" % (what, res.code_text(),
                                               last_error(res.stderr)))
    return res


def gen(cwd, out, rows, seed, *extra):
    """`cxpipe generate` to cwd/out; its facts file is left in cwd/.gen."""
    staging = os.path.join(cwd, ".gen", str(seed))
    os.makedirs(staging, exist_ok=True)
    tmp = os.path.join(staging, os.path.basename(out))
    must(cx(["-q", "generate", "--rows", rows, "--seed", seed, "--out", tmp]
            + list(extra), cwd, name="generate"), "generate " + str(out))
    dest = os.path.join(cwd, out)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.rename(tmp, dest)
    return dest


def ingest(cwd, inputs, ds, *extra, **kw):
    """cxpipe ingest INPUTS --out DS --json; returns (result, summary|None)."""
    inputs = inputs if isinstance(inputs, list) else [inputs]
    res = cx(["ingest"] + inputs + ["--out", ds, "--json"] + list(extra),
             cwd, name="ingest", **kw)
    try:
        summary = json.loads(res.stdout) if res.stdout.strip() else None
    except ValueError:
        summary = None
    return res, summary


def info(cwd, ds):
    res = cx(["-q", "info", ds, "--json"], cwd, name="info")
    must(res, "info " + ds)
    return json.loads(res.stdout)


def totals(summary):
    return (summary or {}).get("totals") or {}


def tmp_leftovers(root):
    out = []
    for d, dirs, names in os.walk(root):
        out += [os.path.join(d, n) for n in names + dirs
                if n.startswith(TEMP_PREFIX)]
    return out


def case_dir(name):
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    return d


# ---------------------------------------------------------------------------
# inputs


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def write_csv(path, header, rows, terminator="\n"):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=terminator)
    w.writerow(header)
    w.writerows(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(buf.getvalue())
    return path


TIME_COLS = ("arrived_at", "answered_at", "ended_at")
TFMT = "%Y-%m-%dT%H:%M:%SZ"


def fmt_time(t):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
        t.year, t.month, t.day, t.hour, t.minute, t.second)


def parse_time(s):
    return dt.datetime.strptime(s, TFMT)


def moved(header, row, year, new_id):
    """A copy of row with every time moved to June 1st of `year`."""
    r = list(row)
    a = parse_time(r[header.index("arrived_at")])
    delta = dt.datetime(year, 6, 1) - dt.datetime(a.year, a.month, a.day)
    for c in TIME_COLS:
        i = header.index(c)
        if r[i]:
            r[i] = fmt_time(parse_time(r[i]) + delta)
    r[header.index("interaction_id")] = new_id
    r[header.index("chain_id")] = ""
    return r


def answered_row(header, rows):
    i = header.index("answered_at")
    return next(r for r in rows if r[i])


def ids_of(path):
    """interaction_id of every data row of a generated CSV (first column)."""
    with open(path, "rb") as f:
        next(f)
        return {line.split(b",", 1)[0] for line in f}


def gzip_stream(path, chunks, level=9):
    """Writes a gzip file from an iterable of byte chunks, streaming."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        for ch in chunks:
            f.write(c.compress(ch))
        f.write(c.flush())
    return os.path.getsize(path)


# ---------------------------------------------------------------------------
# the cases


def case_far_times():
    d = case_dir("far")
    gen(d, "base.csv", 1000, 101)
    header, rows = read_csv(os.path.join(d, "base.csv"))
    src = answered_row(header, rows)
    variants = [("1a", [3000], "1 row dated year 3000"),
                ("1b", [1, 9999], "1 row dated 0001 and 1 dated 9999")]
    for tag, years, what in variants:
        far = [moved(header, src, y, "far-%04d" % y) for y in years]
        write_csv(os.path.join(d, tag + ".csv"), header, rows + far)
        ds = "ds-" + tag
        r = Row(tag + " far-time ingest",
                "generic CSV: 1000 rows + %s" % what,
                "exit 0; the far rows quarantined as bad_timestamp "
                "([ingest] min_time/max_time); 1000 written")
        ROWS.append(r)
        res, s = ingest(d, tag + ".csv", ds)
        r.measure(res, allowed=(0,))
        r.set_rows(s)
        t = totals(s)
        r.check(t.get("rows_read") == 1000 + len(years),
                "rows_read %s != %d" % (t.get("rows_read"), 1000 + len(years)))
        r.check(t.get("rows_written") == 1000,
                "rows_written %s != 1000 (far rows accepted)"
                % t.get("rows_written"))
        bad = (t.get("reasons") or {}).get("bad_timestamp", 0)
        r.check(bad == len(years), "bad_timestamp %s != %d" % (bad, len(years)))

        k = Row(tag + " far-time kpi",
                "`kpi --by agent,day --tz Europe/Berlin` on that dataset",
                "exit 0 in < 15 s with RSS < 1024 MiB")
        ROWS.append(k)
        res = cx(["-q", "kpi", ds, "--by", "agent,day", "--tz",
                  "Europe/Berlin", "--format", "csv", "--out",
                  tag + "-kpi.csv"], d, name="kpi")
        k.measure(res, allowed=(0,), rss_mib=1024, wall_s=15)
        if res.rc not in (0, None):
            k.note(last_error(res.stderr))

    # 1c: analytics alone, on a dataset that does hold far rows.
    k = Row("1c far-time analytics",
            "dataset holding rows of 0001 and 9999 (bounds widened in "
            "[ingest]); `kpi --by agent,day --tz Europe/Berlin`",
            "exit 0 in < 15 s with RSS < 1024 MiB, whatever the dataset holds")
    ROWS.append(k)
    with open(os.path.join(d, "wide.toml"), "w") as f:
        f.write('[ingest]\nmin_time = "0001-01-01"\nmax_time = "9999-12-31"\n')
    res, s = ingest(d, "1b.csv", "ds-1c", "-q", "--config", "wide.toml")
    if res.rc == 2:
        k.note("[ingest] min_time/max_time refused by this binary "
               "(exit 2): far rows ingested without it")
        res, s = ingest(d, "1b.csv", "ds-1c", "-q")
    written = totals(s).get("rows_written")
    if not k.check(written == 1002, "could not build a dataset holding the "
                   "far rows (rows_written %s)" % written):
        return
    res = cx(["-q", "kpi", "ds-1c", "--by", "agent,day", "--tz",
              "Europe/Berlin", "--format", "csv", "--out", "1c-kpi.csv"], d,
             name="kpi")
    k.measure(res, allowed=(0,), rss_mib=1024, wall_s=15)
    k.rows = "%s / %s" % (totals(s).get("rows_read"), written)
    if res.rc not in (0, None):
        k.note(last_error(res.stderr))


def case_cr_only():
    d = case_dir("cr")
    gen(d, "lf.csv", 500, 102)
    data = open(os.path.join(d, "lf.csv"), "rb").read()
    expected = data.count(b"\n") - 1
    with open(os.path.join(d, "mac.csv"), "wb") as f:
        f.write(data.replace(b"\n", b"\r"))
    r = Row("2 CR-only", "CSV with CR-only line endings ('CSV (Macintosh)'), "
            "%d data rows" % expected,
            "exit 0; rows_read = rows_written = %d" % expected)
    ROWS.append(r)
    res, s = ingest(d, "mac.csv", "ds")
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    t = totals(s)
    r.check(t.get("rows_read") == expected,
            "rows_read %s != %d" % (t.get("rows_read"), expected))
    r.check(t.get("rows_written") == expected,
            "rows_written %s != %d" % (t.get("rows_written"), expected))


RUN_TOML = """[run]
inbox = "inbox"
dataset = "dataset"
reports_dir = "reports"

[[sla]]
name = "sl"
kind = "service_level"
target = 0.8
"""


def case_run_killed():
    d = case_dir("runkill")
    os.makedirs(os.path.join(d, "inbox"))
    with open(os.path.join(d, "cxpipe.toml"), "w") as f:
        f.write(RUN_TOML)
    gen(d, "inbox/d1.csv", 100000, 31)
    must(cx(["-q", "run", "--config", "cxpipe.toml"], d, name="run"), "run 1")
    gen(d, "inbox/d2.csv", 200000, 32)
    report = os.path.join(d, "reports", "kpi-agent-day.csv")

    def fresh_kpi():
        res = must(cx(["-q", "kpi", "dataset", "--by", "agent,day", "--config",
                       "cxpipe.toml", "--format", "csv", "--out",
                       "fresh.csv"], d, name="kpi"), "fresh kpi")
        return open(os.path.join(d, "fresh.csv"), "rb").read()

    def current_report():
        try:
            return open(report, "rb").read()
        except OSError:
            return None

    committed = re.compile(r"ingested \d+ new file")

    def watch(_el, _pid, err_path):
        try:
            with open(err_path, "rb") as f:
                return committed.search(f.read().decode("utf-8", "replace"))
        except OSError:
            return False

    k = Row("3 run killed",
            "`cxpipe run` with a new 200k-row file, SIGKILLed as soon as it "
            "logs the ingest commit ('ingested N new file(s)')",
            "killed after the commit: dataset whole (300000 rows), reports "
            "not yet rewritten")
    ROWS.append(k)
    res = cx(["run", "--config", "cxpipe.toml"], d, name="run", watch=watch)
    k.measure(res, allowed=(0,))
    rows = info(d, "dataset").get("rows")
    k.rows = "- / %s" % rows
    k.check(rows in (100000, 300000), "dataset has %s rows after the kill" % rows)
    stale = current_report() != fresh_kpi()
    if not res.killed:
        k.note("the run finished before the kill (window missed)")
        k.check(False, "kill not landed between the ingest and the reports")
    elif rows == 300000 and stale:
        k.note("killed between the ingest commit and the reports: "
               "kpi-agent-day.csv is stale")
    elif rows == 300000:
        k.note("killed after the commit, but the report was already fresh")
    else:
        k.note("killed before the commit")

    r = Row("3 run after the kill", "`cxpipe run` again, nothing new in the inbox",
            "exit 0; not reports_up_to_date; kpi-agent-day.csv equal to a "
            "fresh `kpi --by agent,day`")
    ROWS.append(r)
    res = cx(["run", "--config", "cxpipe.toml"], d, name="run")
    r.measure(res, allowed=(0,))
    try:
        s = json.loads(res.stdout)
    except ValueError:
        s = {}
    r.set_rows(s)
    r.check(s.get("reports_up_to_date") is not True or not stale,
            "said reports_up_to_date while the reports were stale")
    r.check(current_report() == fresh_kpi(),
            "kpi-agent-day.csv does not match the dataset")
    if s.get("reports_up_to_date") is True:
        r.note("summary: reports_up_to_date true")


def case_symlink_loops():
    for tag, loops in (("4a", 1), ("4b", 2)):
        d = case_dir("loop" + tag)
        gen(d, "in/a.csv", 200, 41)
        gen(d, "in/x/b.csv", 300, 42)
        os.symlink("..", os.path.join(d, "in/x/up"))
        files, rows = 2, 500
        if loops == 2:
            gen(d, "in/y/c.csv", 100, 43)
            os.symlink("..", os.path.join(d, "in/y/up"))
            os.symlink("../x", os.path.join(d, "in/y/side"))
            files, rows = 3, 600
        r = Row("%s symlink loop x%d" % (tag, loops),
                "input folder with %d file(s) and %d link(s) back up the tree"
                % (files, loops if loops == 1 else 3),
                "exit 0; each file read once: %d files, rows_read %d"
                % (files, rows))
        ROWS.append(r)
        res, s = ingest(d, "in", "ds")
        r.measure(res, allowed=(0,))
        r.set_rows(s)
        t = totals(s)
        r.check(t.get("rows_read") == rows,
                "rows_read %s != %d" % (t.get("rows_read"), rows))
        r.check(t.get("files_ingested") == files,
                "files_ingested %s != %d" % (t.get("files_ingested"), files))


def case_leading_newlines():
    d = case_dir("newlines")
    gen(d, "rows.csv", 100, 51)
    body = open(os.path.join(d, "rows.csv"), "rb").read()
    expected = body.count(b"\n") - 1

    # 5a: 2 GiB of newlines, then the CSV, as one gzip (about 2.1 MB).
    n = 2048
    size = gzip_stream(os.path.join(d, "nl.csv.gz"), _newlines_then(body, n))
    r = Row("5a leading newlines (gz)",
            "gzip of %d MiB of newlines, then a header and %d rows (%.1f MB gz)"
            % (n, expected, size / 1e6),
            "exit 0; rows_read %d; < 30 s; RSS < 256 MiB" % expected)
    ROWS.append(r)
    res, s = ingest(d, "nl.csv.gz", "ds-gz")
    r.measure(res, allowed=(0,), rss_mib=256, wall_s=30)
    r.set_rows(s)
    t = totals(s)
    r.check(t.get("rows_read") == expected,
            "rows_read %s != %d" % (t.get("rows_read"), expected))
    os.unlink(os.path.join(d, "nl.csv.gz"))

    # 5b: 256 MiB of newlines, plain, written streaming.
    n = 256
    with open(os.path.join(d, "nl.csv"), "wb") as f:
        for ch in _newlines_then(body, n):
            f.write(ch)
    r = Row("5b leading newlines",
            "plain CSV: %d MiB of newlines, then a header and %d rows"
            % (n, expected),
            "exit 0; rows_read %d; < 10 s; RSS < 256 MiB" % expected)
    ROWS.append(r)
    res, s = ingest(d, "nl.csv", "ds-plain")
    r.measure(res, allowed=(0,), rss_mib=256, wall_s=10)
    r.set_rows(s)
    t = totals(s)
    r.check(t.get("rows_read") == expected,
            "rows_read %s != %d" % (t.get("rows_read"), expected))
    os.unlink(os.path.join(d, "nl.csv"))


def _newlines_then(body, n_mib):
    blk = b"\n" * MIB
    for _ in range(n_mib):
        yield blk
    yield body


def case_many_days():
    d = case_dir("days")
    rows = 24000
    gen(d, "long.csv", rows, 61, "--days", "1200")
    header, data = read_csv(os.path.join(d, "long.csv"))
    i = header.index("arrived_at")
    days = len({r[i][:10] for r in data})
    r = Row("6 1200 days",
            "one generated file over 1200 days (%d rows, %d distinct UTC days), "
            "ingested with RLIMIT_NOFILE 1024" % (rows, days),
            "exit 0; %d written; %d partitions" % (rows, days))
    ROWS.append(r)
    res, s = ingest(d, "long.csv", "ds", nofile=1024)
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    r.check(totals(s).get("rows_written") == rows,
            "rows_written %s != %d" % (totals(s).get("rows_written"), rows))
    if res.rc == 0:
        parts = len(info(d, "ds").get("partitions") or [])
        r.check(parts == days, "%d partitions != %d" % (parts, days))
    else:
        r.note(last_error(res.stderr))


def case_duplicates():
    d = case_dir("dups")
    # The shortest generic row (required columns only): the most duplicates
    # per gzip byte, as in the issue (1.56 MB of gzip, about 9M rows).
    header = b"interaction_id,channel,direction,arrived_at,ended_at\n"
    row = b"d1,voice,inbound,2026-10-01T08:00:00Z,2026-10-01T08:05:00Z\n"
    target = 1_500_000
    batch = row * 10000
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    n = 0
    written = 0
    with open(os.path.join(d, "dups.csv.gz"), "wb") as f:
        written += f.write(c.compress(header))
        while written < target:
            written += f.write(c.compress(batch))
            n += 10000
        written += f.write(c.flush())
    bound = 512
    r = Row("7 one row repeated",
            "gzip (%.2f MB) of one row repeated %d times" % (written / 1e6, n),
            "exit 0; %d read, 1 written, %d duplicates dropped; RSS < %d MiB"
            % (n, n - 1, bound))
    ROWS.append(r)
    res, s = ingest(d, "dups.csv.gz", "ds")
    r.measure(res, allowed=(0,), rss_mib=bound)
    r.set_rows(s)
    t = totals(s)
    r.check(t.get("rows_read") == n, "rows_read %s != %d" % (t.get("rows_read"), n))
    r.check(t.get("rows_written") == 1, "rows_written %s != 1" % t.get("rows_written"))
    r.check(t.get("duplicates_dropped") == n - 1,
            "duplicates_dropped %s != %d" % (t.get("duplicates_dropped"), n - 1))


def case_huge_duration():
    d = case_dir("duration")
    gen(d, "base.csv", 300, 81)
    header, rows = read_csv(os.path.join(d, "base.csv"))
    src = answered_row(header, rows)
    huge = []
    for n, v in enumerate(("9200000000000000", "9.2e15")):
        h = list(src)
        h[header.index("interaction_id")] = "huge-%d" % n
        h[header.index("chain_id")] = ""
        h[header.index("talk_s")] = v
        huge.append(h)
    write_csv(os.path.join(d, "huge.csv"), header, rows + huge)
    r = Row("8 talk_s 9.2e15 ingest",
            "300 rows + 2 with talk_s 9200000000000000 / 9.2e15",
            "exit 0; both quarantined as bad_duration; 300 written")
    ROWS.append(r)
    res, s = ingest(d, "huge.csv", "ds")
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    t = totals(s)
    bad = (t.get("reasons") or {}).get("bad_duration", 0)
    r.check(bad == 2, "bad_duration %s != 2" % bad)
    r.check(t.get("rows_written") == 300, "rows_written %s != 300"
            % t.get("rows_written"))

    k = Row("8 talk_s 9.2e15 kpi", "`kpi --by agent --format json` on that dataset",
            "exit 0; every aht_s >= 0 (or an error naming the column, exit 1)")
    ROWS.append(k)
    res = cx(["-q", "kpi", "ds", "--by", "agent", "--format", "json"], d,
             name="kpi")
    k.measure(res, allowed=(0, 1))
    if res.rc == 0:
        try:
            table = json.loads(res.stdout)
            neg = [x for x in table if (x.get("aht_s") or 0) < 0]
            k.check(not neg, "negative aht_s: %s" % neg[:1])
        except ValueError:
            k.check(False, "kpi output is not JSON")
    else:
        k.note(last_error(res.stderr))


def _fifo_writer(path, payload, done):
    try:
        with open(path, "wb") as f:
            f.write(payload)
    except OSError:
        pass
    done.set()


def _release_fifo(path, done):
    """Unblocks a writer still waiting in open() for a reader."""
    if done.wait(0.2):
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        done.wait(2)
        os.close(fd)
    except OSError:
        pass


FIFO_BG = {}


def start_fifo_no_writer():
    """9c runs in the background from the start: it blocks, not computes."""
    d = case_dir("fifo-nowriter")
    os.mkfifo(os.path.join(d, "never.csv"))
    holder = {}

    def go():
        holder["res"] = ingest(d, "never.csv", "ds")

    t = threading.Thread(target=go, daemon=True)
    t.start()
    FIFO_BG.update(thread=t, holder=holder, dir=d)


def finish_fifo_no_writer():
    r = Row("9c FIFO, no writer",
            "a FIFO named explicitly that no one ever opens for writing "
            "(run in the background during the other cases)",
            "exits by itself (exit 1, a clear message) before the 60 s cap")
    ROWS.append(r)
    FIFO_BG["thread"].join(TIMEOUT + 30)
    got = FIFO_BG["holder"].get("res")
    if got is None:
        r.check(False, "measurement did not finish")
        return
    res, s = got
    r.measure(res, allowed=(1, 2))
    r.set_rows(s)
    if res.timed_out:
        r.note("blocked until the suite killed it")
    else:
        r.note("message: " + last_error(res.stderr))
        r.check(res.stderr.strip() != "", "no message on stderr")


def case_fifos():
    d = case_dir("fifo")
    gen(d, "in/a.csv", 100, 91)
    os.mkfifo(os.path.join(d, "in/pipe.csv"))
    r = Row("9a FIFO in a folder", "input folder with a 100-row CSV and a FIFO "
            "named pipe.csv (no writer)",
            "exit 0; rows_read 100; the FIFO skipped with a note naming it")
    ROWS.append(r)
    res, s = ingest(d, "in", "ds-a")
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    r.check(totals(s).get("rows_read") == 100,
            "rows_read %s != 100" % totals(s).get("rows_read"))
    r.check("pipe.csv" in res.stderr, "no note naming pipe.csv on stderr")
    _release_fifo(os.path.join(d, "in/pipe.csv"), threading.Event())

    gen(d, "feed-src.csv", 100, 92)
    payload = open(os.path.join(d, "feed-src.csv"), "rb").read()
    fifo = os.path.join(d, "feed.csv")
    os.mkfifo(fifo)
    done = threading.Event()
    threading.Thread(target=_fifo_writer, args=(fifo, payload, done),
                     daemon=True).start()
    r = Row("9b FIFO with a writer", "a FIFO named explicitly, a writer feeding "
            "it a 100-row CSV (%d bytes)" % len(payload),
            "exit 0; read like stdin: rows_read = rows_written = 100")
    ROWS.append(r)
    res, s = ingest(d, "feed.csv", "ds-b")
    _release_fifo(fifo, done)
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    t = totals(s)
    r.check(t.get("rows_read") == 100 and t.get("rows_written") == 100,
            "rows %s/%s != 100/100" % (t.get("rows_read"), t.get("rows_written")))
    if res.rc != 0:
        r.note(last_error(res.stderr))


def _count_files(paths):
    """(rows over the files, files that vanished or did not open)."""
    total, bad = 0, []
    for p in paths:
        try:
            total += parquet_rows.num_rows(p)
        except (OSError, ValueError) as e:
            bad.append("%s: %s" % (os.path.basename(p), type(e).__name__))
    return total, bad


def _glob_rows(ds):
    """One poll of the plain glob: (total rows, vanished/unreadable files)."""
    return _count_files(glob.glob(
        os.path.join(ds, "interactions", "**", "*.parquet"), recursive=True))


def _snapshot_name(d, ds):
    """`cxpipe info DS --snapshot`: (folder or None, CompletedProcess)."""
    res = subprocess.run([BIN, "-q", "info", ds, "--snapshot"], cwd=d,
                         capture_output=True, text=True, env=child_env(),
                         timeout=TIMEOUT)
    out = res.stdout.strip()
    if res.returncode != 0 or not out:
        return None, res
    return (out if os.path.isabs(out) else os.path.join(d, out)), res


def _snapshot_rows(folder):
    if not os.path.isdir(folder):
        return 0, ["%s: folder gone" % folder]
    return _count_files(parquet_rows.parquet_files(folder))


def case_poller():
    d = case_dir("poller")
    gen(d, "a.csv", 1_000_000, 101)
    gen(d, "c.csv", 100_000, 102)
    with open(os.path.join(d, "a.csv"), "rb") as f, \
            open(os.path.join(d, "b.csv"), "wb") as out:
        out.write(f.readline())
        for _ in range(100_000):
            out.write(f.readline())
        with open(os.path.join(d, "c.csv"), "rb") as c:
            c.readline()
            for line in c:
                out.write(line)
    ids_a = ids_of(os.path.join(d, "a.csv"))
    before = len(ids_a)
    after = len(ids_a | ids_of(os.path.join(d, "b.csv")))
    del ids_a
    must(ingest(d, "a.csv", "ds", "-q")[0], "ingest a.csv")
    valid = {before, after}
    os.unlink(os.path.join(d, "a.csv"))
    os.unlink(os.path.join(d, "c.csv"))
    ds = os.path.join(d, "ds")

    snap0, snap0_res = _snapshot_name(d, "ds")
    stop = threading.Event()
    polls = {k: [] for k in ("glob", "old", "old_bad", "new",
                             "new_bad", "refused")}

    def glob_poller():
        while not stop.is_set():
            total, bad = _glob_rows(ds)
            polls["glob"].append((total, bad))

    def old_snapshot_poller():
        while not stop.is_set():
            total, bad = _snapshot_rows(snap0)
            polls["old"].append(total)
            polls["old_bad"] += bad

    def snapshot_namer():
        while not stop.is_set():
            folder, res = _snapshot_name(d, "ds")
            if folder is None:
                polls["refused"].append(last_error(res.stderr))
                time.sleep(0.02)
                continue
            total, bad = _snapshot_rows(folder)
            polls["new"].append(total)
            polls["new_bad"] += bad

    threads = [glob_poller]
    if snap0 is not None:
        threads += [old_snapshot_poller, snapshot_namer]
    threads = [threading.Thread(target=t, daemon=True) for t in threads]
    for t in threads:
        t.start()
    res, s = ingest(d, "b.csv", "ds")
    stop.set()
    for t in threads:
        t.join(TIMEOUT)
    final = _glob_rows(ds)[0]

    what = ("during a dedupe ingest of 100k overlapping + 100k new ids into "
            "1M rows (rows from Parquet footers, stdlib; duckdb is not "
            "installed)")
    r = Row("10a reader globbing",
            "a reader counting rows over `ds/interactions/**/*.parquet` " + what,
            "ingest exit 0, %d rows after; every poll sees %d or %d rows and "
            "every listed file opens, except at most one poll (a mix only at "
            "the instant of the switch)" % (after, before, after))
    ROWS.append(r)
    r.measure(res, allowed=(0,))
    r.set_rows(s)
    r.check(final == after, "%d rows after the ingest != %d" % (final, after))
    mixed = [t for t, _ in polls["glob"] if t not in valid]
    gone = [b for _, b in polls["glob"] if b]
    bad_polls = sum(1 for t, b in polls["glob"] if b or t not in valid)
    r.note("%d polls: %d saw another count%s, %d had listed files vanish "
           "(%d files)" % (len(polls["glob"]), len(mixed),
                           (" (%s)" % ", ".join(map(str, sorted(set(mixed))[:4])))
                           if mixed else "", len(gone), sum(map(len, gone))))
    r.check(len(polls["glob"]) >= 5, "only %d polls" % len(polls["glob"]))
    r.check(bad_polls <= 1, "%d polls saw partial/doubled data or vanished "
            "files (first: %s)" % (bad_polls, (gone or [[""]])[0][:1]))

    r2 = Row("10b snapshot named before",
             "the folder `info ds --snapshot` printed before that ingest, "
             "read over and over during it, and once after it",
             "always %d rows, every file opens; after the ingest "
             "`--snapshot` names another folder with %d rows"
             % (before, after))
    r3 = Row("10c --snapshot during the commit",
             "`info ds --snapshot` asked over and over during that ingest, "
             "the folder it names read at once",
             "answers (exit 0) while the ingest runs; each folder named holds "
             "%d or %d rows, every file opens" % (before, after))
    ROWS.extend([r2, r3])
    if snap0 is None:
        for x in (r2, r3):
            x.measured = True
            x.code = str(snap0_res.returncode)
            x.check(False, "no --snapshot: " + last_error(snap0_res.stderr))
        return
    r2.measure(res, allowed=(0,))
    r2.set_rows(s)
    wrong = [x for x in polls["old"] if x != before]
    r2.note("%d reads of %s, %d with another count, %d files gone"
            % (len(polls["old"]), os.path.relpath(snap0, ds), len(wrong),
               len(polls["old_bad"])))
    r2.check(polls["old"], "no read of the snapshot finished")
    r2.check(not wrong, "the old snapshot changed: %s" % sorted(set(wrong))[:4])
    r2.check(not polls["old_bad"], "files of the old snapshot vanished: %s"
             % polls["old_bad"][:2])
    r2.check(_snapshot_rows(snap0) == (before, []),
             "the old snapshot is not whole after the ingest")
    snap1, res1 = _snapshot_name(d, "ds")
    if r2.check(snap1 is not None, "--snapshot after the ingest failed: "
                + last_error(res1.stderr)):
        r2.check(snap1 != snap0, "--snapshot names the same folder after a commit")
        r2.check(_snapshot_rows(snap1) == (after, []),
                 "the new snapshot does not hold %d rows" % after)

    r3.measure(res, allowed=(0,))
    r3.set_rows(s)
    wrong = [x for x in polls["new"] if x not in valid]
    r3.note("%d answers, %d refusals%s; %d with another count, %d files gone"
            % (len(polls["new"]), len(polls["refused"]),
               (" (%s)" % polls["refused"][0]) if polls["refused"] else "",
               len(wrong), len(polls["new_bad"])))
    r3.check(not polls["refused"], "`info --snapshot` refused %d time(s) "
             "while the ingest ran" % len(polls["refused"]))
    r3.check(not wrong, "a named snapshot held %s rows" % sorted(set(wrong))[:4])
    r3.check(not polls["new_bad"], "files of a named snapshot vanished: %s"
             % polls["new_bad"][:2])


def case_html():
    d = case_dir("html")
    gen(d, "base.csv", 300, 111)
    header, rows = read_csv(os.path.join(d, "base.csv"))
    evil = "<!--<script>"
    ai = header.index("agent_id")
    n = 0
    for r_ in rows:
        if r_[ai] and n < 40:
            r_[ai] = evil
            r_[header.index("disposition")] = evil
            n += 1
        r_[header.index("team")] = r_[header.index("team")] and evil
    write_csv(os.path.join(d, "evil.csv"), header, rows)
    must(ingest(d, "evil.csv", "ds", "-q")[0], "ingest evil.csv")
    r = Row("11 <!--<script> in HTML",
            "agent_id, team and disposition `<!--<script>` in 40 rows, then "
            "`report --html`",
            "exit 0; the page's JSON block holds the value, parses, and has no "
            "raw `<!--`, `<script` or `</script`")
    ROWS.append(r)
    res = cx(["-q", "report", "ds", "--html", "out.html"], d, name="report")
    r.measure(res, allowed=(0,))
    if res.rc != 0:
        r.note(last_error(res.stderr))
        return
    page = open(os.path.join(d, "out.html"), encoding="utf-8").read()
    m = re.search(r'<script type="application/json"[^>]*>(.*?)</script>',
                  page, re.S)
    if not r.check(m, "no <script type=application/json> block"):
        return
    block = m.group(1)
    low = block.lower()
    r.check("<!--" not in low, "raw <!-- in the JSON block")
    r.check("<script" not in low, "raw <script in the JSON block")
    try:
        r.check(evil in json.dumps(json.loads(block), ensure_ascii=False),
                "the value is not in the page's data (check is vacuous)")
    except ValueError:
        r.check(False, "the JSON block does not parse")


def case_big_record():
    d = case_dir("bigrecord")
    gen(d, "base.csv", 20, 121)
    header, rows = read_csv(os.path.join(d, "base.csv"))
    di, ti = header.index("disposition"), header.index("talk_s")
    for variant, quoted in (("12a", False), ("12b", True)):
        rr = [list(x) for x in rows]
        rr[4][di] = ("y" if quoted else "x") * (5 * MIB)   # data row 5
        rr[11][ti] = "abc"                                  # data row 12
        rr[19][ti] = "abc"                                  # data row 20
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n",
                       quoting=csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(rr)
        name = variant + ".csv"
        with open(os.path.join(d, name), "w", newline="") as f:
            f.write(buf.getvalue())
        r = Row("%s record over 1 MiB%s" % (variant, " (quoted)" if quoted else ""),
                "20 rows, data row 5 with a 5 MiB %sfield, rows 12 and 20 "
                "bad talk_s" % ("quoted " if quoted else ""),
                "rows_read 20, 17 written; quarantined source_lines 6, 13, 21")
        ROWS.append(r)
        res, s = ingest(d, name, "ds-" + variant, "--max-reject-rate", "0.5")
        r.measure(res, allowed=(0,))
        r.set_rows(s)
        t = totals(s)
        r.check(t.get("rows_read") == 20, "rows_read %s != 20" % t.get("rows_read"))
        r.check(t.get("rows_written") == 17,
                "rows_written %s != 17" % t.get("rows_written"))
        lines = []
        for p in glob.glob(os.path.join(d, "ds-" + variant, "quarantine", "*",
                                        "*.rejects.csv")):
            csv.field_size_limit(1 << 30)
            with open(p, newline="", encoding="utf-8", errors="replace") as f:
                rd = csv.DictReader(f)
                lines += [int(x["source_line"]) for x in rd]
        r.check(sorted(lines) == [6, 13, 21],
                "quarantined source_lines %s != [6, 13, 21]" % sorted(lines))


def case_reports_in_inbox():
    d = case_dir("reportsininbox")
    gen(d, "inbox/a.csv", 100, 131)
    with open(os.path.join(d, "cxpipe.toml"), "w") as f:
        f.write('[run]\ninbox = "inbox"\ndataset = "dataset"\n'
                'reports_dir = "inbox/reports"\n')
    r = Row("13 reports_dir in inbox", "`run` with reports_dir = inbox/reports",
            "exit 2 up front: nothing ingested, no dataset, no reports")
    ROWS.append(r)
    res = cx(["run", "--config", "cxpipe.toml"], d, name="run")
    r.measure(res, allowed=(2,))
    r.check(not os.path.exists(os.path.join(d, "dataset", "interactions")),
            "the inbox was ingested")
    r.check(not os.path.exists(os.path.join(d, "inbox", "reports")),
            "reports were written")
    r.note("message: " + last_error(res.stderr))


def case_threads():
    d = case_dir("threads")
    gen(d, "a.csv", 100, 141)
    r = Row("14 --threads 100000", "`ingest --threads 100000`",
            "exit 2 (usage error), no panic, no dataset written")
    ROWS.append(r)
    res, _ = ingest(d, "a.csv", "ds", "--threads", "100000")
    r.measure(res, allowed=(2,))
    r.check(not os.path.exists(os.path.join(d, "ds", "interactions")),
            "a dataset was written")
    r.note("message: " + last_error(res.stderr))


def case_pii_key():
    d = case_dir("piikey")
    gen(d, "a.csv", 100, 151)
    r = Row("also: 1-byte PII key", "`CXPIPE_PII_KEY=k ingest`",
            "refused (exit 1 or 2) like a key file under 16 bytes; nothing written")
    ROWS.append(r)
    res, s = ingest(d, "a.csv", "ds", env={"CXPIPE_PII_KEY": "k"})
    r.measure(res, allowed=(1, 2))
    r.set_rows(s)
    r.check(not glob.glob(os.path.join(d, "ds/interactions/**/*.parquet"),
                          recursive=True), "rows were written")
    r.note("message: " + last_error(res.stderr))


def case_long_header():
    d = case_dir("longheader")
    gen(d, "a.csv", 10, 161)
    header, rows = read_csv(os.path.join(d, "a.csv"))
    extra = ["extra_column_%06d" % i for i in range(70000)]   # ~1.4 MiB
    long_header = header + extra
    rows = [x + [""] * len(extra) for x in rows]
    write_csv(os.path.join(d, "long.csv"), long_header, rows)
    size = len(",".join(long_header))
    r = Row("also: header over 1 MiB",
            "CSV whose header line is %.1f MiB (19 columns + 70000 extra), 10 rows"
            % (size / MIB),
            "no 'unterminated quote'; read (exit 0) or a clear file error (exit 1)")
    ROWS.append(r)
    res, s = ingest(d, "long.csv", "ds")
    r.measure(res, allowed=(0, 1))
    r.set_rows(s)
    text = res.stderr + res.stdout
    r.check("unterminated quote" not in text, "says 'unterminated quote'")
    r.note("message: " + (last_error(res.stderr) or "-"))


def case_dev_zero():
    d = case_dir("devzero")
    r = Row("also: /dev/zero", "`ingest /dev/zero`",
            "a clear error (exit 1 or 2), no 'unterminated quote', < 60 s, "
            "RSS < 1024 MiB")
    ROWS.append(r)
    res, s = ingest(d, "/dev/zero", "ds")
    r.measure(res, allowed=(1, 2), rss_mib=1024)
    r.set_rows(s)
    r.check("unterminated quote" not in res.stderr + res.stdout,
            "says 'unterminated quote'")
    r.note("message: " + (last_error(res.stderr) or "-"))


def case_kpi_out_killed():
    d = case_dir("kpikill")
    gen(d, "big.csv", 2_000_000, 171)
    must(ingest(d, "big.csv", "ds", "-q")[0], "ingest big.csv")
    os.unlink(os.path.join(d, "big.csv"))
    os.makedirs(os.path.join(d, "out"))
    args = ["-q", "kpi", "ds", "--by", "agent,interval", "--interval", "15m",
            "--format", "csv", "--out", "out/k.csv"]
    outdir = os.path.join(d, "out")

    def watch(_el, _pid, _err):
        return any(n.startswith(TEMP_PREFIX) for n in os.listdir(outdir))

    r = Row("also: kpi --out killed",
            "`kpi --by agent,interval --interval 15m --out` on 2M rows "
            "(a 50 MB CSV), SIGKILLed once its temporary file appears; then "
            "the same command again",
            "no .cxpipe-tmp-* in the folder after the kill and one rerun; "
            "the rerun exits 0")
    ROWS.append(r)
    res = cx(args, d, name="kpi", watch=watch)
    left = [n for n in os.listdir(outdir) if n.startswith(TEMP_PREFIX)]
    if res.killed:
        r.note("killed mid-write: %d temporary file(s) right after the kill"
               % len(left))
    else:
        r.note("finished (exit %s) before a temporary file was seen: "
               "the kill did not land" % res.code_text())
        r.check(False, "could not kill it mid-write")
    rerun = cx(args, d, name="kpi")
    r.measure(rerun, allowed=(0,))
    left = [n for n in os.listdir(outdir) if n.startswith(TEMP_PREFIX)]
    r.check(not left, "%d .cxpipe-tmp-* left after the kill and a rerun" % len(left))
    # The global leftover check would count them again; remove them now.
    for n in left:
        os.unlink(os.path.join(outdir, n))


def case_disk_full():
    """An ingest that fills the disk: a 6 MiB tmpfs (root only; skipped,
    and said, where mount is not allowed)."""
    d = case_dir("full")
    mnt = os.path.join(d, "mnt")
    os.makedirs(mnt)
    r = Row("also: disk full",
            "ingest of a 200k-row file (~35 MB) into a dataset on a 6 MiB "
            "tmpfs that already holds a small ingest",
            "exit 1 naming the full disk; the dataset as before (its rows, "
            "one ingest); no staging left after `info`; no panic")
    ROWS.append(r)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs",
                              mnt], capture_output=True, text=True)
    if mounted.returncode != 0:
        r.note("not run: mount failed (%s)" % mounted.stderr.strip()[:80])
        r.measured = True
        return
    try:
        gen(d, "small.csv", 500, 191)
        gen(d, "big.csv", 200_000, 192)
        ds = os.path.join(mnt, "ds")
        must(ingest(d, "small.csv", ds, "-q")[0], "ingest small.csv")
        before = info(d, ds)
        res, s = ingest(d, "big.csv", ds)
        r.measure(res, allowed=(1,))
        r.check("No space left" in res.stderr or "no space" in res.stderr.lower(),
                "the message names the full disk: " + last_error(res.stderr))
        r.note(last_error(res.stderr))
        after = info(d, ds)
        r.rows = "- / %s" % after.get("rows")
        r.check(after.get("rows") == before.get("rows"),
                "rows %s after, %s before" % (after.get("rows"), before.get("rows")))
        r.check(after.get("ingests") == before.get("ingests"),
                "ingests %s after, %s before" % (after.get("ingests"),
                                                before.get("ingests")))
        r.check(not os.path.exists(os.path.join(ds, ".staging")),
                "the staging folder is gone after `info`")
    finally:
        subprocess.run(["umount", mnt], capture_output=True)


# ---------------------------------------------------------------------------


CASES = [
    case_far_times, case_cr_only, case_run_killed, case_symlink_loops,
    case_leading_newlines, case_many_days, case_duplicates,
    case_huge_duration, case_fifos, case_poller, case_html, case_big_record,
    case_reports_in_inbox, case_threads, case_pii_key, case_long_header,
    case_dev_zero, case_kpi_out_killed, case_disk_full,
]


def md(cell):
    return str(cell).replace("|", "\\|").replace("\n", " ")


def table():
    head = ["case", "what it is", "exit", "expected", "peak RSS (MiB)",
            "wall (s)", "rows read / written", "verdict", "notes"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    for r in ROWS:
        notes = "; ".join(r.failures + r.notes) or ""
        if len(notes) > 300:
            notes = notes[:297] + "..."
        out.append("| " + " | ".join(md(x) for x in (
            r.case, r.what, r.code, r.expected, r.rss, r.wall, r.rows,
            r.verdict, notes)) + " |")
    return "\n".join(out)


def main():
    global BIN, WORK
    BIN, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    t0 = time.monotonic()
    start_fifo_no_writer()
    for case in CASES:
        n0 = len(ROWS)
        c0 = time.monotonic()
        name = case.__name__[len("case_"):]
        try:
            case()
        except Exception as e:  # a setup step failed: the case is FAIL
            r = ROWS[-1] if len(ROWS) > n0 else None
            if r is None:
                r = Row(name, "(setup)", "-")
                ROWS.append(r)
            r.failures.append("suite error: %s: %s" % (type(e).__name__, e))
        left = tmp_leftovers(WORK)
        for r in ROWS[n0:]:
            r.check(not left, "%d .cxpipe-tmp-* left: %s"
                    % (len(left), os.path.basename(left[0]) if left else ""))
        for p in left:
            try:
                os.unlink(p)
            except OSError:
                pass
        for r in ROWS[n0:]:
            sys.stderr.write("%-30s %-4s %s\n" % (r.case, r.verdict,
                                                  "; ".join(r.failures)))
        sys.stderr.write("  (%s: %.1f s)\n" % (name, time.monotonic() - c0))
        sys.stderr.flush()
    finish_fifo_no_writer()
    sys.stderr.write("%-30s %-4s %s\n" % (ROWS[-1].case, ROWS[-1].verdict,
                                          "; ".join(ROWS[-1].failures)))
    print(table())
    fails = [r.case for r in ROWS if r.verdict != "ok"]
    print()
    print("%d rows, %d FAIL%s; %.0f s in all (binary %s)" % (
        len(ROWS), len(fails), (": " + ", ".join(fails)) if fails else "",
        time.monotonic() - t0, BIN))
    return 1 if fails else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        measure.kill_all()  # the background case 9c, on Ctrl-C or an error
