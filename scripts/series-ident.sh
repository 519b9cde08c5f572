#!/bin/bash
# series-ident.sh DIR [SRC_DIR]: give the patches in DIR (copied from
# SRC_DIR first, if given) the author and sign-off of whoever regenerates
# them, the repository's git identity (git config user.name, user.email),
# in place of the placeholder "ctevq <ctevq@localhost>" that the patches
# kept in the repository carry: a DCO check refuses the placeholder.
# Without a git identity the placeholder stays, and a line says so.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
if [ $# -ge 2 ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$2"/[0-9][0-9][0-9][0-9]-*.patch "$dir"/
fi
name=$(git -C "$top" config user.name || true)
email=$(git -C "$top" config user.email || true)
if [ -z "$name" ] || [ -z "$email" ]; then
	echo "series: no git user.name/user.email: $dir keeps the placeholder ctevq <ctevq@localhost>, which a DCO check refuses"
	exit 0
fi
IDENT="$name <$email>" perl -pi -e \
	's/^(From|Signed-off-by): ctevq <ctevq\@localhost>$/$1: $ENV{IDENT}/' \
	"$dir"/[0-9][0-9][0-9][0-9]-*.patch
