#!/bin/bash
# kconfig.sh ARCH SRC OUT FRAGMENT...: tinyconfig plus the fragments.
# Fails when an option the tests rely on did not survive olddefconfig.
set -euo pipefail
arch=$1 src=$(realpath "$2") out=$(realpath -m "$3")
shift 3
# Generate in a scratch directory and replace .config only when it changed,
# so that an unchanged configuration rebuilds nothing.
tmp=$out.kconfig
mkdir -p "$out" "$tmp"
make -s -C "$src" ARCH="$arch" O="$tmp" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" "$@" >/dev/null
make -s -C "$src" ARCH="$arch" O="$tmp" olddefconfig >/dev/null
cmp -s "$tmp/.config" "$out/.config" || cp "$tmp/.config" "$out/.config"
missing=
# KCONFIG_BASE=1: the unpatched tree (make bench compares), which has no
# NFT_CTEVENT
want="NF_CONNTRACK_EVENTS NF_CT_NETLINK NF_TABLES_INET NF_TABLES_BRIDGE NFT_CT VETH NET_NS USER_NS BRIDGE"
[ "${KCONFIG_BASE:-0}" = 1 ] || want="$want NF_CONNTRACK_EVENT_QUEUES NFT_CTEVENT"
for opt in $want; do
	grep -q -E "^CONFIG_$opt=(y|m)" "$out/.config" || missing="$missing CONFIG_$opt"
done
if [ -n "$missing" ]; then
	echo "kconfig: missing after olddefconfig:$missing" >&2
	exit 1
fi
