#!/bin/bash
# scripts/bench.sh [--quick] [--format-only] [--bpf]
#
# The ct event queue benchmark: one UML guest boot runs tests/bench/run.sh
# (selective listening: queue vs multicast with a userspace filter vs
# multicast with a BPF filter; packet path pps; memory per entry and per
# queue; whole-system cost with one and four consumers; a slow consumer;
# a selection no socket filter can evaluate), then tests/bench/format.py turns its raw lines into
# build/bench/results.md, which is also printed.  Every measurement is
# repeated three times and the median reported; nothing is asserted.
#   --quick        one repetition, shorter runs (a smoke run of the harness)
#   --format-only  only re-format build/bench/guest/bench.raw
#   --bpf          make bench-bpf instead: queues against BPF tracing of
#                  conntrack (ctevq-trace), part 9 of tests/bench/run.sh, in
#                  one boot of the 2-vCPU qemu guest of make kernel-bpf;
#                  results in build/bench-bpf/results.md
# Environment: KCC           the kernel's compiler (make passes its own)
#              QEMU_KERNEL   the qemu guest's bzImage for the SMP line
#                            (default build/qemu, make bench builds it;
#                            with --bpf build/qemu-bpf)
#              BENCH_APPEND  extra guest parameters, e.g. "bench.RATE=300
#              bench.RCVBUF=65536" (see tests/bench/run.sh)
#              BENCH_TIMEOUT guest wall-clock limit in seconds (default 2400;
#                            the whole run took 1244 s on 2026-12-03)
# Needs the kernel (make kernel) and builds the tools (src/, small).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
B=$top/build
out=$B/bench
res=$out/guest
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

quick=0 format_only=0 bpf=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	--format-only) format_only=1 ;;
	--bpf) bpf=1 out=$B/bench-bpf res=$B/bench-bpf/guest ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench: unknown argument $a" >&2; exit 2 ;;
	esac
done

. "$here/bench-lib.sh"

# guest_done RC LOAD_BEFORE T0: the host's load beside the timings in
# $out/host.raw; a failed or incomplete guest run said, and fatal only when
# it left no results at all
guest_done() {
	echo "host nproc=$(nproc) load_before=$2 load_after=$(cut -d' ' -f1 /proc/loadavg) guest_seconds=$(( $(date +%s) - $3 ))" > "$out/host.raw"
	if [ "$1" != 0 ] || ! grep -qx done "$res/bench.raw" 2>/dev/null; then
		echo "bench: the guest run failed or is incomplete; last output:" >&2
		tail -n 20 "$res/output.log" >&2 2>/dev/null
		[ -s "$res/bench.raw" ] || return 1
		echo "bench: formatting the partial results" >&2
	fi
	return 0
}

# --bpf: part 9 alone, on the qemu guest
bench_bpf() {
	local kernel=${QEMU_KERNEL:-$B/qemu-bpf/arch/x86/boot/bzImage} append t0 load0 rc
	[ -f "$kernel" ] || { echo "bench: no kernel at $kernel (make kernel-bpf)" >&2; return 1; }
	[ -x "$B/bin/ctevq-trace" ] || { echo "bench: no build/bin/ctevq-trace (make bench-bpf builds it)" >&2; return 1; }
	make -s -C "$top/src" O="$B" all bench || return 1
	append="bench.RUNNER=qemu bench.PARTS=bpf ${BENCH_APPEND:-}"
	[ $quick = 1 ] && append="bench.REPS=1 bench.SYS_DUR=2 bench.SLOW_DUR=2 bench.BPF_SLOW_RATES=100,400,1600 $append"
	echo "bench: running the qemu guest..." >&2
	t0=$(date +%s)
	load0=$(cut -d' ' -f1 /proc/loadavg)
	guest_with_cpu qemu "$kernel" "${BENCH_TIMEOUT:-3000}" "$append" \
		"$top/tests/bench/run.sh" "$res" "$out/hostcpu.raw"
	rc=$?
	guest_done "$rc" "$load0" "$t0"
}

