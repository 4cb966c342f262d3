#!/bin/sh
# Installs every Debian bookworm package convc needs to build and test, if any is missing.
# Runs as root on a fresh machine (CI, a new session); a no-op when all are present.
set -eu
pkgs="flex bison cmake make gcc g++ libc6-dev llvm-19-dev llvm-19-tools clang-19 libclang-rt-19-dev python3-torch python3-numpy python3-psutil graphviz protobuf-c-compiler libprotobuf-c-dev python3-onnx"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
