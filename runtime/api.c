/*
 * api.c - instances of a compiled network: the embedding API (convc.h) and
 * what the command line (run.c) runs on.
 *
 *   open:  check the model -> thread pool -> parameters (file, memory,
 *          embedded or random) and prepare steps (derived parameters:
 *          batchnorm folding, weight packing), once (prepare.c)
 *   run:   arguments checked -> arena for the batch (kept, grown on demand)
 *          -> inputs copied in -> steps on the pool -> outputs copied out
 *   close: everything released; the instance leaves the registry
 *
 * An instance owns all it uses, so instances are independent. The one
 * process-wide structure is the registry of open instances: a call with a
 * pointer not in it (closed, or never opened) returns CONVC_ERR_CLOSED
 * without touching the memory it points to. A pointer reused by a later
 * open is that new instance again; the registry cannot tell them apart.
 *
 * The public functions run their internal twin with the thread's messages
 * captured into the instance's buffer (or the ConvcError of an open), so a
 * library call never prints; the command line calls the twins directly and
 * its messages go to stderr.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

struct ConvcInstance {
    const RtModel *m;
    int threads;
    float *params;
    RtPool *pool;
    float *arena;
    int64_t arena_batch; /* samples the arena holds; 0: none yet */
    char message[RT_MESSAGE_SIZE];
};

_Static_assert((int)CONVC_ERR_ARGUMENT == (int)RT_EXIT_USAGE && (int)CONVC_ERR_WEIGHTS == (int)RT_EXIT_WEIGHTS &&
                   (int)CONVC_ERR_BUFFER == (int)RT_EXIT_INPUT && (int)CONVC_ERR_RUNTIME == (int)RT_EXIT_RUNTIME,
               "ConvcStatus values are the command line's exit codes");

/* --- the registry of open instances ---------------------------------------- */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static ConvcInstance **registry;
static size_t registry_n, registry_cap;

static bool registry_add(ConvcInstance *inst)
{
    bool ok = true;
    pthread_mutex_lock(&registry_mu);
    if (registry_n == registry_cap) {
        size_t cap = registry_cap ? 2 * registry_cap : 8;
        ConvcInstance **r = realloc(registry, cap * sizeof *r);
        if (r)
            registry = r, registry_cap = cap;
        ok = r != NULL;
    }
    if (ok)
        registry[registry_n++] = inst;
    pthread_mutex_unlock(&registry_mu);
    return ok;
}

/* Whether inst is open; with remove, it is no longer. */
static bool registry_find(const ConvcInstance *inst, bool remove)
{
    bool found = false;
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < registry_n && !found; i++) {
        if (registry[i] != inst)
            continue;
        found = true;
        if (remove)
            registry[i] = registry[--registry_n];
    }
    if (remove && registry_n == 0) {
        free(registry); /* nothing left open: nothing left allocated */
        registry = NULL, registry_cap = 0;
    }
    pthread_mutex_unlock(&registry_mu);
    return found;
}

/* --- the internal twins ---------------------------------------------------- */

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RT_MAX_THREADS ? RT_MAX_THREADS : (int)n;
}

void rt_instance_close(ConvcInstance *inst)
{
    if (!inst)
        return;
    rt_pool_destroy(inst->pool);
    free(inst->arena);
    free(inst->params);
    free(inst);
}

int rt_instance_open(const RtModel *m, const RtWeights *w, int threads, ConvcInstance **out)
{
    *out = NULL;
    if (threads < 0 || threads > RT_MAX_THREADS)
        return rt_error(RT_EXIT_USAGE, "thread count %d is not in [0, %d]", threads, RT_MAX_THREADS);
    int rc = rt_check_model(m);
    if (rc)
        return rc;
    ConvcInstance *inst = calloc(1, sizeof *inst);
    if (!inst)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    inst->m = m;
    inst->threads = threads ? threads : default_threads();
    if (!(inst->params = rt_alloc_floats(m->param_floats)))
        rc = rt_error(RT_EXIT_RUNTIME, "out of memory for %lld parameters", (long long)m->param_floats);
    if (!rc)
        rc = rt_pool_create(&inst->pool, inst->threads);
    if (!rc)
        rc = rt_load_params(m, w, inst->pool, inst->params);
    if (rc) {
        rt_instance_close(inst);
        return rc;
    }
    *out = inst;
    return 0;
}

/* One arena for the whole batch, kept for later runs of at most that many
 * samples; every step's item count must fit too. */
