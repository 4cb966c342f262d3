/*
 * kernels.c - the reference lowering: a body for every IR kind.
 *
 * The body computes work item r of one sample (lower.c wraps it in the
 * kernel function and the loop over the items of the whole batch). For most
 * ops an item is one output row (one channel, one output line), so
 * the innermost loop runs along W with unit stride and LLVM's vectorizer can
 * widen it. Every extent, stride and padding is a compile-time constant; the
 * only run-time values are the item index and the buffer addresses.
 *
 * These are simple, obviously correct loops with PyTorch semantics. Faster
 * kernels (blocked layouts, register tiling, Winograd) are separate lowerings
 * chosen per node; this one stays as the reference. The one exception lives
 * here because it is these loops: pool_blocked, the max/avg pool on vectors
 * of a block's channels (the end of the file).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen/cg_internal.h"

/* Rows x columns view of a tensor's storage for elementwise kernels: a row
 * is one line of W positions (times the channel block of a blocked layout). */
static int64_t cols_of(const IrTensor *t) { return t->rank == 1 ? t->c : t->w * ir_layout_block(t->layout); }
static int64_t rows_of(const IrTensor *t) { return ir_tensor_size(t) / cols_of(t); }

/* Where (c, h, w) is stored in a sample of t:
 *   NCHW: (c*H + h)*W + w;  blocks of B channels: ((c/B*H + h)*W + w)*B + c%B */
static LLVMValueRef layout_index(Cg *g, const IrTensor *t, LLVMValueRef c, LLVMValueRef h, LLVMValueRef w)
{
    int64_t b = ir_layout_block(t->layout);
    LLVMValueRef blk = cg_div(g, c, cg_i64(g, b)), lane = cg_rem(g, c, cg_i64(g, b));
    LLVMValueRef pos = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, blk, cg_i64(g, t->h)), h), cg_i64(g, t->w)), w);
    return cg_add(g, cg_mul(g, pos, cg_i64(g, b)), lane);
}

/* The element (c, 0, 0) of t at base: a channel's plane, whose element
 * (h, w) is (h*W + w) * ir_layout_block(t->layout) further. */
static LLVMValueRef plane_of(Cg *g, const IrTensor *t, LLVMValueRef base, LLVMValueRef c)
{
    return cg_gep(g, base, layout_index(g, t, c, cg_i64(g, 0), cg_i64(g, 0)));
}

/* Whether a concat in a blocked layout copies whole blocks: every input
 * but the last has a multiple of the block's channels, so no block of the
 * output mixes two inputs. */
static int concat_by_blocks(const IrModule *m, const IrNode *n)
{
    const IrTensor *out = &m->tensors[n->out];
    int64_t b = ir_layout_block(out->layout);
    if (b == 1)
        return 0;
    for (int j = 0; j + 1 < n->nin; j++)
        if (m->tensors[n->in[j]].c % b)
            return 0;
    return 1;
}

/* to[i] = from[i] for i in [0, n): a contiguous run (concat and crop rows) */
static void copy_floats(Cg *g, LLVMValueRef to, LLVMValueRef from, int64_t n)
{
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, n), "i");
    cg_store(g, to, i.iv, cg_load(g, from, i.iv));
    cg_loop_end(g, &i);
}

/* Whether a crop between tensors of the same blocked layout copies whole
 * blocks: it starts at channel 0, so a row of a block of the output is W*B
 * contiguous floats of a row of the same block of the input (padding lanes
 * included, as emit_crop's rows copy them). */
static int crop_by_blocks(const IrModule *m, const IrNode *n)
{
    const IrTensor *in = &m->tensors[n->in[0]], *out = &m->tensors[n->out];
    return ir_layout_block(out->layout) > 1 && out->rank == 3 && in->layout == out->layout && n->crop_channel == 0;
}

/* The blocked side of a reorder between NCHW and blocks of channels. */
static const IrTensor *reorder_blocked(const IrModule *m, const IrNode *n)
{
    const IrTensor *in = &m->tensors[n->in[0]];
    return in->layout == LAYOUT_NCHW ? &m->tensors[n->out] : in;
}

/* A reorder between NCHW and blocks of exactly one vector of channels: it
 * moves vec x vec tiles through registers (emit_reorder_transposed). */
static int reorder_transposes(const Cg *g, const IrNode *n)
{
    const IrTensor *in = &g->m->tensors[n->in[0]], *out = &g->m->tensors[n->out];
    if (in->rank != 3 || out->rank != 3 || (in->layout == LAYOUT_NCHW) == (out->layout == LAYOUT_NCHW))
        return 0;
    return ir_layout_block(reorder_blocked(g->m, n)->layout) == g->vec;
}

/* Items per sample: usually one output row (one channel, one line). */
static int64_t reference_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    switch (n->kind) {
    case IR_CONCAT:
        return concat_by_blocks(g->m, n) ? ir_tensor_size(o) / (o->w * ir_layout_block(o->layout)) : o->c * o->h;
    case IR_CONV: case IR_CONV_T: case IR_MAXPOOL: case IR_AVGPOOL:
    case IR_UPSAMPLE: case IR_BATCHNORM:
    case IR_ADAPTIVE_AVGPOOL: case IR_ADAPTIVE_MAXPOOL: case IR_PAD:
        return o->c * o->h;
    case IR_LINEAR: case IR_GLOBAL_AVGPOOL:
        return o->c;
    case IR_SOFTMAX: case IR_LOG_SOFTMAX:
        return o->h * o->w;
    case IR_NORM:
        return n->segments;
    case IR_SHUFFLE: case IR_PRELU:
        return o->c * o->h;
    case IR_REORDER:
        if (reorder_transposes(g, n)) /* blocks of vec channels x H */
            return ir_tensor_size(reorder_blocked(g->m, n)) / (o->w * g->vec);
        return ir_tensor_size(o) / o->w; /* padded channels x H */
    case IR_CROP: /* blocks x H, or padded channels x H */
        return ir_tensor_size(o) / (o->w * (crop_by_blocks(g->m, n) ? ir_layout_block(o->layout) : 1));
    case IR_ADD: case IR_SUB: case IR_MUL:
        return n->broadcast ? o->c * o->h : rows_of(o);
    case IR_ACT: case IR_COPY: case IR_RESHAPE:
        return rows_of(o);
    case IR_KIND_COUNT:
        break;
    }
    return 0;
}

/* y[row + i] = act(y[row + i] + res[row + i]) for i in [0, len): the
 * node's activation, after a fused residual (a conv's input 1, indexed as
 * its output) when it has one. */
static void epilogue_row(CgKernel *k, LLVMValueRef row, int64_t len)
{
    Cg *g = k->g;
    LLVMValueRef res = cg_residual(k, row);
    if (k->n->act == ACT_NONE && !res)
        return;
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, len), "act");
    LLVMValueRef v = cg_load(g, row, i.iv);
    if (res)
        v = LLVMBuildFAdd(g->b, v, cg_load(g, res, i.iv), "");
    cg_store(g, row, i.iv, cg_act(g, k->n, v));
    cg_loop_end(g, &i);
}

/* Sets y[row + i] = bias (or 0) for i in [0, len). */
static void init_row(CgKernel *k, LLVMValueRef row, LLVMValueRef bias_idx, int64_t len)
{
    Cg *g = k->g;
    LLVMValueRef b = k->n->bias >= 0 ? cg_load(g, k->p[1], bias_idx) : cg_f32(g, 0.0);
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, len), "init");
    cg_store(g, row, i.iv, b);
    cg_loop_end(g, &i);
}

/* The geometry of a conv or transposed conv, [0] = H, [1] = W. */
typedef struct {
    int64_t kh, kw, sh, sw, dh, dw, ph, pw, cin_g, cout_g;
} ConvGeom;

static ConvGeom conv_geom(const CgKernel *k)
{
    const IrGeom *l = &k->n->geom;
    return (ConvGeom){
        .kh = l->kernel[0], .kw = l->kernel[1], .sh = l->stride[0], .sw = l->stride[1],
        .dh = l->dilation[0], .dw = l->dilation[1],
        .ph = l->pad_begin[0], .pw = l->pad_begin[1],
        .cin_g = k->in[0]->c / l->groups, .cout_g = k->out->c / l->groups};
}

/* The j in [lo, hi) with 0 <= j*s + off < lim and j < jmax; false if none. */
static int stride_range(int64_t off, int64_t s, int64_t lim, int64_t jmax, int64_t *lo, int64_t *hi)
{
    *lo = off >= 0 ? 0 : (-off + s - 1) / s;
    *hi = lim - 1 - off < 0 ? 0 : (lim - 1 - off) / s + 1;
    if (*hi > jmax)
        *hi = jmax;
    return *lo < *hi;
}

/* stride_range at run time, for a column offset known only then; the
 * range is empty (lo >= hi) where stride_range returns false. */
