# lit configuration for convc. Run through `make check`, or directly:
#   /usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv --param build=$PWD/build tests
import os
import sys

config.name = 'convc'


# ShTest that deletes a passing test's temporary files (litformat.py); in a
# module of its own because lit's worker processes unpickle it.
sys.path.insert(0, os.path.dirname(__file__))
from litformat import ShTestCleaned  # noqa: E402

config.test_format = ShTestCleaned(execute_external=False)
config.suffixes = ['.conv', '.test']
config.excludes = ['Inputs', 'corpus', 'lit.cfg.py', 'litformat.py']
config.test_source_root = os.path.dirname(__file__)

root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
build = os.path.abspath(lit_config.params.get('build', os.path.join(root, 'build')))
config.test_exec_root = os.path.join(build, 'tests')

config.substitutions.append(('%convc', os.path.join(build, 'bin', 'convc')))
config.substitutions.append(('%python', '/usr/bin/python3'))
config.substitutions.append(('%root', root))
config.substitutions.append(('%build', build))

config.environment['PATH'] = os.pathsep.join(
    ['/usr/lib/llvm-19/bin', os.path.join(build, 'bin'), config.environment.get('PATH', os.environ.get('PATH', ''))])
config.environment['NO_COLOR'] = '1'
for var in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'HOME', 'TMPDIR'):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# Tests that make a device node (inside %t only) need root.
if os.geteuid() == 0:
    config.available_features.add('root')

# Kernels that exist only for AVX-512 (16-lane vectors, e.g. Winograd) run
# where the host has it.
if os.path.exists('/proc/cpuinfo') and ' avx512f' in open('/proc/cpuinfo').read():
    config.available_features.add('avx512')

# Code built for an AVX2 target (--target-cpu=haswell) runs where the host
# has AVX2 and FMA.
if os.path.exists('/proc/cpuinfo'):
    flags = open('/proc/cpuinfo').read()
    if ' avx2' in flags and ' fma' in flags:
        config.available_features.add('avx2')

cache = os.path.join(build, 'CMakeCache.txt')
if os.path.exists(cache) and 'CONVC_SANITIZE:BOOL=ON' in open(cache).read():
    config.available_features.add('asan')

# The C compiler and sanitizer flags the tree was built with, for tests that
# link small C drivers against the runtime library.
cc, cxx, san = 'cc', 'c++', ''
if os.path.exists(cache):
    for line in open(cache):
        if line.startswith('CMAKE_C_COMPILER:'):
            cc = line.split('=', 1)[1].strip()
        if line.startswith('CMAKE_CXX_COMPILER:'):
            cxx = line.split('=', 1)[1].strip()
    if 'asan' in config.available_features:
        san = '-fsanitize=address,undefined -fno-sanitize-recover=all'
        # the runtime was built by clang's sanitizers: C++ drivers must link
        # against the same runtime (g++'s libubsan lacks clang's handlers)
        import shutil
        clangxx = shutil.which(cc.replace('clang', 'clang++')) if 'clang' in cc else None
        if clangxx:
            cxx = clangxx
config.substitutions.append(('%cxx', cxx))
config.substitutions.append(('%cc', cc))
config.substitutions.append(('%sanflags', san))
config.substitutions.append(('%convrt', os.path.join(build, 'lib', 'libconvrt.a')))
