#!/bin/bash
# The series' own kernel selftest, tools/testing/selftests/net/netfilter/
# nft_ctevent.sh, run as the kernel's selftest harness runs it (from its
# directory, ksft exit codes: 0 pass, 4 skip), with the patched nft when
# build/nft exists (make nft) and the system's otherwise, which lacks the
# statement: then the selftest skips, and so does this case, by name.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$TOP/build/linux-dev/tools/testing/selftests/net/netfilter
if [ ! -x "$dir/ctevent_listen" ]; then
	skip selftest_nft_ctevent "$dir/ctevent_listen is not built (make check builds it)"
else
	[ -x "$TOP/build/nft/sbin/nft" ] && export PATH="$TOP/build/nft/sbin:$PATH"
	echo "    nft: $(command -v nft) ($(nft --version 2>&1))"
	out=$(cd "$dir" && timeout 300 bash ./nft_ctevent.sh 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	case $rc in
	0) ok selftest_nft_ctevent ;;
	4) skip selftest_nft_ctevent "$(printf '%s\n' "$out" | grep -m1 '^SKIP' || echo "ksft skip")" ;;
	*) fail selftest_nft_ctevent "exit $rc" ;;
	esac
fi

dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
