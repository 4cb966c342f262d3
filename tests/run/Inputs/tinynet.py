"""A user's PyTorch model, for the export_weights.py tests.

  tinynet.py DIR    saves a TinyNet with random batchnorm statistics three ways,
                    as training scripts do: DIR/model.pt (the whole module),
                    DIR/sd.pt (its state_dict), DIR/ckpt.pt ({'epoch', 'state_dict'})
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyNet(nn.Module):
    def __init__(self, ch=8, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, ch, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(ch)
        self.fc = nn.Linear(ch * 8 * 8, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2), 1))


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tinynet import TinyNet as Importable  # pickled as tinynet.TinyNet, not __main__.TinyNet
    out = sys.argv[1]
    torch.manual_seed(7)
    m = Importable()
    with torch.no_grad():
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.uniform_(-0.5, 0.5)
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 1.5)
    m.bn.num_batches_tracked += 100
    torch.save(m, os.path.join(out, 'model.pt'))
    torch.save(m.state_dict(), os.path.join(out, 'sd.pt'))
    torch.save({'epoch': 3, 'state_dict': m.state_dict()}, os.path.join(out, 'ckpt.pt'))
