#!/bin/bash
# Concurrency (meant for the 2-vCPU qemu guest; also runs in UML): two
# generators at once, TCP and UDP, rule before the confirm hook; every
# connection still reaches queue 1 as one NEW first and one DESTROY last,
# and the queue's DESTROYs match the multicast ones.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

N=${CTEVQ_SMP_CONNS:-60}
echo "cpus: $(nproc)"
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ct state established ctevent 1 ';' \
	add chain inet f i input 0 ';' add rule inet f i ct state established ctevent 1
serve ns2 tcp 192.0.2.2 8080 "$N"; serve ns2 udp 192.0.2.2 5353 "$N"
listen smpq ns1 -q 1 -b 4194304; listen smpmc ns1 -m -b 4194304
traffic ns1 client tcp 192.0.2.2 8080 "$N" --sport 30000 &
g1=$!
traffic ns1 client udp 192.0.2.2 5353 "$N" --sport 31000 &
g2=$!
wait $g1 $g2
ct_flush ns1
stop_listeners; wait
check SMP_wellformed "queue 1 under concurrent traffic" -- \
	evcheck wellformed "$T_WORK/smpq.json" --conns $((2 * N))
nosrc='s/"src":"[^"]*",//; s/"groups":[0-9]*,//'
grep '"type":"destroy"' "$T_WORK/smpq.json" | sed "$nosrc" | sort > "$T_WORK/q.d"
grep '"type":"destroy"' "$T_WORK/smpmc.json" | sed "$nosrc" | sort > "$T_WORK/mc.d"
if cmp -s "$T_WORK/q.d" "$T_WORK/mc.d"; then
	ok SMP_destroy_same_as_multicast
else
	fail SMP_destroy_same_as_multicast "$(diff "$T_WORK/q.d" "$T_WORK/mc.d" | head -5)"
fi
expect_lost=$(evq_stat ns1 1 lost)
[ "$expect_lost" = 0 ] && ok SMP_nothing_lost || fail SMP_nothing_lost "lost=$expect_lost"

# --- S8: netlink frees a closing socket's portid before its NETLINK_URELEASE;
# a new socket that gets the portid meanwhile and binds the queue keeps its
# binding when that URELEASE comes.  The race needs a second CPU;
# nfnetlink_queue's notifier, which runs first, walking 20000 instances at
# each close holds the old URELEASE back long enough.
out=$(ip netns exec ns1 "$PYTHON" "$TOP/tests/kernel/reuse.py" 9 2000000001 \
	"${CTEVQ_REUSE_ROUNDS:-40}" --delay 20000 2>&1)
echo "portid reuse: $out"
case $out in
rounds=*" raced=0 lost=0 failed=0")
	skip S8_portid_reuse_keeps_binding "the race was not reached ($out, $(nproc) CPU)" ;;
rounds=*" lost=0 failed=0") ok S8_portid_reuse_keeps_binding ;;
*) fail S8_portid_reuse_keeps_binding "$out" ;;
esac

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
