"""Turn the timings bench.sh collected into a Markdown table and a JSON file.

bench.sh measures; this only does the arithmetic and the formatting, so the
shell script stays free of floating-point work.

Each `--result` is `tool|status|median_wall_s|max_rss_kib|all_walls_csv|exit_code`
(status `ok` or a short failure text), each `--check` is `tool|key|value`,
each `--meta` is `key=value` and each `--note` is a line of text.
An `--extra-result` (same format as `--result`) is a timing shown for
reference below the compared tools (e.g. cxpipe with other groupings): no
ratio, and never part of the "faster of the others" summary.
`--input-bytes 0` means the byte count is not meaningful for the section
(kpi: the tools read different files): no MB/s then. Each `--output` is
`tool|bytes`, what the tool wrote: shown beside its time, with the ratio to
the baseline's. `--target` is SPEC §14's bound on baseline time / the faster
other tool's time (ingest 0.8, kpi 0.5, connect 0.7).
"""

import argparse
import json

PRETTY = {
    "cxpipe": "cxpipe",
    "duckdb": "DuckDB",
    "polars": "Polars",
    "cxpipe-queue-interval": "cxpipe `--by queue,interval`",
    "cxpipe-agent-shift": "cxpipe `--by agent,shift`",
}


def pretty(tool: str) -> str:
    return PRETTY.get(tool, tool)


