#!/bin/sh
# One line about the machine a test run is on, for reading a CI log: CPU,
# cores, vector extensions, memory and the disk space free where the build
# trees are. A full `make check` needs about 2 GB free (build trees; test
# files are deleted as tests pass) and runs about 16 minutes on the 2-core
# Xeons; warns when less space is free.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
vec=$(grep -o -w -m 1 -E 'avx512f|avx2' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
mem=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)
free_kb=$(df -Pk . | awk 'NR == 2 {print $4}')
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, ${vec:-no AVX2}, ${mem:-?} memory, $((free_kb / 1048576)) GB free in $(pwd)"
if [ "${free_kb:-0}" -lt 2097152 ]; then
    echo "machine: warning: less than 2 GB free; the build and test files may not fit"
fi
