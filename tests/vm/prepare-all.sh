#!/usr/bin/env bash
# Prepares every guest the whole suite boots: tests/vm/prepare.sh for Debian 6.12,
# 7.2 and the aarch64 7.2, one after the other. On a cold cache 5-7 minutes, mostly
# downloads, a debootstrap and module builds; seconds on a warm one. scripts/test.sh
# and .ci/run start it beside a build so that the waiting overlaps the compiling;
# ctest's vm_prepare_* fixtures then find the guests ready. Stops at the first failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for k in 6.12 7.2; do GVT_KVER=$k "$here/prepare.sh"; done
GVT_KVER=7.2 GVT_ARCH=arm64 "$here/prepare.sh"
