#!/usr/bin/python3
"""End-to-end reference check of a convc executable against PyTorch.

  ref.py --exe PATH --model NAME [--batch N] [--threads T] [--seed S]
         [--rtol R] [--tol-scale X] [--dtype F32|F16|BF16|F64] [--key-prefix P]
         [--workdir DIR]

builds MODELS[NAME] (models.py: hand-written nn.Modules), gives it random
weights (uniform; batchnorm weight, bias, running_mean and running_var all
random so that folding mistakes show), saves them with tools/export_weights.py,
writes random float32 inputs [N, C, H, W] as .npy, runs

  PATH --weights w.safetensors --input x.npy --output y.npy --threads T

(`--input NAME=FILE` / `--output NAME=FILE` when the network has several),
and compares every output with the model's float32 output in eval mode:
shape, then max |y - ref| <= rtol * max(tol_scale, max |ref|) (rtol 1e-4 and
tol_scale 1 by default). It prints a line per output and then

  model=NAME batch=N threads=T max_abs_err=E max_ref=M ok

(E and M of the output closest to its tolerance; FAILED instead of ok, and
exit status 1, on any mismatch, a crash or a non-zero exit of the executable).

--dtype stores the weights as F16/BF16/F64; the reference then uses the same
rounded values, so the comparison stays exact up to float32 arithmetic.
--key-prefix writes every key with a prefix (DataParallel's `module.`).

Negative runs: the weights can be made not to match the network
(--weights-model OTHER exports another model's weights, --drop KEY, --extra KEY,
--reshape KEY), an input can get a wrong shape (--input-shape NAME=D,D,D,D;
also a right shape without the batch dimension), and --expect-exit CODE then
checks the exit code, prints `exit=CODE` and the executable's stderr, and
checks that no output file and no temporary is left (--stale-output: output
files that existed before the run are left unchanged).
"""
import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
import torch.nn as nn

# PyTorch's note that padding='same' with an even kernel copies the input
warnings.filterwarnings('ignore', message='Using padding=.same.')

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'tools'))
import models  # noqa: E402
from export_weights import save_safetensors, save_npy  # noqa: E402

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64}


def fan_in(m):
    """Inputs that contribute to one output value (about, for transposed convs)."""
    if isinstance(m, nn.Linear):
        return m.in_features
    kh, kw = m.kernel_size
    if isinstance(m, nn.ConvTranspose2d):
        sh, sw = m.stride
        return max(1.0, m.in_channels // m.groups * kh * kw / (sh * sw))
    return m.in_channels // m.groups * kh * kw


def randomize(model, seed):
    """Uniform random parameters, drawn in module order from one seeded stream.

    Weights: uniform(-b, b) with b = sqrt(6 / fan_in) (He: keeps activations
    of the order of 1 through deep ReLU networks, so errors are not hidden by
    shrinking values). Biases: uniform(-0.5, 0.5). Batchnorm: weight and
    running_var uniform(0.5, 1.5), bias and running_mean uniform(-0.5, 0.5); the
    same for group, layer and instance norm (those they have).
    PReLU slopes: uniform(-1, 1).
    """
    rng = np.random.default_rng(seed)

    def fill(t, low, high):
        t.copy_(torch.from_numpy(rng.uniform(low, high, tuple(t.shape)).astype(np.float32)))

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                b = math.sqrt(6.0 / fan_in(m))
                fill(m.weight, -b, b)
                if m.bias is not None:
                    fill(m.bias, -0.5, 0.5)
            elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)):
                if m.weight is not None:   # affine / elementwise_affine
                    fill(m.weight, 0.5, 1.5)
                    fill(m.bias, -0.5, 0.5)
                if getattr(m, 'running_mean', None) is not None:   # track_running_stats
                    fill(m.running_mean, -0.5, 0.5)
                    fill(m.running_var, 0.5, 1.5)
            elif isinstance(m, nn.PReLU):
                fill(m.weight, -1.0, 1.0)  # slopes of either sign, each channel its own
            elif list(m.parameters(recurse=False)):
                raise SystemExit('ref.py: no rule to randomise %s' % type(m).__name__)


def build(name, seed):
    if name not in models.MODELS:
        raise SystemExit('ref.py: unknown model %r (known: %s)' % (name, ', '.join(sorted(models.MODELS))))
    spec = models.MODELS[name]
    torch.manual_seed(seed)
    m = spec.build()
    randomize(m, seed)
    return spec, m.eval()


def round_weights(model, dtype):
    """Round floating parameters and buffers through dtype (what the file will hold)."""
    if dtype == 'F32':
        return
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.to(DTYPES[dtype]).to(torch.float32))


