/*
 * stats_internal.h - private interface of the files behind --stats and
 * --explain (the public entry points, fe_compute_costs, fe_print_stats and
 * fe_explain, are in frontend.h):
 *
 *   costs.c    params, buffers and MACs of each layer; fe_compute_costs
 *   rf.c       receptive fields: the composed rule, then exact periodic windows
 *   report.c   --stats: the table (--keys, --depth, --batch, --count) and JSON
 *   explain.c  --explain: the formulas behind one layer's numbers
 *   statfmt.c  numbers, shapes and receptive fields as report.c and explain.c
 *              print them
 *
 * Conventions: docs/stats.md. Every function is total on a Graph fe_check()
 * accepted (all extents >= 1, inputs index earlier layers); nothing is
 * allocated that outlives the call.
 */
#ifndef CONVC_FRONTEND_STATS_INTERNAL_H
#define CONVC_FRONTEND_STATS_INTERNAL_H

#include "frontend/internal.h"

enum { BYTES_PER_FLOAT = 4 };

static inline const Layer *input_of(const Graph *g, const Layer *l, int i)
{
    return &g->layers[l->inputs[i]];
}

static inline int64_t numel(Shape s)
{
    return s.rank == 1 ? s.c : s.c * s.h * s.w;
}

/* Extent of spatial dimension d (0 = H, 1 = W). */
static inline int64_t extent(Shape s, int d)
{
    return d == 0 ? s.h : s.w;
}

/* Attributes that do not apply to an op are zero; a zero stride, dilation or
 * group count means the PyTorch default 1. */
static inline int64_t or1(int64_t v)
{
    return v ? v : 1;
}

/* The longest (or shortest) adaptive pool window, ceil((o+1)*n/m) - floor(o*n/m)
 * over o (the lengths repeat with period m / gcd(n, m); at most 4096 are looked at). */
static inline int64_t adaptive_window_len(int64_t n, int64_t m, bool longest)
{
    int64_t best = longest ? 0 : n;
    for (int64_t o = 0; o < m && o < 4096; o++) {
        int64_t len = ((o + 1) * n + m - 1) / m - o * n / m;
        best = (longest ? len > best : len < best) ? len : best;
    }
    return best;
}

/* ---- costs.c -------------------------------------------------------------- */
/* A layer's MACs in convention cc: l->macs, or ptflops' count. */
int64_t stats_count_macs(const Graph *g, const Layer *l, CountConvention cc);

/* ---- rf.c ----------------------------------------------------------------- */
/* Writes rf_size and rf_stride of every layer. */
void stats_compute_rf(Graph *g);

/* ---- statfmt.c ------------------------------------------------------------ */
const char *fmt_group3(char *buf, int64_t v);
const char *fmt_num(char *buf, size_t n, double v);
const char *fmt_shape(char *buf, size_t n, Shape s);
const char *fmt_rf(char *buf, size_t n, const Layer *l);

#endif
