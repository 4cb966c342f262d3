#!/usr/bin/python3
"""Runs the README's "Trained ONNX models" commands as written.

  readme_onnx.py README.md BUILD_BIN WORKDIR

exports mobilenet_tiny (tests/run/Inputs/models.py, ref.py's random weights) to
WORKDIR/model.onnx, writes a random x.npy, runs the section's sh block there
(with BUILD_BIN first on PATH) and compares y.npy with PyTorch's output
(1e-4 relative). Prints `readme onnx: ok`."""
import os
import re
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'run', 'Inputs'))
import onnx_models  # noqa: E402,F401
import ref  # noqa: E402


def main():
    readme, bindir, work = sys.argv[1:4]
    section = open(readme).read().split('## Trained ONNX models', 1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r'```sh\n(.*?)```', section, re.S)
    assert len(blocks) == 1, 'expected one sh block in the section'
    spec, model = ref.build('mobilenet_tiny', 0)
    torch.onnx.export(model, torch.zeros(1, 3, 33, 31), os.path.join(work, 'model.onnx'), opset_version=17,
                      input_names=['x'], output_names=['logits'],
                      dynamic_axes={'x': {0: 'N'}, 'logits': {0: 'N'}})
    x = np.random.default_rng(5).uniform(-1, 1, (2, 3, 33, 31)).astype(np.float32)
    np.save(os.path.join(work, 'x.npy'), x)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ['PATH'])
    script = 'set -e\n' + blocks[0]
    p = subprocess.run(['sh', '-c', script], cwd=work, env=env, capture_output=True, text=True)
    if p.returncode:
        print('readme onnx: the commands failed:\n%s%s' % (p.stdout[-2000:], p.stderr))
        return 1
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    got = np.load(os.path.join(work, 'y.npy'))
    err = float(np.max(np.abs(got - want)))
    tol = 1e-4 * max(1.0, float(np.max(np.abs(want))))
    print('readme onnx: max_abs_err=%.3g %s' % (err, 'ok' if err <= tol else 'FAILED'))
    return 0 if err <= tol else 1


if __name__ == '__main__':
    sys.exit(main())
