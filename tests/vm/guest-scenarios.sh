#!/usr/bin/env bash
# Guest side of the VM test suite (run inside the guest by vm-run.sh, from the
# CMake fixture test vm_guest_run). One boot runs everything; results land in
# $GVT_OUT and the ctest tests (vm_scenario_test) judge them on the host.
#
# Usage (in the guest): GVT_BIN=/path/to/gpuvm-trace bash tests/vm/guest-scenarios.sh [SCENARIO...]
#   default: every scenario of tests/vm/exerciser/scenarios.tsv that runs on this
#   kernel (its series column, from `uname -r`, is not "n/a").
#
# The tracers: `gpuvm-trace live -f json` and `gpuvm-trace record -o F` run side by
# side in the background; once both printed "gpuvm-trace: attached N probes" on
# stderr, scenarios are written to the exerciser's debugfs `run` file (synchronous);
# then both get SIGINT and `lint -f json F` checks the recording. `midflight-setup`
# runs before the tracers attach, `midflight-finish` while they run. `stress` is
# also timed untraced (the slowdown is printed, not asserted).
#
# GVT_VM_MODE=batch (default): one tracer session for all scenarios; each scenario
#   runs in its own time window (s/<S>/window: CLOCK_BOOTTIME ns, = monotonic in a
#   guest that never suspends) and the host assigns findings to windows by their
#   `ts`. Attaching and detaching ~50 probes costs tens of seconds under TCG, so
#   this is what fits the CI budget; it is also stricter: findings outside every
#   window, or caused by an earlier scenario's state, fail the suite.
# GVT_VM_MODE=each: a fresh tracer session per scenario (the protocol a user
#   follows by hand), several times slower.
# Layout of $GVT_OUT: mode, dryrun.{out,rc}, insmod.{err,rc}; per scenario
# s/<S>/{dmesg.txt,pre.rc,live.run.rc,live.run_ns,window,untraced_ns}; the tracer
# files {live.json,live.err,live.rc,live.attach,record.err,record.rc,record.attach,
# trace.jsonl,lint.json,lint.err,lint.rc} live in batch/ (batch) or s/<S>/ (each).
# A missing file means that step never ran.
# Exit status: 0 when the suite could run (verdicts are in the files), non-zero when
# the guest could not even start it (no tracer, no module).
set -uo pipefail
# Job control: without it, background jobs start with SIGINT ignored and the tracers
# could not be stopped the way a user stops them (Ctrl-C).
set -m

log() { echo "guest-scenarios: $*" >&2; }
die() { log "$*"; exit 1; }

# bin, ko, attach_timeout, alive() and wait_attached().
source "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"
tsv=${GVT_SCENARIOS_TSV:-$PWD/tests/vm/exerciser/scenarios.tsv}
stop_timeout=${GVT_STOP_TIMEOUT:-120}

[[ -x $bin ]] || die "no tracer binary at $bin (build the gpuvm-trace target, or set GVT_BIN)"
[[ -r $tsv ]] || die "no scenario table at $tsv"
[[ -n $ko && -r $ko ]] || die "no exerciser module (GVT_EXERCISER_KO='$ko'); is tests/vm/exerciser/ buildable?"

res=$GVT_OUT
mode=${GVT_VM_MODE:-batch}
[[ $mode == batch || $mode == each ]] || die "GVT_VM_MODE must be batch or each, not '$mode'"
rm -rf "$res/s" "$res/batch" "$res"/dryrun.* "$res"/insmod.* "$res/mode"
mkdir -p "$res/s"
echo "$mode" > "$res/mode"

