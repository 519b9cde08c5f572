#!/usr/bin/python3
"""Check conntrack event streams written by `ctevq-listen --json`.

evcheck.py norm FILE
    one line per connection (sorted by tuple): "KEY: EV EV ...", where EV is
    new[:STATE], update[:STATE] or destroy; STATE is the tcp state.
evcheck.py wellformed FILE [--conns N] [--destroy-only] [--no-destroy] [--lossy]
    every connection: exactly one NEW (nlmsg flags NLM_F_CREATE|NLM_F_EXCL)
    and it comes first, exactly one DESTROY and it comes last, nlmsg_seq 0;
    --conns: exactly N connections; --destroy-only: DESTROY messages only;
    --no-destroy: no DESTROY expected (connections still alive);
    --lossy: a listener that lost messages: its DESTROY may be missing,
    everything else holds for every connection it saw.
evcheck.py newstatus FILE MASK
    print the number of connections whose NEW carries a status with any
    bit of MASK (e.g. 0x2, IPS_SEEN_REPLY: a NEW built after the reply).
evcheck.py count FILE [TYPE]
    print the number of messages (of TYPE new/update/destroy).
evcheck.py conns FILE
    print the number of distinct connections.
evcheck.py equal FILE_A FILE_B
    the two streams are the same messages in the same order (all fields but
    "src" and "groups": a queue's messages are unicast, from no group).
evcheck.py spread FILE BASE TOTAL
    messages of queues BASE..BASE+TOTAL-1: every connection on exactly one
    queue, the one its conntrack id selects (as the kernel computes it);
    prints connections per queue.
evcheck.py first FILE FIELD
    print FIELD of each connection's first message, one line per connection.

Every command takes --sport A-B: only messages of connections whose
original source port is in A..B count.
"""
import json
import sys

NLM_F_CREATE_EXCL = 0x400 | 0x200


def load(path, sports=None):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                m = json.loads(line)
            except ValueError:
                sys.exit('%s:%d: not JSON: %r' % (path, n, line))
            if sports and not sports[0] <= int(m.get('sport') or 0) <= sports[1]:
                continue
            out.append(m)
    return out


def key(m):
    return '%s %s %s:%s->%s:%s' % (m.get('l3'), m.get('proto'), m.get('orig_src'),
                                   m.get('sport'), m.get('orig_dst'), m.get('dport'))


def by_conn(msgs):
    conns = {}
    for m in msgs:
        conns.setdefault(key(m), []).append(m)
    return conns


def ev(m):
    s = m['type']
    if m['type'] != 'destroy' and m.get('tcp_state'):
        s += ':' + m['tcp_state']
    return s


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    opts = sys.argv[3:]
    sports = None
    if '--sport' in opts:
        lo, _, hi = opts[opts.index('--sport') + 1].partition('-')
        sports = (int(lo), int(hi or lo))
    msgs = load(path, sports)
    conns = by_conn(msgs)
    if cmd == 'norm':
        for k in sorted(conns):
            print('%s: %s' % (k, ' '.join(ev(m) for m in conns[k])))
    elif cmd == 'count':
        t = opts[0] if opts and not opts[0].startswith('--') else None
        print(sum(1 for m in msgs if t is None or m['type'] == t))
    elif cmd == 'equal':
        other = load(opts[0], sports)
        strip = lambda ms: [{k: v for k, v in m.items()
                             if k not in ('src', 'groups')} for m in ms]
        a, b = strip(msgs), strip(other)
        if a != b:
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    print('message %d differs:\n  %s\n  %s' % (i, x, y))
                    break
            else:
                print('lengths differ: %d vs %d' % (len(a), len(b)))
            sys.exit(1)
        print('equal: %d messages' % len(a))
    elif cmd == 'spread':
        base, total = int(opts[0]), int(opts[1])
        errs, per = [], {}
        for k, ms in conns.items():
            srcs = {m['src'] for m in ms}
            # CTA_ID carries nf_ct_get_id() in host byte order: a listener
            # that reads it as big endian sees it byte-swapped
            kid = int.from_bytes(ms[0]['id'].to_bytes(4, 'big'), 'little')
            want = 'q%d' % (base + ((kid * total) >> 32))
            if srcs != {want}:
                errs.append('%s: on %s, want %s' % (k, sorted(srcs), want))
            for q in srcs:
                per[q] = per.get(q, 0) + 1
        print(' '.join('%s=%d' % (q, per[q]) for q in sorted(per)))
        if errs:
            print('\n'.join(errs[:20]))
            sys.exit(1)
    elif cmd == 'first':
        for k in sorted(conns):
            print('%s: %s' % (k, conns[k][0].get(opts[0])))
    elif cmd == 'conns':
        print(len(conns))
    elif cmd == 'newstatus':
        mask = int(opts[0], 0)
        print(sum(1 for ms in conns.values()
                  if any(m['type'] == 'new' and m.get('status', 0) & mask for m in ms)))
    elif cmd == 'wellformed':
        errs = []
        if '--conns' in opts:
            want = int(opts[opts.index('--conns') + 1])
            if len(conns) != want:
                errs.append('%d connections, want %d' % (len(conns), want))
        for k, ms in conns.items():
            types = [m['type'] for m in ms]
            for m in ms:
                if m.get('seq', 0) != 0:
                    errs.append('%s: nlmsg_seq %s' % (k, m.get('seq')))
            if '--destroy-only' in opts:
                if types != ['destroy']:
                    errs.append('%s: %s, want destroy only' % (k, ' '.join(types)))
                continue
            if types.count('new') != 1 or types[0] != 'new':
                errs.append('%s: %s, want one new first' % (k, ' '.join(types)))
            elif ms[0]['nlmsg_flags'] & NLM_F_CREATE_EXCL != NLM_F_CREATE_EXCL:
                errs.append('%s: new without NLM_F_CREATE|NLM_F_EXCL' % k)
            if '--no-destroy' in opts:
                if 'destroy' in types:
                    errs.append('%s: unexpected destroy' % k)
            elif '--lossy' in opts and 'destroy' not in types:
                pass
            elif types.count('destroy') != 1 or types[-1] != 'destroy':
                errs.append('%s: %s, want one destroy last' % (k, ' '.join(types)))
        if errs:
            print('\n'.join(errs[:20]))
            sys.exit(1)
        print('wellformed: %d connections, %d messages' % (len(conns), len(msgs)))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
