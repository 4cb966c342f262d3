/*
 * frontend.h - the .conv front end: scanner, parser, block expansion, shape and
 * parameter checking, diagnostics, --stats and --explain.
 *
 * The front end turns one source file into a checked Graph per network: every
 * block call is expanded, every layer has a fully resolved set of attributes,
 * an output shape, a parameter count and a MAC count. Later phases (ir/,
 * codegen/) read these values and never recompute them.
 *
 * Invariants of a Graph returned by fe_check():
 *   - layers are in topological order; a layer's inputs index earlier layers;
 *   - the network's inputs are OP_INPUT layers;
 *   - every shape is valid (all extents >= 1);
 *   - names are unique; a layer with parameters has a non-NULL key.
 */
#ifndef CONVC_FRONTEND_H
#define CONVC_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The op enum comes from the op catalogue (frontend/ops.def): OP_CONV2D, ... */
typedef enum {
#define OP(id, name, ...) OP_##id,
#include "frontend/ops.def"
#undef OP
    OP_COUNT
} OpKind;

/* Upsampling interpolation modes (PyTorch's nn.Upsample `mode`). */
typedef enum { UPSAMPLE_NEAREST, UPSAMPLE_BILINEAR, UPSAMPLE_BICUBIC, UPSAMPLE_NEAREST_EXACT } UpsampleMode;

/* How padding is filled: pad's `mode` and conv2d's `padding_mode` (zeros is
 * constant with value 0). */
typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_REPLICATE, PAD_CIRCULAR } PadMode;

/* A per-sample tensor shape. rank 3 is [C, H, W]; rank 1 is [F] and is stored
 * as c = F, h = w = 1. The batch size is chosen at run time. */
typedef struct {
    int rank;
    int64_t c, h, w;
} Shape;

/* A source position range, 1-based lines and columns. */
typedef struct {
    int line, col;
    int end_line, end_col;
} SrcSpan;

/* One checked layer. Attributes that do not apply to an op are zero. */
typedef struct Layer {
    OpKind op;
    const char *name;      /* unique dotted name, e.g. "down1.c1"; anonymous layers get a generated one */
    const char *key;       /* state_dict prefix of its tensors ("down1.c1" or the name= override); NULL if none */
    bool shared;           /* share=: uses the parameters of the earlier layer with the same key
                              (one key, two uses); its params and buffers count 0 */
    SrcSpan span;          /* where the call was written (the innermost call site) */

    int ninputs;
    int *inputs;           /* indices into Graph.layers */
    Shape shape;           /* output shape */

    /* conv2d, conv_transpose2d, pools: [0] is H, [1] is W */
    int64_t in_channels, out_channels;
    int64_t kernel[2], stride[2], dilation[2];
    int64_t pad_begin[2];  /* top, left (pad: may be negative, which crops) */
    int64_t pad_end[2];    /* bottom, right (differs from pad_begin only for padding=same with even kernels) */
    int64_t output_padding[2];
    PadMode pad_mode;      /* pad, conv2d padding_mode (PAD_CONSTANT: zeros) */
    double pad_value;      /* pad mode=constant */
    int64_t groups;
    bool bias;             /* conv2d, conv_transpose2d, linear */
    bool ceil_mode;        /* pools */
    bool count_include_pad;/* avgpool2d (PyTorch default true) */
    double eps;            /* batchnorm2d */
    double momentum;       /* batchnorm2d, informational only */
    double negative_slope; /* leaky_relu */
    double scale[2];       /* upsample scale_factor (H, W); 0 when given by size= or like= */
    UpsampleMode mode;     /* upsample */
    bool align_corners;    /* upsample bilinear, bicubic */
    int64_t crop_offset[2];/* crop, slice: top, left offset into the input */
    int64_t crop_channel;  /* slice: the first input channel (or feature) */
    int softmax_dim;       /* softmax: 0 = channels/features (PyTorch dim=1) */
    double act_arg[2];     /* elu alpha; softplus beta, threshold; hardtanh min_val, max_val;
                              gelu [0] = 1 for approximate='tanh'; *_scalar: y = x*[0] + [1] */
    int64_t num_parameters;/* prelu: 1 or the channels */
    /* normalisation (batchnorm2d, group_norm, layer_norm, instance_norm) */
    bool affine;           /* learnable weight and bias (layer_norm: elementwise_affine) */
    bool running_stats;    /* track_running_stats: running_mean and running_var buffers,
                              used to normalise at inference (batchnorm2d, instance_norm) */
    int64_t norm_groups;   /* group_norm, layer_norm, instance_norm without running stats:
                              the segments of a sample normalised on their own, each
                              contiguous in [C, H, W] order (num_groups; C; numel / prod(normalized_shape)) */
    int norm_dims;         /* layer_norm: trailing dimensions normalised (1: W, 2: H, W, 3: C, H, W) */
    int64_t shuffle_factor;/* pixel_shuffle, pixel_unshuffle: r; channel_shuffle: groups */
    int axis;              /* concat: the per-sample dimension joined, 0 = C (or F), 1 = H, 2 = W
                              (PyTorch's dim 1, 2, 3 of an N, C, H, W tensor) */

    int64_t params;        /* learnable parameters (PyTorch's numel over parameters()) */
    int64_t buffers;       /* float buffer elements (batchnorm running_mean + running_var) */
    int64_t macs;          /* multiply-accumulates, bias excluded */
    double rf_size[2];     /* receptive field (H, W) of one output element, in input pixels */
    double rf_stride[2];   /* effective stride (jump) at this layer's output, in input pixels
                              (fractional after more upsampling than downsampling) */
} Layer;

