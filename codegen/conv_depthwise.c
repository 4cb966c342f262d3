/*
 * conv_depthwise.c - depthwise conv2d (groups = input = output channels) on
 * nChw16c with AVX-512: one vector holds 16 channels, each its own 2-D
 * correlation, so no value crosses lanes.
 *
 * The weights are packed at load time (a PREPARE_PACK_DEPTHWISE step) to
 * [C/16][KH][KW][16]: a tap's weights for a channel block are one vector.
 * One work item is one channel block on one output row; the row is covered
 * by tiles of t output pixels whose t accumulators stay in registers while
 *
 *   acc[u] += x[cb][oh*S - P + kh*D][(ow0 + u)*S - P + kw*D][:] * w[cb][kh][kw][:]
 *
 * runs over kh (a loop; a row outside the image is skipped whole) and kw
 * (unrolled). The taps are emitted input column by input column, so each
 * input vector is loaded once per kernel row and used by every (pixel, kw)
 * that reads it. Bias starts the accumulators; a fused residual and the
 * activation are applied at the store (sigmoid, tanh and silu, which call
 * libm per value, on the stored row afterwards).
 *
 * Padding costs no masks: when the row has at most MAX_STATIC tiles every
 * tile sits at a compile-time position (t balanced over the row), else the
 * tiles whose every tap lies inside the row run in a loop and the others
 * sit at compile-time positions; at a compile-time position each pixel's
 * out-of-row taps are left out when the code is emitted.
 *
 * Each output value is bias, then kh, kw in order, one FMA each: the
 * reference loops' order, so the two agree bit for bit, whatever the
 * threads.
 */
#include "codegen/cg_internal.h"

enum { LANES = 16, MAX_T = 16, MAX_STATIC = 8, MAX_STATIC_TILES = 24, MAX_KW = 16 };

/* The row's tiles: t pixels each; `whole` tiles from `lo` on run in a loop,
 * the pixels before lo and after them are tiles at compile-time positions. */
typedef struct {
    int t;
    int64_t lo, whole;
} DwTiles;

static DwTiles dw_tiles(const IrNode *n, const IrTensor *in, const IrTensor *out);

/* groups = in = out channels, AVX-512, at most a quarter of the lanes
 * padding (a few channels waste most of a vector: the NCHW tiled kernel
 * does less work there), code of bounded size. */
static int dw_fits(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    if (n->kind != IR_CONV || t->vec != LANES || n->geom.groups < 2 || n->geom.kernel[1] > MAX_KW)
        return 0;
    const IrTensor *in = &m->tensors[n->in[0]], *out = &m->tensors[n->out];
    int64_t padded = (out->c + LANES - 1) / LANES * LANES;
    if (in->rank != 3 || out->rank != 3 || n->geom.groups != in->c || out->c != in->c ||
        (padded - out->c) * 4 > padded)
        return 0;
    DwTiles d = dw_tiles(n, in, out);
    int64_t rest = out->w - d.lo - d.whole * d.t;
    return (d.lo + d.t - 1) / d.t + (rest + d.t - 1) / d.t <= MAX_STATIC_TILES;
}

IrLayout cg_depthwise_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input)
{
    return dw_fits(t, m, n) ? LAYOUT_NCHW16C : LAYOUT_NCHW;
}

static int dw_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    return dw_fits(t, m, n) && m->tensors[n->in[0]].layout == LAYOUT_NCHW16C &&
           m->tensors[n->out].layout == LAYOUT_NCHW16C;
}

/* The packed weights: a derived parameter [C16, 1, KH, KW] (C16: C padded
 * to 16) written once after loading; the node reads it. */
static void dw_prepare(const CgTarget *t, IrModule *m, int i)
{
    IrParam w = m->params[m->nodes[i].weight]; /* a copy: ir_add_derived may move m->params */
    int64_t dims[4] = {(w.dims[0] + LANES - 1) / LANES * LANES, 1, w.dims[2], w.dims[3]};
    int packed = ir_add_derived(m, ir_strcat(w.name, "", ".packed"), 4, dims);
    IrPrepare *p = ir_add_prepare(m, PREPARE_PACK_DEPTHWISE, ir_strcat(w.name, "", ".pack"), i);
    p->nout = p->nin = 1;
    p->params[0] = packed;
    p->params[1] = m->nodes[i].weight;
    m->nodes[i].weight = packed;
}

/* One item per channel block:
 *   packed[cb][k][l] = w[cb*16 + l][0][k]  (0 past C), k = kh*KW + kw */
static int64_t pack_work(const Cg *g, const IrPrepare *p)
{
    return g->m->params[p->params[0]].dims[0] / LANES;
}

