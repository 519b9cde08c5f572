#!/bin/bash
# conntrackd with "EventQueue N" (conntrack-tools-patch/), in Stats mode:
# it accounts exactly the connections that the ruleset subscribes to its
# queue, where a conntrackd on the multicast groups accounts all of them,
# and a second daemon cannot take the queue.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=${CTEVQ_CONSUMERS_PREFIX:-$TOP/build/consumers}
CTD=$P/sbin/conntrackd
if [ ! -x "$CTD" ]; then
	fail conntrackd-setup "no $CTD: run make consumers"
	summary; exit $?
fi

ctd_conf() {  # NAME [GENERAL_LINE...]
	local name=$1 line extra=
	shift
	for line in "$@"; do extra+="	$line"$'\n'; done
	cat > "$T_WORK/$name.conf" <<EOF
General {
	HashSize 1024
	HashLimit 8192
	LogFile $T_WORK/$name.log
	Syslog off
	LockFile $T_WORK/$name.lock
	UNIX {
		Path $T_WORK/$name.ctl
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
$extra}
Stats {
	LogFile $T_WORK/$name.stats
}
EOF
}

CTD_PIDS=()
ctd_start() {  # NAME: in ns1, returns once its control socket exists
	local n=100
	ip netns exec ns1 "$CTD" -C "$T_WORK/$1.conf" > "$T_WORK/$1.out" 2>&1 &
	CTD_PIDS+=($!)
	while [ $n -gt 0 ] && [ ! -S "$T_WORK/$1.ctl" ]; do sleep 0.1; n=$((n - 1)); done
	[ -S "$T_WORK/$1.ctl" ] || { echo "conntrackd $1 did not start:"; sed 's/^/    /' "$T_WORK/$1.out" "$T_WORK/$1.log" 2>/dev/null; }
}

# NAME: "created destroyed" of the daemon's cache statistics
ctd_counts() {
	ip netns exec ns1 "$CTD" -C "$T_WORK/$1.conf" -s 2>/dev/null | awk '
		/connections created:/ { c = $3 }
		/connections destroyed:/ { d = $3 }
		END { print c + 0, d + 0 }'
}

# NAME: the connections of the daemon's stats log, without the time stamp
ctd_logged() { sed 's/^[^\t]*\t//' "$T_WORK/$1.stats" 2>/dev/null; }

mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ct state established dport 8080 ctevent 1
ctd_conf queue "EventQueue 1"
ctd_conf mcast
ctd_start queue
ctd_start mcast
until_bound ns1 1 && ok CTD_queue_bound || fail CTD_queue_bound "queue 1: $(evq_proc ns1 2>&1)"
serve ns2 tcp 192.0.2.2 8080 3
traffic ns1 client tcp 192.0.2.2 8080 3 --sport 43000
serve ns2 udp 192.0.2.2 5353 2
traffic ns1 client udp 192.0.2.2 5353 2 --sport 43100
ct_flush ns1
sleep 1
expect CTD_queue_accounts_selected_only "3 3" "$(ctd_counts queue)"
expect CTD_multicast_accounts_all "5 5" "$(ctd_counts mcast)"

# a second daemon cannot take the queue
ctd_conf second "EventQueue 1"
refused CTD_queue_busy_refused \
	'cannot bind conntrack event queue 1: it is bound to another socket' \
	"$T_WORK/second.log" "$CTD" -C "$T_WORK/second.conf"
ctd_conf bad "EventQueue 65536"
refused CTD_queue_number_out_of_range \
	'EventQueue 65536: the queue number must be between 0 and 65535' \
	"$T_WORK/bad.log" "$CTD" -C "$T_WORK/bad.conf"

for p in "${CTD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${CTD_PIDS[@]}"; do wait "$p" 2>/dev/null; done
want=$(ctd_logged mcast | grep ' dport=8080 ')
got=$(ctd_logged queue)
if [ -n "$got" ] && [ "$got" = "$want" ]; then
	ok CTD_queue_stats_log_selected_connections
	printf '%s\n' "$got" | sed 's/^/    queue| /'
else
	fail CTD_queue_stats_log_selected_connections "logged by the queue daemon:"
	diff <(printf '%s\n' "$got") <(printf '%s\n' "$want") | head -n 20 | sed 's/^/    /'
fi
grep -q 'conntrack events from event queue 1' "$T_WORK/queue.log" &&
	ok CTD_queue_logs_binding || fail CTD_queue_logs_binding "$(tail -n 5 "$T_WORK/queue.log")"

cleanup_ns
summary
