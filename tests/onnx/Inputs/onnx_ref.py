#!/usr/bin/python3
"""ONNX end-to-end check: PyTorch model -> torch.onnx.export -> convc -> run -> compare.

  onnx_ref.py export --model NAME --opset N [--training eval|preserve] OUT.onnx
  onnx_ref.py run --convc PATH --onnx FILE --model NAME [--batch N] [--threads T]
                  [--rtol R] [--workdir DIR]
  onnx_ref.py check --convc PATH --opset N [--opset N ...] [--training eval|preserve]
                  [run options] NAME[:FILE.conv] ...

`export` builds models.MODELS[NAME] with ref.py's seeded random weights
(batchnorm statistics random too), puts it in eval mode and writes it with
torch.onnx.export at the given opset, the batch dimension dynamic (`N`).
`--training preserve` keeps BatchNormalization nodes (torch's default, eval,
folds them into the convolutions).

`run` compiles the ONNX file (`convc FILE -o exe --emit-weights w.safetensors`),
runs the executable (`--weights w.safetensors`; with --embedded neither: the
weights convc embedded in it) on random inputs and compares every output with the same
PyTorch model (rebuilt from the same seed): max |y - ref| <= rtol * max(1, max |ref|).
It prints a line per output and then `model=NAME ... ok` (or FAILED, exit 1).

`check` does both for several models and opsets in one process, and where a
hand-written FILE.conv is given also compares `convc --stats` of the ONNX
model with `convc --stats` of FILE.conv, every column but the layer names
(the .conv names come from its blocks, the ONNX ones from the graph) and
the network's name (the file's). Prints `stats: same` or the diff.
"""
import difflib
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'tools'))
import onnx_models  # noqa: E402,F401  (registers the extra models)
import ref  # noqa: E402
from export_weights import save_npy  # noqa: E402

warnings.filterwarnings('ignore')


def export(a):
    return export_one(a, a.opset)


def export_one(a, opset):
    spec, model = ref.build(a.model, a.seed)
    xs = tuple(torch.zeros((1,) + tuple(s)) for _, s in spec.inputs)
    names = [n for n, _ in spec.inputs]
    mode = {'eval': torch.onnx.TrainingMode.EVAL, 'preserve': torch.onnx.TrainingMode.PRESERVE}[a.training]
    dyn = {0: 'N', 2: 'H', 3: 'W'} if getattr(a, 'dynamic_hw', False) else {0: 'N'}
    torch.onnx.export(model, xs, a.out, opset_version=opset, training=mode,
                      input_names=names, output_names=spec.outputs,
                      dynamic_axes={n: dyn for n in names + spec.outputs})
    return 0


def stats(convc, path):
    """convc --stats without the layer-name column and the network's name."""
    p = subprocess.run([convc, path, '--stats'], capture_output=True, text=True)
    if p.returncode != 0:
        return ['convc --stats %s failed (exit %d): %s' % (path, p.returncode, p.stderr)]
    rows = []
    for line in p.stdout.splitlines():
        f = line.split()
        if f and f[0] == 'network':
            continue
        rows.append(' '.join(f[1:]) if f and not f[0].startswith('=') else '=')
    return rows


def check(a):
    failed = False
    for item in a.models:
        name, _, conv = item.partition(':')
        for opset in a.opset:
            workdir = os.path.join(a.workdir, '%s_%d' % (name, opset))
            shutil.rmtree(workdir, ignore_errors=True)
            os.makedirs(workdir)
            a.model, a.out, a.onnx = name, os.path.join(workdir, name + '.onnx'), None
            a.onnx = a.out
            a.opset_now = opset
            export_one(a, opset)
            if conv:
                x, y = stats(a.convc, a.onnx), stats(a.convc, conv)
                diff = list(difflib.unified_diff(y, x, conv, a.onnx, lineterm=''))
                print('model=%s opset=%d stats: %s' % (name, opset, 'same' if not diff else 'DIFFERENT'))
                if diff:
                    print('\n'.join(diff))
                failed |= bool(diff)
            print('opset=%d ' % opset, end='')
            failed |= run(a, workdir) != 0
    return 1 if failed else 0


