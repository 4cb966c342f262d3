/*
 * ir.h - the network IR: a graph of typed layers with static shapes, the
 * passes that rewrite it, and the memory plan.
 *
 * ir_build() lowers a checked Graph and runs, in order:
 *   1. lowering: one IrNode per computing layer; flatten and dropout become
 *      aliases of their input tensor (no node);
 *   2. fold_batchnorm: a batchnorm2d whose only producer is a conv2d used
 *      nowhere else is folded into that conv's weights at load time (RtFold);
 *   3. fuse_activation: an elementwise activation whose input is produced by a
 *      conv/linear/batchnorm/add used nowhere else, with the same [C, H, W]
 *      (not across a flatten), becomes that node's epilogue;
 *   4. choose_kernels: the lowering of each node (reference loops, or a
 *      faster kernel where one applies);
 *   5. plan_memory: every tensor gets an arena offset; tensors whose
 *      lifetimes do not overlap share space (greedy, first-fit).
 *
 * Every tensor carries a layout; today all are NCHW. A later layout pass can
 * choose blocked layouts per node and insert IR_REORDER nodes between them.
 */
#ifndef CONVC_IR_H
#define CONVC_IR_H

#include <stdint.h>
#include <stdio.h>

#include "frontend/frontend.h"

typedef enum {
    IR_CONV,        /* conv2d: direct convolution, bias and activation epilogue */
    IR_CONV_T,      /* conv_transpose2d, gathered per output element */
    IR_LINEAR,      /* linear on [F] */
    IR_BATCHNORM,   /* inference batchnorm not folded into a conv */
    IR_ACT,         /* elementwise activation not fused into a producer */
    IR_MAXPOOL,     /* maxpool2d */
    IR_AVGPOOL,     /* avgpool2d */
    IR_GLOBAL_AVGPOOL, /* mean over H, W */
    IR_UPSAMPLE,    /* nearest or bilinear (align_corners=False) */
    IR_CONCAT,      /* along channels */
    IR_ADD,         /* elementwise sum of two tensors */
    IR_CROP,        /* centre crop (offsets precomputed) */
    IR_SOFTMAX,     /* over channels / features */
    IR_COPY,        /* plain copy: an output that would alias an input or another output */
    IR_KIND_COUNT
} IrKind;

/* Inputs of one node: a step passes its output and inputs in at most
 * RT_MAX_STEP_TENSORS pointers. A longer concat becomes a tree of concats. */
enum { IR_MAX_IN = 15 };

typedef enum {
    ACT_NONE, ACT_RELU, ACT_RELU6, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_SILU
} IrAct;

typedef enum {
    LAYOUT_NCHW     /* per sample [C, H, W], row-major */
} IrLayout;

/* How a node is lowered. The reference lowering exists for every kind and
 * is always correct; others are chosen by ir_choose_kernels where they apply. */
typedef enum {
    KERNEL_REFERENCE,   /* simple loops, one output row per work item */
    KERNEL_CONV_TILED,  /* conv2d, stride 1, groups 1: a register tile of
                           output channels x output columns, explicit vectors */
    KERNEL_CONV_T_TILED /* conv_transpose2d with stride == kernel (width 1 or 2), no
                           padding or dilation, groups 1: vectors over input columns */
} IrKernel;

typedef struct {
    int reference_only; /* --kernels=reference: every node uses KERNEL_REFERENCE */
} IrOptions;

typedef struct {
    const char *name;
    int rank;
    int64_t c, h, w;
    IrLayout layout;
    int64_t offset;   /* arena offset in floats per sample, set by plan_memory */
    int def, last_use;/* node index that writes it (-1 for inputs) and last reader */
    int is_input, is_output;
} IrTensor;

typedef struct {
    IrKind kind;
    const Layer *layer; /* source layer: attributes (kernel, stride, ...) */
    const char *name;
    int out;            /* output tensor */
    int nin;
    int in[IR_MAX_IN];  /* input tensors */
    int weight, bias;   /* params, -1 if none (batchnorm: weight=gamma, bias=beta) */
    int mean, var;      /* standalone batchnorm's running statistics, else -1 */
    IrAct act;          /* fused activation epilogue */
    double act_alpha;   /* leaky_relu negative_slope */
    IrKernel kernel;    /* lowering, chosen by ir_choose_kernels */
    int dead;           /* removed by a pass */
} IrNode;

typedef struct {
    const char *name;   /* state_dict key */
    int rank;
    int64_t dims[4];
    int derived;        /* 1: computed by a fold, not read from the file */
    int64_t offset;     /* floats before it in the parameter buffer */
} IrParam;

typedef struct {
    int weight, bias, gamma, beta, mean, var; /* bias may be -1 */
    int out_weight, out_bias;
    int64_t out_channels, row;
    double eps;
} IrFold;

typedef struct IrModule {
    const Graph *graph;
    IrTensor *tensors; int ntensors;
    IrNode *nodes; int nnodes;
    IrParam *params; int nparams;
    IrFold *folds; int nfolds;
    int ninputs, noutputs;
    int *inputs, *outputs;              /* tensor indices */
    const char **input_names, **output_names;
    int64_t arena_floats;               /* per sample */
    int64_t param_floats;
    int64_t macs;                       /* per sample */
} IrModule;

/* Lowers g and runs every pass. Never fails on a checked graph. */
IrModule *ir_build(const Graph *g, const IrOptions *o);

/* Activation arena size for a batch of one, in bytes. */
int64_t ir_arena_bytes(const IrModule *m);

/* --emit=ir */
void ir_print(FILE *out, const IrModule *m);

/* Names for printing and symbol names. */
const char *ir_kind_name(IrKind k);
const char *ir_act_name(IrAct a);

/* Elements of a tensor per sample. */
static inline int64_t ir_tensor_size(const IrTensor *t) { return t->c * t->h * t->w; }

/* Channels of t read as planes of h x w elements. A flatten or dropout is
 * an alias: its readers get the source tensor, shaped as the source (a
 * flattened [C, H, W] is still c = C, h = H, w = W), so readers that see it
 * as [F] must count C*H*W features, never t->c. */
static inline int64_t ir_channels_as(const IrTensor *t, int64_t h, int64_t w)
{
    return ir_tensor_size(t) / (h * w);
}

/* Elements of a parameter. */
static inline int64_t ir_param_size(const IrParam *p)
{
    int64_t n = 1;
    for (int i = 0; i < p->rank; i++)
        n *= p->dims[i];
    return n;
}

#endif
