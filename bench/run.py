#!/usr/bin/python3
"""convc against ONNX Runtime and PyTorch, timed in the same run on the same machine.

    /usr/bin/python3 bench/run.py [--build build] [--rounds 3] [--runs 3] [--threads 1,2]
                                  [--nets unet,resnet18,...] [--measure time,memory,compile]
                                  [--markdown docs/benchmarks.md]
    /usr/bin/python3 bench/run.py --list

`make bench` runs bench/setup.sh first (Debian's nodejs, npm and python3-onnx, and
`npm ci` of onnxruntime-node into bench/node_modules), then this.

For each network: the PyTorch module of tests/run/Inputs/models.py (the one the
tests/run tests check convc against) gets random weights (ref.py's randomize);
the same weights go to convc as safetensors and to ONNX Runtime through
torch.onnx.export. One random input is run through all three and their outputs
compared (convc and ONNX Runtime against PyTorch). Then, per thread count, in
`--rounds` rounds that alternate the runtimes (convc, PyTorch, ONNX Runtime,
convc, ...), each runtime does one warm-up and the same number of timed runs,
batch 1: `--runs`, or for a fast network as many as take convc about ROUND_SECONDS
(runs_for):
convc's executable with `--bench`, PyTorch in bench/torch_time.py (a process
of its own: eval, no_grad, torch.set_num_threads), ONNX Runtime in bench/ort.js
(onnxruntime-node, intra-op threads = T). A runtime's time is the median of its
round medians; ratios are its time / convc's (above 1: convc is faster).

Each runtime is timed on an otherwise idle machine as far as the bench goes:
this process never starts PyTorch threads (torch.set_num_threads(1); it only
builds, exports and checks), and before a runtime is timed the bench waits
until the other runtimes' processes have stopped using CPU (ONNX Runtime's
workers spin for a while after a run, PyTorch's OpenMP threads briefly).
The CPU time the other runtimes' processes used while one was timed is
measured too and printed ("others ... ms CPU"); it should be about 0.

Also measured, unless --measure leaves them out (e.g. `--nets unet --measure memory,compile`
for a quick look at one network):
- compile: the wall time of `convc NET.conv -o NET`, the median of COMPILES runs (and its
  CPU time, user + system, from os.wait4);
- memory: the peak RSS (ru_maxrss from wait4, in bench/maxrss.c) of a fresh process per runtime that loads
  the bench's weights and runs one inference at the largest thread count: convc's executable,
  `node bench/ort.js --once` and `bench/torch_time.py --once`; and, once per run, the RSS of
  Node.js with onnxruntime-node loaded but no session (`--baseline`) and of Python with torch
  imported, what those two carry before any model.

Also measured: the FMA peak of the machine (bench/fma.c, built here with
-march=native, at each thread count) and, for both UNets, every conv step's
GFLOP/s and % of that peak, from the executable's --profile=json in the last
round (that round's convc time comes from the same runs).
"""
import argparse
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'run', 'Inputs'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

NETS = {
    # name: (.conv file, tests/run/Inputs/models.py model, description)
    'unet': ('examples/unet.conv', 'unet', 'UNet 3x256x256 (examples/unet.conv)'),
    'unet_2015': ('examples/unet_2015.conv', 'unet_2015', 'UNet 2015, 1x572x572'),
    'resnet18': ('bench/nets/resnet18.conv', 'resnet18', 'ResNet-18, 3x224x224'),
    'resnet50': ('bench/nets/resnet50.conv', 'resnet50', 'ResNet-50, 3x224x224'),
    'vgg11_features': ('bench/nets/vgg11_features.conv', 'vgg11_features', 'VGG-11 features, 3x224x224'),
    'mobilenet_v2': ('bench/nets/mobilenet_v2.conv', 'mobilenet_v2', 'MobileNetV2, 3x224x224'),
    'aspp': ('bench/nets/aspp.conv', 'aspp', 'DeepLabV3 ASPP head, 2048x33x33, dilation 6/12/18'),
}
for _i in range(1, 9):
    NETS['net%d' % _i] = ('examples/seed/net%d.conv' % _i, 'net%d' % _i, 'tutorial net%d' % _i)
