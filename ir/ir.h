/*
 * ir.h - the network IR: a graph of typed layers with static shapes, the
 * passes that rewrite it, and the memory plan.
 *
 * ir_build() lowers a checked Graph and runs, in order:
 *   1. lowering: one IrNode per computing layer, its attributes copied into
 *      IR terms (IrGeom, eps, ...): later phases never read the Layer;
 *      flatten and dropout become aliases of their input tensor (no node);
 *   2. fold_batchnorm: a batchnorm2d whose only producer is a conv2d used
 *      nowhere else is folded into that conv's weights by a prepare step
 *      (PREPARE_FOLD_BATCHNORM) that writes derived parameters;
 *   3. fuse_activation: an elementwise activation whose input is produced by a
 *      conv/conv_t/linear/batchnorm/add/sub/mul used nowhere else, with the same
 *      [C, H, W] (not across a flatten), becomes that node's epilogue;
 *   4. fuse_residual: act(conv(x) + r), the conv used nowhere else, r
 *      written before the conv, becomes one conv node with r as its input 1
 *      (added to each finished value, before the activation);
 *   5. assign_layouts: a layout per node; IR_REORDER nodes where a producer
 *      and a consumer disagree (layout.c); a conv's residual is read in
 *      its output's layout;
 *   6. choose_kernels: the lowering of each node: the reference loops, or
 *      the first faster kernel that codegen says applies (IrTarget); the
 *      chosen lowering may then ask for derived parameters and prepare
 *      steps (IrTarget.prepare) and for workspace (IrTarget.scratch);
 *   7. plan_memory: every tensor gets an arena offset; tensors whose
 *      lifetimes do not overlap share space (greedy, first-fit); prepare
 *      steps are put in streaming order (each right before the first node
 *      it feeds); every parameter a node reads gets an offset in the
 *      parameter buffer, every other one (read by prepare steps only) an
 *      offset in the load-time buffer, shared by lifetimes over the steps.
 *
 * Every tensor has a dtype, a layout and a byte size that includes the
 * channel padding of a blocked layout.
 *
 * Load-time work (prepare steps). Weight-side work never runs per
 * inference: a pass or a kernel's lowering adds a *derived* parameter
 * (ir_add_derived: any shape, e.g. a packed [O/16][I/16][kh][kw][16][16]
 * layout as rank 1 [floats]; like every parameter it starts on 64 bytes)
 * and an IrPrepare step that writes it from loaded or earlier derived
 * parameters (ir_add_prepare), then points the node at it (n->weight =
 * the derived index). Steps run in the order they were added, once, after
 * the weights are loaded, each split into work items on the thread pool.
 * What a step computes is its IrPrepareKind; codegen's prepare table
 * (codegen/prepare.c) has one row per kind giving its work items and body.
 *
 * Workspace. A node whose lowering needs scratch memory gets a tensor of
 * its own (IrNode.scratch, rank 1, the floats per sample the lowering's
 * `scratch` asked for), live for that node only: the memory planner places
 * it like any tensor, never over the node's inputs or output. The kernel
 * receives it as its last tensor argument, per sample like its output. A
 * kernel wanting a buffer per work item asks work * per_item floats and
 * uses slice r of item r: items of one node run on several threads at once,
 * so no two items may share a slice.
 */
#ifndef CONVC_IR_H
#define CONVC_IR_H

#include <stdint.h>
#include <stdio.h>

#include "frontend/frontend.h"

