#!/usr/bin/python3
"""Random networks for differential testing of convc against PyTorch.

  randnet.py SEED [--known] [--flat] [--wide]     prints the .conv program and, after it,
                                         the equivalent PyTorch module

generate(seed) draws one network from a seeded stream: a graph of layers over
every op and option of docs/language.md (branches, several inputs and
outputs, blocks with tensor, integer, float, boolean, word and string
parameters and defaults that use earlier ones, name= overrides on layers and
block calls, odd sizes), checked with the shape rules of docs/language.md as
it is built. A Net prints as

  - netsource.conv_source(): the .conv program (node.line remembers the
    source line of each layer, for the predicted diagnostics of broken
    variants), and
  - netsource.torch_source(): a Python file defining `Model(nn.Module)` whose state_dict
    keys are the keys convc gives the layers, and INPUTS / OUTPUTS.

Both are written from the same graph; the PyTorch side uses only PyTorch's
own layers and functions, so a disagreement is convc's (or a shape rule
here that docs/language.md does not state).

generate(seed, wide=True) draws wide networks instead: inputs of 8 to 48
channels, and most convs with one group and 12 to 64 output channels (whole
and partial blocks of 16), which the blocked and Winograd kernels compute.

Most networks end with residual blocks (residual_blocks, step_residual):
act(conv2d(s) + r) as ir_fuse_residual fuses it, for the residual epilogues
of the conv kernels and conv_depthwise; they are drawn from a stream of their
own after the other steps, so the layers before them do not depend on them.

Features that hit defects still being fixed (Net.known lists the ones a
network uses, KNOWN describes them) are drawn only with known=True, so a
fixed set of seeds can run in CI while the fixes land.
"""
import random
import sys

OPS_WITH_KEYS = ('conv2d', 'conv_transpose2d', 'linear', 'batchnorm2d', 'prelu',
                 'group_norm', 'layer_norm', 'instance_norm')
NORMS = ('group_norm', 'layer_norm', 'instance_norm')
SHUFFLES = ('pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle')
ACTS = ('relu', 'relu6', 'silu', 'leaky_relu', 'sigmoid', 'tanh')
# the activations of issue 9 (prelu, with a weight, is drawn apart)
ACTS9 = ('hardswish', 'hardsigmoid', 'gelu', 'elu', 'selu', 'softplus', 'mish', 'hardtanh')
UNARY = ACTS + ACTS9 + ('maxpool2d', 'avgpool2d', 'global_avgpool', 'upsample', 'flatten',
                        'softmax', 'log_softmax', 'dropout', 'prelu', 'adaptive_avgpool2d',
                        'adaptive_maxpool2d', 'global_maxpool', 'pad') + NORMS + SHUFFLES + \
    ('slice', 'reshape', 'unflatten')
# x op s for a number s: node op, operator, whether s is written first
SCALAR_OPS = (('mul_scalar', '*', False), ('mul_scalar', '*', True), ('add_scalar', '+', False),
              ('add_scalar', '+', True), ('sub_scalar', '-', False), ('rsub_scalar', '-', True))
PAD_MODES = ('constant', 'reflect', 'replicate', 'circular')

# Defects known and being fixed on other branches (issue 6); generated only with known=True.
# Fixed ones leave this table and are then drawn always (tags of features once known:
# 'concat-flat', 'act-after-flatten', 'upsample-frac', 'maxpool-huge', 'limits', fixed on main).
KNOWN = {
}

MAX_MACS = 3000000      # per sample, over the whole network
MAX_ELEMS = 60000       # per tensor, per sample


class Invalid(Exception):
    """A drawn layer that the shape rules reject: draw another."""


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


def ptext(v):
    """(3, 3) -> '3', (3, 5) -> '(3, 5)'; sometimes written as a pair anyway."""
    v = pair(v)
    return '%d' % v[0] if v[0] == v[1] else '(%d, %d)' % v


def btext(b):
    return 'true' if b else 'false'


def ftext(x):
    s = repr(float(x))
    return s[:-2] if s.endswith('.0') and random.random() < 0.3 else s


class Node:
    """One layer (or input) of the expanded graph."""

    def __init__(self, op, ins, attrs, shape, key=None):
        self.op = op            # op name of docs/language.md, or 'input'
        self.ins = ins          # input Nodes
        self.attrs = attrs      # resolved argument values (ints, pairs, floats, bools, words)
        self.shape = shape      # per-sample shape: (C, H, W) or (F,)
        self.key = key          # state_dict key of a layer with parameters
        self.name = None        # the .conv name bound to it in network scope (None: inline or in a block)
        self.args = []          # argument texts after the tensor inputs (network scope)
        self.line = None        # source line of its statement
        self.mutation = None    # a broken variant's edit: (op, args) -> (op, args)
        self.var = None         # Python variable in the PyTorch forward()
        self.infix = False      # add/sub/mul written as a + b: the operator; a scalar op written
                                # as x * s or s * x: (operator, s text, s first)
        self.shares = None      # share=: the Node whose parameters (and key) it uses


def out_size(n, k, s, p0, p1, d, ceil):
    """floor/ceil((in + P0 + P1 - D*(K-1) - 1) / S) + 1, the pool rule of docs/language.md."""
    num = n + p0 + p1 - d * (k - 1) - 1
    if num < 0 and not ceil:
        return num // s + 1
    o = (num + s - 1) // s + 1 if ceil else num // s + 1
    if ceil and (o - 1) * s >= n + p0:
        o -= 1
    return o


def same_pads(k, d):
    total = d * (k - 1)
    return total // 2, total - total // 2


def check_pad_mode(mode, n, b, e):
    """PyTorch's limits: reflect pads < the extent, circular pads <= the cropped extent,
    constant crops at most the extent."""
    if mode == 'reflect' and (b >= n or e >= n):
        raise Invalid('reflect pad')
    kept = n - max(-b, 0) - max(-e, 0)  # circular and constant crop the negative sides first
    if mode == 'constant' and kept < 0:
        raise Invalid('constant pad crops more than the extent')
    if mode == 'circular' and (b > kept or e > kept):
        raise Invalid('circular pad')


