#!/bin/bash
# ctevq: smp-only (make check-debug runs it in the 2-vCPU qemu guest)
# Fault scenarios: a listener killed in an event storm, a netns deleted with
# queues bound and entries subscribed, rmmod of nft_ctevent, a full
# conntrack table, atomic ruleset replacement under traffic (F5: same
# queues; F7: other queues), bind/unbind, rule reloads and traffic all at
# once, and the conntrack modules removed and loaded while sockets close
# (F8).  Meant for the 2-vCPU qemu debug guest (KASAN, lockdep, kmemleak;
# conntrack, ctnetlink and nft_ctevent built as modules there); also runs
# in UML, where they are built in and F3 and F8 are skipped.
# kmemleak is read by the guest at the end of the run (scripts/guest-init.sh),
# late enough for leaks from F2 to be reported.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/ctevq.sh"

storm() {  # NS SPORT COUNT: one UDP datagram per connection, no answers
	traffic "$1" client udp 192.0.2.2 9 "$3" --sport "$2" --noreply
}

# --- F1: a listener SIGKILLed during an event storm; a new listener binds
# the same queue at once and gets every later connection in full, and every
# connection the queue had subscribed before as a NEW with its state
# followed by its DESTROY.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1
listen f1a ns1 -q 1
storm ns1 20000 300 &
gen=$!
wait_for_grep "$T_WORK/f1a.json" '"sport": *20050' 60
kill -9 "${LISTENER_PIDS[0]}"; wait "${LISTENER_PIDS[0]}" 2>/dev/null; LISTENER_PIDS=()
wait $gen
if listen f1b ns1 -q 1 -b 4194304; then ok F1_rebind_after_sigkill
else fail F1_rebind_after_sigkill "$(cat "$T_WORK/f1b.err")"; fi
storm ns1 21000 200
ct_flush ns1
stop_listeners
check F1_new_listener_full_streams "connections after the rebind" -- \
	evcheck wellformed "$T_WORK/f1b.json" --sport 21000-21199 --conns 200
check F1_earlier_connections_new_then_destroy "subscribed before the kill" -- \
	evcheck wellformed "$T_WORK/f1b.json" --sport 20000-20299 --conns 300
expect F1_nothing_lost_after_rebind 0 "$(evq_stat ns1 1 lost)"

# --- F2: the netns is deleted while queues are bound (one reliable, whose
# stopped listener leaves entries parked waiting for their DESTROY, one
# plain, one unbound) and entries are subscribed.  The namespace must really go away (nothing we do
# may keep a reference on it); its destruction is seen as RTM_DELNSID in
# the initial netns.
mk_pair
ip netns set ns1 42
ip monitor nsid > "$T_WORK/nsid.log" 2>&1 &
mon=$!
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1 ctevent 2 ctevent 3
listen f2q1 ns1 -q 1
listen f2q2 ns1 -q 2 -R -b 2048
kill -STOP "${LISTENER_PIDS[1]}"
storm ns1 22000 300
ct_flush ns1			# entries park for the reliable queue
storm ns1 23000 100		# and these stay subscribed
d2=$(evq_stat ns1 3 unbound)
[ "${d2:-0}" -ge 400 ] 2>/dev/null && ok F2_setup_unbound_counted ||
	fail F2_setup_unbound_counted "unbound=$d2"
pids=$(ip netns pids ns1; ip netns pids ns2)
ip netns del ns1; ip netns del ns2
kill -9 $pids 2>/dev/null
for p in "${LISTENER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
LISTENER_PIDS=()
if wait_for_grep "$T_WORK/nsid.log" '[Dd]elete.*nsid 42' 60; then
	ok F2_netns_freed
else
	fail F2_netns_freed "no RTM_DELNSID for ns1 within 60s: $(cat "$T_WORK/nsid.log")"
fi
kill $mon 2>/dev/null; wait $mon 2>/dev/null
# the same queue numbers work in a new namespace
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1 ctevent 2
listen f2n ns1 -q 2 -R
storm ns1 24000 20
ct_flush ns1
stop_listeners
check F2_queues_work_afterwards "new netns" -- \
	evcheck wellformed "$T_WORK/f2n.json" --sport 24000-24019 --conns 20

