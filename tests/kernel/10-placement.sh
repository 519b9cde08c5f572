#!/bin/bash
# S4 (placement) and S5 (multicast unchanged): whatever the chain's
# hook priority (before or after conntrack confirmation) and whatever order
# the table and conntrack were activated in, queue 1 sees the same stream
# per connection: one NEW with the full state first, then the later events,
# then exactly one DESTROY.  The multicast stream is the same in all
# variants.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

# IPv4 and IPv6, TCP, UDP and ICMP: 8 connections
CONNS=8

variant() {  # HOOK PRIO ORDER
	local hook=$1 prio=$2 order=$3 tag=$1-$2-$3
	mk_pair || { fail "S4_$tag" "netns setup"; return; }
	if [ "$order" = ct-first ]; then
		rule ns1 add table inet pre ';' add chain inet pre c output -300 ';' \
			add rule inet pre c ct state new counter || { fail "S4_$tag" "pre table"; return; }
	fi
	rule ns1 add table inet f ';' add chain inet f c "$hook" "$prio" ';' \
		add rule inet f c ct state established ctevent 1 counter ||
		{ fail "S4_$tag" "ruleset"; return; }
	serve ns2 tcp 192.0.2.2 8080 2 && serve ns2 udp 192.0.2.2 5353 2 &&
	serve ns2 tcp 2001:db8::2 8081 1 && serve ns2 udp 2001:db8::2 5354 1 ||
		{ fail "S4_$tag" "servers"; return; }
	listen "q-$tag" ns1 -q 1 && listen "mc-$tag" ns1 -m ||
		{ fail "S4_$tag" "listeners"; return; }
	traffic ns1 client tcp 192.0.2.2 8080 2 --sport 40000 &&
	traffic ns1 client udp 192.0.2.2 5353 2 --sport 41000 &&
	traffic ns1 client tcp 2001:db8::2 8081 1 --sport 42000 &&
	traffic ns1 client udp 2001:db8::2 5354 1 --sport 43000 &&
	ping_ns ns1 192.0.2.2 2 && ping_ns ns1 2001:db8::2 2 ||
		{ fail "S4_$tag" "traffic"; return; }
	ct_flush ns1
	stop_listeners
	wait
	if out=$(evcheck wellformed "$T_WORK/q-$tag.json" --conns $CONNS); then
		ok "S4_${tag}_wellformed"
	else
		fail "S4_${tag}_wellformed" "$out"
	fi
	evcheck norm "$T_WORK/q-$tag.json" > "$T_WORK/$tag.q.norm"
	evcheck norm "$T_WORK/mc-$tag.json" > "$T_WORK/$tag.mc.norm"
}

same() {  # NAME FILE...
	local name=$1 ref=$2 f bad=
	shift 2
	for f in "$@"; do
		if ! cmp -s "$ref" "$f"; then
			bad=1
			echo "    $(basename "$ref") vs $(basename "$f"):"
			diff "$ref" "$f" | head -20 | sed 's/^/    /'
		fi
	done
	if [ -z "$bad" ]; then ok "$name"; else fail "$name" "streams differ"; fi
}

for hook in postrouting input; do
	for prio in 0 $INT_MAX; do
		for order in table-first ct-first; do
			variant $hook $prio $order
		done
	done
	same "S4_${hook}_same_queue_stream" "$T_WORK/$hook-0-table-first.q.norm" \
		"$T_WORK/$hook-0-ct-first.q.norm" "$T_WORK/$hook-$INT_MAX-table-first.q.norm" \
		"$T_WORK/$hook-$INT_MAX-ct-first.q.norm"
	echo "queue stream ($hook):"
	sed 's/^/    /' "$T_WORK/$hook-0-table-first.q.norm"
