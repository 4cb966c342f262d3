"""Measures receptive fields in PyTorch and compares them with convc's.

usage: check_rf.py MODEL STATS.json [--period=N] [LAYER ...]

For each named layer (default: the network's output) the reference is
measured, not derived: with all weights positive, max pooling replaced by
average pooling of the same geometry (same window, but every input gets a
gradient) and an all-ones input, the gradient of one output position (summed
over channels) is non-zero exactly on the input pixels that position reads.
  size   = the widest such window over N consecutive output rows (N = 8 unless
           --period says otherwise; N must be a multiple of every upsampling
           factor up to that layer)
  stride = (first row read by output row t+N - first row read by row t) / N
Only H is measured (the test networks are square).
"""
import json
import sys

import torch
import torch.nn as nn

from models import MODELS


def positive(model):
    for name, m in list(model.named_modules()):
        for cname, c in list(m.named_children()):
            if isinstance(c, nn.MaxPool2d):
                setattr(m, cname, nn.AvgPool2d(c.kernel_size, c.stride, c.padding, c.ceil_mode))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.1)
    model.eval()
    return model


def taps(model, shape, layer, row):
    """Input rows read by output row `row` (centre column) of `layer`."""
    seen = {}
    target = model if layer is None else dict(model.named_modules())[layer]
    h = target.register_forward_hook(lambda m, i, o: seen.__setitem__('y', o))
    x = torch.ones(1, *shape, requires_grad=True)
    model(x)
    h.remove()
    y = seen['y']
    y[0, :, row, y.shape[3] // 2].sum().backward()
    rows = torch.nonzero(x.grad[0].abs().sum(dim=(0, 2))).flatten().tolist()
    return rows[0], rows[-1], y.shape[2]


def measure(name, layer, period=8):
    model, shape = MODELS[name]()
    model = positive(model)
    _, _, n = taps(model, shape, layer, 0)
    base = n // 2 - period // 2
    firsts, size = [], 0
    for t in range(period + 1):
        lo, hi, _ = taps(model, shape, layer, base + t)
        firsts.append(lo)
        if t < period:
            size = max(size, hi - lo + 1)
    return size, (firsts[period] - firsts[0]) / period


def main():
    name, path = sys.argv[1], sys.argv[2]
    period = 8
    layers = []
    for a in sys.argv[3:]:
        if a.startswith('--period='):
            period = int(a.split('=', 1)[1])
        else:
            layers.append(a)
    layers = layers or [None]
    got = json.load(open(path))
    by_name = {l['name']: l for l in got['layers']}
    out = got['outputs'][0]['name']
    bad = 0
    for layer in layers:
        convc = by_name[layer or out]['rf']
        size, stride = measure(name, layer, period)
        ok = convc['size'][0] == size and abs(convc['stride'][0] - stride) < 1e-9
        bad += not ok
        print('%-8s rf convc %s / %s  pytorch %s / %s  %s' % (layer or out, convc['size'][0], convc['stride'][0],
                                                              size, stride, 'ok' if ok else 'MISMATCH'))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
