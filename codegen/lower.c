/*
 * lower.c - the lowering table, and the kernel function around each body.
 *
 * Every IrKernel has one row (CgLowering): whether it applies to a node on
 * this target, how many work items a sample splits into, the workspace it
 * needs (`scratch`: floats per sample, passed as the step's last tensor),
 * the body that computes one item, and, optionally, its load-time work
 * (`prepare`: once the row is chosen for a node, it adds derived
 * parameters and the prepare steps that write them, e.g. packed weights,
 * and points the node at them; the steps' bodies are rows of prepare.c's
 * table). ir_choose_kernels asks the rows through the IrTarget that
 * cg_target() returns; the bodies never see anything but the IR.
 *
 * A node's code is two functions:
 *   kN.kind(ptr args, i64 begin, i64 end, i64 batch)  -- RtKernel, the step's entry:
 *       loads the step's pointers from args and calls
 *   kN.kind.items(ptr y, ptr x..., [ptr ws,] ptr p..., i64 begin, i64 end, i64 batch)  -- not
 *       inlined, so the pointer attributes below stay visible to every optimisation:
 *       for item in [begin, end): s = item / work, r = item % work, body(s, r)
 *       (a whole_batch row: r = item, and the body loops over the batch; a
 *       sample_inner node: s = item % batch, r = item / batch)
 * The pointers of .items are `noalias` (the memory plan never lets a node's
 * output overlap its inputs, and parameters live in their own buffer) and
 * `align 64` (the runtime allocates the arena and the parameter buffer on
 * 64 bytes and every offset is a multiple of 16 floats: ir/memory.c). Both
 * functions carry the target machine's CPU and features and prefer vectors
 * of the widest width the kernels use.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_internal.h"

static const CgLowering *const lowerings[KERNEL_COUNT] = {
    [KERNEL_REFERENCE] = &cg_lower_reference,
    [KERNEL_CONV_WINOGRAD] = &cg_lower_conv_winograd,
    [KERNEL_CONV_TILED] = &cg_lower_conv_tiled,
    [KERNEL_CONV_T_PHASE] = &cg_lower_conv_t_phase,
    [KERNEL_LINEAR_VEC] = &cg_lower_linear_vec,
    [KERNEL_CONV_BLOCKED] = &cg_lower_conv_blocked,
    [KERNEL_CONV_T_BLOCKED] = &cg_lower_conv_t_blocked,
    [KERNEL_CONV_HEAD] = &cg_lower_conv_head,
    [KERNEL_POOL_BLOCKED] = &cg_lower_pool_blocked,
    [KERNEL_CONV_DEPTHWISE] = &cg_lower_conv_depthwise,
};

int64_t cg_no_scratch(const CgTarget *t, const IrModule *m, const IrNode *n) { return 0; }

/* A target without AVX2 and FMA (CgTarget.vec 0) runs the reference loops only. */
static int target_applies(const IrTarget *t, IrKernel k, const IrModule *m, const IrNode *n)
{
    const CgTarget *ct = (const CgTarget *)t;
    return (ct->vec > 0 || k == KERNEL_REFERENCE) && lowerings[k]->applies(ct, m, n);
}

static void target_prepare(const IrTarget *t, IrKernel k, IrModule *m, int i)
{
    if (lowerings[k]->prepare)
        lowerings[k]->prepare((const CgTarget *)t, m, i);
}

/* Workspace floats per sample, a multiple of 16 floats (the lowering's own
 * and the probe's part each), so every sample's workspace starts on 64
 * bytes as the first one does: kernels store whole vectors into it. */
static int64_t align16(int64_t floats) { return (floats + 15) / 16 * 16; }

static int64_t target_scratch(const IrTarget *t, IrKernel k, const IrModule *m, const IrNode *n)
{
    const CgTarget *ct = (const CgTarget *)t;
    int64_t floats = align16(lowerings[k]->scratch(ct, m, n));
    if (ct->scratch_probe && n->nin < IR_MAX_IN) {
        Cg g = {.m = m, .vec = ct->vec};
        floats += align16(ct->scratch_probe * lowerings[k]->work(&g, n));
    }
    return floats;
}

/* --scratch-probe: item r fills its slice [r * N, (r + 1) * N) after the
 * lowering's own scratch with NaN (codegen.h) */
static void probe_scratch(Cg *g, const CgKernel *k, int64_t scratch_floats)
{
    int64_t n = g->scratch_probe, own = scratch_floats - align16(n * cg_work(g, k->n));
    LLVMValueRef slice = cg_gep(g, k->scratch, cg_add(g, cg_i64(g, own), cg_mul(g, k->r, cg_i64(g, n))));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, n), "probe");
    cg_store(g, slice, i.iv, cg_f32(g, NAN));
    cg_loop_end(g, &i);
}

