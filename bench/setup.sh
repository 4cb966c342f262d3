#!/bin/sh
# What `make bench` needs beyond `make build`, installed only when missing (root on Debian bookworm):
#   Debian's nodejs and npm (bench/ort.js runs on Node.js), python3-onnx (torch.onnx.export),
#   and onnxruntime-node into bench/node_modules from bench/package-lock.json (npm ci).
# bench/.npmrc sets onnxruntime-node-install=skip: its install script downloads nothing
# (the CPU library ships inside the npm package).
set -eu
cd "$(dirname "$0")"
missing=""
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1 || missing="$missing python3-onnx"
if [ -n "$missing" ]; then
    echo "bench/setup.sh: installing$missing"
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
if [ ! -f node_modules/onnxruntime-node/package.json ]; then
    echo "bench/setup.sh: npm ci (onnxruntime-node)"
    npm ci --no-audit --no-fund
fi