mkdir -p "$out"
if [ $format_only = 0 ] && [ $bpf = 1 ]; then
	bench_bpf || exit 1
elif [ $format_only = 0 ]; then
	kernel=$B/uml/linux
	[ -x "$kernel" ] || { echo "bench: no UML kernel at $kernel (make kernel)" >&2; exit 1; }
	make -s -C "$top/src" O="$B" all bench || exit 1
	# the extension-area reader, built for each kernel
	ko=$(extko "$B/linux-dev" "$B/uml" "$out/ctextlen-patched") || exit 1
	kob=$(extko "$B/linux" "$B/uml-base" "$out/ctextlen-base") || exit 1
	append="bench.EXTLEN_KO=$ko ${BENCH_APPEND:-}"
	# part 8 writes its rule in nft's syntax: the patched nft, when built
	[ -x "$B/nft/sbin/nft" ] && append="bench.NFT=$B/nft/sbin/nft $append"
	[ $quick = 1 ] && append="bench.REPS=1 bench.DUR=2 bench.STEP_DUR=1 bench.STEP_RATES=400,1600 bench.FLOOD_N=20000 bench.FILL_N=5000 bench.LIST_N=20000 bench.LIST_REPS=2 bench.SYS_DUR=2 bench.SLOW_DUR=2 bench.SLOW_RATES=10,100,400 bench.EXPR_N=100 $append"
	echo "bench: running the guests..." >&2
	t0=$(date +%s)
	load0=$(cut -d' ' -f1 /proc/loadavg)
	guest_with_cpu uml "$kernel" "${BENCH_TIMEOUT:-2400}" "$append" \
		"$top/tests/bench/run.sh" "$res" "$out/hostcpu.raw"
	rc=$?
	echo "bench: guest finished after $(( $(date +%s) - t0 )) s" >&2
	# the unpatched kernel: the extension area only
	GUEST_QUIET=1 GUEST_APPEND="bench.KERNEL=base bench.PARTS=ext bench.EXTLEN_KO=$kob" \
		"$top/scripts/run-guest.sh" uml "$top/tests/bench/run.sh" "$res-base" \
		300 "$B/uml-base/linux" >&2 || rc=1
	# the packet path on the 2-vCPU qemu guest, a sender on each CPU
	qk=${QEMU_KERNEL:-$B/qemu/arch/x86/boot/bzImage}
	if [ -f "$qk" ]; then
		qapp="bench.RUNNER=qemu bench.PARTS=pps bench.PPS_FLOWS=2 bench.FLOOD_N=50000 bench.PPS_REPS=5"
		[ $quick = 1 ] && qapp="$qapp bench.FLOOD_N=10000 bench.PPS_REPS=1"
		GUEST_QUIET=1 GUEST_APPEND="$qapp" \
			"$top/scripts/run-guest.sh" qemu "$top/tests/bench/run.sh" "$res-qemu" \
			900 "$qk" >&2 || rc=1
	else
		echo "bench: no qemu kernel at $qk: the SMP packet-path line is left out" >&2
	fi
	# timings in the guest follow the host's load: record it beside them
	guest_done "$rc" "$load0" "$t0" || exit 1
fi
[ -s "$res/bench.raw" ] || { echo "bench: no $res/bench.raw" >&2; exit 1; }
host=; [ -s "$out/host.raw" ] && host=$out/host.raw
base=; [ $bpf = 0 ] && [ -s "$res-base/bench.raw" ] && base=$res-base/bench.raw
[ $bpf = 0 ] && [ -s "$res-qemu/bench.raw" ] && base="$base $res-qemu/bench.raw"
hcpu=; [ -s "$out/hostcpu.raw" ] && hcpu=$out/hostcpu.raw
cat "$res/bench.raw" $base $hcpu > "$out/bench-all.raw"
"$PY" "$top/tests/bench/format.py" "$out/bench-all.raw" $host > "$out/results.md" || exit 1
cat "$out/results.md"
