/* cg_internal.h - shared between the files of codegen/ only. */
#ifndef CONVC_CG_INTERNAL_H
#define CONVC_CG_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/codegen.h"

/* The target as the kernels see it: the questions ir_choose_kernels asks
 * (IrTarget, first member) and what the answers depend on. */
typedef struct {
    IrTarget ir;
    int vec;                /* float lanes of the widest vector: 16 (AVX-512), 8 (AVX2
                               and FMA), 0 (neither: only the reference kernels apply) */
    int64_t scratch_probe;  /* CgOptions.scratch_probe */
    CgWinograd winograd;    /* --winograd */
} CgTarget;

/* The state of one module being built. */
typedef struct {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTypeRef i1, i32, i64, f32, f64, ptr, void_t;
    LLVMTypeRef kernel_t;   /* void (ptr args, i64 begin, i64 end, i64 batch) */
    LLVMValueRef fn;        /* kernel being emitted */
    LLVMValueRef *kernels;  /* one per IR node */
    LLVMValueRef *prepares; /* one per prepare step */
    const IrModule *m;
    int vec;                /* float lanes of the widest vector: 16 (AVX-512) or 8 */
    LLVMTypeRef vf, vi32, vi1; /* <vec x float>, <vec x i32>, <vec x i1> */
    char *cpu, *features;   /* the target machine's, for every kernel's attributes */
    int64_t scratch_probe;  /* CgOptions.scratch_probe */
} Cg;

/* What a kernel body needs: the node and the current sample's buffers. */
typedef struct {
    Cg *g;
    const IrNode *n;
    const IrTensor *out, *in[IR_MAX_IN];
    LLVMValueRef y;              /* output, this sample */
    LLVMValueRef x[IR_MAX_IN];   /* inputs, this sample */
    LLVMValueRef p[4];           /* parameters, in cg_step_params order */
    LLVMValueRef scratch;        /* workspace, this sample (IrNode.scratch); NULL if none */
    LLVMValueRef r;              /* work item within the sample (whole_batch: within the batch) */
    LLVMValueRef batch;          /* samples in the batch (i64, known at run time only) */
} CgKernel;

/* What a prepare step's body needs: the step and its parameter pointers. */
typedef struct {
    Cg *g;
    const IrPrepare *p;
    LLVMValueRef param[IR_MAX_PREPARE_PARAMS]; /* IrPrepare.params order: outputs, then inputs */
    LLVMValueRef r;              /* work item */
} CgPrepare;

/* One way to lower a node: a row of the lowering table (lower.c), indexed
 * by IrKernel. A new kernel is one file defining one of these. */
typedef struct {
    /* whether it can lower n on target t (the reference lowering: always) */
    int (*applies)(const CgTarget *t, const IrModule *m, const IrNode *n);
    /* work items per sample: the body runs once per item */
    int64_t (*work)(const Cg *g, const IrNode *n);
    /* workspace floats per sample the body needs besides its tensors (0:
       none); the body finds it at k->scratch (ir/ir.h: Workspace) */
    int64_t (*scratch)(const CgTarget *t, const IrModule *m, const IrNode *n);
    /* the body for item k->r of the current sample */
    void (*emit)(CgKernel *k);
    /* NULL, or: adds the derived parameters and prepare steps the body
       reads (ir_add_derived, ir_add_prepare) and repoints m->nodes[i]'s
       weight or bias at them; runs once the row is chosen for node i */
    void (*prepare)(const CgTarget *t, IrModule *m, int i);
    /* 1: the items cover the whole batch, each every sample (k->y and k->x
     * point at sample 0, k->batch samples follow); 0: items per sample */
    int whole_batch;
    /* NULL, or whether n's items run sample-minor: item = r * batch + s,
     * so every sample of work item r runs before item r + 1 (a layer whose
     * weights do not stay in cache reads each block of them once per batch,
     * not once per sample) */
    int (*sample_inner)(const Cg *g, const IrNode *n);
} CgLowering;

/* How one IrPrepareKind is lowered: a row of the prepare table
 * (prepare.c). The body computes item k->r of [0, work) and may only write
 * the step's outputs; items run in parallel. */
typedef struct {
    int64_t (*work)(const Cg *g, const IrPrepare *p);
    void (*emit)(CgPrepare *k);
} CgPrepareLowering;

