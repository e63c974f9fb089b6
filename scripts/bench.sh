#!/usr/bin/env bash
# Whole-tool benchmark: cxpipe beside DuckDB and Polars (Python) on the same
# generated data and machine, one tool after another (SPEC.md section 14,
# STYLE.md "Performance work"). The Markdown table goes to stdout, progress to
# stderr, and a JSON copy to $WORKDIR/bench-<section>.json; results and the
# machine line are what BENCHMARKS.md records.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/bench.sh [--rows N] [--workdir DIR] [--skip-build] [--runs K]
                        [--only TOOLS] [--input FILE] [--regen] [--section LIST]
                        [--quote-text]

  --rows N        rows to generate (default 10000000)
  --workdir DIR   scratch folder for venv, data and outputs (default /tmp/cxpipe-bench)
  --skip-build    do not run `cargo build --release --locked`; use the existing binary
  --runs K        time each tool K times, the tools alternating round by round; the
                  median wall time and the largest peak RSS are kept (default 1;
                  SPEC §14 asks for 3)
  --only TOOLS    comma-separated subset of cxpipe,duckdb,polars (default: all three)
  --input FILE    benchmark this CSV instead of generating one (rows = lines - 1);
                  with --only duckdb,polars --section ingest no cxpipe binary is needed.
                  The connect section ignores it: it always generates its NDJSON
  --quote-text    generate the CSV with every text field quoted, as pandas and pyarrow
                  write it (`cxpipe generate --quote-text`; the same rows, other
                  bytes): the second CSV shape of SPEC §14
  --regen         regenerate the data (CSV, kpi dataset and its Parquet copy, the
                  connect section's NDJSON) even if matching ones are present
  --section LIST  comma-separated subset of ingest,kpi,sla,turnover,scale,connect,
                  run in that order (default: ingest,kpi,sla,turnover; scale and
                  connect are opt-in: scale runs every command, connect's file is
                  about 12.5 GB at 10M rows). Before generating anything the script
                  checks that $WORKDIR has room for the CSV (about 200 bytes a row,
                  17.5 GB at 100M rows, unless reused) and the sections' outputs

Sections:
  ingest  CSV -> Parquet: `cxpipe ingest` beside DuckDB COPY and Polars sink_parquet.
  kpi     `cxpipe kpi DATASET --by agent,day` (FCR included) beside the same KPIs in
          DuckDB SQL (bench/kpi_duckdb.py) and Polars lazy (bench/kpi_polars.py)
          over one Parquet file with the dataset's rows; outputs must agree
          (bench/check_kpi.py). Also times cxpipe `--by queue,interval` and
          `--by agent,shift`. The dataset is $WORKDIR/dataset-ROWS: reused when it
          was built from the same input file, else the one the ingest section just
          wrote, else `cxpipe ingest` builds it (untimed). The binary must have `kpi`
          unless --only leaves cxpipe out (it is still needed to build the dataset).
  sla     `cxpipe sla DATASET --policy P` over the kpi section's dataset with the five
          rules of SPEC §10 (service_level per voice queue x 30m, abandon_rate per
          day, wait on email, acw, handle): the agent report (default level), and
          for reference the interval report and the interaction report (--top 100).
          cxpipe only: SPEC §14 sets no comparison for it.
  turnover `cxpipe turnover DATASET` (per-agent signals) over the kpi section's dataset,
          and for reference `--attrition --by team`. cxpipe only.
  scale   every cxpipe command once (cxpipe only; e.g. --rows 100000000 --section scale):
          generate (timed when this run generates the CSV), ingest into a fresh
          dataset, info, kpi --by agent,day and --by queue,interval, sla at the
          agent, interval and interaction (--top 100) levels, turnover, report
          --html, and `run` (the nightly job: the CSV in an inbox, a fresh
          dataset, every default report), each with its wall time, peak RSS
          and output bytes. At 100M rows it needs about 17.5 GB for the CSV and
          14 GB for the outputs (two datasets, and FCR candidates spilled to
          TMPDIR), and takes about 15 minutes on 2 cores.
  connect Amazon Connect contact trace records, NDJSON -> Parquet: `cxpipe ingest`
          (layout recognised, nested fields mapped, latest version of each
          ContactId kept) beside DuckDB `read_json` COPY (bench/duckdb_json.py) and
          Polars scan_ndjson sink_parquet (bench/polars_ndjson.py), which only
          convert. The file is $WORKDIR/connect-ROWS.ndjson from `cxpipe generate
          --layout amazon-connect`: ROWS contacts plus about 0.5% older duplicate
          records (its facts file gives the exact counts); about 1.25 KB a record,
          so 12.5 GB at 10M rows. The section first checks that $WORKDIR has room
          for the file plus about 3 GB of outputs (at 10M rows). Rows and MB/s are
          those of the NDJSON file (records, bytes). Opt-in: --section connect.
          The binary is always needed (it generates the file).

Environment: CXPIPE_BIN overrides the binary path (default
${CARGO_TARGET_DIR:-<repo>/target}/release/cxpipe).

Output: a Markdown table per section on stdout, progress on stderr, JSON in
$WORKDIR/bench-SECTION.json (e.g. bench-ingest.json, bench-connect.json),
per-run logs and KPI comparisons in $WORKDIR/logs/.
Exit status: 0 when every tool ran and every check passed, 1 otherwise
(the table is printed either way), 2 on a usage error.
EOF
}

# Decimal points, not commas, in everything we print and parse.
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

ROWS=10000000
WORKDIR=/tmp/cxpipe-bench
SKIP_BUILD=0
RUNS=1
ONLY=cxpipe,duckdb,polars
INPUT=""
REGEN=0
QUOTE_TEXT=0
SECTIONS=ingest,kpi,sla,turnover
SEED=42
GENERIC_HEADER="interaction_id,chain_id,channel,direction,queue,agent_id,team,site,customer_id,arrived_at,answered_at,ended_at,talk_s,hold_s,acw_s,abandoned,transferred,disposition,csat"

log() { printf '%s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'bench.sh: %s\n' "$*" >&2
    exit 1
}
usage_error() {
    printf 'bench.sh: %s\n\n' "$*" >&2
    usage >&2
    exit 2
}