static void pack_body(CgPrepare *k)
{
    Cg *g = k->g;
    const IrParam *w = &g->m->params[k->p->params[1]];
    int64_t c_n = w->dims[0], kk = w->dims[2] * w->dims[3];
    LLVMValueRef out = cg_gep(g, k->param[0], cg_mul(g, k->r, cg_i64(g, kk * LANES)));
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, kk), "k");
    CgLoop l = cg_loop(g, cg_i64(g, 0), cg_i64(g, LANES), "l");
    LLVMValueRef c = cg_add(g, cg_mul(g, k->r, cg_i64(g, LANES)), l.iv);
    LLVMValueRef real = LLVMBuildICmp(g->b, LLVMIntSLT, c, cg_i64(g, c_n), "");
    LLVMValueRef src = LLVMBuildSelect(g->b, real, cg_add(g, cg_mul(g, c, cg_i64(g, kk)), t.iv), cg_i64(g, 0), "");
    LLVMValueRef v = LLVMBuildSelect(g->b, real, cg_load(g, k->param[1], src), cg_f32(g, 0.0), "");
    cg_store(g, out, cg_add(g, cg_mul(g, t.iv, cg_i64(g, LANES)), l.iv), v);
    cg_loop_end(g, &l);
    cg_loop_end(g, &t);
}

const CgPrepareLowering cg_prepare_pack_depthwise = {.work = pack_work, .emit = pack_body};

static int64_t dw_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    return (o->c + LANES - 1) / LANES * o->h;
}

/* The output pixels whose every tap lies inside the input row start at
 * ceil(P / S) and end before floor((W - 1 + P - (KW-1)*D) / S) + 1. With
 * few tiles they are all static, t balanced over the row. */
static DwTiles dw_tiles(const IrNode *n, const IrTensor *in, const IrTensor *out)
{
    const IrGeom *l = &n->geom;
    int64_t ntiles = (out->w + MAX_T - 1) / MAX_T;
    DwTiles d = {.t = (int)((out->w + ntiles - 1) / ntiles)};
    if (ntiles <= MAX_STATIC)
        return d;
    d.t = MAX_T;
    int64_t s = l->stride[1], p = l->pad_begin[1], last = in->w - 1 + p - (l->kernel[1] - 1) * l->dilation[1];
    int64_t hi = last < 0 ? 0 : last / s + 1;
    d.lo = (p + s - 1) / s;
    if (hi > out->w)
        hi = out->w;
    if (hi > d.lo)
        d.whole = (hi - d.lo) / d.t;
    return d;
}

/* Everything the code of one item needs. */
typedef struct {
    CgKernel *k;
    const IrGeom *l;
    const IrTensor *in, *out;
    LLVMValueRef cb, oh, bias;  /* channel block, output row, bias vector */
    LLVMValueRef acc[MAX_T];    /* allocas */
} Dw;

/* Kernel row ih (inside the image) for the tile of cnt pixels at ow0
 * (ow0c: its compile-time value, -1 in the interior loop), input column by
 * input column: c = u*S + kw*D relative to the tile's first tap. */
static void dw_row(Dw *D, LLVMValueRef ih, LLVMValueRef kh, LLVMValueRef ow0, int64_t ow0c, int cnt)
{
    Cg *g = D->k->g;
    const IrGeom *l = D->l;
    int64_t s = l->stride[1], dw = l->dilation[1], kw_n = l->kernel[1];
    LLVMValueRef xrow = cg_gep(g, D->k->x[0], cg_mul(g, cg_add(g, cg_mul(g, D->cb, cg_i64(g, D->in->h)), ih),
                                                     cg_i64(g, D->in->w * LANES)));
    LLVMValueRef wrow = cg_gep(g, D->k->p[0], cg_mul(g, cg_add(g, cg_mul(g, D->cb, cg_i64(g, l->kernel[0])), kh),
                                                     cg_i64(g, kw_n * LANES)));
    LLVMValueRef wv[MAX_KW];
    for (int64_t kw = 0; kw < kw_n; kw++)
        wv[kw] = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, wrow, cg_i64(g, kw * LANES)), "");
    LLVMValueRef col0 = cg_sub(g, cg_mul(g, ow0, cg_i64(g, s)), cg_i64(g, l->pad_begin[1]));
    int64_t span = (cnt - 1) * s + (kw_n - 1) * dw + 1;
    for (int64_t c = 0; c < span; c++) {
        LLVMValueRef xv = NULL;
        for (int64_t kw = 0; kw < kw_n; kw++) {
            int64_t u = c - kw * dw;
            if (u < 0 || u % s || u / s >= cnt)
                continue;
            int64_t col = ow0c * s - l->pad_begin[1] + c;
            if (ow0c >= 0 && (col < 0 || col >= D->in->w))
                continue; /* a tap in the padding */
            if (!xv)
                xv = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, xrow, cg_mul(g, cg_add(g, col0, cg_i64(g, c)),
                                                                      cg_i64(g, LANES))), "");
            LLVMValueRef a = D->acc[u / s];
            cg_set(g, a, cg_fmuladd(g, xv, wv[kw], cg_get(g, a)));
        }
    }
}

