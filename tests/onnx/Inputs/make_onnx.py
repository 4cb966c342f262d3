#!/usr/bin/python3
"""Writes small hand-built .onnx files (with the onnx package's helpers) for
the tests of malformed files and unsupported nodes.

  make_onnx.py CASE OUT.onnx

The base model is x[N, 3, 8, 8] -> Conv(w [4, 3, 3, 3], b [4], pads 1) -> Relu -> y.
Each CASE breaks one thing (see CASES); `ok` is the base model itself.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tensor(name, shape, seed=0):
    return numpy_helper.from_array(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32), name)


def raw_tensor(name, dims, raw=None, floats=None):
    """A TensorProto as written, without the helpers' consistency checks."""
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if floats is not None:
        t.float_data.extend(floats)
    return t


def model(nodes=None, inits=None, inputs=None, outputs=None, opset=17):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 8, 8])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4, 8, 8])
    if nodes is None:
        nodes = [helper.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
                 helper.make_node('Relu', ['c'], ['y'], name='relu')]
    if inits is None:
        inits = [tensor('w', (4, 3, 3, 3)), tensor('b', (4,), 1)]
    g = helper.make_graph(nodes, 'g', inputs or [x], outputs or [y], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)])


def save(m, out):
    with open(out, 'wb') as f:
        f.write(m.SerializeToString())


def external(out, location, length=None):
    m = model()
    w = m.graph.initializer[0]
    data = w.raw_data
    w.ClearField('raw_data')
    w.data_location = TensorProto.EXTERNAL
    for k, v in (('location', location), ('offset', '0'), ('length', str(length or len(data)))):
        e = w.external_data.add()
        e.key, e.value = k, v
    save(m, out)
    return data