while (($# > 0)); do
    case $1 in
    --rows) ROWS=${2:?--rows needs a value}; shift 2 ;;
    --workdir) WORKDIR=${2:?--workdir needs a value}; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --only) ONLY=${2:?--only needs a value}; shift 2 ;;
    --input) INPUT=${2:?--input needs a value}; shift 2 ;;
    --regen) REGEN=1; shift ;;
    --quote-text) QUOTE_TEXT=1; shift ;;
    --section | --sections) SECTIONS=${2:?--section needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
    esac
done

[[ $ROWS =~ ^[1-9][0-9]*$ ]] || usage_error "--rows must be a positive integer, got '$ROWS'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || usage_error "--runs must be a positive integer, got '$RUNS'"
IFS=, read -r -a ONLY_LIST <<<"$ONLY"
((${#ONLY_LIST[@]} > 0)) || usage_error "--only needs at least one tool"
for t in "${ONLY_LIST[@]}"; do
    case $t in
    cxpipe | duckdb | polars) ;;
    *) usage_error "--only: unknown tool '$t' (known: cxpipe,duckdb,polars)" ;;
    esac
done
IFS=, read -r -a SECTION_LIST <<<"$SECTIONS"
((${#SECTION_LIST[@]} > 0)) || usage_error "--section needs at least one section"
for s in "${SECTION_LIST[@]}"; do
    case $s in
    ingest | kpi | sla | turnover | scale | connect) ;;
    *) usage_error "--section: unknown section '$s' (known: ingest,kpi,sla,turnover,scale,connect)" ;;
    esac
done
if [[ -n $INPUT ]]; then
    [[ -f $INPUT ]] || usage_error "--input: no such file '$INPUT'"
    INPUT=$(cd "$(dirname "$INPUT")" && pwd)/$(basename "$INPUT")
fi

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
LOGDIR=$WORKDIR/logs
mkdir -p "$LOGDIR"
CXPIPE=${CXPIPE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/cxpipe}
PY=$WORKDIR/venv/bin/python

# want TOOL: is TOOL selected by --only?
want() { [[ ",$ONLY," == *",$1,"* ]]; }
# want_section NAME: is NAME selected by --section?
want_section() { [[ ",$SECTIONS," == *",$1,"* ]]; }

# ---------------------------------------------------------------------------
# Bookkeeping shared by every stage.
#
# RESULTS: "section|tool|status|median_wall_s|max_rss_kib|all_walls_csv|exit_code"
# EXTRAS:  same, for timings shown for reference only (bench_cmd --extra)
# CHECKS:  "section|tool|key|value"   (sanity checks after the timed runs)
# NOTES:   "section|text"
# META:    "key=value"                (the machine line)
RESULTS=()
EXTRAS=()
CHECKS=()
NOTES=()
META=()
SECTION=""
declare -A SECTION_INPUT=() SECTION_BYTES=() SECTION_ROWS=() SECTION_DESC=()
BENCH_FAILED=0
KV="" # last output_checks result

# section_input SECTION FILE ROWS DESCRIPTION [BYTES]: what a stage's MB/s and
# rows/s are relative to; BYTES (default: FILE's size) 0 = no MB/s.
section_input() {
    SECTION_INPUT[$1]=$2
    SECTION_BYTES[$1]=${5:-$(stat -c %s "$2")}
    SECTION_ROWS[$1]=$3
    SECTION_DESC[$1]=$4
}

check() { CHECKS+=("$SECTION|$1|$2|$3"); }
note() { NOTES+=("$SECTION|$1"); }

# bench_cmd NAME [--prep FN] [--check FN] [--ok-codes 0,3] [--extra] [--runs N] -- CMD...
#
# Runs CMD N times (default $RUNS) under GNU time in the current $SECTION and
# records in RESULTS the median wall time of all of NAME's runs in the section
# and the largest peak RSS of any of them. A section that compares tools calls
# it with --runs 1 once per round and tool, so that the tools' runs alternate
# (SPEC §14's protocol); the runs of one NAME are merged. FN of --prep runs
# before every run, untimed (e.g. remove the previous output), then a `sync`;
# FN of --check runs after every run and must succeed (e.g. the output exists).
# A run whose exit code is not in --ok-codes, or whose check fails, stops
# that tool's runs and is recorded as failed; the other tools still run.
# --extra records the result in EXTRAS: shown for reference, not compared.
bench_cmd() {
    local name=$1
    shift
    local prep="" check_fn="" ok_codes="0" extra=0 runs=$RUNS
    while (($# > 0)); do
        case $1 in
        --prep) prep=$2; shift 2 ;;
        --check) check_fn=$2; shift 2 ;;
        --ok-codes) ok_codes=$2; shift 2 ;;
        --extra) extra=1; shift ;;
        --runs) runs=$2; shift 2 ;;
        --) shift; break ;;
        *) die "bench_cmd $name: unexpected '$1' (usage: bench_cmd NAME [--prep FN] [--check FN] [--ok-codes 0,3] [--extra] [--runs N] -- CMD...)" ;;
        esac
    done
    (($# > 0)) || die "bench_cmd $name: no command after --"
    # The earlier rounds of NAME in this section, if any.
    local listname=RESULTS
    if ((extra)); then listname=EXTRAS; fi
    local -n list=$listname
    local i at=-1 status=ok walls="" max_rss=0 last_code=0 prev_status prev_rss prev_walls
    for i in "${!list[@]}"; do
        if [[ ${list[$i]} == "$SECTION|$name|"* ]]; then at=$i; fi
    done
    if ((at >= 0)); then
        IFS='|' read -r _ _ prev_status _ prev_rss prev_walls last_code <<<"${list[$at]}"
        # A tool that failed once is not run again.
        if [[ $prev_status != ok ]]; then return 0; fi
        walls=$prev_walls
        max_rss=$prev_rss
    fi
    local run first=1 code wall rss tfile out exit_note
    if [[ -n $walls ]]; then first=$(($(tr -cd , <<<"$walls" | wc -c) + 2)); fi
    for ((run = first; run < first + runs; run++)); do
        if [[ -n $prep ]]; then "$prep"; fi
        # Flush the previous run's output so its writeback is not timed here.
        sync
        tfile=$LOGDIR/$SECTION.$name.run$run.time
        out=$LOGDIR/$SECTION.$name.run$run.log
        code=0
        /usr/bin/time -f '%e %M' -o "$tfile" "$@" </dev/null >"$out" 2>&1 || code=$?
        last_code=$code
        if [[ ",$ok_codes," != *",$code,"* ]]; then
            status="failed (exit $code)"
            warn "$name run $run exited with status $code; last lines of $out:"
            tail -n 5 "$out" >&2 || true
            break
        fi
        if [[ -n $check_fn ]] && ! "$check_fn"; then
            status="failed (no output)"
            warn "$name run $run exited with $code but its output is missing (log: $out)"
            break
        fi
        # GNU time puts "Command exited with non-zero status N" above the
        # format line when the command fails, so the numbers are on the last line.
        read -r wall rss < <(tail -n 1 "$tfile")
        [[ $wall =~ ^[0-9]+(\.[0-9]+)?$ && $rss =~ ^[0-9]+$ ]] ||
            die "bench_cmd $name: cannot parse GNU time output in $tfile"
        walls+=${walls:+,}$wall
        if ((rss > max_rss)); then max_rss=$rss; fi
        exit_note=""
        if ((code != 0)); then exit_note="  (exit $code)"; fi
        log "$(printf '  %-7s run %d: %7.2f s  %7d MiB peak RSS%s' \
            "$name" "$run" "$wall" "$((rss / 1024))" "$exit_note")"
    done
    if [[ $status != ok ]]; then BENCH_FAILED=1; fi
    local median=0
    if [[ -n $walls ]]; then
        median=$(tr , '\n' <<<"$walls" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    fi
    local entry="$SECTION|$name|$status|$median|$max_rss|$walls|$last_code"
    if ((at >= 0)); then list[$at]=$entry; else list+=("$entry"); fi
}

# last_ok SECTION TOOL: did TOOL's latest bench_cmd in SECTION succeed?
last_ok() { [[ $(result_of "$1" "$2") == "$1|$2|ok|"* ]]; }

# result_of SECTION TOOL: TOOL's entry in RESULTS/EXTRAS (empty if none).
result_of() {
    local r found=""
    for r in "${RESULTS[@]}" "${EXTRAS[@]}"; do
        if [[ $r == "$1|$2|"* ]]; then found=$r; fi
    done
    printf '%s' "$found"
}

# dataset_bytes DATASET: the bytes of its interactions/ files (a symlink to
# the current snapshot, followed).
dataset_bytes() { du -sbL "$1/interactions" | awk '{ print $1 }'; }

# output_bytes TOOL BYTES: what TOOL wrote in the current section (shown beside
# its time, with the ratio to cxpipe's).
OUTPUTS=()
output_bytes() { OUTPUTS+=("$SECTION|$1|$2"); }

# failure_note TOOL: when TOOL's latest bench_cmd in $SECTION failed, say why in
# a note (the signal that ended it, else the last line of its log, e.g. the
# Python exception), so the reason is in the table and its JSON too.
failure_note() {
    local tool=$1 found status walls n out tfile why sig
    found=$(result_of "$SECTION" "$tool")
    [[ -n $found ]] || return 0
    IFS='|' read -r _ _ status _ _ walls _ <<<"$found"
    [[ $status != ok ]] || return 0
    # bench_cmd stops at the failing run, after the runs whose walls it kept.
    n=1
    if [[ -n $walls ]]; then n=$(($(tr -cd , <<<"$walls" | wc -c) + 2)); fi
    out=$LOGDIR/$SECTION.$tool.run$n.log
    tfile=$LOGDIR/$SECTION.$tool.run$n.time
    sig=$(sed -n 's/^Command terminated by signal \([0-9]*\).*/\1/p' "$tfile" 2>/dev/null | head -n 1 || true)
    # A Python exception's own line (its message may go on below it), else the last line.
    why=$(grep -E '^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception)(:|$)' "$out" 2>/dev/null | tail -n 1 | cut -c 1-400 || true)
    if [[ -z $why ]]; then why=$(grep -v '^[[:space:]]*$' "$out" 2>/dev/null | tail -n 1 | cut -c 1-400 || true); fi
    if [[ $sig == 9 ]]; then
        why="killed by signal 9 (SIGKILL: most likely the kernel's out-of-memory killer)${why:+; last log line: $why}"
    elif [[ -n $sig ]]; then
        why="terminated by signal $sig${why:+; last log line: $why}"
    fi
    note "$tool FAILED in run $n of $RUNS ${status#failed }: ${why:-no output}. Full log: $out"
}

# print_table SECTION: the Markdown table on stdout, its JSON in $WORKDIR/bench-SECTION.json.
print_table() {
    local section=$1 r args=()
    for r in "${RESULTS[@]}"; do
        if [[ $r == "$section|"* ]]; then args+=(--result "${r#"$section|"}"); fi
    done
    for r in "${EXTRAS[@]}"; do
        if [[ $r == "$section|"* ]]; then args+=(--extra-result "${r#"$section|"}"); fi
    done
    for r in "${CHECKS[@]}"; do
        if [[ $r == "$section|"* ]]; then args+=(--check "${r#"$section|"}"); fi
    done
    for r in "${NOTES[@]}"; do
        if [[ $r == "$section|"* ]]; then args+=(--note "${r#"$section|"}"); fi
    done
    for r in "${OUTPUTS[@]}"; do
        if [[ $r == "$section|"* ]]; then args+=(--output "${r#"$section|"}"); fi
    done
    for r in "${META[@]}"; do args+=(--meta "$r"); done
    # SPEC §14's time targets: cxpipe over the faster of the others.
    local target=1.0
    case $section in
    ingest) target=0.8 ;;
    kpi) target=0.5 ;;
    connect) target=0.7 ;;
    esac
    "$PY" "$HERE/bench/report.py" \
        --target "$target" \
        --section "$section" \
        --json "$WORKDIR/bench-$section.json" \
        --input "${SECTION_INPUT[$section]}" \
        --input-bytes "${SECTION_BYTES[$section]}" \
        --input-rows "${SECTION_ROWS[$section]}" \
        --input-desc "${SECTION_DESC[$section]}" \
        --runs "$RUNS" \
        --baseline cxpipe \
        "${args[@]}"
    log "wrote $WORKDIR/bench-$section.json"
}

