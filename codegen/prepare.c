/*
 * prepare.c - the prepare table: load-time steps (IrPrepare) as generated
 * code, and the one body that lives here, the batchnorm fold.
 *
 * Every IrPrepareKind has one row (CgPrepareLowering): how many work items
 * the step splits into and the body that computes one item. A kernel that
 * needs its weights in another form (packed into blocks, Winograd-
 * transformed) adds a kind to ir/ir.h, a row here whose body lives in the
 * kernel's own file, and a `prepare` hook on its lowering row (lower.c)
 * that adds the derived parameter and the step.
 *
 * A step's code has the kernels' shape (lower.c), with parameters instead of
 * tensors and no batch:
 *   pN.kind(ptr args, i64 begin, i64 end, i64 batch)  -- RtKernel: loads args[0..np) and calls
 *   pN.kind.items(ptr out..., ptr in..., i64 begin, i64 end, i64 batch)  -- noinline, noalias,
 *       align 64; batch (1) unused:
 *       for item in [begin, end): body(item)
 * The runtime runs the steps once, in order, after loading the weights, each
 * split over the thread pool; parameters have no batch dimension.
 */
#include <stdio.h>

#include "codegen/cg_internal.h"

static const CgPrepareLowering *const prepares[PREPARE_KIND_COUNT] = {
    [PREPARE_FOLD_BATCHNORM] = &cg_prepare_fold_batchnorm,
    [PREPARE_WINOGRAD_WEIGHTS] = &cg_prepare_winograd_weights,
    [PREPARE_PACK_BLOCKED] = &cg_prepare_pack_blocked,
    [PREPARE_PACK_DEPTHWISE] = &cg_prepare_pack_depthwise,
};

int64_t cg_prepare_work(const Cg *g, const IrPrepare *p)
{
    return prepares[p->kind]->work(g, p);
}

/* pN.kind.items: np pointers, then begin, end, batch; the loop over items */
static LLVMValueRef emit_items(Cg *g, const IrPrepare *p, const char *name)
{
    int np = p->nout + p->nin;
    LLVMTypeRef params[IR_MAX_PREPARE_PARAMS + 3];
    for (int i = 0; i < np; i++)
        params[i] = g->ptr;
    params[np] = params[np + 1] = params[np + 2] = g->i64; /* begin, end, batch (unused) */
    LLVMValueRef fn = g->fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(g->void_t, params, (unsigned)np + 3, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    cg_function_attrs(g, fn);
    cg_pointer_attrs(g, fn, np);
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
    CgPrepare k = {.g = g, .p = p};
    for (int i = 0; i < np; i++)
        k.param[i] = LLVMGetParam(fn, (unsigned)i);
    CgLoop item = cg_loop(g, LLVMGetParam(fn, (unsigned)np), LLVMGetParam(fn, (unsigned)np + 1), "item");
    k.r = item.iv;
    prepares[p->kind]->emit(&k);
    cg_loop_end(g, &item);
    LLVMBuildRetVoid(g->b);
    return fn;
}

/* void pN.kind(ptr args, i64 begin, i64 end, i64 batch): pN.kind.items(args[0], ..., begin, end, batch) */
LLVMValueRef cg_emit_prepare(Cg *g, int index)
{
    const IrPrepare *p = &g->m->prepares[index];
    char name[64];
    snprintf(name, sizeof name, "p%d.%s.items", index, ir_prepare_name(p->kind));
    LLVMValueRef items = emit_items(g, p, name);
    snprintf(name, sizeof name, "p%d.%s", index, ir_prepare_name(p->kind));
    return cg_emit_entry(g, name, items, p->nout + p->nin, NULL, 0);
}

/* --- the batchnorm fold ------------------------------------------------- */

/* params: 0 weight', 1 bias', 2 weight, 3 gamma, 4 beta, 5 mean, 6 var, [7 bias] */
enum { FOLD_W_OUT, FOLD_B_OUT, FOLD_W, FOLD_GAMMA, FOLD_BETA, FOLD_MEAN, FOLD_VAR, FOLD_BIAS };

/* One item per output channel. */
static int64_t fold_work(const Cg *g, const IrPrepare *p)
{
    return g->m->params[p->params[FOLD_W_OUT]].dims[0];
}

static LLVMValueRef load_f64(Cg *g, LLVMValueRef base, LLVMValueRef idx)
{
    return LLVMBuildFPExt(g->b, cg_load(g, base, idx), g->f64, "");
}

/* Item o, in double, each float rounded once at the end:
 *   s = gamma[o] / sqrt(var[o] + eps)
 *   weight'[o, j] = weight[o, j] * s            for j in [0, row)
 *   bias'[o] = (bias[o] - mean[o]) * s + beta[o]   (bias = 0 when absent)
 * No fast-math flags: LLVM keeps this order and contracts nothing. */
static void fold_body(CgPrepare *k)
{
    Cg *g = k->g;
    const IrPrepare *p = k->p;
    const IrParam *w = &g->m->params[p->params[FOLD_W]];
    int64_t row = ir_param_size(w) / w->dims[0];
    LLVMValueRef o = k->r, *a = k->param;
    LLVMValueRef var = LLVMBuildFAdd(g->b, load_f64(g, a[FOLD_VAR], o), LLVMConstReal(g->f64, p->eps), "");
    LLVMValueRef s = LLVMBuildFDiv(g->b, load_f64(g, a[FOLD_GAMMA], o), cg_intrinsic(g, "llvm.sqrt", &var, 1), "s");
    LLVMValueRef base = cg_mul(g, o, cg_i64(g, row));
    CgLoop j = cg_loop(g, cg_i64(g, 0), cg_i64(g, row), "j");
    LLVMValueRef at = cg_add(g, base, j.iv);
    LLVMValueRef v = LLVMBuildFMul(g->b, load_f64(g, a[FOLD_W], at), s, "");
    cg_store(g, a[FOLD_W_OUT], at, LLVMBuildFPTrunc(g->b, v, g->f32, ""));
    cg_loop_end(g, &j);
    LLVMValueRef b = p->nout + p->nin > FOLD_BIAS ? load_f64(g, a[FOLD_BIAS], o) : LLVMConstReal(g->f64, 0.0);
    LLVMValueRef t = LLVMBuildFMul(g->b, LLVMBuildFSub(g->b, b, load_f64(g, a[FOLD_MEAN], o), ""), s, "");
    t = LLVMBuildFAdd(g->b, t, load_f64(g, a[FOLD_BETA], o), "");
    cg_store(g, a[FOLD_B_OUT], o, LLVMBuildFPTrunc(g->b, t, g->f32, ""));
}

const CgPrepareLowering cg_prepare_fold_batchnorm = {.work = fold_work, .emit = fold_body};
