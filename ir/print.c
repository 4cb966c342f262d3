/*
 * print.c - --emit=ir: the IR as text, one line per tensor, param, prepare
 * step and node, so tests can check what the passes did.
 */
#include "ir/ir_internal.h"

static const char *const layout_names[LAYOUT_COUNT] = {
    [LAYOUT_NCHW] = "nchw", [LAYOUT_NCHW16C] = "nchw16c", [LAYOUT_NCHW8C] = "nchw8c",
};

static const char *const dtype_names[] = {[DTYPE_F32] = "f32", [DTYPE_BF16] = "bf16", [DTYPE_INT8] = "int8"};

static const char *const act_names[] = {
    [ACT_NONE] = "none", [ACT_RELU] = "relu", [ACT_RELU6] = "relu6",
    [ACT_LEAKY_RELU] = "leaky_relu", [ACT_SIGMOID] = "sigmoid", [ACT_TANH] = "tanh",
    [ACT_SILU] = "silu", [ACT_HARDSWISH] = "hardswish", [ACT_HARDSIGMOID] = "hardsigmoid",
    [ACT_GELU] = "gelu", [ACT_ELU] = "elu", [ACT_SELU] = "selu", [ACT_MISH] = "mish",
    [ACT_SOFTPLUS] = "softplus", [ACT_HARDTANH] = "hardtanh", [ACT_AFFINE] = "affine",
};

/* A switch, not a table: -Werror=switch names a kind without a name. */
const char *ir_kind_name(IrKind k)
{
    switch (k) {
    case IR_CONV: return "conv";
    case IR_CONV_T: return "conv_t";
    case IR_LINEAR: return "linear";
    case IR_BATCHNORM: return "batchnorm";
    case IR_ACT: return "act";
    case IR_MAXPOOL: return "maxpool";
    case IR_AVGPOOL: return "avgpool";
    case IR_GLOBAL_AVGPOOL: return "global_avgpool";
    case IR_UPSAMPLE: return "upsample";
    case IR_PAD: return "pad";
    case IR_ADAPTIVE_AVGPOOL: return "adaptive_avgpool";
    case IR_ADAPTIVE_MAXPOOL: return "adaptive_maxpool";
    case IR_CONCAT: return "concat";
    case IR_ADD: return "add";
    case IR_SUB: return "sub";
    case IR_MUL: return "mul";
    case IR_PRELU: return "prelu";
    case IR_LOG_SOFTMAX: return "log_softmax";
    case IR_CROP: return "crop";
    case IR_SOFTMAX: return "softmax";
    case IR_NORM: return "norm";
    case IR_SHUFFLE: return "shuffle";
    case IR_RESHAPE: return "reshape";
    case IR_COPY: return "copy";
    case IR_REORDER: return "reorder";
    case IR_KIND_COUNT: break;
    }
    return "?";
}
/* A switch: -Werror=switch names a prepare kind without a name. */
const char *ir_prepare_name(IrPrepareKind k)
{
    switch (k) {
    case PREPARE_FOLD_BATCHNORM: return "fold_batchnorm";
    case PREPARE_WINOGRAD_WEIGHTS: return "winograd_weights";
    case PREPARE_PACK_BLOCKED: return "pack_blocked";
    case PREPARE_PACK_DEPTHWISE: return "pack_depthwise";
    case PREPARE_KIND_COUNT: break;
    }
    return "?";
}

const char *ir_act_name(IrAct a) { return act_names[a]; }
const char *ir_layout_name(IrLayout l) { return layout_names[l]; }

static const char *const kernel_names[KERNEL_COUNT] = {
    [KERNEL_REFERENCE] = "reference", [KERNEL_CONV_WINOGRAD] = "conv_winograd",
    [KERNEL_CONV_TILED] = "conv_tiled", [KERNEL_CONV_T_PHASE] = "conv_t_phase", [KERNEL_LINEAR_VEC] = "linear_vec",
    [KERNEL_CONV_BLOCKED] = "conv_blocked", [KERNEL_CONV_T_BLOCKED] = "conv_t_blocked",
    [KERNEL_CONV_HEAD] = "conv_head", [KERNEL_POOL_BLOCKED] = "pool_blocked",
    [KERNEL_CONV_DEPTHWISE] = "conv_depthwise",
};
const char *ir_kernel_name(IrKernel k) { return kernel_names[k]; }

static void print_param(FILE *out, const IrModule *m, const char *role, int p)
{
    if (p >= 0)
        fprintf(out, " %s=%%%s", role, m->params[p].name);
}

/* prepare KIND NAME %out... <- %in... */
static void print_prepare(FILE *out, const IrModule *m, const IrPrepare *p)
{
    fprintf(out, "prepare %s %s", ir_prepare_name(p->kind), p->name);
    for (int j = 0; j < p->nout + p->nin; j++)
        fprintf(out, "%s %%%s", j == p->nout ? " <-" : "", m->params[p->params[j]].name);
    fputc('\n', out);
}

void ir_print(FILE *out, const IrModule *m)
{
    fprintf(out, "network %s  arena=%lld floats/sample  params=%lld floats  macs=%lld  load_time=%lld floats\n",
            m->name, (long long)m->arena_floats, (long long)m->param_floats, (long long)m->macs,
            (long long)m->prepare_floats);
    for (int t = 0; t < m->ntensors; t++) {
        const IrTensor *tt = &m->tensors[t];
        fprintf(out, "tensor t%d %s [%lld, %lld, %lld] %s %s bytes=%lld offset=%lld live=%d..%d%s%s", t,
                tt->name, (long long)tt->c, (long long)tt->h, (long long)tt->w, dtype_names[tt->dtype],
                layout_names[tt->layout], (long long)tt->bytes, (long long)tt->offset, tt->def, tt->last_use,
                tt->is_input ? " input" : "",
                tt->is_output ? " output" : "");
        if (tt->view_of >= 0)
            fprintf(out, " view=t%d+%lld", tt->view_of, (long long)tt->view_off);
        fputc('\n', out);
    }
    for (int p = 0; p < m->nparams; p++) {
        const IrParam *pp = &m->params[p];
        fprintf(out, "param %s [", pp->name);
        for (int i = 0; i < pp->rank; i++)
            fprintf(out, "%s%lld", i ? ", " : "", (long long)pp->dims[i]);
        fprintf(out, "] %s%s\n", pp->derived ? "derived" : "load", pp->transient ? " transient" : "");
    }
    for (int i = 0; i < m->nprepares; i++)
        print_prepare(out, m, &m->prepares[i]);
    for (int i = 0; i < m->nnodes; i++) {
        const IrNode *n = &m->nodes[i];
        fprintf(out, "node %s %s t%d <-", ir_kind_name(n->kind), n->name, n->out);
        for (int j = 0; j < n->nin; j++)
            fprintf(out, " t%d", n->in[j]);
        print_param(out, m, "weight", n->weight);
        print_param(out, m, "bias", n->bias);
        if (n->act != ACT_NONE)
            fprintf(out, " act=%s", act_names[n->act]);
        if (n->kernel != KERNEL_REFERENCE)
            fprintf(out, " kernel=%s", ir_kernel_name(n->kernel));
        if (n->scratch >= 0)
            fprintf(out, " scratch=t%d", n->scratch);
        fputc('\n', out);
    }
}
