#!/bin/bash
# check.sh --kernel IMAGE --runner uml|qemu [--suite full|smoke|NN+NN]
#          [--qemu-kernel IMAGE [--qemu-suite SUITE]...] [--tag NAME]
#          [--series KERNEL_TREE] [--only NN+NN+nft+consumers]
# --only (make ... SUITE=) runs exactly what it names: the kernel suite's
# files of those numbers, the nft tests, the consumer tests; nothing else
# (no host checks, no SKIP lines for what it leaves out).
# Runs the kernel test suite in the guest (and, with --qemu-kernel, a subset,
# smoke by default, on a 2-vCPU qemu guest; each --qemu-suite is a guest run
# of its own, with its own time limit), then the nft tests (tests/nft/run.sh, in a
# second guest run, and scripts/check-nft-copies.sh on the host) when
# NFT_SRC and LIBNFTNL_SRC are set and build/nft is built from them (make nft),
# else one SKIP line per nft test file; likewise the consumer tests
# (tests/consumers/run.sh) with LNFCT_SRC and CTTOOLS_SRC (make consumers);
# ends with one line
# "N passed, N failed, N skipped".  A guest that times out, writes no result
# or shows a kernel splat counts as a failure.  With --series, the kernel
# series of that tree is checked first (scripts/series.sh: kernel/ files
# against the series, checkpatch --strict per patch; not the build at every
# patch, which is make series-check).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel= runner=uml suite=full qemuk= qsuites= tag= series= only=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--runner) runner=$2; shift ;;
	--suite) suite=$2; shift ;;
	--qemu-kernel) qemuk=$2; shift ;;
	--qemu-suite) qsuites="$qsuites $2"; shift ;;
	--tag) tag=-$2; shift ;;
	--series) series=$2; shift ;;
	--only) only=+$2+; shift ;;
	*) echo "check: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
P=0 F=0 S=0
want_nft=1 want_cons=1
if [ -n "$only" ]; then
	want_nft= want_cons= suite=
	for w in ${only//+/ }; do
		case $w in
		nft) want_nft=1 ;;
		consumers) want_cons=1 ;;
		[0-9][0-9])
			set -- "$top"/tests/kernel/"$w"-*.sh
			[ -f "$1" ] || { echo "check: no tests/kernel/$w-*.sh" >&2; exit 2; }
			suite=$suite${suite:++}$w ;;
		*) echo "check: --only: $w is neither a test number (NN) nor nft or consumers" >&2
		   exit 2 ;;
		esac
	done
fi

