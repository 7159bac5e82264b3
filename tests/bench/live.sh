#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Live tracing cost, measured in ONE guest boot (tests/vm/vm-run.sh, Debian 6.12 by
# default): the exerciser's `stress` scenario runs untraced, under a bpftrace counter
# on the same probe points (`@[probe] = count()`), and under gpuvm-trace in several
# configurations, interleaved over ROUNDS rounds (the order rotates every round, so
# that slow drift of a shared machine spreads over all configurations). Under TCG
# every absolute time is inflated; the ratios between configurations of one boot are
# what this reports. Not a test: it prints a table and exits 0 unless something broke.
#
#   tests/bench/live.sh                          # 3 rounds, 4000 stress rounds
#   ROUNDS=5 ITERATIONS=2000 tests/bench/live.sh
#   CONFIGS="untraced bpftrace live" tests/bench/live.sh
#
# Configurations: untraced, bpftrace, live (defaults), live-nostacks (--stacks=none),
# live-allstacks (--stacks=all), live-k (-k), live-k-nostacks, record (record -o FILE.gvt, in guest RAM).
# Columns: median wall time of the scenario, min..max over the rounds, cost added per
# traced event ((median - untraced median) / probe hits counted by bpftrace), the
# ratio of that to bpftrace's, the events the tracer lost (sum over rounds), and where
# the time goes: the tracer process's CPU ms (user + system, median) and, with
# BPF_STATS=1, the BPF programs' run time in ms (median).
# Environment: BUILD (default build/) holds gpuvm-trace; GVT_KVER picks the kernel;
# BASE_BIN names another gpuvm-trace (e.g. a build of main) for the configurations
# base-live, base-live-nostacks and base-record: the same runs with that binary,
# interleaved with the others in the same boot, for a before/after comparison.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
ITERATIONS=${ITERATIONS:-4000}
CONFIGS=${CONFIGS:-"untraced bpftrace live live-nostacks record"}
# The unwatched ww_mutex path: the resv-churn scenario (lock/unlock of a resv no
# GPUVM object uses, 64 x ITERATIONS times). "" skips it.
CHURN_CONFIGS=${CHURN_CONFIGS-"untraced bpftrace live"}

die() { echo "live.sh: $*" >&2; exit 2; }

