#!/bin/bash
# ctevq: smp-only (make check-debug runs it in the 2-vCPU qemu guest)
# S7, reliable flag: a listener bound with CTNL_EVQ_F_RELIABLE whose
# receive buffer overflows still gets every DESTROY exactly once, for a
# flush and for expiry; without the flag the same run loses events and
# /proc counts the loss.  The entries waiting for the reliable listener
# stay on the event cache's dying list (counted in nf_conntrack_count) and
# are all gone at the end.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

N=${CTEVQ_RELIABLE_CONNS:-20000}
sysctl -qw net.netfilter.nf_conntrack_max=$((4 * N)) 2>/dev/null ||
	echo $((4 * N)) > /proc/sys/net/netfilter/nf_conntrack_max

# ns1 subscribes every entry to queues 1 and 2
setup() {
	mk_pair
	rule ns1 add table inet f ';' add chain inet f c postrouting $INT_MAX ';' \
		add rule inet f c ctevent 1 ctevent 2
	# ICMP errors would create related events: the peer drops silently
	rule ns2 add table inet f ';' add chain inet f c input 0 ';' \
		add rule inet f c l4proto udp drop
}

run() {  # TAG HOW
	local tag=$1 how=$2
	setup
	listen "$tag-rel" ns1 -q 1 -e destroy -R -b 16384 -c "$N" -t 300
	# slow on purpose: it must overflow whatever the kernel's speed
	listen "$tag-plain" ns1 -q 2 -e destroy -b 16384 -s 1000 -t 300
	# Entries take the timeout in force when they are created: long
	# enough that none expires before the last one exists, three times
	# what creating them took in the flush run (a debug kernel under
	# TCG takes seconds).
	[ "$how" = expire ] &&
		ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$((3 * CREATE_SECS + 5))
	# entries whose DESTROY waits for the reliable listener are parked on
	# the event cache's dying list: sample how many, the most seen
	(
		max=0
		while [ ! -e "$T_WORK/$tag.stop" ]; do
			n=$(ip netns exec ns1 conntrack -L dying 2>/dev/null | wc -l)
			[ "$n" -gt "$max" ] && max=$n
			echo "$max" > "$T_WORK/$tag.maxdying"
			sleep 0.5
		done
	) &
	local sampler=$!
	local t0=$SECONDS
	flows 10000 "$N"
	local have
	have=$(ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count)
	[ "$how" = flush ] && CREATE_SECS=$((SECONDS - t0))
	echo "    $have entries after $((SECONDS - t0))s"
	[ "$have" -ge "$N" ] || { fail "S7_${tag}_setup" "only $have entries"; return; }
	[ "$how" = flush ] && ct_flush ns1
	# the reliable listener exits after N events
	local i=0
	while kill -0 "${LISTENER_PIDS[0]}" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.5; i=$((i + 1))
	done
	echo "    all DESTROY events after $((SECONDS - t0))s"
	sleep 1
	touch "$T_WORK/$tag.stop"; wait $sampler
	stop_listeners
	local dying count
	dying=$(ip netns exec ns1 conntrack -L dying 2>/dev/null | wc -l)
	count=$(ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count)
	echo "    parked entries: at most $(cat "$T_WORK/$tag.maxdying") seen, $dying left; $count entries left"
	[ "$dying" = 0 ] && [ "$count" = 0 ] && ok "S7_reliable_${tag}_nothing_left_waiting" ||
		fail "S7_reliable_${tag}_nothing_left_waiting" "$dying parked, $count entries"
	check "S7_reliable_${tag}_every_destroy_once" "reliable listener" -- \
		evcheck wellformed "$T_WORK/$tag-rel.json" --destroy-only --conns "$N"
	local got lost1 d2 l2
	got=$(evcheck count "$T_WORK/$tag-rel.json" destroy)
	lost1=$(evq_stat ns1 1 lost) d2=$(evq_stat ns1 2 delivered) l2=$(evq_stat ns1 2 lost)
	echo "    reliable: $got DESTROY received, lost=$lost1; plain: delivered=$d2 lost=$l2"
	[ "$got" = "$N" ] && [ "$lost1" = 0 ] && ok "S7_reliable_${tag}_exactly_N" ||
		fail "S7_reliable_${tag}_exactly_N" "received $got of $N, lost $lost1"
	[ "${l2:-0}" -gt 0 ] && [ $((d2 + l2)) = "$N" ] && ok "S7_plain_${tag}_loss_counted" ||
		fail "S7_plain_${tag}_loss_counted" "delivered $d2 + lost $l2 != $N"
}

