#!/usr/bin/python3
"""Runs a program that embeds compiled networks and checks its outputs against PyTorch.

  embed.py --workdir DIR [--batch N] [--job MODEL:SEED[:C,H,W]] ... -- PROGRAM ARGS...

For job i it builds MODELS[MODEL] (tests/run/Inputs/models.py) with random
weights drawn from SEED (ref.py's rule), optionally on an input of C,H,W
instead of the model's, and writes into DIR
  w{i}.safetensors   the weights
  x{i}.bin           a random float32 input [N, C, H, W] (seeded by SEED and i)
then runs PROGRAM with {w0}, {x0}, {y0}, {y0_1}, ... in ARGS replaced by
those paths (y{i} is output 0 of job i, y{i}_{k} its output k), and compares
every y file, raw float32, with the model's output as ref.py does:
max |y - ref| <= 1e-4 * max(1, max |ref|). Prints the program's stdout, a
line per output and `ok`, or FAILED and exit 1 (--no-outputs: only the exit
status of the program is checked).
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
import ref  # noqa: E402
from export_weights import save_safetensors  # noqa: E402


def prepare(i, job, batch, workdir):
    """-> [(path of y, reference array)] for job i"""
    parts = job.split(':')
    name, seed = parts[0], int(parts[1])
    spec, model = ref.build(name, seed)
    shape = tuple(int(d) for d in parts[2].split(',')) if len(parts) > 2 else spec.inputs[0][1]
    save_safetensors(dict(model.state_dict()), os.path.join(workdir, 'w%d.safetensors' % i))
    rng = np.random.default_rng(seed * 100 + i + 1000)
    x = rng.uniform(-1.0, 1.0, (batch,) + tuple(shape)).astype(np.float32)
    x.tofile(os.path.join(workdir, 'x%d.bin' % i))
    with torch.no_grad():
        ys = model(torch.from_numpy(x))
    ys = ys if isinstance(ys, tuple) else (ys,)
    out = []
    for k, y in enumerate(ys):
        tag = 'y%d' % i if k == 0 else 'y%d_%d' % (i, k)
        out.append((tag, os.path.join(workdir, tag + '.bin'), y.numpy().astype(np.float32)))
    return out


def compare(tag, path, want):
    if not os.path.exists(path):
        print('%s: no output file' % tag)
        return False
    got = np.fromfile(path, dtype=np.float32)
    if got.size != want.size:
        print('%s: %d floats, expected %d' % (tag, got.size, want.size))
        return False
    err = float(np.max(np.abs(got - want.reshape(-1))))
    scale = max(1.0, float(np.max(np.abs(want))))
    ok = err <= 1e-4 * scale
    print('%s: shape=%s max_abs_err=%.3g max_ref=%.3g %s' % (tag, list(want.shape), err, scale,
                                                            'ok' if ok else 'FAILED'))
    return ok


def main():
    if '--' not in sys.argv:
        raise SystemExit('embed.py: expected -- PROGRAM ARGS...')
    cut = sys.argv.index('--')
    p = argparse.ArgumentParser()
    p.add_argument('--workdir', required=True)
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--job', action='append', default=[])
    p.add_argument('--no-outputs', action='store_true', help='the program writes no y files: check its exit only')
    a = p.parse_args(sys.argv[1:cut])
    os.makedirs(a.workdir, exist_ok=True)
    outputs, subst = [], {}
    for i, job in enumerate(a.job):
        subst['w%d' % i] = os.path.join(a.workdir, 'w%d.safetensors' % i)
        subst['x%d' % i] = os.path.join(a.workdir, 'x%d.bin' % i)
        for tag, path, want in prepare(i, job, a.batch, a.workdir):
            subst[tag] = path
            outputs.append((tag, path, want))
            if os.path.exists(path):
                os.remove(path)
    cmd = [arg.format(**subst) for arg in sys.argv[cut + 1:]]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        print('FAILED: exit %d\n%s' % (p.returncode, p.stderr))
        return 1
    ok = a.no_outputs or all([compare(tag, path, want) for tag, path, want in outputs])
    print('ok' if ok else 'FAILED')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
