#!/bin/sh
# /init of the Debian guest's initramfs: mount the kernel filesystems, announce readiness, give hvc0 a shell through busybox init.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts

# The last active console is the device behind /dev/console (ttyS0 when QEMU boots the
# kernel directly). /dev/console itself cannot be a controlling tty, so shells use the device.
console=$(cat /sys/class/tty/console/active 2>/dev/null)
console=/dev/${console##* }
[ -c "$console" ] || console=/dev/console
# /sys/class/tty/hvc0 exists only when the Xen console driver found a console (under zazen
# or Xen); booted directly by QEMU there is none, and the shell goes to the kernel console.
tty=$console
[ -e /sys/class/tty/hvc0 ] && tty=/dev/hvc0

echo ZAZEN-GUEST-READY >/dev/console
# Print it on hvc0 too when hvc0 is not the console already, so each reader sees one line.
[ "$tty" = "$console" ] || echo ZAZEN-GUEST-READY >"$tty"

# Busybox init takes over as PID 1: it respawns the shell on $tty as a session leader (so
# the tty is its controlling terminal and job control and Ctrl-C work), and it carries out
# poweroff, reboot and halt, which busybox requests by signalling PID 1 (the kernel's
# orderly poweroff on Xen's control/shutdown runs /sbin/poweroff, which does the same).
cat >/etc/inittab <<EOF
${tty#/dev/}::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
EOF
exec /sbin/init
