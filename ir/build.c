/*
 * build.c - lowering a checked Graph to the IR.
 *
 * One IrNode per computing layer; one IrTensor per value. flatten and
 * dropout produce no node: their output is the input tensor under another
 * shape (NCHW memory is already flat). Each parameterised layer registers its
 * state_dict tensors (PyTorch names and shapes) as IrParams to be loaded.
 * Network outputs always get a tensor of their own (an IR_COPY where the
 * value is an input, another output, or an alias) so the runtime can read
 * each output from a distinct place.
 */
#include <stdlib.h>
#include <string.h>

#include "ir/ir_internal.h"

static int param(IrModule *m, const Layer *l, const char *suffix, int rank, int64_t d0, int64_t d1,
                 int64_t d2, int64_t d3)
{
    int64_t dims[4] = {d0, d1, d2, d3};
    const char *name = ir_strcat(l->key, "", suffix);
    if (l->shared)   /* share=: the same tensor as the earlier layer with this key (the front end checked its shape) */
        for (int i = 0; i < m->nparams; i++)
            if (!m->params[i].derived && !strcmp(m->params[i].name, name))
                return i;
    return ir_add_param(m, name, rank, dims, 0);
}

/* conv2d: weight [Cout, Cin/groups, kh, kw], bias [Cout] */
static void lower_conv(IrModule *m, IrNode *n, const Layer *l)
{
    n->weight = param(m, l, ".weight", 4, l->out_channels, l->in_channels / l->groups,
                      l->kernel[0], l->kernel[1]);
    if (l->bias)
        n->bias = param(m, l, ".bias", 1, l->out_channels, 0, 0, 0);
}

/* conv_transpose2d: weight [Cin, Cout/groups, kh, kw], bias [Cout] */
static void lower_conv_t(IrModule *m, IrNode *n, const Layer *l)
{
    n->weight = param(m, l, ".weight", 4, l->in_channels, l->out_channels / l->groups,
                      l->kernel[0], l->kernel[1]);
    if (l->bias)
        n->bias = param(m, l, ".bias", 1, l->out_channels, 0, 0, 0);
}

/* linear: weight [out, in], bias [out] */
static void lower_linear(IrModule *m, IrNode *n, const Layer *l)
{
    n->weight = param(m, l, ".weight", 2, l->out_channels, l->in_channels, 0, 0);
    if (l->bias)
        n->bias = param(m, l, ".bias", 1, l->out_channels, 0, 0, 0);
}

/* batchnorm2d, instance_norm: weight, bias (affine), running_mean, running_var
 * (track_running_stats), all [C]; group_norm: weight, bias [C]; layer_norm:
 * weight, bias shaped as normalized_shape */
static void lower_norm(IrModule *m, IrNode *n, const Layer *l)
{
    Shape s = l->shape;
    int64_t c = s.c, d[3] = {s.c, s.h, s.w};
    int rank = l->op == OP_LAYER_NORM ? l->norm_dims : 1;
    const int64_t *dims = l->op == OP_LAYER_NORM && s.rank == 3 ? d + 3 - rank : d;
    if (l->affine) {
        n->weight = param(m, l, ".weight", rank, dims[0], rank > 1 ? dims[1] : 0, rank > 2 ? dims[2] : 0, 0);
        n->bias = param(m, l, ".bias", rank, dims[0], rank > 1 ? dims[1] : 0, rank > 2 ? dims[2] : 0, 0);
    }
    if (l->running_stats) {
        n->mean = param(m, l, ".running_mean", 1, c, 0, 0, 0);
        n->var = param(m, l, ".running_var", 1, c, 0, 0, 0);
    }
    n->segments = l->running_stats ? c : l->norm_groups;
    n->affine_per_element = l->op == OP_LAYER_NORM;
}

/* pixel_shuffle, pixel_unshuffle, channel_shuffle: the permutation and its factor */
static void lower_shuffle(IrNode *n, const Layer *l)
{
    n->shuffle = l->op == OP_PIXEL_SHUFFLE ? SHUFFLE_PIXEL
               : l->op == OP_PIXEL_UNSHUFFLE ? SHUFFLE_PIXEL_INVERSE : SHUFFLE_CHANNELS;
    n->factor = l->shuffle_factor;
}

/* prelu: weight [num_parameters] */
static void lower_prelu(IrModule *m, IrNode *n, const Layer *l)
{
    n->weight = param(m, l, ".weight", 1, l->num_parameters, 0, 0, 0);
}

/* add, sub, mul whose operands differ in shape (the same rank): each
 * input's element strides along the output's C, H, W ([F]: as [F, 1, 1]),
 * 0 along a dimension where the input has extent 1. Strides follow the
 * front end's shapes, not the IR tensors' (a flatten alias keeps its
 * source's). */
static void set_broadcast(IrNode *n, const Graph *g, const Layer *l)
{
    for (int j = 0; j < 2 && l->ninputs == 2; j++) {
        Shape s = g->layers[l->inputs[j]].shape;
        n->bstride[j][0] = s.c == 1 ? 0 : s.h * s.w;
        n->bstride[j][1] = s.h == 1 ? 0 : s.w;
        n->bstride[j][2] = s.w == 1 ? 0 : 1;
        n->broadcast |= s.c != l->shape.c || s.h != l->shape.h || s.w != l->shape.w;
    }
}

