/*
 * rules.c - the shape rule of every op in ops.def: reads the bound arguments
 * of one call, fills the Layer's attributes (PyTorch's defaults) and computes
 * its output shape, reporting bad arguments and impossible shapes.
 *
 * Formulas (per spatial dimension, as PyTorch):
 *   conv2d            out = floor((in + 2P - D*(K-1) - 1) / S) + 1
 *   conv_transpose2d  out = (in - 1)*S - 2P + D*(K-1) + output_padding + 1
 *   pools             as conv2d, ceil instead of floor with ceil_mode, and
 *                     then out - 1 if the last window starts past in + P
 *   padding=same      total = D*(K-1), begin = total/2, end = total - begin
 * Invariant: a rule returns true only with every extent of L->shape >= 1.
 */
#include <math.h>
#include <string.h>

#include "frontend/internal.h"

/* "[64, 128, 128]" or "[F]" */
static void shape_str(char *buf, size_t n, Shape s)
{
    if (s.rank == 1)
        snprintf(buf, n, "[%lld]", (long long)s.c);
    else
        snprintf(buf, n, "[%lld, %lld, %lld]", (long long)s.c, (long long)s.h, (long long)s.w);
}

static const Value *arg(const OpCall *k, const char *name)
{
    int i = op_arg_index(k->spec, name);
    return i < 0 ? NULL : &k->arg[i];
}

static bool given(const OpCall *k, const char *name)
{
    int i = op_arg_index(k->spec, name);
    return i >= 0 && k->given[i];
}

/* Where to point for an argument: the argument if written, else the call. */
static SrcSpan arg_span(const OpCall *k, const char *name)
{
    return given(k, name) ? arg(k, name)->span : k->span;
}

static Shape shape_of(const OpCall *k, int t) { return k->layers[k->tensors[t].layer].shape; }

static void note_tensor(const OpCall *k, int t)
{
    char s[96];
    shape_str(s, sizeof s, shape_of(k, t));
    diag_note(k->tensors[t].def, "'%s' is %s", k->tensors[t].label, s);
}

/* The integer pair of an 'i'/'p' argument; checks lo <= v <= LIMIT_DIM. */
static bool int_pair(const OpCall *k, const char *name, int64_t lo, int64_t v[2])
{
    const Value *a = arg(k, name);
    v[0] = a->i[0];
    v[1] = a->k == V_PAIR ? a->i[1] : a->i[0];
    for (int d = 0; d < 2; d++) {
        if (v[d] < lo) {
            diag_error(arg_span(k, name), "%s of %s must be %s, got %lld", name, k->spec->name,
                       lo > 0 ? "positive" : "non-negative", (long long)v[d]);
            return false;
        }
        if (v[d] > LIMIT_DIM) {
            diag_error(arg_span(k, name), "%s of %s is too large (%lld > %d)", name, k->spec->name,
                       (long long)v[d], LIMIT_DIM);
            return false;
        }
    }
    return true;
}

static bool tensor3(const OpCall *k, int t)
{
    Shape s = shape_of(k, t);
    if (s.rank == 3)
        return true;
    char buf[64];
    shape_str(buf, sizeof buf, s);
    diag_error(k->tensors[t].span, "%s expects a [C, H, W] tensor, but '%s' is %s", k->spec->name,
               k->tensors[t].label, buf);
    note_tensor(k, t);
    return false;
}

/* An optional channel count (in_channels=, num_features=, in_features=) must match. */
static bool check_in_count(const OpCall *k, const char *name, int64_t have)
{
    if (!given(k, name) || arg(k, name)->i[0] == have)
        return true;
    diag_error(arg_span(k, name), "%s expects %lld input %s (%s=%lld), but '%s' has %lld", k->spec->name,
               (long long)arg(k, name)->i[0], k->op == OP_LINEAR ? "features" : "channels", name,
               (long long)arg(k, name)->i[0], k->tensors[0].label, (long long)have);
    note_tensor(k, 0);
    return false;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

typedef struct { int64_t in, k, s, pb, pe, d; bool ceil; } Window;

/* out = floor((in + 2P - D*(K-1) - 1) / S) + 1, with PyTorch's ceil_mode rule. */
static int64_t window_out(Window w)
{
    int64_t num = w.in + w.pb + w.pe - w.d * (w.k - 1) - 1;
    int64_t out = (w.ceil ? ceil_div(num, w.s) : floor_div(num, w.s)) + 1;
    if (w.ceil && out > 0 && (out - 1) * w.s >= w.in + w.pb)
        out--;
    return out;
}

static bool check_extent(const OpCall *k, int dim, Window w, int64_t *out)
{
    *out = window_out(w);
    if (*out >= 1)
        return true;
    const char *what = dim ? "width" : "height";
    diag_error(k->span, "output %s of %s is %lld; it must be at least 1", what, k->spec->name, (long long)*out);
    diag_note(k->span, "%s = %s((in + 2*P - D*(K-1) - 1) / S) + 1 = %s((%lld + 2*%lld - %lld*(%lld-1) - 1) / %lld) + 1 = %lld",
              what, w.ceil ? "ceil" : "floor", w.ceil ? "ceil" : "floor", (long long)w.in, (long long)w.pb,
              (long long)w.d, (long long)w.k, (long long)w.s, (long long)*out);
    note_tensor(k, 0);
    return false;
}

/* padding: an int, (h, w), `valid` or `same` (stride 1 only). */
static bool conv_padding(const OpCall *k, Layer *L)
{
    const Value *p = arg(k, "padding");
    if (p->k != V_WORD)
        return int_pair(k, "padding", 0, L->pad_begin) &&
               (memcpy(L->pad_end, L->pad_begin, sizeof L->pad_end), true);
    if (!strcmp(p->s, "valid"))
        return true;
    if (L->stride[0] != 1 || L->stride[1] != 1) {
        diag_error(p->span, "padding=same is not supported with stride > 1 (stride=%lld), as in PyTorch",
                   (long long)(L->stride[0] != 1 ? L->stride[0] : L->stride[1]));
        diag_note(arg_span(k, "stride"), "stride given here");
        return false;
    }
    for (int d = 0; d < 2; d++) {
        int64_t total = L->dilation[d] * (L->kernel[d] - 1);
        L->pad_begin[d] = total / 2;
        L->pad_end[d] = total - total / 2;
    }
    return true;
}

static bool check_groups(const OpCall *k, Layer *L)
{
    if (L->in_channels % L->groups == 0 && L->out_channels % L->groups == 0)
        return true;
    bool in = L->in_channels % L->groups != 0;
    diag_error(arg_span(k, "groups"), "groups=%lld does not divide the %s channels (%lld)", (long long)L->groups,
               in ? "input" : "output", (long long)(in ? L->in_channels : L->out_channels));
    if (in)
        note_tensor(k, 0);
    return false;
}

static bool conv_common(const OpCall *k, Layer *L)
{
    int64_t oc[2], g[2];
    if (!tensor3(k, 0) || !int_pair(k, "out_channels", 1, oc) || !int_pair(k, "kernel_size", 1, L->kernel) ||
        !int_pair(k, "stride", 1, L->stride) || !int_pair(k, "dilation", 1, L->dilation) ||
        !int_pair(k, "groups", 1, g))
        return false;
    Shape in = shape_of(k, 0);
    L->in_channels = in.c;
    L->out_channels = oc[0];
    L->groups = g[0];
    L->bias = arg(k, "bias")->b;
    return check_in_count(k, "in_channels", in.c) && check_groups(k, L);
}

static PadMode pad_mode_of(const char *w)
{
    if (!strcmp(w, "reflect"))
        return PAD_REFLECT;
    if (!strcmp(w, "replicate"))
        return PAD_REPLICATE;
    if (!strcmp(w, "circular"))
        return PAD_CIRCULAR;
    return PAD_CONSTANT;   /* constant, zeros */
}

/* PyTorch's limits on padding of tensor 0 along each dimension: reflect
 * needs each side < the input extent (it mirrors without repeating the
 * edge), circular each side <= the extent left after cropping the negative
 * sides (it wraps around that at most once); constant crops the negative
 * sides first too, so they may crop at most the whole extent. */
static bool check_pad_mode(const OpCall *k, const Layer *L, const char *argname)
{
    Shape in = shape_of(k, 0);
    int64_t size[2] = {in.h, in.w};
    for (int d = 0; d < 2; d++) {
        int64_t b = L->pad_begin[d], e = L->pad_end[d];
        const char *what = d ? "width" : "height", *sides = d ? "(left, right)" : "(top, bottom)";
        if (L->pad_mode == PAD_REFLECT && (b >= size[d] || e >= size[d])) {
            diag_error(arg_span(k, argname), "reflect padding must be smaller than the input's %s: %s padding is "
                       "(%lld, %lld) but '%s' has %s %lld", what, sides, (long long)b, (long long)e,
                       k->tensors[0].label, what, (long long)size[d]);
            note_tensor(k, 0);
            return false;
        }
        int64_t kept = size[d] - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);   /* after cropping negative pads */
        if (L->pad_mode == PAD_CONSTANT && kept < 0) {
            diag_error(arg_span(k, argname), "negative padding crops more than the input's %s: %s padding is "
                       "(%lld, %lld) but '%s' has %s %lld", what, sides, (long long)b, (long long)e,
                       k->tensors[0].label, what, (long long)size[d]);
            note_tensor(k, 0);
            return false;
        }
        if (L->pad_mode == PAD_CIRCULAR && kept >= 1 && (b > kept || e > kept)) {
            diag_error(arg_span(k, argname), "circular padding wraps around more than once: %s padding is "
                       "(%lld, %lld) but '%s' has %s %lld%s", sides, (long long)b, (long long)e,
                       k->tensors[0].label, what, (long long)kept,
                       kept < size[d] ? " after cropping the negative padding" : "");
            note_tensor(k, 0);
            return false;
        }
    }
    return true;
}