typedef enum {
    IR_CONV,        /* conv2d: direct convolution, bias and activation epilogue; with
                       nin == 2 (fuse_residual) in[1], same shape and layout as the
                       output, is added before the activation */
    IR_CONV_T,      /* conv_transpose2d, gathered per output element */
    IR_LINEAR,      /* linear on [F] */
    IR_BATCHNORM,   /* inference batchnorm not folded into a conv */
    IR_ACT,         /* elementwise activation not fused into a producer */
    IR_MAXPOOL,     /* maxpool2d */
    IR_AVGPOOL,     /* avgpool2d */
    IR_GLOBAL_AVGPOOL, /* mean over H, W */
    IR_ADAPTIVE_AVGPOOL, /* output o averages [floor(o*in/out), ceil((o+1)*in/out)) */
    IR_ADAPTIVE_MAXPOOL, /* the max over the same windows (global_maxpool: out = 1) */
    IR_PAD,         /* pad: constant, reflect, replicate, circular (also conv2d's padding_mode) */
    IR_UPSAMPLE,    /* nearest, nearest-exact, bilinear, bicubic (PyTorch 1.13's taps) */
    IR_CONCAT,      /* along channels */
    IR_ADD,         /* elementwise sum of two tensors (broadcasting as PyTorch) */
    IR_SUB,         /* elementwise difference a - b (broadcasting) */
    IR_MUL,         /* elementwise product (broadcasting) */
    IR_PRELU,       /* x > 0 ? x : weight[c] * x, one slope or one per channel */
    IR_LOG_SOFTMAX, /* log of softmax over channels / features */
    IR_CROP,        /* centre crop (offsets precomputed) */
    IR_SOFTMAX,     /* over channels / features */
    IR_NORM,        /* group/layer/instance norm: per-sample statistics over contiguous
                       segments (or running statistics), then the affine map */
    IR_SHUFFLE,     /* pixel_shuffle, pixel_unshuffle, channel_shuffle: a gather */
    IR_RESHAPE,     /* reshape, unflatten: the same NCHW elements under another shape
                       (a copy: readers index a tensor by its own shape) */
    IR_COPY,        /* plain copy: an output that would alias an input or another output */
    IR_REORDER,     /* the same values in another layout (inserted by the layout pass) */
    IR_KIND_COUNT
} IrKind;

/* Inputs of one node: a step passes its output and inputs in at most
 * RT_MAX_STEP_TENSORS pointers. A longer concat becomes a tree of concats. */
enum { IR_MAX_IN = 15 };

typedef enum {
    ACT_NONE, ACT_RELU, ACT_RELU6, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_SILU,
    ACT_HARDSWISH, ACT_HARDSIGMOID,
    ACT_GELU,       /* act_alpha 1: approximate='tanh' */
    ACT_ELU,        /* act_alpha: alpha */
    ACT_SELU, ACT_MISH,
    ACT_SOFTPLUS,   /* act_alpha: beta, act_beta: threshold */
    ACT_HARDTANH,   /* act_alpha: min_val, act_beta: max_val */
    ACT_AFFINE      /* x * act_alpha + act_beta: the *_scalar ops */
} IrAct;

/* Element types. Only f32 is computed today; the others reserve the room. */
typedef enum {
    DTYPE_F32,      /* IEEE binary32 */
    DTYPE_BF16,     /* reserved */
    DTYPE_INT8      /* reserved */
} IrDtype;

/* Per-sample memory layouts of a [C, H, W] tensor ([F] tensors are NCHW). */
typedef enum {
    LAYOUT_NCHW,    /* [C, H, W], row-major */
    LAYOUT_NCHW16C, /* [ceil(C/16), H, W, 16]: blocks of 16 channels innermost; the
                       last block is padded (reorders write 0 there) */
    LAYOUT_NCHW8C,  /* [ceil(C/8), H, W, 8], the same with blocks of 8 */
    LAYOUT_COUNT
} IrLayout;

/* The permutation of an IR_SHUFFLE node. */
typedef enum { SHUFFLE_PIXEL, SHUFFLE_PIXEL_INVERSE, SHUFFLE_CHANNELS } IrShuffle;

/* Upsampling interpolation (PyTorch's nn.Upsample modes). */
typedef enum { INTERP_NEAREST, INTERP_BILINEAR, INTERP_BICUBIC, INTERP_NEAREST_EXACT } IrInterp;

/* The window geometry of a conv, transposed conv or pool, [0] = H, [1] = W. */
typedef struct {
    int64_t kernel[2], stride[2];
    int64_t dilation[2];       /* >= 1 */
    int64_t pad_begin[2];      /* top, left */
    int64_t pad_end[2];        /* bottom, right */
    int64_t output_padding[2]; /* conv_transpose2d */
    int64_t groups;            /* >= 1 */
} IrGeom;

/* How a node is lowered: a row of codegen's lowering table. The reference
 * lowering exists for every kind and is always correct; ir_choose_kernels
 * picks the first other one whose entry says it applies. What each kernel
 * accepts is codegen's business (codegen/lower.c), not repeated here. */
