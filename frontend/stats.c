/*
 * stats.c - per-layer costs and the --stats / --explain reports.
 *
 * fe_compute_costs() runs last in fe_check(): from each layer's resolved
 * attributes and shapes it writes params, buffers, macs, rf_size and
 * rf_stride onto the layer. Later phases and the printers below only read
 * those fields; the one number not stored is ptflops' MAC count, derived on
 * demand for --count=ptflops because nothing but the report needs it.
 *
 * Conventions (docs/stats.md has the long form):
 *   params   PyTorch's sum(p.numel() for p in model.parameters())
 *   buffers  float buffers: batchnorm running_mean + running_var
 *            (num_batches_tracked is an integer and is not counted)
 *   macs     fvcore/thop: conv and linear multiply-accumulates, bias excluded;
 *            a transposed conv is counted over its input positions
 *   rf       size: the widest window of network-input pixels one output
 *            element reads; stride (jump): input pixels between neighbours.
 *            First composed per layer, r_out = r_in + span * j_in and
 *            j_out = j_in * S (conv, pool) or j_in / S (transposed, upsample);
 *            then replaced by the exact per-position windows, which differ
 *            where up-sampled branches meet skips (UNet: 204, not 200).
 *
 * Invariants: every function here is total on a Graph fe_check() accepted
 * (all extents >= 1, inputs index earlier layers); nothing is allocated that
 * outlives the call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

enum { BYTES_PER_FLOAT = 4 };

/* ---- small helpers ------------------------------------------------------ */

static const Layer *input_of(const Graph *g, const Layer *l, int i)
{
    return &g->layers[l->inputs[i]];
}

static int64_t numel(Shape s)
{
    return s.rank == 1 ? s.c : s.c * s.h * s.w;
}

/* Extent of spatial dimension d (0 = H, 1 = W). */
static int64_t extent(Shape s, int d)
{
    return d == 0 ? s.h : s.w;
}

/* Attributes that do not apply to an op are zero; a zero stride, dilation or
 * group count means the PyTorch default 1. */
static int64_t or1(int64_t v)
{
    return v ? v : 1;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static bool is_conv(OpKind op)
{
    return op == OP_CONV2D || op == OP_CONV_TRANSPOSE2D;
}

static bool is_pool(OpKind op)
{
    return op == OP_MAXPOOL2D || op == OP_AVGPOOL2D;
}

/* ---- parameters, buffers and MACs ---------------------------------------- */

/* Weight elements of a conv: conv2d Cout * Cin/groups * kh*kw,
 * conv_transpose2d Cin * Cout/groups * kh*kw (PyTorch's weight shapes
 * [Cout, Cin/g, kh, kw] and [Cin, Cout/g, kh, kw]). */
static int64_t conv_weight_numel(const Graph *g, const Layer *l)
{
    int64_t cin = input_of(g, l, 0)->shape.c, cout = l->shape.c;
    int64_t k = l->kernel[0] * l->kernel[1];
    if (l->op == OP_CONV2D)
        return cout * (cin / or1(l->groups)) * k;
    return cin * (cout / or1(l->groups)) * k;
}

/* params = weight + bias (conv, linear) or gamma + beta (batchnorm). */
static int64_t layer_params(const Graph *g, const Layer *l)
{
    int64_t cout = l->shape.c;
    switch (l->op) {
    case OP_CONV2D:
    case OP_CONV_TRANSPOSE2D:
        return conv_weight_numel(g, l) + (l->bias ? cout : 0);
    case OP_LINEAR:
        return numel(input_of(g, l, 0)->shape) * cout + (l->bias ? cout : 0);
    case OP_BATCHNORM2D:
    case OP_GROUP_NORM:
    case OP_INSTANCE_NORM:
        return l->affine ? 2 * cout : 0;
    case OP_LAYER_NORM:   /* weight and bias shaped as normalized_shape */
        return l->affine ? 2 * (numel(l->shape) / l->norm_groups) : 0;
    case OP_PRELU:
        return l->num_parameters;
    default:
        return 0;
    }
}

/* Float buffers: running_mean + running_var of a normalisation that tracks them. */
static int64_t layer_buffers(const Layer *l)
{
    bool tracks = l->op == OP_BATCHNORM2D || l->op == OP_INSTANCE_NORM;
    return tracks && l->running_stats ? 2 * l->shape.c : 0;
}

/* Default MACs (fvcore/thop): one multiply-accumulate per weight use.
 *   conv2d:           Cout*Hout*Wout * Cin/groups*kh*kw
 *   conv_transpose2d: Cin*Hin*Win * Cout/groups*kh*kw  (input positions)
 *   linear:           in * out */
static int64_t layer_macs(const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape, out = l->shape;
    switch (l->op) {
    case OP_CONV2D:
        return conv_weight_numel(g, l) * out.h * out.w;
    case OP_CONV_TRANSPOSE2D:
        return conv_weight_numel(g, l) * in.h * in.w;
    case OP_LINEAR:
        return numel(in) * out.c;
    default:
        return 0;
    }
}

/* ptflops' MACs (pytorch backend, module hooks of ptflops/pytorch_ops.py as
 * of v0.6.4-v0.7.4, one count per module):
 *   conv2d, conv_transpose2d: kh*kw*Cin*(Cout/groups) * Hout*Wout
 *                             + (bias ? Cout*Hout*Wout : 0)   (output positions, also transposed)
 *   linear:                   in*out + (bias ? out : 0)
 *   relu, relu6, leaky_relu, prelu, elu:  output elements
 *   batchnorm2d, group_norm, instance_norm, layer_norm:
 *                             input elements, twice with affine (elementwise_affine)
 *   max/avg/global/adaptive pools: input elements
 *   upsample:                 output elements
 *   everything else (sigmoid, tanh, silu, gelu, softmax, concat, add, mul, ...): 0 */
static int64_t ptflops_macs(const Graph *g, const Layer *l)
{
    Shape in = l->ninputs ? input_of(g, l, 0)->shape : l->shape, out = l->shape;
    switch (l->op) {
    case OP_CONV2D:
    case OP_CONV_TRANSPOSE2D:
        return (conv_weight_numel(g, l) + (l->bias ? out.c : 0)) * out.h * out.w;
    case OP_LINEAR:
        return numel(in) * out.c + (l->bias ? out.c : 0);
    case OP_RELU:
    case OP_RELU6:
    case OP_LEAKY_RELU:
    case OP_PRELU:
    case OP_ELU:
    case OP_UPSAMPLE:
        return numel(out);
    case OP_BATCHNORM2D:
    case OP_GROUP_NORM:
    case OP_INSTANCE_NORM:
    case OP_LAYER_NORM:
        return (l->affine ? 2 : 1) * numel(in);
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D:
    case OP_GLOBAL_AVGPOOL:
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D:
    case OP_GLOBAL_MAXPOOL:
        return numel(in);
    default:
        return 0;
    }
}

static int64_t count_macs(const Graph *g, const Layer *l, CountConvention cc)
{
    return cc == COUNT_PTFLOPS ? ptflops_macs(g, l) : l->macs;
}

/* ---- receptive field ----------------------------------------------------- */

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

/* The longest (or shortest) adaptive pool window, ceil((o+1)*n/m) - floor(o*n/m)
 * over o (the lengths repeat with period m / gcd(n, m); at most 4096 are looked at). */
static int64_t adaptive_window_len(int64_t n, int64_t m, bool longest)
{
    int64_t best = longest ? 0 : n;
    for (int64_t o = 0; o < m && o < 4096; o++) {
        int64_t len = ((o + 1) * n + m - 1) / m - o * n / m;
        best = (longest ? len > best : len < best) ? len : best;
    }
    return best;
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
    default: /* elementwise, batchnorm, dropout, crop, flatten: unchanged */
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
    default: return win_union(o, ins, 1, 0);
    }
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

void fe_compute_costs(Graph *g)
{
    for (int i = 0; i < g->nlayers; i++) {
        Layer *l = &g->layers[i];
        /* share=: the parameters are the other layer's, counted there once (as
           PyTorch's parameters() and torchinfo's totals); its MACs count per use */
        l->params = l->op == OP_INPUT || l->shared ? 0 : layer_params(g, l);
        l->buffers = l->shared ? 0 : layer_buffers(l);
        l->macs = l->op == OP_INPUT ? 0 : layer_macs(g, l);
    }
    compute_rf(g);
    compute_exact_rf(g);
}

/* ---- formatting helpers --------------------------------------------------- */

/* 31037698 -> "31,037,698" */
static const char *group3(char *buf, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    char *p = buf;
    if (v < 0)
        *p++ = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            *p++ = ',';
        *p++ = tmp[i];
    }
    *p = '\0';
    return buf;
}