static void stride_range_v(Cg *g, LLVMValueRef off, int64_t s, int64_t lim, int64_t jmax, LLVMValueRef *lo,
                           LLVMValueRef *hi)
{
    LLVMValueRef zero = cg_i64(g, 0), t = cg_sub(g, cg_i64(g, lim - 1), off);
    *lo = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, off, zero, ""), zero,
                          cg_div(g, cg_sub(g, cg_i64(g, s - 1), off), cg_i64(g, s)), "");
    LLVMValueRef h = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, t, zero, ""), zero,
                                     cg_add(g, cg_div(g, t, cg_i64(g, s)), cg_i64(g, 1)), "");
    *hi = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, h, cg_i64(g, jmax), ""), cg_i64(g, jmax), h, "");
}

/* Kernels at most this wide have their columns unrolled with constant loop
 * bounds; wider ones loop over columns at run time, so compile time does not
 * grow with the kernel width (conv2d(x, 1, (1, 16384)) took 150 s). */
enum { UNROLL_KW = 16 };

/* One kernel column kw of a conv row, over positions j in [lo, hi) with
 * column offset off (conv2d: iw = ow*S + off, j = ow; transposed: ow = iw*S
 * + off, j = iw). */
typedef struct {
    LLVMValueRef src, row, wrow;
    int64_t sw, dw, pw, lim, jmax;
    int transposed;
} ConvColumns;

static void conv_column(CgKernel *k, const ConvColumns *cc, LLVMValueRef kw, LLVMValueRef off, LLVMValueRef lo,
                        LLVMValueRef hi)
{
    Cg *g = k->g;
    LLVMValueRef wv = cg_load(g, k->p[0], cg_add(g, cc->wrow, kw));
    CgLoop j = cg_loop(g, lo, hi, cc->transposed ? "iw" : "ow");
    LLVMValueRef strided = cg_add(g, cg_mul(g, j.iv, cg_i64(g, cc->sw)), off);
    LLVMValueRef ow = cc->transposed ? strided : j.iv, iw = cc->transposed ? j.iv : strided;
    LLVMValueRef xv = cg_load(g, cc->src, iw);
    cg_store(g, cc->row, ow, cg_fmuladd(g, wv, xv, cg_load(g, cc->row, ow)));
    cg_loop_end(g, &j);
}

/* Every kernel column in order (the summation order of the reference). */
static void conv_columns(CgKernel *k, const ConvColumns *cc, int64_t kw_n)
{
    Cg *g = k->g;
    if (kw_n <= UNROLL_KW) {
        for (int64_t kw = 0; kw < kw_n; kw++) {
            int64_t off = kw * cc->dw - cc->pw, lo, hi;
            if (stride_range(off, cc->sw, cc->lim, cc->jmax, &lo, &hi))
                conv_column(k, cc, cg_i64(g, kw), cg_i64(g, off), cg_i64(g, lo), cg_i64(g, hi));
        }
        return;
    }
    CgLoop kw = cg_loop(g, cg_i64(g, 0), cg_i64(g, kw_n), "kw");
    LLVMValueRef off = cg_sub(g, cg_mul(g, kw.iv, cg_i64(g, cc->dw)), cg_i64(g, cc->pw)), lo, hi;
    stride_range_v(g, off, cc->sw, cc->lim, cc->jmax, &lo, &hi);
    conv_column(k, cc, kw.iv, off, lo, hi);
    cg_loop_end(g, &kw);
}

/*
 * conv2d, one output row (oc, oh):
 *   y[oc,oh,ow] = b[oc] + sum_{ic in group, kh, kw} x[ic, oh*S - P + kh*D, ow*S - P + kw*D] * w[oc, ic, kh, kw]
 * Each kernel column runs over the output positions [lo, hi) whose input
 * column lies inside the image (padding contributes 0); see conv_columns.
 */
static void emit_conv(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *out = k->out;
    ConvGeom c = conv_geom(k);
    int64_t kh_n = c.kh, kw_n = c.kw, sh = c.sh, dh = c.dh, ph = c.ph;
    int64_t cin_g = c.cin_g, cout_g = c.cout_g;

    LLVMValueRef oc = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    init_row(k, row, oc, out->w);
    LLVMValueRef ic0 = cg_mul(g, cg_div(g, oc, cg_i64(g, cout_g)), cg_i64(g, cin_g));

    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, cin_g), "ic");
    LLVMValueRef plane = cg_gep(g, k->x[0], cg_mul(g, cg_add(g, ic0, ic.iv), cg_i64(g, in->h * in->w)));
    LLVMValueRef wbase = cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, cin_g)), ic.iv), cg_i64(g, kh_n * kw_n));
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, kh_n), "kh");
    LLVMValueRef ih = cg_add(g, cg_sub(g, cg_mul(g, oh, cg_i64(g, sh)), cg_i64(g, ph)), cg_mul(g, kh.iv, cg_i64(g, dh)));
    LLVMBasicBlockRef merge;
    cg_if(g, cg_in_range(g, ih, in->h), &merge);
    ConvColumns cc = {.src = cg_gep(g, plane, cg_mul(g, ih, cg_i64(g, in->w))), .row = row,
                      .wrow = cg_add(g, wbase, cg_mul(g, kh.iv, cg_i64(g, kw_n))),
                      .sw = c.sw, .dw = c.dw, .pw = c.pw, .lim = in->w, .jmax = out->w, .transposed = 0};
    conv_columns(k, &cc, kw_n);
    cg_if_end(g, merge);
    cg_loop_end(g, &kh);
    cg_loop_end(g, &ic);
    epilogue_row(k, row, out->w);
}

/*
 * conv_transpose2d, one output row (oc, oh), gathered:
 *   y[oc,oh,ow] = b[oc] + sum x[ic, ih, iw] * w[ic, oc%Cg, kh, kw]
 *   over oh = ih*S - P + kh*D, ow = iw*S - P + kw*D
 * For each kh the input row is ih = (oh + P - kh*D) / S when that divides;
 * for each kw the input columns iw in [lo, hi) land on ow = iw*S + off.
 */
static void emit_conv_t(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *out = k->out;
    ConvGeom c = conv_geom(k);
    int64_t kh_n = c.kh, kw_n = c.kw, sh = c.sh, dh = c.dh, ph = c.ph;
    int64_t cin_g = c.cin_g, cout_g = c.cout_g;

    LLVMValueRef oc = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    init_row(k, row, oc, out->w);
    LLVMValueRef grp = cg_div(g, oc, cg_i64(g, cout_g)), ocg = cg_rem(g, oc, cg_i64(g, cout_g));

    CgLoop icl = cg_loop(g, cg_i64(g, 0), cg_i64(g, cin_g), "ic");
    LLVMValueRef ic = cg_add(g, cg_mul(g, grp, cg_i64(g, cin_g)), icl.iv);
    LLVMValueRef wbase = cg_mul(g, cg_add(g, cg_mul(g, ic, cg_i64(g, cout_g)), ocg), cg_i64(g, kh_n * kw_n));
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, kh_n), "kh");
    LLVMValueRef t = cg_sub(g, cg_add(g, oh, cg_i64(g, ph)), cg_mul(g, kh.iv, cg_i64(g, dh)));
    LLVMValueRef ih = cg_div(g, t, cg_i64(g, sh));
    LLVMValueRef ok = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, t, cg_i64(g, 0), ""),
        LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, cg_rem(g, t, cg_i64(g, sh)), cg_i64(g, 0), ""),
                     cg_in_range(g, ih, in->h), ""), "");
    LLVMBasicBlockRef merge;
    cg_if(g, ok, &merge);
    ConvColumns cc = {.src = cg_gep(g, k->x[0], cg_mul(g, cg_add(g, cg_mul(g, ic, cg_i64(g, in->h)), ih), cg_i64(g, in->w))),
                      .row = row, .wrow = cg_add(g, wbase, cg_mul(g, kh.iv, cg_i64(g, kw_n))),
                      .sw = c.sw, .dw = c.dw, .pw = c.pw, .lim = out->w, .jmax = in->w, .transposed = 1};
    conv_columns(k, &cc, kw_n);
    cg_if_end(g, merge);
    cg_loop_end(g, &kh);
    cg_loop_end(g, &icl);
    epilogue_row(k, row, out->w);
}

/* linear, one output feature o:  y[o] = b[o] + sum_i w[o, i] * x[i] */
static void emit_linear(CgKernel *k)
{
    Cg *g = k->g;
    int64_t nin = ir_tensor_elems(k->in[0]);
    LLVMValueRef acc = cg_var(g, g->f32, k->n->bias >= 0 ? cg_load(g, k->p[1], k->r) : cg_f32(g, 0.0));
    LLVMValueRef wrow = cg_gep(g, k->p[0], cg_mul(g, k->r, cg_i64(g, nin)));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, nin), "i");
    cg_set(g, acc, cg_fmuladd(g, cg_load(g, wrow, i.iv), cg_load(g, k->x[0], i.iv), cg_get(g, acc)));
    cg_loop_end(g, &i);
    cg_store(g, k->y, k->r, cg_act(g, k->n, cg_get(g, acc)));
}

