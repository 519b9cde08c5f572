#!/bin/bash
# conntrack -E --queue (conntrack-tools-patch/) and the queue examples of
# libnetfilter_conntrack-patch/, against the multicast stream of the same
# traffic: each queue listener prints exactly the lines "conntrack -E"
# prints for the connections its queue's rules select, in the same order.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

P=${CTEVQ_CONSUMERS_PREFIX:-$TOP/build/consumers}
CT=$P/sbin/conntrack
EX=$P/libexec/ctevq
CT_PIDS=()

if [ ! -x "$CT" ] || [ ! -x "$EX/conntrack_evq_events" ]; then
	fail consumers-setup "no consumers build in $P: run make consumers"
	summary; exit $?
fi
echo "conntrack: $("$CT" --version 2>&1 | head -n1) ($CT)"

# NS: netfilter netlink sockets of NS that joined a multicast group
mc_sockets() {
	ip netns exec "$1" awk '$2 == 12 && $4 != "00000000"' /proc/net/netlink | wc -l
}

# NAME NS [-q QUEUE | -m] CMD...: CMD in the background, stdout to
# $T_WORK/NAME.out, stderr to NAME.err; returns once QUEUE has a listener
# (-q) or one more multicast socket exists (-m)
ct_listen() {
	local name=$1 ns=$2 how=$3 arg=$4 before n=100
	shift 4
	[ "$how" = -m ] && { before=$(mc_sockets "$ns"); set -- "$arg" "$@"; }
	ip netns exec "$ns" "$@" > "$T_WORK/$name.out" 2> "$T_WORK/$name.err" &
	CT_PIDS+=($!)
	eval "PID_${name//[^a-zA-Z0-9]/_}=$!"
	while [ $n -gt 0 ]; do
		if [ "$how" = -q ]; then
			case $(evq_stat "$ns" "$arg" portid 2>/dev/null) in
			none|0|'') ;; *) return 0 ;; esac
		elif [ "$(mc_sockets "$ns")" -gt "$before" ]; then
			return 0
		fi
		sleep 0.1; n=$((n - 1))
	done
	echo "listener $name did not start:"; sed 's/^/    /' "$T_WORK/$name.err"
	return 1
}

pid_of() { local v="PID_${1//[^a-zA-Z0-9]/_}"; echo "${!v}"; }

ct_stop() {
	local p
	sleep 0.5
	for p in "${CT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${CT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	CT_PIDS=()
}

# The event lines of a listener's output.  conntrack notes the events a
# process caused ("[USERSPACE] portid=N progname=P", the flush here); the
# name is read from /proc when the line is printed, after the flushing
# process may have gone, so it is left out.
lines() {
	grep -E '^ *\[(NEW|UPDATE|DESTROY)\] ' "$T_WORK/$1.out" |
		sed 's/\( \[USERSPACE\] portid=[0-9]*\) progname=.*$/\1/'
}
# the same without the note, which the library's examples do not print
lines_lib() { lines "$1" | sed 's/ \[USERSPACE\] portid=[0-9]*$//'; }

same() {  # NAME A B: the two streams are identical and not empty
	local a=$T_WORK/$1.a b=$T_WORK/$1.b
	printf '%s\n' "$2" > "$a"; printf '%s\n' "$3" > "$b"
	if [ -z "$2" ]; then
		fail "$1" "empty stream"
	elif cmp -s "$a" "$b"; then
		ok "$1"
	else
		fail "$1" "streams differ (< queue listener, > multicast)"
		diff "$a" "$b" | head -n 20 | sed 's/^/    /'
	fi
}

count() { grep -c -E "$2" "$T_WORK/$1.out"; }

# LISTENER OTHER SECONDS: both listeners stopped while ns1's table is
# flushed, then until LISTENER has printed $N DESTROY lines (at most SECONDS)
stopped_flush() {
	local n=$(($3 * 10))
	kill -STOP "$(pid_of "$1")" "$(pid_of "$2")"
	ct_flush ns1
	kill -CONT "$(pid_of "$1")" "$(pid_of "$2")"
	while [ $n -gt 0 ] && [ "$(count "$1" '\[DESTROY\]')" -lt "$N" ]; do
		sleep 0.1; n=$((n - 1))
	done
	ct_stop
}

