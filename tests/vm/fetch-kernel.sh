#!/usr/bin/env bash
# Fetch the Debian 6.12 kernel the VM tests boot, without installing it on the host.
#
# Usage: tests/vm/fetch-kernel.sh            # prints KEY=VALUE lines, e.g.
#        eval "$(tests/vm/fetch-kernel.sh)"  # then use $KVER $KDIR $VMLINUZ $MODDIR
#
# Downloads (apt-get download) the newest linux-image-6.12.*+deb12-amd64 of
# bookworm-backports plus its headers, -common headers and linux-kbuild, and
# extracts them with dpkg-deb -x into $GVT_CACHE/kernel/<ver>/ (default cache:
# /var/cache/gpuvm-trace, outside the repository). A stamp file makes the second
# run a no-op. GVT_KVER=<ver> pins a version instead of picking the newest.
#
# Output (stdout, shell-quoted so that eval is safe):
#   KVER     kernel release, e.g. 6.12.95+deb12-amd64
#   KROOT    root of the extracted tree
#   KDIR     headers for out-of-tree modules (make -C $KDIR M=... modules)
#   VMLINUZ  bootable kernel image
#   MODDIR   lib/modules/<ver> of the extracted tree (drm*.ko.xz live below it)
set -euo pipefail

die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

# Checked on this machine (real-kernel.md); used when apt metadata has nothing better.
FALLBACK_KVER=6.12.95+deb12-amd64
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}

mkdir -p "$CACHE/kernel" "$CACHE/debs" || die "cannot create cache $CACHE; set GVT_CACHE to a writable directory"

emit() {
  local kver=$1 root=$CACHE/kernel/$1
  printf 'KVER=%q\nKROOT=%q\nKDIR=%q\nVMLINUZ=%q\nMODDIR=%q\n' \
    "$kver" "$root" "$root/usr/src/linux-headers-$kver" \
    "$root/boot/vmlinuz-$kver" "$root/lib/modules/$kver"
}

# Fast path: a pinned or previously fetched version needs no apt at all.
if [[ -n ${GVT_KVER:-} && -e $CACHE/kernel/$GVT_KVER/.complete ]]; then
  emit "$GVT_KVER"; exit 0
fi
if [[ -z ${GVT_KVER:-} && -e $CACHE/kernel/.current ]]; then
  cur=$(<"$CACHE/kernel/.current")
  # Re-query apt at most once a day; otherwise the cached choice stands.
  if [[ -e $CACHE/kernel/$cur/.complete && -z $(find "$CACHE/kernel/.current" -mmin +1440 2>/dev/null) ]]; then
    emit "$cur"; exit 0
  fi
fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || die "needs apt-get and dpkg-deb (Debian host); run scripts/setup.sh"

# Several developers and ctest jobs may run this at once: serialise the download.
exec 9>"$CACHE/kernel/.lock"
flock 9

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  die "no bookworm-backports apt source; run scripts/setup.sh (as root) to add it"
fi

# Version of PKG that bookworm-backports carries (empty if none).
bp_version() {
  apt-cache madison "$1" 2>/dev/null | awk -F'|' '$3 ~ /bookworm-backports/ {gsub(/ /,"",$2); print $2; exit}'
}

newest_bp_kver() {
  local p
  for p in $(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null \
             | awk '{print $1}' | sort -rV); do
    if [[ -n $(bp_version "$p") ]]; then echo "${p#linux-image-}"; return 0; fi
  done
  return 1
}

kver=${GVT_KVER:-}
if [[ -z $kver ]]; then
  kver=$(newest_bp_kver || true)
  if [[ -z $kver ]]; then
    # Metadata may simply be stale (source added but never updated).
    apt-get update -qq >/dev/null 2>&1 || true
    kver=$(newest_bp_kver || true)
  fi
  [[ -n $kver ]] || { echo "fetch-kernel.sh: no 6.12 image found in bookworm-backports; trying $FALLBACK_KVER" >&2; kver=$FALLBACK_KVER; }
fi

root=$CACHE/kernel/$kver
if [[ -e $root/.complete ]]; then
  echo "$kver" > "$CACHE/kernel/.current"
  emit "$kver"; exit 0
fi

# A newer kernel that cannot be fetched (offline mirror) must not break a machine
# that already has a working one.
prev=$(cat "$CACHE/kernel/.current" 2>/dev/null || true)
fallback_or_die() {
  if [[ -n $prev && $prev != "$kver" && -e $CACHE/kernel/$prev/.complete ]]; then
    echo "fetch-kernel.sh: $*; keeping the cached $prev" >&2
    touch "$CACHE/kernel/.current"
    emit "$prev"; exit 0
  fi
  die "$*"
}

base=${kver%-amd64}                 # 6.12.95+deb12
pkgs=("linux-image-$kver" "linux-headers-$kver" "linux-headers-$base-common" "linux-kbuild-$base")

debs=()
for p in "${pkgs[@]}"; do
  v=$(bp_version "$p")
  if [[ -z $v ]]; then
    apt-get update -qq >/dev/null 2>&1 || true
    v=$(bp_version "$p")
  fi
  [[ -n $v ]] || fallback_or_die "package $p not in bookworm-backports; run 'apt-get update' or pin another GVT_KVER"
  # apt-get download names files with the epoch's ':' escaped as %3a.
  f=$(ls "$CACHE/debs/${p}_${v/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
  if [[ -z $f ]]; then
    (cd "$CACHE/debs" && apt-get download -qq "$p=$v" >"$CACHE/debs/.download.log" 2>&1) \
      || fallback_or_die "apt-get download $p=$v failed (network/mirror?); see $CACHE/debs/.download.log"
    f=$(ls "$CACHE/debs/${p}_${v/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
    [[ -n $f ]] || die "apt-get download $p=$v produced no .deb in $CACHE/debs"
  fi
  debs+=("$f")
done

tmp=$root.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
for f in "${debs[@]}"; do
  dpkg-deb -x "$f" "$tmp" || die "dpkg-deb -x $f failed (corrupt download? delete it and retry)"
done

# Packaged symlinks are absolute (/usr/src/..., /usr/lib/linux-kbuild-...): point them
# into this tree instead, so nothing resolves against the host.
while IFS= read -r -d '' l; do
  t=$(readlink "$l")
  [[ $t == /* ]] || continue
  rel=$(realpath -m --relative-to="$(dirname "$l")" "$tmp$t")
  ln -sfn "$rel" "$l"
done < <(find "$tmp" -type l -print0)

# The headers' Makefile includes the -common tree by absolute path as well.
sed -i "s|^include /usr/src/|include $root/usr/src/|" "$tmp/usr/src/linux-headers-$kver/Makefile"

[[ -f $tmp/boot/vmlinuz-$kver ]] || die "extracted tree lacks boot/vmlinuz-$kver"
[[ -d $tmp/lib/modules/$kver/kernel/drivers/gpu/drm ]] || die "extracted tree lacks the drm modules"
[[ -e $tmp/usr/src/linux-headers-$kver/Makefile && -e $tmp/usr/src/linux-headers-$kver/scripts/Makefile.build ]] \
  || die "headers in $tmp/usr/src/linux-headers-$kver do not resolve (kbuild/common missing)"

rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
touch "$root/.complete"
echo "$kver" > "$CACHE/kernel/.current"
rm -f "${debs[@]}"    # ~150 MB, and the extracted tree is all we use
emit "$kver"
