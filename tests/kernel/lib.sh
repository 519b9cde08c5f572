# shellcheck shell=bash
# tests/kernel/lib.sh - helpers for kernel tests running inside the guest
# (scripts/run-guest.sh -> scripts/guest-init.sh -> bash TEST).
#
#   . "$(dirname "$0")/lib.sh"
#
# Result lines (exactly):  PASS: NAME | FAIL: NAME: MSG | SKIP: NAME: REASON
#   ok NAME / fail NAME MSG / skip NAME REASON / check NAME MSG -- CMD...
#   summary   -> prints "N passed, N failed, N skipped"; returns 1 if any FAIL
#                (end a test with: summary; exit $?)
# Network:
#   mk_pair        netns ns1/ns2, veth1 (ns1) <-> veth2 (ns2),
#                  192.0.2.1/24 <-> 192.0.2.2/24, 2001:db8::1/64 <-> 2001:db8::2/64
#   cleanup_ns     deletes ns1, ns2 (and any netns given as arguments)
#   set_short_timeouts NS [SECS]   conntrack timeouts of NS to SECS (default 2)
#   ping_ns NS ADDR [COUNT]        ICMP echo (ping if installed, else nettool.py)
#   tcp_conn NS DSTADDR PORT [MSG] one TCP connection with echo check; needs a
#                                  server: tcp_server NS PORT [N] (background,
#                                  waits until it listens, sets $SERVER_PID)
#   udp_xchg NS DSTADDR PORT [MSG] / udp_server NS PORT [N]
#   nettool ARGS...                scripts/nettool.py (see its --help)
# Misc:
#   suite_files DIR SUITE          the test files NN-*.sh of DIR that SUITE
#                                  names (NN+NN...), or all of them
#   wait_for_file FILE SECS        until FILE exists and is non-empty
#   wait_for_grep FILE REGEX SECS  until grep -E REGEX FILE matches
#   dmesg_clean                    no kernel splat since lib.sh was sourced
#                                  (prints the offending lines otherwise)
#   have CMD                       CMD is available
# Variables: TOP (repo), NETTOOL, SPLAT_SCAN, T_PASS, T_FAIL, T_SKIP.

