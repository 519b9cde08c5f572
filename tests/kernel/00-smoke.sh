#!/bin/bash
# 00-smoke.sh - the guest harness works: netns + veth, nft, conntrack events.
# Run: scripts/run-guest.sh uml tests/kernel/00-smoke.sh build/results/smoke 300
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "kernel: $(uname -r) ($(uname -m)), runner ${CTEVQ_RUNNER:-?}, nft $(nft --version 2>&1), $(conntrack --version 2>&1)"

# 1. netns + veth + IPv4/IPv6 ping
if mk_pair; then
	ok netns_veth
	check ping4 "no reply from 192.0.2.2" -- ping_ns ns1 192.0.2.2 2
	check ping6 "no reply from 2001:db8::2" -- ping_ns ns1 2001:db8::2 2
else
	fail netns_veth "mk_pair failed"
fi

# 2. TCP / UDP through the pair
if tcp_server ns2 8080 1 20; then
	check tcp_conn "TCP echo 192.0.2.1 -> 192.0.2.2:8080 failed" -- tcp_conn ns1 192.0.2.2 8080
	wait "$SERVER_PID" 2>/dev/null
else
	fail tcp_conn "server did not start"
fi
if udp_server ns2 5353 1 20; then
	check udp_xchg "UDP echo to [2001:db8::2]:5353 failed" -- udp_xchg ns1 2001:db8::2 5353
	wait "$SERVER_PID" 2>/dev/null
else
	fail udp_xchg "server did not start"
fi

# 3. nftables (Debian nft)
check nft_table "nft add table inet t failed" -- ip netns exec ns1 nft add table inet t
check nft_ct_rule "nft ct rule failed" -- ip netns exec ns1 nft -f - <<'EOF'
table inet t {
	chain out {
		type filter hook output priority 0; policy accept;
		ct state new counter
	}
}
EOF

# 4. conntrack -E sees a NEW event for a ping (conntrack is active in ns1
#    because of the ct rule above).
set_short_timeouts ns1 2 && ok short_timeouts || fail short_timeouts "sysctl failed"
ev=$T_WORK/ct-events
ip netns exec ns1 stdbuf -oL conntrack -E -e NEW -p icmp > "$ev" 2>&1 &
ct_pid=$!
got=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	sleep 0.3
	ping_ns ns1 192.0.2.2 1
	if wait_for_grep "$ev" 'NEW.*icmp.*192\.0\.2\.1.*192\.0\.2\.2' 1; then got=1; break; fi
done
kill "$ct_pid" 2>/dev/null; wait "$ct_pid" 2>/dev/null
# a fresh entry for the listing below, with a timeout that a slow (KASAN,
# TCG) guest does not run out of before conntrack -L starts
ip netns exec ns1 sh -c 'echo 30 > /proc/sys/net/netfilter/nf_conntrack_icmp_timeout'
ping_ns ns1 192.0.2.2 1
if [ $got = 1 ]; then
	ok conntrack_event_new
else
	fail conntrack_event_new "no NEW event; conntrack -E said:"
	sed 's/^/    /' "$ev"
fi
check conntrack_list "conntrack -L shows no icmp entry" -- \
	bash -c 'ip netns exec ns1 conntrack -L -p icmp 2>/dev/null | grep -q 192.0.2.2'
check nft_counter "ct state new counter did not count" -- \
	bash -c "ip netns exec ns1 nft list chain inet t out | grep -Eq 'packets [1-9]'"

cleanup_ns
if dmesg_clean; then ok dmesg_clean; else fail dmesg_clean "kernel splat in dmesg"; fi
summary
exit $?
