#!/usr/bin/python3
"""Checks the structure of `NET --bench N --profile[=MODE]` (never its timings).

    check_profile.py --exe NET [--threads T] [--batch B] [--runs N] [--quick]

Runs NET with --random-weights/--random-input in every mode and checks:
  - json: stdout is one valid JSON object (json.loads), one step per step of
    `NET --info`, indices 0..n-1 in order, shapes [B, ...], per-step MACs summing
    to the network's, %total summing to 100, GFLOP/s = 2 * MACs * B / ms;
  - table (default, slowest first) and order (network order): the header line,
    the column names, one row per step plus `total`, name/op/kernel/layout/output
    equal to the JSON's for the same index, rows sorted as the mode says;
  - the peak: CONVC_PEAK_GFLOPS=P gives P * T and %peak = GFLOP/s / peak; with
    CONVC_PEAK_GFLOPS=none every %peak is '-' (null); without it, the FMA probe
    gives a positive peak or none at all.
--quick: only the JSON and the default table, with CONVC_PEAK_GFLOPS=none (for big networks).
Prints `profile ok: STEPS steps` when everything holds, else exits 1 with the reason.
"""
import argparse
import json
import os
import re
import subprocess
import sys

COLUMNS = ['#', 'step', 'op', 'kernel', 'layout', 'output', 'median_ms', 'GFLOP/s', '%peak', '%total']
HEADER = re.compile(r'profile: network (\S+), (\d+) steps, median of (\d+) runs, threads=(\d+) batch=(\d+), '
                    r'peak (unknown, )?([0-9.]+) GFLOP/s \((.*)\)$')
NUM = r'([0-9]+\.[0-9]+|-)'


def fail(msg):
    sys.exit('check_profile: ' + msg)


def run(a, mode, peak_env):
    env = dict(os.environ)
    env.pop('CONVC_PEAK_GFLOPS', None)
    if peak_env is not None:
        env['CONVC_PEAK_GFLOPS'] = peak_env
    cmd = [a.exe, '--random-weights', '1', '--random-input', '2', '--batch', str(a.batch), '--threads', str(a.threads),
           '--bench', str(a.runs), '--profile' + ('=' + mode if mode else '')]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        fail('%s exited %d: %s' % (' '.join(cmd), p.returncode, p.stderr))
    return p.stdout


def info(a):
    out = subprocess.run([a.exe, '--info'], capture_output=True, text=True, check=True).stdout
    steps = int(re.search(r'^steps (\d+)$', out, re.M).group(1))
    macs = int(re.search(r'^macs (\d+) per sample$', out, re.M).group(1))
    return steps, macs


def close(x, y, tol):
    return abs(x - y) <= tol * max(1.0, abs(y))


def check_json(a, text, nsteps, macs, peak_env):
    d = json.loads(text)  # the whole stdout: no bench line in json mode
    for key in ('network', 'runs', 'threads', 'batch', 'median_ms', 'min_ms', 'steps_total_ms', 'macs',
                'peak_gflops', 'peak_source', 'steps'):
        if key not in d:
            fail('json: no key %r' % key)
    if (d['runs'], d['threads'], d['batch'], d['macs']) != (a.runs, a.threads, a.batch, macs):
        fail('json: runs/threads/batch/macs %r' % ((d['runs'], d['threads'], d['batch'], d['macs']),))
    if len(d['steps']) != nsteps:
        fail('json: %d steps, --info says %d' % (len(d['steps']), nsteps))
    if peak_env == 'none' and d['peak_gflops'] is not None:
        fail('json: CONVC_PEAK_GFLOPS=none but peak %r' % d['peak_gflops'])
    if peak_env not in (None, 'none') and not close(d['peak_gflops'], float(peak_env) * a.threads, 1e-5):
        fail('json: peak %r, expected %s x %d' % (d['peak_gflops'], peak_env, a.threads))
    total = 0.0
    for i, s in enumerate(d['steps']):
        if s['index'] != i or s['shape'][0] != a.batch or len(s['shape']) not in (2, 4):
            fail('json: step %d: %r' % (i, s))
        if not all(isinstance(s[k], str) and s[k] for k in ('name', 'op', 'kernel', 'layout')):
            fail('json: step %d has an empty name, op, kernel or layout' % i)
        if s['gflops'] is not None and not close(s['gflops'], 2 * s['macs'] * a.batch / s['median_ms'] / 1e6, 1e-3):
            fail('json: step %d: gflops %r for %d MACs in %r ms' % (i, s['gflops'], s['macs'], s['median_ms']))
        if (s['gflops'] is None) != (s['macs'] == 0 or s['median_ms'] == 0):
            fail('json: step %d: gflops %r with %d MACs' % (i, s['gflops'], s['macs']))
        if d['peak_gflops'] is None and s['peak_pct'] is not None:
            fail('json: step %d has %%peak without a peak' % i)
        if s['peak_pct'] is not None and not close(s['peak_pct'], 100 * s['gflops'] / d['peak_gflops'], 1e-3):
            fail('json: step %d: %%peak %r' % (i, s['peak_pct']))
        total += s['total_pct']
    if sum(s['macs'] for s in d['steps']) != macs:
        fail('json: step MACs sum to %d, the network has %d' % (sum(s['macs'] for s in d['steps']), macs))
    if not close(total, 100.0, 1e-3):
        fail('json: %%total sums to %r' % total)
    return d


