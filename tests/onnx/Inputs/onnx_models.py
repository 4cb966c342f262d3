"""Models for the ONNX tests that tests/run/Inputs/models.py does not have:
torchvision's ResNet-18 and MobileNetV2, written out (torchvision is not
installed) with torchvision's module names, so state_dict keys and the
graphs torch.onnx.export writes are those of the real models. Importing this
module registers them in models.MODELS."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'run', 'Inputs'))
import models  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision.models.resnet18(num_classes=10)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        chans, cin = [64, 128, 256, 512], 64
        for i, c in enumerate(chans):
            stride = 1 if i == 0 else 2
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(BasicBlock(cin, c, stride), BasicBlock(c, c, 1)))
            cin = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def conv_bn_relu6(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = [conv_bn_relu6(cin, hidden, 1, 1)] if expand != 1 else []
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision.models.mobilenet_v2(num_classes=10), width 1.0."""

    def __init__(self, classes=10):
        super().__init__()
        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        feats, cin = [conv_bn_relu6(3, 32, 3, 2)], 32
        for t, c, n, s in cfg:
            for i in range(n):
                feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(conv_bn_relu6(cin, 1280, 1, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class SiluUp(nn.Module):
    """SiLU, LeakyReLU, Tanh, bilinear and nearest Resize, average pooling, a
    MatMul-based Linear (bias=False) and ConvTranspose with output_padding."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.t1 = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
        self.c2 = nn.Conv2d(14, 4, 1)
        self.fc = nn.Linear(4, 3, bias=False)

    def forward(self, x):
        h = F.silu(self.c1(x))
        a = torch.tanh(self.t1(h))
        b = F.interpolate(F.leaky_relu(h, 0.2), scale_factor=2, mode='bilinear', align_corners=False)
        b = F.avg_pool2d(F.interpolate(b, scale_factor=2, mode='nearest'), 2)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.c2(torch.cat([a, b], 1)), 1), 1))


models.model('tv_resnet18', [('x', (3, 64, 64))], ['logits'])(ResNet18)
models.model('tv_mobilenet_v2', [('x', (3, 64, 64))], ['logits'])(MobileNetV2)
models.model('onnx_mix', [('x', (3, 10, 12))], ['y'])(SiluUp)

# examples/seed/net6.conv writes padding=same, which torch 1.13 cannot export
# (aten::_convolution_mode); padding=1 is the same convolution for a 3x3 kernel.
models._single('net6_export', (32, 128, 128), 'conv2',
               lambda: [('conv2', nn.Conv2d(32, 512, 3, padding=1))])


class Unsupported(nn.Module):
    """Ops convc cannot express, each as torch.onnx.export writes it."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        h = self.c(x)
        a = torch.abs(h)                                                  # Abs
        b = F.hardtanh(h)                                                 # Clip(-1, 1)
        s = F.softmax(h, dim=2)                                           # Softmax over rows
        u = F.interpolate(h, scale_factor=2, mode='bicubic', align_corners=False)  # cubic Resize
        k = h * 3.0                                                       # Mul by a constant
        return a + b + s, u, k


models.model('unsupported', [('x', (3, 8, 8))], ['y', 'u', 'k'])(Unsupported)
