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

# The pollers below use bash builtins only: under TCG the guest's vCPUs share one host
# thread, and a fork+exec (grep, cat, sleep) costs tens of milliseconds of it. Five of
# them a second beside a starting tracer made its start-up take about twice as long.
# nap: a sleep without a process, a read that times out on a pipe we hold both ends of.
exec {nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$nap_fd" _ || true; }

# True while pid runs: kill -0 also succeeds on an exited child not yet waited for.
alive() {
  local st
  { IFS= read -r st < "/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  [[ ${st:0:1} != Z ]]
}
# True once file $1 has the tracer's "attached N probes" line.
attached_line() {
  local line
  { while IFS= read -r line; do
      [[ $line =~ ^gpuvm-trace:\ attached\ [0-9]+\ probes ]] && return 0
    done < "$1"; } 2>/dev/null
  return 1
}
wait_attached() {  # errfile pid
  local i
  for ((i = 0; i < attach_timeout * 5; i++)); do
    attached_line "$1" && return 0
    alive "$2" || return 1
    nap 0.2
  done
  return 1
}
stop() {  # pid rcfile: SIGINT, wait up to 120 s, then SIGKILL
  local i
  kill -INT "$1" 2>/dev/null
  for ((i = 0; i < 600; i++)); do
    if ! alive "$1"; then wait "$1"; echo $? > "$2"; return; fi
    nap 0.2
  done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; echo killed > "$2"
}
