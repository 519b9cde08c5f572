#!/bin/bash
# series.sh [--build] TREE OUTDIR: write the kernel series of TREE (the
# tree kernel-apply.sh made from kernel/series/) as git format-patch with a
# cover letter, run checkpatch --strict on every patch, and check that the
# files under kernel/ are the series' new files in their final state; with
# --build, also build the tree at every patch (UML config).  Exits 1 on
# any remark, difference or build failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/kernel/version"
build=0
[ "${1:-}" = --build ] && { build=1; shift; }
tree=$(realpath "$1") out=$(realpath -m "$2")
base=v$LINUX_VERSION
rm -rf "$out"
mkdir -p "$out"
cd "$tree"
bad=0

# kernel/ and the series agree: the same new files, with the same content
git diff --diff-filter=A --name-only "$base" ctevq > "$out/new-files"
if ! cmp -s "$out/new-files" "$top/kernel/series/new-files"; then
	echo "series-check: kernel/series/new-files is not the list of files the series adds:"
	diff "$top/kernel/series/new-files" "$out/new-files" | sed 's/^/    /'
	bad=1
fi
while read -r f; do
	if ! git show "ctevq:$f" | cmp -s - "$top/kernel/$f"; then
		echo "series-check: kernel/$f differs from the series' final $f"
		bad=1
	fi
done < "$out/new-files"
extra=$(cd "$top/kernel" && find . -type f -not -path './series/*' -not -path './config/*' \
	-not -name version -printf '%P\n' | grep -vxFf "$out/new-files" || true)
if [ -n "$extra" ]; then
	echo "series-check: files under kernel/ that the series does not add: $extra"
	bad=1
fi
[ $bad = 0 ] && echo "series-check: kernel/ holds the final state of the $(wc -l < "$out/new-files") files the series adds"

git config branch.ctevq.description "$(cat "$top/kernel/series/cover.txt")"
git -c user.name=ctevq -c user.email=ctevq@localhost format-patch -q --cover-letter --cover-from-description=subject \
	--subject-prefix="PATCH nf-next v3" -o "$out" "$base..ctevq"
# the form to post: signed off by whoever regenerates it
"$top/scripts/series-ident.sh" "$out"
# FILE_PATH_CHANGES only asks whether MAINTAINERS needs updating for a new
# file; net/netfilter/ and its selftests are covered by the NETFILTER entry.
for p in "$out"/0*.patch; do
	case $p in *0000-cover-letter.patch) continue ;; esac
	if PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --quiet \
		--ignore FILE_PATH_CHANGES "$p" > "$p.checkpatch" 2>&1; then
		echo "checkpatch --strict: clean  $(basename "$p")"
	else
		echo "checkpatch --strict: REMARKS $(basename "$p")"
		cat "$p.checkpatch"
		bad=1
	fi
done
if [ $build = 1 ]; then
	# Build every commit in a worktree of its own, one after the other
	# (incremental builds; the tree the other targets use is not touched).
	wt=$top/build/series-tree
	[ -d "$wt" ] || git worktree add -q --detach "$wt" "$base"
	n=0
	for c in $(git rev-list --reverse "$base..ctevq"); do
		n=$((n + 1))
		git -C "$wt" checkout -q --detach "$c"
		"$top/scripts/kconfig.sh" um "$wt" "$top/build/series-uml" \
			"$top/kernel/config/netfilter.config" "$top/kernel/config/uml.config" 2>/dev/null || true
		if make -s -C "$wt" ARCH=um O="$top/build/series-uml" CC="ccache gcc" \
			-j"${JOBS:-$(nproc)}" linux > "$out/build-$n.log" 2>&1; then
			echo "build: ok      patch $n"
		else
			echo "build: FAILED  patch $n (see $out/build-$n.log)"
			bad=1
		fi
	done
fi
echo "series: $(ls "$out"/0*.patch | wc -l) files in $out"
exit $bad