/* The parameters of a normalisation, in the order cg_step_params passes
 * them; NULL where absent (affine=false, no running statistics). */
typedef struct { LLVMValueRef weight, bias, mean, var; } NormParams;

static NormParams norm_params(const CgKernel *k)
{
    NormParams p = {0};
    int i = 0;
    if (k->n->weight >= 0) p.weight = k->p[i++];
    if (k->n->bias >= 0) p.bias = k->p[i++];
    if (k->n->mean >= 0) p.mean = k->p[i++];
    if (k->n->var >= 0) p.var = k->p[i++];
    return p;
}

/* w[i], or `none` if there is no such parameter */
static LLVMValueRef load_or(Cg *g, LLVMValueRef w, LLVMValueRef i, double none)
{
    return w ? cg_load(g, w, i) : cg_f32(g, none);
}

/* batchnorm2d (inference), one row of channel c:
 *   y = (x - mean[c]) * (gamma[c] / sqrt(var[c] + eps)) + beta[c]   (affine=false: gamma 1, beta 0) */
static void emit_batchnorm(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *o = k->out;
    NormParams p = norm_params(k);
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, o->h));
    LLVMValueRef var = LLVMBuildFAdd(g->b, cg_load(g, p.var, c), cg_f32(g, k->n->eps), "");
    LLVMValueRef scale = LLVMBuildFDiv(g->b, load_or(g, p.weight, c, 1.0), cg_call_f32(g, "sqrtf", var), "");
    LLVMValueRef mean = cg_load(g, p.mean, c), beta = load_or(g, p.bias, c, 0.0);
    LLVMValueRef base = cg_mul(g, k->r, cg_i64(g, o->w));
    LLVMValueRef row = cg_gep(g, k->y, base), src = cg_gep(g, k->x[0], base);
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w), "w");
    LLVMValueRef v = LLVMBuildFSub(g->b, cg_load(g, src, i.iv), mean, "");
    v = cg_fmuladd(g, v, scale, beta);
    cg_store(g, row, i.iv, cg_act(g, k->n, v));
    cg_loop_end(g, &i);
}

/*
 * group_norm, layer_norm, instance_norm, one segment r of L contiguous
 * elements (a group of channels, a channel, or normalized_shape):
 *   y = (x - mean) / sqrt(var + eps) * w + b
 * mean and the biased var over the segment, accumulated in double (two
 * passes); with running statistics (instance_norm, track_running_stats)
 * the segment is channel r and mean, var are running_mean[r], running_var[r].
 * w, b index the channel, or the element within the segment (layer_norm).
 */
static void emit_norm(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    NormParams p = norm_params(k);
    int64_t len = ir_tensor_elems(k->out) / n->segments, plane = k->out->h * k->out->w;
    LLVMValueRef base = cg_mul(g, k->r, cg_i64(g, len));
    LLVMValueRef src = cg_gep(g, k->x[0], base), dst = cg_gep(g, k->y, base);
    LLVMValueRef mean, inv;
    if (p.mean) {
        mean = cg_load(g, p.mean, k->r);
        LLVMValueRef var = LLVMBuildFAdd(g->b, cg_load(g, p.var, k->r), cg_f32(g, n->eps), "");
        inv = LLVMBuildFDiv(g->b, cg_f32(g, 1.0), cg_call_f32(g, "sqrtf", var), "");
    } else {
        LLVMValueRef sum = cg_var(g, g->f64, LLVMConstReal(g->f64, 0.0));
        CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, len), "sum");
        cg_set(g, sum, LLVMBuildFAdd(g->b, cg_get(g, sum), LLVMBuildFPExt(g->b, cg_load(g, src, i.iv), g->f64, ""), ""));
        cg_loop_end(g, &i);
        LLVMValueRef m = LLVMBuildFDiv(g->b, cg_get(g, sum), LLVMConstReal(g->f64, (double)len), "");
        LLVMValueRef sq = cg_var(g, g->f64, LLVMConstReal(g->f64, 0.0));
        CgLoop j = cg_loop(g, cg_i64(g, 0), cg_i64(g, len), "var");
        LLVMValueRef d = LLVMBuildFSub(g->b, LLVMBuildFPExt(g->b, cg_load(g, src, j.iv), g->f64, ""), m, "");
        cg_set(g, sq, LLVMBuildFAdd(g->b, cg_get(g, sq), LLVMBuildFMul(g->b, d, d, ""), ""));
        cg_loop_end(g, &j);
        LLVMValueRef var = LLVMBuildFAdd(g->b, LLVMBuildFDiv(g->b, cg_get(g, sq), LLVMConstReal(g->f64, (double)len), ""),
                                         LLVMConstReal(g->f64, n->eps), "");
        LLVMValueRef sd = cg_intrinsic(g, "llvm.sqrt", &var, 1);
        inv = LLVMBuildFPTrunc(g->b, LLVMBuildFDiv(g->b, LLVMConstReal(g->f64, 1.0), sd, ""), g->f32, "");
        mean = LLVMBuildFPTrunc(g->b, m, g->f32, "");
    }
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, len), "y");
    LLVMValueRef a = n->affine_per_element ? i.iv : cg_div(g, cg_add(g, base, i.iv), cg_i64(g, plane));
    LLVMValueRef v = LLVMBuildFMul(g->b, LLVMBuildFSub(g->b, cg_load(g, src, i.iv), mean, ""), inv, "");
    v = cg_fmuladd(g, v, load_or(g, p.weight, a, 1.0), load_or(g, p.bias, a, 0.0));
    cg_store(g, dst, i.iv, cg_act(g, n, v));
    cg_loop_end(g, &i);
}

/*
 * pixel_shuffle (r), pixel_unshuffle (r), channel_shuffle (groups), one
 * output row (c, oh), gathered:
 *   pixel_shuffle:   y[c, oh, ow] = x[c*r*r + (oh%r)*r + ow%r, oh/r, ow/r]
 *   pixel_unshuffle: y[c, oh, ow] = x[c/(r*r), oh*r + (c/r)%r, ow*r + c%r]
 *   channel_shuffle: y[c, oh, ow] = x[(c%groups)*(C/groups) + c/groups, oh, ow]
 */
static void emit_shuffle(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *out = k->out;
    int64_t r = k->n->factor;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef R = cg_i64(g, r), ic = c, ih = oh, iw_mul = cg_i64(g, 1), iw_off = cg_i64(g, 0);
    switch (k->n->shuffle) {
    case SHUFFLE_PIXEL:
        ic = cg_add(g, cg_mul(g, c, cg_i64(g, r * r)), cg_mul(g, cg_rem(g, oh, R), R));
        ih = cg_div(g, oh, R);
        break;
    case SHUFFLE_PIXEL_INVERSE:
        ic = cg_div(g, c, cg_i64(g, r * r));
        ih = cg_add(g, cg_mul(g, oh, R), cg_rem(g, cg_div(g, c, R), R));
        iw_mul = R;
        iw_off = cg_rem(g, c, R);
        break;
    case SHUFFLE_CHANNELS:
        ic = cg_add(g, cg_mul(g, cg_rem(g, c, R), cg_i64(g, in->c / r)), cg_div(g, c, R));
        break;
    }
    LLVMValueRef line = cg_mul(g, ih, cg_i64(g, in->w));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    CgLoop ow = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "ow");
    LLVMValueRef ch = ic, iw = cg_add(g, cg_mul(g, ow.iv, iw_mul), iw_off);
    if (k->n->shuffle == SHUFFLE_PIXEL) { /* the channel also moves with ow % r */
        ch = cg_add(g, ic, cg_rem(g, ow.iv, R));
        iw = cg_div(g, ow.iv, R);
    }
    LLVMValueRef idx = cg_add(g, cg_add(g, cg_mul(g, ch, cg_i64(g, in->h * in->w)), line), iw);
    cg_store(g, row, ow.iv, cg_load(g, k->x[0], idx));
    cg_loop_end(g, &ow);
}

/* The builder of a binary float instruction (LLVMBuildFAdd, LLVMBuildFMul). */
typedef LLVMValueRef (*BinaryOp)(LLVMBuilderRef, LLVMValueRef, LLVMValueRef, const char *);

/* activation, copy, add: one row, y = act(x0 op x1 op ...) (op unused with
 * one input) */
static void emit_elementwise(CgKernel *k, BinaryOp op)
{
    Cg *g = k->g;
    int64_t cols = cols_of(k->out);
    LLVMValueRef base = cg_mul(g, k->r, cg_i64(g, cols));
    LLVMValueRef row = cg_gep(g, k->y, base);
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, cols), "i");
    LLVMValueRef v = cg_load(g, cg_gep(g, k->x[0], base), i.iv);
    for (int j = 1; j < k->n->nin; j++)
        v = op(g->b, v, cg_load(g, cg_gep(g, k->x[j], base), i.iv), "");
    cg_store(g, row, i.iv, cg_act(g, k->n, v));
    cg_loop_end(g, &i);
}

