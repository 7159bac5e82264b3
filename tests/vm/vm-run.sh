#!/usr/bin/env bash
# Run a command as root inside a QEMU guest booted on a Debian kernel (6.12 unless
# GVT_KVER picks another, e.g. GVT_KVER=7.2), with the host's own filesystem as the
# guest's userspace (virtme-ng style, real-kernel.md).
#
# Usage: tests/vm/vm-run.sh [--timeout SECONDS] [--out DIR] [--mem MB] [--show] -- 'COMMAND'
#
#   COMMAND   shell command run by /bin/sh in the guest, cwd = repository root, with
#             GVT_KVER (guest kernel release), GVT_EXERCISER_KO (built exerciser module,
#             empty if tests/vm/exerciser/ has no source yet), GVT_OUT (= DIR) and
#             GVT_REPO exported. drm, drm_exec and drm_gpuvm are already loaded; proc,
#             sys, devtmpfs, tracefs, debugfs and bpffs are mounted. The whole host
#             root is visible through a copy-on-write overlay: the guest may write
#             anywhere, but only files written below DIR reach the host.
#   --out DIR   results directory shared read-write with the guest (default: a fresh
#               temporary directory, removed afterwards unless the run failed). The
#               guest sees DIR at the same path. The console log is kept in
#               DIR/console.log and the guest's dmesg in DIR/.vm-run/dmesg.txt.
#   --timeout   whole-run limit in seconds (default 600).
#   --mem       guest memory in MB (default 1024).
#   --show      stream the guest console (the command's output) to stdout.
#
# Exit status: COMMAND's exit status, or
#   122  the guest stopped without reporting a status (setup failure, crash in init)
#   123  the guest oopsed / hit a BUG / panicked before the command finished
#   124  timeout
#   125  harness error (bad usage, missing kernel or QEMU)
# On 122-124 the console log is printed to stderr.
#
# Environment: GVT_CACHE (default /var/cache/gpuvm-trace) holds the kernel,
# initramfs and module build; GVT_KVER picks the kernel: a series (6.12, the default,
# or 7.2) or an exact Debian release, fetched from the suite that carries it (see
# fetch-kernel.sh; 7.x modules build in a trixie build root, build-module.sh);
# GVT_EXERCISER_SRC builds another module tree instead of tests/vm/exerciser/.
# GVT_ARCH=arm64 boots the aarch64 guest instead: qemu-system-aarch64 -M virt -cpu max
# (TCG), Debian's arm64 kernel of the GVT_KVER series (fetch-kernel.sh), the exerciser
# cross-built for it (build-module.sh), and the host root with the arm64 userland
# layer of arm64-userland.sh (busybox, bash, coreutils, ...) stacked over it, so
# /bin/sh, bash and the usual tools are arm64 programs and an arm64 gpuvm-trace runs
# with the host's multiarch :arm64 libraries. The COMMAND must then name arm64
# programs (e.g. the cross build's gpuvm-trace); the default is GVT_ARCH=amd64.
# Cost: a boot to the command takes about 4 s (6.12) / 12 s (7.2) of an idle 2-core
# machine (TCG).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "vm-run.sh: $*" >&2; exit 125; }

timeout_s=600 out='' mem=1024 show=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --timeout) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--timeout needs a number of seconds"; timeout_s=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --mem) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--mem needs a size in MB"; mem=$2; shift 2 ;;
    --show) show=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    --) shift; break ;;
    *) die "unknown argument '$1' (usage: vm-run.sh [--timeout S] [--out DIR] [--mem MB] [--show] -- 'COMMAND')" ;;
  esac
done
[[ $# -eq 1 && -n $1 ]] || die "give exactly one COMMAND after -- (quote it)"
cmd=$1

case ${GVT_ARCH:-amd64} in
  amd64|x86_64) arch=amd64 qemu_bin=qemu-system-x86_64 ;;
  arm64|aarch64) arch=arm64 qemu_bin=qemu-system-aarch64 ;;
  *) die "GVT_ARCH='$GVT_ARCH' is not amd64 or arm64" ;;
esac
command -v $qemu_bin >/dev/null || die "$qemu_bin not found; run scripts/setup.sh"
[[ $(id -u) -eq 0 ]] || die "must run as root (the 9p share exports / with the host's permissions)"

kenv=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed (see above)"
eval "$kenv"
[[ ${KARCH:-amd64} == "$arch" ]] || die "fetch-kernel.sh gave a ${KARCH:-amd64} kernel for GVT_ARCH=$arch"
ulayer=''
if [[ $arch == arm64 ]]; then
  ulayer=$("$here/arm64-userland.sh") || die "arm64-userland.sh failed (see above)"
fi
initrd=$("$here/build-initramfs.sh" "$KVER" "$MODDIR") || die "build-initramfs.sh failed (see above)"

ko=
exsrc=${GVT_EXERCISER_SRC:-$here/exerciser}
if [[ -e $exsrc/Kbuild || -e $exsrc/Makefile ]]; then
  ko=$("$here/build-module.sh") || die "building the exerciser module failed (see above)"
fi