# --- F3: rmmod nft_ctevent is refused while a rule uses it and succeeds
# once the ruleset is gone; the queues its rules held are released, the
# bound queue stays, and the module loads and works again.
ko=${CTEVQ_KO:-}
if [ ! -e /sys/module/nft_ctevent/initstate ]; then
	skip F3_rmmod "nft_ctevent is built into this kernel"
elif [ -z "$ko" ] || [ ! -r "$ko" ]; then
	fail F3_rmmod "nft_ctevent is a module but CTEVQ_KO (ctevq.ko=) names no readable file"
else
	mk_pair
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ctevent 1 ctevent 5
	listen f3a ns1 -q 1
	if out=$(rmmod nft_ctevent 2>&1); then
		fail F3_rmmod_refused_while_used "rmmod succeeded"
	else
		case $out in *"in use"*) ok F3_rmmod_refused_while_used ;;
		*) fail F3_rmmod_refused_while_used "$out" ;; esac
	fi
	expect F3_queues_held_by_rules "1 5" "$(evq_queues ns1)"
	rule ns1 delete table inet f
	# the rules' module references go in nf_tables' deferred destroy work
	n=50
	until out=$(rmmod nft_ctevent 2>&1) || [ $n = 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ $n -gt 0 ] && ok F3_rmmod_after_flush || fail F3_rmmod_after_flush "$out"
	[ ! -e /sys/module/nft_ctevent ] && ok F3_module_gone || fail F3_module_gone "still in /sys/module"
	expect F3_only_bound_queue_left "1" "$(evq_proc ns1 | awk '{ print $1 }' | xargs)"
	rule_err F3_rule_without_module ns1 ENOENT add table inet f ';' \
		add chain inet f c postrouting 0 ';' add rule inet f c ctevent 1
	check F3_insmod_again "insmod $ko" -- insmod "$ko"
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ctevent 1
	storm ns1 25000 20
	ct_flush ns1
	stop_listeners
	check F3_works_after_reload "queue 1" -- \
		evcheck wellformed "$T_WORK/f3a.json" --sport 25000-25019 --conns 20
fi

# --- F4: the conntrack table is full (nf_conntrack_max 64) during a storm:
# new entries are refused or older unreplied ones are evicted; the queue
# sees exactly what multicast sees of those connections, each stream
# complete, nothing lost.
mk_pair
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1
listen f4q ns1 -q 1 -b 4194304; listen f4mc ns1 -m -b 4194304
echo 64 > /proc/sys/net/netfilter/nf_conntrack_max
storm ns1 26000 300
alive=$(ip netns exec ns1 conntrack -C 2>/dev/null)
echo "$max" > /proc/sys/net/netfilter/nf_conntrack_max
ct_flush ns1
stop_listeners
[ "${alive:-999}" -le 65 ] 2>/dev/null && ok F4_limit_applied || fail F4_limit_applied "$alive entries alive"
n=$(evcheck conns "$T_WORK/f4mc.json" --sport 26000-26299)
echo "    $n of 300 connections got an entry, $alive alive at the end"
[ "$n" -ge "$alive" ] && ok F4_storm_ran || fail F4_storm_ran "$n connections"
check F4_queue_equals_multicast "same messages" -- \
	evcheck equal "$T_WORK/f4q.json" "$T_WORK/f4mc.json" --sport 26000-26299
check F4_wellformed "every connection" -- \
	evcheck wellformed "$T_WORK/f4q.json" --sport 26000-26299 --conns "$n"
expect F4_nothing_lost 0 "$(evq_stat ns1 1 lost)"

# --- F5: the ruleset is replaced atomically (delete and re-add the table in
# one transaction, two variants in turn) while TCP connections run: every
# connection is subscribed at its first packet by one generation or the
# other, so each stream is complete and equal to the multicast one.
mk_pair
printf '%s\n' 'add table inet f' 'add chain inet f c postrouting 0' \
	'add rule inet f c ctevent 1 counter' > "$T_WORK/f5a"
printf '%s\n' 'delete table inet f' 'add table inet f' 'add chain inet f c postrouting 100' \
	'add rule inet f c counter ctevent 1' > "$T_WORK/f5b"
printf '%s\n' 'delete table inet f' 'add table inet f' 'add chain inet f c postrouting 0' \
	'add rule inet f c ctevent 1 counter' > "$T_WORK/f5c"
