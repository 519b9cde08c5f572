#!/bin/bash
# Developer tool: write the commits of a kernel tree since the pinned tag
# into kernel/ (messages and diffs of existing files in kernel/series/, new
# files at their kernel-tree paths), the form kernel-apply.sh replays.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-$top/build/linux-dev}
. "$top/kernel/version"
cd "$tree"
rm -f "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*
n=0
for c in $(git rev-list --reverse "v$LINUX_VERSION..HEAD"); do
	n=$((n + 1))
	slug=$(git log -1 --format=%f "$c" | cut -c1-50)
	base=$(printf '%s/kernel/series/%04d-%s' "$top" "$n" "$slug")
	git log -1 --format='%B' "$c" > "$base.msg"
	git diff --diff-filter=M "$c^" "$c" > "$base.diff"
	git diff --diff-filter=A --name-only "$c^" "$c" > "$base.new"
	while read -r f; do
		mkdir -p "$top/kernel/$(dirname "$f")"
		git show "$c:$f" > "$top/kernel/$f"
	done < "$base.new"
	[ -s "$base.diff" ] || rm -f "$base.diff"
	[ -s "$base.new" ] || rm -f "$base.new"
done
echo "exported $n patches to kernel/series"
