/*
 * run.c - rt_main: the life of one invocation of a compiled network.
 *
 *   check the model -> parse the command line -> output targets checked and
 *   temporaries created -> parameters (file or random) -> inputs (files or
 *   random; one batch size N) -> arena of arena_floats * N -> thread pool ->
 *   prepare steps (derived parameters, once) -> run (or bench)
 *   -> write outputs -> rename them into place.
 *
 * Each stage returns 0 or an exit code after printing one error line; the
 * first failure skips the remaining stages and cleanup() releases whatever
 * was acquired, removing output temporaries. Inputs are kept outside the
 * arena and copied in at the start of every run, because the arena planner
 * may reuse an input's space once it is dead.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

typedef struct {
    const RtModel *m;
    RtOptions opt;
    float *params, *arena;
    float **inputs;   /* per input: batch * size floats */
    int64_t batch;
    RtPool *pool;
    RtOutFile *outs;  /* per output; tmp == NULL when not requested */
    RtProfile *profile; /* --profile */
} Run;

static int load_params(Run *r)
{
    const RtModel *m = r->m;
    if (!(r->params = rt_alloc_floats(m->param_floats)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for %lld parameters", (long long)m->param_floats);
    if (r->opt.random_weights) {
        rt_random_params(m, r->opt.weights_seed, r->params);
    } else if (r->opt.weights || convc_embedded_weights) {
        int rc = r->opt.weights ? rt_load_safetensors(m, r->opt.weights, r->params)
                                : rt_load_embedded_weights(m, r->params);
        if (rc)
            return rc;
    }
    return 0;
}

/* The batch size comes from the first input file; all others must agree. */
static int read_input_files(Run *r)
{
    const RtModel *m = r->m;
    int32_t first = -1;
    for (int32_t i = 0; i < m->ninputs; i++) {
        if (!r->opt.input_paths[i])
            continue;
        int64_t n;
        int rc = rt_npy_read(r->opt.input_paths[i], m->input_names[i], &m->tensors[m->inputs[i]], &n, &r->inputs[i]);
        if (rc)
            return rc;
        if (first >= 0 && n != r->batch)
            return rt_error(RT_EXIT_INPUT, "%s: input '%s' has batch size %lld, but input '%s' has %lld",
                            r->opt.input_paths[i], m->input_names[i], (long long)n, m->input_names[first],
                            (long long)r->batch);
        if (first < 0)
            first = i, r->batch = n;
    }
    if (first >= 0 && r->opt.batch && r->opt.batch != r->batch)
        return rt_error(RT_EXIT_INPUT, "--batch %lld disagrees with input '%s' (batch size %lld)", (long long)r->opt.batch,
                        m->input_names[first], (long long)r->batch);
    if (first < 0)
        r->batch = r->opt.batch ? r->opt.batch : 1;
    return 0;
}

static int load_inputs(Run *r)
{
    const RtModel *m = r->m;
    if (!(r->inputs = calloc((size_t)m->ninputs + 1, sizeof *r->inputs)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    int rc = read_input_files(r);
    for (int32_t i = 0; !rc && i < m->ninputs; i++) {
        if (r->inputs[i])
            continue;
        int64_t n, size = m->tensors[m->inputs[i]].size;
        if (rt_mul_overflows(size, r->batch, &n) || !(r->inputs[i] = rt_alloc_floats(n)))
            return rt_error(RT_EXIT_RUNTIME, "out of memory for input '%s'", m->input_names[i]);
        rt_random_uniform(r->inputs[i], n, -1.0f, 1.0f, r->opt.input_seed, m->input_names[i]);
    }
    return rc;
}

/* Every target is checked before anything is created or run. */
static int open_outputs(Run *r)
{
    const RtModel *m = r->m;
    if (!(r->outs = calloc((size_t)m->noutputs + 1, sizeof *r->outs)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    return rt_outs_open(r->outs, m->noutputs, r->opt.output_paths);
}

/* One arena for the whole batch; every step's item count must fit too. */
static int prepare(Run *r)
{
    const RtModel *m = r->m;
    int64_t floats, items;
    for (int32_t i = 0; i < m->nsteps; i++)
        if (rt_mul_overflows(m->steps[i].work, r->batch, &items) || items > INT64_MAX / 4)
            return rt_error(RT_EXIT_RUNTIME, "batch size %lld too large for step '%s'", (long long)r->batch,
                            m->steps[i].name);
    if (rt_mul_overflows(m->arena_floats, r->batch, &floats) || !(r->arena = rt_alloc_floats(floats)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for the arena (%lld floats x batch %lld)",
                        (long long)m->arena_floats, (long long)r->batch);
    return rt_pool_create(&r->pool, r->opt.threads);
}

static float *tensor_base(const Run *r, int32_t t)
{
    return r->arena + r->m->tensors[t].offset * r->batch;
}

/* One run; with step_seconds, each step's time (its pool run, barrier included). */
static void run_once(Run *r, double *step_seconds)
{
    const RtModel *m = r->m;
    for (int32_t i = 0; i < m->ninputs; i++)
        memcpy(tensor_base(r, m->inputs[i]), r->inputs[i],
               (size_t)(r->batch * m->tensors[m->inputs[i]].size) * sizeof(float));
    for (int32_t i = 0; i < m->nsteps; i++) {
        const RtStep *s = &m->steps[i];
        float *args[RT_MAX_STEP_TENSORS + RT_MAX_STEP_PARAMS];
        for (int j = 0; j < s->ntensors; j++)
            args[j] = tensor_base(r, s->tensors[j]);
        for (int j = 0; j < s->nparams; j++)
            args[s->ntensors + j] = r->params + m->params[s->params[j]].offset;
        double start = step_seconds ? rt_now_seconds() : 0;
        rt_pool_run(r->pool, s->fn, args, s->whole_batch ? s->work : s->work * r->batch, r->batch);
        if (step_seconds)
            step_seconds[i] = rt_now_seconds() - start;
    }
}

/* bench: median_ms=.. min_ms=.. gflops=.. threads=.. batch=.. (gflops at the median),
 * or with --profile the per-step report (profile.c); steps[run * nsteps + i]. */
static int report(Run *r, double *t, const double *steps)
{
    int64_t n = r->opt.bench;
    double median = rt_median(t, n); /* sorts t: t[0] is the minimum */
    double gflops = median > 0 ? 2.0 * (double)r->m->macs * (double)r->batch / median / 1e9 : 0.0;
    RtProfile *p = r->profile;
    if (!p || p->mode != RT_PROFILE_JSON)
        printf("bench: median_ms=%.4f min_ms=%.4f gflops=%.4f threads=%d batch=%lld\n", median * 1e3, t[0] * 1e3,
               gflops, r->opt.threads, (long long)r->batch);
    int rc = 0;
    if (p) {
        p->seconds = steps, p->runs = n, p->batch = r->batch;
        p->median_ms = median * 1e3, p->min_ms = t[0] * 1e3;
        rc = rt_profile_report(p, stdout);
    }
    return rc ? rc : fflush(stdout) == 0 ? 0 : rt_error(RT_EXIT_OUTPUT, "cannot write to standard output");
}

/* --profile: the peak (probe or CONVC_PEAK_GFLOPS) and room for every step's time in every run. */
static int start_profile(Run *r, double **steps)
{
    int64_t n;
    *steps = NULL;
    if (!r->opt.profile)
        return 0;
    if (!(r->profile = calloc(1, sizeof *r->profile)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    *r->profile = (RtProfile){.m = r->m, .mode = r->opt.profile, .threads = r->opt.threads};
    if (rt_mul_overflows(r->opt.bench, (int64_t)r->m->nsteps + 1, &n) || n > INT64_MAX / 8 ||
        !(*steps = malloc((size_t)n * sizeof **steps)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for --profile (%lld runs x %d steps)", (long long)r->opt.bench,
                        r->m->nsteps);
    return rt_profile_peak(r->profile, r->pool);
}

static int bench(Run *r)
{
    int64_t n = r->opt.bench;
    double *t = malloc((size_t)n * sizeof *t), *steps = NULL;
    int rc = t ? start_profile(r, &steps) : rt_error(RT_EXIT_RUNTIME, "out of memory");
    if (!rc) {
        run_once(r, NULL); /* warm-up: page faults, caches, thread start */
        for (int64_t i = 0; i < n; i++) {
            double start = rt_now_seconds();
            run_once(r, steps ? steps + i * r->m->nsteps : NULL);
            t[i] = rt_now_seconds() - start;
        }
        rc = report(r, t, steps);
    }
    free(steps);
    free(t);
    return rc;
}

/* All outputs are written and closed before the first one is renamed. */
static int write_outputs(Run *r)
{
    const RtModel *m = r->m;
    for (int32_t i = 0; i < m->noutputs; i++) {
        RtOutFile *o = &r->outs[i];
        if (!o->tmp)
            continue;
        const RtTensor *t = &m->tensors[m->outputs[i]];
        if (!rt_npy_write(o->f, t, r->batch, tensor_base(r, m->outputs[i])))
            return rt_out_write_error(o, errno);
        int rc = rt_out_close(o);
        if (rc)
            return rc;
    }
    return rt_outs_commit(r->outs, m->noutputs);
}

static int execute(Run *r)
{
    int rc = open_outputs(r);
    if (!rc)
        rc = load_params(r);
    if (!rc)
        rc = load_inputs(r);
    if (!rc)
        rc = prepare(r);
    if (rc)
        return rc;
    rt_run_prepare(r->m, r->params, r->pool);
    if (r->opt.bench)
        rc = bench(r);
    else
        run_once(r, NULL);
    return rc ? rc : write_outputs(r);
}

static void cleanup(Run *r)
{
    if (r->outs)
        rt_outs_discard(r->outs, r->m->noutputs);
    free(r->outs);
    for (int32_t i = 0; r->inputs && i < r->m->ninputs; i++)
        free(r->inputs[i]);
    free(r->inputs);
    free(r->arena);
    free(r->params);
    free(r->profile);
    rt_pool_destroy(r->pool);
    rt_options_free(&r->opt);
}

int rt_main(const RtModel *m, int argc, char **argv)
{
    rt_set_progname(argc > 0 ? argv[0] : NULL, m->name);
    Run r = {.m = m};
    int rc = rt_check_model(m);
    if (!rc)
        rc = rt_parse_args(m, argc, argv, &r.opt);
    if (!rc && r.opt.help)
        rt_print_usage(m, stdout);
    else if (!rc && r.opt.version)
        printf("%s: network '%s' compiled by convc\n", rt_progname(), m->name);
    else if (!rc && r.opt.info)
        rt_print_info(m, stdout);
    else if (!rc)
        rc = execute(&r);
    cleanup(&r);
    return rc;
}
