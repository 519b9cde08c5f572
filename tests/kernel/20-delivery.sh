#!/bin/bash
# Delivery: S1 (untouched packets, rule continues), S2 (same message
# as multicast), S3 (unconfirmed entries never reported), S5 (RFC case:
# independent queues), S6 (ranges), S7 (unbound queue, overrun), S11 (old
# entries), S12 (/proc statistics).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

counter_of() {  # NS FAMILY TABLE CHAIN: packets of the chain's first counter
	rule "$1" list counters "$2" "$3" | awk -v c="$4" '$1 == c { print $4; exit }'
}

# --- S2: a rule subscribing every connection before confirmation: the queue
# gets exactly the multicast stream, message for message.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1
serve ns2 tcp 192.0.2.2 8080 2; serve ns2 udp 2001:db8::2 5353 2
listen s2q ns1 -q 1; listen s2mc ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000
traffic ns1 client udp 2001:db8::2 5353 2 --sport 41000
ct_flush ns1
stop_listeners; wait
if out=$(evcheck equal "$T_WORK/s2q.json" "$T_WORK/s2mc.json"); then
	ok S2_queue_equals_multicast
else
	fail S2_queue_equals_multicast "$out"
fi
check S2_wellformed "queue stream" -- evcheck wellformed "$T_WORK/s2q.json" --conns 4
expect S12_delivered_equals_received "$(evcheck count "$T_WORK/s2q.json")" "$(evq_stat ns1 1 delivered)"

# --- S2: the queue's message is its own.  A delete with NLM_F_ECHO queues
# the event's skb itself to the requester, whose socket filter here keeps 20
# bytes of each message; multicast sets its group in the skb.  Neither
# reaches the queue's DESTROY: it is the multicast listener's message, whole,
# from no group (a unicast).
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1
serve ns2 udp 192.0.2.2 5353 1
listen s2eq ns1 -q 1 -e destroy; listen s2emc ns1 -m -e destroy
traffic ns1 client udp 192.0.2.2 5353 1 --sport 42000
out=$(ip netns exec ns1 "$PYTHON" "$TOP/tests/kernel/ctdel.py" 192.0.2.1 192.0.2.2 \
	udp 42000 5353 --echo --trim 20)
stop_listeners; wait
# the scenario: the requester's copy was trimmed, the multicast one has a group
expect S2_echo_delete_trimmed "errno=0 injected=0 echo_len=20" "$out"
field() {  # FILE KEY: KEY of the DESTROY lines of FILE
	sed -n "/\"type\":\"destroy\"/s/.*\"$2\":\([0-9]*\).*/\1/p" "$1" | xargs
}
mc_len=$(field "$T_WORK/s2emc.json" len)
expect S2_echo_multicast_group "4" "$(field "$T_WORK/s2emc.json" groups)"
expect S2_echo_queue_destroy_whole "$mc_len" "$(field "$T_WORK/s2eq.json" len)"
expect S2_echo_queue_no_group "0" "$(field "$T_WORK/s2eq.json" groups)"

# --- S1: untracked packets and packets without an entry are left alone, and
# the rule goes on (its counter counts them).
mk_pair
rule ns1 add table inet raw ';' add chain inet raw c output -300 ';' \
	add rule inet raw c l4proto udp dport 9999 notrack ';' \
	add table inet f ';' add chain inet f post postrouting 0 ';' \
	add rule inet f post l4proto udp dport 9999 ctevent 1 counter ';' \
	add chain inet f early prerouting -300 ';' \
	add rule inet f early l4proto tcp ctevent 2 counter
serve ns2 tcp 192.0.2.2 8080 1
listen s1q1 ns1 -q 1; listen s1q2 ns1 -q 2
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 9999 --no-reply >/dev/null 2>&1
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 9999 --no-reply >/dev/null 2>&1
traffic ns1 client tcp 192.0.2.2 8080 1
ct_flush ns1
stop_listeners; wait
expect S1_untracked_rule_continues 2 "$(counter_of ns1 inet f post)"
expect S1_untracked_no_event 0 "$(evcheck count "$T_WORK/s1q1.json")"
c=$(counter_of ns1 inet f early)
[ "${c:-0}" -ge 2 ] && ok S1_before_conntrack_rule_continues ||
	fail S1_before_conntrack_rule_continues "counter $c"
