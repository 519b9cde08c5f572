#!/usr/bin/env python3
"""Format tests/bench/run.sh's key=value lines (bench.raw) as markdown.

Usage: format.py BENCH_RAW [HOST_RAW] > results.md
Every number is the median over the repetitions; ratios are ratios of
medians.  The last lines are the summary.
"""
import statistics
import sys


def parse(path):
    rows = []
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith('#'):
            continue
        d = {'kind': f[0]}
        for kv in f[1:]:
            if '=' in kv:
                k, v = kv.split('=', 1)
                d[k] = v
        rows.append(d)
    return rows


def num(v, default=0.0):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=1):
    if v is None:
        return 'n/a'
    return f'{v:.{nd}f}'


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main():
    rows = parse(sys.argv[1])
    if len(sys.argv) > 2:
        rows += parse(sys.argv[2])
    host = next((r for r in rows if r['kind'] == 'host'), None)
    param = next((r for r in rows if r['kind'] == 'param'), {})
    env = next((r for r in rows if r['kind'] == 'env'), {})
    out = []
    p = out.append

    p('# ct event queue benchmark')
    p('')
    p(f"UML guest, kernel {env.get('kernel', '?')}, one CPU, HZ={env.get('hz', '?')}. "
      f"{param.get('reps', '?')} repetitions per measurement, medians shown. "
      'Absolute numbers describe this UML guest on a shared host; '
      'only the side-by-side ratios mean something.')
    p('')
    if host:
        p(f"Host: {host.get('nproc')} CPUs, load average {host.get('load_before')} before and "
          f"{host.get('load_after')} after the {host.get('guest_seconds')} s guest run.")
        if max(num(host.get('load_before')), num(host.get('load_after'))) > num(host.get('nproc'), 1):
            p('**The host was overloaded during the run: the UML guest got an unsteady share '
              'of a CPU, so the timing results (CPU per event, rates, pps) carry that noise; '
              'compare the per-repetition values.**')
        p('')

    # ---- part 1a ---------------------------------------------------------------
    sel = [r for r in rows if r['kind'] == 'sel' and r.get('phase') == 'fixed']
    modes = ['none', 'queue', 'userspace_filter', 'bpf_filter']
    p(f"## 1. Selective listening at {param.get('rate', '?')} connections/s "
      f"for {param.get('dur', '?')} s")
    p('')
    p(f"Generator in ns1: short connections to ns2, alternately UDP (send, "
      f"echo, close) and TCP (connect, RST), over ports {param.get('ports', '?')}; "
      f"the wanted 10 % go to port {param.get('want_port', '?')} "
      f"(rule `l4proto udp|tcp dport {param.get('want_port', '?')} ctevent 1` "
      'for the queue; the same match with `counter` otherwise). '
      f"Receive buffer {param.get('rcvbuf', '?')} bytes (SO_RCVBUF) for all. "
      'Events: NEW and UPDATE (entries outlive the run; see notes).')
    p('')
    p('| listener | conns | events received | wanted | unwanted | lost (ENOBUFS / queue lost) '
      '| wakeups | listener busy µs / wanted event | listener getrusage µs / wanted event '
      '| system CPU µs / conn | over no listener | saturated conns/s (loss) |')
    p('|---|---|---|---|---|---|---|---|---|---|---|---|')
    m1 = {}
    for mode in modes:
        rs = [r for r in sel if r.get('mode') == mode]
        if not rs:
            continue
        w = lambda r: num(r.get('wanted'))
        d = {
            'conns': med([num(r.get('conns')) for r in rs]),
            'recv': med([num(r.get('received')) for r in rs]),
            'wanted': med([w(r) for r in rs]),
            'unwanted': med([num(r.get('unwanted')) for r in rs]),
            'enobufs': med([num(r.get('enobufs')) for r in rs]),
            'qlost': med([num(r.get('q_lost')) for r in rs]),
            'wakeups': med([num(r.get('wakeups')) for r in rs]),
            'busy': med([num(r.get('busy')) * 1e6 / w(r) if w(r) else None for r in rs]),
            'rus': med([(num(r.get('cpu_user')) + num(r.get('cpu_sys'))) * 1e6 / w(r)
                        if w(r) else None for r in rs]),
        }
        sat = [r for r in rows if r['kind'] == 'sel' and r.get('phase') == 'saturated'
               and r.get('mode') == mode]
        d['sat_rate'] = med([num(r.get('achieved_rate')) for r in sat])
        d['sys'] = med([1e6 / num(r.get('achieved_rate')) for r in sat
                        if num(r.get('achieved_rate'))])
        d['sat_lost'] = med([num(r.get('enobufs')) + num(r.get('q_lost')) for r in sat])
        m1[mode] = d
    for mode in modes:
        d = m1.get(mode)
        if not d:
            continue
        over = None
        if mode != 'none' and 'none' in m1 and d['sys'] is not None and m1['none']['sys'] is not None:
            over = d['sys'] - m1['none']['sys']
        listener = mode == 'none'
        p(f"| {mode if not listener else '(none: traffic only)'} | {fmt(d['conns'], 0)} "
          f"| {fmt(d['recv'], 0) if not listener else '-'} | {fmt(d['wanted'], 0) if not listener else '-'} "
          f"| {fmt(d['unwanted'], 0) if not listener else '-'} "
          f"| {fmt(d['enobufs'], 0) + ' / ' + fmt(d['qlost'], 0) if not listener else '-'} "
          f"| {fmt(d['wakeups'], 0) if not listener else '-'} "
          f"| {fmt(d['busy']) if not listener else '-'} | {fmt(d['rus']) if not listener else '-'} "
          f"| {fmt(d['sys'])} | {fmt(over) if over is not None else '-'} "
          f"| {fmt(d['sat_rate'], 0)} ({fmt(d['sat_lost'], 0) if not listener else '-'}) |")
    p('')
    r_us = ratio(m1.get('queue', {}).get('busy'), m1.get('userspace_filter', {}).get('busy'))
    r_bpf = ratio(m1.get('queue', {}).get('busy'), m1.get('bpf_filter', {}).get('busy'))
    r_us_rus = ratio(m1.get('queue', {}).get('rus'), m1.get('userspace_filter', {}).get('rus'))
    r_bpf_rus = ratio(m1.get('queue', {}).get('rus'), m1.get('bpf_filter', {}).get('rus'))
    p(f"Listener CPU per wanted event, queue / userspace filter: busy time {fmt(r_us, 3)}, "
      f"getrusage {fmt(r_us_rus, 3)}; queue / BPF filter: busy time {fmt(r_bpf, 3)}, "
      f"getrusage {fmt(r_bpf_rus, 3)}.")
    p('')

    # ---- part 1b ---------------------------------------------------------------
    steps = [r for r in rows if r['kind'] == 'sel' and r.get('phase') == 'step']
    ladder = [num(x) for x in param.get('step_rates', '').split(',') if x]
    p('## 1b. Highest rate held without loss')
    p('')
    p(f"Rate ladder {', '.join(str(int(x)) for x in ladder)} connections/s, "
      f"{param.get('step_dur', '?')} s per step, same receive buffer. A step is held "
      'when the listener saw no ENOBUFS, the queue lost nothing, and the generator '
      'reached 95 % of the target rate (all on one CPU: a listener that costs more '
      'CPU leaves less for the traffic). The ladder stops at the first step not held.')
    p('')
    p('| listener | max rate held, per repetition | median | first step not held (achieved rate, ENOBUFS, queue lost) |')
    p('|---|---|---|---|')
    maxrate = {}
    reps = sorted({r.get('rep') for r in steps}, key=lambda x: num(x))
    for mode in ['queue', 'userspace_filter', 'bpf_filter']:
        per = []
        fails = []
        for rep in reps:
            rs = [r for r in steps if r.get('mode') == mode and r.get('rep') == rep]
            held = 0
            for r in rs:
                ok = (num(r.get('enobufs')) == 0 and num(r.get('q_lost')) == 0 and
                      num(r.get('achieved_rate')) >= 0.95 * num(r.get('target_rate')))
                if not ok:
                    fails.append(f"{int(num(r.get('target_rate')))}: {r.get('achieved_rate')}, "
                                 f"{r.get('enobufs')}, {r.get('q_lost')}")
                    break
                held = num(r.get('target_rate'))
            per.append(held)
        m = med(per)
        maxrate[mode] = m
        top = ' (top of the ladder)' if ladder and m == max(ladder) else ''
        p(f"| {mode} | {', '.join(str(int(x)) for x in per)} | {fmt(m, 0)}{top} | {'; '.join(fails) or '-'} |")
    p('')

    # ---- part 2 ------------------------------------------------------------------
    names = {'none': 'a: no ruleset (conntrack off in ns1)',
             'ct_state': 'b: `ct state established counter`',
             'ctevent': 'c: `ct state established ctevent 1`, entry subscribed, listener bound'}

    def part2(pps, title, what):
        p(title)
        p('')
        p(f"{what}, established (one echo), then {param.get('flood_n', '?')} "
          '16-byte datagrams per flow sent as fast as possible by a C sender (wall time by '
          'clock_gettime); the sink never reads (its socket drops). Rules in ns1 postrouting.')
        p('')
        p('| ruleset | pps per repetition | median pps |')
        p('|---|---|---|')
        for mode in ['none', 'ct_state', 'ctevent']:
            vals = [num(r.get('pps')) for r in pps if r.get('mode') == mode]
            p(f"| {names[mode]} | {', '.join(fmt(v, 0) for v in vals)} | {fmt(med(vals), 0)} |")

        # ratios within each repetition (the three runs are adjacent in time),
        # then their median: robust against the host's load drifting
        def paired(a, b):
            per = []
            for rep in sorted({r.get('rep') for r in pps}, key=lambda x: int(x or 0)):
                va = [num(r.get('pps')) for r in pps if r.get('rep') == rep and r.get('mode') == a]
                vb = [num(r.get('pps')) for r in pps if r.get('rep') == rep and r.get('mode') == b]
                if va and vb and va[0] and vb[0]:
                    per.append(va[0] / vb[0])
            return per, med(per)
        ba_per, r_ba = paired('ct_state', 'none')
        cb_per, r_cb = paired('ctevent', 'ct_state')
        p('')
        p(f"Ratios within each repetition: b/a {', '.join(fmt(v, 3) for v in ba_per)}; "
          f"c/b {', '.join(fmt(v, 3) for v in cb_per)}.")
        p(f"Medians of those: b/a = {fmt(r_ba, 3)}, c/b = {fmt(r_cb, 3)}.")
        p('')
        return r_cb
    r_cb = part2([r for r in rows if r['kind'] == 'pps' and r.get('runner', 'uml') == 'uml'],
                 '## 2. Packet path', 'One UDP flow ns1 -> ns2')
    smp = [r for r in rows if r['kind'] == 'pps' and r.get('runner') == 'qemu']
    psmp = next((r for r in rows if r['kind'] == 'param2' and r.get('runner') == 'qemu'), {})
    r_smp = None
    if smp:
        r_smp = part2(smp, f"## 2b. Packet path, SMP: qemu guest, {psmp.get('cpus', '?')} vCPUs (TCG)",
                      f"{psmp.get('pps_flows', '?')} UDP flows ns1 -> ns2 at once, the sender "
                      'of flow k pinned to CPU k (taskset), pps summed over the flows; '
                      'a kernel without debug options')

    # ---- part 3 ------------------------------------------------------------------
    mem = [r for r in rows if r['kind'] == 'mem']
    p('## 3. Memory: slab')
    p('')
    p(f"/proc/slabinfo: {env.get('slabinfo', '?')}, /sys/kernel/slab: {env.get('slub_sysfs', '?')} "
      '(tinyconfig with SLUB_TINY: no per-cache statistics). Method: growth of '
      '/proc/meminfo `Slab` per conntrack entry created, '
      f"{param.get('fill_n', '?')} UDP entries per case, none freed during the "
      'measurement (caches only grow, so the growth is the new entries: nf_conn '
      'object plus its extension area, in whatever slab they land). Both cases '
      'have a multicast listener, so their entries carry the event cache alike.')
    p('')
    p('| entries | bytes per entry, per repetition | median |')
    p('|---|---|---|')
    mm = {}
    mnames = {'no_rules': 'netns without ctevent rules',
              'rules': 'netns with a ctevent rule, every entry subscribed to a bound queue'}
    for mode in ['no_rules', 'rules']:
        vals = [num(r.get('bytes_per_entry'), None) for r in mem if r.get('mode') == mode]
        mm[mode] = med(vals)
        p(f"| {mnames[mode]} | {', '.join(fmt(v) for v in vals)} | {fmt(mm[mode])} |")
    deltas = []
    for rep in sorted({r.get('rep') for r in mem}, key=lambda x: num(x)):
        s_ = [num(r.get('bytes_per_entry'), None) for r in mem if r.get('rep') == rep and r.get('mode') == 'rules']
        u = [num(r.get('bytes_per_entry'), None) for r in mem if r.get('rep') == rep and r.get('mode') == 'no_rules']
        if s_ and u and s_[0] is not None and u[0] is not None:
            deltas.append(s_[0] - u[0])
    delta = med(deltas)
    p('')
    p(f"Delta with rules - without per repetition: {', '.join(fmt(v) for v in deltas) or 'n/a'}; "
      f"median {fmt(delta)} bytes (the extension area is allocated in 128-byte "
      'steps at least, so a 16-byte extension that fits shows up as 0).')
    p('')

    # ---- part 4 ------------------------------------------------------------------
    ext = [r for r in rows if r['kind'] == 'ext' and 'entries' in r]
    p('## 4. Memory: extension area')
    p('')
    p('ct->ext->len of every entry, read by a module (tests/bench/ctextlen) on this '
      f"kernel and on the unpatched {env.get('kernel', '?')} in a second guest; "
      f"{param.get('ext_n', '?')} UDP entries per case. On the unpatched kernel, "
      '"with rules" has the same ruleset with a counter instead of the ctevent rule.')
    p('')
    p('| case | kernel | entries | ext->len min | max | mean |')
    p('|---|---|---|---|---|---|')
    avg = {}
    for mode in ['no_rules', 'rules']:
        for k in ['base', 'patched']:
            r = next((x for x in ext if x.get('mode') == mode and x.get('kernel') == k), None)
            if not r:
                continue
            n = num(r.get('entries'))
            avg[(mode, k)] = num(r.get('ext_len_sum')) / n if n else None
            p(f"| {mnames[mode]} | {k} | {r.get('entries')} | {r.get('ext_len_min')} | "
              f"{r.get('ext_len_max')} | {fmt(avg[(mode, k)])} |")
    p('')

    def growth(mode):
        a_, b_ = avg.get((mode, 'patched')), avg.get((mode, 'base'))
        return None if a_ is None or b_ is None else a_ - b_
    g0, g1 = growth('no_rules'), growth('rules')

    # ---- part 5 ------------------------------------------------------------------
    lst = [r for r in rows if r['kind'] == 'list']
    p('## 5. No cross-netns cost')
    p('')
    p(f"`conntrack -L` of {param.get('list_n', '?')} entries in one netns, quiet and "
      'while another netns runs a tight bind/unbind loop and a rule add/delete loop '
      '(at nice 19: one CPU), in turn; seconds per run.')
    p('')
    p('| mode | seconds, per repetition | median | entries listed |')
    p('|---|---|---|---|')
    lm = {}
    for mode in ['quiet', 'loops']:
        vals = [num(r.get('seconds'), None) for r in lst if r.get('mode') == mode]
        lm[mode] = med(vals)
        listed = sorted({r.get('listed') for r in lst if r.get('mode') == mode})
        p(f"| {mode} | {', '.join(fmt(v, 3) for v in vals)} | {fmt(lm[mode], 3)} | {', '.join(listed)} |")
    r_list = ratio(lm.get('loops'), lm.get('quiet'))
    p('')

    # ---- notes -------------------------------------------------------------------
    # ---- part 6: whole-system cost -----------------------------------------
    p6 = dict(next((r for r in rows if r['kind'] == 'param6'), {}))
    # part 9 runs part 6 at its own rate
    p6.update(next((r for r in rows if r['kind'] == 'param9'), {}))
    sysr = [r for r in rows if r['kind'] == 'sys']
    syscost = {}
    if sysr:
        p(f"## 6. Whole-system cost, {p6.get('sys_rate', '?')} connections/s for "
          f"{p6.get('sys_dur', '?')} s (+{p6.get('sys_tail', '?')} s)")
        p('')
        p('Each consumer wants a disjoint 10 % of the connections (consumer i: port '
          'BASE+i): queue listeners on queues 1..N, or multicast listeners with a BPF or '
          'a userspace filter (part 9: ctevq-trace, a BPF tracer keeping its port\'s ct mark). '
          'Guest CPU in the window: the CPU time the host accounted to '
          'the guest (UML: its kernel and every guest address space; qemu: every thread '
          'of the qemu process) between '
          'two marks the guest prints: the time they ran, not the time they waited for '
          'the host\'s CPU. The same traffic with no consumer ("none") is '
          'subtracted, and the rest divided by the events the consumers wanted; '
          '"idle" (no traffic) shows what the method reads at rest. '
          f"Receive buffers {p6.get('sys_rcvbuf', '?')} bytes.")
        p('')
        p('| consumers | mode | conns | wanted events | consumer wake-ups | lost | guest CPU ms '
          '| over no consumer, ms | µs per wanted event |')
        p('|---|---|---|---|---|---|---|---|---|')

        hc = {r.get('label'): num(r.get('ns')) for r in rows if r['kind'] == 'hostcpu'}

        def cpu_s(r):
            a, b = hc.get(f"{r.get('label')}.start"), hc.get(f"{r.get('label')}.end")
            if a is None or b is None:
                return None
            return (b - a) / 1e9
        # part 9 (make bench-bpf) tags its rows acct=0|1
        for tag, cons in [(t, c) for t in sorted({r.get('acct', '') for r in sysr})
                          for c in ('1', '4')]:
            for mode in ('idle', 'none', 'queue', 'bpf_tracing', 'bpf_filter', 'userspace_filter'):
                per, cpu, extra, wanted, lost, conns, wakes = [], [], [], [], [], [], []
                for rep in sorted({r.get('rep') for r in sysr}):
                    rr = {r['mode']: r for r in sysr
                          if r.get('rep') == rep and r.get('consumers') == cons
                          and r.get('acct', '') == tag}
                    if mode not in rr or 'none' not in rr:
                        continue
                    c = cpu_s(rr[mode])
                    c0 = cpu_s(rr['none'])
                    if c is None or c0 is None:
                        continue
                    w = num(rr[mode].get('wanted'))
                    cpu.append(c)
                    extra.append(c - c0)
                    wanted.append(w)
                    lost.append(num(rr[mode].get('enobufs')) + num(rr[mode].get('q_lost'))
                                + num(rr[mode].get('rb_lost')))
                    conns.append(num(rr[mode].get('conns')))
                    wakes.append(num(rr[mode].get('wakeups')))
                    if mode not in ('idle', 'none') and w:
                        per.append((c - c0) * 1e6 / w)
                if not cpu:
                    continue
                syscost[(tag, cons, mode)] = med(per) if per else None
                wk = fmt(med(wakes), 0) if mode not in ('idle', 'none') else '-'
                acct = {'': '', '0': ', acct off', '1': ', acct on'}.get(tag, tag)
                p(f"| {cons}{acct} | {mode} | {fmt(med(conns), 0)} | {fmt(med(wanted), 0)} | {wk} "
                  f"| {fmt(med(lost), 0)} | {fmt(med(cpu) * 1e3)} "
                  f"| {fmt(med(extra) * 1e3) if mode not in ('idle', 'none') else '-'} "
                  f"| {fmt(syscost[(tag, cons, mode)]) if mode not in ('idle', 'none') else '-'} |")
        p('')

    # ---- part 7: slow consumer -----------------------------------------------
    slow = [r for r in rows if r['kind'] == 'slow']
    slowrate = {}
    if slow:
        p(f"## 7. Slow consumer: {p6.get('slow_work_us', '?')} µs of work per received message")
        p('')
        p('One consumer wanting 10 % of the connections waits '
          f"{p6.get('slow_work_us', '?')} µs after each message it receives "
          '(a sleep: on the one-CPU guest a busy loop would slow the generator, '
          'and the consumer must be the limit). The rate rises by steps of '
          f"{p6.get('slow_dur', '?')} s until the consumer loses an event (ENOBUFS, "
          'queue lost), still has messages queued on its socket '
          f"{p6.get('slow_tail', '?')} s after the traffic (backlog), or the generator "
          'falls below 95 % of the target. Receive buffer '
          f"{p6.get('slow_rcvbuf', '?')} bytes. Work actually waited per message "
          f"(median over the steps): {fmt(med([num(r.get('worked')) * 1e6 / num(r.get('received')) for r in slow if num(r.get('received'))]), 0)} µs.")
        p('')
        p('| mode | loss-free rate, conns/s (median) | per repetition: held rate, '
          'then the first step that failed (target/achieved, why) |')
        p('|---|---|---|')
        for mode in ('queue', 'bpf_tracing', 'bpf_filter', 'userspace_filter'):
            held, desc = [], []
            for rep in sorted({r.get('rep') for r in slow}):
                rs = [r for r in slow if r.get('rep') == rep and r.get('mode') == mode]
                if not rs:
                    continue
                h, why = 0, 'none failed'
                for r in rs:
                    reasons = []
                    lost = num(r.get('enobufs')) + num(r.get('q_lost')) + num(r.get('rb_lost'))
                    if lost:
                        reasons.append(f"lost {int(lost)}")
                    if num(r.get('backlog')):
                        reasons.append(f"backlog {int(num(r.get('backlog')))} B")
                    if num(r.get('rb_backlog')):
                        reasons.append(f"ring backlog {int(num(r.get('rb_backlog')))} records")
                    if num(r.get('achieved_rate')) < 0.95 * num(r.get('target_rate')):
                        reasons.append('generator behind')
                    if reasons:
                        why = (f"{r.get('target_rate')}/{fmt(num(r.get('achieved_rate')), 0)}: "
                               + ', '.join(reasons))
                        break
                    h = num(r.get('target_rate'))
                held.append(h)
                desc.append(f"{int(h)}, {why}")
            if held:
                slowrate[mode] = med(held)
                p(f"| {mode} | {fmt(slowrate[mode], 0)} | {'; '.join(desc)} |")
        p('')

    # ---- part 8: selection by rule -------------------------------------------
    expr = next((r for r in rows if r['kind'] == 'expr'), None)
    if expr:
        p('## 8. A selection no socket filter can evaluate')
        p('')
        if 'skipped' in expr:
            p('Skipped: needs the patched nft (make nft NFT_SRC=... LIBNFTNL_SRC=...).')
        else:
            p(f"Rule `{expr.get('rule', '').replace('_', ' ')}` (output interface and "
              'packet mark: neither is in a ctnetlink message). The generator marks every '
              f"third connection pair: {expr.get('marked')} marked connections; the queue "
              f"listener saw {expr.get('queue_connections')} connections, "
              f"{expr.get('missing')} marked ones missing, {expr.get('extra')} unmarked "
              f"ones extra, {expr.get('events')} events of which {expr.get('destroys')} DESTROY.")
        p('')

    p('## Notes')
    p('')
    p('* Listener CPU: "busy" is CLOCK_MONOTONIC time from each wake-up (poll() '
      'return) to going back to sleep (recv() until EAGAIN, parsing every message with '
      'libnetfilter_conntrack, filtering), summed; it leaves out the context switch '
      'and the poll() call itself. getrusage() is reported beside it but in UML it '
      'has jiffy (10 ms) granularity, so the ratio lines use the busy time.')
    p(f"* System CPU per connection: 1 / the connection rate reached with the generator "
      f"flat out for {param.get('sat_dur', '?')} s (the one guest CPU saturated by "
      'generator, server, kernel and listener), i.e. wall µs of the whole guest per '
      'connection; "over no listener" subtracts the run without a listener. Guest '
      '/proc/stat cannot be used: its tick samples are phase-locked to the generator, '
      'which sleeps on timer ticks, and see mostly idle. A SCHED_IDLE busy-loop probe '
      'was tried and dropped: the shared host made it too noisy (negative values).')
    p('* DESTROY events are not part of part 1: the conntrack gc destroys expired '
      'entries in batches of up to 640, so they would measure the gc batch size, '
      'not the rate. Entries outlive each run and are flushed (with no listener) '
      'before the next one.')
    p('* BPF filter: libnetfilter_conntrack\'s nfct_filter_attach() cannot match ports, '
      'so the BPF listener attaches an equivalent classic BPF program using the '
      'SKF_AD_NLATTR/SKF_AD_NLATTR_NEST loads (src/ctevq-bench-listen.c).')
    p('')

    def r3(v):
        return 'n/a' if v is None else f'{v:.3f}'

    def rate(v):
        return 'n/a' if v is None else f'{int(v)}'
    p(f'ratio listener_cpu_per_wanted_event queue/userspace_filter = {r3(r_us)}')
    p(f'ratio listener_cpu_per_wanted_event queue/bpf_filter = {r3(r_bpf)}')
    p(f'ratio pps queue_rule/ct_state_rule = {r3(r_cb)}')
    if smp:
        p(f"ratio pps queue_rule/ct_state_rule runner=qemu cpus={psmp.get('cpus', '?')} "
          f"flows={psmp.get('pps_flows', '?')} = {r3(r_smp)}")
    p(f"max_rate_without_loss queue={rate(maxrate.get('queue'))} "
      f"userspace_filter={rate(maxrate.get('userspace_filter'))} "
      f"bpf_filter={rate(maxrate.get('bpf_filter'))}")
    p(f"bytes_per_entry_delta = {'n/a' if delta is None else f'{delta:.1f}'}")
    p(f"bytes_per_entry netns_without_rules={fmt(g0, 0)} netns_with_rules={fmt(g1, 0)}")
    p(f"slab_bytes_per_entry netns_with_rules-netns_without_rules = {fmt(delta)}")
    p(f"ratio conntrack_list_time bind_loop_other_netns/quiet = {r3(r_list)}")
    for tag, cons in sorted({(k[0], k[1]) for k in syscost}):
        q = syscost.get((tag, cons, 'queue'))
        for other in ('bpf_tracing', 'bpf_filter', 'userspace_filter'):
            if (tag, cons, other) in syscost:
                p(f"ratio system_cpu_per_wanted_event queue/{other} consumers={cons}"
                  f"{' acct=on' if tag == '1' else ''} = "
                  f"{r3(ratio(q, syscost[(tag, cons, other)]))}")
    for other in ('bpf_tracing', 'bpf_filter', 'userspace_filter'):
        if 'queue' in slowrate and other in slowrate:
            p(f"ratio loss_free_rate slow_consumer queue/{other} = "
              f"{r3(ratio(slowrate['queue'], slowrate[other]))}")
    if expr and 'skipped' not in expr:
        ok = (expr.get('missing') == '0' and expr.get('extra') == '0'
              and num(expr.get('marked')) > 0)
        p(f"selection_by_rule {expr.get('rule', '').replace('_', ' ')}: queue stream "
          f"{'equals' if ok else 'differs from'} the selected connections "
          f"(marked={expr.get('marked')} missing={expr.get('missing')} extra={expr.get('extra')})")
    if param.get('parts') == 'bpf':
        # make bench-bpf runs part 9 alone: parts 6 and 7 of its rows
        out = bpf_report(out, param, env, host)
    print('\n'.join(out))


