#!/bin/bash
# guest-init.sh - PID 1 inside the test guest (UML or qemu).
#
# Started by scripts/run-guest.sh as init=<top>/scripts/guest-init.sh.
# The root file system is the host's "/" (hostfs or 9p), mounted read-only.
# Parameters come from the kernel command line:
#   ctevq.top=DIR        repository top (default: derived from this script)
#   ctevq.test=PATH      absolute path of the test script to run with bash
#   ctevq.runner=uml|qemu
#   ctevq.results=PATH   (uml) host directory mounted via hostfs on /mnt/results
#                        (qemu) results come from the 9p share tagged "results"
#   ctevq.timeout=SECS   in-guest timeout for the test (0 = none)
# Results written to /mnt/results: output.log, result (exit status), dmesg.log.
# This script never returns: it powers the guest off at the end.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
R=/mnt/results

log() { echo "guest-init: $*" > /dev/console 2>/dev/null || echo "guest-init: $*"; }

power_off() {
	sync
	trap - EXIT
	if [ "${runner:-}" = qemu ]; then
		# qemu runs with -no-reboot and the kernel has no ACPI: a reboot
		# ends qemu, a power-off would only halt the CPU.
		echo b > /proc/sysrq-trigger 2>/dev/null
		reboot -f 2>/dev/null
	else
		echo o > /proc/sysrq-trigger 2>/dev/null
		poweroff -f 2>/dev/null
	fi
	# Last resort: reboot(2) via python (RB_POWER_OFF / RB_AUTOBOOT).
	/usr/bin/python3 -I -S -c 'import ctypes,sys; ctypes.CDLL(None).reboot(0x01234567 if sys.argv[1]=="qemu" else 0x4321fedc)' "${runner:-uml}" 2>/dev/null
	# PID 1 must never exit (that would be a panic); wait forever.
	while :; do sleep 3600 2>/dev/null || read -r -t 3600 < /dev/null; done
}
trap power_off EXIT

is_mounted() { grep -q " $1 " /proc/mounts 2>/dev/null; }

# --- basic file systems ---------------------------------------------------
# Unconditional: before this, /proc is the host's /proc seen through the root fs.
mount -t proc proc /proc
is_mounted /sys || mount -t sysfs sysfs /sys
is_mounted /dev || mount -t devtmpfs devtmpfs /dev
# --- parameters -----------------------------------------------------------
top= test= runner= results= gtimeout=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	ctevq.top=*) top=${arg#*=} ;;
	ctevq.test=*) test=${arg#*=} ;;
	ctevq.runner=*) runner=${arg#*=} ;;
	ctevq.results=*) results=${arg#*=} ;;
	ctevq.timeout=*) gtimeout=${arg#*=} ;;
	esac
done
[ -n "$top" ] || top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -n "$runner" ] || { [ -d /sys/bus/virtio ] && runner=qemu || runner=uml; }

# Writable scratch over the read-only root.  A repository under one of
# these directories (a clone under /tmp) stays visible at its path: its
# top-level directory there is bind-mounted back onto the tmpfs, so that
# programs that write to fixed paths such as /tmp still can.
scratch=
for d in /tmp /var/tmp /run /root /mnt; do
	keep=
	case "$top/" in "$d"/*)
		keep=${top#"$d"/}; keep=${keep%%/*}
		mkdir -p /dev/.ctevq-keep &&
			mount --bind "$d/$keep" /dev/.ctevq-keep || continue ;;
	esac
	is_mounted "$d" || mount -t tmpfs -o mode=0755 tmpfs "$d"
	if [ -n "$keep" ]; then
		mkdir -p "$d/$keep" && mount --move /dev/.ctevq-keep "$d/$keep" ||
			log "cannot keep $d/$keep visible"
	fi
	case $d in /tmp|/var/tmp) chmod 1777 "$d"; [ -n "$scratch" ] || scratch=$d ;; esac
done
mkdir -p /dev/shm /dev/pts /run/netns
is_mounted /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
is_mounted /dev/pts || mount -t devpts -o mode=0620,ptmxmode=0666 devpts /dev/pts 2>/dev/null
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
[ -e /sys/kernel/debug ] && ! is_mounted /sys/kernel/debug && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# --- results directory ----------------------------------------------------
mkdir -p "$R"
if [ "$runner" = qemu ]; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results "$R" ||
		log "cannot mount 9p results share"
else
	if [ -n "$results" ]; then
		mount -t hostfs none "$R" -o "$results" || log "cannot mount hostfs $results"
	else
		log "no ctevq.results= on the command line"
	fi
fi
is_mounted "$R" || log "WARNING-NO-RESULTS: results go to a guest tmpfs and are lost"

# --- environment ----------------------------------------------------------
export PATH="$top/build/bin:$PATH"
export TMPDIR=${scratch:-/dev/shm} HOME=/root LANG=C LC_ALL=C TERM=dumb
export CTEVQ_TOP="$top" CTEVQ_RUNNER="$runner" CTEVQ_RESULTS="$R"
hostname "ctevq-$runner" 2>/dev/null
ip link set lo up 2>/dev/null
# Console: show warnings and worse (splats are pr_warn/pr_err/pr_emerg).
echo "5 4 1 7" > /proc/sys/kernel/printk 2>/dev/null
# Let splats be noisy but don't wait forever on a hung task.
echo 1 > /proc/sys/kernel/sysrq 2>/dev/null

# --- run the test ---------------------------------------------------------
# The test writes into a guest file (not a pipe: background processes left
# behind by a test must not keep PID 1 waiting); tail copies it to the console.
out=/run/ctevq-output.log
rc=127
if [ -z "$test" ]; then
	log "no ctevq.test= on the command line"
	echo "guest-init: no ctevq.test= given" > "$out"
elif [ ! -r "$test" ]; then
	log "test script $test not readable"
	echo "guest-init: test script $test not readable" > "$out"
else
	log "running $test (runner=$runner, timeout=${gtimeout}s)"
	cd "$top" || cd /
	: > "$out"
	start=${EPOCHREALTIME/[.,]/}
	if [ "${gtimeout:-0}" -gt 0 ] 2>/dev/null; then
		timeout -k 5 "$gtimeout" bash "$test" < /dev/null > "$out" 2>&1 &
	else
		bash "$test" < /dev/null > "$out" 2>&1 &
	fi
	tpid=$!
	tail -n +1 -s 0.2 -f --pid=$tpid "$out" > /dev/console 2>/dev/null &
	lpid=$!
	wait $tpid
	rc=$?
	wait $lpid
	end=${EPOCHREALTIME/[.,]/}
	el=$(( (end - start) / 1000 ))
	log "test exited with status $rc after $((el / 1000)).$(printf %03d $((el % 1000)))s"
	cd /
fi
# Stop whatever the test left running (PID 1 itself is not affected).
kill -9 -1 2>/dev/null
sleep 0.2
cp "$out" "$R/output.log" 2>/dev/null || log "cannot write $R/output.log"
# kmemleak (if built in and debugfs is there): two scans, then the report.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak 2>/dev/null
	echo scan > /sys/kernel/debug/kmemleak 2>/dev/null
	cat /sys/kernel/debug/kmemleak > "$R/kmemleak.log" 2>&1
fi
[ -r /proc/lockdep_stats ] && cat /proc/lockdep_stats > "$R/lockdep_stats.log" 2>&1
echo "$rc" > "$R/result"
dmesg > "$R/dmesg.log" 2>&1
sync
power_off
