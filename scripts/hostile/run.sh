#!/usr/bin/env bash
# The hostile-input suite of issue 15: bash scripts/hostile/run.sh [BIN]
#
# BIN defaults to target/release/cxpipe of this repository. Every input is
# made in a fresh temporary folder, removed at the end. Each case runs under
# a 60 s timeout and a 4 GiB address-space limit, at nice 19. Prints a
# markdown table on stdout (progress on stderr); exit status 1 when a case
# FAILs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${1:-$repo/target/release/cxpipe}"
case "$bin" in
  /*) ;;
  */*) bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" ;;
  *) bin="$(command -v "$bin" || echo "$bin")" ;;
esac
if [ ! -x "$bin" ]; then
  echo "run.sh: no executable cxpipe at $bin (build it, or pass BIN)" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cxpipe-hostile.XXXXXX")"
cleanup() {
  # A FIFO writer or a killed case may leave read-only bits; remove all.
  chmod -R u+rwX "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export PYTHONDONTWRITEBYTECODE=1
status=0
nice -n 19 python3 "$here/suite.py" "$bin" "$work" || status=$?
exit "$status"