TOP=${CTEVQ_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NETTOOL=$TOP/scripts/nettool.py
SPLAT_SCAN=$TOP/scripts/splat-scan.sh
PYTHON=/usr/bin/python3
export PATH="$TOP/build/bin:$PATH:/usr/sbin:/sbin"
T_PASS=0 T_FAIL=0 T_SKIP=0
T_WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktest.XXXXXX")

ok()   { T_PASS=$((T_PASS + 1)); echo "PASS: $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $1: ${2:-failed}"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP: $1: ${2:-skipped}"; }

# check NAME MSG -- CMD [ARGS...] : ok if CMD succeeds, else fail with MSG
# (CMD's output is shown only on failure).
check() {
	local name=$1 msg=$2 out
	shift 2; [ "${1:-}" = -- ] && shift
	if out=$("$@" 2>&1); then ok "$name"; return 0; fi
	fail "$name" "$msg"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	return 1
}

summary() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

have() { command -v "$1" > /dev/null 2>&1; }

suite_files() {
	local n
	case $2 in
	[0-9][0-9]*) for n in ${2//+/ }; do (cd "$1" && ls "$n"-*.sh); done ;;
	*) (cd "$1" && ls [0-9][0-9]-*.sh) ;;
	esac
}

# ---- kernel log -------------------------------------------------------------
# Mark the test start in the kernel log; dmesg_clean looks only after it.
T_MARK="ctevq-test-start-$$-${EPOCHREALTIME:-$RANDOM}"
echo "<6>$T_MARK $(basename "$0")" > /dev/kmsg 2>/dev/null || T_MARK=

dmesg_clean() {
	local log=$T_WORK/dmesg.since
	dmesg > "$log" 2>&1
	# Only what came after our start mark (whole log if the mark is gone).
	if [ -n "$T_MARK" ] && grep -q -F "$T_MARK" "$log"; then
		sed -n "/$T_MARK/,\$p" "$log" > "$log.tail" && mv "$log.tail" "$log"
	fi
	if "$SPLAT_SCAN" "$log" > "$T_WORK/splats"; then
		sed 's/^/    /' "$T_WORK/splats"
		return 1
	fi
	return 0
}

# ---- waiting ----------------------------------------------------------------
wait_for_file() {  # FILE SECONDS
	local f=$1 n=$(( ${2:-5} * 10 ))
	while [ $n -gt 0 ]; do
		[ -s "$f" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	[ -s "$f" ]
}

wait_for_grep() {  # FILE REGEX SECONDS
	local f=$1 re=$2 n=$(( ${3:-5} * 10 ))
	while [ $n -gt 0 ]; do
		grep -q -E -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1; n=$((n - 1))
	done
	grep -q -E -- "$re" "$f" 2>/dev/null
}

# ---- network namespaces -------------------------------------------------------
cleanup_ns() {
	local ns
	for ns in ns1 ns2 "$@"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

mk_pair() {
	cleanup_ns
	ip netns add ns1 && ip netns add ns2 || return 1
	ip -n ns1 link set lo up && ip -n ns2 link set lo up || return 1
	ip link add veth1 netns ns1 type veth peer name veth2 netns ns2 || return 1
	ip -n ns1 addr add 192.0.2.1/24 dev veth1 &&
	ip -n ns2 addr add 192.0.2.2/24 dev veth2 &&
	ip -n ns1 addr add 2001:db8::1/64 dev veth1 nodad &&
	ip -n ns2 addr add 2001:db8::2/64 dev veth2 nodad &&
	ip -n ns1 link set veth1 up &&
	ip -n ns2 link set veth2 up || return 1
	# Ready when both links have carrier and no IPv6 address is tentative
	# (the link-local ones still run DAD).
	local n=100 ns dev
	while [ $n -gt 0 ]; do
		local ready=1
		for ns_dev in ns1:veth1 ns2:veth2; do
			ns=${ns_dev%%:*} dev=${ns_dev#*:}
			ip -n "$ns" link show dev "$dev" | grep -q 'LOWER_UP' || ready=0
			[ -z "$(ip -n "$ns" -6 addr show dev "$dev" tentative)" ] || ready=0
			ip -n "$ns" -6 addr show dev "$dev" scope global | grep -q 'inet6' || ready=0
		done
		[ $ready = 1 ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	echo "mk_pair: addresses not ready after 10s" >&2
	ip -n ns1 addr; ip -n ns2 addr
	return 1
}

set_short_timeouts() {  # NS [SECONDS]
	local ns=$1 t=${2:-2}
	ip netns exec "$ns" bash -c '
		t=$1; rc=0
		for f in /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_* \
			/proc/sys/net/netfilter/nf_conntrack_udp_timeout \
			/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream \
			/proc/sys/net/netfilter/nf_conntrack_icmp_timeout \
			/proc/sys/net/netfilter/nf_conntrack_icmpv6_timeout; do
			[ -e "$f" ] || { echo "set_short_timeouts: no $f" >&2; rc=1; continue; }
			echo "$t" > "$f" || rc=1
		done
		exit $rc' _ "$t"
}

# ---- traffic -------------------------------------------------------------------
nettool() { "$PYTHON" -I -S "$NETTOOL" "$@"; }

ping_ns() {  # NS ADDR [COUNT]
	local ns=$1 addr=$2 c=${3:-1}
	if have ping; then
		ip netns exec "$ns" ping -n -q -c "$c" -i 0.2 -W 2 "$addr" > /dev/null
	else
		ip netns exec "$ns" "$PYTHON" -I -S "$NETTOOL" ping -c "$c" -W 2 "$addr" > /dev/null
	fi
}

# tcp_server NS PORT [N [TIMEOUT]] : background echo server serving N
# connections; returns once it listens. PID in $SERVER_PID.
tcp_server() {
	local ns=$1 port=$2 n=${3:-1} to=${4:-30} rdy
	rdy=$T_WORK/ready.tcp.$ns.$port.$RANDOM
	ip netns exec "$ns" "$PYTHON" -I -S "$NETTOOL" tcp-server "$port" -n "$n" -t "$to" --ready "$rdy" &
	SERVER_PID=$!
	wait_for_file "$rdy" 10
}

udp_server() {
	local ns=$1 port=$2 n=${3:-1} to=${4:-30} rdy
	rdy=$T_WORK/ready.udp.$ns.$port.$RANDOM
	ip netns exec "$ns" "$PYTHON" -I -S "$NETTOOL" udp-server "$port" -n "$n" -t "$to" --ready "$rdy" &
	SERVER_PID=$!
	wait_for_file "$rdy" 10
}

# tcp_conn NS DSTADDR PORT [MSG [extra tcp-client args...]]
tcp_conn() {
	local ns=$1 dst=$2 port=$3 msg=${4:-ctevq}
	shift 3; [ $# -gt 0 ] && shift
	ip netns exec "$ns" "$PYTHON" -I -S "$NETTOOL" tcp-client "$dst" "$port" -m "$msg" "$@"
}

udp_xchg() {
	local ns=$1 dst=$2 port=$3 msg=${4:-ctevq}
	shift 3; [ $# -gt 0 ] && shift
	ip netns exec "$ns" "$PYTHON" -I -S "$NETTOOL" udp-client "$dst" "$port" -m "$msg" "$@"
}
