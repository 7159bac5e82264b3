#!/bin/sh
# Configures and compiles the BPF object for arm64 on this build machine, then checks
# that its kprobe programs read the arm64 argument registers (regs[0..2] at offsets
# 0, 8, 16 of user_pt_regs) rather than another architecture's.
# usage: check.sh SOURCE_DIR BINARY_DIR
set -eu
src=$1
bin=$2
rm -rf "$bin"
cmake -S "$src" -B "$bin" -DGVT_BPF_PROCESSOR=aarch64 >"$bin.log" 2>&1 || { cat "$bin.log"; exit 1; }
grep -q "BPF target architecture: arm64" "$bin.log" || { echo "FAIL: aarch64 did not map to arm64"; cat "$bin.log"; exit 1; }
cmake --build "$bin"
objdump=$(command -v llvm-objdump || command -v llvm-objdump-14)
loads=$("$objdump" -d --section=kprobe "$bin/gpuvm_trace.bpf.o" | grep -A4 '<kp_bo_create>:' |
        grep -cE '\*\(u64 \*\)\(r[0-9] \+ (0|8|16)\)$' || true)
if [ "$loads" != 3 ]; then
  echo "FAIL: kp_bo_create does not read arm64 regs[0..2] (found $loads of 3 loads)"
  "$objdump" -d --section=kprobe "$bin/gpuvm_trace.bpf.o" | grep -A6 '<kp_bo_create>:'
  exit 1
fi
echo "arm64 BPF object OK"
