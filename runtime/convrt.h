/*
 * convrt.h - the tiny runtime every convc executable links, and the ABI
 * between it and the code convc generates.
 *
 * The generated object defines one constant RtModel named `NAME_model` (the
 * network's name, or --prefix) and the kernels it points to, plus wrappers
 * of the embedding API (runtime/convc.h) prefixed NAME_; an executable's
 * object also defines main(), which calls rt_main: it parses the command
 * line, opens an instance (api.c: loads weights (safetensors), runs the
 * prepare steps once (load-time work on the weights: batchnorm folding,
 * weight packing), starts a thread pool), reads inputs (.npy), runs the
 * steps and writes outputs (.npy), atomically.
 *
 * Memory: all activations live in one arena of `arena_floats * N` floats
 * (N = batch size, chosen at run time). A tensor's per-sample layout is
 * [C, H, W] or a channel-blocked one (RtTensor.layout) and the batch is outermost, so tensor t of the whole batch starts
 * at arena + t.offset * N and sample n of it at that + n * t.size.
 * The parameters steps read live in one buffer of `param_floats` floats;
 * those only prepare steps read (RT_PARAM_TRANSIENT) in a load-time buffer
 * of `prepare_floats`, freed once the prepare steps ran. Generated code
 * assumes every tensor and parameter offset is a multiple of 16 floats
 * (the buffers are 64-byte aligned, so every pointer it gets is too).
 *
 * The struct layouts below are mirrored by codegen/ when it emits NAME_model:
 * change both together, and bump RT_ABI_VERSION, so an object built against
 * another convrt.h is refused (rt_check_model) instead of misread.
 */
#ifndef CONVC_CONVRT_H
#define CONVC_CONVRT_H

#include <stddef.h>
#include <stdint.h>

/* RtModel's first two fields, the same in every version of this header:
 * RT_MODEL_MAGIC ("CNVC"), then RT_ABI_VERSION (2 since RtTensor has
 * view_off and stride; an object built before versioning has its name
 * pointer there, never the magic). */
enum { RT_MODEL_MAGIC = 0x43564E43, RT_ABI_VERSION = 2 };

/* Element types and per-sample layouts of activation tensors (the IR's
 * IrDtype and IrLayout, same numbering). Only f32 is computed today. */
enum { RT_DTYPE_F32 = 0, RT_DTYPE_BF16 = 1, RT_DTYPE_INT8 = 2 };
enum {
    RT_LAYOUT_NCHW = 0,    /* [C, H, W] */
    RT_LAYOUT_NCHW16C = 1, /* [ceil(C/16), H, W, 16]: channel blocks innermost, last one padded */
    RT_LAYOUT_NCHW8C = 2   /* [ceil(C/8), H, W, 8] */
};

/* An activation tensor in the arena. Network inputs and outputs are NCHW f32. */
typedef struct {
    const char *name;
    int64_t offset;     /* floats per sample before it in the arena */
    int64_t size;       /* elements per sample: c * h * w, channels padded to the layout's block */
    int32_t rank;       /* 3: [C, H, W]; 1: [F] (c = F, h = w = 1) */
    int32_t c, h, w;
    int64_t bytes;      /* per sample: size * the dtype's size */
    int32_t dtype;      /* RT_DTYPE_* */
    int32_t layout;     /* RT_LAYOUT_* */
    int64_t view_off;   /* 0, or for a channel slice of a concat's output written in place
                           (a view): floats into each sample of that tensor, whose offset
                           this one's is */
    int64_t stride;     /* a view: floats from one sample to the next (its root's size);
                           0 for any other tensor (the stride is size) */
} RtTensor;

/* Where a parameter's values come from. */
enum {
    RT_PARAM_LOAD = 0,   /* read from the weights file under `name` */
    RT_PARAM_DERIVED = 1 /* written at load time by an RtPrepare step; not in the file */
};

/* Which buffer a parameter lives in. */
enum {
    RT_PARAM_RESIDENT = 0, /* the parameter buffer (param_floats), kept for every run */
    RT_PARAM_TRANSIENT = 1 /* read by prepare steps only: the load-time buffer (prepare_floats),
                              freed after the prepare steps (an original replaced by a derived one) */
};

/* A parameter tensor in the parameter buffer. Shapes are PyTorch's. */
typedef struct {
    const char *name;   /* state_dict key, e.g. "down1.c1.weight" */
    int64_t offset;     /* floats before it in its buffer */
    int64_t dims[4];
    int32_t rank;
    int32_t source;     /* RT_PARAM_LOAD or RT_PARAM_DERIVED */
    int32_t buffer;     /* RT_PARAM_RESIDENT or RT_PARAM_TRANSIENT */
} RtParam;

_Static_assert(offsetof(RtParam, buffer) == 56 && sizeof(RtParam) == 64,
               "RtParam changed: update codegen/model.c's params() to match");

/* A kernel computes work items [begin, end) of one step on a batch of
 * `batch` samples. Items are numbered over the whole batch: item = n * work
 * + i, 0 <= i < work; a step with whole_batch set has `work` items in all,
 * each computing its part of every sample. args holds the step's tensor
 * base pointers (whole batch) and then its parameter pointers.
 * A prepare step's function has the same type; its args are parameter
 * pointers, its items have no batch and it is given batch 1. */
typedef void (*RtKernel)(float *const *args, int64_t begin, int64_t end, int64_t batch);

