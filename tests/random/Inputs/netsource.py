"""Prints a randnet.Net as a .conv program and as a PyTorch module.

conv_source(net) writes the blocks and the network statements as drawn
(argument styles, inline layers, block calls); with flat=True every layer of
the expanded graph becomes its own statement, with name= keeping its
state_dict key (what the minimiser edits). Either way it records each
node's source line in node.line.

torch_source(net) writes `Model(nn.Module)`: one PyTorch layer per keyed
node, registered under its state_dict key, and a straight-line forward().
"""
from randnet import INNER_VALUES, btext, pair, ptext


def ftext(x):
    return repr(float(x))


def scale_text(s):
    if isinstance(s, tuple):
        return '(%s, %s)' % (ftext(s[0]), ftext(s[1]))
    return ftext(s)


def canonical_args(n):
    """Argument texts (after the tensors) that give n's attributes, all as keywords."""
    a = n.attrs
    if n.op == 'conv2d':
        pad = a['padding'] if isinstance(a['padding'], str) else ptext(a['padding'])
        return ['%d' % a['out'], ptext(a['k']), 'stride=%s' % ptext(a['stride']),
                'padding=%s' % pad, 'dilation=%s' % ptext(a['dilation']),
                'groups=%d' % a['groups'], 'bias=%s' % btext(a['bias']),
                'padding_mode=%s' % a.get('padding_mode', 'zeros')]
    if n.op == 'conv_transpose2d':
        return ['%d' % a['out'], ptext(a['k']), 'stride=%s' % ptext(a['stride']),
                'padding=%s' % ptext(a['padding']),
                'output_padding=%s' % ptext(a['output_padding']), 'groups=%d' % a['groups'],
                'bias=%s' % btext(a['bias']), 'dilation=%s' % ptext(a['dilation'])]
    if n.op == 'linear':
        return ['%d' % a['out'], 'bias=%s' % btext(a['bias'])]
    if n.op == 'batchnorm2d':
        return ['eps=%s' % ftext(a['eps']), 'momentum=%s' % ftext(a['momentum']),
                'affine=%s' % btext(a.get('affine', True))]
    if n.op == 'group_norm':
        return ['%d' % a['groups'], 'eps=%s' % ftext(a['eps']), 'affine=%s' % btext(a['affine'])]
    if n.op == 'layer_norm':
        return ['(%s)' % ', '.join(map(str, a['shape'])) if len(a['shape']) > 1 else '%d' % a['shape'][0],
                'eps=%s' % ftext(a['eps']), 'elementwise_affine=%s' % btext(a['affine'])]
    if n.op == 'instance_norm':
        return ['eps=%s' % ftext(a['eps']), 'affine=%s' % btext(a['affine']),
                'track_running_stats=%s' % btext(a['track'])]
    if n.op in ('pixel_shuffle', 'pixel_unshuffle'):
        return ['%d' % a['r']]
    if n.op == 'channel_shuffle':
        return ['groups=%d' % a['groups']]
    if n.op == 'concat':
        return ['dim=%d' % (a.get('axis', 0) + 1)]
    if n.op in ('slice', 'chunk', 'split'):   # parts of chunk/split are written as slices when flat
        return ['%d' % a['start'], '%d' % a['end'], 'dim=%d' % (a['axis'] + 1)]
    if n.op == 'reshape':
        return ['(%s)' % ', '.join(map(str, a['shape'])) if len(a['shape']) == 3 else '%d' % a['shape'][0]]
    if n.op == 'unflatten':
        return ['1', '(%s)' % ', '.join(map(str, a['shape']))]
    if n.op == 'leaky_relu':
        return ['negative_slope=%s' % ftext(a['slope'])]
    if n.op == 'maxpool2d':
        return [ptext(a['k']), 'stride=%s' % ptext(a['stride']), 'padding=%s' % ptext(a['padding']),
                'dilation=%s' % ptext(a['dilation']), 'ceil_mode=%s' % btext(a['ceil_mode'])]
    if n.op == 'avgpool2d':
        return [ptext(a['k']), 'stride=%s' % ptext(a['stride']), 'padding=%s' % ptext(a['padding']),
                'ceil_mode=%s' % btext(a['ceil_mode']),
                'count_include_pad=%s' % btext(a['count_include_pad'])]
    if n.op == 'upsample':
        how = 'size=%s' % ptext(a['size']) if a.get('size') else scale_text(a['scale'])
        align = [] if a.get('align') is None else ['align_corners=%s' % btext(a['align'])]
        return [how, 'mode="%s"' % a['mode']] + align
    if n.op in ('adaptive_avgpool2d', 'adaptive_maxpool2d'):
        return ['output_size=%s' % ptext(a['size'])]
    if n.op == 'pad':
        return ['(%d, %d, %d, %d)' % a['pad'], 'mode=%s' % a['mode']] + \
            (['value=%s' % ftext(a['value'])] if a['mode'] == 'constant' else [])
    if n.op == 'dropout':
        return ['p=%s' % ftext(a['p'])]
    return canonical_args9(n)


