#!/bin/bash
# tests/bench/run.sh - the benchmark, run inside the UML guest by
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
PPS_FLOWS=1             # part 2: UDP flows at once, flow k sent from CPU k
RUNNER=uml              # the guest's runner, for the record (uml | qemu)
FILL_N=20000            # part 3: conntrack entries per case
EXT_N=2000              # part 4: conntrack entries per case
LIST_N=100000           # part 5: conntrack entries in the listed netns
LIST_REPS=5             # part 5: repetitions, quiet and with loops in turn
SYS_RATE=500            # part 6: connections per second
SYS_DUR=4               # part 6: seconds of traffic per run
SYS_TAIL=1.5            # part 6: seconds measured after the traffic
SYS_RCVBUF=4194304      # part 6: receive buffer (no consumer may lose)
SLOW_WORK=5000          # part 7: microseconds of work per received message
                        # (a sleep; UML, HZ=100, rounds it up to jiffies:
                        # format.py reports the time actually waited)
SLOW_RATES="5 10 20 40 70 100 150 200 300 400 600"
SLOW_DUR=4              # part 7: seconds per step
SLOW_TAIL=0.5           # part 7: seconds after it for the backlog to drain
EXPR_N=300              # part 8: connections
BPF_RATE=300            # part 9 (bpf): connections per second
BPF_SLOW_RATES="100 200 300 400 500 600 800 1000 1300 1600 2000"
                        # part 9: the slow consumer's ladder (2 vCPUs)
PARTS="sel pps mem ext list sys slow expr"
KERNEL=patched          # patched | base (an unpatched kernel: part 4 only)
EXTLEN_KO=              # tests/bench/ctextlen built for this kernel
for a in $(cat /proc/cmdline); do
	case $a in
	bench.*=*)
		k=${a#bench.}; k=${k%%=*}; v=${a#*=}
		case $k in
		REPS|RATE|DUR|STEP_DUR|SAT_DUR|RCVBUF|FLOOD_N|FILL_N|PPS_REPS|EXT_N|LIST_N|LIST_REPS|KERNEL|EXTLEN_KO|PPS_FLOWS|RUNNER|SYS_RATE|SYS_DUR|SYS_TAIL|SYS_RCVBUF|SLOW_WORK|SLOW_DUR|SLOW_TAIL|EXPR_N|NFT|BPF_RATE)
			printf -v "$k" %s "$v" ;;
		STEP_RATES) STEP_RATES=${v//,/ } ;;
		SLOW_RATES) SLOW_RATES=${v//,/ } ;;
		BPF_SLOW_RATES) BPF_SLOW_RATES=${v//,/ } ;;
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
SYS_TAG= TRACE_OPT=     # part 9: label suffix, ctevq-trace options

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

emit "param kernel=$KERNEL parts=${PARTS// /,} reps=$REPS rate=$RATE dur=$DUR step_dur=$STEP_DUR sat_dur=$SAT_DUR step_rates=${STEP_RATES// /,} rcvbuf=$RCVBUF ports=$BASE-$WANT want_port=$WANT flood_n=$FLOOD_N pps_reps=$PPS_REPS fill_n=$FILL_N ext_n=$EXT_N list_n=$LIST_N list_reps=$LIST_REPS"
emit "param2 runner=$RUNNER cpus=$(nproc) pps_flows=$PPS_FLOWS"
emit "param6 sys_rate=$SYS_RATE sys_dur=$SYS_DUR sys_tail=$SYS_TAIL sys_rcvbuf=$SYS_RCVBUF slow_work_us=$SLOW_WORK slow_rates=${SLOW_RATES// /,} slow_dur=$SLOW_DUR slow_tail=$SLOW_TAIL slow_rcvbuf=$RCVBUF expr_n=$EXPR_N bpf_rate=$BPF_RATE"
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

# held LINE: a step of a rate ladder held: no loss, no backlog left (where
# measured), and the generator kept up (95 %)
held() {
	echo "$1" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		exit !(v["enobufs"] == 0 && v["q_lost"] == 0 && v["rb_lost"] + 0 == 0 &&
		       v["backlog"] + 0 == 0 && v["rb_backlog"] + 0 == 0 &&
		       v["achieved_rate"] >= 0.95 * v["target_rate"]) }'
}

# start_server: the generator's peer in ns2, its pid in SRV
start_server() {
	rm -f "$W/srv.rdy"
	ip netns exec ns2 $G server $BASE $NPORTS "$W/srv.rdy" &
	SRV=$!
	wait_for_file "$W/srv.rdy" 10
}