expect S1_before_conntrack_no_event 0 "$(evcheck count "$T_WORK/s1q2.json")"

# --- S3: the first packet is dropped after the ctevent rule, before
# confirmation: nothing on the queue, nothing on multicast either.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1 counter ';' \
	add rule inet f c l4proto tcp dport 9 drop ';' \
	add rule inet f c l4proto udp dport 9 drop
listen s3q ns1 -q 1; listen s3mc ns1 -m
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 9 --no-reply >/dev/null 2>&1
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" tcp-client 192.0.2.2 9 -t 1 >/dev/null 2>&1
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 2001:db8::2 9 --no-reply >/dev/null 2>&1
stop_listeners
c=$(counter_of ns1 inet f c)
[ "${c:-0}" -ge 3 ] && ok S3_rule_saw_packets || fail S3_rule_saw_packets "counter $c"
expect S3_no_queue_message 0 "$(evcheck count "$T_WORK/s3q.json")"
expect S3_no_multicast_message 0 "$(evcheck count "$T_WORK/s3mc.json")"

# --- S5: the RFC's case.  Queue 1: established connections, all events.
# Queue 2: every connection to ports 8080/5353, DESTROY only.  A UDP flow to
# port 7 that never gets an answer matches no rule and reaches no queue.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ct state established ctevent 1 ';' \
	add rule inet f c l4proto tcp dport 8080 ctevent 2 ';' \
	add rule inet f c l4proto udp dport 5353 ctevent 2
serve ns2 tcp 192.0.2.2 8080 3; serve ns2 udp 192.0.2.2 5353 2
listen s5q1 ns1 -q 1; listen s5q2 ns1 -q 2 -e destroy; listen s5mc ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 3 --sport 40000
traffic ns1 client udp 192.0.2.2 5353 2 --sport 41000
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 7 --no-reply >/dev/null 2>&1
ct_flush ns1
stop_listeners; wait
check S5_queue1_established_all_events "queue 1" -- evcheck wellformed "$T_WORK/s5q1.json" --conns 5
check S5_queue2_destroy_only "queue 2" -- evcheck wellformed "$T_WORK/s5q2.json" --conns 5 --destroy-only
expect S5_multicast_sees_all 6 "$(evcheck conns "$T_WORK/s5mc.json")"
expect S5_unmatched_reaches_no_queue 0 "$(cat "$T_WORK/s5q1.json" "$T_WORK/s5q2.json" | grep -c '"dport": *7[,}]')"

# --- S6: a range spreads 400 connections over queues 10-13 by conntrack id.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ct state established ctevent 10-13
serve ns2 udp 192.0.2.2 5353 400
listen s6 ns1 -q 10 -q 11 -q 12 -q 13 -b 4194304
traffic ns1 client udp 192.0.2.2 5353 400 --sport 20000
ct_flush ns1
stop_listeners; wait
if out=$(evcheck spread "$T_WORK/s6.json" 10 4); then
	ok S6_one_queue_per_connection
	echo "    $out"
	n=$(echo "$out" | wc -w)
	expect S6_all_four_queues_used 4 "$n"
else
	fail S6_one_queue_per_connection "$out"
fi
check S6_wellformed "400 connections" -- evcheck wellformed "$T_WORK/s6.json" --conns 400

