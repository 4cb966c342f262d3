#!/usr/bin/python3
"""Winograd against the direct conv kernels on every distinct 3x3 layer shape
of examples/unet.conv, in the same run (docs/design.md holds the last one).

  winograd_speed.py --convc PATH [--rounds R] [--bench N] [--threads T] [--workdir DIR]

Compiles one network holding every shape (padding 1, bias) twice,
--winograd=on and --winograd=off, then runs `--bench N --profile=json` of the
two executables alternately R times and prints, per layer, the medians over
the rounds of each step's median, the effective GFLOP/s (the direct
convolution's 2 * MACs / time, for both), the percentage of the FMA peak the
profile reports, and the ratio off / on. The machine is shared: compare the
ratio, not the absolute numbers.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

from winograd_error import SHAPES


def options(doc, bench, prefix, extra=None, rounds=3):
    """The command line the kernel speed scripts take (extra(ap) adds a
    script's own); the work directory made."""
    ap = argparse.ArgumentParser(description=doc)
    if extra:
        extra(ap)
    ap.add_argument('--convc', required=True)
    ap.add_argument('--rounds', type=int, default=rounds)
    ap.add_argument('--bench', type=int, default=bench)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workdir')
    a = ap.parse_args()
    a.workdir = a.workdir or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(a.workdir, exist_ok=True)
    return a


def profile_json(exe, a):
    """The --profile=json of `exe` run --bench a.bench at a.threads threads."""
    return json.loads(subprocess.run([exe, '--random-weights', '1', '--random-input', '2', '--threads', str(a.threads),
                                      '--bench', str(a.bench), '--profile=json'], check=True, capture_output=True,
                                     text=True).stdout)


def on_and_off(a, name, lines):
    """Compiles the network `lines` with --winograd=on and off, runs the two
    executables alternately a.rounds times (--bench a.bench --profile=json);
    returns each mode's step medians by step name (one per round), each
    step's profile entry by (mode, name), and the FMA peak."""
    src = os.path.join(a.workdir, name + '.conv')
    with open(src, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    exes = {}
    for mode in ('on', 'off'):
        exes[mode] = os.path.join(a.workdir, '%s_%s.exe' % (name, mode))
        subprocess.run([a.convc, src, '--winograd=' + mode, '-o', exes[mode]], check=True)
    times, info, peak = {mode: {} for mode in exes}, {}, None
    for _ in range(a.rounds):
        for mode, exe in exes.items():
            prof = profile_json(exe, a)
            for s in prof['steps']:
                times[mode].setdefault(s['name'], []).append(s['median_ms'])
                info[(mode, s['name'])] = s
            peak = prof.get('peak_gflops')
    return times, info, peak


def main():
    a = options(__doc__, 3, 'wino-speed-')
    lines, outs = ['network layers {'], []
    for i, (cin, cout, hw) in enumerate(SHAPES):
        lines.append('    input x%d[%d, %d, %d]' % (i, cin, hw, hw))
        lines.append('    l%d = conv2d(x%d, %d, 3, padding=1)' % (i, i, cout))
        outs.append('l%d' % i)
    lines += ['    output ' + ', '.join(outs), '}']
    times, info, peak = on_and_off(a, 'layers', lines)
    print('threads=%d, %d rounds, FMA peak %s GFLOP/s' % (a.threads, a.rounds, peak))
    print('| Cin -> Cout | H x W | Winograd ms | GFLOP/s eff. | % peak | direct kernel | ms | GFLOP/s | % peak | speed-up |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for i, (cin, cout, hw) in enumerate(SHAPES):
        name = 'l%d' % i
        on, off = statistics.median(times['on'][name]), statistics.median(times['off'][name])
        flops = 2.0 * cin * cout * 9 * hw * hw
        g_on, g_off = flops / on / 1e6, flops / off / 1e6
        pk = (lambda g: '%.0f' % (100 * g / peak)) if peak else (lambda g: '-')
        print('| %d -> %d | %d x %d | %.2f | %.0f | %s | %s | %.2f | %.0f | %s | %.2f |'
              % (cin, cout, hw, hw, on, g_on, pk(g_on), info[('off', name)]['kernel'], off, g_off, pk(g_off), off / on))


if __name__ == '__main__':
    main()
