#!/usr/bin/env bash
# Build and run the whole test suite: unit tests (formats, model, rules, CLI, probe
# planning) and the VM tests (the real drm_gpuvm.ko in a QEMU guest).
# Pass ctest options through, e.g. `scripts/test.sh -L unit` for the fast part only.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir build --output-on-failure "$@"
