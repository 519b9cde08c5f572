#!/bin/bash
# splat-scan.sh [-x IGNORE_FILE] FILE...
# Prints the lines of FILE(s) that look like kernel splats, according to
# scripts/kernel-splat-patterns (patterns; '!'-prefixed lines are exclusions).
# With -x, lines that appear verbatim in IGNORE_FILE (e.g. the test's own
# output echoed on the console) are not reported.
# Exit status: 0 = splat found, 1 = clean, 2 = usage/error (like grep).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pat_file=${SPLAT_PATTERNS:-$here/kernel-splat-patterns}
ignore=
if [ "${1:-}" = -x ]; then ignore=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: $0 [-x IGNORE_FILE] FILE..." >&2; exit 2; }
[ -r "$pat_file" ] || { echo "splat-scan: no pattern file $pat_file" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/splat.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
grep -v -e '^#' -e '^[[:space:]]*$' -e '^!' "$pat_file" > "$tmp/inc"
sed -n 's/^!//p' "$pat_file" > "$tmp/exc"
[ -s "$tmp/exc" ] || echo '^$a' > "$tmp/exc"   # matches nothing

: > "$tmp/ign"
if [ -n "$ignore" ] && [ -s "$ignore" ]; then
	tr -d '\r' < "$ignore" | grep -v '^[[:space:]]*$' > "$tmp/ign"
fi

found=1
for f in "$@"; do
	[ -r "$f" ] || continue
	tr -d '\r' < "$f" | grep -a -E -f "$tmp/inc" | grep -a -v -E -f "$tmp/exc" |
		{ if [ -s "$tmp/ign" ]; then grep -a -v -x -F -f "$tmp/ign"; else cat; fi; } > "$tmp/hits" || true
	if [ -s "$tmp/hits" ]; then
		found=0
		sed "s|^|$(basename "$f"): |" "$tmp/hits"
	fi
done
exit $found
