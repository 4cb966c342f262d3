/*
 * explain.c - --explain NAME: how one layer's output shape, parameters, MACs
 * and receptive field come about, as the formulas with the layer's numbers
 * filled in. NAME is a layer, a block instance, a state_dict key or key
 * prefix, or a parameter tensor's key; else the closest name is suggested.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend/stats_internal.h"

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
    if (l->op == OP_PIXEL_SHUFFLE)
        fprintf(out, "output size: [C/r^2, H*r, W*r] = [%lld/%lld, %lld*%lld, %lld*%lld] (r = upscale_factor)\n"
                "  y[c, h*r + i, w*r + j] = x[c*r*r + i*r + j, h, w]\n", c, r * r, h, r, w, r);
    else if (l->op == OP_PIXEL_UNSHUFFLE)
        fprintf(out, "output size: [C*r^2, H/r, W/r] = [%lld*%lld, %lld/%lld, %lld/%lld] (r = downscale_factor)\n"
                "  y[c*r*r + i*r + j, h, w] = x[c, h*r + i, w*r + j]\n", c, r * r, h, r, w, r);
    else   /* channel_shuffle */
        fprintf(out, "output size: unchanged; channels regrouped: %lld groups of %lld, interleaved\n"
                "  y[j*groups + i] = x[i*(C/groups) + j]\n", r, c / r);
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
    case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH: case OP_SILU:
    case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_GELU: case OP_ELU: case OP_SELU: case OP_SOFTPLUS:
    case OP_MISH: case OP_HARDTANH:
        fputs("output size: unchanged (elementwise)\n", out);
        break;
    case OP_CONV2D: case OP_CONV_TRANSPOSE2D: case OP_LINEAR: case OP_BATCHNORM2D: case OP_MAXPOOL2D:
    case OP_AVGPOOL2D: case OP_UPSAMPLE: case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_MAXPOOL2D: case OP_PAD:
    case OP_CONCAT: case OP_CROP: case OP_GROUP_NORM: case OP_LAYER_NORM: case OP_INSTANCE_NORM:
    case OP_PIXEL_SHUFFLE: case OP_PIXEL_UNSHUFFLE: case OP_CHANNEL_SHUFFLE: case OP_COUNT:
        break;   /* explain_layer explains these itself */
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
    case OP_INPUT: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH:
    case OP_SILU: case OP_GLOBAL_AVGPOOL: case OP_GLOBAL_MAXPOOL: case OP_ADD: case OP_FLATTEN:
    case OP_SOFTMAX: case OP_DROPOUT: case OP_SUB: case OP_MUL: case OP_ADD_SCALAR: case OP_SUB_SCALAR:
    case OP_RSUB_SCALAR: case OP_MUL_SCALAR: case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_GELU:
    case OP_ELU: case OP_SELU: case OP_PRELU: case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH:
    case OP_LOG_SOFTMAX: case OP_SLICE: case OP_RESHAPE: case OP_UNFLATTEN: case OP_CHUNK: case OP_SPLIT:
    case OP_COUNT:
        explain_other(out, g, l);
        break;
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
                fmt_shape(shape, sizeof shape, l->shape), fmt_group3(num, l->params));
        if (by_key)
            fprintf(out, "  (key %s)", l->key);
        fputc('\n', out);
        params += l->params;
        buffers += l->buffers;
    }
    if (count)
        fprintf(out, "parameters: %s in %lld layers (buffers: %lld); --explain one of them for its formulas\n",
                fmt_group3(num, params), (long long)count, (long long)buffers);
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