static IrLayout target_layout(const IrTarget *t, const IrModule *m, const IrNode *n, int input)
{
    const CgTarget *ct = (const CgTarget *)t;
    if (ct->vec == 0) /* no AVX2: the reference kernels only, all NCHW */
        return LAYOUT_NCHW;
    if (input >= 0 && m->tensors[n->out].layout == LAYOUT_NCHW) { /* a blocked input into an NCHW output */
        IrLayout h = cg_conv_head_layout(ct, m, n, input);
        return h != LAYOUT_NCHW || n->kind != IR_CONV ? h : cg_blocked_layout(ct, m, n, input);
    }
    if (n->kind == IR_CONV_T)
        return cg_conv_t_blocked_layout(ct, m, n, input);
    IrLayout l = cg_blocked_layout(ct, m, n, input);
    return l != LAYOUT_NCHW ? l : cg_depthwise_layout(ct, m, n, input);
}

IrTarget *cg_target(const CgOptions *o)
{
    CgTarget *t = malloc(sizeof *t);
    if (!t) {
        fputs("convc: out of memory\n", stderr);
        exit(3);
    }
    *t = (CgTarget){.ir = {target_applies, target_prepare, target_scratch, target_layout}, .vec = cg_vector_lanes(o),
                    .scratch_probe = o->scratch_probe, .winograd = o->winograd};
    return &t->ir;
}

int64_t cg_work(const Cg *g, const IrNode *n)
{
    return lowerings[n->kernel]->work(g, n);
}

int cg_whole_batch(const IrNode *n)
{
    return lowerings[n->kernel]->whole_batch;
}

int cg_sample_inner(const Cg *g, const IrNode *n)
{
    const CgLowering *l = lowerings[n->kernel];
    return l->sample_inner && l->sample_inner(g, n);
}

/* Parameters in the order the kernel reads them from args. */
int cg_step_params(const IrNode *n, int params[4])
{
    int k = 0;
    if (n->weight >= 0) params[k++] = n->weight;
    if (n->bias >= 0) params[k++] = n->bias;
    if (n->mean >= 0) params[k++] = n->mean;
    if (n->var >= 0) params[k++] = n->var;
    return k;
}

static void string_attr(Cg *g, LLVMValueRef fn, const char *key, const char *value)
{
    LLVMAttributeRef a = LLVMCreateStringAttribute(g->ctx, key, (unsigned)strlen(key), value, (unsigned)strlen(value));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
}

static void enum_attr(Cg *g, LLVMValueRef fn, unsigned idx, const char *name, uint64_t value)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(g->ctx, kind, value));
}

/* target-cpu, target-features, and vectors as wide as the kernels' */
void cg_function_attrs(Cg *g, LLVMValueRef fn)
{
    char bits[16];
    snprintf(bits, sizeof bits, "%d", g->vec * 32);
    string_attr(g, fn, "target-cpu", g->cpu);
    string_attr(g, fn, "target-features", g->features);
    string_attr(g, fn, "prefer-vector-width", bits);
    string_attr(g, fn, "min-legal-vector-width", bits);
}

/* noinline (keeps the pointer attributes), and noalias align 64 on pointers 0..np) */
void cg_pointer_attrs(Cg *g, LLVMValueRef fn, int np)
{
    enum_attr(g, fn, LLVMAttributeFunctionIndex, "noinline", 0);
    for (int i = 0; i < np; i++) {
        enum_attr(g, fn, (unsigned)i + 1, "noalias", 0);
        enum_attr(g, fn, (unsigned)i + 1, "align", 64);
    }
}

/* kN.kind.items: np pointers (output, inputs, workspace, parameters), then begin, end, batch,
 * then nstrides per-sample strides (output, inputs): parameters, not constants, so that layers
 * of one shape get identical functions (mergefunc, emit.c) whether or not one writes or reads a
 * view (a concat's channel slice, whose samples are the concat's size apart) */