/* Integers without a fraction, others with up to 4 decimals: 5, 0.5, 2.3333;
 * 6 significant digits from 1e15 on (1.15292e+18). */
static const char *fmt_num(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "?");
    else if (fabs(v) >= 1e15)
        snprintf(buf, n, "%.6g", v);
    else if (v == floor(v))
        snprintf(buf, n, "%lld", (long long)v);
    else {
        snprintf(buf, n, "%.4f", v);
        char *e = buf + strlen(buf) - 1;
        while (*e == '0')
            *e-- = '\0';
        if (*e == '.')
            *e = '\0';
    }
    return buf;
}

static const char *fmt_shape(char *buf, size_t n, Shape s)
{
    if (s.rank == 1)
        snprintf(buf, n, "[%lld]", (long long)s.c);
    else
        snprintf(buf, n, "%lld x %lld x %lld", (long long)s.c, (long long)s.h, (long long)s.w);
    return buf;
}

/* "5 / 1" when H and W agree, else "5x3 / 1x2"; "-" for [F] tensors. */
static const char *fmt_rf(char *buf, size_t n, const Layer *l)
{
    char a[24], b[24], c[24], d[24];
    fmt_num(a, sizeof a, l->rf_size[0]);
    fmt_num(b, sizeof b, l->rf_size[1]);
    fmt_num(c, sizeof c, l->rf_stride[0]);
    fmt_num(d, sizeof d, l->rf_stride[1]);
    if (l->shape.rank == 1)
        snprintf(buf, n, "%s", a);
    else if (!strcmp(a, b) && !strcmp(c, d))
        snprintf(buf, n, "%s / %s", a, c);
    else
        snprintf(buf, n, "%sx%s / %sx%s", a, b, c, d);
    return buf;
}

/* Python's str(round(x, 2)) as ptflops prints it: "0.22", "1.0", "31.04". */
static const char *py_round2(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%.2f", x);
    char *e = buf + strlen(buf) - 1;
    while (*e == '0' && e[-1] != '.')
        *e-- = '\0';
    return buf;
}

/* ptflops' flops_to_string / params_to_string with units=None, precision 2. */
static void ptflops_strings(char *macs, char *params, size_t n, int64_t m, int64_t p)
{
    static const struct { double scale; const char *unit; } mu[] = {
        {1e9, " GMac"}, {1e6, " MMac"}, {1e3, " KMac"}};
    char num[48];
    snprintf(macs, n, "%lld Mac", (long long)m);
    for (size_t i = 0; i < sizeof mu / sizeof mu[0]; i++)
        if (m >= (int64_t)mu[i].scale) {
            snprintf(macs, n, "%s%s", py_round2(num, sizeof num, (double)m / mu[i].scale), mu[i].unit);
            break;
        }
    if (p >= 1000000)
        snprintf(params, n, "%s M", py_round2(num, sizeof num, (double)p / 1e6));
    else if (p >= 1000)
        snprintf(params, n, "%s k", py_round2(num, sizeof num, (double)p / 1e3));
    else
        snprintf(params, n, "%lld", (long long)p);
}

/* ---- --stats: the table -------------------------------------------------- */

typedef struct {
    int64_t params, buffers, macs, act, in;  /* act: layer outputs; in: network inputs (bytes) */
} Totals;

/* Params and buffers per model; MACs and bytes for the whole batch. Sets
 * *overflow when a total does not fit in 64 bits (huge networks times a
 * large --batch); per sample, every total fits (docs/language.md, Limits). */
static Totals totals(const Graph *g, const StatsOptions *o, bool *overflow)
{
    Totals t = {0};
    bool ovf = false;
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        int64_t m, bytes;
        t.params += l->params;
        t.buffers += l->buffers;
        ovf |= __builtin_mul_overflow(count_macs(g, l, o->count), o->batch, &m);
        ovf |= __builtin_add_overflow(t.macs, m, &t.macs);
        ovf |= __builtin_mul_overflow(numel(l->shape) * BYTES_PER_FLOAT, o->batch, &bytes);
        ovf |= __builtin_add_overflow(l->op != OP_INPUT ? t.act : t.in, bytes, l->op != OP_INPUT ? &t.act : &t.in);
    }
    if (overflow)
        *overflow = ovf;
    return t;
}

/* 48208609280 -> "48.21 G", 832 -> "832 "; decimal prefixes as torchinfo's
 * summary (MB = 1e6 bytes). */
