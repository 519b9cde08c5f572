#!/usr/bin/python3 -I
"""Tiny traffic generator for guest tests (no ping/socat/nc needed).

  nettool.py ping ADDR [-c COUNT] [-W SECS] [-i SECS]
      ICMP/ICMPv6 echo via a raw socket; exit 0 if at least one reply.
  nettool.py tcp-server PORT [-n CONNS] [-b ADDR] [--ready FILE] [-t SECS]
      echo server: serves CONNS connections (default 1) one after the other,
      then exits; --ready FILE is created once listening; -t overall timeout.
  nettool.py tcp-client ADDR PORT [-m MSG] [-t SECS] [--sport P] [--hold SECS] [--rst]
      connect, send MSG, expect it echoed back, close (--rst: abortive close).
  nettool.py udp-server PORT [-n DGRAMS] [-b ADDR] [--ready FILE] [-t SECS]
      echo DGRAMS datagrams back to their senders, then exit.
  nettool.py udp-client ADDR PORT [-m MSG] [-t SECS] [--sport P] [--no-reply]
      send MSG; unless --no-reply, expect it echoed back.
Exit status: 0 ok, 1 failure/timeout, 2 usage.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def do_ping(a):
    fam = family_of(a.addr)
    if fam == socket.AF_INET:
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req_type, rep_type = 8, 0
    else:
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req_type, rep_type = 128, 129
    ident = (os.getpid() ^ int(time.time() * 1000)) & 0xFFFF
    got = 0
    for seq in range(1, a.count + 1):
        payload = struct.pack("!d", time.time()) + b"ctevq-ping" * 4
        hdr = struct.pack("!BBHHH", req_type, 0, 0, ident, seq)
        if fam == socket.AF_INET:
            hdr = struct.pack("!BBHHH", req_type, 0, csum(hdr + payload), ident, seq)
        t0 = time.monotonic()
        try:
            s.sendto(hdr + payload, (a.addr, 0))
        except OSError as e:
            print("ping: sendto %s: %s" % (a.addr, e), file=sys.stderr)
            if seq < a.count:
                time.sleep(a.interval)
            continue
        deadline = t0 + a.wait
        ok = False
        while not ok:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            data, src = s.recvfrom(65535)
            if fam == socket.AF_INET:
                data = data[(data[0] & 0x0F) * 4:]
            if len(data) < 8:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if typ == rep_type and rid == ident and rseq == seq:
                ok = True
                got += 1
                print("reply from %s: icmp_seq=%d time=%.2f ms"
                      % (src[0], seq, (time.monotonic() - t0) * 1000))
        if seq < a.count:
            time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))
    print("%d packets transmitted, %d received" % (a.count, got))
    return 0 if got else 1


def bind_any(s, fam, addr, port):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and addr in ("", "::"):
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))


def server_socket(a, typ):
    addr = a.bind if a.bind is not None else "::"
    fam = family_of(addr) if addr else socket.AF_INET6
    s = socket.socket(fam, typ)
    bind_any(s, fam, addr, a.port)
    return s


def ready(a):
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % os.getpid())


def remaining(deadline):
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timeout")
    return left


def do_tcp_server(a):
    s = server_socket(a, socket.SOCK_STREAM)
    s.listen(16)
    ready(a)
    deadline = time.monotonic() + a.timeout if a.timeout else None
    try:
        for _ in range(a.n):
            s.settimeout(remaining(deadline))
            c, peer = s.accept()
            c.settimeout(remaining(deadline))
            with c:
                while True:
                    try:
                        d = c.recv(65536)
                    except ConnectionResetError:
                        break
                    if not d:
                        break
                    c.sendall(d)
    except (TimeoutError, socket.timeout):
        print("tcp-server: timeout", file=sys.stderr)
        return 1
    return 0


def client_socket(a, typ):
    fam = family_of(a.addr)
    s = socket.socket(fam, typ)
    if a.sport:
        bind_any(s, fam, "::" if fam == socket.AF_INET6 else "0.0.0.0", a.sport)
    s.settimeout(a.timeout)
    return s


def do_tcp_client(a):
    msg = a.msg.encode()
    s = client_socket(a, socket.SOCK_STREAM)
    try:
        s.connect((a.addr, a.port))
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(65536)
            if not d:
                break
            got += d
        if a.hold:
            time.sleep(a.hold)
        if a.rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError as e:
        print("tcp-client: %s port %d: %s" % (a.addr, a.port, e), file=sys.stderr)
        return 1
    if got != msg:
        print("tcp-client: echo mismatch: %r" % got, file=sys.stderr)
        return 1
    return 0


def do_udp_server(a):
    s = server_socket(a, socket.SOCK_DGRAM)
    ready(a)
    deadline = time.monotonic() + a.timeout if a.timeout else None
    try:
        for _ in range(a.n):
            s.settimeout(remaining(deadline))
            d, peer = s.recvfrom(65536)
            s.sendto(d, peer)
    except (TimeoutError, socket.timeout):
        print("udp-server: timeout", file=sys.stderr)
        return 1
    return 0


def do_udp_client(a):
    msg = a.msg.encode()
    s = client_socket(a, socket.SOCK_DGRAM)
    try:
        s.sendto(msg, (a.addr, a.port))
        if a.no_reply:
            return 0
        d, _ = s.recvfrom(65536)
    except OSError as e:
        print("udp-client: %s port %d: %s" % (a.addr, a.port, e), file=sys.stderr)
        return 1
    if d != msg:
        print("udp-client: echo mismatch: %r" % d, file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("ping")
    q.add_argument("addr")
    q.add_argument("-c", "--count", type=int, default=1)
    q.add_argument("-W", "--wait", type=float, default=2.0)
    q.add_argument("-i", "--interval", type=float, default=0.2)
    q.set_defaults(fn=do_ping)
    for name, fn in (("tcp-server", do_tcp_server), ("udp-server", do_udp_server)):
        q = sub.add_parser(name)
        q.add_argument("port", type=int)
        q.add_argument("-n", type=int, default=1)
        q.add_argument("-b", "--bind", default=None)
        q.add_argument("--ready", default=None)
        q.add_argument("-t", "--timeout", type=float, default=0)
        q.set_defaults(fn=fn)
    for name, fn in (("tcp-client", do_tcp_client), ("udp-client", do_udp_client)):
        q = sub.add_parser(name)
        q.add_argument("addr")
        q.add_argument("port", type=int)
        q.add_argument("-m", "--msg", default="ctevq")
        q.add_argument("-t", "--timeout", type=float, default=5.0)
        q.add_argument("--sport", type=int, default=0)
        if name == "tcp-client":
            q.add_argument("--hold", type=float, default=0)
            q.add_argument("--rst", action="store_true")
        else:
            q.add_argument("--no-reply", action="store_true")
        q.set_defaults(fn=fn)
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
