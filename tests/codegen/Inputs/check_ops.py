#!/usr/bin/python3
"""Walks the op table (frontend/ops.def) and checks that every op reaches the
whole pipeline:

  check_ops.py ROOT [OPS_DEF]   (OPS_DEF: another ops.def to check, for the test's own negative case)

- its LOWER column names a real lowering: INPUT, ALIAS, NODE(KIND) or
  ACT(ACT), and never NODE(COPY) (a copy node sums its inputs: an op lowered
  to it computes the wrong thing);
- it is called in an end-to-end test in tests/run (a .conv file there, or an
  example a tests/run/*.test compiles), so its numbers are checked against
  PyTorch. `input` is a declaration, not a call.

Prints one line per op and `ops N, problems M`; exits 1 on any problem.
"""
import glob
import os
import re
import sys


def rows(path):
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    for m in re.finditer(r'^OP\((.*?)\)\s*$', text, flags=re.M | re.S):
        yield [c.strip() for c in m.group(1).split(',')]  # no column holds a comma


def e2e_sources(root):
    files = glob.glob(os.path.join(root, 'tests/run/*.conv'))
    for t in glob.glob(os.path.join(root, 'tests/run/*.test')):
        files += [os.path.join(root, p) for p in re.findall(r'%root/(\S+\.conv)', open(t).read())]
    return '\n'.join(open(f).read() for f in files)


def main():
    root = sys.argv[1]
    src = e2e_sources(root)
    problems = n = 0
    ops_def = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, 'frontend/ops.def')
    for cols in rows(ops_def):
        n += 1
        ident, name, lower = cols[0], cols[1].strip('"'), cols[-1]
        why = []
        if not re.fullmatch(r'INPUT|ALIAS|NODE\([A-Z_]+\)|ACT\([A-Z_0-9]+\)', lower):
            why.append('no lowering named (%s)' % lower)
        if lower == 'NODE(COPY)':
            why.append('lowers to a copy')
        if name == 'input':
            used = re.search(r'^\s*input\s', src, flags=re.M)
        else:
            used = re.search(r'\b%s\s*\(' % re.escape(name), src)
        if not used:
            why.append('no end-to-end test in tests/run')
        problems += bool(why)
        print('%-18s %-22s %s' % (name, lower, '; '.join(why) or 'ok'))
    print('ops %d, problems %d' % (n, problems))
    return 1 if problems or n == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
