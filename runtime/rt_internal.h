/*
 * rt_internal.h - declarations shared by the runtime's own files.
 *
 * Not part of the ABI (that is convrt.h). Error convention: a function that
 * can fail prints one line through rt_error() and returns the exit code of
 * the failure (RT_EXIT_*); 0 means success. Nothing exits from inside the
 * library, so every allocation is released on every path.
 */
#ifndef CONVC_RT_INTERNAL_H
#define CONVC_RT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include "runtime/convc.h"
#include "runtime/convrt.h"
#include "runtime/json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the convc runtime reads and writes little-endian files on little-endian hosts only"
#endif

enum { RT_MESSAGE_SIZE = CONVC_MESSAGE_SIZE, RT_MAX_THREADS = 1024, RT_MAX_BATCH = 1 << 20 };

/* --- error.c: messages, checked arithmetic, aligned buffers --------------- */
const char *rt_progname(void); /* rt_set_progname: convrt.h */
int rt_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* From now on this thread's rt_error() writes into buf (RT_MESSAGE_SIZE
 * bytes, emptied here) instead of stderr; NULL: stderr again. Returns the
 * previous buffer. */
char *rt_capture(char *buf);
bool rt_mul_overflows(int64_t a, int64_t b, int64_t *out);
float *rt_alloc_floats(int64_t n); /* 64-byte aligned, zeroed; NULL on overflow or OOM */
void rt_format_shape(char *buf, size_t size, const int64_t *dims, int rank);
int rt_read_file(const char *path, const char *what, int code, unsigned char **data, size_t *size);

/* --- convert.c: element types of files, to float32 ---------------------- */
typedef enum { RT_F32, RT_F16, RT_BF16, RT_F64 } RtFloatType;
void rt_convert_to_f32(float *dst, const unsigned char *src, int64_t n, RtFloatType type);

/* --- json.c: a small strict JSON parser (RFC 8259), see runtime/json.h -- */

/* --- safetensors.c, random.c: parameter values ---------------------------- */
typedef struct RtSafetensors RtSafetensors;
/* Opens and checks safetensors weights against m's parameters: the file
 * `path`, or (path NULL) the image data[0 .. size) that `label` names in
 * messages. With drop, pages of the image are given back once read (only
 * for read-only file-backed memory: the embedded image, never a caller's). */
int rt_safetensors_open(const RtModel *m, const char *path, const char *label, const unsigned char *data,
                        size_t size, bool drop, RtSafetensors **out);
/* p: an RT_PARAM_LOAD parameter of that model; converted to f32 into dst. */
void rt_safetensors_read(RtSafetensors *f, const RtParam *p, float *dst);
void rt_safetensors_close(RtSafetensors *f); /* NULL: nothing */
void rt_random_param(const RtModel *m, const RtParam *p, uint64_t seed, float *dst);
void rt_random_uniform(float *dst, int64_t n, float lo, float hi, uint64_t seed, const char *name);

/* --- npy.c: inputs and outputs -------------------------------------------- */
int rt_npy_read(const char *path, const char *name, const RtTensor *t, int64_t *batch, float **data);
bool rt_npy_write(FILE *f, const RtTensor *t, int64_t batch, const float *data);

/* --- output.c: files that appear only when everything succeeded ----------- */
typedef struct {
    const char *path; /* final name; NULL when this output is not written */
    char *tmp;        /* temporary in the same directory; NULL once renamed or removed */
    char *backup;     /* during the commit: a hard link to what path held */
    FILE *f;
} RtOutFile;
/* Checks every target, then creates the temporaries; paths[i] may be NULL. */
int rt_outs_open(RtOutFile *outs, int32_t n, const char *const *paths);
int rt_out_close(RtOutFile *o);                    /* flush and close; error if anything failed to write */
int rt_out_write_error(const RtOutFile *o, int err); /* the error line for a failed write, with strerror */
int rt_outs_commit(RtOutFile *outs, int32_t n);    /* rename all into place, or none */
void rt_outs_discard(RtOutFile *outs, int32_t n);  /* remove the temporaries left */
/* Blocks every signal but the synchronous faults (for pool threads and commits). */
void rt_signals_block(sigset_t *old);
void rt_signals_restore(const sigset_t *old);

