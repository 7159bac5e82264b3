#!/usr/bin/env bash
# Guest side of the concurrency test (vm_concurrent_run_<series>, run inside the guest
# by vm-run.sh): the exerciser's correct `concurrent` scenario (two kthreads bound to
# two CPUs doing bind/unbind cycles at once, then a burst of vm_bos each) traced by
# `live -f json` and `record` side by side with default options, GVT_CONC_RUNS times
# in all, GVT_CONC_PER_PAIR runs under each fresh pair of tracers (their start-up under
# TCG costs far more than a run). Verdicts are the host's
# (tests/vm/concurrent-check.sh); this only runs and collects.
#
# Results: $GVT_OUT/concurrent/<pair>/{live.json,live.err,live.rc,record.err,record.rc,
#          lint.json,lint.err,lint.rc,run.rc (one status line per scenario run)}
# Environment: GVT_BIN, GVT_EXERCISER_KO (vm-run.sh), GVT_CONC_RUNS (10),
# GVT_CONC_PER_PAIR (2), GVT_CONC_OPTS (extra tracer options, e.g. -v to print the
# drop counters).
set -uo pipefail
set -m  # background jobs keep SIGINT (see guest-scenarios.sh)

log() { echo "guest-concurrent: $*" >&2; }
die() { log "$*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"
runs=${GVT_CONC_RUNS:-10}
per=${GVT_CONC_PER_PAIR:-2}
read -r -a extra <<< "${GVT_CONC_OPTS:-}"
load_exerciser
rm -rf "$GVT_OUT/concurrent"
log "$(nproc) CPUs online"

done_runs=0
for ((p = 1; done_runs < runs; p++)); do
  d=$GVT_OUT/concurrent/$p
  mkdir -p "$d"
  ext=$( ((p % 2)) && echo jsonl || echo gvt)
  rec=/tmp/concurrent.$ext
  rm -f "$rec"
  "$bin" live -f json "${extra[@]}" > "$d/live.json" 2> "$d/live.err" & lp=$!
  "$bin" record -o "$rec" "${extra[@]}" > /dev/null 2> "$d/record.err" & rp=$!
  if wait_attached "$d/live.err" $lp && wait_attached "$d/record.err" $rp; then
    : > "$d/run.rc"
    for ((i = 0; i < per && done_runs < runs; i++, done_runs++)); do
      echo concurrent > "$runfile"
      echo $? >> "$d/run.rc"
    done
  else
    echo "not attached" > "$d/attach.err"
    done_runs=$((done_runs + per))  # counted as missing by the check
  fi
  stop $lp "$d/live.rc"
  stop $rp "$d/record.rc"
  "$bin" lint -f json "$rec" > "$d/lint.json" 2> "$d/lint.err"
  echo $? > "$d/lint.rc"
  log "pair $p: live $(grep -o '"lost":[0-9]*' "$d/live.json" | tail -1), record $(grep -o '"lost":[0-9]*' "$d/lint.json" | tail -1)"
done
log done
exit 0
