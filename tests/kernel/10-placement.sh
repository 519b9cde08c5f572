#!/bin/bash
# DESIGN S4 (placement) and S5 (multicast unchanged): whatever the chain's
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
# on the queue is still a NEW, carrying the state it has by then.
mk_pair
rule ns1 add table inet pre ';' add chain inet pre c output -300 ';' \
	add rule inet pre c ct state new counter
listen mc-long ns1 -m		# entries get an event cache
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

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
