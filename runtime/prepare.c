/*
 * prepare.c - parameters loaded and prepared, once per instance.
 *
 *   open the source (a safetensors file or image, checked whole before any
 *   value is read; or random values) -> resident loaded parameters -> each
 *   prepare step (RtPrepare: batchnorm folded into a conv's weights, weights
 *   packed for a blocked kernel, Winograd's transform) in order, split over
 *   the thread pool, its transient loaded inputs read right before it ->
 *   the load-time buffer freed.
 *
 * Only the parameter buffer (what steps read) outlives the load: an
 * original that prepare steps replace is read into the load-time buffer
 * when its first reader runs and its space is reused once its last reader
 * ran (the compiler planned the offsets), and the pages of the weights
 * file are dropped as they are read, so the peak is the parameter buffer
 * plus about one layer's originals, not every weight twice.
 */
#include <stdlib.h>

#include "runtime/rt_internal.h"

/* Where parameter values come from: a safetensors image or random values. */
typedef struct {
    RtSafetensors *st;
    const RtWeights *w;
} Source;

static bool needs_weights(const RtModel *m)
{
    for (int32_t i = 0; i < m->nparams; i++)
        if (m->params[i].source == RT_PARAM_LOAD)
            return true;
    return false;
}

static int open_source(const RtModel *m, const RtWeights *w, Source *s)
{
    *s = (Source){.w = w};
    if (w->random)
        return 0;
    if (w->path)
        return rt_safetensors_open(m, w->path, NULL, NULL, 0, false, &s->st);
    if (w->data)
        return rt_safetensors_open(m, NULL, "weights in memory", w->data, w->size, false, &s->st);
    if (m->embedded_weights)
        return rt_safetensors_open(m, NULL, "embedded weights", m->embedded_weights,
                                   (size_t)m->embedded_weights_size, true, &s->st);
    if (needs_weights(m))
        return rt_error(RT_EXIT_WEIGHTS, "network '%s' has no embedded weights: give a weights file", m->name);
    return 0;
}

static bool has_values(const Source *s) { return s->st || s->w->random; }

static void read_param(const RtModel *m, Source *s, const RtParam *p, float *dst)
{
    if (s->w->random)
        rt_random_param(m, p, s->w->seed, dst);
    else
        rt_safetensors_read(s->st, p, dst);
}

static float *param_ptr(const RtParam *p, float *params, float *load_time)
{
    return (p->buffer == RT_PARAM_TRANSIENT ? load_time : params) + p->offset;
}

/* Step i's transient loaded inputs that no earlier step read. */
static void read_inputs(const RtModel *m, Source *s, const RtPrepare *p, float *load_time, bool *read)
{
    for (int j = p->nout; j < p->nout + p->nin; j++) {
        const RtParam *q = &m->params[p->params[j]];
        if (q->source == RT_PARAM_LOAD && q->buffer == RT_PARAM_TRANSIENT && !read[p->params[j]]) {
            read_param(m, s, q, load_time + q->offset);
            read[p->params[j]] = true;
        }
    }
}

static void run_steps(const RtModel *m, Source *s, RtPool *pool, float *params, float *load_time, bool *read)
{
    for (int32_t i = 0; i < m->nparams; i++)
        if (m->params[i].source == RT_PARAM_LOAD && m->params[i].buffer == RT_PARAM_RESIDENT && has_values(s))
            read_param(m, s, &m->params[i], params + m->params[i].offset);
    for (int32_t i = 0; i < m->nprepare; i++) {
        const RtPrepare *p = &m->prepare[i];
        float *args[RT_MAX_PREPARE_PARAMS];
        if (has_values(s))
            read_inputs(m, s, p, load_time, read);
        for (int j = 0; j < p->nout + p->nin; j++)
            args[j] = param_ptr(&m->params[p->params[j]], params, load_time);
        rt_pool_run(pool, p->fn, args, p->work, 1);
    }
}

int rt_load_params(const RtModel *m, const RtWeights *w, RtPool *pool, float *params)
{
    Source s;
    int rc = open_source(m, w, &s);
    if (rc)
        return rc;
    float *load_time = m->prepare_floats ? rt_alloc_floats(m->prepare_floats) : NULL;
    bool *read = calloc((size_t)m->nparams + 1, sizeof *read);
    if ((m->prepare_floats && !load_time) || !read)
        rc = rt_error(RT_EXIT_RUNTIME, "out of memory for %lld load-time parameters", (long long)m->prepare_floats);
    else
        run_steps(m, &s, pool, params, load_time, read);
    free(read);
    free(load_time);
    rt_safetensors_close(s.st);
    return rc;
}