/*
 * add, sub, mul with broadcasting, one output row (c, h) ([F]: one feature,
 * as [F, 1, 1]):
 *   y[c, h, w] = act(a[c*sa0 + h*sa1 + w*sa2] op b[c*sb0 + h*sb1 + w*sb2])
 * with stride 0 along each dimension where an operand has extent 1.
 */
static void emit_broadcast(CgKernel *k, BinaryOp op)
{
    Cg *g = k->g;
    const IrTensor *o = k->out;
    int64_t rows_per_c = o->h, cols = o->w;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, rows_per_c)), h = cg_rem(g, k->r, cg_i64(g, rows_per_c));
    LLVMValueRef src[2];
    for (int j = 0; j < 2; j++) {
        const int64_t *st = k->n->bstride[j];
        src[j] = cg_gep(g, k->x[j], cg_add(g, cg_mul(g, c, cg_i64(g, st[0])), cg_mul(g, h, cg_i64(g, st[1]))));
    }
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, cols)));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, cols), "i");
    LLVMValueRef v[2];
    for (int j = 0; j < 2; j++)
        v[j] = cg_load(g, src[j], k->n->bstride[j][2] ? i.iv : cg_i64(g, 0));
    cg_store(g, row, i.iv, cg_act(g, k->n, op(g->b, v[0], v[1], "")));
    cg_loop_end(g, &i);
}

static void emit_binary(CgKernel *k, BinaryOp op)
{
    if (k->n->broadcast)
        emit_broadcast(k, op);
    else
        emit_elementwise(k, op);
}

/* prelu, one row (c, h) ([F]: feature c): y = x > 0 ? x : w[c or 0] * x */
static void emit_prelu(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *o = k->out;
    int64_t cols = o->rank == 1 ? 1 : o->w;
    LLVMValueRef c = o->rank == 1 ? k->r : cg_div(g, k->r, cg_i64(g, o->h));
    int64_t nw = k->n->weight >= 0 ? ir_param_size(&g->m->params[k->n->weight]) : 1;
    LLVMValueRef w = cg_load(g, k->p[0], nw == 1 ? cg_i64(g, 0) : c);
    LLVMValueRef base = cg_mul(g, k->r, cg_i64(g, cols));
    LLVMValueRef row = cg_gep(g, k->y, base), src = cg_gep(g, k->x[0], base);
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, cols), "w");
    LLVMValueRef x = cg_load(g, src, i.iv);
    LLVMValueRef pos = LLVMBuildFCmp(g->b, LLVMRealOGT, x, cg_f32(g, 0.0), "");
    cg_store(g, row, i.iv, LLVMBuildSelect(g->b, pos, x, LLVMBuildFMul(g->b, w, x, ""), ""));
    cg_loop_end(g, &i);
}

/* The pooling window along one axis, as PyTorch computes it:
 * start = o*S - P, end = min(start + K, in + P) (avg: before clamping). */
typedef struct { LLVMValueRef start, end, lo, hi; } Window;

static LLVMValueRef smin(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, a, b, ""), a, b, "");
}

static LLVMValueRef smax(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, a, b, ""), a, b, "");
}

static Window window(Cg *g, LLVMValueRef o, int64_t kn, int64_t s, int64_t p, int64_t d, int64_t in)
{
    Window w;
    w.start = cg_sub(g, cg_mul(g, o, cg_i64(g, s)), cg_i64(g, p));
    w.end = smin(g, cg_add(g, w.start, cg_i64(g, (kn - 1) * d + 1)), cg_i64(g, in + p));
    w.lo = smax(g, w.start, cg_i64(g, 0));
    w.hi = smin(g, w.end, cg_i64(g, in));
    return w;
}

/* The taps t of a dilated window whose input index start + t*d lies in
 * [w.lo, w.hi): t in [ceil((lo - start) / d), ceil((hi - start) / d)), an
 * empty range when hi <= lo. Loops over these, never over the whole kernel,
 * keep a window far larger than the input cheap. */
static void window_taps(Cg *g, Window w, int64_t d, LLVMValueRef *t_lo, LLVMValueRef *t_hi)
{
    LLVMValueRef dm1 = cg_i64(g, d - 1), dd = cg_i64(g, d);
    *t_lo = cg_div(g, cg_add(g, cg_sub(g, w.lo, w.start), dm1), dd);
    LLVMValueRef span = smax(g, cg_sub(g, w.hi, w.start), cg_i64(g, 0));
    *t_hi = smax(g, cg_div(g, cg_add(g, span, dm1), dd), *t_lo);
}

/* Pool elements: et is f32 (one channel), or a vector of a block's
 * channels (pool_blocked). */
static LLVMValueRef pool_load(Cg *g, LLVMTypeRef et, LLVMValueRef base, LLVMValueRef idx)
{
    return et == g->f32 ? cg_load(g, base, idx) : LLVMBuildLoad2(g->b, et, cg_gep(g, base, idx), "");
}

static void pool_store(Cg *g, LLVMTypeRef et, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v)
{
    if (et == g->f32)
        cg_store(g, base, idx, v);
    else
        LLVMBuildStore(g->b, v, cg_gep(g, base, idx));
}

/* max pool: y = max over the window's taps inside the input (padding
 * ignored, NaN propagates) */
static void emit_maxpool_body(CgKernel *k, LLVMTypeRef et, LLVMValueRef plane, Window wh, Window ww, LLVMValueRef row,
                              LLVMValueRef ow)
{
    Cg *g = k->g;
    const IrGeom *l = &k->n->geom;
    int64_t dh = l->dilation[0], dw = l->dilation[1];
    LLVMValueRef acc = cg_var(g, et, cg_fconst(g, et, -INFINITY));
    LLVMValueRef h_lo, h_hi, w_lo, w_hi;
    window_taps(g, wh, dh, &h_lo, &h_hi);
    window_taps(g, ww, dw, &w_lo, &w_hi);
    int64_t bi = ir_layout_block(k->in[0]->layout), bo = ir_layout_block(k->out->layout);
    CgLoop kh = cg_loop(g, h_lo, h_hi, "kh");
    LLVMValueRef ih = cg_add(g, wh.start, cg_mul(g, kh.iv, cg_i64(g, dh)));
    LLVMValueRef src = cg_gep(g, plane, cg_mul(g, ih, cg_i64(g, k->in[0]->w * bi)));
    CgLoop kw = cg_loop(g, w_lo, w_hi, "kw");
    LLVMValueRef iw = cg_add(g, ww.start, cg_mul(g, kw.iv, cg_i64(g, dw)));
    cg_set(g, acc, cg_fmax(g, cg_get(g, acc), pool_load(g, et, src, cg_mul(g, iw, cg_i64(g, bi)))));
    cg_loop_end(g, &kw);
    cg_loop_end(g, &kh);
    pool_store(g, et, row, cg_mul(g, ow, cg_i64(g, bo)), cg_get(g, acc));
}

/* avg pool: y = sum over the clamped window / divisor, where the divisor
 * counts padding (count_include_pad) or only the clamped window. */
static void emit_avgpool_body(CgKernel *k, LLVMTypeRef et, LLVMValueRef plane, Window wh, Window ww, LLVMValueRef row,
                              LLVMValueRef ow)
{
    Cg *g = k->g;
    LLVMValueRef acc = cg_var(g, et, cg_fconst(g, et, 0.0));
    int64_t bi = ir_layout_block(k->in[0]->layout), bo = ir_layout_block(k->out->layout);
    CgLoop ih = cg_loop(g, wh.lo, wh.hi, "ih");
    LLVMValueRef src = cg_gep(g, plane, cg_mul(g, ih.iv, cg_i64(g, k->in[0]->w * bi)));
    CgLoop iw = cg_loop(g, ww.lo, ww.hi, "iw");
    cg_set(g, acc, LLVMBuildFAdd(g->b, cg_get(g, acc), pool_load(g, et, src, cg_mul(g, iw.iv, cg_i64(g, bi))), ""));
    cg_loop_end(g, &iw);
    cg_loop_end(g, &ih);
    LLVMValueRef cnt = k->n->count_include_pad
        ? cg_mul(g, cg_sub(g, wh.end, wh.start), cg_sub(g, ww.end, ww.start))
        : cg_mul(g, cg_sub(g, wh.hi, wh.lo), cg_sub(g, ww.hi, ww.lo));
    LLVMValueRef empty = LLVMBuildICmp(g->b, LLVMIntSLE, cnt, cg_i64(g, 0), "");
    LLVMValueRef div = LLVMBuildSIToFP(g->b, smax(g, cnt, cg_i64(g, 1)), g->f32, "");
    LLVMValueRef v = LLVMBuildFDiv(g->b, cg_get(g, acc), et == g->f32 ? div : cg_splat(g, div, et), "");
    pool_store(g, et, row, cg_mul(g, ow, cg_i64(g, bo)), LLVMBuildSelect(g->b, empty, cg_fconst(g, et, 0.0), v, ""));
}

