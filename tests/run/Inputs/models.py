"""PyTorch reference models for the end-to-end tests in tests/run.

Every test tests/run/NAME.conv describes a network in .conv; MODELS[NAME]
builds the same network as a hand-written nn.Module, written from PyTorch's
documentation and the .conv source, never from anything convc prints. Module
attributes are named like the .conv bindings, so state_dict keys equal the
network's parameter keys (`s1.down.c.weight` <-> instance s1, block layer
down.c). forward() takes the inputs in declaration order and returns the
outputs in `output` order (one tensor, or a tuple).

A Spec also gives each input's [C, H, W] (or [F]) shape and, where a test
needs it, the range its random values are drawn from (e.g. (-8, 8) so relu6
clips and sigmoid saturates).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Spec:
    def __init__(self, build, inputs, outputs, ranges=None):
        self.build = build          # () -> nn.Module
        self.inputs = inputs        # [(name, shape)] in declaration order
        self.outputs = outputs      # [name] in output order
        self.ranges = ranges or {}  # input name -> (low, high); default (-1, 1)


MODELS = {}


def model(name, inputs, outputs, ranges=None):
    """Registers the decorated nn.Module class (or factory) as MODELS[name]."""
    def register(build):
        MODELS[name] = Spec(build, inputs, outputs, ranges)
        return build
    return register


class Seq(nn.Module):
    """Applies named children in order (like nn.Sequential with chosen names)."""

    def __init__(self, *named):
        super().__init__()
        for name, m in named:
            self.add_module(name, m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


def center_crop(x, like):
    """crop(x, like): x's channels at like's H x W, from offset floor(dH/2), floor(dW/2)."""
    h, w = like.shape[-2], like.shape[-1]
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


def up(x, scale, mode):
    if mode == 'nearest':
        return F.interpolate(x, scale_factor=scale, mode='nearest')
    return F.interpolate(x, scale_factor=scale, mode='bilinear', align_corners=False)


# --- conv2d ------------------------------------------------------------------

@model('conv_stride2', [('x', (3, 17, 15))], ['c2'])
class ConvStride2(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)  # 8 x 9 x 8
        self.c2 = nn.Conv2d(8, 6, 4, stride=2)                         # 6 x 3 x 3

    def forward(self, x):
        return self.c2(F.relu(self.c1(x)))


@model('conv_stride3', [('x', (4, 23, 19))], ['c1', 'c2', 'c3'])
class ConvStride3(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 5, (3, 5), stride=3, padding=(1, 2))     # 5 x 8 x 7
        self.c2 = nn.Conv2d(5, 7, (2, 3), stride=(3, 2), padding=(0, 1))  # 7 x 3 x 4
        self.c3 = nn.Conv2d(4, 6, 3, stride=3)                          # 6 x 7 x 6

    def forward(self, x):
        c1 = self.c1(x)
        return c1, self.c2(c1), self.c3(x)


@model('conv_padding', [('x', (3, 13, 11))], ['a', 'b', 'c', 'd', 'e', 'f'])
class ConvPadding(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding='same')
        self.b = nn.Conv2d(3, 4, 4, padding='same')                    # pads 1 top/left, 2 bottom/right
        self.c = nn.Conv2d(3, 5, (2, 5), padding='same', dilation=(3, 1))
        self.d = nn.Conv2d(3, 6, 3, padding='valid')
        self.e = nn.Conv2d(3, 6, (1, 3), padding=(2, 0))
        self.f = nn.Conv2d(3, 2, 6, padding=3)

    def forward(self, x):
        return self.a(x), self.b(x), self.c(x), self.d(x), self.e(x), self.f(x)


@model('conv_dilation', [('x', (5, 19, 17))], ['d2', 'd23', 'ds', 'dc'])
class ConvDilation(nn.Module):
    def __init__(self):
        super().__init__()
        self.d2 = nn.Conv2d(5, 6, 3, dilation=2)
        self.d23 = nn.Conv2d(5, 6, 3, padding=(2, 3), dilation=(2, 3))
        self.ds = nn.Conv2d(5, 4, 3, stride=2, padding=2, dilation=2)
        self.dc = nn.Conv2d(6, 3, (2, 3), dilation=(4, 2), bias=False)

    def forward(self, x):
        d2 = self.d2(x)
        return d2, self.d23(x), self.ds(x), self.dc(d2)


@model('conv_groups', [('x', (8, 11, 13))], ['g2', 'g4', 'dw', 'dwm', 'dws'])
class ConvGroups(nn.Module):
    def __init__(self):
        super().__init__()
        self.g2 = nn.Conv2d(8, 6, 3, padding=1, groups=2)
        self.g4 = nn.Conv2d(8, 12, (3, 1), stride=2, groups=4, bias=False)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.dwm = nn.Conv2d(8, 16, 5, padding=2, groups=8, bias=False)
        self.dws = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=8)

    def forward(self, x):
        return self.g2(x), self.g4(x), self.dw(x), self.dwm(x), self.dws(x)


@model('conv_wide', [('x', (5, 9, 37))], ['b', 's'])
class ConvWide(nn.Module):
    """Channel counts and widths that are not multiples of any vector width."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(5, 37, 3, padding=1)
        self.b = nn.Conv2d(37, 19, 1)
        self.s = nn.Conv2d(5, 17, 1, stride=2)

    def forward(self, x):
        return self.b(F.relu(self.a(x))), self.s(x)


