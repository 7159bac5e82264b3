#!/usr/bin/env bash
# Fetch a Debian kernel the VM tests boot, without installing it on the host.
#
# Usage: tests/vm/fetch-kernel.sh            # prints KEY=VALUE lines, e.g.
#        eval "$(tests/vm/fetch-kernel.sh)"  # then use $KVER $KDIR $VMLINUZ $MODDIR
#
# Which kernel (GVT_KVER):
#   unset                      the newest 6.12.*+deb12-amd64 of bookworm-backports (default)
#   a series, e.g. 7.2 / 6.12  the newest <series>.*+debNN-amd64 of the suites below
#   a release, e.g. 7.2.12+deb13-amd64   exactly that one
# Architecture (GVT_ARCH): amd64 (default; also x86_64) or arm64 (also aarch64): the
#   kernel of that Debian architecture, e.g. GVT_ARCH=arm64 GVT_KVER=7.2 picks
#   7.2.*+deb13-arm64 for the aarch64 guest. Its linux-kbuild (host tools that run on
#   the build machine) comes as amd64 into the build root instead (build-root.sh).
# Suites: +deb12 kernels come from bookworm-backports through the host's own apt
# (scripts/setup.sh adds that source); +deb13 from trixie-backports and +deb14 from
# sid, both through a private apt configuration under $GVT_CACHE/apt/<suite>/
# (Dir::Etc::sourcelist, Dir::State::Lists, Dir::Cache, an empty dpkg status): the
# host's apt never sees those suites and nothing is installed on the host.
#
# Downloads (apt-get download) the image (or, where linux-image-* is a meta package,
# linux-binary-* and linux-modules-*), its headers, -common headers and linux-kbuild,
# and extracts them with dpkg-deb -x into $GVT_CACHE/kernel/<ver>/ (default cache:
# /var/cache/gpuvm-trace, outside the repository). A stamp file makes the second run a
# no-op; apt is re-queried for a newer release of a series at most once a day.
#
# Output (stdout, shell-quoted so that eval is safe):
#   KVER     kernel release, e.g. 6.12.95+deb12-amd64
#   KROOT    root of the extracted tree
#   KDIR     headers for out-of-tree modules (make -C $KDIR M=... modules)
#   VMLINUZ  bootable kernel image (boot/vmlinuz-<ver>, or usr/lib/modules/<ver>/vmlinuz
#            in the merged-/usr packages of 7.x)
#   MODDIR   <ver>'s modules directory of the extracted tree (drm*.ko.xz live below it)
#   KSUITE   Debian suite the kernel came from (bookworm-backports, trixie-backports, sid)
#   KPKGVER  Debian version of its packages, e.g. 7.2.12-1~bpo13+1
#   KBUILDROOT  empty when the host's compiler builds modules for it; otherwise the
#            Debian release whose build root must (build-module.sh: trixie; the 7.x
#            headers need gcc-14 and glibc >= 2.38, which bookworm lacks)
#   KARCH    Debian architecture of the kernel (amd64, arm64)
set -euo pipefail

die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

# Checked on this machine (real-kernel.md); used when apt metadata has nothing better.
FALLBACK_KVER=6.12.95+deb12-amd64
DEFAULT_SERIES=6.12
CACHE=${GVT_CACHE:-/var/cache/gpuvm-trace}
mirror_default=http://deb.debian.org/debian
case ${GVT_ARCH:-amd64} in
  amd64|x86_64) arch=amd64 ;;
  arm64|aarch64) arch=arm64 FALLBACK_KVER=6.12.95+deb12-arm64 ;;
  *) echo "fetch-kernel.sh: GVT_ARCH='$GVT_ARCH' is not amd64 or arm64" >&2; exit 1 ;;
esac

mkdir -p "$CACHE/kernel" "$CACHE/debs" || die "cannot create cache $CACHE; set GVT_CACHE to a writable directory"

