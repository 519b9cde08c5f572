#!/bin/bash
# Replay kernel/series onto a git tree of the pinned Linux release:
# kernel-apply.sh PRISTINE_GIT_TREE WORKTREE
# The worktree (branch ctevq) is reset to the tag and gets one commit per
# patch; nothing is done when it already holds this exact series.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/kernel/version"
pristine=$1
tree=$2
stamp=$(cd "$top/kernel" && find . -type f -not -path './config/*' -not -name cover.txt | LC_ALL=C sort | xargs cat | sha1sum | cut -d' ' -f1)
if [ -d "$tree" ] && [ "$(cat "$tree/.ctevq-stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
if [ ! -d "$tree" ]; then
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q -f -B ctevq "$tree" "v$LINUX_VERSION"
fi
cd "$tree"
git reset -q --hard "v$LINUX_VERSION"
git clean -qfdx
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-ctevq} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-ctevq@localhost}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
for msg in "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*.msg; do
	base=${msg%.msg}
	if [ -f "$base.diff" ]; then
		git apply --index "$base.diff" || { echo "kernel-apply: $(basename "$base").diff does not apply to v$LINUX_VERSION" >&2; exit 1; }
	fi
	if [ -f "$base.new" ]; then
		while read -r f; do
			mkdir -p "$(dirname "$f")"
			cp "$top/kernel/$f" "$f"
			git add "$f"
		done < "$base.new"
	fi
	git commit -q -F "$msg"
done
echo "$stamp" > .ctevq-stamp
echo "kernel-apply: $(git rev-list --count "v$LINUX_VERSION..HEAD") patches on v$LINUX_VERSION in $tree"
