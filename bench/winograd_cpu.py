#!/usr/bin/python3
"""Per-layer CPU time of compiled networks, for comparing kernels on a shared
machine (docs/design.md, "Winograd's speed", holds the last run).

  winograd_cpu.py [--threads T] [--bench N] [--rounds R] NAME=EXE ...

Wall-clock medians mean little when other processes share the cores, so
each executable runs `--bench 1` and `--bench 1+N --profile=json`, and the
CPU time (user + system, from wait4) of the second minus the first, over N,
is the CPU time of one run. Each step gets the share of it that its
profile median has of the sum of all step medians. The executables run
alternately R rounds; the table holds per-step medians over the rounds,
with effective GFLOP/s (the direct convolution's 2 * MACs / CPU time, per
thread: CPU time / T) and its percentage of the FMA peak of one core times
T. With 2 threads, CPU time includes the pool's spinning at barriers.
"""
import argparse
import json
import os
import statistics
import subprocess


def cpu_run(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit('%s failed (%d)' % (cmd[0], status))
    return ru.ru_utime + ru.ru_stime, out


def measure(exe, threads, n):
    base = [exe, '--random-weights', '1', '--random-input', '2', '--threads', str(threads)]
    c1, _ = cpu_run(base + ['--bench', '1'])
    c2, out = cpu_run(base + ['--bench', str(1 + n), '--profile=json'])
    prof = json.loads(out)
    per_run = max(c2 - c1, 0.0) / n * 1000.0
    total = sum(s['median_ms'] for s in prof['steps'])
    return per_run, {s['name']: (s, per_run * s['median_ms'] / total) for s in prof['steps']}, prof


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--bench', type=int, default=5)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--peak', type=float, default=116.5, help='FMA peak of one core, GFLOP/s')
    ap.add_argument('exes', nargs='+')
    a = ap.parse_args()
    exes = [e.split('=', 1) for e in a.exes]
    totals = {name: [] for name, _ in exes}
    steps = {name: {} for name, _ in exes}
    info = {}
    for _ in range(a.rounds):
        for name, exe in exes:
            per_run, st, _ = measure(exe, a.threads, a.bench)
            totals[name].append(per_run)
            for sname, (s, ms) in st.items():
                steps[name].setdefault(sname, []).append(ms)
                info[sname] = s
    peak = a.peak * a.threads
    names = [n for n, _ in exes]
    print('threads=%d, %d rounds of --bench %d, CPU ms per run / threads; eff. %% of %.1f GFLOP/s'
          % (a.threads, a.rounds, a.bench, peak))
    print('%-34s %-14s ' % ('step', 'kernel(last)') + ' '.join('%18s' % n for n in names))
    for sname in steps[names[0]]:
        s = info[sname]
        macs = s.get('macs') or 0
        cells = []
        for n in names:
            ms = statistics.median(steps[n].get(sname, [0])) / a.threads
            eff = 2 * macs / (ms / 1000) / 1e9 / peak * 100 if macs and ms else 0
            cells.append('%9.2f %6.0f%%' % (ms, eff) if macs else '%9.2f %7s' % (ms, ''))
        print('%-34s %-14s ' % (sname[:34], s.get('kernel', '')) + ' '.join('%18s' % c for c in cells))
    print('%-34s %-14s ' % ('total (CPU ms / threads)', '') +
          ' '.join('%18s' % ('%9.2f' % (statistics.median(totals[n]) / a.threads)) for n in names))


if __name__ == '__main__':
    main()