@model('conv_1x1_input', [('x', (7, 1, 1))], ['c2'])
class Conv1x1Input(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(7, 9, 1)
        self.c2 = nn.Conv2d(9, 4, 3, padding=1)

    def forward(self, x):
        return self.c2(torch.tanh(self.c1(x)))


@model('conv_blocked_rows', [('x', (464, 23, 97))], ['ya', 'yb'])
class ConvBlockedRows(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(464, 64, 3, padding=6, dilation=6, bias=False)
        self.b = nn.Conv2d(464, 48, (3, 5), padding=(1, 2))
        self.ya = nn.Conv2d(64, 16, 1)
        self.yb = nn.Conv2d(48, 16, 1)

    def forward(self, x):
        return self.ya(F.relu(self.a(x))), self.yb(self.b(x))


@model('conv_blocked_batch', [('x', (256, 5, 6))], ['y', 'z'])
class ConvBlockedBatch(nn.Module):
    """Blocked convs whose weights are over 1 MB and at least 4x a sample's
    input: their items run every sample before the next item."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(256, 320, 3, padding=1)
        self.r = nn.Conv2d(256, 320, 1)
        self.b = nn.Conv2d(320, 128, 3, stride=2)
        self.y = nn.Conv2d(320, 16, 1)

    def forward(self, x):
        a = F.relu(self.r(x) + self.a(x))
        return self.y(a), self.b(a)


@model('concat_views', [('x', (16, 12, 10)), ('v', (8, 12, 10)), ('w', (3, 5, 5))],
       ['y', 't', 'q', 's', 'r', 'fc'])
class ConcatViews(nn.Module):
    """Concats whose inputs convc writes in place (views of the concat's
    tensor): UNet's skip and upsampled map on blocked channels, a tree of 17,
    NCHW slices; and concats it copies (unaligned slices, a network input)."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Conv2d(16, 32, 3, padding=1)
        self.e2 = nn.Conv2d(32, 48, 3, padding=1)
        self.u = nn.ConvTranspose2d(48, 32, 2, stride=2)
        self.d = nn.Conv2d(64, 16, 3, padding=1)
        self.fc = nn.Linear(32 * 12 * 10, 5)

    def forward(self, x, v, w):
        a = F.relu(self.e1(x))
        u = self.u(F.relu(self.e2(F.max_pool2d(a, 2))))
        y = F.relu(self.d(torch.cat([a, u], 1)))
        t = torch.cat([F.leaky_relu(y, (k + 1) / 40) for k in range(17)], 1)
        q = torch.cat([F.relu(v), torch.tanh(v)], 1)
        s = torch.cat([F.relu(w), torch.tanh(w)], 1)
        r = torch.cat([x, a], 1)
        return y, t, q, s, r, self.fc(torch.flatten(a, 1))


@model('concat_views_nested', [('x', (16, 8, 8))], ['e', 'f'])
class ConcatViewsNested(nn.Module):
    """An inner concat read after the outer one's reader: its views' root must
    stay live for it (the plan once freed the root at the outer concat's reader)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(16, 16, 3, padding=1)
        self.b = nn.Conv2d(16, 16, 3, padding=1)
        self.d = nn.Conv2d(16, 16, 3, padding=1)
        self.e = nn.Conv2d(48, 16, 3, padding=1)
        self.f = nn.Conv2d(32, 16, 3, padding=1)

    def forward(self, x):
        i = torch.cat([self.a(x), self.b(x)], 1)
        o = torch.cat([i, self.d(x)], 1)
        return self.e(o), self.f(i)


@model('concat_views_unread', [('x', (16, 8, 8))], ['q'])
class ConcatViewsUnread(nn.Module):
    """A concat nothing reads: its inputs are still written (c last, after the
    reads of a), into a root that must stay live until then."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(16, 16, 3, padding=1)
        self.p = nn.Conv2d(16, 16, 3, padding=1)
        self.q = nn.Conv2d(16, 64, 3, padding=1)
        self.c = nn.Conv2d(16, 48, 3, padding=1)

    def forward(self, x):
        return self.q(self.p(self.a(x)))


@model('conv_blocked', [('x', (3, 19, 37))], ['y', 'z', 'n'])
class ConvBlocked(nn.Module):
    """Convs between convs, so they run on blocked channels (nChw16c): a first
    layer reading a 3-channel NCHW image, stride 2, dilation, 1x1, 5x5 and 7x7,
    odd widths, channel counts that are not multiples of 16, every fused
    activation, a residual add between blocked tensors."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 40, 3, padding=1)
        self.c2 = nn.Conv2d(40, 48, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(48, 40, 3, padding=2, dilation=2)
        self.c4 = nn.Conv2d(40, 64, 1)
        self.c5 = nn.Conv2d(64, 24, 5, padding=2, bias=False)
        self.c6 = nn.Conv2d(24, 64, 7, padding=3)
        self.c7 = nn.Conv2d(64, 64, 3, padding=1)
        self.c8 = nn.Conv2d(64, 24, 3, stride=2, padding=(0, 1))
        self.c9 = nn.Conv2d(24, 17, (1, 3), padding=(0, 5), dilation=(1, 5))
        self.c10 = nn.Conv2d(48, 32, 3, padding=1)
        self.c11 = nn.Conv2d(56, 16, 3)

    def forward(self, x):
        a = F.relu(self.c1(x))
        b = F.leaky_relu(self.c2(a), 0.1)
        c = torch.sigmoid(self.c3(b))
        d = F.relu6(self.c4(c))
        e = torch.tanh(self.c5(d))
        f = self.c6(e)
        g = F.silu(self.c7(f)) + f
        h = self.c8(g)
        i = self.c9(h)
        j = torch.cat([F.avg_pool2d(h, 2), F.max_pool2d(h, 2)], 1)
        k = self.c10(F.interpolate(j, scale_factor=2, mode='bilinear'))
        m = self.c11(F.interpolate(torch.cat([k, h], 1), scale_factor=2, mode='nearest'))
        return g + g, F.max_pool2d(i, 2), F.max_pool2d(m, 2)


@model('conv_blocked_nchw_out', [('x', (20, 23, 37))], ['y', 'z', 'w', 's'])
class ConvBlockedNchwOut(nn.Module):
    """Strided convs writing network outputs (NCHW) from blocked channels
    (conv_blocked's NCHW output): 20 input channels (a partial block), 5x5
    and 7x7, strides 2 and 3, 40 and 48 outputs (a partial block), widths
    18, 13 and 19 (a tile of 16 pixels and a rest, or a rest only), relu6,
    leaky relu, a fused residual; a sigmoid output keeps the NCHW kernel."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(20, 40, 5, stride=2, padding=1)
        self.c2 = nn.Conv2d(20, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 48, 7, stride=3, padding=3, bias=False)
        self.c4 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.c5 = nn.Conv2d(32, 16, 3, stride=2, padding=1)

    def forward(self, x):
        a = F.relu(self.c2(x))
        r = F.max_pool2d(a, 2, ceil_mode=True)
        return (F.relu6(self.c1(x)), F.leaky_relu(self.c3(a), 0.1), F.relu(self.c4(a) + r),
                torch.sigmoid(self.c5(a)))


@model('conv_residual', [('x', (24, 13, 19))], ['y', 'e', 'f', 'g', 'z'])
class ConvResidual(nn.Module):
    """act(conv(x) + r), which convc fuses into one conv: residual blocks on
    blocked channels, a downsample block (both operands convs), by-element
    activations after the add, a network input as the residual, NCHW convs
    (17 channels, a conv writing a network output), a depthwise conv."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(24, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 48, 3, stride=2, padding=1)
        self.c4 = nn.Conv2d(32, 48, 1, stride=2)
        self.c5 = nn.Conv2d(48, 48, (3, 5), padding=(1, 2))
        self.c6 = nn.Conv2d(24, 24, 1)
        self.c10 = nn.Conv2d(24, 16, 1)
        self.c7 = nn.Conv2d(24, 17, 3, padding=1)
        self.c8 = nn.Conv2d(24, 17, 1)
        self.c9 = nn.Conv2d(32, 32, 3, padding=1)
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32)

    def forward(self, x):
        a = F.relu(self.c1(x))
        b = F.relu(self.c2(a) + a)
        c = F.relu(self.c3(b) + self.c4(b))
        d = torch.sigmoid(self.c5(c) + c)
        e = self.c10(F.relu(self.c6(x) + x))
        f = F.silu(self.c7(x) + self.c8(x))
        g = self.c9(b) + b
        h = F.relu6(self.dw(b) + b)
        return torch.cat([d, c], 1), e, f, g, torch.cat([h, b], 1)


@model('conv_depthwise', [('x', (24, 15, 23)), ('w', (16, 5, 150))], ['y', 'z', 'v'])
class ConvDepthwise(nn.Module):
    """Depthwise convs (groups = channels) between blocked layers: 3x3 and 5x5,
    stride 1 and 2, relu6, hardswish, silu and none, no bias, dilation and
    uneven padding, 24 channels (a padded block), rows wide enough for tiles
    in a loop."""

    def __init__(self):
        super().__init__()
        self.e = nn.Conv2d(24, 48, 1)
        self.a = nn.Conv2d(48, 48, 3, padding=1, groups=48)
        self.b = nn.Conv2d(48, 48, 3, stride=2, padding=1, groups=48)
        self.c = nn.Conv2d(48, 48, 5, padding=2, groups=48, bias=False)
        self.d = nn.Conv2d(48, 48, 5, stride=2, padding=2, groups=48)
        self.f = nn.Conv2d(24, 24, 3, padding=(1, 2), dilation=(1, 2), groups=24)
        self.g = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.k = nn.Conv2d(16, 16, 5, padding=2, groups=16)

    def forward(self, x, w):
        e = F.relu6(self.e(x))
        a = F.relu6(self.a(e))
        b = F.hardswish(self.b(a))
        c = F.silu(self.c(e))
        d = self.d(c)
        f = self.f(x)
        g = F.relu(self.g(w))
        k = self.k(w)
        return torch.cat([b, d], 1), torch.cat([a, f], 1), torch.cat([g, k], 1)


@model('conv_tiles', [('x', (32, 21, 45))], ['s2', 's3', 'd2', 'g2', 'dw', 'k1', 'r', 'same'])
class ConvTiles(nn.Module):
    """Channel counts and widths large enough for the vectorised, tiled kernels
    (several output-channel and column tiles plus remainders), with every option."""

    def __init__(self):
        super().__init__()
        self.s2 = nn.Conv2d(32, 48, 3, stride=2, padding=1)
        self.s3 = nn.Conv2d(32, 40, 5, stride=3, padding=2, bias=False)
        self.d2 = nn.Conv2d(32, 33, 3, padding=2, dilation=2)
        self.g2 = nn.Conv2d(32, 64, 3, padding=1, groups=2)
        self.dw = nn.Conv2d(32, 32, 3, stride=2, padding=1, groups=32)
        self.k1 = nn.Conv2d(32, 70, 1)
        self.r = nn.Conv2d(32, 24, (1, 7), padding=(0, 3))
        self.same = nn.Conv2d(32, 16, (4, 2), padding='same')

    def forward(self, x):
        return (self.s2(x), self.s3(x), self.d2(x), self.g2(x), F.relu6(self.dw(x)),
                F.relu(self.k1(x)), self.r(x), self.same(x))


@model('conv_transpose_tiles', [('x', (32, 11, 23))], ['t2', 't3', 'tg', 'td'])
class ConvTransposeTiles(nn.Module):
    def __init__(self):
        super().__init__()
        T = nn.ConvTranspose2d
        self.t2 = T(32, 40, 3, stride=2, padding=1, output_padding=1)
        self.t3 = T(32, 24, 3, stride=3, bias=False)
        self.tg = T(32, 64, 4, stride=2, padding=1, groups=4)
        self.td = T(32, 17, 3, padding=2, dilation=2)

    def forward(self, x):
        return self.t2(x), self.t3(x), self.tg(x), self.td(x)


@model('linear_wide', [('x', (16, 9, 10))], ['fc2'])
class LinearWide(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1440, 100)
        self.fc2 = nn.Linear(100, 37, bias=False)

    def forward(self, x):
        return self.fc2(F.silu(self.fc1(torch.flatten(x, 1))))


@model('linear_vec', [('x', (8, 7, 9))], ['fc3', 'y2'])
class LinearVec(nn.Module):
    """linear by vector dot products: 504 inputs (31.5 vectors of 16: a masked
    tail), 40 / 12 / 5 outputs (blocks of 8, 4 and 1), 12 inputs (tail only)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(504, 40)
        self.fc2 = nn.Linear(40, 12)
        self.fc3 = nn.Linear(12, 5, bias=False)

    def forward(self, x):
        h = F.relu(self.fc1(torch.flatten(x, 1)))
        y2 = torch.tanh(self.fc2(h))
        return self.fc3(y2), y2


# --- conv_transpose2d --------------------------------------------------------

@model('conv_transpose', [('x', (6, 7, 9))], ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'])
class ConvTranspose(nn.Module):
    def __init__(self):
        super().__init__()
        T = nn.ConvTranspose2d
        self.t1 = T(6, 4, 3, stride=2, padding=1, output_padding=1)
        self.t2 = T(6, 5, 4, stride=3, padding=2, output_padding=2, bias=False)
        self.t3 = T(6, 4, 3, padding=1, dilation=2)
        self.t4 = T(6, 6, 3, stride=2, groups=3)
        self.t5 = T(6, 4, (2, 3), stride=(2, 1), padding=(0, 1))
        self.t6 = T(6, 3, 2, stride=2)
        self.t7 = T(6, 4, 3, output_padding=1, dilation=2)
        self.t8 = T(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)

    def forward(self, x):
        return (self.t1(x), self.t2(x), self.t3(x), self.t4(x), self.t5(x), self.t6(x),
                self.t7(x), self.t8(x))


@model('conv_transpose_phase', [('x', (20, 13, 29))], ['a', 'b', 'c', 'd', 'e', 'f'])
class ConvTransposePhase(nn.Module):
    """Transposed convs for the sub-convolution kernel: strides 2 and 3, kernels
    2 to 5 (smaller than the stride too), padding, output_padding, groups, odd
    sizes, channel counts that are not multiples of 16, fused activations."""

    def __init__(self):
        super().__init__()
        T = nn.ConvTranspose2d
        self.ta = T(20, 18, 3, stride=2, padding=1, output_padding=1)
        self.tb = T(20, 10, 2, stride=3)
        self.tc = T(20, 7, 4, stride=2, padding=1, bias=False)
        self.td = T(20, 12, 5, stride=3, padding=2, output_padding=2)
        self.te = T(20, 24, (3, 5), stride=(3, 2), padding=(1, 2), groups=4)
        self.tf = T(20, 9, 5, stride=2, padding=3, output_padding=1)

    def forward(self, x):
        return (F.relu(self.ta(x)), self.tb(x), self.tc(x), F.leaky_relu(self.td(x), 0.1), self.te(x),
                torch.sigmoid(self.tf(x)))


@model('conv_transpose_blocked', [('x', (20, 13, 29)), ('s', (3, 9, 11))], ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'])
class ConvTransposeBlocked(nn.Module):
    """Transposed convs on blocked channels (their outputs feed further
    layers): strides 2 and 3, kernels 2 to 5 (smaller than the stride too),
    padding, output_padding, dilation, unequal strides, a 20-channel input
    (a partial block), a 3-channel NCHW input, fused activations, 1.1 MB of
    weights (items ordered by channel group)."""

    def __init__(self):
        super().__init__()
        T = nn.ConvTranspose2d
        self.p = nn.Conv2d(20, 32, 1)
        self.ta = T(32, 32, 3, stride=2, padding=1, output_padding=1)
        self.tb = T(32, 24, 2, stride=3)
        self.tc = T(32, 16, 4, stride=2, padding=1, bias=False)
        self.td = T(32, 16, 5, stride=3, padding=2, output_padding=2)
        self.te = T(32, 48, (3, 5), stride=(3, 2), padding=(1, 2))
        self.tf = T(32, 16, 5, stride=2, padding=3, output_padding=1)
        self.tg = T(20, 16, 2, stride=2, dilation=2)
        self.th = T(3, 32, 3, stride=2, padding=1)
        self.ti = T(32, 256, (5, 7), stride=2, padding=(1, 2))

    def forward(self, x, s):
        p = self.p(x)
        ts = [F.relu(self.ta(p)), self.tb(p), self.tc(p), F.leaky_relu(self.td(p), 0.1), self.te(p),
              torch.sigmoid(self.tf(p)), self.tg(x), self.th(s), self.ti(p)]
        return tuple(t + t for t in ts)


@model('conv_head', [('x', (3, 19, 37))], ['y', 'z', 'w'])
class ConvHead(nn.Module):
    """1x1 convs reading blocked channels into NCHW outputs: 64 -> 2 (UNet's
    head), 24 (a partial block) -> 3 without bias and with sigmoid, 64 -> 40
    with relu; 37 columns (two tiles of 16 and 5)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 3, padding=1)
        self.h1 = nn.Conv2d(64, 2, 1)
        self.c2 = nn.Conv2d(64, 24, 3, padding=1)
        self.h2 = nn.Conv2d(24, 3, 1, bias=False)
        self.h3 = nn.Conv2d(64, 40, 1)

    def forward(self, x):
        a = F.relu(self.c1(x))
        return self.h1(a), torch.sigmoid(self.h2(self.c2(a))), F.relu(self.h3(a))


@model('conv_transpose_chain', [('x', (5, 6, 5))], ['y'])
class ConvTransposeChain(nn.Module):
    """A transposed conv reading an intermediate and feeding further layers."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(5, 8, 3, stride=2, padding=1)              # 8 x 3 x 3
        self.t = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)  # 6 x 6 x 6
        self.dw = nn.ConvTranspose2d(6, 6, 3, stride=2, groups=6, bias=False)       # 6 x 13 x 13
        self.bn = nn.BatchNorm2d(6)

    def forward(self, x):
        t = self.t(F.relu(self.c(x)))
        return F.silu(self.bn(self.dw(t)))


@model('conv_wide_kernel', [('x', (3, 5, 70))], ['a', 'b', 't', 'g'])
class ConvWideKernel(nn.Module):
    """Kernels wider than convc unrolls (16 columns): a run-time column loop."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, (1, 40), padding=(0, 7))
        self.b = nn.Conv2d(3, 2, (3, 21), stride=(1, 2), padding=(1, 5), dilation=(1, 2))
        self.t = nn.ConvTranspose2d(3, 3, (2, 19), stride=(1, 3), padding=(0, 4), dilation=(1, 2))
        self.g = nn.Conv2d(3, 6, (1, 17), padding=(0, 20), groups=3)

    def forward(self, x):
        return self.a(x), self.b(x), self.t(x), self.g(x)


# --- linear, flatten, global_avgpool, softmax, dropout ------------------------

@model('linear_flatten', [('x', (3, 9, 7))], ['fc2', 'y'])
class LinearFlatten(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, stride=2)     # 4 x 4 x 3
        self.fc1 = nn.Linear(48, 10)
        self.fc2 = nn.Linear(10, 5, bias=False)

    def forward(self, x):
        f = torch.flatten(F.relu(self.c(x)), 1)
        fc2 = self.fc2(F.relu(self.fc1(f)))
        return fc2, F.softmax(fc2, dim=1)


@model('linear_gap', [('x', (3, 15, 13))], ['g', 'fc'])
class LinearGap(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 16, 3, padding=1)
        self.fc = nn.Linear(16, 7)

    def forward(self, x):
        g = F.adaptive_avg_pool2d(F.relu(self.c(x)), 1)
        return g, self.fc(F.dropout(torch.flatten(g, 1), 0.3, training=False))


@model('linear_input', [('v', (12,))], ['y'])
class LinearInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 9)
        self.fc2 = nn.Linear(9, 3)

    def forward(self, v):
        return F.softmax(self.fc2(torch.sigmoid(self.fc1(v))), dim=1)


@model('softmax', [('x', (5, 4, 3)), ('big', (6, 2, 3))], ['s', 'sb', 'sf'],
       ranges={'x': (-4, 4), 'big': (-100, 100)})
class Softmax(nn.Module):
    """Softmax over channels of a [C, H, W] tensor, also with logits whose exp overflows float32."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(5, 6, 1)

    def forward(self, x, big):
        return (F.softmax(self.c(x), dim=1), F.softmax(big, dim=1),
                F.softmax(torch.flatten(big, 1), dim=1))


@model('dropout', [('x', (4, 6, 5))], ['y'])
class Dropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        d1 = F.dropout(x, 0.5, training=False)
        d2 = F.dropout(self.c(d1), 0.2, training=False)
        return torch.relu(d2)


# --- batchnorm2d ---------------------------------------------------------------

@model('batchnorm_fold', [('x', (4, 10, 9))], ['b3'])
class BatchnormFold(nn.Module):
    """Batchnorm right after a conv (with and without bias, depthwise): folded by convc."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 6, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 5, 3, stride=2)
        self.b2 = nn.BatchNorm2d(5, eps=0.1)
        self.c3 = nn.Conv2d(5, 5, 3, padding=1, groups=5)
        self.b3 = nn.BatchNorm2d(5, eps=1e-3)

    def forward(self, x):
        r = F.relu(self.b1(self.c1(x)))
        r6 = F.relu6(self.b2(self.c2(r)))
        return self.b3(self.c3(r6))


@model('batchnorm_standalone', [('x', (3, 9, 11))], ['b4', 'b5', 'c4'])
class BatchnormStandalone(nn.Module):
    """Batchnorm that has no conv to fold into: on the input, after concat, add,
    a transposed conv, an activation, and after a conv whose output is also an output."""

    def __init__(self):
        super().__init__()
        self.b0 = nn.BatchNorm2d(3)
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(3, 5, 1)
        self.b1 = nn.BatchNorm2d(9, eps=0.01)
        self.c3 = nn.Conv2d(9, 9, 3, padding=1)
        self.b2 = nn.BatchNorm2d(9)
        self.t = nn.ConvTranspose2d(9, 4, 2, stride=2)
        self.b3 = nn.BatchNorm2d(4)
        self.b4 = nn.BatchNorm2d(4)
        self.c4 = nn.Conv2d(4, 4, 3, padding=1)
        self.b5 = nn.BatchNorm2d(4)

    def forward(self, x):
        b0 = self.b0(x)
        cat = torch.cat([self.c1(b0), self.c2(b0)], 1)
        r = F.relu(self.b1(cat))
        b2 = self.b2(self.c3(r) + r)
        r2 = F.relu(self.b3(self.t(b2)))
        b4 = self.b4(r2)
        c4 = self.c4(b4)
        return b4, self.b5(c4), c4


# --- activations ----------------------------------------------------------------

def _activations(x, negative_slope=0.1):
    return (F.relu(x), F.relu6(x), F.leaky_relu(x, negative_slope), F.leaky_relu(x),
            torch.sigmoid(x), torch.tanh(x), F.silu(x))


@model('activations', [('x', (4, 7, 9))], ['r', 'r6', 'l', 'ld', 's', 't', 'si'],
       ranges={'x': (-8, 8)})
class Activations(nn.Module):
    def forward(self, x):
        return _activations(x)


@model('activations_fused', [('x', (3, 8, 7))], ['r', 'r6', 'l', 'ld', 's', 't', 'si', 'rs'],
       ranges={'x': (-4, 4)})
class ActivationsFused(nn.Module):
    """Each activation right after a conv (fusable), and after an add."""

    def __init__(self):
        super().__init__()
        for i in range(1, 8):
            setattr(self, 'c%d' % i, nn.Conv2d(3, 4, 3, padding=1))

    def forward(self, x):
        c = [getattr(self, 'c%d' % i)(x) for i in range(1, 8)]
        return (F.relu(c[0]), F.relu6(c[1]), F.leaky_relu(c[2], 0.2), F.leaky_relu(c[3]),
                torch.sigmoid(c[4]), torch.tanh(c[5]), F.silu(c[6]), F.relu6(c[0] + c[1]))


@model('activations_more', [('x', (4, 7, 9))],
       ['hs', 'hsig', 'ge', 'gt', 'e1', 'e2', 'se', 'p1', 'pc', 'sp1', 'sp2', 'mi', 'ht1', 'ht2', 'ls', 'lsf',
        'pf', 'm1', 'm2', 'a1', 's1', 'r1', 'm3', 'ms', 'as', 'ss', 'rs'],
       ranges={'x': (-8, 8)})
class ActivationsMore(nn.Module):
    """The activations of issue 9, standalone, and the scalar arithmetic forms."""

    def __init__(self):
        super().__init__()
        self.p1 = nn.PReLU()
        self.pc = nn.PReLU(4)
        self.pf = nn.PReLU(252)

    def forward(self, x):
        f = torch.flatten(x, 1)
        return (F.hardswish(x), F.hardsigmoid(x), F.gelu(x), F.gelu(x, approximate='tanh'), F.elu(x),
                F.elu(x, alpha=0.5), F.selu(x), self.p1(x), self.pc(x), F.softplus(x),
                F.softplus(x, beta=3, threshold=10), F.mish(x), F.hardtanh(x), F.hardtanh(x, -2.0, 3.5),
                F.log_softmax(x, dim=1), F.log_softmax(f, dim=1), self.pf(f),
                x * 0.5, 0.5 * x, x + 1.0, x - 1.0, 1.0 - x, 2 * x,
                torch.mul(x, -1.5), torch.add(x, 2), torch.sub(x, 0.25), torch.rsub(x, 3.0))


@model('elementwise', [('x', (6, 5, 7))],
       ['same_mul', 'same_sub', 'se', 'se_left', 'sp_mul', 'sp_sub', 'sp_rsub', 'outer', 'gr', 'prec', 'chain',
        'affine', 'ff'])
class Elementwise(nn.Module):
    """add, sub, mul with broadcasting between [C,H,W], [C,1,1], [1,H,W] and [F]."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(6, 6, 3, padding=1)
        self.b = nn.Conv2d(6, 6, 1)
        self.fc = nn.Conv2d(6, 6, 1)
        self.spatial = nn.Conv2d(6, 1, 3, padding=1)
        self.l1 = nn.Linear(210, 7)
        self.l2 = nn.Linear(210, 7)
        self.one = nn.Linear(210, 1)

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        s = torch.sigmoid(self.fc(F.adaptive_avg_pool2d(a, 1)))
        sp = self.spatial(x)
        f = torch.flatten(x, 1)
        l1, l2 = self.l1(f), self.l2(f)
        return (a * b, a - b, a * s, s * a, sp * a, a - sp, sp - a, s + sp, F.relu(a * s), a + b * s - sp,
                a - b - s, x * 0.5 + 1.0, l1 * l2 - self.one(f))


@model('activations_more_fused', [('x', (3, 8, 17))],
       ['hs', 'hsig', 'ge', 'gt', 'el', 'se', 'sp', 'mi', 'ht', 'half', 'lg', 'gs'], ranges={'x': (-4, 4)})
class ActivationsMoreFused(nn.Module):
    """The activations of issue 9 after a conv, a linear and a broadcasting mul."""

    def __init__(self):
        super().__init__()
        for i in range(1, 11):
            setattr(self, 'c%d' % i, nn.Conv2d(3, 4, 3, padding=1))
        self.l = nn.Linear(3 * 8 * 17, 10)

    def forward(self, x):
        c = [getattr(self, 'c%d' % i)(x) for i in range(1, 11)]
        gm = c[0] * F.adaptive_avg_pool2d(c[1], 1)
        return (F.hardswish(c[0]), F.hardsigmoid(c[1]), F.gelu(c[2]), F.gelu(c[3], approximate='tanh'),
                F.elu(c[4], 0.3), F.selu(c[5]), F.softplus(c[6], 2.0, 5.0), F.mish(c[7]),
                F.hardtanh(c[8], -0.5, 0.75), c[9] * 0.5, F.gelu(self.l(torch.flatten(x, 1))), F.hardswish(gm))


# --- pooling ---------------------------------------------------------------------

@model('maxpool', [('x', (3, 12, 13)), ('n', (2, 7, 9))],
       ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'pn'],
       ranges={'n': (-2, -1)})
class Maxpool(nn.Module):
    def forward(self, x, n):
        M = F.max_pool2d
        return (M(x, 2), M(x, 3, 2, 1), M(x, 3, stride=2, ceil_mode=True), M(x, 2, stride=1),
                M(x, (2, 3), stride=(1, 2), padding=(1, 1)), M(x, 3, stride=2, padding=1, dilation=2),
                M(x, 2, ceil_mode=True), M(x, 3, 3, 1, ceil_mode=True),
                M(n, 3, 2, 1, ceil_mode=True))  # every value negative: padding must not win


@model('pool_blocked', [('x', (3, 12, 13))], ['p1', 'p2', 'p3', 'p4', 'p5', 'a1', 'a2', 'a3', 'a4', 'a5'])
class PoolBlocked(nn.Module):
    """Max and avg pools of a 24-channel conv output (nChw16c: one vector per
    pixel, a partial block): padding, strides, ceil_mode, dilation,
    count_include_pad=False; each pooled value doubled by an add."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 24, 3, padding=1)

    def forward(self, x):
        c = self.c(x)
        M, A = F.max_pool2d, F.avg_pool2d
        ps = [M(c, 2), M(c, 3, 2, 1, ceil_mode=True), M(c, (2, 3), stride=(1, 2), padding=(1, 1)),
              M(c, 3, stride=2, padding=1, dilation=2), M(c, 3, 3, 1, ceil_mode=True),
              A(c, 2), A(c, 3, 2, 1), A(c, 3, 2, 1, True, False), A(c, (3, 2), stride=(2, 1), padding=(1, 0)),
              A(c, 4, 3, 2, ceil_mode=True)]
        return tuple(p + p for p in ps)


@model('avgpool', [('x', (3, 12, 13))], ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'])
class Avgpool(nn.Module):
    def forward(self, x):
        A = F.avg_pool2d
        return (A(x, 2), A(x, 3, 2, 1), A(x, 3, 2, 1, count_include_pad=False),
                A(x, 3, stride=2, ceil_mode=True), A(x, 3, 2, 1, ceil_mode=True),
                A(x, (3, 2), stride=(2, 1), padding=(1, 0)), A(x, 2, stride=1),
                A(x, 3, 2, 1, True, False), A(x, 4, 3, 2, ceil_mode=True))


@model('global_avgpool', [('x', (6, 9, 7))], ['g', 'f', 'sp'])
class GlobalAvgpool(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(6, 11, 3)
        self.s = nn.Conv2d(6, 5, 3, stride=3)

    def forward(self, x):
        g = F.adaptive_avg_pool2d(self.c(x), 1)
        return g, torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), F.adaptive_avg_pool2d(self.s(x), 1)


# --- upsample ---------------------------------------------------------------------

@model('upsample', [('x', (3, 5, 7))], ['n2', 'n3', 'b2', 'b3', 'bp', 'np'])
class Upsample(nn.Module):
    def forward(self, x):
        return (up(x, 2, 'nearest'), up(x, 3, 'nearest'), up(x, 2, 'bilinear'),
                up(x, 3, 'bilinear'), up(x, (2, 3), 'bilinear'), up(x, (3, 2), 'nearest'))


@model('upsample_chain', [('x', (4, 6, 5))], ['y'])
class UpsampleChain(nn.Module):
    """Upsampling of intermediates, as in a decoder."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 6, 3, stride=2, padding=1)   # 6 x 3 x 3
        self.c2 = nn.Conv2d(12, 4, 3, padding=1)

    def forward(self, x):
        c1 = self.c1(x)
        cat = torch.cat([up(F.relu(c1), 2, 'bilinear'), up(c1, 2, 'nearest')], 1)  # 12 x 6 x 6
        return torch.sigmoid(self.c2(cat))


@model('upsample_fractional', [('x', (3, 5, 7))], ['n15', 'b15', 'b25'])
class UpsampleFractional(nn.Module):
    """Non-integer scale factors: PyTorch maps output to input coordinates with
    the given scale (1/scale_factor), not with the ratio of the sizes."""

    def forward(self, x):
        return up(x, 1.5, 'nearest'), up(x, 1.5, 'bilinear'), up(x, 2.5, 'bilinear')


@model('upsample_shortcuts', [('x', (3, 5, 7)), ('y', (1, 5, 7))], ['n', 'n1', 'h', 'h1', 'b', 'b1'])
class UpsampleShortcuts(nn.Module):
    """floor(in * s) equal to in or 2 * in with s not 1 or 2, for C > 1 and C = 1."""

    def forward(self, x, y):
        return (up(x, (1.1, 2.2), 'nearest'), up(y, (1.1, 2.2), 'nearest'),
                up(x, (2.1, 1.1), 'nearest'), up(y, (2.1, 1.1), 'nearest'),
                up(x, 1.1, 'bilinear'), up(y, (1.1, 2.5), 'bilinear'))


@model('upsample_modes', [('x', (3, 5, 7)), ('y', (1, 6, 4))],
       ['s', 'l', 'a', 'f', 'c', 'ca', 'cf', 'cy', 'e', 'ey', 'n'])
class UpsampleModes(nn.Module):
    """size=, like=, align_corners, bicubic and nearest-exact (F.interpolate)."""

    def forward(self, x, y):
        i = F.interpolate
        like = x.shape[-2:]
        return (i(x, size=(9, 4), mode='bilinear', align_corners=False),
                i(y, size=like, mode='bilinear', align_corners=True),
                i(x, scale_factor=2, mode='bilinear', align_corners=True),
                i(x, scale_factor=(1.5, 2.5), mode='bilinear', align_corners=False),
                i(x, scale_factor=2, mode='bicubic', align_corners=False),
                i(x, size=(11, 3), mode='bicubic', align_corners=True),
                i(x, scale_factor=1.1, mode='bicubic', align_corners=False),
                i(y, size=like, mode='bicubic', align_corners=False),
                i(x, scale_factor=(1.5, 0.6), mode='nearest-exact'),
                i(y, size=(13, 9), mode='nearest-exact'),
                i(x, size=(4, 13), mode='nearest'))


@model('adaptive_pool', [('x', (3, 13, 10))], ['a', 'b', 'c', 'm', 'n', 'g', 'f'])
class AdaptivePool(nn.Module):
    def forward(self, x):
        return (F.adaptive_avg_pool2d(x, 5), F.adaptive_avg_pool2d(x, (4, 7)), F.adaptive_avg_pool2d(x, (17, 1)),
                F.adaptive_max_pool2d(x, 3), F.adaptive_max_pool2d(x, (13, 12)), F.adaptive_max_pool2d(x, 1),
                torch.flatten(F.adaptive_max_pool2d(F.relu(x), 1), 1))


@model('pad', [('x', (3, 5, 7))], ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'r', 'p', 'q', 'z'])
class Pad(nn.Module):
    """F.pad in each mode, and nn.Conv2d's padding_mode."""

    def __init__(self):
        super().__init__()
        self.r = nn.Conv2d(3, 4, 3, padding=2, padding_mode='reflect')
        self.p = nn.Conv2d(3, 4, (3, 4), padding='same', padding_mode='replicate', dilation=(1, 2))
        self.q = nn.Conv2d(3, 4, 3, 2, 4, padding_mode='circular', bias=False)
        self.z = nn.Conv2d(3, 4, 3, padding=1, padding_mode='zeros')

    def forward(self, x):
        return (F.pad(x, (1, 2, 3, 0)), F.pad(x, (-1, 2, 0, -2), value=1.5), F.pad(x, (2, 3), value=-1.0),
                F.pad(x, (6, 6, 4, 4), mode='reflect'), F.pad(x, (9, 1, 0, 11), mode='replicate'),
                F.pad(x, (7, 7, 5, 5), mode='circular'), F.pad(x, (-2, 3, 1, -1), mode='reflect'),
                F.pad(x, (2, 2, 2, 2), mode='circular'), F.pad(x, (-2, 5, 3, -2), mode='circular'),
                F.pad(x, (6, -1, -1, 1), mode='replicate'),
                self.r(x), self.p(x), self.q(x), self.z(x))


@model('shared_weights', [('x', (3, 9, 8)), ('y', (3, 9, 8))], ['bn', 'up2', 'fc', 'fc2'])
class SharedWeights(nn.Module):
    """Modules called more than once (shared weights)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, padding=1)
        self.r = nn.Conv2d(6, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.t = nn.Conv2d(3, 6, 1)
        self.up = nn.ConvTranspose2d(6, 4, 2, stride=2)
        self.fc = nn.Linear(4, 5)

    def forward(self, x, y):
        c, d = self.c(x), self.c(y)
        h = self.r(F.relu(c))
        for _ in range(3):
            h = self.r(F.relu(h))
        bn, tb = self.bn(h), self.bn(self.t(y))
        up, up2 = self.up(tb), self.up(d)
        pool = lambda v: torch.flatten(F.adaptive_avg_pool2d(v, 1), 1)  # noqa: E731
        return bn, up2, self.fc(pool(up)), self.fc(pool(up2))


@model('shared_norms', [('x', (6, 5, 7))], ['p', 'p2', 'g2'])
class SharedNorms(nn.Module):
    """Normalisations and prelu with share=: the second use keeps its own num_groups and
    eps and computes with the first use's tensors (the functional forms)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(6, 6, 3, padding=1)
        self.g = nn.GroupNorm(3, 6)
        self.l = nn.LayerNorm((5, 7))
        self.i = nn.InstanceNorm2d(6, affine=True, track_running_stats=True)
        self.b = nn.BatchNorm2d(6, affine=False)
        self.p = nn.PReLU()
        self.q = nn.Conv2d(6, 3, 1)

    def forward(self, x):
        g = self.g(self.c(x))
        g2 = F.group_norm(x, 2, self.g.weight, self.g.bias, eps=0.1)
        l, l2 = self.l(g), self.l(g2)
        i, i2 = self.i(l), self.i(l2)
        b = self.b(i)
        b2 = F.batch_norm(i2, self.b.running_mean, self.b.running_var, training=False, eps=0.5)
        return self.p(b), self.p(self.q(b2)), g2


@model('maxpool_huge', [('x', (16, 64, 64))], ['h', 'w', 'd', 'e'])
class MaxpoolHuge(nn.Module):
    """Windows far larger than the input, and large dilated windows.

    PyTorch 1.13's own max_pool2d visits every tap of a 2^30 window (minutes),
    so h and w are written as what those calls compute: every window along an
    axis with kernel 2^30 and padding 2^29 covers the whole 64-wide input, so
    the pool along it is the max over it, repeated for each output position
    (1 for stride 2^30, 65 for stride 1)."""

    def forward(self, x):
        return (x.amax(dim=(2, 3), keepdim=True),
                F.max_pool2d(x.amax(dim=3, keepdim=True), (3, 1), stride=(2, 1),
                             padding=(1, 0)).expand(-1, -1, -1, 65),
                F.max_pool2d(x, 21, stride=1, padding=10, dilation=2),
                F.max_pool2d(x, (9, 40), stride=3, padding=(4, 20), dilation=(3, 1), ceil_mode=True))


# --- concat, add, crop --------------------------------------------------------------

@model('concat3', [('x', (3, 9, 7))], ['e'])
class Concat3(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 5, 1)
        self.d = nn.Conv2d(12, 6, 3, padding=1)

    def forward(self, x):
        c = torch.cat([x, F.relu(self.a(x)), self.b(x)], 1)
        d = self.d(c)
        return torch.cat([d, d, c], 1)


@model('alias_concat', [('x', (2, 2, 3)), ('v', (5,))], ['c', 'd', 'e', 't', 's', 'a', 'l', 'f'])
class AliasConcat(nn.Module):
    """Ops reading flattened and dropped-out tensors (aliases in convc)."""

    def __init__(self):
        super().__init__()
        self.k = nn.Conv2d(2, 3, 1)
        self.l = nn.Linear(18 + 5, 4)

    def forward(self, x, v):
        f = torch.flatten(x, 1)
        k = self.k(x)
        fk = torch.flatten(k, 1)
        return (torch.cat([f, f], 1), torch.cat([f, v, f], 1), torch.cat([k, x, x], 1),
                torch.cat([f] * 17 + [v], 1), F.softmax(fk, dim=1), fk + fk,
                self.l(torch.cat([fk, v], 1)), f)


@model('alias_fusion', [('x', (3, 7, 105))], ['r', 's', 'l', 'h', 'e'], ranges={'x': (-4, 4)})
class AliasFusion(nn.Module):
    """Activations after flatten / dropout of layers convc fuses activations into."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 5, 4, padding=2)
        self.t = nn.ConvTranspose2d(3, 4, 2, stride=2)
        self.b = nn.BatchNorm2d(3)
        self.d = nn.Conv2d(3, 6, 3)
        self.n = nn.BatchNorm2d(6)

    def forward(self, x):
        fl = lambda v: torch.flatten(v, 1)  # noqa: E731
        return (F.relu6(fl(self.c(x))), torch.sigmoid(fl(self.t(x))),
                F.leaky_relu(fl(self.b(x)), 0.1), torch.tanh(fl(x + x)),
                F.relu(self.n(self.d(x))))


@model('reorder_tiles', [('x', (20, 5, 35))], ['b'])
class ReorderTiles(nn.Module):
    """Reorders of rows wider than one 16x16 tile, with partial channel blocks (reorder_tiles.conv)."""
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(20, 24, 3, padding=1)
        self.b = nn.Conv2d(24, 21, 3, padding=1)

    def forward(self, x):
        return self.b(F.relu(self.a(x)))


@model('layout', [('x', (20, 7, 9))], ['c', 'u', 'k'])
class Layout(nn.Module):
    """Elementwise ops and a crop between convs: run blocked under --layout=nchw16c."""
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(20, 20, 3, padding=1)
        self.c = nn.Conv2d(20, 5, 1)
        self.v = nn.Conv2d(20, 3, 3)

    def forward(self, x):
        s = self.a(x) + torch.sigmoid(x)
        return self.c(torch.tanh(s)), F.relu(s), F.relu(center_crop(s, self.v(x)))


@model('add', [('x', (4, 9, 11)), ('y', (4, 9, 11))], ['s1', 's2', 'r'])
class Add(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x, y):
        a = self.a(x)
        s1 = a + y
        s2 = a + x + y
        return s1, s2, F.relu(s1 + s2)


@model('crop', [('x', (3, 17, 16)), ('like', (2, 10, 9))], ['c', 'm'])
class Crop(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3)                        # 4 x 15 x 14
        self.u = nn.ConvTranspose2d(4, 4, 2, stride=2)    # 4 x 14 x 14

    def forward(self, x, like):
        a = self.a(x)
        u = self.u(F.max_pool2d(a, 2))
        return center_crop(x, like), torch.cat([center_crop(x, u), center_crop(a, u), u], 1)


@model('edges', [('x', (3, 5, 4)), ('v', (6,))], ['x', 'd', 'f', 's', 't', 'one'])
class Edges(nn.Module):
    """Outputs that are an input itself or an identity of it, ops on flat tensors,
    a pooling window larger than the input (ceil_mode)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)

    def forward(self, x, v):
        s = F.relu(self.a(v) + v)
        t = torch.tanh(s + v)
        one = F.max_pool2d(x, 5, ceil_mode=True)
        return x, x, torch.flatten(x, 1), s, t, one


@model('wide_ops', [('x', (16, 20, 37))], ['mp', 'ap', 'ub', 'un', 'g', 'sm', 'sg', 'cat', 'sum'],
       ranges={'x': (-3, 3)})
class WideOps(nn.Module):
    """The non-conv ops on rows longer than any vector (37 = 4 * 8 + 5, 2 * 16 + 5)."""

    def forward(self, x):
        return (F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                up(x, 2, 'bilinear'), up(x, 3, 'nearest'), F.adaptive_avg_pool2d(x, 1),
                F.softmax(x, dim=1), torch.sigmoid(x), torch.cat([x, F.leaky_relu(x, 0.1)], 1),
                F.silu(x + torch.tanh(x)))


@model('aliasing', [('x', (3, 8, 9)), ('like', (1, 6, 5))], ['c1', 'c2', 'k', 'y'])
class Aliasing(nn.Module):
    """Tensors read by several consumers after activations, adds and concats
    that a memory planner might want to do in place or without copies."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 5, 1)
        self.m = nn.Conv2d(22, 4, 3, padding=1)

    def forward(self, x, like):
        a, b = self.a(x), self.b(x)
        r = F.relu(a)                       # a is read again below
        s = torch.sigmoid(b)
        c1 = torch.cat([a, b], 1)
        c2 = torch.cat([b, a, r], 1)
        t = a + r                           # a and r both read later
        k = center_crop(torch.cat([c1, t], 1), like)
        m = self.m(torch.cat([c2, s, a], 1))
        return c1, c2, k, F.relu(m + t + a)


# --- several inputs and outputs, blocks, keys ------------------------------------------

@model('multi_io', [('img', (3, 12, 10)), ('meta', (6,))], ['fc', 'seg', 'g'])
class MultiIO(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, stride=2, padding=1)   # 8 x 6 x 5
        self.fc = nn.Linear(14, 4)
        self.seg = nn.Conv2d(8, 2, 1)

    def forward(self, img, meta):
        c = self.c(img)
        g = torch.flatten(F.adaptive_avg_pool2d(F.relu(c), 1), 1)
        return self.fc(torch.cat([g, meta], 1)), self.seg(c), g


class ConvBnRelu(nn.Module):
    def __init__(self, cin, ch, k=3, s=1):
        super().__init__()
        self.c = nn.Conv2d(cin, ch, k, stride=s, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(ch)

    def forward(self, x):
        return F.relu(self.bn(self.c(x)))


class Residual(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.a = ConvBnRelu(ch, ch)
        self.b = ConvBnRelu(ch, ch, k=1)

    def forward(self, x):
        return F.relu(self.b(self.a(x)) + x)


class Stage(nn.Module):
    def __init__(self, cin, ch):
        super().__init__()
        self.down = ConvBnRelu(cin, ch, s=2)
        self.res = Residual(ch)

    def forward(self, x):
        return self.res(self.down(x))


@model('blocks', [('x', (3, 16, 15))], ['head'])
class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.s1 = Stage(3, 8)
        self.layer2 = Stage(8, 12)           # s2 = stage(s1, 12, name="layer2")
        self.classifier = nn.Sequential(nn.Identity(), nn.Conv2d(12, 3, 1))

    def forward(self, x):
        return self.classifier(self.layer2(self.s1(x)))


@model('vgg_keys', [('x', (3, 16, 16))], ['fc2'])
class VggKeys(nn.Module):
    """torchvision-style keys (features.0, classifier.3) through name=."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(256, 32), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# --- the network of the negative tests (weights_*.conv, input_*.conv) ---------------------

@model('checked', [('x', (3, 10, 9))], ['fc'])
class Checked(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.b(self.c(x))), 1), 1))


