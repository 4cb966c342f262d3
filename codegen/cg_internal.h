/* cg_internal.h - shared between the files of codegen/ only. */
#ifndef CONVC_CG_INTERNAL_H
#define CONVC_CG_INTERNAL_H

#include <llvm-c/Core.h>

#include "codegen/codegen.h"

/* The state of one module being built. */
typedef struct {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTypeRef i1, i32, i64, f32, f64, ptr, void_t;
    LLVMTypeRef kernel_t;   /* void (ptr args, i64 begin, i64 end) */
    LLVMValueRef fn;        /* kernel being emitted */
    LLVMValueRef *kernels;  /* one per IR node */
    const IrModule *m;
    int vec;                /* float lanes of the widest vector: 16 (AVX-512) or 8 */
    LLVMTypeRef vf, vi32, vi1; /* <vec x float>, <vec x i32>, <vec x i1> */
} Cg;

/* The register tile of the tiled conv kernel: ocb output channels x t
 * vectors of output columns. */
typedef struct {
    int ocb, t;
} CgConvTile;

/* A counted loop `for (iv = lo; iv < hi; iv++)` under construction. */
typedef struct {
    LLVMValueRef iv, lo;
    LLVMBasicBlockRef pre, header, exit;
} CgLoop;

/* builder.c: loops, branches and scalar helpers */
void *cg_xcalloc(size_t n, size_t size);   /* calloc or exit(3) with "convc: out of memory" */
CgLoop cg_loop(Cg *g, LLVMValueRef lo, LLVMValueRef hi, const char *name);
void cg_loop_end(Cg *g, CgLoop *l);
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
LLVMValueRef cg_call_f32(Cg *g, const char *name, LLVMValueRef x);
LLVMValueRef cg_fmax(Cg *g, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_act(Cg *g, IrAct act, double alpha, LLVMValueRef v);
LLVMValueRef cg_const_array(Cg *g, LLVMTypeRef elt, LLVMValueRef *vals, int64_t n, const char *name);
LLVMValueRef cg_table_i64(Cg *g, const int64_t *v, int64_t n, const char *name);
LLVMValueRef cg_table_f32(Cg *g, const float *v, int64_t n, const char *name);
LLVMValueRef cg_const_string(Cg *g, const char *s);

/* kernels.c */
int64_t cg_work(const Cg *g, const IrNode *n);
int cg_step_params(const IrNode *n, int params[4]);
LLVMValueRef cg_emit_kernel(Cg *g, int index);

/* conv_tiled.c */
CgConvTile cg_conv_tile(const Cg *g, const IrModule *m, const IrNode *n);
void cg_emit_conv_tiled(Cg *g, const IrNode *n, LLVMValueRef y, LLVMValueRef x, LLVMValueRef w,
                        LLVMValueRef b, LLVMValueRef r);
CgConvTile cg_conv_t_tile(const Cg *g, const IrModule *m, const IrNode *n);
void cg_emit_conv_t_tiled(Cg *g, const IrNode *n, LLVMValueRef y, LLVMValueRef x, LLVMValueRef w,
                          LLVMValueRef b, LLVMValueRef r);

/* model.c */
void cg_emit_model(Cg *g);

#endif
