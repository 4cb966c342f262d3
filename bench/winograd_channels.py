#!/usr/bin/python3
"""Winograd against the direct blocked kernel on 3x3 layers with few
channels (16-64 in, 16-256 out) on 16 x 16 to 128 x 128 maps: the data
behind --winograd=auto's cost model for small layers (docs/design.md).

  winograd_channels.py --convc PATH [--rounds R] [--bench N] [--threads T] [--workdir DIR]

One network holds every shape, each 3x3 conv (padding 1, relu) between 1x1
convs so that it reads and writes nChw16c as inside a network; it is
compiled with --winograd=on and --winograd=off, the two executables run
alternately R times (`--bench N --profile=json`), and per shape the median
over the rounds of the 3x3 step's median is printed with the ratio
off / on (> 1: Winograd faster). The machine is shared: read the ratios.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

CIN = (16, 32, 48, 64)
COUT = (16, 32, 64, 256)
HW = (16, 32, 64, 128)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convc', required=True)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--bench', type=int, default=5)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workdir')
    a = ap.parse_args()
    d = a.workdir or tempfile.mkdtemp(prefix='wino-channels-')
    os.makedirs(d, exist_ok=True)
    shapes = [(cin, cout, hw) for cin in CIN for cout in COUT for hw in HW]
    lines, outs = ['network channels {'], []
    for i, (cin, cout, hw) in enumerate(shapes):
        lines.append('    input x%d[%d, %d, %d]' % (i, cin, hw, hw))
        lines.append('    a%d = conv2d(x%d, %d, 1)' % (i, i, cin))
        lines.append('    w%dz = relu(conv2d(a%d, %d, 3, padding=1, name="w%dz"))' % (i, i, cout, i))
        lines.append('    y%d = conv2d(w%dz, 16, 1)' % (i, i))
        outs.append('y%d' % i)
    lines += ['    output ' + ', '.join(outs), '}']
    src = os.path.join(d, 'channels.conv')
    with open(src, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    exes = {}
    for mode in ('on', 'off'):
        exes[mode] = os.path.join(d, 'channels_%s.exe' % mode)
        subprocess.run([a.convc, src, '--winograd=' + mode, '-o', exes[mode]], check=True)
    times = {mode: {} for mode in exes}
    kernel, peak = {}, None
    for _ in range(a.rounds):
        for mode, exe in exes.items():
            out = subprocess.run([exe, '--random-weights', '1', '--random-input', '2', '--threads', str(a.threads),
                                  '--bench', str(a.bench), '--profile=json'], check=True, capture_output=True,
                                 text=True).stdout
            prof = json.loads(out)
            peak = prof.get('peak_gflops')
            for s in prof['steps']:
                m = re.search(r'w(\d+)z', s['name'])
                if m:
                    times[mode].setdefault(int(m.group(1)), []).append(s['median_ms'])
                    kernel[(mode, int(m.group(1)))] = s['kernel']
    print('threads=%d, %d rounds, FMA peak %s GFLOP/s' % (a.threads, a.rounds, peak))
    print('| Cin -> Cout | H x W | Winograd ms | direct ms (kernel) | speed-up |')
    print('|---|---|---|---|---|')
    for i, (cin, cout, hw) in enumerate(shapes):
        on, off = statistics.median(times['on'][i]), statistics.median(times['off'][i])
        print('| %d -> %d | %d x %d | %.3f | %.3f (%s) | %.2f |' % (cin, cout, hw, hw, on, off, kernel[('off', i)], off / on))


if __name__ == '__main__':
    main()
