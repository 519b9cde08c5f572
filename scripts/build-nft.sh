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

PROG=build-nft
# shellcheck source=scripts/upstream-build-lib.sh
. "$here/upstream-build-lib.sh"

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
