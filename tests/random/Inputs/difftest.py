#!/usr/bin/python3
"""Differential testing of convc against PyTorch on random networks.

  difftest.py --build DIR [--seeds A-B | --seeds 1,5,9] [--known] [--save DIR]
              [--no-minimise] [--broken N] [-v]
              [--opt -O2] [--kernels auto|reference] [--winograd auto|on|off]
              [--batch N] [--dtype F32] [--threads 1,2] [--target-cpu CPU]

For each seed, randnet.generate(seed) draws a network; the seed also draws how
it is compiled and run (-O0..-O3, --kernels=auto|reference, --winograd=auto|on,
batch 1-3, weights stored as F32/F16/BF16/F64). The network is compiled, run on 1, 2 and 3
threads with random weights and inputs, and every output is compared with
the PyTorch module's (shape, then max |y - ref| <= 1e-4 * max(1, max |ref|),
1e-3 for outputs that depend on a conv --emit=ir shows computed by Winograd);
the outputs of the three thread counts must be identical bit for bit.
--opt, --kernels, --winograd, --batch, --dtype and --threads fix that part of
the configuration for every seed instead (the network does not change);
--target-cpu compiles for that CPU (default: the host's). --wide draws wide
networks (channel counts for the blocked and Winograd kernels).

Then broken variants: edits of the valid program that make exactly one
statement wrong (a channel count, a shape, an unknown name, op or keyword, a
syntax error, ...). convc must exit 1 with every error on the predicted line
and none elsewhere; one variant per seed carries two independent edits and
both errors must be reported.

One line per seed (`seed=S ok`, or the failure), then a summary. A failure
is minimised (the program flattened to one statement per layer, then layers
replaced by inputs while it still fails) and saved under --save as
seed-S/{min.conv, min_model.py, report.txt} with the full program next to
it. Exit status 1 if any seed failed.

Networks using a defect still being fixed elsewhere (randnet.KNOWN) are
drawn only with --known; their failures are then counted as `known`.
"""
import argparse
import copy
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'tools'))
import randnet  # noqa: E402
import netsource  # noqa: E402
import mutate  # noqa: E402
import ref  # noqa: E402
from export_weights import save_safetensors, save_npy  # noqa: E402

TIMEOUT = 120
DTYPES = ('F32', 'F32', 'F32', 'F16', 'BF16', 'F64')


class Outcome:
    def __init__(self, kind, detail=''):
        self.kind = kind        # ok | compile-error | compile-crash | run-error | mismatch | threads-differ | broken-missed | tester-error
        self.detail = detail

    def __repr__(self):
        return '%s: %s' % (self.kind, self.detail)


def config(seed, fixed=None):
    """How seed's network is compiled and run (its own stream, so the network does not change);
    fixed overrides some of the drawn choices (the command line's --opt, --batch, ...)."""
    rng = random.Random(seed * 7919 + 17)
    cfg = dict(opt=rng.choice(['-O0', '-O1', '-O2', '-O3']),
               kernels=rng.choice(['auto', 'auto', 'reference']),
               batch=rng.randint(1, 3), dtype=rng.choice(DTYPES), threads=[1, 2, 3],
               winograd=rng.choice(['auto', 'on']))
    cfg.update(fixed or {})
    return cfg


def run(cmd, cwd, timeout=TIMEOUT):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors='replace')
    except subprocess.TimeoutExpired:
        return None, 'timed out after %d s' % timeout
    return p.returncode, p.stderr


def exit_text(code):
    return 'timed out' if code is None else ref.describe_exit(code)


def build_model(source, seed, dtype):
    ns = {}
    exec(compile(source, 'model.py', 'exec'), ns)
    torch.manual_seed(seed)
    model = ns['Model']()
    ref.randomize(model, seed)
    ref.round_weights(model, dtype)
    return model.eval(), ns


