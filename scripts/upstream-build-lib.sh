# shellcheck shell=bash
# scripts/upstream-build-lib.sh - what build-nft.sh and build-consumers.sh
# share: copy an upstream tree, apply a series to it, run build steps with
# their output in a log.  The caller sets PROG (the message prefix) and
# logs (the log directory) before using them.
#   step MSG...              progress line
#   die MSG...               failure line on stderr, exit 1
#   run NAME DIR CMD...      CMD in DIR, output to $logs/NAME.log; dies with
#                            the log's tail if CMD fails
#   check_tree DIR TAG VER   DIR is a source tree; warns unless it is VER
#   copy_tree SRC DST        DST: a fresh copy of SRC without .git
#   apply_series TREE DIR    DIR's NNNN-*.patch (not the cover letter) with
#                            patch -p1, which works without .git

step() { echo "$PROG: $*"; }
die()  { echo "$PROG: FAILED: $*" >&2; exit 1; }

run() {
	local name=$1 dir=$2; shift 2
	step "$name ..."
	if ! (cd "$dir" && "$@") > "$logs/$name.log" 2>&1; then
		tail -n 30 "$logs/$name.log" >&2
		die "$name (log: $logs/$name.log)"
	fi
}

# Which version is a tree?  configure.ac's AC_INIT is there in git trees and
# release tarballs alike, quoted ([name], [1.2.3]) or not.
tree_version() {
	sed -n 's/^AC_INIT(\[\{0,1\}[^],]*\]\{0,1\}, *\[\{0,1\}\([^],]*\)\]\{0,1\}.*/\1/p' "$1/configure.ac" | head -n1
}

check_tree() {
	local v gitdesc=
	[ -f "$1/configure.ac" ] || die "$1 does not look like a source tree (no configure.ac)"
	v=$(tree_version "$1")
	if [ -e "$1/.git" ]; then
		gitdesc=$(git -C "$1" describe --tags --exact-match 2>/dev/null || git -C "$1" describe --tags 2>/dev/null || echo '?')
	fi
	step "$1: version ${v:-?}${gitdesc:+, git $gitdesc}"
	if [ "$v" != "$3" ]; then
		echo "$PROG: WARNING: $1 is version ${v:-unknown}, the series is pinned to $2" >&2
	fi
}

copy_tree() {
	rm -rf -- "$2"
	mkdir -p "$2"
	if command -v rsync >/dev/null; then
		rsync -a --exclude=.git "$1/" "$2/"
	else
		(cd "$1" && tar --exclude=.git -cf - .) | (cd "$2" && tar -xf -)
	fi || die "copy $1 to $2"
}

apply_series() {
	local p n=0 log
	log=$logs/patch-$(basename "$2").log
	for p in "$2"/[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		(cd "$1" && patch -p1 -N -s --no-backup-if-mismatch < "$p") >> "$log" 2>&1 ||
			{ cat "$log" >&2; die "applying $(basename "$p")"; }
		n=$((n + 1))
	done
	[ $n -gt 0 ] || die "no patches in $2"
	if find "$1" -name '*.rej' | grep -q .; then die "rejected hunks in $1"; fi
	step "applied $n patches of $(basename "$2") to $1"
}
