#!/bin/bash
# S8 (binding: permissions, EBUSY, ENOENT, EINVAL, release on close,
# per-netns queues) and the expression's attribute checks (S9 ranges).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

try() {  # NAME NS WANT SPEC...: each SPEC's result, space separated
	local name=$1 ns=$2 want=$3 got
	shift 3
	local args=()
	for s in "$@"; do args+=(--try "$s"); done
	got=$(ip netns exec "$ns" ctevq-listen "${args[@]}" 2>&1 |
		sed -n 's/^try [^ ]*: \([A-Z]*\).*/\1/p' | tr '\n' ' ')
	got=${got% }
	if [ "$got" = "$want" ]; then ok "$name"; else fail "$name" "want '$want', got '$got'"; fi
}

mk_pair

# --- bind attributes
try S8_bind_unbind ns1 "OK OK" bind:1 unbind:1
try S8_rebind_same_socket ns1 "OK OK OK" bind:1 "cmd=1,num=1,events=0x4" unbind:1
try S8_unbind_not_held ns1 ENOENT unbind:5
try S8_missing_queue_number ns1 EINVAL "cmd=1"
try S8_missing_command ns1 EINVAL "num=1"
try S8_unknown_command ns1 ERANGE "cmd=9,num=1"
try S8_empty_event_mask ns1 EINVAL "cmd=1,num=1,events=0"
try S8_unknown_event_bits ns1 EINVAL "cmd=1,num=1,events=0x80"
try S8_unknown_flags ns1 EINVAL "cmd=1,num=1,flags=0x80"
try S8_queue_65535 ns1 "OK OK" bind:65535 unbind:65535
try S8_reliable_flag ns1 "OK OK" "cmd=1,num=7,flags=0x1" unbind:7
try S8_queue_0 ns1 "OK OK" bind:0 unbind:0

# --- another socket holds the queue
listen holder ns1 -q 1
try S8_bound_elsewhere_ebusy ns1 EBUSY bind:1
try S8_unbind_held_elsewhere_enoent ns1 ENOENT unbind:1
expect_portid=$(evq_stat ns1 1 portid)
[ "$expect_portid" != 0 ] && [ "$expect_portid" != none ] && ok S12_proc_shows_portid ||
	fail S12_proc_shows_portid "portid '$expect_portid'"
# SIGKILL: NETLINK_URELEASE frees the queue
kill -9 "${LISTENER_PIDS[0]}"; wait "${LISTENER_PIDS[0]}" 2>/dev/null; LISTENER_PIDS=()
sleep 0.2
try S8_sigkill_frees_queue ns1 "OK OK" bind:1 unbind:1
[ "$(evq_stat ns1 1 portid)" = none ] && ok S8_released_queue_gone ||
	fail S8_released_queue_gone "$(evq_proc ns1)"

# --- permissions: CAP_NET_ADMIN in the netns's own user namespace
if unshare -U -r true 2>/dev/null; then
	got=$(unshare -U -r ctevq-listen --try bind:1 2>&1)
	case $got in *EPERM*) ok S8_eperm_without_cap_net_admin ;;
	*) fail S8_eperm_without_cap_net_admin "$got" ;; esac
	got=$(unshare -U -r -n ctevq-listen --try bind:1 --try unbind:1 2>&1 | grep -c ': OK')
	[ "$got" = 2 ] && ok S8_own_userns_netns_allowed || fail S8_own_userns_netns_allowed "$got OK"
else
	skip S8_eperm_without_cap_net_admin "unprivileged user namespaces unavailable"
fi
if have setpriv; then
	got=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		ctevq-listen --try bind:1 2>&1)
	case $got in *EPERM*) ok S8_eperm_unprivileged_user ;;
	*) fail S8_eperm_unprivileged_user "$got" ;; esac
fi

# --- queues are per netns: queue 1 in ns1 and in ns2, each listener sees
# only the connections its own netns subscribed.
rule ns1 add table inet f ';' add chain inet f c output 0 ';' \
	add rule inet f c l4proto tcp dport 8080 ctevent 1
