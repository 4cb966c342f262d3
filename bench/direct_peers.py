#!/usr/bin/python3
"""convc's direct 3x3 kernel against oneDNN's (PyTorch) on the stride-1 3x3
layer shapes of UNet, in the same run (docs/design.md holds the last one).

  direct_peers.py --convc PATH [--rounds R] [--bench N] [--threads T] [--workdir DIR]

For each shape C -> C at H x W (padding 1, bias) convc compiles a network
that puts the layer between two 1 x 1 convs, so that it reads and writes
nChw16c as inside a network, with --winograd=off; its `--bench N
--profile=json` step median is the convc time. PyTorch runs the same layer
(torch.nn.Conv2d, channels_last: oneDNN's brgemm convolution, no Winograd) N
times in this process; its median is the oneDNN time. The two alternate R
times and the table gives the medians over the rounds, GFLOP/s, % of the FMA
probe's peak (bench/fma.c, which the profile reports) and oneDNN / convc.
The machine is shared and its speed drifts by 10% from minute to minute:
compare the ratio, not single numbers.
"""
import os
import statistics
import subprocess
import time

import torch

from winograd_speed import options, profile_json

SHAPES = [(64, 256), (128, 128), (256, 64), (512, 32), (1024, 16)]


def network(c, hw):
    return '\n'.join(['network direct {',
                      '    input x[%d, %d, %d]' % (c, hw, hw),
                      '    a = conv2d(x, %d, 1, name="a")' % c,
                      '    b = conv2d(a, %d, 3, padding=1, name="b")' % c,
                      '    c = conv2d(b, 16, 1, name="c")',
                      '    output c', '}']) + '\n'


def convc_ms(exe, a):
    prof = profile_json(exe, a)
    step = [s for s in prof['steps'] if s['name'] == 'b'][0]
    return step['median_ms'], step['kernel'], prof.get('peak_gflops')


def onednn_ms(layer, x, n):
    with torch.no_grad():
        layer(x)
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            layer(x)
            ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main():
    a = options(__doc__, 10, 'direct-peers-', rounds=5)
    torch.set_num_threads(a.threads)
    rows, peak = [], None
    for c, hw in SHAPES:
        src, exe = os.path.join(a.workdir, 'd%d.conv' % c), os.path.join(a.workdir, 'd%d.exe' % c)
        with open(src, 'w') as f:
            f.write(network(c, hw))
        subprocess.run([a.convc, src, '--winograd=off', '-o', exe], check=True)
        layer = torch.nn.Conv2d(c, c, 3, padding=1).to(memory_format=torch.channels_last)
        x = torch.randn(1, c, hw, hw).to(memory_format=torch.channels_last)
        ours, theirs, kernel = [], [], None
        for _ in range(a.rounds):
            ms, kernel, peak = convc_ms(exe, a)
            ours.append(ms)
            theirs.append(onednn_ms(layer, x, a.bench))
        rows.append((c, hw, kernel, statistics.median(ours), statistics.median(theirs)))
    print('threads=%d, %d rounds of %d runs, FMA peak %s GFLOP/s' % (a.threads, a.rounds, a.bench, peak))
    print('| C -> C | H x W | convc kernel | convc ms | GFLOP/s | % peak | oneDNN ms | GFLOP/s | % peak | oneDNN / convc |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for c, hw, kernel, ours, theirs in rows:
        gflop = 2.0 * c * c * 9 * hw * hw / 1e9
        pct = lambda ms: '%.1f' % (100 * gflop / (ms / 1e3) / peak) if peak else '-'
        print('| %d -> %d | %d x %d | %s | %.2f | %.1f | %s | %.2f | %.1f | %s | %.2f |' %
              (c, c, hw, hw, kernel, ours, gflop / ours * 1e3, pct(ours), theirs, gflop / theirs * 1e3, pct(theirs),
               theirs / ours))


if __name__ == '__main__':
    main()