extern const CgPrepareLowering cg_prepare_fold_batchnorm; /* prepare.c */
extern const CgPrepareLowering cg_prepare_winograd_weights; /* conv_winograd.c */
extern const CgPrepareLowering cg_prepare_pack_blocked;     /* conv_blocked.c */
extern const CgPrepareLowering cg_prepare_pack_depthwise;   /* conv_depthwise.c */

extern const CgLowering cg_lower_reference;    /* kernels.c */
extern const CgLowering cg_lower_conv_tiled;   /* conv_tiled.c */
extern const CgLowering cg_lower_conv_t_phase; /* conv_t_phase.c */
extern const CgLowering cg_lower_linear_vec;   /* linear.c */
extern const CgLowering cg_lower_conv_winograd; /* conv_winograd.c */
extern const CgLowering cg_lower_conv_blocked;  /* conv_blocked.c */
extern const CgLowering cg_lower_conv_t_blocked; /* conv_t_blocked.c */
extern const CgLowering cg_lower_conv_head;     /* conv_head.c */
extern const CgLowering cg_lower_pool_blocked;  /* kernels.c */
extern const CgLowering cg_lower_conv_depthwise; /* conv_depthwise.c */

/* conv_blocked.c: the layout the blocked conv wants for n's output (input < 0)
 * or input `input`; LAYOUT_NCHW if it cannot lower n */
IrLayout cg_blocked_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input);
/* conv_blocked.c: the `prepare` of a blocked conv or transposed conv (packs its weights) */
void cg_blocked_prepare(const CgTarget *t, IrModule *m, int i);
/* conv_t_blocked.c: the same question for the blocked transposed conv */
IrLayout cg_conv_t_blocked_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input);
/* conv_head.c: the layout in which the blocked-to-NCHW 1x1 conv reads
 * input `input` of n (its producer's, if it can read that; else NCHW) */
IrLayout cg_conv_head_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input);
/* conv_depthwise.c: the same for the depthwise kernel */
IrLayout cg_depthwise_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input);

int64_t cg_no_scratch(const CgTarget *t, const IrModule *m, const IrNode *n);

/* A counted loop `for (iv = lo; iv < hi; iv++)` under construction. */
typedef struct {
    LLVMValueRef iv, lo;
    LLVMBasicBlockRef pre, header, exit;
} CgLoop;

