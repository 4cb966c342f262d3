#!/bin/sh
# make demo: the UNet from examples/unet.conv, end to end.
#   1. --stats: per-layer shapes, parameters, MACs, receptive fields
#   2. compile it to a native executable
#   3. run it on random weights and a random input, timed
#   4. a picture of the network (--emit=dot), rendered to SVG when Graphviz is installed
set -eu
build=${1:-build}
convc=$build/bin/convc
out=$build/demo
mkdir -p "$out"

echo "== convc examples/unet.conv --stats"
"$convc" examples/unet.conv --stats
echo
echo "== convc examples/unet.conv -o $out/unet"
"$convc" examples/unet.conv -o "$out/unet"
echo
echo "== $out/unet --random-weights 1 --random-input 2 --output $out/y.npy --bench 3"
"$out/unet" --random-weights 1 --random-input 2 --output "$out/y.npy" --bench 3
/usr/bin/python3 -c "import numpy as np; y = np.load('$out/y.npy'); print('output', y.shape, y.dtype, 'mean %.6f std %.6f' % (y.mean(), y.std()))"

echo
echo "== convc examples/unet.conv --emit=dot -o $out/unet.dot"
"$convc" examples/unet.conv --emit=dot -o "$out/unet.dot"
if command -v dot >/dev/null 2>&1; then
    dot -Tsvg "$out/unet.dot" -o "$out/unet.svg"
    echo "rendered $out/unet.svg (open it in a browser)"
else
    echo "Graphviz's dot is not installed: render with 'dot -Tsvg $out/unet.dot -o unet.svg'"
fi