def weights_to_write(a, model):
    sd = dict(model.state_dict())
    if a.weights_model:
        sd = dict(build(a.weights_model, a.seed + 1)[1].state_dict())
    for key in a.drop:
        if key not in sd:
            raise SystemExit('ref.py: --drop %s: no such tensor' % key)
        del sd[key]
    for key in a.reshape:
        t = sd[key]
        sd[key] = torch.zeros((t.shape[0] + 1,) + tuple(t.shape[1:]))
    for key in a.extra:
        sd[key] = torch.ones(3)
    if a.key_prefix:
        sd = {a.key_prefix + k: v for k, v in sd.items()}
    return sd


def make_inputs(a, spec):
    """-> [(name, array)] in declaration order: uniform in the spec's range."""
    rng = np.random.default_rng(a.seed + 1000)
    override = dict(s.split('=', 1) for s in a.input_shape)
    out = []
    for name, shape in spec.inputs:
        low, high = spec.ranges.get(name, (-1.0, 1.0))
        full = (a.batch,) + tuple(shape)
        if name in override:
            full = tuple(int(d) for d in override[name].split(','))
        out.append((name, rng.uniform(low, high, full).astype(np.float32)))
    return out


def reference(model, spec, inputs):
    """The model's outputs for the inputs; an input without the batch dimension
    ([C, H, W], which the executable reads as N = 1) gets one."""
    xs = []
    for (name, x), (_, shape) in zip(inputs, spec.inputs):
        xs.append(torch.from_numpy(x[None] if x.ndim == len(shape) else x))
    with torch.no_grad():
        ys = model(*xs)
    if not isinstance(ys, tuple):
        ys = (ys,)
    return [y.detach().numpy().astype(np.float32) for y in ys]


def file_args(option, pairs):
    """--input x.npy for a single tensor, --input NAME=FILE for several."""
    if len(pairs) == 1:
        return [option, pairs[0][1]]
    args = []
    for name, path in pairs:
        args += [option, '%s=%s' % (name, path)]
    return args


def run_exe(a, workdir, in_files, out_files):
    cmd = [os.path.abspath(a.exe), '--weights', 'w.safetensors', '--threads', str(a.threads)]
    cmd += file_args('--input', in_files) + file_args('--output', out_files)
    try:
        p = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        return None, 'timed out after %d s' % a.timeout
    return p.returncode, p.stderr


def describe_exit(code):
    if code < 0:
        try:
            return 'killed by %s' % signal.Signals(-code).name
        except ValueError:
            return 'killed by signal %d' % -code
    return 'exit code %d' % code


def where(bad, shape):
    """A short account of the mismatching positions, to point at an op's edge cases."""
    idx = np.argwhere(bad)
    lines = ['    %d of %d values out of tolerance' % (len(idx), bad.size)]
    if len(shape) == 4:
        for axis, label in ((0, 'batch'), (1, 'channels'), (2, 'rows'), (3, 'cols')):
            vals = sorted(set(idx[:, axis].tolist()))
            more = ' ...' if len(vals) > 12 else ''
            lines.append('    %s: %s%s (of %d)' % (label, vals[:12], more, shape[axis]))
    return lines


def compare(a, name, y, ref):
    """-> (ratio err/tol, lines, err, peak)"""
    lines = []
    if y.dtype != np.float32:
        lines.append('  %s: dtype %s, expected float32' % (name, y.dtype))
    if tuple(y.shape) != tuple(ref.shape):
        lines.append('  %s: shape %s, expected %s MISMATCH' % (name, list(y.shape), list(ref.shape)))
        return math.inf, lines, math.inf, 0.0
    y = y.astype(np.float32)
    diff = np.abs(y.astype(np.float64) - ref.astype(np.float64))
    peak = float(np.max(np.abs(ref))) if ref.size else 0.0
    # slack: an absolute allowance for an ill-conditioned output (difftest.float32_slack)
    slack = getattr(a, 'slack', 0.0)
    tol = a.rtol * max(a.tol_scale, peak) + slack
    err = float(np.max(diff)) if diff.size else 0.0
    if np.isnan(diff).any():
        err = math.nan
    ratio = err / tol if not math.isnan(err) else math.inf
    verdict = 'within tolerance' if ratio <= 1 else 'MISMATCH'
    lines.append('  %s: shape %s max_abs_err=%.3g max_ref=%.3g tol=%.3g%s %s'
                 % (name, list(y.shape), err, peak, tol, ' (slack %.3g)' % slack if slack else '', verdict))
    if ratio > 1:
        bad = ~(diff <= tol)
        worst = np.unravel_index(np.argmax(np.where(np.isnan(diff), np.inf, diff)), diff.shape)
        lines.append('    worst at %s: got %.7g, expected %.7g'
                     % (list(int(i) for i in worst), y[worst], ref[worst]))
        lines += where(bad, y.shape)
    return ratio, lines, err, peak