/* A checked network. */
typedef struct Graph {
    const char *name;
    Layer *layers;
    int nlayers;
    int ninputs;
    int *inputs;             /* layer indices of the OP_INPUT layers, in declaration order */
    int noutputs;
    int *outputs;            /* layer indices, in `output` order */
    const char **output_names; /* the names written after `output` */
} Graph;

/* A checked source file: all its networks. */
typedef struct Program {
    const char *path;
    int ngraphs;
    Graph **graphs;
} Program;

typedef struct {
    bool color;       /* ANSI colours in diagnostics */
    FILE *out;        /* where diagnostics go (stderr) */
} DiagOptions;

/* Parse and check `src` (len bytes, need not be NUL-terminated). Reports every
 * diagnostic to opts->out. Returns NULL if any error was reported. The result
 * lives until the process exits. */
Program *fe_check(const char *path, const char *src, size_t len, const DiagOptions *opts);

/* Frees every Program, Graph and string the front end produced so far (all
 * arenas). Only for callers that check many sources in one process, e.g. the
 * fuzz harness; convc itself keeps everything until exit. */
void fe_release(void);

/* Reads a whole file; NULL with a message on stderr on failure. */
char *fe_read_file(const char *path, size_t *len);

/* Returns the network named `name`, or the only one if name is NULL. */
Graph *fe_find_graph(Program *p, const char *name);

/* Fills params, buffers, macs, rf_size and rf_stride of every layer from its
 * attributes and shapes (frontend/costs.c, frontend/rf.c). fe_check() calls it last. */
void fe_compute_costs(Graph *g);

typedef enum { COUNT_DEFAULT, COUNT_PTFLOPS } CountConvention;
typedef enum { STATS_TABLE, STATS_JSON } StatsFormat;

/* What --stats prints (docs/stats.md). */
typedef struct {
    StatsFormat format;
    CountConvention count;
    bool keys;          /* table: a state_dict key column */
    int depth;          /* table: > 0 collapses block instances nested deeper than this
                           many levels into one row each, as torchinfo's depth; 0 shows all */
    int64_t batch;      /* >= 1: MACs, input and activation bytes for this batch size */
} StatsOptions;

/* --stats: the torchinfo-like table or the JSON object (frontend/report.c). arena_bytes (batch 1)
 * < 0 means unknown. Returns false (with a message) if a total for o->batch
 * does not fit in 64 bits. */
bool fe_print_stats(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena_bytes);

/* --explain NAME: how the layer's shape and parameter count were computed (frontend/explain.c).
 * NAME is a layer name, a block instance's name, or a state_dict key or key
 * prefix (PyTorch's spelling: "features.3.conv.weight", "layer1.0").
 * Returns false (with a diagnostic) if nothing matches. */
bool fe_explain(FILE *out, const Graph *g, const char *layer_name);

/* --emit=dot: a Graphviz graph of g (frontend/dot.c). layer_ms, if not NULL,
 * holds a measured time per layer (< 0: not timed) and shades nodes by it;
 * otherwise nodes are shaded by their share of the MACs. */
void fe_print_dot(FILE *out, const Graph *g, const double *layer_ms);

/* --emit=tokens|ast: print the token stream or the parsed AST (before
 * checking) to out. Returns false if errors were reported. */
bool fe_emit(FILE *out, const char *what, const char *path, const char *src, size_t len,
             const DiagOptions *opts);

/* "nearest", "bilinear", "bicubic", "nearest-exact" (PyTorch's mode strings). */
const char *fe_upsample_mode_name(UpsampleMode m);
/* "constant", "reflect", "replicate", "circular". */
const char *fe_pad_mode_name(PadMode m);

/* Op names as written in .conv, indexed by OpKind. */
extern const char *const fe_op_names[OP_COUNT];

#endif
