#!/usr/bin/env bash
# See gpuvm-trace catch real GPUVM bugs: boots a Debian kernel in QEMU (Debian's 6.12
# by default; the real drm_gpuvm.ko), attaches `gpuvm-trace live` and runs the
# exerciser module's `demo` scenario, a mix of correct driver sequences and buggy
# ones. The findings print on your terminal as they happen.
#
# Usage: scripts/demo.sh [--kernel K] [--check]   (after scripts/setup.sh and
#                                   scripts/build.sh; as root)
#        --kernel K   guest kernel: a series (6.12, the default, or 7.2: Debian's
#                     newest, from trixie-backports) or an exact Debian release
#                     (e.g. 7.2.12+deb13-amd64); same as GVT_KVER=K
#        --check      non-interactive self-check (ctest vm_demo): quiet, fails
#                     unless the demo's bugs were reported
# Environment: GVT_BIN (default build/gpuvm-trace), GVT_CACHE (kernel cache), GVT_KVER.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "demo.sh: $*" >&2; exit 1; }

# ---- guest side (vm-run.sh runs `scripts/demo.sh --guest` inside the VM) ----
if [[ ${1:-} == --guest ]]; then
  set -m   # background jobs would otherwise ignore SIGINT, the tracer's stop signal
  log() { echo "demo: $*" >&2; }
  # The guest tests' pollers (alive, wait_attached): bash builtins only, as the tracer
  # starts twice as slowly beside a forking poller under QEMU's emulation.
  source "$repo/tests/vm/guest-lib.sh"
  bin=$2
  insmod "$GVT_EXERCISER_KO" || die "insmod $GVT_EXERCISER_KO failed"
  errf=/tmp/live.err
  # stderr goes to the terminal and to a file, to see the "attached" line.
  # The guest console is always a terminal; colour only if the user's one is.
  if [[ ${3:-} == tty ]]; then
    "$bin" live 2> >(tee "$errf" >&2) &
  else
    "$bin" live > >(cat) 2> >(tee "$errf" >&2) &
  fi
  pid=$!
  if ! wait_attached "$errf" "$pid"; then
    alive "$pid" || { wait "$pid"; die "gpuvm-trace live exited before attaching (status $?)"; }
    die "gpuvm-trace live did not attach within $attach_timeout s"
  fi
  echo "demo: running the exerciser's demo scenario..."
  echo demo > /sys/kernel/debug/gpuvm_exerciser/run || die "the demo scenario failed to run"
  kill -INT "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  # live exits like lint: 0 clean, 1 findings; anything else is a tracer failure.
  [[ $rc -le 1 ]] || die "gpuvm-trace live exited with status $rc"
  exit 0
fi

check=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --check) check=1; shift ;;
    --kernel) [[ $# -ge 2 && -n $2 ]] || die "--kernel needs a series (6.12, 7.2) or a Debian release"
              export GVT_KVER=$2; shift 2 ;;
    *) die "usage: scripts/demo.sh [--kernel 6.12|7.2|RELEASE] [--check]" ;;
  esac
done
kname=${GVT_KVER:-6.12}
[[ $(id -u) -eq 0 ]] || die "must run as root (QEMU shares / with the guest); try: sudo $0"

bin=${GVT_BIN:-$repo/build/gpuvm-trace}
[[ -x $bin ]] || die "no tracer at $bin; build first: scripts/build.sh (or set GVT_BIN)"
[[ -e $repo/tests/vm/exerciser/scenarios.tsv ]] || die "tests/vm/exerciser/ is missing; the demo needs the exerciser module"

if ((!check)); then
  cat <<EOT
== gpuvm-trace demo (guest kernel: Debian $kname) ==
A QEMU guest boots Debian's $kname kernel with the real drm_gpuvm.ko and this
machine's filesystem (first run: the kernel is downloaded into /var/cache/gpuvm-trace).
In the guest, \`gpuvm-trace live\` attaches eBPF probes to drm_gpuvm_bo_* and
ww_mutex_*; then the test module gpuvm_exerciser drives drm_gpuvm like a GPU driver:
correct bind/unbind sequences (nouveau- and xe-style) and three bugs the kernel
does not notice: an extobj add without the VM's dma-resv held, a double put of a
vm_bo, and a final put without the BO's lock. Only the bugs should be reported.
(QEMU emulates the CPU here, so booting and attaching take a little while.)

EOT
fi

set +e
if ((check)); then
  out=$(mktemp -d /tmp/gvt-demo.XXXXXX)
  trap 'rm -rf "$out"' EXIT
  "$repo/tests/vm/vm-run.sh" --timeout 800 --out "$out" --show -- "bash scripts/demo.sh --guest '$bin' notty" > "$out/demo.txt" 2>&1
  rc=$?
else
  tty=notty; [[ -t 1 ]] && tty=tty
  "$repo/tests/vm/vm-run.sh" --timeout 800 --show -- "bash scripts/demo.sh --guest '$bin' $tty"
  rc=$?
fi
set -e

if ((check)); then
  if ((rc != 0)); then cat "$out/demo.txt" >&2; die "the demo failed (status $rc)"; fi
  for rule in extobj-add-unlocked double-put put-final-unlocked; do
    grep -q -- "$rule" "$out/demo.txt" || { cat "$out/demo.txt" >&2; die "the demo output lacks a $rule finding"; }
  done
  # The double put quotes, KASAN-style, who created the vm_bo and who destroyed it,
  # each with its kernel stack (the line ends in ':' and a frame follows).
  block=$(tr -d '\r' < "$out/demo.txt" | sed -n '/error: double-put:/,/see: gpuvm-trace explain double-put/p')
  for who in created destroyed; do
    grep -A1 "^  $who by task [0-9]* (.*) at ts=.*:\$" <<<"$block" | grep -q '^    [^ ]' ||
      { cat "$out/demo.txt" >&2; die "the demo's double-put finding lacks the $who-by stack"; }
  done
  echo "demo.sh --check: ok"
  exit 0
fi

((rc == 0)) || die "the demo failed (status $rc); see the messages above"
cat <<'EOT'

== What you saw ==
Each finding names a stable rule ID (`gpuvm-trace explain RULE` says what it means
and how drivers fix it), the vm_bo, VM and GEM addresses and the kernel stack of the
offending call; the double put also shows who created the vm_bo and who destroyed it,
with their stacks, like a KASAN report. The correct sequences produced
nothing: the checker reports a violation only when the trace proves it, and "unknown"
when evidence is missing. Next steps:
  gpuvm-trace record -o trace.jsonl    # save a trace on a real machine
  gpuvm-trace lint trace.jsonl          # check it offline (exit status 1 on errors, for CI)
  gpuvm-trace lint tests/traces/demo.jsonl   # the bundled example trace
EOT