# --- small complete networks ---------------------------------------------------------------

class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.expand = nn.Conv2d(cin, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.project = nn.Conv2d(hidden, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self.bn1(self.expand(x)))
        h = F.relu6(self.bn2(self.dw(h)))
        h = self.bn3(self.project(h))
        return h + x if self.residual else h


@model('mobilenet_tiny', [('x', (3, 33, 31))], ['logits'])
class MobilenetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)   # 8 x 17 x 16
        self.stem_bn = nn.BatchNorm2d(8)
        self.b1 = InvertedResidual(8, 8, 1, 2)
        self.b2 = InvertedResidual(8, 16, 2, 3)                           # 16 x 9 x 8
        self.b3 = InvertedResidual(16, 16, 1, 2)
        self.head = nn.Conv2d(16, 32, 1)
        self.logits = nn.Linear(32, 10)

    def forward(self, x):
        h = F.relu6(self.stem_bn(self.stem(x)))
        h = self.b3(self.b2(self.b1(h)))
        h = F.silu(self.head(h))
        return self.logits(F.dropout(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1), 0.2, False))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


@model('resnet_tiny', [('x', (3, 32, 29))], ['fc', 'prob'])
class ResnetTiny(nn.Module):
    """torchvision ResNet's structure and keys (layer1.0.conv1, layer2.0.downsample.0)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)   # 8 x 16 x 15
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16, 1))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)        # 8 x 8 x 8
        h = self.layer2(self.layer1(h))
        fc = self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
        return fc, F.softmax(fc, dim=1)


class DoubleConv(nn.Module):
    """conv-bn-relu twice, without conv bias (examples/unet.conv's double_conv)."""

    def __init__(self, cin, ch):
        super().__init__()
        self.c1 = nn.Conv2d(cin, ch, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(ch)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))))


