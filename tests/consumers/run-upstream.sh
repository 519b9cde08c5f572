#!/bin/bash
# tests/consumers/run-upstream.sh - inside the guest (make consumers-suites):
# conntrack-tools' own tests/conntrack testsuite, each file in a fresh
# netns, with the unpatched build (build/consumers-unpatched) and with the
# patched one (build/consumers).  Prints one line per command of the
# testsuite:  RESULT BUILD FILE:LINE ok|bad  (scripts/consumers-suites.sh
# counts them).
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"

for build in unpatched patched; do
	case $build in
	unpatched) P=$TOP/build/consumers-unpatched ;;
	patched) P=$TOP/build/consumers ;;
	esac
	prog=$P/libexec/ctevq/test-conntrack
	suite=$P/share/ctevq/conntrack-testsuite
	if [ ! -x "$prog" ] || [ ! -d "$suite" ]; then
		fail "consumers-suites-$build" "no $prog or $suite"
		continue
	fi
	for f in "$suite"/*; do
		name=$(basename "$f")
		# the program runs ../../src/conntrack on testsuite/* of its cwd
		w=$T_WORK/$build/$name
		mkdir -p "$w/src" "$w/tests/conntrack/testsuite"
		ln -s "$P/sbin/conntrack" "$w/src/conntrack"
		cp "$f" "$w/tests/conntrack/testsuite/"
		ip netns add ctsuite
		(cd "$w/tests/conntrack" && ip netns exec ctsuite "$prog") > "$w/out" 2>&1
		ip netns del ctsuite
		awk -v b="$build" -v n="$name" '
			/^\([0-9]+\) Executing: / { line = substr($1, 2, length($1) - 2) }
			/^\^----- BAD/ { bad[line] = 1 }
			/^=====$/ { print "RESULT", b, n ":" line, (line in bad) ? "bad" : "ok" }
		' "$w/out"
		echo "    $build $name: $(tail -n 1 "$w/out")"
	done
done
summary