/* y at pixel ow of the item's row */
static LLVMValueRef dw_out(Dw *D, LLVMValueRef ow)
{
    Cg *g = D->k->g;
    LLVMValueRef row = cg_add(g, cg_mul(g, D->cb, cg_i64(g, D->out->h)), D->oh);
    return cg_gep(g, D->k->y, cg_mul(g, cg_add(g, cg_mul(g, row, cg_i64(g, D->out->w)), ow), cg_i64(g, LANES)));
}

/* One tile: the bias, every kernel row inside the image, the store. */
static void dw_tile(Dw *D, LLVMValueRef ow0, int64_t ow0c, int cnt)
{
    Cg *g = D->k->g;
    const IrGeom *l = D->l;
    for (int u = 0; u < cnt; u++)
        cg_set(g, D->acc[u], D->bias);
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, l->kernel[0]), "kh");
    LLVMValueRef ih = cg_add(g, cg_sub(g, cg_mul(g, D->oh, cg_i64(g, l->stride[0])), cg_i64(g, l->pad_begin[0])),
                             cg_mul(g, kh.iv, cg_i64(g, l->dilation[0])));
    LLVMBasicBlockRef merge;
    cg_if(g, cg_in_range(g, ih, D->in->h), &merge);
    dw_row(D, ih, kh.iv, ow0, ow0c, cnt);
    cg_if_end(g, merge);
    cg_loop_end_rolled(g, &kh);
    int vector = cg_vector_act(D->k->n->act);
    for (int u = 0; u < cnt; u++) {
        LLVMValueRef at = dw_out(D, cg_add(g, ow0, cg_i64(g, u))), v = cg_get(g, D->acc[u]);
        LLVMValueRef res = cg_residual(D->k, at);
        if (res)
            v = LLVMBuildFAdd(g->b, v, LLVMBuildLoad2(g->b, g->vf, res, ""), "");
        LLVMBuildStore(g->b, vector ? cg_act(g, D->k->n, v) : v, at);
    }
}

/* Tiles at compile-time positions over pixels [from, to), t at a time. */
static void dw_static(Dw *D, int64_t from, int64_t to, int t)
{
    for (int64_t p = from; p < to; p += t)
        dw_tile(D, cg_i64(D->k->g, p), p, (int)(to - p < t ? to - p : t));
}

static void emit_dw(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    Dw D = {.k = k, .l = &n->geom, .in = k->in[0], .out = k->out};
    const IrTensor *o = D.out;
    D.cb = cg_div(g, k->r, cg_i64(g, o->h));
    D.oh = cg_rem(g, k->r, cg_i64(g, o->h));
    D.bias = LLVMConstNull(g->vf);
    if (n->bias >= 0) {
        LLVMValueRef c0 = cg_mul(g, D.cb, cg_i64(g, LANES));
        D.bias = cg_masked_load(g, cg_gep(g, k->p[1], c0), cg_lane_mask(g, c0, o->c));
    }
    for (int u = 0; u < MAX_T; u++)
        D.acc[u] = cg_var(g, g->vf, NULL);
    DwTiles T = dw_tiles(n, D.in, o);
    if (T.lo == 0 && T.whole == 0) {
        dw_static(&D, 0, o->w, T.t);
    } else {
        dw_static(&D, 0, T.lo, T.t);
        if (T.whole > 0) {
            CgLoop tl = cg_loop(g, cg_i64(g, 0), cg_i64(g, T.whole), "tile");
            dw_tile(&D, cg_add(g, cg_i64(g, T.lo), cg_mul(g, tl.iv, cg_i64(g, T.t))), -1, T.t);
            cg_loop_end_rolled(g, &tl);
        }
        dw_static(&D, T.lo + T.whole * T.t, o->w, T.t);
    }
    if (!cg_vector_act(n->act)) { /* sigmoid, tanh, silu: by element on the stored row */
        LLVMValueRef p = dw_out(&D, cg_i64(g, 0));
        CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w * LANES), "act");
        cg_store(g, p, i.iv, cg_act(g, n, cg_load(g, p, i.iv)));
        cg_loop_end(g, &i);
    }
}

const CgLowering cg_lower_conv_depthwise = {.applies = dw_applies, .work = dw_work, .scratch = cg_no_scratch,
                                            .emit = emit_dw, .prepare = dw_prepare};
