/*
 * conv_tiled.c - conv2d as a register tile.
 *
 * One work item is a block of `ocb` output channels (inside one group) on
 * one output row oh. The row is covered by tiles of t vectors (vec lanes
 * each) of output columns; for every tile the ocb x t accumulators stay in
 * registers while
 *
 *   acc[j][u] += w[oc0 + j, ic, kh, kw] * x[g*Cin_g + ic, oh*S + kh*D - P, (ow0 + u*vec + lane)*S + kw*D - P]
 *
 * runs over ic in the group, kh (a row outside the image is skipped as a
 * whole) and kw (unrolled). Columns that fall in the padding are masked
 * loads (masked lanes read nothing and give 0), so no padded copy of the
 * input is needed. With column stride 2 two contiguous loads are shuffled to
 * their even lanes; with strides 3 and 4 the loads are masked gathers.
 * Columns past the end of the row are masked stores. The weight is a scalar
 * load broadcast to all lanes (an embedded broadcast on AVX-512).
 *
 * Per kw step: t vector loads of x, ocb broadcasts of w, ocb * t FMAs.
 * Semantics are the reference conv's (same formula, same padding rule) and
 * so is the summation order: bias, then input channel, kernel row, kernel
 * column, each with one FMA; a masked lane adds w * 0. The two agree bit for
 * bit (docs/design.md).
 */
#include <string.h>

#include "codegen/cg_internal.h"

/* The register tile: ocb output channels x t vectors of output columns. */
typedef struct {
    int ocb, t;
} ConvTile;

/* conv2d with a kernel at most 16 wide and a column stride at most 4 (any
 * groups, padding, dilation, row stride), on NCHW tensors. */
static int conv_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    return n->kind == IR_CONV && n->geom.kernel[1] <= 16 && n->geom.stride[1] <= 4 &&
           m->tensors[n->in[0]].layout == LAYOUT_NCHW && m->tensors[n->out].layout == LAYOUT_NCHW;
}

/* The largest tile that fits the register file: up to 16 accumulators with
 * AVX-512 (32 registers), 12 with AVX2 (16 registers), ocb dividing Cout. */
static ConvTile conv_tile(const Cg *g, const IrModule *m, const IrNode *n)
{
    static const int ocbs[] = {16, 8, 6, 4, 3, 2, 1};
    const IrTensor *o = &m->tensors[n->out];
    int max_acc = g->vec == 16 ? 16 : 12;
    ConvTile tile = {.t = o->w > g->vec ? 2 : 1};
    int64_t cout_g = o->c / n->geom.groups;
    for (size_t i = 0; i < sizeof ocbs / sizeof *ocbs; i++) {
        if (ocbs[i] * tile.t <= max_acc && cout_g % ocbs[i] == 0) {
            tile.ocb = ocbs[i];
            break;
        }
    }
    return tile;
}

/* Everything one tile's code needs. */
typedef struct {
    const IrNode *n;
    const IrTensor *in, *out;
    ConvTile tile;
    LLVMValueRef acc[16];      /* allocas, ocb * t */
    LLVMValueRef mask[2][64];  /* [u][kw]: input columns inside the row */
    LLVMValueRef mask_hi[2][64]; /* stride 2: the second of the two loads */
    LLVMValueRef x, w, oc0, oh, ow0, ic0;
    LLVMValueRef res;          /* fused residual, indexed as the output; NULL if none */
} Tile;

