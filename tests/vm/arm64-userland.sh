#!/usr/bin/env bash
# Build (cached) the arm64 userland layer of the aarch64 test guest.
#
# Usage: tests/vm/arm64-userland.sh     # prints the layer's directory
#
# The aarch64 guest, like the x86 one, uses the host's own root (shared over 9p) as
# its userspace: the repository, the build trees, the kernel cache and the arm64
# gpuvm-trace's shared libraries (Debian multiarch :arm64 packages, which
# scripts/setup.sh installs for the cross build) are all already there. What the
# host lacks are arm64 programs for the scripts the guest runs. This layer supplies
# them: Debian's arm64 busybox-static (also the initramfs' /init shell), bash,
# coreutils, grep, sed, mawk and findutils with their libraries, unpacked with
# dpkg-deb -x (never installed) into a merged-/usr tree. guest-init.sh stacks it
# over the host root (overlayfs, layer first), so /bin/sh, bash, date, awk, insmod,
# ... resolve to arm64 programs at their usual paths, while every other host file
# stays visible; a host program the layer does not shadow fails loudly with "Exec
# format error". vm-run.sh shares the layer read-only over 9p (tag ulayer); its
# busybox is also the /init shell of the arm64 initramfs (build-initramfs.sh). In usr/bin and usr/sbin each name points to the real Debian
# program where one exists, else to busybox: PATH lists /usr/sbin first and must
# not find an x86 binary (kmod's insmod) or a busybox applet before coreutils.
#
# Packages come from the host's apt (the arm64 architecture is added by
# scripts/setup.sh) into $GVT_CACHE/arm64-userland/debs; the layer is keyed by the
# exact .deb files and this script. A second call costs a hash.
set -euo pipefail

die() { echo "arm64-userland.sh: $*" >&2; exit 1; }
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
base=$CACHE/arm64-userland
debs=$base/debs
pkgs=(busybox-static bash libtinfo6 coreutils libacl1 libattr1 libgmp10 libselinux1
      libpcre2-8-0 grep sed mawk findutils libc6)

mkdir -p "$debs" || die "cannot create $debs; set GVT_CACHE to a writable directory"
exec 9>"$base/.lock"
flock 9

have_all() {
  local p
  for p in "${pkgs[@]}"; do compgen -G "$debs/${p}_*_arm64.deb" >/dev/null || return 1; done
}
if ! have_all; then
  dpkg --print-foreign-architectures | grep -qx arm64 \
    || die "the arm64 architecture is not enabled in dpkg; run scripts/setup.sh (as root)"
  chmod 755 "$debs"   # apt-get download drops privileges to _apt
  (cd "$debs" && apt-get download -qq "${pkgs[@]/%/:arm64}") > "$base/download.log" 2>&1 || {
    apt-get update -qq > /dev/null 2>&1 || true
    (cd "$debs" && apt-get download -qq "${pkgs[@]/%/:arm64}") > "$base/download.log" 2>&1 \
      || die "apt-get download of the arm64 userland failed (network/mirror?); see $base/download.log"
  }
  have_all || die "apt-get download left packages missing in $debs"
fi

# Newest .deb per package (an older one may linger after a point release).
files=()
for p in "${pkgs[@]}"; do
  files+=("$(ls "$debs/${p}"_*_arm64.deb | sort -V | tail -n1)")
done
key=$( { printf '%s\n' "${files[@]##*/}"; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
layer=$base/layer-$key
if [[ -e $layer/.complete ]]; then echo "$layer"; exit 0; fi

tmp=$(mktemp -d "$base/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
l=$tmp/layer
mkdir -p "$l/usr/bin" "$l/usr/sbin" "$l/usr/lib"
for f in "${files[@]}"; do
  x=$tmp/x
  rm -rf "$x"; mkdir -p "$x"
  dpkg-deb -x "$f" "$x" || die "dpkg-deb -x $f failed (corrupt download? delete it and retry)"
  rm -rf "$x/usr/share" "$x/etc"
  # Merged /usr, as the host: a real /bin in the layer would hide the host's /bin.
  for d in bin sbin lib; do
    if [[ -d $x/$d && ! -L $x/$d ]]; then cp -a "$x/$d/." "$l/usr/$d/"; rm -rf "${x:?}/$d"; fi
  done
  [[ -d $x/usr ]] && cp -a "$x/usr/." "$l/usr/"
done
bb=$l/usr/bin/busybox
[[ -x $bb ]] || die "busybox-static:arm64 did not provide usr/bin/busybox"
file -b "$bb" | grep -q 'ARM aarch64.*statically linked' || die "$bb is not a static AArch64 program"
# Applet names: busybox itself, run by qemu-user (qemu-user-static, scripts/setup.sh).
qu=$(command -v qemu-aarch64-static || command -v qemu-aarch64) || die "no qemu-aarch64-static; run scripts/setup.sh"
applets=$("$qu" "$bb" --list) || die "could not list busybox's applets ($qu $bb --list)"
[[ $(wc -w <<<"$applets") -gt 100 ]] || die "busybox --list printed too few applets"
for a in $applets awk; do
  [[ $a == busybox ]] && continue
  tgt=''
  for d in usr/bin usr/sbin; do
    if [[ -e $l/$d/$a && ! -L $l/$d/$a ]] || [[ -L $l/$d/$a && $(readlink "$l/$d/$a") != /usr/bin/busybox ]]; then
      tgt=/$d/$a; break
    fi
  done
  [[ $a == awk && -x $l/usr/bin/mawk ]] && tgt=/usr/bin/mawk
  [[ -n $tgt ]] || tgt=/usr/bin/busybox
  for d in usr/bin usr/sbin; do
    [[ /$d/$a == "$tgt" ]] || ln -sfn "$tgt" "$l/$d/$a"
  done
done
# /bin/sh is bash (POSIX mode, as dash would be): busybox ash would run its own
# applets (date without %N, ...) ahead of the coreutils programs on PATH.
ln -sfn /usr/bin/bash "$l/usr/bin/sh"; ln -sfn /usr/bin/bash "$l/usr/sbin/sh"
[[ -x $l/usr/bin/bash ]] || die "bash:arm64 did not provide usr/bin/bash"
touch "$l/.complete"
rm -rf "$layer"
mv "$l" "$layer"
find "$base" -maxdepth 1 -name 'layer-*' ! -path "$layer" -mmin +60 -exec rm -rf {} + 2>/dev/null || true
echo "$layer"
