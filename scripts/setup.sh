#!/bin/bash
# setup.sh [LIST]: the Debian packages that the build and the tests need, the
# list in .ci/packages (or LIST: .ci/packages-bpf for the BPF targets).  Run as root it installs the missing ones (apt-get,
# quietly); otherwise it names the one apt-get line to run and fails, so
# that make stops before building anything.  Nothing to do: silent.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
list=${1:-$top/.ci/packages}
mapfile -t want < <(grep -v '^\s*\(#\|$\)' "$list")
if ! command -v dpkg-query > /dev/null; then
	echo "setup: not a Debian system (no dpkg-query): install the equivalents of ${list#"$top"/} yourself" >&2
	exit 0
fi
have=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${want[@]}" 2>/dev/null |
	awk '$2 ~ /^ii/ { print $1 }')
missing=()
for p in "${want[@]}"; do
	grep -qx -F -- "$p" <<< "$have" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "setup: missing Debian packages; run this once, then make again:" >&2
	echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null 2>&1 || {
	apt-get update -qq > /dev/null 2>&1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
} || { echo "setup: apt-get install ${missing[*]} failed" >&2; exit 1; }
