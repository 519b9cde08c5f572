#!/usr/bin/python3
"""Delete one IPv4 conntrack entry by ctnetlink, with one allocation failed.

ctdel.py SRC DST PROTO SPORT DPORT [--fail-nth N] [--echo [--trim N]]
    IPCTNL_MSG_CT_DELETE for the original tuple.  With --fail-nth, the N-th
    fault-injectable allocation of this thread from the delete request on
    fails (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION + FAILSLAB);
    the delete runs nf_ct_delete() and so the DESTROY event in this thread.
    With --echo, the request has NLM_F_ECHO: the DESTROY comes back to this
    socket too; --trim N attaches a socket filter that keeps N bytes of every
    message this socket receives.
Prints "errno=E injected=0|1": the request's errno (0 if acked), and whether
the failure was injected before the request finished; with --echo also
"echo_len=L" (bytes of the echoed DESTROY received, 0 if none).
"""
import argparse
import ctypes
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO = 1, 4, 8
NLMSG_ERROR = 2
SO_ATTACH_FILTER = 26
BPF_RET_K = 0x06
NLA_F_NESTED = 0x8000
CTA_TUPLE_ORIG, CTA_TUPLE_IP, CTA_TUPLE_PROTO = 1, 1, 2
CTA_IP_V4_SRC, CTA_IP_V4_DST = 1, 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3


def attr(t, payload):
    a = struct.pack('=HH', 4 + len(payload), t) + payload
    return a + b'\0' * (-len(a) % 4)


def nest(t, *attrs):
    return attr(t | NLA_F_NESTED, b''.join(attrs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('src')
    p.add_argument('dst')
    p.add_argument('proto', choices=['tcp', 'udp'])
    p.add_argument('sport', type=int)
    p.add_argument('dport', type=int)
    p.add_argument('--fail-nth', type=int, default=0)
    p.add_argument('--echo', action='store_true')
    p.add_argument('--trim', type=int, default=0)
    a = p.parse_args()

    tuple_ = nest(CTA_TUPLE_ORIG,
                  nest(CTA_TUPLE_IP,
                       attr(CTA_IP_V4_SRC, socket.inet_aton(a.src)),
                       attr(CTA_IP_V4_DST, socket.inet_aton(a.dst))),
                  nest(CTA_TUPLE_PROTO,
                       attr(CTA_PROTO_NUM,
                            bytes([socket.IPPROTO_TCP if a.proto == 'tcp'
                                   else socket.IPPROTO_UDP])),
                       attr(CTA_PROTO_SRC_PORT, struct.pack('!H', a.sport)),
                       attr(CTA_PROTO_DST_PORT, struct.pack('!H', a.dport))))
    body = struct.pack('=BBH', socket.AF_INET, 0, 0) + tuple_
    msg = struct.pack('=IHHII', 16 + len(body),
                      (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
                      NLM_F_REQUEST | NLM_F_ACK |
                      (NLM_F_ECHO if a.echo else 0), 1, 0) + body

    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    if a.trim:
        # one classic BPF instruction: "ret #N", keep N bytes
        insns = struct.pack('=HBBI', BPF_RET_K, 0, 0, a.trim)
        buf = ctypes.create_string_buffer(insns)
        prog = struct.pack('=HxxxxxxQ' if struct.calcsize('P') == 8 else '=HxxI',
                           1, ctypes.addressof(buf))
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
    echo_len = 0
    nth = '/proc/thread-self/fail-nth'
    if a.fail_nth:
        with open(nth, 'w') as f:
            f.write('%d' % a.fail_nth)
    err = 0
    try:
        s.send(msg)
        while True:
            reply = s.recv(65536)
            if struct.unpack_from('=H', reply, 4)[0] == NLMSG_ERROR:
                err = -struct.unpack_from('=i', reply, 16)[0]
                break
            # the echoed DESTROY, before the ack
            echo_len = len(reply)
    except OSError as e:
        err = e.errno
    injected = 0
    if a.fail_nth:
        # the count left: 0 once the failure was injected
        with open(nth) as f:
            injected = int(int(f.read() or '0') == 0)
        # disarm, so that nothing after this request fails
        with open(nth, 'w') as f:
            f.write('0')
    print('errno=%d injected=%d' % (err, injected) +
          (' echo_len=%d' % echo_len if a.echo else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