static bool rule_CONV2D(OpCall *k, Layer *L)
{
    if (!conv_common(k, L) || !conv_padding(k, L))
        return false;
    L->pad_mode = pad_mode_of(arg(k, "padding_mode")->s);
    if (!check_pad_mode(k, L, "padding"))
        return false;
    Shape in = shape_of(k, 0);
    int64_t ext[2], size[2] = {in.h, in.w};
    for (int d = 0; d < 2; d++) {
        Window w = {size[d], L->kernel[d], L->stride[d], L->pad_begin[d], L->pad_end[d], L->dilation[d], false};
        if (!check_extent(k, d, w, &ext[d]))
            return false;
    }
    L->shape = (Shape){3, L->out_channels, ext[0], ext[1]};
    return true;
}

static bool rule_CONV_TRANSPOSE2D(OpCall *k, Layer *L)
{
    if (!conv_common(k, L) || !int_pair(k, "padding", 0, L->pad_begin) ||
        !int_pair(k, "output_padding", 0, L->output_padding))
        return false;
    memcpy(L->pad_end, L->pad_begin, sizeof L->pad_end);
    Shape in = shape_of(k, 0);
    int64_t ext[2], size[2] = {in.h, in.w};
    for (int d = 0; d < 2; d++) {
        if (L->output_padding[d] >= L->stride[d] && L->output_padding[d] >= L->dilation[d]) {
            diag_error(arg_span(k, "output_padding"), "output_padding (%lld) must be smaller than stride (%lld) or dilation (%lld)",
                       (long long)L->output_padding[d], (long long)L->stride[d], (long long)L->dilation[d]);
            return false;
        }
        ext[d] = (size[d] - 1) * L->stride[d] - 2 * L->pad_begin[d] + L->dilation[d] * (L->kernel[d] - 1) +
                 L->output_padding[d] + 1;
        if (ext[d] < 1) {
            const char *what = d ? "width" : "height";
            diag_error(k->span, "output %s of conv_transpose2d is %lld; it must be at least 1", what, (long long)ext[d]);
            diag_note(k->span, "%s = (in - 1)*S - 2*P + D*(K-1) + output_padding + 1 = (%lld - 1)*%lld - 2*%lld + %lld*(%lld-1) + %lld + 1 = %lld",
                      what, (long long)size[d], (long long)L->stride[d], (long long)L->pad_begin[d],
                      (long long)L->dilation[d], (long long)L->kernel[d], (long long)L->output_padding[d], (long long)ext[d]);
            return false;
        }
    }
    L->shape = (Shape){3, L->out_channels, ext[0], ext[1]};
    return true;
}

static bool rule_LINEAR(OpCall *k, Layer *L)
{
    Shape in = shape_of(k, 0);
    int64_t of[2];
    if (in.rank != 1) {
        char buf[64];
        shape_str(buf, sizeof buf, in);
        diag_error(k->tensors[0].span, "linear expects a flat [F] tensor, but '%s' is %s; use flatten() first",
                   k->tensors[0].label, buf);
        note_tensor(k, 0);
        return false;
    }
    if (!int_pair(k, "out_features", 1, of) || !check_in_count(k, "in_features", in.c))
        return false;
    L->in_channels = in.c;
    L->out_channels = of[0];
    L->bias = arg(k, "bias")->b;
    L->shape = (Shape){1, of[0], 1, 1};
    return true;
}