/* max/avg pool, one output row (c, oh), in any layout (input and output
 * share it); with et a vector (pool_blocked), item r is the row (block,
 * oh) and c the block's first channel */
static void emit_pool(CgKernel *k, LLVMTypeRef et)
{
    Cg *g = k->g;
    const IrGeom *l = &k->n->geom;
    const IrTensor *in = k->in[0], *out = k->out;
    int64_t dh = l->dilation[0], dw = l->dilation[1], lanes = et == g->f32 ? 1 : g->vec;
    LLVMValueRef c = cg_mul(g, cg_div(g, k->r, cg_i64(g, out->h)), cg_i64(g, lanes));
    LLVMValueRef oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, layout_index(g, out, c, oh, cg_i64(g, 0)));
    LLVMValueRef plane = plane_of(g, in, k->x[0], c);
    Window wh = window(g, oh, l->kernel[0], l->stride[0], l->pad_begin[0], dh, in->h);
    CgLoop ow = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "ow");
    Window ww = window(g, ow.iv, l->kernel[1], l->stride[1], l->pad_begin[1], dw, in->w);
    if (k->n->kind == IR_MAXPOOL)
        emit_maxpool_body(k, et, plane, wh, ww, row, ow.iv);
    else
        emit_avgpool_body(k, et, plane, wh, ww, row, ow.iv);
    cg_loop_end(g, &ow);
}

/* PyTorch's adaptive window of output o: [floor(o*in/out), ceil((o+1)*in/out)),
 * all inside the input (no padding). */
static Window adaptive_window(Cg *g, LLVMValueRef o, int64_t in, int64_t out)
{
    Window w;
    w.start = w.lo = cg_div(g, cg_mul(g, o, cg_i64(g, in)), cg_i64(g, out));
    w.end = w.hi = cg_div(g, cg_add(g, cg_mul(g, cg_add(g, o, cg_i64(g, 1)), cg_i64(g, in)), cg_i64(g, out - 1)),
                          cg_i64(g, out));
    return w;
}

/* adaptive max/avg pool, one output row (c, oh): the max (NaN propagates) or
 * the mean over the adaptive window (the divisor is its size) */
static void emit_adaptive_pool(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *out = k->out;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    LLVMValueRef plane = cg_gep(g, k->x[0], cg_mul(g, c, cg_i64(g, in->h * in->w)));
    Window wh = adaptive_window(g, oh, in->h, out->h);
    CgLoop ow = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "ow");
    Window ww = adaptive_window(g, ow.iv, in->w, out->w);
    if (k->n->kind == IR_ADAPTIVE_MAXPOOL)
        emit_maxpool_body(k, g->f32, plane, wh, ww, row, ow.iv);
    else
        emit_avgpool_body(k, g->f32, plane, wh, ww, row, ow.iv);
    cg_loop_end(g, &ow);
}

/* global average pool, one channel: y[c] = sum(x[c]) / (H*W). The plane
 * is summed a vector at a time into vec partial sums (lane i holds the
 * elements i mod vec), which cg_hsum adds by a fixed tree, then the tail
 * element by element: one dependent add per vector, not per element. */
static void emit_global_avgpool(CgKernel *k)
{
    Cg *g = k->g;
    int64_t hw = k->in[0]->h * k->in[0]->w, nv = hw / g->vec;
    LLVMValueRef plane = cg_gep(g, k->x[0], cg_mul(g, k->r, cg_i64(g, hw)));
    LLVMValueRef vacc = cg_var(g, g->vf, LLVMConstNull(g->vf));
    CgLoop v = cg_loop(g, cg_i64(g, 0), cg_i64(g, nv), "v");
    LLVMValueRef x = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, plane, cg_mul(g, v.iv, cg_i64(g, g->vec))), "");
    LLVMSetAlignment(x, 4);
    cg_set(g, vacc, LLVMBuildFAdd(g->b, cg_get(g, vacc), x, ""));
    cg_loop_end(g, &v);
    LLVMValueRef acc = cg_var(g, g->f32, cg_hsum(g, cg_get(g, vacc)));
    CgLoop i = cg_loop(g, cg_i64(g, nv * g->vec), cg_i64(g, hw), "i");
    cg_set(g, acc, LLVMBuildFAdd(g->b, cg_get(g, acc), cg_load(g, plane, i.iv), ""));
    cg_loop_end(g, &i);
    cg_store(g, k->y, k->r, LLVMBuildFDiv(g->b, cg_get(g, acc), cg_f32(g, (double)hw), ""));
}

/* PyTorch's source index for nearest: floor(dst * float(1/scale)), clamped.
 * PyTorch 1.13 has two CPU kernels: the channels-last one (taken for C == 1,
 * where an NCHW tensor is also channels-last contiguous) copies when
 * out == in and halves when out == 2*in, whatever the scale; the NCHW one
 * (C > 1) always uses the formula. `shortcuts` says which one to match. */
static int64_t nearest_src(int64_t dst, int64_t in, int64_t out, double scale, int shortcuts)
{
    if (shortcuts && out == in)
        return dst;
    if (shortcuts && out == 2 * in)
        return dst >> 1;
    float s = scale > 0 ? (float)(1.0 / scale) : (float)in / (float)out;
    int64_t i = (int64_t)floorf((float)dst * s);
    return i < in - 1 ? i : in - 1;
}

enum { MAX_TAPS = 4 };

/* PyTorch's nearest-exact source index: floor((dst + 0.5) * float(1/scale)), clamped. */
static int64_t nearest_exact_src(int64_t dst, int64_t in, int64_t out, double scale)
{
    float s = scale > 0 ? (float)(1.0 / scale) : (float)in / (float)out;
    int64_t i = (int64_t)floorf(((float)dst + 0.5f) * s);
    return i < in - 1 ? i : in - 1;
}

/* PyTorch's area_pixel_compute_scale: (in-1)/(out-1) with align_corners,
 * else float(1/scale_factor), or in/out when the size was given. */
static float interp_scale(int64_t in, int64_t out, double scale, int align)
{
    if (align)
        return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    return scale > 0 ? (float)(1.0 / scale) : (float)in / (float)out;
}

/* PyTorch's linear interpolation taps, in float. Without align_corners,
 * where out == in PyTorch copies along the axis, whatever the scale. */
static void linear_taps(int64_t dst, int64_t in, int64_t out, double scale, int align, int64_t *i, float *l)
{
    if (out == in) {
        i[0] = i[1] = dst;
        l[0] = 1, l[1] = 0;
        return;
    }
    float s = interp_scale(in, out, scale, align);
    float src = align ? s * (float)dst : s * ((float)dst + 0.5f) - 0.5f;
    if (src < 0)
        src = 0;
    i[0] = (int64_t)src;
    if (i[0] > in - 1)
        i[0] = in - 1;
    i[1] = i[0] + (i[0] < in - 1 ? 1 : 0);
    l[1] = src - (float)i[0];
    l[0] = 1.0f - l[1];
}

/* PyTorch's cubic convolution (A = -0.75), taps at floor(src) - 1 .. + 2,
 * indices clamped to the border; src is not clamped (no copy special case). */
