#!/bin/bash
# build-consumers.sh LNFCT_SRC CTTOOLS_SRC PREFIX [ULOGD_SRC]
#
# Builds the programs operators run with this repository's series applied,
# so that they can bind conntrack event queues:
#   LNFCT_SRC    libnetfilter_conntrack tree at the tag in
#                libnetfilter_conntrack-patch/TAG (git checkout or unpacked
#                release tarball; it is not modified)
#   CTTOOLS_SRC  conntrack-tools tree at the tag in conntrack-tools-patch/TAG
#   ULOGD_SRC    optional: ulogd2 tree at the tag in ulogd2-patch/TAG ->
#                PREFIX/sbin/ulogd and its plugins in PREFIX/lib/ulogd/
#   PREFIX       install prefix, e.g. build/consumers: PREFIX/sbin/conntrack,
#                PREFIX/lib/libnetfilter_conntrack.so, and the library's
#                queue examples in PREFIX/libexec/ctevq/ (conntrack_evq_events,
#                nfct-mnl-evq-event); rpath set, so they run as they are.
# Each tree is copied to a clean scratch directory under build/consumers-src/,
# its series is applied with patch -p1, then autoreconf, configure, make.
# libnetfilter_conntrack's unit tests that need no kernel (test_api,
# test_connlabel, test_evq) run before its install; upstream's test_filter
# waits for conntrack events of the host and is left out.
# Both builds get conntrack-tools' own test program (tests/conntrack,
# PREFIX/libexec/ctevq/test-conntrack) and its testsuite
# (PREFIX/share/ctevq/conntrack-testsuite/) for make consumers-suites.
# Environment: JOBS (default nproc), CONSUMERS_BUILD_DIR (default
# build/consumers-src).
#   CONSUMERS_NO_PATCH=1  build the trees as they are, without the series
#                   (the baseline of make consumers-suites: use another
#                   CONSUMERS_BUILD_DIR and PREFIX); no ulogd, no examples.
set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

