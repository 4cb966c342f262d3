#!/usr/bin/python3
"""Checks `convc FILE --emit=dot` against `convc FILE --stats=json`, through Graphviz.

  check_dot.py --convc PATH [--profile P.json] FILE.conv...

Graphviz's own parser reads the graph (`dot -Tjson0`), so the file must be
valid DOT. Then, against the --stats JSON (whose numbers the tests/stats
suite checks against PyTorch):
  - one node per layer, named after it, whose label gives its op, its output
    shape and (when non-zero) its parameters and MACs, rounded to 3 digits;
  - one edge per layer input, labelled with the input's shape, and one edge
    into an ellipse per network output;
  - a layer named a.b.c sits in cluster a.b inside cluster a; a top-level
    layer sits in no cluster;
  - shading: the layer with the most MACs (or, with --profile, the most
    measured time) is the darkest, a layer without any is white.
Prints `dot ok: N layers, E edges, K clusters` or the first mismatch (exit 1).
"""
import argparse
import json
import re
import subprocess
import sys


def human(v):
    units = ['', 'K', 'M', 'G', 'T', 'P']
    u = 0
    while v >= 1000 and u < 5:
        v /= 1000
        u += 1
    return ('%.3g%s' % (v, units[u])) if u else '%d' % v


def shape_text(s):
    return 'x'.join(str(d) for d in s)


def fail(msg):
    print('dot FAILED:', msg)
    sys.exit(1)


def clusters_of(graph):
    """name of every node -> list of enclosing cluster names, outermost first."""
    objs = graph.get('objects', [])
    # Graphviz lists every subgraph in objects[0.._subgraph_cnt), each with the
    # gvids of its nodes (recursively included) and of its direct subgraphs.
    nsub = graph.get('_subgraph_cnt', 0)
    members = {}
    for i in range(nsub):
        members[objs[i]['name']] = set(objs[i].get('nodes', []))
    node_names = {o['_gvid']: o['name'] for o in objs[nsub:]}
    result = {}
    for gvid, name in node_names.items():
        cl = [c for c, ns in members.items() if gvid in ns]
        cl.sort(key=lambda c: len(members[c]), reverse=True)
        result[name] = cl
    return result, nsub


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convc', required=True)
    ap.add_argument('--profile')
    ap.add_argument('src', nargs='+')
    a = ap.parse_args()
    for src in a.src:
        check(a.convc, src, a.profile)


def check(convc, src, profile):
    cmd = [convc, src, '--emit=dot'] + (['--profile', profile] if profile else [])
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    stats = json.loads(subprocess.run([convc, src, '--stats=json'], check=True,
                                      capture_output=True, text=True).stdout)
    graph = json.loads(subprocess.run(['dot', '-Tjson0'], input=text, check=True,
                                      capture_output=True, text=True).stdout)
    clusters, nsub = clusters_of(graph)
    objs = graph['objects'][nsub:]
    nodes = {o['name']: o for o in objs}
    layers = stats['layers']
    for l in layers:
        n = nodes.get(l['name']) or fail('no node for layer %s' % l['name'])
        label = n['label'].split('\\n')
        if l['op'] == 'input':
            if label != ['input ' + l['name'], shape_text(l['shape'])] or n.get('shape') != 'ellipse':
                fail('input %s: label %r' % (l['name'], label))
        else:
            if label[0] != l['name'] or not label[1].startswith(l['op']) or label[2] != shape_text(l['shape']):
                fail('layer %s: label %r, stats %s %s' % (l['name'], label, l['op'], l['shape']))
            if l['params'] or l['macs']:
                want = '%s params, %s MACs' % (human(l['params']), human(l['macs']))
                if label[3] != want:
                    fail('layer %s: %r, expected %r' % (l['name'], label[3], want))
        want_cl = ['cluster_' + '.'.join(l['name'].split('.')[:k]) for k in range(1, l['name'].count('.') + 1)]
        if clusters.get(l['name'], []) != want_cl:
            fail('layer %s in clusters %s, expected %s' % (l['name'], clusters.get(l['name']), want_cl))
    by_name = {l['name']: l for l in layers}
    gv = {o['_gvid']: o['name'] for o in graph['objects']}
    edges = sorted((gv[e['tail']], gv[e['head']], e.get('label', '')) for e in graph.get('edges', []))
    want = [(i, l['name'], shape_text(by_name[i]['shape'])) for l in layers for i in l['inputs']]
    want += [(stats_out_layer(stats, o), 'output ' + o['name'], shape_text(o['shape'])) for o in stats['outputs']]
    if edges != sorted(want):
        fail('edges differ:\n  got  %s\n  want %s' % (edges, sorted(want)))
    check_shading(nodes, layers, profile)
    print('dot ok: %d layers, %d edges, %d clusters' % (len(layers), len(edges), nsub))


def stats_out_layer(stats, out):
    """The layer behind a network output: outputs are named after layers or aliases."""
    names = [l['name'] for l in stats['layers']]
    return out['name'] if out['name'] in names else fail('output %s is not a layer' % out['name'])


def check_shading(nodes, layers, profile):
    if profile:
        steps = json.load(open(profile))['steps']
        weight = {l['name']: 0.0 for l in layers}
        for s in steps:
            first = next((p for p in s['name'].split('+') if p in weight), None)
            if first:
                weight[first] += s['median_ms']
    else:
        weight = {l['name']: l['macs'] for l in layers}
    shaded = [l['name'] for l in layers if l['op'] != 'input']
    if not shaded:
        return
    top = max(shaded, key=lambda n: weight[n])
    darkest = min(shaded, key=lambda n: int(nodes[n]['fillcolor'][3:5], 16))
    if weight[darkest] != weight[top]:
        fail('darkest node %s, but %s has the most %s' % (darkest, top, 'time' if profile else 'MACs'))
    for n in shaded:
        if weight[n] == 0 and nodes[n]['fillcolor'] != '#ffffff':
            fail('%s has no %s but is shaded %s' % (n, 'time' if profile else 'MACs', nodes[n]['fillcolor']))


if __name__ == '__main__':
    main()
