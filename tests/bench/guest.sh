#!/bin/bash
# tests/bench/guest.sh - the benchmark, run inside the UML guest by
# scripts/bench.sh (via scripts/run-guest.sh).  Writes key=value lines to
# $CTEVQ_RESULTS/bench.raw (also echoed to the output log); scripts/bench.sh
# formats them on the host.  No assertions: numbers are only reported.
#
# Parameters: bench.NAME=VALUE on the kernel command line (GUEST_APPEND),
# NAME one of the upper-case variables below (e.g. bench.REPS=1).
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

REPS=3                  # repetitions of every measurement (median reported)
RATE=500                # part 1: connections per second
DUR=4                   # part 1: seconds of traffic per run
STEP_RATES="200 400 700 1000 1300 1600 2000 2500 3000"
STEP_DUR=2              # part 1, rate ladder: seconds per step
SAT_DUR=2               # part 1, generator flat out: seconds
RCVBUF=32768            # SO_RCVBUF of all three listeners (kernel doubles it)
BASE=5000 NPORTS=10     # part 1 ports 5000..5009; the wanted one is the last
FLOOD_N=100000          # part 2: datagrams per run
PPS_REPS=7              # part 2: repetitions, the rulesets interleaved
FILL_N=20000            # part 3: conntrack entries per case
EXT_N=2000              # part 4: conntrack entries per case
LIST_N=100000           # part 5: conntrack entries in the listed netns
LIST_REPS=5             # part 5: repetitions, quiet and with loops in turn
PARTS="sel pps mem ext list"
KERNEL=patched          # patched | base (an unpatched kernel: part 4 only)
EXTLEN_KO=              # tests/bench/ctextlen built for this kernel
for a in $(cat /proc/cmdline); do
	case $a in
	bench.*=*)
		k=${a#bench.}; k=${k%%=*}; v=${a#*=}
		case $k in
		REPS|RATE|DUR|STEP_DUR|SAT_DUR|RCVBUF|FLOOD_N|FILL_N|PPS_REPS|EXT_N|LIST_N|LIST_REPS|KERNEL|EXTLEN_KO)
			printf -v "$k" %s "$v" ;;
		STEP_RATES) STEP_RATES=${v//,/ } ;;
		PARTS) PARTS=${v//,/ } ;;
		esac ;;
	esac
done
WANT=$((BASE + NPORTS - 1))

R=${CTEVQ_RESULTS:-$T_WORK}
RAW=$R/bench.raw
: > "$RAW"
emit() { echo "$*" | tee -a "$RAW"; }
G=ctevq-bench-gen
L=ctevq-bench-listen
W=$T_WORK

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

emit "param kernel=$KERNEL parts=${PARTS// /,} reps=$REPS rate=$RATE dur=$DUR step_dur=$STEP_DUR sat_dur=$SAT_DUR step_rates=${STEP_RATES// /,} rcvbuf=$RCVBUF ports=$BASE-$WANT want_port=$WANT flood_n=$FLOOD_N pps_reps=$PPS_REPS fill_n=$FILL_N ext_n=$EXT_N list_n=$LIST_N list_reps=$LIST_REPS"
emit "env kernel=$(uname -r) hz=$(getconf CLK_TCK) slabinfo=$([ -r /proc/slabinfo ] && echo yes || echo no) slub_sysfs=$([ -d /sys/kernel/slab ] && echo yes || echo no)"

# Room for part 3 (global knobs, init netns only).
echo 262144 > /proc/sys/net/netfilter/nf_conntrack_max
echo 65536 > /sys/module/nf_conntrack/parameters/hashsize 2>/dev/null

# ---- part 1: selective listening -------------------------------------------------
ruleset_sel() {  # MODE
	local stmt=counter
	[ "$1" = queue ] && stmt="ctevent 1"
	rule ns1 delete table inet f 2>/dev/null
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ct state established counter ';' \
		add rule inet f c l4proto udp dport $WANT $stmt ';' \
		add rule inet f c l4proto tcp dport $WANT $stmt
}

# run_sel PHASE REP MODE RATE SECS: one run, one "sel" line
run_sel() {
	local phase=$1 rep=$2 mode=$3 rate=$4 secs=$5 lpid= lopt gen ls
	ruleset_sel "$mode"
	ct_flush ns1
	case $mode in
	queue) lopt="-q 1" ;; userspace_filter) lopt="-m" ;; bpf_filter) lopt="-B" ;;
	esac
	if [ "$mode" != none ]; then
		rm -f "$W/l.rdy"
		ip netns exec ns1 $L $lopt -p $WANT -b $RCVBUF -r "$W/l.rdy" > "$W/l.out" 2> "$W/l.err" &
		lpid=$!
		wait_for_file "$W/l.rdy" 10 || { cat "$W/l.err"; return 1; }
	fi
	sleep 0.3
	gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS "$rate" "$secs")
	sleep 0.3
	ls="received=0 wanted=0 unwanted=0 enobufs=0 wakeups=0 busy=0 cpu_user=0 cpu_sys=0"
	if [ -n "$lpid" ]; then
		kill -TERM $lpid; wait $lpid
		ls=$(sed 's/^mode=[^ ]* //' "$W/l.out")
	fi
	local qlost=0 qdel=0
	if [ "$mode" = queue ]; then
		qlost=$(evq_stat ns1 1 lost); qdel=$(evq_stat ns1 1 delivered)
	fi
	emit "sel phase=$phase rep=$rep mode=$mode target_rate=$rate $gen $ls q_delivered=$qdel q_lost=$qlost"
}

