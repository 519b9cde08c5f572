#!/usr/bin/python3
"""Hold packets in NFQUEUE until told to let them go.

nfqhold.py QUEUE PREFIX [COUNT]
    bind nfqueue QUEUE (copy no payload), create PREFIX.ready, then for each
    of COUNT packets (default 1): create PREFIX.held.N once it arrived, wait
    until PREFIX.go exists (at most 60 s) and accept it.  A test can change
    the ruleset while the packet's conntrack entry is still unconfirmed.
Exit status 0 when every packet was accepted.
"""
import os
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def msg(mtype, queue, attrs, seq):
    payload = struct.pack('=BBH', socket.AF_UNSPEC, 0, socket.htons(queue))
    for atype, data in attrs:
        a = struct.pack('=HH', 4 + len(data), atype) + data
        payload += a + b'\0' * (-len(a) % 4)
    return struct.pack('=IHHII', 16 + len(payload),
                       (NFNL_SUBSYS_QUEUE << 8) | mtype,
                       NLM_F_REQUEST | NLM_F_ACK, seq, 0) + payload


def expect_ack(s, seq):
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _, mseq, _ = struct.unpack_from('=IHHII', data, off)
            if typ == NLMSG_ERROR and mseq == seq:
                err = struct.unpack_from('=i', data, off + 16)[0]
                if err:
                    sys.exit('nfqhold: config seq %d: %s' % (seq, os.strerror(-err)))
                return
            off += (ln + 3) & ~3


def attrs_of(data, off, end):
    out = {}
    while off + 4 <= end:
        ln, typ = struct.unpack_from('=HH', data, off)
        if ln < 4:
            break
        out[typ & 0x7fff] = data[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def main():
    queue, prefix = int(sys.argv[1]), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.send(msg(NFQNL_MSG_CONFIG, queue,
               [(NFQA_CFG_CMD, struct.pack('=BBH', NFQNL_CFG_CMD_BIND, 0, 0))], 1))
    expect_ack(s, 1)
    s.send(msg(NFQNL_MSG_CONFIG, queue,
               [(NFQA_CFG_PARAMS, struct.pack('!IB', 0, NFQNL_COPY_META))], 2))
    expect_ack(s, 2)
    open(prefix + '.ready', 'w').write('1\n')
    seq = 10
    for n in range(count):
        pkt_id = None
        while pkt_id is None:
            data = s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                ln, typ, _, _, _ = struct.unpack_from('=IHHII', data, off)
                if typ == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    attrs = attrs_of(data, off + 20, off + ln)
                    if NFQA_PACKET_HDR in attrs:
                        pkt_id = struct.unpack_from('!I', attrs[NFQA_PACKET_HDR])[0]
                off += (ln + 3) & ~3
        open('%s.held.%d' % (prefix, n), 'w').write('%d\n' % pkt_id)
        end = time.monotonic() + 60
        while not os.path.exists(prefix + '.go') and time.monotonic() < end:
            time.sleep(0.05)
        seq += 1
        s.send(msg(NFQNL_MSG_VERDICT, queue,
                   [(NFQA_VERDICT_HDR, struct.pack('!II', NF_ACCEPT, pkt_id))], seq))
        expect_ack(s, seq)
    return 0


if __name__ == '__main__':
    sys.exit(main())
