#!/usr/bin/python3
"""python/convc.py end to end: compile with convc.compile, load with
convc.load, run NumPy arrays, compare with PyTorch; two networks in one
process, two instances on two threads at once, and errors raised as
ConvcError with convc's message.

  session.py WORKDIR UNET_CONV
"""
import os
import sys
import threading

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
import ref  # noqa: E402
from export_weights import save_safetensors  # noqa: E402

import convc  # noqa: E402  (PYTHONPATH: the tree's python/)

ROOT = os.path.join(HERE, '..', '..', '..')


def reference(name, seed, x, workdir):
    """-> (weights path, PyTorch outputs as a tuple of arrays)"""
    _, model = ref.build(name, seed)
    path = os.path.join(workdir, '%s_%d.safetensors' % (name, seed))
    save_safetensors(dict(model.state_dict()), path)
    with torch.no_grad():
        ys = model(torch.from_numpy(x))
    ys = ys if isinstance(ys, tuple) else (ys,)
    return path, tuple(y.numpy() for y in ys)


def check(what, got, want):
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert g.shape == w.shape, '%s: shape %s, expected %s' % (what, g.shape, w.shape)
        err = float(np.max(np.abs(g - w)))
        scale = max(1.0, float(np.max(np.abs(w))))
        print('%s: shape=%s max_abs_err=%.3g %s' % (what, list(g.shape), err, 'ok' if err <= 1e-4 * scale else 'FAILED'))
        assert err <= 1e-4 * scale


def expect_error(what, f):
    try:
        f()
    except convc.ConvcError as e:
        print('%s: ConvcError %d: %s' % (what, e.code, str(e).splitlines()[0]))
        return
    raise AssertionError('%s: no ConvcError' % what)


def main():
    workdir, unet_conv = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(7)

    # the README's session: UNet from its .conv, weights from PyTorch
    lib = convc.compile(unet_conv, os.path.join(workdir, 'libunet.so'))
    x = rng.uniform(-1, 1, (2, 3, 32, 32)).astype(np.float32)
    w, want = reference('unet', 1, x, workdir)
    m = convc.load(lib, weights=w, threads=2)
    print(m)
    check('unet', m(x), want)
    check('unet one sample [C, H, W]', m(x[0]), (want[0][:1],))
    with open(w, 'rb') as f:
        check('unet weights from bytes', convc.load(lib, weights=f.read(), threads=1)(x), want)

    # embedded weights: compiled in, checked at compile time
    small_conv = os.path.join(ROOT, 'tests', 'run', 'unet_small.conv')
    xs = rng.uniform(-1, 1, (3, 3, 32, 48)).astype(np.float32)
    ws, want_small = reference('unet_small', 2, xs, workdir)
    emb = convc.compile(small_conv, os.path.join(workdir, 'libsmall.so'), prefix='small', embed_weights=ws)
    small = convc.load(emb)
    check('unet_small embedded weights', small(xs), want_small)

    # a second, different network in the same process: two outputs, a tuple
    rn = convc.compile(os.path.join(ROOT, 'tests', 'run', 'resnet_tiny.conv'), os.path.join(workdir, 'librn.so'),
                       prefix='rn')
    xr = rng.uniform(-1, 1, (2, 3, 32, 29)).astype(np.float32)
    wr, want_rn = reference('resnet_tiny', 3, xr, workdir)
    r = convc.load(rn, weights=wr, threads=1)
    print('resnet_tiny outputs', r.outputs)
    check('resnet_tiny', r(x=xr), want_rn)
    check('unet after resnet_tiny', m(x), want)

    # two instances of one network on two threads at once
    a, b = convc.load(emb, threads=2), convc.load(emb, threads=2)
    xa, xb = xs[:1], xs[1:]
    results = {}
    go = threading.Barrier(2)

    def work(key, net, inp):
        go.wait()
        results[key] = [net(inp) for _ in range(10)]

    ts = [threading.Thread(target=work, args=('a', a, xa)), threading.Thread(target=work, args=('b', b, xb))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(np.array_equal(y, results['a'][0]) for y in results['a'])
    assert all(np.array_equal(y, results['b'][0]) for y in results['b'])
    check('thread a', results['a'][0], (want_small[0][:1],))
    check('thread b', results['b'][0], (want_small[0][1:],))

    # errors
    bad = os.path.join(workdir, 'bad.conv')
    with open(bad, 'w') as f:
        f.write('network bad {\n    input x[3, 8, 8]\n    y = conv2d(x, 4, 3, padding=nope)\n    output y\n}\n')
    expect_error('compile error', lambda: convc.compile(bad, os.path.join(workdir, 'libbad.so')))
    expect_error('weights of another network', lambda: convc.load(lib, weights=wr))
    expect_error('missing weights file', lambda: convc.load(lib, weights=os.path.join(workdir, 'none.safetensors')))
    expect_error('no embedded weights', lambda: convc.load(lib))
    expect_error('wrong input shape', lambda: m(np.zeros((1, 3, 16, 16), np.float32)))
    expect_error('wrong prefix', lambda: convc.load(lib, weights=w, prefix='nope'))
    m.close()
    expect_error('closed', lambda: m(x))
    print('done')


if __name__ == '__main__':
    main()