enum { RT_MAX_STEP_TENSORS = 16, RT_MAX_STEP_PARAMS = 4, RT_MAX_PREPARE_PARAMS = 8 };

/* Load-time work: computes derived parameters (RT_PARAM_DERIVED) from loaded
 * or earlier derived ones, e.g. a batchnorm folded into a conv's weights or
 * weights packed for a blocked kernel. The runtime runs every prepare step
 * once, in order, before the first run, with fn(args, begin, end) over items
 * [0, work) split on the thread pool; args[j] = params[j]'s buffer + its
 * offset. Resident loaded parameters are loaded before the first step; a
 * transient loaded one right before the first step that reads it, so a
 * layer's originals are loaded, prepared and dropped in turn (steps come in
 * that order). A step never reads a transient parameter after a step that
 * may reuse its space (the planner's lifetimes). */
typedef struct {
    const char *name;
    RtKernel fn;
    int64_t work;        /* work items */
    int32_t nout, nin;   /* params[0..nout) are written, params[nout..nout+nin) read */
    int32_t params[RT_MAX_PREPARE_PARAMS];
} RtPrepare;

_Static_assert(offsetof(RtPrepare, work) == 16 && offsetof(RtPrepare, params) == 32 && sizeof(RtPrepare) == 64,
               "RtPrepare changed: update codegen/model.c's prepares() to match");

/* One step of the network: a layer or a fused group of layers. */
typedef struct {
    const char *name;
    RtKernel fn;
    int64_t work;        /* work items per sample */
    int32_t ntensors;    /* tensors[0] is the output, then the inputs, then the
                            node's workspace if it has one (a tensor live for
                            this step only, per sample like the output) */
    int32_t nparams;
    int32_t tensors[RT_MAX_STEP_TENSORS];
    int32_t params[RT_MAX_STEP_PARAMS];
    /* What --profile reports; any string may be NULL (printed as "-"). */
    const char *op;      /* IR kind, with a fused activation: "conv+relu" */
    const char *kernel;  /* its lowering: "reference", "conv_tiled", "conv_t_phase", "linear_vec" */
    const char *layout;  /* of the output tensor: "nchw" */
    int64_t macs;        /* multiply-accumulates per sample (conv, linear; else 0) */
    int64_t whole_batch; /* 1: `work` items in all, each covering every sample (linear:
                            a block of weights read once per batch); 0: per sample */
} RtStep;

/* codegen/model.c emits RtStep as a plain LLVM struct; these pin the layout it
 * mirrors, so a field added on one side only fails the build. */
_Static_assert(offsetof(RtStep, work) == 16 && offsetof(RtStep, tensors) == 32 &&
                   offsetof(RtStep, params) == 96 && offsetof(RtStep, op) == 112 &&
                   offsetof(RtStep, macs) == 136 && offsetof(RtStep, whole_batch) == 144 && sizeof(RtStep) == 152,
               "RtStep changed: update codegen/model.c's steps() to match");

typedef struct {
    uint32_t magic;             /* RT_MODEL_MAGIC */
    int32_t abi_version;        /* RT_ABI_VERSION of the convrt.h the model was built against */
    const char *name;           /* the network's name */
    int32_t ntensors, nparams, nprepare, nsteps, ninputs, noutputs;
    const RtTensor *tensors;
    const RtParam *params;
    const RtPrepare *prepare;   /* load-time steps, in run order */
    const RtStep *steps;
    const int32_t *inputs;      /* tensor indices of the network inputs, declaration order */
    const int32_t *outputs;     /* tensor indices of the network outputs */
    const char *const *input_names;
    const char *const *output_names;
    int64_t arena_floats;       /* per sample */
    int64_t param_floats;
    int64_t macs;               /* per sample, for --bench's gflops */
    /* Weights embedded by `convc --embed-weights` (or from an .onnx model):
     * a safetensors image, used when no weights file is given; NULL, 0 when none. */
    const unsigned char *embedded_weights;
    int64_t embedded_weights_size;
    int64_t prepare_floats;     /* the load-time buffer of RT_PARAM_TRANSIENT parameters */
} RtModel;

/* What main.c runs: a hand-written descriptor of that name (the runtime's
 * tests). Objects convc generates define NAME_model and, in an executable,
 * their own main() calling rt_main. */
extern const RtModel convc_model;

/* Exit codes of a convc executable (documented in docs/cli.md). */
enum {
    RT_EXIT_OK = 0,
    RT_EXIT_USAGE = 2,    /* bad command line */
    RT_EXIT_WEIGHTS = 3,  /* weights file unreadable, malformed, or not matching the network */
    RT_EXIT_INPUT = 4,    /* input .npy unreadable, malformed, or of the wrong shape */
    RT_EXIT_OUTPUT = 5,   /* output could not be written */
    RT_EXIT_RUNTIME = 6   /* out of memory, thread creation failed */
};

/* The command line of a compiled network (runtime/cli.c, run.c); the main()
 * of an executable convc builds calls it with its model. */
int rt_main(const RtModel *m, int argc, char **argv);

/* Checks a safetensors image against m's parameters without loading it:
 * 0, or RT_EXIT_WEIGHTS after one line on stderr (`PROGRAM: error: label:
 * ...`, PROGRAM as set here). convc calls it on --embed-weights at compile
 * time. */
void rt_set_progname(const char *argv0, const char *fallback);
int rt_check_weights(const RtModel *m, const char *label, const unsigned char *data, size_t size);

#endif