drop_udp_ns2() {
	rule ns2 add table inet f ';' add chain inet f c input 0 ';' \
		add rule inet f c l4proto udp drop
}

traffic_mix() {
	serve ns2 tcp 192.0.2.2 8080 3
	traffic ns1 client tcp 192.0.2.2 8080 3 --sport 41000
	serve ns2 udp 192.0.2.2 5353 2
	traffic ns1 client udp 192.0.2.2 5353 2 --sport 42000
	ct_flush ns1
}

# --- streams: one queue, a range, output formats ---------------------------
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c dport 8080 ctevent 1 ';' \
	add rule inet f c ctevent 2 ';' add rule inet f c ctevent 10-13
ct_listen mc ns1 -m "$CT" -E
ct_listen mcx ns1 -m "$CT" -E -o extended,id
ct_listen q1 ns1 -q 1 "$CT" -E --queue 1
ct_listen q2 ns1 -q 2 "$CT" -E --queue 2 -o extended,id
ct_listen q10 ns1 -q 13 "$CT" -E --queue 10-13
expect CT_queue_range_binds_every_queue "10 11 12 13" \
	"$(evq_proc ns1 | awk '$1 >= 10 && $1 <= 13 && $2 != 0 { print $1 }' | xargs)"
traffic_mix
ct_stop
same CT_queue_selected_connections_only "$(lines q1)" "$(lines mc | grep ' dport=8080 ')"
lines q1 | sed 's/^/    q1| /'
expect CT_queue_new_and_destroy_per_connection "3 3" \
	"$(count q1 '^ *\[NEW\] tcp ') $(count q1 '^ *\[DESTROY\] tcp ')"
same CT_queue_output_extended_id "$(lines q2)" "$(lines mcx)"
same CT_queue_range "$(lines q10)" "$(lines mc)"
# after the listener exits its queues are free again
expect CT_queue_released_on_exit "0" "$(evq_stat ns1 1 portid)"

# --- event mask, filters, repeated --queue ----------------------------------
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 3 ';' add rule inet f c ctevent 4 ';' \
	add rule inet f c dport 8080 ctevent 5 ';' add rule inet f c dport 5353 ctevent 6
ct_listen mc ns1 -m "$CT" -E
ct_listen q3 ns1 -q 3 "$CT" -E --queue 3 -e DESTROY
ct_listen q4 ns1 -q 4 "$CT" -E --queue 4 -p udp
ct_listen q56 ns1 -q 6 "$CT" -E --queue 5 --queue 6 -o xml
ct_listen mcxml ns1 -m "$CT" -E -o xml
traffic_mix
ct_stop
same CT_queue_event_mask_destroy "$(lines q3)" "$(lines mc | grep '^ *\[DESTROY\] ')"
same CT_queue_filter_protocol "$(lines q4)" "$(lines mc | grep -E '^ *\[[A-Z]+\] udp ')"
# one <flow> element per event, in the same order
xml() { grep -o '<flow type="[a-z]*">.*</flow>' "$T_WORK/$1.out" | sed 's/<when>.*<\/when>//'; }
same CT_queue_repeated_output_xml "$(xml q56)" "$(xml mcxml)"

