/*
 * arena.c - one arena per compilation: every AST node, interned string, layer
 * and graph lives here until the process exits (the Program returned by
 * fe_check() must outlive the front end). Chunks are chained from a static
 * root so leak checkers see them as reachable; fe_release() frees them all
 * (a long-running caller such as the fuzz harness compiles many sources).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

/* Chunks grow from 64 KB to 1 MB: small sources touch little memory (a
 * process that compiles many, like the fuzz harness, zeroes little). */
enum { CHUNK_FIRST = 1 << 16, CHUNK_MAX = 1 << 20 };

typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} Chunk;

typedef struct { const char **slot; size_t cap, n; } InternTable;

struct Arena {
    Chunk *chunks;
    InternTable strings;
    struct Arena *next_arena;
};

static Arena *all_arenas;   /* keeps everything reachable until exit */

static _Noreturn void out_of_memory(void)
{
    fputs("convc: out of memory\n", stderr);
    exit(3);
}

void *fe_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *fe_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        out_of_memory();
    return q;
}

static void *xmalloc(size_t n)
{
    return fe_xcalloc(1, n);
}

Arena *arena_new(void)
{
    Arena *a = xmalloc(sizeof *a);
    a->next_arena = all_arenas;
    all_arenas = a;
    return a;
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    Chunk *c = a->chunks;
    if (!c || c->size - c->used < n) {
        size_t size = c ? 2 * c->size : CHUNK_FIRST;
        size = size < CHUNK_MAX ? size : CHUNK_MAX;
        size = n > size ? n : size;
        c = xmalloc(sizeof *c + size);
        c->size = size;
        c->next = a->chunks;
        a->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void fe_release(void)
{
    while (all_arenas) {
        Arena *a = all_arenas;
        all_arenas = a->next_arena;
        for (Chunk *c = a->chunks, *next; c; c = next) {
            next = c->next;
            free(c);
        }
        free(a->strings.slot);
        free(a);
    }
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, aq);
    va_end(aq);
    return p;
}

void arena_grow(Arena *a, void **v, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return;
    int ncap = *cap ? *cap * 2 : 8;
    void *nv = arena_alloc(a, (size_t)ncap * elem);
    if (n)
        memcpy(nv, *v, (size_t)n * elem);
    *v = nv;
    *cap = ncap;
}

static size_t hash_bytes(const char *s, size_t n)
{
    size_t h = 1469598103934665603u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static void intern_rehash(InternTable *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    const char **ns = xmalloc(ncap * sizeof *ns);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        size_t j = hash_bytes(t->slot[i], strlen(t->slot[i])) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
}

/* Interned strings never contain NUL (the scanner rejects NUL bytes outside
 * comments); the comparison stays in bounds even if one did. */
const char *intern(Arena *a, const char *s, size_t n)
{
    InternTable *t = &a->strings;
    if (2 * (t->n + 1) > t->cap)
        intern_rehash(t);
    size_t j = hash_bytes(s, n) & (t->cap - 1);
    for (; t->slot[j]; j = (j + 1) & (t->cap - 1))
        if (strnlen(t->slot[j], n + 1) == n && !memcmp(t->slot[j], s, n))
            return t->slot[j];
    t->n++;
    return t->slot[j] = arena_strndup(a, s, n);
}

static size_t hash_ptr(const void *p)
{
    return ((size_t)(uintptr_t)p >> 4) * 11400714819323198485u;
}

int *ptrmap_get(PtrMap *m, const void *key)
{
    if (!m->cap)
        return NULL;
    for (size_t j = hash_ptr(key) & (m->cap - 1); m->slot[j]; j = (j + 1) & (m->cap - 1))
        if (m->slot[j] == key)
            return &m->val[j];
    return NULL;
}

void ptrmap_put(Arena *a, PtrMap *m, const void *key, int val)
{
    int *old = ptrmap_get(m, key);
    if (old) { *old = val; return; }
    if (2 * (m->n + 1) > m->cap) {
        PtrMap n = {.cap = m->cap ? m->cap * 2 : 8};   /* small: a block instance has a few maps */
        n.slot = arena_alloc(a, n.cap * sizeof *n.slot);
        n.val = arena_alloc(a, n.cap * sizeof *n.val);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i])
                ptrmap_put(a, &n, m->slot[i], m->val[i]);
        *m = n;
    }
    size_t j = hash_ptr(key) & (m->cap - 1);
    while (m->slot[j])
        j = (j + 1) & (m->cap - 1);
    m->slot[j] = key;
    m->val[j] = val;
    m->n++;
}
