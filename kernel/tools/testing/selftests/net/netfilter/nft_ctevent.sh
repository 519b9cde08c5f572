#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Conntrack event queues ("ct event queue" in nft):
# 1. a listener bound to a queue gets the events of the connections the
#    ruleset subscribed to that queue, one NEW first and one DESTROY last,
#    and nothing of other connections
# 2. two queues selected by different rules are independent, and a
#    listener bound for DESTROY events gets only those
# 3. a connection established before its subscription gets a NEW first
# 4. a queue bound by one socket gives EBUSY to another
# 5. multicast listeners still get every event
#
# shellcheck disable=SC2317

source lib.sh

ret=0
tmpdir=""
listeners=()

cleanup()
{
	ip netns pids "$ns1" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$ns2" 2>/dev/null | xargs -r kill 2>/dev/null
	cleanup_all_ns
	[ -n "$tmpdir" ] && rm -rf "$tmpdir"
}

checktool "nft --version" "run test without nft tool"
checktool "socat -h" "run test without socat"
checktool "conntrack -V" "run test without conntrack tool"
[ -x ./ctevent_listen ] || { echo "SKIP: ctevent_listen not built"; exit $ksft_skip; }

trap cleanup EXIT

setup_ns ns1 ns2
tmpdir=$(mktemp -d)

if ! ip link add veth0 netns "$ns1" type veth peer name veth0 netns "$ns2" > /dev/null 2>&1; then
	echo "SKIP: No virtual ethernet pair device support in kernel"
	exit $ksft_skip
fi
ip -net "$ns1" link set veth0 up
ip -net "$ns2" link set veth0 up
ip -net "$ns1" addr add 192.0.2.1/24 dev veth0
ip -net "$ns2" addr add 192.0.2.2/24 dev veth0

# Queue 1: established connections, every event.  Queue 2: connections to
# port 2000, to a listener that wants DESTROY events only.
if ! ip netns exec "$ns1" nft -f /dev/stdin > "$tmpdir/nft.err" 2>&1 <<EOF
table inet filter {
	chain post {
		type filter hook postrouting priority 2147483647; policy accept;
		ct state established ct event queue 1
		tcp dport 2000 ct event queue 2
	}
}
EOF
then
	if grep -q "syntax error" "$tmpdir/nft.err"; then
		echo "SKIP: nft does not support ct event queue"
	else
		echo "SKIP: ct event queue not supported by this kernel: $(cat "$tmpdir/nft.err")"
	fi
	exit $ksft_skip
fi

listen()
{
	local name=$1
	local i

	shift
	ip netns exec "$ns1" ./ctevent_listen -t 30 "$@" > "$tmpdir/$name" 2> "$tmpdir/$name.err" &
	listeners+=($!)
	for i in $(seq 1 50); do
		grep -q listening "$tmpdir/$name.err" && return 0
		sleep 0.1
	done
	echo "FAIL: listener $name: $(cat "$tmpdir/$name.err")"
	exit 1
}

# events of one connection (by source port) on one listener
events_of()
{
	awk -v p="$2" '$3 == p { print $1 }' "$tmpdir/$1" | xargs
}

check()
{
	local what=$1 want=$2 got=$3

	if [ "$want" = "$got" ]; then
		echo "PASS: $what"
	else
		echo "FAIL: $what: want '$want', got '$got'"
		ret=1
	fi
}

listen q1 -q 1
listen q2 -q 2 -e destroy
listen mc -m

ip netns exec "$ns2" socat -u TCP-LISTEN:2000,reuseaddr,fork OPEN:/dev/null &
ip netns exec "$ns2" socat -u TCP-LISTEN:3000,reuseaddr,fork OPEN:/dev/null &
ip netns exec "$ns2" socat -u TCP-LISTEN:4000,reuseaddr OPEN:/dev/null &
for port in 2000 3000 4000; do
	wait_local_port_listen "$ns2" $port tcp
done

# 3. held open until the rule that subscribes it exists
mkfifo "$tmpdir/fifo"
ip netns exec "$ns1" socat -U TCP:192.0.2.2:4000,sourceport=40400 OPEN:"$tmpdir/fifo" &
slowwait 10 ip netns exec "$ns1" sh -c \
	"conntrack -L -p tcp --dport 4000 2>/dev/null | grep -q ESTABLISHED" || {
	echo "FAIL: connection to port 4000 not established"
	exit 1
}
listen q3 -q 3
ip netns exec "$ns1" nft add rule inet filter post tcp dport 4000 ct event queue 3

echo x | ip netns exec "$ns1" socat -u STDIN TCP:192.0.2.2:2000,sourceport=40000
echo x | ip netns exec "$ns1" socat -u STDIN TCP:192.0.2.2:3000,sourceport=40001
echo x > "$tmpdir/fifo"
sleep 1
ip netns exec "$ns1" conntrack -F > /dev/null 2>&1
sleep 1

# 4. before the listeners exit
check "queue bound elsewhere gives EBUSY" "Device or resource busy" \
	"$(ip netns exec "$ns1" ./ctevent_listen -q 1 -x)"

kill "${listeners[@]}" 2>/dev/null
wait "${listeners[@]}" 2>/dev/null

# 1.
first=$(events_of q1 40000 | cut -d' ' -f1)
last=$(events_of q1 40000 | awk '{ print $NF }')
check "queue 1: port 2000 starts with new" new "$first"
check "queue 1: port 2000 ends with destroy" destroy "$last"
check "queue 1: port 2000 has one new, one destroy" "1 1" \
	"$(events_of q1 40000 | tr ' ' '\n' | grep -c new) $(events_of q1 40000 | tr ' ' '\n' | grep -c destroy)"
check "queue 1: port 3000 has one new, one destroy" "1 1" \
	"$(events_of q1 40001 | tr ' ' '\n' | grep -c new) $(events_of q1 40001 | tr ' ' '\n' | grep -c destroy)"
# 2.
check "queue 2: port 2000, destroy only" "destroy" "$(events_of q2 40000)"
check "queue 2: nothing of port 3000" "" "$(events_of q2 40001)"
# 3.
check "queue 3: established before, new first" new "$(events_of q3 40400 | cut -d' ' -f1)"
check "queue 3: ends with destroy" destroy "$(events_of q3 40400 | awk '{ print $NF }')"
check "queue 3: nothing of other connections" "" "$(awk '$3 != 40400' "$tmpdir/q3")"
# 5.
check "multicast: port 2000 starts with new" new "$(events_of mc 40000 | cut -d' ' -f1)"
check "multicast: port 3000 ends with destroy" destroy "$(events_of mc 40001 | awk '{ print $NF }')"

if [ -r /proc/net/netfilter/nf_conntrack_evq ]; then
	echo "INFO: /proc/net/netfilter/nf_conntrack_evq of ns1:"
	ip netns exec "$ns1" cat /proc/net/netfilter/nf_conntrack_evq
fi

exit $ret
