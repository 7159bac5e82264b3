#!/usr/bin/env bash
# The arm64 cross build, checked (ctest label arm64; needs tests/arm64/setup-cross.sh):
# configures SOURCE_DIR with the toolchain file into BINARY_DIR, builds gpuvm-trace,
# and checks that it is an AArch64 executable whose embedded BPF object reads the arm64
# kprobe argument registers, and that under qemu-user it lints a golden trace exactly
# as the x86 build (X86_BINARY) does.
# usage: cross-build.sh SOURCE_DIR BINARY_DIR X86_BINARY
set -euo pipefail
src=$1 bin=$2 x86=$3
here=$(cd "$(dirname "$0")" && pwd)
command -v aarch64-linux-gnu-g++ >/dev/null \
  || { echo "FAIL: no aarch64-linux-gnu-g++: run tests/arm64/setup-cross.sh (as root) first"; exit 1; }
t0=$(date +%s)
# The release optimisation without debug info: nothing here reads the binary's
# DWARF, and -g costs a seventh of this build, which sits on CI's critical path.
cmake -S "$src" -B "$bin" -DCMAKE_TOOLCHAIN_FILE="$here/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  >"$bin.configure.log" 2>&1 || { cat "$bin.configure.log"; exit 1; }
grep -q "BPF target architecture: arm64" "$bin.configure.log" || { echo "FAIL: BPF object not for arm64"; exit 1; }
cmake --build "$bin" -j2 --target gpuvm-trace
echo "cross build: $(( $(date +%s) - t0 )) s"
desc=$(file -b "$bin/gpuvm-trace")
echo "file: $desc"
[[ $desc == *"ARM aarch64"* ]] || { echo "FAIL: gpuvm-trace is not an AArch64 executable"; exit 1; }
objdump=$(command -v llvm-objdump || command -v llvm-objdump-14)
loads=$("$objdump" -d --section=kprobe "$bin/bpf/gpuvm_trace.bpf.o" | grep -A4 '<kp_bo_create>:' |
        grep -cE '\*\(u64 \*\)\(r[0-9] \+ (0|8|16)\)$' || true)
[[ $loads == 3 ]] || { echo "FAIL: embedded BPF object does not read arm64 regs[0..2]"; exit 1; }
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64) || { echo "FAIL: no qemu-aarch64(-static)"; exit 1; }
for t in G1 X1; do
  trace=$src/tests/traces/$t.jsonl
  a=$("$qemu" -L /usr/aarch64-linux-gnu "$bin/gpuvm-trace" lint "$trace" 2>&1; echo "exit $?")
  b=$("$x86" lint "$trace" 2>&1; echo "exit $?")
  [[ $a == "$b" ]] || { echo "FAIL: arm64 lint of $t differs from x86:"; diff <(echo "$b") <(echo "$a"); exit 1; }
  echo "lint $t: arm64 == x86 ($(tail -n1 <<<"$a"))"
done
echo "arm64 cross build OK"