/* How each op lowers: the LOWER column of frontend/ops.def. */
typedef enum { LOWER_INPUT, LOWER_ALIAS, LOWER_NODE } LowerHow;
typedef struct {
    LowerHow how;
    IrKind kind;   /* LOWER_NODE */
    IrAct act;     /* IR_ACT's activation */
} OpLowering;

#define INPUT {LOWER_INPUT, IR_KIND_COUNT, ACT_NONE}
#define ALIAS {LOWER_ALIAS, IR_KIND_COUNT, ACT_NONE}
#define NODE(k) {LOWER_NODE, IR_##k, ACT_NONE}
#define ACT(a) {LOWER_NODE, IR_ACT, ACT_##a}
static const OpLowering op_lowering[OP_COUNT] = {
#define OP(id, name, nt, fl, args, enums, lower) [OP_##id] = lower,
#include "frontend/ops.def"
#undef OP
};
#undef INPUT
#undef ALIAS
#undef NODE
#undef ACT

static IrInterp interp_of(UpsampleMode m)
{
    switch (m) {
    case UPSAMPLE_NEAREST: return INTERP_NEAREST;
    case UPSAMPLE_BILINEAR: return INTERP_BILINEAR;
    case UPSAMPLE_BICUBIC: return INTERP_BICUBIC;
    case UPSAMPLE_NEAREST_EXACT: return INTERP_NEAREST_EXACT;
    }
    return INTERP_NEAREST;
}

static int64_t at_least_1(int64_t v) { return v > 0 ? v : 1; }

/* The layer's attributes in IR terms: what codegen needs, so it never reads
 * the Layer. Extents the front end leaves 0 (no dilation, no groups) are 1. */
static void set_attributes(IrNode *n, const Layer *l)
{
    IrGeom *g = &n->geom;
    for (int i = 0; i < 2; i++) {
        g->kernel[i] = at_least_1(l->kernel[i]);
        g->stride[i] = at_least_1(l->stride[i]);
        g->dilation[i] = at_least_1(l->dilation[i]);
        g->pad_begin[i] = l->pad_begin[i];
        g->pad_end[i] = l->pad_end[i];
        g->output_padding[i] = l->output_padding[i];
        n->scale[i] = l->scale[i];
        n->crop[i] = l->crop_offset[i];
        n->crop_channel = l->crop_channel;
    }
    g->groups = at_least_1(l->groups);
    n->act = op_lowering[l->op].act;
    n->act_alpha = l->act_arg[0];
    n->act_beta = l->act_arg[1];
    n->eps = l->eps;
    n->count_include_pad = l->count_include_pad;
    n->interp = interp_of(l->mode);
    n->align_corners = l->align_corners;
    n->pad_mode = l->pad_mode;
    n->pad_value = l->pad_value;
    n->axis = l->axis;
}

/* concat(t[0..n)) with more than IR_MAX_IN inputs: groups of IR_MAX_IN are
 * concatenated into intermediate tensors first, until few enough remain.
 * Channel order is kept, so the result is the same. Leaves the final
 * inputs in t[0..*n). */
static void concat_tree(IrModule *m, const Layer *l, int *t, int *n)
{
    while (*n > IR_MAX_IN) {
        int k = 0;
        for (int i = 0; i < *n; i += IR_MAX_IN) {
            int c = *n - i < IR_MAX_IN ? *n - i : IR_MAX_IN;
            Shape s = l->shape;
            int64_t *ext = l->axis == 0 ? &s.c : l->axis == 1 ? &s.h : &s.w;
            *ext = 0;
            for (int j = 0; j < c; j++) {
                const IrTensor *in = &m->tensors[t[i + j]];
                *ext += l->axis == 0 ? ir_channels_as(in, s.h, s.w) : l->axis == 1 ? in->h : in->w;
            }
            int part = c == 1 ? t[i] : ir_add_tensor(m, ir_strcat(l->name, "", ".part"), s);
            if (c > 1) {
                int k2 = ir_add_node(m, IR_CONCAT, l->name, part); /* may move m->nodes */
                IrNode *p = &m->nodes[k2];
                p->axis = l->axis;
                p->nin = c;
                for (int j = 0; j < c; j++)
                    p->in[j] = t[i + j];
            }
            t[k++] = part;
        }
        *n = k;
    }
}

/* conv2d with padding_mode reflect, replicate or circular is PyTorch's
 * F.pad(x, padding, mode) followed by the conv without padding: an IR_PAD
 * node (no source layer of its own) writes the padded input. Returns it. */