# ---------------------------------------------------------------------------
# Set-up: GNU time, the binary, the Python tools, the data.

ensure_gnu_time() {
    if [[ ! -x /usr/bin/time ]]; then
        log "installing GNU time (apt-get install -y time)"
        local sudo=()
        if ((EUID != 0)); then sudo=(sudo); fi
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq time >/dev/null
    fi
    /usr/bin/time -f '%e %M' -o /dev/null true 2>/dev/null ||
        die "/usr/bin/time is not GNU time (needs -f and -o)"
}

build_cxpipe() {
    if ((SKIP_BUILD == 0)); then
        log "building cxpipe: cargo build --release --locked (in $ROOT)"
        (cd "$ROOT" && cargo build --release --locked)
    fi
    [[ -x $CXPIPE ]] || die "no cxpipe binary at $CXPIPE (build it, or set CXPIPE_BIN)"
    META+=("cxpipe_version=$("$CXPIPE" --version 2>/dev/null | head -n 1 || echo unknown)")
}

setup_venv() {
    local venv=$WORKDIR/venv
    # The import also pulls both libraries into the page cache before any timing.
    if [[ -x $PY ]] && "$PY" -c 'import duckdb, polars' 2>/dev/null; then
        log "reusing virtualenv $venv"
    else
        log "creating virtualenv $venv and installing duckdb, polars"
        python3 -m venv "$venv"
        "$PY" -m pip install --quiet --disable-pip-version-check duckdb polars
        "$PY" -c 'import duckdb, polars'
    fi
    META+=("duckdb=$("$PY" -c 'import duckdb; print(duckdb.__version__)')")
    META+=("polars=$("$PY" -c 'import polars; print(polars.__version__)')")
    META+=("python=$("$PY" -c 'import platform; print(platform.python_version())')")
}

GEN_TIME="" # "wall_s rss_kib" of the generation, when this run generated the CSV

# Rough bytes a row, for the free-space check: the generated CSV (quoted text
# is longer), and what the sections write from it: the ingest section's three
# outputs, the kpi section's dataset and single Parquet file, the scale
# section's two datasets (ingest and run) and the FCR candidates a query
# spills to TMPDIR past 12M contacts (40 bytes each).
CSV_BYTES_PER_ROW=200
declare -A SECTION_BYTES_PER_ROW=([ingest]=120 [kpi]=120 [sla]=0 [turnover]=0 [scale]=135)

# check_csv_space: die before generating or writing anything unless $WORKDIR
# has room for the CSV (unless a complete one is there to reuse) and for what
# the chosen sections write from it.
check_csv_space() {
    local need=0 s avail per=0
    if [[ -z $INPUT ]]; then
        local shape=""
        if ((QUOTE_TEXT == 1)); then shape="-quoted"; fi
        if ((REGEN == 1)) || [[ ! -f $WORKDIR/gen-$ROWS$shape.ok ]]; then
            need=$((ROWS * CSV_BYTES_PER_ROW))
        fi
    fi
    for s in "${SECTION_LIST[@]}"; do per=$((per + ${SECTION_BYTES_PER_ROW[$s]:-0})); done
    local rows=$ROWS
    if [[ -n $INPUT ]]; then rows=$(($(stat -c %s "$INPUT") / 150 + 1)); fi
    need=$((need + rows * per + 1000000000))
    avail=$(df -P -B1 "$WORKDIR" | awk 'NR == 2 { print $4 }')
    [[ $avail =~ ^[0-9]+$ ]] || die "cannot read the free space of $WORKDIR from df"
    if ((avail < need)); then
        die "not enough disk for $rows rows and sections ${SECTIONS}: about $(gb "$need") GB needed (the CSV at about $CSV_BYTES_PER_ROW bytes a row unless reused, the outputs, 1 GB spare), and $WORKDIR has $(gb "$avail") GB free. Free some space, give --workdir on a bigger disk, or use a smaller --rows."
    fi
    log "free disk in $WORKDIR: $(gb "$avail") GB; these sections need about $(gb "$need") GB"
}

# Sets DATA and INPUT_ROWS.
prepare_data() {
    if [[ -n $INPUT ]]; then
        DATA=$INPUT
        INPUT_ROWS=$(($(wc -l <"$DATA") - 1))
        DATA_DESC="given file $(basename "$DATA")"
        log "using given input $DATA ($INPUT_ROWS rows by line count)"
    else
        local shape="" quote_flag=()
        if ((QUOTE_TEXT == 1)); then
            shape="-quoted"
            quote_flag=(--quote-text)
        fi
        DATA=$WORKDIR/gen-$ROWS$shape.csv
        INPUT_ROWS=$ROWS
        DATA_DESC="generic CSV from cxpipe generate --seed $SEED${quote_flag:+ ${quote_flag[*]}}"
        local marker=$WORKDIR/gen-$ROWS$shape.ok
        local want_marker="rows=$ROWS seed=$SEED${quote_flag:+ ${quote_flag[*]}}"
        if ((REGEN == 0)) && [[ -f $DATA && -f $marker ]] &&
            [[ $(head -n 1 "$marker") == "$want_marker" ]] &&
            [[ $(sed -n 2p "$marker") == "bytes=$(stat -c %s "$DATA")" ]]; then
            log "reusing $DATA ($want_marker)"
        else
            rm -f "$DATA" "$marker"
            log "generating $ROWS rows: cxpipe generate --rows $ROWS --out $DATA --seed $SEED ${quote_flag[*]}"
            local t0=$SECONDS gtime=$LOGDIR/generate-$ROWS$shape.time
            /usr/bin/time -f '%e %M' -o "$gtime" \
                "$CXPIPE" generate --rows "$ROWS" --out "$DATA" --seed "$SEED" "${quote_flag[@]}" >&2
            [[ -s $DATA ]] || die "cxpipe generate did not write $DATA"
            # Timed (wall, peak RSS) for the scale section's table.
            GEN_TIME=$(tail -n 1 "$gtime")
            # Written only after a complete generation, so a killed run regenerates.
            printf '%s\nbytes=%s\n' "$want_marker" "$(stat -c %s "$DATA")" >"$marker"
            log "generated in $((SECONDS - t0)) s"
        fi
    fi
    local header
    header=$(head -n 1 "$DATA" | tr -d '\r')
    if [[ $header != "$GENERIC_HEADER" ]]; then
        warn "$DATA does not start with the generic CSV header; got: $header"
    fi
}

# import_cost MODULE: wall seconds of `python -c "import MODULE"`, i.e. the
# fixed cost inside the DuckDB/Polars timings that cxpipe does not pay.
import_cost() {
    local tfile=$LOGDIR/import-$1.time
    /usr/bin/time -f '%e' -o "$tfile" "$PY" -c "import $1" >/dev/null 2>&1 || true
    tail -n 1 "$tfile"
}

# One warm-up read so that every tool reads the input from the page cache;
# dropping the cache instead is not reliably possible (no root, containers).
warm_cache() {
    log "warm-up: cat $1 > /dev/null (page cache not dropped; every tool reads from cache)"
    cat "$1" >/dev/null
}