PROFILED = ('unet', 'unet_2015')  # their conv steps get a GFLOP/s and % of peak table
DIRECT_PROFILED = ('unet',)  # also compiled with --winograd=off: the direct kernels' own table
SEED = 1
COMPILES = 3  # a network's compile time is the median of this many compiles
MEASURES = ('time', 'memory', 'compile')
ROUND_SECONDS, MAX_RUNS = 0.3, 200  # runs_for


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- the runtimes ---------------------------------------------------------------------------

class Server:
    """A runtime timed in a process of its own, one JSON request and reply per line."""

    def __init__(self, what, argv):
        self.what = what
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, **req):
        self.p.stdin.write(json.dumps(req) + '\n')
        self.p.stdin.flush()
        reply = json.loads(self.p.stdout.readline() or '{"error": "the server exited"}')
        if 'error' in reply:
            sys.exit('bench: %s: %s (request %r)' % (self.what, reply['error'], req))
        return reply

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def ort_server():
    """bench/ort.js, one process for the whole run."""
    if not os.path.isdir(os.path.join(BENCH, 'node_modules', 'onnxruntime-node')):
        sys.exit('bench: bench/node_modules/onnxruntime-node is missing: run sh bench/setup.sh (make bench does)')
    return Server('onnxruntime', ['node', os.path.join(BENCH, 'ort.js')])


def torch_server():
    """bench/torch_time.py, one process for the whole run."""
    return Server('pytorch', [sys.executable, os.path.join(BENCH, 'torch_time.py')])