static int pad_node(IrModule *m, const Layer *l, int x)
{
    const IrTensor *t = &m->tensors[x];
    Shape s = {3, t->c, t->h + l->pad_begin[0] + l->pad_end[0], t->w + l->pad_begin[1] + l->pad_end[1]};
    int out = ir_add_tensor(m, ir_strcat(l->name, "", ".pad"), s);
    int k = ir_add_node(m, IR_PAD, ir_strcat(l->name, "", ".pad"), out);
    IrNode *n = &m->nodes[k];
    n->nin = 1;
    n->in[0] = x;
    for (int d = 0; d < 2; d++) {
        n->geom.pad_begin[d] = l->pad_begin[d];
        n->geom.pad_end[d] = l->pad_end[d];
    }
    n->pad_mode = l->pad_mode;
    return out;
}

/* Lowers layer i; value[] maps layer index -> tensor. */
static void lower_layer(IrModule *m, const Graph *g, int i, int *value)
{
    const Layer *l = &g->layers[i];
    if (op_lowering[l->op].how == LOWER_INPUT) {
        value[i] = ir_add_tensor(m, l->name, l->shape);
        m->tensors[value[i]].is_input = 1;
        return;
    }
    if (op_lowering[l->op].how == LOWER_ALIAS) {
        value[i] = value[l->inputs[0]];
        return;
    }
    int nin = l->ninputs, *in = ir_xcalloc(nin + 1, sizeof *in);
    for (int j = 0; j < nin; j++)
        in[j] = value[l->inputs[j]];
    concat_tree(m, l, in, &nin);
    int padded = l->op == OP_CONV2D && l->pad_mode != PAD_CONSTANT;
    if (padded)
        in[0] = pad_node(m, l, in[0]);
    int out = ir_add_tensor(m, l->name, l->shape);
    int k = ir_add_node(m, op_lowering[l->op].kind, l->name, out); /* may move m->nodes */
    IrNode *n = &m->nodes[k];
    n->nin = nin;
    for (int j = 0; j < nin; j++)
        n->in[j] = in[j];
    free(in);
    set_attributes(n, l);
    if (padded)
        for (int d = 0; d < 2; d++)
            n->geom.pad_begin[d] = n->geom.pad_end[d] = 0;
    n->macs = l->macs;
    switch (n->kind) {
    case IR_CONV: lower_conv(m, n, l); break;
    case IR_CONV_T: lower_conv_t(m, n, l); break;
    case IR_LINEAR: lower_linear(m, n, l); break;
    case IR_BATCHNORM: case IR_NORM: lower_norm(m, n, l); break;
    case IR_SHUFFLE: lower_shuffle(n, l); break;
    case IR_PRELU: lower_prelu(m, n, l); break;
    case IR_ADD: case IR_SUB: case IR_MUL: set_broadcast(n, g, l); break;
    case IR_ACT: case IR_MAXPOOL: case IR_AVGPOOL: case IR_GLOBAL_AVGPOOL: case IR_UPSAMPLE:
    case IR_ADAPTIVE_AVGPOOL: case IR_ADAPTIVE_MAXPOOL: case IR_PAD: case IR_RESHAPE:
    case IR_CONCAT: case IR_CROP: case IR_SOFTMAX: case IR_LOG_SOFTMAX: case IR_COPY: case IR_REORDER:
    case IR_KIND_COUNT:
        break; /* no parameters */
    }
    value[i] = out;
}

/* Gives output k a tensor of its own, shaped as the output layer says. */
static void own_output(IrModule *m, const Graph *g, int k, int *value)
{
    const Layer *l = &g->layers[g->outputs[k]];
    int t = value[g->outputs[k]];
    IrTensor *tt = &m->tensors[t];
    int shared = tt->is_input || tt->is_output || tt->rank != l->shape.rank;
    for (int j = 0; j < g->nlayers && !shared; j++)
        if (&g->layers[j] != l && value[j] == t && g->layers[j].op != OP_INPUT)
            shared = 1; /* an alias (flatten, dropout) of another layer's tensor */
    if (shared) {
        int out = ir_add_tensor(m, g->output_names[k], l->shape);
        int n = ir_add_node(m, IR_COPY, ir_strcat(g->output_names[k], "", ".copy"), out);
        m->nodes[n].nin = 1;
        m->nodes[n].in[0] = t;
        t = out;
    }
    m->tensors[t].is_output = 1;
    m->outputs[k] = t;
}

IrModule *ir_lower(const Graph *g)
{
    IrModule *m = ir_alloc(sizeof *m);
    m->graph = g;
    m->name = g->name;
    int *value = ir_xcalloc(g->nlayers + 1, sizeof *value);
    for (int i = 0; i < g->nlayers; i++) {
        lower_layer(m, g, i, value);
        m->macs += g->layers[i].macs;
    }
    m->ninputs = g->ninputs;
    m->inputs = ir_alloc(g->ninputs * sizeof *m->inputs);
    m->input_names = ir_alloc(g->ninputs * sizeof *m->input_names);
    for (int k = 0; k < g->ninputs; k++) {
        m->inputs[k] = value[g->inputs[k]];
        m->input_names[k] = g->layers[g->inputs[k]].name;
    }
    m->noutputs = g->noutputs;
    m->outputs = ir_alloc(g->noutputs * sizeof *m->outputs);
    m->output_names = g->output_names;
    for (int k = 0; k < g->noutputs; k++)
        own_output(m, g, k, value);
    free(value);
    return m;
}
