# shellcheck shell=bash
# scripts/bench-lib.sh - what scripts/bench.sh and scripts/bench-scale.sh
# share; source it with $top (the repository) and $PY (python3) set.

# guest_with_cpu RUNNER KERNEL TIMEOUT APPEND SCRIPT RESULTS HOSTCPU: the
# guest SCRIPT in RESULTS, with the CPU time the host accounts to the guest
# at its console marks (CTEVQCPU LABEL) in HOSTCPU; the guest run's status
guest_with_cpu() {
	local hpid rc
	"$PY" "$top/scripts/bench-hostcpu.py" "$6/console.log" "$2" "$7" &
	hpid=$!
	GUEST_QUIET=1 GUEST_APPEND="$4" \
		"$top/scripts/run-guest.sh" "$1" "$5" "$6" "$3" "$2" >&2
	rc=$?
	wait $hpid || echo "bench: no host CPU account of the guest" >&2
	return $rc
}

# extko KERNEL_SOURCE BUILD_DIR OUT: tests/bench/ctextlen (the extension
# area reader) built for that UML kernel; prints the module's path
extko() {
	rm -rf "$3"; mkdir -p "$3"; cp "$top"/tests/bench/ctextlen/* "$3"/
	# the compiler the kernel was built with, or kbuild rebuilds it all
	make -s -C "$1" O="$2" ARCH=um CC="${KCC:-gcc}" modules >/dev/null &&
	make -s -C "$1" O="$2" ARCH=um CC="${KCC:-gcc}" M="$3" modules >/dev/null &&
		echo "$3/ctextlen.ko"
}