rule ns1 -f "$T_WORK/f5a"
serve ns2 tcp 192.0.2.2 8080 60
listen f5q ns1 -q 1 -b 4194304; listen f5mc ns1 -m -b 4194304
traffic ns1 client tcp 192.0.2.2 8080 60 --sport 27000 &
gen=$!
reloads=0 rerr=0
while kill -0 $gen 2>/dev/null; do
	rule ns1 -f "$T_WORK/f5b" > /dev/null 2>&1 || rerr=$((rerr + 1))
	rule ns1 -f "$T_WORK/f5c" > /dev/null 2>&1 || rerr=$((rerr + 1))
	reloads=$((reloads + 2))
done
wait $gen
ct_flush ns1
stop_listeners
echo "    $reloads replacements during the traffic"
[ $reloads -ge 4 ] && [ $rerr = 0 ] && ok F5_replacements ||
	fail F5_replacements "$reloads replacements, $rerr failed"
check F5_wellformed "every connection" -- \
	evcheck wellformed "$T_WORK/f5q.json" --sport 27000-27059 --conns 60
check F5_queue_equals_multicast "same messages" -- \
	evcheck equal "$T_WORK/f5q.json" "$T_WORK/f5mc.json" --sport 27000-27059
expect F5_nothing_lost "0 0" "$(evq_stat ns1 1 lost) $(evq_stat ns1 1 unbound)"

# --- F6: bind/unbind from several sockets, rule reloads with ranges, and
# traffic, all at once (on 2 vCPUs in the qemu guest, under lockdep).  A
# steady rule and listener beside the churn keep exact streams.
mk_pair
rule ns1 add table inet s ';' add chain inet s c postrouting 0 ';' \
	add rule inet s c l4proto tcp dport 8080 ctevent 1
