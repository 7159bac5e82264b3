#!/bin/sh
# /init of the gpuvm-trace test guest (busybox sh; built into the initramfs by
# build-initramfs.sh, started by vm-run.sh). It loads the 9p/overlay and DRM modules,
# makes the host's root (shared read-only over 9p) the guest's userspace with a
# writable tmpfs overlay, runs the job vm-run.sh left in the out share, prints its
# exit status as a console marker and powers off. vm-run.sh reads the verdict from
# that marker, not from QEMU's exit status (the power-off can race init's exit).
export PATH=/bin:/sbin

say() { echo "gvt-guest: $*" > /dev/console; }
fail() { say "$*"; echo "<<<gvt-vm-run setup-failed>>>" > /dev/console; sync; poweroff -f; sleep 30; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec < /dev/console > /dev/console 2>&1

# modules.order lists base names in dependency order (see build-initramfs.sh).
while read -r m; do
  insmod "/modules/$m.ko" || fail "insmod $m failed"
done < /modules.order

# Large msize: fewer 9p round trips for the host's binaries and libraries.
p9="trans=virtio,version=9p2000.L,msize=512000,cache=loose"
mount -t 9p -o "$p9,ro" host /lower || fail "cannot mount the host root share (9p tag host)"
mount -t 9p -o "$p9" gvtout /out || fail "cannot mount the out share (9p tag gvtout)"
[ -r /out/.vm-run/job.sh ] || fail "no job in the out share (.vm-run/job.sh)"
outpath=$(cat /out/.vm-run/outpath)

# One overlay over the whole host root, upper layer in tmpfs: everything is writable
# in the guest and nothing reaches the host except through the out share.
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
# The host's /tmp stays visible (scratch builds live there); writes to it stay in the guest.
lower=/lower
if [ "$(uname -m)" = aarch64 ]; then
  # The aarch64 guest: the host's programs are x86; the arm64 userland layer
  # (arm64-userland.sh, 9p tag ulayer) goes on top, so the usual paths run arm64 ones.
  mkdir -p /ulayer
  mount -t 9p -o "$p9,ro" ulayer /ulayer || fail "cannot mount the arm64 userland share (9p tag ulayer)"
  lower=/ulayer:/lower
fi
if ! mount -t overlay -o "lowerdir=$lower,upperdir=/rw/upper,workdir=/rw/work" overlay /root 2>/dev/null; then
  [ "$lower" = /lower ] || fail "overlay of the arm64 userland over the host root failed"
  say "overlay failed; read-only root with tmpfs on /tmp and /var/tmp"
  mount --bind /lower /root
  for d in /tmp /var/tmp; do mount -t tmpfs tmpfs "/root$d" || fail "tmpfs on $d"; done
fi
# A real install has the running kernel's modules under /lib/modules/<release>: the
# tracer reads drm_gpuvm.ko's code there (put coverage). Here they are in the cache.
rel=$(uname -r)
if [ -r /moddir ] && [ ! -e "/root/lib/modules/$rel" ]; then
  mkdir -p /root/lib/modules && ln -s "$(cat /moddir)" "/root/lib/modules/$rel" || say "cannot link /lib/modules/$rel"
fi
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts /root/dev/shm
# devtmpfs lacks the fd links that bash process substitution and /dev/stdin need.
ln -sf /proc/self/fd /root/dev/fd
ln -sf /proc/self/fd/0 /root/dev/stdin
ln -sf /proc/self/fd/1 /root/dev/stdout
ln -sf /proc/self/fd/2 /root/dev/stderr
mount -t devpts devpts /root/dev/pts
mount -t tmpfs tmpfs /root/dev/shm
mount -t tracefs tracefs /root/sys/kernel/tracing
mount -t debugfs debugfs /root/sys/kernel/debug
mount -t bpf bpf /root/sys/fs/bpf
mount -t tmpfs tmpfs /root/run
mkdir -p "/root$outpath" 2>/dev/null
mount --bind /out "/root$outpath" || fail "cannot bind the out share at $outpath"

echo "<<<gvt-vm-run booted>>>"
chroot /root /bin/sh "$outpath/.vm-run/job.sh"
rc=$?
# Kernel log for the harness: warnings (e.g. refcount_t underflow) land here.
dmesg > /out/.vm-run/dmesg.txt 2>/dev/null
sync
echo "<<<gvt-vm-run exit=$rc>>>"
poweroff -f
sleep 30
