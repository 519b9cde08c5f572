#!/bin/bash
# build-nft.sh LIBNFTNL_SRC NFT_SRC PREFIX
#
# Builds the userspace side of ct event queue: upstream libnftnl and nftables
# with this repository's series (libnftnl-patch/, nft-patch/) applied.
#   LIBNFTNL_SRC  libnftnl tree at the tag in libnftnl-patch/TAG (git checkout
#                 or unpacked release tarball; it is not modified)
#   NFT_SRC       nftables tree at the tag in nft-patch/TAG (likewise)
#   PREFIX        install prefix, e.g. build/nft (PREFIX/sbin/nft,
#                 PREFIX/lib/libnftnl.so, rpath set so nft runs as is)
# Each tree is copied to a clean scratch directory under build/nft-src/, the
# series is applied with patch -p1 (works without .git), then autogen,
# configure, make; libnftnl's "make check" runs before its install.
# Environment: JOBS (default nproc), NFT_BUILD_DIR (default build/nft-src).
#   NFT_NO_PATCH=1  build the trees as they are, without the series (the
#                   baseline of "make nft-suites"; use another NFT_BUILD_DIR
#                   and PREFIX, e.g. build/nft-src-unpatched, build/nft-unpatched);
#                   libnftnl's make check and the ctevent checks are skipped.
set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

