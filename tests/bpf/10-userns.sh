#!/bin/bash
# A container's view: a process with no privilege outside its own user
# namespace, CAP_NET_ADMIN in it and a netns of that namespace, adds a
# "ct event queue" rule, binds the queue and gets its connections' events.
# The BPF tracer cannot load there: the bpf() syscall wants CAP_BPF (and
# CAP_PERFMON for tracing) in the initial user namespace.  The same tracer
# loads as root in the initial namespace (the control: the failure is the
# namespace's, not the tracer's).
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

for c in unshare setpriv; do
	have $c || { skip userns_setup "no $c"; summary; exit $?; }
done
# The project tree may sit under a directory only root can enter (a CI
# clone in mktemp -d): the unprivileged process gets copies.
U=$T_WORK/u
mkdir -p "$U/bin" && chmod 755 "$T_WORK" "$U" "$U/bin" || { fail userns_setup "mkdir"; summary; exit 1; }
cp "$TOP/build/bin/ctevq-listen" "$TOP/build/bin/ctevq-rule" "$TOP/build/bin/ctevq-trace" "$U/bin/"
chmod 777 "$U"
cat > "$U/inner.sh" <<'INNER'
U=$1
export PATH=$U/bin:$PATH
id -u > "$U/uid"
grep CapEff /proc/self/status > "$U/caps"
ip link set lo up || exit 1
ctevq-rule add table inet f ';' add chain inet f c output 0 ';' \
	add rule inet f c l4proto udp dport 7001 ctevent 1 2> "$U/rule.err" || exit 1
ctevq-listen --json -q 1 --ready "$U/q.rdy" -t 20 -c 6 > "$U/q.json" 2> "$U/q.err" &
lp=$!
for i in $(seq 100); do [ -s "$U/q.rdy" ] && break; sleep 0.1; done
/usr/bin/python3 -c '
import socket
for p in (40001, 40002, 40003):
    for d in (7001, 7002):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", p))
        s.sendto(b"x", ("127.0.0.1", d))
        s.close()
'
# the control of the stream's absence of port 7002: its entries exist
conntrack -L -p udp --dport 7002 2>/dev/null | wc -l > "$U/c7002"
conntrack -D -p udp > /dev/null 2>&1
wait $lp
echo $? > "$U/q.rc"
ctevq-trace -t 1 > "$U/trace.out" 2> "$U/trace.err"
echo $? > "$U/trace.rc"
INNER
(cd "$U" && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	unshare --user --map-root-user --net bash "$U/inner.sh" "$U")
echo "    outside: uid 65534; inside: uid $(cat "$U/uid" 2>/dev/null), $(cat "$U/caps" 2>/dev/null)"
expect userns_root_inside 0 "$(cat "$U/uid" 2>/dev/null)"
if [ -s "$U/q.rdy" ]; then ok userns_queue_bound; else fail userns_queue_bound "$(cat "$U/rule.err" "$U/q.err" 2>/dev/null)"; fi
norm=$(evcheck norm "$U/q.json" 2>&1)
echo "$norm" | sed 's/^/    /'
want="ipv4 17 127.0.0.1:40001->127.0.0.1:7001: new destroy
ipv4 17 127.0.0.1:40002->127.0.0.1:7001: new destroy
ipv4 17 127.0.0.1:40003->127.0.0.1:7001: new destroy"
expect userns_unwanted_entries_exist 3 "$(cat "$U/c7002" 2>/dev/null)"
expect userns_queue_stream "$want" "$norm"
err=$(cat "$U/trace.err" 2>/dev/null)
echo "    tracer: exit $(cat "$U/trace.rc" 2>/dev/null): $(echo "$err" | tail -n 1)"
if [ "$(cat "$U/trace.rc" 2>/dev/null)" = 1 ] && echo "$err" | grep -q '(EPERM)'; then
	ok userns_tracer_refused_eperm
else
	fail userns_tracer_refused_eperm "exit $(cat "$U/trace.rc" 2>/dev/null): $err"
fi
# the control, as root in the initial user namespace
if out=$(ctevq-trace -t 0.5 2>&1); then
	ok initns_tracer_loads
else
	fail initns_tracer_loads "$out"
fi
summary
