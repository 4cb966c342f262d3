#!/usr/bin/python3
"""Rounding error of convc's 3x3 convolutions against a float64 reference,
on every distinct 3x3 layer shape of examples/unet.conv (docs/design.md
holds the last run's table).

  winograd_error.py --convc PATH [--workdir DIR] [--seed S]

For each shape (Cin -> Cout on H x W, padding 1) it writes a one-layer
network (the conv between nChw16c tensors, as in UNet), compiles it twice (--winograd=on and --winograd=off), runs both
on the same random weights (He-uniform, as tests/run/Inputs/ref.py draws
them; bias uniform(-0.5, 0.5)) and input (uniform(0, 1): a relu'd
activation, as in UNet), and compares each output with PyTorch's conv2d
computed in float64 from the same float32 values. It prints, per shape, the
kernel the default --winograd=auto chooses and max |y - ref| / max |ref| of
both builds.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
from export_weights import save_safetensors, save_npy  # noqa: E402

# (Cin, Cout, H = W) of every 3x3 conv of examples/unet.conv, each once
SHAPES = [(3, 64, 256), (64, 64, 256), (64, 128, 128), (128, 128, 128), (128, 256, 64),
          (256, 256, 64), (256, 512, 32), (512, 512, 32), (512, 1024, 16), (1024, 1024, 16),
          (1024, 512, 32), (512, 256, 64), (256, 128, 128), (128, 64, 256)]


def run(convc, src, flags, exe, w, x, y):
    subprocess.run([convc, src, '-o', exe] + flags, check=True)
    subprocess.run([exe, '--weights', w, '--input', x, '--output', y, '--threads', '2'], check=True)
    return np.load(y).astype(np.float64)


def kernel_of(convc, src):
    ir = subprocess.run([convc, src, '--emit=ir'], check=True, capture_output=True, text=True).stdout
    for line in ir.splitlines():
        if line.startswith('node conv'):
            return line.split('kernel=')[1].split()[0] if 'kernel=' in line else 'reference'
    return '?'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convc', required=True)
    ap.add_argument('--workdir')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    d = a.workdir or tempfile.mkdtemp(prefix='wino-err-')
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    print('| Cin -> Cout | H x W | kernel (auto) | Winograd: max err / max ref | direct: max err / max ref |')
    print('|---|---|---|---|---|')
    for cin, cout, hw in SHAPES:
        src = os.path.join(d, 'l.conv')
        with open(src, 'w') as f:
            # maxpool2d(c, 1) is the identity; it keeps c off the network's
            # outputs (which stay NCHW), so the layout pass blocks c as in UNet
            f.write('network l {\n    input x[%d, %d, %d]\n    c = conv2d(x, %d, 3, padding=1)\n'
                    '    y = maxpool2d(c, 1)\n    output y\n}\n' % (cin, hw, hw, cout))
        b = math.sqrt(6.0 / (cin * 9))
        wt = rng.uniform(-b, b, (cout, cin, 3, 3)).astype(np.float32)
        bias = rng.uniform(-0.5, 0.5, (cout,)).astype(np.float32)
        xt = rng.uniform(0, 1, (1, cin, hw, hw)).astype(np.float32)
        w, x = os.path.join(d, 'w.safetensors'), os.path.join(d, 'x.npy')
        save_safetensors({'c.weight': torch.from_numpy(wt), 'c.bias': torch.from_numpy(bias)}, w)
        save_npy(torch.from_numpy(xt), x)
        ref = F.conv2d(torch.from_numpy(xt).double(), torch.from_numpy(wt).double(),
                       torch.from_numpy(bias).double(), padding=1).numpy()
        scale = np.abs(ref).max()
        errs = []
        for flags in (['--winograd=on'], ['--winograd=off']):
            y = run(a.convc, src, flags, os.path.join(d, 'l.exe'), w, x, os.path.join(d, 'y.npy'))
            errs.append(np.abs(y - ref).max() / scale)
        print('| %d -> %d | %d x %d | %s | %.1e | %.1e |' % (cin, cout, hw, hw, kernel_of(a.convc, src), errs[0], errs[1]))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
