#!/usr/bin/env python3
"""bench-hostcpu.py CONSOLE_LOG KERNEL OUT: the guest's CPU time, as the
host accounts it, at the marks the guest prints (UML, or qemu: then the
utime + stime of the qemu process that boots KERNEL, all its threads,
in clock ticks).

The guest (tests/bench/run.sh) writes "CTEVQCPU LABEL" to its console; this
follows the console log (scripts/run-guest.sh writes it as the guest runs)
and, at each mark, adds up the CPU time of the UML kernel process (KERNEL's
command line) and of its uml-userspace children (one per guest address
space): live ones from /proc/PID/schedstat (ns), the ones it has reaped
from its cutime + cstime.  Each mark becomes a line "hostcpu label=LABEL
ns=N" in OUT.  The host's CPU time of a process does not grow while it
waits for a CPU, which time measured inside the guest cannot tell from
work.  Stops when the guest's kernel process is gone.
"""
import os
import sys
import time

CLK_TCK = os.sysconf('SC_CLK_TCK')


def find_kernel(kernel):
    """The UML kernel process (argv[0] is KERNEL), or the qemu process
    booting KERNEL (-kernel KERNEL): (pid, is_qemu)."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                argv = [a.decode(errors='replace') for a in f.read().split(b'\0')]
            cwd = os.readlink(f'/proc/{pid}/cwd')
        except OSError:
            continue
        if argv and argv[0] == kernel:
            return int(pid), False
        if argv and os.path.basename(argv[0]).startswith('qemu-system'):
            for i, a in enumerate(argv[:-1]):
                if a == '-kernel' and os.path.realpath(os.path.join(cwd, argv[i + 1])) == kernel:
                    return int(pid), True
    return None, False


def children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def run_ns(pid):
    try:
        with open(f'/proc/{pid}/schedstat') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def stat_ticks_ns(pid, first):
    """Fields FIRST and FIRST + 1 of /proc/PID/stat (clock ticks), summed, in ns."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(')') + 2:].split()
    # fields[0] is field 3 (state)
    return (int(fields[first - 3]) + int(fields[first - 2])) * 10**9 // CLK_TCK


def reaped_ns(pid):
    # cutime + cstime (fields 16, 17): the children it has reaped
    return stat_ticks_ns(pid, 16)


def process_ns(pid):
    # utime + stime (fields 14, 15): the whole process, exited threads
    # included (qemu starts and ends I/O worker threads as it runs)
    return stat_ticks_ns(pid, 14)


def total_ns(pid, qemu):
    # qemu: the vCPU threads and the I/O threads of one process
    if qemu:
        return process_ns(pid)
    return run_ns(pid) + reaped_ns(pid) + sum(run_ns(c) for c in children(pid))


def main():
    console, kernel, out = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
    pid, qemu = None, False
    for _ in range(3000):
        pid, qemu = find_kernel(kernel)
        if pid:
            break
        time.sleep(0.01)
    if not pid:
        print(f'bench-hostcpu: no process of {kernel}', file=sys.stderr)
        return 1
    pos, part = 0, b''
    with open(out, 'w') as o:
        while os.path.exists(f'/proc/{pid}'):
            try:
                with open(console, 'rb') as f:
                    f.seek(pos)
                    data = f.read()
            except OSError:
                data = b''
            if not data:
                time.sleep(0.002)
                continue
            pos += len(data)
            lines = (part + data).split(b'\n')
            part = lines.pop()
            for line in lines:
                i = line.find(b'CTEVQCPU ')
                if i < 0:
                    continue
                label = line[i + 9:].split()[0].decode(errors='replace')
                o.write(f'hostcpu label={label} ns={total_ns(pid, qemu)}\n')
                o.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
