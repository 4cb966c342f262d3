/*
 * codegen.h - lowering IR to LLVM through the C API, object emission, linking.
 *
 * cg_compile() builds one LLVM module holding one kernel per IR node, the
 * constant `PREFIX_model` descriptor (runtime/convrt.h) and the prefixed
 * wrappers of the embedding API (runtime/convc.h; codegen/api.c), verifies
 * it, optimises it with the new pass manager and emits what was asked; an
 * executable (which also gets a main()) or a shared library is linked with
 * the runtime library by the C compiler driver.
 */
#ifndef CONVC_CODEGEN_H
#define CONVC_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/ir.h"

typedef enum { CG_EMIT_EXE, CG_EMIT_OBJ, CG_EMIT_ASM, CG_EMIT_LLVM, CG_EMIT_SHARED } CgEmit;

/* When 3x3 stride-1 convs use KERNEL_CONV_WINOGRAD (--winograd). */
typedef enum {
    CG_WINOGRAD_AUTO, /* where the cost model expects it to be faster */
    CG_WINOGRAD_ON,   /* wherever the kernel can compute the layer */
    CG_WINOGRAD_OFF   /* never */
} CgWinograd;

typedef struct {
    const char *cpu;   /* "native" or an LLVM CPU name */
    int opt_level;     /* 0..3 */
    /* Told the path of each temporary file codegen creates (the object
     * files of an executable, at most two, in $TMPDIR or /tmp), then NULL
     * once they are removed, so the driver can remove them when a signal
     * ends convc. May be NULL. */
    void (*on_temp)(const char *path);
    const unsigned char *embed;  /* a safetensors image to embed as the default weights, or NULL */
    size_t embed_size;
    /* --scratch-probe=N (testing the workspace plumbing): every node with
     * fewer than IR_MAX_IN inputs asks N floats of workspace per work item
     * more than its lowering needs, and each item fills its slice with NaN
     * before computing, so a workspace placed over a live tensor, or
     * slices shared between items, changes the output. 0: off. */
    int64_t scratch_probe;
    const char *embed_label;     /* what it is called in messages (its file) */
    const char *prefix;          /* of every exported symbol; NULL: the network's name */
    CgWinograd winograd; /* --winograd */
} CgOptions;

/* NULL when p can prefix the object's symbols: a C identifier that the
 * runtime's own symbols (convc_*, rt_*) cannot collide with; else why not,
 * as a phrase that follows the prefix ("is reserved: ..."). */
const char *cg_prefix_problem(const char *p);

/* Checks o->embed against m's parameters (names, shapes, float dtypes), as
 * the runtime would when it starts; false after one error line. */
bool cg_check_embedded(const IrModule *m, const CgOptions *o);

/* The header declaring the object's API (`-` is stdout); false after an error line. */
bool cg_write_header(const IrModule *m, const CgOptions *o, const char *out);

/* NULL when --target-cpu names a CPU the host target's LLVM backend knows
 * and that runs its (x86-64) code ("native" always does); else why not, as
 * a phrase that follows the name ("is not a CPU LLVM knows for ..."). */
const char *cg_cpu_problem(const char *cpu);

/* The kernel choice's questions answered for o's target machine (which
 * lowerings apply); lives until exit. */
IrTarget *cg_target(const CgOptions *o);

/* Writes `out` ("-" is stdout for CG_EMIT_LLVM/ASM). Errors go to stderr. */
bool cg_compile(const IrModule *m, const CgOptions *o, CgEmit what, const char *out);

#endif