def canonical_args9(n):
    """canonical_args of the ops of issue 9."""
    a = n.attrs
    if n.op == 'prelu':
        return ['num_parameters=%d' % a['num']]
    if n.op == 'gelu':
        return ['approximate=%s' % a['approximate']]
    if n.op == 'elu':
        return ['alpha=%s' % ftext(a['alpha'])]
    if n.op == 'softplus':
        return ['beta=%s' % ftext(a['beta']), 'threshold=%s' % ftext(a['threshold'])]
    if n.op == 'hardtanh':
        return ['min_val=%s' % ftext(a['min_val']), 'max_val=%s' % ftext(a['max_val'])]
    if n.op.endswith('_scalar'):
        return ['other=%s' % ftext(a['s'])]
    return []


def call_text(n, flat):
    """The expression that computes n in network scope."""
    ins = [ref_text(i, flat) for i in n.ins]
    if flat:
        args = canonical_args(n) + (['share=%s' % n.shares.name] if n.shares else
                                    ['name="%s"' % n.key] if n.key else [])
    else:
        args = n.args
    op = 'slice' if n.op in ('chunk', 'split') else n.op
    if n.mutation:
        edited = n.mutation(op, ins, args)
        if isinstance(edited, str):
            return edited
        op, ins, args = edited
    if n.infix and not n.mutation:
        if isinstance(n.infix, tuple):  # x * s, s * x
            sign, num, first = n.infix
            return '%s %s %s' % ((num, sign, ins[0]) if first else (ins[0], sign, num))
        return '%s %s %s' % (ins[0], n.infix, ins[1])
    return '%s(%s)' % (op, ', '.join(ins + args))


def ref_text(n, flat):
    if n.name:
        return n.name
    return call_text(n, flat)


def block_call_text(b, vals, written, override):
    parts = ['%s' % vals['x'].name, '%d' % vals['ch']]
    for pname, kind, dtext, dval in b.params[2:]:
        if not written.get(pname):
            continue
        v = vals[pname]
        if kind == 'tensor':
            t = v.name
        elif kind == 'bool':
            t = btext(v)
        elif kind == 'float':
            t = ftext(v)
        elif kind == 'string':
            t = '"%s"' % v
        else:
            t = str(v)
        parts.append('%s=%s' % (pname, t))
    if override:
        parts.append('name="%s"' % override)
    return '%s(%s)' % (b.name, ', '.join(parts))


def body_statement(b, i, first_line, lhs, op, parts):
    """One body statement; a broken variant's edit of it (b.edits[i]) applied."""
    edit = b.edits.get(i)
    if edit is None or edit.mutation is None:
        return '    %s = %s(%s)' % (lhs, op, ', '.join(parts))
    edit.line = first_line + 1 + i
    edited = edit.mutation(op, parts[:1], parts[1:])
    if isinstance(edited, str):
        return '    %s = %s' % (lhs, edited)
    op, ins, args = edited
    return '    %s = %s(%s)' % (lhs, op, ', '.join(ins + args))


