#!/usr/bin/env bash
# What the guest-side scripts (guest-scenarios.sh, guest-lossy.sh, guest-concurrent.sh)
# share, sourced by them inside the guest: vm-run.sh shares the host's / over 9p, so
# this file travels with them. Expects log() and die() of the sourcing script; sets
# bin, ko, attach_timeout (GVT_ATTACH_TIMEOUT seconds, default 240) and, through
# load_exerciser, runfile.

: "${GVT_OUT:?run me through tests/vm/vm-run.sh}"
bin=${GVT_BIN:-$PWD/build/gpuvm-trace}
ko=${GVT_EXERCISER_KO:-}
attach_timeout=${GVT_ATTACH_TIMEOUT:-240}

# The tracer binary and the exerciser module, loaded; $runfile takes scenario names.
load_exerciser() {
  [[ -x $bin ]] || die "no tracer binary at $bin"
  [[ -n $ko && -r $ko ]] || die "no exerciser module (GVT_EXERCISER_KO='$ko')"
  insmod "$ko" || die "insmod $ko failed"
  runfile=/sys/kernel/debug/gpuvm_exerciser/run
  [[ -w $runfile ]] || die "the exerciser has no $runfile"
}

# True while pid runs: kill -0 also succeeds on an exited child not yet waited for.
alive() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ ${st:0:1} != Z ]]
}
wait_attached() {  # errfile pid
  local i
  for ((i = 0; i < attach_timeout * 5; i++)); do
    grep -q '^gpuvm-trace: attached [0-9]* probes' "$1" 2>/dev/null && return 0
    alive "$2" || return 1
    sleep 0.2
  done
  return 1
}
stop() {  # pid rcfile: SIGINT, wait up to 120 s, then SIGKILL
  local i
  kill -INT "$1" 2>/dev/null
  for ((i = 0; i < 600; i++)); do
    if ! alive "$1"; then wait "$1"; echo $? > "$2"; return; fi
    sleep 0.2
  done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; echo killed > "$2"
}
