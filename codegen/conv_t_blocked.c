/*
 * conv_t_blocked.c - conv_transpose2d on blocked channels (nChw16c with
 * AVX-512) as Sw sub-convolutions per output row: the register tile of
 * conv_blocked.c (output-channel blocks x output pixels, one broadcast
 * input value against weight vectors per FMA) over only the taps that land
 * on each output pixel (no zero insertion).
 *
 *   y[oc, oh, ow] = b[oc] + sum x[ic, ih, iw] * w[ic, oc, kh, kw]
 *                   over oh = ih*Sh - P + kh*D, ow = iw*Sw - P + kw*D
 *
 * Output column ow = j*Sw + c (phase c in [0, Sw)) receives exactly the taps
 * kw with (c + Pw - kw*Dw) % Sw == 0, from input column iw = j + d with
 * d = (c + Pw - kw*Dw) / Sw: for one phase, a stride-1 correlation along j
 * whose taps and offsets are compile-time constants. Rows likewise with kh
 * and Sh; the output row is part of the work item, so which kh land on it is
 * tested once per kh, outside the channel loops.
 *
 * The output is [OCB][OH][OW][B] (B = 16), the input [ICB][IH][IW][BI] (BI
 * = 16, or 1 for an NCHW input with a few channels). The weights [I, O, KH,
 * KW] are packed at load time by conv_blocked.c's PREPARE_PACK_BLOCKED step
 * to [OCB][ICB][KH][KW][BI][B]. One work item is nb output blocks on one
 * output row; for each phase the row's j are covered by tiles of t pixels
 * whose nb x t accumulators stay in registers while the landing kh, the
 * input blocks, the phase's taps and the channels of a block run:
 *
 *   acc[jb][u] += splat(x[icb][ih][j0 + u + d][icl]) * w[ob0 + jb][icb][kh][kw][icl][:]
 *
 * As in conv_blocked.c, the tiles whose every tap lies inside the input row
 * (the interior) run in a loop with no checks; the others are emitted at
 * compile-time positions with each pixel's out-of-row taps left out. Bias
 * starts the accumulators, the activation is applied at the store.
 *
 * The summation order is bias, kh, input block, kw, channel in the block;
 * every output is computed by one item, so thread counts do not change it.
 */
#include "codegen/cg_internal.h"

enum { MAX_ACC = 32, MAX_PHASES = 16, MAX_KW = 16, MAX_STATIC_TILES = 64 };

/* The register tile: nb output blocks x t pixels of one phase, and the
 * order of the work items. */
typedef struct {
    int nb, t;
    int og_major; /* items ordered by channel group first: a group's weights
                     stay in L2 across the rows (else every item streams them) */
} TTile;

/* The landing taps of phase c: kw[i] reads input column j + d[i]. */
typedef struct {
    int n;
    int64_t kw[MAX_KW], d[MAX_KW];
} PhaseTaps;

static PhaseTaps phase_taps(const IrGeom *l, int64_t c)
{
    PhaseTaps p = {0};
    for (int64_t kw = 0; kw < l->kernel[1]; kw++) {
        int64_t t = c + l->pad_begin[1] - kw * l->dilation[1];
        int64_t r = ((t % l->stride[1]) + l->stride[1]) % l->stride[1];
        if (r == 0) {
            p.kw[p.n] = kw;
            p.d[p.n++] = (t - r) / l->stride[1];
        }
    }
    return p;
}

/* j of phase c: ow = j*Sw + c < OW */
static int64_t phase_cols(const IrGeom *l, const IrTensor *out, int64_t c)
{
    return c < out->w ? (out->w - c + l->stride[1] - 1) / l->stride[1] : 0;
}

/* The j of phase c whose every tap reads inside the row: [lo, hi). */
static void phase_interior(const PhaseTaps *p, int64_t jn, int64_t in_w, int64_t *lo, int64_t *hi)
{
    *lo = 0;
    *hi = jn;
    for (int i = 0; i < p->n; i++) {
        if (-p->d[i] > *lo)
            *lo = -p->d[i];
        if (in_w - p->d[i] < *hi)
            *hi = in_w - p->d[i];
    }
    if (*lo > jn)
        *lo = jn;
    if (*hi < *lo)
        *hi = *lo;
}

