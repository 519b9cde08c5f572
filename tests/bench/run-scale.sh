#!/bin/bash
# tests/bench/run-scale.sh - make bench-scale, inside the UML guest
# (scripts/bench-scale.sh runs it through scripts/run-guest.sh): how the cost
# grows with the number of queues, of conntrack entries, of network
# namespaces and of an entry's subscriptions.  key=value lines go to
# $CTEVQ_RESULTS/scale.raw; tests/bench/scale.py formats and plots them on
# the host.  The CPU time of a window is the host's account of the guest
# between two console marks (scripts/bench-hostcpu.py).  No assertions.
#
# Parameters: scale.NAME=VALUE on the kernel command line, NAME one of the
# upper-case variables below (lists comma-separated).
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

REPS=5                  # repetitions, interleaved; medians reported
PARTS="mem queues entries netns pps subs"   # mem first: see part 3
RATE=1000               # connections per second in every CPU window
DUR=6                   # seconds of traffic per window
SETTLE=1                # seconds before a window (deferred work of the last)
TAIL=1.5                # seconds measured after the traffic
RCVBUF=1048576          # receive buffer of every queue and multicast socket
QUEUES="1 10 100 1000 10000"
ENTRIES="10000 100000 1000000"
LOOP_N=500              # bind/unbind pairs per entries point
RULE_N=200              # rule add/delete pairs per entries point
MEM_QUEUES=10000        # queues bound for bytes_per_bound_queue
MEM_ENTRIES=1000000     # entries for bytes_per_subscribed_entry
NETNS="1 100"
SUBS="1 4"
FLOOD_N=100000          # datagrams per packet-path run
PPS_REPS=5
EXTLEN_KO=              # tests/bench/ctextlen built for this kernel
for a in $(cat /proc/cmdline); do
	case $a in
	scale.*=*)
		k=${a#scale.}; k=${k%%=*}; v=${a#*=}
		case $k in
		REPS|RATE|DUR|SETTLE|TAIL|RCVBUF|LOOP_N|RULE_N|MEM_QUEUES|MEM_ENTRIES|FLOOD_N|PPS_REPS|EXTLEN_KO)
			printf -v "$k" %s "$v" ;;
		PARTS|QUEUES|ENTRIES|NETNS|SUBS)
			printf -v "$k" %s "${v//,/ }" ;;
		esac ;;
	esac
done

R=${CTEVQ_RESULTS:-$T_WORK}
RAW=$R/scale.raw
: > "$RAW"
emit() { echo "$*" | tee -a "$RAW"; }
G=ctevq-bench-gen
S=ctevq-bench-scale
W=$T_WORK
BASE=5000 NPORTS=10
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
cpumark() { echo "CTEVQCPU $1" > /dev/console; sleep 0.05; }
memtotal_kb() { awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo; }
slab_kb() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }
# bytes in allocated slab objects, all caches (where /proc/slabinfo exists)
slab_obj_bytes() {
	awk 'NR > 2 { b += $2 * $4 } END { printf "%d\n", b }' /proc/slabinfo
}
memsnap() {
	if [ -r /proc/slabinfo ]; then
		echo "slab_obj_bytes=$(slab_obj_bytes) slab_kb=$(slab_kb)"
	else
		echo "slab_kb=$(slab_kb)"
	fi
}
# sum of one column of the netns's queue statistics (/proc)
qsum() {  # NS COLUMN
	evq_proc "$1" | awk -v c="$2" '$1 ~ /^[0-9]+$/ { s += $c } END { print s + 0 }'
}
# reversed every other repetition, so that a drift shifts all points alike
order() {  # REP LIST...
	local rep=$1
	shift
	if [ $((rep % 2)) = 0 ]; then printf '%s\n' "$@" | tac | tr '\n' ' '; else echo "$*"; fi
}
qrange() { [ "$1" = 1 ] && echo 1 || echo "1-$1"; }

