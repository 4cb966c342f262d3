/*
 * conv_head.c - a 1x1 conv2d reading blocked channels and writing NCHW: a
 * network's head (UNet's 64 -> 2 classes) reads the last blocked layer
 * as it is and writes the NCHW output, with no reorder between them.
 *
 *   y[oc, h, w] = b[oc] + sum_ic x[ic, h, w] * w[oc, ic]
 *
 * The input is [ICB][H][W][B] (B = vec), so one pixel's B channels are one
 * vector. One work item is an output row; the row is covered by tiles of B
 * pixels. For a tile and one output channel, B accumulators (one per pixel)
 * collect x[icb][h][w0 + p][:] * w[oc][icb*B .. icb*B + B) over the input
 * blocks (the last one's lanes past C masked out on both sides), then a
 * fixed tree reduces them to one vector of B pixel sums: at each level
 * neighbouring vectors a, b become even(a ++ b) + odd(a ++ b), which halves
 * the partial sums per pixel and keeps the pixels in order. Bias, the
 * activation and a store (masked at the row's end) follow.
 *
 * The summation order (lanes of a block, then blocks, then the tree) differs
 * from the reference loops, so results match PyTorch within rounding; every
 * output is computed by one item, whatever the threads.
 */
#include "codegen/cg_internal.h"

enum { MAX_LANES = 16 };

/* 1x1, stride 1, no padding, groups 1, no fused residual, from the
 * target's blocked layout (one vector per pixel) to NCHW. */
static int head_fits(const CgTarget *t, const IrModule *m, const IrNode *n, IrLayout in)
{
    const IrGeom *l = &n->geom;
    if (n->kind != IR_CONV || n->nin != 1 || l->groups != 1 || l->kernel[0] != 1 || l->kernel[1] != 1 || l->stride[0] != 1 ||
        l->stride[1] != 1 || l->pad_begin[0] || l->pad_begin[1] || l->pad_end[0] || l->pad_end[1])
        return 0;
    const IrTensor *x = &m->tensors[n->in[0]], *y = &m->tensors[n->out];
    return x->rank == 3 && y->rank == 3 && t->vec <= MAX_LANES && ir_layout_block(in) == t->vec;
}

IrLayout cg_conv_head_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input)
{
    IrLayout l = m->tensors[n->in[input]].layout; /* its producer's, assigned already */
    return input == 0 && head_fits(t, m, n, l) ? l : LAYOUT_NCHW;
}

static int head_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    return head_fits(t, m, n, m->tensors[n->in[0]].layout) && m->tensors[n->out].layout == LAYOUT_NCHW;
}

static int64_t head_work(const Cg *g, const IrNode *n)
{
    return g->m->tensors[n->out].h;
}

/* lanes 1, 3, 5, ... of the concatenation a ++ b */
static LLVMValueRef odd_lanes(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef idx[MAX_LANES];
    for (int i = 0; i < g->vec; i++)
        idx[i] = LLVMConstInt(g->i32, (unsigned long long)(2 * i + 1), 0);
    return LLVMBuildShuffleVector(g->b, a, b, LLVMConstVector(idx, (unsigned)g->vec), "");
}

/* v[p] holds pixel p's partial sums; returns lane p = pixel p's sum */
static LLVMValueRef reduce_pixels(Cg *g, LLVMValueRef *v)
{
    for (int n = g->vec; n > 1; n /= 2)
        for (int i = 0; i < n / 2; i++)
            v[i] = LLVMBuildFAdd(g->b, cg_even_lanes(g, v[2 * i], v[2 * i + 1]), odd_lanes(g, v[2 * i], v[2 * i + 1]), "");
    return v[0];
}

/* One tile of cnt pixels at column w0 (cnt < vec: the row's last) for
 * output channel oc; xrow is x[0][h][0][0]. */
