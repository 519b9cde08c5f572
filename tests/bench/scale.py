#!/usr/bin/env python3
"""Format tests/bench/run-scale.sh's raw lines (make bench-scale) as markdown and
draw one figure per curve with gnuplot.

Usage: scale.py SCALE_ALL_RAW OUTDIR > results.md

SCALE_ALL_RAW is scale.raw with the host's CPU account of the guest at its
marks (hostcpu lines) and the host's load (host line) appended.  Every
number is the median over the repetitions; the CPU of a window is taken
against the window of the same repetition without rule and listener
("extra"), and per message the listeners received.  Figures: OUTDIR/*.png,
their data OUTDIR/*.dat.
"""
import os
import shutil
import subprocess
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from format import med, parse, ratio  # noqa: E402  (make bench's formatter)


def num(v, default=None):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def fmt(v, nd=1):
    if v is None:
        return 'n/a'
    # no "-0.0" for a difference that rounds to nothing
    return f'{v + 0.0 if round(v, nd) else 0.0:,.{nd}f}'


class Cpu:
    """CPU ns of a labelled window, from the hostcpu marks."""

    def __init__(self, rows):
        self.hc = {r.get('label'): num(r.get('ns')) for r in rows if r['kind'] == 'hostcpu'}

    def ns(self, label):
        a, b = self.hc.get(f'{label}.start'), self.hc.get(f'{label}.end')
        return None if a is None or b is None else b - a


def per_event_us(cpu, row, base, events):
    """(total, extra) CPU us per event of a window, or Nones."""
    c = cpu.ns(row.get('label'))
    c0 = cpu.ns(base.get('label')) if base else None
    if c is None or not events:
        return None, None
    extra = None if c0 is None else (c - c0) / events / 1e3
    return c / events / 1e3, extra


def against_none(cpu, rows, key, x, mode, events_of):
    """(total, extra) CPU us per event of the MODE windows with rows[key] ==
    x, each taken against the "none" window of its repetition: lists."""
    tot, ext = [], []
    for r in rows:
        if r.get(key) != str(x) or r.get('mode') != mode:
            continue
        b = next((n for n in rows if n.get(key) == str(x) and n.get('rep') == r['rep']
                  and n.get('mode') == 'none'), None)
        t, e = per_event_us(cpu, r, b, events_of(r))
        tot.append(t)
        ext.append(e)
    return tot, ext


def cpu_curve(outdir, summary, figs, name, res, title, xlabel):
    """The summary line and the figure of a CPU-per-event curve; res maps
    x to (total, extra) us per message."""
    if not res:
        return
    lo, hi = min(res), max(res)
    summary.append(f'ratio cpu_per_event {name}={hi}/{name}={lo} = {fmt(ratio(res[hi][1], res[lo][1]), 3)}'
                   f' (extra over the traffic alone; guest CPU in all: {fmt(ratio(res[hi][0], res[lo][0]), 3)})')
    if plot(outdir, name, title, xlabel, 'us per message',
            [('guest CPU', [(x, res[x][0]) for x in sorted(res)]),
             ('extra over the traffic alone', [(x, res[x][1]) for x in sorted(res)])]):
        figs.append(f'{name}.png')


def plot(outdir, name, title, xlabel, ylabel, series, logx=True, logy=False):
    """series: [(legend, [(x, y), ...])]; writes NAME.dat and NAME.png."""
    dat = os.path.join(outdir, f'{name}.dat')
    with open(dat, 'w') as f:
        for legend, pts in series:
            f.write(f'# {legend}\n')
            for x, y in pts:
                if y is not None:
                    f.write(f'{x} {y}\n')
            f.write('\n\n')
    gp = shutil.which('gnuplot')
    if not gp:
        return False
    plots = ', '.join(f"'{dat}' index {i} with linespoints lw 2 pt 7 title '{legend}'"
                      for i, (legend, _) in enumerate(series))
    script = f"""set terminal pngcairo size 720,440 font 'sans,10'
set output '{os.path.join(outdir, name + '.png')}'
set title '{title}'
set xlabel '{xlabel}'
set ylabel '{ylabel}'
set grid
set key below
{'set logscale x' + chr(10) + 'set format x "%.0s%c"' if logx else 'set xtics 1'}
{'set logscale y' if logy else 'set yrange [0:*]'}
set offsets graph 0.05, graph 0.05, graph 0.1, 0
plot {plots}
"""
    return subprocess.run([gp], input=script, text=True).returncode == 0


