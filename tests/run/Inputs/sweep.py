"""Prints the .conv network of a random sweep model (models.py, sweep_*):

  sweep.py sweep_conv_1 > net.conv     (also sweep_tconv_S, sweep_pool_S, sweep_up_S)

Each layer is written with keyword arguments from its options, the way a user
would write the PyTorch call."""
import sys

import models


def pair(v):
    return '(%d, %d)' % v if v[0] != v[1] else '%d' % v[0]


def scale(s):
    return '(%r, %r)' % s if isinstance(s, tuple) else '%r' % s


def layer(i, cfg):
    if cfg['op'] == 'up':
        return 'upsample(%s, %s, mode=%s)' % (cfg['src'], scale(cfg['scale']), cfg['mode'])
    if cfg['op'] == 'conv':
        pad = cfg['padding'] if isinstance(cfg['padding'], str) else pair(cfg['padding'])
        return ('conv2d(x, %d, %s, stride=%s, padding=%s, dilation=%s, groups=%d, bias=%s)'
                % (cfg['out'], pair(cfg['k']), pair(cfg['s']), pad, pair(cfg['d']), cfg['groups'],
                   'true' if cfg['bias'] else 'false'))
    if cfg['op'] == 'tconv':
        return ('conv_transpose2d(x, %d, %s, stride=%s, padding=%s, output_padding=%s, '
                'groups=%d, bias=%s, dilation=%s)'
                % (cfg['out'], pair(cfg['k']), pair(cfg['s']), pair(cfg['padding']),
                   pair(cfg['output_padding']), cfg['groups'], 'true' if cfg['bias'] else 'false',
                   pair(cfg['d'])))
    ceil = 'true' if cfg['ceil'] else 'false'
    if cfg['op'] == 'max':
        return ('maxpool2d(x, %s, stride=%s, padding=%s, dilation=%s, ceil_mode=%s)'
                % (pair(cfg['k']), pair(cfg['s']), pair(cfg['padding']), pair(cfg['d']), ceil))
    return ('avgpool2d(x, %s, stride=%s, padding=%s, ceil_mode=%s, count_include_pad=%s)'
            % (pair(cfg['k']), pair(cfg['s']), pair(cfg['padding']), ceil,
               'true' if cfg['count_include_pad'] else 'false'))


def main():
    name = sys.argv[1]
    _, kind, seed = name.split('_')
    print('network %s {' % name)
    if kind == 'up':
        inputs, cfgs = models.SWEEP_UP_INPUTS, models.upsample_configs(int(seed))
    else:
        inputs, cfgs = [('x', models.SWEEP_INPUT)], models.sweep_configs(kind, int(seed))
    for name, shape in inputs:
        print('    input %s[%d, %d, %d]' % ((name,) + shape))
    for i, cfg in enumerate(cfgs):
        print('    l%d = %s' % (i, layer(i, cfg)))
    print('    output %s' % ', '.join('l%d' % i for i in range(len(cfgs))))
    print('}')


if __name__ == '__main__':
    main()