/* nb: the largest of 4, 3, 2, 1 dividing the output blocks; t fills 30
 * registers less nb weight vectors, no wider than the widest phase. */
static TTile t_tile(int vec, const IrModule *m, const IrNode *n)
{
    static const int nbs[] = {4, 3, 2, 1};
    const IrTensor *o = &m->tensors[n->out];
    int64_t ocb = (o->c + vec - 1) / vec, jn = phase_cols(&n->geom, o, 0);
    TTile tt = {.nb = 1};
    for (size_t i = 0; i < sizeof nbs / sizeof *nbs; i++) {
        if (ocb % nbs[i] == 0) {
            tt.nb = nbs[i];
            break;
        }
    }
    tt.t = (30 - tt.nb) / tt.nb;
    if (tt.t > MAX_ACC / tt.nb)
        tt.t = MAX_ACC / tt.nb;
    if (tt.t > jn)
        tt.t = jn < 1 ? 1 : (int)jn;
    const IrTensor *in = &m->tensors[n->in[0]];
    tt.og_major = ocb * vec * in->c * n->geom.kernel[0] * n->geom.kernel[1] * 4 > (1 << 20);
    return tt;
}

/* Tiles emitted at compile-time positions, over every phase. */
static int64_t static_tiles(const IrNode *n, const IrTensor *in, const IrTensor *out, int t)
{
    int64_t total = 0;
    for (int64_t c = 0; c < n->geom.stride[1]; c++) {
        PhaseTaps p = phase_taps(&n->geom, c);
        int64_t jn = phase_cols(&n->geom, out, c), lo, hi;
        phase_interior(&p, jn, in->w, &lo, &hi);
        int64_t rest = jn - lo - (hi - lo) / t * t;
        total += (lo + t - 1) / t + (rest + t - 1) / t;
    }
    return total;
}

/* conv_transpose2d, groups 1, AVX-512, Sw and KW at most 16, its code of
 * bounded size, at most a quarter of its output lanes padding. */
static int t_blocked_fits(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    const IrGeom *l = &n->geom;
    if (n->kind != IR_CONV_T || t->vec != 16 || l->groups != 1 || l->kernel[1] > MAX_KW || l->stride[1] > MAX_PHASES)
        return 0;
    const IrTensor *in = &m->tensors[n->in[0]], *out = &m->tensors[n->out];
    int64_t padded = (out->c + t->vec - 1) / t->vec * t->vec;
    if (in->rank != 3 || out->rank != 3 || (padded - out->c) * 4 > padded)
        return 0;
    return static_tiles(n, in, out, t_tile(t->vec, m, n).t) <= MAX_STATIC_TILES;
}

IrLayout cg_conv_t_blocked_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input)
{
    if (!t_blocked_fits(t, m, n))
        return LAYOUT_NCHW;
    if (input >= 0 && m->tensors[n->in[input]].c <= 4) /* a few channels: read them as they are */
        return LAYOUT_NCHW;
    return LAYOUT_NCHW16C;
}

static int t_blocked_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    if (!t_blocked_fits(t, m, n))
        return 0;
    IrLayout in = m->tensors[n->in[0]].layout;
    return m->tensors[n->out].layout == LAYOUT_NCHW16C && (in == LAYOUT_NCHW || in == LAYOUT_NCHW16C);
}

static int64_t t_blocked_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    return (o->c + g->vec - 1) / g->vec / t_tile(g->vec, g->m, n).nb * o->h;
}

/* Everything the code of one item needs. */
typedef struct {
    Cg *g;
    const IrNode *n;
    const IrTensor *in, *out;
    TTile tile;
    int64_t bi, bo, icb_n, nicl_last; /* channels per block; input blocks; real channels of the last */
    LLVMValueRef x, w, y, bias;       /* bias: NULL if none */
    LLVMValueRef ob0, oh;             /* first output block, output row */
    LLVMValueRef acc[MAX_ACC];        /* allocas, [jb * t + u] */
} TItem;

