#!/usr/bin/env bash
# Self-test of vm-run.sh (ctest vm_harness): one boot checks the guest environment
# the VM suite relies on, and that the command's exit status comes back.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp -d /tmp/gvt-selftest.XXXXXX)
trap 'rm -rf "$out"' EXIT

fail() { echo "harness-selftest: $*" >&2; tail -n 60 "$out/console.log" >&2 2>/dev/null; exit 1; }

check='
set -e
test "$(uname -r)" = "$GVT_KVER"
case ${GVT_ARCH:-amd64} in arm64) test "$(uname -m)" = aarch64 ;; *) test "$(uname -m)" = x86_64 ;; esac
test "$(pwd)" = "$GVT_REPO"
for m in drm drm_exec drm_gpuvm; do grep -q "^$m " /proc/modules; done
grep -Eq "^drm_gpuvm_bo_put(\.part\.0)? \[drm_gpuvm\]" /sys/kernel/tracing/available_filter_functions
grep -qx "ww_mutex_lock" /sys/kernel/tracing/available_filter_functions
test -e /sys/kernel/btf/drm_gpuvm
mountpoint -q /sys/fs/bpf && mountpoint -q /sys/kernel/debug
touch /usr/.gvt-overlay-write && rm /usr/.gvt-overlay-write
echo guest-ok > "$GVT_OUT/selftest.txt"
exit 42'
set +e
"$here/vm-run.sh" --timeout 300 --out "$out" -- "$check"
rc=$?
set -e
[[ $rc -eq 42 ]] || fail "expected the guest command's status 42, got $rc (guest console below)"
[[ $(cat "$out/selftest.txt" 2>/dev/null) == guest-ok ]] || fail "the out share did not bring back the guest's file"
[[ ! -e /usr/.gvt-overlay-write ]] || fail "a guest write leaked to the host"
echo "harness-selftest: ok (boot + command in $(cat "$out/.vm-run/elapsed") s)"
