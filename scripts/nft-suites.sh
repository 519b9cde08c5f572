#!/bin/bash
# nft-suites.sh [--kernel IMAGE] [--timeout SECS] [SUITE[:PATH,...]...]
# Runs upstream nftables' own test suites (SUITE: py = tests/py/nft-test.py
# over every .t file, shell = tests/shell/run-tests.sh -Q; with :PATH,...
# only those files or directories, e.g. py:any shell:testcases/nft-f) in the
# UML guest,
# on the patched kernel, once with the unpatched nft (build/nft-unpatched,
# tree build/nft-src-unpatched/nftables) and once with the patched one
# (build/nft, tree build/nft-src/nftables), and compares them per suite:
#   suite NAME unpatched: P passed F failed S skipped; patched: P passed F
#   failed S skipped; new failures: K
# followed by the new failures by name.  Results in build/results/nft-suites-*.
# Long (tens of minutes per guest run): not part of make check or CI.
# Environment: NFT_SUITES_JOBS=2 runs two guests at a time (default 1).
# Exit 0 when no suite has new failures and every guest run completed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$top/build/uml/linux timeout=2700 suites=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	py|shell|py:*|shell:*) suites+=("$1") ;;
	*) echo "nft-suites: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ ${#suites[@]} -gt 0 ] || suites=(py shell)
declare -A prefix=([unpatched]=$top/build/nft-unpatched [patched]=$top/build/nft)
declare -A tree=([unpatched]=$top/build/nft-src-unpatched/nftables [patched]=$top/build/nft-src/nftables)
for v in unpatched patched; do
	[ -x "${prefix[$v]}/sbin/nft" ] && [ -d "${tree[$v]}/tests" ] ||
		{ echo "nft-suites: no $v build in ${prefix[$v]} / ${tree[$v]} (make nft-suites NFT_SRC=... LIBNFTNL_SRC=...)" >&2; exit 2; }
done

guest() {	# SUITE[:PATHS] VARIANT
	local dir=$top/build/results/nft-suites-${1%%:*}-$2 only=
	case $1 in *:*) only="ctevq.nft.only=${1#*:}" ;; esac
	GUEST_QUIET=1 GUEST_APPEND="ctevq.nft.suite=${1%%:*} ctevq.nft.prefix=${prefix[$2]} ctevq.nft.tree=${tree[$2]} $only" \
		"$top/scripts/run-guest.sh" uml "$top/tests/nft/run-upstream.sh" "$dir" "$timeout" "$kernel" > "$dir.verdict" 2>&1
	echo "nft-suites: $1 $2: $(tail -n1 "$dir.verdict"), $(cat "$dir/elapsed" 2>/dev/null)s"
}

mkdir -p "$top/build/results"
jobs=${NFT_SUITES_JOBS:-1}
for s in "${suites[@]}"; do
	for v in unpatched patched; do
		echo "nft-suites: starting $s $v (timeout ${timeout}s)"
		guest "$s" "$v" &
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	done
done
wait

rc=0
counts() { # OUTPUT_LOG -> "P passed F failed S skipped"
	echo "$(grep -c '^PASS: ' "$1" 2>/dev/null) passed $(grep -c '^FAIL: ' "$1" 2>/dev/null) failed $(grep -c '^SKIP: ' "$1" 2>/dev/null) skipped"
}
for s in "${suites[@]}"; do
	case $s in *:*) echo "suite ${s%%:*}: only ${s#*:}" ;; esac
	s=${s%%:*}
	u=$top/build/results/nft-suites-$s-unpatched/output.log
	p=$top/build/results/nft-suites-$s-patched/output.log
	for v in unpatched patched; do
		verdict=$(tail -n1 "$top/build/results/nft-suites-$s-$v.verdict" 2>/dev/null)
		[ "$verdict" = "guest: ok" ] || { rc=1; echo "nft-suites: $s $v guest run: ${verdict:-no verdict} (results incomplete)"; }
	done
	# a new failure: FAIL with the patched nft, not FAIL with the unpatched
	new=$(comm -13 <(sed -n 's/^FAIL: \([^:]*: [^:]*\).*/\1/p' "$u" 2>/dev/null | sort -u) \
		       <(sed -n 's/^FAIL: \([^:]*: [^:]*\).*/\1/p' "$p" 2>/dev/null | sort -u))
	k=$(printf '%s' "$new" | grep -c .)
	echo "suite $s unpatched: $(counts "$u"); patched: $(counts "$p"); new failures: $k"
	[ "$k" -eq 0 ] || { rc=1; printf '%s\n' "$new" | sed 's/^/    new failure: /'; }
	# tests only one side has (the series adds some)
	comm -13 <(sed -n 's/^[A-Z]*: \([^:]*: [^:]*\).*/\1/p' "$u" 2>/dev/null | sort -u) \
		 <(sed -n 's/^[A-Z]*: \([^:]*: [^:]*\).*/\1/p' "$p" 2>/dev/null | sort -u) |
		sed 's/^/    only patched: /'
done
exit $rc