/* eps (and momentum, informational) of a normalisation. */
static bool norm_eps(const OpCall *k, Layer *L)
{
    L->eps = arg(k, "eps")->f[0];
    L->momentum = op_arg_index(k->spec, "momentum") >= 0 ? arg(k, "momentum")->f[0] : 0;
    if (L->eps > 0)
        return true;
    diag_error(arg_span(k, "eps"), "eps of %s must be positive, got %g", k->spec->name, L->eps);
    return false;
}

static bool rule_BATCHNORM2D(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0) || !check_in_count(k, "num_features", shape_of(k, 0).c) || !norm_eps(k, L))
        return false;
    L->affine = arg(k, "affine")->b;
    L->running_stats = arg(k, "track_running_stats")->b;
    if (!L->running_stats) {
        /* PyTorch then normalises with the statistics of the whole batch, even in eval() */
        diag_error(arg_span(k, "track_running_stats"), "batchnorm2d with track_running_stats=false normalises "
                   "with statistics over the whole batch (N, H, W), even in eval(); convc computes each sample on its own");
        diag_note(arg_span(k, "track_running_stats"), "for per-sample statistics (the same at batch size 1) use "
                  "instance_norm(x, affine=%s)", L->affine ? "true" : "false");
        return false;
    }
    L->in_channels = L->out_channels = shape_of(k, 0).c;
    L->shape = shape_of(k, 0);
    return true;
}

static bool same_shape(OpCall *k, Layer *L)
{
    L->shape = shape_of(k, 0);
    return true;
}

static bool rule_INPUT(OpCall *k, Layer *L) { return true; }
static bool rule_RELU(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_RELU6(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_SIGMOID(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_TANH(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_SILU(OpCall *k, Layer *L) { return same_shape(k, L); }

static bool rule_LEAKY_RELU(OpCall *k, Layer *L)
{
    L->negative_slope = L->act_arg[0] = arg(k, "negative_slope")->f[0];
    return same_shape(k, L);
}

static bool rule_DROPOUT(OpCall *k, Layer *L)
{
    double p = arg(k, "p")->f[0];
    if (p < 0 || p > 1) {
        diag_error(arg_span(k, "p"), "dropout probability has to be between 0 and 1, got %g", p);
        return false;
    }
    return same_shape(k, L);
}

static bool pool_common(OpCall *k, Layer *L, bool maxpool)
{
    if (!tensor3(k, 0) || !int_pair(k, "kernel_size", 1, L->kernel) || !int_pair(k, "padding", 0, L->pad_begin))
        return false;
    L->dilation[0] = L->dilation[1] = 1;
    if (maxpool && !int_pair(k, "dilation", 1, L->dilation))
        return false;
    if (arg(k, "stride")->k == V_POISON)   /* no default: stride = kernel_size */
        memcpy(L->stride, L->kernel, sizeof L->stride);
    else if (!int_pair(k, "stride", 1, L->stride))
        return false;
    memcpy(L->pad_end, L->pad_begin, sizeof L->pad_end);
    L->ceil_mode = arg(k, "ceil_mode")->b;
    for (int d = 0; d < 2; d++) {
        int64_t eff = L->kernel[d];   /* PyTorch checks kernel_size, not the dilated extent */
        if (2 * L->pad_begin[d] > eff) {
            diag_error(arg_span(k, "padding"), "padding of %s is %lld, but it can be at most half of kernel_size %lld",
                       k->spec->name, (long long)L->pad_begin[d], (long long)eff);
            return false;
        }
    }
    Shape in = shape_of(k, 0);
    int64_t ext[2], size[2] = {in.h, in.w};
    for (int d = 0; d < 2; d++) {
        Window w = {size[d], L->kernel[d], L->stride[d], L->pad_begin[d], L->pad_end[d], L->dilation[d], L->ceil_mode};
        if (!check_extent(k, d, w, &ext[d]))
            return false;
    }
    L->shape = (Shape){3, in.c, ext[0], ext[1]};
    return true;
}

static bool rule_MAXPOOL2D(OpCall *k, Layer *L) { return pool_common(k, L, true); }

static bool rule_AVGPOOL2D(OpCall *k, Layer *L)
{
    L->count_include_pad = arg(k, "count_include_pad")->b;
    return pool_common(k, L, false);
}

static bool rule_GLOBAL_AVGPOOL(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0))
        return false;
    Shape in = shape_of(k, 0);
    L->kernel[0] = L->stride[0] = in.h;
    L->kernel[1] = L->stride[1] = in.w;
    L->dilation[0] = L->dilation[1] = 1;
    L->count_include_pad = true;
    L->shape = (Shape){3, in.c, 1, 1};
    return true;
}

/* adaptive pools: output_size (h, w); output o reads [floor(o*in/out), ceil((o+1)*in/out)). */
static bool adaptive_pool(OpCall *k, Layer *L, int64_t oh, int64_t ow)
{
    Shape in = shape_of(k, 0);
    L->dilation[0] = L->dilation[1] = 1;
    L->shape = (Shape){3, in.c, oh, ow};
    return true;
}

static bool rule_ADAPTIVE_AVGPOOL2D(OpCall *k, Layer *L)
{
    int64_t v[2];
    if (!tensor3(k, 0) || !int_pair(k, "output_size", 1, v))
        return false;
    return adaptive_pool(k, L, v[0], v[1]);
}

static bool rule_ADAPTIVE_MAXPOOL2D(OpCall *k, Layer *L) { return rule_ADAPTIVE_AVGPOOL2D(k, L); }

static bool rule_GLOBAL_MAXPOOL(OpCall *k, Layer *L)
{
    return tensor3(k, 0) && adaptive_pool(k, L, 1, 1);
}

/* pad(x, pad, mode, value) as F.pad: pad is (left, right[, top, bottom]) or
 * one integer for all four; negative values crop. */
static bool rule_PAD(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0))
        return false;
    const Value *p = arg(k, "pad");
    L->pad_mode = pad_mode_of(arg(k, "mode")->s);
    if (p->k == V_PAIR && L->pad_mode != PAD_CONSTANT) {
        diag_error(p->span, "pad with mode=%s needs four values (left, right, top, bottom) for a [C, H, W] "
                   "tensor; only mode=constant pads the width alone", arg(k, "mode")->s);
        return false;
    }
    int64_t v[4] = {p->i[0], p->i[0], p->i[0], p->i[0]};
    if (p->k == V_PAIR)
        v[1] = p->i[1], v[2] = v[3] = 0;
    if (p->k == V_QUAD)
        memcpy(v, p->i, sizeof v);
    for (int i = 0; i < 4; i++) {
        if (v[i] > LIMIT_DIM || v[i] < -LIMIT_DIM) {
            diag_error(p->span, "pad of %lld is too large (limit %d)", (long long)v[i], LIMIT_DIM);
            return false;
        }
    }
    if (given(k, "value") && L->pad_mode != PAD_CONSTANT) {
        diag_error(arg_span(k, "value"), "pad with mode=%s takes no value= (only mode=constant fills with a "
                   "value)", arg(k, "mode")->s);
        return false;
    }
    L->pad_value = given(k, "value") ? arg(k, "value")->f[0] : 0.0;
    L->pad_begin[0] = v[2], L->pad_end[0] = v[3];
    L->pad_begin[1] = v[0], L->pad_end[1] = v[1];
    if (!check_pad_mode(k, L, "pad"))
        return false;
    Shape in = shape_of(k, 0);
    int64_t size[2] = {in.h, in.w}, ext[2];
    for (int d = 0; d < 2; d++) {
        ext[d] = size[d] + L->pad_begin[d] + L->pad_end[d];
        if (ext[d] < 1 || ext[d] > LIMIT_DIM) {
            diag_error(p->span, "pad gives an output %s of %lld + %lld + %lld = %lld; it must be between 1 and %d",
                       d ? "width" : "height", (long long)size[d], (long long)L->pad_begin[d],
                       (long long)L->pad_end[d], (long long)ext[d], LIMIT_DIM);
            note_tensor(k, 0);
            return false;
        }
    }
    L->shape = (Shape){3, in.c, ext[0], ext[1]};
    return true;
}

