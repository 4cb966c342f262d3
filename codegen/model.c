/*
 * model.c - the `NAME_model` descriptor (runtime/convrt.h's RtModel) as an
 * LLVM constant: tensors, parameters, prepare steps and steps.
 *
 * The LLVM struct types below mirror the C structs field by field; LLVM's
 * non-packed struct layout for x86-64 is the C ABI layout, so the runtime
 * reads them directly. Change both together.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen/cg_internal.h"
#include "runtime/convrt.h"

static LLVMValueRef i32c(Cg *g, int64_t v) { return LLVMConstInt(g->i32, (unsigned long long)v, 1); }

static LLVMValueRef global_array(Cg *g, LLVMTypeRef elt, LLVMValueRef *vals, int n, const char *name)
{
    return n == 0 ? LLVMConstNull(g->ptr) : cg_const_array(g, elt, vals, n, name);
}

static LLVMValueRef i32_array(Cg *g, const int *v, int n, int pad_to)
{
    LLVMValueRef vals[RT_MAX_STEP_TENSORS];
    for (int i = 0; i < pad_to; i++)
        vals[i] = i32c(g, i < n ? v[i] : -1);
    return LLVMConstArray2(g->i32, vals, (uint64_t)pad_to);
}

/* The runtime's numbering of dtypes and layouts is the IR's. */
_Static_assert(RT_DTYPE_F32 == (int)DTYPE_F32 && RT_DTYPE_BF16 == (int)DTYPE_BF16 && RT_DTYPE_INT8 == (int)DTYPE_INT8,
               "RtTensor.dtype numbering");
_Static_assert(RT_LAYOUT_NCHW == (int)LAYOUT_NCHW && RT_LAYOUT_NCHW16C == (int)LAYOUT_NCHW16C &&
               RT_LAYOUT_NCHW8C == (int)LAYOUT_NCHW8C, "RtTensor.layout numbering");
_Static_assert(sizeof(RtTensor) == 72 && offsetof(RtTensor, bytes) == 40 && offsetof(RtTensor, layout) == 52 &&
               offsetof(RtTensor, view_off) == 56, "RtTensor layout as emitted below");

/* RtTensor { ptr name; i64 offset, size; i32 rank, c, h, w; i64 bytes; i32 dtype, layout; i64 view_off, stride; } */
static LLVMValueRef tensors(Cg *g, LLVMTypeRef *ty)
{
    LLVMTypeRef f[] = {g->ptr, g->i64, g->i64, g->i32, g->i32, g->i32, g->i32, g->i64, g->i32, g->i32, g->i64, g->i64};
    *ty = LLVMStructTypeInContext(g->ctx, f, 12, 0);
    const IrModule *m = g->m;
    LLVMValueRef *v = cg_xcalloc(m->ntensors + 1, sizeof *v);
    for (int i = 0; i < m->ntensors; i++) {
        const IrTensor *t = &m->tensors[i];
        LLVMValueRef e[] = {cg_const_string(g, t->name), cg_i64(g, t->offset), cg_i64(g, ir_tensor_size(t)),
                            i32c(g, t->rank), i32c(g, t->c), i32c(g, t->h), i32c(g, t->w),
                            cg_i64(g, t->bytes), i32c(g, t->dtype), i32c(g, t->layout),
                            cg_i64(g, t->view_of >= 0 ? t->view_off : 0),
                            cg_i64(g, t->view_of >= 0 ? ir_tensor_stride(m, t) : 0)};
        v[i] = LLVMConstNamedStruct(*ty, e, 12);
    }
    LLVMValueRef a = global_array(g, *ty, v, m->ntensors, "convc.tensors");
    free(v);
    return a;
}

/* RtParam { ptr name; i64 offset; [4 x i64] dims; i32 rank, source, buffer; }
 * (layout pinned by convrt.h's _Static_assert) */
