"""Reference for tests/onnx/resize_sizes.test: the hand-built model's Conv and
Resize to sizes (13, 17) in PyTorch, from the model's own initializers.

usage: resize_ref.py MODEL.onnx X.npy REF.npy bilinear|nearest
"""
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

model, xpath, out, mode = sys.argv[1:5]
w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(model).graph.initializer}
x = torch.from_numpy(np.load(xpath))
with torch.no_grad():
    c = F.conv2d(x, w['w'], w['b'], padding=1)
    y = F.interpolate(c, size=(13, 17), mode=mode, **({'align_corners': False} if mode == 'bilinear' else {}))
np.save(out, y.numpy().astype(np.float32))
