#!/bin/bash
# check-nft-copies.sh [PATCH_DIR]
#
# The nft series (nft-patch/, default) is the source of truth for the nft
# tests; tests/py/ and tests/shell/ of this repository hold copies of the
# files it adds, at their upstream paths.  This script extracts the new files
# under tests/py/ and tests/shell/ from the series (git apply into an empty
# scratch directory: the test patches only add files) and checks that every
# copy is byte-identical, has the same executable bit, and that there is no
# copy the series does not add.  Exit 0 when all match.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pdir=${1:-$top/nft-patch}
pdir=$(cd "$pdir" && pwd) || exit 2

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

patches=()
for p in "$pdir"/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	patches+=("$p")
done
[ ${#patches[@]} -gt 0 ] || { echo "check-nft-copies: no patches in $pdir" >&2; exit 2; }

# Only the new files under tests/py and tests/shell are extracted.
if ! (cd "$tmp" && git apply --include='tests/py/*' --include='tests/shell/*' \
		"${patches[@]}"); then
	echo "check-nft-copies: cannot extract the test files from $pdir" >&2
	exit 2
fi

bad=0 n=0
while IFS= read -r f; do
	n=$((n + 1))
	copy=$top/$f
	if [ ! -f "$copy" ]; then
		echo "MISSING  $f (added by the series, no copy in the repository)"
		bad=1
	elif ! cmp -s "$tmp/$f" "$copy"; then
		echo "DIFFERS  $f"
		diff -u "$tmp/$f" "$copy" | sed -n '1,20p' | sed 's/^/    /'
		bad=1
	fi
	want=-; [ -x "$tmp/$f" ] && want=x
	have=-; [ -x "$copy" ] && have=x
	if [ -f "$copy" ] && [ "$want" != "$have" ]; then
		echo "MODE     $f (executable bit differs from the series)"
		bad=1
	fi
done < <(cd "$tmp" && find tests -type f | sort)

while IFS= read -r f; do
	[ -f "$tmp/$f" ] || { echo "EXTRA    $f (a copy of a file the series does not add)"; bad=1; }
done < <(cd "$top" && find tests/py tests/shell -type f 2>/dev/null | sort)

if [ $bad = 0 ]; then
	echo "check-nft-copies: ok, $n files identical to $(basename "$pdir")"
else
	echo "check-nft-copies: MISMATCH between tests/py, tests/shell and $(basename "$pdir")"
fi
exit $bad
