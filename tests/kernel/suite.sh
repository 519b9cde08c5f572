#!/bin/bash
# Runs inside the guest: every test of the suite named by CTEVQ_SUITE
# (guest command line ctevq.suite=..., default full), one after the other.
# Their PASS/FAIL/SKIP lines are what scripts/check.sh counts.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=${CTEVQ_SUITE:-full}
tag=
for arg in $(cat /proc/cmdline); do
	case $arg in
	ctevq.suite=*) suite=${arg#*=} ;;
	ctevq.tag=*) tag=${arg#*=} ;;
	esac
done
# The debug kernel (KASAN, lockdep, kmemleak) is several times slower: the
# reliable-delivery test uses fewer connections there.
[ "$tag" = debug ] && export CTEVQ_RELIABLE_CONNS=${CTEVQ_RELIABLE_CONNS:-4000}
case $suite in
smoke) tests="00-smoke.sh 30-control.sh 60-smp.sh" ;;
*) tests=$(cd "$here" && ls [0-9][0-9]-*.sh) ;;
esac
rc=0
for t in $tests; do
	echo "=== $t"
	start=$(date +%s)
	bash "$here/$t" || rc=1
	echo "=== $t: $(( $(date +%s) - start ))s"
done
exit $rc
