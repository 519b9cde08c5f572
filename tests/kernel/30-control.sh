#!/bin/bash
# DESIGN S8 (binding: permissions, EBUSY, ENOENT, EINVAL, release on close,
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
try S8_unknown_command ns1 EINVAL "cmd=9,num=1"
try S8_empty_event_mask ns1 EINVAL "cmd=1,num=1,events=0"
try S8_unknown_event_bits ns1 EINVAL "cmd=1,num=1,events=0x80"
try S8_unknown_flags ns1 EINVAL "cmd=1,num=1,flags=0x80"
try S8_queue_65535 ns1 "OK OK" bind:65535 unbind:65535
specs=()
for q in $(seq 100 115); do specs+=("bind:$q"); done
try S8_sixteen_queues_then_enospc ns1 "$(printf 'OK %.0s' $(seq 16))ENOSPC" "${specs[@]}" bind:116

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

# --- expression attributes, in a netns of their own (16 slots free)
ip netns add ns3
rule ns3 add table inet x ';' add chain inet x c postrouting 0
rule_err S9_range_wraps ns3 ERANGE add rule inet x c ctevent raw num=65535,total=2
rule_err S9_range_empty ns3 EINVAL add rule inet x c ctevent raw num=1,total=0
rule_err S9_range_too_many_queues ns3 ENOSPC add rule inet x c ctevent raw num=1,total=17
rule_err S9_unknown_flag ns3 EINVAL add rule inet x c ctevent raw num=1,flags=2
rule_err S9_missing_queue ns3 EINVAL add rule inet x c ctevent raw total=1
check S9_bypass_flag "ctevent 3 bypass" -- rule ns3 add rule inet x c ctevent 3 bypass
check S9_range_to_max "ctevent 65521-65535" -- rule ns3 add rule inet x c ctevent 65521-65535
# all 16 slots are taken now: a new queue number is refused, one in use is not
rule_err S9_slots_exhausted ns3 ENOSPC add rule inet x c ctevent 4
try S9_bind_slots_exhausted ns3 ENOSPC bind:4
check S9_slot_shared "ctevent 65530" -- rule ns3 add rule inet x c ctevent 65530
rule ns3 delete table inet x
check S9_slots_released "ctevent 4 after delete" -- \
	rule ns3 add table inet y ';' add chain inet y c postrouting 0 ';' add rule inet y c ctevent 4

# --- a transaction may move every rule to other queues: the slots of the
# queues only its deleted rules use go to the new ones after the commit
ip netns add ns4
rule ns4 add table inet x ';' add chain inet x c postrouting 0 ';' \
	add rule inet x c ctevent 1-10
check S9_replace_all_queues "ctevent 1-10 -> 11-20 in one transaction" -- \
	rule ns4 delete table inet x ';' add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent 11-20
check S9_replaced_queues_get_slots "queues 11-20 with slots" -- \
	wait_queues ns4 "11 12 13 14 15 16 17 18 19 20" 10
# 17 queues wanted after the commit: refused, and the abort keeps 11-20
rule_err S9_replace_too_many ns4 ENOSPC delete table inet x ';' add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent 21-30 ctevent 31-37
check S9_abort_keeps_queues "queues 11-20 after the abort" -- \
	wait_queues ns4 "11 12 13 14 15 16 17 18 19 20" 10
# a bound listener wants its queue too: 15 for rules + 2 bound = 17
rule ns4 delete table inet x ';' add table inet x ';' \
	add chain inet x c postrouting 0 ';' add rule inet x c ctevent 1-15
try S9_bind_counts_as_wanted ns4 "OK ENOSPC" bind:100 bind:101
cleanup_ns ns3 ns4
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
