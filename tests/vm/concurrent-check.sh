#!/usr/bin/env bash
# Host-side verdict on tests/vm/guest-concurrent.sh's results (ctest
# vm_concurrent_check_<series>). Usage: concurrent-check.sh RESULTS_DIR [RUNS]
# Every pair of tracers over the correct `concurrent` scenario must have: both
# tracers attached, each of its scenario runs done, live/record/lint exit 0, a summary
# from live and from lint of the recording, 0 events lost and no finding at all (no
# violation, no unknown) in either, and events actually seen; RUNS scenario runs in
# all. Prints the per-pair numbers either way.
set -uo pipefail
res=${1:?usage: concurrent-check.sh RESULTS_DIR [RUNS]}
want=${2:-10}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
num() { grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | tail -1 | cut -d: -f2; }

runs=0 pairs=0 lost_total=0
for d in "$res"/concurrent/*/; do
  [[ -d $d ]] || continue
  r=$(basename "$d")
  pairs=$((pairs + 1))
  [[ -e $d/attach.err ]] && { bad "pair $r: tracers did not attach: $(head -c 300 "$d/live.err" "$d/record.err")"; continue; }
  n=0
  while read -r rc; do
    n=$((n + 1))
    [[ $rc == 0 ]] || bad "pair $r: concurrent scenario run $n failed ($rc; see $res/console.log)"
  done < <(cat "$d/run.rc" 2>/dev/null)
  ((n > 0)) || bad "pair $r: no scenario run recorded (see $res/console.log)"
  runs=$((runs + n))
  for t in live record lint; do
    [[ $(cat "$d/$t.rc" 2>/dev/null) == 0 ]] || bad "pair $r: $t exited $(cat "$d/$t.rc" 2>/dev/null): $(head -c 300 "$d/$t.err" 2>/dev/null)"
  done
  line="pair $r ($n runs):"
  for f in live.json lint.json; do
    if ! grep -q '"type":"summary"' "$d/$f" 2>/dev/null; then
      bad "pair $r: no summary in $f ($(head -c 300 "$d/${f%.json}.err" 2>/dev/null))"; continue
    fi
    ev=$(num "$d/$f" events) lost=$(num "$d/$f" lost)
    nf=$(grep -c -E '"type":"(violation|unknown|info)"' "$d/$f")
    line+=" ${f%.json}: ${ev:-?} events, ${lost:-?} lost, $nf findings;"
    lost_total=$((lost_total + ${lost:-0}))
    ((${ev:-0} > 0)) || bad "pair $r: $f saw no event"
    [[ ${lost:-x} == 0 ]] || bad "pair $r: $f: ${lost:-?} events lost ($(grep -m1 'lost' "$d/${f%.json}.err" 2>/dev/null | head -c 400))"
    ((nf == 0)) || bad "pair $r: $nf finding(s) in $f on a correct scenario: $(grep -m3 -E '"type":"(violation|unknown|info)"' "$d/$f")"
  done
  echo "$line"
done
((runs == want)) || bad "$runs scenario runs found, $want expected (see $res/console.log)"
echo "concurrent: $pairs pairs of tracers, $runs scenario runs, $lost_total events lost in all (0 expected)"
exit $fail
