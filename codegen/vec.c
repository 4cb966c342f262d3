/*
 * vec.c - vector helpers shared by the kernels: splats, lane indices and
 * masks, masked loads, stores and gathers, shuffles, intrinsic calls.
 *
 * Vectors are <vec x float> with vec = Cg.vec lanes (16 with AVX-512, 8
 * otherwise). Masked lanes are neither read nor written; a masked load gives
 * 0 in them.
 */
#include <string.h>

#include "codegen/cg_internal.h"

/* A call to the overloaded intrinsic `name` on the type of args[0]. */
LLVMValueRef cg_intrinsic(Cg *g, const char *name, LLVMValueRef *args, unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMTypeRef ty = LLVMTypeOf(args[0]);
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(g->ctx, id, &ty, 1);
    return LLVMBuildCall2(g->b, fty, fn, args, n, "");
}

/* llvm.prefetch of the cache line at p, for reading: locality 3 brings it
 * into every level of the cache (prefetcht0), 2 into L2 and below
 * (prefetcht1). */
static void prefetch(Cg *g, LLVMValueRef p, int locality)
{
    LLVMValueRef args[4] = {p, LLVMConstInt(g->i32, 0, 0), LLVMConstInt(g->i32, (unsigned long long)locality, 0),
                            LLVMConstInt(g->i32, 1, 0)};
    cg_intrinsic(g, "llvm.prefetch", args, 4);
}

void cg_prefetch(Cg *g, LLVMValueRef p) { prefetch(g, p, 3); }

void cg_prefetch_l2(Cg *g, LLVMValueRef p) { prefetch(g, p, 2); }

LLVMValueRef cg_splat(Cg *g, LLVMValueRef scalar, LLVMTypeRef vt)
{
    LLVMValueRef undef = LLVMGetUndef(vt);
    LLVMValueRef v = LLVMBuildInsertElement(g->b, undef, scalar, LLVMConstInt(g->i32, 0, 0), "");
    LLVMValueRef zeros = LLVMConstNull(g->vi32);
    return LLVMBuildShuffleVector(g->b, v, undef, zeros, "");
}

/* <0, step, 2*step, ...> */
LLVMValueRef cg_lane_steps(Cg *g, int64_t step)
{
    LLVMValueRef lanes[64];
    for (int i = 0; i < g->vec; i++)
        lanes[i] = LLVMConstInt(g->i32, (unsigned long long)(i * step), 0);
    return LLVMConstVector(lanes, (unsigned)g->vec);
}

/* lanes where 0 <= start + lane*step < limit, as one unsigned compare */
LLVMValueRef cg_lane_mask_step(Cg *g, LLVMValueRef start, int64_t step, int64_t limit)
{
    LLVMValueRef s32 = LLVMBuildTrunc(g->b, start, g->i32, "");
    LLVMValueRef idx = LLVMBuildAdd(g->b, cg_splat(g, s32, g->vi32), cg_lane_steps(g, step), "");
    LLVMValueRef lim = cg_splat(g, LLVMConstInt(g->i32, (unsigned long long)limit, 0), g->vi32);
    return LLVMBuildICmp(g->b, LLVMIntULT, idx, lim, "");
}

LLVMValueRef cg_lane_mask(Cg *g, LLVMValueRef start, int64_t limit)
{
    return cg_lane_mask_step(g, start, 1, limit);
}

static LLVMValueRef masked_intrinsic(Cg *g, const char *name, LLVMTypeRef *fty)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    int gather = strstr(name, "gather") != NULL || strstr(name, "scatter") != NULL;
    LLVMTypeRef tys[2] = {g->vf, gather ? LLVMVectorType(g->ptr, (unsigned)g->vec) : g->ptr};
    *fty = LLVMIntrinsicGetType(g->ctx, id, tys, 2);
    return LLVMGetIntrinsicDeclaration(g->mod, id, tys, 2);
}

LLVMValueRef cg_masked_load(Cg *g, LLVMValueRef p, LLVMValueRef mask)
{
    LLVMTypeRef fty;
    LLVMValueRef fn = masked_intrinsic(g, "llvm.masked.load", &fty);
    LLVMValueRef args[4] = {p, LLVMConstInt(g->i32, 4, 0), mask, LLVMConstNull(g->vf)};
    return LLVMBuildCall2(g->b, fty, fn, args, 4, "");
}