static const char *fmt_human(char *buf, size_t n, double v)
{
    static const struct { double scale; const char *prefix; } pre[] = {
        {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (v >= pre[i].scale) {
            snprintf(buf, n, "%.2f %s", v / pre[i].scale, pre[i].prefix);
            return buf;
        }
    snprintf(buf, n, "%.0f ", v);
    return buf;
}

/* One row of the table: a layer, or with --depth a block instance's layers
 * summed (shape and receptive field of its last layer). */
typedef struct {
    const char *name, *op, *key;
    int name_len;          /* name is printed up to here (a block instance's prefix) */
    size_t key_len;        /* key is printed up to here (a common prefix) */
    const Layer *last;
    int64_t params, macs, act;
} Row;

/* Dots in a name: "down1.c1" is at depth 2. */
static int name_depth(const char *s)
{
    int d = 1;
    for (; *s; s++)
        d += *s == '.';
    return d;
}

/* Length of the first `depth` components of name. */
static size_t depth_prefix(const char *name, int depth)
{
    size_t i = 0;
    for (int d = 0; name[i]; i++)
        if (name[i] == '.' && ++d == depth)
            break;
    return i;
}

/* The longest dotted prefix key[0..*len) shares with k. */
static void common_key(const char *key, size_t *len, const char *k)
{
    size_t i = 0, dot = 0;
    while (i < *len && k[i] && k[i] == key[i])
        i++;
    if (i == *len && (k[i] == '.' || !k[i]))
        return;
    for (size_t j = 0; j < i; j++)
        if (key[j] == '.')
            dot = j;
    *len = dot;
}

static Row layer_row(const Graph *g, const Layer *l, const StatsOptions *o)
{
    return (Row){l->name, fe_op_names[l->op], l->key, (int)strlen(l->name), l->key ? strlen(l->key) : 0, l,
                 l->params, count_macs(g, l, o->count) * o->batch,
                 numel(l->shape) * BYTES_PER_FLOAT * o->batch};
}

/* The rows of the table, in network order; *n gets their count. */
static Row *table_rows(const Graph *g, const StatsOptions *o, int *n)
{
    Row *rows = fe_xcalloc((size_t)g->nlayers + 1, sizeof *rows);
    *n = 0;
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        Row r = layer_row(g, l, o);
        if (o->depth > 0 && name_depth(l->name) > o->depth) {
            size_t len = depth_prefix(l->name, o->depth);
            Row *prev = *n ? &rows[*n - 1] : NULL;
            if (prev && prev->op == NULL && (size_t)prev->name_len == len && !strncmp(prev->name, l->name, len)) {
                prev->last = l;
                prev->params += r.params;
                prev->macs += r.macs;
                prev->act += r.act;
                if (l->key && prev->key)
                    common_key(prev->key, &prev->key_len, l->key);
                else if (l->key)
                    prev->key = l->key, prev->key_len = strlen(l->key);
                continue;
            }
            r.name_len = (int)len;
            r.op = NULL;   /* a collapsed block instance */
        }
        rows[(*n)++] = r;
    }
    return rows;
}

typedef struct {
    int name, op, shape, key;
} Widths;

static const char *row_key(char *buf, size_t n, const Row *r)
{
    if (!r->key || !r->key_len)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*s", (int)(r->key_len < n - 1 ? r->key_len : n - 1), r->key);
    return buf;
}

static Widths column_widths(const Row *rows, int n)
{
    Widths w = {5, 5, 12, 3};
    char buf[256];
    for (int i = 0; i < n; i++) {
        const Row *r = &rows[i];
        int k = r->name_len;
        w.name = k > w.name ? k : w.name;
        k = (int)strlen(r->op ? r->op : "block");
        w.op = k > w.op ? k : w.op;
        k = (int)strlen(fmt_shape(buf, sizeof buf, r->last->shape));
        w.shape = k > w.shape ? k : w.shape;
        k = (int)strlen(row_key(buf, sizeof buf, r));
        w.key = k > w.key ? k : w.key;
    }
    return w;
}

static void rule(FILE *out, char c, int n)
{
    for (int i = 0; i < n; i++)
        fputc(c, out);
    fputc('\n', out);
}

static void table_row(FILE *out, const Row *r, Widths w, const StatsOptions *o)
{
    char shape[96], p[32], m[32], rf[128], act[32], key[256];
    fprintf(out, "%-*.*s  %-*s  %*s  %13s  %17s  %16s  %15s", w.name, r->name_len, r->name, w.op, r->op ? r->op : "block",
            w.shape, fmt_shape(shape, sizeof shape, r->last->shape), group3(p, r->params),
            group3(m, r->macs), fmt_rf(rf, sizeof rf, r->last), group3(act, r->act));
    if (o->keys)
        fprintf(out, "  %s", row_key(key, sizeof key, r));
    fputc('\n', out);
}

static void table_totals(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    char a[32], h[32];
    char batch[40];
    snprintf(batch, sizeof batch, "batch %lld", (long long)o->batch);
    Totals t = totals(g, o, NULL);
    fprintf(out, "Total params:      %s (%s)\n", group3(a, t.params), fmt_human(h, sizeof h, (double)t.params));
    fprintf(out, "Buffers:           %s (batchnorm running_mean + running_var; not parameters)\n",
            group3(a, t.buffers));
    if (o->count == COUNT_PTFLOPS) {
        char ms[64], ps[64];
        ptflops_strings(ms, ps, sizeof ms, t.macs, t.params);
        fprintf(out, "Total MACs:        %s (%sMAC, %s; ptflops convention: bias, activations, batchnorm, "
                     "pooling and upsampling included)\n", group3(a, t.macs),
                fmt_human(h, sizeof h, (double)t.macs), batch);
        fprintf(out, "ptflops strings:   '%s', '%s'\n", ms, ps);
    } else {
        fprintf(out, "Total MACs:        %s (%sMAC, %s; conv/linear multiply-accumulates, bias excluded)\n",
                group3(a, t.macs), fmt_human(h, sizeof h, (double)t.macs), batch);
    }
    fprintf(out, "Weight bytes:      %s (%sB; parameters + buffers, fp32)\n",
            group3(a, (t.params + t.buffers) * BYTES_PER_FLOAT),
            fmt_human(h, sizeof h, (double)((t.params + t.buffers) * BYTES_PER_FLOAT)));
    fprintf(out, "Input bytes:       %s (%sB; network inputs, %s, fp32)\n", group3(a, t.in),
            fmt_human(h, sizeof h, (double)t.in), batch);
    fprintf(out, "Activation bytes:  %s (%sB; sum of all layer outputs except the inputs, %s, fp32)\n",
            group3(a, t.act), fmt_human(h, sizeof h, (double)t.act), batch);
    if (arena >= 0)
        fprintf(out, "Activation arena:  %s (%sB; planned activation arena, %s)\n", group3(a, arena * o->batch),
                fmt_human(h, sizeof h, (double)(arena * o->batch)), batch);
}

static void print_table(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    int n;
    Row *rows = table_rows(g, o, &n);
    Widths w = column_widths(rows, n);
    int width = w.name + w.op + w.shape + 13 + 17 + 16 + 15 + 12 + (o->keys ? w.key + 2 : 0);
    fprintf(out, "network %s", g->name);
    if (o->batch != 1)
        fprintf(out, ", batch %lld (MACs and activations for the whole batch)", (long long)o->batch);
    if (o->depth > 0)
        fprintf(out, ", depth %d (deeper block instances summed into one row)", o->depth);
    fputc('\n', out);
    rule(out, '=', width);
    fprintf(out, "%-*s  %-*s  %*s  %13s  %17s  %16s  %15s", w.name, "Layer", w.op, "Op", w.shape,
            "Output shape", "Params", o->count == COUNT_PTFLOPS ? "MACs (ptflops)" : "MACs", "RF size / stride",
            "Activation (B)");
    if (o->keys)
        fputs("  Key", out);
    fputc('\n', out);
    rule(out, '=', width);
    for (int i = 0; i < n; i++)
        table_row(out, &rows[i], w, o);
    rule(out, '=', width);
    table_totals(out, g, o, arena);
    rule(out, '=', width);
    free(rows);
}

/* ---- --stats=json --------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_shape(FILE *out, Shape s)
{
    if (s.rank == 1)
        fprintf(out, "[%lld]", (long long)s.c);
    else
        fprintf(out, "[%lld, %lld, %lld]", (long long)s.c, (long long)s.h, (long long)s.w);
}

static void json_pair(FILE *out, const char *key, const int64_t v[2])
{
    fprintf(out, ", \"%s\": [%lld, %lld]", key, (long long)v[0], (long long)v[1]);
}

static void json_num(FILE *out, double v)
{
    char buf[48];
    fputs(isfinite(v) ? fmt_num(buf, sizeof buf, v) : "null", out);
}

static void json_rf(FILE *out, const Layer *l)
{
    fputs(", \"rf\": {\"size\": [", out);
    json_num(out, l->rf_size[0]);
    fputs(", ", out);
    json_num(out, l->rf_size[1]);
    fputs("], \"stride\": [", out);
    json_num(out, l->rf_stride[0]);
    fputs(", ", out);
    json_num(out, l->rf_stride[1]);
    fputs("]}", out);
}

/* The arguments of the activations and scalar ops of issue 9. */
static void json_act_attrs(FILE *out, const Layer *l)
{
    const double *a = l->act_arg;
    switch (l->op) {
    case OP_ELU: fprintf(out, ", \"alpha\": %.9g", a[0]); break;
    case OP_SOFTPLUS: fprintf(out, ", \"beta\": %.9g, \"threshold\": %.9g", a[0], a[1]); break;
    case OP_HARDTANH: fprintf(out, ", \"min_val\": %.9g, \"max_val\": %.9g", a[0], a[1]); break;
    case OP_GELU: fprintf(out, ", \"approximate\": \"%s\"", a[0] != 0 ? "tanh" : "none"); break;
    case OP_PRELU: fprintf(out, ", \"num_parameters\": %lld", (long long)l->num_parameters); break;
    case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR: case OP_MUL_SCALAR:
        fprintf(out, ", \"scale\": %.9g, \"shift\": %.9g", a[0], a[1]);
        break;
    default: break;
    }
}

/* The attributes that apply to the layer's op. */
static void json_attrs(FILE *out, const Layer *l)
{
    if (l->key) {
        fputs(", \"key\": ", out);
        json_string(out, l->key);
    }
    if (is_conv(l->op) || is_pool(l->op)) {
        int64_t dil[2] = {or1(l->dilation[0]), or1(l->dilation[1])};
        json_pair(out, "kernel", l->kernel);
        json_pair(out, "stride", l->stride);
        json_pair(out, "padding", l->pad_begin);
        json_pair(out, "padding_end", l->pad_end);
        json_pair(out, "dilation", dil);
    }
    if (is_conv(l->op))
        fprintf(out, ", \"groups\": %lld", (long long)or1(l->groups));
    if (l->op == OP_CONV2D)
        fprintf(out, ", \"padding_mode\": \"%s\"", l->pad_mode == PAD_CONSTANT ? "zeros" : fe_pad_mode_name(l->pad_mode));
    if (l->op == OP_PAD) {
        int64_t lrtb[4] = {l->pad_begin[1], l->pad_end[1], l->pad_begin[0], l->pad_end[0]};
        fprintf(out, ", \"pad\": [%lld, %lld, %lld, %lld], \"mode\": \"%s\", \"value\": %.9g", (long long)lrtb[0],
                (long long)lrtb[1], (long long)lrtb[2], (long long)lrtb[3], fe_pad_mode_name(l->pad_mode), l->pad_value);
    }
    if (l->op == OP_CONV_TRANSPOSE2D)
        json_pair(out, "output_padding", l->output_padding);
    if (is_conv(l->op) || l->op == OP_LINEAR)
        fprintf(out, ", \"bias\": %s", l->bias ? "true" : "false");
    if (is_pool(l->op))
        fprintf(out, ", \"ceil_mode\": %s", l->ceil_mode ? "true" : "false");
    if (l->op == OP_AVGPOOL2D)
        fprintf(out, ", \"count_include_pad\": %s", l->count_include_pad ? "true" : "false");
    if (l->op == OP_BATCHNORM2D || l->op == OP_GROUP_NORM || l->op == OP_INSTANCE_NORM || l->op == OP_LAYER_NORM)
        fprintf(out, ", \"eps\": %.9g, \"affine\": %s", l->eps, l->affine ? "true" : "false");
    if (l->op == OP_BATCHNORM2D || l->op == OP_INSTANCE_NORM)
        fprintf(out, ", \"track_running_stats\": %s", l->running_stats ? "true" : "false");
    if (l->op == OP_GROUP_NORM)
        fprintf(out, ", \"num_groups\": %lld", (long long)l->norm_groups);
    if (l->op == OP_LAYER_NORM)
        fprintf(out, ", \"normalized_dims\": %d", l->norm_dims);
    if (l->op == OP_PIXEL_SHUFFLE || l->op == OP_PIXEL_UNSHUFFLE || l->op == OP_CHANNEL_SHUFFLE)
        fprintf(out, ", \"%s\": %lld", l->op == OP_PIXEL_SHUFFLE ? "upscale_factor" : l->op == OP_PIXEL_UNSHUFFLE
                ? "downscale_factor" : "groups", (long long)l->shuffle_factor);
    if (l->op == OP_LEAKY_RELU)
        fprintf(out, ", \"negative_slope\": %.9g", l->negative_slope);
    json_act_attrs(out, l);
    if (l->op == OP_UPSAMPLE)
        fprintf(out, ", \"scale_factor\": [%.9g, %.9g], \"mode\": \"%s\", \"align_corners\": %s", l->scale[0],
                l->scale[1], fe_upsample_mode_name(l->mode), l->align_corners ? "true" : "false");
    if (l->op == OP_CROP)
        json_pair(out, "offset", l->crop_offset);
}

static void json_layer(FILE *out, const Graph *g, const Layer *l, const StatsOptions *o)
{
    fputs("    {\"name\": ", out);
    json_string(out, l->name);
    fprintf(out, ", \"op\": \"%s\", \"inputs\": [", fe_op_names[l->op]);
    for (int i = 0; i < l->ninputs; i++) {
        fputs(i ? ", " : "", out);
        json_string(out, input_of(g, l, i)->name);
    }
    fputs("], \"shape\": ", out);
    json_shape(out, l->shape);
    fprintf(out, ", \"params\": %lld, \"buffers\": %lld, \"macs\": %lld, \"activation_bytes\": %lld",
            (long long)l->params, (long long)l->buffers, (long long)(count_macs(g, l, o->count) * o->batch),
            (long long)(numel(l->shape) * BYTES_PER_FLOAT * o->batch));
    json_attrs(out, l);
    json_rf(out, l);
    fputc('}', out);
}

static void json_io(FILE *out, const Graph *g, const char *key, int n, const int *idx, const char **names)
{
    fprintf(out, "  \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        const Layer *l = &g->layers[idx[i]];
        fputs(i ? ", {\"name\": " : "{\"name\": ", out);
        json_string(out, names && names[i] ? names[i] : l->name);
        fputs(", \"shape\": ", out);
        json_shape(out, l->shape);
        fputc('}', out);
    }
    fputs("],\n", out);
}

static void print_json(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    Totals t = totals(g, o, NULL);
    fputs("{\n  \"network\": ", out);
    json_string(out, g->name);
    fprintf(out, ",\n  \"count\": \"%s\",\n  \"batch\": %lld,\n", o->count == COUNT_PTFLOPS ? "ptflops" : "default",
            (long long)o->batch);
    json_io(out, g, "inputs", g->ninputs, g->inputs, NULL);
    json_io(out, g, "outputs", g->noutputs, g->outputs, g->output_names);
    fputs("  \"layers\": [\n", out);
    for (int i = 0; i < g->nlayers; i++) {
        json_layer(out, g, &g->layers[i], o);
        fputs(i + 1 < g->nlayers ? ",\n" : "\n", out);
    }
    fprintf(out, "  ],\n  \"total_params\": %lld,\n  \"total_buffers\": %lld,\n  \"total_macs\": %lld,\n",
            (long long)t.params, (long long)t.buffers, (long long)t.macs);
    fprintf(out, "  \"weight_bytes\": %lld,\n  \"input_bytes\": %lld,\n  \"activation_bytes\": %lld",
            (long long)((t.params + t.buffers) * BYTES_PER_FLOAT), (long long)t.in, (long long)t.act);
    if (arena >= 0)
        fprintf(out, ",\n  \"arena_bytes\": %lld", (long long)(arena * o->batch));
    fputs("\n}\n", out);
}

bool fe_print_stats(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena_bytes)
{
    StatsOptions opt = *o;
    opt.batch = opt.batch >= 1 ? opt.batch : 1;
    bool overflow;
    int64_t arena;
    totals(g, &opt, &overflow);
    if (overflow || (arena_bytes >= 0 && __builtin_mul_overflow(arena_bytes, opt.batch, &arena))) {
        fprintf(stderr, "convc: error: --batch %lld: the network's totals for that batch do not fit in 64 bits\n",
                (long long)opt.batch);
        return false;
    }
    if (opt.format == STATS_JSON)
        print_json(out, g, &opt, arena_bytes);
    else
        print_table(out, g, &opt, arena_bytes);
    return true;
}

/* ---- --explain ------------------------------------------------------------ */

static const char *dim_name(int d)
{
    return d == 0 ? "H" : "W";
}

/* The kernel extent F of the tutorial's formula: "5", or "(2*(3-1)+1)" when dilated. */
static const char *kernel_term(char *buf, size_t n, int64_t k, int64_t dil)
{
    if (dil == 1)
        snprintf(buf, n, "%lld", (long long)k);
    else
        snprintf(buf, n, "(%lld*(%lld-1)+1)", (long long)dil, (long long)k);
    return buf;
}

/* "2*1", or "0+1" for the asymmetric padding of padding=same with an even kernel. */
static const char *pad_term(char *buf, size_t n, const Layer *l, int d)
{
    if (l->pad_begin[d] == l->pad_end[d])
        snprintf(buf, n, "2*%lld", (long long)l->pad_begin[d]);
    else
        snprintf(buf, n, "(%lld+%lld)", (long long)l->pad_begin[d], (long long)l->pad_end[d]);
    return buf;
}

/* W2 = floor((W1 - F + 2P) / S) + 1, F = D*(K-1)+1 (conv2d, pools; ceil with ceil_mode). */
static void explain_window_dim(FILE *out, const Graph *g, const Layer *l, int d)
{
    char f[64], p[64];
    int64_t in = extent(input_of(g, l, 0)->shape, d), s = or1(l->stride[d]);
    int64_t k = l->kernel[d], dil = or1(l->dilation[d]);
    int64_t num = in + l->pad_begin[d] + l->pad_end[d] - dil * (k - 1) - 1;
    int64_t q = l->ceil_mode ? (num + s - 1) / s : num / s;
    fprintf(out, "  %s = %s((%lld - %s + %s) / %lld) + 1 = %lld", dim_name(d), l->ceil_mode ? "ceil" : "floor",
            (long long)in, kernel_term(f, sizeof f, k, dil), pad_term(p, sizeof p, l, d), (long long)s,
            (long long)(q + 1));
    if (extent(l->shape, d) != q + 1)
        fprintf(out, " - 1 = %lld (the last window would start in the padding)", (long long)extent(l->shape, d));
    fputc('\n', out);
}

/* W1 = S*(W2-1) - 2P + F [+ output_padding] (conv_transpose2d). */
static void explain_transposed_dim(FILE *out, const Graph *g, const Layer *l, int d)
{
    char f[64];
    int64_t in = extent(input_of(g, l, 0)->shape, d), s = or1(l->stride[d]);
    fprintf(out, "  %s = %lld*(%lld-1) - 2*%lld + %s", dim_name(d), (long long)s, (long long)in,
            (long long)l->pad_begin[d], kernel_term(f, sizeof f, l->kernel[d], or1(l->dilation[d])));
    if (l->output_padding[d])
        fprintf(out, " + %lld", (long long)l->output_padding[d]);
    fprintf(out, " = %lld\n", (long long)extent(l->shape, d));
}

static void explain_conv(FILE *out, const Graph *g, const Layer *l)
{
    bool t = l->op == OP_CONV_TRANSPOSE2D;
    int64_t cin = input_of(g, l, 0)->shape.c, cout = l->shape.c, grp = or1(l->groups);
    fprintf(out, t ? "output size: W1 = S*(W2-1) - 2P + F%s (F = kernel size, P = padding, S = stride)\n"
                   : "output size: W2 = floor((W1 - F + 2P) / S) + 1 (F = kernel size, P = padding, S = stride)%s\n",
            t ? " + output_padding" : "");
    fprintf(out, "  C = out_channels = %lld\n", (long long)cout);
    if (l->op == OP_CONV2D && l->pad_mode != PAD_CONSTANT)
        fprintf(out, "  padding_mode=%s: the input is padded by F.pad(mode=%s) first, then convolved without "
                "padding; the size is the same\n", fe_pad_mode_name(l->pad_mode), fe_pad_mode_name(l->pad_mode));
    for (int d = 0; d < 2; d++)
        (t ? explain_transposed_dim : explain_window_dim)(out, g, l, d);
    fprintf(out, "parameters: kH*kW*%s + %s\n", t ? "Cin*(Cout/groups)" : "(Cin/groups)*Cout",
            l->bias ? "Cout (bias)" : "0 (bias=false)");
    if (grp != 1)
        fprintf(out, "  %s/groups = %lld/%lld = %lld\n", t ? "Cout" : "Cin", (long long)(t ? cout : cin),
                (long long)grp, (long long)((t ? cout : cin) / grp));
    fprintf(out, "  params = %lld*%lld*%lld*%lld", (long long)l->kernel[0], (long long)l->kernel[1],
            (long long)(t ? cin : cin / grp), (long long)(t ? cout / grp : cout));
    if (l->bias)
        fprintf(out, " + %lld", (long long)cout);
    fprintf(out, " = %lld\n", (long long)l->params);
    if (t)
        fprintf(out, "MACs (over input positions, bias excluded): Cin*H*W * kH*kW*Cout/groups = %lld*%lld*%lld * %lld*%lld*%lld = %lld\n",
                (long long)cin, (long long)input_of(g, l, 0)->shape.h, (long long)input_of(g, l, 0)->shape.w,
                (long long)l->kernel[0], (long long)l->kernel[1], (long long)(cout / grp), (long long)l->macs);
    else
        fprintf(out, "MACs (bias excluded): Cout*H*W * kH*kW*Cin/groups = %lld*%lld*%lld * %lld*%lld*%lld = %lld\n",
                (long long)cout, (long long)l->shape.h, (long long)l->shape.w, (long long)l->kernel[0],
                (long long)l->kernel[1], (long long)(cin / grp), (long long)l->macs);
}

static void explain_pool(FILE *out, const Graph *g, const Layer *l)
{
    fputs("output size: W2 = floor((W1 - F + 2P) / S) + 1 (F = kernel size, P = padding, S = stride; ceil with "
          "ceil_mode)\n", out);
    fprintf(out, "  C = %lld (unchanged)\n", (long long)l->shape.c);
    for (int d = 0; d < 2; d++)
        explain_window_dim(out, g, l, d);
    fputs("parameters: none\n", out);
}

static void explain_upsample(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape;
    const char *ac = l->mode == UPSAMPLE_BILINEAR || l->mode == UPSAMPLE_BICUBIC
                     ? (l->align_corners ? ", align_corners=true" : ", align_corners=false") : "";
    if (l->scale[0] == 0) {
        fprintf(out, "output size: given by size= or like=, mode=%s%s\n", fe_upsample_mode_name(l->mode), ac);
        fprintf(out, "  C = %lld (unchanged)\n  H x W = %lld x %lld (from %lld x %lld)\nparameters: none\n",
                (long long)l->shape.c, (long long)l->shape.h, (long long)l->shape.w, (long long)in.h,
                (long long)in.w);
        return;
    }
    fprintf(out, "output size: W2 = floor(W1 * scale_factor), mode=%s%s\n", fe_upsample_mode_name(l->mode), ac);
    fprintf(out, "  C = %lld (unchanged)\n", (long long)l->shape.c);
    for (int d = 0; d < 2; d++)
        fprintf(out, "  %s = floor(%lld * %g) = %lld\n", dim_name(d), (long long)extent(in, d), l->scale[d],
                (long long)extent(l->shape, d));
    fputs("parameters: none\n", out);
}

/* adaptive pools: the output size is given; window o of a dimension is
 * [floor(o*in/out), ceil((o+1)*in/out)). */
static void explain_adaptive(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape;
    fprintf(out, "output size: output_size = (%lld, %lld); output o reads input [floor(o*in/out), "
            "ceil((o+1)*in/out)) (PyTorch's adaptive windows)\n", (long long)l->shape.h, (long long)l->shape.w);
    fprintf(out, "  C = %lld (unchanged)\n", (long long)l->shape.c);
    for (int d = 0; d < 2; d++) {
        int64_t n = extent(in, d), m = extent(l->shape, d);
        fprintf(out, "  %s: %lld -> %lld, windows of %lld to %lld pixels\n", dim_name(d), (long long)n,
                (long long)m, (long long)adaptive_window_len(n, m, false), (long long)adaptive_window_len(n, m, true));
    }
    fputs("parameters: none\n", out);
}

/* pad: W2 = left + W1 + right, H2 = top + H1 + bottom. */
static void explain_pad(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape;
    fprintf(out, "output size: H2 = top + H1 + bottom, W2 = left + W1 + right (mode=%s", fe_pad_mode_name(l->pad_mode));
    if (l->pad_mode == PAD_CONSTANT)
        fprintf(out, ", value=%g", l->pad_value);
    fprintf(out, ")\n  C = %lld (unchanged)\n", (long long)l->shape.c);
    for (int d = 0; d < 2; d++)
        fprintf(out, "  %s = %lld + %lld + %lld = %lld\n", dim_name(d), (long long)l->pad_begin[d],
                (long long)extent(in, d), (long long)l->pad_end[d], (long long)extent(l->shape, d));
    fputs("parameters: none\n", out);
}

static void explain_concat(FILE *out, const Graph *g, const Layer *l)
{
    if (l->axis == 0) {
        fputs("output size: channels add up, H and W must agree\n  C = ", out);
        for (int i = 0; i < l->ninputs; i++)
            fprintf(out, "%s%lld", i ? " + " : "", (long long)input_of(g, l, i)->shape.c);
        fprintf(out, " = %lld\n  H x W = %lld x %lld\nparameters: none\n", (long long)l->shape.c,
                (long long)l->shape.h, (long long)l->shape.w);
        return;
    }
    int d = l->axis - 1;
    fprintf(out, "output size: %s add up (dim=%d), C and %s must agree\n  %s = ", d ? "widths" : "heights",
            l->axis + 1, d ? "H" : "W", dim_name(d));
    for (int i = 0; i < l->ninputs; i++)
        fprintf(out, "%s%lld", i ? " + " : "", (long long)extent(input_of(g, l, i)->shape, d));
    fprintf(out, " = %lld\n  C = %lld\nparameters: none\n", (long long)extent(l->shape, d), (long long)l->shape.c);
}

static void explain_crop(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape;
    const char *like = l->ninputs > 1 ? input_of(g, l, 1)->name : "?";
    fprintf(out, "output size: the centre %lld x %lld of the input (the size of '%s')\n", (long long)l->shape.h,
            (long long)l->shape.w, like);
    fprintf(out, "  C = %lld (unchanged)\n", (long long)l->shape.c);
    for (int d = 0; d < 2; d++)
        fprintf(out, "  %s = %lld, offset = floor((%lld - %lld) / 2) = %lld\n", dim_name(d),
                (long long)extent(l->shape, d), (long long)extent(in, d), (long long)extent(l->shape, d),
                (long long)l->crop_offset[d]);
    fputs("parameters: none\n", out);
}

static void explain_linear(FILE *out, const Graph *g, const Layer *l)
{
    int64_t in = numel(input_of(g, l, 0)->shape), o = l->shape.c;
    fprintf(out, "output size: [out_features] = [%lld]\n", (long long)o);
    fprintf(out, "parameters: in*out + %s\n  params = %lld*%lld", l->bias ? "out (bias)" : "0 (bias=false)",
            (long long)in, (long long)o);
    if (l->bias)
        fprintf(out, " + %lld", (long long)o);
    fprintf(out, " = %lld\nMACs (bias excluded): in*out = %lld*%lld = %lld\n", (long long)l->params,
            (long long)in, (long long)o, (long long)l->macs);
}

/* batchnorm2d, group_norm, instance_norm, layer_norm: y = (x - mean) / sqrt(var + eps) * weight + bias */
static void explain_norm(FILE *out, const Layer *l)
{
    Shape s = l->shape;
    int64_t c = s.c, seg = numel(s) / or1(l->norm_groups);
    fputs("output size: unchanged\n", out);
    fprintf(out, "y = (x - mean) / sqrt(var + eps)%s, eps = %g\n", l->affine ? " * weight + bias" : "", l->eps);
    if (l->running_stats)
        fputs("  mean, var: running_mean, running_var per channel (the buffers, as in eval())\n", out);
    else if (l->op == OP_GROUP_NORM)
        fprintf(out, "  mean, var: per sample over each of %lld groups of C/groups*H*W = %lld/%lld*%lld*%lld = %lld elements\n",
                (long long)l->norm_groups, (long long)c, (long long)l->norm_groups, (long long)s.h, (long long)s.w,
                (long long)seg);
    else if (l->op == OP_INSTANCE_NORM)
        fprintf(out, "  mean, var: per sample and channel over H*W = %lld*%lld = %lld elements\n", (long long)s.h,
                (long long)s.w, (long long)seg);
    else
        fprintf(out, "  mean, var: per sample over the last %d dimension%s (normalized_shape): %lld elements, %lld "
                "time%s per sample\n", l->norm_dims, l->norm_dims > 1 ? "s" : "", (long long)seg,
                (long long)l->norm_groups, l->norm_groups > 1 ? "s" : "");
    if (!l->affine)
        fprintf(out, "parameters: none (%s=false)\n", l->op == OP_LAYER_NORM ? "elementwise_affine" : "affine");
    else if (l->op == OP_LAYER_NORM)
        fprintf(out, "parameters: weight + bias, each shaped as normalized_shape\n  params = 2*%lld = %lld\n",
                (long long)seg, (long long)l->params);
    else
        fprintf(out, "parameters: weight + bias = 2*C\n  params = 2*%lld = %lld\n", (long long)c, (long long)l->params);
    if (l->running_stats)
        fprintf(out, "buffers: running_mean + running_var = 2*C\n  buffers = 2*%lld = %lld (not parameters)\n",
                (long long)c, (long long)l->buffers);
}

/* pixel_shuffle, pixel_unshuffle, channel_shuffle: the same values, moved */
static void explain_shuffle(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = input_of(g, l, 0)->shape, o = l->shape;
    long long r = (long long)l->shuffle_factor, c = (long long)in.c, h = (long long)in.h, w = (long long)in.w;
    switch (l->op) {
    case OP_PIXEL_SHUFFLE:
        fprintf(out, "output size: [C/r^2, H*r, W*r] = [%lld/%lld, %lld*%lld, %lld*%lld] (r = upscale_factor)\n"
                "  y[c, h*r + i, w*r + j] = x[c*r*r + i*r + j, h, w]\n", c, r * r, h, r, w, r);
        break;
    case OP_PIXEL_UNSHUFFLE:
        fprintf(out, "output size: [C*r^2, H/r, W/r] = [%lld*%lld, %lld/%lld, %lld/%lld] (r = downscale_factor)\n"
                "  y[c*r*r + i*r + j, h, w] = x[c, h*r + i, w*r + j]\n", c, r * r, h, r, w, r);
        break;
    default:
        fprintf(out, "output size: unchanged; channels regrouped: %lld groups of %lld, interleaved\n"
                "  y[j*groups + i] = x[i*(C/groups) + j]\n", r, c / r);
        break;
    }
    fprintf(out, "  = [%lld, %lld, %lld]\nparameters: none\n", (long long)o.c, (long long)o.h, (long long)o.w);
}

static void explain_other(FILE *out, const Graph *g, const Layer *l)
{
    Shape in = l->ninputs ? input_of(g, l, 0)->shape : l->shape;
    switch (l->op) {
    case OP_INPUT:
        fputs("output size: as declared by `input`\n", out);
        break;
    case OP_FLATTEN:
        fprintf(out, "output size: F = C*H*W = %lld*%lld*%lld = %lld\n", (long long)in.c, (long long)in.h,
                (long long)in.w, (long long)l->shape.c);
        break;
    case OP_GLOBAL_AVGPOOL:
        fprintf(out, "output size: the mean over each %lld x %lld channel: C x 1 x 1\n", (long long)in.h,
                (long long)in.w);
        break;
    case OP_GLOBAL_MAXPOOL:
        fprintf(out, "output size: the max over each %lld x %lld channel: C x 1 x 1\n", (long long)in.h,
                (long long)in.w);
        break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        fputs("output size: the operands broadcast as in PyTorch: along each dimension the extents agree, or one "
              "is 1 and takes the other's\n", out);
        break;
    case OP_ADD_SCALAR:
    case OP_SUB_SCALAR:
    case OP_RSUB_SCALAR:
    case OP_MUL_SCALAR:
        fprintf(out, "output size: unchanged (elementwise y = x * %g + %g)\n", l->act_arg[0], l->act_arg[1]);
        break;
    case OP_PRELU:
        fputs("output size: unchanged (elementwise)\n", out);
        fprintf(out, "parameters: weight [num_parameters] (one slope%s)\n  params = %lld\n",
                l->num_parameters == 1 ? " shared by every channel" : " per channel", (long long)l->params);
        return;
    case OP_LOG_SOFTMAX:
        fputs("output size: unchanged (log_softmax over the channels or features)\n", out);
        break;
    case OP_SOFTMAX:
        fputs("output size: unchanged (softmax over the channels or features)\n", out);
        break;
    case OP_DROPOUT:
        fputs("output size: unchanged (dropout is the identity at inference)\n", out);
        break;
    case OP_SLICE:
    case OP_CHUNK:
    case OP_SPLIT:
        if (l->shape.c != in.c)
            fprintf(out, "output size: %s %lld to %lld of %lld\n", l->shape.rank == 1 ? "features" : "channels",
                    (long long)l->crop_channel, (long long)(l->crop_channel + l->shape.c), (long long)in.c);
        else
            fprintf(out, "output size: %s %lld to %lld of %lld\n", l->shape.h != in.h ? "rows" : "columns",
                    (long long)(l->shape.h != in.h ? l->crop_offset[0] : l->crop_offset[1]),
                    (long long)(l->shape.h != in.h ? l->crop_offset[0] + l->shape.h : l->crop_offset[1] + l->shape.w),
                    (long long)(l->shape.h != in.h ? in.h : in.w));
        break;
    case OP_RESHAPE:
    case OP_UNFLATTEN:
        fprintf(out, "output size: the same %lld elements in NCHW order, reshaped\n", (long long)numel(in));
        break;
    default:
        fputs("output size: unchanged (elementwise)\n", out);
        break;
    }
    fputs("parameters: none\n", out);
}

static void explain_layer(FILE *out, const Graph *g, const Layer *l)
{
    switch (l->op) {
    case OP_CONV2D:
    case OP_CONV_TRANSPOSE2D: explain_conv(out, g, l); break;
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D: explain_pool(out, g, l); break;
    case OP_UPSAMPLE: explain_upsample(out, g, l); break;
    case OP_PAD: explain_pad(out, g, l); break;
    case OP_ADAPTIVE_AVGPOOL2D:
    case OP_ADAPTIVE_MAXPOOL2D: explain_adaptive(out, g, l); break;
    case OP_CONCAT: explain_concat(out, g, l); break;
    case OP_CROP: explain_crop(out, g, l); break;
    case OP_LINEAR: explain_linear(out, g, l); break;
    case OP_BATCHNORM2D:
    case OP_GROUP_NORM:
    case OP_INSTANCE_NORM:
    case OP_LAYER_NORM: explain_norm(out, l); break;
    case OP_PIXEL_SHUFFLE:
    case OP_PIXEL_UNSHUFFLE:
    case OP_CHANNEL_SHUFFLE: explain_shuffle(out, g, l); break;
    default: explain_other(out, g, l); break;
    }
}

static void explain_header(FILE *out, const Graph *g, const Layer *l)
{
    char buf[96];
    fprintf(out, "%s: %s", l->name, fe_op_names[l->op]);
    if (l->key && strcmp(l->key, l->name))
        fprintf(out, " (state_dict key %s)", l->key);
    fputc('\n', out);
    for (int i = 0; i < g->nlayers && l->shared; i++)
        if (g->layers[i].key == l->key && !g->layers[i].shared)
            fprintf(out, "  shares the parameters of %s (share=): they are counted there, once; this use counts "
                    "params 0 and its own MACs\n", g->layers[i].name);
    for (int i = 0; i < l->ninputs; i++)
        fprintf(out, "  input %s: %s\n", input_of(g, l, i)->name, fmt_shape(buf, sizeof buf, input_of(g, l, i)->shape));
    fprintf(out, "  output: %s\n", fmt_shape(buf, sizeof buf, l->shape));
}

static void explain_footer(FILE *out, const Layer *l)
{
    char rf[128];
    fprintf(out, "receptive field: %s (size / stride in input pixels)\n", fmt_rf(rf, sizeof rf, l));
}

/* The layer name or key closest to `name` (diag_suggest's edit distance),
 * else the first that starts with it ("conv" -> "conv_transpose"), else NULL. */
static const char *closest_layer(const Graph *g, const char *name)
{
    const char **names = fe_xcalloc(2 * (size_t)g->nlayers + 1, sizeof *names);
    int n = 0;
    for (int i = 0; i < g->nlayers; i++) {
        names[n++] = g->layers[i].name;
        if (g->layers[i].key && strcmp(g->layers[i].key, g->layers[i].name))
            names[n++] = g->layers[i].key;
    }
    const char *best = diag_suggest(name, names, n);
    for (int i = 0; i < n && !best && *name; i++)
        if (!strncmp(names[i], name, strlen(name)))
            best = names[i];
    free(names);
    return best;
}

/* `--explain down1` where down1 is a block instance: its layers are named
 * "down1.*"; list them with their shapes and parameters. With by_key, the
 * same for a state_dict key prefix ("layer1.0" lists "layer1.0.conv1", ...). */
static bool explain_instance(FILE *out, const Graph *g, const char *name, bool by_key)
{
    size_t n = strlen(name);
    int64_t params = 0, buffers = 0, count = 0;
    char shape[96], num[32];
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        const char *s = by_key ? l->key : l->name;
        if (!s || strncmp(s, name, n) || s[n] != '.')
            continue;
        if (!count++)
            fprintf(out, by_key ? "%s: state_dict key prefix; its layers:\n" : "%s: block instance; its layers:\n", name);
        fprintf(out, "  %-24s %-16s %-18s %s params", l->name, fe_op_names[l->op],
                fmt_shape(shape, sizeof shape, l->shape), group3(num, l->params));
        if (by_key)
            fprintf(out, "  (key %s)", l->key);
        fputc('\n', out);
        params += l->params;
        buffers += l->buffers;
    }
    if (count)
        fprintf(out, "parameters: %s in %lld layers (buffers: %lld); --explain one of them for its formulas\n",
                group3(num, params), (long long)count, (long long)buffers);
    return count > 0;
}

