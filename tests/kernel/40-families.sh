#!/bin/bash
# S9: the expression loads and delivers in ip, ip6, inet and bridge
# tables; netdev and arp tables refuse it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

# --- ip, ip6 and inet tables side by side: queue 1 (ip), 2 (ip6), 3 (inet)
mk_pair
check S9_ip_table "ip table" -- rule ns1 add table ip t ';' \
	add chain ip t c postrouting 0 ';' add rule ip t c ctevent 1
check S9_ip6_table "ip6 table" -- rule ns1 add table ip6 t ';' \
	add chain ip6 t c postrouting 0 ';' add rule ip6 t c ctevent 2
check S9_inet_table "inet table" -- rule ns1 add table inet t ';' \
	add chain inet t c input 0 ';' add rule inet t c ctevent 3
serve ns2 tcp 192.0.2.2 8080 1; serve ns2 tcp 2001:db8::2 8080 1
listen f1 ns1 -q 1; listen f2 ns1 -q 2; listen f3 ns1 -q 3
traffic ns1 client tcp 192.0.2.2 8080 1
traffic ns1 client tcp 2001:db8::2 8080 1
ct_flush ns1
stop_listeners; wait
check S9_ip_delivers "queue 1" -- evcheck wellformed "$T_WORK/f1.json" --conns 1
check S9_ip6_delivers "queue 2" -- evcheck wellformed "$T_WORK/f2.json" --conns 1
check S9_inet_delivers "queue 3" -- evcheck wellformed "$T_WORK/f3.json" --conns 2
grep -q '"l3": *"ipv4"' "$T_WORK/f1.json" && ! grep -q '"l3": *"ipv6"' "$T_WORK/f1.json" &&
	grep -q '"l3": *"ipv6"' "$T_WORK/f2.json" && ! grep -q '"l3": *"ipv4"' "$T_WORK/f2.json" &&
	ok S9_family_selects_l3 || fail S9_family_selects_l3 "wrong address family on a queue"

# --- netdev and arp tables refuse the expression
rule ns1 add table netdev n ';' add chain netdev n c ingress 0 dev veth1
rule_err S9_netdev_refused ns1 EOPNOTSUPP add rule netdev n c ctevent 1
rule ns1 add table arp a ';' add chain arp a c input 0
rule_err S9_arp_refused ns1 EOPNOTSUPP add rule arp a c ctevent 1
cleanup_ns

# --- bridge: ns1 and ns2 talk through bridge br0 in netns "br", whose
# bridge table subscribes the bridged connections.
ip netns add br && ip netns add ns1 && ip netns add ns2
ip -n br link add br0 type bridge && ip -n br link set br0 up
for i in 1 2; do
	ip link add veth$i netns ns$i type veth peer name p$i netns br
	ip -n br link set p$i master br0 && ip -n br link set p$i up
	ip -n ns$i link set lo up && ip -n ns$i link set veth$i up
	ip -n ns$i addr add 192.0.2.$i/24 dev veth$i
done
check S9_bridge_table "bridge table" -- rule br add table bridge t ';' \
	add chain bridge t c forward 0 ';' add rule bridge t c ctevent 1 counter
serve ns2 tcp 192.0.2.2 8080 2
listen b1 br -q 1
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000
ct_flush br
stop_listeners; wait
check S9_bridge_delivers "bridge queue 1" -- evcheck wellformed "$T_WORK/b1.json" --conns 2

cleanup_ns br
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
