#!/usr/bin/env python3
"""The in-guest benchmark's table (scripts/bench-guest.sh).

Reads the XF-BENCH lines dom0's monitor printed (tests/guest/dom0/xf-bench-mon.c):

    XF-BENCH LABEL RUN DISK PHASE bytes=B ms=T iops=I mibs=M reqs=R cpu_ms=C [evts=E]

(DISK "net": the network phases, iops is frames/s and reqs frames) and prints,
per disk and phase, the test kernel's figure and Linux's (at its
blkfront defaults and at its best) as medians with their ranges, and the ratio
xenfront / Linux computed within each run (the guests of one run ran one
after the other in the same boot), as median and range. dom0's CPU time per
MiB moved (per frame for the network) and the back end's events per request
or frame are given the same way (lower is better).
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
            # key=number tokens up to the first other one: a guest's console
            # line written meanwhile can land in the middle of a line on the
            # shared serial port ("drops=25381(d15) # bench ...").
            fields = {}
            for kv in rest.split():
                km = re.match(r'([a-z_]+)=(-?[0-9.]+)', kv)
                if not km:
                    break
                fields[km.group(1)] = float(km.group(2))
                if km.end() != len(kv):
                    break
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
    def row(per, label3, getter, fmt, inverse=False):
        """One table row: getter(fields) per guest and run, ratios per run."""
        def vals(label):
            out = []
            for r in runs:
                x = per.get(label, {}).get(r)
                v = getter(x) if x else None
                if v is not None:
                    out.append(v)
            return out

        def ratios(label):
            out = []
            for r in runs:
                a, b = per.get(XF, {}).get(r), per.get(label, {}).get(r)
                va = getter(a) if a else None
                vb = getter(b) if b else None
                if va and vb:
                    out.append(vb / va if inverse else va / vb)
            return out
        return (label3, med_range(vals(XF), fmt), med_range(vals(LINUX[0]), fmt),
                med_range(vals(LINUX[1]), fmt), med_range(ratios(LINUX[0]), '%.2f'),
                med_range(ratios(LINUX[1]), '%.2f'))

    def per_unit(field, scale=1.0):
        return lambda x: (x[field] * scale / x['reqs']
                          if field in x and x['reqs'] > 0 and x['bytes'] > 0 else None)

    for key in order:
        disk, phase = key
        per = data[key]
        if disk == 'net':
            rows.append((disk, phase) + row(per, 'frames/s', lambda x: x['iops'] or None, '%.0f'))
            rows.append(('', '') + row(per, 'Mbit/s', lambda x: x['mibs'] * 8.388608 or None,
                                       '%.1f'))
            rows.append(('', '') + row(per, 'dom0 CPU us/frame', per_unit('cpu_ms', 1000.0),
                                       '%.2f', inverse=True))
            if any('evts' in x for lab in per.values() for x in lab.values()):
                rows.append(('', '') + row(per, 'back-end events/frame', per_unit('evts'),
                                           '%.3f', inverse=True))
            continue
        metric = 'IOPS' if '-4k-' in phase else 'MiB/s'
        fld = 'iops' if metric == 'IOPS' else 'mibs'
        fmt = '%.0f' if metric == 'IOPS' else '%.1f'
        rows.append((disk, phase) + row(per, metric, lambda x, f=fld: x[f] or None, fmt))
        rows.append(('', '') + row(per, 'dom0 CPU ms/MiB',
                                   lambda x: x['cpu_ms'] / (x['bytes'] / 1048576.0)
                                   if x['bytes'] > 0 else None, '%.1f', inverse=True))
        if any('evts' in x for lab in per.values() for x in lab.values()):
            rows.append(('', '') + row(per, 'back-end events/request', per_unit('evts'), '%.3f',
                                       inverse=True))
    print('| ' + ' | '.join(hdr) + ' |')
    print('|' + '---|' * len(hdr))
    for row in rows:
        print('| ' + ' | '.join(row) + ' |')
    print()
    print('xf/default and xf/best: above 1.0 xenfront is faster (for dom0 CPU and back-end '
          'events: Linux/xenfront, above 1.0 xenfront costs dom0 less). The network phases '
          'run in the test kernel and in Linux at its defaults only (netfront has no '
          'such knobs); tx is the guest sending.')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build/guest/bench-last.txt'))
