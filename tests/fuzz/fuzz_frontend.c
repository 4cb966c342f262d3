/*
 * fuzz_frontend.c - libFuzzer harness for the .conv front end and the IR
 * builder, in process, through the same calls driver/main.c makes:
 *
 *   input bytes -> fe_emit (tokens, ast) -> fe_check -> per network:
 *     fe_explain (a few layer names, a block instance, an unknown name)
 *     -> ir_build -> ir_print (--emit=ir)
 *     -> fe_print_stats (table and json, default and ptflops counts, keys, depth, batch)
 *     -> fe_print_dot (--emit=dot, shaded by MACs and by made-up times)
 *
 * Everything printed goes to a sink that discards it; diagnostics too.
 * What the phases allocate is released after each input (fe_release,
 * ir_release), so memory stays flat over millions of runs and LeakSanitizer
 * sees a leak of any other allocation.
 *
 * Build: cmake -DCONVC_FUZZ=ON (see docs/testing.md, "Fuzzing").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

enum { MAX_EXPLAINED = 4 };

static ssize_t discard(void *cookie, const char *buf, size_t n) { return (ssize_t)n; }

static FILE *sink(void)
{
    static FILE *f;
    if (!f)
        f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
    return f;
}

static uint64_t hash_bytes(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211u;
    return h;
}

/* --explain of a few layers chosen by the input's hash, of the block
 * instance that contains each (the name up to its last '.'), and of a name
 * that matches nothing (the "did you mean" path). */
static void explain_some(const Graph *g, uint64_t h)
{
    char name[256];
    for (int k = 0; k < MAX_EXPLAINED && k < g->nlayers; k++) {
        const Layer *l = &g->layers[(h >> (8 * k)) % (uint64_t)g->nlayers];
        fe_explain(sink(), g, l->name);
        const char *dot = strrchr(l->name, '.');
        if (dot && (size_t)(dot - l->name) < sizeof name) {
            memcpy(name, l->name, (size_t)(dot - l->name));
            name[dot - l->name] = '\0';
            fe_explain(sink(), g, name);
        }
    }
    snprintf(name, sizeof name, "%sx", g->nlayers ? g->layers[0].name : "");
    fe_explain(sink(), g, name);
}

static void stats_every_format(const Graph *g, const IrModule *ir)
{
    static const StatsFormat formats[] = {STATS_TABLE, STATS_JSON};
    static const CountConvention counts[] = {COUNT_DEFAULT, COUNT_PTFLOPS};
    for (int f = 0; f < 2; f++)
        for (int c = 0; c < 2; c++) {
            StatsOptions o = {.format = formats[f], .count = counts[c], .keys = c, .depth = f + c, .batch = 1 + 7 * c};
            fe_print_stats(sink(), g, &o, ir_arena_bytes(ir));
        }
}

/* --emit=dot, shaded by MACs, then by per-layer times drawn from the
 * input's hash (some layers untimed, as --profile allows). */
static void dot_both_ways(const Graph *g, uint64_t h)
{
    fe_print_dot(sink(), g, NULL);
    double *ms = malloc(((size_t)g->nlayers + 1) * sizeof *ms);
    if (!ms)
        abort();
    for (int i = 0; i < g->nlayers; i++)
        ms[i] = (double)(int)((h >> (i % 56)) & 0xFF) - 32;
    fe_print_dot(sink(), g, ms);
    free(ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    DiagOptions diag = {.color = (size & 1) != 0, .out = sink()};
    fe_emit(sink(), "tokens", "fuzz.conv", src, size, &diag);
    fe_emit(sink(), "ast", "fuzz.conv", src, size, &diag);
    Program *p = fe_check("fuzz.conv", src, size, &diag);
    for (int i = 0; p && i < p->ngraphs; i++) {
        Graph *g = fe_find_graph(p, p->graphs[i]->name);
        explain_some(g, hash_bytes(data, size));
        IrOptions o = {.reference_only = (int)(i & 1)};
        IrModule *ir = ir_build(g, &o);
        ir_print(sink(), ir);
        stats_every_format(g, ir);
        dot_both_ways(g, hash_bytes(data, size));
        ir_release(ir);
    }
    fe_release();
    return 0;
}
