#!/bin/bash
# kernel-suites.sh --patched TREE BUILD --unpatched TREE BUILD [--only A,B]
#                  [--timeout SECS]
# The kernel's netfilter selftests (TREE/tools/testing/selftests/net/
# netfilter, each tree its own directory) on two kernels of the same
# configuration (make kernel-suites builds them: the directory's config, =m
# made =y, on the project's qemu fragments), in the 2-vCPU qemu guest
# (tests/kselftest/run.sh), with the patched nft (build/nft, make nft) when
# it is built and the system's otherwise; then, in the format of
# make nft-suites:
#   suite kselftest-netfilter unpatched: P passed, F failed, S skipped;
#   patched: P passed, F failed, S skipped; new failures: K
# and a per-test table in build/results/kernel-suites/table.txt.  ksft exit
# codes: 0 pass, 4 skip, anything else (the timeout's 124 included) fail.
# A test is a new failure when it fails on the patched kernel but not on the
# unpatched one.  Exit 0 when there is none and both guest runs completed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
only= tmo=
declare -A tree build
while [ $# -gt 0 ]; do
	case $1 in
	--patched|--unpatched) tree[${1#--}]=$(realpath "$2"); build[${1#--}]=$(realpath -m "$3"); shift 2 ;;
	--only) only=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	*) echo "kernel-suites: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
for v in unpatched patched; do
	[ -n "${tree[$v]:-}" ] || { echo "kernel-suites: --$v TREE BUILD missing" >&2; exit 2; }
	[ -f "${build[$v]}/arch/x86/boot/bzImage" ] ||
		{ echo "kernel-suites: no kernel in ${build[$v]} (make kernel-suites builds it)" >&2; exit 2; }
done
res=$top/build/results/kernel-suites
mkdir -p "$res"

nft=$top/build/nft
if [ -x "$nft/sbin/nft" ]; then
	echo "kernel-suites: nft: the patched one, $nft/sbin/nft ($("$nft/sbin/nft" --version))"
else
	nft=
	echo "kernel-suites: nft: the system's, $(command -v nft) ($(nft --version 2>&1)); make nft NFT_SRC=... LIBNFTNL_SRC=... for the patched one"
fi

# The helper programs, against each tree's own UAPI headers; a modprobe
# tree (modules.builtin) for each kernel.
prepare() {	# VARIANT
	local t=${tree[$1]} b=${build[$1]} hdr=$top/build/ks/hdr-$1 kver mods
	local dir=$t/tools/testing/selftests/net/netfilter
	if [ ! -f "$hdr/.stamp" ] || [ "$t/Makefile" -nt "$hdr/.stamp" ]; then
		make -s -C "$t" O="$hdr" ARCH=x86 headers >/dev/null || return 1
		touch "$hdr/.stamp"
	fi
	make -s -C "$dir" OUTPUT="$dir" KHDR_INCLUDES="-isystem $hdr/usr/include" \
		all >/dev/null || { echo "kernel-suites: $1: helpers of $dir do not build" >&2; return 1; }
	kver=$(make -s -C "$t" O="$b" ARCH=x86_64 kernelrelease 2>/dev/null)
	mods=$top/build/ks/mods-$1
	rm -rf "$mods"
	mkdir -p "$mods/lib/modules/$kver"
	cp "$b/modules.builtin" "$b/modules.builtin.modinfo" "$mods/lib/modules/$kver/" || return 1
	: > "$mods/lib/modules/$kver/modules.order"
	depmod -b "$mods" "$kver" || return 1
	echo "$mods/lib/modules/$kver"
}

guest() {	# VARIANT MODS [RESULTS NFT ONLY]
	local dir=${3:-$res/$1} n=${4-$nft} o=${5-$only} app
	app="ctevq.ks.dir=${tree[$1]}/tools/testing/selftests/net/netfilter ctevq.ks.mods=$2"
	[ -n "$n" ] && app="$app ctevq.ks.nft=$n"
	[ -n "$o" ] && app="$app ctevq.ks.only=$o"
	[ -n "$tmo" ] && app="$app ctevq.ks.timeout=$tmo"
	echo "kernel-suites: $1 kernel${3:+ (${3##*/})}: $(date -u +%H:%M:%S) start"
	GUEST_QUIET=1 GUEST_MEM=${GUEST_MEM:-2048M} GUEST_APPEND="$app" \
		"$top/scripts/run-guest.sh" qemu "$top/tests/kselftest/run.sh" "$dir" \
		"${KS_VM_TIMEOUT:-21600}" "${build[$1]}/arch/x86/boot/bzImage" > "$dir.verdict" 2>&1
	echo "kernel-suites: $1 kernel${3:+ (${3##*/})}: $(tail -n1 "$dir.verdict"), $(cat "$dir/elapsed" 2>/dev/null)s"
}