def run(a, workdir):
    spec, model = ref.build(a.model, a.seed)
    exe = os.path.join(workdir, 'model')
    cmd = [a.convc, a.onnx, '-o', exe] + a.convc_arg
    if not a.embedded:
        cmd += ['--emit-weights', os.path.join(workdir, 'w.safetensors')]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print('convc failed (exit %d):\n%s' % (p.returncode, p.stderr))
        return 1
    a.input_shape = []
    inputs = ref.make_inputs(a, spec)
    in_files = []
    for name, x in inputs:
        save_npy(x, os.path.join(workdir, 'in_%s.npy' % name))
        in_files.append((name, 'in_%s.npy' % name))
    out_files = [(name, 'out_%s.npy' % name) for name in spec.outputs]
    a.exe = exe
    if a.embedded:   # the executable's own weights, no file
        p = subprocess.run([exe, '--threads', str(a.threads)] + ref.file_args('--input', in_files) +
                           ref.file_args('--output', out_files), cwd=workdir, capture_output=True, text=True)
        code, stderr = p.returncode, p.stderr
    else:
        code, stderr = ref.run_exe(a, workdir, in_files, out_files)
    head = 'model=%s batch=%d threads=%d' % (a.model, a.batch, a.threads)
    if code != 0:
        print('%s: exit %s\n%s%s FAILED' % (exe, code, stderr, head))
        return 1
    refs = ref.reference(model, spec, inputs)
    failed, worst = False, (-1.0, 0.0, 0.0)
    for (name, path), r in zip(out_files, refs):
        ratio, lines, err, peak = ref.compare(a, name, np.load(os.path.join(workdir, path)), r)
        print('\n'.join(lines))
        failed |= not ratio <= 1
        worst = max(worst, (ratio, err, peak))
    print('%s max_abs_err=%.3g max_ref=%.3g %s' % (head, worst[1], worst[2], 'FAILED' if failed else 'ok'))
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export')
    e.add_argument('--model', required=True)
    e.add_argument('--opset', type=int, required=True)
    e.add_argument('--training', default='eval', choices=['eval', 'preserve'])
    e.add_argument('--seed', type=int, default=0)
    e.add_argument('--dynamic-hw', action='store_true', help='H and W dynamic too (not only N)')
    e.add_argument('out')
    r = sub.add_parser('run')
    r.add_argument('--onnx', required=True)
    r.add_argument('--model', required=True)
    c = sub.add_parser('check')
    c.add_argument('--opset', type=int, action='append', required=True)
    c.add_argument('--training', default='eval', choices=['eval', 'preserve'])
    c.add_argument('models', nargs='+', metavar='NAME[:FILE.conv]')
    for q in (r, c):
        q.add_argument('--convc', required=True)
        q.add_argument('--batch', type=int, default=2)
        q.add_argument('--threads', type=int, default=2)
        q.add_argument('--seed', type=int, default=0)
        q.add_argument('--rtol', type=float, default=1e-4)
        q.add_argument('--tol-scale', type=float, default=1.0)
        q.add_argument('--timeout', type=int, default=600)
        q.add_argument('--workdir')
        q.add_argument('--convc-arg', action='append', default=[], help='passed on to convc')
        q.add_argument('--embedded', action='store_true',
                       help='run the executable without --weights (the weights convc embedded)')
    a = p.parse_args()
    if a.cmd == 'export':
        return export(a)
    if a.cmd == 'check':
        torch.set_num_threads(max(1, a.threads))
        if not a.workdir:
            raise SystemExit('onnx_ref.py check: --workdir is required')
        return check(a)
    torch.set_num_threads(max(1, a.threads))
    workdir = a.workdir or tempfile.mkdtemp(prefix='convc-onnx-')
    os.makedirs(workdir, exist_ok=True)
    try:
        return run(a, workdir)
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
