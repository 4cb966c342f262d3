/*
 * builder.c - small IR-building helpers: counted loops, guarded blocks,
 * index arithmetic on i64, float loads and stores, activations.
 *
 * Index arithmetic uses nsw flags: every index is a product of compile-time
 * extents checked by the front end, far from overflow. Constants fold as the
 * builder goes, so a loop bound known at compile time stays a constant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "codegen/cg_internal.h"

/* calloc for temporary arrays; out of memory is fatal (exit status 3, as
 * the front end and the IR). */
void *cg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("convc: out of memory\n", stderr);
        exit(3);
    }
    return p;
}

/* for (iv = lo; iv < hi; iv++): header with the guard, body is current */
CgLoop cg_loop(Cg *g, LLVMValueRef lo, LLVMValueRef hi, const char *name)
{
    CgLoop l = {.lo = lo, .pre = LLVMGetInsertBlock(g->b)};
    l.header = LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
    l.exit = LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
    LLVMBuildBr(g->b, l.header);
    LLVMPositionBuilderAtEnd(g->b, l.header);
    l.iv = LLVMBuildPhi(g->b, g->i64, name);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, l.iv, hi, ""), body, l.exit);
    LLVMPositionBuilderAtEnd(g->b, body);
    return l;
}

void cg_loop_end(Cg *g, CgLoop *l)
{
    LLVMValueRef next = LLVMBuildNSWAdd(g->b, l->iv, cg_i64(g, 1), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, l->header);
    LLVMValueRef in_vals[2] = {l->lo, next};
    LLVMBasicBlockRef in_blocks[2] = {l->pre, latch};
    LLVMAddIncoming(l->iv, in_vals, in_blocks, 2);
    LLVMPositionBuilderAtEnd(g->b, l->exit);
}

/* if (cond) { ...current... } then cg_if_end(merge) */
void cg_if(Cg *g, LLVMValueRef cond, LLVMBasicBlockRef *merge)
{
    LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "then");
    *merge = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "endif");
    LLVMBuildCondBr(g->b, cond, then, *merge);
    LLVMPositionBuilderAtEnd(g->b, then);
}

void cg_if_end(Cg *g, LLVMBasicBlockRef merge)
{
    LLVMBuildBr(g->b, merge);
    LLVMPositionBuilderAtEnd(g->b, merge);
}

LLVMValueRef cg_i64(Cg *g, int64_t v) { return LLVMConstInt(g->i64, (unsigned long long)v, 1); }
LLVMValueRef cg_f32(Cg *g, double v) { return LLVMConstReal(g->f32, v); }

/* A float constant of type t: a scalar, or a splat for a vector type. */
LLVMValueRef cg_fconst(Cg *g, LLVMTypeRef t, double v)
{
    if (LLVMGetTypeKind(t) != LLVMVectorTypeKind)
        return LLVMConstReal(t, v);
    unsigned n = LLVMGetVectorSize(t);
    LLVMValueRef e[64];
    for (unsigned i = 0; i < n; i++)
        e[i] = LLVMConstReal(LLVMGetElementType(t), v);
    return LLVMConstVector(e, n);
}
LLVMValueRef cg_add(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildNSWAdd(g->b, a, b, ""); }
LLVMValueRef cg_sub(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildNSWSub(g->b, a, b, ""); }
LLVMValueRef cg_mul(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildNSWMul(g->b, a, b, ""); }
LLVMValueRef cg_div(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildSDiv(g->b, a, b, ""); }
LLVMValueRef cg_rem(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildSRem(g->b, a, b, ""); }

/* 0 <= v < hi as one unsigned compare */
LLVMValueRef cg_in_range(Cg *g, LLVMValueRef v, int64_t hi)
{
    return LLVMBuildICmp(g->b, LLVMIntULT, v, cg_i64(g, hi), "");
}

LLVMValueRef cg_gep(Cg *g, LLVMValueRef base, LLVMValueRef idx)
{
    return LLVMBuildGEP2(g->b, g->f32, base, &idx, 1, "");
}

LLVMValueRef cg_load(Cg *g, LLVMValueRef base, LLVMValueRef idx)
{
    return LLVMBuildLoad2(g->b, g->f32, cg_gep(g, base, idx), "");
}

void cg_store(Cg *g, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v)
{
    LLVMBuildStore(g->b, v, cg_gep(g, base, idx));
}

/* A scalar variable: an alloca in the entry block (SROA turns it into SSA). */
LLVMValueRef cg_var(Cg *g, LLVMTypeRef t, LLVMValueRef init)
{
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->fn);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first)
        LLVMPositionBuilderBefore(g->b, first);
    else
        LLVMPositionBuilderAtEnd(g->b, entry);
    LLVMValueRef var = LLVMBuildAlloca(g->b, t, "");
    LLVMPositionBuilderAtEnd(g->b, cur);
    if (init)
        LLVMBuildStore(g->b, init, var);
    return var;
}

LLVMValueRef cg_get(Cg *g, LLVMValueRef var)
{
    return LLVMBuildLoad2(g->b, LLVMGetAllocatedType(var), var, "");
}

