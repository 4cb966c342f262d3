/*
 * run.c - rt_main: the life of one invocation of a compiled network, a
 * client of the same instances the embedding API hands out (api.c).
 *
 *   check the model -> parse the command line -> output targets checked and
 *   temporaries created -> open an instance (parameters from a file, random
 *   or embedded; thread pool; prepare steps, once) -> inputs (files or random; one batch
 *   size N) -> run (or bench) into output buffers -> write outputs -> rename
 *   them into place.
 *
 * Each stage returns 0 or an exit code after printing one error line; the
 * first failure skips the remaining stages and cleanup() releases whatever
 * was acquired, removing output temporaries. Inputs are kept outside the
 * instance, which copies them in at the start of every run, because the
 * arena planner may reuse an input's space once it is dead.
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
    ConvcInstance *inst;
    float **inputs;   /* per input: batch * size floats */
    float **outputs;  /* per output: batch * size floats */
    int64_t batch;
    RtOutFile *outs;  /* per output; tmp == NULL when not requested */
    RtProfile *profile; /* --profile */
} Run;

static int open_instance(Run *r)
{
    RtWeights w = {.path = r->opt.weights, .random = r->opt.random_weights, .seed = r->opt.weights_seed};
    return rt_instance_open(r->m, &w, r->opt.threads, &r->inst);
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

/* Room for every output of the whole batch. */
static int alloc_outputs(Run *r)
{
    const RtModel *m = r->m;
    if (!(r->outputs = calloc((size_t)m->noutputs + 1, sizeof *r->outputs)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    for (int32_t i = 0; i < m->noutputs; i++) {
        int64_t n;
        if (rt_mul_overflows(m->tensors[m->outputs[i]].size, r->batch, &n) || !(r->outputs[i] = rt_alloc_floats(n)))
            return rt_error(RT_EXIT_RUNTIME, "out of memory for output '%s'", m->output_names[i]);
    }
    return 0;
}

/* One run; with step_seconds, each step's time (its pool run, barrier
 * included) and the outputs left in the instance (timed --bench runs). */
static int run_once(Run *r, double *step_seconds, bool timed)
{
    return rt_instance_run(r->inst, r->batch, (const float *const *)r->inputs, timed ? NULL : r->outputs,
                           step_seconds);
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
               gflops, rt_instance_threads(r->inst), (long long)r->batch);
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
    *r->profile = (RtProfile){.m = r->m, .mode = r->opt.profile, .threads = rt_instance_threads(r->inst)};
    if (rt_mul_overflows(r->opt.bench, (int64_t)r->m->nsteps + 1, &n) || n > INT64_MAX / 8 ||
        !(*steps = malloc((size_t)n * sizeof **steps)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for --profile (%lld runs x %d steps)", (long long)r->opt.bench,
                        r->m->nsteps);
    return rt_profile_peak(r->profile, rt_instance_pool(r->inst));
}

static int bench(Run *r)
{
    int64_t n = r->opt.bench;
    double *t = malloc((size_t)n * sizeof *t), *steps = NULL;
    int rc = t ? start_profile(r, &steps) : rt_error(RT_EXIT_RUNTIME, "out of memory");
    if (!rc)
        rc = run_once(r, NULL, false); /* warm-up (page faults, caches, thread start); the outputs */
    for (int64_t i = 0; !rc && i < n; i++) {
        double start = rt_now_seconds();
        rc = run_once(r, steps ? steps + i * r->m->nsteps : NULL, true);
        t[i] = rt_now_seconds() - start;
    }
    if (!rc)
        rc = report(r, t, steps);
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
        if (!rt_npy_write(o->f, t, r->batch, r->outputs[i]))
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
        rc = open_instance(r);
    if (!rc)
        rc = load_inputs(r);
    if (!rc)
        rc = alloc_outputs(r);
    if (rc)
        return rc;
    rc = r->opt.bench ? bench(r) : run_once(r, NULL, false);
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
    for (int32_t i = 0; r->outputs && i < r->m->noutputs; i++)
        free(r->outputs[i]);
    free(r->outputs);
    free(r->profile);
    rt_instance_close(r->inst);
    rt_options_free(&r->opt);
}

int rt_main(const RtModel *m, int argc, char **argv)
{
    rt_set_progname(argc > 0 ? argv[0] : NULL, rt_model_matches(m) ? m->name : NULL);
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