[ $# -eq 3 ] || [ $# -eq 4 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
lsrc=$(cd "$1" 2>/dev/null && pwd) || { echo "build-consumers: no such directory $1" >&2; exit 2; }
csrc=$(cd "$2" 2>/dev/null && pwd) || { echo "build-consumers: no such directory $2" >&2; exit 2; }
usrc=
if [ $# -eq 4 ]; then
	usrc=$(cd "$4" 2>/dev/null && pwd) || { echo "build-consumers: no such directory $4" >&2; exit 2; }
fi
mkdir -p "$3" || exit 2
prefix=$(cd "$3" && pwd)
jobs=${JOBS:-$(nproc)}
work=${CONSUMERS_BUILD_DIR:-$top/build/consumers-src}
logs=$work/logs

ltag=$(cat "$top/libnetfilter_conntrack-patch/TAG")
ctag=$(cat "$top/conntrack-tools-patch/TAG")
utag=$(cat "$top/ulogd2-patch/TAG")

PROG=build-consumers
# shellcheck source=scripts/upstream-build-lib.sh
. "$here/upstream-build-lib.sh"

step "series pinned to $ltag (libnetfilter_conntrack-patch/) and $ctag (conntrack-tools-patch/)"
check_tree "$lsrc" "$ltag" "${ltag#libnetfilter_conntrack-}"
check_tree "$csrc" "$ctag" "${ctag#conntrack-tools-}"

rm -rf -- "$logs"; mkdir -p "$logs"
L=$work/libnetfilter_conntrack C=$work/conntrack-tools
step "copying the trees to $work"
copy_tree "$lsrc" "$L"
copy_tree "$csrc" "$C"
nopatch=${CONSUMERS_NO_PATCH:-0}
if [ "$nopatch" = 1 ]; then
	step "CONSUMERS_NO_PATCH=1: building the unpatched trees"
	usrc=
else
	apply_series "$L" "$top/libnetfilter_conntrack-patch"
	apply_series "$C" "$top/conntrack-tools-patch"
fi

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
run lnfct-autoreconf "$L" autoreconf -fi
run lnfct-configure  "$L" ./configure --prefix="$prefix"
run lnfct-make       "$L" make -j"$jobs"
if [ "$nopatch" != 1 ]; then
	run lnfct-check "$L" make -j"$jobs" check TESTS="test_api test_connlabel test_evq"
	grep -E '^# (TOTAL|PASS|FAIL|SKIP|ERROR):' "$L/tests/test-suite.log" 2>/dev/null |
		sed 's/^/build-consumers:   libnetfilter_conntrack make check /'
	grep -q '^PASS: test_evq' "$logs/lnfct-check.log" ||
		die "libnetfilter_conntrack make check did not pass test_evq"
fi
run lnfct-install    "$L" make install

# The library's queue examples are check programs (libtool wrappers in the
# tree): build them against the installed library instead.
mkdir -p "$prefix/libexec/ctevq"
cflags=$(pkg-config --cflags libnetfilter_conntrack libmnl) || die "pkg-config libnetfilter_conntrack"
libs=$(pkg-config --libs libnetfilter_conntrack libmnl) || die "pkg-config libnetfilter_conntrack"
[ "$nopatch" = 1 ] && examples= || examples="utils/conntrack_evq_events examples/nfct-mnl-evq-event"
for ex in $examples; do
	# shellcheck disable=SC2086
	run "lnfct-$(basename "$ex")" "$L" gcc -O2 -Wall -o "$prefix/libexec/ctevq/$(basename "$ex")" \
		"$ex.c" $cflags $libs -Wl,-rpath,"$prefix/lib"
done

run cttools-autoreconf "$C" autoreconf -fi
run cttools-configure  "$C" ./configure --prefix="$prefix" --disable-systemd \
	LDFLAGS="-Wl,-rpath,$prefix/lib"
run cttools-make       "$C" make -j"$jobs"
run cttools-install    "$C" make install

# conntrack-tools' own test program runs ../../src/conntrack: the guest
# gives it a tree of symlinks to PREFIX/sbin/conntrack
run cttools-test-program "$C/tests/conntrack" gcc -O2 -o "$prefix/libexec/ctevq/test-conntrack" test-conntrack.c
rm -rf "$prefix/share/ctevq/conntrack-testsuite"
mkdir -p "$prefix/share/ctevq"
cp -r "$C/tests/conntrack/testsuite" "$prefix/share/ctevq/conntrack-testsuite" || die "copy the testsuite"

ct=$prefix/sbin/conntrack
[ -x "$ct" ] || die "no $ct"
"$ct" --version > "$logs/conntrack-version.log" 2>&1 || die "$ct does not run"
ldd "$ct" > "$logs/conntrack-ldd.log" 2>&1 || die "ldd $ct failed"
grep -q "$prefix/lib/libnetfilter_conntrack" "$logs/conntrack-ldd.log" ||
	die "$ct is not linked against $prefix/lib/libnetfilter_conntrack"
# parsed before anything is sent: no kernel support needed
if [ "$nopatch" != 1 ]; then
	out=$("$ct" -E --reliable 2>&1); rc=$?
	[ $rc -eq 2 ] && grep -q "requires \`--queue'" <<< "$out" ||
		die "smoke: conntrack -E --reliable: exit $rc: $out"
fi
step "smoke: $("$ct" --version 2>&1 | head -n1), linked against $prefix/lib/libnetfilter_conntrack.so"

if [ "$nopatch" = 1 ]; then
	step "ok: $prefix ($ltag and $ctag, unpatched)"
	exit 0
fi
if [ -z "$usrc" ]; then
	rm -f "$prefix/sbin/ulogd"
	step "ok: $prefix ($ltag + libnetfilter_conntrack-patch, $ctag + conntrack-tools-patch; no ULOGD_SRC, so no ulogd)"
	exit 0
fi
check_tree "$usrc" "$utag" "${utag#ulogd-}"
U=$work/ulogd2
copy_tree "$usrc" "$U"
apply_series "$U" "$top/ulogd2-patch"
# ulogd 2.0.9 asks for libmnl >= 1.0.5 and builds against Debian
# bookworm's 1.0.4: give configure the flags instead of that check.
mnl=()
if ! pkg-config --atleast-version=1.0.5 libmnl; then
	step "libmnl $(pkg-config --modversion libmnl) < 1.0.5: passing LIBMNL_CFLAGS/LIBMNL_LIBS to ulogd's configure"
	mnl=(LIBMNL_CFLAGS="$(pkg-config --cflags libmnl) " LIBMNL_LIBS="$(pkg-config --libs libmnl)")
fi
run ulogd-autoreconf "$U" autoreconf -fi
run ulogd-configure  "$U" ./configure --prefix="$prefix" "${mnl[@]}" \
	LDFLAGS="-Wl,-rpath,$prefix/lib"
run ulogd-make       "$U" make -j"$jobs"
run ulogd-install    "$U" make install
[ -x "$prefix/sbin/ulogd" ] && [ -f "$prefix/lib/ulogd/ulogd_inpflow_NFCT.so" ] ||
	die "no $prefix/sbin/ulogd or NFCT plugin"
ldd "$prefix/lib/ulogd/ulogd_inpflow_NFCT.so" > "$logs/ulogd-nfct-ldd.log" 2>&1 ||
	die "ldd ulogd_inpflow_NFCT.so failed"
grep -q "$prefix/lib/libnetfilter_conntrack" "$logs/ulogd-nfct-ldd.log" ||
	die "the NFCT plugin is not linked against $prefix/lib/libnetfilter_conntrack"
step "ok: $prefix ($ltag + libnetfilter_conntrack-patch, $ctag + conntrack-tools-patch, $utag + ulogd2-patch)"