stop_server() {
	kill $SRV 2>/dev/null; wait $SRV 2>/dev/null
	rule ns1 delete table inet f 2>/dev/null
}

part_sel() {
	mk_pair || exit 1
	start_server || exit 1
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
				held "$line" || break
			done
		done
	done
	stop_server
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
			spid= fpid=
			for k in $(seq 0 $((PPS_FLOWS - 1))); do
				rm -f "$W/sink$k.rdy"
				ip netns exec ns2 $G sink $((6000 + k)) "$W/sink$k.rdy" &
				spid="$spid $!"
				wait_for_file "$W/sink$k.rdy" 10
			done
			# one sender per flow, each on its own CPU (taskset), at once
			for k in $(seq 0 $((PPS_FLOWS - 1))); do
				ip netns exec ns1 taskset -c $((k % $(nproc))) \
					$G flood 192.0.2.2 $((6000 + k)) "$FLOOD_N" > "$W/f$k.out" &
				fpid="$fpid $!"
			done
			wait $fpid
			out=$(cat "$W"/f*.out | awk -v n="$PPS_FLOWS" '{
				for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] }
			} END {
				if (n == 1)
					printf "sent=%d errors=%d elapsed=%.6f pps=%.1f", v["sent"], v["errors"], v["elapsed"], v["pps"]
				else
					printf "flows=%d sent=%d errors=%d pps=%.1f", n, v["sent"], v["errors"], v["pps"]
			}')
			rm -f "$W"/f*.out
			q=
			if [ -n "$lpid" ]; then
				kill -TERM $lpid; wait $lpid
				q="listener_received=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$W/l.out") q_delivered=$(evq_stat ns1 1 delivered)"
			fi
			kill $spid; wait $spid 2>/dev/null
			emit "pps runner=$RUNNER rep=$rep mode=$mode $out $q"
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
		# the module reads the netns of pid=: a shell that is already in
		# ns1 passes its own (a background process might not be there yet)
		sl=$(ip netns exec ns1 sh -c 'insmod "$1" pid=$$ 2>/dev/null; echo $$' sh "$EXTLEN_KO")
		line=$(dmesg | grep "ctextlen pid=$sl " | tail -n 1 | sed 's/.*ctextlen //')
		kill $MEM_PIDS 2>/dev/null; wait $MEM_PIDS 2>/dev/null
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

# ---- part 6: whole-system cost ------------------------------------------------------
# Consumer i (0..CONS-1) wants the connections to port BASE+i, 10 % of them
# each: a queue listener on queue i+1 (rule "dport BASE+i ctevent i+1"),
# or a multicast listener with a BPF or a userspace filter for that port
# (the same rules with "counter").  The CPU the whole guest used in the
# window (traffic plus SYS_TAIL) is the host's account of the UML
# processes between two console marks (scripts/bench-hostcpu.py, run by
# scripts/bench.sh); "none" (the traffic, no consumer) is subtracted by
# format.py, and "idle" (no traffic) shows what the method reads at rest.
cpumark() { echo "CTEVQCPU $1" > /dev/console; sleep 0.05; }

# bpf_tracing (part 9): the rules set ct mark i for consumer i's port and
# the tracer keeps that mark; the netns caches events with no ctnetlink
# listener (nf_conntrack_events=1), which a tracer alone needs.
ruleset_cons() {  # MODE CONS
	local i stmt a=(add table inet f ';' add chain inet f c postrouting 0 ';'
		add rule inet f c ct state established counter)
	rule ns1 delete table inet f 2>/dev/null
	ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_events=$([ "$1" = bpf_tracing ] && echo 1 || echo 2)
	for i in $(seq 0 $(($2 - 1))); do
		stmt=counter
		[ "$1" = queue ] && stmt="ctevent $((i + 1))"
		[ "$1" = bpf_tracing ] && stmt="ct mark set $((i + 1))"
		a+=(';' add rule inet f c l4proto udp dport $((BASE + i)) $stmt
		    ';' add rule inet f c l4proto tcp dport $((BASE + i)) $stmt)
	done
	rule ns1 "${a[@]}"
}

# start_cons MODE CONS RCVBUF [EXTRA]: CONS listeners, pids in CONS_PIDS
start_cons() {
	local i lopt prog=$L
	CONS_PIDS=
	for i in $(seq 0 $(($2 - 1))); do
		case $1 in
		queue) lopt="-q $((i + 1))" ;; userspace_filter) lopt="-m" ;; bpf_filter) lopt="-B" ;;
		bpf_tracing) prog=ctevq-trace lopt="-m $((i + 1)) $TRACE_OPT" ;;
		esac
		rm -f "$W/c$i.rdy"
		ip netns exec ns1 $prog $lopt -p $((BASE + i)) -b "$3" ${4:-} -r "$W/c$i.rdy" \
			> "$W/c$i.out" 2> "$W/c$i.err" &
		CONS_PIDS="$CONS_PIDS $!"
	done
	for i in $(seq 0 $(($2 - 1))); do
		wait_for_file "$W/c$i.rdy" 10 || { cat "$W/c$i.err"; return 1; }
	done
}

