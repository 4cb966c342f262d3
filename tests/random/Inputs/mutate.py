"""Broken variants of a random network: each edit makes one statement wrong.

An edit is set as node.mutation, a function (op, tensor texts, argument
texts) -> (op, tensor texts, argument texts), or the statement's whole text
for a syntax error; netsource applies it when printing. Every kind below
makes convc report an error on the edited statement's line and nowhere else
(docs/language.md: a failed value silences its users).
"""
from randnet import broadcasts, pair


def drop(args, key):
    return [x for x in args if not x.startswith(key + '=')]


def kw(key, value):
    return lambda op, ins, args: (op, ins, drop(args, key) + ['%s=%s' % (key, value)])


def is3(n):
    return len(n.ins[0].shape) == 3


def positional_tconv(n):
    return n.op == 'conv_transpose2d' and len(n.args) >= 8 and '=' not in n.args[2]


def non_divisor(c):
    return next(g for g in range(2, c + 2) if c % g)


def output_small(n):
    big = n.ins[0].shape[1] + n.ins[0].shape[2] + 20

    def edit(op, ins, args):
        args = drop(drop(drop(args, 'padding'), 'dilation'), 'in_channels')
        return op, ins, [args[0], str(big)] + args[2:]
    return edit


def syntax(op, ins, args):
    return '%s(%s' % (op, ', '.join(ins + args))


def undefined(op, ins, args):
    return op, ['undefined_tensor'] + ins[1:], args


def earlier_other_shape(net, n, three):
    """An earlier named [C, H, W] tensor that cannot be n's partner: for concat (three)
    another H x W, for add, sub and mul a shape that does not broadcast with n's first input."""
    idx = net.nodes.index(n)
    for m in reversed(net.nodes[:idx]):
        if m.name and m.shape != n.ins[0].shape and len(m.shape) == 3 and \
                (m.shape[1:] != n.ins[0].shape[1:] if three else not broadcasts(m.shape, n.ins[0].shape)):
            return m
    return None


def keywords_only(args):
    return [x for x in args if '=' in x]


def dup_key_target(net, n):
    idx = net.nodes.index(n)
    for m in net.nodes[:idx]:
        if m.key and m.name and m.line is not None and m.line < n.line:
            return m
    return None


# name -> (applies(net, node), edit(net, node)); local kinds only touch their own statement
KINDS = {
    'in_channels': (lambda net, n: n.op in ('conv2d', 'conv_transpose2d') and is3(n),
                    lambda net, n: kw('in_channels', n.ins[0].shape[0] + 1)),
    'num_features': (lambda net, n: n.op == 'batchnorm2d',
                     lambda net, n: kw('num_features', n.ins[0].shape[0] + 2)),
    'in_features': (lambda net, n: n.op == 'linear',
                    lambda net, n: kw('in_features', n.ins[0].shape[0] + 1)),
    'undefined_name': (lambda net, n: bool(n.ins), lambda net, n: undefined),
    'unknown_op': (lambda net, n: True,
                   lambda net, n: lambda op, ins, args: (op + 'q', ins, args)),
    'unknown_keyword': (lambda net, n: True, lambda net, n: kw('bogus', 1)),
    'syntax': (lambda net, n: True, lambda net, n: syntax),
    'groups': (lambda net, n: n.op == 'conv2d',
               lambda net, n: kw('groups', non_divisor(n.ins[0].shape[0]))),
    'output_size': (lambda net, n: n.op == 'conv2d', lambda net, n: output_small(n)),
    'same_stride': (lambda net, n: n.op == 'conv2d',
                    lambda net, n: lambda op, ins, args: (
                        op, ins, drop(drop(args, 'stride'), 'padding') + ['stride=2', 'padding=same'])),
    'pool_padding': (lambda net, n: n.op in ('maxpool2d', 'avgpool2d') and
                     max(pair(n.attrs['k'])) < 1000,
                     lambda net, n: kw('padding', max(pair(n.attrs['k'])))),
    'bad_bool': (lambda net, n: n.op in ('conv2d', 'linear', 'conv_transpose2d') and
                 not positional_tconv(n), lambda net, n: kw('bias', 2)),
    'bad_word': (lambda net, n: n.op == 'upsample', lambda net, n: kw('mode', 'bilinaer')),
    'bad_probability': (lambda net, n: n.op == 'dropout', lambda net, n: kw('p', 1.5)),
    'zero_channels': (lambda net, n: n.op in ('conv2d', 'linear'),
                      lambda net, n: lambda op, ins, args: (op, ins, ['0'] + args[1:])),
    # issue 9
    'prelu_num_parameters': (lambda net, n: n.op == 'prelu',
                             lambda net, n: lambda op, ins, args: (
                                 op, ins, drop(keywords_only(args), 'num_parameters') +
                                 ['num_parameters=%d' % (n.ins[0].shape[0] + 1)])),
    'hardtanh_range': (lambda net, n: n.op == 'hardtanh' and not n.infix,
                       lambda net, n: lambda op, ins, args: (op, ins, ['min_val=2.0', 'max_val=1.0'])),
    'gelu_approximate': (lambda net, n: n.op == 'gelu', lambda net, n: kw('approximate', '"exact"')),
    'softplus_beta': (lambda net, n: n.op == 'softplus', lambda net, n: kw('beta', 0)),
    'log_softmax_dim': (lambda net, n: n.op == 'log_softmax', lambda net, n: kw('dim', 2)),
}
NONLOCAL = {
    'add_shape': (lambda net, n: n.op in ('add', 'sub', 'mul') and earlier_other_shape(net, n, False),
                  lambda net, n: lambda op, ins, args: (
                      n.op, [ins[0], earlier_other_shape(net, n, False).name], [])),
    'scalar_tensor_divide': (lambda net, n: n.op.endswith('_scalar'),
                             lambda net, n: lambda op, ins, args: '%s / %s' % (ins[0], ins[0])),
    'concat_shape': (lambda net, n: n.op == 'concat' and n.attrs.get('axis', 0) == 0 and is3(n) and
                     earlier_other_shape(net, n, True),
                     lambda net, n: lambda op, ins, args: (
                         op, ins + [earlier_other_shape(net, n, True).name], args)),
    'duplicate_key': (lambda net, n: n.key and not n.shares and dup_key_target(net, n) is not None,
                      lambda net, n: kw('name', '"%s"' % dup_key_target(net, n).key)),
}


