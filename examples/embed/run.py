#!/usr/bin/python3
"""run.py - run a network compiled with `convc --shared` from Python.

    convc net.conv --shared -o libnet.so
    python3 run.py libnet.so WEIGHTS X.bin Y.bin BATCH

X.bin holds BATCH samples of the network's (single) input, raw float32
NCHW; Y.bin receives its first output the same way.
"""
import sys

import numpy as np

import convc


def main():
    lib, weights, x_path, y_path, batch = sys.argv[1:6]
    m = convc.load(lib, weights=weights, threads=2)
    (name, shape), = m.inputs
    x = np.fromfile(x_path, dtype=np.float32).reshape((int(batch),) + shape)
    y = m(x)
    y = y[0] if isinstance(y, tuple) else y
    y.tofile(y_path)
    print('%s: %s %s -> %s' % (m.name, name, list(x.shape), list(y.shape)))


if __name__ == '__main__':
    main()