# --- errors -------------------------------------------------------------------
mk_pair
ct_listen holder ns1 -q 1 "$CT" -E --queue 1
out=$(ip netns exec ns1 timeout 10 "$CT" -E --queue 1 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q 'cannot bind queue 1: it is bound to another socket' <<< "$out"; then
	ok CT_queue_busy_exit_1
else
	fail CT_queue_busy_exit_1 "exit $rc: $out"
fi
out=$(ip netns exec ns1 timeout 10 "$EX/conntrack_evq_events" 1 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q 'nfct_evq_bind: queue 1: Device or resource busy' <<< "$out"; then
	ok LNFCT_evq_bind_ebusy
else
	fail LNFCT_evq_bind_ebusy "exit $rc: $out"
fi
if have setpriv; then
	out=$(ip netns exec ns1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all timeout 10 "$CT" -E --queue 7 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -q 'cannot bind queue 7: Operation not permitted (CAP_NET_ADMIN is required)' <<< "$out"; then
		ok CT_queue_no_permission_exit_1
	else
		fail CT_queue_no_permission_exit_1 "exit $rc: $out"
	fi
else
	skip CT_queue_no_permission_exit_1 "no setpriv"
fi
for bad in 65536 7-3 x 1- 0- 1-x; do
	out=$(ip netns exec ns1 timeout 10 "$CT" -E --queue "$bad" 2>&1); rc=$?
	if [ $rc -eq 2 ] && grep -q "invalid queue \`$bad'" <<< "$out"; then
		ok "CT_queue_invalid_${bad//[^0-9a-z]/_}_exit_2"
	else
		fail "CT_queue_invalid_${bad//[^0-9a-z]/_}_exit_2" "exit $rc: $out"
	fi
done
ct_stop

# --- reliable DESTROY: both listeners stopped while 300 entries go -------------
N=300
mk_pair
drop_udp_ns2
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1 ctevent 2
ct_listen rel ns1 -q 1 stdbuf -oL "$CT" -E --queue 1 -e DESTROY --reliable -b 8192
ct_listen plain ns1 -q 2 stdbuf -oL "$CT" -E --queue 2 -e DESTROY -b 8192
expect CT_queue_reliable_flag_sent "0x1 0x0" "$(evq_stat ns1 1 flags) $(evq_stat ns1 2 flags)"
expect CT_queue_event_mask_destroy_sent "0x4" "$(evq_stat ns1 1 events)"
flows 20000 $N
stopped_flush rel plain 60
expect CT_queue_reliable_every_destroy "$N" "$(count rel '\[DESTROY\]')"
expect CT_queue_reliable_each_once "$N" "$(lines rel | sort -u | wc -l)"
lost=$(evq_stat ns1 2 lost)
got=$(count plain '\[DESTROY\]')
if [ "$got" -lt $N ] && [ "${lost:-0}" -gt 0 ] 2>/dev/null && grep -q ENOBUFS "$T_WORK/plain.err"; then
	ok CT_queue_unreliable_control_lost
	echo "    without --reliable: $got of $N, queue 2 lost $lost"
else
	fail CT_queue_unreliable_control_lost "got $got of $N, lost '$lost': the burst did not overrun the buffer"
fi

# --- -b sets the event socket's buffer (multicast) ------------------------------
N=1000
mk_pair
drop_udp_ns2
# conntrack hooks a netns only once a rule needs it
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ct state new counter
ct_listen big ns1 -m stdbuf -oL "$CT" -E -e DESTROY -b 4194304
ct_listen bookworm ns1 -m stdbuf -oL /usr/sbin/conntrack -E -e DESTROY -b 4194304
flows 20000 $N
stopped_flush big bookworm 30
got=$(count big '\[DESTROY\]')
if [ "$got" -eq $N ] && ! grep -q ENOBUFS "$T_WORK/big.err"; then
	ok CT_buffer_size_event_socket
else
	fail CT_buffer_size_event_socket "got $got of $N DESTROY events: $(grep -c ENOBUFS "$T_WORK/big.err") ENOBUFS"
fi
got=$(count bookworm '\[DESTROY\]')
if [ "$got" -lt $N ]; then
	ok CT_buffer_size_control_unpatched_loses
	echo "    $(/usr/sbin/conntrack --version 2>&1 | head -n1): $got of $N"
else
	fail CT_buffer_size_control_unpatched_loses "the unpatched conntrack got all $N: the burst fits the default buffer"
fi

# --- the library's examples --------------------------------------------------------
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1 ctevent 2
ct_listen mc ns1 -m "$CT" -E
ct_listen lib ns1 -q 1 "$EX/conntrack_evq_events" 1 1000
ct_listen mnl ns1 -q 2 stdbuf -oL "$EX/nfct-mnl-evq-event" 2
traffic_mix
ct_stop
same LNFCT_conntrack_evq_events_stream "$(lines_lib lib)" "$(lines_lib mc)"
same LNFCT_nfct_mnl_evq_event_stream "$(lines_lib mnl)" "$(lines_lib mc)"

cleanup_ns
summary
