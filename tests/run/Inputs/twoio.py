"""A model with two inputs and two outputs and a batchnorm, for
export_weights.py's --input-npy/--reference-npy repeated and --random-bn-stats
(tests/run/export_weights_multi.conv)."""
import torch
import torch.nn as nn


class TwoIO(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(5, 4)

    def forward(self, img, feat):
        return torch.relu(self.bn(self.conv(img))), self.fc(feat)