def block_lines(b, first_line):
    """The definition of b, starting on source line first_line."""
    params = [p if d is None else '%s=%s' % (p, d) for p, kind, d, _ in b.params]
    lines = ['block %s(%s) {' % (b.name, ', '.join(params))]
    for i, (lhs, op, args, kw) in enumerate(b.body):
        if op == 'block':
            inner = b.inner
            parts = [args[0], 'ch']
            for p, kind, d, _ in inner.params[2:]:
                if p == 'y':
                    parts.append('y=%s' % args[0])
                elif d is None and p in INNER_VALUES:
                    v = INNER_VALUES[p]
                    t = {'bool': btext, 'float': ftext}.get(kind, str)(v)
                    parts.append('%s=%s' % (p, '"%s"' % t if kind == 'string' else t))
            lines.append(body_statement(b, i, first_line, lhs, inner.name, parts))
            continue
        parts = list(args) + ['%s=%s' % (k, v) for k, v in kw.items() if v is not None]
        lines.append(body_statement(b, i, first_line, lhs, op, parts))
    if isinstance(b.ret, tuple):
        lines.append('    return %s + %s' % (b.ret[1], b.ret[2]))
    else:
        lines.append('    return %s' % b.ret)
    lines.append('}')
    return lines


def conv_source(net, flat=False):
    lines = ['# randnet seed %d%s' % (net.seed, ' (flattened)' if flat else '')]
    if not flat:
        for b in net.blocks:
            if b.used:
                lines += block_lines(b, len(lines) + 1)
    if net.decoy:  # another network in the file: compiled with --network
        lines += ['network other {', '    input x[2, 3, 3]', '    r = relu(x)', '    output r', '}']
    lines.append('network %s {' % net.conv_name)
    if flat:
        for i, n in enumerate(net.nodes):
            if n.op == 'input':
                lines.append('    input %s[%s]' % (n.name, ', '.join(map(str, n.shape))))
            else:
                if not n.name:
                    n.name = 'l%d' % i
                lines.append('    %s = %s' % (n.name, call_text(n, True)))
            n.line = len(lines)
    else:
        for kind, what in net.stmts:
            if kind == 'input':
                n = what
                dims = getattr(n, 'dims_text', None) or ', '.join(map(str, n.shape))
                lines.append('    input %s[%s]' % (n.name, dims))
                n.line = len(lines) + 1 - 1
            elif kind == 'assign':
                lines.append('    %s = %s' % (what.name, call_text(what, False)))
            elif kind == 'unpack':
                nodes, op, args, x = what
                lines.append('    %s = %s(%s)' % (', '.join(m.name for m in nodes), op,
                                                 ', '.join([ref_text(x, False)] + args)))
                for m in nodes:
                    m.line = len(lines)
            else:
                b, inst, vals, written, override, out, nodes = what
                lines.append('    %s = %s' % (inst, block_call_text(b, vals, written, override)))
                for m in nodes:
                    m.line = len(lines)
            if kind not in ('call', 'unpack'):
                mark_line(what, len(lines))
    lines.append('    output %s' % ', '.join(n.name for n in net.outputs))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def mark_line(n, line):
    n.line = line
    for i in n.ins:
        if not i.name:
            mark_line(i, line)


# --- PyTorch -----------------------------------------------------------------

HEADER = '''import torch
import torch.nn as nn
import torch.nn.functional as F


def put(module, key, layer):
    """Registers layer under the dotted state_dict key."""
    *path, last = key.split('.')
    for part in path:
        if not hasattr(module, part):
            module.add_module(part, nn.Module())
        module = getattr(module, part)
    module.add_module(last, layer)


def get(module, key):
    for part in key.split('.'):
        module = getattr(module, part)
    return module


def center_crop(x, like):
    h, w = like.shape[-2], like.shape[-1]
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w].contiguous()

'''