def compile_net(a, net, conv_text, cfg, workdir, name='net'):
    path = os.path.join(workdir, name + '.conv')
    with open(path, 'w') as f:
        f.write(conv_text)
    cmd = [a.convc, name + '.conv', cfg['opt'], '--kernels=' + cfg['kernels'], '-o', name + '.exe',
           '--network', net.conv_name, '--winograd=' + cfg['winograd']] + a.cpu
    code, err = run(cmd, workdir)
    if code == 0:
        return None
    if code == 1 and 'error:' in err:
        return Outcome('compile-error', err.strip())
    return Outcome('compile-crash', '%s\n%s' % (exit_text(code), err.strip()))


def winograd_outputs(a, net, cfg, workdir, name='net'):
    """Names of the outputs that depend on a conv computed by Winograd (as
    --emit=ir reports the kernel choice for this compilation): they are
    compared with 1e-3 instead of 1e-4 (docs/testing.md), the others not."""
    code, out = run_stdout([a.convc, name + '.conv', '--emit=ir', '--network', net.conv_name,
                            '--kernels=' + cfg['kernels'], '--winograd=' + cfg['winograd']] + a.cpu,
                           workdir)
    if code != 0:
        raise SystemExit('difftest.py: --emit=ir failed for a network that compiled')
    names, outputs, tainted = {}, [], set()
    net.fused = {'res': 0, 'dw': 0, 'view': 0}
    for line in out.splitlines():
        f = line.split()
        if f[0] == 'tensor':
            names[f[1]] = f[2]
            if f[-1] == 'output':
                outputs.append(f[1])
            net.fused['view'] += f[-1].startswith('view=')  # a concat input written in place (views.c)
        elif f[0] == 'node':
            ins = f[f.index('<-') + 1:]
            ins = [t for t in ins if re.fullmatch(r't\d+', t)]
            if 'kernel=conv_winograd' in f or any(t in tainted for t in ins):
                tainted.add(f[3])
            net.fused['res'] += f[1] == 'conv' and len(ins) == 2  # a fused residual (ir.h)
            net.fused['dw'] += 'kernel=conv_depthwise' in f
    return set(names[t] for t in outputs if t in tainted)


def run_stdout(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, errors='replace')
    return p.returncode, p.stdout


def same_nonfinite(y, y_ref):
    """Zeroes positions where both hold the same infinity or both nan (a
    max-pooling window entirely in the padding gives -inf in PyTorch, and a
    conv of it nan), which compare() would count as different."""
    if y.shape != y_ref.shape or np.isfinite(y_ref).all():
        return y, y_ref
    both = (np.isinf(y_ref) & (y == y_ref)) | (np.isnan(y_ref) & np.isnan(y))
    return np.where(both, 0, y).astype(np.float32), np.where(both, 0, y_ref).astype(np.float32)


SLACK = 2.0  # float32_slack: convc may be off by this many times PyTorch's own float32 error


def float32_slack(model, xs, refs):
    """-> per output, what the tolerance gains from the conditioning: SLACK x
    the largest difference between PyTorch's float32 output and the same
    model run in float64 on the same (exact) weights and inputs. Where that
    is large, float32 itself cannot do better (a group_norm over two nearly
    equal log_softmax values divides their difference, carrying the
    rounding of values near -7, by sqrt(eps)), so no float32 result can be
    expected closer; elsewhere it is about 1e-7 of the peak and changes
    nothing (tolerance 1e-4 of it)."""
    try:
        m64 = copy.deepcopy(model).double()
        with torch.no_grad():
            r64 = [y.numpy() for y in m64(*[x.double() for x in xs])]
    except (RuntimeError, TypeError):  # an op without float64 kernels: no slack
        return [0.0] * len(refs)
    slack = []
    for y32, y64 in zip(refs, r64):
        d = np.abs(y32.astype(np.float64) - y64.astype(np.float64))
        d = d[np.isfinite(d)]
        slack.append(SLACK * float(d.max()) if d.size else 0.0)
    return slack


