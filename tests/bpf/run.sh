#!/bin/bash
# Runs inside the qemu guest of make check-bpf (a kernel with BPF tracing,
# make kernel-bpf): every test of tests/bpf/, one after the other, as
# tests/kernel/run.sh runs the kernel suite.  Their PASS/FAIL/SKIP lines
# are what scripts/check-bpf.sh counts.  ctevq.suite=NN+NN on the guest
# command line (make check-bpf SUITE=) runs the files of those numbers.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=
for arg in $(cat /proc/cmdline); do
	case $arg in ctevq.suite=*) suite=${arg#*=} ;; esac
done
. "$here/../kernel/lib.sh"
rc=0
for t in $(suite_files "$here" "$suite"); do
	echo "=== $t"
	start=$(date +%s)
	mark="ctevq-bpf-$t-${EPOCHREALTIME/[.,]/}"
	echo "<6>$mark" > /dev/kmsg
	bash "$here/$t" || rc=1
	T_MARK=$mark
	if dmesg_clean; then
		echo "PASS: log_clean_${t%.sh}"
	else
		echo "FAIL: log_clean_${t%.sh}: kernel splat during the test"
		rc=1
	fi
	echo "=== $t: $(( $(date +%s) - start ))s"
done
exit $rc
