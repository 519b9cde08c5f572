#!/bin/bash
# Replay kernel/series/*.patch with git am onto a git tree of the pinned
# Linux release:  kernel-apply.sh PRISTINE_GIT_TREE WORKTREE
# The worktree (branch ctevq) is reset to the tag and gets one commit per
# patch; nothing is done when it already holds this exact series.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/kernel/version"
pristine=$1
tree=$2
stamp=$(cat "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*.patch | sha1sum | cut -d' ' -f1)
if [ -d "$tree" ] && [ "$(cat "$tree/.ctevq-stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
if [ ! -d "$tree" ]; then
	git -C "$pristine" worktree prune
	git -C "$pristine" worktree add -q -f -B ctevq "$tree" "v$LINUX_VERSION"
fi
cd "$tree"
git am --abort >/dev/null 2>&1 || true
git checkout -q -B ctevq "v$LINUX_VERSION"
git reset -q --hard "v$LINUX_VERSION"
git clean -qfdx
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-ctevq} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-ctevq@localhost}
if ! git am -q "$top"/kernel/series/[0-9][0-9][0-9][0-9]-*.patch; then
	echo "kernel-apply: the series does not apply to v$LINUX_VERSION with git am" >&2
	git am --abort >/dev/null 2>&1 || true
	exit 1
fi
echo "$stamp" > .ctevq-stamp
echo "kernel-apply: $(git rev-list --count "v$LINUX_VERSION..HEAD") patches on v$LINUX_VERSION in $tree"
