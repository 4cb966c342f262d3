/*
 * rf.c - receptive fields: for each layer, the widest window of network-input
 * pixels one output element reads (rf_size) and the input pixels between
 * neighbouring elements (rf_stride, the jump), per spatial dimension.
 *
 * First composed per layer, r_out = r_in + span * j_in and j_out = j_in * S
 * (conv, pool) or j_in / S (transposed, upsample); then replaced by the exact
 * per-position windows, which differ where up-sampled branches meet skips
 * (UNet: 204, not 200). docs/stats.md has the long form.
 */
#include <math.h>
#include <stdlib.h>

#include "frontend/stats_internal.h"

/* ---- the composed rule -------------------------------------------------- */

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Receptive-field state of one spatial dimension of a tensor: r = size of the
 * input window one element sees, j = distance in input pixels between two
 * neighbouring elements, full = window of the whole tensor (r + (n-1)*j),
 * which is what a layer mixing all positions (linear after flatten) sees. */
typedef struct {
    double r, j, full;
} Rf;

/* Input positions past the first that one output element of a transposed
 * conv reads. Output o reads input i where i*S = o + P - D*k for a tap
 * k in [0, K); with g = gcd(D, S) the usable taps are S/g apart, so at most
 * floor((K-1)*g/S) + 1 taps hit and they span D/g * floor((K-1)*g/S) inputs. */
static double transposed_span(int64_t k, int64_t s, int64_t d)
{
    int64_t g = gcd64(d, s);
    return (double)(d / g) * (double)(((k - 1) * g) / s);
}

/* Whether a normalisation's statistics span the whole of dimension d (0 = H,
 * 1 = W): per-sample statistics do, except layer_norm over W alone along H;
 * running statistics (instance_norm with track_running_stats) do not. */
static bool norm_reads_whole(const Layer *l, int d)
{
    if (l->op == OP_INSTANCE_NORM && l->running_stats)
        return false;
    return l->op != OP_LAYER_NORM || l->norm_dims >= 2 || d == 1;
}

/* add, sub, mul: every operand contributes its window; the step between
 * output elements is that of the operands that are not broadcast along d
 * (one broadcast value, e.g. a [C, 1, 1] gate, is read at every position). */
static Rf rf_broadcast(const Graph *g, const Layer *l, int d, const Rf *all)
{
    Rf o = {0, 0, 0};
    for (int i = 0; i < l->ninputs; i++) {
        Rf b = all[l->inputs[i] * 2 + d];
        o.r = fmax(o.r, b.r);
        o.full = fmax(o.full, b.full);
        if (extent(input_of(g, l, i)->shape, d) == extent(l->shape, d))
            o.j = fmax(o.j, b.j);
    }
    return o;
}

/* Input pixels one upsample output reads along a dimension. */
static int upsample_taps(const Layer *l)
{
    switch (l->mode) {
    case UPSAMPLE_NEAREST: case UPSAMPLE_NEAREST_EXACT: return 1;
    case UPSAMPLE_BILINEAR: return 2;
    case UPSAMPLE_BICUBIC: return 4;
    }
    return 1;
}

