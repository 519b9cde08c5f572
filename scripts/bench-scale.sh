#!/bin/bash
# scripts/bench-scale.sh [--quick] [--format-only]
#
# make bench-scale: how the cost of the ct event queues grows with the number
# of queues bound, of conntrack entries, of network namespaces and of an
# entry's subscriptions.  One UML guest boot runs tests/bench/run-scale.sh with
# GUEST_MEM of memory (a million entries need more than the default);
# tests/bench/scale.py turns its raw lines into build/bench-scale/results.md
# (printed) and draws one gnuplot figure per curve next to it.  Medians of
# interleaved repetitions; nothing is asserted.
#   --quick        one repetition, small sizes (a smoke run of the harness)
#   --format-only  only re-format build/bench-scale/guest/scale.raw
# Environment: KCC           the kernel's compiler (make passes its own)
#              GUEST_MEM     guest memory (default 3072M)
#              SCALE_APPEND  extra guest parameters, e.g. "scale.REPS=5"
#              SCALE_TIMEOUT guest wall-clock limit in seconds (default 5400)
# Needs the UML kernel (make kernel), gnuplot (make setup-bench) for the
# figures, and builds the tools (src/, small).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
B=$top/build
out=$B/bench-scale
res=$out/guest
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
. "$here/bench-lib.sh"

quick=0 format_only=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	--format-only) format_only=1 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-scale: unknown argument $a" >&2; exit 2 ;;
	esac
done

mkdir -p "$out"
if [ $format_only = 0 ]; then
	kernel=$B/uml/linux
	[ -x "$kernel" ] || { echo "bench-scale: no UML kernel at $kernel (make kernel)" >&2; exit 1; }
	make -s -C "$top/src" O="$B" all bench || exit 1
	ko=$(extko "$B/linux-dev" "$B/uml" "$out/ctextlen") || exit 1
	append="scale.EXTLEN_KO=$ko ${SCALE_APPEND:-}"
	[ $quick = 1 ] && append="scale.REPS=1 scale.RATE=300 scale.DUR=2 scale.SETTLE=0.3 scale.TAIL=1 scale.QUEUES=1,100 scale.ENTRIES=2000,20000 scale.LOOP_N=50 scale.RULE_N=20 scale.MEM_QUEUES=1000 scale.MEM_ENTRIES=20000 scale.NETNS=1,10 scale.FLOOD_N=20000 scale.PPS_REPS=1 $append"
	echo "bench-scale: running the guest ($(date -u +%H:%M:%S))..." >&2
	t0=$(date +%s)
	load0=$(cut -d' ' -f1 /proc/loadavg)
	GUEST_MEM=${GUEST_MEM:-3072M} guest_with_cpu uml "$kernel" "${SCALE_TIMEOUT:-5400}" \
		"$append" "$top/tests/bench/run-scale.sh" "$res" "$out/hostcpu.raw"
	rc=$?
	echo "host nproc=$(nproc) load_before=$load0 load_after=$(cut -d' ' -f1 /proc/loadavg) guest_seconds=$(( $(date +%s) - t0 )) guest_mem=${GUEST_MEM:-3072M}" > "$out/host.raw"
	if [ $rc != 0 ] || ! grep -qx done "$res/scale.raw" 2>/dev/null; then
		echo "bench-scale: the guest run failed or is incomplete; last output:" >&2
		tail -n 20 "$res/output.log" >&2 2>/dev/null
		[ -s "$res/scale.raw" ] || exit 1
		echo "bench-scale: formatting the partial results" >&2
	fi
fi
[ -s "$res/scale.raw" ] || { echo "bench-scale: no $res/scale.raw" >&2; exit 1; }
cat "$res/scale.raw" "$out/hostcpu.raw" "$out/host.raw" 2>/dev/null > "$out/scale-all.raw"
"$PY" "$top/tests/bench/scale.py" "$out/scale-all.raw" "$out" > "$out/results.md" || exit 1
cat "$out/results.md"
