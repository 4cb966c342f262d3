#!/usr/bin/python3
"""check_weights.py FILE.safetensors MODEL: the weights convc --emit-weights
wrote from an ONNX export of MODEL (exported by onnx_ref.py with the same
seed) hold exactly the model's state_dict: the same keys (num_batches_tracked
aside) and bit-identical values. Prints `weights: N tensors identical`."""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
import onnx_models  # noqa: E402,F401
import ref  # noqa: E402


def load(path):
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for k, v in header.items():
        assert v['dtype'] == 'F32', v
        b, e = v['data_offsets']
        out[k] = np.frombuffer(body[b:e], np.float32).reshape(v['shape'])
    return out


def main():
    got = load(sys.argv[1])
    _, model = ref.build(sys.argv[2], 0)
    want = {k: v.numpy() for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    if sorted(got) != sorted(want):
        print('keys differ: extra %s, missing %s' % (sorted(set(got) - set(want)), sorted(set(want) - set(got))))
        return 1
    for k in want:
        if got[k].shape != want[k].shape or not np.array_equal(got[k], want[k]):
            print('%s differs' % k)
            return 1
    print('weights: %d tensors identical' % len(want))
    return 0


if __name__ == '__main__':
    sys.exit(main())