def infer(op, ins, a):
    """-> output shape of op on input shapes ins with attributes a, or raise Invalid
    (the rules of docs/language.md and PyTorch)."""
    sh = [i for i in ins]
    three = all(len(s) == 3 for s in sh)
    if op in ('conv2d', 'conv_transpose2d', 'batchnorm2d', 'maxpool2d', 'avgpool2d',
              'global_avgpool', 'upsample', 'crop', 'adaptive_avgpool2d', 'adaptive_maxpool2d',
              'global_maxpool', 'pad', 'instance_norm') + SHUFFLES and not three:
        raise Invalid('needs [C, H, W]')
    if op == 'conv2d':
        c, h, w = sh[0]
        if c % a['groups'] or a['out'] % a['groups']:
            raise Invalid('groups')
        k, s, d = pair(a['k']), pair(a['stride']), pair(a['dilation'])
        dims = []
        for i, n in enumerate((h, w)):
            if a.get('padding_mode', 'zeros') != 'zeros':
                pads = same_pads(k[i], d[i]) if a['padding'] == 'same' else \
                    (0, 0) if a['padding'] == 'valid' else (pair(a['padding'])[i],) * 2
                check_pad_mode(a['padding_mode'], n, pads[0], pads[1])
            if a['padding'] == 'same':
                if s != (1, 1):
                    raise Invalid('same with stride')
                p0, p1 = same_pads(k[i], d[i])
            elif a['padding'] == 'valid':
                p0 = p1 = 0
            else:
                p0 = p1 = pair(a['padding'])[i]
            dims.append(out_size(n, k[i], s[i], p0, p1, d[i], False))
        return check_dims((a['out'],) + tuple(dims))
    if op == 'conv_transpose2d':
        c, h, w = sh[0]
        if c % a['groups'] or a['out'] % a['groups']:
            raise Invalid('groups')
        k, s, d = pair(a['k']), pair(a['stride']), pair(a['dilation'])
        p, op_ = pair(a['padding']), pair(a['output_padding'])
        dims = []
        for i, n in enumerate((h, w)):
            if op_[i] >= s[i] and op_[i] >= d[i]:
                raise Invalid('output_padding')
            dims.append((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op_[i] + 1)
        return check_dims((a['out'],) + tuple(dims))
    if op == 'linear':
        if len(sh[0]) != 1:
            raise Invalid('linear needs flat')
        return (a['out'],)
    if op in ('maxpool2d', 'avgpool2d'):
        c, h, w = sh[0]
        k, s, p = pair(a['k']), pair(a['stride']), pair(a['padding'])
        d = pair(a.get('dilation', 1))
        dims = []
        for i, n in enumerate((h, w)):
            if 2 * p[i] > k[i]:
                raise Invalid('pool padding')
            dims.append(out_size(n, k[i], s[i], p[i], p[i], d[i], a['ceil_mode']))
        return check_dims((c,) + tuple(dims))
    if op == 'global_avgpool':
        return (sh[0][0], 1, 1)
    if op == 'upsample':
        c, h, w = sh[0]
        if a.get('size'):
            return check_dims((c,) + a['size'])
        s = a['scale'] if isinstance(a['scale'], tuple) else (a['scale'], a['scale'])
        return check_dims((c, int(h * s[0] // 1), int(w * s[1] // 1)))
    if op in ('adaptive_avgpool2d', 'adaptive_maxpool2d'):
        return check_dims((sh[0][0],) + pair(a['size']))
    if op == 'global_maxpool':
        return (sh[0][0], 1, 1)
    if op == 'pad':
        c, h, w = sh[0]
        left, right, top, bottom = a['pad']
        check_pad_mode(a['mode'], h, top, bottom)
        check_pad_mode(a['mode'], w, left, right)
        return check_dims((c, h + top + bottom, w + left + right))
    if op == 'crop':
        (c, h, w), (_, lh, lw) = sh
        if lh > h or lw > w:
            raise Invalid('crop')
        return (c, lh, lw)
    if op == 'concat' and a.get('axis', 0):
        ax = a['axis']
        if not three or len(set(s[:ax] + s[ax + 1:] for s in sh)) != 1:
            raise Invalid('concat shapes')
        out = list(sh[0])
        out[ax] = sum(s[ax] for s in sh)
        return check_dims(tuple(out))
    if op == 'concat':
        if all(len(s) == 1 for s in sh):
            return (sum(s[0] for s in sh),)
        if not three or len(set(s[1:] for s in sh)) != 1:
            raise Invalid('concat shapes')
        return (sum(s[0] for s in sh),) + sh[0][1:]
    if op in ('add', 'sub', 'mul'):
        return broadcast(sh[0], sh[1])
    if op == 'flatten':
        n = 1
        for v in sh[0]:
            n *= v
        return (n,)
    if op == 'group_norm' and sh[0][0] % a['groups']:
        raise Invalid('num_groups')
    if op == 'group_norm' and sh[0][0] // a['groups'] * (sh[0][1] * sh[0][2] if three else 1) == 1:
        raise Invalid('one value per group: PyTorch refuses it at batch 1')
    if op == 'instance_norm' and not a['track'] and sh[0][1] * sh[0][2] == 1:
        raise Invalid('1 x 1 instance norm (PyTorch refuses)')
    if op == 'layer_norm' and tuple(sh[0][-len(a['shape']):]) != a['shape']:
        raise Invalid('normalized_shape')
    if op == 'layer_norm' and all(v == 1 for v in a['shape']):
        # x - mean(x) is 0; convc gives 0, PyTorch rounding noise (~1e-7), which a later
        # norm of the result scales by 1/sqrt(eps) past the tolerance
        raise Invalid('layer_norm over one value')
    if op == 'pixel_shuffle':
        c, h, w = sh[0]
        r = a['r']
        if c % (r * r):
            raise Invalid('pixel_shuffle channels')
        return check_dims((c // (r * r), h * r, w * r))
    if op == 'pixel_unshuffle':
        c, h, w = sh[0]
        r = a['r']
        if h % r or w % r:
            raise Invalid('pixel_unshuffle size')
        return check_dims((c * r * r, h // r, w // r))
    if op in ('slice', 'chunk', 'split'):
        out = list(sh[0])
        out[a['axis']] = a['end'] - a['start']
        return tuple(out)
    if op == 'unflatten' and len(sh[0]) != 1:
        raise Invalid('unflatten of [C, H, W]')
    if op in ('reshape', 'unflatten'):
        return a['shape']
    if op == 'channel_shuffle' and sh[0][0] % a['groups']:
        raise Invalid('channel_shuffle groups')
    return sh[0]  # batchnorm2d, norms, channel_shuffle, activations, softmax, dropout


def broadcast(a, b):
    """PyTorch's broadcasting of two per-sample shapes of one rank (docs/language.md):
    per dimension equal, or one of them 1."""
    if len(a) != len(b):
        raise Invalid('ranks differ')
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            raise Invalid('no broadcast')
        out.append(y if x == 1 else x)
    return tuple(out)


def broadcasts(a, b):
    try:
        broadcast(a, b)
        return True
    except Invalid:
        return False


def check_dims(shape):
    n = 1
    for v in shape:
        if v < 1:
            raise Invalid('size < 1')
        n *= v
    if n > MAX_ELEMS:
        raise Invalid('too large for a quick test')
    return shape


def macs(node):
    """Multiply-accumulates per sample (for keeping networks quick)."""
    a, s = node.attrs, node.shape
    n = 1
    for v in s:
        n *= v
    if node.op == 'conv2d':
        k = pair(a['k'])
        return n * node.ins[0].shape[0] // a['groups'] * k[0] * k[1]
    if node.op == 'conv_transpose2d':
        k = pair(a['k'])
        i = node.ins[0].shape
        return i[0] * i[1] * i[2] * a['out'] // a['groups'] * k[0] * k[1]
    if node.op == 'linear':
        return n * node.ins[0].shape[0]
    if node.op in ('maxpool2d', 'avgpool2d'):
        k = pair(a['k'])
        return n * k[0] * k[1]
    return n


class Block:
    """A block definition: parameters (name, kind, default text) and body
    statements (name, op, [argument templates]) over them; an argument
    template is a tensor name, a parameter, or literal text."""

    def __init__(self, name):
        self.name = name
        self.params = []     # (name, kind, default text or None, default value)
        self.body = []       # (lhs, op, [templates], {attr: template})
        self.ret = None      # name returned, or ('add', a, b) for `return a + b`
        self.edits = {}      # body statement index -> a broken variant's edit (mutate.py)
        self.used = False


class Net:
    """A generated network: the graph, the blocks, the statements."""

    def __init__(self, seed, known, wide=False):
        self.seed = seed
        self.wide = wide          # channel counts for the blocked and Winograd kernels
        self.allow_known = known
        self.rng = random.Random(seed)
        self.nodes = []
        self.inputs = []
        self.outputs = []
        self.blocks = []
        self.stmts = []          # ('input', node) | ('assign', node) | ('call', instance tuple)
        self.names = set()
        self.keys = set()
        self.known = set()
        self.counter = 0
        self.total_macs = 0
        self.input_range = 1.0
        self.conv_name = 'n%d' % seed
        self.decoy = False        # a second network in the file
        self.res_macs = 0         # MACs allowed on top for the residual blocks

    def use_known(self, tag):
        """Whether to keep a drawn feature that hits known defect tag: only
        with known=True, and then only sometimes, so that networks without it
        stay common (a failure of a network with a known defect is not
        looked into further). A tag no longer in KNOWN (fixed) is always kept."""
        if tag not in KNOWN:
            return True
        if not self.allow_known or self.rng.random() < 0.7:
            return False
        self.known.add(tag)
        return True

    # --- drawing -------------------------------------------------------------

    def fresh(self, stem):
        self.counter += 1
        name = '%s%d' % (stem, self.counter)
        self.names.add(name)
        return name

    def visible(self):
        """Tensors a network statement can name: inputs and bound layers."""
        return [n for n in self.nodes if n.name]

    def pick(self, pred=lambda n: True):
        cands = [n for n in self.visible() if pred(n)]
        if not cands:
            return None
        # prefer recent tensors: long chains as well as branches
        return cands[min(len(cands) - 1, int(len(cands) * (1 - self.rng.random() ** 2)))]

    def add_node(self, op, ins, attrs, key=None):
        shape = infer(op, [i.shape for i in ins], attrs)
        node = Node(op, ins, attrs, shape, key)
        m = macs(node)
        if self.total_macs + m > MAX_MACS * (3 if self.big or self.wide else 1) + self.res_macs:
            raise Invalid('too many MACs')
        self.total_macs += m
        self.nodes.append(node)
        return node


def choice(rng, seq, weights=None):
    return rng.choices(seq, weights)[0]


def maybe_pair(rng, lo, hi):
    if rng.random() < 0.3:
        return (rng.randint(lo, hi), rng.randint(lo, hi))
    return rng.randint(lo, hi)


def draw_conv(net, x):
    rng = net.rng
    c = x.shape[0]
    g = choice(rng, [1, 1, 1, 2, 3, c]) if c > 1 else 1
    if c % g:
        g = 1
    out = g * rng.randint(1, max(1, 8 // g)) if rng.random() < 0.8 else g * rng.randint(1, 3)
    if rng.random() < 0.15:  # several register tiles of output channels
        out = g * rng.randint(9, 40 // g + 9)
    if net.wide and rng.random() < 0.7:  # blocks of 16 output channels, the last one partial or not
        g, out = 1, choice(rng, [16, 32, 48, 64, rng.randint(12, 16), rng.randint(28, 33), rng.randint(40, 64)])
    k = maybe_pair(rng, 1, 5)
    stride = 1 if rng.random() < 0.6 else maybe_pair(rng, 1, 3)
    dil = 1 if rng.random() < 0.75 else maybe_pair(rng, 1, 3)
    r = rng.random()
    if r < 0.15 and stride == 1:
        pad = 'same'
    elif r < 0.25:
        pad = 'valid'
    else:
        pad = maybe_pair(rng, 0, 3)
    pmode = 'zeros' if rng.random() < 0.8 or pad in (0, 'valid') else choice(rng, PAD_MODES[1:])
    a = dict(out=out, k=k, stride=stride, padding=pad, dilation=dil, groups=g,
             bias=rng.random() < 0.7, padding_mode=pmode)
    args = ['%d' % out, ptext(k)]
    kw = []
    if stride != 1 or rng.random() < 0.1:
        kw.append('stride=%s' % ptext(stride))
    if pad != 0 or rng.random() < 0.1:
        kw.append('padding=%s' % (pad if isinstance(pad, str) and rng.random() < 0.7 else
                                  '"%s"' % pad if isinstance(pad, str) else ptext(pad)))
    if dil != 1:
        kw.append('dilation=%s' % ptext(dil))
    if g != 1:
        kw.append('groups=%d' % g)
    if not a['bias'] or rng.random() < 0.1:
        kw.append('bias=%s' % btext(a['bias']))
    if pmode != 'zeros' or rng.random() < 0.05:
        kw.append('padding_mode=%s' % (pmode if rng.random() < 0.7 else '"%s"' % pmode))
    if rng.random() < 0.15:
        kw.append('in_channels=%d' % c)
    return a, args + kw


def draw_tconv(net, x):
    rng = net.rng
    c = x.shape[0]
    g = choice(rng, [1, 1, 2, c]) if c > 1 else 1
    if c % g:
        g = 1
    out = g * rng.randint(1, max(1, 6 // g))
    k = maybe_pair(rng, 1, 4)
    stride = k if rng.random() < 0.3 else maybe_pair(rng, 1, 3)  # k == stride: its own kernel
    if rng.random() < 0.1:
        out = g * rng.randint(5, 30 // g + 5)
    dil = 1 if rng.random() < 0.8 else maybe_pair(rng, 1, 2)
    pad = 0 if rng.random() < 0.5 else maybe_pair(rng, 0, 2)
    s2, d2 = pair(stride), pair(dil)
    opad = (rng.randint(0, max(s2[0], d2[0]) - 1), rng.randint(0, max(s2[1], d2[1]) - 1))
    if rng.random() < 0.5:
        opad = (0, 0)
    a = dict(out=out, k=k, stride=stride, padding=pad, output_padding=opad, groups=g,
             bias=rng.random() < 0.7, dilation=dil)
    if rng.random() < 0.3:  # all positional, in PyTorch's order
        args = ['%d' % out, ptext(k), ptext(stride), ptext(pad), ptext(opad), '%d' % g,
                btext(a['bias']), ptext(dil)]
    else:
        args = ['%d' % out, ptext(k), 'stride=%s' % ptext(stride)]
        if pad != 0:
            args.append('padding=%s' % ptext(pad))
        if opad != (0, 0):
            args.append('output_padding=%s' % ptext(opad))
        if g != 1:
            args.append('groups=%d' % g)
        if not a['bias']:
            args.append('bias=false')
        if dil != 1:
            args.append('dilation=%s' % ptext(dil))
    return a, args


def draw_pool(net, x, op):
    rng = net.rng
    if op == 'maxpool2d' and rng.random() < 0.03 and net.use_known('maxpool-huge'):
        k = 1 << 30
        a = dict(k=k, stride=k, padding=k // 2, dilation=1, ceil_mode=False)
        return a, ['%d' % k, 'padding=%d' % (k // 2)]
    k = maybe_pair(rng, 1, 4)
    kk = pair(k)
    stride = k if rng.random() < 0.5 else maybe_pair(rng, 1, 3)
    pad = 0 if rng.random() < 0.5 else (rng.randint(0, kk[0] // 2), rng.randint(0, kk[1] // 2))
    if pad != 0 and pad[0] == pad[1]:
        pad = pad[0]
    ceil = rng.random() < 0.35
    a = dict(k=k, stride=stride, padding=pad, ceil_mode=ceil)
    args = [ptext(k)]
    if stride != k or rng.random() < 0.2:
        args.append('stride=%s' % ptext(stride))
    if pad != 0:
        args.append('padding=%s' % ptext(pad))
    if op == 'maxpool2d':
        a['dilation'] = 1 if rng.random() < 0.7 else maybe_pair(rng, 1, 3)
        if a['dilation'] != 1:
            args.append('dilation=%s' % ptext(a['dilation']))
    else:
        a['count_include_pad'] = rng.random() < 0.5
        if not a['count_include_pad']:
            args.append('count_include_pad=false')
    if ceil:
        args.append('ceil_mode=true')
    return a, args


SCALES = (0.5, 0.75, 1.25, 1.5, 1.7, 2, 2, 2.5, 3, 1.1, 2.2, 0.4, 1.9)


def upsample_known(h, w, s, mode):
    """The fix-results cases of issue 6 (3, 4)."""
    for n, f in zip((h, w), s):
        if float(f) == int(f):
            continue
        o = int(n * f // 1)
        if mode == 'nearest' and o in (n, 2 * n):
            return True
        if mode == 'bilinear' and o == n:
            return True
    return False


def draw_upsample(net, x):
    rng = net.rng
    mode = choice(rng, ['nearest', 'bilinear', 'bicubic', 'nearest-exact'], [4, 4, 2, 2])
    align = None
    if mode in ('bilinear', 'bicubic') and rng.random() < 0.4:
        align = rng.random() < 0.6
    if rng.random() < 0.3:  # to a size: size=(h, w) or like=another tensor
        like = net.pick(lambda n: len(n.shape) == 3 and n.name is not None) if rng.random() < 0.5 else None
        size = like.shape[1:] if like else (rng.randint(1, 24), rng.randint(1, 24))
        a = dict(size=size, mode=mode, align=align)
        args = ['like=%s' % like.name if like else 'size=(%d, %d)' % size]
        return a, upsample_mode_args(rng, args, mode, align)
    if rng.random() < 0.3:
        s = (choice(rng, SCALES), choice(rng, SCALES))
        text = '(%s, %s)' % (ftext(s[0]), ftext(s[1]))
    else:
        f = choice(rng, SCALES)
        s, text = (f, f), ftext(f) if f != int(f) else '%d' % f
    if upsample_known(x.shape[1], x.shape[2], s, mode) and not net.use_known('upsample-frac'):
        raise Invalid('known defect')
    a = dict(scale=s if s[0] != s[1] or '(' in text else s[0], mode=mode, align=align)
    return a, upsample_mode_args(rng, [text], mode, align)


def upsample_mode_args(rng, args, mode, align):
    if mode != 'nearest' or rng.random() < 0.2:
        word = mode.replace('-', '_') if rng.random() < 0.5 else mode
        args.append('mode=%s' % ('"%s"' % mode if '-' in word or rng.random() < 0.2 else word))
    if align is not None:
        args.append('align_corners=%s' % btext(align))
    return args


def draw_adaptive(net, x, op):
    rng = net.rng
    if op == 'global_maxpool':
        return {}, []
    size = maybe_pair(rng, 1, 9)
    return dict(size=size), [ptext(size) if rng.random() < 0.6 else 'output_size=%s' % ptext(size)]


def draw_pad(net, x):
    rng = net.rng
    mode = choice(rng, PAD_MODES)
    if rng.random() < 0.2:
        p = rng.randint(0, 3)
        pads, text = (p, p, p, p), '%d' % p
    elif mode == 'constant' and rng.random() < 0.3:
        pads = (rng.randint(-2, 4), rng.randint(-2, 4), 0, 0)
        text = '(%d, %d)' % pads[:2]
    else:
        pads = tuple(rng.randint(-2, 5) for _ in range(4))
        text = '(%d, %d, %d, %d)' % pads
    a = dict(pad=pads, mode=mode, value=0.0)
    args = [text]
    if mode != 'constant' or rng.random() < 0.2:
        args.append('mode=%s' % mode if rng.random() < 0.8 else mode)
    if mode == 'constant' and rng.random() < 0.4:
        a['value'] = choice(rng, [1.0, -0.5, 2.5])
        args.append('value=%s' % ftext(a['value']))
    return a, args


def is_alias(n):
    return n.op in ('flatten', 'dropout')


def alias_root(n):
    while is_alias(n):
        n = n.ins[0]
    return n


def draw_unary(net, op, x):
    """-> (attrs, args) for a one-input op on x, or raise Invalid."""
    rng = net.rng
    if op == 'conv2d':
        return draw_conv(net, x)
    if op == 'conv_transpose2d':
        return draw_tconv(net, x)
    if op == 'linear':
        out = rng.randint(1, 12)
        bias = rng.random() < 0.8
        args = ['%d' % out] + ([] if bias and rng.random() < 0.7 else ['bias=%s' % btext(bias)])
        if rng.random() < 0.2:
            args.append('in_features=%d' % x.shape[0])
        return dict(out=out, bias=bias), args
    if op == 'batchnorm2d':
        eps = choice(rng, [1e-5, 1e-5, 1e-3, 0.1])
        mom = choice(rng, [0.1, 0.1, 0.5])
        args = []
        if eps != 1e-5:
            args.append('eps=%s' % ftext(eps) if rng.random() < 0.7 else ftext(eps))
        if mom != 0.1 and eps != 1e-5:
            args.append('momentum=%s' % ftext(mom))
        if rng.random() < 0.2:
            args.append('num_features=%d' % x.shape[0])
        affine = rng.random() < 0.8
        if not affine:
            args.append('affine=false')
        return dict(eps=eps, momentum=mom, affine=affine), args
    if op in NORMS or op in SHUFFLES:
        return draw_norm_shuffle(net, op, x)
    if op in ('slice', 'reshape', 'unflatten'):
        return draw_rearrange(net, op, x)
    if op in ACTS:
        if is_alias(x) and alias_root(x).op in ('conv2d', 'conv_transpose2d', 'batchnorm2d') \
                and not net.use_known('act-after-flatten'):
            raise Invalid('known defect')
        if op == 'leaky_relu':
            slope = choice(rng, [0.01, 0.2, 0.5, 1.5, -0.3])
            args = [] if slope == 0.01 else [ftext(slope) if rng.random() < 0.5 else
                                             'negative_slope=%s' % ftext(slope)]
            return dict(slope=slope), args
        return {}, (['inplace=true'] if op in ('relu', 'relu6', 'silu') and rng.random() < 0.1
                    else [])
    if op in ACTS9:
        return draw_act9(rng, op)
    if op == 'prelu':
        num = choice(rng, [1, x.shape[0]])
        return dict(num=num), ([] if num == 1 else [('num_parameters=%d' if rng.random() < 0.5 else '%d') % num])
    if op in ('maxpool2d', 'avgpool2d'):
        return draw_pool(net, x, op)
    if op == 'upsample':
        return draw_upsample(net, x)
    if op in ('adaptive_avgpool2d', 'adaptive_maxpool2d', 'global_maxpool'):
        return draw_adaptive(net, x, op)
    if op == 'pad':
        return draw_pad(net, x)
    if op in ('softmax', 'log_softmax'):
        return {}, (['dim=1'] if rng.random() < 0.3 else [])
    if op == 'dropout':
        p = choice(rng, [0.5, 0.1, 0.0, 0.9])
        return dict(p=p), ([] if p == 0.5 else ['p=%s' % ftext(p)])
    if op == 'flatten':
        if len(x.shape) != 3:
            raise Invalid('flatten of flat')
        return {}, (['start_dim=1'] if rng.random() < 0.2 else [])
    return {}, []  # global_avgpool


def draw_rearrange(net, op, x):
    """-> (attrs, args) for slice, reshape or unflatten on x."""
    rng = net.rng
    if op == 'slice':
        axis = 0 if len(x.shape) == 1 else choice(rng, [0, 0, 1, 2])
        n = x.shape[axis]
        start = rng.randint(0, n - 1)
        end = rng.randint(start + 1, n)
        rank = len(x.shape) + 1
        st = start - n if rng.random() < 0.3 else start
        args = ['%d' % st]
        if end != n or rng.random() < 0.5:
            args.append('%d' % (end - n if end != n and rng.random() < 0.3 else end))
        if axis or rng.random() < 0.2:
            args.append('dim=%d' % (axis + 1 - (rank if rng.random() < 0.3 else 0)))
        return dict(axis=axis, start=start, end=end), args
    numel = 1
    for v in x.shape:
        numel *= v
    divs = [d for d in range(1, numel + 1) if numel % d == 0 and d <= 64]
    if op == 'unflatten':
        h, w = choice(rng, divs), 1
        if (numel // h) % 2 == 0 and rng.random() < 0.5:
            w = 2
        shape = (numel // (h * w), h, w)
        free = rng.randint(-1, 2)
        text = ', '.join('-1' if i == free else str(v) for i, v in enumerate(shape))
        return dict(shape=shape), [choice(rng, ['1', '-1']), '(%s)' % text]
    if len(x.shape) == 3 and rng.random() < 0.3:
        return dict(shape=(numel,)), ['%d' % numel if rng.random() < 0.7 else '-1']
    w = choice(rng, divs)
    shape = (numel // w, 1, w) if rng.random() < 0.5 else (1, numel // w, w)
    free = rng.randint(-1, 2)
    text = ', '.join('-1' if i == free else str(v) for i, v in enumerate(shape))
    return dict(shape=shape), ['(%s)' % text]


def draw_norm_shuffle(net, op, x):
    """-> (attrs, args) for group_norm, layer_norm, instance_norm or a shuffle on x."""
    rng = net.rng
    c = x.shape[0]
    eps = choice(rng, [1e-5, 1e-5, 1e-3, 0.1])
    affine = rng.random() < 0.7
    eps_args = [] if eps == 1e-5 else ['eps=%s' % ftext(eps)]
    if op == 'group_norm':
        g = choice(rng, [d for d in range(1, c + 1) if c % d == 0])
        args = ['%d' % g] + eps_args + ([] if affine else ['affine=false'])
        if rng.random() < 0.2:
            args.append('num_channels=%d' % c)
        return dict(groups=g, eps=eps, affine=affine), args
    if op == 'layer_norm':
        shape = tuple(x.shape[-rng.randint(1, len(x.shape)):])
        text = '%d' % shape[0] if len(shape) == 1 else '(%s)' % ', '.join(map(str, shape))
        args = [text] + eps_args + ([] if affine else ['elementwise_affine=false'])
        return dict(shape=shape, eps=eps, affine=affine), args
    if op == 'instance_norm':
        affine = rng.random() < 0.5
        track = rng.random() < 0.3
        args = eps_args + (['affine=true'] if affine else []) + (['track_running_stats=true'] if track else [])
        return dict(eps=eps, affine=affine, track=track), args
    if op == 'channel_shuffle':
        g = choice(rng, [d for d in range(1, c + 1) if c % d == 0])
        return dict(groups=g), ['%d' % g]
    r = choice(rng, [1, 2, 2, 3])
    word = 'upscale_factor' if op == 'pixel_shuffle' else 'downscale_factor'
    return dict(r=r), ['%s=%d' % (word, r) if rng.random() < 0.3 else '%d' % r]


def draw_act9(rng, op):
    """-> (attrs, args) of an activation of issue 9, its arguments PyTorch's."""
    if op == 'gelu':
        tanh = rng.random() < 0.5
        return dict(approximate='tanh' if tanh else 'none'), (
            [choice(rng, ['approximate=tanh', 'approximate="tanh"', "approximate='tanh'"])] if tanh else
            ['approximate="none"'] if rng.random() < 0.2 else [])
    if op == 'elu':
        alpha = choice(rng, [1.0, 1.0, 0.5, 2.0])
        return dict(alpha=alpha), ([] if alpha == 1.0 else [ftext(alpha)])
    if op == 'softplus':
        beta, threshold = choice(rng, [(1.0, 20.0), (2.0, 5.0), (0.5, 1.0), (-1.0, 20.0)])
        return dict(beta=beta, threshold=threshold), (
            [] if beta == 1.0 else ['beta=%s' % ftext(beta), 'threshold=%s' % ftext(threshold)])
    if op == 'hardtanh':
        lo, hi = choice(rng, [(-1.0, 1.0), (-0.5, 2.0), (0.0, 6.0), (-3.0, -1.0)])
        return dict(min_val=lo, max_val=hi), (
            [] if (lo, hi) == (-1.0, 1.0) else [ftext(lo), 'max_val=%s' % ftext(hi)])
    return {}, (['inplace=true'] if rng.random() < 0.1 and op != 'softplus' else [])


# --- the network -----------------------------------------------------------

def draw_inputs(net):
    rng = net.rng
    count = choice(rng, [1, 1, 1, 2, 2, 3])
    net.big = rng.random() < 0.08
    for i in range(count):
        if net.big and i == 0:
            shape = (rng.randint(1, 2), 97, 131)
        elif rng.random() < 0.12:
            shape = (rng.randint(1, 20),)
        else:
            h, w = choice(rng, [(1, 1), (7, 13), (rng.randint(1, 12), rng.randint(1, 12)),
                                (rng.randint(2, 24), rng.randint(2, 24)), (16, 16)])
            shape = (rng.randint(1, 6) if not net.wide else choice(rng, [8, 16, 17, 32, 48]), h, w)
        node = Node('input', [], {}, shape)
        node.name = net.fresh(choice(rng, ['x', 'img', 'in']))
        net.nodes.append(node)
        net.inputs.append(node)
        net.stmts.append(('input', node))
    net.input_range = choice(rng, [1.0, 1.0, 4.0])
    net.decoy = rng.random() < 0.1


OP_WEIGHTS = {
    'conv2d': 8, 'conv_transpose2d': 3, 'linear': 2, 'batchnorm2d': 3, 'relu': 2, 'relu6': 1,
    'silu': 1, 'leaky_relu': 1, 'sigmoid': 1, 'tanh': 1, 'maxpool2d': 3, 'avgpool2d': 3,
    'global_avgpool': 1, 'upsample': 3, 'flatten': 1, 'softmax': 1, 'dropout': 1,
    'adaptive_avgpool2d': 1, 'adaptive_maxpool2d': 1, 'global_maxpool': 1, 'pad': 2,
    'concat': 3, 'add': 3, 'crop': 2, 'block': 4, 'idiom': 2,
    'group_norm': 1, 'layer_norm': 1, 'instance_norm': 1,
    'pixel_shuffle': 1, 'pixel_unshuffle': 1, 'channel_shuffle': 1,
    'slice': 2, 'reshape': 1, 'unflatten': 1, 'unpack': 2,
    # issue 9
    'hardswish': 1, 'hardsigmoid': 1, 'gelu': 1, 'elu': 1, 'selu': 1, 'softplus': 1, 'mish': 1,
    'hardtanh': 1, 'prelu': 1, 'log_softmax': 1, 'sub': 2, 'mul': 2, 'scalar': 2,
}


def bind(net, node, stem):
    """Binds node to a fresh network name, or sometimes a name= key override."""
    node.name = net.fresh(stem)
    if node.op in OPS_WITH_KEYS:
        node.key = node.name
        if net.rng.random() < 0.15:
            node.key = fresh_key(net)
            node.args = node.args + ['name="%s"' % node.key]


def fresh_key(net):
    while True:
        key = choice(net.rng, ['features', 'head', 'layer%d' % net.rng.randint(1, 4), 'm']) + \
            '.%d' % net.rng.randint(0, 9)
        if key not in net.keys and key.split('.')[0] not in net.names:
            net.keys.add(key)
            return key


def step(net):
    """Adds one statement (a layer, possibly with an anonymous inner layer, or a block call)."""
    rng = net.rng
    ops = list(OP_WEIGHTS)
    op = rng.choices(ops, [OP_WEIGHTS[o] for o in ops])[0]
    if op == 'block':
        return call_block(net)
    if op in ('concat', 'add', 'crop', 'sub', 'mul'):
        return step_multi(net, op)
    if op == 'scalar':
        return step_scalar(net)
    if op == 'idiom':
        return step_idiom(net)
    if op == 'unpack':
        return step_unpack(net)
    flat = op in ('linear', 'softmax', 'log_softmax', 'dropout', 'prelu', 'group_norm', 'layer_norm',
                  'slice', 'reshape', 'unflatten') + ACTS + ACTS9
    x = net.pick(lambda n: (len(n.shape) == 1) == (op == 'linear') or (flat and op != 'linear'))
    if x is None:
        raise Invalid('no input')
    attrs, args = draw_unary(net, op, x)
    inner = None
    if op in OPS_WITH_KEYS and len(x.shape) == 3 and rng.random() < 0.2:
        # an anonymous activation or pool written inside the call
        iop = choice(rng, ['relu', 'tanh', 'maxpool2d', 'dropout'])
        iattrs, iargs = draw_unary(net, iop, x)
        inner = net.add_node(iop, [x], iattrs)
        inner.args = iargs
        x = inner
        attrs, args = draw_unary(net, op, x)
    try:
        node = net.add_node(op, [x], attrs)
    except Invalid:
        if inner is not None:
            net.nodes.remove(inner)
        raise
    node.args = args
    bind(net, node, {'conv2d': 'c', 'conv_transpose2d': 't', 'linear': 'fc',
                     'batchnorm2d': 'bn', 'group_norm': 'gn', 'layer_norm': 'ln', 'instance_norm': 'inorm',
                     'pixel_shuffle': 'ps', 'pixel_unshuffle': 'pu', 'prelu': 'pr'}.get(op, op[:2]))
    if op in OPS_WITH_KEYS and inner is None and rng.random() < 0.5:
        share(net, node)
    net.stmts.append(('assign', node))


# --- residual blocks -------------------------------------------------------

RES_ACTS = (None, None, 'relu', 'relu', 'relu6', 'sigmoid', 'silu', 'tanh', 'leaky_relu', 'hardswish',
            'gelu', 'elu')
# those Winograd computes in its epilogue (cg_vector_act); the others leave the conv to the direct kernels
WINO_ACTS = (None, 'relu', 'relu6', 'leaky_relu', 'hardswish')
# channel counts for the residual blocks: NCHW tiles, whole and partial blocks of 16
# (conv_depthwise wants at most a quarter of a block as padding: 13-16, 25-32, ...)
RES_CHANNELS = (3, 8, 13, 16, 16, 17, 24, 32, 32, 48)


def res_layer(net, rng, op, ins, attrs, args, named):
    """A layer of a residual block: bound to a name (named) or written inline with a
    name= key (a keyed layer needs one)."""
    node = net.add_node(op, ins, attrs)
    node.args = list(args)
    if named:
        bind(net, node, {'conv2d': 'c', 'batchnorm2d': 'bn', 'add': 'r'}.get(op, op[:2]))
        net.stmts.append(('assign', node))
    elif op in OPS_WITH_KEYS:
        node.key = fresh_key(net)
        node.args.append('name="%s"' % node.key)
    return node


def res_conv(net, rng, x, out, k, stride=1, groups=1, dilation=1, named=True):
    """conv2d(x, out, k) keeping H, W at stride 1 (padding dilation * (k - 1) / 2)."""
    kk = pair(k)
    pad = (dilation * (kk[0] // 2), dilation * (kk[1] // 2))
    pad = pad[0] if pad[0] == pad[1] else pad
    if kk[0] % 2 == 0 or kk[1] % 2 == 0:
        pad = 'same'
    bias = rng.random() < 0.7
    a = dict(out=out, k=k, stride=stride, padding=pad, dilation=dilation, groups=groups, bias=bias,
             padding_mode='zeros')
    args = ['%d' % out, ptext(k)]
    if stride != 1:
        args.append('stride=%d' % stride)
    if pad != 0:
        args.append('padding=%s' % (pad if pad == 'same' else ptext(pad)))
    if dilation != 1:
        args.append('dilation=%d' % dilation)
    if groups != 1:
        args.append('groups=%d' % groups)
    if not bias:
        args.append('bias=false')
    return res_layer(net, rng, 'conv2d', [x], a, args, named)


def step_residual(net, rng, last=None):
    """act(conv2d(s) + r), the pattern ir_fuse_residual turns into one conv node: the
    conv (plain, grouped, depthwise, 1x1, 3x3 for Winograd, strided, dilated, sometimes
    with a batchnorm folded into it) used only by the add, r the conv's own input, a
    network input or another tensor of its shape, or another conv (a downsample
    shortcut); s sometimes an expansion of a visible tensor to more channels first
    (a MobileNet block: 1x1, depthwise 3x3 with an activation, 1x1 back, + x);
    an activation after the add or not, written inline or as statements. Often the
    block reads the previous block's result (last), so that a fused conv writes a
    tensor other layers read, not a network output (NCHW). -> the block's result."""
    cands = [n for n in net.visible() if len(n.shape) == 3]
    if not cands:
        raise Invalid('no input')
    x = cands[min(len(cands) - 1, int(len(cands) * (1 - rng.random() ** 2)))]
    if last is not None and rng.random() < 0.6:
        x = last
    snapshot = (len(net.nodes), len(net.stmts), net.total_macs)
    try:
        s = x
        kind = choice(rng, ['plain', 'depthwise', 'mbconv', 'down', 'dwfree', 'wino'], [4, 3, 2, 2, 2, 3])
        if kind != 'plain' or rng.random() < 0.5:  # expand to a channel count of the kernels
            e = res_conv(net, rng, x, choice(rng, RES_CHANNELS if kind != 'wino' else RES_CHANNELS[3:]),
                         choice(rng, [1, 1, 3]))
            s = res_act(net, rng, e) if rng.random() < 0.5 else e
        c = s.shape[0]
        if kind == 'dwfree':  # a depthwise conv of any geometry, no residual
            a, args = draw_conv(net, s)
            a['out'] = a['groups'] = c
            args = ['%d' % c] + [t if not t.startswith('groups=') else 'groups=%d' % c for t in args[1:]]
            if not any(t.startswith('groups=') for t in args):
                args.append('groups=%d' % c)
            d = res_layer(net, rng, 'conv2d', [s], a, args, True)
            return res_act(net, rng, d) if rng.random() < 0.5 else d
        if kind == 'mbconv':
            d = res_conv(net, rng, s, c, 3, groups=c)
            d = res_act(net, rng, d, 'relu6')
            m = res_conv(net, rng, d, x.shape[0], 1, named=rng.random() < 0.5)
            r = x
        else:
            stride = 2 if kind == 'down' else 1
            groups = c if kind == 'depthwise' else choice(rng, [1, 1, 1, 2]) if c % 2 == 0 else 1
            k = choice(rng, [3, 3, 3, 1, 5, (3, 5)] if kind != 'down' else [3, 3, 1])
            dil = 2 if rng.random() < 0.1 and k != 1 else 1
            named = rng.random() < 0.5
            if kind != 'down' and rng.random() < 0.2:  # 'same': even kernels pad more at the end
                k = choice(rng, [2, 4, (2, 3), (4, 1)])
            if kind == 'wino':  # what Winograd computes (also in nChw16c when no output reads it)
                k, groups, dil = 3, 1, 1
            m = res_conv(net, rng, s, c, k, stride=stride, groups=groups, dilation=dil, named=named)
            if rng.random() < 0.25:  # ResNet's conv + batchnorm, folded before the fusion
                eps = choice(rng, [1e-5, 1e-3])
                m = res_layer(net, rng, 'batchnorm2d', [m], dict(eps=eps, momentum=0.1, affine=True),
                              [] if eps == 1e-5 else ['eps=%s' % ftext(eps)], named)
            same = [n for n in net.visible() if n.shape == m.shape and n is not m]
            r_kind = choice(rng, ['own', 'visible', 'conv'])
            if r_kind == 'own' and s.shape == m.shape:
                r = s
            elif r_kind == 'visible' and same:
                r = choice(rng, same)
            else:  # a shortcut conv, written before or after m (the later one is fused)
                r = res_conv(net, rng, choice(rng, [s, x]) if x.shape[1:] == s.shape[1:] else s,
                             c, choice(rng, [1, 1, 3]), stride=stride, named=rng.random() < 0.5)
                if m.name and r.name and rng.random() < 0.5:  # m written after r
                    i, j = net.stmts.index(('assign', m)), net.stmts.index(('assign', r))
                    net.stmts[i], net.stmts[j] = net.stmts[j], net.stmts[i]
                    net.nodes.remove(m)
                    net.nodes.insert(net.nodes.index(r) + 1, m)
        act = choice(rng, RES_ACTS if kind != 'wino' else WINO_ACTS)
        ins = [m, r] if rng.random() < 0.7 else [r, m]
        named = act is None or rng.random() < 0.4
        add = net.add_node('add', ins, {})
        if rng.random() < 0.7:
            add.infix = '+'
        if named:
            bind(net, add, 'r')
            net.stmts.append(('assign', add))
        return res_act(net, rng, add, act) if act is not None else add
    except Invalid:
        del net.nodes[snapshot[0]:]
        del net.stmts[snapshot[1]:]
        net.total_macs = snapshot[2]
        raise


def res_act(net, rng, x, op=None):
    op = op or choice(rng, [o for o in RES_ACTS if o])
    attrs, args = draw_unary(net, op, x)
    node = net.add_node(op, [x], attrs)
    node.args = args
    bind(net, node, 'a')
    net.stmts.append(('assign', node))
    return node


def step_unpack(net):
    """a, b, ... = chunk(x, n) or split(x, size or sections): one slice node per name."""
    rng = net.rng
    x = net.pick()
    axis = 0 if len(x.shape) == 1 else choice(rng, [0, 0, 1, 2])
    n = x.shape[axis]
    if n < 2:
        raise Invalid('nothing to split')
    op = choice(rng, ['chunk', 'split'])
    if op == 'chunk':
        k = rng.randint(2, min(n, 4))
        size = -(-n // k)
        cuts = list(range(0, n, size)) + [n]
        args = ['%d' % k]
    elif rng.random() < 0.5:
        size = rng.randint(1, n - 1)
        cuts = list(range(0, n, size)) + [n]
        args = ['%d' % size]
    else:
        inner = sorted(rng.sample(range(1, n), min(n - 1, rng.randint(1, 2))))
        cuts = [0] + inner + [n]
        args = ['(%s)' % ', '.join('%d' % (b - a) for a, b in zip(cuts, cuts[1:]))]
    if len(cuts) - 1 > 5:
        raise Invalid('too many parts')
    if axis or rng.random() < 0.2:
        rank = len(x.shape) + 1
        args.append('dim=%d' % (axis + 1 - (rank if rng.random() < 0.3 else 0)))
    snapshot = (len(net.nodes), net.total_macs)
    nodes = []
    try:
        for a, b in zip(cuts, cuts[1:]):
            nodes.append(net.add_node(op, [x], dict(axis=axis, start=a, end=b)))
    except Invalid:
        del net.nodes[snapshot[0]:]
        net.total_macs = snapshot[1]
        raise
    for node in nodes:
        node.name = net.fresh(op[:2])
    net.stmts.append(('unpack', (nodes, op, args, x)))


def share(net, node):
    """Makes node use the parameters of an earlier layer of the same op (share=), when one
    has the same parameter shapes: same input channels (features) and attributes."""
    x = node.ins[0]

    def fits(n):
        return (n is not node and n.op == node.op and n.key and n.shares is None and n.name
                and len(n.ins[0].shape) == len(x.shape)
                and (n.ins[0].shape == x.shape if node.op == 'linear' else n.ins[0].shape[0] == x.shape[0]))
    owners = [n for n in net.nodes if fits(n)]
    if not owners:
        return
    owner = choice(net.rng, owners)
    try:
        shape = infer(node.op, [x.shape], owner.attrs)
    except Invalid:
        return
    net.total_macs += macs(Node(node.op, [x], owner.attrs, shape)) - macs(node)
    node.attrs, node.shape = dict(owner.attrs), shape
    node.args = [a for a in owner.args if not a.startswith('name=')] + ['share=%s' % owner.name]
    node.key, node.shares = owner.key, owner


def inline(net, op, x):
    """An anonymous layer written inside the next call."""
    attrs, args = draw_unary(net, op, x)
    node = net.add_node(op, [x], attrs)
    node.args = args
    return node


def step_idiom(net):
    """Common heads written in one line: act(flatten(conv)), linear(flatten(global_avgpool(x))),
    linear(dropout(flatten(x))), concat(flatten(a), flatten(b))."""
    rng = net.rng
    x = net.pick(lambda n: len(n.shape) == 3)
    if x is None:
        raise Invalid('no input')
    snapshot = (len(net.nodes), len(net.stmts), net.total_macs, set(net.known))
    try:
        kind = rng.choice(['act', 'linear', 'linear-dropout', 'concat'])
        if kind == 'act':
            op = rng.choice(['conv2d', 'conv2d', 'conv_transpose2d', 'batchnorm2d'])
            attrs, args = draw_unary(net, op, x)
            layer = net.add_node(op, [x], attrs)
            layer.args = args
            bind(net, layer, 'c')
            net.stmts.append(('assign', layer))
            x = inline(net, 'flatten', layer)
            if rng.random() < 0.3:
                x = inline(net, 'dropout', x)
            op = rng.choice(ACTS)
        elif kind == 'concat':
            y = net.pick(lambda n: len(n.shape) == 3)
            ins = [inline(net, 'flatten', x), inline(net, 'flatten', y)]
            if not net.use_known('concat-flat'):
                raise Invalid('known defect')
            node = net.add_node('concat', ins, {})
            bind(net, node, 'co')
            net.stmts.append(('assign', node))
            return
        else:
            if kind == 'linear':
                x = inline(net, 'flatten', inline(net, 'global_avgpool', x))
            else:
                x = inline(net, 'dropout', inline(net, 'flatten', x))
            op = 'linear'
        attrs, args = draw_unary(net, op, x)
        node = net.add_node(op, [x], attrs)
        node.args = args
        bind(net, node, op[:2])
        net.stmts.append(('assign', node))
    except Invalid:
        del net.nodes[snapshot[0]:]
        del net.stmts[snapshot[1]:]
        net.total_macs, net.known = snapshot[2], snapshot[3]
        raise


def broadcast_partner(net, a):
    """A visible tensor that broadcasts with a: often one of its shape, else one of
    its rank whose extents are 1 where they differ ([C, 1, 1], [1, H, W], ...)."""
    rng = net.rng
    same = [n for n in net.visible() if n.shape == a.shape]
    other = [n for n in net.visible() if n.shape != a.shape and broadcasts(n.shape, a.shape)]
    if other and rng.random() < 0.5:
        return choice(rng, other)
    return choice(rng, same)


def step_multi(net, op):
    rng = net.rng
    if op in ('add', 'sub', 'mul'):
        a = net.pick()
        b = broadcast_partner(net, a)
        if a is b and rng.random() < 0.5:
            raise Invalid('self operand')
        ins = [a, b] if rng.random() < 0.5 else [b, a]
    elif op == 'crop':
        a = net.pick(lambda n: len(n.shape) == 3)
        if a is None:
            raise Invalid('no input')
        cands = [n for n in net.visible() if len(n.shape) == 3 and n.shape[1] <= a.shape[1] and
                 n.shape[2] <= a.shape[2]]
        ins = [a, choice(rng, cands)]
    else:
        a = net.pick()
        axis = 0 if len(a.shape) == 1 else choice(rng, [0, 0, 0, 1, 2])
        if len(a.shape) == 1:
            cands = [n for n in net.visible() if len(n.shape) == 1]
        else:
            cands = [n for n in net.visible() if len(n.shape) == 3 and
                     n.shape[:axis] + n.shape[axis + 1:] == a.shape[:axis] + a.shape[axis + 1:]]
        ins = [a] + [choice(rng, cands) for _ in range(choice(rng, [1, 1, 1, 2, 3]))]
        rng.shuffle(ins)
        if len(a.shape) == 1 and any(is_alias(n) and len(alias_root(n).shape) == 3
                                     for n in ins[:-1]) and not net.use_known('concat-flat'):
            raise Invalid('known defect')
    node = net.add_node(op, ins, {'axis': axis} if op == 'concat' else {})
    if op == 'concat' and (axis or rng.random() < 0.2):
        # PyTorch's dims of N, C, H, W (or N, F), sometimes negative
        rank = len(a.shape) + 1
        node.args = ['dim=%d' % (axis + 1 - (rank if rng.random() < 0.4 else 0))]
    if op in ('add', 'sub', 'mul') and rng.random() < 0.5:
        node.infix = {'add': '+', 'sub': '-', 'mul': '*'}[op]
    bind(net, node, op[:2])
    net.stmts.append(('assign', node))


def step_scalar(net):
    """x * s, s * x, x + s, s + x, x - s, s - x, or the op by name (mul_scalar(x, s))."""
    rng = net.rng
    x = net.pick()
    op, sign, first = choice(rng, SCALAR_OPS)
    s = choice(rng, [0.5, 2.0, -1.5, 1.0, 3.0, 0.25, 2])
    node = net.add_node(op, [x], dict(s=s, first=first))
    text = '%d' % s if isinstance(s, int) else ftext(s)
    if rng.random() < 0.75:
        node.infix = (sign, text, first)
    else:
        node.args = [text if rng.random() < 0.7 else 'other=%s' % text]
    bind(net, node, 'sc')
    net.stmts.append(('assign', node))


# --- blocks ----------------------------------------------------------------

def make_block(net):
    """A block definition over the parameter kinds of docs/language.md:
    x (tensor), ch (integer), k=3 and pad=k / 2 (defaults, the second from
    the first), slope and eps (floats), bias (boolean), mode (word), nm
    (string, a name= key), y (a second tensor, added to the result); the body
    may call an earlier block."""
    rng = net.rng
    b = Block(net.fresh('blk'))
    b.params = [('x', 'tensor', None, None), ('ch', 'int', None, None),
                ('k', 'int', '3', 3), ('pad', 'int', 'k / 2', None)]
    extra = rng.sample(['slope', 'bias', 'mode', 'nm', 'eps', 'y'], rng.randint(1, 5))
    defaults = {'slope': ('0.2', 0.2), 'bias': ('true', True), 'mode': ('nearest', 'nearest'),
                'nm': ('"conv"', 'conv'), 'eps': ('1e-5', 1e-5), 'y': (None, None)}
    kinds = {'slope': 'float', 'bias': 'bool', 'mode': 'word', 'nm': 'string', 'eps': 'float',
             'y': 'tensor'}
    for p in extra:
        d = defaults[p]
        b.params.append((p, kinds[p], d[0] if rng.random() < 0.6 else None, d[1]))
    body = [('c', 'conv2d', ['x', 'ch', 'k'], {'padding': 'pad', 'bias': 'bias' if 'bias' in extra
                                                else None, 'name': 'nm' if 'nm' in extra else None})]
    last = 'c'
    if rng.random() < 0.6:
        body.append(('b', 'batchnorm2d', [last], {'eps': 'eps' if 'eps' in extra else None}))
        last = 'b'
    if 'mode' in extra:
        body.append(('u', 'upsample', [last, '2'], {'mode': 'mode'}))
        body.append(('p', 'maxpool2d', ['u', '2'], {}))
        last = 'p'
    b.inner = net.blocks[-1] if net.blocks and rng.random() < 0.5 else None
    if b.inner is not None:
        body.append(('s', 'block', [last], {}))
        last = 's'
    if 'slope' in extra:
        body.append(('a', 'leaky_relu', [last, 'slope'], {}))
    else:
        body.append(('a', choice(rng, ['relu', 'silu', 'tanh']), [last], {}))
    b.body = body
    b.ret = ('add', 'a', 'y') if 'y' in extra else 'a'
    net.blocks.append(b)
    return b


# values a nested call passes for the inner block's parameters without defaults
INNER_VALUES = {'slope': 0.2, 'bias': True, 'mode': 'nearest', 'nm': 'conv', 'eps': 1e-5}


def call_block(net):
    rng = net.rng
    x = net.pick(lambda n: len(n.shape) == 3)
    if x is None:
        raise Invalid('no input')
    usable = [b for b in net.blocks]
    b = choice(rng, usable) if usable and rng.random() < 0.6 else make_block(net)
    vals = {'x': x, 'ch': rng.randint(1, 6), 'k': choice(rng, [1, 3, 5]),
            'slope': choice(rng, [0.2, 0.01, -0.5]), 'bias': rng.random() < 0.5,
            'mode': choice(rng, ['nearest', 'bilinear']), 'nm': choice(rng, ['conv', 'body.0', 'q']),
            'eps': choice(rng, [1e-5, 0.01])}
    vals['pad'] = vals['k'] // 2
    written = {}
    for pname, kind, dtext, dval in b.params:
        if pname in ('x', 'ch'):
            written[pname] = True
        elif pname == 'pad':
            written[pname] = rng.random() < 0.25
            vals['pad'] = choice(rng, [0, vals['k'] // 2]) if written[pname] else None
        elif dtext is None:
            written[pname] = True
        else:
            written[pname] = rng.random() < 0.5
            if not written[pname]:
                vals[pname] = dval
    if not written['pad']:
        vals['pad'] = vals['k'] // 2
    if any(p[0] == 'y' for p in b.params):
        vals['y'] = None  # chosen after the body's shape is known
    inst = net.fresh('b')
    prefix = inst
    override = None
    if rng.random() < 0.25:
        override = fresh_key(net)
        prefix = override
    start = len(net.nodes)
    macs0 = net.total_macs
    known0 = set(net.known)
    try:
        out = expand(net, b, vals, prefix)
        if 'y' in vals:
            cands = [n for n in net.nodes[:start] if n.name and n.shape == out.shape]
            if not cands:
                raise Invalid('no tensor for y')
            y = choice(rng, cands)
            vals['y'] = y
            out = net.add_node('add', [out, y], {})
            out.key = None
    except Invalid:
        del net.nodes[start:]
        net.total_macs = macs0
        net.known = known0
        raise
    called = b
    while called is not None:  # b and the blocks it calls, to print
        called.used = True
        called = called.inner
    out.name = inst
    net.stmts.append(('call', (b, inst, vals, written, override, out, net.nodes[start:])))


def expand(net, b, vals, prefix):
    """Adds the layers of one instance of b to the graph; -> its result node."""
    env = {'x': vals['x']}
    for lhs, op, args, kw in b.body:
        if op == 'block':
            inner = b.inner
            ivals = dict(INNER_VALUES, ch=vals['ch'], k=3, pad=1)
            ivals['x'] = env[args[0]]
            if any(p[0] == 'y' for p in inner.params):
                ivals['y'] = env[args[0]]  # s = inner(last, ch, y=last): shapes agree
            out = expand(net, inner, ivals, prefix + '.' + lhs)
            if 'y' in ivals:
                out = net.add_node('add', [out, ivals['y']], {})
            env[lhs] = out
            continue
        ins = [env[args[0]]]
        if op == 'conv2d':
            a = dict(out=vals['ch'], k=vals['k'], stride=1, padding=vals['pad'], dilation=1,
                     groups=1, bias=vals.get('bias', True) if kw.get('bias') else True)
            key = prefix + '.' + (vals['nm'] if kw.get('name') else lhs)
        elif op == 'batchnorm2d':
            a = dict(eps=vals['eps'] if kw.get('eps') else 1e-5, momentum=0.1)
            key = prefix + '.' + lhs
        elif op == 'upsample':
            a = dict(scale=2, mode=vals['mode'])
            key = None
        elif op == 'maxpool2d':
            a = dict(k=2, stride=2, padding=0, dilation=1, ceil_mode=False)
            key = None
        elif op == 'leaky_relu':
            a = dict(slope=vals['slope'])
            key = None
        else:
            a, key = {}, None
        node = net.add_node(op, ins, a, key)
        env[lhs] = node
    return env['a']


def generate(seed, known=False, max_steps=None, wide=False):
    net = Net(seed, known, wide)
    net.big = False
    draw_inputs(net)
    rng = net.rng
    long_chain = rng.random() < 0.15 and not net.big  # many tensors for the memory planner
    steps = max_steps or rng.randint(2, 40 if long_chain else 14 if not net.big else 5)
    done = tries = 0
    while done < steps and tries < steps * 20:
        tries += 1
        try:
            step(net)
            done += 1
        except Invalid:
            continue
    residual_blocks(net)
    concat_blocks(net)
    # blocks referenced by others must come first only for readability; any order is legal
    outs = [n for n in net.nodes if n.name and n.op != 'input']
    unused = [n for n in outs if not any(n in m.ins for m in net.nodes)]
    chosen = unused[:]
    for n in outs:
        if n not in chosen and rng.random() < 0.15:
            chosen.append(n)
    if not chosen or rng.random() < 0.05:
        chosen.append(net.inputs[0])
    for i in net.inputs:  # an unused input only warns; use it anyway to keep warnings rare
        if i not in chosen and not any(i in m.ins for m in net.nodes):
            chosen.append(i)
    net.outputs = chosen[:6]
    for n in chosen[6:]:
        if n.op == 'input':
            net.outputs.append(n)
    return net


CAT_CHANNELS = (8, 13, 16, 16, 24, 32, 32, 48)


def step_concat_views(net, rng, last=None):
    """UNet's skip: a = conv(x) (often with an activation), kept; b, c more maps of
    a's size (a conv of a or of x, an activation of a); y = conv(concat(a, b[, c]))
    with the inputs in any order, or the concat itself as the result. With whole
    blocks of 16 channels, or maps of a multiple of 16 pixels, convc writes a, b
    and c straight into the concat's tensor (ir/views.c); otherwise it copies, so
    both paths run. -> the block's result."""
    cands = [n for n in net.visible() if len(n.shape) == 3]
    if not cands:
        raise Invalid('no input')
    x = last if last is not None and rng.random() < 0.5 else choice(rng, cands)
    snapshot = (len(net.nodes), len(net.stmts), net.total_macs)
    try:
        a = res_conv(net, rng, x, choice(rng, CAT_CHANNELS), choice(rng, [3, 3, 1]))
        if rng.random() < 0.6:
            a = res_act(net, rng, a)
        ins = [a]
        for _ in range(choice(rng, [1, 1, 2])):
            kind = choice(rng, ['conv_a', 'conv_x', 'act'])
            if kind == 'act':
                ins.append(res_act(net, rng, a))
            else:
                src = a if kind == 'conv_a' or x.shape[1:] != a.shape[1:] else x
                ins.append(res_conv(net, rng, src, choice(rng, CAT_CHANNELS), choice(rng, [3, 1])))
        rng.shuffle(ins)
        cat = net.add_node('concat', ins, {'axis': 0})
        bind(net, cat, 'ca')
        net.stmts.append(('assign', cat))
        if rng.random() < 0.3:
            return cat
        y = res_conv(net, rng, cat, choice(rng, CAT_CHANNELS), choice(rng, [3, 1]))
        return res_act(net, rng, y) if rng.random() < 0.5 else y
    except Invalid:
        del net.nodes[snapshot[0]:]
        del net.stmts[snapshot[1]:]
        net.total_macs = snapshot[2]
        raise


def concat_blocks(net):
    """Skip-and-concat blocks (step_concat_views) after the residual blocks, from a
    stream of their own: a seed that draws none has the same network as without them
    (among them residual_seeds.test's 3, 11, 12, 13 and 32, which the stream's
    constant was chosen to leave alone)."""
    rng = random.Random(net.seed * 7919 + 37)
    if rng.random() >= 0.35:
        return
    draw_blocks(net, rng, step_concat_views, rng.randint(1, 2))


def draw_blocks(net, rng, step, want):
    """Up to `want` blocks of step(net, rng, last), each reading the one before it
    when the step likes (10 tries per block); -> (blocks drawn, the last one's result)."""
    done, last = 0, None
    for _ in range(want * 10):
        if done == want:
            break
        try:
            last = step(net, rng, last)
            done += 1
        except Invalid:
            continue
    return done, last


def residual_blocks(net):
    """Residual blocks (step_residual) after the drawn steps, then up to two more steps
    that may read them. Drawn from a stream of their own, after the others: the layers
    drawn before them are the same as without them (only the outputs chosen may differ)."""
    rng = random.Random(net.seed * 104729 + 11)
    if rng.random() >= 0.6:
        return
    net.res_macs = 2 * MAX_MACS
    done, last = draw_blocks(net, rng, step_residual, rng.randint(1, 3))
    if last is not None and rng.random() < 0.7:  # a layer reads the last block's result
        for _ in range(5):
            op = choice(rng, ['conv2d', 'maxpool2d', 'avgpool2d', 'relu', 'upsample', 'global_avgpool',
                              'batchnorm2d'])
            try:
                attrs, args = draw_unary(net, op, last)
                node = net.add_node(op, [last], attrs)
            except Invalid:
                continue
            node.args = args
            bind(net, node, op[:2])
            net.stmts.append(('assign', node))
            break
    if done:
        for _ in range(rng.randint(0, 2) * 5):
            try:
                step(net)
                break
            except Invalid:
                continue


if __name__ == '__main__':
    import netsource
    args = sys.argv[1:]
    net = generate(int(args[0]), known='--known' in args, wide='--wide' in args)
    sys.stdout.write(netsource.conv_source(net, flat='--flat' in args))
    sys.stdout.write('\n# ---- PyTorch ----\n')
    sys.stdout.write(netsource.torch_source(net))
