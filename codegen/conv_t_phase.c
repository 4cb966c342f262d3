/*
 * conv_t_phase.c - conv_transpose2d as Sw sub-convolutions per output row,
 * over only the taps that land on each output pixel (no zero insertion).
 *
 *   y[oc, oh, ow] = b[oc] + sum x[ic, ih, iw] * w[ic, oc % Cout_g, kh, kw]
 *                   over oh = ih*Sh - P + kh*D, ow = iw*Sw - P + kw*D
 *
 * Output column ow = j*Sw + c (phase c in [0, Sw)) receives exactly the taps
 * kw with (c + Pw - kw*Dw) % Sw == 0, from input column iw = j + d with
 * d = (c + Pw - kw*Dw) / Sw: for one phase, a stride-1 correlation along j
 * whose taps and offsets are compile-time constants. Rows are the same with
 * kh and Sh; the output row is part of the work item, so which kh land on
 * it is tested once per kh, outside the channel loop.
 *
 * One work item: ocb output channels (inside one group) on one output row.
 * The row is covered by tiles of t vectors of vec consecutive j; for every
 * tile the ocb x Sw x t accumulators acc[j][c][u] stay in registers while
 * the landing kh and the input channels of the group run. Per input channel
 * and distinct offset d: t masked loads of x (lanes outside the input row
 * read nothing and give 0), each shared by every (phase, tap) with that
 * offset, times ocb broadcast weights. The store shuffles the Sw phase
 * vectors of a tile into Sw x t contiguous output vectors, masked at the
 * row's end.
 *
 * The summation order is bias, then kh, input channel, kw, so results differ
 * from the reference loops' (input channel, kh, kw) by rounding only; every
 * output is computed by one item, so thread counts do not change them.
 */
#include "codegen/cg_internal.h"

enum { MAX_PHASES = 8, MAX_TAPS_W = 16, MAX_ACC = 24 };

/* The register tile: ocb output channels x t vectors of j, for all Sw phases. */
typedef struct {
    int ocb, t;
} PhaseTile;

/* A transposed conv with column stride at most 8 and kernel width at most
 * 16 (any padding, output_padding, dilation, groups, row stride), NCHW. */
static int phase_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    const IrGeom *l = &n->geom;
    return n->kind == IR_CONV_T && l->stride[1] <= MAX_PHASES && l->kernel[1] <= MAX_TAPS_W &&
           m->tensors[n->in[0]].layout == LAYOUT_NCHW && m->tensors[n->out].layout == LAYOUT_NCHW;
}

/* ocb * Sw * t accumulators: at most 24 with AVX-512 (32 registers, the
 * rest hold x vectors and weights), 8 with AVX2 (16 registers, which also
 * hold the load masks: 12 spilled); ocb divides Cout_g. Two
 * vectors of j when the row has more than one vector of them. */
static PhaseTile phase_tile(const Cg *g, const IrModule *m, const IrNode *n)
{
    static const int ocbs[] = {8, 6, 4, 3, 2, 1};
    const IrTensor *o = &m->tensors[n->out];
    int64_t sw = n->geom.stride[1], cout_g = o->c / n->geom.groups;
    int64_t j_n = (o->w + sw - 1) / sw;
    int max_acc = g->vec == 16 ? MAX_ACC : 8;
    PhaseTile tile = {.ocb = 1, .t = j_n > g->vec && 2 * sw <= max_acc ? 2 : 1};
    for (size_t i = 0; i < sizeof ocbs / sizeof *ocbs; i++) {
        if (ocbs[i] * sw * tile.t <= max_acc && cout_g % ocbs[i] == 0) {
            tile.ocb = ocbs[i];
            break;
        }
    }
    return tile;
}

static int64_t phase_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    return o->c / phase_tile(g, g->m, n).ocb * o->h;
}

/* Everything one tile's code needs. */
typedef struct {
    const IrNode *n;
    const IrTensor *in, *out;
    PhaseTile tile;
    int64_t sw, kw_n, dw, pw, cin_g, cout_g;
    LLVMValueRef acc[MAX_ACC];      /* allocas, [j][c][u] */
    LLVMValueRef x, w, oc0, ocg0, ic0, oh, j0;
} Phase;

static LLVMValueRef *acc_at(Phase *P, int j, int64_t c, int u)
{
    return &P->acc[(j * P->sw + c) * P->tile.t + u];
}