class UNet(nn.Module):
    def __init__(self, cin=3, classes=2, base=64):
        super().__init__()
        b = base
        self.inc = DoubleConv(cin, b)
        self.down1 = DoubleConv(b, 2 * b)
        self.down2 = DoubleConv(2 * b, 4 * b)
        self.down3 = DoubleConv(4 * b, 8 * b)
        self.down4 = DoubleConv(8 * b, 16 * b)
        self.up1 = nn.ConvTranspose2d(16 * b, 8 * b, 2, stride=2)
        self.dec1 = DoubleConv(16 * b, 8 * b)
        self.up2 = nn.ConvTranspose2d(8 * b, 4 * b, 2, stride=2)
        self.dec2 = DoubleConv(8 * b, 4 * b)
        self.up3 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.dec3 = DoubleConv(4 * b, 2 * b)
        self.up4 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.dec4 = DoubleConv(2 * b, b)
        self.outc = nn.Conv2d(b, classes, 1)

    def forward(self, x):
        inc = self.inc(x)
        d1 = self.down1(F.max_pool2d(inc, 2))
        d2 = self.down2(F.max_pool2d(d1, 2))
        d3 = self.down3(F.max_pool2d(d2, 2))
        d4 = self.down4(F.max_pool2d(d3, 2))
        u = self.dec1(torch.cat([d3, self.up1(d4)], 1))
        u = self.dec2(torch.cat([d2, self.up2(u)], 1))
        u = self.dec3(torch.cat([d1, self.up3(u)], 1))
        u = self.dec4(torch.cat([inc, self.up4(u)], 1))
        return self.outc(u)


