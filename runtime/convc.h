/*
 * convc.h - the embedding API of the convc runtime (libconvrt): run a
 * network compiled by convc from a C or C++ program.
 *
 * A compiled network is a ConvcModel: a constant the generated object
 * defines (`NAME_model`, where NAME is the network's name or --prefix).
 * `convc net.conv --header net.h` writes a header that declares it and
 * prefixed wrappers of the functions below (NAME_open, NAME_run, ...);
 * those wrappers are what a shared library built with --shared exports.
 *
 * An instance holds a copy of the parameters, its own thread pool and its
 * own activation memory; nothing is shared between instances and the
 * runtime has no global state besides the registry of open instances, so
 * two threads may use two instances at once. One instance is used by one
 * thread at a time.
 *
 * Every function returns a ConvcStatus (CONVC_OK = 0). After a failed call
 * on an instance, convc_error(inst) holds a one-line message (no program
 * name, no newline) until the next call; a failed open reports through its
 * ConvcError out-parameter. Bad calls (null pointers, wrong buffer sizes, a
 * closed instance, weights that do not match the network) return an error;
 * nothing aborts or prints.
 *
 * Buffers are float32, NCHW (a flat input or output is [N, F]), owned by
 * the caller; sizes are counted in floats.
 */
#ifndef CONVC_H
#define CONVC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The status of a call; but for CONVC_ERR_CLOSED, the values are the exit
 * codes a compiled network's command line gives for the same failures. */
typedef enum {
    CONVC_OK = 0,
    CONVC_ERR_ARGUMENT = 2, /* a null pointer, a bad index, thread count or batch size */
    CONVC_ERR_WEIGHTS = 3,  /* weights unreadable, malformed, or not matching the network */
    CONVC_ERR_BUFFER = 4,   /* an input or output buffer of the wrong size */
    CONVC_ERR_CLOSED = 7,   /* the instance was closed (or never opened) */
    CONVC_ERR_RUNTIME = 6   /* out of memory, thread creation failed */
} ConvcStatus;

typedef struct ConvcModel ConvcModel;       /* a compiled network (read-only) */
typedef struct ConvcInstance ConvcInstance; /* an opened network */

enum { CONVC_MESSAGE_SIZE = 512 };

/* Why an open failed. */
typedef struct {
    ConvcStatus code;
    char message[CONVC_MESSAGE_SIZE];
} ConvcError;

/* An input or output: per-sample shape [C, H, W] (rank 3) or [F] (rank 1). */
typedef struct {
    const char *name;  /* valid while the model is loaded */
    int rank;
    int64_t dims[3];
    int64_t size;      /* floats per sample: the product of dims */
} ConvcTensorInfo;

/* Opens an instance with `threads` threads (1..1024; 0: one per online CPU).
 * Weights: a safetensors file (path), or the weights embedded with
 * `convc --embed-weights` when path is NULL. err may be NULL. */
ConvcStatus convc_open(const ConvcModel *model, const char *path, int threads, ConvcInstance **out,
                       ConvcError *err);
/* The same from a safetensors image in memory (copied; may be freed after). */
ConvcStatus convc_open_memory(const ConvcModel *model, const void *data, size_t size, int threads,
                              ConvcInstance **out, ConvcError *err);

/* Inputs and outputs, in declaration order. A model compiled for another
 * runtime ABI (convc_open: CONVC_ERR_RUNTIME) counts as none: -1, NULL,
 * CONVC_ERR_ARGUMENT. */
int convc_num_inputs(const ConvcModel *model);
int convc_num_outputs(const ConvcModel *model);
ConvcStatus convc_input_info(const ConvcModel *model, int index, ConvcTensorInfo *out);
ConvcStatus convc_output_info(const ConvcModel *model, int index, ConvcTensorInfo *out);
const char *convc_model_name(const ConvcModel *model);
/* The model an instance was opened with; NULL for a closed instance. */
const ConvcModel *convc_instance_model(const ConvcInstance *inst);

/* Runs a batch of `batch` samples: inputs[i] holds input i (sizes[i] ==
 * batch * its size floats), outputs[i] receives output i (likewise). */
ConvcStatus convc_run(ConvcInstance *inst, int64_t batch, const float *const *inputs, const size_t *input_sizes,
                      float *const *outputs, const size_t *output_sizes);

/* The message of the instance's last failed call ("" after a success). */
const char *convc_error(const ConvcInstance *inst);

/* Releases everything the instance holds; later calls with it return
 * CONVC_ERR_CLOSED. Closing NULL or a closed instance does nothing. */
void convc_close(ConvcInstance *inst);

#ifdef __cplusplus
}
#endif

#endif
