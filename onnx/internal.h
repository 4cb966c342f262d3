/*
 * internal.h - what the files of onnx/ share; nothing outside onnx/ includes it.
 *
 *   read.c   the file: protobuf-c unpack, tensors (raw, typed, external data) decoded and checked
 *   graph.c  values by name, topological order (cycles refused), layers, names, liveness
 *   ops.c    one translator per ONNX op (the op table)
 *   emit.c   the .conv text and the safetensors file
 *
 * A malformed file is refused with one error through ox_fatal (a longjmp back
 * to onnx_import); a node convc cannot express is reported with ox_node_error
 * and translation goes on, so every such node is listed in one run.
 */
#ifndef CONVC_ONNX_INTERNAL_H
#define CONVC_ONNX_INTERNAL_H

#include <setjmp.h>

#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"

#define OX_MAX_RANK 8

/* A constant tensor (an initializer or a Constant node's value), decoded:
 * floating types into f, integer types into i. */
typedef struct {
    const char *name;
    int32_t dtype;         /* ONNX TensorProto.DataType */
    int rank;
    int64_t dims[OX_MAX_RANK];
    int64_t numel;
    float *f;              /* FLOAT, DOUBLE, FLOAT16 */
    int64_t *i;            /* INT64, INT32 */
} OxConst;

typedef enum {
    VAL_TENSOR,            /* a run-time tensor: the output of layer `layer` */
    VAL_CONST,             /* a constant known at compile time */
    VAL_BAD,               /* its producer was reported; users stay silent */
} ValKind;

typedef struct {
    const char *name;
    ValKind kind;
    int layer;             /* VAL_TENSOR */
    int rank;              /* VAL_TENSOR: 4 ([N, C, H, W]) or 2 ([N, F]) */
    OxConst *c;            /* VAL_CONST */
    int uses;              /* node inputs and graph outputs that read it */
    bool is_output;        /* a graph output */
} OxValue;

/* One parameter tensor of a layer: KEY.suffix in the weights. */
typedef struct {
    const char *suffix;    /* "weight", "bias", "running_mean", "running_var" */
    OxConst *c;
    bool transpose;        /* a 2-D [in, out] MatMul operand stored as Linear's [out, in] */
} OxParam;

/* One statement of the emitted program: `bind = kind(inputs, args)`. */
typedef struct {
    const char *bind;      /* the .conv identifier */
    const char *kind;      /* .conv op name; "input" for a network input */
    const Onnx__NodeProto *node;  /* the ONNX node, NULL for inputs */
    int nin;
    int in[2];             /* input layers; concat keeps its list in `cat` */
    int *cat, ncat;
    char *args;            /* arguments after the inputs, ", 16, 3, stride=(1, 1)" */
    int src;               /* the value the layer read first (for fusions) */
    const char *key;       /* state_dict key (the name= argument), or NULL */
    int nparams;
    OxParam params[4];
    int64_t pad[2];        /* "pad": H, W padding, taken in by a following avgpool2d */
    bool bias_pending;     /* linear from MatMul: an Add may still give it a bias */
    bool live;
} OxLayer;

typedef struct {
    const char *path;
    const OnnxOptions *opts;
    jmp_buf fail;
    Onnx__ModelProto *model;
    const Onnx__GraphProto *graph;
    int64_t opset;

    OxValue *vals;
    int nvals, capvals;
    int *slots;            /* open-addressing table of value indices by name */
    size_t nslots;

    OxLayer *layers;
    int nlayers, caplayers;
    char **binds;          /* identifiers in use */
    int nbinds, capbinds;
    char **keys;           /* state_dict keys in use */
    int nkeys, capkeys;

    int errors;            /* node diagnostics reported */
} Ox;

/* ---- graph.c ---------------------------------------------------------------- */
void *ox_alloc(size_t n);                  /* zeroed; lives until exit; exits 3 when out of memory */
char *ox_strdup(const char *s);
char *ox_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void ox_fatal(Ox *ox, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ox_node_error(Ox *ox, const Onnx__NodeProto *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ox_find_value(Ox *ox, const char *name);        /* -1 if none */
int ox_add_value(Ox *ox, const char *name, ValKind kind);
int ox_add_layer(Ox *ox, const Onnx__NodeProto *n, const char *kind, const char *bind_hint);
const char *ox_claim_key(Ox *ox, const char *key);  /* NULL if taken */
const char *ox_node_name(const Onnx__NodeProto *n);
const char *ox_identifier(const char *hint, const char *fallback);  /* not made unique */

/* ---- read.c ----------------------------------------------------------------- */
Onnx__ModelProto *ox_read_model(Ox *ox, OnnxError *err);
OxConst *ox_decode_tensor(Ox *ox, const Onnx__TensorProto *t, const char *what);

/* ---- ops.c ------------------------------------------------------------------ */
void ox_translate_node(Ox *ox, const Onnx__NodeProto *n);

/* ---- emit.c ----------------------------------------------------------------- */
void ox_emit_program(Ox *ox, OnnxModel *m, const char *network, const char **outputs,
                     const int *out_layers, int noutputs);

#endif