/* The kw-unrolled step for one input row: t loads, ocb x t FMAs. */
static void tile_row(Cg *g, Tile *T, LLVMValueRef src, LLVMValueRef wrow)
{
    const IrGeom *l = &T->n->geom;
    int64_t kw_n = l->kernel[1], dw = l->dilation[1], pw = l->pad_begin[1];
    int64_t sw = l->stride[1];
    int64_t wstride = T->in->c / l->groups * l->kernel[0] * kw_n; /* floats between output channels */
    for (int64_t kw = 0; kw < kw_n; kw++) {
        LLVMValueRef xv[2];
        for (int u = 0; u < T->tile.t; u++) {
            /* input column of lane 0: (ow0 + u*vec)*S + kw*D - P */
            LLVMValueRef col = cg_add(g, cg_mul(g, T->ow0, cg_i64(g, sw)), cg_i64(g, u * g->vec * sw + kw * dw - pw));
            LLVMValueRef p = cg_gep(g, src, col);
            if (sw == 1)
                xv[u] = cg_masked_load(g, p, T->mask[u][kw]);
            else if (sw == 2)
                xv[u] = cg_even_lanes(g, cg_masked_load(g, p, T->mask[u][kw]),
                                   cg_masked_load(g, cg_gep(g, p, cg_i64(g, g->vec)), T->mask_hi[u][kw]));
            else
                xv[u] = cg_masked_gather(g, p, sw, T->mask[u][kw]);
        }
        for (int j = 0; j < T->tile.ocb; j++) {
            LLVMValueRef wv = cg_load(g, wrow, cg_i64(g, j * wstride + kw));
            LLVMValueRef ws = cg_splat(g, wv, g->vf);
            for (int u = 0; u < T->tile.t; u++) {
                LLVMValueRef a = T->acc[j * T->tile.t + u];
                cg_set(g, a, cg_fmuladd(g, ws, xv[u], cg_get(g, a)));
            }
        }
    }
}

/* acc over ic, kh for the tile at ow0 */
static void tile_accumulate(Cg *g, Tile *T)
{
    const IrGeom *l = &T->n->geom;
    const IrTensor *in = T->in;
    int64_t kh_n = l->kernel[0], kw_n = l->kernel[1], cin_g = in->c / l->groups;
    int64_t dh = l->dilation[0], ph = l->pad_begin[0];
    LLVMValueRef wbase = cg_mul(g, T->oc0, cg_i64(g, cin_g * kh_n * kw_n));
    LLVMValueRef ih0 = cg_sub(g, cg_mul(g, T->oh, cg_i64(g, l->stride[0])), cg_i64(g, ph));
    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, cin_g), "ic");
    LLVMValueRef plane = cg_gep(g, T->x, cg_mul(g, cg_add(g, T->ic0, ic.iv), cg_i64(g, in->h * in->w)));
    LLVMValueRef wic = cg_add(g, wbase, cg_mul(g, ic.iv, cg_i64(g, kh_n * kw_n)));
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, kh_n), "kh");
    LLVMValueRef ih = cg_add(g, ih0, cg_mul(g, kh.iv, cg_i64(g, dh)));
    LLVMBasicBlockRef merge;
    cg_if(g, cg_in_range(g, ih, in->h), &merge);
    LLVMValueRef src = cg_gep(g, plane, cg_mul(g, ih, cg_i64(g, in->w)));
    LLVMValueRef wrow = cg_gep(g, T->w, cg_add(g, wic, cg_mul(g, kh.iv, cg_i64(g, kw_n))));
    tile_row(g, T, src, wrow);
    cg_if_end(g, merge);
    cg_loop_end(g, &kh);
    cg_loop_end(g, &ic);
}

/* residual, activation and masked store of the ocb x t accumulators */
static void tile_store(Cg *g, Tile *T, LLVMValueRef y)
{
    const IrTensor *o = T->out;
    for (int u = 0; u < T->tile.t; u++) {
        LLVMValueRef col = cg_add(g, T->ow0, cg_i64(g, u * g->vec));
        LLVMValueRef smask = cg_lane_mask(g, col, o->w);
        for (int j = 0; j < T->tile.ocb; j++) {
            LLVMValueRef v = cg_get(g, T->acc[j * T->tile.t + u]);
            LLVMValueRef row = cg_add(g, cg_mul(g, cg_add(g, T->oc0, cg_i64(g, j)), cg_i64(g, o->h)), T->oh);
            LLVMValueRef at = cg_add(g, cg_mul(g, row, cg_i64(g, o->w)), col);
            if (T->res)
                v = LLVMBuildFAdd(g->b, v, cg_masked_load(g, cg_gep(g, T->res, at), smask), "");
            if (cg_vector_act(T->n->act))
                v = cg_act(g, T->n, v);
            cg_masked_store(g, v, cg_gep(g, y, at), smask);
        }
    }
}