rc=0
declare -A modsdir
for v in unpatched patched; do
	modsdir[$v]=$(prepare "$v") || { echo "kernel-suites: $v: cannot prepare" >&2; exit 1; }
	guest "$v" "${modsdir[$v]}"
	grep -q '^guest: ok' "$res/$v.verdict" || rc=1
done

# The feature's own selftest as netdev's CI would run it before nft has
# the statement: with the system's nft it must skip (ksft 4), not fail.
sysrc=
sysnft=$(PATH=/usr/sbin:/sbin:$PATH command -v nft)
if [ -n "$nft" ] && [ -n "$sysnft" ]; then
	case ",${only:-nft_ctevent}," in
	*,nft_ctevent,*)
		guest patched "${modsdir[patched]}" "$res/patched-system-nft" "" nft_ctevent
		sysrc=$(awk '$1 == "KSFT" && $2 == "nft_ctevent" {print $3}' \
			"$res/patched-system-nft/output.log" 2>/dev/null)
		sysrc=${sysrc:-none} ;;
	esac
fi

# the table: one row per test either kernel ran
declare -A out secs
word() { case $1 in 0) echo pass ;; 4) echo skip ;; '') echo - ;; *) echo "fail($1)" ;; esac; }
for v in unpatched patched; do
	while read -r _ n r s; do
		out[$v,$n]=$r secs[$v,$n]=$s
	done < <(grep -a '^KSFT ' "$res/$v/output.log" 2>/dev/null)
done
names=$(grep -ah '^KSFT ' "$res"/{unpatched,patched}/output.log 2>/dev/null | awk '{print $2}' | sort -u)
line=
newf=()
{
	printf '%-28s %-14s %-14s\n' test unpatched patched
	for n in $names; do
		printf '%-28s %-14s %-14s\n' "$n" \
			"$(word "${out[unpatched,$n]:-}") ${secs[unpatched,$n]:-}s" \
			"$(word "${out[patched,$n]:-}") ${secs[patched,$n]:-}s"
	done
} > "$res/table.txt"
for v in unpatched patched; do
	p=0 f=0 s=0
	for n in $names; do
		case ${out[$v,$n]:-} in
		'') ;;
		0) p=$((p + 1)) ;;
		4) s=$((s + 1)) ;;
		*) f=$((f + 1)) ;;
		esac
	done
	line="$line${line:+; }$v: $p passed, $f failed, $s skipped"
done
for n in $names; do
	case ${out[patched,$n]:-} in 0|4|'') continue ;; esac
	case ${out[unpatched,$n]:-} in 0|4|'') newf+=("$n") ;; esac
done
echo "suite kselftest-netfilter $line; new failures: ${#newf[@]}"
for n in "${newf[@]}"; do echo "  new failure: $n (log: $res/patched/ks-$n.log)"; done
sed 's/^/  /' "$res/table.txt"

# why each test that did not pass did not: the first line of its log that
# says so (or the timeout), for the table of docs/maintainer.md
for n in $names; do
	for v in unpatched patched; do
		r=${out[$v,$n]:-}
		case $r in ''|0) continue ;; esac
		log=$res/$v/ks-$n.log
		case $r in
		4) why=$(grep -a -m1 -i 'skip' "$log") ;;
		124|137) why="timeout after ${secs[$v,$n]}s: $(grep -a -v '^$' "$log" | tail -n1)" ;;
		*) why=$(grep -a -m1 -E 'FAIL|ERROR|[Ee]rror|fail' "$log") ;;
		esac
		printf '%s %s %s: %s\n' "$n" "$v" "$(word "$r")" "${why:-(nothing in the log)}"
	done
done > "$res/reasons.txt"
echo "  reasons: $res/reasons.txt"

case ${out[patched,nft_ctevent]:-} in
0) echo "kselftest nft_ctevent with the patched nft: pass" ;;
'') ;;
*) echo "kselftest nft_ctevent with the patched nft: $(word "${out[patched,nft_ctevent]}")"; rc=1 ;;
esac
if [ -n "$sysrc" ]; then
	if [ "$sysrc" = 4 ]; then
		echo "kselftest nft_ctevent with the system's nft ($($sysnft --version 2>&1)): skip (ksft 4), as expected"
	else
		echo "kselftest nft_ctevent with the system's nft ($($sysnft --version 2>&1)): $(word "$sysrc"), expected skip (ksft 4)"
		rc=1
	fi
fi
[ ${#newf[@]} -eq 0 ] || rc=1
exit $rc
