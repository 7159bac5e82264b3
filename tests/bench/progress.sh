#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of the progress line (cli/progress.h) on the offline hot path: `lint` of one
# gvt-gen trace with --no-progress and with --progress (forced, stderr to /dev/null, a
# redraw every 1 ms so the drawing path runs as often as it can), best CPU time of
# $REPS runs each. Not a test: prints the figures and the difference.
#
#   tests/bench/progress.sh                      # build/ (any -O2 build), 5 M events
#   BUILD=build-bench EVENTS=20000000 tests/bench/progress.sh
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
WORK=${WORK:-/tmp/gvt-bench-progress}
EVENTS=${EVENTS:-5000000}
REPS=${REPS:-5}
FORMATS=${FORMATS:-gvt jsonl}

die() { echo "progress.sh: $*" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || die "/usr/bin/time missing: apt-get install time"
[[ -x $BUILD/gpuvm-trace && -x $BUILD/gvt-gen ]] || die "build gpuvm-trace and gvt-gen in $BUILD first"
mkdir -p "$WORK" || die "cannot create $WORK"

# best_cpu CMD...: the lowest user+sys seconds over $REPS runs (steadier than wall time
# on a shared machine).
best_cpu() {
  local best="" c
  for ((i = 0; i < REPS; i++)); do
    c=$( (/usr/bin/time -f 'T %U %S' "$@" >/dev/null 2>"$WORK/err") ; grep '^T ' "$WORK/err" | awk '{print $2 + $3}')
    if [[ -z $best ]] || (($(awk "BEGIN { print ($c < $best) }"))); then best=$c; fi
  done
  echo "$best"
}

echo "== $(date -u +%FT%TZ), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
for fmt in $FORMATS; do
  f="$WORK/bench.$fmt"
  "$BUILD/gvt-gen" --events "$EVENTS" --format "$fmt" -o "$f" 2>/dev/null || die "gvt-gen failed"
  cat "$f" >/dev/null
  off=$(best_cpu "$BUILD/gpuvm-trace" lint --no-progress "$f")
  on=$(best_cpu env GVT_PROGRESS_MS=1 "$BUILD/gpuvm-trace" lint --progress "$f")
  echo "$fmt: $EVENTS events, $(stat -c %s "$f") bytes: --no-progress ${off}s CPU, --progress ${on}s CPU," \
       "difference $(awk "BEGIN { printf \"%+.1f%%\", ($on - $off) * 100 / $off }")"
done
rm -rf "$WORK"
