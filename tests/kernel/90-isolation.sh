#!/bin/bash
# S10: bind, unbind, rule changes and socket close in one netns never
# walk the conntrack table nor wait under a lock another netns needs.  With
# many entries in netns A, a tight bind/unbind loop and a rule add/delete
# loop run in netns B while A lists its table and keeps a queue: everything
# completes, A's listing is complete, A's queue stream is exact and B's
# loops end with nothing left.  (How long the listing takes with and without
# the loops is a make bench line, not an assertion.)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

N=${CTEVQ_ISO_CONNS:-20000}
sysctl -qw net.netfilter.nf_conntrack_max=$((2 * N + 1000)) 2>/dev/null ||
	echo $((2 * N + 1000)) > /proc/sys/net/netfilter/nf_conntrack_max

mk_pair
ip netns add nsb
ip -n nsb link set lo up
ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c l4proto tcp ctevent 1
serve ns2 tcp 192.0.2.2 8080 40
listen isoq ns1 -q 1 -b 4194304; listen isomc ns1 -m -e new -b 4194304

t0=$SECONDS
traffic ns1 client udp 192.0.2.2 9 "$N" --sport 10000 --noreply 2>/dev/null
have=$(ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count)
echo "    $have entries in ns1 after $((SECONDS - t0))s"
[ "$have" -ge "$N" ] && ok S10_setup_entries || fail S10_setup_entries "only $have entries"

stopf=$T_WORK/iso.stop
# one process, bind and unbind as fast as it can; it prints only answers
# that differ from the first round's (OK), i.e. errors
ip netns exec nsb ctevq-listen --try bind:7 --try unbind:7 --repeat 0 \
	> "$T_WORK/iso.binds.out" 2>&1 &
b=$!
(
	n=0
	while [ ! -e "$stopf" ]; do
		rule nsb add table inet r ';' add chain inet r c output 0 ';' \
			add rule inet r c ctevent 100-163 > /dev/null 2>&1
		rule nsb delete table inet r > /dev/null 2>&1
		n=$((n + 1))
	done
	echo $n > "$T_WORK/iso.rules"
) &
r=$!

listed=$(ip netns exec ns1 conntrack -L -p udp 2>/dev/null | wc -l)
traffic ns1 client tcp 192.0.2.2 8080 40 --sport 30000
listed2=$(ip netns exec ns1 conntrack -L -p udp 2>/dev/null | wc -l)
touch "$stopf"
kill -TERM $b; wait $b $r
echo "    during the loops: conntrack -L listed $listed and $listed2 udp entries;" \
	"$(cat "$T_WORK/iso.rules") rule add/delete rounds in nsb"
[ "$listed" -ge "$N" ] && [ "$listed2" -ge "$N" ] && ok S10_listing_complete_during_loops ||
	fail S10_listing_complete_during_loops "listed $listed, $listed2 of $N"
[ "$(cat "$T_WORK/iso.rules")" -gt 0 ] && ok S10_rule_loop_ran || fail S10_rule_loop_ran "no round completed"
expect S10_bind_loop_without_errors "try bind:7: OK try unbind:7: OK" \
	"$(grep -v '^rounds' "$T_WORK/iso.binds.out" | head -4 | xargs)"
echo "    bind/unbind $(grep '^rounds' "$T_WORK/iso.binds.out") in nsb"

ct_flush ns1
stop_listeners
check S10_queue_stream_exact "tcp connections of ns1" -- \
	evcheck wellformed "$T_WORK/isoq.json" --conns 40
check S10_queue_new_equals_multicast "NEW messages" -- bash -c \
	"grep '\"type\":\"new\"' $T_WORK/isoq.json > $T_WORK/isoq.new; \
	 $PYTHON $EVCHECK equal $T_WORK/isoq.new $T_WORK/isomc.json --sport 30000-30039"
# nothing of nsb's churn is left behind
n=0
until [ -z "$(evq_proc nsb 2>/dev/null)" ] || [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
expect S10_other_netns_left_clean "" "$(evq_proc nsb 2>/dev/null | head -3)"

cleanup_ns nsb
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