/* Tap kw (input columns j0 + u + d) over icl in [0, nicl) for the live
 * pixels of the tile: nb weight vectors, then per pixel a broadcast and nb
 * FMAs. xrow: x[icb][ih][0][0]; wk[jb]: w[ob0 + jb][icb][kh][0][0][0].
 * A tile runs every input block of its landing taps, so its weights come
 * from L2 (256 KB per tile for UNet's 1024 -> 512 up-conv), KH x KW blocks
 * apart: each weight load prefetches (prefetcht0) the same line of the next
 * input block. A/B on a Xeon, alternating rounds: UNet-256's up-convs 2-17%
 * faster at 1 thread (up1 7.2 -> 5.9 ms), 0-13% at 2; net8's the same. */
static void t_tap(TItem *I, LLVMValueRef xrow, LLVMValueRef *wk, LLVMValueRef j0, int64_t kw, int64_t d, int cnt,
                  const int *live, LLVMValueRef nicl)
{
    Cg *g = I->g;
    int nb = I->tile.nb, t = I->tile.t;
    CgLoop icl = cg_loop(g, cg_i64(g, 0), nicl, "icl");
    LLVMValueRef wv[4];
    LLVMValueRef woff = cg_mul(g, cg_add(g, cg_i64(g, kw * I->bi), icl.iv), cg_i64(g, I->bo));
    for (int jb = 0; jb < nb; jb++)
        wv[jb] = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, wk[jb], woff), "");
    /* the same tap's weights of the next input block: one line per vector */
    LLVMValueRef next = cg_add(g, woff, cg_i64(g, I->n->geom.kernel[0] * I->n->geom.kernel[1] * I->bi * I->bo));
    for (int jb = 0; jb < nb; jb++)
        cg_prefetch(g, cg_gep(g, wk[jb], next));
    for (int u = 0; u < cnt; u++) {
        if (!live[u])
            continue;
        LLVMValueRef col = cg_add(g, j0, cg_i64(g, u + d));
        LLVMValueRef xs = cg_splat(g, cg_load(g, xrow, cg_add(g, cg_mul(g, col, cg_i64(g, I->bi)), icl.iv)), g->vf);
        for (int jb = 0; jb < nb; jb++) {
            LLVMValueRef a = I->acc[jb * t + u];
            cg_set(g, a, cg_fmuladd(g, xs, wv[jb], cg_get(g, a)));
        }
    }
    cg_loop_end_rolled(g, &icl);
}

/* The phase's taps of input block icb at input row ih for the tile at j0
 * (j0c: its compile-time value, or -1 in the interior loop). */
static void t_block(TItem *I, const PhaseTaps *p, LLVMValueRef icb, LLVMValueRef ih, LLVMValueRef kh,
                    LLVMValueRef j0, int64_t j0c, int cnt)
{
    Cg *g = I->g;
    const IrTensor *in = I->in;
    int64_t kh_n = I->n->geom.kernel[0], kw_n = I->n->geom.kernel[1];
    LLVMValueRef xrow = cg_gep(g, I->x, cg_mul(g, cg_add(g, cg_mul(g, icb, cg_i64(g, in->h)), ih), cg_i64(g, in->w * I->bi)));
    LLVMValueRef wk[4];
    for (int jb = 0; jb < I->tile.nb; jb++) {
        LLVMValueRef ob = cg_add(g, I->ob0, cg_i64(g, jb));
        LLVMValueRef blk = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, ob, cg_i64(g, I->icb_n)), icb), cg_i64(g, kh_n)), kh);
        wk[jb] = cg_gep(g, I->w, cg_mul(g, blk, cg_i64(g, kw_n * I->bi * I->bo)));
    }
    /* the last block holds nicl_last real channels */
    LLVMValueRef last = LLVMBuildICmp(g->b, LLVMIntEQ, icb, cg_i64(g, I->icb_n - 1), "");
    LLVMValueRef nicl = LLVMBuildSelect(g->b, last, cg_i64(g, I->nicl_last), cg_i64(g, I->bi), "");
    for (int i = 0; i < p->n; i++) {
        int live[MAX_ACC], any = 0;
        for (int u = 0; u < cnt; u++) {
            int64_t col = j0c + u + p->d[i];
            live[u] = j0c < 0 || (col >= 0 && col < in->w);
            any |= live[u];
        }
        if (any)
            t_tap(I, xrow, wk, j0, p->kw[i], p->d[i], cnt, live, nicl);
    }
}