emit "param reps=$REPS parts=${PARTS// /,} rate=$RATE dur=$DUR settle=$SETTLE tail=$TAIL rcvbuf=$RCVBUF queues=${QUEUES// /,} entries=${ENTRIES// /,} loop_n=$LOOP_N rule_n=$RULE_N mem_queues=$MEM_QUEUES mem_entries=$MEM_ENTRIES netns=${NETNS// /,} subs=${SUBS// /,} flood_n=$FLOOD_N pps_reps=$PPS_REPS"
emit "env kernel=$(uname -r) cpus=$(nproc) mem_total_kb=$(memtotal_kb) slabinfo=$([ -r /proc/slabinfo ] && echo yes || echo no)"

echo 4194304 > /proc/sys/net/netfilter/nf_conntrack_max
echo 1048576 > /sys/module/nf_conntrack/parameters/hashsize 2>/dev/null
ulimit -n 70000

start_server() {  # NS: the generator's peer there, its pid in SRV
	rm -f "$W/srv.rdy"
	ip netns exec "$1" $G server $BASE $NPORTS "$W/srv.rdy" &
	SRV=$!
	wait_for_file "$W/srv.rdy" 10
}

# start_bg NAME NS CMD...: a background program that writes READY, pid in BG
start_bg() {
	local name=$1 ns=$2
	shift 2
	rm -f "$W/$name.rdy"
	ip netns exec "$ns" "$@" -r "$W/$name.rdy" > "$W/$name.out" 2> "$W/$name.err" &
	BG=$!
	wait_for_file "$W/$name.rdy" 120 || { cat "$W/$name.err" >&2; return 1; }
}

# stop_bg PID: SIGTERM, wait; the seconds it took in STOP_S (a closing
# socket releases its queues).  Not in a command substitution: its subshell
# cannot wait for this shell's children.
stop_bg() {
	local t0 t1
	t0=$(date +%s%N)
	kill -TERM "$1"; wait "$1" 2>/dev/null
	t1=$(date +%s%N)
	STOP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

# ---- 1. queues -------------------------------------------------------------------
# One netns, a range rule "ctevent 1-N" subscribes every connection, one
# socket per queue reads them all (epoll); the same connection rate at every
# point.  "none" is the traffic with neither rule nor listener.
ruleset_q() {  # N | none
	rule ns1 delete table inet f 2>/dev/null
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ct state established counter
	[ "$1" = none ] || rule ns1 add rule inet f c ctevent "$(qrange "$1")"
}

run_q() {  # REP N|none
	local label=scale.q.$1.$2 gen ls=received=0 st=0 t0 bs=0
	ruleset_q "$2"
	ct_flush ns1
	if [ "$2" != none ]; then
		t0=$(date +%s%N)
		start_bg q ns1 $S listen -s -b "$RCVBUF" 1 "$2" || return 1
		bs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	fi
	sleep "$SETTLE"
	cpumark "$label.start"
	gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS "$RATE" "$DUR")
	sleep "$TAIL"
	cpumark "$label.end"
	local del=0 lost=0 unb=0
	if [ "$2" != none ]; then
		del=$(qsum ns1 5); unb=$(qsum ns1 6); lost=$(qsum ns1 7)
		stop_bg $BG
		st=$STOP_S
		ls=$(cat "$W/q.out")
	fi
	emit "queues rep=$1 queues=$2 label=$label $gen $ls q_delivered=$del q_unbound=$unb q_lost=$lost setup_seconds=$bs close_seconds=$st"
}

part_queues() {
	emit "# part 1: queues"
	mk_pair || exit 1
	start_server ns2 || exit 1
	ruleset_q none
	ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS 300 1 > /dev/null
	for rep in $(seq "$REPS"); do
		for n in none $(order "$rep" $QUEUES); do
			run_q "$rep" "$n"
		done
	done
	kill $SRV; wait $SRV 2>/dev/null
	rule ns1 delete table inet f
	cleanup_ns
}