static UpsampleMode upsample_mode(const char *w)
{
    if (!strcmp(w, "bilinear"))
        return UPSAMPLE_BILINEAR;
    if (!strcmp(w, "bicubic"))
        return UPSAMPLE_BICUBIC;
    if (!strcmp(w, "nearest-exact") || !strcmp(w, "nearest_exact"))
        return UPSAMPLE_NEAREST_EXACT;
    return UPSAMPLE_NEAREST;
}

/* The output size of upsample from exactly one of scale_factor=, size= and
 * like= (PyTorch: "only one of size or scale_factor should be defined"). */
static bool upsample_size(OpCall *k, Layer *L, double *h, double *w)
{
    static const char *const how[] = {"scale_factor", "size", "like"};
    int n = 0, first = -1;
    for (int i = 0; i < 3; i++) {
        if (!given(k, how[i]))
            continue;
        if (n++) {
            diag_error(arg_span(k, how[i]), "upsample takes one of scale_factor, size and like, but %s and %s "
                       "are both given", how[first], how[i]);
            return false;
        }
        first = i;
    }
    if (!n) {
        diag_error(k->span, "upsample needs its output size: scale_factor=, size=(h, w) or like=tensor");
        return false;
    }
    Shape in = shape_of(k, 0);
    if (first == 0) {
        const Value *s = arg(k, "scale_factor");
        L->scale[0] = s->f[0];
        L->scale[1] = s->k == V_PAIR ? s->f[1] : s->f[0];
        *h = floor((double)in.h * L->scale[0]), *w = floor((double)in.w * L->scale[1]);
        if (!(L->scale[0] > 0 && L->scale[1] > 0) || !(*h >= 1 && *w >= 1) || *h > LIMIT_DIM || *w > LIMIT_DIM) {
            diag_error(s->span, "scale_factor %g x %g gives an output of %g x %g from %lld x %lld", L->scale[0],
                       L->scale[1], *h, *w, (long long)in.h, (long long)in.w);
            return false;
        }
        return true;
    }
    if (first == 1) {
        int64_t v[2];
        if (!int_pair(k, "size", 1, v))
            return false;
        *h = (double)v[0], *w = (double)v[1];
        return true;
    }
    const Value *like = arg(k, "like");
    Shape s = k->layers[like->layer].shape;
    if (s.rank != 3) {
        char buf[64];
        shape_str(buf, sizeof buf, s);
        diag_error(like->span, "upsample like= needs a [C, H, W] tensor, but '%s' is %s", like->label, buf);
        diag_note(like->def, "'%s' is %s", like->label, buf);
        return false;
    }
    *h = (double)s.h, *w = (double)s.w;
    return true;
}

static bool rule_UPSAMPLE(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0))
        return false;
    Shape in = shape_of(k, 0);
    L->mode = upsample_mode(arg(k, "mode")->s);
    if (given(k, "align_corners") && (L->mode == UPSAMPLE_NEAREST || L->mode == UPSAMPLE_NEAREST_EXACT)) {
        diag_error(arg_span(k, "align_corners"), "align_corners can only be set with the interpolating modes "
                   "bilinear and bicubic, not with mode=%s (PyTorch's rule)", arg(k, "mode")->s);
        return false;
    }
    L->align_corners = given(k, "align_corners") && arg(k, "align_corners")->b;
    double h, w;
    if (!upsample_size(k, L, &h, &w))
        return false;
    if (h > LIMIT_UPSAMPLE || w > LIMIT_UPSAMPLE) {
        const char *by = given(k, "size") ? "size" : given(k, "like") ? "like" : "scale_factor";
        diag_error(arg_span(k, by), "upsample output is %.0f x %.0f; it may have at most %d rows and columns (its "
                   "interpolation tables are compiled into the executable)", h, w, LIMIT_UPSAMPLE);
        return false;
    }
    L->shape = (Shape){3, in.c, (int64_t)h, (int64_t)w};
    return true;
}

/* Reports operands t and u of a binary op whose shapes differ. */
static bool shape_mismatch(OpCall *k, int t, int u, const char *what)
{
    char a[96], b[96];
    shape_str(a, sizeof a, shape_of(k, t));
    shape_str(b, sizeof b, shape_of(k, u));
    diag_error(k->tensors[u].span, "%s: '%s' is %s but '%s' is %s", what, k->tensors[t].label, a,
               k->tensors[u].label, b);
    note_tensor(k, t);
    note_tensor(k, u);
    return false;
}

/* dim as PyTorch numbers the dimensions of the batched tensor (N, C, H, W or
 * N, F), negative from the end: the per-sample axis (0 = C or F, 1 = H, 2 = W). */
static bool batched_dim(const OpCall *k, Shape s, int *axis)
{
    int64_t dim = arg(k, "dim")->i[0], n = s.rank + 1;
    int64_t d = dim < 0 ? dim + n : dim;
    if (d >= 1 && d < n) {
        *axis = (int)d - 1;
        return true;
    }
    if (d == 0)
        diag_error(arg_span(k, "dim"), "dim=%lld of %s is the batch dimension; convc's tensors are per sample "
                   "(dim=1 is C, 2 is H, 3 is W, as in PyTorch's N, C, H, W)", (long long)dim, k->spec->name);
    else
        diag_error(arg_span(k, "dim"), "dim=%lld of %s is out of range: '%s' has %lld dimensions with the batch "
                   "(PyTorch accepts %lld to %lld)", (long long)dim, k->spec->name, k->tensors[0].label,
                   (long long)n, (long long)-n, (long long)(n - 1));
    note_tensor(k, 0);
    return false;
}