/* The offset d of tap kw in phase c, or 0 with *lands = 0 if it does not land. */
static int64_t tap_offset(const Phase *P, int64_t c, int64_t kw, int *lands)
{
    int64_t t = c + P->pw - kw * P->dw;
    int64_t r = ((t % P->sw) + P->sw) % P->sw;
    *lands = r == 0;
    return r == 0 ? (t - r) / P->sw : 0;
}

/* One input channel ic of input row src: for each distinct offset d, t
 * masked loads, then every (phase, tap) with that offset. wrow points at
 * w[ic, ocg0, kh, 0]. */
static void phase_channel(Cg *g, Phase *P, LLVMValueRef src, LLVMValueRef wrow)
{
    int64_t seen[MAX_PHASES * MAX_TAPS_W];
    int nseen = 0;
    int64_t wstride = P->kw_n * P->n->geom.kernel[0]; /* floats between output channels */
    for (int64_t c0 = 0; c0 < P->sw; c0++) {
        for (int64_t kw0 = 0; kw0 < P->kw_n; kw0++) {
            int lands, dup = 0;
            int64_t d = tap_offset(P, c0, kw0, &lands);
            for (int i = 0; i < nseen; i++)
                dup |= seen[i] == d;
            if (!lands || dup)
                continue;
            seen[nseen++] = d;
            LLVMValueRef xv[2];
            for (int u = 0; u < P->tile.t; u++) {
                LLVMValueRef col = cg_add(g, P->j0, cg_i64(g, u * g->vec + d));
                xv[u] = cg_masked_load(g, cg_gep(g, src, col), cg_lane_mask(g, col, P->in->w));
            }
            for (int64_t c = 0; c < P->sw; c++) {
                for (int64_t kw = 0; kw < P->kw_n; kw++) {
                    if (tap_offset(P, c, kw, &lands) != d || !lands)
                        continue;
                    for (int j = 0; j < P->tile.ocb; j++) {
                        LLVMValueRef ws = cg_splat(g, cg_load(g, wrow, cg_i64(g, j * wstride + kw)), g->vf);
                        for (int u = 0; u < P->tile.t; u++) {
                            LLVMValueRef a = *acc_at(P, j, c, u);
                            cg_set(g, a, cg_fmuladd(g, ws, xv[u], cg_get(g, a)));
                        }
                    }
                }
            }
        }
    }
}

/* acc over the kh landing on row oh, then the input channels of the group */
static void phase_accumulate(Cg *g, Phase *P)
{
    const IrGeom *l = &P->n->geom;
    int64_t kh_n = l->kernel[0], sh = l->stride[0];
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, kh_n), "kh");
    /* oh = ih*Sh - P + kh*D: ih = (oh + P - kh*D) / Sh when that divides */
    LLVMValueRef t = cg_sub(g, cg_add(g, P->oh, cg_i64(g, l->pad_begin[0])), cg_mul(g, kh.iv, cg_i64(g, l->dilation[0])));
    LLVMValueRef ih = cg_div(g, t, cg_i64(g, sh));
    LLVMValueRef lands = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, t, cg_i64(g, 0), ""),
        LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, cg_rem(g, t, cg_i64(g, sh)), cg_i64(g, 0), ""),
                     cg_in_range(g, ih, P->in->h), ""), "");
    LLVMBasicBlockRef merge;
    cg_if(g, lands, &merge);
    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, P->cin_g), "ic");
    LLVMValueRef icx = cg_add(g, P->ic0, ic.iv);
    LLVMValueRef src = cg_gep(g, P->x, cg_mul(g, cg_add(g, cg_mul(g, icx, cg_i64(g, P->in->h)), ih), cg_i64(g, P->in->w)));
    /* w[ic, ocg0, kh, 0] */
    LLVMValueRef wi = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, icx, cg_i64(g, P->cout_g)), P->ocg0), cg_i64(g, kh_n * P->kw_n)),
                             cg_mul(g, kh.iv, cg_i64(g, P->kw_n)));
    phase_channel(g, P, src, cg_gep(g, P->w, wi));
    cg_loop_end(g, &ic);
    cg_if_end(g, merge);
    cg_loop_end(g, &kh);
}

/* Activation, then the phases interleaved into contiguous output vectors:
 * tile position m = j_local*Sw + c, in vector q = m / vec. */