/* --- pool.c: a fixed set of pthreads that split each step's items -------- */
typedef struct RtPool RtPool;
int rt_pool_create(RtPool **out, int nthreads);
void rt_pool_run(RtPool *p, RtKernel fn, float *const *args, int64_t total, int64_t batch);
void rt_pool_destroy(RtPool *p);

/* --- prepare.c: parameters loaded and prepared, once -------------------- */
typedef struct {
    const char *path;           /* a safetensors file, or */
    const unsigned char *data;  /* an image in memory, or */
    size_t size;
    bool random;                /* random values from seed, or (none of these) the embedded weights */
    uint64_t seed;
} RtWeights;
/* Fills params (param_floats) from w: resident loaded parameters first,
 * then the prepare steps on the pool, each transient loaded parameter
 * read right before the first step that reads it into a load-time buffer
 * freed at the end. Errors through rt_error(). */
int rt_load_params(const RtModel *m, const RtWeights *w, RtPool *pool, float *params);

/* --- timing.c: CLOCK_MONOTONIC seconds; median of n > 0 values (sorts v) -- */
double rt_now_seconds(void);
double rt_median(double *v, int64_t n);

/* --- profile.c: --profile, per-step medians against the machine's peak ---- */
typedef enum {
    RT_PROFILE_OFF,   /* no --profile */
    RT_PROFILE_TIME,  /* --profile, --profile=table|time: a table, slowest step first */
    RT_PROFILE_ORDER, /* --profile=order: a table in network order */
    RT_PROFILE_JSON   /* --profile=json: one JSON object instead of the bench line */
} RtProfileMode;
typedef struct {
    const RtModel *m;
    RtProfileMode mode;
    int threads;
    int64_t batch, runs;
    const double *seconds;     /* [runs][nsteps]: each step's time in each timed run */
    double median_ms, min_ms;  /* of whole runs, as on the bench line */
    double peak;               /* GFLOP/s of all threads; 0 when unknown */
    char source[128];          /* where peak came from */
} RtProfile;
int rt_profile_option(const char *value, RtProfileMode *mode);
int rt_profile_peak(RtProfile *p, RtPool *pool);
int rt_profile_report(const RtProfile *p, FILE *out);

/* --- api.c: instances (the embedding API's internals; convc.h) ---------- */
/* threads 0: one per online CPU. Errors through rt_error(). */
int rt_instance_open(const RtModel *m, const RtWeights *w, int threads, ConvcInstance **out);
/* Arguments unchecked; outputs may be NULL (--bench); step_seconds: each step's time, or NULL. */
int rt_instance_run(ConvcInstance *inst, int64_t batch, const float *const *inputs, float *const *outputs,
                    double *step_seconds);
RtPool *rt_instance_pool(const ConvcInstance *inst);
int rt_instance_threads(const ConvcInstance *inst);
void rt_instance_close(ConvcInstance *inst);

/* --- cli.c: the command line ---------------------------------------------- */
typedef struct {
    const char *weights;        /* --weights FILE */
    bool random_weights;        /* --random-weights SEED */
    uint64_t weights_seed;
    bool random_input;          /* --random-input SEED */
    uint64_t input_seed;
    int64_t batch;              /* --batch N; 0 when not given */
    const char **input_paths;   /* per network input; NULL when not given */
    const char **output_paths;  /* per network output; NULL when not given */
    int threads;                /* --threads N; 0 (one per online CPU) when not given */
    int64_t bench;              /* --bench N; 0 when not given */
    RtProfileMode profile;      /* --profile[=MODE] */
    bool info, help, version;
} RtOptions;
int rt_parse_args(const RtModel *m, int argc, char **argv, RtOptions *o);
void rt_options_free(RtOptions *o);
void rt_print_usage(const RtModel *m, FILE *f);
void rt_print_info(const RtModel *m, FILE *f);

/* --- check.c: the model constant is validated before it is trusted ------- */
int rt_check_model(const RtModel *m);
int rt_model_matches(const RtModel *m);       /* magic and ABI version are this runtime's */
int rt_model_version_error(const RtModel *m); /* 0 when they are, else an error reported */

#endif