static LLVMValueRef params(Cg *g)
{
    LLVMTypeRef dims_t = LLVMArrayType2(g->i64, 4);
    LLVMTypeRef f[] = {g->ptr, g->i64, dims_t, g->i32, g->i32, g->i32};
    LLVMTypeRef ty = LLVMStructTypeInContext(g->ctx, f, 6, 0);
    const IrModule *m = g->m;
    LLVMValueRef *v = cg_xcalloc(m->nparams + 1, sizeof *v);
    for (int i = 0; i < m->nparams; i++) {
        const IrParam *p = &m->params[i];
        LLVMValueRef d[4];
        for (int j = 0; j < 4; j++)
            d[j] = cg_i64(g, j < p->rank ? p->dims[j] : 0);
        LLVMValueRef e[] = {cg_const_string(g, p->name), cg_i64(g, p->offset), LLVMConstArray2(g->i64, d, 4),
                            i32c(g, p->rank), i32c(g, p->derived ? RT_PARAM_DERIVED : RT_PARAM_LOAD),
                            i32c(g, p->transient ? RT_PARAM_TRANSIENT : RT_PARAM_RESIDENT)};
        v[i] = LLVMConstNamedStruct(ty, e, 6);
    }
    LLVMValueRef a = global_array(g, ty, v, m->nparams, "convc.params");
    free(v);
    return a;
}

_Static_assert((int)RT_MAX_PREPARE_PARAMS == (int)IR_MAX_PREPARE_PARAMS, "RtPrepare.params holds IrPrepare.params");

/* RtPrepare { ptr name, fn; i64 work; i32 nout, nin; [8 x i32] params; }
 * (layout pinned by convrt.h's _Static_assert) */
static LLVMValueRef prepares(Cg *g)
{
    LLVMTypeRef f[] = {g->ptr, g->ptr, g->i64, g->i32, g->i32, LLVMArrayType2(g->i32, RT_MAX_PREPARE_PARAMS)};
    LLVMTypeRef ty = LLVMStructTypeInContext(g->ctx, f, 6, 0);
    const IrModule *m = g->m;
    LLVMValueRef *v = cg_xcalloc(m->nprepares + 1, sizeof *v);
    for (int i = 0; i < m->nprepares; i++) {
        const IrPrepare *p = &m->prepares[i];
        LLVMValueRef e[] = {cg_const_string(g, p->name), g->prepares[i], cg_i64(g, cg_prepare_work(g, p)),
                            i32c(g, p->nout), i32c(g, p->nin),
                            i32_array(g, p->params, p->nout + p->nin, RT_MAX_PREPARE_PARAMS)};
        v[i] = LLVMConstNamedStruct(ty, e, 6);
    }
    LLVMValueRef a = global_array(g, ty, v, m->nprepares, "convc.prepare");
    free(v);
    return a;
}

/* RtStep.op: the IR kind, "+add" when a residual is fused into a conv,
 * "+act" when an activation is. */
static LLVMValueRef op_name(Cg *g, const IrNode *n)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s%s%s%s", ir_kind_name(n->kind), n->kind == IR_CONV && n->nin > 1 ? "+add" : "",
             n->act != ACT_NONE ? "+" : "", n->act != ACT_NONE ? ir_act_name(n->act) : "");
    return cg_const_string(g, buf);
}

/* RtStep { ptr name, fn; i64 work; i32 ntensors, nparams; [16 x i32] tensors; [4 x i32] params;
 *          ptr op, kernel, layout; i64 macs, whole_batch; }   (layout pinned by convrt.h's _Static_assert) */
static LLVMValueRef steps(Cg *g)
{
    LLVMTypeRef f[] = {g->ptr, g->ptr, g->i64, g->i32, g->i32,
                       LLVMArrayType2(g->i32, RT_MAX_STEP_TENSORS), LLVMArrayType2(g->i32, RT_MAX_STEP_PARAMS),
                       g->ptr, g->ptr, g->ptr, g->i64, g->i64};
    LLVMTypeRef ty = LLVMStructTypeInContext(g->ctx, f, 12, 0);
    const IrModule *m = g->m;
    LLVMValueRef *v = cg_xcalloc(m->nnodes + 1, sizeof *v);
    for (int i = 0; i < m->nnodes; i++) {
        const IrNode *n = &m->nodes[i];
        int t[RT_MAX_STEP_TENSORS] = {n->out}, nt = 1, p[4];
        for (int j = 0; j < n->nin; j++)
            t[nt++] = n->in[j];
        if (n->scratch >= 0)
            t[nt++] = n->scratch;
        int np = cg_step_params(n, p);
        LLVMValueRef e[] = {cg_const_string(g, n->name), g->kernels[i], cg_i64(g, cg_work(g, n)),
                            i32c(g, nt), i32c(g, np), i32_array(g, t, nt, RT_MAX_STEP_TENSORS),
                            i32_array(g, p, np, RT_MAX_STEP_PARAMS), op_name(g, n),
                            cg_const_string(g, ir_kernel_name(n->kernel)),
                            cg_const_string(g, ir_layout_name(m->tensors[n->out].layout)),
                            cg_i64(g, n->macs), cg_i64(g, cg_whole_batch(n))};
        v[i] = LLVMConstNamedStruct(ty, e, 12);
    }
    LLVMValueRef a = global_array(g, ty, v, m->nnodes, "convc.steps");
    free(v);
    return a;
}