/* The rule of one layer for dimension d, given its first input's state. */
static Rf rf_step(const Graph *g, const Layer *l, int d, Rf in, const Rf *all)
{
    Rf o = in;
    int64_t k = l->kernel[d], s = or1(l->stride[d]), dil = or1(l->dilation[d]);
    switch (l->op) {
    case OP_INPUT:
        o = (Rf){1, 1, 0};
        break;
    case OP_CONV2D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D:
    case OP_PIXEL_UNSHUFFLE: /* an r x r window, stride r */
        o.r = in.r + (double)(dil * (k - 1)) * in.j;
        o.j = in.j * (double)s;
        break;
    case OP_CONV_TRANSPOSE2D:
        o.r = in.r + transposed_span(k, s, dil) * in.j;
        o.j = in.j / (double)s;
        break;
    case OP_PIXEL_SHUFFLE:   /* scale = r, mode nearest: one input pixel */
    case OP_UPSAMPLE:
        /* nearest reads one input pixel, bilinear two, bicubic four */
        o.r = in.r + (double)(upsample_taps(l) - 1) * (l->scale[d] != 1.0 ? in.j : 0);
        o.j = l->scale[d] > 0 ? in.j / l->scale[d]
                              : in.j * (double)extent(input_of(g, l, 0)->shape, d) / (double)extent(l->shape, d);
        break;
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL:
        o.r = in.full;
        o.j = in.j * (double)extent(input_of(g, l, 0)->shape, d);
        break;
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D: {
        int64_t n = extent(input_of(g, l, 0)->shape, d), m = extent(l->shape, d);
        o.r = in.r + (double)(adaptive_window_len(n, m, true) - 1) * in.j;
        o.j = in.j * (double)n / (double)m;
        break;
    }
    case OP_LINEAR:
    case OP_RESHAPE:     /* positions move: every output may come from anywhere */
    case OP_UNFLATTEN:
        o.r = in.full;
        break;
    case OP_GROUP_NORM:
    case OP_INSTANCE_NORM:
    case OP_LAYER_NORM:
        if (norm_reads_whole(l, d))
            o.r = in.full;
        break;
    case OP_SOFTMAX:
    case OP_LOG_SOFTMAX:
        if (l->shape.rank == 1)
            o.r = in.full;
        break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        o = rf_broadcast(g, l, d, all);
        break;
    case OP_CONCAT:
        /* every input contributes: the widest window and the coarsest step */
        for (int i = 1; i < l->ninputs; i++) {
            Rf b = all[l->inputs[i] * 2 + d];
            o.r = fmax(o.r, b.r);
            o.j = fmax(o.j, b.j);
            o.full = fmax(o.full, b.full);
        }
        break;
    /* elementwise, batchnorm, dropout, crop, flatten: unchanged */
    case OP_BATCHNORM2D: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH:
    case OP_SILU: case OP_PAD: case OP_CROP: case OP_FLATTEN: case OP_DROPOUT: case OP_ADD_SCALAR:
    case OP_SUB_SCALAR: case OP_RSUB_SCALAR: case OP_MUL_SCALAR: case OP_HARDSWISH: case OP_HARDSIGMOID:
    case OP_GELU: case OP_ELU: case OP_SELU: case OP_PRELU: case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH:
    case OP_CHANNEL_SHUFFLE: case OP_SLICE: case OP_CHUNK: case OP_SPLIT: case OP_COUNT:
        break;
    }
    return o;
}

static void compute_rf(Graph *g)
{
    Rf *all = fe_xcalloc((size_t)g->nlayers * 2 + 1, sizeof *all);
    if (!all)
        return;
    for (int i = 0; i < g->nlayers; i++) {
        Layer *l = &g->layers[i];
        for (int d = 0; d < 2; d++) {
            Rf in = l->ninputs ? all[l->inputs[0] * 2 + d] : (Rf){1, 1, 1};
            Rf o = rf_step(g, l, d, in, all);
            /* a [F] tensor keeps the window of the whole map it came from, and so
             * do a normalisation whose every output reads the whole map and the
             * layers after it that keep windows as they are (elementwise) */
            bool whole = ((l->op == OP_GROUP_NORM || l->op == OP_INSTANCE_NORM || l->op == OP_LAYER_NORM) &&
                          norm_reads_whole(l, d)) || l->op == OP_RESHAPE || l->op == OP_UNFLATTEN;
            if (l->ninputs && o.r == in.r && o.j == in.j && extent(input_of(g, l, 0)->shape, d) == extent(l->shape, d))
                whole = true, o.full = in.full;
            o.full = l->shape.rank == 3 && !whole ? o.r + (double)(extent(l->shape, d) - 1) * o.j
                                                  : fmax(o.full, o.r);
            all[i * 2 + d] = o;
            l->rf_size[d] = o.r;
            l->rf_stride[d] = o.j;
        }
    }
    free(all);
}