rule ns2 add table inet f ';' add chain inet f c input 0 ';' \
	add rule inet f c l4proto tcp dport 8081 ctevent 1
serve ns2 tcp 192.0.2.2 8080 1; serve ns2 tcp 192.0.2.2 8081 1
listen n1 ns1 -q 1; listen n2 ns2 -q 1
traffic ns1 client tcp 192.0.2.2 8080 1
traffic ns1 client tcp 192.0.2.2 8081 1
ct_flush ns1; ct_flush ns2
stop_listeners; wait
n1=$(grep -c '"dport": *8080' "$T_WORK/n1.json"); x1=$(grep -c '"dport": *8081' "$T_WORK/n1.json")
n2=$(grep -c '"dport": *8081' "$T_WORK/n2.json"); x2=$(grep -c '"dport": *8080' "$T_WORK/n2.json")
[ "$n1" -gt 0 ] && [ "$x1" = 0 ] && [ "$n2" -gt 0 ] && [ "$x2" = 0 ] && ok S8_queues_per_netns ||
	fail S8_queues_per_netns "ns1: 8080=$n1 8081=$x1; ns2: 8081=$n2 8080=$x2"
check S8_ns1_stream "ns1 queue 1" -- evcheck wellformed "$T_WORK/n1.json" --conns 1
check S8_ns2_stream "ns2 queue 1" -- evcheck wellformed "$T_WORK/n2.json" --conns 1

# --- any number of queues: 1000 numbers bound at once in one netns, one
# socket each, and a rule spreading 2000 connections over them; every
# connection reaches the socket of the queue its id selects.
ip netns add ns5
ip -n ns5 link set lo up
rule ns5 add table inet f ';' add chain inet f c output 0 ';' \
	add rule inet f c l4proto udp dport 9 ctevent 1000-1999
if listen s8many ns5 -q 1000-1999 -b 65536; then
	ok S8_thousand_queues_bound
else
	fail S8_thousand_queues_bound "$(tail -3 "$T_WORK/s8many.err")"
fi
expect S8_thousand_queues_listed 1000 \
	"$(evq_proc ns5 | awk '$1 >= 1000 && $1 <= 1999 && $2 != 0 { print $2 }' | sort -u | wc -l)"
traffic ns5 client udp 127.0.0.1 9 2000 --sport 20000 --noreply
ct_flush ns5
stop_listeners; wait
if out=$(evcheck spread "$T_WORK/s8many.json" 1000 1000); then
	ok S8_thousand_queues_each_its_own
	n=$(echo "$out" | wc -w)
	[ "$n" -ge 700 ] && ok S8_thousand_queues_spread ||
		fail S8_thousand_queues_spread "only $n queues got connections"
else
	fail S8_thousand_queues_each_its_own "$(echo "$out" | tail -3)"
fi
check S8_thousand_queues_streams "2000 connections" -- \
	evcheck wellformed "$T_WORK/s8many.json" --conns 2000
expect S8_thousand_queues_released "" \
	"$(evq_proc ns5 | awk '$2 != 0' | head -3)"
cleanup_ns ns5

# --- expression attributes
ip netns add ns3
rule ns3 add table inet x ';' add chain inet x c postrouting 0
rule_err S9_range_wraps ns3 ERANGE add rule inet x c ctevent raw num=65535,total=2
rule_err S9_range_empty ns3 EINVAL add rule inet x c ctevent raw num=1,total=0
rule_err S9_unknown_flag ns3 EINVAL add rule inet x c ctevent raw num=1,flags=2
rule_err S9_missing_queue ns3 EINVAL add rule inet x c ctevent raw total=1
check S9_bypass_flag "ctevent 3 bypass" -- rule ns3 add rule inet x c ctevent 3 bypass
check S9_range_to_max "ctevent 65521-65535" -- rule ns3 add rule inet x c ctevent 65521-65535
check S9_range_of_4096 "ctevent 0-4095" -- rule ns3 add rule inet x c ctevent 0-4095
# rules hold their queues: /proc lists them, bound or not
expect S12_rule_queues_listed 4111 "$(evq_proc ns3 | wc -l)"
rule ns3 delete table inet x
check S12_queues_go_with_their_rules "no queue left" -- until_queues ns3 ""
# the largest range, every queue number but one
check S9_range_of_65535 "ctevent raw num=0,total=65535" -- rule ns3 add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent raw num=0,total=65535
expect S12_largest_range_listed 65535 "$(evq_proc ns3 | wc -l)"
rule ns3 delete table inet x
check S12_largest_range_released "no queue left" -- until_queues ns3 "" 120