class Variant:
    def __init__(self, name, nodes, known=None):
        self.name = name
        self.nodes = nodes
        self.known = known    # a randnet.KNOWN tag if convc is expected to miss it for now

    def lines(self):
        return set(n.line for n in self.nodes)

    def undo(self):
        for n in self.nodes:
            n.mutation = None
            if hasattr(n, 'dims_text'):
                n.dims_text = None


class BodyEdit:
    """An edit of a block's body statement (netsource sets its line)."""

    def __init__(self, mutation):
        self.mutation = mutation
        self.line = None


BODY_KINDS = {'undefined_name': undefined, 'unknown_keyword': kw('bogus', 1), 'syntax': syntax,
              'unknown_op': lambda op, ins, args: (op + 'q', ins, args)}


def block_variant(net, rng):
    """A variant with one statement of a used block broken: reported once, at
    the block's line, however many instances there are."""
    blocks = [b for b in net.blocks if b.used]
    if not blocks:
        return None
    b = rng.choice(blocks)
    i = rng.randrange(len(b.body))
    name = rng.choice(sorted(BODY_KINDS))
    edit = BodyEdit(BODY_KINDS[name])
    b.edits = {i: edit}
    return Variant('block_' + name, [edit])


def statements(net):
    return [what for kind, what in net.stmts if kind == 'assign']


def descendants(net, node):
    out = {id(node)}
    for m in net.nodes:
        if any(id(i) in out for i in m.ins):
            out.add(id(m))
    return out


def candidates(net, kinds):
    return [(name, n) for n in statements(net) for name, (ok, _) in kinds.items() if ok(net, n)]


def variants(net, rng, count):
    """Yields up to count single-edit variants and one with two independent edits
    (each applied while yielded, then undone by the caller)."""
    import netsource
    netsource.conv_source(net)  # node.line for the duplicate-key rule
    every = dict(KINDS, **NONLOCAL)
    cands = candidates(net, every)
    rng.shuffle(cands)
    used = set()
    for name, n in cands:
        if count <= 0:
            break
        if name in used:
            continue
        used.add(name)
        count -= 1
        n.mutation = every[name][1](net, n)
        yield Variant(name, [n])
    variant = block_variant(net, rng)
    if variant is not None:
        yield variant
    node = next((i for i in net.inputs if len(i.shape) == 3), None)
    if node is not None and net.use_known('limits'):
        node.dims_text = '769546, 494770, 48448661'  # C*H*W wraps to 4 in 32 bits
        yield Variant('limits_input_size', [node], 'limits')
    local = candidates(net, KINDS)
    rng.shuffle(local)
    for i, (n1, a) in enumerate(local):
        for n2, b in local[i + 1:]:
            if a is b or id(b) in descendants(net, a) or id(a) in descendants(net, b):
                continue
            a.mutation = KINDS[n1][1](net, a)
            b.mutation = KINDS[n2][1](net, b)
            yield Variant('%s+%s' % (n1, n2), [a, b])
            return
