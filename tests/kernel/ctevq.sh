# shellcheck shell=bash
# tests/kernel/ctevq.sh - helpers for the ct event queue tests; source after
# lib.sh.
#
#   listen NAME NS ARGS...   ctevq-listen --json in NS, stdout to $T_WORK/NAME.json,
#                            stderr to $T_WORK/NAME.err; returns once bound
#   stop_listeners           SIGTERM all listeners, wait for them
#   rule NS ARGS...          ctevq-rule in NS
#   rule_err NAME NS ERRNO ARGS...  ctevq-rule in NS must fail with ERRNO
#   evq_proc NS              /proc/net/netfilter/nf_conntrack_evq of NS
#   evq_stat NS QUEUE FIELD  FIELD (portid events flags delivered unbound lost
#                            overflow noext) of /proc/net/netfilter/nf_conntrack_evq
#   evq_queues NS            the queue numbers that file lists
#   until_bound NS QUEUE     until a socket holds QUEUE (at most 5 s)
#   evcheck ARGS...          tests/kernel/evcheck.py
#   traffic NS ARGS...       tests/kernel/traffic.py in NS
#   serve NS PROTO ADDR PORT COUNT   background server, waits until it listens
#   flows FIRSTPORT COUNT    COUNT UDP flows 192.0.2.1:40000 -> 192.0.2.2:FIRSTPORT..
#                            from ns1, one conntrack entry each

LISTENER_PIDS=()
EVCHECK=$TOP/tests/kernel/evcheck.py
TRAFFIC=$TOP/tests/kernel/traffic.py
INT_MAX=2147483647

listen() {
	local name=$1 ns=$2
	shift 2
	rm -f "$T_WORK/$name.ready"
	ip netns exec "$ns" ctevq-listen --json --ready "$T_WORK/$name.ready" "$@" \
		> "$T_WORK/$name.json" 2> "$T_WORK/$name.err" &
	LISTENER_PIDS+=($!)
	if ! wait_for_file "$T_WORK/$name.ready" 10; then
		echo "listener $name did not bind:" >&2
		cat "$T_WORK/$name.err" >&2
		return 1
	fi
}

stop_listeners() {
	local p
	# let the last events drain
	sleep 0.5
	for p in "${LISTENER_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${LISTENER_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	LISTENER_PIDS=()
}

expect() {  # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want '$2', got '$3'"; fi
}

rule() {
	local ns=$1
	shift
	ip netns exec "$ns" ctevq-rule "$@"
}

rule_err() {
	local name=$1 ns=$2 want=$3 out
	shift 3
	if out=$(rule "$ns" "$@" 2>&1); then
		fail "$name" "accepted, want $want"
	elif echo "$out" | grep -q "($want)"; then
		ok "$name"
	else
		fail "$name" "want $want: $out"
	fi
}

evq_proc() {
	ip netns exec "$1" cat /proc/net/netfilter/nf_conntrack_evq
}

# columns: queue portid events flags delivered unbound lost overflow noext
evq_stat() {
	local col
	case $3 in
	portid) col=2 ;; events) col=3 ;; flags) col=4 ;;
	delivered) col=5 ;; unbound) col=6 ;; lost) col=7 ;;
	overflow) col=8 ;; noext) col=9 ;;
	*) return 1 ;;
	esac
	evq_proc "$1" | awk -v q="$2" -v c="$col" '$1 == q { print $c; found = 1 } END { if (!found) print "none" }'
}

# NS: the queue numbers /proc lists, sorted
evq_queues() {
	evq_proc "$1" 2>/dev/null | awk '{ print $1 }' | sort -n | xargs
}

# a program started in the background binds its queue a moment later
until_bound() {  # NS QUEUE
	local n=50
	while [ $n -gt 0 ]; do
		case $(evq_stat "$1" "$2" portid 2>/dev/null) in 0|none|'') ;; *) return 0 ;; esac
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# NS QUEUES [SECONDS]: until /proc lists exactly QUEUES (deleted rules are
# destroyed a moment after their transaction)
until_queues() {
	local end=$((SECONDS + ${3:-5}))
	while [ $SECONDS -le $end ]; do
		[ "$(evq_queues "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "queues: $(evq_queues "$1" | cut -c1-200)"
	return 1
}

evcheck() { "$PYTHON" "$EVCHECK" "$@"; }
traffic() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PYTHON" "$TRAFFIC" "$@"
}

serve() {
	local ns=$1 f=$T_WORK/serve.$RANDOM
	shift
	ip netns exec "$ns" "$PYTHON" "$TRAFFIC" server "$@" > "$f" &
	SERVER_PID=$!
	wait_for_file "$f" 10
}

# conntrack flush in NS: a DESTROY event for every entry
ct_flush() { ip netns exec "$1" conntrack -F >/dev/null 2>&1; }

# COUNT UDP flows from 192.0.2.1:40000 to COUNT destination ports from
# FIRSTPORT on, each a conntrack entry in ns1
flows() {  # FIRSTPORT COUNT
	ip netns exec ns1 "$PYTHON" -c '
import socket, sys
first, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40000))
for p in range(first, first + n):
    s.sendto(b"x", ("192.0.2.2", p))
' "$1" "$2"
}
