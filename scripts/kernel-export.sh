#!/bin/bash
# Developer tool: write the commits of a kernel tree since the pinned tag as
# the repository's kernel series, the form kernel-apply.sh replays with
# git am:
#   kernel/series/NNNN-*.patch   git format-patch of each commit
#   kernel/<path>                every file the series adds, in its final
#                                state (the tree's HEAD), readable as code
# kernel-export.sh [TREE]   (default build/linux-dev)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tree=$(realpath "${1:-$top/build/linux-dev}")
. "$top/kernel/version"
cd "$tree"
base=v$LINUX_VERSION
rm -f "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*
# --zero-commit and --no-signature: the same commits give the same files
git format-patch -q --zero-commit --no-signature -o "$top/kernel/series" "$base..HEAD"
# the new files, in their final state; files the series no longer adds go
git diff --diff-filter=A --name-only "$base" HEAD > "$top/kernel/series/new-files"
find "$top/kernel" -type f -not -path "$top/kernel/series/*" -not -path "$top/kernel/config/*" \
	-not -name version -printf '%P\n' | while read -r f; do
	grep -qxF "$f" "$top/kernel/series/new-files" || rm -f "$top/kernel/$f"
done
find "$top/kernel" -type d -empty -delete
while read -r f; do
	mkdir -p "$top/kernel/$(dirname "$f")"
	git show "HEAD:$f" > "$top/kernel/$f"
	[ -x "$f" ] && chmod +x "$top/kernel/$f"
done < "$top/kernel/series/new-files"
echo "kernel-export: $(ls "$top"/kernel/series/[0-9]*.patch | wc -l) patches, $(wc -l < "$top/kernel/series/new-files") new files"
# The tree now holds exactly this series: kernel-apply.sh need not replay it.
if [ "$tree" = "$(realpath -m "$top/build/linux-dev")" ]; then
	cat "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*.patch | sha1sum | cut -d' ' -f1 > "$tree/.ctevq-stamp"
fi
