#!/bin/bash
# run-guest.sh RUNNER TEST_SCRIPT RESULTS_DIR [TIMEOUT_SECONDS] [KERNEL]
#
# Boots a test kernel with the host's "/" as a read-only root and
# scripts/guest-init.sh as PID 1, which runs TEST_SCRIPT (bash) and powers off.
#   RUNNER        uml | qemu
#   TEST_SCRIPT   test script (path relative to the cwd or absolute); it must be
#                 visible from the guest, i.e. anywhere on the host's file system
#   RESULTS_DIR   host directory, emptied first; gets console.log, output.log,
#                 result, dmesg.log, splats.log (if any)
#   TIMEOUT       wall clock limit in seconds for the whole VM (default 600)
#   KERNEL        kernel image (default build/uml/linux or
#                 build/qemu-debug/arch/x86/boot/bzImage)
# Environment:
#   GUEST_MEM     guest memory (default 1024M)    GUEST_SMP  qemu vCPUs (default 2)
#   GUEST_APPEND  extra kernel command line       GUEST_QUIET=1  no console on stdout
# Verdict: only RESULTS_DIR/result (must exist and be 0), the timeout and the
# kernel splat scan count; the VM's exit code is ignored.
# Prints "guest: ok" or "guest: FAIL (reason)"; exit 0 only on ok.
set -u

usage() { sed -n '2,/^# Verdict/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 3 ] && [ $# -le 5 ] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
runner=$1
timeout_s=${4:-600}
case "$timeout_s" in ''|*[!0-9]*) echo "run-guest: bad timeout '$timeout_s'" >&2; exit 2 ;; esac

test_script=$(realpath -e -- "$2" 2>/dev/null) ||
	{ echo "run-guest: no such test script: $2" >&2; exit 2; }

