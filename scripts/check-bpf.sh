#!/bin/bash
# check-bpf.sh KERNEL [NN+NN]: the BPF tracing property tests (tests/bpf/,
# or the files of those numbers) in the
# 2-vCPU qemu guest booted from KERNEL (make kernel-bpf: BPF syscall,
# kprobes, ftrace, BTF), with ctevq-trace built for it (make check-bpf
# builds both).  Ends with "N passed, N failed, N skipped"; a guest that
# times out, writes no result or shows a kernel splat counts as a failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$1 suite=${2:-}
for n in ${suite//+/ }; do
	set -- "$top"/tests/bpf/"$n"-*.sh
	[ -f "$1" ] || { echo "check-bpf: no tests/bpf/$n-*.sh" >&2; exit 2; }
done
dir=$top/build/results/qemu-bpf
P=0 F=0 S=0
if [ ! -x "$top/build/bin/ctevq-trace" ]; then
	echo "FAIL: host: no build/bin/ctevq-trace (make check-bpf builds it)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "--- qemu guest, tests/bpf ($kernel)"
verdict=$(GUEST_QUIET=1 GUEST_APPEND="${suite:+ctevq.suite=$suite}" "$top/scripts/run-guest.sh" qemu "$top/tests/bpf/run.sh" \
	"$dir" 1200 "$kernel" 2>&1 | tail -1)
if [ -f "$dir/output.log" ]; then
	grep -E '^(PASS|FAIL|SKIP): |^    |^=== ' "$dir/output.log" | sed 's/^\(PASS\|FAIL\|SKIP\): /\1: qemu: /'
	P=$(grep -c '^PASS: ' "$dir/output.log")
	F=$(grep -c '^FAIL: ' "$dir/output.log")
	S=$(grep -c '^SKIP: ' "$dir/output.log")
fi
echo "$verdict"
[ "$verdict" = "guest: ok" ] || { F=$((F + 1)); echo "FAIL: qemu: guest run: $verdict (logs in $dir)"; }
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