static int arena_for(ConvcInstance *inst, int64_t batch)
{
    const RtModel *m = inst->m;
    int64_t floats, items;
    if (batch <= inst->arena_batch)
        return 0;
    for (int32_t i = 0; i < m->nsteps; i++)
        if (rt_mul_overflows(m->steps[i].work, batch, &items) || items > INT64_MAX / 4)
            return rt_error(RT_EXIT_RUNTIME, "batch size %lld too large for step '%s'", (long long)batch,
                            m->steps[i].name);
    free(inst->arena);
    inst->arena_batch = 0;
    if (rt_mul_overflows(m->arena_floats, batch, &floats) || !(inst->arena = rt_alloc_floats(floats)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for the arena (%lld floats x batch %lld)",
                        (long long)m->arena_floats, (long long)batch);
    inst->arena_batch = batch;
    return 0;
}

/* The arena holds tensors batch-outermost: tensor t of a batch of n starts
 * at offset * n, a view view_off floats further (convrt.h). */
static float *tensor_base(const ConvcInstance *inst, int64_t batch, int32_t t)
{
    return inst->arena + inst->m->tensors[t].offset * batch + inst->m->tensors[t].view_off;
}

/* Inputs in and outputs out are copied on the pool, COPY_CHUNK floats per
 * item: a copy of more than one item takes both cores, and a worker asleep
 * between runs starts waking up during the input copy rather than during
 * the first step (a wake-up took 0.3-0.6 ms on the 2-core machines, as long
 * as a small layer; pool.c). */
enum { COPY_CHUNK = 16384 };

static void copy_chunks(float *const *args, int64_t begin, int64_t end, int64_t n)
{
    int64_t from = begin * COPY_CHUNK, to = end * COPY_CHUNK < n ? end * COPY_CHUNK : n;
    memcpy(args[0] + from, args[1] + from, (size_t)(to - from) * sizeof(float));
}

static void pool_copy(RtPool *pool, float *dst, const float *src, int64_t n)
{
    float *args[2] = {dst, (float *)src};
    rt_pool_run(pool, copy_chunks, args, (n + COPY_CHUNK - 1) / COPY_CHUNK, n);
}

int rt_instance_run(ConvcInstance *inst, int64_t batch, const float *const *inputs, float *const *outputs,
                    double *step_seconds)
{
    const RtModel *m = inst->m;
    int rc = arena_for(inst, batch);
    if (rc)
        return rc;
    for (int32_t i = 0; i < m->ninputs; i++)
        pool_copy(inst->pool, tensor_base(inst, batch, m->inputs[i]), inputs[i], batch * m->tensors[m->inputs[i]].size);
    for (int32_t i = 0; i < m->nsteps; i++) {
        const RtStep *s = &m->steps[i];
        float *args[RT_MAX_STEP_TENSORS + RT_MAX_STEP_PARAMS];
        for (int j = 0; j < s->ntensors; j++)
            args[j] = tensor_base(inst, batch, s->tensors[j]);
        for (int j = 0; j < s->nparams; j++)
            args[s->ntensors + j] = inst->params + m->params[s->params[j]].offset;
        double start = step_seconds ? rt_now_seconds() : 0;
        rt_pool_run(inst->pool, s->fn, args, s->whole_batch ? s->work : s->work * batch, batch);
        if (step_seconds)
            step_seconds[i] = rt_now_seconds() - start;
    }
    for (int32_t i = 0; outputs && i < m->noutputs; i++)
        pool_copy(inst->pool, outputs[i], tensor_base(inst, batch, m->outputs[i]), batch * m->tensors[m->outputs[i]].size);
    return 0;
}

RtPool *rt_instance_pool(const ConvcInstance *inst) { return inst->pool; }
int rt_instance_threads(const ConvcInstance *inst) { return inst->threads; }

/* --- the public API --------------------------------------------------------- */

static const RtModel *rt_model(const ConvcModel *model) { return (const RtModel *)model; }

static ConvcStatus open_captured(const ConvcModel *model, const RtWeights *w, int threads, ConvcInstance **out,
                                 ConvcError *err)
{
    ConvcError local;
    if (!err)
        err = &local;
    char *old = rt_capture(err->message);
    int rc;
    if (out)
        *out = NULL;
    if (!out)
        rc = rt_error(RT_EXIT_USAGE, "null instance pointer (out)");
    else if (!model)
        rc = rt_error(RT_EXIT_USAGE, "null model");
    else if (!(rc = rt_instance_open(rt_model(model), w, threads, out)) && !registry_add(*out)) {
        rt_instance_close(*out);
        *out = NULL;
        rc = rt_error(RT_EXIT_RUNTIME, "out of memory");
    }
    rt_capture(old);
    err->code = (ConvcStatus)rc;
    return (ConvcStatus)rc;
}

ConvcStatus convc_open(const ConvcModel *model, const char *path, int threads, ConvcInstance **out, ConvcError *err)
{
    RtWeights w = {.path = path};
    return open_captured(model, &w, threads, out, err);
}

ConvcStatus convc_open_memory(const ConvcModel *model, const void *data, size_t size, int threads, ConvcInstance **out,
                              ConvcError *err)
{
    RtWeights w = {.data = data, .size = size};
    if (!data) {
        ConvcError local;
        ConvcError *e = err ? err : &local;
        char *old = rt_capture(e->message);
        e->code = (ConvcStatus)rt_error(RT_EXIT_USAGE, "null weights data");
        rt_capture(old);
        if (out)
            *out = NULL;
        return e->code;
    }
    return open_captured(model, &w, threads, out, err);
}

/* The model, or NULL when there is none or it was compiled for another
 * runtime ABI (only its first two fields can be read then). */
static const RtModel *known(const ConvcModel *model)
{
    return model && rt_model_matches(rt_model(model)) ? rt_model(model) : NULL;
}

int convc_num_inputs(const ConvcModel *model) { return known(model) ? known(model)->ninputs : -1; }
int convc_num_outputs(const ConvcModel *model) { return known(model) ? known(model)->noutputs : -1; }
const char *convc_model_name(const ConvcModel *model) { return known(model) ? known(model)->name : NULL; }

static ConvcStatus port_info(const RtModel *m, bool input, int index, ConvcTensorInfo *out)
{
    int32_t n = input ? m->ninputs : m->noutputs;
    if (!out || index < 0 || index >= n)
        return CONVC_ERR_ARGUMENT;
    const RtTensor *t = &m->tensors[input ? m->inputs[index] : m->outputs[index]];
    *out = (ConvcTensorInfo){.name = input ? m->input_names[index] : m->output_names[index],
                             .rank = t->rank, .size = t->size};
    if (t->rank == 1) {
        out->dims[0] = t->c;
    } else {
        out->dims[0] = t->c, out->dims[1] = t->h, out->dims[2] = t->w;
    }
    return CONVC_OK;
}

ConvcStatus convc_input_info(const ConvcModel *model, int index, ConvcTensorInfo *out)
{
    return known(model) ? port_info(known(model), true, index, out) : CONVC_ERR_ARGUMENT;
}

ConvcStatus convc_output_info(const ConvcModel *model, int index, ConvcTensorInfo *out)
{
    return known(model) ? port_info(known(model), false, index, out) : CONVC_ERR_ARGUMENT;
}

const ConvcModel *convc_instance_model(const ConvcInstance *inst)
{
    return registry_find(inst, false) ? (const ConvcModel *)inst->m : NULL;
}

/* Buffers present and of exactly batch * size floats each. */
static int check_buffers(const RtModel *m, int64_t batch, bool input, const void *bufs, const size_t *sizes)
{
    int32_t n = input ? m->ninputs : m->noutputs;
    const char *kind = input ? "input" : "output";
    if (n > 0 && (!bufs || !sizes))
        return rt_error(RT_EXIT_USAGE, "null %s array or %s size array", kind, kind);
    for (int32_t i = 0; i < n; i++) {
        const RtTensor *t = &m->tensors[input ? m->inputs[i] : m->outputs[i]];
        const char *name = input ? m->input_names[i] : m->output_names[i];
        if (!((const void *const *)bufs)[i])
            return rt_error(RT_EXIT_USAGE, "null buffer for %s '%s'", kind, name);
        int64_t want;
        rt_mul_overflows(batch, t->size, &want);
        if ((uint64_t)want != (uint64_t)sizes[i])
            return rt_error(RT_EXIT_INPUT, "%s '%s' has %zu floats, expected %lld (batch %lld x %lld)", kind, name,
                            sizes[i], (long long)want, (long long)batch, (long long)t->size);
    }
    return 0;
}

ConvcStatus convc_run(ConvcInstance *inst, int64_t batch, const float *const *inputs, const size_t *input_sizes,
                      float *const *outputs, const size_t *output_sizes)
{
    if (!registry_find(inst, false))
        return inst ? CONVC_ERR_CLOSED : CONVC_ERR_ARGUMENT;
    char *old = rt_capture(inst->message);
    const RtModel *m = inst->m;
    int rc = 0;
    if (batch < 1 || batch > RT_MAX_BATCH)
        rc = rt_error(RT_EXIT_USAGE, "batch size %lld is not in [1, %d]", (long long)batch, RT_MAX_BATCH);
    if (!rc)
        rc = check_buffers(m, batch, true, inputs, input_sizes);
    if (!rc)
        rc = check_buffers(m, batch, false, outputs, output_sizes);
    if (!rc)
        rc = rt_instance_run(inst, batch, inputs, outputs, NULL);
    rt_capture(old);
    return (ConvcStatus)rc;
}

const char *convc_error(const ConvcInstance *inst)
{
    if (!inst)
        return "null instance";
    return registry_find(inst, false) ? inst->message : "the instance is closed";
}

void convc_close(ConvcInstance *inst)
{
    if (inst && registry_find(inst, true))
        rt_instance_close(inst);
}
