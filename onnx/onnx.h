/*
 * onnx.h - the ONNX importer: a trained model exported by torch.onnx.export
 * becomes the equivalent .conv program text plus its weights.
 *
 *   model.onnx --(protobuf-c)--> ModelProto --(onnx/)--> .conv text + weights
 *              --(frontend/)--> checked Graph --> ...   (as for a .conv file)
 *
 * The importer does not build a Graph itself: it writes the program a person
 * would write (one statement per layer, `name=` overrides so the state_dict
 * keys match the weights), and the normal front end checks it. So shapes,
 * diagnostics, --stats and code generation are those of .conv files.
 *
 * Invariants of an OnnxModel returned by onnx_import():
 *   - `conv` is a complete program with one network named after the file;
 *   - every parameter the program uses is in `weights` under its key
 *     (KEY.weight, ...), in PyTorch's layout, float32; nothing else is.
 */
#ifndef CONVC_ONNX_H
#define CONVC_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --input-shape NAME=C,H,W (or NAME=F): the per-sample shape of an input
 * whose ONNX type leaves spatial or channel dimensions symbolic. */
typedef struct {
    const char *name;
    int rank;            /* 3 or 1 */
    int64_t dims[3];
} OnnxInputShape;

typedef struct {
    FILE *diag;          /* where errors go (stderr) */
    bool color;
    int nshapes;
    const OnnxInputShape *shapes;
} OnnxOptions;

/* One float32 tensor of the weights, in PyTorch's layout. */
typedef struct {
    char *key;           /* state_dict key, e.g. "features.0.weight" */
    int rank;
    int64_t dims[4];
    int64_t numel;
    const float *data;
} OnnxWeight;

typedef struct {
    char *conv;          /* the program text */
    size_t conv_len;
    int nweights;
    OnnxWeight *weights;
} OnnxModel;

/* Outcome of an import that returned NULL. */
typedef enum {
    ONNX_ERR_MODEL = 1,  /* malformed file or nodes convc cannot express (exit 1) */
    ONNX_ERR_IO = 3,     /* the file could not be read (exit 3) */
} OnnxError;

/* Reads and translates `path`. Reports every unsupported node, or the one
 * reason a malformed file is refused, to opts->diag, and returns NULL with
 * *err set. The result lives until the process exits. */
OnnxModel *onnx_import(const char *path, const OnnxOptions *opts, OnnxError *err);

/* Frees everything onnx_import() and the calls below allocated (for
 * harnesses that import many models in one process). */
void onnx_release(void);

/* Parses "NAME=C,H,W" or "NAME=F"; false if malformed. */
bool onnx_parse_input_shape(const char *arg, OnnxInputShape *out);

/* Writes the weights as a safetensors file (through a temporary renamed into
 * place, so a failure leaves no partial file). False with a message on failure. */
bool onnx_write_safetensors(const OnnxModel *m, const char *path);

/* The same safetensors file as bytes in memory (malloc'd; NULL if out of memory). */
unsigned char *onnx_safetensors_image(const OnnxModel *m, size_t *size);

/* True if `path` names an ONNX file (ends in ".onnx"). */
bool onnx_is_model_path(const char *path);

#endif