/* lanes p[0], p[step], p[2*step], ... where mask is set, else 0 */
LLVMValueRef cg_masked_gather(Cg *g, LLVMValueRef p, int64_t step, LLVMValueRef mask)
{
    LLVMTypeRef fty;
    LLVMValueRef fn = masked_intrinsic(g, "llvm.masked.gather", &fty);
    LLVMValueRef idx = cg_lane_steps(g, step);
    LLVMValueRef ptrs = LLVMBuildGEP2(g->b, g->f32, p, &idx, 1, "");
    LLVMValueRef args[4] = {ptrs, LLVMConstInt(g->i32, 4, 0), mask, LLVMConstNull(g->vf)};
    return LLVMBuildCall2(g->b, fty, fn, args, 4, "");
}

/* lanes 0, 2, 4, ... of the concatenation a ++ b */
LLVMValueRef cg_even_lanes(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildShuffleVector(g->b, a, b, cg_lane_steps(g, 2), "");
}

/* p[0], p[step], p[2*step], ... = lanes of v where mask is set */
void cg_masked_scatter(Cg *g, LLVMValueRef v, LLVMValueRef p, int64_t step, LLVMValueRef mask)
{
    LLVMTypeRef fty;
    LLVMValueRef fn = masked_intrinsic(g, "llvm.masked.scatter", &fty);
    LLVMValueRef idx = cg_lane_steps(g, step);
    LLVMValueRef ptrs = LLVMBuildGEP2(g->b, g->f32, p, &idx, 1, "");
    LLVMValueRef args[4] = {v, ptrs, LLVMConstInt(g->i32, 4, 0), mask};
    LLVMBuildCall2(g->b, fty, fn, args, 4, "");
}

void cg_masked_store(Cg *g, LLVMValueRef v, LLVMValueRef p, LLVMValueRef mask)
{
    LLVMTypeRef fty;
    LLVMValueRef fn = masked_intrinsic(g, "llvm.masked.store", &fty);
    LLVMValueRef args[4] = {v, p, LLVMConstInt(g->i32, 4, 0), mask};
    LLVMBuildCall2(g->b, fty, fn, args, 4, "");
}

/* Output vector lanes drawn from several source vectors: lane i of the
 * result is lane lane[i] of srcs[src[i]] (src[i] < 0: don't care). One
 * two-input shuffle per source after the first. */
LLVMValueRef cg_select_lanes(Cg *g, LLVMValueRef *srcs, int nsrc, const int *src, const int *lane)
{
    LLVMValueRef res = NULL, undef = LLVMGetUndef(g->i32), mask[64];
    int filled[64] = {0};
    for (int s = 0; s < nsrc; s++) {
        int used = 0;
        for (int i = 0; i < g->vec; i++)
            used |= src[i] == s;
        if (!used)
            continue;
        for (int i = 0; i < g->vec; i++) {
            if (src[i] == s)
                mask[i] = LLVMConstInt(g->i32, (unsigned long long)(lane[i] + (res ? g->vec : 0)), 0);
            else
                mask[i] = res && filled[i] ? LLVMConstInt(g->i32, (unsigned long long)i, 0) : undef;
            filled[i] |= src[i] == s;
        }
        LLVMValueRef v = LLVMConstVector(mask, (unsigned)g->vec);
        res = res ? LLVMBuildShuffleVector(g->b, res, srcs[s], v, "")
                  : LLVMBuildShuffleVector(g->b, srcs[s], LLVMGetUndef(g->vf), v, "");
    }
    return res ? res : LLVMGetUndef(g->vf);
}

/* The sum of v's lanes by a fixed tree: lanes i and i + half added, half
 * = vec/2, vec/4, ..., 1; then lane 0. */
LLVMValueRef cg_hsum(Cg *g, LLVMValueRef v)
{
    LLVMValueRef idx[64];
    for (int half = g->vec / 2; half >= 1; half /= 2) {
        for (int i = 0; i < g->vec; i++)
            idx[i] = i < half ? LLVMConstInt(g->i32, (unsigned long long)(i + half), 0) : LLVMGetUndef(g->i32);
        LLVMValueRef hi = LLVMBuildShuffleVector(g->b, v, LLVMGetUndef(g->vf), LLVMConstVector(idx, (unsigned)g->vec), "");
        v = LLVMBuildFAdd(g->b, v, hi, "");
    }
    return LLVMBuildExtractElement(g->b, v, LLVMConstInt(g->i32, 0, 0), "");
}
