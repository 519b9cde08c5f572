#!/usr/bin/python3
"""A closing socket's portid taken by a new socket that binds the same queue.

reuse.py QUEUE PORTID ROUNDS [--delay N]
    Each round, a child process binds event queue QUEUE from a socket with
    portid PORTID and closes that socket; the parent, spinning on
    bind(PORTID) meanwhile, gets the portid as soon as netlink frees it (in
    netlink_release(), before NETLINK_URELEASE), looks at /proc, binds
    QUEUE, waits for the child to exit (the old socket's URELEASE is over)
    and unbinds QUEUE.  --delay N first binds N nfnetlink_queue
    instances from a socket of its own: nfnetlink_queue's NETLINK_URELEASE
    notifier, which runs before conntrack's, then walks N instances at every
    socket close, which holds the old socket's URELEASE back while the new
    socket binds (on another CPU).
Prints "rounds=R raced=N lost=M failed=F":
    raced   rounds in which /proc still listed the old socket's binding when
            the new socket had the portid: its URELEASE was still to come;
    lost    rounds in which the new socket's unbind failed with ENOENT: its
            binding had gone with the old socket's URELEASE;
    failed  rounds in which the new socket's bind failed.
"""
import argparse
import errno
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_QUEUE = 1, 3
IPCTNL_MSG_CT_EVQ_CFG = 8
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQNL_CFG_CMD_BIND = 1
CTA_EVQ_NUM, CTA_EVQ_CMD = 1, 2
CTNL_EVQ_CMD_BIND, CTNL_EVQ_CMD_UNBIND = 1, 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def attr(t, payload):
    a = struct.pack('=HH', 4 + len(payload), t) + payload
    return a + b'\0' * (-len(a) % 4)


def nfmsg(subsys, mtype, flags, seq, body):
    body = struct.pack('=BBH', socket.AF_UNSPEC, 0, 0) + body
    return struct.pack('=IHHII', 16 + len(body), (subsys << 8) | mtype,
                       NLM_F_REQUEST | flags, seq, 0) + body


def request(s, msg):
    """Send one acked request; returns its errno (0: done)."""
    s.send(msg)
    while True:
        reply = s.recv(65536)
        if struct.unpack_from('=H', reply, 4)[0] == NLMSG_ERROR:
            return -struct.unpack_from('=i', reply, 16)[0]


def evq_cfg(s, queue, cmd):
    return request(s, nfmsg(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_EVQ_CFG,
                            NLM_F_ACK, 1,
                            attr(CTA_EVQ_NUM, struct.pack('!H', queue)) +
                            attr(CTA_EVQ_CMD, bytes([cmd]))))


def nfqueue_instances(n):
    """A socket bound to nfnetlink_queue instances 0 .. n-1 (kept open)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    cmd = attr(NFQA_CFG_CMD, struct.pack('=BBH', NFQNL_CFG_CMD_BIND, 0, 0))
    batch = []
    for q in range(n):
        m = nfmsg(NFNL_SUBSYS_QUEUE, NFQNL_MSG_CONFIG, 0, q, b'')
        # res_id is the queue number, in network order
        m = m[:18] + struct.pack('!H', q) + m[20:] + cmd
        m = struct.pack('=I', len(m)) + m[4:]
        batch.append(m)
        if len(batch) == 1000 or q == n - 1:
            s.send(b''.join(batch))
            batch = []
    # errors would come back as messages: none expected without NLM_F_ACK
    s.setblocking(False)
    try:
        reply = s.recv(65536)
        if struct.unpack_from('=H', reply, 4)[0] == NLMSG_ERROR:
            sys.exit('nfqueue bind: errno %d' %
                     -struct.unpack_from('=i', reply, 16)[0])
    except BlockingIOError:
        pass
    return s


def proc_portid(queue):
    try:
        with open('/proc/net/netfilter/nf_conntrack_evq') as f:
            for line in f:
                w = line.split()
                if int(w[0]) == queue:
                    return int(w[1])
    except OSError:
        pass
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument('queue', type=int)
    p.add_argument('portid', type=int)
    p.add_argument('rounds', type=int)
    p.add_argument('--delay', type=int, default=0)
    a = p.parse_args()

    hold = nfqueue_instances(a.delay) if a.delay else None
    raced = lost = failed = 0
    for _ in range(a.rounds):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                              NETLINK_NETFILTER)
            s.bind((a.portid, 0))
            err = evq_cfg(s, a.queue, CTNL_EVQ_CMD_BIND)
            os.write(ready_w, bytes([err]))
            os.read(go_r, 1)
            s.close()
            os._exit(0)
        if os.read(ready_r, 1)[0]:
            sys.exit('the old socket could not bind queue %d' % a.queue)
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                          NETLINK_NETFILTER)
        os.write(go_w, b'x')
        while True:
            try:
                s.bind((a.portid, 0))
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
        if proc_portid(a.queue) == a.portid:
            raced += 1
        err = evq_cfg(s, a.queue, CTNL_EVQ_CMD_BIND)
        # the old socket's close, URELEASE included, is over once it exits
        os.waitpid(pid, 0)
        if err:
            failed += 1
        elif evq_cfg(s, a.queue, CTNL_EVQ_CMD_UNBIND) == errno.ENOENT:
            lost += 1
        s.close()
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)
    if hold:
        hold.close()
    print('rounds=%d raced=%d lost=%d failed=%d' %
          (a.rounds, raced, lost, failed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