def torch_layer(n):
    a = n.attrs
    cin = n.ins[0].shape[0]
    if n.op == 'conv2d':
        pad = repr(a['padding']) if isinstance(a['padding'], str) else repr(pair(a['padding']))
        return ('nn.Conv2d(%d, %d, %r, stride=%r, padding=%s, dilation=%r, groups=%d, bias=%r, '
                'padding_mode=%r)'
                % (cin, a['out'], pair(a['k']), pair(a['stride']), pad, pair(a['dilation']),
                   a['groups'], a['bias'], a.get('padding_mode', 'zeros')))
    if n.op == 'conv_transpose2d':
        return ('nn.ConvTranspose2d(%d, %d, %r, stride=%r, padding=%r, output_padding=%r, '
                'groups=%d, bias=%r, dilation=%r)'
                % (cin, a['out'], pair(a['k']), pair(a['stride']), pair(a['padding']),
                   pair(a['output_padding']), a['groups'], a['bias'], pair(a['dilation'])))
    if n.op == 'linear':
        return 'nn.Linear(%d, %d, bias=%r)' % (cin, a['out'], a['bias'])
    if n.op == 'group_norm':
        return 'nn.GroupNorm(%d, %d, eps=%r, affine=%r)' % (a['groups'], cin, a['eps'], a['affine'])
    if n.op == 'layer_norm':
        return 'nn.LayerNorm(%r, eps=%r, elementwise_affine=%r)' % (list(a['shape']), a['eps'], a['affine'])
    if n.op == 'instance_norm':
        return ('nn.InstanceNorm2d(%d, eps=%r, affine=%r, track_running_stats=%r)'
                % (cin, a['eps'], a['affine'], a['track']))
    if n.op == 'prelu':
        return 'nn.PReLU(%d)' % a['num']
    return 'nn.BatchNorm2d(%d, eps=%r, momentum=%r, affine=%r)' % (cin, a['eps'], a['momentum'],
                                                                  a.get('affine', True))


def torch_expr(n, v):
    """The forward() expression of n over input variables v."""
    a = n.attrs
    if n.key:
        return 'get(self, %r)(%s)' % (n.key, v[0])
    simple = {'relu': 'F.relu(%s)', 'relu6': 'F.relu6(%s)', 'silu': 'F.silu(%s)',
              'sigmoid': 'torch.sigmoid(%s)', 'tanh': 'torch.tanh(%s)',
              'global_avgpool': 'F.adaptive_avg_pool2d(%s, 1)', 'flatten': 'torch.flatten(%s, 1)',
              'softmax': 'F.softmax(%s, dim=1)'}
    if n.op in simple:
        return simple[n.op] % v[0]
    if n.op == 'leaky_relu':
        return 'F.leaky_relu(%s, %r)' % (v[0], a['slope'])
    if n.op == 'maxpool2d':
        return ('F.max_pool2d(%s, %r, stride=%r, padding=%r, dilation=%r, ceil_mode=%r)'
                % (v[0], pair(a['k']), pair(a['stride']), pair(a['padding']),
                   pair(a['dilation']), a['ceil_mode']))
    if n.op == 'avgpool2d':
        return ('F.avg_pool2d(%s, %r, stride=%r, padding=%r, ceil_mode=%r, count_include_pad=%r)'
                % (v[0], pair(a['k']), pair(a['stride']), pair(a['padding']), a['ceil_mode'],
                   a['count_include_pad']))
    if n.op == 'upsample':
        if a['mode'] in ('bilinear', 'bicubic'):
            extra = ', align_corners=%r' % bool(a.get('align'))
        else:
            extra = ''
        if a.get('size'):
            return 'F.interpolate(%s, size=%r, mode=%r%s)' % (v[0], tuple(a['size']), a['mode'], extra)
        s = a['scale']
        s = tuple(float(x) for x in s) if isinstance(s, tuple) else float(s)
        return 'F.interpolate(%s, scale_factor=%r, mode=%r%s)' % (v[0], s, a['mode'], extra)
    if n.op == 'adaptive_avgpool2d':
        return 'F.adaptive_avg_pool2d(%s, %r)' % (v[0], pair(a['size']))
    if n.op == 'adaptive_maxpool2d':
        return 'F.adaptive_max_pool2d(%s, %r)' % (v[0], pair(a['size']))
    if n.op == 'global_maxpool':
        return 'F.adaptive_max_pool2d(%s, 1)' % v[0]
    if n.op == 'pad':
        if a['mode'] == 'constant':
            return 'F.pad(%s, %r, value=%r)' % (v[0], a['pad'], a['value'])
        return 'F.pad(%s, %r, mode=%r)' % (v[0], a['pad'], a['mode'])
    if n.op == 'dropout':
        return 'F.dropout(%s, %r, training=False)' % (v[0], a['p'])
    if n.op == 'pixel_shuffle':
        return 'F.pixel_shuffle(%s, %d)' % (v[0], a['r'])
    if n.op == 'pixel_unshuffle':
        return 'F.pixel_unshuffle(%s, %d)' % (v[0], a['r'])
    if n.op == 'channel_shuffle':
        return 'nn.ChannelShuffle(%d)(%s)' % (a['groups'], v[0])
    if n.op == 'concat':
        return 'torch.cat([%s], %d)' % (', '.join(v), a.get('axis', 0) + 1)
    if n.op in ('slice', 'chunk', 'split'):
        # contiguous: convc computes as PyTorch does on NCHW tensors; some of PyTorch's kernels
        # differ on strided views (nearest upsample of one channel, docs/language.md)
        return '%s.narrow(%d, %d, %d).contiguous()' % (v[0], a['axis'] + 1, a['start'], a['end'] - a['start'])
    if n.op in ('reshape', 'unflatten'):
        return '%s.reshape((%s.shape[0],) + %r)' % (v[0], v[0], tuple(a['shape']))
    if n.op in ('add', 'sub', 'mul'):
        return '%s %s %s' % (v[0], {'add': '+', 'sub': '-', 'mul': '*'}[n.op], v[1])
    if n.op in EXPR9:
        return EXPR9[n.op](v, a)
    if n.op == 'crop':
        return 'center_crop(%s, %s)' % (v[0], v[1])
    raise ValueError('no PyTorch rule for %s' % n.op)


