#!/usr/bin/env bash
# Host-side verdict on tests/vm/guest-lossy.sh's results (ctest vm_lossy_check).
# Usage: lossy-check.sh RESULTS_DIR
# Fails when: a tracer or lint reported a violation on the correct stress scenario
# (a false positive caused by lost events), a session did not run or exited with an
# error, no session lost any event (then nothing was tested), or a killed
# recorder's prefix is unreadable, has a violation, or holds no event although it
# was killed a second or more into stress (record flushes every 200 ms).
set -uo pipefail
res=${1:?usage: lossy-check.sh RESULTS_DIR}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
num() { grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | tail -1 | cut -d: -f2; }

total_lost=0 total_unknown=0 sessions=0
for d in "$res"/ring/*/; do
  [[ -d $d ]] || continue
  s=$(basename "$d")
  sessions=$((sessions + 1))
  [[ -e $d/attach.err ]] && { bad "$s: tracers did not attach"; continue; }
  for f in live.json lint.json; do
    grep -q '"type":"summary"' "$d/$f" 2>/dev/null || { bad "$s: no summary in $f ($(head -c 300 "$d/${f%.json}.err" 2>/dev/null))"; continue; }
    v=$(grep -c '"type":"violation"' "$d/$f")
    ((v == 0)) || bad "$s: $v violation(s) in $f on the correct stress scenario: $(grep -m3 '"type":"violation"' "$d/$f")"
  done
  [[ $(cat "$d/live.rc" 2>/dev/null) == 0 ]] || bad "$s: live exited $(cat "$d/live.rc" 2>/dev/null)"
  [[ $(cat "$d/record.rc" 2>/dev/null) == 0 ]] || bad "$s: record exited $(cat "$d/record.rc" 2>/dev/null)"
  [[ $(cat "$d/lint.rc" 2>/dev/null) == 0 ]] || bad "$s: lint exited $(cat "$d/lint.rc" 2>/dev/null): $(head -c 300 "$d/lint.err")"
  ll=$(num "$d/live.json" lost) rl=$(num "$d/lint.json" lost)
  lu=$(num "$d/live.json" unknown) ru=$(num "$d/lint.json" unknown)
  ev=$(num "$d/live.json" events)
  echo "lossy $s: live ${ev:-?} events, ${ll:-?} lost, ${lu:-?} unknown; record ${rl:-?} lost, ${ru:-?} unknown"
  total_lost=$((total_lost + ${ll:-0} + ${rl:-0}))
  total_unknown=$((total_unknown + ${lu:-0} + ${ru:-0}))
done
((sessions > 0)) || bad "no tiny-ring session ran (see $res/console.log)"
((total_lost > 0)) || bad "no session lost an event: the tiny ring buffers tested nothing"
echo "lossy: $sessions sessions, $total_lost events lost, $total_unknown unknown findings, 0 violations expected"

kills=0
for d in "$res"/kill/*/; do
  [[ -d $d ]] || continue
  k=$(basename "$d")
  kills=$((kills + 1))
  [[ -e $d/attach.err ]] && { bad "kill $k: record did not attach"; continue; }
  rc=$(cat "$d/lint.rc" 2>/dev/null)
  [[ $rc == 0 ]] || bad "kill $k: lint of the killed recording exited ${rc:-?}: $(head -c 300 "$d/lint.err")"
  v=$(grep -c '"type":"violation"' "$d/lint.json" 2>/dev/null)
  ((${v:-0} == 0)) || bad "kill $k: $v violation(s) in the prefix"
  e=$(cat "$d/events" 2>/dev/null)
  ((${e:-0} > 0)) || bad "kill $k: killed $(cat "$d/delay_ms") ms into stress, the file holds no event"
  echo "kill $k: killed $(cat "$d/delay_ms" 2>/dev/null) ms into stress: ${e:-?} events readable, lint rc ${rc:-?}"
done
((kills > 0)) || bad "no killed-recorder run"
exit $fail
