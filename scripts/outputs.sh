#!/usr/bin/env bash
# Records the outputs of every report of one cxpipe binary on one generated
# month, so that a refactoring can be checked for changed behaviour:
#
#   scripts/outputs.sh BIN DIR          # BIN's outputs into DIR (replaced)
#   scripts/compare_outputs.py A B      # CSV/Parquet/text byte for byte, JSON as
#                                       # parsed values, volatile fields masked
#
# The month (generic layout, and a Connect NDJSON for the vendor path) comes
# from BIN itself with a fixed seed; the PII key is fixed, so pseudonyms and
# every FCR figure are comparable between binaries.
set -euo pipefail

if (($# != 2)); then
    echo "usage: scripts/outputs.sh BIN DIR" >&2
    exit 2
fi
bin=$(realpath "$1")
out=$2
rows=${ROWS:-100000}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CXPIPE_PII_KEY=0123456789abcdef0123456789abcdef
unset COLUMNS

cx() { "$bin" --no-progress "$@"; }

cx generate --rows "$rows" --seed 11 --out "$work/month.csv" --roster "$work/roster.csv" 2>/dev/null
cx generate --rows 20000 --seed 12 --layout amazon-connect --out "$work/connect.ndjson" 2>/dev/null
cp "$work/month.facts.json" "$out/generate-facts.json"
cp "$work/roster.csv" "$out/generate-roster.csv"
sha256sum "$work/month.csv" "$work/connect.ndjson" | sed "s#$work/##" >"$out/generate.sha256"

ds=$work/ds
cx ingest "$work/month.csv" "$work/connect.ndjson" --out "$ds" --json >"$out/ingest.json" 2>/dev/null
cx info "$ds" --json >"$out/info.json"
cx info "$ds" >"$out/info.txt"

cat >"$work/sla.toml" <<'EOF'
[[sla]]
name = "voice-80-20"
kind = "service_level"
scope = { channel = "voice" }
target = 0.80

[[sla]]
name = "abandon-5pct"
kind = "abandon_rate"
target = 0.05
interval = "1d"

[[sla]]
name = "asa-30"
kind = "asa"
target = 30

[[sla]]
name = "acw-2m"
kind = "acw"
threshold_s = 120

[[sla]]
name = "wait-email"
kind = "wait"
scope = { channel = "email" }
threshold_s = 3600
EOF

for by in "" agent agent,day queue,interval team,shift site,week channel,month queue,day; do
    name=${by:-total}
    name=${name//,/-}
    for fmt in csv json parquet; do
        cx kpi "$ds" --by "$by" --format "$fmt" --out "$out/kpi-$name.$fmt"
    done
done
cx kpi "$ds" --by queue,interval --tz Europe/Berlin --interval 15m --threshold 30 \
    --sl-variant answered_plus_abandoned --from 2026-10-05 --to 2026-10-20 --out "$out/kpi-berlin.csv"
cx kpi "$ds" --by agent --format table --columns all >"$out/kpi-agent-table.txt"
for level in interval agent interaction; do
    cx sla "$ds" --policy "$work/sla.toml" --level "$level" --format csv --out "$out/sla-$level.csv" 2>/dev/null
    cx sla "$ds" --policy "$work/sla.toml" --level "$level" --format json --out "$out/sla-$level.json" 2>/dev/null
done
cx sla "$ds" --policy "$work/sla.toml" --level interaction --agent A0005 --top 5 --format csv >"$out/sla-interaction-A0005.csv" 2>/dev/null
cx turnover "$ds" --format csv --out "$out/turnover.csv"
cx turnover "$ds" --attrition --by team --format csv --out "$out/attrition-team.csv"
cx turnover "$ds" --roster "$work/roster.csv" --evaluate --format json --out "$out/turnover-evaluate.json"
cx report "$ds" --html "$out/report.html" --policy "$work/sla.toml" 2>/dev/null

# The nightly job over an inbox holding the same exports.
mkdir -p "$work/job/inbox"
cp "$work/month.csv" "$work/connect.ndjson" "$work/job/inbox/"
cp "$work/sla.toml" "$work/job/cxpipe.toml"
cat >>"$work/job/cxpipe.toml" <<'EOF'

[run]
inbox = "inbox"
dataset = "dataset"
reports_dir = "reports"
EOF
cx run --config "$work/job/cxpipe.toml" >"$out/run-summary.json" 2>/dev/null
mkdir -p "$out/run"
cp "$work/job/reports/"* "$out/run/"
echo "outputs of $bin in $out ($(find "$out" -type f | wc -l) files)" >&2
