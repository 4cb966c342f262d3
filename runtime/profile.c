/*
 * profile.c - --profile: where the time of a benchmarked run goes.
 *
 * run.c times every step of every timed run (the step's rt_pool_run, which
 * ends at the barrier, so a step's time includes waiting for its slowest
 * thread). Here each step's median over the runs becomes one row: name, op,
 * kernel, output layout and shape, median ms, GFLOP/s (2 * MACs / time),
 * % of the machine's peak and % of the sum of all step medians.
 *
 * The peak is, in this order: CONVC_PEAK_GFLOPS (GFLOP/s of one thread,
 * times the thread count; "none" to leave it unknown), or a short FMA probe
 * run on the same thread pool: independent chains of 512-bit (AVX-512F) or
 * 256-bit (AVX2+FMA) fused multiply-adds, best of a few rounds. Without
 * either, the peak columns print "-" (null in JSON).
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RT_HAVE_X86 1
#endif

/* [NULL|table|time|order|json] -> mode */
int rt_profile_option(const char *value, RtProfileMode *mode)
{
    static const struct { const char *name; RtProfileMode mode; } modes[] = {
        {"table", RT_PROFILE_TIME}, {"time", RT_PROFILE_TIME}, {"order", RT_PROFILE_ORDER}, {"json", RT_PROFILE_JSON},
    };
    if (*mode != RT_PROFILE_OFF)
        return rt_error(RT_EXIT_USAGE, "--profile given twice");
    if (!value)
        return *mode = RT_PROFILE_TIME, 0;
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(value, modes[i].name))
            return *mode = modes[i].mode, 0;
    return rt_error(RT_EXIT_USAGE, "--profile expects table, time, order or json, got '%s'", value);
}

/* --- the FMA probe ---------------------------------------------------------- */

enum { PROBE_ITERS = 1 << 15, PROBE_CHAINS = 12, PROBE_ROUNDS = 5, PROBE_TRIES = 256 };

/* Its address tells the probe which thread ran an item. */
static _Thread_local char probe_thread;

/* PROBE_CHAINS independent chains a = a * b + c per item, each in its own
 * register (an array would be kept in memory at -O2): enough to cover the FMA
 * latency on two ports. The sum is stored so nothing is optimised away. */
#define CHAINS(X, ...)                                                                                         \
    X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) X(3, __VA_ARGS__) X(4, __VA_ARGS__) X(5, __VA_ARGS__) \
    X(6, __VA_ARGS__) X(7, __VA_ARGS__) X(8, __VA_ARGS__) X(9, __VA_ARGS__) X(10, __VA_ARGS__) X(11, __VA_ARGS__)
#define DECLARE(k, VEC, SET1) VEC a##k = SET1((float)(item + k));
#define STEP(k, FMA) a##k = FMA(a##k, b, c);
#define ACCUMULATE(k, ADD) sum = ADD(sum, a##k);
#define DEFINE_PROBE(NAME, TARGET, VEC, SET1, FMA, ADD, REDUCE)                                  \
    __attribute__((target(TARGET))) static void NAME(float *const *args, int64_t begin, int64_t end, int64_t batch) \
    {                                                                                            \
        for (int64_t item = begin; item < end; item++) {                                         \
            VEC b = SET1(0.999999f), c = SET1(1e-6f), sum = SET1(0.0f);                          \
            CHAINS(DECLARE, VEC, SET1)                                                           \
            for (int i = 0; i < PROBE_ITERS; i++) {                                              \
                CHAINS(STEP, FMA)                                                                \
            }                                                                                    \
            CHAINS(ACCUMULATE, ADD)                                                              \
            args[0][item] = REDUCE(sum);                                                         \
            ((intptr_t *)(void *)args[1])[item] = (intptr_t)&probe_thread;                       \
        }                                                                                        \
    }