CREATE_SECS=5
run flush flush
run expire expire

# No memory for the DESTROY itself: every GFP_ATOMIC slab allocation of a
# ctnetlink delete, one at a time, is made to fail (fail-nth).  The reliable
# queue still gets each DESTROY exactly once, through the event cache's
# redelivery; the plain queue beside it counts what it lost; with a
# multicast listener present, nobody gets a DESTROY twice.
run_nomem() {  # TAG MULTICAST(0|1)
	local tag=$1 mcast=$2 m=24 n out injected=0 enomem=0
	setup
	listen "$tag-rel" ns1 -q 1 -e destroy -R -c "$m" -t 120
	listen "$tag-plain" ns1 -q 2 -e destroy -t 120
	[ "$mcast" = 1 ] && listen "$tag-mc" ns1 -m -e destroy -t 120
	flows 20000 "$m"
	local l0 l1 plainlost=
	l0=$(evq_stat ns1 2 lost)
	for n in $(seq 1 "$m"); do
		out=$(ip netns exec ns1 "$PYTHON" "$TOP/tests/kernel/ctdel.py" \
			192.0.2.1 192.0.2.2 udp 40000 $((19999 + n)) --fail-nth "$n")
		case $out in *injected=1*) injected=$((injected + 1)) ;; esac
		case $out in errno=0\ *) ;; *) enomem=$((enomem + 1)) ;; esac
		l1=$(evq_stat ns1 2 lost)
		[ "$l1" != "$l0" ] && plainlost="$plainlost $n"
		l0=$l1
	done
	echo "    $m deletes: failure injected in $injected, request failed in $enomem, plain queue lost at n =$plainlost"
	[ "$injected" -gt 0 ] && ok "S7_nomem_${tag}_failures_injected" ||
		fail "S7_nomem_${tag}_failures_injected" "fail-nth injected nothing"
	# what a failed request left behind goes now, with nothing failing
	ct_flush ns1
	local i=0
	while kill -0 "${LISTENER_PIDS[0]}" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.2; i=$((i + 1))
	done
	stop_listeners
	check "S7_nomem_${tag}_reliable_every_destroy_once" "reliable listener" -- \
		evcheck wellformed "$T_WORK/$tag-rel.json" --destroy-only --conns "$m"
	local lost1 d2 l2
	lost1=$(evq_stat ns1 1 lost) d2=$(evq_stat ns1 2 delivered) l2=$(evq_stat ns1 2 lost)
	echo "    reliable lost=$lost1; plain delivered=$d2 lost=$l2"
	expect "S7_nomem_${tag}_reliable_lost_none" 0 "$lost1"
	# the sweep reached the event path: the plain queue lost some
	[ "${l2:-0}" -gt 0 ] && [ $((d2 + l2)) = "$m" ] && ok "S7_nomem_${tag}_plain_loss_counted" ||
		fail "S7_nomem_${tag}_plain_loss_counted" "delivered $d2 + lost $l2 != $m, or no loss"
	if [ "$mcast" = 1 ]; then
		local c d
		c=$(evcheck conns "$T_WORK/$tag-mc.json") d=$(evcheck count "$T_WORK/$tag-mc.json" destroy)
		echo "    multicast: $d DESTROY for $c connections"
		[ "$c" = "$d" ] && [ "$c" -gt 0 ] && ok "S7_nomem_${tag}_multicast_no_duplicate" ||
			fail "S7_nomem_${tag}_multicast_no_duplicate" "$d DESTROY for $c connections"
	fi
}

if [ -e /proc/self/fail-nth ] && [ -d /sys/kernel/debug/failslab ]; then
	# quiet: a forced failure is not a splat
	echo 0 > /sys/kernel/debug/failslab/verbose
	run_nomem nomem 0
	run_nomem nomem-mc 1
else
	for c in nomem_failures_injected nomem_reliable_every_destroy_once \
		nomem_reliable_lost_none nomem_plain_loss_counted \
		nomem-mc_failures_injected nomem-mc_reliable_every_destroy_once \
		nomem-mc_reliable_lost_none nomem-mc_plain_loss_counted \
		nomem-mc_multicast_no_duplicate; do
		skip "S7_nomem_$c" "no CONFIG_FAULT_INJECTION/FAILSLAB (debug kernel only)"
	done
fi

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