# Other work on the machine (a cargo build, say) inflates every timing; say so
# in the table. Sampled from /proc/stat over one second rather than the load
# average, which still remembers our own data generation a minute ago.
busy_check() {
    local s1 s2 busy
    s1=$(head -n 1 /proc/stat)
    sleep 1
    s2=$(head -n 1 /proc/stat)
    # Fields after "cpu": user nice system idle iowait irq softirq steal ...
    busy=$(awk -v a="$s1" -v b="$s2" -v n="$(nproc)" 'BEGIN {
        split(a, x); split(b, y); total = 0
        for (i = 2; i <= 9; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.2f", (total > 0 ? n * (1 - idle / total) : 0) }')
    if awk -v b="$busy" 'BEGIN { exit !(b >= 0.25) }'; then
        warn "machine is not idle: about $busy of $(nproc) cores busy before timing; timings will be inflated"
        note "machine not idle when timing started: about $busy of $(nproc) cores already busy; timings are inflated."
    fi
}

machine_info() {
    local rev
    rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no-commit")
    if [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]]; then rev+="+dirty"; fi
    META+=(
        "nproc=$(nproc)"
        "cpu=$(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
        "ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
        "rev=$rev"
        "kernel=$(uname -r)"
    )
}

# output_checks TOOL KIND TARGET: run check_output.py on what TOOL wrote, record
# every key=value line it prints as a check, and echo the lines for the caller.
output_checks() {
    local tool=$1 kind=$2 target=$3 kv line
    kv=$("$PY" "$HERE/bench/check_output.py" "$kind" "$target")
    while IFS= read -r line; do
        if [[ $line == *=* ]]; then check "$tool" "${line%%=*}" "${line#*=}"; fi
    done <<<"$kv"
    KV=$kv
}

# ---------------------------------------------------------------------------
# Stage: ingest (CSV -> Parquet).

DS_CXPIPE=""
OUT_DUCKDB=""
OUT_POLARS=""
INGEST_DS_OK=0 # 1 once cxpipe's timed ingest left a complete dataset in $DS_CXPIPE

prep_ingest_cxpipe() { rm -rf "$DS_CXPIPE"; }
prep_ingest_duckdb() { rm -f "$OUT_DUCKDB"; }
prep_ingest_polars() { rm -f "$OUT_POLARS"; }
check_ingest_cxpipe() { [[ -n $(find -L "$DS_CXPIPE/interactions" -name '*.parquet' -print -quit 2>/dev/null) ]]; }
check_ingest_duckdb() { [[ -s $OUT_DUCKDB ]]; }
check_ingest_polars() { [[ -s $OUT_POLARS ]]; }

# check_converter_rows TOOL FILE [ROWS_IN]: a converter must hand back every
# input row (ROWS_IN, default $INPUT_ROWS); anything else means it misread the input.
check_converter_rows() {
    local tool=$1 file=$2 rows_in=${3:-$INPUT_ROWS} rows_out
    check "$tool" rows_in "$rows_in"
    output_checks "$tool" parquet "$file"
    rows_out=$(sed -n 's/^rows_out=//p' <<<"$KV")
    if [[ $rows_out == "$rows_in" ]]; then
        check "$tool" rows_match yes
    else
        check "$tool" rows_match "MISMATCH"
        warn "$tool wrote $rows_out rows for $rows_in input rows"
        BENCH_FAILED=1
    fi
    log "  $tool: rows in $rows_in, rows out $rows_out"
}

# check_cxpipe_dataset [DATASET ROWS_IN] (default $DS_CXPIPE $INPUT_ROWS):
# cxpipe dedupes and quarantines, so rows out < rows in is expected; what must
# hold is conservation (SPEC.md section 5) and the dataset count = rows_written.
# Leaves check_output.py's lines in KV.
check_cxpipe_dataset() {
    local ds=${1:-$DS_CXPIPE} rows_in=${2:-$INPUT_ROWS}
    local kv rows_out read written quarantined dups conservation="n/a"
    check cxpipe rows_in "$rows_in"
    output_checks cxpipe dataset "$ds"
    kv=$KV
    rows_out=$(sed -n 's/^rows_out=//p' <<<"$kv")
    read=$(sed -n 's/^rows_read=//p' <<<"$kv")
    written=$(sed -n 's/^rows_written=//p' <<<"$kv")
    quarantined=$(sed -n 's/^rows_quarantined=//p' <<<"$kv")
    dups=$(sed -n 's/^duplicates_dropped=//p' <<<"$kv")
    if [[ $read =~ ^[0-9]+$ && $written =~ ^[0-9]+$ && $quarantined =~ ^[0-9]+$ && $dups =~ ^[0-9]+$ ]]; then
        if ((read == written + quarantined + dups)) && [[ $rows_out == "$written" ]]; then
            conservation=ok
        else
            conservation=MISMATCH
            warn "cxpipe: rows_read $read != written $written + quarantined $quarantined + duplicates $dups, or dataset count $rows_out != rows_written"
            BENCH_FAILED=1
        fi
    fi
    check cxpipe conservation "$conservation"
    log "  cxpipe: rows in $rows_in, rows written (count(*) over the dataset) $rows_out, quarantined ${quarantined:-n/a}, duplicates dropped ${dups:-n/a}, conservation $conservation"
}

stage_ingest() {
    SECTION=ingest
    DS_CXPIPE=$WORKDIR/ds-cxpipe
    OUT_DUCKDB=$WORKDIR/out-duckdb.parquet
    OUT_POLARS=$WORKDIR/out-polars.parquet
    section_input ingest "$DATA" "$INPUT_ROWS" "$DATA_DESC"
    log "== ingest: $(basename "$DATA"), $INPUT_ROWS rows, ${SECTION_BYTES[ingest]} bytes, median of $RUNS run(s)"
    busy_check
    warm_cache "$DATA"
    note "page cache not dropped (not reliably possible); one warm-up \`cat FILE > /dev/null\` before timing, so every tool reads the input from the page cache."
    note "cxpipe validates, dedupes, quarantines and writes the run report (SPEC §5, §9); DuckDB and Polars only convert, with their default settings (all cores). Their wall times include Python start-up and import."
    if want duckdb || want polars; then
        note "Python start-up + import alone (untimed extra run): duckdb $(import_cost duckdb) s, polars $(import_cost polars) s."
    fi

    # The tools' runs alternate, round by round (SPEC §14's protocol).
    local round
    for ((round = 1; round <= RUNS; round++)); do
        if want cxpipe; then
            # Exit 3 = finished, reject threshold exceeded: everything was still written.
            bench_cmd cxpipe --runs 1 --prep prep_ingest_cxpipe --check check_ingest_cxpipe --ok-codes 0,3 -- \
                "$CXPIPE" ingest "$DATA" --out "$DS_CXPIPE" --no-progress -q
        fi
        if want duckdb; then
            bench_cmd duckdb --runs 1 --prep prep_ingest_duckdb --check check_ingest_duckdb -- \
                "$PY" "$HERE/bench/duckdb_copy.py" "$DATA" "$OUT_DUCKDB"
        fi
        if want polars; then
            bench_cmd polars --runs 1 --prep prep_ingest_polars --check check_ingest_polars -- \
                "$PY" "$HERE/bench/polars_sink.py" "$DATA" "$OUT_POLARS"
        fi
    done
    if want cxpipe && last_ok ingest cxpipe; then
        INGEST_DS_OK=1
        check_cxpipe_dataset
        if [[ $(result_of ingest cxpipe) == *"|3" ]]; then check cxpipe exit_code "3 (reject threshold exceeded)"; fi
        output_bytes cxpipe "$(dataset_bytes "$DS_CXPIPE")"
    fi
    if want cxpipe; then
        note "SPEC §14 memory target for ingest: peak RSS under 1 GiB at 10M rows, under 2 GiB at 100M."
        note "SPEC §14 byte target: the dataset (its interactions/ files) at most Polars' file + 16 bytes a row (the 128-bit pseudonym)."
    fi
    if want duckdb && last_ok ingest duckdb; then
        check_converter_rows duckdb "$OUT_DUCKDB"
        output_bytes duckdb "$(stat -c %s "$OUT_DUCKDB")"
    fi
    if want polars && last_ok ingest polars; then
        check_converter_rows polars "$OUT_POLARS"
        output_bytes polars "$(stat -c %s "$OUT_POLARS")"
        if want cxpipe && last_ok ingest cxpipe; then
            # SPEC §14: the dataset at most Polars' file + 16 bytes a row.
            local ours polars_b limit
            ours=$(dataset_bytes "$DS_CXPIPE")
            polars_b=$(stat -c %s "$OUT_POLARS")
            limit=$((polars_b + 16 * INPUT_ROWS))
            if ((ours <= limit)); then
                check cxpipe byte_target "met ($ours <= Polars $polars_b + 16 x $INPUT_ROWS = $limit)"
            else
                check cxpipe byte_target "NOT met ($ours > Polars $polars_b + 16 x $INPUT_ROWS = $limit)"
            fi
        fi
    fi
    print_table ingest
}

# ---------------------------------------------------------------------------
# Stage: kpi (dataset -> agent,day KPIs with FCR).

KPI_DS=""
KPI_ALL=""
KPI_ROWS=0
KPI_OUT=""            # the CSV the tool being timed writes (prep_kpi, check_kpi_out)
declare -A KPI_CSV=() # tool -> its KPI CSV, once its timed runs succeeded

prep_kpi() { rm -f "$KPI_OUT"; }
check_kpi_out() { [[ -s $KPI_OUT ]]; }

# Fail before any work when the binary cannot run `kpi`.
require_kpi_command() {
    if ! "$CXPIPE" kpi --help >/dev/null 2>&1; then
        die "$CXPIPE has no 'kpi' command (\`cxpipe kpi --help\` failed). Build a binary that has it, or time DuckDB and Polars only (--only duckdb,polars; the binary still builds the dataset), or skip the section (--section ingest)."
    fi
}

# Sets KPI_DS (the cxpipe dataset of $DATA), KPI_ALL (one Parquet file with
# the same rows, for DuckDB and Polars) and KPI_ROWS. Nothing here is timed.
prepare_kpi_data() {
    KPI_DS=$WORKDIR/dataset-$INPUT_ROWS
    KPI_ALL=$WORKDIR/dataset-$INPUT_ROWS.all.parquet
    local marker=$WORKDIR/dataset-$INPUT_ROWS.ok want_marker
    want_marker="source=$DATA bytes=$(stat -c %s "$DATA") mtime=$(stat -c %Y "$DATA")"
    if ((REGEN == 0)) && [[ -d $KPI_DS/interactions && -s $KPI_ALL && -f $marker ]] &&
        [[ $(head -n 1 "$marker") == "$want_marker" ]]; then
        KPI_ROWS=$(sed -n 's/^rows=//p' "$marker")
        log "reusing dataset $KPI_DS and $KPI_ALL ($KPI_ROWS rows, built from $DATA)"
        return
    fi
    rm -rf "$KPI_DS" "$KPI_ALL" "$marker"
    if ((INGEST_DS_OK == 1)) && [[ -d $DS_CXPIPE/interactions ]]; then
        log "kpi dataset: the one the ingest section just wrote (mv $DS_CXPIPE $KPI_DS)"
        mv "$DS_CXPIPE" "$KPI_DS"
    else
        log "kpi dataset: cxpipe ingest $DATA --out $KPI_DS (untimed)"
        local t0=$SECONDS code=0
        "$CXPIPE" ingest "$DATA" --out "$KPI_DS" --no-progress -q >&2 || code=$?
        # Exit 3 = reject threshold exceeded: everything was still written.
        ((code == 0 || code == 3)) || die "cxpipe ingest exited with status $code while building $KPI_DS"
        log "ingested in $((SECONDS - t0)) s"
    fi
    log "writing one Parquet file with the dataset's rows: $KPI_ALL (DuckDB COPY, untimed)"
    KPI_ROWS=$("$PY" "$HERE/bench/dataset_to_parquet.py" "$KPI_DS" "$KPI_ALL") ||
        die "could not write $KPI_ALL"
    [[ $KPI_ROWS =~ ^[0-9]+$ ]] || die "could not count the rows of $KPI_DS (got '$KPI_ROWS')"
    # Written last, so an interrupted preparation is redone next time.
    printf '%s\nrows=%s\n' "$want_marker" "$KPI_ROWS" >"$marker"
}

# compare_kpi TOOL_A TOOL_B: do their KPI CSVs agree (check_kpi.py)? Recorded
# as a check on TOOL_B; a disagreement fails the benchmark.
compare_kpi() {
    local a=$1 b=$2 out=$LOGDIR/kpi.check-$1-$2.txt code=0 mism
    "$PY" "$HERE/bench/check_kpi.py" "${KPI_CSV[$a]}" "${KPI_CSV[$b]}" >"$out" 2>&1 || code=$?
    if ((code == 0)); then
        check "$b" "agrees_with_$a" yes
        log "  $b agrees with $a ($(head -n 1 "$out"))"
    else
        mism=$(sed -n 's/.*mismatches=\([0-9]*\).*/\1/p' "$out" | head -n 1)
        check "$b" "agrees_with_$a" "NO (${mism:-?} values differ; see $out)"
        warn "$b and $a disagree (check_kpi.py exit $code); first lines of $out:"
        head -n 12 "$out" >&2 || true
        BENCH_FAILED=1
    fi
}

# csv_rows FILE: data rows of a CSV with a header line.
csv_rows() { echo $(($(wc -l <"$1") - 1)); }

stage_kpi() {
    SECTION=kpi
    prepare_kpi_data
    local files ds_mb all_mb t
    files=$(find -L "$KPI_DS/interactions" -name '*.parquet' | wc -l)
    ds_mb=$(dataset_bytes "$KPI_DS" | awk '{ printf "%.1f", $1 / 1e6 }')
    all_mb=$(stat -c %s "$KPI_ALL" | awk '{ printf "%.1f", $1 / 1e6 }')
    # No MB/s (bytes 0): cxpipe and the others read different files.
    section_input kpi "$KPI_DS" "$KPI_ROWS" \
        "\`--by agent,day\`; cxpipe dataset ($files Parquet files, $ds_mb MB) of the $DATA_DESC; DuckDB and Polars read one Parquet file with the same rows ($all_mb MB)" 0
    log "== kpi --by agent,day: $KPI_ROWS rows in $KPI_DS, median of $RUNS run(s)"
    busy_check
    log "warm-up: cat the dataset's files and $KPI_ALL > /dev/null"
    find -L "$KPI_DS/interactions" -name '*.parquet' -exec cat {} + >/dev/null
    cat "$KPI_ALL" >/dev/null
    note "page cache not dropped; one warm-up read of the dataset and of the single Parquet file before timing."
    note "the same KPIs everywhere: agent-side columns per (agent_id, date), zone UTC, FCR window 72 h with chain exclusion and right-censoring at the last arrival (SPEC §8; exact definitions in scripts/bench/kpi_duckdb.py); outputs compared by check_kpi.py (keys and counts exact, floats within 1e-6 or half a unit of the decimals a file rounds to; cxpipe writes seconds to 3 decimals, ratios to 6). DuckDB (one SQL statement) and Polars (lazy, one collect) run with their default settings (all cores) on the single Parquet file, which DuckDB COPY wrote from the dataset before timing. Their wall times include Python start-up and import."
    if want duckdb || want polars; then
        note "Python start-up + import alone (untimed extra run): duckdb $(import_cost duckdb) s, polars $(import_cost polars) s."
    fi

    # The tools' runs alternate, round by round (SPEC §14's protocol).
    local round
    for ((round = 1; round <= RUNS; round++)); do
        if want cxpipe; then
            KPI_OUT=$WORKDIR/kpi-cxpipe.csv
            bench_cmd cxpipe --runs 1 --prep prep_kpi --check check_kpi_out -- \
                "$CXPIPE" kpi "$KPI_DS" --by agent,day --format csv --out "$KPI_OUT" --no-progress -q
        fi
        if want duckdb; then
            KPI_OUT=$WORKDIR/kpi-duckdb.csv
            bench_cmd duckdb --runs 1 --prep prep_kpi --check check_kpi_out -- \
                "$PY" "$HERE/bench/kpi_duckdb.py" "$KPI_ALL" "$KPI_OUT"
        fi
        if want polars; then
            KPI_OUT=$WORKDIR/kpi-polars.csv
            bench_cmd polars --runs 1 --prep prep_kpi --check check_kpi_out -- \
                "$PY" "$HERE/bench/kpi_polars.py" "$KPI_ALL" "$KPI_OUT"
        fi
    done
    for t in cxpipe duckdb polars; do
        if want "$t" && last_ok kpi "$t"; then KPI_CSV[$t]=$WORKDIR/kpi-$t.csv; fi
    done

    for t in cxpipe duckdb polars; do
        if [[ -n ${KPI_CSV[$t]:-} ]]; then check "$t" output_rows "$(csv_rows "${KPI_CSV[$t]}")"; fi
    done
    if [[ -n ${KPI_CSV[cxpipe]:-} ]]; then
        for t in duckdb polars; do
            if [[ -n ${KPI_CSV[$t]:-} ]]; then compare_kpi cxpipe "$t"; fi
        done
    elif [[ -n ${KPI_CSV[duckdb]:-} && -n ${KPI_CSV[polars]:-} ]]; then
        compare_kpi duckdb polars
    fi

    if want cxpipe; then
        # Other groupings, timed for reference: cxpipe only.
        KPI_OUT=$WORKDIR/kpi-cxpipe-queue-interval.csv
        bench_cmd cxpipe-queue-interval --extra --prep prep_kpi --check check_kpi_out -- \
            "$CXPIPE" kpi "$KPI_DS" --by queue,interval --format csv --out "$KPI_OUT" --no-progress -q
        if last_ok kpi cxpipe-queue-interval; then check cxpipe-queue-interval output_rows "$(csv_rows "$KPI_OUT")"; fi
        KPI_OUT=$WORKDIR/kpi-cxpipe-agent-shift.csv
        bench_cmd cxpipe-agent-shift --extra --prep prep_kpi --check check_kpi_out -- \
            "$CXPIPE" kpi "$KPI_DS" --by agent,shift --format csv --out "$KPI_OUT" --no-progress -q
        if last_ok kpi cxpipe-agent-shift; then check cxpipe-agent-shift output_rows "$(csv_rows "$KPI_OUT")"; fi
        note "cxpipe \`--by queue,interval\` (default 30 min intervals) and \`--by agent,shift\` (default shifts) are timed for reference only, with no DuckDB/Polars counterpart: no ratio."
        note "SPEC §14 memory target for every report: peak RSS under 1 GiB at 10M rows, under 4 GiB at 100M."
    fi
    print_table kpi
}

SLA_POLICY_TEXT='
[[sla]]
name = "voice-80-20"
kind = "service_level"
scope = { channel = "voice" }
threshold_s = 20
target = 0.80
interval = "30m"

[[sla]]
name = "abandon-under-5pct"
kind = "abandon_rate"
target = 0.05
interval = "1d"

[[sla]]
name = "email-first-response-4h"
kind = "wait"
scope = { channel = "email" }
threshold_s = 14400

[[sla]]
name = "acw-max-2m"
kind = "acw"
threshold_s = 120

[[sla]]
name = "handle-max-15m"
kind = "handle"
threshold_s = 900
'

stage_sla() {
    SECTION=sla
    prepare_kpi_data
    local policy=$WORKDIR/sla-policy.toml files ds_mb level
    printf '%s' "$SLA_POLICY_TEXT" >"$policy"
    files=$(find -L "$KPI_DS/interactions" -name '*.parquet' | wc -l)
    ds_mb=$(dataset_bytes "$KPI_DS" | awk '{ printf "%.1f", $1 / 1e6 }')
    section_input sla "$KPI_DS" "$KPI_ROWS" \
        "\`sla --policy\` with the five rules of SPEC §10; cxpipe dataset ($files Parquet files, $ds_mb MB) of the $DATA_DESC" 0
    log "== sla: $KPI_ROWS rows in $KPI_DS, median of $RUNS run(s)"
    busy_check
    find -L "$KPI_DS/interactions" -name '*.parquet' -exec cat {} + >/dev/null
    note "page cache not dropped; one warm-up read of the dataset before timing."
    note "policy: $(grep -c '^\[\[sla\]\]' "$policy") rules ($policy): service_level (voice, 30m), abandon_rate (1d), wait (email), acw, handle."
    KPI_OUT=$WORKDIR/sla-agent.csv
    bench_cmd cxpipe --prep prep_kpi --check check_kpi_out -- \
        "$CXPIPE" sla "$KPI_DS" --policy "$policy" --format csv --out "$KPI_OUT" --no-progress -q
    if last_ok sla cxpipe; then check cxpipe output_rows "$(csv_rows "$KPI_OUT")"; fi
    for level in interval interaction; do
        KPI_OUT=$WORKDIR/sla-$level.csv
        local extra=()
        if [[ $level == interaction ]]; then extra=(--top 100); fi
        bench_cmd "cxpipe-sla-$level" --extra --prep prep_kpi --check check_kpi_out -- \
            "$CXPIPE" sla "$KPI_DS" --policy "$policy" --level "$level" "${extra[@]}" \
            --format csv --out "$KPI_OUT" --no-progress -q
        if last_ok sla "cxpipe-sla-$level"; then check "cxpipe-sla-$level" output_rows "$(csv_rows "$KPI_OUT")"; fi
    done
    note "the agent report (first row) runs the KPI engine once per interval rule for the intervals and once per rule for the agents; --level interval and --level interaction (--top 100 per rule) are timed for reference."
    print_table sla
}

stage_turnover() {
    SECTION=turnover
    prepare_kpi_data
    local files ds_mb
    files=$(find -L "$KPI_DS/interactions" -name '*.parquet' | wc -l)
    ds_mb=$(dataset_bytes "$KPI_DS" | awk '{ printf "%.1f", $1 / 1e6 }')
    section_input turnover "$KPI_DS" "$KPI_ROWS" \
        "\`turnover\`; cxpipe dataset ($files Parquet files, $ds_mb MB) of the $DATA_DESC" 0
    log "== turnover: $KPI_ROWS rows in $KPI_DS, median of $RUNS run(s)"
    busy_check
    find -L "$KPI_DS/interactions" -name '*.parquet' -exec cat {} + >/dev/null
    note "page cache not dropped; one warm-up read of the dataset before timing."
    KPI_OUT=$WORKDIR/turnover.csv
    bench_cmd cxpipe --prep prep_kpi --check check_kpi_out -- \
        "$CXPIPE" turnover "$KPI_DS" --format csv --out "$KPI_OUT" --no-progress -q
    if last_ok turnover cxpipe; then check cxpipe output_rows "$(csv_rows "$KPI_OUT")"; fi
    KPI_OUT=$WORKDIR/turnover-attrition.csv
    bench_cmd cxpipe-attrition-team --extra --prep prep_kpi --check check_kpi_out -- \
        "$CXPIPE" turnover "$KPI_DS" --attrition --by team --format csv --out "$KPI_OUT" --no-progress -q
    if last_ok turnover cxpipe-attrition-team; then check cxpipe-attrition-team output_rows "$(csv_rows "$KPI_OUT")"; fi
    note "one pass of the KPI engine (agent x team x site x local day, no FCR), then windows, trends, status and risk in Rust over those rows."
    print_table turnover
}

# ---------------------------------------------------------------------------
# Stage: scale (every cxpipe command once over the CSV, SPEC §14 "scale").

SCALE_DS=""
SCALE_RUN=""
SCALE_OUT=""
prep_scale_ingest() { rm -rf "$SCALE_DS"; }
check_scale_ingest() { [[ -n $(find -L "$SCALE_DS/interactions" -name '*.parquet' -print -quit 2>/dev/null) ]]; }
prep_scale_out() { rm -f "$SCALE_OUT"; }
check_scale_out() { [[ -s $SCALE_OUT ]]; }
prep_scale_run() { rm -rf "$SCALE_RUN/dataset" "$SCALE_RUN/reports"; }
check_scale_run() { [[ -n $(find "$SCALE_RUN/reports" -type f -print -quit 2>/dev/null) ]]; }

# scale_report NAME OUT -- CMD...: one report timed, its output checked.
scale_report() {
    local name=$1 out=$2
    shift 3
    SCALE_OUT=$out
    bench_cmd "$name" --extra --prep prep_scale_out --check check_scale_out -- "$@"
    if last_ok scale "$name"; then output_bytes "$name" "$(stat -c %s "$out")"; fi
}

stage_scale() {
    SECTION=scale
    SCALE_DS=$WORKDIR/scale-ds-$INPUT_ROWS
    SCALE_RUN=$WORKDIR/scale-run-$INPUT_ROWS
    local policy=$WORKDIR/sla-policy.toml out=$WORKDIR/scale-out w r
    printf '%s' "$SLA_POLICY_TEXT" >"$policy"
    mkdir -p "$out" "$SCALE_RUN/inbox"
    section_input scale "$DATA" "$INPUT_ROWS" "every cxpipe command once, over the $DATA_DESC"
    log "== scale: every command over $(basename "$DATA") ($INPUT_ROWS rows), median of $RUNS run(s)"
    busy_check
    if [[ -n $GEN_TIME ]]; then
        read -r w r <<<"$GEN_TIME"
        EXTRAS+=("scale|generate|ok|$w|$r|$w|0")
        output_bytes generate "$(stat -c %s "$DATA")"
    else
        note "generate not timed: the CSV was reused (--regen generates it again, timed)."
    fi
    warm_cache "$DATA"
    note "page cache not dropped; one warm-up read of the CSV before the ingest. The reports read the dataset the ingest just wrote (in the page cache as written)."
    bench_cmd ingest --extra --prep prep_scale_ingest --check check_scale_ingest --ok-codes 0,3 -- \
        "$CXPIPE" ingest "$DATA" --out "$SCALE_DS" --no-progress -q
    if ! last_ok scale ingest; then
        failure_note ingest
        print_table scale
        return
    fi
    check_cxpipe_dataset "$SCALE_DS" "$INPUT_ROWS"
    output_bytes ingest "$(dataset_bytes "$SCALE_DS")"
    scale_report info "$out/info.txt" -- sh -c "\"\$0\" info \"\$1\" > \"\$2\"" "$CXPIPE" "$SCALE_DS" "$out/info.txt"
    scale_report kpi-agent-day "$out/kpi-agent-day.csv" -- \
        "$CXPIPE" kpi "$SCALE_DS" --by agent,day --format csv --out "$out/kpi-agent-day.csv" --no-progress -q
    scale_report kpi-queue-interval "$out/kpi-queue-interval.csv" -- \
        "$CXPIPE" kpi "$SCALE_DS" --by queue,interval --format csv --out "$out/kpi-queue-interval.csv" --no-progress -q
    scale_report sla-agent "$out/sla-agent.csv" -- \
        "$CXPIPE" sla "$SCALE_DS" --policy "$policy" --format csv --out "$out/sla-agent.csv" --no-progress -q
    scale_report sla-interval "$out/sla-interval.csv" -- \
        "$CXPIPE" sla "$SCALE_DS" --policy "$policy" --level interval --format csv --out "$out/sla-interval.csv" --no-progress -q
    scale_report sla-interaction-top100 "$out/sla-interaction.csv" -- \
        "$CXPIPE" sla "$SCALE_DS" --policy "$policy" --level interaction --top 100 --format csv --out "$out/sla-interaction.csv" --no-progress -q
    scale_report turnover "$out/turnover.csv" -- \
        "$CXPIPE" turnover "$SCALE_DS" --format csv --out "$out/turnover.csv" --no-progress -q
    scale_report report-html "$out/report.html" -- \
        "$CXPIPE" report "$SCALE_DS" --html "$out/report.html" --no-progress -q
    # The nightly job: the CSV in an inbox, a fresh dataset, every default report.
    ln -sf "$DATA" "$SCALE_RUN/inbox/$(basename "$DATA")"
    {
        printf '[run]\ninbox = "inbox"\ndataset = "dataset"\nreports_dir = "reports"\nformat = "csv"\n'
        printf '%s' "$SLA_POLICY_TEXT"
    } >"$SCALE_RUN/cxpipe.toml"
    bench_cmd run --extra --prep prep_scale_run --check check_scale_run --ok-codes 0,3 -- \
        "$CXPIPE" run --config "$SCALE_RUN/cxpipe.toml" --no-progress -q
    if last_ok scale run; then
        check run reports "$(find "$SCALE_RUN/reports" -type f | wc -l)"
    else
        failure_note run
    fi
    note "cxpipe only: \`run\` is the nightly job (ingest into a fresh dataset, then every default report of README's [run] with the five-rule policy); the others are one command each. SPEC §14 memory: ingest under 2 GiB and every report under 4 GiB at 100M rows; aim: each report at 100M within 10× its 10M time."
    print_table scale
}

# ---------------------------------------------------------------------------
# Stage: connect (Amazon Connect contact trace records, NDJSON -> Parquet).

CONNECT_DATA=""
CONNECT_FACTS=""
CONNECT_RECORDS=0  # lines of the file (facts "records"): what a converter must write
CONNECT_CONTACTS=0 # contacts (facts "rows"): what cxpipe must write
CONNECT_DUPS=0     # older duplicate records (facts "duplicate_records"): what cxpipe must drop
DS_CONNECT=""
OUT_CONNECT_DUCKDB=""
OUT_CONNECT_POLARS=""
# For the free-space check only: about 1.25 KB a record (+0.5% duplicates),
# and about 3 GB for the three tools' outputs together at 10M rows.
CONNECT_BYTES_PER_RECORD=1250
CONNECT_OUT_BYTES_PER_ROW=300

prep_connect_cxpipe() { rm -rf "$DS_CONNECT"; }
prep_connect_duckdb() { rm -f "$OUT_CONNECT_DUCKDB"; }
prep_connect_polars() { rm -f "$OUT_CONNECT_POLARS"; }
check_connect_cxpipe() { [[ -n $(find -L "$DS_CONNECT/interactions" -name '*.parquet' -print -quit 2>/dev/null) ]]; }
check_connect_duckdb() { [[ -s $OUT_CONNECT_DUCKDB ]]; }
check_connect_polars() { [[ -s $OUT_CONNECT_POLARS ]]; }

# gb BYTES: in GB (10^9 bytes), one decimal.
gb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e9 }'; }