static const char *const axis_names[3] = {"channels", "height", "width"};

static int64_t axis_extent(Shape s, int axis)
{
    return axis == 0 ? s.c : axis == 1 ? s.h : s.w;
}

/* dim= of the first tensor x, for the ops that take a range of x along it
 * (slice, chunk, split): x's shape, the axis (0 = C or F, 1 = H, 2 = W), x's
 * extent along it and its name in messages. */
typedef struct {
    Shape in;
    int axis;
    int64_t n;
    const char *name;
} DimArg;

static bool dim_arg(const OpCall *k, DimArg *d)
{
    d->in = shape_of(k, 0);
    if (!batched_dim(k, d->in, &d->axis))
        return false;
    d->n = axis_extent(d->in, d->axis);
    d->name = d->in.rank == 1 ? "features" : axis_names[d->axis];
    return true;
}

/* The output is x's range [start, end) along d's axis. */
static void take_range(Layer *L, const DimArg *d, int64_t start, int64_t end)
{
    L->shape = d->in;
    if (d->axis == 0)
        L->crop_channel = start, L->shape.c = end - start;
    else if (d->axis == 1)
        L->crop_offset[0] = start, L->shape.h = end - start;
    else
        L->crop_offset[1] = start, L->shape.w = end - start;
}

static bool rule_CONCAT(OpCall *k, Layer *L)
{
    Shape s0 = shape_of(k, 0);
    int axis;
    if (!batched_dim(k, s0, &axis))
        return false;
    L->axis = axis;
    L->shape = s0;
    int64_t *sum = axis == 0 ? &L->shape.c : axis == 1 ? &L->shape.h : &L->shape.w;
    for (int t = 1; t < k->ntensors; t++) {
        Shape s = shape_of(k, t);
        int64_t d[3] = {s.c, s.h, s.w}, d0[3] = {s0.c, s0.h, s0.w};
        if (s.rank != s0.rank)
            return shape_mismatch(k, 0, t, "concat inputs must have the same rank");
        for (int i = 0; i < 3; i++) {
            if (i == axis || d[i] == d0[i])
                continue;
            static const char *const others[3] = {"", "channels and width", "channels and height"};
            char what[96];
            if (axis == 0)
                snprintf(what, sizeof what, "concat inputs must have the same height and width");
            else
                snprintf(what, sizeof what, "concat along the %s needs inputs of the same %s", axis_names[axis],
                         others[axis]);
            return shape_mismatch(k, 0, t, what);
        }
        *sum += axis_extent(s, axis);
    }
    if (*sum > LIMIT_DIM) {
        diag_error(k->span, "concat gives too many %s (%lld)", axis_names[axis], (long long)*sum);
        return false;
    }
    return true;
}

/* PyTorch's broadcasting between tensors of one rank: along each dimension
 * the extents agree or one of them is 1. A flat [F] never broadcasts with a
 * [C, H, W]: with the batch dimension PyTorch would line [N, F] up with
 * [H, W] of [N, C, H, W], which is not a per-sample operation. */
static bool broadcast(OpCall *k, Layer *L)
{
    Shape a = shape_of(k, 0), b = shape_of(k, 1);
    int64_t da[3] = {a.c, a.h, a.w}, db[3] = {b.c, b.h, b.w}, d[3];
    char what[96];
    snprintf(what, sizeof what, "operands of %s cannot be broadcast together", k->spec->name);
    if (a.rank != b.rank) {
        shape_mismatch(k, 0, 1, what);
        diag_note(k->span, "a flat [F] tensor and a [C, H, W] tensor do not broadcast per sample (PyTorch would line "
                  "[N, F] up with [H, W]); a per-channel factor is a [C, 1, 1] tensor, e.g. conv2d(kernel_size=1) "
                  "on global_avgpool's output, as torchvision's SqueezeExcitation computes it");
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
            return shape_mismatch(k, 0, 1, what);
        d[i] = da[i] == 1 ? db[i] : da[i];
    }
    L->shape = (Shape){a.rank, d[0], d[1], d[2]};
    return true;
}

static bool rule_ADD(OpCall *k, Layer *L) { return broadcast(k, L); }
static bool rule_SUB(OpCall *k, Layer *L) { return broadcast(k, L); }
static bool rule_MUL(OpCall *k, Layer *L) { return broadcast(k, L); }

/* x op s as y = x*scale + shift: mul s*x, add x + s, sub x - s, rsub s - x. */
static bool scalar_op(OpCall *k, Layer *L, double scale, double shift)
{
    L->act_arg[0] = scale;
    L->act_arg[1] = shift;
    return same_shape(k, L);
}

static bool rule_ADD_SCALAR(OpCall *k, Layer *L) { return scalar_op(k, L, 1.0, arg(k, "other")->f[0]); }
static bool rule_SUB_SCALAR(OpCall *k, Layer *L) { return scalar_op(k, L, 1.0, -arg(k, "other")->f[0]); }
static bool rule_RSUB_SCALAR(OpCall *k, Layer *L) { return scalar_op(k, L, -1.0, arg(k, "other")->f[0]); }
static bool rule_MUL_SCALAR(OpCall *k, Layer *L) { return scalar_op(k, L, arg(k, "other")->f[0], 0.0); }

