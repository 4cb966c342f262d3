#!/usr/bin/python3
"""Checks that the random networks of the fixed seeds call every op of the op
table, so the differential tester compares each op with PyTorch:

  coverage.py OPS_DEF SEEDS       (SEEDS: A-B, as difftest.py's --seeds)

Prints one line per op of OPS_DEF with the number of networks among SEEDS
that use it, then `ops N, missing M`; exits 1 if an op is never drawn.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import randnet  # noqa: E402


def op_names(path):
    text = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    return re.findall(r'^OP\(\s*\w+\s*,\s*"([^"]+)"', text, flags=re.M)


def main():
    names = op_names(sys.argv[1])
    lo, hi = map(int, sys.argv[2].split('-'))
    count = dict.fromkeys(names, 0)
    for seed in range(lo, hi + 1):
        for op in set(n.op for n in randnet.generate(seed).nodes):
            if op in count:
                count[op] += 1
    missing = [n for n in names if not count[n]]
    for n in names:
        print('%-20s %s' % (n, count[n] or 'never drawn'))
    print('ops %d, missing %d' % (len(names), len(missing)))
    return 1 if missing or not names else 0


if __name__ == '__main__':
    sys.exit(main())
