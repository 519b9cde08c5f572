#!/bin/bash
# DESTROY under an overrunning consumer: N entries flushed at once, a
# queue listener bound with the reliable flag and a small receive buffer
# gets N of N; the BPF tracer, as slow, with a small ring buffer, loses
# records, and counts each one it lost (records + lost = N).  Most of the
# queue's first deliveries fail (its buffer is full): the event cache
# retries them, and the tracer still reports each DESTROY once.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

N=${CTEVQ_BPF_RELIABLE_CONNS:-2000}
echo $((4 * N)) > /proc/sys/net/netfilter/nf_conntrack_max
mk_pair || { fail setup mk_pair; summary; exit 1; }
# every entry gets the event cache extension, which the netlink path (and
# so the tracer) wants for a DESTROY, also with no ctnetlink listener
ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_events=1
rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
	add rule inet f c ct mark set 1 ctevent 1
rule ns2 add table inet f ';' add chain inet f c input 0 ';' \
	add rule inet f c l4proto udp drop
listen rel ns1 -q 1 -e destroy -R -b 16384 -s 1000 -c "$N" -t 300
rm -f "$T_WORK/tr.rdy"
ip netns exec ns1 ctevq-trace -d -j -m 1 -b 4096 -w 1000 -r "$T_WORK/tr.rdy" \
	> "$T_WORK/tr.out" 2> "$T_WORK/tr.err" &
tp=$!
wait_for_file "$T_WORK/tr.rdy" 20 || { fail setup "tracer: $(cat "$T_WORK/tr.err")"; summary; exit 1; }
flows 10000 "$N"
have=$(ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count)
[ "$have" -ge "$N" ] || fail setup "only $have entries"
ct_flush ns1
i=0
while kill -0 "${LISTENER_PIDS[0]}" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.5; i=$((i + 1))
done
# the tracer's ring is drained in a few hundred ms at 1 ms per record
sleep 2
kill -TERM $tp; wait $tp
stop_listeners
got=$(evcheck count "$T_WORK/rel.json" destroy)
lost1=$(evq_stat ns1 1 lost)
echo "    queue (reliable): $got DESTROY of $N, lost=$lost1"
check reliable_queue_every_destroy_once "reliable listener" -- \
	evcheck wellformed "$T_WORK/rel.json" --destroy-only --conns "$N"
[ "$got" = "$N" ] && [ "$lost1" = 0 ] && ok reliable_queue_n_of_n ||
	fail reliable_queue_n_of_n "$got of $N, lost $lost1"
trd=$(grep -c '"type":"destroy"' "$T_WORK/tr.out")
sum=$(grep '^mode=bpf_tracing' "$T_WORK/tr.out")
rbl=$(echo "$sum" | sed -n 's/.* rb_lost=\([0-9]*\).*/\1/p')
echo "    tracer: $trd DESTROY records, ring buffer lost ${rbl:-?}"
[ -n "$rbl" ] && [ "$rbl" -gt 0 ] && ok tracer_ring_loss_shown ||
	fail tracer_ring_loss_shown "no loss counted: $sum"
[ -n "$rbl" ] && [ $((trd + rbl)) = "$N" ] && ok tracer_records_plus_lost_is_n ||
	fail tracer_records_plus_lost_is_n "$trd + ${rbl:-?} != $N"
summary