static bool rule_HARDSWISH(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_HARDSIGMOID(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_SELU(OpCall *k, Layer *L) { return same_shape(k, L); }
static bool rule_MISH(OpCall *k, Layer *L) { return same_shape(k, L); }

static bool rule_GELU(OpCall *k, Layer *L)
{
    L->act_arg[0] = !strcmp(arg(k, "approximate")->s, "tanh");
    return same_shape(k, L);
}

static bool rule_ELU(OpCall *k, Layer *L)
{
    L->act_arg[0] = arg(k, "alpha")->f[0];
    return same_shape(k, L);
}

static bool rule_SOFTPLUS(OpCall *k, Layer *L)
{
    L->act_arg[0] = arg(k, "beta")->f[0];
    L->act_arg[1] = arg(k, "threshold")->f[0];
    if (L->act_arg[0] == 0) {
        diag_error(arg_span(k, "beta"), "beta of softplus must not be 0 (softplus divides by it)");
        return false;
    }
    return same_shape(k, L);
}

static bool rule_HARDTANH(OpCall *k, Layer *L)
{
    L->act_arg[0] = arg(k, "min_val")->f[0];
    L->act_arg[1] = arg(k, "max_val")->f[0];
    if (!(L->act_arg[1] > L->act_arg[0])) {
        diag_error(arg_span(k, "max_val"), "max_val of hardtanh (%g) must be greater than min_val (%g), as nn.Hardtanh requires",
                   L->act_arg[1], L->act_arg[0]);
        diag_note(arg_span(k, "min_val"), "min_val given here");
        return false;
    }
    return same_shape(k, L);
}

/* nn.PReLU(num_parameters): one slope, or one per channel (dim 1). */
static bool rule_PRELU(OpCall *k, Layer *L)
{
    int64_t n = arg(k, "num_parameters")->i[0], c = shape_of(k, 0).c;
    if (n != 1 && n != c) {
        diag_error(arg_span(k, "num_parameters"), "num_parameters of prelu must be 1 or the %s (%lld), got %lld",
                   shape_of(k, 0).rank == 1 ? "features" : "channels", (long long)c, (long long)n);
        note_tensor(k, 0);
        return false;
    }
    L->num_parameters = n;
    return same_shape(k, L);
}

static bool rule_CROP(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0) || !tensor3(k, 1))
        return false;
    Shape x = shape_of(k, 0), like = shape_of(k, 1);
    if (like.h > x.h || like.w > x.w)
        return shape_mismatch(k, 0, 1, "crop target must not be larger than the cropped tensor");
    L->crop_offset[0] = (x.h - like.h) / 2;
    L->crop_offset[1] = (x.w - like.w) / 2;
    L->shape = (Shape){3, x.c, like.h, like.w};
    return true;
}

static bool rule_FLATTEN(OpCall *k, Layer *L)
{
    if (arg(k, "start_dim")->i[0] != 1) {
        diag_error(arg_span(k, "start_dim"), "flatten supports start_dim=1 only");
        return false;
    }
    Shape s = shape_of(k, 0);
    L->shape = (Shape){1, s.c * s.h * s.w, 1, 1};
    return true;
}

static bool softmax_dim(OpCall *k, Layer *L)
{
    int64_t dim = arg(k, "dim")->i[0];
    Shape s = shape_of(k, 0);
    if (dim != 1 && dim != -s.rank) {
        diag_error(arg_span(k, "dim"), "%s runs over channels/features only (dim=1), got dim=%lld", k->spec->name, (long long)dim);
        return false;
    }
    L->softmax_dim = 0;
    L->shape = s;
    return true;
}

static bool rule_SOFTMAX(OpCall *k, Layer *L) { return softmax_dim(k, L); }
static bool rule_LOG_SOFTMAX(OpCall *k, Layer *L) { return softmax_dim(k, L); }

/* ---- normalisation with per-sample statistics, rearranging (issue 9) ------ */

/* The channel count of the input is divisible by n (what = "num_groups=4"). */
static bool channels_divisible(const OpCall *k, const char *argname, int64_t n, const char *what)
{
    int64_t c = shape_of(k, 0).c;
    if (c % n == 0)
        return true;
    diag_error(arg_span(k, argname), "%s needs the channels of '%s' to be divisible by %s, but it has %lld channels",
               k->spec->name, k->tensors[0].label, what, (long long)c);
    note_tensor(k, 0);
    return false;
}

static bool rule_GROUP_NORM(OpCall *k, Layer *L)
{
    int64_t g[2];
    Shape in = shape_of(k, 0);
    if (!int_pair(k, "num_groups", 1, g) || !check_in_count(k, "num_channels", in.c) || !norm_eps(k, L))
        return false;
    char what[64];
    snprintf(what, sizeof what, "num_groups=%lld", (long long)g[0]);
    if (!channels_divisible(k, "num_groups", g[0], what))
        return false;
    L->norm_groups = g[0];
    L->affine = arg(k, "affine")->b;
    L->in_channels = L->out_channels = in.c;
    L->shape = in;
    return true;
}

static bool rule_INSTANCE_NORM(OpCall *k, Layer *L)
{
    if (!tensor3(k, 0) || !check_in_count(k, "num_features", shape_of(k, 0).c) || !norm_eps(k, L))
        return false;
    L->affine = arg(k, "affine")->b;
    L->running_stats = arg(k, "track_running_stats")->b;
    if (!L->running_stats && shape_of(k, 0).h * shape_of(k, 0).w == 1) {  /* PyTorch's _verify_spatial_size */
        diag_error(k->tensors[0].span, "instance_norm normalises each channel over H*W, but '%s' is 1 x 1 "
                   "(PyTorch expects more than 1 spatial element)", k->tensors[0].label);
        note_tensor(k, 0);
        return false;
    }
    L->norm_groups = shape_of(k, 0).c;
    L->in_channels = L->out_channels = shape_of(k, 0).c;
    L->shape = shape_of(k, 0);
    return true;
}

/* normalized_shape: the last 1, 2 or 3 dimensions of the input, as PyTorch. */
static bool rule_LAYER_NORM(OpCall *k, Layer *L)
{
    const Value *ns = arg(k, "normalized_shape");
    Shape in = shape_of(k, 0);
    int n = ns->k == V_PAIR ? ns->n : 1;
    int64_t dims[3] = {in.c, in.h, in.w}, prod = 1;
    int rank = in.rank == 1 ? 1 : 3;
    const int64_t *last = in.rank == 1 ? &in.c : dims + 3 - n;
    bool ok = n <= rank;
    for (int i = 0; ok && i < n; i++)
        ok = ns->i[i] == last[i];
    if (!ok) {
        char want[96], have[96];
        if (n == 1)
            snprintf(want, sizeof want, "[%lld]", (long long)ns->i[0]);
        else if (n == 2)
            snprintf(want, sizeof want, "[%lld, %lld]", (long long)ns->i[0], (long long)ns->i[1]);
        else
            snprintf(want, sizeof want, "[%lld, %lld, %lld]", (long long)ns->i[0], (long long)ns->i[1], (long long)ns->i[2]);
        shape_str(have, sizeof have, in);
        diag_error(ns->span, "normalized_shape %s of layer_norm must be the last %d dimension%s of '%s', which is %s",
                   want, n, n == 1 ? "" : "s", k->tensors[0].label, have);
        note_tensor(k, 0);
        return false;
    }
    if (!norm_eps(k, L))
        return false;
    for (int i = 0; i < n; i++)
        prod *= ns->i[i];
    L->norm_dims = n;
    L->norm_groups = (in.c * in.h * in.w) / prod;
    L->affine = arg(k, "elementwise_affine")->b;
    L->in_channels = L->out_channels = in.c;
    L->shape = in;
    return true;
}

/* The factor of a shuffle: positive, at most LIMIT_DIM. */
static bool shuffle_factor(const OpCall *k, const char *name, Layer *L)
{
    int64_t f[2];
    if (!tensor3(k, 0) || !int_pair(k, name, 1, f))
        return false;
    L->shuffle_factor = f[0];
    return true;
}

