#!/usr/bin/env bash
# Build (cached) the busybox initramfs of the test guest for one kernel.
#
# Usage: tests/vm/build-initramfs.sh KVER MODDIR   # prints the path of the .cpio.gz
#
# Contents: busybox-static with its applets, guest-init.sh as /init, and the
# decompressed modules the guest needs before it can reach the host's files (9p,
# overlay) plus drm, drm_exec and drm_gpuvm, with their dependencies resolved by
# modinfo. Cached in $GVT_CACHE/initramfs/, keyed by the kernel, the init script,
# this script and busybox; the second call costs a hash.
# An arm64 kernel (release ending in -arm64, for the aarch64 guest) gets the arm64
# busybox-static of arm64-userland.sh's layer instead of the host's.
set -euo pipefail

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: build-initramfs.sh KVER MODDIR"
kver=$1 moddir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
if [[ $kver == *-arm64 ]]; then
  layer=$("$here/arm64-userland.sh") || die "arm64-userland.sh failed (see above)"
  bb=$layer/usr/bin/busybox
  bblist() { "$(command -v qemu-aarch64-static || command -v qemu-aarch64)" "$bb" --list; }
else
  bb=$(command -v busybox || true)
  [[ -n $bb && -x $bb ]] || die "busybox not found; apt-get install busybox-static"
  file -L "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' \
    || die "$bb is not static; apt-get install busybox-static"
  bblist() { "$bb" --list; }
fi
[[ -d $moddir/kernel ]] || die "no modules in $moddir; run tests/vm/fetch-kernel.sh"

wanted=(netfs 9pnet 9pnet_virtio 9p overlay drm drm_exec drm_gpuvm)

key=$( { echo "$kver"; echo "$moddir"; printf '%s\n' "${wanted[@]}"; cat "$here/guest-init.sh" "${BASH_SOURCE[0]}"; sha256sum < "$bb"; } | sha256sum | cut -c1-16)
out=$CACHE/initramfs/$kver-$key.cpio.gz
if [[ -s $out ]]; then echo "$out"; exit 0; fi

mkdir -p "$CACHE/initramfs"
exec 9>"$CACHE/initramfs/.lock"
flock 9
if [[ -s $out ]]; then echo "$out"; exit 0; fi

tmp=$(mktemp -d "$CACHE/initramfs/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,lower,out,rw,root,modules,etc}

# Module path by name (modules are named with '-' or '_' interchangeably).
declare -A path_of=()
while IFS= read -r -d '' f; do
  b=$(basename "$f"); b=${b%.ko*}; path_of[${b//-/_}]=$f
done < <(find "$moddir/kernel" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)

declare -A seen=()
order=()
add() {   # depth-first: dependencies before the module
  local n=${1//-/_} d
  [[ -n ${seen[$n]:-} ]] && return 0
  seen[$n]=1
  [[ -n ${path_of[$n]:-} ]] || die "module $n not found under $moddir"
  for d in $(modinfo -F depends "${path_of[$n]}" | tr ',' ' '); do add "$d"; done
  order+=("$n")
}
for m in "${wanted[@]}"; do add "$m"; done

for n in "${order[@]}"; do
  f=${path_of[$n]}
  case $f in
    *.xz) xz -dc "$f" ;;
    *.zst) zstd -dc "$f" ;;
    *.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac > "$root/modules/$n.ko" || die "cannot decompress $f"
  echo "$n" >> "$root/modules.order"
done

cp "$bb" "$root/bin/busybox"
for a in $(bblist); do
  [[ $a == busybox ]] || ln -sf busybox "$root/bin/$a"
done
install -m 0755 "$here/guest-init.sh" "$root/init"
# Where the guest finds this kernel's module files (the tracer reads drm_gpuvm.ko's code).
realpath "$moddir" > "$root/moddir"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$tmp/img" \
  || die "cpio/gzip failed"
mv "$tmp/img" "$out"
# Older images of this kernel are dead weight (after an hour: a concurrent run may
# be about to hand one to QEMU).
find "$CACHE/initramfs" -maxdepth 1 -name "$kver-*.cpio.gz" ! -path "$out" -mmin +60 -delete
echo "$out"
