#!/bin/bash
# check-help.sh: every target of the Makefile and mk/*.mk that a user can
# name (not a file, not an internal *-force) has its "## target: ..." line,
# which make help prints, and every such line names a target that exists.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
files=("$top/Makefile" "$top"/mk/*.mk)
targets=$(sed -n 's/^\([a-z][a-z0-9-]*\)\( [a-z][a-z0-9 -]*\)\{0,1\}:\([^=]\|$\).*/\1\2/p' "${files[@]}" |
	tr ' ' '\n' | grep -v -e '-force$' -e '^$' | sort -u)
helped=$(sed -n 's/^## \([^:]*\): .*/\1/p' "${files[@]}" | sort)
rc=0
dup=$(uniq -d <<< "$helped")
[ -z "$dup" ] || { echo "check-help: more than one ## line for: $dup"; rc=1; }
for t in $(comm -23 <(echo "$targets") <(uniq <<< "$helped")); do
	echo "check-help: target $t has no \"## $t: ...\" line for make help"; rc=1
done
for t in $(comm -13 <(echo "$targets") <(uniq <<< "$helped")); do
	echo "check-help: \"## $t:\" names no target"; rc=1
done
[ $rc -eq 0 ] && echo "check-help: $(wc -l <<< "$targets") targets, each in make help"
exit $rc
