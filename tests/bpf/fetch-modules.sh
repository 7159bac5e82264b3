#!/usr/bin/env bash
# ctest fixture of the put-coverage tests on real kernels: fetches the Debian kernels
# the VM tests boot (tests/vm/fetch-kernel.sh: cached, nothing installed on the host)
# and lists their drm_gpuvm module files in $1, one "<series> <release> <path>" a line.
# A series may name an architecture: "arm64:7.2" is the aarch64 guest's kernel (listed
# as series "arm64:7.2"). Fails loudly when a kernel cannot be fetched: these tests must
# not pass by skipping.
set -euo pipefail
out=${1:?usage: fetch-modules.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$out.tmp.$$
: > "$tmp"
for series in ${GVT_PUTCOV_SERIES:-6.12 7.2 arm64:7.2}; do
  arch=amd64 kver=$series
  [[ $series == *:* ]] && arch=${series%%:*} kver=${series#*:}
  if ! env=$(GVT_ARCH=$arch GVT_KVER=$kver "$here/../vm/fetch-kernel.sh"); then
    echo "fetch-modules.sh: fetching the Debian $series kernel failed (network? see above)" >&2
    rm -f "$tmp"; exit 1
  fi
  eval "$env"
  # fetch-kernel.sh may fall back to another cached kernel: that is not this series.
  [[ $KVER == "$kver".*-"$arch" ]] || { echo "fetch-modules.sh: asked for $series, got $KVER" >&2; rm -f "$tmp"; exit 1; }
  ko=$(find "$MODDIR" -name 'drm_gpuvm.ko*' -print -quit)
  [[ -n $ko ]] || { echo "fetch-modules.sh: no drm_gpuvm.ko* under $MODDIR ($series)" >&2; rm -f "$tmp"; exit 1; }
  echo "$series $KVER $ko" >> "$tmp"
done
mv "$tmp" "$out"
cat "$out"
