#!/bin/bash
# consumers-series-check.sh LNFCT_SRC CTTOOLS_SRC [ULOGD_SRC]
#
# Each consumer series applied with git am on a fresh git tree of its
# upstream tag, and built at every patch (autoreconf, configure, make), as
# a maintainer would check it (for libnetfilter_conntrack with its check
# programs: the tests, utils and examples).  conntrack-tools and ulogd2 are built
# against the library that make consumers installed (build/consumers),
# that is with the whole libnetfilter_conntrack series.  Prints one line
# per patch and "series-check: N patches built" at the end; exit 1 at the
# first patch that does not apply or build.
# Environment: JOBS (default nproc).
set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
[ $# -eq 2 ] || [ $# -eq 3 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
jobs=${JOBS:-$(nproc)}
work=$top/build/consumers-series
logs=$work/logs
prefix=$top/build/consumers
PROG=consumers-series-check
# shellcheck source=scripts/upstream-build-lib.sh
. "$here/upstream-build-lib.sh"

[ -f "$prefix/.ctevq-stamp" ] || die "build the consumers first: make consumers LNFCT_SRC=... CTTOOLS_SRC=..."
rm -rf -- "$work"; mkdir -p "$logs"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
total=0

# TREE_SRC PATCH_DIR NAME CONFIGURE_ARGS...
check_series() {
	local src=$1 pdir=$2 name=$3 tree=$work/$3 p n=0
	shift 3
	copy_tree "$src" "$tree"
	git -C "$tree" init -q && git -C "$tree" add -A &&
		git -C "$tree" -c user.name=check -c user.email=check@localhost \
			commit -q -m "$(cat "$pdir/TAG")" || die "git init $tree"
	for p in "$pdir"/[0-9][0-9][0-9][0-9]-*.patch; do
		case $p in */0000-cover-letter.patch) continue ;; esac
		n=$((n + 1))
		git -C "$tree" -c user.name=check -c user.email=check@localhost \
			am -q "$p" > "$logs/$name-am-$n.log" 2>&1 ||
			{ cat "$logs/$name-am-$n.log" >&2; die "git am $(basename "$p") on $(cat "$pdir/TAG")"; }
		git -C "$tree" clean -q -fdx
		run "$name-$n-autoreconf" "$tree" autoreconf -fi
		run "$name-$n-configure" "$tree" ./configure "$@"
		run "$name-$n-make" "$tree" make -j"$jobs"
		# the library's tests, utils and examples are check programs
		[ "$name" = lnfct ] &&
			run "$name-$n-check-programs" "$tree" make -j"$jobs" check TESTS=
		step "$(cat "$pdir/TAG") + $(basename "$p"): applies with git am, builds"
	done
	total=$((total + n))
}

check_series "$1" "$top/libnetfilter_conntrack-patch" lnfct --prefix=/usr/local
check_series "$2" "$top/conntrack-tools-patch" cttools --disable-systemd
if [ $# -eq 3 ]; then
	mnl=()
	pkg-config --atleast-version=1.0.5 libmnl ||
		mnl=(LIBMNL_CFLAGS="$(pkg-config --cflags libmnl) " LIBMNL_LIBS="$(pkg-config --libs libmnl)")
	check_series "$3" "$top/ulogd2-patch" ulogd "${mnl[@]}"
fi
step "$total patches built"
