#!/usr/bin/env bash
# Run the guest tests again and again, never retried, and keep one line per run: the
# evidence issue 9 asked for before scripts/test.sh lost its retry (30 consecutive
# `ctest -L vm` runs without a failure), and the way to show that a change to the
# guests keeps them steady. A run that fails keeps its whole ctest log.
#
# Usage: tests/vm/soak.sh [-n RUNS] [-b BUILD_DIR] [-o LOG_DIR] [-- CTEST_ARGS...]
#   -n  runs (default 30)            -b  build directory (default build)
#   -o  where run logs and summary.tsv go (default BUILD_DIR/soak)
#   CTEST_ARGS default to `-L vm` (the guest tests, arm64 included when configured).
# summary.tsv: date, commit, run, pass|FAIL, seconds, tests run, host load average
# (1 min, at the end: a starved guest can time out), failed tests.
# Exit status: 0 if every run passed, 1 otherwise, 2 on bad usage.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=30 build=build out=''
while getopts n:b:o: o; do
  case $o in
    n) [[ $OPTARG =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: -n needs a positive count" >&2; exit 2; }; runs=$OPTARG ;;
    b) build=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: tests/vm/soak.sh [-n RUNS] [-b BUILD_DIR] [-o LOG_DIR] [-- CTEST_ARGS...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($#)) || set -- -L vm
[[ -f $build/CTestTestfile.cmake ]] || { echo "soak.sh: $build is not a configured build (run scripts/build.sh first)" >&2; exit 2; }
out=${out:-$build/soak}
mkdir -p "$out"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
fails=0
for ((i = 1; i <= runs; i++)); do
  log=$out/run-$(date -u +%Y%m%dT%H%M%S).log
  t0=$(date +%s)
  if ctest --test-dir "$build" --output-on-failure "$@" > "$log" 2>&1; then r=pass; else r=FAIL; fails=$((fails + 1)); fi
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
  failed=$(sed 's/^[0-9]*://' "$build/Testing/Temporary/LastTestsFailed.log" 2>/dev/null | tr '\n' ' ')
  [[ $r == pass ]] && failed='' && rm -f "$log"
  printf '%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$i" "$r" $(($(date +%s) - t0)) \
    "${total:-0}" "$(cut -d' ' -f1 /proc/loadavg)" "$failed" | tee -a "$out/summary.tsv"
done
echo "soak.sh: $runs runs, $fails failed (summary: $out/summary.tsv)"
((fails == 0))