# forward() expressions of the ops of issue 9 over input variables v, attributes a
EXPR9 = {
    'hardswish': lambda v, a: 'F.hardswish(%s)' % v[0],
    'hardsigmoid': lambda v, a: 'F.hardsigmoid(%s)' % v[0],
    'gelu': lambda v, a: 'F.gelu(%s, approximate=%r)' % (v[0], a['approximate']),
    'elu': lambda v, a: 'F.elu(%s, %r)' % (v[0], a['alpha']),
    'selu': lambda v, a: 'F.selu(%s)' % v[0],
    'softplus': lambda v, a: 'F.softplus(%s, %r, %r)' % (v[0], a['beta'], a['threshold']),
    'mish': lambda v, a: 'F.mish(%s)' % v[0],
    'hardtanh': lambda v, a: 'F.hardtanh(%s, %r, %r)' % (v[0], a['min_val'], a['max_val']),
    'log_softmax': lambda v, a: 'F.log_softmax(%s, dim=1)' % v[0],
    'mul_scalar': lambda v, a: '%s * %r' % (v[0], a['s']),
    'add_scalar': lambda v, a: '%s + %r' % (v[0], a['s']),
    'sub_scalar': lambda v, a: '%s - %r' % (v[0], a['s']),
    'rsub_scalar': lambda v, a: '%r - %s' % (a['s'], v[0]),
}


def torch_source(net):
    out = [HEADER]
    out.append('# randnet seed %d' % net.seed)
    out.append('INPUTS = %r' % [(n.name, n.shape) for n in net.inputs])
    out.append('OUTPUTS = %r' % [n.name for n in net.outputs])
    out.append('INPUT_RANGE = %r' % net.input_range)
    out.append('')
    out.append('')
    out.append('class Model(nn.Module):')
    out.append('    def __init__(self):')
    out.append('        super().__init__()')
    for n in net.nodes:
        if n.key and not n.shares:  # a sharing layer calls its owner's module again
            out.append('        put(self, %r, %s)' % (n.key, torch_layer(n)))
    out.append('')
    out.append('    def forward(self, %s):' % ', '.join(n.name for n in net.inputs))
    for i, n in enumerate(net.nodes):
        n.var = n.name if n.op == 'input' else 't%d' % i
        if n.op != 'input':
            out.append('        %s = %s' % (n.var, torch_expr(n, [m.var for m in n.ins])))
    out.append('        return (%s,)' % ', '.join(n.var for n in net.outputs))
    return '\n'.join(out) + '\n'