static bool rule_PIXEL_SHUFFLE(OpCall *k, Layer *L)
{
    if (!shuffle_factor(k, "upscale_factor", L))
        return false;
    int64_t r = L->shuffle_factor;
    Shape in = shape_of(k, 0);
    char what[64];
    snprintf(what, sizeof what, "upscale_factor^2 = %lld", (long long)(r * r));
    if (!channels_divisible(k, "upscale_factor", r * r, what))
        return false;
    if (in.h * r > LIMIT_DIM || in.w * r > LIMIT_DIM) {
        diag_error(arg_span(k, "upscale_factor"), "pixel_shuffle output is %lld x %lld; an extent may be at most %d",
                   (long long)(in.h * r), (long long)(in.w * r), LIMIT_DIM);
        return false;
    }
    L->scale[0] = L->scale[1] = (double)r;   /* as a nearest upsample, for the receptive field */
    L->shape = (Shape){3, in.c / (r * r), in.h * r, in.w * r};
    return true;
}

static bool rule_PIXEL_UNSHUFFLE(OpCall *k, Layer *L)
{
    if (!shuffle_factor(k, "downscale_factor", L))
        return false;
    int64_t r = L->shuffle_factor;
    Shape in = shape_of(k, 0);
    if (in.h % r || in.w % r) {
        diag_error(arg_span(k, "downscale_factor"), "pixel_unshuffle needs the height and width of '%s' to be "
                   "divisible by downscale_factor=%lld, but it is %lld x %lld", k->tensors[0].label, (long long)r,
                   (long long)in.h, (long long)in.w);
        note_tensor(k, 0);
        return false;
    }
    for (int d = 0; d < 2; d++)   /* as an r x r window with stride r, for the receptive field */
        L->kernel[d] = L->stride[d] = r, L->dilation[d] = 1;
    L->shape = (Shape){3, in.c * r * r, in.h / r, in.w / r};
    return true;
}

static bool rule_CHANNEL_SHUFFLE(OpCall *k, Layer *L)
{
    if (!shuffle_factor(k, "groups", L))
        return false;
    char what[64];
    snprintf(what, sizeof what, "groups=%lld", (long long)L->shuffle_factor);
    if (!channels_divisible(k, "groups", L->shuffle_factor, what))
        return false;
    L->shape = shape_of(k, 0);
    return true;
}

/* slice(x, start, end, dim=1): x[:, start:end] along dim (PyTorch's numbering
 * with the batch); start and end may count from the end when negative, as
 * Python's; no end: to the end. The slice must not be empty. */
static bool rule_SLICE(OpCall *k, Layer *L)
{
    DimArg d;
    if (!dim_arg(k, &d))
        return false;
    int64_t n = d.n;
    bool has_end = arg(k, "end")->k != V_POISON;
    int64_t start = arg(k, "start")->i[0], end = has_end ? arg(k, "end")->i[0] : n;
    int64_t s = start < 0 ? start + n : start, e = end < 0 ? end + n : end;
    if (s < 0 || s >= n || e <= s || e > n) {
        diag_error(has_end && s >= 0 && s < n ? arg_span(k, "end") : arg_span(k, "start"),
                   "slice [%lld:%lld] of the %s of '%s' (%lld) is %s", (long long)start, (long long)end,
                   d.name, k->tensors[0].label, (long long)n,
                   s < 0 || s >= n || e > n ? "out of range" : "empty");
        note_tensor(k, 0);
        return false;
    }
    take_range(L, &d, s, e);
    return true;
}

/* A target shape F or (C, H, W) for the elements of x; one extent may be -1
 * (what the others leave), as PyTorch's reshape. */
static bool reshape_to(OpCall *k, Layer *L, const char *name)
{
    const Value *v = arg(k, name);
    Shape in = shape_of(k, 0);
    int n = v->k == V_PAIR ? v->n : 1;
    int64_t d[3] = {v->i[0], n > 1 ? v->i[1] : 1, n > 2 ? v->i[2] : 1}, known = 1, numel = in.c * in.h * in.w;
    int free = -1;
    char have[96];
    shape_str(have, sizeof have, in);
    if (n == 2) {
        diag_error(v->span, "%s of %s is F or (C, H, W) per sample, not a pair", name, k->spec->name);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (d[i] == -1 && free < 0) {
            free = i;
            continue;
        }
        if (d[i] < 1 || d[i] > LIMIT_DIM) {
            diag_error(v->span, "%s of %s has the extent %lld; extents are positive, and one of them may be -1",
                       name, k->spec->name, (long long)d[i]);
            return false;
        }
        known *= d[i];
    }
    if (free >= 0 && numel % known == 0)
        d[free] = numel / known, known = numel;
    if (known != numel) {
        diag_error(v->span, "%s of %s does not hold the %lld elements of '%s' (%s)", name, k->spec->name,
                   (long long)numel, k->tensors[0].label, have);
        note_tensor(k, 0);
        return false;
    }
    L->shape = n == 1 ? (Shape){1, d[0], 1, 1} : (Shape){3, d[0], d[1], d[2]};
    return true;
}

static bool rule_RESHAPE(OpCall *k, Layer *L) { return reshape_to(k, L, "shape"); }

/* unflatten(x, dim, unflattened_size): [F] (PyTorch's N, F) with dim=1 or -1
 * into [C, H, W]. */
static bool rule_UNFLATTEN(OpCall *k, Layer *L)
{
    Shape in = shape_of(k, 0);
    int axis;
    if (in.rank != 1) {
        char have[96];
        shape_str(have, sizeof have, in);
        diag_error(k->tensors[0].span, "unflatten expects a flat [F] tensor, but '%s' is %s (use reshape)",
                   k->tensors[0].label, have);
        note_tensor(k, 0);
        return false;
    }
    return batched_dim(k, in, &axis) && reshape_to(k, L, "unflattened_size");
}

/* chunk and split, part i of n (the checker unpacks `a, b = chunk(x, 2)` into
 * one call per name): the range [start, end) of part i along dim, as
 * PyTorch's torch.chunk (parts of ceil(size / chunks), fewer parts if that
 * covers the size) and torch.split (parts of split_size, the last smaller; or
 * the sections, which must add up to the size). */
