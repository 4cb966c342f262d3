/*
 * linear.c - linear as dot products with vector accumulators, a block of
 * weights read once per batch.
 *
 *   y[s, o] = b[o] + sum_i w[o, i] * x[s, i]
 *
 * One work item is a block of ocb output features for every sample of the
 * batch (a whole_batch lowering: lower.c hands the body the batch size).
 * Samples go sb at a time: ocb x sb vector accumulators run along i, one
 * vector load of each sample's x shared by the ocb weight rows and one
 * vector load of each weight row shared by the sb samples; the tail of i
 * is a masked load. The block's ocb rows of weights (ocb * I floats) are
 * read from memory by the first samples and from cache by the rest, so a
 * batch costs one pass over the weights, not one per sample. Each
 * accumulator is summed across lanes by a fixed tree, so results do not
 * depend on the thread count or on the batch.
 */
#include "codegen/cg_internal.h"

enum { MAX_OCB = 8, MAX_SB = 2 };

/* ocb output features (dividing O) x sb samples: 8 x 2 accumulators with
 * AVX-512 (32 registers), 4 x 2 with AVX2 (16). */
typedef struct {
    int ocb, sb;
} LinearTile;

static int linear_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    return n->kind == IR_LINEAR && m->tensors[n->in[0]].layout == LAYOUT_NCHW;
}

static LinearTile linear_tile(const Cg *g, const IrNode *n)
{
    int64_t o = g->m->tensors[n->out].c;
    LinearTile tile = {.ocb = g->vec == 16 ? MAX_OCB : MAX_OCB / 2, .sb = MAX_SB};
    while (o % tile.ocb)
        tile.ocb /= 2;
    return tile;
}

static int64_t linear_work(const Cg *g, const IrNode *n)
{
    return g->m->tensors[n->out].c / linear_tile(g, n).ocb;
}

static LLVMValueRef load_vec(Cg *g, LLVMValueRef base, LLVMValueRef off, LLVMValueRef mask)
{
    LLVMValueRef p = cg_gep(g, base, off);
    if (mask)
        return cg_masked_load(g, p, mask);
    LLVMValueRef v = LLVMBuildLoad2(g->b, g->vf, p, "");
    LLVMSetAlignment(v, 4);
    return v;
}

/* acc[j][s] += w[o0 + j, off + lane] * x[s0 + s, off + lane] */
static void linear_step(Cg *g, LLVMValueRef *acc, LinearTile t, LLVMValueRef *wrow, LLVMValueRef *xrow,
                        LLVMValueRef off, LLVMValueRef mask)
{
    LLVMValueRef xv[MAX_SB];
    for (int s = 0; s < t.sb; s++)
        xv[s] = load_vec(g, xrow[s], off, mask);
    for (int j = 0; j < t.ocb; j++) {
        LLVMValueRef wv = load_vec(g, wrow[j], off, mask);
        for (int s = 0; s < t.sb; s++)
            cg_set(g, acc[j * t.sb + s], cg_fmuladd(g, wv, xv[s], cg_get(g, acc[j * t.sb + s])));
    }
}

/* Samples [s0, s0 + t.sb) of the block at o0. */
static void linear_tile_body(CgKernel *k, LinearTile t, LLVMValueRef o0, LLVMValueRef s0)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    int64_t nin = ir_tensor_elems(k->in[0]), full = nin / g->vec;
    LLVMValueRef acc[MAX_OCB * MAX_SB], wrow[MAX_OCB], xrow[MAX_SB];
    for (int s = 0; s < t.sb; s++)
        xrow[s] = cg_gep(g, k->x[0], cg_mul(g, cg_add(g, s0, cg_i64(g, s)), cg_i64(g, ir_tensor_stride(g->m, k->in[0]))));
    for (int j = 0; j < t.ocb; j++)
        wrow[j] = cg_gep(g, k->p[0], cg_mul(g, cg_add(g, o0, cg_i64(g, j)), cg_i64(g, nin)));
    for (int i = 0; i < t.ocb * t.sb; i++)
        acc[i] = cg_var(g, g->vf, LLVMConstNull(g->vf));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, full), "i");
    linear_step(g, acc, t, wrow, xrow, cg_mul(g, i.iv, cg_i64(g, g->vec)), NULL);
    cg_loop_end(g, &i);
    if (nin % g->vec) {
        LLVMValueRef off = cg_i64(g, full * g->vec);
        linear_step(g, acc, t, wrow, xrow, off, cg_lane_mask(g, off, nin));
    }
    for (int j = 0; j < t.ocb; j++) {
        LLVMValueRef o = cg_add(g, o0, cg_i64(g, j));
        LLVMValueRef b = n->bias >= 0 ? cg_load(g, k->p[1], o) : cg_f32(g, 0.0);
        for (int s = 0; s < t.sb; s++) {
            LLVMValueRef v = LLVMBuildFAdd(g->b, b, cg_hsum(g, cg_get(g, acc[j * t.sb + s])), "");
            LLVMValueRef y = cg_gep(g, k->y, cg_mul(g, cg_add(g, s0, cg_i64(g, s)), cg_i64(g, ir_tensor_stride(g->m, k->out))));
            cg_store(g, y, o, cg_act(g, n, v));
        }
    }
}

/* item r: features [r*ocb, (r+1)*ocb) of every sample, sb samples at a
 * time, then the odd one one at a time */
static void emit_linear_vec(CgKernel *k)
{
    Cg *g = k->g;
    LinearTile t = linear_tile(g, k->n), one = {t.ocb, 1};
    LLVMValueRef o0 = cg_mul(g, k->r, cg_i64(g, t.ocb));
    LLVMValueRef pairs = cg_div(g, k->batch, cg_i64(g, t.sb));
    CgLoop p = cg_loop(g, cg_i64(g, 0), pairs, "samples");
    linear_tile_body(k, t, o0, cg_mul(g, p.iv, cg_i64(g, t.sb)));
    cg_loop_end(g, &p);
    CgLoop s = cg_loop(g, cg_mul(g, pairs, cg_i64(g, t.sb)), k->batch, "sample");
    linear_tile_body(k, one, o0, s.iv);
    cg_loop_end(g, &s);
}

const CgLowering cg_lower_linear_vec = {
    .applies = linear_applies, .work = linear_work, .scratch = cg_no_scratch, .emit = emit_linear_vec, .whole_batch = 1};
