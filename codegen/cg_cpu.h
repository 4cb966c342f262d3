/*
 * cg_cpu.h - the one function codegen implements in C++ (target_cpu.cpp),
 * declared for C: whether a CPU name suits the target machine convc builds,
 * and which vector features it has.
 */
#ifndef CONVC_CG_CPU_H
#define CONVC_CG_CPU_H

#include <llvm-c/TargetMachine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CG_CPU_OK,        /* known to the backend and able to run the triple's code */
    CG_CPU_UNKNOWN,   /* the backend does not know the name */
    CG_CPU_NOT_64BIT  /* an x86 CPU without 64-bit mode (i686, pentium4) */
} CgCpuCheck;

CgCpuCheck cg_cpu_check(LLVMTargetRef target, const char *triple, const char *cpu);

/* Whether a CPU (one cg_cpu_check accepted) has every feature of a list
 * such as "+avx2,+fma". */
int cg_cpu_has(LLVMTargetRef target, const char *triple, const char *cpu, const char *features);

#ifdef __cplusplus
}
#endif

#endif
