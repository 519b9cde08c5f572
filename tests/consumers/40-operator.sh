#!/bin/bash
# The operator's guide (docs/operator.md), sections 3 and 4, run as
# written: every "$NFT ..." command of the guide, as the guide prints it,
# then its "$CONNTRACK -E --queue 1" while TCP and UDP traffic passes.
# The listener prints the TCP connections, which the rule of queue 1
# selects once established, NEW first and DESTROY last, and not the UDP
# datagram that gets no answer.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

GUIDE=$TOP/docs/operator.md
P=${CTEVQ_CONSUMERS_PREFIX:-$TOP/build/consumers}
export NFT=$TOP/build/nft/sbin/nft CONNTRACK=$P/sbin/conntrack
if [ ! -x "$CONNTRACK" ]; then
	fail OP_guide_setup "no $CONNTRACK: run make consumers"
	summary; exit $?
fi
if [ ! -x "$NFT" ]; then
	skip OP_guide_rules "no $NFT: the guide's rules need the patched nft (make nft)"
	summary; exit $?
fi

# the guide's commands: indented lines that start with $NFT or $CONNTRACK
mapfile -t nft_lines < <(sed -n 's/^ \{4,\}\(\$NFT .*\)$/\1/p' "$GUIDE")
listen_line=$(sed -n 's/^ \{4,\}\(\$CONNTRACK -E --queue 1 .*\)$/\1/p' "$GUIDE" | head -n 1)
if [ ${#nft_lines[@]} -ge 4 ] && [ -n "$listen_line" ]; then
	ok OP_guide_has_commands
else
	fail OP_guide_has_commands "found ${#nft_lines[@]} \$NFT lines, listener '$listen_line'"
	summary; exit $?
fi

mk_pair
bad=0
for line in "${nft_lines[@]}"; do
	if ! out=$(ip netns exec ns1 bash -c "$line" 2>&1); then
		fail OP_guide_rule "$line:"
		printf '%s\n' "$out" | sed 's/^/    /'
		bad=1
	fi
done
[ $bad -eq 0 ] && ok OP_guide_rules_load
ruleset=$(ip netns exec ns1 "$NFT" list ruleset 2>&1)
if grep -q 'ct state established ct event queue 1$' <<< "$ruleset" &&
   grep -q 'ct event queue to ip saddr map' <<< "$ruleset"; then
	ok OP_guide_rules_listed
else
	fail OP_guide_rules_listed "nft list ruleset:"
	printf '%s\n' "$ruleset" | sed 's/^/    /'
fi

out=$T_WORK/conntrack.out mc=$T_WORK/multicast.out
ip netns exec ns1 bash -c "exec $listen_line" > "$out" 2>&1 &
lpid=$!
# a multicast listener beside it: what happened, selected or not
ip netns exec ns1 "$CONNTRACK" -E > "$mc" 2>&1 &
mpid=$!
until_bound ns1 1 && ok OP_guide_listener_bound || fail OP_guide_listener_bound "$(evq_proc ns1 2>&1)"
sleep 0.5
serve ns2 tcp 192.0.2.2 8080 3
traffic ns1 client tcp 192.0.2.2 8080 3 --sport 44000
traffic ns1 client udp 192.0.2.2 9 1 --sport 44100 --noreply
ct_flush ns1
sleep 1
kill -INT $lpid $mpid 2>/dev/null; wait $lpid $mpid 2>/dev/null

# each TCP connection: its first line a NEW, its last a DESTROY
good=0
for sport in 44000 44001 44002; do
	lines=$(grep -E "^ *\[[A-Z]+\] tcp .* sport=$sport dport=8080 " "$out")
	head -n 1 <<< "$lines" | grep -q '^ *\[NEW\]' &&
		tail -n 1 <<< "$lines" | grep -q '^ *\[DESTROY\]' && good=$((good + 1))
done
if [ $good -eq 3 ]; then
	ok OP_conntrack_queue_prints_connections
	sed 's/^/    | /' "$out" | head -n 12
else
	fail OP_conntrack_queue_prints_connections "$good of 3 TCP connections NEW ... DESTROY; output:"
	sed 's/^/    /' "$out" | head -n 20
fi
# the UDP datagram without an answer never is established: multicast
# shows its entry, queue 1 does not
if ! grep -q 'sport=44100 ' "$mc"; then
	fail OP_conntrack_queue_only_selected "the multicast listener saw no UDP entry from port 44100"
elif grep -q 'sport=44100 ' "$out"; then
	fail OP_conntrack_queue_only_selected "the UDP entry that never was established is on queue 1"
else
	ok OP_conntrack_queue_only_selected
fi

cleanup_ns
summary
