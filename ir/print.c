/*
 * print.c - --emit=ir: the IR as text, one line per tensor, param, fold and
 * node, so tests can check what the passes did.
 */
#include "ir/ir_internal.h"

static const char *const kind_names[IR_KIND_COUNT] = {
    [IR_CONV] = "conv", [IR_CONV_T] = "conv_t", [IR_LINEAR] = "linear",
    [IR_BATCHNORM] = "batchnorm", [IR_ACT] = "act", [IR_MAXPOOL] = "maxpool",
    [IR_AVGPOOL] = "avgpool", [IR_GLOBAL_AVGPOOL] = "global_avgpool",
    [IR_UPSAMPLE] = "upsample", [IR_CONCAT] = "concat", [IR_ADD] = "add",
    [IR_CROP] = "crop", [IR_SOFTMAX] = "softmax", [IR_COPY] = "copy", [IR_REORDER] = "reorder",
};

static const char *const layout_names[LAYOUT_COUNT] = {
    [LAYOUT_NCHW] = "nchw", [LAYOUT_NCHW16C] = "nchw16c", [LAYOUT_NCHW8C] = "nchw8c",
};

static const char *const dtype_names[] = {[DTYPE_F32] = "f32", [DTYPE_BF16] = "bf16", [DTYPE_INT8] = "int8"};

static const char *const act_names[] = {
    [ACT_NONE] = "none", [ACT_RELU] = "relu", [ACT_RELU6] = "relu6",
    [ACT_LEAKY_RELU] = "leaky_relu", [ACT_SIGMOID] = "sigmoid", [ACT_TANH] = "tanh",
    [ACT_SILU] = "silu",
};

const char *ir_kind_name(IrKind k) { return kind_names[k]; }
const char *ir_act_name(IrAct a) { return act_names[a]; }
const char *ir_layout_name(IrLayout l) { return layout_names[l]; }

static void print_param(FILE *out, const IrModule *m, const char *role, int p)
{
    if (p >= 0)
        fprintf(out, " %s=%%%s", role, m->params[p].name);
}

void ir_print(FILE *out, const IrModule *m)
{
    fprintf(out, "network %s  arena=%lld floats/sample  params=%lld floats  macs=%lld\n",
            m->name, (long long)m->arena_floats, (long long)m->param_floats,
            (long long)m->macs);
    for (int t = 0; t < m->ntensors; t++) {
        const IrTensor *tt = &m->tensors[t];
        fprintf(out, "tensor t%d %s [%lld, %lld, %lld] %s %s bytes=%lld offset=%lld live=%d..%d%s%s\n", t,
                tt->name, (long long)tt->c, (long long)tt->h, (long long)tt->w, dtype_names[tt->dtype],
                layout_names[tt->layout], (long long)tt->bytes, (long long)tt->offset, tt->def, tt->last_use,
                tt->is_input ? " input" : "",
                tt->is_output ? " output" : "");
    }
    for (int p = 0; p < m->nparams; p++) {
        const IrParam *pp = &m->params[p];
        fprintf(out, "param %s [", pp->name);
        for (int i = 0; i < pp->rank; i++)
            fprintf(out, "%s%lld", i ? ", " : "", (long long)pp->dims[i]);
        fprintf(out, "] %s\n", pp->derived ? "derived" : "load");
    }
    for (int f = 0; f < m->nfolds; f++)
        fprintf(out, "fold %s <- %s, %s\n", m->params[m->folds[f].out_weight].name,
                m->params[m->folds[f].weight].name, m->params[m->folds[f].gamma].name);
    for (int i = 0; i < m->nnodes; i++) {
        const IrNode *n = &m->nodes[i];
        fprintf(out, "node %s %s t%d <-", kind_names[n->kind], n->name, n->out);
        for (int j = 0; j < n->nin; j++)
            fprintf(out, " t%d", n->in[j]);
        print_param(out, m, "weight", n->weight);
        print_param(out, m, "bias", n->bias);
        if (n->act != ACT_NONE)
            fprintf(out, " act=%s", act_names[n->act]);
        if (n->kernel != KERNEL_REFERENCE)
            fputs(" kernel=tiled", out);
        fputc('\n', out);
    }
}
