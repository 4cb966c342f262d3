/*
 * fe.c - the front end's entry points: read a file, parse and check it,
 * choose a network, print tokens or the AST.
 *
 *   fe_check: source -> tokens -> AST (fe_parse) -> Graphs (fe_build) -> costs
 * Nothing after a phase that reported errors sees its output, except that the
 * checker still runs on a partly parsed file (error nodes were dropped), so
 * syntax and semantic errors are reported in one run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

char *fe_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "convc: error: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f) ? errno : 0;
    if (f != stdin) fclose(f);
    if (!buf || err) {
        fprintf(stderr, "convc: error: cannot read '%s': %s\n", path, buf ? strerror(err) : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Returns the errors-free program, or NULL. */
Program *fe_check(const char *path, const char *src, size_t len, const DiagOptions *opts)
{
    diag_begin(path, src, len, opts);
    Arena *a = arena_new();
    ParseCtx ctx = {.arena = a};
    fe_parse(&ctx, src, len);
    Program *p = fe_build(path, a, &ctx.items, &ctx.dropped);
    if (diag_error_count() > 0)
        return NULL;
    for (int i = 0; i < p->ngraphs; i++)
        fe_compute_costs(p->graphs[i]);
    return p;
}

static void list_networks(const Program *p)
{
    for (int i = 0; i < p->ngraphs; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", p->graphs[i]->name);
    fputc('\n', stderr);
}

Graph *fe_find_graph(Program *p, const char *name)
{
    for (int i = 0; name && i < p->ngraphs; i++)
        if (!strcmp(p->graphs[i]->name, name))
            return p->graphs[i];
    if (!name && p->ngraphs == 1)
        return p->graphs[0];
    if (name)
        fprintf(stderr, "convc: error: %s has no network named '%s'; it defines: ", p->path, name);
    else
        fprintf(stderr, "convc: error: %s defines several networks; choose one with --network NAME: ", p->path);
    list_networks(p);
    return NULL;
}

bool fe_emit(FILE *out, const char *what, const char *path, const char *src, size_t len, const DiagOptions *opts)
{
    diag_begin(path, src, len, opts);
    Arena *a = arena_new();
    if (!strcmp(what, "tokens")) {
        fe_dump_tokens(out, a, src, len);
    } else {
        ParseCtx ctx = {.arena = a};
        fe_parse(&ctx, src, len);
        ast_dump(out, &ctx.items);
    }
    return diag_error_count() == 0;
}