guest() {
  local bin=$1 res=$GVT_OUT
  local runfile=/sys/kernel/debug/gpuvm_exerciser/run
  set -m  # background jobs must not ignore SIGINT
  command -v bpftrace >/dev/null || die "bpftrace not installed: apt-get install bpftrace (the bench's yardstick; not needed by the tool or its tests)"
  insmod "$GVT_EXERCISER_KO" || die "insmod $GVT_EXERCISER_KO failed"
  echo "$ITERATIONS" > /sys/kernel/debug/gpuvm_exerciser/iterations

  # The probe points of the default plan, for bpftrace. Plan lines read
  # "  LOGICAL -> SYMBOL [MODULE]  MECHANISM  why".
  "$bin" live --dry-run > "$res/plan.txt" 2>&1 || die "live --dry-run failed: $(head -3 "$res/plan.txt")"
  mkprog() {  # 1: as planned (kfunc/kretfunc for fentry/fexit), 0: kprobes only
    awk -v native="$1" '$2 == "->" {
        sym = $3; i = 4; mod = ""
        if ($4 ~ /^\[.*\]$/) { mod = substr($4, 2, length($4) - 2); i = 5 }
        mech = $i
        # bpftrace 0.17 has no rawtracepoint probes: the same kernel tracepoint.
        if (mech == "raw_tracepoint") { printf "tracepoint:raw_syscalls:%s,\n", sym; next }
        # It cannot generate code for symbols with dots (drm_gpuvm_bo_put.part.0):
        # count the exported function, which reaches it on every non-NULL call.
        if (sym ~ /\./) {
          sym = $1
          if (native) mech = (mech == "kprobe") ? "fentry" : (mech == "kretprobe") ? "fexit" : mech
        }
        if (!native) kind = (mech == "fentry" || mech == "kprobe") ? "kprobe" : "kretprobe"
        else kind = mech == "fentry" ? "kfunc" : mech == "fexit" ? "kretfunc" : mech
        p = (kind ~ /func$/ && mod != "") ? kind ":" mod ":" sym : kind ":" sym
        if (!seen[p]++) printf "%s,\n", p
      }' "$res/plan.txt" | sed '$ s/,$//'
  }
  local prog
  for native in 1 0; do
    prog=$(mkprog $native)
    [[ -n $prog ]] || die "no probe points in the plan: $(head -5 "$res/plan.txt")"
    printf '%s\n{ @[probe] = count(); }\nBEGIN { printf("ready\\n"); }\n' "$prog" > "$res/count.bt"
    # Attach once and leave: does this bpftrace take these probe points?
    printf '%s\n{ @[probe] = count(); }\nBEGIN { exit(); }\n' "$prog" > "$res/check.bt"
    if bpftrace "$res/check.bt" > "$res/check.$native.out" 2>&1; then break; fi
    ((native)) || die "bpftrace cannot attach to the plan's probe points: $(tail -3 "$res/check.$native.out")"
    echo "live.sh: bpftrace refused kfunc probes (see check.1.out): counting with kprobes" >&2
  done
  echo "bpftrace probes: $(($(wc -l < "$res/count.bt") - 2)) ($( ((native)) && echo as planned || echo kprobes))" > "$res/bpftrace.mode"

  wait_for() {  # file pattern pid
    local i
    for ((i = 0; i < 1500; i++)); do
      grep -q "$2" "$1" 2>/dev/null && return 0
      kill -0 "$3" 2>/dev/null || return 1
      sleep 0.2
    done
    return 1
  }
  # Where the added time goes: the tracer process's own CPU time (user + system, its
  # consumer loop, from /proc) and, with BPF_STATS=1, the run time of every loaded
  # BPF program (kernel.bpf_stats_enabled; it adds two clock reads per program run to
  # every configuration alike, so it is off by default). Both are read before and after
  # the scenario: the tracer's start-up (kallsyms, BTF, bpftrace's compiler) is not
  # part of the cost per event.
  cpu_ms() {
    local f; read -ra f < "/proc/$1/stat" 2>/dev/null || { echo -; return; }
    # fields 14 and 15 (utime, stime) in clock ticks; comm has no spaces here
    echo $(( (f[13] + f[14]) * 1000 / $(getconf CLK_TCK) ))
  }
  delta() { [[ $1 == - || $2 == - ]] && echo - || echo $(($1 - $2)); }
  bpf_ms() {
    [[ ${BPF_STATS:-0} == 1 ]] || { echo -; return; }
    bpftool prog show -j 2>/dev/null |
      awk '{ while (match($0, /"run_time_ns":[0-9]+/)) { s += substr($0, RSTART + 14, RLENGTH - 14); $0 = substr($0, RSTART + RLENGTH) } }
           END { printf "%d\n", s / 1e6 }'
  }
  # Per program (BPF_STATS=1): "id name run_time_ns run_cnt" of every loaded program,
  # before and after the scenario; the host side prints the deltas per configuration.
  bpf_progs() {
    bpftool prog show 2>/dev/null | awk '/^[0-9]+:/ { id = $1; name = "?"; for (i = 2; i < NF; i++) {
        if ($i == "name") name = $(i + 1); if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
      print id, name, t + 0, c + 0; t = ""; c = "" }'  # no run yet: bpftool omits both
  }
  if [[ ${BPF_STATS:-0} == 1 ]]; then sysctl -q kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"; fi
  run_stress() {
    local t0 t1
    t0=$(date +%s%N)
    echo "$scen" > "$runfile" || return 1
    t1=$(date +%s%N)
    echo $((t1 - t0))
  }
  one() {  # config round -> "scenario config round ns hits lost" on runs.tsv
    local c=$1 r=$2 d=$res/$scen.$1.$2 pid ns hits=- lost=- args=() cpu=- bpf=- b=$bin
    mkdir -p "$d"
    if [[ $c == base-* ]]; then
      [[ -n ${BASE_BIN:-} && -x $BASE_BIN ]] || die "configuration $c needs BASE_BIN (another gpuvm-trace)"
      b=$BASE_BIN
    fi
    case ${c#base-} in
      untraced) ns=$(run_stress) || die "stress failed untraced"; echo "$scen $c $r $ns - -" >> "$res/runs.tsv"; return ;;
      bpftrace)
        bpftrace "$res/count.bt" > "$d/out" 2> "$d/err" & pid=$!
        wait_for "$d/out" '^ready' "$pid" || die "bpftrace did not attach: $(head -5 "$d/err" "$d/out")"
        cpu=$(cpu_ms "$pid") bpf=$(bpf_ms)
        ns=$(run_stress) || die "stress failed under bpftrace"
        cpu=$(delta "$(cpu_ms "$pid")" "$cpu") bpf=$(delta "$(bpf_ms)" "$bpf")
        kill -INT "$pid"; wait "$pid" || true
        hits=$(awk -F': ' '/^@\[/ { s += $2 } END { print s + 0 }' "$d/out")
        echo "$scen $c $r $ns $hits - $cpu $bpf" >> "$res/runs.tsv"; return ;;
      live) args=(live -f json) ;;
      live-nostacks) args=(live -f json --stacks=none) ;;
      live-allstacks) args=(live -f json --stacks=all) ;;
      live-k) args=(live -f json -k) ;;
      live-k-nostacks) args=(live -f json -k --stacks=none) ;;
      record) rm -f /tmp/gvt-bench.gvt; args=(record -o /tmp/gvt-bench.gvt) ;;
      *) die "unknown configuration '$c'" ;;
    esac
    "$b" "${args[@]}" > "$d/out" 2> "$d/err" & pid=$!
    wait_for "$d/err" '^gpuvm-trace: attached' "$pid" || die "$c did not attach: $(head -5 "$d/err")"
    cpu=$(cpu_ms "$pid") bpf=$(bpf_ms)
    [[ ${BPF_STATS:-0} != 1 ]] || bpf_progs > "$d/progs.before"
    ns=$(run_stress) || die "stress failed under $c"
    cpu=$(delta "$(cpu_ms "$pid")" "$cpu") bpf=$(delta "$(bpf_ms)" "$bpf")
    [[ ${BPF_STATS:-0} != 1 ]] || bpf_progs > "$d/progs.after"
    kill -INT "$pid"; wait "$pid" || true
    if [[ ${c#base-} == record ]]; then
      lost=$("$bin" lint -f json /tmp/gvt-bench.gvt 2>/dev/null | sed -n 's/.*"lost":\([0-9]*\).*/\1/p' | tail -1)
    else
      lost=$(sed -n 's/.*"lost":\([0-9]*\).*/\1/p' "$d/out" | tail -1)
    fi
    echo "$scen $c $r $ns - ${lost:-?} $cpu $bpf" >> "$res/runs.tsv"
  }

  : > "$res/runs.tsv"
  local cfgs n r i
  for scen in stress resv-churn; do
    [[ $scen == stress ]] && cfgs=($CONFIGS) || cfgs=($CHURN_CONFIGS)
    ((${#cfgs[@]})) || continue
    run_stress > /dev/null || die "warm-up $scen failed"  # caches, first-touch allocations
    n=${#cfgs[@]}
    for ((r = 1; r <= ROUNDS; r++)); do
      for ((i = 0; i < n; i++)); do
        one "${cfgs[(i + r - 1) % n]}" "$r"
      done
      echo "live.sh: $scen round $r done" >&2
    done
  done
}

if [[ ${1:-} == --guest ]]; then
  guest "$2"
  exit 0
fi

BUILD=${BUILD:-$ROOT/build}
BIN=$BUILD/gpuvm-trace
[[ -x $BIN ]] || die "no $BIN: build first (cmake --build build) or set BUILD"
[[ $(id -u) -eq 0 ]] || die "must run as root (the guest and BPF need it)"
out=${OUT:-$(mktemp -d /tmp/gvt-live-bench.XXXXXX)}
echo "== one guest boot: $ROUNDS rounds x [$CONFIGS], stress $ITERATIONS rounds; results in $out"
echo "== host load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
"$ROOT/tests/vm/vm-run.sh" --timeout "${TIMEOUT:-5400}" --out "$out" -- \
  "ROUNDS=$ROUNDS ITERATIONS=$ITERATIONS CONFIGS='$CONFIGS' CHURN_CONFIGS='$CHURN_CONFIGS' BPF_STATS=${BPF_STATS:-0} BASE_BIN='${BASE_BIN:-}' tests/bench/live.sh --guest '$BIN'" ||
  die "the guest run failed (status $?): see $out/console.log"
echo "== host load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -s $out/runs.tsv ]] || die "no results in $out/runs.tsv"

# Median of a[1..n] (sorts a), for the awk programs below.
awk_median='
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }'
summarize() {  # scenario configs
awk -v scen="$1" -v cfgs="$2" "$awk_median"'
  $1 != scen { next }
  { k = $2; n[k]++; ns[k, n[k]] = $4
    if ($5 != "-") { hits[++nh] = $5 }
    if ($6 != "-" && $6 != "?") lost[k] += $6; else if ($6 == "?") unk[k] = 1
    if (NF >= 7 && $7 != "-") cpu[k, ++ncpu[k]] = $7
    if (NF >= 8 && $8 != "-") bpf[k, ++nbpf[k]] = $8 }
  END {
    events = nh ? median(hits, nh) : 0
    split(cfgs, order, " ")
    for (k in n) {
      delete a; mn = 0; mx = 0
      for (i = 1; i <= n[k]; i++) { a[i] = ns[k, i]; if (!mn || a[i] < mn) mn = a[i]; if (a[i] > mx) mx = a[i] }
      med[k] = median(a, n[k]); lo[k] = mn; hi[k] = mx
      delete a; for (i = 1; i <= ncpu[k]; i++) a[i] = cpu[k, i]
      mcpu[k] = ncpu[k] ? sprintf("%d", median(a, ncpu[k])) : "-"
      delete a; for (i = 1; i <= nbpf[k]; i++) a[i] = bpf[k, i]
      mbpf[k] = nbpf[k] ? sprintf("%d", median(a, nbpf[k])) : "-"
    }
    printf "\n%s: probe hits per run (bpftrace count): %d\n", scen, events
    printf "%-16s %12s %25s %14s %10s %6s %10s %8s\n", "configuration", "median ms", "min..max ms", "added ns/event", "vs bpftrace", "lost", "tracer cpu", "bpf ms"
    for (o = 1; o in order; o++) {
      k = order[o]; if (!(k in med)) continue
      add = (events && ("untraced" in med)) ? (med[k] - med["untraced"]) / events : 0
      btadd = (events && ("bpftrace" in med)) ? (med["bpftrace"] - med["untraced"]) / events : 0
      ratio = (k == "untraced" || btadd <= 0) ? "-" : sprintf("%.2fx", add / btadd)
      l = (k == "untraced" || k == "bpftrace") ? "-" : ((k in unk) ? "?" : lost[k] + 0)
      printf "%-16s %12.1f %12.1f..%-12.1f %14.0f %10s %6s %10s %8s\n", k, med[k] / 1e6, lo[k] / 1e6, hi[k] / 1e6, add, ratio, l,
             (k in mcpu) ? mcpu[k] : "-", (k in mbpf) ? mbpf[k] : "-"
    }
  }' "$out/runs.tsv"
}
summarize stress "$CONFIGS"
[[ -z $CHURN_CONFIGS ]] || summarize resv-churn "$CHURN_CONFIGS"

# BPF_STATS=1: where each configuration's BPF time goes, per program (median over the
# rounds of the stress scenario's run time per program run; programs above 1 % of it).
if [[ ${BPF_STATS:-0} == 1 ]]; then
  echo
  echo "stress: BPF time per program (median of rounds): ms, runs, us/run"
  for c in $CONFIGS; do
    for d in "$out"/stress."$c".*; do
      [[ -s $d/progs.before && -s $d/progs.after ]] || continue
      awk 'NR == FNR { t[$1] = $3; n[$1] = $4; next }
           $4 > n[$1] { print $2, $3 - t[$1], $4 - n[$1] }' "$d/progs.before" "$d/progs.after"
    done | awk -v c="$c" "$awk_median"'
      { k = $1; m[k]++; ns[k, m[k]] = $2; cnt[k, m[k]] = $3 }
      END {
        for (k in m) { delete a; for (i = 1; i <= m[k]; i++) a[i] = ns[k, i]; mt[k] = median(a, m[k])
                       delete a; for (i = 1; i <= m[k]; i++) a[i] = cnt[k, i]; mc[k] = median(a, m[k]); tot += mt[k] }
        printf "  %-16s total %8.1f ms\n", c, tot / 1e6
        for (k in m) if (mt[k] >= tot / 100)
          printf "    %-18s %8.1f ms %8d %8.2f\n", k, mt[k] / 1e6, mc[k], mt[k] / (mc[k] ? mc[k] : 1) / 1e3 | "sort -k2,2nr"
      }'
  done
fi