# check_connect_space REUSE: die unless $WORKDIR has room for the NDJSON file
# (unless REUSE=1: it is already there) plus the outputs. Files of a previous
# connect run that this one replaces count as free.
check_connect_space() {
    local reuse=$1 avail est_file=0 est_out reclaim=0 need f
    avail=$(df -P -B1 "$WORKDIR" | awk 'NR == 2 { print $4 }')
    if [[ ! $avail =~ ^[0-9]+$ ]]; then
        warn "cannot read the free space of $WORKDIR (df); not checked"
        return 0
    fi
    if ((reuse == 0)); then
        est_file=$((ROWS * CONNECT_BYTES_PER_RECORD * 1005 / 1000))
        if [[ -f $CONNECT_DATA ]]; then reclaim=$((reclaim + $(stat -c %s "$CONNECT_DATA"))); fi
    fi
    est_out=$((ROWS * CONNECT_OUT_BYTES_PER_ROW))
    if ((est_out < 200000000)); then est_out=200000000; fi
    for f in "$DS_CONNECT" "$OUT_CONNECT_DUCKDB" "$OUT_CONNECT_POLARS"; do
        if [[ -e $f ]]; then reclaim=$((reclaim + $(du -sb "$f" | cut -f 1))); fi
    done
    need=$((est_file + est_out))
    if ((avail + reclaim < need)); then
        die "not enough free disk in $WORKDIR for the connect section at $ROWS rows: it needs about $(gb "$need") GB ($(
            if ((reuse == 0)); then printf 'the NDJSON file about %s GB + ' "$(gb "$est_file")"; fi
        )about $(gb "$est_out") GB of outputs), and $WORKDIR has $(gb "$avail") GB free (+ $(gb "$reclaim") GB of a previous connect run's files this one would replace). Free some space, give --workdir on a bigger disk, or use a smaller --rows."
    fi
    log "free disk in $WORKDIR: $(gb "$avail") GB (+ $(gb "$reclaim") GB to be replaced); connect needs about $(gb "$need") GB"
}