/* builder.c: loops, branches and scalar helpers */
void *cg_xcalloc(size_t n, size_t size);   /* calloc or exit(3) with "convc: out of memory" */
CgLoop cg_loop(Cg *g, LLVMValueRef lo, LLVMValueRef hi, const char *name);
void cg_loop_end(Cg *g, CgLoop *l);
void cg_loop_end_rolled(Cg *g, CgLoop *l); /* with llvm.loop.unroll.disable */
void cg_loop_end_kept(Cg *g, CgLoop *l);   /* with llvm.loop.unroll.disable and llvm.licm.disable */
void cg_if(Cg *g, LLVMValueRef cond, LLVMBasicBlockRef *merge);
void cg_if_end(Cg *g, LLVMBasicBlockRef merge);
LLVMValueRef cg_i64(Cg *g, int64_t v);
LLVMValueRef cg_f32(Cg *g, double v);
LLVMValueRef cg_fconst(Cg *g, LLVMTypeRef t, double v); /* scalar or splat */
LLVMValueRef cg_add(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_sub(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_mul(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_div(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_rem(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_in_range(Cg *g, LLVMValueRef v, int64_t hi); /* 0 <= v < hi */
LLVMValueRef cg_gep(Cg *g, LLVMValueRef base, LLVMValueRef idx);
LLVMValueRef cg_load(Cg *g, LLVMValueRef base, LLVMValueRef idx);
void cg_store(Cg *g, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v);
LLVMValueRef cg_var(Cg *g, LLVMTypeRef t, LLVMValueRef init);
LLVMValueRef cg_get(Cg *g, LLVMValueRef var);
void cg_set(Cg *g, LLVMValueRef var, LLVMValueRef v);
LLVMValueRef cg_fmuladd(Cg *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c);
void cg_prefetch(Cg *g, LLVMValueRef p);
void cg_prefetch_l2(Cg *g, LLVMValueRef p);
LLVMValueRef cg_call_f32(Cg *g, const char *name, LLVMValueRef x);
LLVMValueRef cg_fmax(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_act(Cg *g, const IrNode *n, LLVMValueRef v); /* n's activation epilogue */
int cg_vector_act(IrAct a); /* whether cg_act handles it on vectors */
/* a conv's fused residual (its input 1, in the output's layout and shape) at
 * the place of output address `at` (a pointer into k->y); NULL if none */
LLVMValueRef cg_residual(const CgKernel *k, LLVMValueRef at);
LLVMValueRef cg_const_array(Cg *g, LLVMTypeRef elt, LLVMValueRef *vals, int64_t n, const char *name);
LLVMValueRef cg_table_i64(Cg *g, const int64_t *v, int64_t n, const char *name);
LLVMValueRef cg_table_f32(Cg *g, const float *v, int64_t n, const char *name);
LLVMValueRef cg_const_string(Cg *g, const char *s);

/* vec.c: vector helpers (vectors of Cg.vec floats) */
LLVMValueRef cg_intrinsic(Cg *g, const char *name, LLVMValueRef *args, unsigned n);
LLVMValueRef cg_splat(Cg *g, LLVMValueRef scalar, LLVMTypeRef vt);
LLVMValueRef cg_lane_steps(Cg *g, int64_t step);                  /* <0, step, 2*step, ...> */
LLVMValueRef cg_lane_mask_step(Cg *g, LLVMValueRef start, int64_t step, int64_t limit);
LLVMValueRef cg_lane_mask(Cg *g, LLVMValueRef start, int64_t limit); /* 0 <= start + lane < limit */
LLVMValueRef cg_masked_load(Cg *g, LLVMValueRef p, LLVMValueRef mask);
LLVMValueRef cg_masked_gather(Cg *g, LLVMValueRef p, int64_t step, LLVMValueRef mask);
void cg_masked_store(Cg *g, LLVMValueRef v, LLVMValueRef p, LLVMValueRef mask);
void cg_masked_scatter(Cg *g, LLVMValueRef v, LLVMValueRef p, int64_t step, LLVMValueRef mask);
LLVMValueRef cg_even_lanes(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_hsum(Cg *g, LLVMValueRef v); /* sum of the lanes, fixed order */
/* lane i = lane[i] of srcs[src[i]] (src[i] < 0: any value) */
LLVMValueRef cg_select_lanes(Cg *g, LLVMValueRef *srcs, int nsrc, const int *src, const int *lane);

/* emit.c: CgTarget.vec of the target CPU */
int cg_vector_lanes(const CgOptions *o);
/* lower.c: the lowering table and the kernel functions around the bodies */
int64_t cg_work(const Cg *g, const IrNode *n);
int cg_whole_batch(const IrNode *n);
int cg_sample_inner(const Cg *g, const IrNode *n);
int cg_step_params(const IrNode *n, int params[4]);
LLVMValueRef cg_emit_kernel(Cg *g, int index);
LLVMValueRef cg_emit_entry(Cg *g, const char *name, LLVMValueRef items, int np, const int64_t *extra,
                           int nextra); /* the RtKernel around items */
void cg_function_attrs(Cg *g, LLVMValueRef fn); /* target-cpu, -features, vector widths */
void cg_pointer_attrs(Cg *g, LLVMValueRef fn, int np); /* noinline; noalias align 64 on params 0..np) */

/* prepare.c: the prepare table and each prepare step's function */
int64_t cg_prepare_work(const Cg *g, const IrPrepare *p);
LLVMValueRef cg_emit_prepare(Cg *g, int index);

/* model.c: the PREFIX_model constant; returns it */
LLVMValueRef cg_emit_model(Cg *g, const CgOptions *o);

/* api.c: the prefixed wrappers of the embedding API, and main() for an executable */
const char *cg_prefix(const IrModule *m, const CgOptions *o);
void cg_emit_api(Cg *g, const CgOptions *o, LLVMValueRef model, bool with_main);

/* The global holding --embed-weights' image (model.c); only the model points to it. */
#define CG_EMBEDDED_WEIGHTS "convc.embedded_weights"

/* emit.c: runs a new-pass-manager pipeline on mod (vectorisers on from -O2);
 * false after an error on stderr */
bool cg_run_passes(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *passes, int level);
/* split.c: mergefunc on g->mod, then about half of the kernels and prepare
 * functions moved to a copy of it, *mod2 in the new context *ctx2, so the
 * two compile on two threads; false after an error on stderr */
bool cg_split_module(Cg *g, const char *prefix, LLVMContextRef *ctx2, LLVMModuleRef *mod2);

#endif
