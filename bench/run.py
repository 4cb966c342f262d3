#!/usr/bin/python3
"""convc against PyTorch, timed in the same run on the same machine.

For each network: compile the .conv with convc, run the executable with
`--bench R` (one warm-up, R timed runs, median), then time the equivalent
PyTorch module (eval mode, no_grad, one warm-up, R timed runs, median) with the
same number of threads. Reported: both medians and the ratio
torch_ms / convc_ms (above 1: convc is faster).

    /usr/bin/python3 bench/run.py [--build build] [--runs 5] [--threads 1,2]
                                  [--nets unet,net4,...] [--markdown docs/benchmarks.md]

The PyTorch modules come from tests/stats/Inputs/models.py, written from the
tutorial and the UNet papers independently of convc.
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'stats', 'Inputs'))

import torch  # noqa: E402
import models  # noqa: E402

NETS = {
    # name: (.conv file, models.py factory)
    'net4': ('examples/seed/net4.conv', 'net4'),
    'net5': ('examples/seed/net5.conv', 'net5'),
    'net7': ('examples/seed/net7.conv', 'net7'),
    'net8': ('examples/seed/net8.conv', 'net8'),
    'unet': ('examples/unet.conv', 'unet'),
    'unet_2015': ('examples/unet_2015.conv', 'unet_2015'),
}


def convc_ms(build, conv, threads, runs, tmp):
    exe = os.path.join(tmp, os.path.basename(conv) + '.exe')
    if not os.path.exists(exe):
        subprocess.run([os.path.join(build, 'bin', 'convc'), os.path.join(ROOT, conv), '-o', exe], check=True)
    out = subprocess.run([exe, '--random-weights', '1', '--random-input', '2', '--threads', str(threads),
                          '--bench', str(runs)], check=True, capture_output=True, text=True).stdout
    m = re.search(r'bench: median_ms=([0-9.]+) min_ms=([0-9.]+) gflops=([0-9.]+)', out)
    if not m:
        sys.exit('bench: no bench line from %s: %r' % (exe, out))
    return float(m.group(1)), float(m.group(3))


def torch_ms(factory, threads, runs):
    torch.set_num_threads(threads)
    model, shape = getattr(models, factory)()
    model.eval()
    x = torch.rand((1,) + tuple(shape)) * 2 - 1
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(runs):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--nets', default=','.join(NETS))
    ap.add_argument('--markdown', help='also write the results table to this file')
    a = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.nets.split(','):
            conv, factory = NETS[name]
            for t in [int(s) for s in a.threads.split(',')]:
                c_ms, gflops = convc_ms(a.build, conv, t, a.runs, tmp)
                p_ms = torch_ms(factory, t, a.runs)
                rows.append((name, t, c_ms, gflops, p_ms, p_ms / c_ms))
                print('%-10s threads=%d  convc %9.2f ms (%6.1f GFLOP/s)  pytorch %9.2f ms  ratio %.2f'
                      % rows[-1], flush=True)

    if a.markdown:
        with open(a.markdown, 'w') as f:
            f.write('# Benchmarks\n\n')
            f.write('Produced by `make bench` (`bench/run.py`): convc and PyTorch %s timed in the '
                    'same run, batch 1, fp32, median of %d runs after a warm-up. ratio = PyTorch ms / convc ms '
                    '(above 1: convc is faster).\n\n' % (torch.__version__, a.runs))
            f.write('PyTorch is Debian\'s python3-torch: %s.\n\n' % torch_build())
            f.write('Machine: %s, %d cores, %s.\n\n' % (platform.machine(), os.cpu_count(), cpu_name()))
            f.write('| network | threads | convc ms | convc GFLOP/s | PyTorch ms | ratio |\n')
            f.write('|---|---:|---:|---:|---:|---:|\n')
            for r in rows:
                f.write('| %s | %d | %.2f | %.1f | %.2f | %.2f |\n' % r)


def torch_build():
    """What this PyTorch runs convolutions with, from its own build report."""
    cfg = torch.__config__.show()
    dnn = re.search(r'MKL-DNN (v[0-9.]+)', cfg)
    cap = re.search(r'CPU capability usage: (\w+)', cfg)
    return 'oneDNN (MKL-DNN) %s %s, ATen CPU kernels %s' % (
        dnn.group(1) if dnn else '(version unknown)',
        'enabled' if torch.backends.mkldnn.is_available() else 'NOT available',
        cap.group(1) if cap else 'unknown')


def cpu_name():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown CPU'


if __name__ == '__main__':
    main()
