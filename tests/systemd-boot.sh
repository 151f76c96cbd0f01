#!/usr/bin/env bash
# systemd as PID 1 of a private world (tests/systemd-lib.bash, sd_boot):
#   unshare -pmuinC --fork --propagation private bash systemd-boot.sh DIR BIND...
# DIR (empty, the test's) gets a tmpfs holding an overlay of / whose
# writes stay in memory; the API file systems are mounted in it (/proc/sys
# read-only but for net: systemd must not set the machine's sysctls), the
# machine's own services are masked, each BIND directory is bound at its
# own path, and systemd replaces this script as PID 1.  Everything dies
# with it: its mounts, every process; the caller removes the cgroup.
set -eu
R=$1
shift

mount -t tmpfs -o mode=0755 pts-systemd "$R"
mkdir -p "$R/up" "$R/wk" "$R/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$R/up,workdir=$R/wk" "$R/root"
N=$R/root

mount -t proc proc "$N/proc"
mount --bind "$N/proc/sys" "$N/proc/sys"
mount -o remount,bind,ro "$N/proc/sys"
mount --bind "$N/proc/sys/net" "$N/proc/sys/net"
mount -o remount,bind,rw "$N/proc/sys/net"
mount -t sysfs -o ro sysfs "$N/sys"
# This process's cgroup (the caller made it) is the namespace's root.
mount -t cgroup2 cgroup2 "$N/sys/fs/cgroup"

mount -t tmpfs -o mode=0755,nosuid dev "$N/dev"
mknod -m 666 "$N/dev/null" c 1 3
mknod -m 666 "$N/dev/zero" c 1 5
mknod -m 666 "$N/dev/full" c 1 7
mknod -m 666 "$N/dev/random" c 1 8
mknod -m 666 "$N/dev/urandom" c 1 9
mknod -m 666 "$N/dev/tty" c 5 0
mkdir -p "$N/dev/pts" "$N/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$N/dev/pts"
ln -s pts/ptmx "$N/dev/ptmx"
touch "$N/dev/console"
mount --bind /dev/null "$N/dev/console"
mount -t tmpfs -o mode=0755,nosuid,nodev run "$N/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$N/tmp"
for b in "$@"; do
	mkdir -p "$N$b"
	mount --bind "$b" "$N$b"
done

# Nothing of the machine's runs here: its enabled services and timers
# (cron jobs, databases, resolvers, apt) and systemd's units that would
# reach outside (sysctls, the clock, gettys, pstore); postfix is not
# started at boot, the tests start it.  Units are masked by a link to
# /dev/null, the machine's own links removed in the overlay only.
S=$N/etc/systemd/system
find "$S" -mindepth 2 -maxdepth 2 -path '*.wants/*' -type l -delete
for u in systemd-sysctl.service getty.target console-getty.service \
	systemd-timesyncd.service systemd-pstore.service e2scrub_reap.service \
	systemd-networkd.service systemd-resolved.service cron.service \
	systemd-modules-load.service systemd-remount-fs.service \
	ssh.service unbound.service postgresql.service apt-daily.timer \
	apt-daily-upgrade.timer certbot.timer e2scrub_all.timer fstrim.timer \
	man-db.timer dpkg-db-backup.timer logrotate.timer; do
	ln -sfn /dev/null "$S/$u"
done
echo pts-systemd >"$N/etc/hostname"
: >"$N/etc/fstab"

mkdir -p "$N/oldroot"
cd "$N"
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot 2>/dev/null || true
export container=pts-systemd
exec /lib/systemd/systemd --unit=multi-user.target
