#!/bin/bash
# Netlink fuzzing of the ct event queue UAPI (IPCTNL_MSG_CT_EVQ_CFG and the
# nf_tables "ctevent" expression) with src/ctevq-fuzz.c, then a functional
# check in the same netns: the feature still works and the fuzzer left no
# bound queue behind.
#   CTEVQ_FUZZ_SEED   (default 1)       seed of the message stream
#   CTEVQ_FUZZ_COUNT  (default 100000)  messages that must each get one answer
#   CTEVQ_FUZZ_WATCHDOG (default 30)    seconds one round may take (a rule
#                                       over the whole queue range takes
#                                       longer on a debug kernel under TCG)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

seed=${CTEVQ_FUZZ_SEED:-1}
count=${CTEVQ_FUZZ_COUNT:-100000}
watchdog=${CTEVQ_FUZZ_WATCHDOG:-30}

mk_pair || { fail setup "mk_pair"; summary; exit 1; }

# --- the fuzzer
t0=$EPOCHREALTIME
ip netns exec ns1 ctevq-fuzz --seed "$seed" --count "$count" --udp 192.0.2.2 \
	--watchdog "$watchdog" \
	> "$T_WORK/fuzz.out" 2> "$T_WORK/fuzz.err"
rc=$?
t1=$EPOCHREALTIME
line=$(grep '^fuzz: ' "$T_WORK/fuzz.out" | tail -n 1)
echo "${line:-fuzz: no summary line}"
awk -v a="$t0" -v b="$t1" -v s="$seed" \
	'BEGIN { printf "fuzz: seed %s, %.1f s\n", s, b - a }'
# the fuzzer's own statistics, and its complaints if any
sed -n 's/^/    /; 1,40p' "$T_WORK/fuzz.err"
n=$(echo "$line" | sed -n 's/^fuzz: \([0-9]*\) messages, .*/\1/p')
if [ "$rc" = 0 ] && [ -n "$n" ] && [ "$n" -ge "$count" ]; then
	ok fuzz_every_message_answered
else
	fail fuzz_every_message_answered "exit $rc, '${line:-no summary}' (want >= $count messages, 0 missing)"
fi

# --- its sockets are closed: no queue may still be bound (NETLINK_URELEASE)
bound=$(evq_proc ns1 | awk '$2 != 0')
if [ -z "$bound" ]; then
	ok fuzz_no_queue_left_bound
else
	fail fuzz_no_queue_left_bound "bound after the fuzzer exited:"
	printf '%s\n' "$bound" | sed 's/^/    /'
fi

# --- its tables go; with them the queues the rules held
check fuzz_tables_deleted "delete the fuzzer's tables" -- \
	rule ns1 delete table inet ctevqfuzz ';' delete table ip ctevqfuzz ';' \
	delete table bridge ctevqfuzz ';' delete table netdev ctevqfuzz
n=50
while [ $n -gt 0 ] && [ -n "$(evq_proc ns1)" ]; do sleep 0.1; n=$((n - 1)); done
left=$(evq_proc ns1)
if [ -z "$left" ]; then
	ok fuzz_queues_released
else
	fail fuzz_queues_released "queues left after the tables went:"
	printf '%s\n' "$left" | sed 's/^/    /'
fi

# --- the feature still works in this netns
if rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ct state established ctevent 1; then
	serve ns2 tcp 192.0.2.2 8080 1
	if listen q ns1 -q 1; then
		traffic ns1 client tcp 192.0.2.2 8080 1 > /dev/null
		ct_flush ns1
		stop_listeners
		check after_fuzz_events_wellformed "queue 1 stream after fuzzing" -- \
			evcheck wellformed "$T_WORK/q.json" --conns 1
	else
		fail after_fuzz_events_wellformed "cannot bind queue 1 after fuzzing"
	fi
	wait
else
	fail after_fuzz_events_wellformed "cannot install the ctevent rule after fuzzing"
fi

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