def run_child(argv):
    """(wall s, CPU s of user + system) of argv run to completion (os.wait4's rusage); its
    output is discarded, a failure stops the bench."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        sys.exit('bench: %s exited with %d: %s' % (' '.join(argv), os.waitstatus_to_exitcode(status),
                                                   err.decode(errors='replace')))
    return wall, ru.ru_utime + ru.ru_stime


def peak_rss(argv, tmp):
    """Peak RSS in MB of argv run to completion: ru_maxrss from wait4 in bench/maxrss.c, which
    runs it (a child of this process would start with this process's RSS: maxrss.c says why)."""
    exe = os.path.join(tmp, 'maxrss')
    if not os.path.exists(exe):
        subprocess.run(['cc', '-O2', os.path.join(BENCH, 'maxrss.c'), '-o', exe], check=True)
    r = subprocess.run([exe] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = re.search(r'^maxrss: kb=(\d+) status=(\d+)$', r.stdout, re.M)
    if r.returncode or not m or m.group(2) != '0':
        sys.exit('bench: %s failed: %s%s' % (' '.join(argv), r.stdout, r.stderr))
    return int(m.group(1)) / 1024.0


def baselines(tmp):
    """Peak RSS in MB of the ONNX Runtime and PyTorch processes before they load any model."""
    return {'ort': peak_rss(['node', os.path.join(BENCH, 'ort.js'), '--baseline'], tmp),
            'pytorch': peak_rss([sys.executable, os.path.join(BENCH, 'torch_time.py'), '--baseline'], tmp)}


def cpu_ns(servers):
    """CPU time the servers' processes have used, every thread, in ns (/proc/PID/task/*/schedstat)."""
    total = 0
    for s in servers:
        for f in glob.glob('/proc/%d/task/*/schedstat' % s.p.pid):
            try:
                with open(f) as fh:
                    total += int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that ended between glob and open
    return total


IDLE_WINDOW = 0.05   # s: the servers are idle when in such a window ...
IDLE_CPU = 0.5e6     # ns: ... they used less CPU than this (1% of a core)
IDLE_TIMEOUT = 5.0   # s: then the bench times anyway and says so


def wait_idle(servers):
    """Waits until the servers stop using CPU (ONNX Runtime's workers spin for a while after a
    run): two windows in a row in which they used less than IDLE_CPU."""
    start = time.perf_counter()
    before, quiet = cpu_ns(servers), 0
    while time.perf_counter() - start < IDLE_TIMEOUT:
        time.sleep(IDLE_WINDOW)
        now = cpu_ns(servers)
        quiet = quiet + 1 if now - before < IDLE_CPU else 0
        if quiet == 2:
            return
        before = now
    log('bench: %s still busy after %.0f s; timing anyway' % (', '.join(s.what for s in servers), IDLE_TIMEOUT))


class Runtimes:
    """The two servers, and how much CPU the others used while one runtime was timed."""

    def __init__(self):
        self.ort, self.torch = ort_server(), torch_server()
        self.servers = (self.ort, self.torch)
        self.others_ms = 0.0   # the most CPU another used during one timed request, in ms
        self.others_who = ''   # which and when
        self.spent = {}        # runtime -> wall seconds, waiting for idle included

    def timed(self, who, fn):
        """fn() with every server but who's own idle before and measured during it."""
        t0 = time.perf_counter()
        others = [s for s in self.servers if s.what != who]
        wait_idle(self.servers)
        before = [cpu_ns([s]) for s in others]
        r = fn()
        for s, b in zip(others, before):
            ms = (cpu_ns([s]) - b) / 1e6
            if ms > self.others_ms:
                self.others_ms, self.others_who = ms, '%s while %s ran' % (s.what, who)
        self.spent[who] = self.spent.get(who, 0.0) + time.perf_counter() - t0
        return r

    def close(self):
        for s in self.servers:
            s.close()


class Net:
    """One network: the PyTorch module, its weights file, the convc executable, the ONNX file."""

    def __init__(self, name, a, tmp):
        import torch
        import ref
        from export_weights import save_safetensors
        self.name = name
        conv, model, self.desc = NETS[name]
        self.spec, self.model = ref.build(model, SEED)
        if len(self.spec.inputs) != 1 or len(self.spec.outputs) != 1:
            sys.exit('bench: %s: one input and one output expected' % name)
        self.shape = (1,) + tuple(self.spec.inputs[0][1])
        self.weights = os.path.join(tmp, name + '.safetensors')
        save_safetensors(self.model.state_dict(), self.weights, drop_num_batches_tracked=True)
        self.exe = os.path.join(tmp, name)
        argv = [os.path.join(a.build, 'bin', 'convc'), os.path.join(ROOT, conv), '-o', self.exe]
        runs = [run_child(argv) for _ in range(COMPILES if 'compile' in a.measure else 1)]
        self.compile_s = statistics.median(r[0] for r in runs)
        self.compile_cpu = statistics.median(r[1] for r in runs)
        self.exe_direct = None
        if name in DIRECT_PROFILED and 'time' in a.measure:
            self.exe_direct = self.exe + '.direct'
            run_child(argv[:2] + ['--winograd=off', '-o', self.exe_direct])
        self.state = os.path.join(tmp, name + '.pt')
        torch.save(self.model.state_dict(), self.state)
        self.onnx = os.path.join(tmp, name + '.onnx')
        with torch.no_grad():
            torch.onnx.export(exportable(self.model), torch.zeros(self.shape), self.onnx, input_names=['x'],
                              output_names=['y'], opset_version=13)

    def convc_ms(self, threads, runs, extra=(), env=None, exe=None):
        out = subprocess.run([exe or self.exe, '--weights', self.weights, '--random-input', '2', '--threads', str(threads),
                              '--bench', str(runs)] + list(extra), check=True, capture_output=True, text=True,
                             env=env).stdout
        if extra:
            return out
        m = re.search(r'bench: median_ms=([0-9.]+)', out)
        if not m:
            sys.exit('bench: no bench line from %s: %r' % (self.exe, out))
        return float(m.group(1))

    def torch_ms(self, server, threads, runs):
        return statistics.median(server.ask(op='time', name=self.name, threads=threads, runs=runs)['times_ms'])

    def ort_ms(self, ort, threads, runs):
        return statistics.median(ort.ask(op='time', model=self.onnx, threads=threads, runs=runs)['times_ms'])

    def peak_rss(self, threads, tmp):
        """{runtime: peak RSS in MB} of a fresh process per runtime running one inference."""
        t = str(threads)
        out = self.exe + '.rss.npy'
        return {'convc': peak_rss([self.exe, '--weights', self.weights, '--random-input', '2', '--threads', t,
                                   '--output', out], tmp),
                'ort': peak_rss(['node', os.path.join(BENCH, 'ort.js'), '--once', self.onnx, t], tmp),
                'pytorch': peak_rss([sys.executable, os.path.join(BENCH, 'torch_time.py'), '--once', self.name,
                                     NETS[self.name][1], str(SEED), self.state, t], tmp)}


def exportable(model):
    """A copy without padding='same' (torch 1.13 cannot export it): the same explicit padding,
    which is symmetric for the odd effective kernels of the bench's networks."""
    import copy
    import torch.nn as nn
    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.padding == 'same':
            total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
            if any(t % 2 for t in total):
                sys.exit('bench: cannot export an asymmetric padding=same to ONNX')
            m.padding = tuple(t // 2 for t in total)
    return model


def agreement(net, ort, tmp):
    """max |y - torch| / max(1, max |torch|) of convc and of ONNX Runtime, on one random input."""
    import numpy as np
    import torch
    from export_weights import save_npy
    x = np.random.default_rng(SEED).uniform(-1, 1, net.shape).astype(np.float32)
    with torch.no_grad():
        ref = net.model(torch.from_numpy(x)).numpy()
    xin, yout, xraw, yraw = (os.path.join(tmp, net.name + s) for s in ('.x.npy', '.y.npy', '.x.bin', '.y.bin'))
    save_npy(x, xin)
    subprocess.run([net.exe, '--weights', net.weights, '--input', xin, '--output', yout, '--threads', '1'],
                   check=True)
    x.tofile(xraw)
    ort.ask(op='run', model=net.onnx, threads=1, input=xraw, output=yraw)
    scale = max(1.0, float(np.abs(ref).max()))
    c = np.load(yout).reshape(ref.shape)
    o = np.fromfile(yraw, dtype=np.float32).reshape(ref.shape)
    return float(np.abs(c - ref).max()) / scale, float(np.abs(o - ref).max()) / scale


def time_net(net, rt, threads, peak, a):
    """{runtime: median of the round medians}, rounds alternating the runtimes; for a
    profiled network also 'steps', the conv steps of the last round's --profile=json."""
    rounds = {'convc': [], 'pytorch': [], 'ort': []}
    steps = None
    runs = runs_for(net, threads, a)
    for i in range(a.rounds):
        if net.name in PROFILED and i == a.rounds - 1:
            d = rt.timed('convc', lambda: profile(net, threads, peak, runs))
            rounds['convc'].append(d['median_ms'])
            steps = [s for s in d['steps'] if s['op'].startswith('conv')]
        else:
            rounds['convc'].append(rt.timed('convc', lambda: net.convc_ms(threads, runs)))
        rounds['pytorch'].append(rt.timed('pytorch', lambda: net.torch_ms(rt.torch, threads, runs)))
        rounds['ort'].append(rt.timed('onnxruntime', lambda: net.ort_ms(rt.ort, threads, runs)))
    r = {k: statistics.median(v) for k, v in rounds.items()}
    r['steps'], r['runs'] = steps, runs
    return r


def runs_for(net, threads, a):
    """Timed runs per round: `--runs`, or more for a fast network, enough for about
    ROUND_SECONDS of convc (at most MAX_RUNS), so a median of a few-ms network is not
    one of 3 samples (on the noisy 2-core machines, 3 runs of net3 at 2 threads gave
    medians from 3.1 to 5.0 ms). Every runtime then does the same number of runs."""
    ms = net.convc_ms(threads, a.runs)
    return max(a.runs, min(MAX_RUNS, int(ROUND_SECONDS * 1e3 / max(ms, 1e-3))))


def profile(net, threads, peak, runs, exe=None):
    """--profile=json of `runs` runs, with % of the FMA probe's peak at this thread count."""
    env = dict(os.environ, CONVC_PEAK_GFLOPS='%.3f' % (peak / threads))
    return json.loads(net.convc_ms(threads, runs, ['--profile=json'], env, exe))


# --- the machine ------------------------------------------------------------------------------

def fma_peak(threads, tmp):
    exe = os.path.join(tmp, 'fma')
    if not os.path.exists(exe):
        subprocess.run(['cc', '-O2', '-march=native', '-ffp-contract=fast', '-pthread',
                        os.path.join(BENCH, 'fma.c'), '-o', exe], check=True)
    out = subprocess.run([exe, str(threads), '2'], check=True, capture_output=True, text=True).stdout
    m = re.search(r'gflops=([0-9.]+) isa=(\w+)', out)
    return float(m.group(1)), m.group(2)


def cpu_name():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown CPU'


def cpu_flags():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('flags'):
                flags = line.split(':', 1)[1].split()
                return ' '.join(f for f in ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile')
                                if f in flags)
    except OSError:
        pass
    return ''


def torch_build():
    """What this PyTorch runs convolutions with, from its own build report."""
    import torch
    cfg = torch.__config__.show()
    dnn = re.search(r'MKL-DNN (v[0-9.]+)', cfg)
    cap = re.search(r'CPU capability usage: (\w+)', cfg)
    return 'oneDNN (MKL-DNN) %s %s, ATen CPU kernels %s' % (
        dnn.group(1) if dnn else '(version unknown)',
        'enabled' if torch.backends.mkldnn.is_available() else 'NOT available',
        cap.group(1) if cap else 'unknown')


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0


def versions(a, ort):
    import onnx
    import torch
    v = ort.ask(op='version')
    convc = subprocess.run([os.path.join(a.build, 'bin', 'convc'), '--version'], capture_output=True,
                           text=True).stdout.strip().split('\n')[0]
    return {'convc': convc, 'pytorch': '%s (%s)' % (torch.__version__, torch_build()),
            'ort': 'onnxruntime-node %s on Node.js %s' % (v['ort'], v['node']), 'onnx': onnx.__version__}


# --- the report -------------------------------------------------------------------------------

def write_markdown(path, a, info, peaks, rows, agree, profiles, nets):
    threads = [int(s) for s in a.threads.split(',')]
    with open(path, 'w') as f:
        f.write('# Benchmarks\n\n')
        if rows:
            write_times(f, a, info, peaks, rows, agree, profiles, threads)
        else:
            f.write('Produced by `bench/run.py --measure %s` (no timing of the inferences).\n\n' % a.measure)
            write_machine(f, info)
        if 'compile' in a.measure or 'memory' in a.measure:
            write_resources(f, a, info, nets, threads)


def write_machine(f, info):
    f.write('- Machine: %s, %s, %d CPUs, %s.\n' % (platform.machine(), info['cpu'], info['cpus'], info['flags']))
    f.write('- convc: %s (`--kernels=auto`, `--target-cpu=native`).\n' % info['convc'])
    f.write('- ONNX Runtime: %s (CPU execution provider, intra-op threads = T, sequential, all graph '
            'optimisations); models from `torch.onnx.export` (opset 13, python3-onnx %s).\n'
            % (info['ort'], info['onnx']))
    f.write('- PyTorch: Debian\'s python3-torch %s, eval mode, no_grad.\n' % info['pytorch'])


def write_times(f, a, info, peaks, rows, agree, profiles, threads):
    f.write('Produced by `make bench` (`bench/run.py`): convc, ONNX Runtime and PyTorch timed in the same '
            'run, batch 1, fp32, on the same weights (random, the same tensors for all three). Each runtime '
            'does one warm-up and the same number of timed runs per round (`runs` below: %d, or as many as '
            'take convc about %.1f s, at most %d), %d rounds alternating the runtimes; a time is the '
            'median of its round medians. ratio = that runtime\'s ms / convc ms (above 1: convc is faster).\n\n'
            % (a.runs, ROUND_SECONDS, MAX_RUNS, a.rounds))
    f.write('Each runtime runs in a process of its own (convc\'s executable, bench/ort.js, bench/torch_time.py; '
            'the bench\'s own Python starts no PyTorch threads), and is timed only once the other runtimes\' '
            'processes are idle (their CPU time stops growing: ONNX Runtime\'s workers spin for a while after '
            'a run); while one runtime was timed, the others used at most %.1f ms of CPU in all.\n\n'
            % max(r['others'] for r in rows))
    if info['load'] > info['cpus'] * 0.5:
        f.write('**These numbers come from a run on a loaded machine** (load average %.1f on %d CPUs when it '
                'started, %.1f at the end: other jobs were running), so they are noisy, and low for whichever '
                'runtime was unlucky (PyTorch\'s 2-thread times above all: its worker threads wait for '
                'each other at every op); rerun `make bench` on a quiet machine before drawing conclusions.\n\n'
                % (info['load'], info['cpus'], info['load_end']))
    write_machine(f, info)
    f.write('- FMA peak (bench/fma.c, %s, best of short repetitions): %s.\n\n' % (
        peaks[threads[0]][1], ', '.join('%.1f GFLOP/s at %d thread%s' % (peaks[t][0], t, 's' if t > 1 else '')
                                       for t in threads)))
    f.write('| network | threads | runs | convc ms | convc GFLOP/s | ONNX Runtime ms | ratio | PyTorch ms | ratio |\n')
    f.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|\n')
    for r in rows:
        f.write('| %s | %d | %d | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f |\n' % (
            NETS[r['net']][2], r['threads'], r['runs'], r['convc'], r['gflops'], r['ort'], r['ort'] / r['convc'],
            r['pytorch'], r['pytorch'] / r['convc']))
    f.write('\nOutputs on one random input, max |y - PyTorch| / max(1, max |PyTorch|):\n\n')
    f.write('| network | convc | ONNX Runtime |\n|---|---:|---:|\n')
    for name, (c, o) in agree.items():
        f.write('| %s | %.1e | %.1e |\n' % (name, c, o))
    for name, per_t in profiles.items():
        if name.endswith(DIRECT):
            f.write('\n### %s with `--winograd=off`: conv steps of the direct kernels (`--profile=json`)\n\n'
                    % NETS[name[:-len(DIRECT)]][2])
            f.write('The same network compiled with every 3x3 layer on the direct kernel, %d runs, after the '
                    'timed rounds. %s\n\n' % (a.runs, direct_summary(per_t, threads)))
        else:
            f.write('\n### %s: conv steps (`--profile=json`)\n\n' % NETS[name][2])
        f.write('% of peak is of the FMA peak above at the same thread count.\n\n')
        f.write('| step | output | MACs |' + ''.join(' %dT ms | %dT GFLOP/s | %dT %% peak |' % (t, t, t)
                                                   for t in threads) + '\n')
        f.write('|---|---|---:|' + '---:|---:|---:|' * len(threads) + '\n')
        for i, s in enumerate(per_t[threads[0]]):
            f.write('| %s | %s | %d |' % (s['name'], 'x'.join(map(str, s['shape'][1:])), s['macs']))
            for t in threads:
                u = per_t[t][i]
                f.write(' %.2f | %.1f | %.1f |' % (u['median_ms'], u['gflops'] or 0, u['peak_pct'] or 0))
            f.write('\n')


DIRECT = ':direct'  # the key suffix of a --winograd=off profile


def direct_summary(per_t, threads):
    """The range of % of peak over the stride-1 3x3 conv steps with 64-1024 input channels (input
    channels from MACs = Cin * 9 * output elements, exact only for a 3x3 conv)."""
    out = []
    for t in threads:
        pct = []
        for s in per_t[t]:
            n = s['shape'][1] * s['shape'][2] * s['shape'][3]
            if s['op'] in ('conv', 'conv+relu') and s['macs'] % (9 * n) == 0 and 64 <= s['macs'] // (9 * n) <= 1024:
                pct.append(s['peak_pct'] or 0)
        if pct:
            out.append('%dT: %.1f-%.1f%% of peak, median %.1f%% (%d steps)'
                       % (t, min(pct), max(pct), statistics.median(pct), len(pct)))
    return 'The 3x3 layers with 64-1024 input channels: ' + '; '.join(out) + '.' if out else ''


def write_resources(f, a, info, nets, threads):
    """The compile time and peak RSS table."""
    mem, comp = 'memory' in a.measure, 'compile' in a.measure
    f.write('\n## Compile time and memory\n\n')
    if comp:
        f.write('compile s: wall time of `convc NET.conv -o NET` (parse to linked executable), the median of %d '
                'compiles; CPU s: its user + system time (above the wall time when LLVM works on several '
                'threads).\n\n' % COMPILES)
    if mem:
        f.write('Peak RSS (ru_maxrss from `wait4`, in bench/maxrss.c, which runs the command) of a fresh process per runtime that loads the '
                'weights (and, for ONNX Runtime, creates the session) and runs one inference, batch 1, %d '
                'thread%s: convc\'s executable; `node bench/ort.js --once` (of which Node.js with '
                'onnxruntime-node loaded but no session is %.0f MB); `bench/torch_time.py --once` (of which '
                'Python with torch imported is %.0f MB).\n\n'
                % (threads[-1], 's' if threads[-1] > 1 else '', info['base']['ort'], info['base']['pytorch']))
    head = ['network'] + (['compile s', 'CPU s'] if comp else []) + \
        (['convc MB', 'ONNX Runtime MB', 'PyTorch MB'] if mem else [])
    f.write('| ' + ' | '.join(head) + ' |\n|---|' + '---:|' * (len(head) - 1) + '\n')
    for n in nets:
        cells = [NETS[n['name']][2]] + (['%.2f' % n['compile_s'], '%.2f' % n['compile_cpu']] if comp else []) + \
            (['%.0f' % n['rss'][k] for k in ('convc', 'ort', 'pytorch')] if mem else [])
        f.write('| ' + ' | '.join(cells) + ' |\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--nets', default=','.join(NETS))
    ap.add_argument('--measure', default=','.join(MEASURES),
                    help='what to measure, a subset of %s (default: all)' % ','.join(MEASURES))
    ap.add_argument('--markdown', help='also write the results to this file')
    ap.add_argument('--list', action='store_true', help='print name, .conv file and model of every network')
    a = ap.parse_args()
    if a.list:
        for name, (conv, model, desc) in NETS.items():
            print(name, conv, model)
        return
    threads = [int(s) for s in a.threads.split(',')]
    for m in a.measure.split(','):
        if m not in MEASURES:
            sys.exit('bench: --measure: unknown %r (known: %s)' % (m, ', '.join(MEASURES)))
    for name in a.nets.split(','):
        if name not in NETS:
            sys.exit('bench: --nets: unknown network %r (bench/run.py --list names them)' % name)
    import torch
    torch.set_num_threads(1)  # no OpenMP workers here: PyTorch is timed in bench/torch_time.py
    info = {'cpu': cpu_name(), 'cpus': os.cpu_count(), 'flags': cpu_flags(), 'load': load_average()}
    rt = Runtimes()
    info.update(versions(a, rt.ort))
    for k in ('cpu', 'flags', 'convc', 'ort', 'pytorch', 'onnx'):
        print('%-8s %s' % (k, info[k]), flush=True)
    rows, agree, profiles, nets = [], {}, {}, []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if 'memory' in a.measure:
            info['base'] = baselines(tmp)
            print('baseline  node + onnxruntime-node %.0f MB, python + torch %.0f MB peak RSS'
                  % (info['base']['ort'], info['base']['pytorch']), flush=True)
        peaks = {t: fma_peak(t, tmp) for t in threads} if 'time' in a.measure else {}
        for t in peaks:
            print('fma peak  threads=%d  %.1f GFLOP/s (%s)' % (t, peaks[t][0], peaks[t][1]), flush=True)
        for name in a.nets.split(','):
            wait_idle(rt.servers)  # the compile is timed too
            net = Net(name, a, tmp)
            agree[name] = agreement(net, rt.ort, tmp)
            print('%-14s agree: convc %.1e  onnxruntime %.1e' % ((name,) + agree[name]), flush=True)
            res = {'name': name, 'compile_s': net.compile_s, 'compile_cpu': net.compile_cpu}
            if 'compile' in a.measure:
                print('%-14s compile %.2f s wall, %.2f s CPU' % (name, net.compile_s, net.compile_cpu), flush=True)
            if 'memory' in a.measure:
                res['rss'] = net.peak_rss(threads[-1], tmp)
                print('%-14s peak RSS at %d threads: convc %.0f MB  onnxruntime %.0f MB  pytorch %.0f MB'
                      % ((name, threads[-1]) + tuple(res['rss'][k] for k in ('convc', 'ort', 'pytorch'))), flush=True)
            nets.append(res)
            if 'time' in a.measure:
                time_all(net, rt, threads, peaks, a, rows, profiles)
            rt.ort.ask(op='release')
            rt.torch.ask(op='release')
    rt.close()
    log('bench: %.0f s in all; timing (idle waits included): %s' % (
        time.perf_counter() - started, ', '.join('%s %.0f s' % kv for kv in sorted(rt.spent.items()))))
    info['load_end'] = load_average()
    if a.markdown:
        write_markdown(a.markdown, a, info, peaks, rows, agree, profiles, nets)


def time_all(net, rt, threads, peaks, a, rows, profiles):
    """Times net at every thread count: a row each in rows, the profiled conv steps in profiles."""
    rt.torch.ask(op='load', name=net.name, model=NETS[net.name][1], seed=SEED, state=net.state)
    for t in threads:
        rt.others_ms, rt.others_who = 0.0, ''
        r = dict(time_net(net, rt, t, peaks[t][0], a), net=net.name, threads=t)
        if r['steps'] is not None:
            profiles.setdefault(net.name, {})[t] = r['steps']
        if net.exe_direct:
            d = rt.timed('convc', lambda: profile(net, t, peaks[t][0], a.runs, net.exe_direct))
            profiles.setdefault(net.name + DIRECT, {})[t] = [s for s in d['steps'] if s['op'].startswith('conv')]
        r['gflops'] = 2 * net_macs(net) / r['convc'] / 1e6
        r['others'] = rt.others_ms
        rows.append(r)
        print('%-14s threads=%d  convc %9.2f ms  onnxruntime %9.2f ms (%.2f)  pytorch %9.2f ms (%.2f)'
              '  others <= %.1f ms CPU %s' % (net.name, t, r['convc'], r['ort'], r['ort'] / r['convc'], r['pytorch'],
                                             r['pytorch'] / r['convc'], rt.others_ms, rt.others_who),
              flush=True)


def net_macs(net):
    out = subprocess.run([net.exe, '--info'], check=True, capture_output=True, text=True).stdout
    return int(re.search(r'^macs (\d+) per sample$', out, re.M).group(1))


if __name__ == '__main__':
    main()