typedef enum {
    KERNEL_REFERENCE,    /* simple loops, one output row per work item (kernels.c) */
    KERNEL_CONV_WINOGRAD,/* 3x3 stride-1 conv2d by Winograd F(4x4, 3x3): transforms
                            and 36 GEMMs over tiles (conv_winograd.c) */
    KERNEL_CONV_TILED,   /* conv2d: a register tile of output channels x output
                            columns, explicit vectors (conv_tiled.c) */
    KERNEL_CONV_T_PHASE, /* conv_transpose2d, any stride: Sw sub-convolutions over
                            the landing taps, explicit vectors (conv_t_phase.c) */
    KERNEL_LINEAR_VEC,   /* linear: vector dot products, a block of output features
                            for the whole batch (linear.c) */
    KERNEL_CONV_BLOCKED, /* conv2d on blocked channels (nChw16c / nChw8c): a register
                            tile of output-channel blocks x output pixels, one
                            broadcast input value per FMA, packed weights
                            (conv_blocked.c) */
    KERNEL_CONV_T_BLOCKED, /* conv_transpose2d on blocked channels: Sw sub-convolutions
                            over the landing taps with conv_blocked's register tile
                            and packed weights (conv_t_blocked.c) */
    KERNEL_CONV_HEAD,    /* 1x1 conv2d from blocked channels to NCHW (a network's
                            head): per pixel one vector of channels, a reduction
                            tree over the pixels of a tile (conv_head.c) */
    KERNEL_POOL_BLOCKED, /* maxpool2d/avgpool2d on a blocked layout: the reference
                            loops on a vector of a block's channels (kernels.c) */
    KERNEL_CONV_DEPTHWISE, /* depthwise conv2d (groups = channels) on nChw16c: a
                            vector of 16 channels, a row tile of output pixels
                            (conv_depthwise.c) */
    KERNEL_COUNT
} IrKernel;

typedef struct IrModule IrModule;
typedef struct IrNode IrNode;

/* What the kernel choice asks the code generator. codegen/ implements it
 * (cg_target()) and the driver hands it to ir_build, so the IR depends on
 * this interface only, never on codegen's internals. */
typedef struct IrTarget IrTarget;
struct IrTarget {
    /* 1 if kernel k can lower node n of m on this target */
    int (*applies)(const IrTarget *t, IrKernel k, const IrModule *m, const IrNode *n);
    /* once kernel k is chosen for node m->nodes[i]: adds the derived
       parameters and prepare steps its body reads and repoints the node's
       weight/bias at them (nothing for most kernels) */
    void (*prepare)(const IrTarget *t, IrKernel k, IrModule *m, int i);
    /* workspace floats per sample that kernel k needs for node n (0: none) */
    int64_t (*scratch)(const IrTarget *t, IrKernel k, const IrModule *m, const IrNode *n);
    /* The layout a fast kernel wants for node n's output (input < 0), asked
     * before n's layout is assigned, or for its input `input`, asked once
     * n's output layout and its producers' layouts are assigned (a kernel
     * may read a blocked input into an NCHW output); LAYOUT_NCHW when no
     * kernel on this target wants a blocked one. */
    IrLayout (*layout)(const IrTarget *t, const IrModule *m, const IrNode *n, int input);
};

typedef struct {
    const IrTarget *target; /* NULL: every node uses KERNEL_REFERENCE */
    int reference_only; /* --kernels=reference: every node uses KERNEL_REFERENCE */
    IrLayout layout;    /* --layout (experimental): the layout of every node whose
                           lowering accepts any layout; LAYOUT_NCHW by default */
} IrOptions;

typedef struct {
    const char *name;
    int rank;
    int64_t c, h, w;
    IrDtype dtype;
    IrLayout layout;
    int64_t bytes;    /* per sample, channels padded to the layout's block */
    int64_t offset;   /* arena offset in floats per sample, set by plan_memory (a
                         view: its root's) */
    int def, last_use;/* node index that writes it (-1 for inputs) and last reader */
    int is_input, is_output;
    int view_of;      /* -1, or the tensor whose channels [c0, c0 + c) this one is: a
                         concat's output, which its producers write in place (views.c) */
    int64_t view_off; /* a view: floats into each sample of view_of (c0 * H * W) */
} IrTensor;