part_sel() {
	mk_pair || exit 1
	rm -f "$W/srv.rdy"
	ip netns exec ns2 $G server $BASE $NPORTS "$W/srv.rdy" &
	SRV=$!
	wait_for_file "$W/srv.rdy" 10 || exit 1
	# warm up caches, the neighbour entry and the page cache of the binaries
	ruleset_sel none
	ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS 500 1 > /dev/null

	emit "# part 1a: fixed rate"
	for rep in $(seq "$REPS"); do
		for mode in none queue userspace_filter bpf_filter; do
			run_sel fixed "$rep" $mode "$RATE" "$DUR"
		done
	done

	# System CPU per connection: the generator flat out, so that the one CPU is
	# saturated (generator, server, kernel, listener): wall time per connection.
	# (UML accounts CPU time in jiffies, and guest /proc/stat ticks are
	# phase-locked to the generator's timer sleeps: neither is usable.)
	emit "# part 1a': saturation"
	for rep in $(seq "$REPS"); do
		for mode in none queue userspace_filter bpf_filter; do
			run_sel saturated "$rep" $mode 1000000 "$SAT_DUR"
		done
	done

	emit "# part 1b: rate ladder"
	for rep in $(seq "$REPS"); do
		for mode in queue userspace_filter bpf_filter; do
			for rate in $STEP_RATES; do
				line=$(run_sel step "$rep" $mode "$rate" "$STEP_DUR" | tail -n 1)
				# held: no loss and the generator kept up (95 %)
				echo "$line" | awk '{
					for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
					exit !(v["enobufs"] == 0 && v["q_lost"] == 0 &&
					       v["achieved_rate"] >= 0.95 * v["target_rate"]) }' || break
			done
		done
	done
	kill $SRV 2>/dev/null; wait $SRV 2>/dev/null
	rule ns1 delete table inet f 2>/dev/null
}

# ---- part 2: packet path -------------------------------------------------------------
# The three rulesets run one after the other in each repetition, in turn
# forwards and backwards, so that a drift of the host's load shifts them
# alike; format.py takes the ratios within each repetition.
part_pps() {
	emit "# part 2: packet path"
	for rep in $(seq "$PPS_REPS"); do
		order="none ct_state ctevent"
		[ $((rep % 2)) = 0 ] && order="ctevent ct_state none"
		for mode in $order; do
			mk_pair || exit 1
			lpid=
			case $mode in
			ct_state)
				rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
					add rule inet f c ct state established counter ;;
			ctevent)
				rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
					add rule inet f c ct state established ctevent 1
				rm -f "$W/l.rdy"
				ip netns exec ns1 $L -q 1 -p 6000 -b 1048576 -r "$W/l.rdy" > "$W/l.out" 2> "$W/l.err" &
				lpid=$!
				wait_for_file "$W/l.rdy" 10 || cat "$W/l.err" ;;
			esac
			rm -f "$W/sink.rdy"
			ip netns exec ns2 $G sink 6000 "$W/sink.rdy" &
			spid=$!
			wait_for_file "$W/sink.rdy" 10
			out=$(ip netns exec ns1 $G flood 192.0.2.2 6000 "$FLOOD_N")
			q=
			if [ -n "$lpid" ]; then
				kill -TERM $lpid; wait $lpid
				q="listener_received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$W/l.out") q_delivered=$(evq_stat ns1 1 delivered)"
			fi
			kill $spid; wait $spid 2>/dev/null
			emit "pps rep=$rep mode=$mode $out $q"
		done
	done
}

# ---- part 3: memory, slab --------------------------------------------------------------
# Slab pages (/proc/meminfo "Slab") per conntrack entry created.  Slab
# caches never shrink here and every case adds entries (no entry is freed in
# between: UDP timeout 600 s, new source port per fill), so each delta is
# the growth caused by the new entries alone.  Both cases have a multicast
# listener, so that their entries carry the event cache extension alike;
# the second also subscribes every entry to a bound queue.
slab_kb() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }
ct_count() { ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count; }