done
same "S5_multicast_unchanged" "$T_WORK/postrouting-0-table-first.mc.norm" "$T_WORK"/*-*-*.mc.norm

# A connection established long before its subscription: its first message
# on the queue is still a NEW, carrying the state it has by then.  (The
# netns has a ctevent rule from the start, on another queue: entries
# created before the first one cannot be subscribed, see 20-delivery S11.)
mk_pair
rule ns1 add table inet pre ';' add chain inet pre c output -300 ';' \
	add rule inet pre c ct state new counter ';' \
	add table inet early ';' add chain inet early c postrouting 0 ';' \
	add rule inet early c l4proto udp dport 9 ctevent 99
listen mc-long ns1 -m
serve ns2 tcp 192.0.2.2 8080 1
listen q-long ns1 -q 1		# bound before its packets can subscribe
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44000 --gate "$T_WORK/long" &
wait_for_file "$T_WORK/long.ready" 30 || fail S4_long_before_setup "connection not up"
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ct state established ctevent 1
touch "$T_WORK/long.go"
wait_for_grep "$T_WORK/mc-long.json" '"tcp_state": *"(TIME_WAIT|CLOSE)"' 10
ct_flush ns1
stop_listeners
wait
if out=$(evcheck wellformed "$T_WORK/q-long.json" --conns 1); then
	ok S4_established_long_before
else
	fail S4_established_long_before "$out"
fi
st=$(evcheck first "$T_WORK/q-long.json" tcp_state)
case $st in
*FIN_WAIT*|*TIME_WAIT*|*LAST_ACK*|*CLOSE*) ok S4_long_before_new_has_state ;;
*) fail S4_long_before_new_has_state "first message state: $st" ;;
esac

# Subscribed while nobody listened: the listener that binds afterwards gets
# a NEW with the full state as its first message for the connection, then
# the connection's later events and its DESTROY.  Queue 2's listener binds
# for NEW and DESTROY only: its NEW comes with the first event after the
# bind, an update it does not want.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ctevent 1 ctevent 2
serve ns2 tcp 192.0.2.2 8080 1
listen mc-late ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44100 --gate "$T_WORK/late" &
wait_for_file "$T_WORK/late.ready" 30 || fail S4_bind_after_subscription_setup "connection not up"
unb=$(evq_stat ns1 1 unbound)
[ "${unb:-0}" -gt 0 ] 2>/dev/null && ok S4_unbound_while_subscribed_counted ||
	fail S4_unbound_while_subscribed_counted "unbound=$unb"
listen q-late ns1 -q 1
listen q-late2 ns1 -q 2 -e new,destroy
touch "$T_WORK/late.go"
wait_for_grep "$T_WORK/mc-late.json" '"tcp_state": *"(TIME_WAIT|CLOSE)"' 10
ct_flush ns1
stop_listeners
wait
check S4_bind_after_subscription_new_first "queue 1" -- \
	evcheck wellformed "$T_WORK/q-late.json" --conns 1
st=$(evcheck first "$T_WORK/q-late.json" tcp_state)
case $st in
*ESTABLISHED*|*FIN_WAIT*|*TIME_WAIT*|*LAST_ACK*|*CLOSE*) ok S4_bind_after_subscription_full_state ;;
*) fail S4_bind_after_subscription_full_state "first message state: $st" ;;
esac
expect S4_bind_after_subscription_new_and_destroy "new destroy" \
	"$(grep -o '"type":"[a-z]*"' "$T_WORK/q-late2.json" | cut -d'"' -f4 | xargs)"

# A NEW lost to a full receive buffer: the listener is stopped, messages
# of other connections fill its buffer, and the NEW of connection 44300 is
# lost.  The listener resumes and drains; the connection's next event then
# reaches it as a NEW with the state by then, before anything else.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1
serve ns2 tcp 192.0.2.2 8080 1
listen mc-lost ns1 -m -b 4194304
listen q-lost ns1 -q 1 -b 4096
kill -STOP "${LISTENER_PIDS[1]}"
traffic ns1 client udp 192.0.2.2 9 60 --sport 20000 --noreply
l0=$(evq_stat ns1 1 lost)
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44300 --gate "$T_WORK/lost" &
wait_for_file "$T_WORK/lost.ready" 30 || fail S4_lost_new_setup "connection not up"
l1=$(evq_stat ns1 1 lost)
kill -CONT "${LISTENER_PIDS[1]}"
sleep 1
touch "$T_WORK/lost.go"
wait_for_grep "$T_WORK/mc-lost.json" '"tcp_state": *"(TIME_WAIT|CLOSE)"' 10
# Only this connection's entry goes: a flush would send the DESTROY of
# the 60 UDP entries too, into the same small buffer, and the one of
# 44300 could be lost among them.
ip netns exec ns1 conntrack -D -p tcp --sport 44300 > /dev/null 2>&1
stop_listeners
wait
echo "    lost while stopped: $l0 before the connection, $l1 after its first packets"
[ "${l1:-0}" -gt "${l0:-0}" ] 2>/dev/null && ok S4_lost_new_setup ||
	fail S4_lost_new_setup "the connection's messages were not lost ($l0 -> $l1)"
check S4_lost_new_sent_again_first "connection 44300" -- \
	evcheck wellformed "$T_WORK/q-lost.json" --conns 1 --sport 44300
st=$(evcheck first "$T_WORK/q-lost.json" tcp_state --sport 44300)
case $st in
*ESTABLISHED*|*FIN_WAIT*|*TIME_WAIT*|*LAST_ACK*|*CLOSE*) ok S4_lost_new_sent_again_with_state ;;
*) fail S4_lost_new_sent_again_with_state "first message state: $st" ;;
esac

# Another socket binds the queue in the middle of a connection: its first
# message for the connection is a NEW again; the first listener got the
# beginning and nothing after its unbind.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ctevent 3
serve ns2 tcp 192.0.2.2 8080 1
listen mc-re ns1 -m
listen q-re-a ns1 -q 3
traffic ns1 client tcp 192.0.2.2 8080 1 --sport 44200 --gate "$T_WORK/re" &
wait_for_file "$T_WORK/re.ready" 30 || fail S4_rebind_setup "connection not up"
wait_for_grep "$T_WORK/q-re-a.json" '"type":"new"' 10
kill -TERM "${LISTENER_PIDS[1]}"; wait "${LISTENER_PIDS[1]}" 2>/dev/null
LISTENER_PIDS=("${LISTENER_PIDS[0]}")
listen q-re-b ns1 -q 3
touch "$T_WORK/re.go"
wait_for_grep "$T_WORK/mc-re.json" '"tcp_state": *"(TIME_WAIT|CLOSE)"' 10
ct_flush ns1
stop_listeners
wait
check S4_rebind_other_socket_new_first "second listener" -- \
	evcheck wellformed "$T_WORK/q-re-b.json" --conns 1
check S4_rebind_first_listener_had_new "first listener" -- \
	evcheck wellformed "$T_WORK/q-re-a.json" --conns 1 --no-destroy

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