serve ns2 tcp 192.0.2.2 8080 60
listen f6q ns1 -q 1 -b 4194304; listen f6mc ns1 -m -b 4194304
stopf=$T_WORK/f6.stop
churn_bind() {
	local n=0 q=$1 out
	while [ ! -e "$stopf" ]; do
		out=$(ip netns exec ns1 ctevq-listen --try "bind:$q" --try "unbind:$q" 2>&1)
		[ "$out" = "try bind:$q: OK
try unbind:$q: OK" ] || echo "$out" >> "$T_WORK/f6.bind.err"
		n=$((n + 1))
	done
	echo $n > "$T_WORK/f6.bind.$q"
}
churn_rules() {
	local n=0
	while [ ! -e "$stopf" ]; do
		rule ns1 add table inet r ';' add chain inet r c postrouting 0 ';' \
			add rule inet r c l4proto udp ctevent 3-6 ';' \
			add chain inet r i input 0 ';' add rule inet r i ctevent 4 bypass \
			> /dev/null 2>> "$T_WORK/f6.rule.err"
		rule ns1 delete table inet r > /dev/null 2>> "$T_WORK/f6.rule.err"
		n=$((n + 1))
	done
	echo $n > "$T_WORK/f6.rules"
}
churn_bind 3 & b3=$!
churn_bind 4 & b4=$!
churn_rules & cr=$!
storm ns1 28000 300 &
g1=$!
traffic ns1 client tcp 192.0.2.2 8080 60 --sport 29000
wait $g1
touch "$stopf"
wait $b3 $b4 $cr
ct_flush ns1
stop_listeners
echo "    bind/unbind rounds: $(cat "$T_WORK/f6.bind.3") + $(cat "$T_WORK/f6.bind.4"), rule reloads: $(cat "$T_WORK/f6.rules")"
[ ! -s "$T_WORK/f6.bind.err" ] && [ ! -s "$T_WORK/f6.rule.err" ] && ok F6_churn_without_errors ||
	fail F6_churn_without_errors "$(head -3 "$T_WORK/f6.bind.err" "$T_WORK/f6.rule.err")"
check F6_steady_wellformed "steady queue" -- \
	evcheck wellformed "$T_WORK/f6q.json" --conns 60
check F6_steady_equals_multicast "same messages" -- \
	evcheck equal "$T_WORK/f6q.json" "$T_WORK/f6mc.json" --sport 29000-29059
expect F6_steady_nothing_lost 0 "$(evq_stat ns1 1 lost)"

# --- F7: one transaction moves the rule from queues 1-10 to queues 11-20.
# The entries the old rule subscribed never reach the new queues: an
# entry holds the numbers of its queues.
mk_pair
rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
	add rule inet f c ctevent 1-10
storm ns1 32000 50
check F7_replace_to_other_queues "ctevent 1-10 -> 11-20" -- \
	rule ns1 delete table inet f ';' add table inet f ';' \
	add chain inet f c postrouting 0 ';' add rule inet f c ctevent 11-20
check F7_old_queues_released "queues 11-20 only" -- \
	until_queues ns1 "11 12 13 14 15 16 17 18 19 20"
listen f7 ns1 -q 11 -q 12 -q 13 -q 14 -q 15 -q 16 -q 17 -q 18 -q 19 -q 20 -b 1048576
storm ns1 33000 100
ct_flush ns1
stop_listeners
check F7_spread_over_new_queues "100 connections" -- \
	evcheck spread "$T_WORK/f7.json" 11 10 --sport 33000-33099
check F7_wellformed "every new connection" -- \
	evcheck wellformed "$T_WORK/f7.json" --sport 33000-33099 --conns 100
expect F7_old_entries_not_on_new_queues 0 "$(evcheck count "$T_WORK/f7.json" --sport 32000-32049)"

# --- F8: netfilter sockets open and close, in the initial netns and in
# another, while the conntrack modules are removed and loaded again, five
# times.  Conntrack's NETLINK_URELEASE notifier reads the netns's conntrack
# data: it must not run before that exists or after it is freed.  The
# verdict is the kernel log (KASAN); the loops count their sockets.
cleanup_ns
M=${CTEVQ_MODULES:-}
ctmods="nft_ctevent nft_ct nf_conntrack_bridge nf_conntrack_netlink nf_conntrack"
if [ ! -e /sys/module/nf_conntrack/initstate ]; then
	skip F8_modules_cycle "nf_conntrack is built into this kernel"
elif [ -z "$M" ]; then
	fail F8_modules_cycle "nf_conntrack is a module but CTEVQ_MODULES (ctevq.modules=) is not set"
else
	ip netns add f8
	sockloop='
import os, socket, sys
n = 0
while not os.path.exists(sys.argv[1]):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    s.bind((0, 0))
    s.close()
    n += 1
print(n)'
	"$PYTHON" -c "$sockloop" "$T_WORK/f8.stop" > "$T_WORK/f8.init" &
	l1=$!
	ip netns exec f8 "$PYTHON" -c "$sockloop" "$T_WORK/f8.stop" > "$T_WORK/f8.netns" &
	l2=$!
	cycles=0
	for i in 1 2 3 4 5; do
		n=50
		# rules' module references go in nf_tables' deferred work
		until out=$(modprobe -d "$M" -r $ctmods 2>&1) || [ $n = 0 ]; do
			sleep 0.1; n=$((n - 1))
		done
		[ $n -gt 0 ] && [ ! -e /sys/module/nf_conntrack ] || { echo "    remove: $out"; break; }
		out=$(modprobe -d "$M" -a $ctmods 2>&1) || { echo "    load: $out"; break; }
		cycles=$((cycles + 1))
	done
	touch "$T_WORK/f8.stop"
	wait $l1 $l2
	expect F8_modules_removed_and_loaded 5 "$cycles"
	s1=$(cat "$T_WORK/f8.init") s2=$(cat "$T_WORK/f8.netns")
	[ "${s1:-0}" -gt 0 ] && [ "${s2:-0}" -gt 0 ] && ok F8_sockets_closed_meanwhile ||
		fail F8_sockets_closed_meanwhile "init netns $s1, other netns $s2"
	echo "    sockets closed: $s1 (initial netns), $s2 (netns f8)"
	ip netns del f8
	mk_pair
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ctevent 1
	listen f8q ns1 -q 1
	storm ns1 34000 20
	ct_flush ns1
	stop_listeners
	check F8_queues_work_after_reload "queue 1" -- \
		evcheck wellformed "$T_WORK/f8q.json" --sport 34000-34019 --conns 20
fi

cleanup_ns
dmesg_clean && ok kernel_log_clean || fail kernel_log_clean "splat in kernel log"
summary