/* The address of output pixel ow of block jb of the item's row. */
static LLVMValueRef t_out_at(TItem *I, int jb, LLVMValueRef ow)
{
    Cg *g = I->g;
    const IrTensor *o = I->out;
    LLVMValueRef row = cg_add(g, cg_mul(g, cg_add(g, I->ob0, cg_i64(g, jb)), cg_i64(g, o->h)), I->oh);
    return cg_gep(g, I->y, cg_mul(g, cg_add(g, cg_mul(g, row, cg_i64(g, o->w)), ow), cg_i64(g, I->bo)));
}

/* One tile of cnt pixels of phase c at j0: bias, the landing kh and every
 * input block, then the store (ow = (j0 + u)*Sw + c). */
static void t_tile_code(TItem *I, const PhaseTaps *p, int64_t c, LLVMValueRef j0, int64_t j0c, int cnt,
                        LLVMValueRef *bias)
{
    Cg *g = I->g;
    const IrGeom *l = &I->n->geom;
    int nb = I->tile.nb, t = I->tile.t;
    for (int jb = 0; jb < nb; jb++)
        for (int u = 0; u < cnt; u++)
            cg_set(g, I->acc[jb * t + u], bias[jb]);
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, l->kernel[0]), "kh");
    /* oh = ih*Sh - P + kh*D: ih = (oh + P - kh*D) / Sh when that divides */
    LLVMValueRef tt = cg_sub(g, cg_add(g, I->oh, cg_i64(g, l->pad_begin[0])), cg_mul(g, kh.iv, cg_i64(g, l->dilation[0])));
    LLVMValueRef ih = cg_div(g, tt, cg_i64(g, l->stride[0]));
    LLVMValueRef lands = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, tt, cg_i64(g, 0), ""),
        LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, cg_rem(g, tt, cg_i64(g, l->stride[0])), cg_i64(g, 0), ""),
                     cg_in_range(g, ih, I->in->h), ""), "");
    LLVMBasicBlockRef merge;
    cg_if(g, lands, &merge);
    CgLoop icb = cg_loop(g, cg_i64(g, 0), cg_i64(g, I->icb_n), "icb");
    t_block(I, p, icb.iv, ih, kh.iv, j0, j0c, cnt);
    cg_loop_end_rolled(g, &icb);
    cg_if_end(g, merge);
    cg_loop_end_rolled(g, &kh);
    for (int jb = 0; jb < nb; jb++) {
        for (int u = 0; u < cnt; u++) {
            LLVMValueRef v = cg_get(g, I->acc[jb * t + u]);
            if (cg_vector_act(I->n->act))
                v = cg_act(g, I->n, v);
            LLVMValueRef ow = cg_add(g, cg_mul(g, cg_add(g, j0, cg_i64(g, u)), cg_i64(g, l->stride[1])), cg_i64(g, c));
            LLVMBuildStore(g->b, v, t_out_at(I, jb, ow));
        }
    }
}

/* Static tiles of phase c over j in [from, to), t at a time. */
static void t_static_run(TItem *I, const PhaseTaps *p, int64_t c, int64_t from, int64_t to, LLVMValueRef *bias)
{
    for (int64_t j = from; j < to; j += I->tile.t) {
        int cnt = (int)(to - j < I->tile.t ? to - j : I->tile.t);
        t_tile_code(I, p, c, cg_i64(I->g, j), j, cnt, bias);
    }
}