# --- S7 first half and S12: an unbound queue counts what it drops; a slow
# listener with a tiny buffer loses events, visibly, and /proc counts them.
# Queue 5 (unbound) and 6 (bound) subscribe the same entries; queue 7
# (tiny and slow) and 8 (normal) too.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ctevent 5 ctevent 6 ctevent 7 ctevent 8
serve ns2 udp 192.0.2.2 5353 150
listen s7q6 ns1 -q 6; listen s7q7 ns1 -q 7 -b 2048 -s 200000; listen s7q8 ns1 -q 8 -b 4194304
traffic ns1 client udp 192.0.2.2 5353 150 --sport 20000
ct_flush ns1
sleep 1
stop_listeners; wait
expect S7_unbound_dropped_counted "$(evq_stat ns1 6 delivered)" "$(evq_stat ns1 5 unbound)"
expect S12_unbound_queue_portid 0 "$(evq_stat ns1 5 portid)"
d7=$(evq_stat ns1 7 delivered) l7=$(evq_stat ns1 7 lost) d8=$(evq_stat ns1 8 delivered)
[ "${l7:-0}" -gt 0 ] && ok S7_overrun_counted || fail S7_overrun_counted "lost=$l7"
grep -q 'ENOBUFS' "$T_WORK/s7q7.err" && ok S7_listener_reports_enobufs ||
	fail S7_listener_reports_enobufs "$(cat "$T_WORK/s7q7.err")"
expect S12_slow_listener_count "$d7" "$(evcheck count "$T_WORK/s7q7.json")"
expect S12_listener_count "$d8" "$(evcheck count "$T_WORK/s7q8.json")"
check S7_full_listener_exact "queue 8" -- evcheck wellformed "$T_WORK/s7q8.json" --conns 150
# S4: what the overrun listener got is still well formed: every connection
# it saw starts with its one NEW; a NEW lost to the full buffer was sent
# again, with the entry's state by then, before anything else.
check S4_lost_new_sent_again "queue 7" -- evcheck wellformed "$T_WORK/s7q7.json" --lossy
echo "    queue 7: $(evcheck conns "$T_WORK/s7q7.json") connections seen," \
	"$(evcheck newstatus "$T_WORK/s7q7.json" 0x2) of them with a NEW built after the reply"
echo "    /proc/net/netfilter/nf_conntrack_evq:"
evq_proc ns1 | sed 's/^/    /'

# --- S11: an entry created while nobody listened and no queue existed has
# no event cache and cannot be subscribed; a later one can.
mk_pair
expect S11_default_events_sysctl 2 "$(ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_events)"
rule ns1 add table inet pre ';' add chain inet pre c output -300 ';' \
	add rule inet pre c ct state new counter
serve ns2 tcp 192.0.2.2 8080 2
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44000 --gate "$T_WORK/s11" &
held=$!
wait_for_file "$T_WORK/s11.ready" 30 || fail S11_setup "connection not up"
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ct state established ctevent 1
listen s11 ns1 -q 1
touch "$T_WORK/s11.go"
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44001
wait $held; sleep 0.5
ct_flush ns1
stop_listeners; wait
expect S11_old_entry_not_subscribed 0 "$(grep -c '"sport": *44000' "$T_WORK/s11.json")"
check S11_new_entry_subscribed "new connection" -- evcheck wellformed "$T_WORK/s11.json" --conns 1
ne=$(evq_stat ns1 1 noext)
[ "${ne:-0}" -gt 0 ] 2>/dev/null && ok S11_old_entry_counted ||
	fail S11_old_entry_counted "noext=$ne"

# --- S13: "ct event set destroy" on the entries: their queues get only the
# DESTROY, as multicast does, although the listener wants every type.
mk_pair
rule ns1 add table inet f ';' add chain inet f m output 0 ';' \
	add rule inet f m ct event set destroy ';' \
	add chain inet f c postrouting $INT_MAX ';' add rule inet f c ctevent 1
serve ns2 tcp 192.0.2.2 8080 2; serve ns2 udp 192.0.2.2 5353 2
listen s13q ns1 -q 1; listen s13mc ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000
traffic ns1 client udp 192.0.2.2 5353 2 --sport 41000
ct_flush ns1
stop_listeners; wait
check S13_event_mask_applies_to_queue "queue 1" -- \
	evcheck wellformed "$T_WORK/s13q.json" --conns 4 --destroy-only
check S13_event_mask_applies_to_multicast "multicast" -- \
	evcheck wellformed "$T_WORK/s13mc.json" --conns 4 --destroy-only
check S13_queue_equals_multicast "same messages" -- \
	evcheck equal "$T_WORK/s13q.json" "$T_WORK/s13mc.json"