# stop_cons CONS: totals of the listeners' counters, and the queues', in
# CONS_ST (not printed: wait needs the listeners as its own children, which
# a command substitution's subshell does not have)
stop_cons() {
	local i ql=0
	kill -TERM $CONS_PIDS 2>/dev/null
	wait $CONS_PIDS 2>/dev/null
	for i in $(seq 0 $(($1 - 1))); do
		q=$(evq_stat ns1 $((i + 1)) lost)
		[ "$q" = none ] || ql=$((ql + q))
	done
	CONS_ST=$(cat "$W"/c*.out 2>/dev/null | awk -v ql=$ql '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); t[kv[1]] += kv[2] }
	} END {
		printf "received=%d wanted=%d unwanted=%d enobufs=%d rb_lost=%d rb_backlog=%d wakeups=%d worked=%.3f q_lost=%d\n",
			t["received"], t["wanted"], t["unwanted"], t["enobufs"], t["rb_lost"], t["rb_backlog"], t["wakeups"], t["worked"], ql
	}')
	rm -f "$W"/c*.out
}

run_sys() {  # REP MODE CONS
	local gen st
	ruleset_cons "$2" "$3"
	ct_flush ns1
	st="received=0 wanted=0 unwanted=0 enobufs=0 worked=0 q_lost=0"
	case $2 in idle|none) ;; *) start_cons "$2" "$3" "$SYS_RCVBUF" || return 1 ;; esac
	sleep 0.3
	local label=sys$SYS_TAG.$1.$2.$3
	cpumark "$label.start"
	if [ "$2" = idle ]; then
		sleep "$SYS_DUR"
		gen="conns=0 achieved_rate=0"
	else
		gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS "$SYS_RATE" "$SYS_DUR")
	fi
	sleep "$SYS_TAIL"
	cpumark "$label.end"
	case $2 in idle|none) ;; *) stop_cons "$3"; st=$CONS_ST ;; esac
	emit "sys rep=$1 mode=$2 consumers=$3 label=$label${SYS_TAG:+ acct=${SYS_TAG#.acct}} $gen $st"
}

part_sys() {
	emit "# part 6: whole-system cost"
	mk_pair || exit 1
	start_server || exit 1
	ruleset_cons none 1
	ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS 500 1 > /dev/null
	for rep in $(seq "$REPS"); do
		for cons in 1 4; do
			for mode in idle none queue bpf_filter userspace_filter; do
				run_sys "$rep" $mode $cons
			done
		done
	done
	stop_server
}

# ---- part 7: slow consumer -----------------------------------------------------------
# One consumer that waits SLOW_WORK us after every message it receives,
# wanting port BASE (10 %); the rate rises until it loses an event
# (ENOBUFS or queue lost) or still has a backlog SLOW_TAIL after the
# traffic, or until the generator falls behind (reported: then the
# generator, not the consumer, was the limit).
slow_ladder() {  # REP MODE
	local rate gen bl line
	for rate in $SLOW_RATES; do
		ruleset_cons "$2" 1
		ct_flush ns1
		start_cons "$2" 1 "$RCVBUF" "-w $SLOW_WORK" || return
		sleep 0.3
		gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS "$rate" "$SLOW_DUR")
		sleep "$SLOW_TAIL"
		# bytes still queued on the consumer's socket (its port id
		# is its pid): a backlog that grows is a loss deferred
		# (the tracer has no socket: it reports what its ring buffer
		# still held when stopped, rb_backlog)
		bl=$(ip netns exec ns1 awk -v p="${CONS_PIDS# }" \
			'$3 == p { print $5 }' /proc/net/netlink)
		stop_cons 1
		line="slow rep=$1 mode=$2 target_rate=$rate $gen $CONS_ST backlog=${bl:-0}"
		emit "$line"
		held "$line" || return
	done
}

part_slow() {
	emit "# part 7: slow consumer"
	mk_pair || exit 1
	start_server || exit 1
	for rep in $(seq "$REPS"); do
		for mode in queue bpf_filter userspace_filter; do
			slow_ladder "$rep" $mode
		done
	done
	stop_server
}

