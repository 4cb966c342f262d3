/*
 * target_cpu.cpp - is a --target-cpu name one LLVM's backend knows, can it
 * run x86-64 code, and which vector features does it have?
 *
 * LLVM's C API has no way to ask these questions: given an unknown name,
 * LLVMCreateTargetMachine prints a warning and goes on with a generic CPU,
 * and a 32-bit x86 CPU (i686, pentium4) aborts code generation with
 * "64-bit code requested on a subtarget that doesn't support it". So the
 * driver asks the target's subtarget table here, through the C++ API, before
 * any target machine exists. The only C++ in convc; no exceptions cross it.
 */
#include <memory>

#include <llvm-c/TargetMachine.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/TargetParser/Triple.h>

#include "codegen/cg_cpu.h"

extern "C" CgCpuCheck cg_cpu_check(LLVMTargetRef target, const char *triple, const char *cpu)
{
    /* LLVMTargetRef is a wrapped llvm::Target * (llvm/lib/Target/TargetMachineC.cpp). */
    const llvm::Target *t = reinterpret_cast<const llvm::Target *>(target);
    /* The empty CPU name is the target's generic one: no warning. */
    std::unique_ptr<llvm::MCSubtargetInfo> base(t->createMCSubtargetInfo(triple, "", ""));
    if (!base || !base->isCPUStringValid(cpu))
        return CG_CPU_UNKNOWN;
    if (llvm::Triple(triple).getArch() != llvm::Triple::x86_64)
        return CG_CPU_OK;
    std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(triple, cpu, ""));
    return sti && sti->checkFeatures("+64bit") ? CG_CPU_OK : CG_CPU_NOT_64BIT;
}

extern "C" int cg_cpu_has(LLVMTargetRef target, const char *triple, const char *cpu, const char *features)
{
    const llvm::Target *t = reinterpret_cast<const llvm::Target *>(target);
    std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(triple, cpu, ""));
    return sti && sti->checkFeatures(features);
}
