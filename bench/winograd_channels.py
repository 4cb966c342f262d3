#!/usr/bin/python3
"""Winograd against the direct blocked kernel on 3x3 layers with few
channels (16-64 in, 16-256 out) on 16 x 16 to 128 x 128 maps: the data
behind --winograd=auto's cost model for small layers (docs/design.md).

  winograd_channels.py --convc PATH [--rounds R] [--bench N] [--threads T] [--workdir DIR]
                       [--cin 16,32,48,64] [--cout 16,32,64,256] [--hw 16,32,64,128] [--same]

--cin, --cout and --hw choose the shapes (every combination; with --same
only Cout = Cin).

One network holds every shape, each 3x3 conv (padding 1, relu) between 1x1
convs so that it reads and writes nChw16c as inside a network; it is
compiled with --winograd=on and --winograd=off, the two executables run
alternately R times (`--bench N --profile=json`), and per shape the median
over the rounds of the 3x3 step's median is printed with the ratio
off / on (> 1: Winograd faster). The machine is shared: read the ratios.
"""
import re
import statistics

from winograd_speed import on_and_off, options

CIN = (16, 32, 48, 64)
COUT = (16, 32, 64, 256)
HW = (16, 32, 64, 128)


def shape_options(ap):
    ints = lambda text: tuple(int(v) for v in text.split(','))
    ap.add_argument('--cin', type=ints, default=CIN)
    ap.add_argument('--cout', type=ints, default=COUT)
    ap.add_argument('--hw', type=ints, default=HW)
    ap.add_argument('--same', action='store_true', help='only Cout = Cin')


def main():
    a = options(__doc__, 5, 'wino-channels-', shape_options)
    shapes = [(cin, cout, hw) for cin in a.cin for cout in (a.cout if not a.same else (cin,)) for hw in a.hw]
    lines, outs = ['network channels {'], []
    for i, (cin, cout, hw) in enumerate(shapes):
        lines.append('    input x%d[%d, %d, %d]' % (i, cin, hw, hw))
        lines.append('    a%d = conv2d(x%d, %d, 1)' % (i, i, cin))
        lines.append('    w%dz = relu(conv2d(a%d, %d, 3, padding=1, name="w%dz"))' % (i, i, cout, i))
        lines.append('    y%d = conv2d(w%dz, 16, 1)' % (i, i))
        outs.append('y%d' % i)
    lines += ['    output ' + ', '.join(outs), '}']
    steps, info, peak = on_and_off(a, 'channels', lines)
    times, kernel = {'on': {}, 'off': {}}, {}
    for (mode, name), s in info.items():
        m = re.search(r'w(\d+)z', name)
        if m:
            times[mode][int(m.group(1))] = steps[mode][name]
            kernel[(mode, int(m.group(1)))] = s['kernel']
    print('threads=%d, %d rounds, FMA peak %s GFLOP/s' % (a.threads, a.rounds, peak))
    print('| Cin -> Cout | H x W | Winograd ms | direct ms (kernel) | speed-up |')
    print('|---|---|---|---|---|')
    for i, (cin, cout, hw) in enumerate(shapes):
        on, off = statistics.median(times['on'][i]), statistics.median(times['off'][i])
        print('| %d -> %d | %d x %d | %.3f | %.3f (%s) | %.2f |' % (cin, cout, hw, hw, on, off, kernel[('off', i)], off / on))


if __name__ == '__main__':
    main()
