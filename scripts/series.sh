#!/bin/bash
# series.sh [--build] TREE OUTDIR: write the kernel series as git
# format-patch with a cover letter, run checkpatch --strict on every
# patch and, with --build, build the tree at every patch (UML config).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/kernel/version"
build=0
[ "${1:-}" = --build ] && { build=1; shift; }
tree=$(realpath "$1") out=$(realpath -m "$2")
rm -rf "$out"
mkdir -p "$out"
cd "$tree"
git config branch.ctevq.description "$(cat "$top/kernel/series/cover.txt")"
git -c user.name=ctevq -c user.email=ctevq@localhost format-patch -q --cover-letter --cover-from-description=subject \
	--subject-prefix="PATCH nf-next" -o "$out" "v$LINUX_VERSION..ctevq"
bad=0
# FILE_PATH_CHANGES only asks whether MAINTAINERS needs updating for a new
# file; net/netfilter/ is already covered by the NETFILTER entry.
for p in "$out"/0*.patch; do
	case $p in *0000-cover-letter.patch) continue ;; esac
	if PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --quiet \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG "$p" > "$p.checkpatch" 2>&1; then
		echo "checkpatch --strict: clean  $(basename "$p")"
	else
		echo "checkpatch --strict: REMARKS $(basename "$p")"
		cat "$p.checkpatch"
		bad=1
	fi
done
if [ $build = 1 ]; then
	# Build in the tree itself, one commit after the other (same paths as
	# the normal build, so ccache serves what did not change), then go
	# back to the branch.
	n=0
	for c in $(git rev-list --reverse "v$LINUX_VERSION..ctevq"); do
		n=$((n + 1))
		git checkout -q "$c"
		"$top/scripts/kconfig.sh" um "$tree" "$top/build/series-uml" \
			"$top/kernel/config/netfilter.config" "$top/kernel/config/uml.config" 2>/dev/null || true
		if make -s -C "$tree" ARCH=um O="$top/build/series-uml" CC="ccache gcc" \
			-j"$(nproc)" linux > "$out/build-$n.log" 2>&1; then
			echo "build: ok      patch $n"
		else
			echo "build: FAILED  patch $n (see $out/build-$n.log)"
			bad=1
		fi
	done
	git checkout -q ctevq
fi
echo "series: $(ls "$out"/0*.patch | wc -l) files in $out"
exit $bad