def evaluate(a, net, cfg, workdir, flat=False):
    """Compiles and runs net; -> Outcome."""
    conv = netsource.conv_source(net, flat=flat)
    source = netsource.torch_source(net)
    with open(os.path.join(workdir, 'model.py'), 'w') as f:
        f.write(source)
    bad = compile_net(a, net, conv, cfg, workdir)
    if bad:
        return bad
    wino = winograd_outputs(a, net, cfg, workdir)
    model, ns = build_model(source, net.seed, cfg['dtype'])
    sd = model.state_dict()
    args = []
    if len(sd):
        save_safetensors(sd, os.path.join(workdir, 'w.safetensors'), dtype=cfg['dtype'])
        args = ['--weights', 'w.safetensors']
    rng = np.random.default_rng(net.seed + 1000)
    xs = []
    for name, shape in ns['INPUTS']:
        r = ns['INPUT_RANGE']
        x = rng.uniform(-r, r, (cfg['batch'],) + tuple(shape)).astype(np.float32)
        save_npy(x, os.path.join(workdir, 'in_%s.npy' % name))
        args += ['--input', '%s=in_%s.npy' % (name, name)]
        xs.append(torch.from_numpy(x))
    with torch.no_grad():
        refs = [y.numpy() for y in model(*xs)]
    slack = float32_slack(model, xs, refs)
    outs = ns['OUTPUTS']
    seen = {}
    for t in cfg['threads']:
        oargs = []
        for i, name in enumerate(outs):
            oargs += ['--output', '%s=out%d_t%d.npy' % (name, i, t)]
        code, err = run([os.path.join(workdir, 'net.exe'), '--threads', str(t)] + args + oargs,
                        workdir)
        if code != 0:
            return Outcome('run-error', 'threads=%d: %s\n%s' % (t, exit_text(code), err.strip()))
        for i, (name, y_ref) in enumerate(zip(outs, refs)):
            path = os.path.join(workdir, 'out%d_t%d.npy' % (i, t))
            data = open(path, 'rb').read()
            if i in seen and seen[i] != data:
                return Outcome('threads-differ', 'output %s differs between threads=%d and threads=%d'
                               % (name, cfg['threads'][0], t))
            seen[i] = data
            y, y_ref = same_nonfinite(np.load(path), y_ref)
            rtol = 1e-3 if name in wino else 1e-4
            ratio, lines, err, peak = ref.compare(types.SimpleNamespace(rtol=rtol, tol_scale=1.0, slack=slack[i]),
                                                  name, y, y_ref)
            if not ratio <= 1:
                return Outcome('mismatch', 'threads=%d output #%d\n%s' % (t, i, '\n'.join(lines)))
    return Outcome('ok')


def check_broken(a, net, cfg, workdir, rng):
    """Broken variants of net; -> Outcome of the first that convc gets wrong, or ok
    (a variant of a known defect that convc gets wrong is only counted)."""
    known_missed = []
    for variant in mutate.variants(net, rng, a.broken):
        text = netsource.conv_source(net)
        want = variant.lines()
        variant.undo()
        path = os.path.join(workdir, 'bad.conv')
        with open(path, 'w') as f:
            f.write(text)
        code, err = run([a.convc, 'bad.conv', '--network', net.conv_name, '-o', 'bad.exe'], workdir)
        got = set(int(m.group(1)) for m in re.finditer(r'^bad\.conv:(\d+):\d+: error:', err, re.M))
        if code == 1 and got == want:
            continue
        if variant.known:
            known_missed.append(variant.name)
            continue
        shutil.copy(path, os.path.join(workdir, 'bad_%s.conv' % variant.name))
        detail = ('%s: expected exit 1 and errors on line(s) %s; got %s, errors on %s\n%s'
                  % (variant.name, sorted(want), exit_text(code), sorted(got) or 'no line', err.strip()))
        kind = 'compile-crash' if code is None or code < 0 or code > 3 else 'broken-missed'
        return Outcome(kind, detail), variant, text
    if known_missed:
        return Outcome('known', 'not reported: %s' % ', '.join(known_missed)), None, None
    return Outcome('ok'), None, None


# --- minimising ----------------------------------------------------------------

def flatten(net):
    """A copy of net with every layer its own statement (no blocks)."""
    flat = copy.deepcopy(net)
    netsource.conv_source(flat, flat=True)  # names every layer
    return flat


