#!/usr/bin/python3
"""Deterministic test traffic between two netns.

traffic.py server tcp|udp ADDR PORT COUNT   serve COUNT connections (udp: 2 datagrams each)
traffic.py client tcp|udp ADDR PORT COUNT [--sport BASE] [--gate PREFIX]
                  [--noreply] [--mark M] [--src ADDR]
    make COUNT connections one after the other; each sends one request and
    waits for the answer (udp: two of them); tcp closes (client first)
    before the next one.
    --sport gives connection i the source port BASE+i.
    --noreply (udp): one datagram per connection, no answer awaited.
    --mark: the packets the client sends carry mark M (SO_MARK).
    --src: the client's source address.
    --gate: after the answer, create PREFIX.ready and keep the tcp
    connection open until PREFIX.go exists (at most 60 s), so that a test
    can change the ruleset at a known point of the connection's life
    without guessing how long a slow guest takes to get there.
"""
import os
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def server(proto, addr, port, count):
    fam = family(addr)
    if proto == 'tcp':
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)
        print('ready', flush=True)
        for _ in range(count):
            c, _ = s.accept()
            data = c.recv(64)
            c.sendall(data)
            # wait for the client's FIN so that it closes first
            c.recv(64)
            c.close()
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, port))
        print('ready', flush=True)
        for _ in range(2 * count):
            data, peer = s.recvfrom(64)
            s.sendto(data, peer)


def gate(prefix):
    open(prefix + '.ready', 'w').write('1\n')
    end = time.monotonic() + 60
    while not os.path.exists(prefix + '.go') and time.monotonic() < end:
        time.sleep(0.05)


def client(proto, addr, port, count, sport=None, gate_prefix=None, noreply=False,
           mark=None, src=None):
    fam = family(addr)
    for i in range(count):
        typ = socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM
        s = socket.socket(fam, typ)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if mark is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
        if sport is not None or src is not None:
            any_addr = '::' if fam == socket.AF_INET6 else '0.0.0.0'
            s.bind((src or any_addr, 0 if sport is None else sport + i))
        s.settimeout(10)
        if proto == 'tcp':
            s.connect((addr, port))
            s.sendall(b'x')
            s.recv(64)
            if gate_prefix:
                gate(gate_prefix)
            s.shutdown(socket.SHUT_WR)
            s.recv(64)
        elif noreply:
            try:
                s.sendto(b'x', (addr, port))
            except OSError:
                pass    # dropped on the way out (a full conntrack table)
        else:
            # two exchanges: the second request is the first packet of the
            # original direction in state established
            for _ in range(2):
                s.sendto(b'x', (addr, port))
                s.recvfrom(64)
        s.close()


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    mode, proto, addr, port, count = sys.argv[1:6]
    port, count = int(port), int(count)
    opts = sys.argv[6:]
    sport = int(opts[opts.index('--sport') + 1]) if '--sport' in opts else None
    gate_prefix = opts[opts.index('--gate') + 1] if '--gate' in opts else None
    mark = int(opts[opts.index('--mark') + 1], 0) if '--mark' in opts else None
    src = opts[opts.index('--src') + 1] if '--src' in opts else None
    if mode == 'server':
        server(proto, addr, port, count)
    else:
        client(proto, addr, port, count, sport, gate_prefix,
               '--noreply' in opts, mark, src)


if __name__ == '__main__':
    main()
