#!/usr/bin/env python3
"""Lists the longest Rust functions of the workspace (lines from `fn` to its
closing brace, by brace matching on code with strings and comments blanked).

    scripts/fn_lengths.py [--min N] [PATH ...]    # default: src crates, N = 80
"""
import re
import sys
from pathlib import Path

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def blank(line, state):
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if state["block"]:
            if line.startswith("*/", i):
                state["block"] = False
                i += 2
                continue
            i += 1
            continue
        if state["str"]:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                state["str"] = False
            i += 1
            continue
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"] = True
            i += 2
            continue
        if c == '"':
            state["str"] = True
            i += 1
            continue
        if c == "'" and i + 2 < n and line[i + 2] == "'":
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    lines = path.read_text().splitlines()
    state = {"block": False, "str": False}
    code = [blank(l, state) for l in lines]
    out = []
    for i, l in enumerate(lines):
        m = FN.match(l)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            for ch in code[j]:
                if ch == "{":
                    depth += 1
                    started = True
                elif ch == "}":
                    depth -= 1
            if started and depth == 0:
                out.append((j - i + 1, m.group(6), i + 1))
                break
            if not started and code[j].rstrip().endswith(";"):
                break
    return out


def main():
    args = sys.argv[1:]
    low = 80
    if args[:1] == ["--min"]:
        low, args = int(args[1]), args[2:]
    roots = [Path(a) for a in (args or ["src", "crates"])]
    rows = []
    for r in roots:
        for p in sorted(r.rglob("*.rs")) if r.is_dir() else [r]:
            if "/tests/" in str(p) or "target" in p.parts:
                continue
            for n, name, line in functions(p):
                if n >= low:
                    rows.append((n, f"{p}:{line}", name))
    for n, where, name in sorted(rows, reverse=True):
        print(f"{n:5}  {name:32} {where}")


if __name__ == "__main__":
    main()