# Sets CONNECT_DATA, CONNECT_FACTS and the counts from the facts file;
# generates the file unless a complete one with the same rows and seed is there.
prepare_connect_data() {
    CONNECT_DATA=$WORKDIR/connect-$ROWS.ndjson
    CONNECT_FACTS=$WORKDIR/connect-$ROWS.facts.json
    local marker=$WORKDIR/connect-$ROWS.ok reuse=0 counts
    local want_marker="layout=amazon-connect rows=$ROWS seed=$SEED"
    if ((REGEN == 0)) && [[ -f $CONNECT_DATA && -f $CONNECT_FACTS && -f $marker ]] &&
        [[ $(head -n 1 "$marker") == "$want_marker" ]] &&
        [[ $(sed -n 2p "$marker") == "bytes=$(stat -c %s "$CONNECT_DATA")" ]]; then
        reuse=1
    fi
    check_connect_space "$reuse"
    if ((reuse == 1)); then
        log "reusing $CONNECT_DATA ($want_marker)"
    else
        rm -f "$CONNECT_DATA" "$CONNECT_FACTS" "$marker"
        log "generating $ROWS contacts: cxpipe generate --layout amazon-connect --rows $ROWS --out $CONNECT_DATA --seed $SEED"
        local t0=$SECONDS
        "$CXPIPE" generate --layout amazon-connect --rows "$ROWS" --out "$CONNECT_DATA" --seed "$SEED" >&2
        [[ -s $CONNECT_DATA ]] || die "cxpipe generate did not write $CONNECT_DATA"
        [[ -s $CONNECT_FACTS ]] || die "cxpipe generate did not write its facts file $CONNECT_FACTS"
        # Written only after a complete generation, so a killed run regenerates.
        printf '%s\nbytes=%s\n' "$want_marker" "$(stat -c %s "$CONNECT_DATA")" >"$marker"
        log "generated in $((SECONDS - t0)) s"
    fi
    counts=$("$PY" -c 'import json, sys
f = json.load(open(sys.argv[1], encoding="utf-8"))
print(f["records"], f["rows"], f["duplicate_records"])' "$CONNECT_FACTS") ||
        die "cannot read records, rows and duplicate_records from $CONNECT_FACTS"
    read -r CONNECT_RECORDS CONNECT_CONTACTS CONNECT_DUPS <<<"$counts"
    [[ $CONNECT_RECORDS =~ ^[0-9]+$ && $CONNECT_CONTACTS =~ ^[0-9]+$ && $CONNECT_DUPS =~ ^[0-9]+$ ]] ||
        die "unexpected counts in $CONNECT_FACTS: '$counts'"
    if ((CONNECT_RECORDS != CONNECT_CONTACTS + CONNECT_DUPS)); then
        warn "$CONNECT_FACTS: records $CONNECT_RECORDS != rows $CONNECT_CONTACTS + duplicate_records $CONNECT_DUPS"
    fi
}

# expect_eq TOOL KEY GOT WANT: check KEY = yes when GOT = WANT, else a
# mismatch that fails the benchmark.
expect_eq() {
    if [[ $3 == "$4" ]]; then
        check "$1" "$2" yes
    else
        check "$1" "$2" "MISMATCH (got ${3:-n/a}, expected $4)"
        warn "$1: $2: got ${3:-n/a}, expected $4"
        BENCH_FAILED=1
    fi
}

# After check_cxpipe_dataset (KV holds its lines): cxpipe read every record,
# wrote every contact once and dropped exactly the planted older duplicates.
check_connect_cxpipe_facts() {
    local kv=$KV sources
    expect_eq cxpipe rows_read_match "$(sed -n 's/^rows_read=//p' <<<"$kv")" "$CONNECT_RECORDS"
    expect_eq cxpipe rows_written_match "$(sed -n 's/^rows_written=//p' <<<"$kv")" "$CONNECT_CONTACTS"
    expect_eq cxpipe duplicates_match "$(sed -n 's/^duplicates_dropped=//p' <<<"$kv")" "$CONNECT_DUPS"
    # Which layout `--source auto` recognised, from the run report.
    sources=$("$PY" -c 'import glob, json, os, sys
seen = []
for p in sorted(glob.glob(os.path.join(sys.argv[1], "ingests", "*.json"))):
    for f in json.load(open(p, encoding="utf-8")).get("files") or []:
        if f.get("source") and f["source"] not in seen:
            seen.append(f["source"])
print("+".join(seen) or "n/a")' "$DS_CONNECT" 2>/dev/null) || sources="n/a"
    expect_eq cxpipe source_detected "$sources" amazon-connect
    log "  cxpipe: facts: $CONNECT_RECORDS records = $CONNECT_CONTACTS contacts + $CONNECT_DUPS duplicates; layout recognised: $sources"
}

stage_connect() {
    SECTION=connect
    DS_CONNECT=$WORKDIR/ds-connect
    OUT_CONNECT_DUCKDB=$WORKDIR/out-connect-duckdb.parquet
    OUT_CONNECT_POLARS=$WORKDIR/out-connect-polars.parquet
    prepare_connect_data
    section_input connect "$CONNECT_DATA" "$CONNECT_RECORDS" \
        "Amazon Connect contact trace records (NDJSON) from cxpipe generate --layout amazon-connect --seed $SEED: $CONNECT_CONTACTS contacts + $CONNECT_DUPS older duplicate records"
    log "== connect: $(basename "$CONNECT_DATA"), $CONNECT_RECORDS records ($CONNECT_CONTACTS contacts + $CONNECT_DUPS duplicates), ${SECTION_BYTES[connect]} bytes, median of $RUNS run(s)"
    busy_check
    warm_cache "$CONNECT_DATA"
    note "page cache not dropped (not reliably possible); one warm-up \`cat FILE > /dev/null\` before timing, so every tool reads the input from the page cache."
    local mem_kib
    mem_kib=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)
    if ((SECTION_BYTES[connect] / 1024 > mem_kib / 2)); then
        note "the input ($(gb "${SECTION_BYTES[connect]}") GB) is more than half the RAM: what a tool's own memory pushes out of the page cache is read from disk again during its run."
    fi
    note "cxpipe recognises the layout (\`--source auto\`), maps the nested CTR fields to the canonical record, keeps the latest version of each ContactId, validates, pseudonymises, quarantines and writes the run report (SPEC §4, §5, §9); DuckDB (\`read_json(..., format='newline_delimited')\` COPY) and Polars (\`scan_ndjson\` + \`sink_parquet\`) only convert: every record, duplicates included, nested objects kept as structs with the types each infers, default settings (all cores). Their wall times include Python start-up and import."
    if want duckdb || want polars; then
        note "Python start-up + import alone (untimed extra run): duckdb $(import_cost duckdb) s, polars $(import_cost polars) s."
    fi

    # The tools' runs alternate, round by round (SPEC §14's protocol).
    local round
    for ((round = 1; round <= RUNS; round++)); do
        if want cxpipe; then
            # Exit 3 = finished, reject threshold exceeded: everything was still written.
            bench_cmd cxpipe --runs 1 --prep prep_connect_cxpipe --check check_connect_cxpipe --ok-codes 0,3 -- \
                "$CXPIPE" ingest "$CONNECT_DATA" --out "$DS_CONNECT" --no-progress -q
        fi
        if want duckdb; then
            bench_cmd duckdb --runs 1 --prep prep_connect_duckdb --check check_connect_duckdb -- \
                "$PY" "$HERE/bench/duckdb_json.py" "$CONNECT_DATA" "$OUT_CONNECT_DUCKDB"
        fi
        if want polars; then
            bench_cmd polars --runs 1 --prep prep_connect_polars --check check_connect_polars -- \
                "$PY" "$HERE/bench/polars_ndjson.py" "$CONNECT_DATA" "$OUT_CONNECT_POLARS"
        fi
    done
    if want cxpipe; then
        if last_ok connect cxpipe; then
            check_cxpipe_dataset "$DS_CONNECT" "$CONNECT_RECORDS"
            check_connect_cxpipe_facts
            if [[ $(result_of connect cxpipe) == *"|3" ]]; then check cxpipe exit_code "3 (reject threshold exceeded)"; fi
        else
            failure_note cxpipe
        fi
        note "SPEC §14's ingest memory target (peak RSS under 1 GiB at 10M rows) is stated for the generic CSV; for reference here."
    fi
    if want duckdb; then
        if last_ok connect duckdb; then
            check_converter_rows duckdb "$OUT_CONNECT_DUCKDB" "$CONNECT_RECORDS"
        else
            failure_note duckdb
        fi
    fi
    if want polars; then
        local run fallback=""
        for ((run = 1; run <= RUNS; run++)); do
            if [[ -f $LOGDIR/connect.polars.run$run.log ]]; then
                fallback=$(sed -n 's/^FALLBACK: //p' "$LOGDIR/connect.polars.run$run.log" | head -n 1 || true)
                if [[ -n $fallback ]]; then break; fi
            fi
        done
        if [[ -n $fallback ]]; then
            check polars streaming_sink "no (fell back to collect().write_parquet())"
            note "Polars: $fallback. collect() holds the whole frame in memory, and the wall time includes the refused sink_parquet attempt."
        fi
        if last_ok connect polars; then
            check_converter_rows polars "$OUT_CONNECT_POLARS" "$CONNECT_RECORDS"
        else
            failure_note polars
        fi
    fi
    note "SPEC §14: Amazon Connect NDJSON ingest at most 0.7× DuckDB read_json → Parquet."
    print_table connect
}

# ---------------------------------------------------------------------------

main() {
    ensure_gnu_time
    # The binary is needed to time it, to generate data unless --input is
    # given, and to build the kpi section's dataset; connect always generates.
    if want cxpipe || [[ -z $INPUT ]] || want_section kpi || want_section sla || want_section turnover ||
        want_section scale || want_section connect; then build_cxpipe; fi
    if want_section kpi && want cxpipe; then require_kpi_command; fi
    if want_section connect && [[ -n $INPUT ]]; then
        warn "--input is for the CSV sections; connect generates its own NDJSON"
    fi
    setup_venv
    machine_info
    # The CSV (generic layout) is for the first four sections only.
    local csv_sections=0
    if want_section ingest || want_section kpi || want_section sla || want_section turnover ||
        want_section scale; then
        csv_sections=1
        check_csv_space
        prepare_data
    fi
    if want_section ingest; then stage_ingest; fi
    if want_section ingest && want_section kpi; then echo; fi
    if want_section kpi; then stage_kpi; fi
    if want_section kpi && want_section sla; then echo; fi
    if want_section sla && want cxpipe; then stage_sla; fi
    if want_section sla && want_section turnover; then echo; fi
    if want_section turnover && want cxpipe; then stage_turnover; fi
    if want_section turnover && want_section scale; then echo; fi
    if want_section scale && want cxpipe; then stage_scale; fi
    if want_section connect && ((csv_sections == 1)); then echo; fi
    if want_section connect; then stage_connect; fi
    if ((BENCH_FAILED != 0)); then
        warn "some tool failed or a check did not hold; see above and $LOGDIR"
        exit 1
    fi
}

main