# --- A multicast listener with NETLINK_BROADCAST_ERROR overruns its buffer:
# the event cache reports what it missed again with the next events, but
# the queue, which got them, gets no second NEW for any connection.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ctevent 1
serve ns2 udp 192.0.2.2 5353 200
listen bcq ns1 -q 1 -b 4194304
listen bcmc ns1 -m -R -b 2048 -s 100000
traffic ns1 client udp 192.0.2.2 5353 200 --sport 20000
ct_flush ns1
sleep 1
stop_listeners; wait
grep -q ENOBUFS "$T_WORK/bcmc.err" && ok S5_broadcast_error_listener_overran ||
	fail S5_broadcast_error_listener_overran "$(tail -2 "$T_WORK/bcmc.err")"
check S5_no_second_new_after_multicast_overrun "queue 1" -- \
	evcheck wellformed "$T_WORK/bcq.json" --conns 200

# --- S8: an entry takes four queues; a fifth rule's subscription is refused
# for that entry and counted, and its queue gets nothing.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ctevent 1 ctevent 2 ctevent 3 ctevent 4 ctevent 5
serve ns2 udp 192.0.2.2 5353 3
listen s8q ns1 -q 1-5
traffic ns1 client udp 192.0.2.2 5353 3 --sport 41000
ct_flush ns1
stop_listeners; wait
for q in 1 2 3 4; do
	grep "\"src\":\"q$q\"" "$T_WORK/s8q.json" > "$T_WORK/s8q$q.json"
done
check S8_four_queues_per_entry "queues 1-4" -- bash -c "
	for q in 1 2 3 4; do $PYTHON $EVCHECK wellformed $T_WORK/s8q\$q.json --conns 3 || exit 1; done"
expect S8_fifth_queue_refused 0 "$(grep -c '"src":"q5"' "$T_WORK/s8q.json")"
of=$(evq_stat ns1 5 overflow)
[ "${of:-0}" -gt 0 ] 2>/dev/null && ok S8_fifth_queue_counted || fail S8_fifth_queue_counted "overflow=$of"

# --- Subscribed while unconfirmed (the first packet held in NFQUEUE by a
# verdict program), then the rule is deleted and other queue numbers are
# put to use: after the accept, the entry's events reach the queue its rule
# named (8), never another (9).  A second table keeps conntrack in use, so
# that the held packet survives the deletion.
mk_pair
rule ns1 add table inet keep ';' add chain inet keep c output -300 ';' \
	add rule inet keep c ct state new counter ';' \
	add table inet f ';' add chain inet f c output 0 ';' \
	add rule inet f c l4proto udp dport 7777 ctevent 8 queue 0
ip netns exec ns1 "$PYTHON" "$TOP/tests/kernel/nfqhold.py" 0 "$T_WORK/nfq" &
nfq=$!
wait_for_file "$T_WORK/nfq.ready" 10 || fail A4_setup "nfqhold did not bind"
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 7777 --no-reply --sport 45000 >/dev/null 2>&1 &
wait_for_file "$T_WORK/nfq.held.0" 10 || fail A4_setup "packet not held"
# the rule goes, not its chain: a hook going away drops what NFQUEUE holds
rule ns1 flush chain inet f c ';' add table inet g ';' add chain inet g c postrouting $INT_MAX ';' \
	add rule inet g c l4proto udp dport 7778 ctevent 9
listen a4q8 ns1 -q 8; listen a4q9 ns1 -q 9
ip netns exec ns1 "$PYTHON" -I -S "$NETTOOL" udp-client 192.0.2.2 7778 --no-reply --sport 45001 >/dev/null 2>&1
touch "$T_WORK/nfq.go"
wait $nfq && ok A4_packet_accepted || fail A4_packet_accepted "nfqhold failed"
sleep 0.5
ct_flush ns1
stop_listeners; wait
check A4_unconfirmed_entry_reaches_its_queue "queue 8" -- \
	evcheck wellformed "$T_WORK/a4q8.json" --conns 1 --sport 45000
expect A4_unconfirmed_entry_not_on_other_queue 0 "$(evcheck count "$T_WORK/a4q9.json" --sport 45000)"
check A4_other_queue_has_its_own "queue 9" -- \
	evcheck wellformed "$T_WORK/a4q9.json" --conns 1

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
