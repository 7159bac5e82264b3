#!/usr/bin/env bash
# Install everything gpuvm-trace needs on Debian 12 (bookworm), as root.
# Idempotent: safe to run again; it only adds what is missing.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: must run as root (apt-get); try: sudo $0" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive

# libbpf >= 1.4 and bpftool >= 7.5 exist only in bookworm-backports, and so does the
# 6.12 kernel the VM tests boot. Reuse the mirror and key of the main source.
bp=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n "$uri" ]] || uri=http://deb.debian.org/debian
  cat > "$bp" <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -f /var/lib/apt/.gpuvm-trace-updated
fi

stamp=/var/lib/apt/.gpuvm-trace-updated
if [[ ! -e $stamp || -n $(find "$bp" -newer "$stamp" 2>/dev/null) ]]; then
  apt-get update -q
  touch "$stamp"
fi

pkgs=(
  build-essential cmake pkg-config git time
  libcli11-dev libfmt-dev libsimdjson-dev libgtest-dev libxxhash-dev robin-map-dev
  libelf-dev zlib1g-dev clang llvm
  libcapstone-dev liblzma-dev libzstd-dev  # put coverage: disassembling the module's code (.ko.xz, .ko.zst)
  libclang-rt-dev  # libFuzzer + clang's sanitizer runtimes (.ci/run's fuzz pass); only recommended by clang
  qemu-system-x86 busybox-static cpio kmod xz-utils dwarves
  debootstrap      # the trixie build root of the 7.2 exerciser modules (tests/vm/build-root.sh)
  qemu-system-arm  # qemu-system-aarch64: the aarch64 guest (ctest -L vm-arm64)
  man-db dpkg-dev
)
bp_pkgs=(libbpf-dev bpftool)

# Installed for this machine's architecture (or arch all): a bare `dpkg -s NAME` also
# answers yes for the :arm64 copy that tests/arm64/setup-cross.sh installs.
arch=$(dpkg --print-architecture)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p:$arch" >/dev/null 2>&1 || dpkg -s "$p:all" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Versions matter here (CO-RE features, skeleton C++ helpers): force backports.
need_bp=0
dpkg --compare-versions "$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo 0)" ge 1:1.4 || need_bp=1
dpkg --compare-versions "$(dpkg-query -W -f='${Version}' bpftool 2>/dev/null || echo 0)" ge 7.5 || need_bp=1
if ((need_bp)); then
  apt-get install -y -q --no-install-recommends -t bookworm-backports "${bp_pkgs[@]}"
fi
# The arm64 cross build and the aarch64 guest (ctest -L vm-arm64): the arm64
# architecture, crossbuild-essential-arm64, the :arm64 libraries, qemu-user-static.
"$(dirname "$0")/../tests/arm64/setup-cross.sh"
