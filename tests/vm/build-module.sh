#!/usr/bin/env bash
# Build the exerciser kernel module (tests/vm/exerciser/) against the headers of the
# kernel fetch-kernel.sh picks (GVT_KVER; default 6.12), out of the source tree so the
# repository stays clean.
#
# Usage: tests/vm/build-module.sh     # prints the path of gpuvm_exerciser.ko
#
# The sources are copied to $GVT_CACHE/exerciser/<kver>-<hash>/ and built there with
# `make -C <headers> M=<copy> modules`; a content hash of the sources skips the build
# when nothing changed. 6.12: the host's gcc 12 and the cached headers ($KDIR); needs
# pahole (package dwarves) for the module's BTF. 7.x: the headers need gcc-14 and
# glibc >= 2.38, so the build runs in a Debian trixie build root (build-root.sh:
# debootstrap + linux-headers-<ver>, gcc-14, pahole from trixie-backports; cached).
# arm64 kernels (GVT_ARCH=arm64, the aarch64 guest): cross-built in that root with
# ARCH=arm64 and gcc-14-aarch64-linux-gnu against the arm64 headers (build-root.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${GVT_EXERCISER_SRC:-$here/exerciser}   # override: build another tree (tests)
die() { echo "build-module.sh: $*" >&2; exit 1; }

[[ -d $src ]] || die "no module source in $src"
[[ -e $src/Kbuild || -e $src/Makefile ]] || die "$src has no Kbuild or Makefile"
kenv=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed (see above)"
eval "$kenv"
if [[ -z ${KBUILDROOT:-} ]]; then
  command -v pahole >/dev/null || die "pahole not found (module BTF); apt-get install dwarves"
fi

CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
mkdir -p "$CACHE/exerciser"
exec 9>"$CACHE/exerciser/.lock"
flock 9

# Only what kbuild consumes: sources, headers, Kbuild/Makefile.
mapfile -d '' files < <(cd "$src" && find . -type f \( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) -print0 | sort -z)
hash=$( { echo "$KVER ${KBUILDROOT:-host}"; cd "$src" && for f in "${files[@]}"; do echo "$f"; cat "$f"; done; } | sha256sum | cut -c1-16)
# Keyed by the source hash: several checkouts (other module trees, worktrees) may
# build and boot different sources at once without replacing each other's module.
dst=$CACHE/exerciser/$KVER-$hash
ko=$dst/gpuvm_exerciser.ko
if [[ -s $ko && -e $dst/.src-hash && $(<"$dst/.src-hash") == "$hash" ]]; then
  echo "$ko"; exit 0
fi

rm -rf "$dst"
mkdir -p "$dst"
(cd "$src" && cp --parents "${files[@]}" "$dst/")
if [[ -n ${KBUILDROOT:-} ]]; then
  broot=$("$here/build-root.sh" "$KVER" "${KPKGVER:-}") || die "the $KBUILDROOT build root for $KVER is not available (see above)"
  xarch=()
  [[ ${KARCH:-amd64} == amd64 ]] || xarch=(ARCH="$KARCH")
  build=("$here/run-in-root.sh" "$broot" --bind "$dst" make -C "/usr/src/linux-headers-$KVER" M="$dst" "${xarch[@]}" modules)
  where="make -C /usr/src/linux-headers-$KVER M=$dst ${xarch[*]} modules (in the build root $broot)"
else
  build=(make -C "$KDIR" M="$dst" modules)
  where="make -C $KDIR M=$dst modules"
fi
if ! "${build[@]}" > "$dst/build.log" 2>&1; then
  echo "build-module.sh: $where failed; last lines of $dst/build.log:" >&2
  tail -n 30 "$dst/build.log" >&2
  exit 1
fi
[[ -s $ko ]] || die "the build produced no gpuvm_exerciser.ko (is obj-m := gpuvm_exerciser.o in $src/Kbuild?)"
echo "$hash" > "$dst/.src-hash"
echo "$ko"
