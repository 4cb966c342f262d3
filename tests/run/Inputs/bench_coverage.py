#!/usr/bin/python3
"""Every network `make bench` times is one that a tests/run test checks against PyTorch.

bench/run.py --list prints `NAME CONV MODEL` per network: the bench compiles CONV
with convc and times the PyTorch module models.MODELS[MODEL] (and its ONNX export)
against it. For each, some tests/run/*.test must compile that same CONV (as
%root/CONV) and run ref.py --model MODEL on the result, so the bench never times
a convc network that computes something other than the PyTorch one. Prints
`bench coverage ok: N networks` or exits 1 naming what is not covered.
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
sys.path.insert(0, HERE)
import models  # noqa: E402

listing = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'run.py'), '--list'], check=True,
                         capture_output=True, text=True).stdout.split('\n')
tests = {p: open(p).read() for p in glob.glob(os.path.join(ROOT, 'tests', 'run', '*.test'))}
bad = []
nets = [line.split() for line in listing if line.strip()]
for name, conv, model in nets:
    if not os.path.exists(os.path.join(ROOT, conv)):
        bad.append('%s: no file %s' % (name, conv))
    if model not in models.MODELS:
        bad.append('%s: no PyTorch model %r in models.py' % (name, model))
    if not any('%%root/%s ' % conv in text and '--model %s ' % model in text for text in tests.values()):
        bad.append('%s: no tests/run test compiles %s and checks it with ref.py --model %s' % (name, conv, model))
if bad:
    sys.exit('bench coverage:\n  ' + '\n  '.join(bad))
print('bench coverage ok: %d networks' % len(nets))