req=${GVT_KVER:-$DEFAULT_SERIES}
series='' kver=''
if [[ $req =~ ^[0-9]+\.[0-9]+$ ]]; then
  series=$req
elif [[ $req =~ ^([0-9]+\.[0-9]+)\.[0-9]+\+deb[0-9]+-$arch$ ]]; then
  kver=$req series=${BASH_REMATCH[1]}
else
  die "GVT_KVER='$req' is neither a series (e.g. 7.2) nor a Debian $arch release (e.g. 7.2.12+deb13-$arch)"
fi
# The choice per series is remembered; 6.12 keeps the historical file name.
cur_file=$CACHE/kernel/.current
[[ $series == "$DEFAULT_SERIES" ]] || cur_file=$CACHE/kernel/.current-$series
[[ $arch == amd64 ]] || cur_file=$CACHE/kernel/.current-$series-$arch

emit() {
  local kver=$1 root=$CACHE/kernel/$1 meta
  meta=$root/.meta
  local vmlinuz=$root/boot/vmlinuz-$kver moddir=$root/lib/modules/$kver
  [[ -e $vmlinuz ]] || vmlinuz=$root/usr/lib/modules/$kver/vmlinuz
  [[ -d $moddir ]] || moddir=$root/usr/lib/modules/$kver
  local suite='' pkgver='' buildroot=''
  if [[ -r $meta ]]; then
    suite=$(sed -n 's/^suite=//p' "$meta"); pkgver=$(sed -n 's/^pkgver=//p' "$meta")
  fi
  case $kver in
    *+deb12-*) : "${suite:=bookworm-backports}" ;;
    *+deb13-*) : "${suite:=trixie-backports}"; buildroot=trixie ;;
    *) : "${suite:=sid}"; buildroot=trixie ;;
  esac
  printf 'KVER=%q\nKROOT=%q\nKDIR=%q\nVMLINUZ=%q\nMODDIR=%q\nKSUITE=%q\nKPKGVER=%q\nKBUILDROOT=%q\nKARCH=%q\n' \
    "$kver" "$root" "$root/usr/src/linux-headers-$kver" "$vmlinuz" "$moddir" \
    "$suite" "$pkgver" "$buildroot" "$arch"
}

# Fast path: a pinned or previously fetched version needs no apt at all.
if [[ -n $kver && -e $CACHE/kernel/$kver/.complete ]]; then
  emit "$kver"; exit 0
fi
if [[ -z $kver && -e $cur_file ]]; then
  cur=$(<"$cur_file")
  # Re-query apt at most once a day; otherwise the cached choice stands.
  if [[ -e $CACHE/kernel/$cur/.complete && -z $(find "$cur_file" -mmin +1440 2>/dev/null) ]]; then
    emit "$cur"; exit 0
  fi
fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || die "needs apt-get and dpkg-deb (Debian host); run scripts/setup.sh"

# Several developers and ctest jobs may run this at once: serialise the download.
exec 9>"$CACHE/kernel/.lock"
flock 9