def num(value: str):
    """Parse a check value: int, float, or the string itself (e.g. 'n/a')."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--section", required=True)
    ap.add_argument("--json", required=True, help="where to write the JSON copy")
    ap.add_argument("--input", required=True)
    ap.add_argument("--input-bytes", type=int, required=True)
    ap.add_argument("--input-rows", type=int, required=True)
    ap.add_argument("--input-desc", default="")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--baseline", default="cxpipe")
    ap.add_argument("--result", action="append", default=[])
    ap.add_argument("--extra-result", action="append", default=[])
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--meta", action="append", default=[])
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("--output", action="append", default=[])
    ap.add_argument("--target", type=float, default=1.0)
    return ap.parse_args()


def main() -> None:
    a = parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)
    checks: dict = {}
    for c in a.check:
        tool, key, value = c.split("|", 2)
        checks.setdefault(tool, {})[key] = num(value)

    def parse_result(r: str) -> dict:
        tool, status, wall, rss, walls, code = r.split("|", 5)
        ok = status == "ok"
        wall_s = float(wall) if ok else None
        rss_kib = int(rss) if ok else None
        return {
            "tool": tool,
            "status": status,
            "exit_code": int(code),
            "wall_s": wall_s,
            "wall_s_all": [float(w) for w in walls.split(",") if w],
            "peak_rss_kib": rss_kib,
            "peak_rss_mib": round(rss_kib / 1024, 1) if ok else None,
            # A wall time of 0.00 s (tiny input) would divide by zero.
            "mb_per_s": round(a.input_bytes / 1e6 / wall_s, 1)
            if ok and wall_s > 0 and a.input_bytes > 0
            else None,
            "rows_per_s": round(a.input_rows / wall_s) if ok and wall_s > 0 else None,
        }

    results = [parse_result(r) for r in a.result]
    extra_results = [parse_result(r) for r in a.extra_result]
    outputs = {}
    for o in a.output:
        tool, n = o.split("|", 1)
        outputs[tool] = int(n)
    for r in results + extra_results:
        r["output_bytes"] = outputs.get(r["tool"])
    base_out = outputs.get(a.baseline)

    base = next((r for r in results if r["tool"] == a.baseline and r["wall_s"]), None)
    for r in results:
        r["ratio_vs_" + a.baseline] = (
            round(r["wall_s"] / base["wall_s"], 2) if base and r["wall_s"] and base["wall_s"] > 0 else None
        )
    others = [r for r in results if r["tool"] != a.baseline and r["wall_s"] is not None]
    fastest = min(others, key=lambda r: r["wall_s"]) if others else None

    summary: dict = {}
    lines = []
    mb = a.input_bytes / 1e6
    desc = f", {a.input_desc}" if a.input_desc else ""
    size = f", {mb:,.1f} MB" if a.input_bytes > 0 else ""
    lines.append(f"### {a.section} — {a.input_rows:,} rows{size}{desc}")
    lines.append("")
    with_out = bool(outputs)
    # A section of one tool's commands (scale) has nothing to compare with.
    compared = bool(results)
    ratio_head = f" ratio vs {a.baseline} |" if compared else ""
    out_head = " output MB |" + (f" output vs {a.baseline} |" if compared else "") if with_out else ""
    n_cols = 5 + int(compared) + (int(with_out) * (1 + int(compared)))
    lines.append(f"| tool | wall s | MB/s | rows/s | peak RSS MiB |{ratio_head}{out_head}")
    lines.append("|---|" + "---:|" * (n_cols - 1))
    for r in results + extra_results:
        out_cells = ""
        if with_out:
            ob = r["output_bytes"]
            out_cells = " — |" if ob is None else f" {ob / 1e6:,.1f} |"
            if compared:
                out_cells += (
                    " — |" if ob is None else " " + (f"{ob / base_out:.2f}" if base_out else "n/a") + " |"
                )
        if r["wall_s"] is None:
            lines.append(
                f"| {pretty(r['tool'])} | {r['status']} | — | — | — |" + (" — |" if compared else "") + out_cells
            )
            continue
        ratio = r.get("ratio_vs_" + a.baseline)
        ratio_cell = (
            " " + ("—" if r in extra_results else "n/a" if ratio is None else f"{ratio:.2f}") + " |"
            if compared
            else ""
        )
        lines.append(
            "| {} | {:.2f} | {} | {} | {:,.0f} |{}{}".format(
                pretty(r["tool"]),
                r["wall_s"],
                "—" if r["mb_per_s"] is None else f"{r['mb_per_s']:,.1f}",
                "—" if r["rows_per_s"] is None else f"{r['rows_per_s']:,}",
                r["peak_rss_mib"],
                ratio_cell,
                out_cells,
            )
        )
    lines.append("")
    lines.append(
        (f"ratio = tool wall time / {a.baseline} wall time (above 1: slower than {a.baseline}); " if compared else "")
        + ("MB = 10^6 bytes of input (MB/s and rows/s are the input's for every row); " if a.input_bytes > 0 else "")
        + ("output MB = 10^6 bytes written; " if with_out else "")
        + "wall = median of "
        f"{a.runs} run(s) (the tools' runs alternating in the compared sections), peak RSS = the largest of them."
    )
    if base and fastest:
        q = base["wall_s"] / fastest["wall_s"] if fastest["wall_s"] > 0 else float("inf")
        met = q <= a.target
        summary = {
            "fastest_other": fastest["tool"],
            "fastest_other_wall_s": fastest["wall_s"],
            f"{a.baseline}_wall_s": base["wall_s"],
            f"{a.baseline}_over_fastest_other": round(q, 3),
            "target": a.target,
            "target_met": met,
        }
        speed = f"{1 / q:.2f}x as fast" if q > 0 else "faster"
        lines.append(
            f"**{a.baseline} vs the faster of the others ({pretty(fastest['tool'])}, "
            f"{fastest['wall_s']:.2f} s): {a.baseline} {base['wall_s']:.2f} s, "
            f"time ratio {a.baseline}/{pretty(fastest['tool'])} = {q:.2f} ({a.baseline} is {speed}); "
            f"target ≤ {a.target:.2f} (SPEC §14): {'met' if met else 'NOT met'}.**"
        )
    elif not base and results:
        lines.append(f"{a.baseline} was not timed (or failed): no ratios.")
    if any(len(r["wall_s_all"]) > 1 for r in results + extra_results):
        lines.append(
            "All runs (s): "
            + "; ".join(
                f"{pretty(r['tool'])} " + ", ".join(f"{w:.2f}" for w in r["wall_s_all"])
                for r in results + extra_results
            )
        )
    if checks:
        lines.append("")
        lines.append("Checks (after the timed runs):")
        for tool, kv in checks.items():
            lines.append(f"- {pretty(tool)}: " + ", ".join(f"{k} {v}" for k, v in kv.items()))
    lines.append("")
    lines.append(
        "Machine: {nproc} cores (nproc), {cpu}, {ram} RAM; {date}; cxpipe {rev}; "
        "DuckDB {duckdb}, Polars {polars}, Python {python}.".format(
            **{k: meta.get(k, "?") for k in ("nproc", "cpu", "ram", "date", "rev", "duckdb", "polars", "python")}
        )
    )
    for note in a.note:
        lines.append(f"Note: {note}")
    print("\n".join(lines))

    doc = {
        "section": a.section,
        "input": {
            "path": a.input,
            "bytes": a.input_bytes if a.input_bytes > 0 else None,
            "rows": a.input_rows,
            "description": a.input_desc,
        },
        "runs": a.runs,
        "baseline": a.baseline,
        "results": results,
        "extra_results": extra_results,
        "outputs": outputs,
        "summary": summary,
        "checks": checks,
        "machine": meta,
        "notes": a.note,
        "markdown": "\n".join(lines),
    }
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