def main():
    rows = parse(sys.argv[1])
    outdir = sys.argv[2]
    cpu = Cpu(rows)
    param = next((r for r in rows if r['kind'] == 'param'), {})
    env = next((r for r in rows if r['kind'] == 'env'), {})
    host = next((r for r in rows if r['kind'] == 'host'), None)
    out = []
    p = out.append
    summary = []
    figs = []

    p('# ct event queue benchmark: scale (make bench-scale)')
    p('')
    p(f"UML guest, kernel {env.get('kernel', '?')}, {env.get('cpus', '?')} CPU, "
      f"{int(num(env.get('mem_total_kb'), 0)) // 1024} MiB of memory (MemTotal). "
      f"{param.get('reps', '?')} repetitions, interleaved, medians shown; "
      f"{param.get('rate', '?')} connections/s (half UDP, half TCP) in every CPU window "
      f"of {param.get('dur', '?')} s plus {param.get('tail', '?')} s. "
      'CPU is the host\'s account of the guest in the window; "extra" is that '
      'minus the same repetition\'s window with the same traffic and neither '
      'rule nor listener.  Only ratios mean something.')
    if host:
        p('')
        p(f"Host: {host.get('nproc')} CPUs, load average {host.get('load_before')} before and "
          f"{host.get('load_after')} after the {host.get('guest_seconds')} s guest run "
          f"(guest memory {host.get('guest_mem')}).")
    p('')

    # ---- 1. queues -----------------------------------------------------------
    q = [r for r in rows if r['kind'] == 'queues']
    if q:
        p('## 1. Queues bound in one netns')
        p('')
        p('A range rule `ctevent 1-N` subscribes every connection; one socket per '
          'queue, all read by one epoll loop.')
        p('')
        p('| queues | messages received | lost | CPU per message (us) | extra per message (us) | setup (s) | close (s) |')
        p('|---:|---:|---:|---:|---:|---:|---:|')
        base = {r['rep']: r for r in q if r.get('queues') == 'none'}
        res = {}
        for n in sorted({int(r['queues']) for r in q if r.get('queues') != 'none'}):
            rs = [r for r in q if r.get('queues') == str(n)]
            tot, ext = [], []
            for r in rs:
                t, e = per_event_us(cpu, r, base.get(r['rep']), num(r.get('received')))
                tot.append(t)
                ext.append(e)
            res[n] = (med(tot), med(ext))
            p(f"| {n:,} | {fmt(med([num(r.get('received')) for r in rs]), 0)} | "
              f"{fmt(med([num(r.get('q_lost'), 0) + num(r.get('enobufs'), 0) for r in rs]), 0)} | "
              f"{fmt(med(tot), 2)} | {fmt(med(ext), 2)} | "
              f"{fmt(med([num(r.get('setup_seconds')) for r in rs]), 2)} | "
              f"{fmt(med([num(r.get('close_seconds')) for r in rs]), 2)} |")
        p('')
        p('Setup: the listener opening and binding its sockets (the rule\'s '
          'queues exist already); close: its exit, each closing socket '
          'releasing its queue.')
        p('')
        cpu_curve(outdir, summary, figs, 'queues', res,
                  'CPU per delivered event against queues bound', 'queues bound (one socket each)')
        ns = sorted({int(r['queues']) for r in q if r.get('queues') != 'none'})
        times = {n: [med([num(r.get(k)) for r in q if r.get('queues') == str(n)])
                     for k in ('setup_seconds', 'close_seconds')] for n in ns}
        if ns:
            summary.append(f'listener_close_seconds queues={ns[-1]} = {fmt(times[ns[-1]][1], 3)}'
                           f' queues={ns[0]} = {fmt(times[ns[0]][1], 3)}')
        if plot(outdir, 'queues-setup-close', 'Listener setup and exit against queues bound',
                'queues bound (one socket each)', 'seconds',
                [('setup: open and bind the sockets', [(n, times[n][0]) for n in ns]),
                 ('exit: close the sockets', [(n, times[n][1]) for n in ns])], logy=True):
            figs.append('queues-setup-close.png')

    # ---- 2. entries ------------------------------------------------------------
    e = [r for r in rows if r['kind'] == 'entries']
    if e:
        p('## 2. Bind, unbind and rule changes against entries in the table')
        p('')
        p(f"Queue 7 bound and unbound {param.get('loop_n', '?')} times on one socket, "
          f"a `ctevent 8` rule added and deleted (a batch each) {param.get('rule_n', '?')} "
          'times; every entry of the netns is subscribed to queue 7.  The table only grows '
          'within a repetition and is flushed between them.')
        p('')
        p('| entries | bind (us) | unbind (us) | rule add (us) | rule delete (us) |')
        p('|---:|---:|---:|---:|---:|')
        res = {}
        keys = ('bind_us', 'unbind_us', 'rule_add_us', 'rule_del_us')
        for n in sorted({int(r['target']) for r in e}):
            rs = [r for r in e if r.get('target') == str(n)]
            m = {k: med([num(r.get(k)) for r in rs]) for k in keys}
            m['entries'] = med([num(r.get('entries')) for r in rs])
            res[n] = m
            p(f"| {fmt(m['entries'], 0)} | " + ' | '.join(fmt(m[k], 1) for k in keys) + ' |')
        p('')
        fl = next((r for r in rows if r['kind'] == 'entries_flush'), None)
        if fl:
            p(f"For scale: `conntrack -F` of {fmt(num(fl.get('entries')), 0)} entries took "
              f"{fl.get('seconds')} s in the same guest.")
            p('')
        if res:
            lo, hi = min(res), max(res)

            def both(m):
                return None if m['bind_us'] is None or m['unbind_us'] is None else m['bind_us'] + m['unbind_us']

            def rule(m):
                return None if m['rule_add_us'] is None or m['rule_del_us'] is None else m['rule_add_us'] + m['rule_del_us']
            summary.append(f'ratio bind_unbind_time entries={hi}/entries={lo} = {fmt(ratio(both(res[hi]), both(res[lo])), 3)}')
            summary.append(f'ratio rule_add_delete_time entries={hi}/entries={lo} = {fmt(ratio(rule(res[hi]), rule(res[lo])), 3)}')
        if plot(outdir, 'entries', 'Bind, unbind and rule changes against table size',
                'conntrack entries in the table', 'us per request',
                [(lab, [(n, res[n][k]) for n in sorted(res)]) for lab, k in
                 (('bind', 'bind_us'), ('unbind', 'unbind_us'),
                  ('rule add', 'rule_add_us'), ('rule delete', 'rule_del_us'))]):
            figs.append('entries.png')

    # ---- 3. memory ---------------------------------------------------------------
    mq = [r for r in rows if r['kind'] == 'mem_queue']
    me = {r.get('mode'): r for r in rows if r['kind'] == 'mem_entry'}
    if mq or me:
        p('## 3. Memory')
        p('')

        def obj_delta(r):
            a, b = num(r.get('after_slab_obj_bytes')), num(r.get('before_slab_obj_bytes'))
            if a is None or b is None:
                a, b = num(r.get('after_slab_kb')), num(r.get('before_slab_kb'))
                a, b = (None, None) if a is None or b is None else (a * 1024, b * 1024)
            return None if a is None or b is None else a - b
        src = ('allocated slab objects (/proc/slabinfo: active objects times object size)'
               if any('after_slab_obj_bytes' in r for r in mq + list(me.values()))
               else 'slab memory (/proc/meminfo Slab, in pages; every case still alive while the next is measured)')
    if mq:
        nq = num(mq[0].get('queues'))
        per = {}
        for mode in ('one_socket', 'socket_per_queue', 'sockets_only'):
            per[mode] = med([obj_delta(r) / nq for r in mq if r.get('mode') == mode and obj_delta(r) is not None])
        p(f"Kernel {src}, before and after {fmt(nq, 0)} queues are bound, per queue:")
        p('')
        p('| case | bytes per queue |')
        p('|---|---:|')
        p(f"| one socket binds all the queues: the queues alone | {fmt(per['one_socket'], 0)} |")
        p(f"| a socket per queue | {fmt(per['socket_per_queue'], 0)} |")
        p(f"| as many sockets, none bound | {fmt(per['sockets_only'], 0)} |")
        d = None if per['socket_per_queue'] is None or per['sockets_only'] is None else per['socket_per_queue'] - per['sockets_only']
        p(f"| a socket per queue, less the sockets | {fmt(d, 0)} |")
        p('')
        summary.append(f"bytes_per_bound_queue = {fmt(per['one_socket'], 0)} (queues={fmt(nq, 0)}, one socket; {fmt(d, 0)} with a socket each, less the sockets)")
    if me:
        p(f'Entries: {src} and the extension area, per entry:')
        p('')
        p('| entries created | netns | ct->ext->len per entry | slab bytes per entry |')
        p('|---:|---|---:|---:|')
        ext, slab = {}, {}
        for mode in ('no_rules', 'rules'):
            r = me.get(mode)
            if not r:
                continue
            n = num(r.get('entries'))
            ext[mode] = ratio(num(r.get('ext_len_sum')), num(r.get('entries')))
            slab[mode] = ratio(obj_delta(r), n)
            p(f"| {fmt(n, 0)} | {'no ctevent rule' if mode == 'no_rules' else 'a rule subscribes every entry'} | "
              f"{fmt(ext[mode], 1)} | {fmt(slab[mode], 1)} |")
        p('')
        if 'rules' in ext and 'no_rules' in ext:
            de = None if ext['rules'] is None or ext['no_rules'] is None else ext['rules'] - ext['no_rules']
            ds = None if slab['rules'] is None or slab['no_rules'] is None else slab['rules'] - slab['no_rules']
            p(f"The extension adds {fmt(de, 1)} bytes to ct->ext->len; the extension area is "
              f"one kmalloc() allocation, so the slab effect is {fmt(ds, 1)} bytes per entry "
              '(the size class the area falls into).')
            p('')
            summary.append(f"bytes_per_subscribed_entry = {fmt(de, 1)} (ct->ext->len, entries={fmt(num(me['rules'].get('entries')), 0)}; slab effect {fmt(ds, 1)})")

    # ---- 4. namespaces --------------------------------------------------------------
    nn = [r for r in rows if r['kind'] == 'netns']
    if nn:
        p('## 4. Network namespaces')
        p('')
        p('K netns, each with its own server on lo, generator, `ctevent 1` rule and bound '
          'queue; the same connection rate in total (rate / K in each).')
        p('')
        p('| netns | messages received | lost | CPU per message (us) | extra per message (us) |')
        p('|---:|---:|---:|---:|---:|')
        res = {}
        ks = sorted({int(r['netns']) for r in nn})
        spread = None
        for k, mode in [(k, 'queue') for k in ks] + [(ks[0], 'queues')]:
            tot, ext = against_none(cpu, nn, 'netns', k, mode, lambda r: num(r.get('received')))
            rs = [r for r in nn if r.get('netns') == str(k) and r.get('mode') == mode]
            if not rs:
                continue
            if mode == 'queue':
                res[k] = (med(tot), med(ext))
                label = f'{k}'
            else:
                spread = (med(tot), med(ext))
                label = f"{k}, with {rs[0].get('sockets', '?')} queues and sockets"
            p(f"| {label} | {fmt(med([num(r.get('received')) for r in rs]), 0)} | "
              f"{fmt(med([num(r.get('q_lost'), 0) + num(r.get('enobufs'), 0) for r in rs]), 0)} | "
              f"{fmt(med(tot), 2)} | {fmt(med(ext), 2)} |")
        p('')
        if spread and res:
            hi = max(res)
            summary.append(f'ratio cpu_per_event netns={hi}/netns={min(res)} with as many sockets = '
                           f'{fmt(ratio(res[hi][1], spread[1]), 3)} (extra over the traffic alone)')
        cpu_curve(outdir, summary, figs, 'netns', res,
                  'CPU per delivered event against network namespaces',
                  'network namespaces, each with a rule and a queue')

    # ---- 5. subscriptions -------------------------------------------------------------
    sp = [r for r in rows if r['kind'] == 'subs_pps']
    sc = [r for r in rows if r['kind'] == 'subs_cpu']
    if sp or sc:
        p('## 5. Subscriptions per entry')
        p('')
    if sp:
        p(f"Packet path: one UDP flow of {param.get('flood_n', '?')} datagrams, its entry "
          'subscribed by four `ctevent` rules to one queue (1) or to four (4), queues 1-4 bound; '
          '"none": the same chain without the rules.')
        p('')
        p('| subscriptions | pps | queues that got the entry\'s NEW |')
        p('|---|---:|---:|')
        pps = {}
        for s in ('none', '1', '4'):
            rs = [r for r in sp if r.get('subs') == s]
            if not rs:
                continue
            pps[s] = med([num(r.get('pps')) for r in rs])
            p(f"| {s} | {fmt(pps[s], 0)} | {fmt(med([num(r.get('queues_with_messages')) for r in rs]), 0)} |")
        p('')
        if '1' in pps and '4' in pps:
            summary.append(f"ratio pps subscriptions=4/subscriptions=1 = {fmt(ratio(pps['4'], pps['1']), 3)}")
    if sc:
        p('Delivery: every connection subscribed to queues 1..L, a socket bound to each '
          '(queue), or L multicast sockets (multicast); CPU beyond the same traffic with '
          'neither, per event of an entry (messages received / L).')
        p('')
        p('| listeners | mode | messages received | lost | extra per entry event (us) |')
        p('|---:|---|---:|---:|---:|')
        res = {}
        for mode in ('queue', 'multicast'):
            for l in sorted({int(r['listeners']) for r in sc}):
                _, ext = against_none(cpu, sc, 'listeners', l, mode,
                                      lambda r, l=l: num(r.get('received'), 0) / l)
                rs = [r for r in sc if r.get('listeners') == str(l) and r.get('mode') == mode]
                res[(mode, l)] = med(ext)
                p(f"| {l} | {mode} | {fmt(med([num(r.get('received')) for r in rs]), 0)} | "
                  f"{fmt(med([num(r.get('q_lost'), 0) + num(r.get('enobufs'), 0) for r in rs]), 0)} | {fmt(med(ext), 2)} |")
        p('')
        ls = sorted({int(r['listeners']) for r in sc})
        if ls:
            lo, hi = ls[0], ls[-1]
            rq = ratio(res.get(('queue', hi)), res.get(('queue', lo)))
            rm = ratio(res.get(('multicast', hi)), res.get(('multicast', lo)))
            summary.append(f'ratio cpu_per_entry_event listeners={hi}/listeners={lo} = {fmt(rq, 3)} (multicast, one message cloned per listener: {fmt(rm, 3)})')

            def added(mode):
                a, b = res.get((mode, hi)), res.get((mode, lo))
                return None if a is None or b is None else (a - b) / (hi - lo)
            summary.append(f"cpu_per_added_listener_us queue = {fmt(added('queue'), 2)} multicast = {fmt(added('multicast'), 2)}")
            if plot(outdir, 'subs', 'CPU per entry event against listeners of the entry',
                    'listeners of every entry', 'extra us per entry event',
                    [(m, [(l, res.get((m, l))) for l in ls]) for m in ('queue', 'multicast')],
                    logx=False):
                figs.append('subs.png')

    p('## Summary')
    p('')
    p('```')
    out.extend(summary)
    p('```')
    if figs:
        p('')
        p('Figures: ' + ', '.join(os.path.join(outdir, f) for f in figs))
    elif not shutil.which('gnuplot'):
        p('')
        p('No figures: gnuplot is not installed (make setup-bench).')
    print('\n'.join(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
