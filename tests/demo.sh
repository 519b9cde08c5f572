#!/bin/bash
# The RFC's scenario, live in the guest (make demo):
#   listener A, queue 1: established connections, every event (conntrackd)
#   listener B, queue 2: every connection, DESTROY only (ulogd accounting)
#   conntrack -E beside them: plain multicast, everything
#   with make consumers built: conntrack -E --queue 3 (patched conntrack),
#   queue 3 selected by the same rule as queue 1
. "$(dirname "${BASH_SOURCE[0]}")/kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/kernel/ctevq.sh"

mk_pair >/dev/null
NFT=$TOP/build/nft/sbin/nft
CT=$TOP/build/consumers/sbin/conntrack
[ -x "$CT" ] || CT=
if [ -x "$NFT" ]; then
	echo "ruleset (patched nft):"
	ip netns exec ns1 "$NFT" -f - <<NFT
table inet filter {
	chain post {
		type filter hook postrouting priority 2147483647; policy accept;
		ct state established ct event queue 1
		ct event queue 2
		${CT:+ct state established ct event queue 3}
	}
}
NFT
	ip netns exec ns1 "$NFT" list ruleset | sed 's/^/    /'
else
	echo "ruleset (raw netlink helper; build the patched nft for the real syntax):"
	rule ns1 add table inet filter ';' add chain inet filter post postrouting 2147483647 ';' \
		add rule inet filter post ct state established ctevent 1 ';' \
		add rule inet filter post ctevent 2
	[ -n "$CT" ] && rule ns1 add rule inet filter post ct state established ctevent 3
	echo "    table inet filter {"
	echo "        chain post {"
	echo "            type filter hook postrouting priority 2147483647; policy accept;"
	echo "            ct state established ct event queue 1"
	echo "            ct event queue 2"
	[ -n "$CT" ] && echo "            ct state established ct event queue 3"
	echo "        }"
	echo "    }"
fi

ip netns exec ns1 stdbuf -oL conntrack -E > "$T_WORK/mc.txt" 2>&1 &
MC=$!
rm -f "$T_WORK/A.ready" "$T_WORK/B.ready"
ip netns exec ns1 ctevq-listen -q 1 --ready "$T_WORK/A.ready" > "$T_WORK/A.txt" 2> "$T_WORK/A.err" &
A=$!
ip netns exec ns1 ctevq-listen -q 2 -e destroy --ready "$T_WORK/B.ready" > "$T_WORK/B.txt" 2> "$T_WORK/B.err" &
B=$!
wait_for_file "$T_WORK/A.ready" 10; wait_for_file "$T_WORK/B.ready" 10
C=
if [ -n "$CT" ]; then
	ip netns exec ns1 stdbuf -oL "$CT" -E --queue 3 > "$T_WORK/C.txt" 2>&1 &
	C=$!
	until_bound ns1 3
fi
sleep 0.5

echo
echo "traffic: 2 TCP connections 192.0.2.1 -> 192.0.2.2:8080, 1 UDP exchange to"
echo "[2001:db8::2]:5353, 1 UDP datagram to 192.0.2.2:7 that gets no answer"
serve ns2 tcp 192.0.2.2 8080 2; serve ns2 udp 2001:db8::2 5353 1
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000
traffic ns1 client udp 2001:db8::2 5353 1 --sport 41000
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 7 --no-reply >/dev/null 2>&1
sleep 0.5
echo "conntrack -F (every entry ends: DESTROY events)"
ct_flush ns1
sleep 1
kill -TERM $A $B $MC $C 2>/dev/null; wait $A $B $MC $C 2>/dev/null

echo
echo "=== listener A: queue 1 (ct state established; all events)"
cat "$T_WORK/A.txt"
echo
echo "=== listener B: queue 2 (every connection; bound for DESTROY only)"
cat "$T_WORK/B.txt"
echo
if [ -n "$CT" ]; then
	echo "=== conntrack -E --queue 3 (patched conntrack-tools; the rule of queue 1)"
	cat "$T_WORK/C.txt"
	echo
fi
echo "=== conntrack -E (multicast, unchanged)"
cat "$T_WORK/mc.txt"
echo
echo "=== /proc/net/netfilter/nf_conntrack_evq"
echo "queue     portid events flags delivered unbound lost overflow noext"
evq_proc ns1
cleanup_ns