/* transcendental activations (sigmoid, tanh, silu) run on the stored rows */
static void scalar_epilogue(Cg *g, Tile *T, LLVMValueRef y)
{
    const IrTensor *o = T->out;
    for (int j = 0; j < T->tile.ocb; j++) {
        LLVMValueRef row = cg_add(g, cg_mul(g, cg_add(g, T->oc0, cg_i64(g, j)), cg_i64(g, o->h)), T->oh);
        LLVMValueRef p = cg_gep(g, y, cg_mul(g, row, cg_i64(g, o->w)));
        CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w), "act");
        cg_store(g, p, i.iv, cg_act(g, T->n, cg_load(g, p, i.iv)));
        cg_loop_end(g, &i);
    }
}

/* One item per block of ocb output channels and output row. */
static int64_t conv_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    return o->c / conv_tile(g, g->m, n).ocb * o->h;
}

/* item r = oh * blocks + ob; oc0 = ob * ocb. Consecutive items (and the
 * threads working side by side) share the same input rows, which stay in
 * cache while every block of output channels reads them. */
static void emit_conv_tiled(CgKernel *k)
{
    Cg *g = k->g;
    const IrModule *m = g->m;
    const IrNode *n = k->n;
    LLVMValueRef y = k->y, b = n->bias >= 0 ? k->p[1] : NULL, r = k->r;
    Tile T = {.n = n, .in = k->in[0], .out = k->out, .tile = conv_tile(g, m, n), .x = k->x[0], .w = k->p[0],
              .res = cg_residual(k, k->y)};
    const IrTensor *o = T.out;
    const IrGeom *l = &n->geom;
    int64_t span = (int64_t)g->vec * T.tile.t;
    int64_t blocks = o->c / T.tile.ocb;
    T.oc0 = cg_mul(g, cg_rem(g, r, cg_i64(g, blocks)), cg_i64(g, T.tile.ocb));
    T.oh = cg_div(g, r, cg_i64(g, blocks));
    /* first input channel of oc0's group */
    T.ic0 = cg_mul(g, cg_div(g, T.oc0, cg_i64(g, o->c / l->groups)), cg_i64(g, T.in->c / l->groups));
    for (int i = 0; i < T.tile.ocb * T.tile.t; i++)
        T.acc[i] = cg_var(g, g->vf, NULL);

    CgLoop tl = cg_loop(g, cg_i64(g, 0), cg_i64(g, (o->w + span - 1) / span), "tile");
    T.ow0 = cg_mul(g, tl.iv, cg_i64(g, span));
    int64_t dw = l->dilation[1], sw = l->stride[1];
    LLVMValueRef col0 = cg_mul(g, T.ow0, cg_i64(g, sw));
    for (int u = 0; u < T.tile.t; u++) {
        for (int64_t kw = 0; kw < l->kernel[1]; kw++) {
            LLVMValueRef start = cg_add(g, col0, cg_i64(g, u * g->vec * sw + kw * dw - l->pad_begin[1]));
            if (sw == 2) { /* two contiguous loads, then the even lanes */
                T.mask[u][kw] = cg_lane_mask(g, start, T.in->w);
                T.mask_hi[u][kw] = cg_lane_mask(g, cg_add(g, start, cg_i64(g, g->vec)), T.in->w);
            } else {
                T.mask[u][kw] = cg_lane_mask_step(g, start, sw, T.in->w);
            }
        }
    }
    for (int j = 0; j < T.tile.ocb; j++) {
        LLVMValueRef init = b ? cg_splat(g, cg_load(g, b, cg_add(g, T.oc0, cg_i64(g, j))), g->vf)
                              : LLVMConstNull(g->vf);
        for (int u = 0; u < T.tile.t; u++)
            cg_set(g, T.acc[j * T.tile.t + u], init);
    }
    tile_accumulate(g, &T);
    tile_store(g, &T, y);
    cg_loop_end(g, &tl);
    if (!cg_vector_act(n->act))
        scalar_epilogue(g, &T, y);
}

const CgLowering cg_lower_conv_tiled = {
    .applies = conv_applies, .work = conv_work, .scratch = cg_no_scratch, .emit = emit_conv_tiled};
