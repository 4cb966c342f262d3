"""Checks a safetensors file byte by byte, independently of export_weights.py:

  check_safetensors.py FILE [STATE_DICT.pt]

the 8-byte little-endian header length, a JSON header padded with spaces so the
data starts at a multiple of 8, entries of exactly dtype/shape/data_offsets,
offsets that tile the data without gaps or overlaps, and (with a torch.save'd
state_dict) every value equal to PyTorch's after conversion to the file's
dtype. Prints one line per tensor and `safetensors ok`.
"""
import json
import struct
import sys

import numpy as np
import torch

NP = {'F32': '<f4', 'F16': '<f2', 'F64': '<f8', 'I64': '<i8', 'BF16': '<u2'}


def main():
    data = open(sys.argv[1], 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    assert 8 + n <= len(data), 'header past the end'
    text = data[8:8 + n]
    assert (8 + n) % 8 == 0, 'data not 8-byte aligned'
    assert text.rstrip(b' ') == text.rstrip(), 'header padded with something else than spaces'
    header = json.loads(text.decode('utf-8'))
    body = data[8 + n:]
    ref = torch.load(sys.argv[2]) if len(sys.argv) > 2 else None
    spans = []
    for key, e in header.items():
        if key == '__metadata__':
            assert all(isinstance(v, str) for v in e.values())
            continue
        assert sorted(e) == ['data_offsets', 'dtype', 'shape'], e
        b, end = e['data_offsets']
        count = int(np.prod(e['shape'], dtype=np.int64))
        assert end - b == count * np.dtype(NP[e['dtype']]).itemsize, key
        spans.append((b, end))
        arr = np.frombuffer(body[b:end], NP[e['dtype']]).reshape(e['shape'])
        line = '%s %s %s' % (key, e['dtype'], e['shape'])
        if ref is not None:
            t = ref[key]
            if e['dtype'] == 'BF16':
                want = t.to(torch.bfloat16).view(torch.int16).numpy().view('<u2')
            else:
                want = t.to({'F32': torch.float32, 'F16': torch.float16, 'F64': torch.float64,
                             'I64': torch.int64}[e['dtype']]).numpy()
            assert arr.tobytes() == np.ascontiguousarray(want).astype(NP[e['dtype']]).tobytes(), key
            line += ' equal'
        print(line)
    spans.sort()
    pos = 0
    for b, end in spans:
        assert b == pos, 'gap or overlap at %d' % b
        pos = end
    assert pos == len(body), 'data not covered exactly'
    if ref is not None:
        missing = set(ref) - set(header)
        assert not missing, missing
    print('safetensors ok')


if __name__ == '__main__':
    main()