# ruleset and listeners of a memory case: no_rules | rules (in ns1)
mem_case() {
	rule ns1 delete table inet f 2>/dev/null
	MEM_PIDS=
	case $1 in
	no_rules)
		rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
			add rule inet f c ct state established counter ';' \
			add rule inet f c l4proto udp counter ;;
	rules)
		rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
			add rule inet f c ct state established counter ';' \
			add rule inet f c l4proto udp ctevent 1
		rm -f "$W/l.rdy"
		# DESTROY only: the entries are subscribed, yet no NEW message
		# lingers in a socket buffer while Slab is read
		ip netns exec ns1 $L -q 1 -d -p 1 -r "$W/l.rdy" > "$W/l.out" 2> "$W/l.err" &
		MEM_PIDS=$!
		wait_for_file "$W/l.rdy" 10 || cat "$W/l.err" ;;
	esac
	rm -f "$W/m.rdy"
	ip netns exec ns1 ctevq-listen -m -e destroy -r "$W/m.rdy" > /dev/null 2>&1 &
	MEM_PIDS="$MEM_PIDS $!"
	wait_for_file "$W/m.rdy" 10
}

part_mem() {
	emit "# part 3: memory, slab"
	mk_pair || exit 1
	ip netns exec ns1 sh -c 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout'
	for rep in $(seq "$REPS"); do
		for mode in no_rules rules; do
			mem_case $mode
			sleep 1
			s0=$(slab_kb); c0=$(ct_count)
			ip netns exec ns1 $G fill 192.0.2.2 10000 "$FILL_N" > /dev/null
			sleep 1.5
			s1=$(slab_kb); c1=$(ct_count)
			kill -TERM $MEM_PIDS; wait $MEM_PIDS 2>/dev/null
			emit "mem rep=$rep mode=$mode entries=$((c1 - c0)) slab_kb_before=$s0 slab_kb_after=$s1 bytes_per_entry=$(awk -v a="$s0" -v b="$s1" -v n="$((c1 - c0))" 'BEGIN { printf "%.1f", (n > 0) ? (b - a) * 1024 / n : -1 }')"
		done
	done
	cleanup_ns
}

# ---- part 4: memory, extension area ---------------------------------------------------
# ct->ext->len of every entry, as the kernel records it (tests/bench/ctextlen,
# a module built for this kernel).  The same two cases run on an unpatched
# kernel too (bench.KERNEL=base, bench.PARTS=ext), where "rules" cannot
# subscribe: it counts instead.
part_ext() {
	emit "# part 4: memory, extension area"
	[ -r "$EXTLEN_KO" ] || { emit "ext kernel=$KERNEL error=no_module"; return; }
	for mode in no_rules rules; do
		mk_pair || exit 1
		ip netns exec ns1 sh -c 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout'
		[ "$KERNEL" = base ] && [ $mode = rules ] && m=no_rules || m=$mode
		mem_case $m
		ip netns exec ns1 $G fill 192.0.2.2 10000 "$EXT_N" > /dev/null
		ip netns exec ns1 sleep 60 &
		sl=$!
		insmod "$EXTLEN_KO" pid=$sl 2>/dev/null
		line=$(dmesg | grep "ctextlen pid=$sl " | tail -n 1 | sed 's/.*ctextlen //')
		kill $sl $MEM_PIDS 2>/dev/null; wait $sl $MEM_PIDS 2>/dev/null
		emit "ext kernel=$KERNEL mode=$mode $line"
		cleanup_ns
	done
}

# ---- part 5: no cross-netns cost -----------------------------------------------------
# conntrack -L of LIST_N entries in one netns, quiet and while another netns
# runs a tight bind/unbind loop and a rule add/delete loop.  The loops run at
# nice 19: UML has one CPU, and what is measured is waiting, not sharing.
part_list() {
	emit "# part 5: conntrack -L with bind and rule loops in another netns"
	mk_pair || exit 1
	ip netns add nsb && ip -n nsb link set lo up
	ip netns exec ns1 sh -c 'echo 600 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout'
	rule ns1 add table inet f ';' add chain inet f c postrouting 0 ';' \
		add rule inet f c ct state established counter
	ip netns exec ns1 $G fill 192.0.2.2 10000 "$LIST_N" > /dev/null
	n=$(ct_count)
	for rep in $(seq "$LIST_REPS"); do
		for mode in quiet loops; do
			lp=
			if [ $mode = loops ]; then
				ip netns exec nsb nice -n 19 ctevq-listen --try bind:7 \
					--try unbind:7 --repeat 0 > /dev/null 2>&1 &
				lp=$!
				( while :; do
					nice -n 19 ip netns exec nsb ctevq-rule add table inet r ';' \
						add chain inet r c output 0 ';' add rule inet r c ctevent 100-163
					nice -n 19 ip netns exec nsb ctevq-rule delete table inet r
				  done ) > /dev/null 2>&1 &
				lp="$lp $!"
				sleep 1
			fi
			t0=$(date +%s%N)
			listed=$(ip netns exec ns1 conntrack -L 2>/dev/null | wc -l)
			t1=$(date +%s%N)
			[ -n "$lp" ] && { kill $lp; wait $lp 2>/dev/null; }
			emit "list rep=$rep mode=$mode entries=$n listed=$listed seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
		done
	done
	rule nsb delete table inet r 2>/dev/null
	cleanup_ns nsb
}

part sel && part_sel
part pps && part_pps
part mem && part_mem
part ext && part_ext
part list && part_list
cleanup_ns
emit "done"
exit 0