scenarios=()
if (($#)); then
  scenarios=("$@")
else
  # First column, in table order, of the rows whose cell for this kernel series
  # (header column named e.g. 7.2) is not "n/a"; '#' comments are skipped. The two
  # halves of midflight are driven through the "midflight" row.
  series=$(uname -r | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
  mapfile -t scenarios < <(awk -F'\t' -v k="$series" '
      /^[[:space:]]*(#|$)/ {next}
      $1=="scenario" { col = 0; for (i = 2; i <= NF; i++) if ($i == k) col = i
                       if (NF == 2 && col == 0) col = 2
                       if (col == 0) { print "NO-COLUMN"; exit } next }
      $1 ~ /^midflight-(setup|finish)$/ {next}
      col && $col ~ /^[[:space:]]*n\/a[[:space:]]*$/ {next}
      !seen[$1]++ {print $1}' "$tsv")
  [[ ${scenarios[0]:-} != NO-COLUMN ]] || die "$tsv has no column for kernel series $series"
fi
((${#scenarios[@]})) || die "no scenarios in $tsv"

# The probe plan needs nothing but the loaded drm_gpuvm module.
"$bin" live --dry-run > "$res/dryrun.out" 2>&1
echo $? > "$res/dryrun.rc"

insmod "$ko" > "$res/insmod.err" 2>&1
echo $? > "$res/insmod.rc"
runfile=/sys/kernel/debug/gpuvm_exerciser/run
[[ -w $runfile ]] || die "the exerciser has no $runfile after insmod (see $res/insmod.err)"

# Runs one exerciser scenario synchronously; returns the write's status.
run_scenario() { echo "$1" > "$runfile"; }


# Waits for a tracer already sent SIGINT (once: a second one may mean "abort").
stop_tracer() {  # pid -> sets $stop_rc ("killed" when it ignored SIGINT); no $(...):
  local i        # a subshell could not wait for our child
  for ((i = 0; i < stop_timeout * 5; i++)); do
    if ! alive "$1"; then wait "$1"; stop_rc=$?; return; fi
    nap 0.2
  done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
  stop_rc=killed
}

# One traced run of scenario $1 under the tracers named in $2.. ("live", "record"):
# all start together, the scenario runs once they are all attached, then all stop.
# Running live and record side by side halves the (slow, under TCG) attach/detach
# time per scenario; they are independent BPF programs and ring buffers.
traced_run() {
  local s=$1 d=$res/s/$1 p ok=1 t0 t1 rc
  shift
  if [[ $s == midflight ]]; then
    run_scenario midflight-setup; echo $? > "$d/pre.rc"
  fi
  start_tracers "$d" "$@" || ok=0
  t0=$(date +%s%N)
  if ((ok)); then
    if [[ $s == midflight ]]; then run_scenario midflight-finish; else run_scenario "$s"; fi
    rc=$?
    t1=$(date +%s%N)
    for p in "$@"; do echo "$rc" > "$d/$p.run.rc"; echo $((t1 - t0)) > "$d/$p.run_ns"; done
  elif [[ $s == midflight ]]; then
    run_scenario midflight-finish   # keep the kernel state sane for the next scenario
  fi
  stop_tracers "$d" "$@"
}

# Starts the tracers named in $2.. with their files in $1 (pid in tpid[]); waits
# until all attached. Fails if one did not.
declare -A tpid=()
rec_tmp=/tmp/gvt-record.$$.jsonl
start_tracers() {
  local d=$1 p ok=0 ts
  shift
  ts=$(date +%s%N)
  for p in "$@"; do
    case $p in
      # -v: the stack memo's counts at the end (vm_scenario_test checks reuse).
      live) "$bin" live -v -f json > "$d/live.json" 2> "$d/live.err" & ;;
      # Into guest RAM, not through 9p: its cost would be charged to the slowdown.
      record) rm -f "$rec_tmp"; "$bin" record -o "$rec_tmp" > "$d/record.out" 2> "$d/record.err" & ;;
    esac
    tpid[$p]=$!
  done
  for p in "$@"; do
    if wait_attached "$d/$p.err" "${tpid[$p]}"; then
      echo attached > "$d/$p.attach"
      echo $(($(date +%s%N) - ts)) > "$d/$p.attach_ns"
    else
      echo "not attached" > "$d/$p.attach"; ok=1
    fi
  done
  return $ok
}

stop_tracers() {  # dir names...: SIGINT to all at once, then collect, then lint
  local d=$1 p t1
  shift
  t1=$(date +%s%N)
  for p in "$@"; do kill -INT "${tpid[$p]}" 2>/dev/null; done
  for p in "$@"; do
    stop_tracer "${tpid[$p]}"; echo "$stop_rc" > "$d/$p.rc"
  done
  echo $(($(date +%s%N) - t1)) > "$d/stop_ns"
  if [[ -e $rec_tmp ]]; then
    "$bin" lint -f json "$rec_tmp" > "$d/lint.json" 2> "$d/lint.err"
    echo $? > "$d/lint.rc"
    mv -f "$rec_tmp" "$d/trace.jsonl"
  fi
}

# CLOCK_BOOTTIME in ns, truncated to /proc/uptime's 10 ms.
uptime_ns() { local u; read -r u _ < /proc/uptime; echo $((10#${u/./} * 10000000)); }

prepare_stress() {
  local d=$res/s/stress t0 t1
  # GVT_STRESS_ITERATIONS overrides the module's default round count.
  if [[ -n ${GVT_STRESS_ITERATIONS:-} ]]; then
    echo "$GVT_STRESS_ITERATIONS" > /sys/kernel/debug/gpuvm_exerciser/iterations
  fi
  cat /sys/kernel/debug/gpuvm_exerciser/iterations > "$d/iterations" 2>/dev/null
  # Baseline before any tracer, so the traced run is not the one warming caches.
  t0=$(date +%s%N); run_scenario stress; echo $? > "$d/untraced.run.rc"; t1=$(date +%s%N)
  echo $((t1 - t0)) > "$d/untraced_ns"
}

for s in "${scenarios[@]}"; do mkdir -p "$res/s/$s"; done

if [[ $mode == each ]]; then
  for s in "${scenarios[@]}"; do
    d=$res/s/$s
    log "scenario $s"
    dmesg -C 2>/dev/null
    if [[ $s == stress ]]; then
      prepare_stress
      # Separately, so that the printed slowdown is that of one tracer.
      traced_run "$s" live
      traced_run "$s" record
    else
      traced_run "$s" live record
    fi
    dmesg > "$d/dmesg.txt" 2>/dev/null
  done
else
  b=$res/batch
  mkdir -p "$b"
  # stress last: should it ever lose events, only its own window is affected.
  ordered=()
  for s in "${scenarios[@]}"; do [[ $s == stress ]] || ordered+=("$s"); done
  for s in "${scenarios[@]}"; do [[ $s == stress ]] && ordered+=("$s"); done
  [[ -d $res/s/stress ]] && prepare_stress
  if [[ -d $res/s/midflight ]]; then
    run_scenario midflight-setup; echo $? > "$res/s/midflight/pre.rc"
  fi
  if start_tracers "$b" live record; then
    for s in "${ordered[@]}"; do
      d=$res/s/$s
      log "scenario $s"
      dmesg -C 2>/dev/null
      sleep 0.1                       # windows never touch, even at 10 ms resolution
      w0=$(uptime_ns); t0=$(date +%s%N)
      if [[ $s == midflight ]]; then run_scenario midflight-finish; else run_scenario "$s"; fi
      rc=$?
      t1=$(date +%s%N); w1=$(($(uptime_ns) + 10000000))
      echo "$w0 $w1" > "$d/window"
      for p in live record; do echo "$rc" > "$d/$p.run.rc"; echo $((t1 - t0)) > "$d/$p.run_ns"; done
      dmesg > "$d/dmesg.txt" 2>/dev/null
    done
    sleep 0.1
  elif [[ -d $res/s/midflight ]]; then
    run_scenario midflight-finish
  fi
  stop_tracers "$b" live record
fi

if [[ -r $res/s/stress/untraced_ns && -r $res/s/stress/live.run_ns ]]; then
  cp "$res/s/stress/live.run_ns" "$res/s/stress/traced_ns"
fi
log "done: ${#scenarios[@]} scenarios"
exit 0