static void head_tile(CgKernel *k, LLVMValueRef xrow, LLVMValueRef oc, LLVMValueRef w0, int cnt)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *o = k->out;
    int64_t b = g->vec, full = in->c / b, rem = in->c % b;
    LLVMValueRef acc[MAX_LANES];
    for (int p = 0; p < b; p++)
        acc[p] = cg_var(g, g->vf, LLVMConstNull(g->vf));
    LLVMValueRef wrow = cg_gep(g, k->p[0], cg_mul(g, oc, cg_i64(g, in->c)));
    for (int part = 0; part < 2; part++) { /* the whole blocks in a loop, then the last block's rem channels */
        if ((part == 0 && full == 0) || (part == 1 && rem == 0))
            continue;
        CgLoop icb = cg_loop(g, cg_i64(g, part ? full : 0), cg_i64(g, part ? full + 1 : full), "icb");
        LLVMValueRef mask = part ? cg_lane_mask(g, cg_i64(g, 0), rem) : NULL;
        LLVMValueRef wp = cg_gep(g, wrow, cg_mul(g, icb.iv, cg_i64(g, b)));
        LLVMValueRef wv = part ? cg_masked_load(g, wp, mask) : LLVMBuildLoad2(g->b, g->vf, wp, "");
        if (!part)
            LLVMSetAlignment(wv, 4);
        LLVMValueRef blk = cg_gep(g, xrow, cg_mul(g, icb.iv, cg_i64(g, in->h * in->w * b)));
        for (int p = 0; p < cnt; p++) {
            LLVMValueRef xp = cg_gep(g, blk, cg_mul(g, cg_add(g, w0, cg_i64(g, p)), cg_i64(g, b)));
            LLVMValueRef xv = part ? cg_masked_load(g, xp, mask) : LLVMBuildLoad2(g->b, g->vf, xp, "");
            cg_set(g, acc[p], cg_fmuladd(g, xv, wv, cg_get(g, acc[p])));
        }
        cg_loop_end_rolled(g, &icb);
    }
    LLVMValueRef v[MAX_LANES];
    for (int p = 0; p < b; p++)
        v[p] = p < cnt ? cg_get(g, acc[p]) : LLVMConstNull(g->vf);
    LLVMValueRef y = reduce_pixels(g, v);
    if (k->n->bias >= 0)
        y = LLVMBuildFAdd(g->b, y, cg_splat(g, cg_load(g, k->p[1], oc), g->vf), "");
    if (cg_vector_act(k->n->act))
        y = cg_act(g, k->n, y);
    /* y[oc][h][w0 ..] */
    LLVMValueRef at = cg_gep(g, k->y, cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, o->h)), k->r), cg_i64(g, o->w)), w0));
    if (cnt < b)
        cg_masked_store(g, y, at, cg_lane_mask(g, cg_i64(g, 0), cnt));
    else /* align 4: a row of W floats need not start on 64 bytes */
        LLVMSetAlignment(LLVMBuildStore(g->b, y, at), 4);
}

/* Row h = r: the whole tiles in a loop, then the rest; per output channel. */
static void emit_conv_head(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *o = k->out;
    int64_t b = g->vec, whole = o->w / b, rest = o->w % b;
    LLVMValueRef xrow = cg_gep(g, k->x[0], cg_mul(g, k->r, cg_i64(g, in->w * b)));
    CgLoop oc = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->c), "oc");
    if (whole > 0) {
        CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, whole), "tile");
        head_tile(k, xrow, oc.iv, cg_mul(g, t.iv, cg_i64(g, b)), (int)b);
        cg_loop_end_rolled(g, &t);
    }
    if (rest)
        head_tile(k, xrow, oc.iv, cg_i64(g, whole * b), (int)rest);
    cg_loop_end_rolled(g, &oc);
    if (k->n->act != ACT_NONE && !cg_vector_act(k->n->act)) { /* sigmoid, tanh, silu on the finished row */
        CgLoop c = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->c), "act_c");
        LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, cg_add(g, cg_mul(g, c.iv, cg_i64(g, o->h)), k->r), cg_i64(g, o->w)));
        CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w), "act");
        cg_store(g, row, i.iv, cg_act(g, k->n, cg_load(g, row, i.iv)));
        cg_loop_end(g, &i);
        cg_loop_end(g, &c);
    }
}

const CgLowering cg_lower_conv_head = {
    .applies = head_applies, .work = head_work, .scratch = cg_no_scratch, .emit = emit_conv_head};