/* ---- receptive field, exact: periodic windows ---------------------------- */

/* The continuous rule above composes per-layer maxima; where up- and
 * down-sampled branches meet, the pixels one output really reads depend on
 * its position modulo the upsampling factors. This pass tracks them exactly:
 * output position o = m*p + q of a dimension reads network-input pixels
 * [lo[q] + m*jump, hi[q] + m*jump] (virtual coordinates: padding counts as
 * pixels outside 0..n-1, so fields are not clipped at the image border).
 * A stride-S conv divides the period p by gcd(p, S); a transposed conv or an
 * integer upsampling multiplies it by S. Where that is not representable
 * (period over the cap, fractional scale factor, branches with different
 * jumps) the continuous result stands. */
typedef struct {
    bool ok;
    bool overflow;     /* a coordinate left int64: give up on this layer */
    int64_t p, jump;   /* period in output positions; input pixels per period */
    int64_t *lo, *hi;  /* [p]; lo > hi: that position reads no input pixel */
    int64_t *budget;   /* work left for the whole graph (shared) */
} Win;

/* Bounds that keep the pass linear in the graph whatever the attributes:
 * one period at most WIN_MAX_PERIOD positions, all the work (positions times
 * taps) at most WIN_BUDGET per graph. */
enum { WIN_MAX_PERIOD = 1 << 16 };
#define WIN_BUDGET ((int64_t)1 << 26)

