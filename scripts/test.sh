#!/usr/bin/env bash
# Build and run the whole test suite: unit tests (formats, model, rules, CLI, probe
# planning) and the VM tests (the real drm_gpuvm.ko in a QEMU guest).
# Pass ctest options through, e.g. `scripts/test.sh -L unit` for the fast part only.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir build --output-on-failure "$@"
# ctest hides the output of passing tests; the tracer's cost in the guest's stress
# scenario is a measurement worth seeing on every run (no assertion on it).
judge=build/tests/vm/vm_scenario_test
if [[ -x $judge && -d build/tests/vm/results/s/stress ]]; then
  "$judge" --gtest_filter='Stress.*' 2>/dev/null | grep '^stress' || true
fi
