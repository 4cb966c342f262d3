#!/usr/bin/python3
"""Export a PyTorch model's weights to safetensors, the format a convc
executable reads with --weights (docs/cli.md). Needs only torch and numpy.

As a program:

  export_weights.py model.pt out.safetensors
      model.pt is a torch.save'd nn.Module, a state_dict, or a checkpoint
      dict holding one under 'state_dict' / 'model_state_dict' / 'model'.
  export_weights.py --module mynet.py:MyNet [--args '[3, 64]'] [--seed S] out.safetensors
      instantiates MyNet from mynet.py (PyTorch's default initialisation,
      seeded); with a model.pt as well, its state_dict is loaded into it.
  export_weights.py ... --input-npy x.npy --shape 1,3,256,256 [--seed S]
      also writes a random float32 input, uniform(-1, 1), as .npy
      (or --input-from t.pt|t.npy converts an existing tensor);
      --reference-npy y.npy then writes the model's output for it
      (model.eval(), float32), to compare with the executable's.
      Several inputs and outputs: repeat --input-npy (with one --shape or
      --input-from each, in the order forward() takes them; input i is drawn
      with seed S+i) and --reference-npy (one per output forward() returns,
      in order; a tuple, list or dict of tensors).
  export_weights.py ... --random-bn-stats
      first gives every BatchNorm random running statistics and affine
      parameters (seeded by --seed), so that a test exercises batchnorm
      folding with values other than PyTorch's initial 0/1.
  export_weights.py --compare y.npy ref.npy [--rtol 1e-4]
      max |y - ref| <= rtol * max(1, max |ref|); exit 1 otherwise.

Options: --dtype F32 (default: every floating tensor as float32) | F16 | BF16
| F64 | keep; --drop-num-batches-tracked (the runtime ignores those int64
counters anyway); --strip-prefix module.

As a library:

  from export_weights import save_safetensors, save_npy
  save_safetensors(model.state_dict(), "w.safetensors")
  save_npy(x, "x.npy")

The file: an 8-byte little-endian header length, a JSON header
{key: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}
padded with spaces to a multiple of 8 bytes, then the raw little-endian data
of every tensor in header order (offsets relative to the end of the header).
"""
import argparse
import collections
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

# torch dtype -> safetensors dtype name
_ST_NAMES = {
    torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
    torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8',
    torch.uint8: 'U8', torch.bool: 'BOOL',
}
_TORCH_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
                 'F64': torch.float64}


def _raw_bytes(t):
    """The tensor's values as contiguous little-endian bytes (C order)."""
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret as int16
        arr = t.view(torch.int16).numpy()
    else:
        arr = t.numpy()
    if arr.dtype.byteorder == '>' or (arr.dtype.byteorder == '=' and sys.byteorder == 'big'):
        arr = arr.byteswap().view(arr.dtype.newbyteorder('<'))
    return arr.tobytes()


def _convert(t, dtype):
    if dtype == 'keep' or not t.is_floating_point():
        return t
    return t.to(_TORCH_DTYPES[dtype])


