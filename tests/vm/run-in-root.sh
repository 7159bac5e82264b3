#!/usr/bin/env bash
# Run a command inside a build root (build-root.sh) with /proc, /dev and optionally one
# host directory bound in, in a private mount namespace: the mounts vanish with the
# command, even if it is killed, and never show on the host.
#
# Usage: tests/vm/run-in-root.sh ROOT [--bind DIR] COMMAND [ARGS...]
#   --bind DIR   make the host directory DIR visible at the same path inside ROOT
set -euo pipefail
die() { echo "run-in-root.sh: $*" >&2; exit 125; }
[[ $# -ge 2 ]] || die "usage: run-in-root.sh ROOT [--bind DIR] COMMAND [ARGS...]"
root=$1; shift
bind=''
if [[ $1 == --bind ]]; then
  [[ $# -ge 3 ]] || die "--bind needs a directory and a command"
  bind=$(cd "$2" && pwd -P) || die "no directory $2"; shift 2
fi
[[ -x $root/bin/sh ]] || die "$root is not a build root (no /bin/sh)"
export GVT_RR_ROOT=$root GVT_RR_BIND=$bind
exec unshare --mount --propagation private -- bash -c '
  set -e
  r=$GVT_RR_ROOT
  mount -t proc proc "$r/proc"
  mount --rbind /dev "$r/dev"
  cp -L /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
  if [[ -n $GVT_RR_BIND ]]; then
    mkdir -p "$r$GVT_RR_BIND"
    mount --bind "$GVT_RR_BIND" "$r$GVT_RR_BIND"
  fi
  exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
' run-in-root "$@"