# --- a transaction may move every rule to other queues; an aborted one
# leaves the queues as they were
ip netns add ns4
rule ns4 add table inet x ';' add chain inet x c postrouting 0 ';' \
	add rule inet x c ctevent 1-10
check S9_replace_all_queues "ctevent 1-10 -> 11-20 in one transaction" -- \
	rule ns4 delete table inet x ';' add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent 11-20
check S9_replaced_queues "queues 11-20 only" -- until_queues ns4 "$(seq 11 20 | xargs)"
rule_err S9_abort_on_error ns4 ERANGE delete table inet x ';' add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent 21-30 ';' \
	add rule inet x c ctevent raw num=65535,total=2
check S9_abort_keeps_queues "queues 11-20 after the abort" -- until_queues ns4 "$(seq 11 20 | xargs)"

# --- the netlink dump says what /proc says
rule ns4 add rule inet x c ctevent 30 bypass
listen s12d ns4 -q 12 -e destroy -R
ip netns exec ns4 ctevq-listen --dump > "$T_WORK/dump" 2> "$T_WORK/dump.err"
evq_proc ns4 > "$T_WORK/proc"
if [ -s "$T_WORK/dump" ] && cmp -s <(sort "$T_WORK/dump") <(sort "$T_WORK/proc"); then
	ok S12_dump_equals_proc
else
	fail S12_dump_equals_proc "$(cat "$T_WORK/dump.err"; diff <(sort "$T_WORK/dump") <(sort "$T_WORK/proc") | head -5)"
fi
expect S12_dump_shows_binding "0x4 0x1" "$(awk '$1 == 12 { print $3, $4 }' "$T_WORK/dump")"
# the ynl specs drive the same operations (tools/net/ynl of the tree)
ynl=$TOP/build/linux-dev/tools/net/ynl/pyynl/cli.py
spec=$TOP/build/linux-dev/Documentation/netlink/specs/conntrack.yaml
hdr='"nfgen-family": 0, "version": 0, "res-id": 0'
if [ ! -r "$ynl" ] || ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	for c in S12_ynl_dump S8_ynl_bind S8_ynl_ebusy; do
		skip $c "no $ynl or no python3-yaml"
	done
else
	ynl() { ip netns exec ns4 /usr/bin/python3 "$ynl" --no-schema --spec "$spec" "$@" 2>&1; }
	out=$(ynl --dump evq-get)
	case $out in *"'num': 12,"*"'portid': "[1-9]*) ok S12_ynl_dump ;;
	*) fail S12_ynl_dump "$out" ;; esac
	out=$(ynl --do evq-cfg --json "{$hdr, \"num\": 40, \"cmd\": \"bind\", \"events\": [\"new\", \"destroy\"]}")
	[ "$out" = None ] && ok S8_ynl_bind || fail S8_ynl_bind "$out"
	out=$(ynl --do evq-cfg --json "{$hdr, \"num\": 12, \"cmd\": \"bind\"}")
	# (ynl of 7.2 prints the extack before the errno's text)
	case $out in *"error: -16"*"queue is bound by another socket"* | \
		*"queue is bound by another socket: Device or resource busy"*) ok S8_ynl_ebusy ;;
	*) fail S8_ynl_ebusy "$out" ;; esac
fi
stop_listeners
cleanup_ns ns3 ns4
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