# ---- part 8: a selection a socket filter cannot evaluate --------------------------
# The rule matches the output interface and the packet mark (set by the
# generator with SO_MARK on every third connection pair): neither is in a
# ctnetlink message, so no socket filter can select on them.  The queue
# listener's connections must be exactly the marked ones.  Needs the
# patched nft (make nft), which the rule is written for.
part_expr() {
	emit "# part 8: selection by rule"
	[ -n "$NFT" ] && [ -x "$NFT" ] || { emit "expr skipped=no_nft"; return; }
	local rl='oifname "veth1" meta mark 0x2a ct state new ct event queue 5'
	mk_pair || exit 1
	start_server || exit 1
	ip netns exec ns1 "$NFT" "add table inet e; add chain inet e c { type filter hook postrouting priority 0; }; add rule inet e c $rl" ||
		{ emit "expr error=nft_rule"; return; }
	rm -f "$W/e.rdy"
	ip netns exec ns1 ctevq-listen -j -q 5 -r "$W/e.rdy" > "$W/e.out" 2> "$W/e.err" &
	lp=$!
	wait_for_file "$W/e.rdy" 10 || { cat "$W/e.err"; return; }
	gen=$(ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS 200 $((EXPR_N / 200 + 1)) 3 0x2a "$W/e.marked")
	sleep 0.5
	# the TCP entries are gone (RST); delete the UDP ones for their DESTROY
	ip netns exec ns1 conntrack -D -p udp > /dev/null 2>&1
	sleep 0.5
	kill -TERM $lp; wait $lp
	sort -u "$W/e.marked" > "$W/e.want"
	sed -n 's/.*"proto":\([0-9]*\),.*"sport":\([0-9]*\),"dport":\([0-9]*\).*/\1 \2 \3/p' "$W/e.out" |
		sed 's/^6 /tcp /; s/^17 /udp /' | sort -u > "$W/e.got"
	local want got extra missing destroys
	want=$(wc -l < "$W/e.want"); got=$(wc -l < "$W/e.got")
	missing=$(comm -23 "$W/e.want" "$W/e.got" | wc -l)
	extra=$(comm -13 "$W/e.want" "$W/e.got" | wc -l)
	destroys=$(grep -c '"type":"destroy"' "$W/e.out")
	emit "expr rule=$(echo "$rl" | tr ' ' '_') $gen marked=$want queue_connections=$got missing=$missing extra=$extra destroys=$destroys events=$(wc -l < "$W/e.out")"
	kill $SRV 2>/dev/null; wait $SRV 2>/dev/null
}

# ---- part 9: BPF tracing (make bench-bpf, the qemu guest) -----------------------
# Part 6 and part 7 with queue listeners against ctevq-trace (fentry/fexit on
# the conntrack event path, ring buffer), the tracer keeping its port's
# ct mark; then part 6 again with counters and timestamps on (acct,
# tstamp: the queue's messages carry them, the tracer reads them).
part_bpf() {
	emit "# part 9: BPF tracing"
	command -v ctevq-trace > /dev/null || { emit "bpf skipped=no_tracer"; return; }
	mk_pair || exit 1
	start_server || exit 1
	ruleset_cons none 1
	ip netns exec ns1 $G conns 192.0.2.2 $BASE $NPORTS 300 1 > /dev/null
	local acct rep cons mode
	SYS_RATE=$BPF_RATE
	emit "param9 sys_rate=$SYS_RATE slow_rates=${BPF_SLOW_RATES// /,}"
	for acct in 0 1; do
		ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_acct=$acct \
			net.netfilter.nf_conntrack_timestamp=$acct
		SYS_TAG=.acct$acct
		TRACE_OPT=$([ $acct = 1 ] && echo -a)
		for rep in $(seq "$REPS"); do
			for cons in 1 4; do
				for mode in idle none queue bpf_tracing; do
					run_sys "$rep" $mode $cons
				done
			done
		done
	done
	SYS_TAG= TRACE_OPT=
	ip netns exec ns1 sysctl -qw net.netfilter.nf_conntrack_acct=0 \
		net.netfilter.nf_conntrack_timestamp=0
	SLOW_RATES=$BPF_SLOW_RATES
	for rep in $(seq "$REPS"); do
		for mode in queue bpf_tracing; do
			slow_ladder "$rep" $mode
		done
	done
	stop_server
}

part sel && part_sel
part pps && part_pps
part mem && part_mem
part ext && part_ext
part list && part_list
part sys && part_sys
part slow && part_slow
part expr && part_expr
part bpf && part_bpf
cleanup_ns
emit "done"
exit 0
