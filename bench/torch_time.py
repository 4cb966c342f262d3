#!/usr/bin/python3
"""torch_time.py - the PyTorch side of `make bench` (bench/run.py), a server on stdin/stdout.

PyTorch is timed in this process of its own, as ONNX Runtime is in bench/ort.js, so that its
OpenMP worker threads never live in the process that runs the others (bench/run.py, which
waits for this one to be idle before it times another runtime).

One JSON request per line, one JSON reply per line:
  {"op": "version"}                                     -> {"torch": "1.13.0", "build": "..."}
  {"op": "load", "name": N, "model": M, "seed": S, "state": F}
                                                        -> {}: builds tests/run/Inputs/models.py's
                                                           model M (ref.build(M, S)) and loads the
                                                           state dict torch.save'd in F (the parent's
                                                           weights, tensor for tensor)
  {"op": "time", "name": N, "threads": T, "runs": R}    -> {"times_ms": [...]} (after one warm-up run)
  {"op": "release"}                                     -> {}: drops every loaded model
Timed runs: eval mode, no_grad, torch.set_num_threads(T), batch 1, an input of uniform(-1, 1).

One-shot modes for bench/run.py's peak RSS measurement (the process's ru_maxrss is what is
measured, so these do nothing else and exit):
  torch_time.py --once NAME MODEL SEED STATE THREADS   load as "load" does, run one inference
  torch_time.py --baseline                             import torch, build nothing
"""
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'run', 'Inputs'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

import torch  # noqa: E402

models = {}  # name -> (module, input shape)


def load(req):
    import ref
    spec, model = ref.build(req['model'], req['seed'])
    model.load_state_dict(torch.load(req['state']))
    models[req['name']] = (model.eval(), (1,) + tuple(spec.inputs[0][1]))
    return {}


def time_runs(req):
    model, shape = models[req['name']]
    torch.set_num_threads(req['threads'])
    x = torch.rand(shape) * 2 - 1
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(req['runs']):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1e3)
    return {'times_ms': times}


def version(req):
    return {'torch': torch.__version__, 'config': torch.__config__.show(),
            'mkldnn': torch.backends.mkldnn.is_available()}


def release(req):
    models.clear()
    return {}


OPS = {'version': version, 'load': load, 'time': time_runs, 'release': release}


def one_shot(argv):
    if argv[0] == '--baseline':
        return
    name, model, seed, state, threads = argv[1:6]
    load({'name': name, 'model': model, 'seed': int(seed), 'state': state})
    module, shape = models[name]
    torch.set_num_threads(int(threads))
    with torch.no_grad():
        module(torch.rand(shape) * 2 - 1)


def main():
    if len(sys.argv) > 1:
        return one_shot(sys.argv[1:])
    torch.set_num_threads(1)
    for line in sys.stdin:
        try:
            req = json.loads(line)
            if req.get('op') not in OPS:
                raise ValueError('unknown op %r' % req.get('op'))
            reply = OPS[req['op']](req)
        except Exception as e:  # the reply carries it; bench/run.py stops with it
            reply = {'error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