def bpf_report(out, param, env, host):
    body = out[out.index(next(l for l in out if l.startswith('## 6.'))):
               out.index('## Notes')] if any(l.startswith('## 6.') for l in out) else []
    body = [l.replace('## 6. ', '## ').replace('## 7. ', '## ') for l in body]
    head = ['# ct event queue against BPF tracing', '',
            f"qemu guest (TCG), kernel {env.get('kernel', '?')}, "
            f"{param.get('reps', '?')} repetitions per measurement, medians shown. "
            'queue: ctevq-bench-listen bound to queue i (parses every message with '
            'libnetfilter_conntrack); bpf_tracing: ctevq-trace (fentry on '
            'nf_ct_deliver_cached_events, fentry and fexit on nf_ct_delete, a BPF ring '
            'buffer of as many bytes as the listeners\' SO_RCVBUF, which holds more '
            'events than a socket buffer of that size: the kernel doubles SO_RCVBUF and '
            'charges each message its whole buffer) keeping ct mark i, which the ruleset '
            'sets on consumer i\'s connections, with nf_conntrack_events=1 (a tracer '
            'alone needs it). Only the side-by-side ratios mean something.', '']
    if host:
        head += [f"Host: {host.get('nproc')} CPUs, load average {host.get('load_before')} "
                 f"before and {host.get('load_after')} after the {host.get('guest_seconds')} s "
                 'guest run.', '']
    return head + body + [l for l in out if l.startswith('ratio ') and 'bpf_tracing' in l]


if __name__ == '__main__':
    main()