static bool win_spend(Win *w, int64_t work)
{
    if (work < 0 || work > *w->budget)
        return false;
    *w->budget -= work;
    return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool win_empty(const Win *w, int64_t q)
{
    return w->lo[q] > w->hi[q];
}

static bool win_alloc(Win *w, int64_t p, int64_t jump)
{
    if (p < 1 || p > WIN_MAX_PERIOD || jump < 1 || !win_spend(w, p))
        return false;
    w->p = p;
    w->jump = jump;
    w->lo = malloc((size_t)p * sizeof *w->lo);
    w->hi = malloc((size_t)p * sizeof *w->hi);
    if (!w->lo || !w->hi)
        return false;
    for (int64_t q = 0; q < p; q++) {
        w->lo[q] = INT64_MAX;
        w->hi[q] = INT64_MIN;
    }
    return w->ok = true;
}

/* Widens output position q of `o` by what input position i of `in` reads. */
static void win_add(Win *o, int64_t q, const Win *in, int64_t i)
{
    int64_t m = floor_div(i, in->p), r = i - m * in->p, shift, lo, hi;
    if (win_empty(in, r))
        return;
    if (__builtin_mul_overflow(m, in->jump, &shift) || __builtin_add_overflow(in->lo[r], shift, &lo) ||
        __builtin_add_overflow(in->hi[r], shift, &hi)) {
        o->overflow = true;
        return;
    }
    o->lo[q] = lo < o->lo[q] ? lo : o->lo[q];
    o->hi[q] = hi > o->hi[q] ? hi : o->hi[q];
}

/* conv2d and pools: output o reads i = o*S - P + D*t, t in [0, K). */
static bool win_conv(Win *o, const Win *in, const Layer *l, int d)
{
    int64_t s = or1(l->stride[d]), dil = or1(l->dilation[d]), p = in->p / gcd64(in->p, s), jump;
    if (__builtin_mul_overflow(in->jump, p * s / in->p, &jump) || !win_alloc(o, p, jump) ||
        !win_spend(o, p > 0 && l->kernel[d] > WIN_BUDGET / p ? WIN_BUDGET + 1 : p * l->kernel[d]))
        return false;
    for (int64_t q = 0; q < p; q++)
        for (int64_t t = 0; t < l->kernel[d]; t++)
            win_add(o, q, in, q * s - l->pad_begin[d] + dil * t);
    return true;
}

/* conv_transpose2d: output o reads i where i*S = o + P - D*t. */
static bool win_transposed(Win *o, const Win *in, const Layer *l, int d)
{
    int64_t s = or1(l->stride[d]), dil = or1(l->dilation[d]);
    if (s > WIN_MAX_PERIOD || !win_alloc(o, in->p * s, in->jump) ||
        !win_spend(o, l->kernel[d] > WIN_BUDGET / o->p ? WIN_BUDGET + 1 : o->p * l->kernel[d]))
        return false;
    for (int64_t q = 0; q < o->p; q++)
        for (int64_t t = 0; t < l->kernel[d]; t++) {
            int64_t n = q + l->pad_begin[d] - dil * t;
            if (n % s == 0)
                win_add(o, q, in, n / s);
        }
    return true;
}

/* upsample by an integer f: nearest reads floor(o/f) (nearest-exact
 * floor((o + 0.5)/f), the same); bilinear
 * (align_corners=False) reads floor(x) and, unless x is whole, floor(x) + 1,
 * x = (o + 0.5)/f - 0.5 = (2o + 1 - f) / 2f. */
static bool win_upsample(Win *o, const Win *in, const Layer *l, int d)
{
    double sf = l->scale[d];
    if (sf < 1 || sf != floor(sf) || sf > WIN_MAX_PERIOD || l->mode == UPSAMPLE_BICUBIC || l->align_corners)
        return false;
    int64_t f = (int64_t)sf;
    if (!win_alloc(o, in->p * f, in->jump))
        return false;
    for (int64_t q = 0; q < o->p; q++) {
        if (l->mode != UPSAMPLE_BILINEAR) {
            win_add(o, q, in, q / f);
            continue;
        }
        int64_t n = 2 * q + 1 - f, i0 = floor_div(n, 2 * f);
        win_add(o, q, in, i0);
        if (n != i0 * 2 * f)
            win_add(o, q, in, i0 + 1);
    }
    return true;
}

/* One window for the whole input map (global pooling; [F] tensors). Windows
 * only move forward from one period to the next, so the first and the last
 * period of positions bound the union. */
static bool win_whole(Win *o, const Win *in, int64_t n)
{
    if (!win_alloc(o, 1, 1) || !win_spend(o, 2 * in->p))
        return false;
    for (int64_t i = 0; i < n && i < in->p; i++)
        win_add(o, 0, in, i);
    for (int64_t i = n - in->p > 0 ? n - in->p : 0; i < n; i++)
        win_add(o, 0, in, i);
    return true;
}

/* Output position q reads input position q + shift of every input (concat,
 * add: shift 0; crop: its offset; elementwise ops). */
static bool win_union(Win *o, const Win *const *ins, int n, int64_t shift)
{
    int64_t p = 1;
    for (int k = 0; k < n; k++) {
        if (ins[k]->jump * ins[0]->p != ins[0]->jump * ins[k]->p)
            return false;  /* branches with different jumps: no common period */
        p = p / gcd64(p, ins[k]->p) * ins[k]->p;
        if (p > WIN_MAX_PERIOD)
            return false;
    }
    int64_t jump;
    if (__builtin_mul_overflow(ins[0]->jump, p / ins[0]->p, &jump) || !win_alloc(o, p, jump) ||
        !win_spend(o, p * n))
        return false;
    for (int64_t q = 0; q < p; q++)
        for (int k = 0; k < n; k++)
            win_add(o, q, ins[k], q + shift);
    return true;
}

static bool win_step(const Graph *g, const Layer *l, int d, Win *o, Win *all)
{
    const Win *ins[16];
    int n = l->ninputs < 16 ? l->ninputs : 16;
    for (int k = 0; k < n; k++) {
        ins[k] = &all[l->inputs[k] * 2 + d];
        if (!ins[k]->ok)
            return false;
    }
    if (l->op == OP_INPUT) {
        if (!win_alloc(o, 1, 1))
            return false;
        o->lo[0] = o->hi[0] = 0;
        return true;
    }
    if (n == 0 || l->ninputs > 16)
        return false;
    Shape in = input_of(g, l, 0)->shape;
    if (l->shape.rank == 1)
        return in.rank == 3 ? win_whole(o, ins[0], extent(in, d)) : win_union(o, ins, 1, 0);
    switch (l->op) {
    case OP_CONV2D:
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D:
    case OP_PIXEL_UNSHUFFLE: return win_conv(o, ins[0], l, d);
    case OP_PIXEL_SHUFFLE: return win_upsample(o, ins[0], l, d);
    case OP_GROUP_NORM:
    case OP_INSTANCE_NORM:
    case OP_LAYER_NORM:
        /* reading the whole map at every position has no period: the continuous rule stands */
        return !norm_reads_whole(l, d) && win_union(o, ins, 1, 0);
    case OP_CONV_TRANSPOSE2D: return win_transposed(o, ins[0], l, d);
    case OP_UPSAMPLE: return win_upsample(o, ins[0], l, d);
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL: return win_whole(o, ins[0], extent(in, d));
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D:
        return extent(l->shape, d) == 1 && win_whole(o, ins[0], extent(in, d));
    case OP_CROP:
    case OP_SLICE:
    case OP_CHUNK:
    case OP_SPLIT: return win_union(o, ins, 1, l->crop_offset[d]);
    case OP_RESHAPE:
    case OP_UNFLATTEN: return false;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        for (int k = 0; k < n; k++)
            if (extent(input_of(g, l, k)->shape, d) != extent(l->shape, d))
                return false;  /* broadcast along d: the simple rule (rf_broadcast) stands */
        return win_union(o, ins, n, 0);
    case OP_PAD:
        return l->pad_mode == PAD_CONSTANT && win_union(o, ins, 1, -l->pad_begin[d]);
    case OP_CONCAT:
        if (l->axis == d + 1)
            return false;   /* joined along d: positions move between inputs; the continuous rule stands */
        return win_union(o, ins, n, 0);
    case OP_INPUT: case OP_LINEAR: case OP_BATCHNORM2D: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU:
    case OP_SIGMOID: case OP_TANH: case OP_SILU: case OP_FLATTEN: case OP_SOFTMAX: case OP_DROPOUT:
    case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR: case OP_MUL_SCALAR: case OP_HARDSWISH:
    case OP_HARDSIGMOID: case OP_GELU: case OP_ELU: case OP_SELU: case OP_PRELU: case OP_SOFTPLUS:
    case OP_MISH: case OP_HARDTANH: case OP_LOG_SOFTMAX: case OP_CHANNEL_SHUFFLE: case OP_COUNT:
        return win_union(o, ins, 1, 0);   /* position q reads position q */
    }
    return false;
}

/* Largest window over the period, and the jump; false if no position reads anything. */
static bool win_result(const Win *w, double *size, double *stride)
{
    int64_t best = 0;
    for (int64_t q = 0; q < w->p; q++)
        if (!win_empty(w, q) && w->hi[q] - w->lo[q] + 1 > best)
            best = w->hi[q] - w->lo[q] + 1;
    *size = (double)best;
    *stride = (double)w->jump / (double)w->p;
    return best > 0;
}

static void compute_exact_rf(Graph *g)
{
    Win *all = fe_xcalloc((size_t)g->nlayers * 2 + 1, sizeof *all);
    int64_t budget = WIN_BUDGET;
    if (!all)
        return;
    for (int i = 0; i < g->nlayers; i++) {
        Layer *l = &g->layers[i];
        for (int d = 0; d < 2; d++) {
            Win *w = &all[i * 2 + d];
            double size, stride;
            w->budget = &budget;
            w->ok = win_step(g, l, d, w, all) && !w->overflow && win_result(w, &size, &stride);
            if (w->ok) {
                l->rf_size[d] = size;
                l->rf_stride[d] = stride;
            }
        }
    }
    for (int i = 0; i < g->nlayers * 2; i++) {
        free(all[i].lo);
        free(all[i].hi);
    }
    free(all);
}

void stats_compute_rf(Graph *g)
{
    compute_rf(g);
    compute_exact_rf(g);
}