struct IrNode {
    IrKind kind;
    const char *name;   /* the source layer's (fused: joined by '+'), or made up by a pass */
    int out;            /* output tensor */
    int nin;
    int in[IR_MAX_IN];  /* input tensors */
    int weight, bias;   /* params, -1 if none (batchnorm: weight=gamma, bias=beta) */
    int mean, var;      /* standalone batchnorm's running statistics, else -1 */
    IrAct act;          /* fused activation epilogue */
    double act_alpha;   /* leaky_relu negative_slope; the other activations' first argument (IrAct) */
    double act_beta;    /* the activation's second argument (IrAct) */
    int broadcast;      /* add, sub, mul: an operand's shape differs from the output's */
    int64_t bstride[2][3]; /* with broadcast: element strides of inputs 0 and 1 along the
                              output's C, H, W ([F] as [F, 1, 1]); 0 where broadcast */
    IrGeom geom;        /* conv, conv_t, maxpool, avgpool */
    double eps;         /* batchnorm */
    int count_include_pad; /* avgpool: the divisor counts padding */
    IrInterp interp;    /* upsample */
    int align_corners;  /* upsample bilinear, bicubic */
    PadMode pad_mode;   /* pad: how geom.pad_begin/pad_end (may be negative) are filled */
    double pad_value;   /* pad mode=constant */
    double scale[2];    /* upsample scale_factor (H, W); 0 if given by sizes */
    int64_t crop[2];    /* crop: top, left offset into the input */
    int64_t crop_channel; /* crop: first input channel (slice along channels or features) */
    int64_t segments;   /* norm: segments per sample, each normalised on its own and
                           contiguous in NCHW (with running statistics: the channels) */
    int affine_per_element; /* norm: weight/bias index a segment's elements (layer_norm),
                               else the channel */
    int axis;           /* concat: 0 = channels (or features), 1 = H, 2 = W */
    IrShuffle shuffle;  /* shuffle: which permutation */
    int64_t factor;     /* shuffle: r, or channel_shuffle's groups */
    int64_t macs;       /* per sample, of the source layer (--profile's GFLOP/s) */
    IrKernel kernel;    /* lowering, chosen by ir_choose_kernels */
    int scratch;        /* workspace tensor (IrTarget.scratch), -1 if none */
    int dead;           /* removed by a pass */
};

typedef struct {
    const char *name;   /* state_dict key */
    int rank;
    int64_t dims[4];
    int derived;        /* 1: written by a prepare step, not read from the file */
    int transient;      /* 1: read by prepare steps only, so it lives in the load-time
                           buffer (prepare_floats), freed after the prepare steps */
    int64_t offset;     /* floats before it in the parameter buffer (transient: in the
                           load-time buffer), a multiple of 16 */
} IrParam;

/* What a prepare step computes; one row per kind in codegen's prepare
 * table (codegen/prepare.c). A kernel that needs its weights in another
 * form adds a kind here and a row there. */
typedef enum {
    PREPARE_FOLD_BATCHNORM, /* out: weight', bias'; in: weight, gamma, beta, mean, var[, bias]
                               s = gamma / sqrt(var + eps) (in double), per output channel o:
                               weight'[o, ...] = weight[o, ...] * s, bias' = (bias - mean) * s + beta */
    PREPARE_WINOGRAD_WEIGHTS, /* out: U; in: the conv's weight [Cout, Cin, 3, 3]; in double,
                               rounded once: U = G w G^T per (oc, ic), laid out in blocks
                               of j output channels [Cout/j][36][Cin][j] (conv_winograd.c) */
    PREPARE_PACK_BLOCKED,   /* out: packed; in: weight [O, I, KH, KW] of node `node`, a blocked conv
                               (or [I, O, KH, KW] of a blocked transposed conv):
                               packed[O/16][I/BI][KH][KW][BI][16] (BI: the input layout's block,
                               1 for NCHW), O and I padded with zeros (codegen/conv_blocked.c) */
    PREPARE_PACK_DEPTHWISE, /* out: packed; in: weight [C, 1, KH, KW] of a depthwise conv:
                               packed[C/16][KH][KW][16], C padded with zeros (conv_depthwise.c) */
    PREPARE_KIND_COUNT
} IrPrepareKind;

/* Parameters of one prepare step: what a step's args can hold. */
enum { IR_MAX_PREPARE_PARAMS = 8 };

