#!/bin/sh
# Runs the libFuzzer harnesses of tests/fuzz (built by `make build-fuzz`).
#   tools/fuzz.sh [--check] BUILD SECONDS [NAME...]
# Each harness (default: frontend safetensors npy onnx, one after the other) runs
# for SECONDS under ASan + UBSan with its dictionary, starting from its seed
# corpus tests/fuzz/corpus/NAME (never written to). New inputs go to
# BUILD/fuzz/corpus/NAME, so a later run continues from them; a crash, leak,
# timeout or out-of-memory input is saved as BUILD/fuzz/artifacts/NAME/*
# and fails the script (docs/testing.md says how it becomes a regression test).
# --check (make check): a fixed seed and a fresh corpus in a temporary
# directory, so each run starts from the committed seeds alone.
set -eu
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
[ $# -ge 2 ] || { echo "usage: tools/fuzz.sh [--check] BUILD SECONDS [NAME...]" >&2; exit 2; }
build=$1 seconds=$2
shift 2
[ $# -gt 0 ] || set -- frontend safetensors npy onnx
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for name; do
    bin=$build/bin/fuzz_$name
    [ -x "$bin" ] || { echo "fuzz: $bin missing (run make build-fuzz)" >&2; exit 2; }
    if [ $check = 1 ]; then
        work=$(mktemp -d)
        extra=-seed=1
    else
        work=$build/fuzz/corpus/$name
        extra=
        mkdir -p "$work"
    fi
    art=$build/fuzz/artifacts/$name
    mkdir -p "$art"
    log=$build/fuzz/$name.log
    echo "fuzz: $name for ${seconds}s (log $log)"
    # -close_fd_mask=3: the loaders' error lines would drown the log; crash
    # reports still reach it. -timeout: one input may take at most 10 s.
    if nice "$bin" $extra -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -close_fd_mask=3 -print_final_stats=1 -dict="$root/tests/fuzz/fuzz_$name.dict" \
            -artifact_prefix="$art/" "$work" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' '
        echo
    else
        echo "fuzz: $name FAILED; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        status=1
    fi
    [ $check = 1 ] && rm -rf "$work"
done
exit $status
