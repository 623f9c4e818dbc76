#!/usr/bin/env python3
"""The in-guest benchmark's table (scripts/bench-guest.sh).

Reads the XF-BENCH lines dom0's monitor printed (tests/guest/dom0/xf-bench-mon.c):

    XF-BENCH LABEL RUN DISK PHASE bytes=B ms=T iops=I mibs=M reqs=R cpu_ms=C

and prints, per disk and phase, the test kernel's figure and Linux's (at its
blkfront defaults and at its best) as medians with their ranges, and the ratio
xenfront / Linux computed within each run (the guests of one run ran one
after the other in the same boot), as median and range. dom0's CPU time per
MiB moved is given the same way (lower is better).
"""
import re
import statistics
import sys

LINE = re.compile(r'^XF-BENCH (\S+) (\d+) (\S+) (\S+) (.*)$')
XF = 'xf-bench'
LINUX = ['linux-default', 'linux-best']


def med_range(vals, fmt):
    if not vals:
        return '-'
    return '%s [%s, %s]' % (fmt % statistics.median(vals), fmt % min(vals), fmt % max(vals))


def main(path):
    data = {}    # (disk, phase) -> label -> run -> fields
    order = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if not m:
                continue
            label, run, disk, phase, rest = m.groups()
            fields = dict(kv.split('=', 1) for kv in rest.split())
            fields = {k: float(v) for k, v in fields.items()}
            key = (disk, phase)
            if key not in data:
                data[key] = {}
                order.append(key)
            data[key].setdefault(label, {})[int(run)] = fields
    if not order:
        print('bench-table: no XF-BENCH lines in %s' % path, file=sys.stderr)
        return 1
    runs = sorted({r for key in order for lab in data[key].values() for r in lab})
    print('%d runs; figures: median [min, max]; ratios xenfront/Linux per run' % len(runs))
    print()
    hdr = ('disk', 'phase', 'metric', 'xenfront', 'Linux default', 'Linux best',
           'xf/default', 'xf/best')
    rows = []
    for key in order:
        disk, phase = key
        per = data[key]
        metric = 'IOPS' if '-4k-' in phase else 'MiB/s'
        fld = 'iops' if metric == 'IOPS' else 'mibs'
        fmt = '%.0f' if metric == 'IOPS' else '%.1f'

        def vals(label, f=fld):
            return [per.get(label, {})[r][f] for r in runs if r in per.get(label, {})]

        def ratios(label, f=fld, inverse=False):
            out = []
            for r in runs:
                a = per.get(XF, {}).get(r)
                b = per.get(label, {}).get(r)
                if a and b and a[f] > 0 and b[f] > 0:
                    out.append(b[f] / a[f] if inverse else a[f] / b[f])
            return out

        rows.append((disk, phase, metric, med_range(vals(XF), fmt),
                     med_range(vals(LINUX[0]), fmt), med_range(vals(LINUX[1]), fmt),
                     med_range(ratios(LINUX[0]), '%.2f'), med_range(ratios(LINUX[1]), '%.2f')))

        # dom0 CPU ms per MiB moved.
        def cpu(label):
            out = []
            for r in runs:
                x = per.get(label, {}).get(r)
                if x and x['bytes'] > 0:
                    out.append(x['cpu_ms'] / (x['bytes'] / 1048576.0))
            return out

        def cpu_ratio(label):
            out = []
            for r in runs:
                xa = per.get(XF, {}).get(r)
                xb = per.get(label, {}).get(r)
                if xa and xb and xa['bytes'] > 0 and xb['bytes'] > 0 and xa['cpu_ms'] > 0:
                    out.append((xb['cpu_ms'] / xb['bytes']) / (xa['cpu_ms'] / xa['bytes']))
            return out

        rows.append(('', '', 'dom0 CPU ms/MiB', med_range(cpu(XF), '%.1f'),
                     med_range(cpu(LINUX[0]), '%.1f'), med_range(cpu(LINUX[1]), '%.1f'),
                     med_range(cpu_ratio(LINUX[0]), '%.2f'), med_range(cpu_ratio(LINUX[1]), '%.2f')))
    print('| ' + ' | '.join(hdr) + ' |')
    print('|' + '---|' * len(hdr))
    for row in rows:
        print('| ' + ' | '.join(row) + ' |')
    print()
    print('xf/default and xf/best: above 1.0 xenfront is faster (for dom0 CPU per MiB: '
          'Linux/xenfront, above 1.0 xenfront costs dom0 less).')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build/guest/bench-last.txt'))