def case(name, out):
    d = os.path.dirname(os.path.abspath(out))
    if name == 'ok':
        save(model(), out)
    elif name == 'truncated':
        save(model(), out)
        data = open(out, 'rb').read()
        open(out, 'wb').write(data[:len(data) // 2])
    elif name == 'not_protobuf':
        open(out, 'wb').write(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + bytes(range(256)))
    elif name == 'wrong_type':
        # ModelProto.graph (field 7) written as a varint instead of a message
        open(out, 'wb').write(b'\x08\x08\x38\x01')
    elif name == 'empty':
        open(out, 'wb').write(b'')
    elif name == 'raw_size':
        m = model()
        m.graph.initializer[0].raw_data = m.graph.initializer[0].raw_data[:-4]
        save(m, out)
    elif name == 'float_data_size':
        m = model(inits=[tensor('w', (4, 3, 3, 3)), raw_tensor('b', [4], floats=[1.0, 2.0, 3.0])])
        save(m, out)
    elif name == 'huge_dims':
        # claims 2^31 x 2^31 floats, holds 16 bytes: refused before any allocation
        w = raw_tensor('w', [1 << 31, 1 << 31, 1, 1], raw=b'\0' * 16)
        save(model(inits=[w, tensor('b', (4,), 1)]), out)
    elif name == 'big_dims':
        # 2^20 x 2^20 x 1 x 1 floats (4 TiB) claimed, 16 bytes held
        w = raw_tensor('w', [1 << 20, 1 << 20, 1, 1], raw=b'\0' * 16)
        save(model(inits=[w, tensor('b', (4,), 1)]), out)
    elif name == 'external_ok':
        data = external(out, 'w.bin')
        open(os.path.join(d, 'w.bin'), 'wb').write(data)
    elif name == 'external_missing':
        external(out, 'missing.bin')
    elif name == 'external_outside':
        data = external(out, '../outside.bin')
        open(os.path.join(d, '..', 'outside.bin'), 'wb').write(data)
    elif name == 'external_symlink':
        data = external(out, 'link.bin')
        open(os.path.join(d, '..', 'outside.bin'), 'wb').write(data)
        if os.path.lexists(os.path.join(d, 'link.bin')):
            os.remove(os.path.join(d, 'link.bin'))
        os.symlink(os.path.join(d, '..', 'outside.bin'), os.path.join(d, 'link.bin'))
    elif name == 'external_short':
        data = external(out, 'short.bin')
        open(os.path.join(d, 'short.bin'), 'wb').write(data[:-8])
    elif name == 'cycle':
        save(model(nodes=[helper.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
                          helper.make_node('Add', ['c', 'z'], ['y'], name='add'),
                          helper.make_node('Relu', ['y'], ['z'], name='loop')]), out)
    elif name == 'undefined':
        save(model(nodes=[helper.make_node('Relu', ['nowhere'], ['y'], name='relu')]), out)
    elif name == 'defined_twice':
        save(model(nodes=[helper.make_node('Relu', ['x'], ['y'], name='r1'),
                          helper.make_node('Relu', ['x'], ['y'], name='r2')]), out)
    elif name == 'opset5':
        save(model(opset=5), out)
    elif name in ('resize_sizes', 'resize_sizes_nearest'):
        # Resize to constant sizes [N, C, H, W] (as a constant-folded export writes it)
        sizes = numpy_helper.from_array(np.array([1, 4, 13, 17], dtype=np.int64), 'sizes')
        attrs = (dict(mode='linear', coordinate_transformation_mode='pytorch_half_pixel') if name == 'resize_sizes'
                 else dict(mode='nearest', coordinate_transformation_mode='asymmetric', nearest_mode='floor'))
        nodes = [helper.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
                 helper.make_node('Resize', ['c', '', '', 'sizes'], ['y'], name='resize', **attrs)]
        y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4, 13, 17])
        save(model(nodes=nodes, inits=[tensor('w', (4, 3, 3, 3)), tensor('b', (4,), 1), sizes], outputs=[y]), out)
    elif name == 'resize_sizes_bad':
        sizes = numpy_helper.from_array(np.array([1, 4, 0, 17], dtype=np.int64), 'sizes')
        nodes = [helper.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv', pads=[1, 1, 1, 1]),
                 helper.make_node('Resize', ['c', '', '', 'sizes'], ['y'], name='resize', mode='linear',
                                  coordinate_transformation_mode='pytorch_half_pixel')]
        save(model(nodes=nodes, inits=[tensor('w', (4, 3, 3, 3)), tensor('b', (4,), 1), sizes]), out)
    elif name == 'dynamic':
        x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 'H', 'W'])
        save(model(inputs=[x]), out)
    elif name == 'unsupported':
        # several nodes convc cannot express, each to be reported
        nodes = [helper.make_node('Conv', ['x', 'w', 'b'], ['c'], name='conv_asym', pads=[0, 0, 1, 1]),
                 helper.make_node('Conv', ['x', 'w', 'b'], ['c2'], name='conv_ok', pads=[1, 1, 1, 1]),
                 helper.make_node('Abs', ['c2'], ['a'], name='abs'),
                 helper.make_node('Relu', ['a'], ['r'], name='after_abs'),
                 helper.make_node('LpNormalization', ['c2'], ['n'], name='lpnorm', domain='com.example'),
                 helper.make_node('MaxPool', ['c2'], ['m', 'idx'], name='pool_idx', kernel_shape=[2, 2]),
                 helper.make_node('Resize', ['c2', '', 's'], ['u'], name='cubic', mode='cubic'),
                 helper.make_node('Conv', ['c2', 'w2'], ['k'], name='conv_3d', kernel_shape=[1, 1, 1]),
                 helper.make_node('Conv', ['x', 'w'], ['h'], name='conv_huge', dilations=[1 << 62, 1]),
                 helper.make_node('Conv', ['x', 'w'], ['g'], name='conv_groups', group=1 << 62),
                 helper.make_node('Add', ['c2', 'b'], ['y'], name='add_const')]
        outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                for n in ('y', 'c', 'r', 'n', 'm', 'idx', 'u', 'k', 'h', 'g')]
        inits = [tensor('w', (4, 3, 3, 3)), tensor('b', (4,), 1), tensor('w2', (4, 4, 1, 1), 2),
                 numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), 's')]
        save(model(nodes=nodes, inits=inits, outputs=outs), out)
    elif name == 'control_names':
        # names with a terminal escape, a bell and bytes that are not UTF-8
        m = model(nodes=[helper.make_node('Relu', ['x'], ['y'], name='r')])
        m.graph.node[0].name = 'evil\x1b[31m\xff'
        m.graph.node[0].op_type = 'Abs\x07'
        data = m.SerializeToString().replace('evil\x1b[31m\xff'.encode('utf-8'), b'evil\x1b[31m\xff\xfe')
        open(out, 'wb').write(data)
    else:
        raise SystemExit('make_onnx.py: unknown case %r' % name)


if __name__ == '__main__':
    case(sys.argv[1], sys.argv[2])