# ---- 2. entries -------------------------------------------------------------------
# The time of a bind and an unbind of queue 7, and of adding and deleting a
# "ctevent 8" rule, with the table holding ENTRIES entries, all subscribed
# to queue 7.  The table only grows within a repetition (10,000, then
# 100,000, then 1,000,000), and is flushed between repetitions.
part_entries() {
	emit "# part 2: entries"
	mk_pair || exit 1
	ip netns exec ns1 sh -c 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout'
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c l4proto udp ctevent 7 ';' \
		add table inet r ';' add chain inet r c output 0
	local rep n have line rl t0 t1
	for rep in $(seq "$REPS"); do
		ct_flush ns1
		have=0
		for n in $ENTRIES; do
			# one source address per 55,536 entries would do; the
			# generator takes a new source port instead
			ip netns exec ns1 $G fill 192.0.2.2 10000 $((n - have)) > /dev/null
			have=$(ct_count_ns ns1)
			line=$(ip netns exec ns1 $S bindloop 7 "$LOOP_N")
			rl=$(ip netns exec ns1 ctevq-rule -n "$RULE_N" add rule inet r c ctevent 8 ';' \
				commit ';' flush chain inet r c | awk '
				$1 == "batch=1" { split($3, a, "="); add = a[2] }
				$1 == "batch=2" { split($3, a, "="); del = a[2] }
				END { printf "rule_add_us=%s rule_del_us=%s", add, del }')
			emit "entries rep=$rep entries=$have target=$n $line $rl"
		done
	done
	t0=$(date +%s%N)
	ct_flush ns1
	t1=$(date +%s%N)
	emit "entries_flush entries=$have seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
	rule ns1 delete table inet f ';' delete table inet r
	cleanup_ns
}
ct_count_ns() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }

# ---- 3. memory ----------------------------------------------------------------------
# Bytes per bound queue: kernel slab memory before and after one socket
# binds MEM_QUEUES queues (the queue objects and the XArray's nodes), and,
# beside it, MEM_QUEUES sockets with a queue each and as many with none.
# Bytes per subscribed entry: MEM_ENTRIES UDP entries in a netns with no
# ctevent rule and in one whose rule subscribes every entry: ct->ext->len
# as the kernel records it (tests/bench/ctextlen) and the slab memory per
# entry.  Both netns have a multicast DESTROY listener, so that their
# entries carry the event cache alike.  Slab memory is /proc/meminfo's
# Slab (pages), or the allocated objects of /proc/slabinfo where the
# kernel has it: pages are reused once objects are freed, so this part
# runs first in the boot, and every case stays alive until all are
# measured.
mem_q() {  # MODE NS
	local before after cmd
	case $1 in
	one_socket) cmd="$S listen 1 $MEM_QUEUES" ;;
	socket_per_queue) cmd="$S listen -s 1 $MEM_QUEUES" ;;
	sockets_only) cmd="$S sockets $MEM_QUEUES" ;;
	esac
	ip netns add "$2" && ip -n "$2" link set lo up
	# the netns's queue table and /proc files exist before the case
	ip netns exec "$2" $S bindloop 1 1 > /dev/null
	sleep 1
	before=$(memsnap)
	start_bg "m$1" "$2" $cmd || return 1
	sleep 1
	after=$(memsnap)
	MEM_PIDS="$MEM_PIDS $BG"
	emit "mem_queue mode=$1 queues=$MEM_QUEUES before_${before// / before_} after_${after// / after_}"
}

mem_entries() {  # MODE
	local ns=nse_$1 before after c sl line
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sh -c 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout'
	# a ct expression in both: conntrack runs in the netns
	rule "$ns" add table inet f ';' add chain inet f c output 0 ';' \
		add rule inet f c ct state new counter
	[ "$1" = rules ] && rule "$ns" add rule inet f c l4proto udp ctevent 1
	start_bg "me$1" "$ns" ctevq-listen -m -e destroy || return 1
	MEM_PIDS="$MEM_PIDS $BG"
	sleep 1
	before=$(memsnap)
	# to a local port nobody listens on: the entries stay (unreplied)
	ip netns exec "$ns" $G fill 127.0.0.1 10000 "$MEM_ENTRIES" > /dev/null
	sleep 1.5
	after=$(memsnap)
	c=$(ct_count_ns "$ns")
	line=
	if [ -r "$EXTLEN_KO" ]; then
		sl=$(ip netns exec "$ns" sh -c 'insmod "$1" pid=$$ 2>/dev/null; echo $$' sh "$EXTLEN_KO")
		line=$(dmesg | grep "ctextlen pid=$sl " | tail -n 1 | sed 's/.*ctextlen //')
	fi
	emit "mem_entry mode=$1 entries=$c before_${before// / before_} after_${after// / after_} ${line:-ext=no_module}"
}