STALE = b'stale output of an earlier run\n'


def check_clean(workdir, created, stale):
    """After a failed run: no new file (output or temporary) in the directory,
    and the stale outputs written before the run unchanged."""
    left = sorted(set(os.listdir(workdir)) - set(created) - set(stale))
    for path in stale:
        with open(os.path.join(workdir, path), 'rb') as f:
            if f.read() != STALE:
                left.append(path + ' (changed)')
    return left


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--exe', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--rtol', type=float, default=1e-4)
    p.add_argument('--tol-scale', type=float, default=1.0,
                   help='the tolerance is rtol * max(tol_scale, max |ref|)')
    p.add_argument('--dtype', default='F32', choices=sorted(DTYPES))
    p.add_argument('--key-prefix', default='')
    p.add_argument('--workdir', help='keep the files here (default: a temporary directory)')
    p.add_argument('--timeout', type=int, default=600)
    p.add_argument('--weights-model', help="write this other model's weights instead")
    p.add_argument('--drop', action='append', default=[], metavar='KEY')
    p.add_argument('--extra', action='append', default=[], metavar='KEY')
    p.add_argument('--reshape', action='append', default=[], metavar='KEY')
    p.add_argument('--input-shape', action='append', default=[], metavar='NAME=D,D,D,D')
    p.add_argument('--stale-output', action='store_true',
                   help='create the output files before the run; a failing run must not change them')
    p.add_argument('--expect-exit', type=int)
    a = p.parse_args()
    torch.set_num_threads(max(1, a.threads))

    spec, model = build(a.model, a.seed)
    round_weights(model, a.dtype)
    if a.workdir:
        shutil.rmtree(a.workdir, ignore_errors=True)
        os.makedirs(a.workdir)
        workdir = a.workdir
    else:
        workdir = tempfile.mkdtemp(prefix='convc-ref-')
    try:
        return run(a, spec, model, workdir)
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def run(a, spec, model, workdir):
    save_safetensors(weights_to_write(a, model), os.path.join(workdir, 'w.safetensors'),
                     dtype=a.dtype)
    inputs = make_inputs(a, spec)
    in_files = []
    for name, x in inputs:
        save_npy(x, os.path.join(workdir, 'in_%s.npy' % name))
        in_files.append((name, 'in_%s.npy' % name))
    out_files = [(name, 'out_%s.npy' % name) for name in spec.outputs]
    created = ['w.safetensors'] + [f for _, f in in_files]
    stale = [f for _, f in out_files] if a.stale_output else []
    for path in stale:
        with open(os.path.join(workdir, path), 'wb') as f:
            f.write(STALE)

    code, stderr = run_exe(a, workdir, in_files, out_files)
    head = 'model=%s batch=%d threads=%d' % (a.model, a.batch, a.threads)
    if a.expect_exit is not None:
        print('exit=%s' % code)
        sys.stdout.write(stderr)
        left = check_clean(workdir, created, stale)
        if left:
            print('left behind: %s' % ' '.join(left))
        ok = code == a.expect_exit and not left
        print('%s %s' % (head, 'failed as expected' if ok else 'FAILED'))
        return 0 if ok else 1
    if code is None or code != 0:
        print('%s: %s' % (a.exe, stderr if code is None else describe_exit(code)))
        if code is not None:
            sys.stdout.write(stderr)
        print('%s FAILED' % head)
        return 1

    refs = reference(model, spec, inputs)
    if len(refs) != len(spec.outputs):
        raise SystemExit('ref.py: model %s returned %d outputs, spec lists %d'
                         % (a.model, len(refs), len(spec.outputs)))
    worst = (-1.0, 0.0, 0.0)
    failed = False
    for (name, path), ref in zip(out_files, refs):
        full = os.path.join(workdir, path)
        if not os.path.exists(full):
            print('  %s: no output file written MISMATCH' % name)
            failed = True
            continue
        try:
            y = np.load(full, allow_pickle=False)
        except Exception as e:  # a malformed .npy is a failure to report, not a crash
            print('  %s: unreadable output: %s MISMATCH' % (name, e))
            failed = True
            continue
        ratio, lines, err, peak = compare(a, name, y, ref)
        print('\n'.join(lines))
        failed |= not ratio <= 1
        if ratio > worst[0] or math.isnan(ratio):
            worst = (ratio, err, peak)
    print('%s max_abs_err=%.3g max_ref=%.3g %s' % (head, worst[1], worst[2],
                                                    'FAILED' if failed else 'ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
