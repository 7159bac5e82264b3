#!/usr/bin/env bash
# Guest side of the concurrency test (vm_concurrent_run_<series>, run inside the guest
# by vm-run.sh): the exerciser's correct `concurrent` scenario (two kthreads bound to
# two CPUs doing bind/unbind cycles at once, then a burst of vm_bos each) traced by
# `live -f json` and `record` side by side with default options, GVT_CONC_RUNS times,
# a fresh pair of tracers per run. Verdicts are the host's
# (tests/vm/concurrent-check.sh); this only runs and collects.
#
# Results: $GVT_OUT/concurrent/<run>/{live.json,live.err,live.rc,record.err,record.rc,
#          lint.json,lint.err,lint.rc,run.rc}
# Environment: GVT_BIN, GVT_EXERCISER_KO (vm-run.sh), GVT_CONC_RUNS (10),
# GVT_CONC_OPTS (extra tracer options, e.g. -v to print the drop counters).
set -uo pipefail
set -m  # background jobs keep SIGINT (see guest-scenarios.sh)

log() { echo "guest-concurrent: $*" >&2; }
die() { log "$*"; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"
runs=${GVT_CONC_RUNS:-10}
read -r -a extra <<< "${GVT_CONC_OPTS:-}"
load_exerciser
rm -rf "$GVT_OUT/concurrent"
log "$(nproc) CPUs online"

for ((r = 1; r <= runs; r++)); do
  d=$GVT_OUT/concurrent/$r
  mkdir -p "$d"
  ext=$( ((r % 2)) && echo jsonl || echo gvt)
  rec=/tmp/concurrent.$ext
  rm -f "$rec"
  "$bin" live -f json "${extra[@]}" > "$d/live.json" 2> "$d/live.err" & lp=$!
  "$bin" record -o "$rec" "${extra[@]}" > /dev/null 2> "$d/record.err" & rp=$!
  if wait_attached "$d/live.err" $lp && wait_attached "$d/record.err" $rp; then
    echo concurrent > "$runfile"
    echo $? > "$d/run.rc"
  else
    echo "not attached" > "$d/attach.err"
  fi
  stop $lp "$d/live.rc"
  stop $rp "$d/record.rc"
  "$bin" lint -f json "$rec" > "$d/lint.json" 2> "$d/lint.err"
  echo $? > "$d/lint.rc"
  log "run $r: live $(grep -o '"lost":[0-9]*' "$d/live.json" | tail -1), record $(grep -o '"lost":[0-9]*' "$d/lint.json" | tail -1)"
done
log done
exit 0