void cg_set(Cg *g, LLVMValueRef var, LLVMValueRef v) { LLVMBuildStore(g->b, v, var); }

/* a * b + c, fused where the target can */
LLVMValueRef cg_fmuladd(Cg *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    LLVMValueRef args[3] = {a, b, c};
    return cg_intrinsic(g, "llvm.fmuladd", args, 3);
}

/* A float -> float function of libm (expf, tanhf). */
LLVMValueRef cg_call_f32(Cg *g, const char *name, LLVMValueRef x)
{
    LLVMTypeRef fty = LLVMFunctionType(g->f32, &g->f32, 1, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
    if (!fn)
        fn = LLVMAddFunction(g->mod, name, fty);
    return LLVMBuildCall2(g->b, fty, fn, &x, 1, "");
}

/* max that propagates NaN from b, as PyTorch's max pooling does */
LLVMValueRef cg_fmax(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef take_b = LLVMBuildFCmp(g->b, LLVMRealUGT, b, a, "");
    return LLVMBuildSelect(g->b, take_b, b, a, "");
}

/* A private constant global holding init; the global is its address. */
static LLVMValueRef private_constant(Cg *g, LLVMValueRef init, const char *name)
{
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    return gv;
}

LLVMValueRef cg_const_array(Cg *g, LLVMTypeRef elt, LLVMValueRef *vals, int64_t n, const char *name)
{
    return private_constant(g, LLVMConstArray2(elt, vals, (uint64_t)n), name);
}

/* Constant tables (interpolation taps): i64 or f32, read with a GEP on the element type. */
LLVMValueRef cg_table_i64(Cg *g, const int64_t *v, int64_t n, const char *name)
{
    LLVMValueRef *vals = cg_xcalloc((size_t)n, sizeof *vals);
    for (int64_t i = 0; i < n; i++)
        vals[i] = cg_i64(g, v[i]);
    LLVMValueRef t = cg_const_array(g, g->i64, vals, n, name);
    free(vals);
    return t;
}

LLVMValueRef cg_table_f32(Cg *g, const float *v, int64_t n, const char *name)
{
    LLVMValueRef *vals = cg_xcalloc((size_t)n, sizeof *vals);
    for (int64_t i = 0; i < n; i++)
        vals[i] = cg_f32(g, v[i]);
    LLVMValueRef t = cg_const_array(g, g->f32, vals, n, name);
    free(vals);
    return t;
}

/* A private NUL-terminated string constant; the global is its address. */
LLVMValueRef cg_const_string(Cg *g, const char *s)
{
    return private_constant(g, LLVMConstStringInContext(g->ctx, s, (unsigned)strlen(s), 0), ".str");
}

/* The end of a loop with llvm.loop metadata: the given hints. */
static void loop_end_hinted(Cg *g, CgLoop *l, const char *const *hints, int nhints)
{
    LLVMValueRef next = LLVMBuildNSWAdd(g->b, l->iv, cg_i64(g, 1), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMValueRef br = LLVMBuildBr(g->b, l->header);
    LLVMMetadataRef ops[3] = {LLVMTemporaryMDNode(g->ctx, NULL, 0)};
    for (int i = 0; i < nhints; i++) {
        LLVMMetadataRef h = LLVMMDStringInContext2(g->ctx, hints[i], strlen(hints[i]));
        ops[1 + i] = LLVMMDNodeInContext2(g->ctx, &h, 1);
    }
    LLVMMetadataRef loop = LLVMMDNodeInContext2(g->ctx, ops, (size_t)nhints + 1);
    LLVMMetadataReplaceAllUsesWith(ops[0], loop);
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(g->ctx, "llvm.loop", 9), LLVMMetadataAsValue(g->ctx, loop));
    LLVMValueRef in_vals[2] = {l->lo, next};
    LLVMBasicBlockRef in_blocks[2] = {l->pre, latch};
    LLVMAddIncoming(l->iv, in_vals, in_blocks, 2);
    LLVMPositionBuilderAtEnd(g->b, l->exit);
}

/* cg_loop_end for a loop LLVM must not unroll (llvm.loop.unroll.disable):
 * the loops around a register tile stay loops, so the tile's code is
 * emitted once and its accumulators stay in registers. */
void cg_loop_end_rolled(Cg *g, CgLoop *l)
{
    static const char *const hints[] = {"llvm.loop.unroll.disable"};
    loop_end_hinted(g, l, hints, 1);
}

/* cg_loop_end_rolled for a loop around whole rows of register tiles that
 * sum into memory (conv_blocked's chunks of input blocks), also without
 * LICM (llvm.licm.disable): with few tiles per row and a constant trip
 * count, LICM promoted every tile's partial sums across the loop to
 * registers (64 vectors for 3 tiles of 2 x 14 and 2 x 4), and the hot
 * tile loops spilled. */
void cg_loop_end_kept(Cg *g, CgLoop *l)
{
    static const char *const hints[] = {"llvm.loop.unroll.disable", "llvm.licm.disable"};
    loop_end_hinted(g, l, hints, 2);
}
