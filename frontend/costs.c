/*
 * costs.c - parameters, buffers and MACs of each layer.
 *
 * fe_compute_costs() runs last in fe_check(): from each layer's resolved
 * attributes and shapes it writes params, buffers and macs onto the layer,
 * then the receptive field (rf.c). Later phases and the reports only read
 * those fields; the one number not stored is ptflops' MAC count, derived on
 * demand for --count=ptflops because nothing but the report needs it.
 *
 * Conventions (docs/stats.md has the long form):
 *   params   PyTorch's sum(p.numel() for p in model.parameters())
 *   buffers  float buffers: batchnorm running_mean + running_var
 *            (num_batches_tracked is an integer and is not counted)
 *   macs     fvcore/thop: conv and linear multiply-accumulates, bias excluded;
 *            a transposed conv is counted over its input positions
 */
#include "frontend/stats_internal.h"

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
    case OP_INPUT: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH:
    case OP_SILU: case OP_MAXPOOL2D: case OP_AVGPOOL2D: case OP_GLOBAL_AVGPOOL: case OP_UPSAMPLE:
    case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_MAXPOOL2D: case OP_GLOBAL_MAXPOOL: case OP_PAD:
    case OP_CONCAT: case OP_ADD: case OP_CROP: case OP_FLATTEN: case OP_SOFTMAX: case OP_DROPOUT:
    case OP_SUB: case OP_MUL: case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR:
    case OP_MUL_SCALAR: case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_GELU: case OP_ELU: case OP_SELU:
    case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH: case OP_LOG_SOFTMAX: case OP_PIXEL_SHUFFLE:
    case OP_PIXEL_UNSHUFFLE: case OP_CHANNEL_SHUFFLE: case OP_SLICE: case OP_RESHAPE: case OP_UNFLATTEN:
    case OP_CHUNK: case OP_SPLIT: case OP_COUNT:
        return 0;
    }
    return 0;
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
    case OP_INPUT: case OP_BATCHNORM2D: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID:
    case OP_TANH: case OP_SILU: case OP_MAXPOOL2D: case OP_AVGPOOL2D: case OP_GLOBAL_AVGPOOL:
    case OP_UPSAMPLE: case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_MAXPOOL2D: case OP_GLOBAL_MAXPOOL:
    case OP_PAD: case OP_CONCAT: case OP_ADD: case OP_CROP: case OP_FLATTEN: case OP_SOFTMAX:
    case OP_DROPOUT: case OP_SUB: case OP_MUL: case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR:
    case OP_MUL_SCALAR: case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_GELU: case OP_ELU: case OP_SELU:
    case OP_PRELU: case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH: case OP_LOG_SOFTMAX: case OP_GROUP_NORM:
    case OP_LAYER_NORM: case OP_INSTANCE_NORM: case OP_PIXEL_SHUFFLE: case OP_PIXEL_UNSHUFFLE:
    case OP_CHANNEL_SHUFFLE: case OP_SLICE: case OP_RESHAPE: case OP_UNFLATTEN: case OP_CHUNK: case OP_SPLIT:
    case OP_COUNT:
        return 0;
    }
    return 0;
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
    case OP_INPUT: case OP_SIGMOID: case OP_TANH: case OP_SILU: case OP_PAD: case OP_CONCAT: case OP_ADD:
    case OP_CROP: case OP_FLATTEN: case OP_SOFTMAX: case OP_DROPOUT: case OP_SUB: case OP_MUL:
    case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR: case OP_MUL_SCALAR: case OP_HARDSWISH:
    case OP_HARDSIGMOID: case OP_GELU: case OP_SELU: case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH:
    case OP_LOG_SOFTMAX: case OP_PIXEL_SHUFFLE: case OP_PIXEL_UNSHUFFLE: case OP_CHANNEL_SHUFFLE:
    case OP_SLICE: case OP_RESHAPE: case OP_UNFLATTEN: case OP_CHUNK: case OP_SPLIT: case OP_COUNT:
        return 0;
    }
    return 0;
}

int64_t stats_count_macs(const Graph *g, const Layer *l, CountConvention cc)
{
    return cc == COUNT_PTFLOPS ? ptflops_macs(g, l) : l->macs;
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
    stats_compute_rf(g);
}