def prune(net):
    live = set()
    stack = list(net.outputs)
    while stack:
        n = stack.pop()
        if id(n) in live:
            continue
        live.add(id(n))
        stack += n.ins
    net.nodes = [n for n in net.nodes if id(n) in live]
    net.inputs = [n for n in net.inputs if id(n) in live]


def cut(net, node, counter):
    """Replaces node by a new input of its shape."""
    new = randnet.Node('input', [], {}, node.shape)
    new.name = 'cut%d' % counter
    for m in net.nodes:
        m.ins = [new if i is node else i for i in m.ins]
    net.outputs = [new if o is node else o for o in net.outputs]
    net.nodes = [new] + [m for m in net.nodes if m is not node]
    net.inputs = [new] + net.inputs
    prune(net)


def minimise(a, net, cfg, kind, workdir):
    """-> (smaller net, cfg) that still fails with the same kind of outcome."""
    def fails(n, c):
        try:
            return evaluate(a, n, c, workdir, flat=True).kind == kind
        except Exception:  # a reduction PyTorch rejects is not a reduction
            return False

    best = flatten(net)
    if not fails(best, cfg):
        return None, cfg
    for o in list(best.outputs):
        trial = copy.deepcopy(best)
        trial.outputs = [n for n in trial.outputs if n.name == o.name]
        prune(trial)
        if fails(trial, cfg):
            best = trial
            break
    counter = 0
    changed = True
    while changed:
        changed = False
        for i in reversed(range(len(best.nodes))):
            if i >= len(best.nodes) or best.nodes[i].op == 'input':
                continue
            counter += 1
            trial = copy.deepcopy(best)
            cut(trial, trial.nodes[i], counter)
            if fails(trial, cfg):
                best, changed = trial, True
    for key, simpler in (('batch', 1), ('dtype', 'F32'), ('opt', '-O2'), ('kernels', 'auto'), ('winograd', 'auto'),
                         ('threads', [1]) if kind != 'threads-differ' else ('threads', [1, 2])):
        if cfg[key] != simpler:
            trial_cfg = dict(cfg, **{key: simpler})
            if fails(best, trial_cfg):
                cfg = trial_cfg
    return best, cfg


def save_failure(a, seed, net, cfg, outcome, workdir, extra=None):
    d = os.path.join(a.save, 'seed-%d' % seed)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    full = copy.deepcopy(net)
    with open(os.path.join(d, 'net.conv'), 'w') as f:
        f.write(extra or netsource.conv_source(full))
    with open(os.path.join(d, 'model.py'), 'w') as f:
        f.write(netsource.torch_source(full))
    report = ['seed %d: %s' % (seed, outcome.kind), 'config: %s' % cfg, outcome.detail, '']
    if not a.no_minimise and outcome.kind in ('mismatch', 'run-error', 'threads-differ',
                                               'compile-error', 'compile-crash') and extra is None:
        small, scfg = minimise(a, net, cfg, outcome.kind, workdir)
        if small is not None:
            conv = netsource.conv_source(small, flat=True)
            with open(os.path.join(d, 'min.conv'), 'w') as f:
                f.write(conv)
            with open(os.path.join(d, 'min_model.py'), 'w') as f:
                f.write(netsource.torch_source(small))
            again = evaluate(a, small, scfg, workdir, flat=True)
            report += ['minimised (%d layers), config: %s' % (len(small.nodes), scfg),
                       again.detail, '', conv]
    with open(os.path.join(d, 'report.txt'), 'w') as f:
        f.write('\n'.join(report) + '\n')
    return d


# --- main ------------------------------------------------------------------------

def parse_seeds(text):
    seeds = []
    for part in text.split(','):
        if '-' in part:
            lo, hi = part.split('-')
            seeds += range(int(lo), int(hi) + 1)
        elif part:
            seeds.append(int(part))
    return seeds


