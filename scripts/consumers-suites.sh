#!/bin/bash
# consumers-suites.sh [--kernel IMAGE] [--timeout SECONDS]
# conntrack-tools' own testsuite (tests/conntrack: conntrack commands and
# their expected success or failure) in the UML guest on the patched
# kernel, with conntrack-tools and libnetfilter_conntrack unpatched
# (build/consumers-unpatched) and patched (build/consumers), and prints
#   suite conntrack-testsuite unpatched: P passed, F failed, S skipped; patched: ...; new failures: K
# followed by the new failures (FILE:LINE of the testsuite).  Results in
# build/results/consumers-suites.  Exit 0 when there are no new failures.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$top/build/uml/linux timeout=900
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	*) echo "consumers-suites: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
dir=$top/build/results/consumers-suites
verdict=$(GUEST_QUIET=1 "$top/scripts/run-guest.sh" uml "$top/tests/consumers/run-upstream.sh" \
	"$dir" "$timeout" "$kernel" 2>&1 | tail -n 1)
grep -E '^    (un)?patched ' "$dir/output.log" 2>/dev/null
counts() {  # BUILD
	local p f
	p=$(grep -c "^RESULT $1 .* ok$" "$dir/output.log")
	f=$(grep -c "^RESULT $1 .* bad$" "$dir/output.log")
	echo "$p passed, $f failed, 0 skipped"
}
bad() { awk -v b="$1" '$1 == "RESULT" && $2 == b && $4 == "bad" { print $3 }' "$dir/output.log" | sort; }
new=$(comm -13 <(bad unpatched) <(bad patched))
k=$(printf '%s' "$new" | grep -c .)
echo "suite conntrack-testsuite unpatched: $(counts unpatched); patched: $(counts patched); new failures: $k"
[ "$k" -eq 0 ] || printf '%s\n' "$new" | sed 's/^/    new failure: /'
[ "$verdict" = "guest: ok" ] || { echo "consumers-suites: guest run: $verdict (logs in $dir)"; exit 1; }
[ "$k" -eq 0 ]
