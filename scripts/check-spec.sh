#!/bin/bash
# scripts/check-spec.sh - every behaviour identifier that tests/, kernel/
# and scripts/ use is defined exactly once in docs/spec.md.  Host-side, no
# network, no build.
#
#   scripts/check-spec.sh            check; one summary line, exit 0 or 1
#   scripts/check-spec.sh --list     also list each identifier used: its
#                                    number of uses and its first use
#
#   SPEC=FILE       the spec to check against (default docs/spec.md)
#   SPEC_DIRS=...   the trees to scan (default "tests kernel scripts",
#                   relative to the top of the repository)
#
# An identifier is used:
# * as the prefix of a test case name: an upper-case letter and one or two
#   digits, or two or more upper-case letters, then "_" and a lower-case
#   letter (a numbered prefix may also be followed by "_$", as in
#   "S4_$tag");
# * in prose, for the families S, F and A only: the letter and one or two
#   digits as a word of its own ("# S4 (placement)", "--- S2:", "(F5: ...)",
#   "S1-S7" for each of S1..S7).
# Neither may follow a letter, a digit, "_" or "$" (so KEY_F1, 0xF1,
# $S1, SIGKILL and CONFIG_X86_64 are not identifiers), and a prose use may
# not follow "-" or "." either (gcc -O2, a range's second end).
# A definition is a line "### ID title" of the spec; each must be followed,
# before the next heading, by a line starting with "Tests:".
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$top" || exit 1
spec=${SPEC:-docs/spec.md}
read -r -a dirs <<< "${SPEC_DIRS:-tests kernel scripts}"
self=scripts/check-spec.sh
list=
case ${1:-} in
--list) list=1 ;;
'') ;;
*) echo "usage: $0 [--list]" >&2; exit 1 ;;
esac

if [ ! -r "$spec" ]; then
	echo "spec: $spec: no such file" >&2
	exit 1
fi
for d in "${dirs[@]}"; do
	[ -d "$d" ] || { echo "spec: $d: no such directory" >&2; exit 1; }
done

# ID<TAB>FILE:LINE, one line per use, in path and line order
uses=$(grep -rnI -E '(^|[^A-Za-z0-9_$])([SFA][0-9]|[A-Z][0-9]{0,2}[A-Z]*_[a-z$])' \
	-- "${dirs[@]}" 2>/dev/null | grep -v "^$self:" | LC_ALL=C sort -t: -k1,1 -k2,2n |
LC_ALL=C awk '
function emit(id) { printf "%s\t%s:%s\n", id, file, ln }
{
	i = index($0, ":"); file = substr($0, 1, i - 1); r = substr($0, i + 1)
	i = index(r, ":"); ln = substr(r, 1, i - 1); s = substr(r, i + 1)
	pos = 1
	while (match(substr(s, pos), /[A-Z][A-Z0-9]*/)) {
		st = pos + RSTART - 1; len = RLENGTH; pos = st + len
		tok = substr(s, st, len)
		prev = st > 1 ? substr(s, st - 1, 1) : ""
		nx = substr(s, st + len, 1); nx2 = substr(s, st + len + 1, 1)
		if (prev ~ /[A-Za-z0-9_$]/)
			continue
		numbered = tok ~ /^[A-Z][0-9][0-9]?$/
		if (nx == "_") {	# a case name prefix
			if ((numbered && nx2 ~ /[a-z$]/) || (tok ~ /^[A-Z][A-Z]+$/ && nx2 ~ /[a-z]/))
				emit(tok)
			continue
		}
		if (tok !~ /^[SFA][0-9][0-9]?$/ || prev ~ /[-.]/)
			continue
		if (nx != "" && nx !~ /[][ \t:;,.)("\047`\/-]/)
			continue
		emit(tok)
		# a range: S1-S7, S1..S7, S1-7
		rest = substr(s, st + len)
		if (match(rest, /^(-|\.\.)[SFA]?[0-9][0-9]?/)) {
			to = substr(rest, 1, RLENGTH); after = substr(rest, RLENGTH + 1, 1)
			sub(/^(-|\.\.)/, "", to)
			fam = substr(tok, 1, 1)
			if (to ~ /^[A-Z]/) {
				if (substr(to, 1, 1) != fam)
					continue
				to = substr(to, 2)
			}
			if (after ~ /[A-Za-z0-9_]/)
				continue
			if (to + 0 < substr(tok, 2) + 0)	# backwards: both ends only
				emit(fam (to + 0))
			for (n = substr(tok, 2) + 1; n <= to + 0 && n - substr(tok, 2) <= 99; n++)
				emit(fam n)
		}
	}
}')

# ID<TAB>LINE of each definition in the spec; then whether each definition
# has its Tests: line
defs=$(LC_ALL=C awk '/^### [A-Z][A-Z0-9]*([ \t]|$)/ { split($0, f, /[ \t]+/); printf "%s\t%d\n", f[2], NR }' "$spec")
notests=$(LC_ALL=C awk '
	/^#/ { if (id != "" && !t) print id; id = ""; t = 0 }
	/^### [A-Z][A-Z0-9]*([ \t]|$)/ { split($0, f, /[ \t]+/); id = f[2] }
	/^Tests:/ { t = 1 }
	END { if (id != "" && !t) print id }' "$spec")

bad=0 ndup=0
# defined twice
dups=$(printf '%s\n' "$defs" | awk -F'\t' 'NF == 2 { n[$1]++; l[$1] = l[$1] (l[$1] == "" ? "" : ", ") $2 }
	END { for (i in n) if (n[i] > 1) printf "%s\t%s\n", i, l[i] }' | LC_ALL=C sort -V)
while IFS=$'\t' read -r id lines; do
	[ -n "$id" ] || continue
	echo "spec: $id is defined more than once in $spec (lines $lines)"
	ndup=$((ndup + 1))
	bad=1
done <<< "$dups"
for id in $notests; do
	echo "spec: $id has no Tests: line in $spec"
	bad=1
done

# used, with the first use and the count
used=$(printf '%s\n' "$uses" | awk -F'\t' 'NF == 2 { if (!($1 in first)) first[$1] = $2; n[$1]++ }
	END { for (i in first) printf "%s\t%s\t%d\n", i, first[i], n[i] }' | LC_ALL=C sort -V)
declare -A defined=()
while IFS=$'\t' read -r id _; do
	[ -n "$id" ] && defined[$id]=1
done <<< "$defs"
nused=0 undef=0
while IFS=$'\t' read -r id first n; do
	[ -n "$id" ] || continue
	nused=$((nused + 1))
	[ -n "$list" ] && printf '  %-6s %4d uses, first %s\n' "$id" "$n" "$first"
	if [ -z "${defined[$id]:-}" ]; then
		echo "spec: $id is not defined in $spec (first used at $first)"
		undef=$((undef + 1))
		bad=1
	fi
done <<< "$used"

if [ $bad = 0 ]; then
	echo "spec: $nused identifiers used, all defined in $spec"
	exit 0
fi
echo "spec: $nused identifiers used, $undef not defined in $spec, $ndup defined more than once"
exit 1
