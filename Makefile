# Top-level entry points. Both targets install missing Debian packages first,
# so they work on a fresh bookworm machine as root.
#   make demo   build convc, show --stats of examples/unet.conv, compile and run it
#   make check  build convc and run every test, then again under ASan+UBSan,
#               then each libFuzzer harness for 10 s (tools/fuzz.sh --check)
#   make fuzz   run each libFuzzer harness for FUZZ_SECONDS (default 600)
#   make bench  time convc against ONNX Runtime and PyTorch (writes docs/benchmarks.md);
#               installs nodejs, npm, python3-onnx and onnxruntime-node first (bench/setup.sh)
#   make fuzz-diff N=2000 [SEED=1000000] [FUZZ_ARGS='--target-cpu=haswell --batch 3']
#               N random networks against PyTorch
#               (docs/testing.md); failures minimised into $(FUZZ_DIR)

PY      := /usr/bin/python3
LIT     := /usr/lib/llvm-19/build/utils/lit/lit.py
JOBS    := $(shell nproc)
LITOPTS ?= -sv
# A test that runs this long has hung: lit kills it and reports it by name
# (the slowest test takes about 70 s under ASan), so one hang cannot use up
# a CI run's time. Needs python3-psutil (tools/install-deps.sh).
LITTIMEOUT ?= 900
FUZZ_SECONDS ?= 600

.PHONY: all deps build build-asan build-fuzz demo check check-fast check-asan check-fuzz fuzz fuzz-diff bench clean

all: build

deps:
	@sh tools/install-deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j $(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-19 -DCONVC_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

# The libFuzzer harnesses of tests/fuzz (clang-19, ASan + UBSan): see docs/testing.md.
build-fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-19 -DCONVC_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzzers

demo: build
	@sh tools/demo.sh build

check-fast: build
	@sh tools/machine.sh
	$(PY) $(LIT) $(LITOPTS) --timeout=$(LITTIMEOUT) --param build=$(CURDIR)/build tests

check-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(PY) $(LIT) $(LITOPTS) --timeout=$(LITTIMEOUT) --param build=$(CURDIR)/build-asan tests

check-fuzz: build-fuzz
	sh tools/fuzz.sh --check build-fuzz 10

check: check-fast check-asan check-fuzz

fuzz: build-fuzz
	sh tools/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# convc against ONNX Runtime and PyTorch in the same run; rewrites docs/benchmarks.md
bench: build
	sh bench/setup.sh
	$(PY) bench/run.py --build $(CURDIR)/build --markdown docs/benchmarks.md

# random networks against PyTorch: seeds SEED .. SEED+N-1, defects being fixed
# elsewhere drawn too (counted as known); failures saved, minimised, in FUZZ_DIR
N        ?= 2000
SEED     ?= 1000000
FUZZ_DIR ?= $(CURDIR)/fuzz-diff-failures
fuzz-diff: build
	$(PY) tests/random/Inputs/difftest.py --build $(CURDIR)/build --seeds $(SEED)-$(shell echo $$(($(SEED) + $(N) - 1))) \
	    --known --save $(FUZZ_DIR) $(FUZZ_ARGS)

clean:
	rm -rf build build-asan build-fuzz
