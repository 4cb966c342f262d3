#!/usr/bin/python3
"""Shows that an op added to the op table without its lowering does not build.

  forgotten_lowering.py ROOT CC WORKDIR

copies the compiler's sources to WORKDIR and adds an elementwise op `fmod` in
three stages, compiling the files that must change (-fsyntax-only, the
project's -Wall -Werror=switch) after each and printing every error line:

  1. only an ops.def row `OP(FMOD, ..., NODE(FMOD))`: no IR kind IR_FMOD, no
     shape rule rule_FMOD, and the front end's switches over OpKind (costs,
     receptive field, --stats JSON attributes, --explain, the parameter
     shapes of diagnostics) do not handle OP_FMOD;
  2. plus IR_FMOD in ir/ir.h's IrKind: the reference lowering's switches in
     codegen/kernels.c (work split and body), ir/build.c's parameter switch,
     ir/layout.c's layout switch and ir/print.c's name switch do not handle it;
  3. plus the rule, the name, the parameter and layout cases and the lowering
     (one case each: the work split of an elementwise op and its body,
     y = fmod(x0, x1)), and OP_FMOD next to OP_MUL in the front end's
     switches (no parameters or MACs, broadcasting windows): everything compiles.
"""
import os
import shutil
import subprocess
import sys


def llvm_include():
    for exe in ('llvm-config-19', 'llvm-config', '/usr/lib/llvm-19/bin/llvm-config'):
        try:
            return subprocess.run([exe, '--includedir'], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
    sys.exit('no llvm-config')


def compile_all(cc, src, files):
    errors = []
    for f in files:
        r = subprocess.run([cc, '-std=c17', '-fsyntax-only', '-Wall', '-Werror=switch', '-D_GNU_SOURCE', '-I', src,
                            '-isystem', llvm_include(), os.path.join(src, f)], capture_output=True, text=True)
        errors += ['%s: error: %s' % (f, line.split('error:', 1)[1].strip())
                   for line in r.stderr.splitlines() if 'error:' in line]
    return errors


def patch(path, old, new):
    s = open(path).read()
    assert old in s, (path, old)
    open(path, 'w').write(s.replace(old, new, 1))


def main():
    root, cc, work = sys.argv[1:4]
    src = os.path.join(work, 'src')
    shutil.rmtree(src, ignore_errors=True)
    for d in ('frontend', 'ir', 'codegen', 'runtime'):
        shutil.copytree(os.path.join(root, d), os.path.join(src, d))
    front = ['frontend/costs.c', 'frontend/rf.c', 'frontend/report.c', 'frontend/explain.c', 'frontend/check.c']
    files = ['frontend/rules.c'] + front + ['ir/build.c', 'ir/print.c', 'ir/layout.c', 'codegen/kernels.c']
    ops = os.path.join(src, 'frontend/ops.def')
    open(ops, 'a').write('OP(FMOD, "fmod", 2, 0, "", "", NODE(FMOD))\n')
    print('stage 1: ops.def row only')
    print('\n'.join(compile_all(cc, src, files)))
    patch(os.path.join(src, 'ir/ir.h'), '    IR_KIND_COUNT', '    IR_FMOD,\n    IR_KIND_COUNT')
    print('stage 2: plus IR_FMOD')
    print('\n'.join(compile_all(cc, src, files)))
    patch(os.path.join(src, 'frontend/rules.c'), 'typedef bool (*RuleFn)',
          'static bool rule_FMOD(OpCall *k, Layer *L) { return rule_ADD(k, L); }\n\ntypedef bool (*RuleFn)')
    patch(os.path.join(src, 'ir/print.c'), '    case IR_COPY:', '    case IR_FMOD: return "fmod";\n    case IR_COPY:')
    patch(os.path.join(src, 'ir/build.c'), '    case IR_KIND_COUNT:\n        break; /* no parameters */',
          '    case IR_FMOD: case IR_KIND_COUNT:\n        break; /* no parameters */')
    patch(os.path.join(src, 'ir/layout.c'), '    case IR_COPY: case IR_REORDER: case IR_KIND_COUNT:', '    case IR_FMOD: case IR_COPY: case IR_REORDER: case IR_KIND_COUNT:')
    patch(os.path.join(src, 'codegen/kernels.c'), '    case IR_ACT: case IR_COPY: case IR_RESHAPE:\n        return rows_of(o);',
          '    case IR_ACT: case IR_FMOD: case IR_COPY: case IR_RESHAPE:\n        return rows_of(o);')
    patch(os.path.join(src, 'codegen/kernels.c'), '    case IR_ADD: emit_binary(k, LLVMBuildFAdd); break;',
          '    case IR_ADD: emit_binary(k, LLVMBuildFAdd); break;\n    case IR_FMOD: emit_elementwise(k, LLVMBuildFRem); break;')
    for f in front:   # fmod counts and reads its inputs as mul does
        path = os.path.join(src, f)
        open(path, 'w').write(open(path).read().replace('case OP_MUL:', 'case OP_MUL: case OP_FMOD:'))
    print('stage 3: plus rule, name and lowering')
    print('\n'.join(compile_all(cc, src, files)) or 'no errors')


if __name__ == '__main__':
    main()
