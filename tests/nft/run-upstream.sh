#!/bin/bash
# tests/nft/run-upstream.sh - one upstream nftables test suite inside the guest
# (scripts/nft-suites.sh, make nft-suites).  Guest command line:
#   ctevq.nft.suite=py|shell  ctevq.nft.prefix=DIR (install prefix, DIR/sbin/nft)
#   ctevq.nft.tree=DIR (the built nftables tree whose tests/ are run)
#   ctevq.nft.only=PATH[,PATH...] only these files/directories (relative to
#                  tests/py, e.g. any, or to tests/shell, e.g. testcases/nft-f)
# Prints one line per test: "PASS: py: any/ct.t", "FAIL: shell: testcases/...:
# STATUS", "SKIP: shell: ...".  Runs from a copy in $TMPDIR (the harnesses
# write next to their tests; the root file system is read-only).
suite= prefix= tree= only=
for arg in $(cat /proc/cmdline); do
	case $arg in
	ctevq.nft.suite=*) suite=${arg#*=} ;;
	ctevq.nft.prefix=*) prefix=${arg#*=} ;;
	ctevq.nft.tree=*) tree=${arg#*=} ;;
	ctevq.nft.only=*) only=${arg#*=}; only=${only//,/ } ;;
	esac
done
NFT=$prefix/sbin/nft LIB=$prefix/lib/libnftables.so.1
[ -x "$NFT" ] && [ -e "$LIB" ] && [ -d "$tree/tests" ] ||
	{ echo "FAIL: $suite: setup: no nft in $prefix or no tree $tree"; exit 1; }
echo "nft: $("$NFT" --version) ($NFT), tests of $tree"
W=$(mktemp -d "${TMPDIR:-/tmp}/nft-suite.XXXXXX")
mkdir -p "$W/tests"
start=$(date +%s)
case $suite in
py)
	cp -a "$tree/py" "$W/py" && cp -a "$tree/tests/py" "$W/tests/" || exit 1
	cd "$W/tests/py" || exit 1
	for t in $(find ${only:-any arp bridge inet ip ip6 netdev} -name '*.t' 2>/dev/null | sort); do
		out=$(timeout 600 /usr/bin/python3 ./nft-test.py -S -l "$LIB" "$t" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && ! grep -q 'ERROR' <<< "$out"; then
			echo "PASS: py: $t"
		else
			echo "FAIL: py: $t: exit $rc, $(grep -c 'ERROR' <<< "$out") errors"
			grep -E 'ERROR' <<< "$out" | head -n 10 | sed 's/^/    /'
		fi
	done
	;;
shell)
	cp -a "$tree/tests/shell" "$W/tests/" || exit 1
	cd "$W/tests/shell" || exit 1
	NFT="$NFT" ./run-tests.sh -Q $only > "$W/run-tests.log" 2>&1
	echo "run-tests.sh exit $?"
	grep -E '^I: conf: NFT_TEST_HAVE_|^I: results:' "$W/run-tests.log" | sed 's/^/    /'
	sed -nE 's/^[IW]: \[([A-Z ]+)\] +[0-9]+\/[0-9]+ (.*)$/\1|\2/p' "$W/run-tests.log" |
	while IFS='|' read -r st t; do
		case $st in
		OK) echo "PASS: shell: $t" ;;
		SKIPPED) echo "SKIP: shell: $t: skipped" ;;
		*) echo "FAIL: shell: $t: $st" ;;
		esac
	done
	;;
*) echo "FAIL: setup: unknown suite '$suite'"; exit 1 ;;
esac
echo "suite $suite: $(( $(date +%s) - start ))s"
exit 0
