#!/bin/bash
# Fetch the pinned Linux release from Debian's source packages (the orig
# tarball is upstream Linux) and make a git tree of it tagged v$LINUX_VERSION.
# get-kernel.sh DOWNLOAD_DIR GIT_TREE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/kernel/version"
dl=$1
tree=$(realpath -m "$2")
tarball="$dl/linux_$LINUX_VERSION.orig.tar.xz"
mkdir -p "$dl"

if [ -d "$tree/.git" ] && git -C "$tree" rev-parse -q --verify "v$LINUX_VERSION" >/dev/null; then
	exit 0
fi

if [ ! -s "$tarball" ]; then
	list=/etc/apt/sources.list.d/ctevq-linux-src.sources
	if [ ! -f "$list" ] && [ "$(id -u)" = 0 ]; then
		cat > "$list" <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $LINUX_DEBIAN_SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		apt-get update -qq || true
	fi
	for v in $LINUX_DEBIAN_VERSIONS; do
		echo "get-kernel: apt-get source --download-only linux=$v"
		# The .dsc may be gone while the orig tarball is still served.
		(cd "$dl" && apt-get source -qq --download-only "linux=$v" >/dev/null 2>&1) || true
		[ -s "$tarball" ] && break
	done
fi
if [ ! -s "$tarball" ]; then
	echo "get-kernel: could not download linux_$LINUX_VERSION.orig.tar.xz from Debian's source" >&2
	echo "get-kernel: tried linux=$(echo $LINUX_DEBIAN_VERSIONS | sed 's/ /, linux=/g') in $LINUX_DEBIAN_SUITES" >&2
	echo "get-kernel: put the tarball at $tarball by hand, or change kernel/version" >&2
	exit 1
fi

echo "get-kernel: unpacking $(basename "$tarball")"
rm -rf "$tree" "$tree.tmp"
mkdir -p "$tree.tmp"
tar -xf "$tarball" -C "$tree.tmp" --strip-components=1
cd "$tree.tmp"
git init -q
git add -A
git -c user.name=ctevq -c user.email=ctevq@localhost commit -q -m "Linux $LINUX_VERSION"
git tag "v$LINUX_VERSION"
cd ..
mv "$tree.tmp" "$tree"