def one_seed(a, seed, workdir):
    net = randnet.generate(seed, known=a.known, wide=a.wide)
    cfg = config(seed, a.fixed)
    outcome = evaluate(a, net, cfg, workdir)
    extra = None
    if outcome.kind != 'ok' and net.known:
        return net, cfg, Outcome('known', outcome.detail), extra
    if outcome.kind == 'ok' and a.broken:
        outcome, variant, extra = check_broken(a, net, cfg, workdir, random.Random(seed))
    return net, cfg, outcome, extra


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--build', required=True, help='build directory holding bin/convc')
    p.add_argument('--seeds', default='1-20')
    p.add_argument('--known', action='store_true',
                   help='also draw features that hit defects being fixed (randnet.KNOWN)')
    p.add_argument('--save', help='directory for failing programs (default: none saved)')
    p.add_argument('--no-minimise', action='store_true')
    p.add_argument('--broken', type=int, default=3, help='broken variants per seed (0: none)')
    p.add_argument('-v', action='store_true', help='print each failure in full')
    p.add_argument('--opt', choices=['-O0', '-O1', '-O2', '-O3'], help='this -O level for every seed')
    p.add_argument('--kernels', choices=['auto', 'reference'], help='this --kernels for every seed')
    p.add_argument('--winograd', choices=['auto', 'on', 'off'], help='this --winograd for every seed')
    p.add_argument('--batch', type=int, help='this batch size for every seed')
    p.add_argument('--dtype', choices=sorted(set(DTYPES)), help='this weight dtype for every seed')
    p.add_argument('--threads', help='these thread counts (comma-separated) for every seed')
    p.add_argument('--target-cpu', help='compile with --target-cpu=CPU')
    p.add_argument('--wide', action='store_true',
                   help='wide networks (randnet.generate(wide=True)): 12-64 channels, blocked and Winograd kernels')
    a = p.parse_args()
    a.fixed = {k: getattr(a, k) for k in ('opt', 'kernels', 'winograd', 'batch', 'dtype')
               if getattr(a, k) is not None}
    if a.threads:
        a.fixed['threads'] = [int(t) for t in a.threads.split(',')]
    a.cpu = ['--target-cpu=' + a.target_cpu] if a.target_cpu else []
    a.convc = os.path.join(os.path.abspath(a.build), 'bin', 'convc')
    torch.set_num_threads(1)
    counts = {}
    nets_with = {}   # networks with a fused residual (res), a conv_depthwise node (dw), a view
    failed = []
    start = time.time()
    for seed in parse_seeds(a.seeds):
        workdir = tempfile.mkdtemp(prefix='convc-rand-')
        try:
            try:
                net, cfg, outcome, extra = one_seed(a, seed, workdir)
            except Exception:  # the tester's own defect (PyTorch refused the model, ...): report, go on
                net = randnet.generate(seed, known=a.known, wide=a.wide)
                cfg, outcome, extra = config(seed, a.fixed), Outcome('tester-error', traceback.format_exc()), None
            kind = outcome.kind
            counts[kind] = counts.get(kind, 0) + 1
            tags = ' known=%s' % ','.join(sorted(net.known)) if net.known else ''
            fused = getattr(net, 'fused', {})
            for k, v in fused.items():
                if v:
                    tags += ' %s=%d' % (k, v)
                    nets_with[k] = nets_with.get(k, 0) + 1
            line = 'seed=%d layers=%d %s%s' % (seed, len(net.nodes), kind, tags)
            if kind not in ('ok', 'known'):
                failed.append(seed)
                lines = outcome.detail.strip().split('\n')
                line += ' (%s)' % lines[-1 if kind == 'tester-error' else 0]
                if a.save and kind != 'tester-error':
                    line += ' -> %s' % save_failure(a, seed, net, cfg, outcome, workdir, extra)
            print(line, flush=True)
            if a.v and kind not in ('ok',):
                print(outcome.detail, flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    total = sum(counts.values())
    print('summary: %d networks in %.0f s: %s' % (
        total, time.time() - start, ', '.join('%s=%d' % kv for kv in sorted(counts.items()))))
    print('networks with a fused residual: %d, with conv_depthwise: %d, with concat views: %d'
          % (nets_with.get('res', 0), nets_with.get('dw', 0), nets_with.get('view', 0)))
    if failed:
        print('failed seeds: %s' % ','.join(map(str, failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