part_mem() {
	emit "# part 3: memory"
	MEM_PIDS=
	mem_q one_socket nsq1
	mem_q socket_per_queue nsq2
	mem_q sockets_only nsq3
	mem_entries no_rules
	mem_entries rules
	kill $MEM_PIDS 2>/dev/null; wait $MEM_PIDS 2>/dev/null
	# the entries go with their netns (no DESTROY listener is left)
	cleanup_ns nsq1 nsq2 nsq3 nse_no_rules nse_rules
}

# ---- 4. namespaces -----------------------------------------------------------------
# K netns, each with its own server on lo, generator, rule and bound queue;
# RATE connections per second in total, RATE/K in each.  One listener
# process holds the K sockets (one in each netns) in one epoll loop, as in
# part 1; K=1 is also run with as many queues (a range rule) and sockets as
# the largest K has, so that the same number of sockets can be compared.
part_netns() {
	emit "# part 4: namespaces"
	local max=0 k rep mode i
	for k in $NETNS; do [ "$k" -gt $max ] && max=$k; done
	for i in $(seq $max); do
		ip netns add "nsn$i" && ip -n "nsn$i" link set lo up || exit 1
		rule "nsn$i" add table inet f ';' add chain inet f c postrouting 0
		rm -f "$W/s$i.rdy"
		ip netns exec "nsn$i" $G server $BASE $NPORTS "$W/s$i.rdy" &
		NSRV="${NSRV:-} $!"
	done
	for i in $(seq $max); do wait_for_file "$W/s$i.rdy" 20 || exit 1; done
	for rep in $(seq "$REPS"); do
		for k in $(order "$rep" $NETNS); do
			# one netns also with as many queues and sockets as
			# the most netns have: the same epoll loop over as many
			# sockets, in one netns
			local modes="none queue"
			[ "$k" = 1 ] && [ "$max" -gt 1 ] && modes="$modes queues"
			for mode in $modes; do
				local lp= gpids= label=scale.n.$rep.$k.$mode t
				for i in $(seq "$k"); do
					ip netns exec "nsn$i" conntrack -F > /dev/null 2>&1
					case $mode in
					queue) rule "nsn$i" add rule inet f c ctevent 1 ;;
					queues) rule "nsn$i" add rule inet f c ctevent "1-$max" ;;
					esac
				done
				case $mode in
				queue)
					start_bg n nsn1 $S listen -b "$RCVBUF" -n "nsn,$k" 1 1 || exit 1
					lp=$BG ;;
				queues)
					start_bg n nsn1 $S listen -s -b "$RCVBUF" 1 "$max" || exit 1
					lp=$BG ;;
				esac
				sleep "$SETTLE"
				cpumark "$label.start"
				for i in $(seq "$k"); do
					ip netns exec "nsn$i" $G conns 127.0.0.1 $BASE $NPORTS \
						"$(awk -v r="$RATE" -v k="$k" 'BEGIN { print r / k }')" "$DUR" > "$W/g$i.out" &
					gpids="$gpids $!"
				done
				wait $gpids
				sleep "$TAIL"
				cpumark "$label.end"
				t="received=0 enobufs=0"
				local del=0 lost=0
				if [ -n "$lp" ]; then
					for i in $(seq "$k"); do
						del=$((del + $(qsum "nsn$i" 5))); lost=$((lost + $(qsum "nsn$i" 7)))
					done
					stop_bg "$lp"
					t=$(sed 's/^queues=[^ ]* //; s/bind_seconds=[^ ]* //' "$W/n.out")
				fi
				[ $mode != none ] && for i in $(seq "$k"); do rule "nsn$i" flush chain inet f c; done
				emit "netns rep=$rep netns=$k mode=$mode label=$label $(cat "$W"/g*.out | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
					END { printf "conns=%d failed=%d", s["conns"], s["failed"] }') $t q_delivered=$del q_lost=$lost"
				rm -f "$W"/g*.out
			done
		done
	done
	kill $NSRV 2>/dev/null; wait $NSRV 2>/dev/null
	for i in $(seq $max); do ip netns del "nsn$i"; done
}