#ifdef RT_HAVE_X86
__attribute__((target("avx2"))) static float reduce_avx2(__m256 v)
{
    float s[8];
    _mm256_storeu_ps(s, v);
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

DEFINE_PROBE(probe_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
DEFINE_PROBE(probe_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, reduce_avx2)
#endif

/* The widest FMA this CPU runs: kernel, float lanes, name; lanes 0 when none. */
static RtKernel probe_kernel(int *lanes, const char **name)
{
#ifdef RT_HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return *lanes = 16, *name = "avx512f", probe_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return *lanes = 8, *name = "avx2+fma", probe_avx2;
#endif
    *lanes = 0, *name = NULL;
    return NULL;
}

/* How many different threads ran the items of a round. */
static int probe_threads(const intptr_t *ran, int64_t items)
{
    int n = 0;
    for (int64_t i = 0; i < items; i++) {
        int64_t j = 0;
        while (j < i && ran[j] != ran[i])
            j++;
        n += j == i;
    }
    return n;
}

/* GFLOP/s of FMA chains on every pool thread at once (4 items per thread, as
 * the pool cuts its chunks, about 50 us each); best of PROBE_ROUNDS rounds
 * in which every thread ran items. A worker asleep since the weights were
 * loaded can take longer to wake than a round lasts, and a round the calling
 * thread ran alone measured one thread's peak as T threads' (MobileNetV2's
 * 2-thread profile at 133% of "peak"); such rounds are not counted, up to
 * PROBE_TRIES rounds in all. *took: the most threads seen in a round. 0
 * when there is no probe. */
static double probe_peak(RtPool *pool, int threads, const char **name, int *took)
{
    int lanes;
    RtKernel fn = probe_kernel(&lanes, name);
    int64_t items = 4 * (int64_t)threads;
    float *sink = fn ? rt_alloc_floats(items * 3) : NULL; /* sums, then which thread ran each item */
    *took = 0;
    if (!sink)
        return 0;
    float *args[2] = {sink, sink + items};
    intptr_t *ran = (intptr_t *)(void *)(sink + items);
    double best = 0, best_any = 0, flops = 2.0 * lanes * PROBE_CHAINS * PROBE_ITERS * (double)items;
    for (int tries = 0, counted = 0; tries < PROBE_TRIES && counted < PROBE_ROUNDS; tries++) {
        double start = rt_now_seconds();
        rt_pool_run(pool, fn, args, items, 1);
        double s = rt_now_seconds() - start, g = s > 0 ? flops / s / 1e9 : 0;
        int n = probe_threads(ran, items);
        if (n > *took)
            *took = n;
        if (g > best_any)
            best_any = g;
        if (n == threads) {
            counted++;
            if (g > best)
                best = g;
        }
    }
    free(sink);
    return *took == threads ? best : best_any;
}

/* The run's peak GFLOP/s and where it came from; 0 when unknown. Called
 * before the timed runs, so a bad CONVC_PEAK_GFLOPS fails before any output. */
int rt_profile_peak(RtProfile *p, RtPool *pool)
{
    const char *env = getenv("CONVC_PEAK_GFLOPS"), *probe;
    p->peak = 0;
    snprintf(p->source, sizeof p->source, "unknown");
    if (env && !strcmp(env, "none"))
        return 0;
    if (env) {
        char *end;
        double v = strtod(env, &end);
        if (end == env || *end || !(v > 0) || !isfinite(v))
            return rt_error(RT_EXIT_USAGE, "CONVC_PEAK_GFLOPS must be a positive number or 'none', got '%s'", env);
        p->peak = v * p->threads;
        snprintf(p->source, sizeof p->source, "CONVC_PEAK_GFLOPS %g x %d threads", v, p->threads);
        return 0;
    }
    int took;
    p->peak = probe_peak(pool, p->threads, &probe, &took);
    if (p->peak > 0 && took < p->threads)
        snprintf(p->source, sizeof p->source, "FMA probe, %s, %d threads, of which only %d ran it: too low", probe,
                 p->threads, took);
    else if (p->peak > 0)
        snprintf(p->source, sizeof p->source, "FMA probe, %s, %d threads", probe, p->threads);
    return 0;
}

/* --- rows ---------------------------------------------------------------------- */

typedef struct {
    int32_t index;
    double ms;        /* median over the runs */
} Row;

/* slowest first; equal times in network order */
static int cmp_row_time(const void *a, const void *b)
{
    const Row *x = a, *y = b;
    return x->ms != y->ms ? (x->ms < y->ms) - (x->ms > y->ms) : (x->index > y->index) - (x->index < y->index);
}

/* One row per step, each the median of its column of p->seconds. */
static Row *step_medians(const RtProfile *p, double *total_ms)
{
    int32_t ns = p->m->nsteps;
    Row *rows = calloc((size_t)ns + 1, sizeof *rows);
    double *col = malloc((size_t)p->runs * sizeof *col);
    *total_ms = 0;
    for (int32_t i = 0; rows && col && i < ns; i++) {
        for (int64_t r = 0; r < p->runs; r++)
            col[r] = p->seconds[r * ns + i];
        rows[i] = (Row){i, rt_median(col, p->runs) * 1e3};
        *total_ms += rows[i].ms;
    }
    free(col);
    if (!col) {
        free(rows);
        return NULL;
    }
    return rows;
}

static const char *str(const char *s) { return s ? s : "-"; }

/* GFLOP/s of `macs` per sample in `ms`; negative when there is nothing to rate. */
static double gflops(const RtProfile *p, int64_t macs, double ms)
{
    return macs > 0 && ms > 0 ? 2.0 * (double)macs * (double)p->batch / (ms * 1e-3) / 1e9 : -1;
}

static void format_shape(char *buf, size_t size, const RtProfile *p, const RtTensor *t)
{
    if (t->rank == 1)
        snprintf(buf, size, "%lldx%d", (long long)p->batch, t->c);
    else
        snprintf(buf, size, "%lldx%dx%dx%d", (long long)p->batch, t->c, t->h, t->w);
}

/* --- the table ------------------------------------------------------------------ */

typedef struct {
    int name, op, kernel, layout, shape;
} Widths;

static int wider(int w, const char *s) { return (int)strlen(str(s)) > w ? (int)strlen(str(s)) : w; }

static Widths column_widths(const RtProfile *p)
{
    Widths w = {4, 2, 6, 6, 6};
    char shape[96];
    for (int32_t i = 0; i < p->m->nsteps; i++) {
        const RtStep *s = &p->m->steps[i];
        format_shape(shape, sizeof shape, p, &p->m->tensors[s->tensors[0]]);
        w.name = wider(w.name, s->name), w.op = wider(w.op, s->op);
        w.kernel = wider(w.kernel, s->kernel), w.layout = wider(w.layout, s->layout);
        w.shape = wider(w.shape, shape);
    }
    return w;
}

/* "  12.3" or "     -" in a column of width w */
static void print_rate(FILE *f, int w, double v)
{
    if (v >= 0)
        fprintf(f, " %*.1f", w, v);
    else
        fprintf(f, " %*s", w, "-");
}

static void print_row(FILE *f, const RtProfile *p, const Widths *w, const Row *r, double peak, double total_ms)
{
    const RtStep *s = &p->m->steps[r->index];
    char shape[96];
    format_shape(shape, sizeof shape, p, &p->m->tensors[s->tensors[0]]);
    double g = gflops(p, s->macs, r->ms);
    fprintf(f, "%5d  %-*s  %-*s  %-*s  %-*s  %-*s %10.3f", r->index, w->name, str(s->name), w->op, str(s->op),
            w->kernel, str(s->kernel), w->layout, str(s->layout), w->shape, shape, r->ms);
    print_rate(f, 8, g);
    print_rate(f, 6, g >= 0 && peak > 0 ? 100 * g / peak : -1);
    print_rate(f, 7, total_ms > 0 ? 100 * r->ms / total_ms : -1);
    fputc('\n', f);
}

static void print_table(FILE *f, const RtProfile *p, Row *rows, double peak, const char *source, double total_ms)
{
    const RtModel *m = p->m;
    Widths w = column_widths(p);
    fprintf(f, "profile: network %s, %d steps, median of %lld runs, threads=%d batch=%lld, peak %s%.1f GFLOP/s (%s)\n",
            m->name, m->nsteps, (long long)p->runs, p->threads, (long long)p->batch, peak > 0 ? "" : "unknown, ",
            peak, source);
    fprintf(f, "%5s  %-*s  %-*s  %-*s  %-*s  %-*s %10s %8s %6s %7s\n", "#", w.name, "step", w.op, "op", w.kernel,
            "kernel", w.layout, "layout", w.shape, "output", "median_ms", "GFLOP/s", "%peak", "%total");
    if (p->mode == RT_PROFILE_TIME)
        qsort(rows, (size_t)m->nsteps, sizeof *rows, cmp_row_time);
    for (int32_t i = 0; i < m->nsteps; i++)
        print_row(f, p, &w, &rows[i], peak, total_ms);
    double g = gflops(p, m->macs, total_ms);
    fprintf(f, "%5s  %-*s  %-*s  %-*s  %-*s  %-*s %10.3f", "", w.name, "total", w.op, "", w.kernel, "", w.layout, "",
            w.shape, "", total_ms);
    print_rate(f, 8, g);
    print_rate(f, 6, g >= 0 && peak > 0 ? 100 * g / peak : -1);
    print_rate(f, 7, 100.0);
    fputc('\n', f);
}

/* --- JSON ---------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/* a finite non-negative number, else null */
static void json_number(FILE *f, double v)
{
    if (v >= 0 && isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void json_step(FILE *f, const RtProfile *p, const Row *r, double peak, double total_ms)
{
    const RtStep *s = &p->m->steps[r->index];
    const RtTensor *t = &p->m->tensors[s->tensors[0]];
    double g = gflops(p, s->macs, r->ms);
    fprintf(f, "    {\"index\": %d, \"name\": ", r->index);
    json_string(f, s->name);
    fputs(", \"op\": ", f);
    json_string(f, s->op);
    fputs(", \"kernel\": ", f);
    json_string(f, s->kernel);
    fputs(", \"layout\": ", f);
    json_string(f, s->layout);
    if (t->rank == 1)
        fprintf(f, ", \"shape\": [%lld, %d]", (long long)p->batch, t->c);
    else
        fprintf(f, ", \"shape\": [%lld, %d, %d, %d]", (long long)p->batch, t->c, t->h, t->w);
    fprintf(f, ", \"macs\": %lld, \"median_ms\": ", (long long)s->macs);
    json_number(f, r->ms);
    fputs(", \"gflops\": ", f);
    json_number(f, g);
    fputs(", \"peak_pct\": ", f);
    json_number(f, g >= 0 && peak > 0 ? 100 * g / peak : -1);
    fputs(", \"total_pct\": ", f);
    json_number(f, total_ms > 0 ? 100 * r->ms / total_ms : -1);
    fputs("}", f);
}

static void print_json(FILE *f, const RtProfile *p, const Row *rows, double peak, const char *source, double total_ms)
{
    const RtModel *m = p->m;
    fputs("{\n  \"network\": ", f);
    json_string(f, m->name);
    fprintf(f, ",\n  \"runs\": %lld,\n  \"threads\": %d,\n  \"batch\": %lld,\n  \"median_ms\": ", (long long)p->runs,
            p->threads, (long long)p->batch);
    json_number(f, p->median_ms);
    fputs(",\n  \"min_ms\": ", f);
    json_number(f, p->min_ms);
    fputs(",\n  \"steps_total_ms\": ", f);
    json_number(f, total_ms);
    fprintf(f, ",\n  \"macs\": %lld,\n  \"peak_gflops\": ", (long long)m->macs);
    json_number(f, peak > 0 ? peak : -1);
    fputs(",\n  \"peak_source\": ", f);
    json_string(f, peak > 0 ? source : NULL);
    fputs(",\n  \"steps\": [\n", f);
    for (int32_t i = 0; i < m->nsteps; i++) {
        json_step(f, p, &rows[i], peak, total_ms);
        fputs(i + 1 < m->nsteps ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
}

int rt_profile_report(const RtProfile *p, FILE *out)
{
    double total_ms;
    Row *rows = step_medians(p, &total_ms);
    if (!rows)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    if (p->mode == RT_PROFILE_JSON)
        print_json(out, p, rows, p->peak, p->source, total_ms);
    else
        print_table(out, p, rows, p->peak, p->source, total_ms);
    free(rows);
    return 0;
}