/* One load-time step: writes derived parameters from other parameters. */
typedef struct {
    IrPrepareKind kind;
    const char *name;
    int node;           /* the node it prepares for, for kinds whose body needs its
                           geometry; valid from ir_choose_kernels on; -1: none */
    int nout, nin;      /* params[0..nout) are written (derived), then nin are read */
    int params[IR_MAX_PREPARE_PARAMS];
    double eps;         /* PREPARE_FOLD_BATCHNORM */
} IrPrepare;

struct IrModule {
    const Graph *graph;                 /* the source, for --stats only */
    const char *name;                   /* the network's */
    IrTensor *tensors; int ntensors;
    IrNode *nodes; int nnodes;
    IrParam *params; int nparams;
    IrPrepare *prepares; int nprepares;  /* load-time steps, in run order */
    int ninputs, noutputs;
    int *inputs, *outputs;              /* tensor indices */
    const char **input_names, **output_names;
    int64_t arena_floats;               /* per sample */
    int64_t param_floats;               /* the parameters steps read, kept for every run */
    int64_t prepare_floats;             /* the load-time buffer of transient parameters */
    int64_t macs;                       /* per sample */
};

/* Lowers g and runs every pass. Never fails on a checked graph. */
IrModule *ir_build(const Graph *g, const IrOptions *o);

/* Frees m and every other IR allocation made so far (m must be the only
 * module alive). For callers that build many modules in one process, e.g.
 * the fuzz harness; convc itself keeps the IR until exit. */
void ir_release(IrModule *m);

/* Adds a parameter a prepare step writes (not read from the weights file):
 * dims as given (a packed layout may be rank 1, [floats]); its buffer offset
 * is a multiple of 16 floats. Returns its index. */
int ir_add_derived(IrModule *m, const char *name, int rank, const int64_t *dims);

/* a + sep + b in memory that lives as long as the IR (names for what a
 * lowering's prepare hook adds). */
char *ir_strcat(const char *a, const char *sep, const char *b);

/* Appends a prepare step of kind k with no parameters yet; the caller
 * fills nout/nin/params (outputs first). The pointer is valid until the
 * next ir_add_prepare. */
IrPrepare *ir_add_prepare(IrModule *m, IrPrepareKind k, const char *name, int node);

/* a, sep and b joined in a new string that lives as long as the IR (names
 * of derived parameters and prepare steps). */
char *ir_strcat(const char *a, const char *sep, const char *b);

/* Activation arena size for a batch of one, in bytes. */
int64_t ir_arena_bytes(const IrModule *m);

/* --emit=ir */
void ir_print(FILE *out, const IrModule *m);

/* Names for printing and symbol names. */
const char *ir_kind_name(IrKind k);
const char *ir_act_name(IrAct a);
const char *ir_layout_name(IrLayout l);
const char *ir_prepare_name(IrPrepareKind k);
const char *ir_kernel_name(IrKernel k);

/* Channels per block of a layout (1 for NCHW). */
int ir_layout_block(IrLayout l);

/* Bytes of one element of a dtype. */
int ir_dtype_bytes(IrDtype d);

/* Values of a tensor per sample, c * h * w. */
static inline int64_t ir_tensor_elems(const IrTensor *t) { return t->c * t->h * t->w; }

/* Elements of storage per sample: c * h * w plus the channel padding of a
 * blocked layout. Sample n of a batch starts n * ir_tensor_size() elements in. */
static inline int64_t ir_tensor_size(const IrTensor *t) { return t->bytes / ir_dtype_bytes(t->dtype); }

/* Elements from one sample of t to the next: its size, or for a view the
 * size of the tensor it is a slice of. */
static inline int64_t ir_tensor_stride(const IrModule *m, const IrTensor *t)
{
    return ir_tensor_size(t->view_of >= 0 ? &m->tensors[t->view_of] : t);
}

/* Channels of t read as planes of h x w elements. A flatten or dropout is
 * an alias: its readers get the source tensor, shaped as the source (a
 * flattened [C, H, W] is still c = C, h = H, w = W), so readers that see it
 * as [F] must count C*H*W features, never t->c. */
static inline int64_t ir_channels_as(const IrTensor *t, int64_t h, int64_t w)
{
    return ir_tensor_elems(t) / (h * w);
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