[ $# -eq 3 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
lsrc=$(cd "$1" 2>/dev/null && pwd) || { echo "build-nft: no such directory $1" >&2; exit 2; }
nsrc=$(cd "$2" 2>/dev/null && pwd) || { echo "build-nft: no such directory $2" >&2; exit 2; }
mkdir -p "$3" || exit 2
prefix=$(cd "$3" && pwd)
jobs=${JOBS:-$(nproc)}
work=${NFT_BUILD_DIR:-$top/build/nft-src}
logs=$work/logs

ltag=$(cat "$top/libnftnl-patch/TAG")
ntag=$(cat "$top/nft-patch/TAG")

step() { echo "build-nft: $*"; }
die()  { echo "build-nft: FAILED: $*" >&2; exit 1; }

# run NAME DIR CMD...: run a step in DIR, output to $logs/NAME.log
run() {
	local name=$1 dir=$2; shift 2
	step "$name ..."
	if ! (cd "$dir" && "$@") > "$logs/$name.log" 2>&1; then
		tail -n 30 "$logs/$name.log" >&2
		die "$name (log: $logs/$name.log)"
	fi
}

# Which version is a tree?  configure.ac's AC_INIT is there in git trees and
# release tarballs alike.
tree_version() {
	sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$1/configure.ac" | head -n1
}

check_tree() {	# DIR TAG WANTED_VERSION
	local v gitdesc=
	[ -f "$1/configure.ac" ] || die "$1 does not look like a source tree (no configure.ac)"
	v=$(tree_version "$1")
	if [ -e "$1/.git" ]; then
		gitdesc=$(git -C "$1" describe --tags --exact-match 2>/dev/null || git -C "$1" describe --tags 2>/dev/null || echo '?')
	fi
	step "$1: version ${v:-?}${gitdesc:+, git $gitdesc}"
	if [ "$v" != "$3" ]; then
		echo "build-nft: WARNING: $1 is version ${v:-unknown}, the series is pinned to $2" >&2
	fi
}

copy_tree() {	# SRC DST
	rm -rf -- "$2"
	mkdir -p "$2"
	if command -v rsync >/dev/null; then
		rsync -a --exclude=.git "$1/" "$2/"
	else
		(cd "$1" && tar --exclude=.git -cf - .) | (cd "$2" && tar -xf -)
	fi || die "copy $1 to $2"
}

apply_series() {	# TREE PATCH_DIR
	local p n=0
	for p in "$2"/[0-9][0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		(cd "$1" && patch -p1 -N -s --no-backup-if-mismatch < "$p") >> "$logs/patch-$(basename "$2").log" 2>&1 ||
			{ cat "$logs/patch-$(basename "$2").log" >&2; die "applying $(basename "$p")"; }
		n=$((n + 1))
	done
	[ $n -gt 0 ] || die "no patches in $2"
	if find "$1" -name '*.rej' | grep -q .; then die "rejected hunks in $1"; fi
	step "applied $n patches of $(basename "$2") to $1"
}

step "series pinned to libnftnl $ltag (libnftnl-patch/) and nftables $ntag (nft-patch/)"
check_tree "$lsrc" "$ltag" "${ltag#libnftnl-}"
check_tree "$nsrc" "$ntag" "${ntag#v}"

rm -rf -- "$logs"; mkdir -p "$logs"
L=$work/libnftnl N=$work/nftables
step "copying the trees to $work"
copy_tree "$lsrc" "$L"
copy_tree "$nsrc" "$N"
if [ "${NFT_NO_PATCH:-0}" = 1 ]; then
	step "NFT_NO_PATCH=1: building the unpatched trees"
else
	apply_series "$L" "$top/libnftnl-patch"
	apply_series "$N" "$top/nft-patch"
fi

# libnftnl: Makefile.am changes, so regenerate even in a release tarball.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
run libnftnl-autogen   "$L" autoreconf -fi
run libnftnl-configure "$L" ./configure --prefix="$prefix"
run libnftnl-make      "$L" make -j"$jobs"
if [ "${NFT_NO_PATCH:-0}" != 1 ]; then
	run libnftnl-check "$L" make -j"$jobs" check
	grep -E '^# (TOTAL|PASS|FAIL|ERROR):' "$L/tests/test-suite.log" 2>/dev/null |
		sed 's/^/build-nft:   libnftnl make check /'
	grep -q '^PASS: nft-expr_ctevent-test' "$logs/libnftnl-check.log" ||
		die "libnftnl make check did not run nft-expr_ctevent-test"
fi
run libnftnl-install   "$L" make install

# nftables: the system python may lack Debian's asciidoc module (a2x).
export PATH="/usr/bin:$PATH"
run nft-autogen   "$N" ./autogen.sh
run nft-configure "$N" ./configure --prefix="$prefix" --with-json --without-cli \
	LDFLAGS="-Wl,-rpath,$prefix/lib"
run nft-make      "$N" make -j"$jobs"
run nft-install   "$N" make install

nft=$prefix/sbin/nft
[ -x "$nft" ] || die "no $nft"
"$nft" --version > "$logs/nft-version.log" 2>&1 || die "$nft does not run"
step "$("$nft" --version) at $nft"
# not "ldd | grep -q": grep quits at the first match, ldd dies of SIGPIPE
# and pipefail fails the check
ldd "$nft" > "$logs/nft-ldd.log" 2>&1 || die "ldd $nft failed"
grep -q "$prefix/lib/libnftnl" "$logs/nft-ldd.log" ||
	die "$nft is not linked against $prefix/lib/libnftnl"
step "linked against $prefix/lib/libnftnl.so"

if [ "${NFT_NO_PATCH:-0}" = 1 ]; then
	step "ok: $prefix (libnftnl $ltag and nftables $ntag, unpatched)"
	exit 0
fi

# Parse, evaluate and linearize without touching the host's ruleset: only the
# kernel (which may lack ctevent) refuses the batch.
if command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
	unshare -n "$nft" --debug=netlink -c \
		'add table inet t; add chain inet t c; add rule inet t c ct event queue 10-13 bypass' \
		> "$logs/nft-smoke.log" 2>&1
	grep -q '\[ ctevent num 10-13 bypass \]' "$logs/nft-smoke.log" ||
		{ cat "$logs/nft-smoke.log" >&2; die "nft smoke test: no ctevent expression generated"; }
	step "smoke: 'ct event queue 10-13 bypass' -> [ ctevent num 10-13 bypass ]"
else
	step "smoke: skipped (unshare -n not available)"
fi
step "ok: $prefix (libnftnl $ltag + libnftnl-patch, nftables $ntag + nft-patch)"