def save_safetensors(state_dict, path, dtype='F32', metadata=None,
                     drop_num_batches_tracked=False, strip_prefix=None):
    """Write state_dict (name -> tensor, in its order) to path as safetensors.

    Floating tensors are converted to `dtype` ('F32', 'F16', 'BF16', 'F64' or
    'keep'); integer buffers (num_batches_tracked) keep their dtype unless
    dropped. The file is written to a temporary next to path and renamed.
    """
    header, chunks, offset = collections.OrderedDict(), [], 0
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    for key, tensor in state_dict.items():
        if drop_num_batches_tracked and key.endswith('num_batches_tracked'):
            continue
        if strip_prefix and key.startswith(strip_prefix):
            key = key[len(strip_prefix):]
        if key in header:
            raise ValueError('duplicate key %r' % key)
        if not isinstance(tensor, torch.Tensor):
            tensor = torch.as_tensor(tensor)
        tensor = _convert(tensor, dtype)
        if tensor.dtype not in _ST_NAMES:
            raise ValueError('%s: unsupported dtype %s' % (key, tensor.dtype))
        raw = _raw_bytes(tensor)
        header[key] = {'dtype': _ST_NAMES[tensor.dtype], 'shape': list(tensor.shape),
                       'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-(8 + len(text)) % 8)
    tmp = '%s.tmp%d' % (path, os.getpid())
    try:
        with open(tmp, 'wb') as f:
            f.write(struct.pack('<Q', len(text)))
            f.write(text)
            for raw in chunks:
                f.write(raw)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_safetensors(path):
    """Read a safetensors file back into an ordered dict of numpy arrays
    (floating types as stored; BF16 widened to float32)."""
    np_types = {'F32': '<f4', 'F16': '<f2', 'F64': '<f8', 'I64': '<i8', 'I32': '<i4',
                'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?', 'BF16': '<u2'}
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'), object_pairs_hook=collections.OrderedDict)
    body = data[8 + n:]
    out = collections.OrderedDict()
    for key, info in header.items():
        if key == '__metadata__':
            continue
        b, e = info['data_offsets']
        arr = np.frombuffer(body[b:e], dtype=np_types[info['dtype']]).reshape(info['shape'])
        if info['dtype'] == 'BF16':
            arr = (arr.astype('<u4') << 16).view('<f4')
        out[key] = arr
    return out


def save_npy(array, path):
    """Write a tensor or array as a float32 little-endian C-order .npy file."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    arr = np.ascontiguousarray(array, dtype='<f4')
    with open(path, 'wb') as f:
        np.save(f, arr, allow_pickle=False)


def import_class(spec):
    """'path/to/file.py:Class' (or 'package.module:Class') -> the class."""
    where, _, name = spec.rpartition(':')
    if not where or not name:
        raise SystemExit('--module expects FILE.py:CLASS, got %r' % spec)
    if where.endswith('.py') or os.path.sep in where:
        modname = os.path.splitext(os.path.basename(where))[0]
        loader = importlib.util.spec_from_file_location(modname, where)
        if loader is None:
            raise SystemExit('cannot import %r' % where)
        mod = importlib.util.module_from_spec(loader)
        sys.modules[modname] = mod
        sys.path.insert(0, os.path.dirname(os.path.abspath(where)))
        loader.loader.exec_module(mod)
    else:
        mod = importlib.import_module(where)
    cls = getattr(mod, name, None)
    if cls is None:
        raise SystemExit('%s has no %r' % (where, name))
    # a model torch.save'd from a script refers to __main__.CLASS
    setattr(sys.modules['__main__'], name, cls)
    return cls


def _state_dict_of(obj):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ('state_dict', 'model_state_dict', 'model'):
            if key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
                return _state_dict_of(obj[key])
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise SystemExit('not a module, a state_dict or a checkpoint with one: %s' % type(obj).__name__)


def _load_model(args):
    """-> (module or None, state_dict)"""
    model = None
    if args.module:
        cls = import_class(args.module)
        ctor = json.loads(args.args) if args.args else []
        torch.manual_seed(args.seed)
        model = cls(**ctor) if isinstance(ctor, dict) else cls(*ctor)
    if args.source:
        obj = torch.load(args.source, map_location='cpu')
        if isinstance(obj, torch.nn.Module) and model is None:
            model = obj
        elif model is not None:
            model.load_state_dict(_state_dict_of(obj))
        else:
            return None, _state_dict_of(obj)
    if model is None:
        raise SystemExit('nothing to export: give model.pt and/or --module FILE.py:CLASS')
    return model, model.state_dict()


def _input_tensors(args):
    """The inputs, in forward()'s order: --input-from files, else random
    tensors of the --shape's (input i drawn with seed S+i)."""
    if args.input_from:
        return [torch.from_numpy(np.load(f).astype(np.float32)) if f.endswith('.npy')
                else torch.load(f, map_location='cpu').float() for f in args.input_from]
    if not args.shape:
        raise SystemExit('--input-npy needs --shape N,C,H,W (or C,H,W) or --input-from')
    xs = []
    for i, shape in enumerate(args.shape):
        rng = np.random.default_rng(args.seed + i)
        dims = [int(d) for d in shape.split(',')]
        xs.append(torch.from_numpy(rng.uniform(-1, 1, dims).astype(np.float32)))
    return xs


def randomize_batchnorm(model, seed):
    """Random running_mean/var, weight and bias for every BatchNorm, so that
    folding them into a conv is tested with values that matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                if m.running_mean is not None:
                    m.running_mean.copy_(torch.rand(c, generator=g) - 0.5)
                    m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                    m.bias.copy_(torch.rand(c, generator=g) - 0.5)


def _outputs(y):
    """forward()'s result as a list of tensors."""
    if isinstance(y, torch.Tensor):
        return [y]
    if isinstance(y, dict):
        return list(y.values())
    return list(y)


def compare(out_path, ref_path, rtol):
    y = np.load(out_path).astype(np.float64)
    ref = np.load(ref_path).astype(np.float64)
    if y.shape != ref.shape:
        print('shape mismatch: %s vs reference %s' % (list(y.shape), list(ref.shape)))
        return 1
    err = float(np.max(np.abs(y - ref))) if y.size else 0.0
    peak = float(np.max(np.abs(ref))) if ref.size else 0.0
    ok = err <= rtol * max(1.0, peak)
    print('max_abs_err=%.3g max_ref=%.3g %s' % (err, peak, 'ok' if ok else 'MISMATCH'))
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('source', nargs='?', help='torch.save\'d module, state_dict or checkpoint')
    p.add_argument('out', nargs='?', help='the .safetensors file to write')
    p.add_argument('--module', help='FILE.py:CLASS to instantiate')
    p.add_argument('--args', help='constructor arguments of --module, a JSON list or object')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--dtype', default='F32', choices=['F32', 'F16', 'BF16', 'F64', 'keep'])
    p.add_argument('--drop-num-batches-tracked', action='store_true')
    p.add_argument('--strip-prefix', metavar='PREFIX')
    p.add_argument('--input-npy', metavar='X.npy', action='append',
                   help='write an input tensor as .npy (repeat for several inputs)')
    p.add_argument('--shape', action='append', help='shape of the random input, e.g. 1,3,64,64 (one per input)')
    p.add_argument('--input-from', metavar='FILE', action='append',
                   help='.pt or .npy tensor to use as the input (one per input)')
    p.add_argument('--reference-npy', metavar='Y.npy', action='append',
                   help="write the model's output for the inputs (repeat for several outputs)")
    p.add_argument('--random-bn-stats', action='store_true',
                   help='random batchnorm statistics and affine parameters (seeded) before exporting')
    p.add_argument('--compare', nargs=2, metavar=('Y.npy', 'REF.npy'))
    p.add_argument('--rtol', type=float, default=1e-4)
    a = p.parse_args(argv)

    if a.compare:
        return compare(a.compare[0], a.compare[1], a.rtol)
    # with --module alone, the only positional is the output
    if a.module and a.source and not a.out and not a.source.endswith('.pt'):
        a.source, a.out = None, a.source
    if a.source and not a.out and not a.input_npy:
        p.error('missing the output file')
    model, sd = _load_model(a)
    if a.random_bn_stats:
        if model is None:
            p.error('--random-bn-stats needs a module (a torch.save\'d module or --module)')
        randomize_batchnorm(model, a.seed)
        sd = model.state_dict()
    if a.out:
        save_safetensors(sd, a.out, dtype=a.dtype,
                         drop_num_batches_tracked=a.drop_num_batches_tracked,
                         strip_prefix=a.strip_prefix)
    if a.input_npy or a.reference_npy:
        if not a.input_npy and not a.input_from:
            p.error('--reference-npy needs --input-npy or --input-from')
        xs = _input_tensors(a)
        if a.input_npy and len(a.input_npy) != len(xs):
            p.error('%d --input-npy files for %d inputs (--shape / --input-from)' % (len(a.input_npy), len(xs)))
        for x, path in zip(xs, a.input_npy or []):
            save_npy(x, path)
        if a.reference_npy:
            if model is None:
                p.error('--reference-npy needs a module (a torch.save\'d module or --module)')
            model.eval()
            with torch.no_grad():
                ys = _outputs(model.float()(*[x if x.dim() != 3 else x.unsqueeze(0) for x in xs]))
            if len(ys) != len(a.reference_npy):
                p.error('the model returns %d outputs; %d --reference-npy files given' % (len(ys), len(a.reference_npy)))
            for y, path in zip(ys, a.reference_npy):
                save_npy(y, path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
