#!/bin/bash
# ulogd2's NFCT plugin with event_queue=N (ulogd2-patch/) on a DESTROY-only
# queue, without the plugin's hash: it writes one line per end of a flow
# that the ruleset subscribes to its queue, none for the others and none
# twice, the same lines an NFCT plugin on the multicast groups writes for
# them; a second ulogd cannot take the queue.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=${CTEVQ_CONSUMERS_PREFIX:-$TOP/build/consumers}
ULOGD=$P/sbin/ulogd
if [ ! -x "$ULOGD" ]; then
	skip ulogd "not built: make consumers ... ULOGD_SRC=<ulogd2 tree>"
	summary; exit $?
fi

ulogd_conf() {  # NAME [CT1_LINE...]
	local name=$1 line extra=
	shift
	for line in "$@"; do extra+="$line"$'\n'; done
	cat > "$T_WORK/$name.conf" <<EOF
[global]
logfile="$T_WORK/$name.log"
loglevel=1
plugin="$P/lib/ulogd/ulogd_inpflow_NFCT.so"
plugin="$P/lib/ulogd/ulogd_filter_IP2STR.so"
plugin="$P/lib/ulogd/ulogd_filter_PRINTFLOW.so"
plugin="$P/lib/ulogd/ulogd_output_LOGEMU.so"
stack=ct1:NFCT,ip2str1:IP2STR,print1:PRINTFLOW,emu1:LOGEMU

[ct1]
$extra
[emu1]
file="$T_WORK/$name.flows"
sync=1
EOF
}

U_PIDS=()
ulogd_start() {  # NAME: in ns1, returns once the plugin listens
	local n=100
	ip netns exec ns1 "$ULOGD" -c "$T_WORK/$1.conf" > "$T_WORK/$1.out" 2>&1 &
	U_PIDS+=($!)
	while [ $n -gt 0 ] && ! grep -q 'NFCT plugin working in event mode' "$T_WORK/$1.log" 2>/dev/null; do
		sleep 0.1; n=$((n - 1))
	done
	[ $n -gt 0 ] || { echo "ulogd $1 did not start:"; sed 's/^/    /' "$T_WORK/$1.out" "$T_WORK/$1.log" 2>/dev/null; }
}

# NAME: the logged flows without LOGEMU's time stamp and host name
flows_of() { sed 's/^.\{15\} [^ ]* //' "$T_WORK/$1.flows" 2>/dev/null; }

mk_pair
# the flows' packet and byte counters
ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_acct=1
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ct state established dport 8080 ctevent 1
ulogd_conf queue "event_queue=1" "event_mask=0x00000004" "hash_enable=0"
ulogd_conf mcast
ulogd_start queue
ulogd_start mcast
pid=$(evq_stat ns1 1 portid 2>/dev/null)
case $pid in 0|none|'') fail ULOGD_queue_bound "queue 1: $(evq_proc ns1 2>&1)" ;; *) ok ULOGD_queue_bound ;; esac
expect ULOGD_queue_destroy_only_mask 0x4 "$(evq_stat ns1 1 events)"
grep -q 'NFCT events from conntrack event queue 1' "$T_WORK/queue.log" &&
	ok ULOGD_queue_logs_binding || fail ULOGD_queue_logs_binding "$(tail -n 5 "$T_WORK/queue.log")"

serve ns2 tcp 192.0.2.2 8080 3
traffic ns1 client tcp 192.0.2.2 8080 3 --sport 44000
serve ns2 udp 192.0.2.2 5353 2
traffic ns1 client udp 192.0.2.2 5353 2 --sport 44100
ct_flush ns1

# a second ulogd cannot take the queue
ulogd_conf second "event_queue=1"
refused ULOGD_queue_busy_refused \
	'cannot bind conntrack event queue 1: it is bound to another socket' \
	"$T_WORK/second.log" "$ULOGD" -c "$T_WORK/second.conf"
ulogd_conf bad "event_queue=65536"
refused ULOGD_queue_number_out_of_range \
	'event_queue 65536: the queue number must be between 0 and 65535' \
	"$T_WORK/bad.log" "$ULOGD" -c "$T_WORK/bad.conf"

sleep 0.5
for p in "${U_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${U_PIDS[@]}"; do wait "$p" 2>/dev/null; done
expect ULOGD_multicast_logs_all 5 "$(flows_of mcast | grep -c .)"
want=$(flows_of mcast | grep 'DPT=8080 ')
got=$(flows_of queue)
if [ -n "$got" ] && [ "$got" = "$want" ] && [ "$(grep -c . <<< "$got")" = 3 ] &&
	[ "$(sort -u <<< "$got" | grep -c .)" = 3 ] && ! grep -q 'PKTS=0 ' <<< "$got"; then
	ok ULOGD_queue_logs_selected_flows
	printf '%s\n' "$got" | sed 's/^/    queue| /'
else
	fail ULOGD_queue_logs_selected_flows "logged from the queue (< queue, > multicast, DPT=8080):"
	diff <(printf '%s\n' "$got") <(printf '%s\n' "$want") | head -n 20 | sed 's/^/    /'
fi

cleanup_ns
summary