static LLVMValueRef items_function(Cg *g, const char *name, int np, int nstrides)
{
    LLVMTypeRef params[1 + IR_MAX_IN + 4 + 3 + 1 + IR_MAX_IN];
    for (int i = 0; i < np; i++)
        params[i] = g->ptr;
    for (int i = 0; i < 3 + nstrides; i++)
        params[np + i] = g->i64;
    LLVMValueRef fn =
        LLVMAddFunction(g->mod, name, LLVMFunctionType(g->void_t, params, (unsigned)(np + 3 + nstrides), 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    cg_function_attrs(g, fn);
    cg_pointer_attrs(g, fn, np);
    return fn;
}

/* Tensors a step passes: output, inputs, then the workspace if any. */
static int step_tensors(const IrNode *n)
{
    return 1 + n->nin + (n->scratch >= 0);
}

/* The body of .items: the loop over work items of the whole batch. */
static void emit_items(Cg *g, const IrNode *n)
{
    const IrModule *m = g->m;
    CgKernel k = {.g = g, .n = n, .out = &m->tensors[n->out]};
    int params[4], np = cg_step_params(n, params), nt = step_tensors(n);
    for (int j = 0; j < n->nin; j++)
        k.in[j] = &m->tensors[n->in[j]];
    for (int j = 0; j < np; j++)
        k.p[j] = LLVMGetParam(g->fn, (unsigned)(nt + j));
    int64_t work = cg_work(g, n);
    unsigned last = (unsigned)(nt + np);
    k.batch = LLVMGetParam(g->fn, last + 2);
    CgLoop item = cg_loop(g, LLVMGetParam(g->fn, last), LLVMGetParam(g->fn, last + 1), "item");
    int whole = cg_whole_batch(n), inner = !whole && cg_sample_inner(g, n);
    LLVMValueRef s = whole ? cg_i64(g, 0) : inner ? cg_rem(g, item.iv, k.batch) : cg_div(g, item.iv, cg_i64(g, work));
    k.r = whole ? item.iv : inner ? cg_div(g, item.iv, k.batch) : cg_rem(g, item.iv, cg_i64(g, work));
    k.y = cg_gep(g, LLVMGetParam(g->fn, 0), cg_mul(g, s, LLVMGetParam(g->fn, last + 3)));
    for (int j = 0; j < n->nin; j++)
        k.x[j] = cg_gep(g, LLVMGetParam(g->fn, (unsigned)j + 1), cg_mul(g, s, LLVMGetParam(g->fn, last + 4 + (unsigned)j)));
    if (n->scratch >= 0) {
        int64_t floats = ir_tensor_size(&m->tensors[n->scratch]);
        k.scratch = cg_gep(g, LLVMGetParam(g->fn, (unsigned)(1 + n->nin)), cg_mul(g, s, cg_i64(g, floats)));
        if (g->scratch_probe && n->nin < IR_MAX_IN)
            probe_scratch(g, &k, floats);
    }
    lowerings[n->kernel]->emit(&k);
    cg_loop_end(g, &item);
    LLVMBuildRetVoid(g->b);
}

/* void name(ptr args, i64 begin, i64 end, i64 batch):
 * items(args[0], ..., args[np - 1], begin, end, batch, extra[0], ..., extra[nextra - 1]),
 * the RtKernel entry of a step or a prepare step */
LLVMValueRef cg_emit_entry(Cg *g, const char *name, LLVMValueRef items, int np, const int64_t *extra, int nextra)
{
    g->fn = LLVMAddFunction(g->mod, name, g->kernel_t);
    LLVMSetLinkage(g->fn, LLVMInternalLinkage);
    cg_function_attrs(g, g->fn);
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry"));
    LLVMValueRef args[1 + IR_MAX_IN + 4 + 3 + 1 + IR_MAX_IN];
    for (int i = 0; i < np; i++) {
        LLVMValueRef idx = cg_i64(g, i);
        args[i] = LLVMBuildLoad2(g->b, g->ptr, LLVMBuildGEP2(g->b, g->ptr, LLVMGetParam(g->fn, 0), &idx, 1, ""), "");
    }
    for (int i = 0; i < 3; i++)
        args[np + i] = LLVMGetParam(g->fn, (unsigned)i + 1);
    for (int i = 0; i < nextra; i++)
        args[np + 3 + i] = cg_i64(g, extra[i]);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(items), items, args, (unsigned)(np + 3 + nextra), "");
    LLVMBuildRetVoid(g->b);
    return g->fn;
}

/* void kN.kind(ptr args, i64 begin, i64 end, i64 batch):
 * kN.kind.items(args[0], ..., begin, end, batch) */
LLVMValueRef cg_emit_kernel(Cg *g, int index)
{
    const IrNode *n = &g->m->nodes[index];
    int params[4], np = step_tensors(n) + cg_step_params(n, params);
    char name[64];
    snprintf(name, sizeof name, "k%d.%s.items", index, ir_kind_name(n->kind));
    LLVMValueRef items = g->fn = items_function(g, name, np, 1 + n->nin);
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->fn, "entry"));
    emit_items(g, n);

    snprintf(name, sizeof name, "k%d.%s", index, ir_kind_name(n->kind));
    int64_t strides[1 + IR_MAX_IN];
    strides[0] = ir_tensor_stride(g->m, &g->m->tensors[n->out]);
    for (int j = 0; j < n->nin; j++)
        strides[1 + j] = ir_tensor_stride(g->m, &g->m->tensors[n->in[j]]);
    return cg_emit_entry(g, name, items, np, strides, 1 + n->nin);
}
