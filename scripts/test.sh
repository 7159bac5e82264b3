#!/usr/bin/env bash
# Build and run the whole test suite: unit tests (formats, model, rules, CLI, probe
# planning), the VM tests (the real drm_gpuvm.ko in a QEMU guest: x86 on Debian 6.12
# and 7.2, aarch64 on Debian's arm64 7.2) and the arm64 cross build they need.
# Pass ctest options through, e.g. `scripts/test.sh -L unit` for the fast part only.
# GVT_ARM64_SCENARIOS="g1 double-put ..." runs only those scenarios in the aarch64
# guest (default: its whole table column).
set -euo pipefail
cd "$(dirname "$0")/.."
# The guests' kernels, initramfs and exerciser modules (ctest's vm_prepare_* fixtures)
# are, on a cold cache, minutes of downloads, a debootstrap and module builds:
# prepared beside the build when the whole suite runs. The fixtures still run in
# ctest, find them ready in seconds, and retry and fail loudly if this did not.
prep_pid=''
if (($# == 0)); then
  tests/vm/prepare-all.sh > build-prepare.log 2>&1 &
  prep_pid=$!
fi
./scripts/build.sh -DGVT_ARM64_TESTS=ON "-DGVT_ARM64_SCENARIOS=${GVT_ARM64_SCENARIOS:-}"
if [[ -n $prep_pid ]] && ! wait "$prep_pid"; then
  echo "test.sh: preparing the guests beside the build failed (build-prepare.log); ctest's" \
       "vm_prepare tests try again:" >&2
  tail -n 5 build-prepare.log >&2
fi
# No retry: a guest test that fails is a failure (issue 9: 30 consecutive `ctest -L vm`
# runs passed without one under thread=single TCG; tests/bench/RESULTS.md).
ctest --test-dir build --output-on-failure "$@"
# ctest hides the output of passing tests; the tracer's cost in the guest's stress
# scenario is a measurement worth seeing on every run (no assertion on it).
for k in 6.12 7.2; do
  judge=build/tests/vm/vm_scenario_test_${k//./_}
  if [[ -x $judge && -d build/tests/vm/results-$k/s/stress ]]; then
    "$judge" --gtest_filter='Stress.*' 2>/dev/null | sed -n "s/^stress/stress ($k guest)/p" || true
  fi
done
# The aarch64 guest's cost: boot, tracer attach, the scenarios, tracer stop.
r=build/tests/vm/results-arm64
if [[ -r $r/.vm-run/elapsed && -r $r/batch/live.attach_ns ]]; then
  echo "aarch64 guest: whole run $(cut -d. -f1 "$r/.vm-run/elapsed") s, tracers attached after" \
    "$(($(cat "$r/batch/live.attach_ns") / 1000000000)) s, $(ls "$r/s" | wc -l) scenarios," \
    "put coverage $(sed -n 's/^coverage: put=\([a-z]*\).*/\1/p' "$r/dryrun.out")"
fi
