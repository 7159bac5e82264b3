#!/usr/bin/env bash
# What an arm64 cross build of gpuvm-trace, and the aarch64 test guest running it,
# need on this Debian 12 x86-64 machine, as root (scripts/setup.sh runs it). Idempotent.
# The guest runs the arm64 binary with these :arm64 runtime libraries, seen through
# the host root it shares (tests/vm/arm64-userland.sh).
# - Debian multiarch: the arm64 architecture, crossbuild-essential-arm64 and the
#   :arm64 -dev packages the project links (libbpf from bookworm-backports, as on x86).
# - libsimdjson-dev is not Multi-Arch: same in bookworm: installing its :arm64 build
#   would remove the host's. Its arm64 .deb (and the runtime library's) are unpacked
#   instead into $GVT_CACHE/arm64-stage (not installed), which the toolchain file
#   (tests/arm64/aarch64-linux-gnu.cmake) adds to the search path.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "setup-cross.sh: must run as root (apt-get); try: sudo $0" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
stage=$CACHE/arm64-stage

grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ \
  || { echo "setup-cross.sh: no bookworm-backports apt source; run scripts/setup.sh first" >&2; exit 2; }
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -q
fi
pkgs=(crossbuild-essential-arm64 qemu-user-static file
      libelf-dev:arm64 zlib1g-dev:arm64 libfmt-dev:arm64 libxxhash-dev:arm64 libcapstone-dev:arm64
      liblzma-dev:arm64 libzstd-dev:arm64 libgtest-dev:arm64 libsimdjson14:arm64)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
((${#missing[@]} == 0)) || apt-get install -y -q --no-install-recommends "${missing[@]}"
# libbpf >= 1.4 (CO-RE features the tracer uses) only in bookworm-backports, as on x86;
# Multi-Arch: same requires the same version as the host's libbpf-dev. The runtime
# library is named with its version too: apt does not take a backports version (pin
# 100) to satisfy an exact dependency by itself, and gives up ("held broken packages").
want=$(dpkg-query -W -f='${Version}' "libbpf-dev:$(dpkg --print-architecture)")
[[ $(dpkg-query -W -f='${Version}' libbpf-dev:arm64 2>/dev/null || true) == "$want" ]] \
  || apt-get install -y -q --no-install-recommends "libbpf-dev:arm64=$want" "libbpf1:arm64=$want"

# simdjson: same version as the host's, unpacked, never installed.
ver=$(dpkg-query -W -f='${Version}' "libsimdjson-dev:$(dpkg --print-architecture)")
if [[ ! -e $stage/.simdjson-$ver ]]; then
  tmp=$(mktemp -d); chmod 755 "$tmp"  # apt-get download drops privileges to _apt
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -qq "libsimdjson-dev:arm64=$ver" "$(dpkg-query -W -f='${Package}' 'libsimdjson[0-9]*:arm64' | head -n1):arm64=$ver")
  rm -rf "$stage"; mkdir -p "$stage"
  for f in "$tmp"/*.deb; do dpkg-deb -x "$f" "$stage"; done
  [[ -e $stage/usr/lib/aarch64-linux-gnu/cmake/simdjson/simdjson-config.cmake ]] \
    || { echo "setup-cross.sh: libsimdjson-dev:arm64 $ver has no CMake config where expected" >&2; exit 1; }
  touch "$stage/.simdjson-$ver"
fi
echo "setup-cross.sh: arm64 cross build ready (stage: $stage)"
