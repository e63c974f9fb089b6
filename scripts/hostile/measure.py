#!/usr/bin/env python3
"""Run one command under caps and measure it (stdlib only).

As a module: `measure.run(argv, ...)` returns a `Result` with the exit code,
wall time and peak RSS. As a script:

    measure.py [--timeout S] [--as-limit BYTES] [--nofile N] [--cwd DIR]
               [--stdin FILE] [--stdout FILE] [--stderr FILE] -- CMD ARGS...

prints one JSON object: rc (negative: killed by that signal), timed_out,
wall_s, peak_rss_mib.

The child runs in its own session (so a timeout kills it and anything it
started), with RLIMIT_AS (address space, default 4 GiB) and optionally
RLIMIT_NOFILE set in preexec_fn. Peak RSS is ru_maxrss from os.wait4 of that
child (KiB on Linux), so it covers the process itself and any children it
waited for.
"""
import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time

GIB = 1 << 30
DEFAULT_TIMEOUT = 60.0
DEFAULT_AS = 4 * GIB

# Process groups started by run() and not reaped yet (see kill_all).
LIVE = set()


class Result:
    def __init__(self, **kw):
        self.rc = None            # exit code, or -signal
        self.timed_out = False    # we killed it at the timeout
        self.killed = False       # we killed it because watch() asked
        self.wall = 0.0
        self.rss_mib = 0.0
        self.stdout = ""
        self.stderr = ""
        self.__dict__.update(kw)

    def code_text(self):
        if self.timed_out:
            return "timeout"
        if self.rc is not None and self.rc < 0:
            try:
                return signal.Signals(-self.rc).name
            except ValueError:
                return "signal %d" % -self.rc
        return str(self.rc)

    def to_json(self):
        return {
            "rc": self.rc,
            "timed_out": self.timed_out,
            "killed": self.killed,
            "wall_s": round(self.wall, 3),
            "peak_rss_mib": round(self.rss_mib, 1),
        }


def _limits(as_limit, nofile):
    def pre():
        if as_limit:
            resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return pre


def kill_all():
    """SIGKILLs every child run() is still waiting for (on Ctrl-C, say)."""
    for pid in list(LIVE):
        _kill(pid)


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run(argv, *, cwd=None, env=None, stdin=None, stdout_path=None,
        stderr_path=None, timeout=DEFAULT_TIMEOUT, as_limit=DEFAULT_AS,
        nofile=None, watch=None, poll=0.005):
    """Run argv; returns a Result.

    stdin: None (/dev/null) or a path.
    stdout_path/stderr_path: where the output goes (read back into the
    Result); a temporary name beside cwd when None.
    watch(elapsed_s, pid, stderr_path) -> True to SIGKILL the child now.
    """
    base = cwd or os.getcwd()
    tag = "%d-%d" % (os.getpid(), time.monotonic_ns())
    out_p = stdout_path or os.path.join(base, ".measure-%s.out" % tag)
    err_p = stderr_path or os.path.join(base, ".measure-%s.err" % tag)
    fin = open(stdin, "rb") if isinstance(stdin, str) else subprocess.DEVNULL
    fout = open(out_p, "wb")
    ferr = open(err_p, "wb")
    res = Result()
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=fin, stdout=fout,
                             stderr=ferr, start_new_session=True,
                             preexec_fn=_limits(as_limit, nofile))
    finally:
        for f in (fin, fout, ferr):
            if hasattr(f, "close"):
                f.close()
    LIVE.add(p.pid)
    status = ru = None
    try:
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            el = time.monotonic() - t0
            if el > timeout:
                res.timed_out = True
            elif watch is not None and watch(el, p.pid, err_p):
                res.killed = True
            if res.timed_out or res.killed:
                _kill(p.pid)
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(poll)
    except BaseException:
        # Ctrl-C or an error in watch(): never leave the child running.
        _kill(p.pid)
        os.wait4(p.pid, 0)
        p.returncode = 0
        raise
    finally:
        LIVE.discard(p.pid)
    res.wall = time.monotonic() - t0
    p.returncode = 0  # reaped by wait4 above; keep Popen from waiting again
    res.rc = os.waitstatus_to_exitcode(status)
    res.rss_mib = ru.ru_maxrss / 1024.0
    res.stdout = _read(out_p)
    res.stderr = _read(err_p)
    for path, given in ((out_p, stdout_path), (err_p, stderr_path)):
        if given is None:
            try:
                os.unlink(path)
            except OSError:
                pass
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    ap.add_argument("--as-limit", type=int, default=DEFAULT_AS)
    ap.add_argument("--nofile", type=int)
    ap.add_argument("--cwd")
    ap.add_argument("--stdin")
    ap.add_argument("--stdout")
    ap.add_argument("--stderr")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    r = run(cmd, cwd=a.cwd, stdin=a.stdin, stdout_path=a.stdout,
            stderr_path=a.stderr, timeout=a.timeout, as_limit=a.as_limit,
            nofile=a.nofile)
    json.dump(r.to_json(), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
