# shellcheck shell=bash
# tests/consumers/lib.sh - helpers of the consumer tests; source after
# tests/kernel/lib.sh and ctevq.sh.
#   refused NAME PATTERN LOG CMD...   CMD in ns1 (at most 20 s) must fail,
#                                     with PATTERN in its output or in LOG
#                                     (- for none)

refused() {
	local name=$1 pattern=$2 log=$3 out rc
	shift 3
	out=$(ip netns exec ns1 timeout 20 "$@" 2>&1); rc=$?
	[ "$log" != - ] && out+=$'\n'$(tail -n 5 "$log" 2>/dev/null)
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q -F -- "$pattern" <<< "$out"; then
		ok "$name"
	else
		fail "$name" "exit $rc, want '$pattern':"
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /'
	fi
}
