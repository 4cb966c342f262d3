"""Compares convc's `--stats --keys --depth N --batch B` table with PyTorch.

usage: check_depth.py MODEL TABLE.txt BATCH

Every row of op `block` (a block instance summed into one row) names, in its
Key column, the state_dict prefix its layers share; the PyTorch side is that
submodule: sum(p.numel() for p in sub.parameters()) for Params, and the MACs
of its leaf modules (fvcore/thop convention, forward hooks, as check_stats.py
counts them) on a batch of BATCH for MACs. The total MAC line must be the
batch-1 total times BATCH. Exits 1 on any mismatch.
"""
import re
import sys

from check_stats import default_macs, run_hooked
from models import MODELS


def main():
    name, path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model, shape = MODELS[name]()
    macs = {}

    def on_leaf(mod_name, m, inp, out):
        macs[mod_name] = macs.get(mod_name, 0) + default_macs(m, inp, out) * out.shape[0]

    run_hooked(model, shape, batch, on_leaf)

    errors, blocks = [], 0
    lines = open(path).read().splitlines()
    for line in lines:
        cols = re.split(r'\s{2,}', line.strip())
        if len(cols) < 8 or cols[1] != 'block':
            continue
        blocks += 1
        key = cols[-1]
        params, row_macs = int(cols[3].replace(',', '')), int(cols[4].replace(',', ''))
        sub = model.get_submodule(key)
        ref_params = sum(p.numel() for p in sub.parameters())
        ref_macs = sum(v for k, v in macs.items() if k == key or k.startswith(key + '.'))
        for what, mine, theirs in (('params', params, ref_params), ('macs', row_macs, ref_macs)):
            ok = mine == theirs
            print('%-12s %-7s convc %-14d pytorch %-14d %s' % (key, what, mine, theirs, 'ok' if ok else 'MISMATCH'))
            if not ok:
                errors.append(key + ' ' + what)
    total = next(l for l in lines if l.startswith('Total MACs:'))
    mine = int(total.split()[2].replace(',', ''))
    theirs = sum(macs.values())
    print('total macs convc %d pytorch %d %s' % (mine, theirs, 'ok' if mine == theirs else 'MISMATCH'))
    if mine != theirs:
        errors.append('total macs')
    if blocks == 0:
        errors.append('no block rows')
    if errors:
        print('FAIL: ' + ', '.join(errors))
        sys.exit(1)
    print('PASS %s: %d block rows, batch %d' % (name, blocks, batch))


if __name__ == '__main__':
    main()
