"""Run networks compiled by convc from Python: ctypes over a shared library
that `convc net.conv --shared` builds, NumPy arrays in and out.

    import convc
    lib = convc.compile("unet.conv")                 # runs convc --shared -> "libunet.so"
    m = convc.load(lib, weights="w.safetensors", threads=2)
    y = m(x)                                         # x: float32 [N, C, H, W] (or [C, H, W])

A network with several inputs takes them in declaration order or by name
(m(a, b) or m(x=a, y=b)); with several outputs it returns a tuple in
declaration order. m.inputs and m.outputs list (name, per-sample shape).
Every failure raises ConvcError carrying convc's message and status code.
Nothing here comes from PyPI: the standard library and NumPy only.
"""
import ctypes
import os
import subprocess
import threading

import numpy as np

__all__ = ['ConvcError', 'Network', 'compile', 'load']

_MESSAGE_SIZE = 512  # CONVC_MESSAGE_SIZE in convc.h


class ConvcError(Exception):
    """A failed call: str(e) is convc's message; e.code its status
    (convc.h's ConvcStatus; for compile(), convc's exit status)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class _Error(ctypes.Structure):
    _fields_ = [('code', ctypes.c_int), ('message', ctypes.c_char * _MESSAGE_SIZE)]


class _Info(ctypes.Structure):
    _fields_ = [('name', ctypes.c_char_p), ('rank', ctypes.c_int), ('dims', ctypes.c_int64 * 3),
                ('size', ctypes.c_int64)]


def compile(source, output=None, *, shared=True, prefix=None, embed_weights=None, options=(), convc=None):
    """Runs convc on source (.conv or .onnx) and returns the path it wrote:
    a shared library (default: libNAME.so next to the source), or with
    shared=False an executable. options: more command-line arguments. The
    compiler is `convc` (or $CONVC, or the convc argument)."""
    exe = convc or os.environ.get('CONVC') or 'convc'
    if output is None and shared:
        stem = os.path.splitext(os.path.basename(source))[0]
        output = os.path.join(os.path.dirname(source), 'lib%s.so' % (prefix or stem))
    cmd = [exe, os.fspath(source)] + (['--shared'] if shared else [])
    cmd += ['-o', os.fspath(output)] if output else []
    cmd += ['--prefix', prefix] if prefix else []
    cmd += ['--embed-weights', os.fspath(embed_weights)] if embed_weights else []
    cmd += list(options)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise ConvcError('cannot run %s: %s' % (exe, e.strerror), 3) from None
    if p.returncode != 0:
        raise ConvcError(p.stderr.strip() or 'convc failed with exit status %d' % p.returncode, p.returncode)
    return output


def load(library, weights=None, threads=0, prefix=None):
    """Opens the network in a shared library. weights: a safetensors file
    path, its bytes, or None for the weights embedded at compile time.
    threads: 0 for one per online CPU. prefix: the library's symbol prefix
    (default: its file name without 'lib' and '.so')."""
    return Network(library, weights, threads, prefix)


def _default_prefix(path):
    name = os.path.basename(os.fspath(path))
    name = name[3:] if name.startswith('lib') else name
    return name.split('.so')[0]


class Network:
    """An instance of a compiled network (see load()). Calls from several
    Python threads are serialised; open two instances to run in parallel."""

    def __init__(self, library, weights=None, threads=0, prefix=None):
        self._inst = None
        self._lock = threading.Lock()
        try:
            self._lib = ctypes.CDLL(os.path.abspath(os.fspath(library)))
        except OSError as e:
            raise ConvcError('cannot load %s: %s' % (library, e), 3) from None
        self.prefix = prefix or _default_prefix(library)
        self._bind()
        self.name = self._fn('name')().decode()
        self.inputs = self._ports('input')
        self.outputs = self._ports('output')
        self._open(weights, threads)

    def _fn(self, name):
        try:
            return getattr(self._lib, '%s_%s' % (self.prefix, name))
        except AttributeError:
            raise ConvcError('%s defines no %s_%s: not a library convc built with prefix %r (pass prefix=)'
                             % (self._lib._name, self.prefix, name, self.prefix), 2) from None

    def _bind(self):
        P, I, S, Z = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
        sigs = {
            'open': (I, [S, I, ctypes.POINTER(P), ctypes.POINTER(_Error)]),
            'open_memory': (I, [P, Z, I, ctypes.POINTER(P), ctypes.POINTER(_Error)]),
            'num_inputs': (I, []), 'num_outputs': (I, []),
            'input_info': (I, [I, ctypes.POINTER(_Info)]), 'output_info': (I, [I, ctypes.POINTER(_Info)]),
            'name': (S, []),
            'run': (I, [P, ctypes.c_int64, ctypes.POINTER(P), ctypes.POINTER(Z), ctypes.POINTER(P),
                        ctypes.POINTER(Z)]),
            'error': (S, [P]), 'close': (None, [P]),
        }
        for name, (res, args) in sigs.items():
            f = self._fn(name)
            f.restype, f.argtypes = res, args

    def _ports(self, kind):
        out = []
        for i in range(self._fn('num_%ss' % kind)()):
            info = _Info()
            self._fn('%s_info' % kind)(i, ctypes.byref(info))
            out.append((info.name.decode(), tuple(info.dims[:info.rank])))
        return out

    def _open(self, weights, threads):
        inst, err = ctypes.c_void_p(), _Error()
        if weights is None or isinstance(weights, (str, os.PathLike)):
            path = None if weights is None else os.fsencode(weights)
            rc = self._fn('open')(path, int(threads), ctypes.byref(inst), ctypes.byref(err))
        else:
            data = bytes(weights)
            rc = self._fn('open_memory')(data, len(data), int(threads), ctypes.byref(inst), ctypes.byref(err))
        if rc != 0:
            raise ConvcError(err.message.decode(errors='replace'), rc)
        self._inst = inst

    def _arrays(self, args, kwargs):
        """-> float32 C-contiguous [N, ...] arrays in input order, and N"""
        if len(args) + len(kwargs) != len(self.inputs):
            raise ConvcError('network %s takes %d inputs, got %d' % (self.name, len(self.inputs),
                                                                     len(args) + len(kwargs)), 2)
        named = dict(zip([n for n, _ in self.inputs], args))
        for k, v in kwargs.items():
            if k not in [n for n, _ in self.inputs] or k in named:
                raise ConvcError('network %s: unexpected or repeated input %r' % (self.name, k), 2)
            named[k] = v
        xs, batch = [], None
        for name, shape in self.inputs:
            x = np.ascontiguousarray(named[name], dtype=np.float32)
            if x.shape == shape:
                x = x[None]
            if x.shape[1:] != shape or x.shape[0] < 1:
                raise ConvcError("input '%s' has shape %s, expected [N, %s]"
                                 % (name, list(x.shape), ', '.join(map(str, shape))), 4)
            if batch is not None and x.shape[0] != batch:
                raise ConvcError("input '%s' has batch size %d, the first input %d" % (name, x.shape[0], batch), 4)
            batch = x.shape[0]
            xs.append(x)
        return xs, batch

    def __call__(self, *args, **kwargs):
        """Runs a batch; returns the output (one output) or a tuple of them."""
        xs, batch = self._arrays(args, kwargs)
        ys = [np.empty((batch,) + shape, dtype=np.float32) for _, shape in self.outputs]
        P, Z = ctypes.c_void_p, ctypes.c_size_t
        ins = (P * len(xs))(*[x.ctypes.data for x in xs])
        in_sizes = (Z * len(xs))(*[x.size for x in xs])
        outs = (P * len(ys))(*[y.ctypes.data for y in ys])
        out_sizes = (Z * len(ys))(*[y.size for y in ys])
        with self._lock:
            if self._inst is None:
                raise ConvcError('network %s is closed' % self.name, 7)
            rc = self._fn('run')(self._inst, batch, ins, in_sizes, outs, out_sizes)
            if rc != 0:
                raise ConvcError(self._fn('error')(self._inst).decode(errors='replace'), rc)
        return ys[0] if len(ys) == 1 else tuple(ys)

    def close(self):
        """Releases the instance; later calls raise ConvcError."""
        with self._lock:
            if self._inst is not None:
                self._fn('close')(self._inst)
                self._inst = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, '_inst', None) is not None:
            self.close()

    def __repr__(self):
        return '<convc.Network %s inputs=%s outputs=%s>' % (self.name, self.inputs, self.outputs)