# The guest mounts tmpfs over these: scripts there are invisible to it.
case "$test_script" in
"$top"/*) ;;
/tmp/*|/var/tmp/*|/run/*|/root/*|/mnt/*|/dev/*|/proc/*|/sys/*)
	echo "run-guest: $test_script is hidden in the guest (tmpfs over /tmp, /var/tmp, /run, /root, /mnt)" >&2; exit 2 ;;
esac

case "$runner" in
uml)  kernel=${5:-$top/build/uml/linux} ;;
qemu) kernel=${5:-$top/build/qemu-debug/arch/x86/boot/bzImage} ;;
*)    echo "run-guest: RUNNER must be uml or qemu" >&2; exit 2 ;;
esac
[ -f "$kernel" ] || { echo "run-guest: no kernel image $kernel" >&2; echo "guest: FAIL (no kernel $kernel)"; exit 1; }
kernel=$(realpath "$kernel")

# --- results dir: create and empty ------------------------------------------
mkdir -p -- "$3" || exit 2
res=$(realpath -e -- "$3")
case "$res" in
/|/bin|/boot|/dev|/etc|/home|/lib|/lib64|/opt|/proc|/root|/run|/sbin|/sys|/tmp|/usr|/var|/work|"$top"|"$top/build"|"$HOME")
	echo "run-guest: refusing to use $res as RESULTS_DIR (it gets emptied)" >&2; exit 2 ;;
esac
find "$res" -mindepth 1 -delete 2>/dev/null || rm -rf -- "${res:?}"/* "${res:?}"/.[!.]* 2>/dev/null
case "$res$test_script$top" in
*[[:space:]]*) echo "run-guest: paths must not contain white space" >&2; exit 2 ;;
esac

# The test gets a little less time than the VM so that the guest can still
# collect dmesg and write the result when the test hangs.
margin=$(( timeout_s / 10 )); [ $margin -lt 30 ] && margin=30
gtimeout=$(( timeout_s - margin )); [ $gtimeout -lt 10 ] && gtimeout=0

params="init=$top/scripts/guest-init.sh ctevq.top=$top ctevq.test=$test_script ctevq.runner=$runner ctevq.timeout=$gtimeout"
mem=${GUEST_MEM:-1024M}
console="$res/console.log"

run_vm() {
	case "$runner" in
	uml)
		# UML backs guest memory with a file in $TMPDIR: keep it in RAM.
		local tmp=/dev/shm
		[ -d "$tmp" ] && [ -w "$tmp" ] || tmp=${TMPDIR:-/tmp}
		tmp=$(mktemp -d "$tmp/uml.XXXXXX") || return 1
		TMPDIR=$tmp timeout -k 10 "$timeout_s" "$kernel" \
			mem="$mem" root=/dev/root rootfstype=hostfs rootflags=/ ro \
			con0=fd:0,fd:1 con=null ssl=null uml_dir="$tmp" \
			panic=-1 $params ctevq.results=$res ${GUEST_APPEND:-} < /dev/null
		local rc=$?
		rm -rf -- "$tmp"
		return $rc
		;;
	qemu)
		# ACPI finds the second vCPU (SeaBIOS's MP table lists one);
		# acpi=noirq: the PCI interrupt routing method times out in
		# the AML interpreter under KASAN and TCG, the PIRQ table works.
		timeout -k 10 "$timeout_s" qemu-system-x86_64 \
			-accel tcg -cpu max -smp "${GUEST_SMP:-2}" -m "$mem" \
			-nographic -no-reboot -net none \
			-kernel "$kernel" \
			-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
			-virtfs local,path="$res",mount_tag=results,security_model=none \
			-append "root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144 ro console=ttyS0 panic=-1 acpi=noirq $params ${GUEST_APPEND:-}" \
			< /dev/null
		;;
	esac
}

t0=$(date +%s.%N)
if [ "${GUEST_QUIET:-0}" = 1 ]; then
	run_vm > "$console" 2>&1
	vm_rc=$?
else
	run_vm 2>&1 | tee "$console"
	vm_rc=${PIPESTATUS[0]}
fi
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
# Some consoles leave the terminal in raw mode; be nice to interactive users.
[ -t 0 ] && stty sane 2>/dev/null

# --- verdict ----------------------------------------------------------------
reasons=()
if [ "$vm_rc" = 124 ] || [ "$vm_rc" = 137 ]; then
	reasons+=("timeout after ${timeout_s}s")
fi
if [ ! -s "$res/result" ]; then
	reasons+=("no result file")
else
	result=$(tr -d '[:space:]' < "$res/result")
	if [ "$result" = 124 ] || [ "$result" = 137 ]; then
		reasons+=("test timed out in guest after ${gtimeout}s")
	elif [ "$result" != 0 ]; then
		reasons+=("test exit status $result")
	fi
fi
scan_files=("$console")
[ -f "$res/dmesg.log" ] && scan_files+=("$res/dmesg.log")
[ -f "$res/kmemleak.log" ] && scan_files+=("$res/kmemleak.log")
if "$here/splat-scan.sh" -x "$res/output.log" "${scan_files[@]}" > "$res/splats.log"; then
	reasons+=("kernel splat: $(head -n1 "$res/splats.log")")
	echo "run-guest: kernel splats (see $res/splats.log):" >&2
	head -n 20 "$res/splats.log" >&2
else
	rm -f "$res/splats.log"
fi
# Lock debugging turns itself off after its first report, some of which
# (lockdep running out of table space) go only to the log at debug level:
# a lock bug after that is not seen.
if [ -f "$res/lockdep_stats.log" ] &&
	grep -q -E '^ *debug_locks: *0' "$res/lockdep_stats.log"; then
	reasons+=("lock debugging was off at the end of the run (see $res/lockdep_stats.log)")
fi
echo "$elapsed" > "$res/elapsed"

echo "run-guest: $runner guest ran ${elapsed}s (vm exit $vm_rc), results in $res"
if [ ${#reasons[@]} -eq 0 ]; then
	echo "guest: ok"
	exit 0
fi
msg=$(printf '%s; ' "${reasons[@]}"); msg=${msg%; }
echo "guest: FAIL ($msg)"
exit 1
