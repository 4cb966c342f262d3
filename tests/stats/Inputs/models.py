"""PyTorch reference models for the tests in tests/stats.

Each entry of MODELS builds the PyTorch module that a .conv network describes,
with the same module names, so that state_dict keys equal convc's layer keys
(`inc.c1.weight` <-> layer `inc.c1`). The numbers the tests expect come from
these modules (parameters(), buffers(), forward shapes), never from convc.
"""
import importlib.util
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq(nn.Module):
    """Applies named children in order; children are given as (name, module)."""

    def __init__(self, *named):
        super().__init__()
        for name, m in named:
            self.add_module(name, m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


# --- the tutorial's networks (../shared/seed/000_*.txt) -----------------------

def net1():
    return Seq(('conv1', nn.Conv2d(1, 32, 5, padding=1))), (1, 512, 512)


def net2():
    return Seq(('conv1', nn.Conv2d(8, 32, 3, padding=1))), (8, 256, 256)


def net1_5x5():
    return Seq(('conv1', nn.Conv2d(32, 32, 5, padding=2))), (32, 128, 128)


def net3():
    return Seq(('conv1', nn.Conv2d(32, 32, 3, padding=1)), ('relu1', nn.ReLU()),
               ('conv2', nn.Conv2d(32, 32, 3, padding=1)), ('relu2', nn.ReLU())), (32, 128, 128)


def net4():
    return Seq(('conv1', nn.Conv2d(256, 512, 3, padding=1))), (256, 64, 64)


def net5():
    return Seq(('conv1', nn.Conv2d(256, 32, 1)),
               ('conv2', nn.Conv2d(32, 512, 3, padding=1))), (256, 64, 64)


def net6():
    return Seq(('conv2', nn.Conv2d(32, 512, 3, padding='same'))), (32, 128, 128)


def net7():
    return Seq(('conv2', nn.Conv2d(32, 512, 5, padding=1, stride=2))), (32, 128, 128)


def net8():
    return Seq(('conv_transpose', nn.ConvTranspose2d(in_channels=32, out_channels=16, kernel_size=3,
                                                     stride=2, padding=1))), (32, 128, 128)


# --- UNet as in examples/unet.conv (conv-bn-relu twice, bias=False) ----------

class DoubleConv(nn.Module):
    def __init__(self, cin, ch):
        super().__init__()
        self.c1 = nn.Conv2d(cin, ch, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(ch)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(ch)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.b2(self.c2(self.relu(self.b1(self.c1(x))))))


class UNet(nn.Module):
    def __init__(self, cin=3, classes=2):
        super().__init__()
        ch = [64, 128, 256, 512, 1024]
        self.pool = nn.MaxPool2d(2)
        self.inc = DoubleConv(cin, ch[0])
        for i in range(1, 5):
            setattr(self, 'down%d' % i, DoubleConv(ch[i - 1], ch[i]))
        for i in range(1, 5):
            c = ch[4 - i + 1]
            setattr(self, 'up%d' % i, nn.ConvTranspose2d(c, c // 2, 2, stride=2))
            setattr(self, 'dec%d' % i, DoubleConv(c, c // 2))
        self.outc = nn.Conv2d(ch[0], classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for i in range(1, 5):
            skips.append(getattr(self, 'down%d' % i)(self.pool(skips[-1])))
        y = skips.pop()
        for i in range(1, 5):
            up = getattr(self, 'up%d' % i)(y)
            y = getattr(self, 'dec%d' % i)(torch.cat([skips.pop(), up], dim=1))
        return self.outc(y)


def unet():
    return UNet(3, 2), (3, 256, 256)


# --- the original 2015 UNet: valid 3x3 convs with bias, cropped skips ---------

class ConvBlock(nn.Module):
    def __init__(self, cin, ch):
        super().__init__()
        self.c1 = nn.Conv2d(cin, ch, 3)
        self.c2 = nn.Conv2d(ch, ch, 3)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.c2(self.relu(self.c1(x))))


def center_crop(x, like):
    dh = (x.shape[2] - like.shape[2]) // 2
    dw = (x.shape[3] - like.shape[3]) // 2
    return x[:, :, dh:dh + like.shape[2], dw:dw + like.shape[3]]


class UNet2015(nn.Module):
    def __init__(self, cin=1, classes=2):
        super().__init__()
        ch = [64, 128, 256, 512, 1024]
        self.pool = nn.MaxPool2d(2)
        self.enc1 = ConvBlock(cin, ch[0])
        for i in range(2, 6):
            setattr(self, 'enc%d' % i, ConvBlock(ch[i - 2], ch[i - 1]))
        for i in range(1, 5):
            c = ch[5 - i]
            setattr(self, 'up%d' % i, nn.ConvTranspose2d(c, c // 2, 2, stride=2))
            setattr(self, 'dec%d' % i, ConvBlock(c, c // 2))
        self.outc = nn.Conv2d(ch[0], classes, 1)

    def forward(self, x):
        skips = [self.enc1(x)]
        for i in range(2, 6):
            skips.append(getattr(self, 'enc%d' % i)(self.pool(skips[-1])))
        y = skips.pop()
        for i in range(1, 5):
            up = getattr(self, 'up%d' % i)(y)
            y = getattr(self, 'dec%d' % i)(torch.cat([center_crop(skips.pop(), up), up], dim=1))
        return self.outc(y)


def unet_2015():
    return UNet2015(1, 2), (1, 572, 572)


# --- torchvision's ResNet-50 and DenseNet-121 (examples/resnet50.conv, densenet121.conv) ---
# Written from torchvision's model definitions (torchvision is not installed on
# the test machines): the same module tree, so the same state_dict keys.

class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet50(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (planes, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
            layers = []
            for b in range(blocks):
                layers.append(Bottleneck(cin, planes, stride if b == 0 else 1))
                cin = planes * 4
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet50():
    return ResNet50(), (3, 224, 224)


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    def __init__(self, layers, cin, growth, bn_size):
        super().__init__()
        for i in range(layers):
            self.add_module('denselayer%d' % (i + 1), DenseLayer(cin + i * growth, growth, bn_size))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class DenseNet121(nn.Module):
    def __init__(self, growth=32, block_config=(6, 12, 24, 16), init=64, bn_size=4):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module('conv0', nn.Conv2d(3, init, 7, 2, 3, bias=False))
        self.features.add_module('norm0', nn.BatchNorm2d(init))
        self.features.add_module('relu0', nn.ReLU())
        self.features.add_module('pool0', nn.MaxPool2d(3, 2, 1))
        ch = init
        for i, layers in enumerate(block_config):
            self.features.add_module('denseblock%d' % (i + 1), DenseBlock(layers, ch, growth, bn_size))
            ch += layers * growth
            if i != len(block_config) - 1:
                t = nn.Sequential()
                t.add_module('norm', nn.BatchNorm2d(ch))
                t.add_module('relu', nn.ReLU())
                t.add_module('conv', nn.Conv2d(ch, ch // 2, 1, bias=False))
                t.add_module('pool', nn.AvgPool2d(2, 2))
                self.features.add_module('transition%d' % (i + 1), t)
                ch //= 2
        self.features.add_module('norm5', nn.BatchNorm2d(ch))
        self.classifier = nn.Linear(ch, 1000)

    def forward(self, x):
        x = torch.relu(self.features(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def densenet121():
    return DenseNet121(), (3, 224, 224)


# --- normalisation and rearranging (issue 9): examples/espcn.conv, norms.conv ---

class Espcn(nn.Module):
    """ESPCN (Shi et al. 2016): (5, 64), (3, 32), 3 -> r^2 channels, tanh, pixel shuffle by r."""

    def __init__(self, r=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 5, padding=2)
        self.conv2 = nn.Conv2d(64, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, r * r, 3, padding=1)
        self.r = r

    def forward(self, x):
        x = torch.tanh(self.conv2(torch.tanh(self.conv1(x))))
        return F.pixel_shuffle(self.conv3(x), self.r)


def espcn():
    return Espcn(), (1, 64, 64)


class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 16, 3, padding=1)
        self.g = nn.GroupNorm(4, 16)
        self.i = nn.InstanceNorm2d(16, affine=True, track_running_stats=True)
        self.i0 = nn.InstanceNorm2d(16)
        self.l = nn.LayerNorm((16, 10, 12))
        self.l0 = nn.LayerNorm(12, elementwise_affine=False)
        self.b = nn.BatchNorm2d(4, affine=False)
        self.d = nn.Conv2d(4, 8, 1)

    def forward(self, x):
        y = self.l0(self.l(self.i0(self.i(self.g(self.c(x))))))
        y = F.pixel_unshuffle(nn.ChannelShuffle(4)(y), 2)   # 64 x 5 x 6
        return self.d(self.b(F.pixel_shuffle(y, 4)))         # 4 x 20 x 24


def norms():
    return Norms(), (3, 10, 12)


def efficientnet_b0():
    """torchvision's efficientnet_b0 as tests/run/Inputs/models.py writes it (one definition for both
    suites; loaded by path, since that module is also called `models`)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'run', 'Inputs', 'models.py')
    spec = importlib.util.spec_from_file_location('run_models', path)
    run_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_models)
    return run_models.EfficientNetB0(), (3, 224, 224)


class ActZoo(nn.Module):
    """tests/stats/act_zoo.conv: the activations and arithmetic of issue 9 after convs."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.p1 = nn.PReLU()
        self.p8 = nn.PReLU(8)
        self.elu = nn.ELU(0.5)
        self.c2 = nn.Conv2d(8, 8, 1)
        self.pf = nn.PReLU(8)
        self.pool1 = nn.AdaptiveAvgPool2d(1)  # modules: ptflops counts them, as convc's global_avgpool
        self.pool2 = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        a = self.c1(x)
        b = F.hardswish(self.p8(self.p1(a)))
        c = F.gelu(self.elu(b)) * F.hardsigmoid(self.c2(self.pool1(b)))
        d = F.mish(F.selu(c - a)) * 0.5 + 1.0
        e = F.softplus(F.hardtanh(d, -2.0, 2.0))
        return F.log_softmax(self.pf(torch.flatten(self.pool2(e), 1)), dim=1)


def act_zoo():
    return ActZoo(), (3, 16, 16)


MODELS = {f.__name__: f for f in [net1, net2, net1_5x5, net3, net4, net5, net6, net7, net8,
                                  unet, unet_2015, resnet50, densenet121, efficientnet_b0, act_zoo, espcn, norms]}


# --- receptive-field cases (tests/stats/rf_*.conv) ----------------------------

class Graph(nn.Module):
    """A small DAG: `steps` are (name, module or None, input names, combine);
    combine is None (one input), 'add' or 'cat'. Unnamed steps use the module
    only for its function (no parameters)."""

    def __init__(self, steps):
        super().__init__()
        self.steps = []
        for i, (name, m, ins, comb) in enumerate(steps):
            key = name if name else '_f%d' % i
            if m is not None:
                self.add_module(key, m)
            self.steps.append((key, ins, comb))

    def forward(self, x):
        vals = {'x': x}
        for key, ins, comb in self.steps:
            args = [vals[i] for i in ins]
            if comb == 'add':
                y = args[0] + args[1]
            elif comb == 'cat':
                y = torch.cat(args, dim=1)
            else:
                y = getattr(self, key)(args[0])
            vals[key] = y
        return y


def rf_dilation():
    # 3x3 dilated by 2 sees 5, a plain 3x3 after it 5 + 2 = 7
    return Graph([('c1', nn.Conv2d(4, 4, 3, padding=2, dilation=2), ['x'], None),
                  ('c2', nn.Conv2d(4, 4, 3, padding=1), ['c1'], None)]), (4, 64, 64)


def rf_stride():
    # 3 (stride 2) -> 3 + 2*2 = 7 (jump 2) -> maxpool 2: 7 + 1*2 = 9 (jump 4)
    return Graph([('c1', nn.Conv2d(4, 4, 3, stride=2, padding=1), ['x'], None),
                  ('c2', nn.Conv2d(4, 4, 3, padding=1), ['c1'], None),
                  ('p', nn.MaxPool2d(2), ['c2'], None)]), (4, 64, 64)


def rf_branch():
    # a sees 3, b sees 5; add(a, b) sees 5; the 3x3 after it 7
    return Graph([('a', nn.Conv2d(4, 4, 3, padding=1), ['x'], None),
                  ('b1', nn.Conv2d(4, 4, 3, padding=1), ['x'], None),
                  ('b2', nn.Conv2d(4, 4, 3, padding=1), ['b1'], None),
                  ('s', None, ['a', 'b2'], 'add'),
                  ('c', nn.Conv2d(4, 8, 3, padding=1), ['s'], None),
                  ('j', None, ['c', 'a'], 'cat')]), (4, 64, 64)


def rf_transposed():
    # conv_transpose k3 s2 p1: each output reads at most 2 inputs (size 2, jump 1/2);
    # a 3x3 conv after it: 2 + 2*0.5 = 3
    return Graph([('t', nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1), ['x'], None),
                  ('c', nn.Conv2d(4, 4, 3, padding=1), ['t'], None),
                  ('u', nn.ConvTranspose2d(4, 4, 2, stride=2), ['x'], None)]), (4, 32, 32)


def rf_upsample():
    # conv k3 s2 (3, jump 2) -> nearest x2 (3, jump 1) -> 3x3 conv: 5
    # and the bilinear branch reads two neighbours: 3 + 2 = 5 -> 3x3 conv: 7
    return Graph([('c1', nn.Conv2d(4, 4, 3, stride=2, padding=1), ['x'], None),
                  ('n', nn.Upsample(scale_factor=2, mode='nearest'), ['c1'], None),
                  ('c2', nn.Conv2d(4, 4, 3, padding=1), ['n'], None),
                  ('b', nn.Upsample(scale_factor=2, mode='bilinear'), ['c1'], None),
                  ('c3', nn.Conv2d(4, 4, 3, padding=1), ['b'], None),
                  ('j', None, ['c2', 'c3'], 'cat')]), (4, 64, 64)


def explain_attributes():
    return Graph([('d', nn.Conv2d(8, 16, 3, padding=2, dilation=2, groups=2), ['x'], None),
                  ('t', nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), ['d'], None),
                  ('p', nn.MaxPool2d(3, 2, ceil_mode=True), ['t'], None)]), (8, 32, 32)


def ops_zoo():
    return Graph([('c1', nn.Conv2d(3, 8, 3, padding=1, bias=False), ['x'], None),
                  ('bn', nn.BatchNorm2d(8), ['c1'], None),
                  ('a', nn.LeakyReLU(0.1), ['bn'], None),
                  ('b', nn.ReLU6(), ['a'], None),
                  ('s', nn.Sigmoid(), ['b'], None),
                  ('t', nn.Tanh(), ['s'], None),
                  ('u', nn.SiLU(), ['t'], None),
                  ('p', nn.AvgPool2d(2), ['u'], None),
                  ('up', nn.Upsample(scale_factor=2, mode='bilinear'), ['p'], None),
                  ('c2', nn.Conv2d(8, 8, 3, padding=1, groups=2), ['up'], None),
                  ('m', nn.MaxPool2d(3, 2, 1), ['c2'], None),
                  ('gp', nn.AdaptiveAvgPool2d(1), ['m'], None),
                  ('f', nn.Flatten(), ['gp'], None),
                  ('d', nn.Dropout(), ['f'], None),
                  ('fc', nn.Linear(8, 10), ['d'], None),
                  ('sm', nn.Softmax(dim=1), ['fc'], None)]), (3, 32, 32)


def ops_resize():
    return Graph([('c1', nn.Conv2d(3, 8, 3, padding=1, padding_mode='reflect'), ['x'], None),
                  ('up', nn.Upsample(size=(31, 25), mode='bilinear', align_corners=True), ['c1'], None),
                  ('bc', nn.Upsample(scale_factor=0.5, mode='bicubic'), ['up'], None),
                  ('ap', nn.AdaptiveAvgPool2d((7, 5)), ['bc'], None),
                  ('rp', nn.ReplicationPad2d((1, 2, 3, 4)), ['ap'], None),
                  ('zp', nn.ZeroPad2d(1), ['rp'], None),
                  ('c2', nn.Conv2d(8, 6, 3, padding=2, padding_mode='circular', bias=False), ['zp'], None),
                  ('mp', nn.AdaptiveMaxPool2d(4), ['c2'], None),
                  ('ne', nn.Upsample(scale_factor=3, mode='nearest-exact'), ['mp'], None),
                  ('gm', nn.AdaptiveMaxPool2d(1), ['ne'], None)]), (3, 20, 18)


def rf_skip_alignment():
    return Graph([('e1', nn.Conv2d(4, 4, 3, padding=1), ['x'], None),
                  ('p1', nn.MaxPool2d(2), ['e1'], None),
                  ('e2', nn.Conv2d(4, 4, 3, padding=1), ['p1'], None),
                  ('p2', nn.MaxPool2d(2), ['e2'], None),
                  ('e3', nn.Conv2d(4, 4, 3, padding=1), ['p2'], None),
                  ('u2', nn.ConvTranspose2d(4, 4, 2, stride=2), ['e3'], None),
                  ('k2', None, ['e2', 'u2'], 'cat'),
                  ('d2', nn.Conv2d(8, 4, 3, padding=1), ['k2'], None),
                  ('u1', nn.ConvTranspose2d(4, 4, 2, stride=2), ['d2'], None),
                  ('k1', None, ['e1', 'u1'], 'cat'),
                  ('d1', nn.Conv2d(8, 4, 3, padding=1), ['k1'], None)]), (4, 64, 64)


def _run_models():
    """tests/run/Inputs/models.py: the PyTorch modules the end-to-end tests run."""
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'run', 'Inputs', 'models.py')
    spec = importlib.util.spec_from_file_location('run_models', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mobilenetv2():
    return _run_models().MobileNetV2(), (3, 224, 224)


def deeplabv3_aspp():
    return _run_models().DeepLabHead(), (2048, 33, 33)


MODELS.update({f.__name__: f for f in [ops_zoo, ops_resize, mobilenetv2, deeplabv3_aspp, rf_skip_alignment, rf_dilation, rf_stride, rf_branch, rf_transposed, rf_upsample,
                                       explain_attributes]})
