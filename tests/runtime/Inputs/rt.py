#!/usr/bin/python3
"""Test helper for the runtime: writes safetensors and .npy files (good and
malformed) with numpy only, computes the hand-written models of model.c
independently in numpy (float64), compares outputs, and runs an executable
expecting an exact exit code.

  rt.py weights OUT --model net|two [--dtype F32|F16|BF16|F64] [--seed S]
        [--prefix module.] [--drop KEY] [--extra KEY] [--reshape KEY=D,D] [--retype KEY=DTYPE]
        [--counters] [--metadata]
  rt.py bad-weights OUT CASE        (CASE: see BAD_WEIGHTS)
  rt.py input OUT --shape D,D,.. [--seed S] [--dtype <f4] [--fortran] [--version 1|2|3]
  rt.py bad-input OUT CASE          (CASE: see BAD_INPUTS)
  rt.py check --model M --weights W [--in NAME=FILE]... [--out NAME=FILE]...
  rt.py expect CODE [--absent PATH]... [--no-temps DIR] [--limit-memory MIB] -- CMD ARGS...
  rt.py interrupt DIR [--signal NAME] [--temps N] -- CMD ARGS...  (the signal once CMD's
        N output temporaries exist in DIR)
  rt.py hold DIR --then SHELLCMD [--temps N] -- CMD ARGS...  (SHELLCMD runs while CMD is held
        after its run and before its outputs are renamed)
  rt.py fuzz weights|input GOOD COUNT -- CMD ARGS...  (CMD gets the mutated file as @FILE)
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np

# name -> shape, in state_dict order, per model of model.c
MODELS = {
    'net': {
        'conv.weight': (4, 3, 1, 1), 'conv.bias': (4,),
        'bn.weight': (4,), 'bn.bias': (4,), 'bn.running_mean': (4,), 'bn.running_var': (4,),
        'dw.weight': (4, 1, 1, 1), 'dw.bias': (4,),
    },
    'two': {
        'scale.weight': (2, 1, 1, 1),
        'bn.weight': (2,), 'bn.bias': (2,), 'bn.running_mean': (2,), 'bn.running_var': (2,),
        'fc.weight': (2, 3), 'fc.bias': (2,),
    },
}
INPUTS = {'net': {'x': (3, 4, 5)}, 'two': {'a': (2, 3, 3), 'feat': (3,)}}
ST_DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}


def random_params(model, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in MODELS[model].items():
        v = rng.uniform(-1, 1, shape)
        if name.endswith('running_var') or (name.startswith('bn.') and name.endswith('weight')):
            v = rng.uniform(0.5, 1.5, shape)
        out[name] = v
    return out


def to_bytes(arr, dtype):
    """The raw little-endian bytes of arr in a safetensors dtype."""
    if dtype == 'BF16':
        bits = np.ascontiguousarray(arr, dtype='<f4').view('<u4')
        return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype('<u2').tobytes()
    return np.ascontiguousarray(arr, dtype=np.dtype(ST_DTYPES[dtype]).newbyteorder('<')).tobytes()


def write_safetensors(path, tensors, metadata=None, raw_header=None):
    """tensors: list of (key, dtype, shape, bytes); offsets are laid out in order."""
    header, data, off = {}, b'', 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for key, dtype, shape, raw in tensors:
        header[key] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        data += raw
        off += len(raw)
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)


def cmd_weights(a):
    params = random_params(a.model, a.seed)
    shapes = dict(MODELS[a.model])
    for spec in a.reshape:
        key, dims = spec.split('=')
        shapes[key] = tuple(int(d) for d in dims.split(',') if d)
        params[key] = np.resize(params[key], shapes[key])
    retype = dict(s.split('=') for s in a.retype)
    tensors = []
    for key, v in params.items():
        if key in a.drop:
            continue
        dt = retype.get(key, a.dtype)
        tensors.append((a.prefix + key, dt, shapes[key], to_bytes(v, dt)))
    if a.counters:
        tensors.append((a.prefix + 'bn.num_batches_tracked', 'I64', (), to_bytes(np.array(7), 'I64')))
    for key in a.extra:
        tensors.append((key, 'F32', (2,), to_bytes(np.ones(2), 'F32')))
    write_safetensors(a.out, tensors, {'format': 'pt'} if a.metadata else None)


def good_tensors():
    return [(k, 'F32', s, to_bytes(v, 'F32')) for k, v in random_params('net', 1).items()
            for s in [MODELS['net'][k]]]


def header_of(tensors):
    h, off = {}, 0
    for key, dtype, shape, raw in tensors:
        h[key] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        off += len(raw)
    return h, b''.join(t[3] for t in tensors)


def write_raw(path, header_bytes, data, hlen=None):
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(header_bytes) if hlen is None else hlen) + header_bytes + data)


def bad_weights(path, case):
    h, data = header_of(good_tensors())
    enc = lambda: json.dumps(h).encode()
    if case == 'short':
        open(path, 'wb').write(b'\x10\x00\x00')
    elif case == 'header-past-end':
        write_raw(path, enc(), data, hlen=len(enc()) + len(data) + 1)
    elif case == 'huge-header':
        write_raw(path, enc(), data, hlen=2**64 - 1)
    elif case == 'truncated':
        write_raw(path, enc(), data[:-5])
    elif case == 'out-of-range':
        h['dw.bias']['data_offsets'] = [len(data) + 16, len(data) + 32]
        write_raw(path, enc(), data)
    elif case == 'overlap':
        h['conv.bias']['data_offsets'] = [0, 16]
        write_raw(path, enc(), data)
    elif case == 'size-mismatch':
        h['conv.bias']['data_offsets'][1] -= 4
        write_raw(path, enc(), data)
    elif case == 'reversed-offsets':
        b, e = h['conv.bias']['data_offsets']
        h['conv.bias']['data_offsets'] = [e, b]
        write_raw(path, enc(), data)
    elif case == 'wrong-dtype':
        raw = to_bytes(np.arange(4), 'I32')
        t = [x if x[0] != 'conv.bias' else ('conv.bias', 'I32', (4,), raw) for x in good_tensors()]
        write_safetensors(path, t)
    elif case == 'unknown-dtype':
        h['conv.bias']['dtype'] = 'F128'
        write_raw(path, enc(), data)
    elif case == 'shape-overflow':
        h['conv.bias']['shape'] = [2**62, 2**62]
        write_raw(path, enc(), data)
    elif case == 'negative-shape':
        h['conv.bias']['shape'] = [-4]
        write_raw(path, enc(), data)
    elif case == 'duplicate-key':
        text = enc()[:-1] + b', "conv.bias": ' + json.dumps(h['conv.bias']).encode() + b'}'
        write_raw(path, text, data)
    elif case == 'duplicate-module':
        text = enc()[:-1] + b', "module.conv.bias": ' + json.dumps(h['conv.bias']).encode() + b'}'
        write_raw(path, text, data)
    elif case == 'bad-json':
        write_raw(path, enc()[:-1] + b',}', data)
    elif case == 'bad-json-string':
        write_raw(path, b'{"conv\x01bias": 1}', data)
    elif case == 'bad-escape':
        write_raw(path, b'{"conv\\qbias": 1}', data)
    elif case == 'not-object':
        write_raw(path, b'[1, 2]', data)
    elif case == 'trailing-garbage':
        write_raw(path, enc() + b' x', data)
    elif case == 'deep':
        write_raw(path, b'{"a": ' + b'[' * 100000 + b']' * 100000 + b'}', data)
    elif case == 'unknown-field':
        h['conv.bias']['extra'] = 1
        write_raw(path, enc(), data)
    elif case == 'missing-field':
        del h['conv.bias']['dtype']
        write_raw(path, enc(), data)
    elif case == 'metadata-not-object':
        h['__metadata__'] = 3
        write_raw(path, enc(), data)
    elif case == 'hostile-key':
        # An unused tensor whose key holds a newline, a terminal escape and a bidi override.
        t = good_tensors() + [('evil\nline\x1b[31mred\u202eX', 'F32', (2,), to_bytes(np.ones(2), 'F32'))]
        write_safetensors(path, t)
    elif case == 'hostile-dtype':
        h['conv.bias']['dtype'] = 'F\x1b[2J32\r'
        write_raw(path, enc(), data)
    elif case == 'escaped-key':
        # "conv.bias" spelled with \u escapes must still be found.
        text = enc().replace(b'"conv.bias"', b'"conv\\u002ebias"')
        write_raw(path, text, data)
    else:
        sys.exit('unknown case ' + case)


def npy_bytes(arr, descr=None, fortran=False, version=1, shape=None, header=None):
    shape = arr.shape if shape is None else shape
    descr = descr or arr.dtype.str
    d = header if header is not None else (
        "{'descr': '%s', 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))).encode()
    pre = 10 if version == 1 else 12
    d += b' ' * (-(pre + len(d) + 1) % 64) + b'\n'
    lenfmt = '<H' if version == 1 else '<I'
    body = arr.tobytes(order='F' if fortran else 'C')
    return b'\x93NUMPY' + bytes([version, 0]) + struct.pack(lenfmt, len(d)) + d + body


def cmd_input(a):
    shape = tuple(int(d) for d in a.shape.split(','))
    rng = np.random.default_rng(a.seed)
    arr = rng.uniform(-1, 1, shape)
    if a.wide:  # magnitudes from float16 subnormals to near its maximum
        arr *= rng.choice([1e-7, 3e-6, 1e-3, 1.0, 6e4], shape)
    arr = arr.astype(np.dtype(a.dtype))
    with open(a.out, 'wb') as f:
        f.write(npy_bytes(arr, fortran=a.fortran, version=a.version))


def bad_input(path, case):
    arr = np.zeros((1, 3, 4, 5), '<f4')
    if case == 'bad-magic':
        b = b'\x93NUMPZ' + npy_bytes(arr)[6:]
    elif case == 'version':
        b = npy_bytes(arr)[:6] + b'\x04\x00' + npy_bytes(arr)[8:]
    elif case == 'header-past-end':
        b = npy_bytes(arr)[:9] + b'\xff' + npy_bytes(arr)[10:20]
    elif case == 'truncated':
        b = npy_bytes(arr)[:-7]
    elif case == 'extra-data':
        b = npy_bytes(arr) + b'\0\0\0\0'
    elif case == 'fortran':
        b = npy_bytes(np.zeros((1, 3, 4, 5), '<f4'), fortran=True)
    elif case == 'int-dtype':
        b = npy_bytes(np.zeros((1, 3, 4, 5), '<i4'))
    elif case == 'big-endian':
        b = npy_bytes(np.zeros((1, 3, 4, 5), '>f4'))
    elif case == 'shape-overflow':
        b = npy_bytes(arr, shape=(2**40, 2**40, 4, 5))
    elif case == 'dim-overflow':
        b = npy_bytes(arr, header=b"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3, 4, 5), }")
    elif case == 'bad-header':
        b = npy_bytes(arr, header=b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 5) ")
    elif case == 'missing-key':
        b = npy_bytes(arr, header=b"{'descr': '<f4', 'shape': (1, 3, 4, 5), }")
    elif case == 'duplicate-key':
        b = npy_bytes(arr, header=b"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 5), }")
    elif case == 'version-1.9':
        b = npy_bytes(arr)[:6] + b'\x01\x09' + npy_bytes(arr)[8:]
    elif case == 'nul-descr':
        b = npy_bytes(arr, header=b"{'descr': '<f4\0junk', 'fortran_order': False, 'shape': (1, 3, 4, 5), }")
    elif case == 'nul-key':
        b = npy_bytes(arr, header=b"{'descr\0': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 5), }")
    elif case == 'hostile-descr':
        b = npy_bytes(arr, header=b"{'descr': '<f4\xc2\x9b31m\xe2\x80\xae\xff', 'fortran_order': False, 'shape': (1, 3, 4, 5), }")
    elif case == 'zero-batch':
        b = npy_bytes(np.zeros((0, 3, 4, 5), '<f4'))
    elif case == 'empty':
        b = b''
    else:
        sys.exit('unknown case ' + case)
    open(path, 'wb').write(b)


def read_safetensors(path):
    """An independent reader: returns {key: float64 array}."""
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for key, info in header.items():
        if key == '__metadata__' or key.endswith('num_batches_tracked'):
            continue
        b, e = info['data_offsets']
        if info['dtype'] == 'BF16':
            v = (np.frombuffer(data[b:e], '<u2').astype('<u4') << 16).view('<f4')
        else:
            v = np.frombuffer(data[b:e], np.dtype(ST_DTYPES[info['dtype']]).newbyteorder('<'))
        key = key[len('module.'):] if key.startswith('module.') else key
        out[key] = v.astype(np.float64).reshape(info['shape'])
    return out


def reference(model, p, x):
    """The models of model.c in float64 numpy; x: {name: [N, ...] array}."""
    s = p['bn.weight'] / np.sqrt(p['bn.running_var'] + (1e-5 if model == 'net' else 1e-3))
    if model == 'net':
        w = p['conv.weight'][:, :, 0, 0] * s[:, None]
        b = (p['conv.bias'] - p['bn.running_mean']) * s + p['bn.bias']
        t = np.einsum('oc,nchw->nohw', w, x['x']) + b[None, :, None, None]
        y = t * p['dw.weight'][None, :, 0, 0, 0, None, None] + p['dw.bias'][None, :, None, None]
        return {'y': np.maximum(y, 0)}
    w = p['scale.weight'][:, 0, 0, 0] * s
    b = (0 - p['bn.running_mean']) * s + p['bn.bias']
    scaled = x['a'] * w[None, :, None, None] + b[None, :, None, None]
    return {'scaled': scaled, 'fc': x['feat'] @ p['fc.weight'].T + p['fc.bias']}


SPECIAL = [0.0, -0.0, 1.0, -2.5, 1e-30, 6e-8, -3e-6, 5.9e-5, 65504.0, -65504.0, 1e5, 3.4e38,
           1.0000001, 0.1, np.pi, -np.e, np.inf, -np.inf, np.nan, 1e-45, -7.0, 1234.5678, 2.0 ** -14, 0.33]


def cmd_special(a):
    """w.weight [2, 3, 4] (safetensors) or x [1, 2, 3, 4] (.npy) holding SPECIAL values."""
    v = np.array(SPECIAL, np.float64).reshape(2, 3, 4)
    with np.errstate(over='ignore'):
        if a.kind == 'weights':
            write_safetensors(a.out, [('w.weight', a.dtype, (2, 3, 4), to_bytes(v, a.dtype))])
        else:
            open(a.out, 'wb').write(npy_bytes(v.reshape(1, 2, 3, 4).astype(np.dtype(a.dtype))))


def cmd_exact(a):
    """The executable's outputs must equal the files' values converted to float32, bit for bit."""
    with np.errstate(over='ignore'):
        x = np.load(a.x).astype(np.float32)
        w = read_safetensors(a.weights)['w.weight'].astype(np.float32)
    y, p = np.load(a.y), np.load(a.p)
    same = lambda u, v: u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()
    print('y exact' if same(y, x) else 'y differs:\n%r\n%r' % (y, x))
    print('p exact' if same(p, w.reshape(1, 24)) else 'p differs:\n%r\n%r' % (p, w.reshape(1, 24)))


def cmd_check(a):
    p = read_safetensors(a.weights)
    x = {}
    for spec in a.inp:
        name, path = spec.split('=', 1)
        v = np.load(path).astype(np.float64)
        x[name] = v.reshape((1,) + v.shape) if v.ndim == len(INPUTS[a.model][name]) else v
    ref = reference(a.model, p, x)
    worst = 0.0
    for spec in a.out:
        name, path = spec.split('=', 1)
        got = np.load(path)
        want = ref[name]
        if got.dtype != np.float32 or got.shape != want.shape:
            sys.exit('%s: got %s %s, expected float32 %s' % (name, got.dtype, got.shape, want.shape))
        err = float(np.max(np.abs(got - want))) / max(1.0, float(np.max(np.abs(want))))
        worst = max(worst, err)
        if not err <= a.tol:
            sys.exit('%s: max error %g > %g' % (name, err, a.tol))
        print('%s: shape %s ok' % (name, list(got.shape)))
    print('max error ok' if worst <= a.tol else 'max error too large')


def cmd_expect(argv):
    """expect CODE [--absent PATH]... [--no-temps DIR] -- CMD..."""
    split = argv.index('--')
    ap = argparse.ArgumentParser(prog='rt.py expect')
    ap.add_argument('code', type=int)
    ap.add_argument('--absent', action='append', default=[])
    ap.add_argument('--no-temps')
    ap.add_argument('--limit-memory', type=int, help='address-space limit in MiB')
    a = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    limit = None
    if a.limit_memory:
        import resource
        size = a.limit_memory << 20
        limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (size, size))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
    sys.stdout.write(r.stdout.decode(errors='replace'))
    sys.stdout.write(r.stderr.decode(errors='replace'))
    ok = r.returncode == a.code
    if not ok:
        print('expect: exit code %d, expected %d' % (r.returncode, a.code))
    for path in a.absent:
        if os.path.exists(path):
            print('expect: %s exists' % path)
            ok = False
    if a.no_temps:
        left = [f for f in os.listdir(a.no_temps) if f.startswith('.')]
        if left:
            print('expect: temporaries left in %s: %s' % (a.no_temps, left))
            ok = False
    sys.exit(0 if ok else 1)


def new_temps(d, before):
    return [f for f in set(os.listdir(d)) - before if f.startswith('.')]


def wait_for_temps(p, d, before, count):
    """Polls until CMD has `count` output temporaries in d (or has exited)."""
    import time
    while p.poll() is None and len(new_temps(d, before)) < count:
        time.sleep(0.01)


def cmd_interrupt(argv):
    """interrupt DIR [--signal NAME] [--temps N] [--outputs N] -- CMD...: starts CMD, waits
    for N output temporaries, sends the signal (default TERM), and checks that
    the process died of it and left neither temporary nor output."""
    import signal
    split = argv.index('--')
    ap = argparse.ArgumentParser(prog='rt.py interrupt')
    ap.add_argument('dir')
    ap.add_argument('--signal', default='TERM')
    ap.add_argument('--temps', type=int, default=1)
    ap.add_argument('--outputs', type=int, default=0, help='append --output oI=oI.npy for I = 1..N')
    a = ap.parse_args(argv[:split])
    sig = getattr(signal, 'SIG' + a.signal)
    before = set(os.listdir(a.dir))
    outs = ['--output=o%d=o%d.npy' % (i, i) for i in range(1, a.outputs + 1)]
    # lit's workers ignore SIGINT, and an ignored signal stays ignored across exec.
    p = subprocess.Popen(argv[split + 1:] + outs, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_temps(p, a.dir, before, a.temps)
    temps = len(new_temps(a.dir, before))
    p.send_signal(sig)
    rc = p.wait()
    left = sorted(set(os.listdir(a.dir)) - before)
    print('%s: %d temporaries, exit %d, new files %s' % (a.signal, temps, rc, left))
    sys.exit(0 if rc == -sig and not left and temps >= a.temps else 1)


def cmd_hold(argv):
    """hold DIR --then ACTION -- CMD...: runs CMD (with --bench) with its stdout
    on a full pipe, so it blocks printing the bench line after its network ran
    and before its outputs are renamed. Once its temporaries exist in DIR,
    ACTION runs (a shell command), then the pipe is drained. Prints CMD's
    exit code and error lines."""
    import fcntl
    import threading
    split = argv.index('--')
    ap = argparse.ArgumentParser(prog='rt.py hold')
    ap.add_argument('dir')
    ap.add_argument('--then', required=True)
    ap.add_argument('--temps', type=int, default=1)
    a = ap.parse_args(argv[:split])
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: the smallest pipe
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b'#' * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    before = set(os.listdir(a.dir))
    p = subprocess.Popen(argv[split + 1:], stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    wait_for_temps(p, a.dir, before, a.temps)
    subprocess.run(a.then, shell=True, check=True)
    drain = threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(r, 65536), b'')])
    drain.start()
    err = p.stderr.read().decode(errors='replace')
    rc = p.wait()
    drain.join()
    sys.stdout.write(err)
    print('exit %d' % rc)


def cmd_fuzz(argv):
    """Runs CMD on COUNT mutations of GOOD (bytes flipped, inserted, cut);
    every run must end with exit 0 or the format's error code, one error line."""
    kind, good, count = argv[0], open(argv[1], 'rb').read(), int(argv[2])
    cmd = argv[argv.index('--') + 1:]
    code = 3 if kind == 'weights' else 4
    rng = np.random.default_rng(1234)
    path = 'fuzz.bin'
    seen = {}
    for i in range(count):
        b = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            op, at = int(rng.integers(0, 4)), int(rng.integers(0, len(b)))
            if op == 0:
                b[at] = int(rng.integers(0, 256))
            elif op == 1:
                b[at] ^= 1 << int(rng.integers(0, 8))
            elif op == 2:
                del b[at:]
            else:
                b[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
            if not b:
                break
        open(path, 'wb').write(bytes(b))
        r = subprocess.run([path if a == '@FILE' else a for a in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = r.stderr.decode(errors='replace')
        if r.returncode not in (0, code) or (r.returncode and err.count('\n') != 1):
            print('mutation %d: exit %d\n%s' % (i, r.returncode, err))
            open('fuzz-failure.bin', 'wb').write(bytes(b))
            sys.exit(1)
        seen[r.returncode] = seen.get(r.returncode, 0) + 1
    print('fuzz ok: %d runs, %d rejected' % (count, seen.get(code, 0)))


def main():
    if sys.argv[1:2] == ['expect']:
        return cmd_expect(sys.argv[2:])
    if sys.argv[1:2] == ['interrupt']:
        return cmd_interrupt(sys.argv[2:])
    if sys.argv[1:2] == ['hold']:
        return cmd_hold(sys.argv[2:])
    if sys.argv[1:2] == ['fuzz']:
        return cmd_fuzz(sys.argv[2:])
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    w = sub.add_parser('weights')
    w.add_argument('out')
    w.add_argument('--model', default='net')
    w.add_argument('--dtype', default='F32')
    w.add_argument('--seed', type=int, default=1)
    w.add_argument('--prefix', default='')
    w.add_argument('--drop', action='append', default=[])
    w.add_argument('--extra', action='append', default=[])
    w.add_argument('--reshape', action='append', default=[])
    w.add_argument('--retype', action='append', default=[])
    w.add_argument('--counters', action='store_true')
    w.add_argument('--metadata', action='store_true')
    bw = sub.add_parser('bad-weights')
    bw.add_argument('out')
    bw.add_argument('case')
    i = sub.add_parser('input')
    i.add_argument('out')
    i.add_argument('--shape', required=True)
    i.add_argument('--seed', type=int, default=2)
    i.add_argument('--dtype', default='<f4')
    i.add_argument('--fortran', action='store_true')
    i.add_argument('--wide', action='store_true')
    i.add_argument('--version', type=int, default=1)
    sp = sub.add_parser('special')
    sp.add_argument('kind', choices=['weights', 'input'])
    sp.add_argument('out')
    sp.add_argument('--dtype', default='F32')
    ex = sub.add_parser('exact')
    for arg in ('--weights', '--x', '--y', '--p'):
        ex.add_argument(arg, required=True)
    bi = sub.add_parser('bad-input')
    bi.add_argument('out')
    bi.add_argument('case')
    c = sub.add_parser('check')
    c.add_argument('--model', default='net')
    c.add_argument('--weights', required=True)
    c.add_argument('--in', dest='inp', action='append', default=[])
    c.add_argument('--out', action='append', default=[])
    c.add_argument('--tol', type=float, default=1e-5)
    a = ap.parse_args()
    if a.cmd == 'weights':
        cmd_weights(a)
    elif a.cmd == 'bad-weights':
        bad_weights(a.out, a.case)
    elif a.cmd == 'input':
        cmd_input(a)
    elif a.cmd == 'bad-input':
        bad_input(a.out, a.case)
    elif a.cmd == 'special':
        cmd_special(a)
    elif a.cmd == 'exact':
        cmd_exact(a)
    else:
        cmd_check(a)


if __name__ == '__main__':
    main()