# ---- apt access per suite ----
# Host apt for bookworm-backports; a private configuration for the others.
mirror=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$mirror_default
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt_opts=()
suite_setup() {   # suite -> apt_opts for apt-get/apt-cache
  local suite=$1
  apt_opts=()
  if [[ $suite == bookworm-backports ]]; then
    grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ \
      || die "no bookworm-backports apt source; run scripts/setup.sh (as root) to add it"
    return 0
  fi
  local d=$CACHE/apt/$suite
  [[ $arch == amd64 ]] || d=$CACHE/apt/$suite-$arch
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/preferences.d"
  [[ -e $d/status ]] || : > "$d/status"
  echo "deb [signed-by=$keyring] $mirror $suite main" > "$d/sources.list.new"
  cmp -s "$d/sources.list.new" "$d/sources.list" 2>/dev/null && rm -f "$d/sources.list.new" \
    || mv "$d/sources.list.new" "$d/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Dir::State::status=$d/status"
    -o "Dir::Etc::preferencesparts=$d/preferences.d" -o "Dir::Etc::preferences=$d/preferences"
    -o "APT::Architecture=$arch" -o "Acquire::Languages=none")
}
suite_update() {  # refresh the suite's metadata (private lists: at most hourly unless forced)
  local suite=$1 force=${2:-0}
  if [[ $suite == bookworm-backports ]]; then
    apt-get update -qq >/dev/null 2>&1 || true; return 0
  fi
  local d=$CACHE/apt/$suite
  [[ $arch == amd64 ]] || d=$CACHE/apt/$suite-$arch
  if ((force)) || [[ ! -e $d/.updated || -n $(find "$d/.updated" -mmin +60 2>/dev/null) ]]; then
    if apt-get "${apt_opts[@]}" update -qq > "$d/update.log" 2>&1; then
      touch "$d/.updated"
    else
      echo "fetch-kernel.sh: apt-get update for $suite failed (see $d/update.log)" >&2
    fi
  fi
}
# Version of PKG that the suite carries (empty if none).
suite_version() {
  apt-cache "${apt_opts[@]}" madison "$1" 2>/dev/null \
    | awk -F'|' -v s="$2" '{gsub(/ /,"",$2); gsub(/^ +/,"",$3)} $3 ~ (" " s "/") || $3 ~ (s "/main") {print $2; exit}'
}
suite_for_suffix() {
  case $1 in
    deb12) echo bookworm-backports ;;
    deb13) echo trixie-backports ;;
    deb14) echo sid ;;
    *) return 1 ;;
  esac
}
newest_in_suite() {   # series suite suffix -> newest release of the series, or fail
  local p s=${1//./\\.}
  for p in $(apt-cache "${apt_opts[@]}" search --names-only "^linux-image-$s\\.[0-9]+\\+$3-$arch\$" 2>/dev/null \
             | awk '{print $1}' | sort -rV); do
    if [[ -n $(suite_version "$p" "$2") ]]; then echo "${p#linux-image-}"; return 0; fi
  done
  return 1
}

suite=''
if [[ -z $kver ]]; then
  # A series: 6.12 is bookworm-backports' (+deb12); newer series come from
  # trixie-backports (+deb13) first, then sid (+deb14).
  if [[ $series == "$DEFAULT_SERIES" ]]; then cands=(deb12); else cands=(deb13 deb14); fi
  for sfx in "${cands[@]}"; do
    s=$(suite_for_suffix "$sfx")
    suite_setup "$s"
    suite_update "$s"
    kver=$(newest_in_suite "$series" "$s" "$sfx" || true)
    if [[ -z $kver && $s == bookworm-backports ]]; then
      suite_update "$s" 1; kver=$(newest_in_suite "$series" "$s" "$sfx" || true)
    fi
    if [[ -n $kver ]]; then suite=$s; break; fi
  done
  if [[ -z $kver ]]; then
    if [[ $series == "$DEFAULT_SERIES" ]]; then
      echo "fetch-kernel.sh: no $series image found in bookworm-backports; trying $FALLBACK_KVER" >&2
      kver=$FALLBACK_KVER suite=bookworm-backports
      suite_setup "$suite"
    elif prev=$(cat "$cur_file" 2>/dev/null) && [[ -e $CACHE/kernel/$prev/.complete ]]; then
      echo "fetch-kernel.sh: no $series image found in the Debian suites; keeping the cached $prev" >&2
      touch "$cur_file"; emit "$prev"; exit 0
    else
      die "no linux-image-$series.*-$arch found in bookworm-backports, trixie-backports or sid (network/mirror?)"
    fi
  fi
else
  sfx=${kver##*+}; sfx=${sfx%%-*}
  suite=$(suite_for_suffix "$sfx") || die "GVT_KVER=$kver: no Debian suite known for +$sfx (supported: +deb12, +deb13, +deb14)"
  suite_setup "$suite"
  suite_update "$suite"
fi

root=$CACHE/kernel/$kver
if [[ -e $root/.complete ]]; then
  [[ -n ${GVT_KVER:-} && $GVT_KVER == "$kver" ]] || echo "$kver" > "$cur_file"
  emit "$kver"; exit 0
fi

# A newer kernel that cannot be fetched (offline mirror) must not break a machine
# that already has a working one of the series.
prev=''
[[ ${GVT_KVER:-} == "$kver" ]] || prev=$(cat "$cur_file" 2>/dev/null || true)
fallback_or_die() {
  if [[ -n $prev && $prev != "$kver" && -e $CACHE/kernel/$prev/.complete ]]; then
    echo "fetch-kernel.sh: $*; keeping the cached $prev" >&2
    touch "$cur_file"
    emit "$prev"; exit 0
  fi
  die "$*"
}

base=${kver%-"$arch"}               # 6.12.95+deb12
# 7.x: linux-image-<rel> is a meta package over linux-binary-<rel> (vmlinuz) and
# linux-modules-<rel>; 6.12: the image package holds both.
v=$(suite_version "linux-binary-$kver" "$suite")
if [[ -z $v ]]; then
  suite_update "$suite" 1
  v=$(suite_version "linux-binary-$kver" "$suite")
fi
if [[ -n $v ]]; then
  img=("linux-binary-$kver" "linux-modules-$kver")
else
  img=("linux-image-$kver")
fi
pkgs=("${img[@]}" "linux-headers-$kver" "linux-headers-$base-common" "linux-kbuild-$base")

debs=() pkgver=''
for p in "${pkgs[@]}"; do
  v=$(suite_version "$p" "$suite")
  if [[ -z $v ]]; then
    suite_update "$suite" 1
    v=$(suite_version "$p" "$suite")
  fi
  [[ -n $v ]] || fallback_or_die "package $p not in $suite; run 'apt-get update' or pin another GVT_KVER"
  [[ -n $pkgver ]] || pkgver=$v
  # apt-get download names files with the epoch's ':' escaped as %3a.
  f=$(ls "$CACHE/debs/${p}_${v/:/%3a}_"{"$arch",all}.deb 2>/dev/null | head -n1 || true)
  if [[ -z $f ]]; then
    (cd "$CACHE/debs" && apt-get "${apt_opts[@]}" download -qq "$p=$v" >"$CACHE/debs/.download.log" 2>&1) \
      || fallback_or_die "apt-get download $p=$v failed (network/mirror?); see $CACHE/debs/.download.log"
    f=$(ls "$CACHE/debs/${p}_${v/:/%3a}_"{"$arch",all}.deb 2>/dev/null | head -n1 || true)
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
sed -i -e "s|^include /usr/src/|include $root/usr/src/|" -e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" "$tmp/usr/src/linux-headers-$kver/Makefile"

vml=$tmp/boot/vmlinuz-$kver; [[ -f $vml ]] || vml=$tmp/usr/lib/modules/$kver/vmlinuz
md=$tmp/lib/modules/$kver; [[ -d $md ]] || md=$tmp/usr/lib/modules/$kver
[[ -f $vml ]] || die "extracted tree lacks boot/vmlinuz-$kver and usr/lib/modules/$kver/vmlinuz"
[[ -d $md/kernel/drivers/gpu/drm ]] || die "extracted tree lacks the drm modules"
[[ -e $tmp/usr/src/linux-headers-$kver/Makefile && -e $tmp/usr/src/linux-headers-$kver/scripts/Makefile.build ]] \
  || die "headers in $tmp/usr/src/linux-headers-$kver do not resolve (kbuild/common missing)"
printf 'suite=%s\npkgver=%s\n' "$suite" "$pkgver" > "$tmp/.meta"

rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
touch "$root/.complete"
[[ ${GVT_KVER:-} == "$kver" ]] || echo "$kver" > "$cur_file"
rm -f "${debs[@]}"    # ~150 MB, and the extracted tree is all we use
emit "$kver"