static LLVMValueRef index_list(Cg *g, const int *idx, int n, const char *name)
{
    LLVMValueRef *v = cg_xcalloc(n + 1, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = i32c(g, idx[i]);
    LLVMValueRef a = global_array(g, g->i32, v, n, name);
    free(v);
    return a;
}

static LLVMValueRef name_list(Cg *g, const char *const *names, int n, const char *name)
{
    LLVMValueRef *v = cg_xcalloc(n + 1, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = cg_const_string(g, names[i]);
    LLVMValueRef a = global_array(g, g->ptr, v, n, name);
    free(v);
    return a;
}

_Static_assert(offsetof(RtModel, abi_version) == 4 && offsetof(RtModel, name) == 8 &&
                   offsetof(RtModel, embedded_weights) == 128 && offsetof(RtModel, prepare_floats) == 144 &&
                   sizeof(RtModel) == 152, "RtModel as emitted below");

/* --embed-weights: the safetensors bytes, 64-byte aligned; null when none. */
static LLVMValueRef embedded(Cg *g, const CgOptions *o)
{
    if (!o->embed)
        return LLVMConstNull(g->ptr);
    LLVMValueRef data = LLVMConstStringInContext(g->ctx, (const char *)o->embed, (unsigned)o->embed_size, 1);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(data), CG_EMBEDDED_WEIGHTS);
    LLVMSetInitializer(gv, data);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetAlignment(gv, 64);
    return gv;
}

/* RtModel { i32 magic, abi_version; ptr name; i32 ntensors, nparams, nprepare, nsteps, ninputs, noutputs;
 *           ptr tensors, params, prepare, steps, inputs, outputs, input_names, output_names;
 *           i64 arena_floats, param_floats, macs; ptr embedded_weights; i64 embedded_weights_size;
 *           i64 prepare_floats; }
 * as the global PREFIX_model, which this returns. */
LLVMValueRef cg_emit_model(Cg *g, const CgOptions *o)
{
    const IrModule *m = g->m;
    LLVMTypeRef tensor_t;
    LLVMValueRef e[] = {
        i32c(g, (int32_t)RT_MODEL_MAGIC), i32c(g, RT_ABI_VERSION),
        cg_const_string(g, m->name),
        i32c(g, m->ntensors), i32c(g, m->nparams), i32c(g, m->nprepares),
        i32c(g, m->nnodes), i32c(g, m->ninputs), i32c(g, m->noutputs),
        tensors(g, &tensor_t), params(g), prepares(g), steps(g),
        index_list(g, m->inputs, m->ninputs, "convc.inputs"),
        index_list(g, m->outputs, m->noutputs, "convc.outputs"),
        name_list(g, m->input_names, m->ninputs, "convc.input_names"),
        name_list(g, m->output_names, m->noutputs, "convc.output_names"),
        cg_i64(g, m->arena_floats), cg_i64(g, m->param_floats), cg_i64(g, m->macs),
        embedded(g, o), cg_i64(g, o->embed ? (int64_t)o->embed_size : 0), cg_i64(g, m->prepare_floats),
    };
    enum { N = sizeof e / sizeof *e };
    LLVMTypeRef f[N];
    for (int i = 0; i < N; i++)
        f[i] = LLVMTypeOf(e[i]);
    LLVMTypeRef ty = LLVMStructTypeInContext(g->ctx, f, N, 0);
    char name[512];
    snprintf(name, sizeof name, "%s_model", cg_prefix(m, o));
    LLVMValueRef gv = LLVMAddGlobal(g->mod, ty, name);
    LLVMSetInitializer(gv, LLVMConstNamedStruct(ty, e, N));
    LLVMSetGlobalConstant(gv, 1);
    return gv;
}