model('unet', [('x', (3, 256, 256))], ['outc'])(lambda: UNet())
model('unet_small', [('x', (3, 32, 48))], ['outc'])(lambda: UNet(3, 2, 4))


class ConvBlock2015(nn.Module):
    """Two valid 3x3 convs with bias, each followed by a relu."""

    def __init__(self, cin, ch):
        super().__init__()
        self.c1 = nn.Conv2d(cin, ch, 3)
        self.c2 = nn.Conv2d(ch, ch, 3)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))))


class UNet2015(nn.Module):
    def __init__(self, cin=1, classes=2, base=64):
        super().__init__()
        b = base
        self.enc1 = ConvBlock2015(cin, b)
        self.enc2 = ConvBlock2015(b, 2 * b)
        self.enc3 = ConvBlock2015(2 * b, 4 * b)
        self.enc4 = ConvBlock2015(4 * b, 8 * b)
        self.enc5 = ConvBlock2015(8 * b, 16 * b)
        self.up1 = nn.ConvTranspose2d(16 * b, 8 * b, 2, stride=2)
        self.dec1 = ConvBlock2015(16 * b, 8 * b)
        self.up2 = nn.ConvTranspose2d(8 * b, 4 * b, 2, stride=2)
        self.dec2 = ConvBlock2015(8 * b, 4 * b)
        self.up3 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.dec3 = ConvBlock2015(4 * b, 2 * b)
        self.up4 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.dec4 = ConvBlock2015(2 * b, b)
        self.outc = nn.Conv2d(b, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        e4 = self.enc4(F.max_pool2d(e3, 2))
        e5 = self.enc5(F.max_pool2d(e4, 2))
        u = self.up1(e5)
        d = self.dec1(torch.cat([center_crop(e4, u), u], 1))
        u = self.up2(d)
        d = self.dec2(torch.cat([center_crop(e3, u), u], 1))
        u = self.up3(d)
        d = self.dec3(torch.cat([center_crop(e2, u), u], 1))
        u = self.up4(d)
        d = self.dec4(torch.cat([center_crop(e1, u), u], 1))
        return self.outc(d)


model('unet_2015', [('x', (1, 572, 572))], ['outc'])(lambda: UNet2015())
model('unet_2015_small', [('x', (1, 204, 220))], ['outc'])(lambda: UNet2015(1, 2, 4))


# --- the tutorial's networks (examples/seed/*.conv; ../shared/seed) ---------------------------

def _single(name, shape, out, layers):
    model(name, [('x', shape)], [out])(lambda: Seq(*layers()))


_single('net1', (1, 512, 512), 'conv1', lambda: [('conv1', nn.Conv2d(1, 32, 5, padding=1))])
_single('net2', (8, 256, 256), 'conv1', lambda: [('conv1', nn.Conv2d(8, 32, 3, padding=1))])
_single('net1_5x5', (32, 128, 128), 'conv1', lambda: [('conv1', nn.Conv2d(32, 32, 5, padding=2))])
_single('net3', (32, 128, 128), 'y', lambda: [
    ('conv1', nn.Conv2d(32, 32, 3, padding=1)), ('r1', nn.ReLU()),
    ('conv2', nn.Conv2d(32, 32, 3, padding=1)), ('r2', nn.ReLU())])
_single('net4', (256, 64, 64), 'conv1', lambda: [('conv1', nn.Conv2d(256, 512, 3, padding=1))])
_single('net5', (256, 64, 64), 'conv2', lambda: [
    ('conv1', nn.Conv2d(256, 32, 1)), ('conv2', nn.Conv2d(32, 512, 3, padding=1))])
_single('net6', (32, 128, 128), 'conv2', lambda: [('conv2', nn.Conv2d(32, 512, 3, padding='same'))])
_single('net7', (32, 128, 128), 'conv2', lambda: [
    ('conv2', nn.Conv2d(32, 512, 5, padding=1, stride=2))])
_single('net8', (32, 128, 128), 'conv_transpose', lambda: [
    ('conv_transpose', nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1))])