/* The layer whose state_dict key is `name`, or whose tensor `name` is
 * ("features.3.weight" -> the layer with key "features.3"). */
static const Layer *layer_by_key(const Graph *g, const char *name)
{
    static const char *const tensors[] = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"};
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        size_t n = l->key ? strlen(l->key) : 0;
        if (!l->key || strncmp(name, l->key, n))
            continue;
        if (!name[n])
            return l;
        for (size_t t = 0; name[n] == '.' && t < sizeof tensors / sizeof tensors[0]; t++)
            if (!strcmp(name + n + 1, tensors[t]))
                return l;
    }
    return NULL;
}

static void explain_one(FILE *out, const Graph *g, const Layer *l)
{
    explain_header(out, g, l);
    explain_layer(out, g, l);
    explain_footer(out, l);
}

bool fe_explain(FILE *out, const Graph *g, const char *layer_name)
{
    for (int i = 0; i < g->nlayers; i++)
        if (!strcmp(g->layers[i].name, layer_name)) {
            explain_one(out, g, &g->layers[i]);
            return true;
        }
    if (*layer_name && explain_instance(out, g, layer_name, false))
        return true;
    const Layer *l = layer_by_key(g, layer_name);
    if (l) {
        explain_one(out, g, l);
        return true;
    }
    if (*layer_name && explain_instance(out, g, layer_name, true))
        return true;
    const char *near = closest_layer(g, layer_name);
    fprintf(stderr, "convc: error: no layer or state_dict key '%s' in network '%s'", layer_name, g->name);
    if (near)
        fprintf(stderr, "; did you mean '%s'?", near);
    fputc('\n', stderr);
    return false;
}