static void cubic_taps(int64_t dst, int64_t in, int64_t out, double scale, int align, int64_t *i, float *l)
{
    const float A = -0.75f;
    float s = interp_scale(in, out, scale, align);
    float src = align ? s * (float)dst : s * ((float)dst + 0.5f) - 0.5f;
    float f = floorf(src), t = src - f;
    float x1 = t + 1.0f, x2 = 1.0f - t, x3 = 2.0f - t;
    l[0] = ((A * x1 - 5.0f * A) * x1 + 8.0f * A) * x1 - 4.0f * A;
    l[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
    l[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
    l[3] = ((A * x3 - 5.0f * A) * x3 + 8.0f * A) * x3 - 4.0f * A;
    for (int k = 0; k < 4; k++) {
        int64_t j = (int64_t)f - 1 + k;
        i[k] = j < 0 ? 0 : j > in - 1 ? in - 1 : j;
    }
}

static int interp_taps(IrInterp m)
{
    switch (m) {
    case INTERP_NEAREST: case INTERP_NEAREST_EXACT: return 1;
    case INTERP_BILINEAR: return 2;
    case INTERP_BICUBIC: return 4;
    }
    return 1;
}

typedef struct { int n; LLVMValueRef i[MAX_TAPS], l[MAX_TAPS]; } Taps;

/* Tables of taps (source index, weight) for every output index along one
 * axis; `shortcuts` as in nearest_src. */
static Taps taps_table(Cg *g, const IrNode *n, int64_t in, int64_t out, double scale, int shortcuts)
{
    Taps t = {.n = interp_taps(n->interp)};
    int64_t *idx = cg_xcalloc((size_t)(out * t.n), sizeof *idx);
    float *w = cg_xcalloc((size_t)(out * t.n), sizeof *w);
    for (int64_t d = 0; d < out; d++) {
        int64_t i[MAX_TAPS] = {0};
        float l[MAX_TAPS] = {1};
        switch (n->interp) {
        case INTERP_NEAREST: i[0] = nearest_src(d, in, out, scale, shortcuts); break;
        case INTERP_NEAREST_EXACT: i[0] = nearest_exact_src(d, in, out, scale); break;
        case INTERP_BILINEAR: linear_taps(d, in, out, scale, n->align_corners, i, l); break;
        case INTERP_BICUBIC: cubic_taps(d, in, out, scale, n->align_corners, i, l); break;
        }
        for (int k = 0; k < t.n; k++) {
            idx[k * out + d] = i[k];
            w[k * out + d] = l[k];
        }
    }
    for (int k = 0; k < t.n; k++) {
        t.i[k] = cg_table_i64(g, idx + k * out, out, "taps.i");
        t.l[k] = cg_table_f32(g, w + k * out, out, "taps.l");
    }
    free(idx), free(w);
    return t;
}

static LLVMValueRef load_i64(Cg *g, LLVMValueRef table, LLVMValueRef idx)
{
    LLVMValueRef p = LLVMBuildGEP2(g->b, g->i64, table, &idx, 1, "");
    return LLVMBuildLoad2(g->b, g->i64, p, "");
}

/* upsample, one output row (c, oh), with n taps per axis (1 nearest, 2
 * bilinear, 4 bicubic), rows first as PyTorch:
 *   y = sum_a lh[a] * (sum_b lw[b] * x[c, ih[a], iw[b]]); nearest: y = x[c, ih[0], iw[0]] */
static void emit_upsample(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    const IrTensor *in = k->in[0], *out = k->out;
    Taps th = taps_table(g, n, in->h, out->h, n->scale[0], in->c == 1);
    Taps tw = taps_table(g, n, in->w, out->w, n->scale[1], in->c == 1);
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    LLVMValueRef plane = cg_gep(g, k->x[0], cg_mul(g, c, cg_i64(g, in->h * in->w)));
    LLVMValueRef r[MAX_TAPS], lh[MAX_TAPS], iw[MAX_TAPS], lw[MAX_TAPS];
    for (int a = 0; a < th.n; a++) {
        r[a] = cg_gep(g, plane, cg_mul(g, load_i64(g, th.i[a], oh), cg_i64(g, in->w)));
        lh[a] = cg_load(g, th.l[a], oh);
    }
    CgLoop ow = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "ow");
    for (int b = 0; b < tw.n; b++) {
        iw[b] = load_i64(g, tw.i[b], ow.iv);
        lw[b] = cg_load(g, tw.l[b], ow.iv);
    }
    LLVMValueRef v = NULL;
    if (th.n == 1) {
        v = cg_load(g, r[0], iw[0]);
    } else {
        for (int a = 0; a < th.n; a++) {
            LLVMValueRef s = NULL;
            for (int b = 0; b < tw.n; b++) {
                LLVMValueRef p = LLVMBuildFMul(g->b, lw[b], cg_load(g, r[a], iw[b]), "");
                s = s ? LLVMBuildFAdd(g->b, s, p, "") : p;
            }
            LLVMValueRef p = LLVMBuildFMul(g->b, lh[a], s, "");
            v = v ? LLVMBuildFAdd(g->b, v, p, "") : p;
        }
    }
    cg_store(g, row, ow.iv, v);
    cg_loop_end(g, &ow);
}

/* The input index that output position o of a pad reads, as PyTorch 1.13:
 * with p = o - begin, reflect mirrors without repeating the edge, replicate
 * clamps; circular first crops the negative pads and then wraps around the
 * cropped extent n (at most once: the front end checks pad <= n). For
 * constant, *inside says whether p is in the input (the index is then
 * clamped so that the load stays in bounds). */
static LLVMValueRef pad_src(Cg *g, PadMode mode, LLVMValueRef o, int64_t begin, int64_t end, int64_t in,
                            LLVMValueRef *inside)
{
    LLVMValueRef p = cg_sub(g, o, cg_i64(g, begin));
    LLVMValueRef zero = cg_i64(g, 0), last = cg_i64(g, in - 1);
    LLVMValueRef below = LLVMBuildICmp(g->b, LLVMIntSLT, p, zero, "");
    LLVMValueRef above = LLVMBuildICmp(g->b, LLVMIntSGT, p, last, "");
    *inside = LLVMBuildNot(g->b, LLVMBuildOr(g->b, below, above, ""), "");
    switch (mode) {
    case PAD_REFLECT:
        return LLVMBuildSelect(g->b, below, cg_sub(g, zero, p),
                               LLVMBuildSelect(g->b, above, cg_sub(g, cg_i64(g, 2 * (in - 1)), p), p, ""), "");
    case PAD_CIRCULAR: {
        int64_t crop_b = begin < 0 ? -begin : 0, crop_e = end < 0 ? -end : 0, n = in - crop_b - crop_e;
        LLVMValueRef q = cg_sub(g, o, cg_i64(g, begin > 0 ? begin : 0));
        LLVMValueRef lo = LLVMBuildICmp(g->b, LLVMIntSLT, q, zero, "");
        LLVMValueRef hi = LLVMBuildICmp(g->b, LLVMIntSGE, q, cg_i64(g, n), "");
        q = LLVMBuildSelect(g->b, lo, cg_add(g, q, cg_i64(g, n)),
                            LLVMBuildSelect(g->b, hi, cg_sub(g, q, cg_i64(g, n)), q, ""), "");
        return cg_add(g, q, cg_i64(g, crop_b));
    }
    case PAD_CONSTANT:
    case PAD_REPLICATE:
        break;
    }
    return smin(g, smax(g, p, zero), last);
}

/* pad, one output row (c, oh): y[c, oh, ow] = x[c, src_h(oh - top), src_w(ow - left)],
 * or value where mode=constant and the position lies outside the input */
static void emit_pad(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    const IrTensor *in = k->in[0], *out = k->out;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    LLVMValueRef plane = cg_gep(g, k->x[0], cg_mul(g, c, cg_i64(g, in->h * in->w)));
    LLVMValueRef in_h, in_w;
    const IrGeom *geo = &n->geom;
    LLVMValueRef ih = pad_src(g, n->pad_mode, oh, geo->pad_begin[0], geo->pad_end[0], in->h, &in_h);
    LLVMValueRef src = cg_gep(g, plane, cg_mul(g, ih, cg_i64(g, in->w)));
    CgLoop ow = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "ow");
    LLVMValueRef iw = pad_src(g, n->pad_mode, ow.iv, geo->pad_begin[1], geo->pad_end[1], in->w, &in_w);
    LLVMValueRef v = cg_load(g, src, iw);
    if (n->pad_mode == PAD_CONSTANT)
        v = LLVMBuildSelect(g->b, LLVMBuildAnd(g->b, in_h, in_w, ""), v, cg_f32(g, n->pad_value), "");
    cg_store(g, row, ow.iv, v);
    cg_loop_end(g, &ow);
}

/* concat along H, one output row (c, oh): the row of the input whose range
 * of rows holds oh; along W, one output row (c, oh): the rows (c, oh) of
 * every input, one after the other. */
static void emit_concat_hw(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *out = k->out;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w)));
    if (k->n->axis == 2) {
        int64_t w0 = 0;
        for (int j = 0; j < k->n->nin; j++) {
            int64_t wj = k->in[j]->w;
            LLVMValueRef from = cg_gep(g, k->x[j], cg_mul(g, k->r, cg_i64(g, wj)));
            LLVMValueRef to = cg_gep(g, row, cg_i64(g, w0));
            copy_floats(g, to, from, wj);
            w0 += wj;
        }
        return;
    }
    LLVMValueRef src = k->x[0], first = cg_i64(g, 0);
    int64_t h0 = 0;
    for (int j = 0; j < k->n->nin; j++) {
        int64_t hj = k->in[j]->h;
        LLVMValueRef here = LLVMBuildICmp(g->b, LLVMIntSGE, oh, cg_i64(g, h0), "");
        LLVMValueRef r = cg_add(g, cg_mul(g, c, cg_i64(g, hj)), cg_sub(g, oh, cg_i64(g, h0)));
        src = LLVMBuildSelect(g->b, here, k->x[j], src, "");
        first = LLVMBuildSelect(g->b, here, r, first, "");
        h0 += hj;
    }
    LLVMValueRef from = cg_gep(g, src, cg_mul(g, first, cg_i64(g, out->w)));
    copy_floats(g, row, from, out->w);
}