# ---- 5. subscriptions per entry ------------------------------------------------------
# Packet path: one UDP flow, its entry subscribed by four rules to queue 1
# (subs=1) or to queues 1, 2, 3, 4 (subs=4), the same four rules evaluated
# per packet, the queues bound.  Delivery: every connection subscribed to
# queues 1..L, a socket bound to each; against L multicast listeners that
# get every event too.
ruleset_s() {  # QUEUE... (none: no ctevent rule)
	local q a=(add table inet f ';' add chain inet f c postrouting 0 ';'
		add rule inet f c ct state established counter)
	rule ns1 delete table inet f 2>/dev/null
	for q in "$@"; do
		[ "$q" = none ] || a+=(';' add rule inet f c ctevent "$q")
	done
	rule ns1 "${a[@]}"
}

part_pps() {
	emit "# part 5a: subscriptions per entry, packet path"
	local rep s out lp spid
	for rep in $(seq "$PPS_REPS"); do
		for s in $(order "$rep" none $SUBS); do
			mk_pair || exit 1
			case $s in
			none) ruleset_s none ;;
			1) ruleset_s 1 1 1 1 ;;
			*) ruleset_s $(seq "$s") $(for i in $(seq $((4 - s))); do echo 1; done) ;;
			esac
			lp=
			if [ "$s" != none ]; then
				start_bg p ns1 $S listen -s -b "$RCVBUF" 1 4 || exit 1
				lp=$BG
			fi
			rm -f "$W/sink.rdy"
			ip netns exec ns2 $G sink 6000 "$W/sink.rdy" &
			spid=$!
			wait_for_file "$W/sink.rdy" 10
			out=$(ip netns exec ns1 $G flood 192.0.2.2 6000 "$FLOOD_N")
			local subs=0
			[ "$s" != none ] && subs=$(evq_proc ns1 | awk '$1 ~ /^[0-9]+$/ && $5 > 0' | wc -l)
			[ -n "$lp" ] && stop_bg "$lp"
			kill $spid; wait $spid 2>/dev/null
			emit "subs_pps rep=$rep subs=$s $out queues_with_messages=$subs"
		done
	done
	cleanup_ns
}

part_subs() {
	emit "# part 5b: subscriptions per entry, delivery"
	local rep l mode
	mk_pair || exit 1
	start_server ns2 || exit 1
	for rep in $(seq "$REPS"); do
		for l in $(order "$rep" $SUBS); do
			for mode in none queue multicast; do
				local label=scale.s.$rep.$l.$mode gen st="received=0 enobufs=0"
				if [ $mode = queue ]; then ruleset_s $(seq "$l"); else ruleset_s none; fi
				ct_flush ns1
				case $mode in
				queue) start_bg d ns1 $S listen -s -b "$RCVBUF" 1 "$l" || exit 1 ;;
				multicast) start_bg d ns1 $S multicast -b "$RCVBUF" "$l" || exit 1 ;;
				esac
				sleep "$SETTLE"
				cpumark "$label.start"
				gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS "$RATE" "$DUR")
				sleep "$TAIL"
				cpumark "$label.end"
				local lost=0
				if [ $mode != none ]; then
					[ $mode = queue ] && lost=$(qsum ns1 7)
					stop_bg $BG
					st=$(sed 's/^queues=[^ ]* //; s/bind_seconds=[^ ]* //' "$W/d.out")
				fi
				emit "subs_cpu rep=$rep listeners=$l mode=$mode label=$label $gen $st q_lost=$lost"
			done
		done
	done
	kill $SRV; wait $SRV 2>/dev/null
	rule ns1 delete table inet f
	cleanup_ns
}

part mem && part_mem
part queues && part_queues
part entries && part_entries
part netns && part_netns
part pps && part_pps
part subs && part_subs
cleanup_ns
emit "done"
exit 0