static bool rule_parts(OpCall *k, Layer *L)
{
    bool chunk = k->op == OP_CHUNK;
    const char *what = chunk ? "chunks" : "split_size_or_sections";
    if (!given(k, "part")) {
        diag_error(k->span, "%s gives several tensors: unpack them into names, as in a, b = %s(x, ...)",
                   k->spec->name, k->spec->name);
        return false;
    }
    DimArg d;
    if (!dim_arg(k, &d))
        return false;
    const char *dname = d.name;
    const Value *v = arg(k, what);
    int64_t n = d.n, part = arg(k, "part")->i[0];
    int64_t parts = arg(k, "parts")->i[0], count, start = 0, end;
    if (v->k == V_PAIR) {   /* sections */
        int64_t sum = 0;
        for (int i = 0; i < v->n; i++) {
            if (v->i[i] < 1) {
                diag_error(v->span, "the sections of split must be positive, got %lld", (long long)v->i[i]);
                return false;
            }
            sum += v->i[i];
            if (i < part)
                start += v->i[i];
        }
        if (sum != n) {
            diag_error(v->span, "the sections of split add up to %lld, but the %s of '%s' are %lld", (long long)sum,
                       dname, k->tensors[0].label, (long long)n);
            note_tensor(k, 0);
            return false;
        }
        count = v->n;
        end = start + (part < count ? v->i[part] : 0);
    } else {
        if (v->i[0] < 1) {
            diag_error(v->span, "%s of %s must be positive, got %lld", what, k->spec->name, (long long)v->i[0]);
            return false;
        }
        int64_t size = chunk ? (n + v->i[0] - 1) / v->i[0] : v->i[0];
        count = (n + size - 1) / size;
        start = part * size;
        end = start + size < n ? start + size : n;
    }
    if (count != parts) {
        diag_error(k->span, "%s gives %lld tensor%s (the %lld %s of '%s' in parts of %s), but %lld names are written",
                   k->spec->name, (long long)count, count == 1 ? "" : "s", (long long)n, dname, k->tensors[0].label,
                   v->k == V_PAIR ? "the sections" : chunk ? "ceil(size / chunks)" : "split_size", (long long)parts);
        note_tensor(k, 0);
        return false;
    }
    take_range(L, &d, start, end);
    return true;
}

static bool rule_CHUNK(OpCall *k, Layer *L) { return rule_parts(k, L); }
static bool rule_SPLIT(OpCall *k, Layer *L) { return rule_parts(k, L); }

typedef bool (*RuleFn)(OpCall *, Layer *);
static const RuleFn rules[OP_COUNT] = {
#define OP(id, ...) [OP_##id] = rule_##id,
#include "frontend/ops.def"
#undef OP
};

/* ---- limits (internal.h): checked here, before any count is stored ------- */

/* a * b, or INT64_MAX if that overflows (a saturated count is over every limit). */
static int64_t mul_sat(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

/* A count for a message: exact, or "more than 2^63" once saturated. */
static const char *count_str(char *buf, size_t n, int64_t v)
{
    if (v == INT64_MAX)
        snprintf(buf, n, "more than 2^63");
    else
        snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

static bool numel_ok(SrcSpan sp, const char *what, const char *dims, int64_t n)
{
    if (n <= LIMIT_NUMEL)
        return true;
    char num[32];
    diag_error(sp, "%s is %s: %s elements; a tensor may have at most %d (2^31-1)", what, dims,
               count_str(num, sizeof num, n), LIMIT_NUMEL);
    return false;
}

bool rule_check_numel(SrcSpan sp, const char *what, Shape s)
{
    char dims[96];
    shape_str(dims, sizeof dims, s);
    return numel_ok(sp, what, dims, mul_sat(mul_sat(s.c, s.h), s.w));
}

/* PyTorch's weight shape: conv2d [Cout, Cin/g, kh, kw], conv_transpose2d
 * [Cin, Cout/g, kh, kw], linear [out, in]; its element count in *n. */
static bool check_weight(const OpCall *k, const Layer *L, int64_t *n)
{
    int64_t d[4] = {L->out_channels, L->in_channels, 1, 1};
    if (k->op != OP_LINEAR)
        d[1] /= L->groups, d[2] = L->kernel[0], d[3] = L->kernel[1];
    if (k->op == OP_CONV_TRANSPOSE2D)
        d[0] = L->in_channels, d[1] = L->out_channels / L->groups;
    char dims[128], what[64];
    if (k->op == OP_LINEAR)
        snprintf(dims, sizeof dims, "[%lld, %lld]", (long long)d[0], (long long)d[1]);
    else
        snprintf(dims, sizeof dims, "[%lld, %lld, %lld, %lld]", (long long)d[0], (long long)d[1], (long long)d[2],
                 (long long)d[3]);
    *n = mul_sat(mul_sat(d[0], d[1]), mul_sat(d[2], d[3]));
    snprintf(what, sizeof what, "the weight of %s", k->spec->name);
    return numel_ok(k->span, what, dims, *n);
}

/* MACs of a conv in both conventions (frontend/costs.c): default counts
 * weight * positions (output positions; input positions for a transposed
 * conv), ptflops (weight + bias) * output positions. Weight and positions
 * are each at most LIMIT_NUMEL here, so nothing overflows. */
static bool check_macs(const OpCall *k, const Layer *L, int64_t weight)
{
    Shape pos = k->op == OP_CONV2D ? L->shape : shape_of(k, 0);
    int64_t wb = weight + (L->bias ? L->out_channels : 0);
    int64_t def = weight * (pos.h * pos.w), pt = wb * (L->shape.h * L->shape.w);
    if (def <= LIMIT_MACS && pt <= LIMIT_MACS)
        return true;
    diag_error(k->span, "%s does %lld multiply-accumulates per sample; a layer may do at most %lld (2^44)",
               k->spec->name, (long long)(def > LIMIT_MACS ? def : pt), (long long)LIMIT_MACS);
    if (def > LIMIT_MACS)
        diag_note(k->span, "MACs = weight elements * %s positions = %lld * %lld*%lld = %lld",
                  k->op == OP_CONV2D ? "output" : "input", (long long)weight, (long long)pos.h, (long long)pos.w,
                  (long long)def);
    else
        diag_note(k->span, "MACs (ptflops) = (weight elements + bias) * output positions = %lld * %lld*%lld = %lld",
                  (long long)wb, (long long)L->shape.h, (long long)L->shape.w, (long long)pt);
    return false;
}

/* The output, the weight and the work of one layer are within the limits. */
static bool check_size(const OpCall *k, const Layer *L)
{
    char what[64];
    snprintf(what, sizeof what, "the output of %s", k->spec->name);
    if (!rule_check_numel(k->span, what, L->shape))
        return false;
    int64_t weight;
    if (k->op != OP_CONV2D && k->op != OP_CONV_TRANSPOSE2D && k->op != OP_LINEAR)
        return true;
    return check_weight(k, L, &weight) && (k->op == OP_LINEAR || check_macs(k, L, weight));
}

bool rule_apply(OpCall *k, Layer *L)
{
    L->op = k->op;
    return rules[k->op](k, L) && check_size(k, L);
}
