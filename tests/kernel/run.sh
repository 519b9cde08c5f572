#!/bin/bash
# Runs inside the guest: every test of the suite named by CTEVQ_SUITE
# (guest command line ctevq.suite=full|smoke|NN+NN..., default full), one
# after the other.
# Their PASS/FAIL/SKIP lines are what scripts/check.sh counts.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the tests' own helpers: dmesg_clean (after T_MARK), wait_for_grep,
# suite_files
. "$here/lib.sh"
suite=${CTEVQ_SUITE:-full}
tag=
for arg in $(cat /proc/cmdline); do
	case $arg in
	ctevq.suite=*) suite=${arg#*=} ;;
	ctevq.tag=*) tag=${arg#*=} ;;
	ctevq.ko=*) ko=${arg#*=} ;;
	ctevq.modules=*) mods=${arg#*=} ;;
	esac
done
# No module autoload in the guest (no /lib/modules for this kernel): a
# kernel with modules gets all of them loaded from its modules_install tree
# (CTEVQ_MODULES), or nft_ctevent from its build tree.  80-faults unloads
# and reloads them: CTEVQ_KO names nft_ctevent's file.
export CTEVQ_KO=${ko:-} CTEVQ_MODULES=${mods:-}
if [ -n "$CTEVQ_MODULES" ]; then
	# the netfilter ones: others (a CPU's thermal driver) may not apply
	modprobe -d "$CTEVQ_MODULES" -a $(sed -n '/\/netfilter\//{s|.*/||; s|\.ko[.a-z]*$||; p}' \
		"$CTEVQ_MODULES"/lib/modules/"$(uname -r)"/modules.order) ||
		echo "FAIL: modprobe_modules: cannot load the modules of $CTEVQ_MODULES"
fi
if [ -n "$CTEVQ_KO" ] && [ ! -d /sys/module/nft_ctevent ]; then
	insmod "$CTEVQ_KO" || echo "FAIL: insmod_nft_ctevent: cannot load $CTEVQ_KO"
fi
# The debug kernels (KASAN, lockdep, kmemleak; KCSAN) are several times
# slower: the reliable-delivery and isolation tests use fewer connections
# there, and the fuzzer's rounds may take longer (in a qemu TCG guest, a
# batch with a rule over all 65535 queues took more than 30 s).
case $tag in
debug|kcsan)
	export CTEVQ_RELIABLE_CONNS=${CTEVQ_RELIABLE_CONNS:-4000} \
		CTEVQ_ISO_CONNS=${CTEVQ_ISO_CONNS:-4000} \
		CTEVQ_FUZZ_WATCHDOG=${CTEVQ_FUZZ_WATCHDOG:-180} ;;
esac
case $suite in
smoke) tests="00-smoke.sh 30-control.sh 60-smp.sh" ;;
*) tests=$(suite_files "$here" "$suite") ;;	# NN+NN, or all
esac

# A test's namespaces are torn down by a kernel worker after the test has
# checked the kernel log.  That worker handles the namespaces queued for it
# in batches, in order: once a namespace deleted after the test's is being
# freed (RTM_DELNSID), the test's are gone.
settle_netns() {
	local log=$T_WORK/suite-nsid mon
	sleep 0.5	# the test's last processes exit
	ip netns add ctevq-settle 2>/dev/null &&
		ip netns set ctevq-settle 7777 2>/dev/null || { sleep 3; return; }
	ip monitor nsid > "$log" 2>&1 &
	mon=$!
	sleep 0.2
	ip netns del ctevq-settle
	wait_for_grep "$log" '[Dd]elete.*nsid 7777' 60 ||
		echo "    namespaces still being freed after 60 s"
	kill $mon 2>/dev/null; wait $mon 2>/dev/null
}

# then the log of the whole test is looked at again, teardown included
teardown_clean() {  # TEST MARK
	settle_netns
	T_MARK=$2
	if dmesg_clean; then
		echo "PASS: teardown_log_clean_${1%.sh}"
	else
		echo "FAIL: teardown_log_clean_${1%.sh}: kernel splat after the test"
		rc=1
	fi
}

rc=0
for t in $tests; do
	echo "=== $t"
	start=$(date +%s)
	mark="ctevq-suite-$t-${EPOCHREALTIME/[.,]/}"
	echo "<6>$mark" > /dev/kmsg
	bash "$here/$t" || rc=1
	teardown_clean "$t" "$mark"
	echo "=== $t: $(( $(date +%s) - start ))s"
done
exit $rc
