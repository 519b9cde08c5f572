#!/bin/bash
# kselftest-config.sh TREE OUT: the netfilter selftests' own config fragment
# (TREE/tools/testing/selftests/net/netfilter/config) with every =m made =y,
# written to OUT: the guest has no module tree to load from, and the
# kernel-suites guest gets modprobe's view of the built-in ones instead.
set -euo pipefail
src=$1/tools/testing/selftests/net/netfilter/config
[ -r "$src" ] || { echo "kselftest-config: no $src" >&2; exit 1; }
mkdir -p "$(dirname "$2")"
sed 's/=m$/=y/' "$src" > "$2.tmp"
cmp -s "$2.tmp" "$2" 2>/dev/null && rm -f "$2.tmp" || mv "$2.tmp" "$2"