/* Every tile of phase c: before the interior, the interior's whole tiles
 * in a loop, the rest. */
static void t_phase(TItem *I, int64_t c, LLVMValueRef *bias)
{
    Cg *g = I->g;
    PhaseTaps p = phase_taps(&I->n->geom, c);
    int64_t jn = phase_cols(&I->n->geom, I->out, c), lo, hi, t = I->tile.t;
    phase_interior(&p, jn, I->in->w, &lo, &hi);
    int64_t whole = (hi - lo) / t;
    t_static_run(I, &p, c, 0, lo, bias);
    if (whole > 0) {
        CgLoop tl = cg_loop(g, cg_i64(g, 0), cg_i64(g, whole), "tile");
        t_tile_code(I, &p, c, cg_add(g, cg_i64(g, lo), cg_mul(g, tl.iv, cg_i64(g, t))), -1, (int)t, bias);
        cg_loop_end_rolled(g, &tl);
    }
    t_static_run(I, &p, c, lo + whole * t, jn, bias);
}

/* The bias vector of output block ob0 + jb (lanes past C masked to 0). */
static LLVMValueRef t_bias(TItem *I, int jb)
{
    Cg *g = I->g;
    if (!I->bias)
        return LLVMConstNull(g->vf);
    LLVMValueRef c0 = cg_mul(g, cg_add(g, I->ob0, cg_i64(g, jb)), cg_i64(g, I->bo));
    return cg_masked_load(g, cg_gep(g, I->bias, c0), cg_lane_mask(g, c0, I->out->c));
}

/* item r = oh * groups + og (consecutive items share the input rows), or
 * og * OH + oh when the weights exceed 1 MB */
static void emit_conv_t_blocked(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    TItem I = {.g = g, .n = n, .in = k->in[0], .out = k->out, .tile = t_tile(g->vec, g->m, n), .x = k->x[0],
               .w = k->p[0], .y = k->y, .bias = n->bias >= 0 ? k->p[1] : NULL};
    const IrTensor *o = I.out;
    I.bi = ir_layout_block(I.in->layout);
    I.bo = g->vec;
    I.icb_n = (I.in->c + I.bi - 1) / I.bi;
    I.nicl_last = I.in->c - (I.icb_n - 1) * I.bi;
    int64_t groups = (o->c + I.bo - 1) / I.bo / I.tile.nb;
    LLVMValueRef inner = cg_i64(g, I.tile.og_major ? o->h : groups); /* items of the inner index */
    LLVMValueRef hi = cg_div(g, k->r, inner), lo = cg_rem(g, k->r, inner);
    I.oh = I.tile.og_major ? lo : hi;
    I.ob0 = cg_mul(g, I.tile.og_major ? hi : lo, cg_i64(g, I.tile.nb));
    for (int i = 0; i < I.tile.nb * I.tile.t; i++)
        I.acc[i] = cg_var(g, g->vf, NULL);
    LLVMValueRef bias[4];
    for (int jb = 0; jb < I.tile.nb; jb++)
        bias[jb] = t_bias(&I, jb);
    for (int64_t c = 0; c < n->geom.stride[1]; c++)
        t_phase(&I, c, bias);
    if (n->act != ACT_NONE && !cg_vector_act(n->act)) { /* sigmoid, tanh, silu on the finished row */
        for (int jb = 0; jb < I.tile.nb; jb++) {
            LLVMValueRef p = t_out_at(&I, jb, cg_i64(g, 0));
            CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w * I.bo), "act");
            cg_store(g, p, i.iv, cg_act(g, n, cg_load(g, p, i.iv)));
            cg_loop_end(g, &i);
        }
    }
}

const CgLowering cg_lower_conv_t_blocked = {.applies = t_blocked_applies, .work = t_blocked_work,
                                            .scratch = cg_no_scratch, .emit = emit_conv_t_blocked,
                                            .prepare = cg_blocked_prepare};
