#!/usr/bin/env bash
# Everything a guest boot needs, without booting (ctest fixture vm_prepare_<series>):
# the kernel (fetch-kernel.sh), the initramfs and the exerciser module (for 7.x: the
# trixie build root first). On a cold cache this is the slow part (downloads,
# debootstrap); doing it in its own test keeps the boot tests' time limits about the
# guest. GVT_KVER picks the kernel as in vm-run.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t0=$(date +%s)
kenv=$("$here/fetch-kernel.sh") || { echo "prepare.sh: fetch-kernel.sh failed" >&2; exit 1; }
eval "$kenv"
t1=$(date +%s)
"$here/build-initramfs.sh" "$KVER" "$MODDIR" > /dev/null || { echo "prepare.sh: build-initramfs.sh failed" >&2; exit 1; }
t2=$(date +%s)
ko=$("$here/build-module.sh") || { echo "prepare.sh: build-module.sh failed" >&2; exit 1; }
t3=$(date +%s)
echo "prepare.sh: $KVER ready: kernel $((t1 - t0)) s, initramfs $((t2 - t1)) s, exerciser $((t3 - t2)) s ($ko)"