def shape_text(shape):
    return 'x'.join(str(v) for v in shape)


def parse_table(a, text, nsteps, mode):
    lines = text.rstrip('\n').split('\n')
    if not re.match(r'bench: median_ms=\S+ min_ms=\S+ gflops=\S+ threads=%d batch=%d$' % (a.threads, a.batch), lines[0]):
        fail('%s: first line %r is not the bench line' % (mode, lines[0]))
    h = HEADER.match(lines[1])
    if not h or (int(h.group(2)), int(h.group(3)), int(h.group(4)), int(h.group(5))) != (nsteps, a.runs, a.threads,
                                                                                        a.batch):
        fail('%s: header %r' % (mode, lines[1]))
    if lines[2].split() != COLUMNS:
        fail('%s: columns %r' % (mode, lines[2]))
    if len(lines) != 3 + nsteps + 1:
        fail('%s: %d lines for %d steps' % (mode, len(lines), nsteps))
    rows = []
    for line in lines[3:3 + nsteps]:
        m = re.match(r'\s*(\d+)  (\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([0-9]+\.[0-9]+) +%s +%s +%s$'
                     % (NUM, NUM, NUM), line)
        if not m:
            fail('%s: row %r' % (mode, line))
        rows.append(m.groups())
    t = re.match(r'\s+total\s+([0-9]+\.[0-9]+) +%s +%s +100\.0$' % (NUM, NUM), lines[-1])
    if not t:
        fail('%s: last line %r' % (mode, lines[-1]))
    return h, rows


def check_table(a, text, nsteps, d, mode, peak_env):
    h, rows = parse_table(a, text, nsteps, mode)
    idx = [int(r[0]) for r in rows]
    if sorted(idx) != list(range(nsteps)):
        fail('%s: step indices %r' % (mode, idx))
    if mode == 'order' and idx != list(range(nsteps)):
        fail('order: rows not in network order: %r' % idx)
    ms = [float(r[6]) for r in rows]
    if mode != 'order' and ms != sorted(ms, reverse=True):
        fail('%s: rows not slowest first: %r' % (mode, ms))
    for r in rows:
        s = d['steps'][int(r[0])]
        if list(r[1:6]) != [s['name'], s['op'], s['kernel'], s['layout'], shape_text(s['shape'])]:
            fail('%s: row %r disagrees with the JSON step %r' % (mode, r, s))
        if (s['macs'] == 0 and r[7] != '-') or (r[7] == '-' and s['macs'] and float(r[6]) > 0):
            fail('%s: GFLOP/s %r for %d MACs' % (mode, r[7], s['macs']))
        if peak_env == 'none' and r[8] != '-':
            fail('%s: %%peak %r without a peak' % (mode, r[8]))
    if peak_env == 'none' and h.group(6) is None:
        fail('%s: CONVC_PEAK_GFLOPS=none but the header gives a peak' % mode)
    if peak_env not in (None, 'none') and not close(float(h.group(7)), float(peak_env) * a.threads, 1e-3):
        fail('%s: header peak %r' % (mode, h.group(7)))
    if abs(sum(float(r[9]) for r in rows) - 100.0) > 0.05 * nsteps + 0.05:
        fail('%s: %%total sums to %r' % (mode, sum(float(r[9]) for r in rows)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--exe', required=True)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--quick', action='store_true')
    a = ap.parse_args()
    nsteps, macs = info(a)
    for peak_env in ('none',) if a.quick else (None, 'none', '37.5'):
        d = check_json(a, run(a, 'json', peak_env), nsteps, macs, peak_env)
        for mode in (None,) if a.quick else (None, 'table', 'time', 'order'):
            check_table(a, run(a, mode, peak_env), nsteps, d, mode or 'table', peak_env)
    print('profile ok: %d steps' % nsteps)


if __name__ == '__main__':
    main()
