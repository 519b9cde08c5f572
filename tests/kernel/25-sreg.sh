#!/bin/bash
# Queue numbers from a register ("ct event queue to EXPR"): each listener
# gets exactly the connections whose number is its queue's, a number with
# no listener reaches no queue, a number above 65535 is counted and
# subscribes nothing, and an entry subscribed before its queue existed gets
# its NEW first once a listener binds.  The register here is the packet
# mark (SO_MARK of the client), so that the test needs no nft.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

invalid() {
	ip netns exec "$1" cat /proc/net/netfilter/nf_conntrack_evq_invalid
}

mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent to mark counter
serve ns2 tcp 192.0.2.2 8080 7
listen q1 ns1 -q 1; listen q2 ns1 -q 2; listen q3 ns1 -q 3; listen mc ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000 --mark 1
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40010 --mark 2
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40020 --mark 3
# queue 9: no listener, no rule names it, so no queue exists
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 40030 --mark 9
# one packet whose number does not fit 16 bits
traffic ns1 client udp 192.0.2.2 5353 1 --sport 40040 --mark 0x10001 --noreply
expect SREG_invalid_counted 1 "$(invalid ns1)"
expect SREG_unmapped_no_queue "1 2 3" "$(evq_queues ns1 | xargs)"
ct_flush ns1
stop_listeners; wait
for q in 1 2 3; do
	base=$((40000 + (q - 1) * 10))
	check "SREG_queue${q}_wellformed" "queue $q" -- \
		evcheck wellformed "$T_WORK/q$q.json" --conns 2
	expect "SREG_queue${q}_exactly_its_connections" 2 \
		"$(evcheck conns "$T_WORK/q$q.json" --sport "$base-$((base + 1))")"
done
expect SREG_multicast_unchanged 8 "$(evcheck conns "$T_WORK/mc.json")"
c=$(rule ns1 list counters inet f | awk '$1 == "c" { print $4; exit }')
[ "${c:-0}" -gt 0 ] 2>/dev/null && ok SREG_rule_continues ||
	fail SREG_rule_continues "counter $c"

# A number no queue had when the entry was subscribed: the listener that
# binds it later gets the entry's NEW, with its state, then the rest.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent to mark
serve ns2 tcp 192.0.2.2 8080 1
listen mc-late ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44100 --mark 7 --gate "$T_WORK/late" &
wait_for_file "$T_WORK/late.ready" 30 || fail SREG_late_queue_setup "connection not up"
expect SREG_late_queue_absent "" "$(evq_queues ns1 | xargs)"
listen q-late ns1 -q 7
touch "$T_WORK/late.go"
wait_for_grep "$T_WORK/mc-late.json" '"tcp_state": *"(TIME_WAIT|CLOSE)"' 10
ct_flush ns1
stop_listeners
wait
check SREG_late_queue_new_first "queue 7" -- \
	evcheck wellformed "$T_WORK/q-late.json" --conns 1

# bypass: subscribed only while the computed queue has a listener, so a
# listener that binds queue 6 after all of the connection's packets went
# by gets nothing of it, not even its DESTROY (without bypass it would get
# its NEW and DESTROY, as above).
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent to mark bypass
serve ns2 tcp 192.0.2.2 8080 2
listen q5 ns1 -q 5; listen mc-bp ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 45000 --mark 5
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 45010 --mark 6
listen q6 ns1 -q 6
ct_flush ns1
stop_listeners
wait
check SREG_bypass_bound_queue "queue 5" -- \
	evcheck wellformed "$T_WORK/q5.json" --conns 1
# the control: queue 6 was bound before the flush that destroyed the entry
expect SREG_bypass_control_destroyed 1 \
	"$(evcheck count "$T_WORK/mc-bp.json" destroy --sport 45010)"
expect SREG_bypass_unbound_not_subscribed 0 "$(evcheck count "$T_WORK/q6.json")"

# bad attributes
mk_pair
rule ns1 add table inet x ';' add chain inet x c postrouting 0
rule_err SREG_with_num ns1 EINVAL add rule inet x c ctevent raw sreg=1,num=1
rule_err SREG_with_total ns1 EINVAL add rule inet x c ctevent raw sreg=1,total=2
rule_err SREG_verdict_register ns1 EINVAL add rule inet x c ctevent raw sreg=0
rule_err SREG_no_such_register ns1 ERANGE add rule inet x c ctevent raw sreg=100
rule_err SREG_unknown_flag ns1 EINVAL add rule inet x c ctevent raw sreg=1,flags=2

cleanup_ns
summary
