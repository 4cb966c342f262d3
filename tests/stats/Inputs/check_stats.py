"""Compares convc's --stats=json with PyTorch's own numbers for the same model.

usage: check_stats.py MODEL STATS.json [--count=default|ptflops]

MODEL names an entry of models.py. The reference side is computed from the
PyTorch module only: parameters() and float buffers() for the counts, a
forward pass for the shapes, forward hooks that read the real weight and
activation tensors for the MACs:
  default  conv: weight.numel() * Hout*Wout; conv_transpose: weight.numel() * Hin*Win;
           linear: weight.numel()                      (fvcore/thop, bias excluded)
  ptflops  the module hooks of ptflops' pytorch backend (v0.6.4-v0.7.4,
           ptflops/pytorch_ops.py), re-implemented here because ptflops itself
           is not installable on the test machines.
Prints one line per check and exits 1 on the first mismatch list.
"""
import json
import sys

import torch
import torch.nn as nn

from models import MODELS


def default_macs(m, inp, out):
    x = inp[0]
    if isinstance(m, nn.ConvTranspose2d):
        return m.weight.numel() * x.shape[2] * x.shape[3]
    if isinstance(m, nn.Conv2d):
        return m.weight.numel() * out.shape[2] * out.shape[3]
    if isinstance(m, nn.Linear):
        return m.weight.numel()
    return 0


def ptflops_macs(m, inp, out):
    x = inp[0]
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        positions = out.shape[2] * out.shape[3]          # output positions, also transposed
        per_position = m.kernel_size[0] * m.kernel_size[1] * m.in_channels * (m.out_channels // m.groups)
        bias = m.out_channels * positions if m.bias is not None else 0
        return per_position * positions + bias
    if isinstance(m, nn.Linear):
        return x.shape[-1] * out.shape[-1] + (out.shape[-1] if m.bias is not None else 0)
    if isinstance(m, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.Upsample)):
        return out.numel()
    if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)):
        affine = getattr(m, 'affine', False) or getattr(m, 'elementwise_affine', False)
        return x.numel() * (2 if affine else 1)
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return x.numel()
    return 0


def run_hooked(model, shape, batch, on_leaf):
    """Calls on_leaf(name, module, inputs, output) from a forward hook on every
    leaf module while the model runs once in eval mode on zeros of
    [batch, *shape]; returns the output."""
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            m.register_forward_hook(lambda m, inp, out, name=name: on_leaf(name, m, inp, out))
    model.eval()
    with torch.no_grad():
        return model(torch.zeros(batch, *shape))


def reference(model, shape, counter):
    """Runs the model once on a batch of 1; returns totals and per-module rows."""
    rows, total = {}, [0]

    def on_leaf(name, m, inp, out):
        n = counter(m, inp, out)
        total[0] += n
        if name in rows:             # a module applied twice (nn.ReLU reused)
            rows[name]['macs'] += n
        else:
            rows[name] = {'macs': n, 'shape': list(out.shape[1:]),
                          'params': sum(p.numel() for p in m.parameters())}

    y = run_hooked(model, shape, 1, on_leaf)
    return {
        'params': sum(p.numel() for p in model.parameters()),
        'buffers': sum(b.numel() for b in model.buffers() if b.is_floating_point()),
        'macs': total[0],
        'output': list(y.shape[1:]),
        'rows': rows,
    }


def main():
    name, path = sys.argv[1], sys.argv[2]
    count = 'ptflops' if '--count=ptflops' in sys.argv[3:] else 'default'
    model, shape = MODELS[name]()
    ref = reference(model, shape, ptflops_macs if count == 'ptflops' else default_macs)
    got = json.load(open(path))
    errors = []

    def check(what, mine, theirs):
        status = 'ok' if mine == theirs else 'MISMATCH'
        print('%-28s convc %-14s pytorch %-14s %s' % (what, mine, theirs, status))
        if mine != theirs:
            errors.append(what)

    check('count', got.get('count'), count)
    check('input shape', got['inputs'][0]['shape'], list(shape))
    check('output shape', got['outputs'][0]['shape'], ref['output'])
    check('total_params', got['total_params'], ref['params'])
    check('total_buffers', got['total_buffers'], ref['buffers'])
    check('total_macs', got['total_macs'], ref['macs'])
    keyed = {l['key']: l for l in got['layers'] if 'key' in l}
    for mod, row in ref['rows'].items():
        if row['params'] == 0:
            continue
        layer = keyed.get(mod)
        if layer is None:
            check(mod, None, 'a layer with key ' + mod)
            continue
        check(mod + ' params', layer['params'], row['params'])
        check(mod + ' shape', layer['shape'], row['shape'])
        check(mod + ' macs', layer['macs'], row['macs'])
    if errors:
        print('FAIL: %d mismatches: %s' % (len(errors), ', '.join(errors)))
        sys.exit(1)
    print('PASS %s (%s): %d params, %d buffers, %d MACs' % (name, count, ref['params'], ref['buffers'],
                                                           ref['macs']))


if __name__ == '__main__':
    main()