cleanup_out=0
if [[ -z $out ]]; then
  out=$(mktemp -d /tmp/gvt-vm.XXXXXX); cleanup_out=1
fi
mkdir -p "$out" || die "cannot create --out $out"
out=$(cd "$out" && pwd -P)
[[ $out != *[[:space:]]* ]] || die "--out path must not contain whitespace: $out"
[[ $out != / ]] || die "--out must not be /"
# A temporary out dir is kept when the run fails, for its console log.
cleanup() { ((cleanup_out && keep == 0)) && rm -rf "$out"; return 0; }
keep=1
trap cleanup EXIT

job=$out/.vm-run
rm -rf "$job"; mkdir -p "$job"
echo "$out" > "$job/outpath"
{
  echo "export GVT_KVER=$(printf %q "$KVER") GVT_EXERCISER_KO=$(printf %q "$ko")"
  echo "export GVT_OUT=$(printf %q "$out") GVT_REPO=$(printf %q "$repo")"
  [[ $arch == amd64 ]] || echo "export GVT_ARCH=$arch"
  echo "export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=${TERM:-dumb}"
  echo "cd $(printf %q "$repo") || exit 125"
  printf '%s\n' "$cmd"
} > "$job/job.sh"

log=$out/console.log
# thread=single: QEMU 7.2's multi-threaded TCG can run a stale translation of code the
# guest kernel is patching with int3 (tracepoint/static-key toggles while BPF attaches)
# and oops the guest; one TCG thread never showed it (real-kernel.md).
# no_timer_check: a busy host can make the emulated clock so slow that the kernel's
# early IO-APIC timer check fails and panics ("IO-APIC + timer doesn't work", seen
# with the 7.2 guest on a loaded 2-core machine); virtual machines routinely skip it.
qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m "$mem"
  -nographic -no-reboot -nodefaults -serial stdio -monitor none
  -kernel "$VMLINUZ" -initrd "$initrd"
  -append "console=ttyS0 quiet panic=-1 oops=none no_timer_check"
  -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$out,mount_tag=gvtout,security_model=none,multidevs=remap")
if [[ $arch == arm64 ]]; then
  # -M virt: the generic board (PL011 console on ttyAMA0, virtio over PCI).
  # pauth-impdef=on: -cpu max keeps pointer authentication (the kernel uses it), but
  # with QEMU's cheap implementation-defined algorithm instead of the architected
  # QARMA one, whose emulation makes TCG several times slower on every function
  # return of a PAC-built kernel.
  qemu=(qemu-system-aarch64 -M virt -accel tcg,thread=single -cpu max,pauth-impdef=on -smp 2 -m "$mem"
    -nographic -no-reboot -nodefaults -serial stdio -monitor none
    -kernel "$VMLINUZ" -initrd "$initrd"
    -append "console=ttyAMA0 quiet panic=-1 oops=none"
    -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
    -virtfs "local,path=$out,mount_tag=gvtout,security_model=none,multidevs=remap"
    -virtfs "local,path=$ulayer,mount_tag=ulayer,security_model=none,readonly=on,multidevs=remap")
fi

start=$(date +%s.%N)
set +e
if ((show)); then
  # Only the command's own output: no firmware screen clearing, no markers.
  timeout -k 5 "$timeout_s" "${qemu[@]}" < /dev/null 2>&1 | tee "$log" \
    | awk '{ sub(/\r$/, "") } /<<<gvt-vm-run booted>>>/ { on = 1; next }
           /<<<gvt-vm-run (exit=|setup-failed)/ { on = 0 } on { print; fflush() }'
  qrc=${PIPESTATUS[0]}
else
  timeout -k 5 "$timeout_s" "${qemu[@]}" < /dev/null > "$log" 2>&1
  qrc=$?
fi
set -e
elapsed=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")
echo "$elapsed" > "$job/elapsed"

show_log() {
  echo "----- guest console ($log) -----" >&2
  tail -n 200 "$log" | tr -d '\r' >&2
  echo "----- end of guest console -----" >&2
}

# The verdict comes from what the guest printed (the marker), not from QEMU's status.
marker=$(tr -d '\r' < "$log" | grep -a -m1 -o '<<<gvt-vm-run exit=[0-9]*>>>' || true)
before=$(tr -d '\r' < "$log" | sed -n '/<<<gvt-vm-run exit=/q;p')
crash_re='Oops:|BUG:|Kernel panic|general protection fault|kernel BUG at|Unable to handle kernel'
if grep -a -q -E "$crash_re" <<<"$before"; then
  echo "vm-run.sh: the guest kernel crashed ($(grep -a -m1 -o -E "($crash_re).*" <<<"$before" | head -c 120)); console below" >&2
  show_log; exit 123
fi
if [[ -z $marker ]]; then
  if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    echo "vm-run.sh: timeout after ${timeout_s}s (raise --timeout?); console below" >&2
    show_log; exit 124
  fi
  echo "vm-run.sh: the guest stopped without reporting an exit status (QEMU status $qrc); console below" >&2
  show_log; exit 122
fi
rc=${marker#<<<gvt-vm-run exit=}; rc=${rc%>>>}
keep=0
exit "$rc"