# --- random sweeps over every option (sweep_*.test, with Inputs/sweep.py) ---------------------
#
# sweep_conv_S / sweep_tconv_S / sweep_pool_S: SWEEP_LAYERS layers, each reading
# the input x[12, 17, 19] directly and each a network output, with options drawn
# from a generator seeded with S. Inputs/sweep.py prints the same network as .conv.

SWEEP_INPUT = (12, 17, 19)
SWEEP_LAYERS = 24


def _out(size, k, s, p_total, d, ceil=False, pad_begin=None):
    span = size + p_total - d * (k - 1) - 1
    if span < 0:
        return 0
    n = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (n - 1) * s >= size + (pad_begin if pad_begin is not None else p_total // 2):
        n -= 1
    return n


def sweep_configs(kind, seed):
    """-> [dict] of layer options; deterministic for (kind, seed)."""
    import random
    rng = random.Random('%s/%d' % (kind, seed))
    c, h, w = SWEEP_INPUT
    divisors = [g for g in range(1, c + 1) if c % g == 0]
    out = []
    while len(out) < SWEEP_LAYERS:
        k = (rng.randint(1, 5), rng.randint(1, 5)) if rng.random() < 0.5 else (rng.randint(1, 5),) * 2
        s = (rng.randint(1, 3), rng.randint(1, 3)) if rng.random() < 0.3 else (rng.randint(1, 3),) * 2
        d = (rng.randint(1, 3), rng.randint(1, 3)) if rng.random() < 0.3 else (rng.randint(1, 3),) * 2
        if kind == 'conv':
            g = rng.choice(divisors)
            cfg = dict(op='conv', k=k, s=s, d=d, groups=g, out=g * rng.randint(1, 3),
                       bias=rng.random() < 0.7)
            r = rng.random()
            if r < 0.15 and s == (1, 1):
                cfg['padding'] = 'same'
                pads = [d[i] * (k[i] - 1) for i in range(2)]
            elif r < 0.25:
                cfg['padding'] = 'valid'
                pads = [0, 0]
            else:
                p = (rng.randint(0, 3), rng.randint(0, 3))
                cfg['padding'] = p
                pads = [2 * p[0], 2 * p[1]]
            if _out(h, k[0], s[0], pads[0], d[0]) < 1 or _out(w, k[1], s[1], pads[1], d[1]) < 1:
                continue
        elif kind == 'tconv':
            g = rng.choice(divisors)
            k = tuple(min(x, 4) for x in k)
            d = tuple(min(x, 2) for x in d)
            p = tuple(rng.randint(0, d[i] * (k[i] - 1)) for i in range(2))
            op = tuple(rng.randint(0, max(s[i], d[i]) - 1) for i in range(2))
            cfg = dict(op='tconv', k=k, s=s, d=d, groups=g, out=g * rng.randint(1, 3),
                       bias=rng.random() < 0.7, padding=p, output_padding=op)
            sizes = [(n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
                     for i, n in enumerate((h, w))]
            if min(sizes) < 1:
                continue
        else:
            op = rng.choice(['max', 'avg'])
            k = tuple(min(x, 4) for x in k)
            d = d if op == 'max' else (1, 1)
            d = tuple(min(x, 2) for x in d)
            p = tuple(rng.randint(0, k[i] // 2) for i in range(2))
            cfg = dict(op=op, k=k, s=s, d=d, padding=p, ceil=rng.random() < 0.5,
                       count_include_pad=rng.random() < 0.6)
            if min(_out(n, k[i], s[i], 2 * p[i], d[i], cfg['ceil'], p[i])
                   for i, n in enumerate((h, w))) < 1:
                continue
        out.append(cfg)
    return out


class Sweep(nn.Module):
    def __init__(self, kind, seed):
        super().__init__()
        self.cfgs = sweep_configs(kind, seed)
        c = SWEEP_INPUT[0]
        for i, cfg in enumerate(self.cfgs):
            if cfg['op'] == 'conv':
                m = nn.Conv2d(c, cfg['out'], cfg['k'], cfg['s'], cfg['padding'], cfg['d'],
                              cfg['groups'], cfg['bias'])
            elif cfg['op'] == 'tconv':
                m = nn.ConvTranspose2d(c, cfg['out'], cfg['k'], cfg['s'], cfg['padding'],
                                       cfg['output_padding'], cfg['groups'], cfg['bias'], cfg['d'])
            else:
                continue
            self.add_module('l%d' % i, m)

    def forward(self, x):
        outs = []
        for i, cfg in enumerate(self.cfgs):
            if cfg['op'] == 'max':
                outs.append(F.max_pool2d(x, cfg['k'], cfg['s'], cfg['padding'], cfg['d'],
                                         ceil_mode=cfg['ceil']))
            elif cfg['op'] == 'avg':
                outs.append(F.avg_pool2d(x, cfg['k'], cfg['s'], cfg['padding'], cfg['ceil'],
                                         cfg['count_include_pad']))
            else:
                outs.append(getattr(self, 'l%d' % i)(x))
        return tuple(outs)


# sweep_up_S: SWEEP_LAYERS upsamples, nearest or bilinear, of a C > 1 input x
# or a C = 1 input y (PyTorch 1.13 takes another kernel for C = 1), with
# scale factors drawn to hit floor(n*s) == n and == 2n with s not 1 or 2,
# integers, and any fraction (also below 1).

SWEEP_UP_INPUTS = [('x', SWEEP_INPUT), ('y', (1, 13, 11))]


def _up_scale(rng, n):
    r = rng.random()
    if r < 0.3:
        s = 1 + rng.random() / n            # floor(n*s) == n
    elif r < 0.55:
        s = 2 + rng.random() / n            # floor(n*s) == 2n
    elif r < 0.65:
        s = rng.randint(1, 3)
    else:
        s = rng.uniform(0.4, 3.5)
    return round(float(s), 4)


def upsample_configs(seed):
    """-> [dict] of upsample options; deterministic for seed."""
    import random
    rng = random.Random('up/%d' % seed)
    shapes = dict(SWEEP_UP_INPUTS)
    out = []
    for _ in range(SWEEP_LAYERS):
        src = rng.choice(['x', 'y'])
        _, h, w = shapes[src]
        if rng.random() < 0.25:
            scale = _up_scale(rng, min(h, w))
        else:
            scale = (_up_scale(rng, h), _up_scale(rng, w))
        out.append(dict(op='up', src=src, mode=rng.choice(['nearest', 'bilinear']), scale=scale))
    return out


class SweepUp(nn.Module):
    def __init__(self, seed):
        super().__init__()
        self.cfgs = upsample_configs(seed)

    def forward(self, x, y):
        src = dict(x=x, y=y)
        return tuple(up(src[cfg['src']], cfg['scale'], cfg['mode']) for cfg in self.cfgs)


for _seed in (1, 2):
    model('sweep_up_%d' % _seed, SWEEP_UP_INPUTS, ['l%d' % i for i in range(SWEEP_LAYERS)])(
        lambda seed=_seed: SweepUp(seed))

for _kind in ('conv', 'tconv', 'pool'):
    for _seed in (1, 2):
        model('sweep_%s_%d' % (_kind, _seed), [('x', SWEEP_INPUT)],
              ['l%d' % i for i in range(SWEEP_LAYERS)])(
            lambda kind=_kind, seed=_seed: Sweep(kind, seed))


# --- the bench's networks (bench/nets/*.conv), with torchvision's structure and keys ---------
#
# Written from torchvision's model definitions (resnet.py, vgg.py, mobilenetv2.py,
# segmentation/deeplabv3.py), so state_dict keys equal torchvision's; bench/run.py times
# these same modules (and their ONNX exports) against convc.

class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: 1x1, 3x3 (with the stride), 1x1 to 4 * width."""

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, 4 * width, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * width)
        self.downsample = None
        if stride != 1 or cin != 4 * width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, 4 * width, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(4 * width))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, bottleneck, blocks, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, stages = 64, []
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            layers = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                if bottleneck:
                    layers.append(Bottleneck(cin, width, stride))
                    cin = 4 * width
                else:
                    layers.append(BasicBlock(cin, width, stride))
                    cin = width
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


model('resnet18', [('x', (3, 224, 224))], ['fc'])(lambda: ResNet(False, (2, 2, 2, 2)))
model('resnet50', [('x', (3, 224, 224))], ['fc'])(lambda: ResNet(True, (3, 4, 6, 3)))


@model('vgg11_features', [('x', (3, 224, 224))], ['features'])
class Vgg11Features(nn.Module):
    """torchvision vgg11().features: config A, 3x3 convs + relu, 2x2 maxpools."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for v in (64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'):
            if v == 'M':
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
                cin = v
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)

# --- torchvision-structured networks written with loops in .conv -----------------------------
# The module trees below follow torchvision's ResNet, DenseNet and MobileNetV2
# (nn.Sequential indices, ModuleDict-like `features`), so their state_dict keys
# are the ones torchvision's models have.

@model('resnet_loop', [('x', (3, 32, 29))], ['fc'])
class ResnetLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        cin = 8
        for i, (ch, blocks, stride) in enumerate([(8, 1, 1), (16, 2, 2), (32, 3, 2)]):
            layers = []
            for b in range(blocks):
                layers.append(BasicBlock(cin, ch, stride if b == 0 else 1))
                cin = ch
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(*layers))
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        h = self.layer3(self.layer2(self.layer1(h)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class DenseLayer(nn.Module):
    """torchvision's _DenseLayer (norm1, conv1, norm2, conv2); returns only the new features."""

    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


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


class Transition(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__()
        self.add_module('norm', nn.BatchNorm2d(cin))
        self.add_module('relu', nn.ReLU())
        self.add_module('conv', nn.Conv2d(cin, cout, 1, bias=False))
        self.add_module('pool', nn.AvgPool2d(2, 2))


@model('densenet_loop', [('x', (3, 32, 32))], ['fc'])
class DensenetLoop(nn.Module):
    """torchvision's DenseNet(growth_rate=4, block_config=(2, 3, 4), num_init_features=16, bn_size=2)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module('conv0', nn.Conv2d(3, 16, 7, stride=2, padding=3, bias=False))
        self.features.add_module('norm0', nn.BatchNorm2d(16))
        self.features.add_module('relu0', nn.ReLU())
        self.features.add_module('pool0', nn.MaxPool2d(3, 2, 1))
        ch = 16
        for i, layers in enumerate((2, 3, 4)):
            self.features.add_module('denseblock%d' % (i + 1), DenseBlock(layers, ch, 4, 2))
            ch += layers * 4
            if i != 2:
                self.features.add_module('transition%d' % (i + 1), Transition(ch, ch // 2))
                ch //= 2
        self.features.add_module('norm5', nn.BatchNorm2d(ch))
        self.classifier = nn.Linear(ch, 10)

    def forward(self, x):
        h = F.relu(self.features(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def conv_bn_relu6(cin, cout, k, stride=1, groups=1):
    """torchvision's Conv2dNormActivation: keys .0 (conv) and .1 (batchnorm)."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6())


class InvertedResidualV2(nn.Module):
    """torchvision mobilenetv2.InvertedResidual: keys conv.0 .. conv.3 (conv.0 .. conv.2 for t = 1)."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [conv_bn_relu6(cin, hidden, 1)] if t != 1 else []
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, cout, 1, bias=False),
                   nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


@model('mobilenet_v2', [('x', (3, 224, 224))], ['fc'])
class MobileNetV2(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        layers, cin = [conv_bn_relu6(3, 32, 3, 2)], 32
        for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                           (6, 160, 3, 2), (6, 320, 1, 1)):
            for i in range(n):
                layers.append(InvertedResidualV2(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn_relu6(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def conv_bn_silu(cin, cout, k, stride=1, groups=1, act=True):
    """torchvision's Conv2dNormActivation with SiLU: keys .0 (conv) and .1 (batchnorm)."""
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*(layers + [nn.SiLU()] if act else layers))


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation(cin, squeeze, activation=nn.SiLU): keys fc1, fc2."""

    def __init__(self, cin, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # a module, as torchvision's (ptflops counts it)
        self.fc1 = nn.Conv2d(cin, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, cin, 1)

    def forward(self, x):
        s = self.fc2(F.silu(self.fc1(self.avgpool(x))))
        return x * torch.sigmoid(s)


class MBConv(nn.Module):
    """torchvision efficientnet.MBConv at inference (stochastic depth is the identity):
    keys block.0 .. block.3 (block.0 .. block.2 when expand_ratio is 1)."""

    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = [conv_bn_silu(cin, hidden, 1)] if expand != 1 else []
        layers += [conv_bn_silu(hidden, hidden, k, stride, hidden), SqueezeExcitation(hidden, max(1, cin // 4)),
                   conv_bn_silu(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class EfficientNetB0(nn.Module):
    """torchvision efficientnet_b0 (width and depth 1.0, dropout 0.2)."""

    def __init__(self, classes=1000):
        super().__init__()
        layers, cin = [conv_bn_silu(3, 32, 3, 2)], 32
        for expand, k, stride, cout, n in ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                                           (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)):
            stage = []
            for i in range(n):
                stage.append(MBConv(cin, cout, k, stride if i == 0 else 1, expand))
                cin = cout
            layers.append(nn.Sequential(*stage))
        layers.append(conv_bn_silu(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


model('efficientnet_b0', [('x', (3, 224, 224))], ['logits'])(EfficientNetB0)
model('efficientnet_b0_64', [('x', (3, 64, 64))], ['logits'])(EfficientNetB0)


class AsppPooling(nn.Sequential):
    """torchvision ASPPPooling: pool (.0), conv (.1), batchnorm (.2), relu (.3), back to the input size."""

    def __init__(self, cin, cout):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU())

    def forward(self, x):
        size = x.shape[-2:]
        for m in self:
            x = m(x)
        return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


@model('aspp', [('x', (2048, 33, 33))], ['out'])
class Aspp(nn.Module):
    """torchvision segmentation.deeplabv3.ASPP(2048, [6, 12, 18], 256)."""

    def __init__(self, cin=2048, rates=(6, 12, 18), cout=256):
        super().__init__()
        convs = [nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())]
        for r in rates:
            convs.append(nn.Sequential(nn.Conv2d(cin, cout, 3, padding=r, dilation=r, bias=False),
                                       nn.BatchNorm2d(cout), nn.ReLU()))
        convs.append(AsppPooling(cin, cout))
        self.convs = nn.ModuleList(convs)
        self.project = nn.Sequential(nn.Conv2d(len(convs) * cout, cout, 1, bias=False), nn.BatchNorm2d(cout),
                                     nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([c(x) for c in self.convs], 1))

class DeepLabHead(nn.Sequential):
    """torchvision segmentation.deeplabv3.DeepLabHead(2048, 21): ASPP (key 0), 3x3 conv (1), batchnorm (2),
    relu (3), 1x1 conv to the classes (4)."""

    def __init__(self, cin=2048, classes=21):
        super().__init__(Aspp(cin), nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
                         nn.Conv2d(256, classes, 1))


# examples/deeplabv3_aspp.conv and examples/mobilenetv2.conv at small inputs (the tests rewrite the input line)
model('deeplabv3_aspp_small', [('x', (2048, 9, 11))], ['out'])(DeepLabHead)
model('mobilenetv2_small', [('x', (3, 40, 56))], ['fc'])(MobileNetV2)


@model('mobilenet_if', [('x', (3, 33, 31))], ['fc'])
class MobilenetIf(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [conv_bn_relu6(3, 8, 3, 2)]
        cin = 8
        for stage in range(3):
            expand, stride, cout = (1, 1, 8) if stage == 0 else (6, 2, 8 * (stage + 1))
            for r in range(stage + 1):
                layers.append(InvertedResidualV2(cin, cout, stride if r == 0 else 1, expand))
                cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(cin, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


# --- normalisation with per-sample statistics, rearranging (issue 9) ----------

@model('norms', [('x', (6, 7, 9))], ['b', 'gf', 'lf'])
class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(6, 8, 3, padding=1)
        self.g1 = nn.GroupNorm(4, 8)
        self.g2 = nn.GroupNorm(2, 8, eps=0.1, affine=False)
        self.i1 = nn.InstanceNorm2d(8)
        self.i2 = nn.InstanceNorm2d(8, affine=True, eps=1e-3)
        self.i3 = nn.InstanceNorm2d(8, affine=True, track_running_stats=True)
        self.i4 = nn.InstanceNorm2d(8, track_running_stats=True)
        self.l1 = nn.LayerNorm((8, 7, 9))
        self.l2 = nn.LayerNorm((7, 9), elementwise_affine=False)
        self.l3 = nn.LayerNorm(9, eps=0.01)
        self.bc = nn.Conv2d(8, 8, 1)
        self.b = nn.BatchNorm2d(8, affine=False)
        self.f = nn.Linear(8 * 7 * 9, 12)
        self.gf = nn.GroupNorm(3, 12)
        self.lf = nn.LayerNorm(12)

    def forward(self, x):
        c = self.c(x)
        g2 = self.g2(F.relu(self.g1(c)))
        i1 = self.i1(g2)
        i4 = self.i4(self.i3(self.i2(c)))
        l3 = self.l3(self.l2(self.l1(i1 + i4)))
        b = self.b(self.bc(l3))
        f = self.f(torch.flatten(b, 1))
        return b, self.gf(f), self.lf(f)


@model('shuffle', [('x', (18, 5, 7))], ['cs', 's1', 'p2'])
class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(2, 8, 3, padding=1)
        self.d = nn.Conv2d(72, 12, 1)

    def forward(self, x):
        c = self.c(F.pixel_shuffle(x, 3))
        p2 = nn.PixelShuffle(2)(c)
        u2 = nn.PixelUnshuffle(2)(F.pixel_unshuffle(F.pixel_shuffle(p2, 1), 3))
        s = nn.ChannelShuffle(6)(u2)
        return nn.ChannelShuffle(3)(self.d(s)), nn.ChannelShuffle(1)(x), p2


# examples/espcn.conv: the ESPCN of tests/stats/Inputs/models.py (one definition for both)
model('espcn', [('x', (1, 64, 64))], ['y'])(lambda: _stats_model('espcn'))


@model('concat_dims', [('x', (3, 5, 7)), ('y', (3, 2, 7)), ('z', (3, 5, 4))],
       ['h', 'h2', 'w', 'w2', 'c', 'wide', 'f'])
class ConcatDims(nn.Module):
    def __init__(self):
        super().__init__()
        self.p = nn.Conv2d(3, 2, 1)

    def forward(self, x, y, z):
        return (torch.cat([x, y, x], dim=2), torch.cat([y, F.relu(x)], dim=-2), torch.cat([x, z], dim=3),
                torch.cat([z, x, z], dim=-1), torch.cat([x, self.p(x)], dim=-3), torch.cat([z] * 16 + [x], dim=3),
                torch.cat([torch.flatten(x, 1), torch.flatten(z, 1)], dim=-1))


@model('slice_reshape', [('x', (6, 5, 7))], ['a', 'b', 'h', 'w', 'fs', 'd', 'fc'])
class SliceReshape(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(6, 12, 3, padding=1)
        self.d = nn.Conv2d(5, 3, 1)
        self.fc = nn.Linear(210, 4)

    def forward(self, x):
        c = self.c(x)
        f = torch.flatten(x, 1)
        fs = f[:, 10:30]
        u = nn.Unflatten(1, (5, 2, 2))(fs)
        r = torch.reshape(f, (-1, 6, 7, 5))
        r2 = F.relu(r).reshape(r.shape[0], 210)
        return (c[:, 1:4], F.relu(c[:, -5:]), (c + c)[:, :, 1:-1], x[..., 0:3], fs, self.d(u), self.fc(r2))


@model('chunk_split', [('x', (6, 5, 7))], ['a', 'add_1', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'linear_1', 'k'])
class ChunkSplit(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Conv2d(6, 7, 1)
        self.fc = nn.Linear(105, 3)

    def forward(self, x):
        a, b = torch.chunk(x, 2, dim=1)
        c, d, e = torch.split(self.q(x), 3, dim=1)
        f, g = torch.split(F.relu(x), (2, 5), dim=3)
        h, i, j = x.chunk(3, dim=-2)
        k, l = torch.flatten(x, 1).chunk(2, dim=-1)
        return a, b + a, c, d, e, f, g, h, i, j, self.fc(l), k


def _stats_model(name):
    """A model of tests/stats/Inputs/models.py (the parameter-count tests), so
    that the end-to-end tests of the same example compare with the same
    PyTorch definition instead of a copy of it."""
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'stats', 'Inputs', 'models.py')
    spec = importlib.util.spec_from_file_location('stats_models', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MODELS[name]()[0]


# examples/densenet121.conv (torchvision's keys, features.denseblock1...)
model('densenet121', [('x', (3, 224, 224))], ['fc'])(lambda: _stats_model('densenet121'))


@model('conv_winograd', [('x', (40, 23, 37))], ['a', 'b', 'c', 'd'])
class ConvWinograd(nn.Module):
    """3x3 stride-1 convs that take the Winograd kernel: odd H and W (not
    multiples of the 4x4 tile), channel counts not multiples of 16, with and
    without bias and padding, fused relu, relu6 and leaky_relu."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(40, 48, 3, padding=1)
        self.b = nn.Conv2d(40, 35, 3, bias=False)
        self.c = nn.Conv2d(40, 33, 3, padding=2)
        self.d = nn.Conv2d(48, 64, 3, padding=(1, 0), bias=False)

    def forward(self, x):
        a = F.relu(self.a(x))
        d = F.relu6(self.d(a))
        return a, self.b(x), F.leaky_relu(self.c(x), 0.1), d


@model('conv_winograd_chain', [('x', (24, 30, 21))], ['y'])
class ConvWinogradChain(nn.Module):
    """3x3 convs feeding each other (intermediate tensors that a layout pass
    may block), channel counts 24 -> 40 -> 33 -> 50, odd widths, batchnorm
    folded into the second."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(24, 40, 3, padding=1)
        self.c2 = nn.Conv2d(40, 33, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(33)
        self.c3 = nn.Conv2d(33, 50, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.c1(x))
        y = F.relu(self.b2(self.c2(y)))
        return self.c3(y)


@model('concat_blocked_hw', [('x', (28, 5, 3))], ['y', 'z'])
class ConcatBlockedHW(nn.Module):
    """Concats along H and W of blocked tensors (the outputs of convs that run
    on nChw16c, 28 channels: a partial last block), feeding convs."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(28, 28, 1)
        self.p = nn.Conv2d(28, 16, 1)
        self.q = nn.Conv2d(28, 16, 1)

    def forward(self, x):
        a = self.a(x)
        r = F.relu(x)
        return self.p(torch.cat([a, a, r], dim=2)), self.q(torch.cat([r, a], dim=-1))


@model('conv_winograd_blocked', [('x', (20, 45, 41))], ['y'])
class ConvWinogradBlocked(nn.Module):
    """3x3 convs between nChw16c tensors (Winograd's channel-vectorised
    path): channel counts not multiples of 16 (20 -> 48 -> 45 -> 80 -> 40 ->
    24), padding 0, 1 and (1, 0), with and without bias, relu, hardsigmoid,
    leaky_relu, relu6;
    a 45 x 41 map has more tiles than one unit of the 80-channel layer."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(20, 48, 3, padding=1)
        self.b = nn.Conv2d(48, 45, 3)
        self.c = nn.Conv2d(45, 80, 3, padding=1, bias=False)
        self.d = nn.Conv2d(80, 40, 3, padding=1)
        self.e = nn.Conv2d(40, 24, 3, padding=(1, 0))
        self.f = nn.Conv2d(24, 16, 1)

    def forward(self, x):
        y = F.relu(self.a(x))
        y = F.hardsigmoid(self.b(y))
        y = F.leaky_relu(self.c(y), 0.1)
        y = self.d(y)
        y = F.relu6(self.e(y))
        return self.f(y)


@model('conv_winograd_per_run', [('x', (80, 9, 11))], ['y'])
class ConvWinogradPerRun(nn.Module):
    """3x3 convs between nChw16c tensors on one unit of tiles (9 x 11: 9
    tiles), whose U Winograd's kernel computes per run from the weights, in
    chunks of 64 input channels: 80 -> 150 -> 70 (chunks of 64 + 16 and 64 + 64 +
    22, a padded last sub-block of output channels); the 1x1 conv c keeps
    b's output nChw16c."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(80, 150, 3, padding=1)
        self.b = nn.Conv2d(150, 70, 3, padding=1)
        self.c = nn.Conv2d(70, 16, 1)

    def forward(self, x):
        return self.c(self.b(F.relu(self.a(x))))


@model('conv_winograd_big_units', [('x', (256, 48, 44))], ['y'])
class ConvWinogradBigUnits(nn.Module):
    """A 3x3 conv from 256 channels between nChw16c tensors on 12 x 11 = 132
    tiles: units of up to 128 tiles (two of 66 here), U stored (64 tiles
    and more); the 1x1 conv b keeps a's output nChw16c."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(256, 32, 3, padding=1)
        self.b = nn.Conv2d(32, 16, 1)

    def forward(self, x):
        return self.b(F.relu(self.a(x)))
