#!/usr/bin/python3
"""The end-to-end networks against PyTorch, compiled for one --target-cpu.

  on_target.py --convc BIN --target-cpu CPU --workdir DIR [--batches 1,3]
               [--threads 1,2] [--rtol R] NET...

NET is a name of NETS below (the models of models.py that tests/run checks
on the host's target). Each is compiled with --target-cpu=CPU and run by
ref.py for every batch size and thread count: every run must match PyTorch
(ref.py's tolerance, 1e-4 of max |ref| unless --rtol), and for each batch
size every output must be the same bits at every thread count. One line per
network: `net=NAME target=CPU kernels=K,... ok`, or what failed; exit status
1 if anything failed. The kernels listed are the ones --emit=ir chose, so a
test can check which ones ran.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))

# name: (source under the repo root, model in models.py, convc arguments,
#        (text, replacement) applied to the source first: smaller inputs)
NETS = {
    'unet': ('examples/unet.conv', 'unet', [], None),
    'unet_2015_small': ('tests/run/unet_2015_small.conv', 'unet_2015_small', [], None),
    'unet_small': ('tests/run/unet_small.conv', 'unet_small', [], None),
    'resnet50': ('examples/resnet50.conv', 'resnet50', [], None),
    'resnet_tiny': ('tests/run/resnet_tiny.conv', 'resnet_tiny', [], None),
    'mobilenetv2_small': ('examples/mobilenetv2.conv', 'mobilenetv2_small', [],
                          ('input x[3, 224, 224]', 'input x[3, 40, 56]')),
    'mobilenet_tiny': ('tests/run/mobilenet_tiny.conv', 'mobilenet_tiny', [], None),
    'deeplabv3_aspp_small': ('examples/deeplabv3_aspp.conv', 'deeplabv3_aspp_small', [],
                             ('input x[2048, 33, 33]', 'input x[2048, 9, 11]')),
    'efficientnet_b0_64': ('examples/efficientnet_b0.conv', 'efficientnet_b0_64',
                           ['--network', 'efficientnet_b0_64'], None),
    'espcn': ('examples/espcn.conv', 'espcn', [], None),
    'conv_blocked': ('tests/run/conv_blocked.conv', 'conv_blocked', [], None),
}
for i in ('1', '1_5x5', '2', '3', '4', '5', '6', '7', '8'):
    NETS['net' + i] = ('examples/seed/net%s.conv' % i, 'net' + i, [], None)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def source(name, workdir):
    path, _, _, edit = NETS[name]
    path = os.path.join(ROOT, path)
    if edit is None:
        return path
    text = open(path).read()
    if edit[0] not in text:
        raise SystemExit('on_target.py: %s no longer has %r' % (path, edit[0]))
    out = os.path.join(workdir, name + '.conv')
    with open(out, 'w') as f:
        f.write(text.replace(edit[0], edit[1]))
    return out


def outputs(d):
    return sorted(f for f in os.listdir(d) if f.startswith('out_') and f.endswith('.npy'))


def same_bits(a, b):
    """The outputs of two runs that differ, or of which one has none."""
    names = outputs(a)
    if not names or names != outputs(b):
        return ['the runs wrote different outputs: %s / %s' % (names, outputs(b))]
    return [n for n in names if open(os.path.join(a, n), 'rb').read() != open(os.path.join(b, n), 'rb').read()]


def one_net(a, name, workdir):
    """-> (kernels chosen, list of problems)"""
    _, model, args, _ = NETS[name]
    src = source(name, workdir)
    exe = os.path.join(workdir, name + '.exe')
    code, out = run([a.convc, src, '--target-cpu=' + a.target_cpu, '-o', exe] + args)
    if code != 0:
        return [], ['convc exit %d: %s' % (code, out.strip())]
    _, ir = run([a.convc, src, '--target-cpu=' + a.target_cpu, '--emit=ir'] + args)
    kernels = sorted(set(re.findall(r'kernel=(\w+)', ir))) or ['reference']
    problems = []
    for batch in a.batches:
        dirs = []
        for threads in a.threads:
            d = os.path.join(workdir, '%s.b%d.t%d' % (name, batch, threads))
            cmd = [sys.executable, os.path.join(HERE, 'ref.py'), '--exe', exe, '--model', model,
                   '--batch', str(batch), '--threads', str(threads), '--workdir', d]
            if a.rtol:
                cmd += ['--rtol', str(a.rtol)]
            code, out = run(cmd)
            last = out.strip().splitlines()[-1] if out.strip() else ''
            if code != 0 or not last.endswith(' ok'):
                problems.append('batch %d threads %d: %s' % (batch, threads, out.strip()))
            dirs.append((threads, d))
        for threads, d in dirs[1:]:
            if not problems:
                differ = same_bits(dirs[0][1], d)
                if differ:
                    problems.append('batch %d: threads %d and %d differ in %s' % (
                        batch, dirs[0][0], threads, ', '.join(differ)))
        if not problems:  # a passing run's files go (about 150 MB for UNet), a failing one's stay
            for _, d in dirs:
                shutil.rmtree(d, ignore_errors=True)
    if not problems:
        os.unlink(exe)
    return kernels, problems


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--convc', required=True)
    p.add_argument('--target-cpu', required=True)
    p.add_argument('--workdir', required=True)
    p.add_argument('--batches', default='1,3')
    p.add_argument('--threads', default='1,2')
    p.add_argument('--rtol', type=float)
    p.add_argument('nets', nargs='+', choices=sorted(NETS), metavar='NET')
    a = p.parse_args()
    a.batches = [int(b) for b in a.batches.split(',')]
    a.threads = [int(t) for t in a.threads.split(',')]
    os.makedirs(a.workdir, exist_ok=True)
    failed = 0
    for name in a.nets:
        kernels, problems = one_net(a, name, a.workdir)
        line = 'net=%s target=%s kernels=%s' % (name, a.target_cpu, ','.join(kernels))
        print(line + (' ok' if not problems else ' FAILED'), flush=True)
        for pr in problems:
            print('  ' + pr.replace('\n', '\n  '), flush=True)
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
