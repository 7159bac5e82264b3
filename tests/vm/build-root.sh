#!/usr/bin/env bash
# Make (cached) a Debian trixie build root that can build out-of-tree modules for a
# kernel whose headers the host's toolchain cannot use (7.x: gcc-14, glibc >= 2.38;
# bookworm has gcc 12 and glibc 2.36).
#
# Usage: tests/vm/build-root.sh KVER [PKGVER]    # prints the build root's directory
#
# First call: `debootstrap --variant=minbase trixie` from the host's Debian mirror into
# $GVT_CACHE/buildroot/trixie (~25 s), then inside it trixie-backports plus
# `apt-get install --no-install-recommends -t trixie-backports linux-headers-KVER make
# gcc-14 pahole` (~1 min). Later calls for the same KVER cost a stamp check; another
# KVER only adds its headers. The headers then live at /usr/src/linux-headers-KVER
# inside the root; run-in-root.sh executes commands there.
# An arm64 KVER (the aarch64 guest's kernel) is cross-built: the root gets the amd64
# linux-kbuild-<base> (kbuild's host programs run on this machine; the arm64 package's
# would not) and gcc-14-aarch64-linux-gnu (the compiler the headers name), and the
# arm64 headers, which apt cannot install into an amd64 root, are copied from the
# tree fetch-kernel.sh extracted ($GVT_CACHE/kernel/KVER), their Makefile pointed
# back at the root's /usr/src. Build with ARCH=arm64 (build-module.sh).
set -euo pipefail

die() { echo "build-root.sh: $*" >&2; exit 1; }
[[ $# -ge 1 && $# -le 2 ]] || die "usage: build-root.sh KVER [PKGVER]"
kver=$1 pkgver=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
dist=trixie
root=$CACHE/buildroot/$dist
stamp=$root/.gvt-headers-$kver

if [[ -e $root/.gvt-complete && -e $stamp ]]; then echo "$root"; exit 0; fi

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap not found; run scripts/setup.sh (apt-get install debootstrap)"
command -v unshare >/dev/null || die "unshare not found (util-linux)"

mkdir -p "$CACHE/buildroot"
exec 9>"$CACHE/buildroot/.lock"
flock 9
if [[ -e $root/.gvt-complete && -e $stamp ]]; then echo "$root"; exit 0; fi

mirror=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

log=$CACHE/buildroot/$dist.log
if [[ ! -e $root/.gvt-complete.base ]]; then
  echo "build-root.sh: creating the $dist build root in $root (debootstrap, about 1.5 min the first time)" >&2
  tmp=$root.tmp.$$
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase --keyring="$keyring" "$dist" "$tmp" "$mirror" > "$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "debootstrap $dist failed (network/mirror?); log: $log"; }
  cat > "$tmp/etc/apt/sources.list.d/gvt.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $dist-backports
Components: main
SRC
  # No recommends, no docs: the root only compiles modules.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$tmp/etc/apt/apt.conf.d/90gvt"
  rm -rf "$root"
  mv "$tmp" "$root"
  trap - EXIT
  touch "$root/.gvt-complete.base"
fi

pkg=linux-headers-$kver
[[ -n $pkgver ]] && pkg="$pkg=$pkgver"
extra=''
if [[ $kver == *-arm64 ]]; then
  kbase=${kver%-arm64}
  pkg=linux-kbuild-$kbase
  [[ -n $pkgver ]] && pkg="$pkg=$pkgver"
  extra=gcc-14-aarch64-linux-gnu
  src=$CACHE/kernel/$kver/usr/src
  [[ -e $src/linux-headers-$kver/Makefile ]] || die "no fetched headers in $src (run fetch-kernel.sh with GVT_ARCH=arm64 first)"
fi
echo "build-root.sh: installing $pkg make gcc-14 pahole $extra in $root" >&2
if ! "$here/run-in-root.sh" "$root" sh -c "
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends -t $dist-backports '$pkg' make gcc-14 pahole $extra
  apt-get clean" >> "$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "installing the headers of $kver in the build root failed; log: $log"
fi
if [[ $kver == *-arm64 ]]; then
  for d in "linux-headers-$kbase-common" "linux-headers-$kver"; do
    [[ $d == *-common && -e $root/usr/src/$d/Makefile ]] && continue  # arch-independent, maybe there
    rm -rf "$root/usr/src/$d.tmp"
    cp -a "$src/$d" "$root/usr/src/$d.tmp" || die "cannot copy $src/$d into the build root"
    rm -rf "$root/usr/src/$d"; mv "$root/usr/src/$d.tmp" "$root/usr/src/$d"
  done
  sed -i -e "s|^include .*/usr/src/|include /usr/src/|" -e "s|^KBUILD_OUTPUT=.*/usr/src/|KBUILD_OUTPUT=/usr/src/|" \
    "$root/usr/src/linux-headers-$kver/Makefile"
  [[ -x $root/usr/src/linux-headers-$kver/scripts/basic/fixdep ]] \
    || die "the arm64 headers' scripts/ does not resolve to the root's linux-kbuild-$kbase"
fi
[[ -e $root/usr/src/linux-headers-$kver/Makefile ]] || die "no /usr/src/linux-headers-$kver in the build root after installing it"
touch "$root/.gvt-complete" "$stamp"
echo "$root"