/* concat along channels, one output row (c, h): copied from the input whose
 * channel range holds c (an input's channels: its elements / (H*W), so a
 * flattened alias counts C*H*W features). */
static void emit_concat(CgKernel *k)
{
    Cg *g = k->g;
    if (k->n->axis != 0) {
        emit_concat_hw(k);
        return;
    }
    const IrTensor *out = k->out;
    int64_t rows_per_c = out->h, cols = out->w; /* 1, 1 for [F] */
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, rows_per_c));
    LLVMValueRef src = k->x[0], first = cg_i64(g, 0);
    int64_t c0 = 0;
    for (int j = 0; j < k->n->nin; j++) {
        LLVMValueRef here = LLVMBuildICmp(g->b, LLVMIntSGE, c, cg_i64(g, c0), "");
        LLVMValueRef off = cg_sub(g, k->r, cg_i64(g, c0 * rows_per_c));
        src = LLVMBuildSelect(g->b, here, k->x[j], src, "");
        first = LLVMBuildSelect(g->b, here, off, first, "");
        c0 += ir_channels_as(k->in[j], out->h, out->w);
    }
    LLVMValueRef from = cg_gep(g, src, cg_mul(g, first, cg_i64(g, cols)));
    LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, cols)));
    copy_floats(g, row, from, cols);
}

/* concat of [C, H, W] tensors in a blocked layout (all inputs in the
 * output's). By blocks: one item per output row (block, h) of W*B
 * contiguous floats, copied from the input whose blocks hold it (padding
 * lanes included). Else one output row (c, h): element w of it is B floats
 * after element w - 1 on both sides. */
static void emit_concat_blocked(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *out = k->out;
    int64_t b = ir_layout_block(out->layout);
    if (concat_by_blocks(g->m, k->n)) {
        LLVMValueRef blk = cg_div(g, k->r, cg_i64(g, out->h));
        LLVMValueRef from = k->x[0], first = k->r;
        int64_t b0 = 0;
        for (int j = 0; j < k->n->nin; j++) {
            LLVMValueRef here = LLVMBuildICmp(g->b, LLVMIntSGE, blk, cg_i64(g, b0), "");
            from = LLVMBuildSelect(g->b, here, k->x[j], from, "");
            first = LLVMBuildSelect(g->b, here, cg_sub(g, k->r, cg_i64(g, b0 * out->h)), first, "");
            b0 += (k->in[j]->c + b - 1) / b;
        }
        LLVMValueRef src = cg_gep(g, from, cg_mul(g, first, cg_i64(g, out->w * b)));
        LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w * b)));
        copy_floats(g, row, src, out->w * b);
        return;
    }
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), h = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef from = k->x[0];
    int64_t c0 = 0;
    for (int j = 0; j < k->n->nin; j++) {
        LLVMValueRef here = LLVMBuildICmp(g->b, LLVMIntSGE, c, cg_i64(g, c0), "");
        LLVMValueRef local = smax(g, cg_sub(g, c, cg_i64(g, c0)), cg_i64(g, 0));
        from = LLVMBuildSelect(g->b, here, cg_gep(g, k->x[j], layout_index(g, k->in[j], local, h, cg_i64(g, 0))), from, "");
        c0 += k->in[j]->c;
    }
    LLVMValueRef row = cg_gep(g, k->y, layout_index(g, out, c, h, cg_i64(g, 0)));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "i");
    LLVMValueRef at = cg_mul(g, i.iv, cg_i64(g, b));
    cg_store(g, row, at, cg_load(g, from, at));
    cg_loop_end(g, &i);
}

/* crop (and slice), one output row (c, oh) of the padded channels, in any layout:
 *   y[c, oh, ow] = x[c + first, oh + top, ow + left]
 * A channel padding lane (c >= C) stays 0 when the slice moves channels. An
 * [F] output reads features c + first of the input's NCHW elements (the
 * input may be a flattened alias shaped [C, H, W]). By blocks
 * (crop_by_blocks), one row (block, oh) of W*B contiguous floats: UNet-572's
 * skip crops copied element by element, a cache line per 16 items, took 9%
 * of its run. */
static void emit_crop(CgKernel *k)
{
    Cg *g = k->g;
    const IrTensor *in = k->in[0], *out = k->out;
    const int64_t *crop = k->n->crop;
    int64_t first = k->n->crop_channel;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), oh = cg_rem(g, k->r, cg_i64(g, out->h));
    if (crop_by_blocks(g->m, k->n)) {
        int64_t b = ir_layout_block(out->layout);
        LLVMValueRef ic = cg_mul(g, c, cg_i64(g, b)), ih = cg_add(g, oh, cg_i64(g, crop[0]));
        LLVMValueRef src = cg_gep(g, k->x[0], layout_index(g, in, ic, ih, cg_i64(g, crop[1])));
        LLVMValueRef row = cg_gep(g, k->y, cg_mul(g, k->r, cg_i64(g, out->w * b)));
        copy_floats(g, row, src, out->w * b);
        return;
    }
    if (out->rank == 1) {
        cg_store(g, k->y, k->r, cg_load(g, k->x[0], cg_add(g, k->r, cg_i64(g, first))));
        return;
    }
    LLVMValueRef real = LLVMBuildICmp(g->b, LLVMIntSLT, c, cg_i64(g, out->c), "");
    LLVMValueRef ic = first ? LLVMBuildSelect(g->b, real, cg_add(g, c, cg_i64(g, first)), cg_i64(g, 0), "") : c;
    LLVMValueRef ih = cg_add(g, oh, cg_i64(g, crop[0]));
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "i");
    LLVMValueRef v = cg_load(g, k->x[0], layout_index(g, in, ic, ih, cg_add(g, i.iv, cg_i64(g, crop[1]))));
    if (first)
        v = LLVMBuildSelect(g->b, real, v, cg_f32(g, 0.0), "");
    cg_store(g, k->y, layout_index(g, out, c, oh, i.iv), v);
    cg_loop_end(g, &i);
}

/* softmax over channels at one position p:
 *   y[c, p] = exp(x[c, p] - m) / sum_c' exp(x[c', p] - m),  m = max_c x[c, p]
 * log_softmax:
 *   y[c, p] = x[c, p] - m - log(sum_c' exp(x[c', p] - m)) */
static void emit_softmax(CgKernel *k, int log)
{
    Cg *g = k->g;
    int64_t channels = k->out->c, stride = k->out->rank == 1 ? 1 : k->out->h * k->out->w;
    LLVMValueRef xs = cg_gep(g, k->x[0], k->r), ys = cg_gep(g, k->y, k->r);
    LLVMValueRef mx = cg_var(g, g->f32, cg_f32(g, -INFINITY));
    CgLoop a = cg_loop(g, cg_i64(g, 0), cg_i64(g, channels), "max");
    cg_set(g, mx, cg_fmax(g, cg_get(g, mx), cg_load(g, xs, cg_mul(g, a.iv, cg_i64(g, stride)))));
    cg_loop_end(g, &a);
    LLVMValueRef sum = cg_var(g, g->f32, cg_f32(g, 0.0));
    LLVMValueRef m = cg_get(g, mx);
    CgLoop b = cg_loop(g, cg_i64(g, 0), cg_i64(g, channels), "exp");
    LLVMValueRef idx = cg_mul(g, b.iv, cg_i64(g, stride));
    LLVMValueRef e = cg_call_f32(g, "expf", LLVMBuildFSub(g->b, cg_load(g, xs, idx), m, ""));
    cg_store(g, ys, idx, e);
    cg_set(g, sum, LLVMBuildFAdd(g->b, cg_get(g, sum), e, ""));
    cg_loop_end(g, &b);
    LLVMValueRef inv = cg_get(g, sum);
    LLVMValueRef lse = log ? LLVMBuildFAdd(g->b, m, cg_call_f32(g, "logf", inv), "") : inv;
    CgLoop c = cg_loop(g, cg_i64(g, 0), cg_i64(g, channels), "norm");
    LLVMValueRef idx2 = cg_mul(g, c.iv, cg_i64(g, stride));
    LLVMValueRef v = log ? LLVMBuildFSub(g->b, cg_load(g, xs, idx2), lse, "")
                         : LLVMBuildFDiv(g->b, cg_load(g, ys, idx2), inv, "");
    cg_store(g, ys, idx2, v);
    cg_loop_end(g, &c);
}

/* reorder, one row (c, h) of the output's padded channels:
 *   y[c, h, w] = c < C ? x[c, h, w] : 0, each side indexed in its own layout */
/* rows[i][j] <- rows[j][i] for vec vectors: log2(vec) rounds; in the round of
 * step s, rows i and i + s (i & s == 0) swap their s-lane blocks:
 *   i: a[j] (j & s == 0), b[j - s] (else);  i + s: a[j + s] (j & s == 0), b[j] (else) */