run() {  # RUNNER KERNEL SUITE TIMEOUT [SCRIPT]
	local r=$1 k=$2 s=$3 to=$4 script=${5:-$top/tests/kernel/run.sh}
	local dir=$top/build/results/$1-$3$tag verdict ko mods
	# a kernel built with nft_ctevent as a module: the guest insmods it, or
	# with its modules_install tree, loads every module from there
	ko=$(dirname "$k")/net/netfilter/nft_ctevent.ko
	case $k in */arch/*/boot/*) ko=${k%/arch/*}/net/netfilter/nft_ctevent.ko ;; esac
	[ -f "$ko" ] && ko="ctevq.ko=$ko" || ko=
	mods=${k%/arch/*}/modroot
	[ "$mods" != "$k" ] && [ -d "$mods/lib/modules" ] && ko="$ko ctevq.modules=$mods"
	echo "--- $r guest, suite $s ($k)"
	verdict=$(GUEST_QUIET=1 GUEST_APPEND="ctevq.suite=$s ctevq.tag=${tag#-} $ko" \
		"$top/scripts/run-guest.sh" "$r" "$script" "$dir" "$to" "$k" 2>&1 | tail -1)
	if [ -f "$dir/output.log" ]; then
		grep -E '^(PASS|FAIL|SKIP): |^    |^=== ' "$dir/output.log" | sed "s/^\(PASS\|FAIL\|SKIP\): /\1: $r: /"
		P=$((P + $(grep -c '^PASS: ' "$dir/output.log")))
		F=$((F + $(grep -c '^FAIL: ' "$dir/output.log")))
		S=$((S + $(grep -c '^SKIP: ' "$dir/output.log")))
	fi
	echo "$verdict"
	case $verdict in
	"guest: ok") ;;
	*) F=$((F + 1)); echo "FAIL: $r: guest run: $verdict (logs in $dir)"
	   splat_context "$dir" ;;
	esac
}

# A check on the host: PASS, or FAIL with its output indented.
host_check() {  # NAME CMD...
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		P=$((P + 1)); echo "PASS: host: $name"
	else
		F=$((F + 1)); echo "FAIL: host: $name"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

# The first kernel report of a failed guest run, with its stack, so that a
# CI log that keeps only the output says what happened.
splat_context() {  # RESULTS_DIR
	local first n
	[ -s "$1/splats.log" ] && [ -f "$1/console.log" ] || return 0
	first=$(head -n 1 "$1/splats.log" | sed 's/^[^:]*: //')
	n=$(grep -a -n -F -- "$first" "$1/console.log" | head -n 1 | cut -d: -f1)
	echo "    kernel reports (first 10 lines of $1/splats.log):"
	sed 's/^/    | /; 10q' "$1/splats.log"
	[ -n "$n" ] || return 0
	echo "    console.log from line $((n > 5 ? n - 5 : 1)):"
	tr -d '\r' < "$1/console.log" | sed -n "$((n > 5 ? n - 5 : 1)),$((n + 70))p" | sed 's/^/    | /'
}

if [ -n "$series" ]; then
	out=$("$top/scripts/series.sh" "$series" "$top/build/series/kernel" 2>&1)
	printf '%s\n' "$out" | grep -v '^checkpatch' | sed 's/^/    /'
	while read -r verdict name; do
		case $verdict in
		clean) P=$((P + 1)); echo "PASS: host: checkpatch --strict $name" ;;
		*) F=$((F + 1)); echo "FAIL: host: checkpatch --strict $name"
		   sed 's/^/    /' "$top/build/series/kernel/$name.checkpatch" ;;
		esac
	done < <(printf '%s\n' "$out" | sed -n 's/^checkpatch --strict: \(clean\|REMARKS\) *\(.*\)$/\1 \2/p')
	if printf '%s\n' "$out" | grep -q '^series-check: kernel/ holds the final state'; then
		P=$((P + 1)); echo "PASS: host: kernel/ files are the series' new files in their final state"
	else
		F=$((F + 1)); echo "FAIL: host: kernel/ files are the series' new files in their final state"
	fi
fi

# what the repository's text promises: every behaviour identifier a test
# or the series uses defined in docs/spec.md, every make target in make help
if [ -z "$only" ]; then
	host_check check-spec "$top/scripts/check-spec.sh"
	host_check check-help "$top/scripts/check-help.sh"
fi

[ -n "$suite" ] && run "$runner" "$kernel" "$suite" 2400
if [ -n "$qemuk" ]; then
	if [ -f "$qemuk" ]; then
		for qsuite in ${qsuites:-smoke}; do
			run qemu "$qemuk" "$qsuite" 1800
		done
	else
		F=$((F + 1)); echo "FAIL: qemu kernel $qemuk missing"
	fi
fi

# The nft and libnftnl series are tested against upstream trees the user
# points the build at (NFT_SRC, LIBNFTNL_SRC); without them, say so.
nft=$top/build/nft/sbin/nft stamp=$top/build/nft/.ctevq-stamp
if [ -z "$want_nft" ]; then
	:
elif [ -n "${NFT_SRC:-}" ] && [ -n "${LIBNFTNL_SRC:-}" ]; then
	if [ ! -x "$nft" ] || [ ! -f "$stamp" ]; then
		F=$((F + 1)); echo "FAIL: nft: $nft is not built (make nft NFT_SRC=... LIBNFTNL_SRC=...)"
	elif [ -n "$(find "$top/libnftnl-patch" "$top/nft-patch" "$top/scripts/build-nft.sh" "$top/scripts/upstream-build-lib.sh" -newer "$stamp" -print -quit)" ]; then
		F=$((F + 1)); echo "FAIL: nft: $nft is older than the series (make nft NFT_SRC=... LIBNFTNL_SRC=...)"
	else
		run "$runner" "$kernel" nft 1200 "$top/tests/nft/run.sh"
	fi
	host_check "nft test copies identical to nft-patch/" "$top/scripts/check-nft-copies.sh"
else
	for t in "$top"/tests/shell/testcases/*/*[!~] "$top"/tests/py/*/*.t; do
		[ -f "$t" ] || continue
		case $t in *.nft|*.json-nft|*.payload|*.json|*.output) continue ;; esac
		S=$((S + 1)); echo "SKIP: ${t#"$top"/}: needs the patched nft"
	done
	echo "note: set NFT_SRC= and LIBNFTNL_SRC= to upstream trees to run the nft tests"
fi

# Likewise the consumers (libnetfilter_conntrack, conntrack-tools) with
# their series, from LNFCT_SRC and CTTOOLS_SRC (make consumers).
cons=$top/build/consumers cstamp=$top/build/consumers/.ctevq-stamp
if [ -z "$want_cons" ]; then
	:
elif [ -n "${LNFCT_SRC:-}" ] && [ -n "${CTTOOLS_SRC:-}" ]; then
	if [ ! -f "$cstamp" ]; then
		F=$((F + 1)); echo "FAIL: consumers: $cons is not built (make consumers LNFCT_SRC=... CTTOOLS_SRC=...)"
	elif [ -n "$(find "$top/libnetfilter_conntrack-patch" "$top/conntrack-tools-patch" "$top/ulogd2-patch" "$top/scripts/build-consumers.sh" "$top/scripts/upstream-build-lib.sh" -newer "$cstamp" -print -quit)" ]; then
		F=$((F + 1)); echo "FAIL: consumers: $cons is older than the series (make consumers LNFCT_SRC=... CTTOOLS_SRC=...)"
	else
		run "$runner" "$kernel" consumers 900 "$top/tests/consumers/run.sh"
	fi
else
	for t in "$top"/tests/consumers/[0-9][0-9]-*.sh; do
		S=$((S + 1)); echo "SKIP: ${t#"$top"/}: needs the patched libnetfilter_conntrack and conntrack-tools"
	done
	echo "note: set LNFCT_SRC= and CTTOOLS_SRC= to upstream trees to run the consumer tests"
fi

echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
