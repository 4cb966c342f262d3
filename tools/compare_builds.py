#!/usr/bin/python3
"""Bit-identity check of two convc builds (for refactors that must not change numbers).

  compare_builds.py OLD_CONVC NEW_CONVC [FILE.conv ...] [--kernels auto|reference] [--jobs N]

compiles every network (default: tests/run/*.conv, examples/*.conv and
examples/seed/*.conv) with both compilers, runs both executables with the same
random weights and inputs (--random-weights 1 --random-input 2 --batch 2
--threads 2) and compares every output .npy byte for byte. Prints one line per
file and `identical N, different M, skipped K`; exits 1 if any output differs
or a network compiles with one compiler and not the other. Files the old
compiler rejects (negative tests) are skipped.
"""
import argparse
import concurrent.futures
import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))


def outputs_of(exe):
    info = subprocess.run([exe, '--info'], capture_output=True, text=True, check=True).stdout
    return [line.split()[1] for line in info.splitlines() if line.startswith('output ')]


def run(convc, src, kernels, work):
    exe = os.path.join(work, 'net')
    c = subprocess.run([convc, src, '--kernels=' + kernels, '-o', exe], capture_output=True, text=True)
    if c.returncode != 0:
        return None
    args = [exe, '--random-weights', '1', '--random-input', '2', '--batch', '2', '--threads', '2']
    files = []
    for name in outputs_of(exe):
        f = os.path.join(work, name.replace('/', '_') + '.npy')
        args += ['--output', name + '=' + f]
        files.append(f)
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return 'exit %d: %s' % (r.returncode, r.stderr.strip())
    return [open(f, 'rb').read() for f in files]


def compare(old, new, src, kernels):
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        x, y = run(old, src, kernels, a), run(new, src, kernels, b)
    name = os.path.relpath(src, ROOT)
    if x is None:
        return 'skipped', name + ': old compiler rejects it'
    if x == y:
        return 'identical', name
    return 'different', name + ': ' + ('new compiler rejects it' if y is None else 'outputs differ')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('old')
    ap.add_argument('new')
    ap.add_argument('files', nargs='*')
    ap.add_argument('--kernels', default='auto')
    ap.add_argument('--jobs', type=int, default=2)
    a = ap.parse_args()
    files = a.files or sorted(glob.glob(os.path.join(ROOT, 'tests/run/*.conv')) +
                              glob.glob(os.path.join(ROOT, 'examples/*.conv')) +
                              glob.glob(os.path.join(ROOT, 'examples/seed/*.conv')))
    count = {'identical': 0, 'different': 0, 'skipped': 0}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for verdict, line in pool.map(lambda f: compare(a.old, a.new, f, a.kernels), files):
            count[verdict] += 1
            print(verdict, line, flush=True)
    print('identical %d, different %d, skipped %d' % (count['identical'], count['different'], count['skipped']))
    return 1 if count['different'] else 0


if __name__ == '__main__':
    sys.exit(main())