static void transpose_tile(Cg *g, LLVMValueRef *rows)
{
    for (int s = g->vec / 2; s > 0; s /= 2) {
        LLVMValueRef lo[64], hi[64];
        for (int j = 0; j < g->vec; j++) {
            lo[j] = LLVMConstInt(g->i32, (unsigned long long)(j & s ? g->vec + j - s : j), 0);
            hi[j] = LLVMConstInt(g->i32, (unsigned long long)(j & s ? g->vec + j : j + s), 0);
        }
        LLVMValueRef mlo = LLVMConstVector(lo, (unsigned)g->vec), mhi = LLVMConstVector(hi, (unsigned)g->vec);
        for (int i = 0; i < g->vec; i++) {
            if (i & s)
                continue;
            LLVMValueRef a = rows[i], b = rows[i + s];
            rows[i] = LLVMBuildShuffleVector(g->b, a, b, mlo, "");
            rows[i + s] = LLVMBuildShuffleVector(g->b, a, b, mhi, "");
        }
    }
}

/* The pixels [w, w + npix) of the item's vec channels: vec NCHW rows of
 * npix pixels <-> npix blocked vectors of vec channels, one transpose.
 * plane[l] is channel l's row h in NCHW, real[l] whether that channel exists
 * (the NCHW side has C channels, the blocked side C rounded up: its padding
 * lanes are written 0, never read). */
static void reorder_tile(CgKernel *k, LLVMValueRef blk, LLVMValueRef *plane, LLVMValueRef *real, LLVMValueRef w,
                         int npix)
{
    Cg *g = k->g;
    int to_blocked = k->in[0]->layout == LAYOUT_NCHW;
    LLVMValueRef v[64], pix = cg_lane_mask(g, cg_i64(g, 0), npix);
    for (int i = 0; i < g->vec; i++) {
        LLVMValueRef at = cg_gep(g, blk, cg_mul(g, cg_add(g, w, cg_i64(g, i)), cg_i64(g, g->vec)));
        if (to_blocked)
            v[i] = cg_masked_load(g, cg_gep(g, plane[i], w), LLVMBuildAnd(g->b, pix, real[i], ""));
        else
            v[i] = i < npix ? LLVMBuildLoad2(g->b, g->vf, at, "") : LLVMGetUndef(g->vf);
        if (!to_blocked && i < npix)
            LLVMSetAlignment(v[i], 4);
    }
    transpose_tile(g, v);
    for (int i = 0; i < g->vec; i++) {
        LLVMValueRef at = cg_gep(g, blk, cg_mul(g, cg_add(g, w, cg_i64(g, i)), cg_i64(g, g->vec)));
        if (!to_blocked)
            cg_masked_store(g, v[i], cg_gep(g, plane[i], w), LLVMBuildAnd(g->b, pix, real[i], ""));
        else if (i < npix)
            LLVMSetAlignment(LLVMBuildStore(g->b, v[i], at), 4);
    }
}

/* reorder between NCHW and blocks of vec channels, item (block cb, row h):
 *   blocked[cb][h][w][l] <-> nchw[cb*vec + l][h][w], l < vec, vec pixels at a time */
static void emit_reorder_transposed(CgKernel *k)
{
    Cg *g = k->g;
    int to_blocked = k->in[0]->layout == LAYOUT_NCHW;
    const IrTensor *nt = to_blocked ? k->in[0] : k->out, *bt = to_blocked ? k->out : k->in[0];
    LLVMValueRef nbase = to_blocked ? k->x[0] : k->y, bbase = to_blocked ? k->y : k->x[0];
    LLVMValueRef cb = cg_div(g, k->r, cg_i64(g, bt->h)), h = cg_rem(g, k->r, cg_i64(g, bt->h));
    LLVMValueRef c0 = cg_mul(g, cb, cg_i64(g, g->vec)), plane[64], real[64];
    for (int l = 0; l < g->vec; l++) {
        LLVMValueRef c = cg_add(g, c0, cg_i64(g, l));
        LLVMValueRef ok = LLVMBuildICmp(g->b, LLVMIntSLT, c, cg_i64(g, nt->c), "");
        real[l] = cg_splat(g, ok, g->vi1);
        c = LLVMBuildSelect(g->b, ok, c, cg_i64(g, 0), ""); /* a real row's address, never accessed */
        plane[l] = cg_gep(g, nbase, layout_index(g, nt, c, h, cg_i64(g, 0)));
    }
    LLVMValueRef blk = cg_gep(g, bbase, layout_index(g, bt, c0, h, cg_i64(g, 0)));
    int64_t full = bt->w / g->vec, rest = bt->w % g->vec;
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, full), "tile");
    reorder_tile(k, blk, plane, real, cg_mul(g, t.iv, cg_i64(g, g->vec)), g->vec);
    cg_loop_end_rolled(g, &t);
    if (rest)
        reorder_tile(k, blk, plane, real, cg_i64(g, full * g->vec), (int)rest);
}

static void emit_reorder(CgKernel *k)
{
    Cg *g = k->g;
    if (reorder_transposes(g, k->n)) {
        emit_reorder_transposed(k);
        return;
    }
    const IrTensor *in = k->in[0], *out = k->out;
    LLVMValueRef c = cg_div(g, k->r, cg_i64(g, out->h)), h = cg_rem(g, k->r, cg_i64(g, out->h));
    LLVMValueRef real = LLVMBuildICmp(g->b, LLVMIntSLT, c, cg_i64(g, out->c), "");
    LLVMValueRef cin = LLVMBuildSelect(g->b, real, c, cg_i64(g, 0), "");
    CgLoop w = cg_loop(g, cg_i64(g, 0), cg_i64(g, out->w), "w");
    LLVMValueRef v = cg_load(g, k->x[0], layout_index(g, in, cin, h, w.iv));
    cg_store(g, k->y, layout_index(g, out, c, h, w.iv), LLVMBuildSelect(g->b, real, v, cg_f32(g, 0.0), ""));
    cg_loop_end(g, &w);
}

static void reference_body(CgKernel *k)
{
    Cg *g = k->g;
    switch (k->n->kind) {
    case IR_CONV: emit_conv(k); break;
    case IR_CONV_T: emit_conv_t(k); break;
    case IR_LINEAR: emit_linear(k); break;
    case IR_BATCHNORM: emit_batchnorm(k); break;
    case IR_MAXPOOL: case IR_AVGPOOL: emit_pool(k, g->f32); break;
    case IR_GLOBAL_AVGPOOL: emit_global_avgpool(k); break;
    case IR_ADAPTIVE_AVGPOOL: case IR_ADAPTIVE_MAXPOOL: emit_adaptive_pool(k); break;
    case IR_UPSAMPLE: emit_upsample(k); break;
    case IR_PAD: emit_pad(k); break;
    case IR_CONCAT:
        if (ir_layout_block(k->out->layout) > 1)
            emit_concat_blocked(k);
        else
            emit_concat(k);
        break;
    case IR_CROP: emit_crop(k); break;
    case IR_SOFTMAX: emit_softmax(k, 0); break;
    case IR_LOG_SOFTMAX: emit_softmax(k, 1); break;
    case IR_PRELU: emit_prelu(k); break;
    case IR_NORM: emit_norm(k); break;
    case IR_SHUFFLE: emit_shuffle(k); break;
    case IR_REORDER: emit_reorder(k); break;
    case IR_ACT: case IR_COPY: case IR_RESHAPE: emit_elementwise(k, NULL); break;
    case IR_ADD: emit_binary(k, LLVMBuildFAdd); break;
    case IR_SUB: emit_binary(k, LLVMBuildFSub); break;
    case IR_MUL: emit_binary(k, LLVMBuildFMul); break;
    case IR_KIND_COUNT: break;
    }
}

static int reference_applies(const CgTarget *t, const IrModule *m, const IrNode *n) { return 1; }

const CgLowering cg_lower_reference = {
    .applies = reference_applies, .work = reference_work, .scratch = cg_no_scratch, .emit = reference_body};

/* pool_blocked: max/avg pool on a blocked layout whose block is one vector:
 * the reference pool's loops with a vector of the block's channels per
 * pixel (padding lanes included), one item per row (block, oh). */
static int pool_blocked_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    IrLayout l = m->tensors[n->out].layout;
    return (n->kind == IR_MAXPOOL || n->kind == IR_AVGPOOL) && m->tensors[n->in[0]].layout == l &&
           ir_layout_block(l) == t->vec;
}

static int64_t pool_blocked_work(const Cg *g, const IrNode *n)
{
    return ir_tensor_size(&g->m->tensors[n->out]) / (g->m->tensors[n->out].w * g->vec);
}

static void pool_blocked_body(CgKernel *k)
{
    emit_pool(k, k->g->vf);
}

const CgLowering cg_lower_pool_blocked = {
    .applies = pool_blocked_applies, .work = pool_blocked_work, .scratch = cg_no_scratch, .emit = pool_blocked_body};