static void phase_store(Cg *g, Phase *P, LLVMValueRef y)
{
    const IrTensor *o = P->out;
    int64_t sw = P->sw, t = P->tile.t;
    LLVMValueRef ow0 = cg_mul(g, P->j0, cg_i64(g, sw));
    for (int j = 0; j < P->tile.ocb; j++) {
        LLVMValueRef srcs[MAX_ACC];
        for (int64_t c = 0; c < sw; c++) {
            for (int u = 0; u < t; u++) {
                LLVMValueRef v = cg_get(g, *acc_at(P, j, c, u));
                srcs[c * t + u] = cg_vector_act(P->n->act) ? cg_act(g, P->n, v) : v;
            }
        }
        LLVMValueRef oc = cg_add(g, P->oc0, cg_i64(g, j));
        LLVMValueRef row = cg_gep(g, y, cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, o->h)), P->oh), cg_i64(g, o->w)));
        for (int64_t q = 0; q < sw * t; q++) {
            int src[64], lane[64];
            for (int i = 0; i < g->vec; i++) {
                int64_t mpos = q * g->vec + i, jl = mpos / sw, c = mpos % sw;
                src[i] = (int)(c * t + jl / g->vec);
                lane[i] = (int)(jl % g->vec);
            }
            LLVMValueRef at = cg_add(g, ow0, cg_i64(g, q * g->vec));
            cg_masked_store(g, cg_select_lanes(g, srcs, (int)(sw * t), src, lane), cg_gep(g, row, at),
                            cg_lane_mask(g, at, o->w));
        }
    }
}

/* transcendental activations (sigmoid, tanh, silu) run on the stored rows */
static void phase_scalar_act(Cg *g, Phase *P, LLVMValueRef y)
{
    const IrTensor *o = P->out;
    for (int j = 0; j < P->tile.ocb; j++) {
        LLVMValueRef oc = cg_add(g, P->oc0, cg_i64(g, j));
        LLVMValueRef row = cg_gep(g, y, cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, o->h)), P->oh), cg_i64(g, o->w)));
        CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w), "act");
        cg_store(g, row, i.iv, cg_act(g, P->n, cg_load(g, row, i.iv)));
        cg_loop_end(g, &i);
    }
}

/* item r = oh * blocks + ob: consecutive items share the input rows. */
static void emit_conv_t_phase(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    const IrGeom *l = &n->geom;
    Phase P = {.n = n, .in = k->in[0], .out = k->out, .tile = phase_tile(g, g->m, n), .x = k->x[0], .w = k->p[0],
               .sw = l->stride[1], .kw_n = l->kernel[1], .dw = l->dilation[1], .pw = l->pad_begin[1]};
    const IrTensor *o = P.out;
    P.cin_g = P.in->c / l->groups, P.cout_g = o->c / l->groups;
    int64_t blocks = o->c / P.tile.ocb, span = (int64_t)g->vec * P.tile.t;
    int64_t j_n = (o->w + P.sw - 1) / P.sw;
    P.oc0 = cg_mul(g, cg_rem(g, k->r, cg_i64(g, blocks)), cg_i64(g, P.tile.ocb));
    P.oh = cg_div(g, k->r, cg_i64(g, blocks));
    LLVMValueRef grp = cg_div(g, P.oc0, cg_i64(g, P.cout_g));
    P.ocg0 = cg_rem(g, P.oc0, cg_i64(g, P.cout_g));
    P.ic0 = cg_mul(g, grp, cg_i64(g, P.cin_g));
    int nacc = (int)(P.tile.ocb * P.sw * P.tile.t);
    for (int i = 0; i < nacc; i++)
        P.acc[i] = cg_var(g, g->vf, NULL);

    CgLoop tl = cg_loop(g, cg_i64(g, 0), cg_i64(g, (j_n + span - 1) / span), "tile");
    P.j0 = cg_mul(g, tl.iv, cg_i64(g, span));
    for (int j = 0; j < P.tile.ocb; j++) {
        LLVMValueRef b = n->bias >= 0 ? cg_splat(g, cg_load(g, k->p[1], cg_add(g, P.oc0, cg_i64(g, j))), g->vf)
                                      : LLVMConstNull(g->vf);
        for (int i = 0; i < P.sw * P.tile.t; i++)
            cg_set(g, P.acc[j * P.sw * P.tile.t + i], b);
    }
    phase_accumulate(g, &P);
    phase_store(g, &P, k->y);
    cg_loop_end(g, &tl);
    if (!cg_vector_act(n->act))
        phase_scalar_act(g, &P, k->y);
}

const CgLowering cg_lower_conv_t_phase = {
    .applies = phase_applies, .work = phase_work, .scratch = cg_no_scratch, .emit = emit_conv_t_phase};
