/*
 * memory.c - the memory plan: arena offsets for activations, buffer offsets
 * for parameters.
 *
 * A tensor is live from the node that writes it (network inputs: from the
 * start) to the last node that reads it (network outputs: to the end). Two
 * tensors may share arena space when their lifetimes do not overlap; a node
 * never writes over one of its own inputs. A node's workspace is a tensor
 * live at that node only, placed after its output while its inputs are
 * still live, so it overlaps none of them. Placement is greedy first-fit in
 * order of definition, largest-first would be a later refinement. Offsets are
 * per sample and multiples of 16 floats, so every tensor of a batch starts on
 * a 64-byte boundary (offset * N stays a multiple of 16).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir/ir_internal.h"

enum { ALIGN_FLOATS = 16 };

/* calloc for the IR passes' temporary arrays (freed by the caller); out of
 * memory is fatal, as for ir_alloc. */
void *ir_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fputs("convc: out of memory\n", stderr);
        exit(3);
    }
    return p;
}

static int64_t align_up(int64_t n)
{
    return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

static void compute_lifetimes(IrModule *m)
{
    for (int t = 0; t < m->ntensors; t++) {
        m->tensors[t].def = -1;
        m->tensors[t].last_use = m->tensors[t].is_output ? m->nnodes : -1;
    }
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *n = &m->nodes[i];
        m->tensors[n->out].def = i;
        if (n->scratch >= 0)
            m->tensors[n->scratch].def = m->tensors[n->scratch].last_use = i;
        for (int j = 0; j < n->nin; j++)
            if (m->tensors[n->in[j]].last_use < i)
                m->tensors[n->in[j]].last_use = i;
    }
}

/* The live tensors in a treap ordered by offset (a balanced search tree;
 * priorities are a fixed hash of the tensor index, so plans are
 * reproducible). Node t is tensor t, spanning [lo, hi): its offset and its
 * aligned end. Each subtree knows its lowest lo, its highest hi and the
 * widest gap between consecutive tensors in it, so first fit is one
 * descent and placing n tensors costs O(n log n), not a sort per tensor. */
typedef struct {
    int64_t lo, hi;
    int64_t first, last, gap;  /* of the subtree */
    uint32_t prio;
    int left, right;           /* -1: none */
} LiveNode;

typedef struct {
    LiveNode *n;               /* [ntensors] */
    int root;
    int *bucket, *next;        /* tensors by the node before which they expire */
    int expired;               /* buckets [0, expired) are gone */
} Live;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static void update(Live *L, int x)
{
    LiveNode *n = &L->n[x], *l = n->left >= 0 ? &L->n[n->left] : NULL, *r = n->right >= 0 ? &L->n[n->right] : NULL;
    n->first = l ? l->first : n->lo;
    n->last = r ? r->last : n->hi;
    n->gap = 0;
    if (l)
        n->gap = max64(l->gap, n->lo - l->last);
    if (r)
        n->gap = max64(n->gap, max64(r->gap, r->first - n->hi));
}

/* Splits tree x into offsets < key (*a) and >= key (*b). */
static void split(Live *L, int x, int64_t key, int *a, int *b)
{
    if (x < 0) {
        *a = *b = -1;
    } else if (L->n[x].lo < key) {
        split(L, L->n[x].right, key, &L->n[x].right, b);
        *a = x;
        update(L, x);
    } else {
        split(L, L->n[x].left, key, a, &L->n[x].left);
        *b = x;
        update(L, x);
    }
}

/* Joins a and b, every offset of a below every offset of b. */
static int merge(Live *L, int a, int b)
{
    if (a < 0 || b < 0)
        return a < 0 ? b : a;
    if (L->n[a].prio > L->n[b].prio) {
        L->n[a].right = merge(L, L->n[a].right, b);
        update(L, a);
        return a;
    }
    L->n[b].left = merge(L, a, L->n[b].left);
    update(L, b);
    return b;
}

static void live_insert(Live *L, int t)
{
    int a, b;
    split(L, L->root, L->n[t].lo, &a, &b);
    update(L, t);
    L->root = merge(L, merge(L, a, t), b);
}

static void live_remove(Live *L, int t)
{
    int a, b, mid, c;   /* mid is t alone: offsets of live tensors differ */
    split(L, L->root, L->n[t].lo, &a, &b);
    split(L, b, L->n[t].lo + 1, &mid, &c);
    L->root = merge(L, a, c);
}

/* Drops tensors whose last reader runs before node `def`. */
static void expire(Live *L, int def)
{
    for (; L->expired <= def; L->expired++)
        for (int t = L->bucket[L->expired]; t >= 0; t = L->next[t])
            live_remove(L, t);
}

/* Lowest offset where `size` floats fit between the live tensors: the end
 * of the tensor before the first gap that is wide enough, else the end of
 * the last one. */
static int64_t first_fit(const Live *L, int64_t size)
{
    int64_t before = 0;
    for (int x = L->root; x >= 0;) {
        const LiveNode *n = &L->n[x], *l = n->left >= 0 ? &L->n[n->left] : NULL;
        if (l && (l->first - before >= size || l->gap >= size)) {
            x = n->left;
            continue;
        }
        if (l)
            before = l->last;
        if (n->lo - before >= size)
            return before;
        before = n->hi;
        x = n->right;
    }
    return L->root >= 0 ? L->n[L->root].last : 0;
}

static void place(IrModule *m, Live *L, int t)
{
    IrTensor *tt = &m->tensors[t];
    expire(L, tt->def);
    int64_t size = ir_tensor_size(tt), at = first_fit(L, size);
    tt->offset = at;
    L->n[t] = (LiveNode){.lo = at, .hi = align_up(at + size), .prio = (uint32_t)(t + 1) * 2654435761u,
                         .left = -1, .right = -1};
    live_insert(L, t);
    /* it expires before the first node after its last reader (or after its
     * writer, if nothing reads it); bucket b holds last use b - 1 */
    int b = (tt->last_use > tt->def ? tt->last_use : tt->def) + 1;
    L->next[t] = L->bucket[b];
    L->bucket[b] = t;
    if (L->n[t].hi > m->arena_floats)
        m->arena_floats = L->n[t].hi;
}

void ir_plan_memory(IrModule *m)
{
    compute_lifetimes(m);
    Live L = {ir_xcalloc(m->ntensors + 1, sizeof *L.n), -1, ir_xcalloc(m->nnodes + 2, sizeof *L.bucket),
              ir_xcalloc(m->ntensors + 1, sizeof *L.next), 0};
    for (int b = 0; b < m->nnodes + 2; b++)
        L.bucket[b] = -1;
    m->arena_floats = 0;
    /* inputs first (def -1), then in the order nodes write them */
    for (int t = 0; t < m->ntensors; t++)
        if (m->tensors[t].is_input)
            place(m, &L, t);
    for (int i = 0; i < m->nnodes; i++) {
        place(m, &L, m->nodes[i].out);
        if (m->nodes[i].scratch >= 0)
            place(m, &L, m->nodes[i].scratch); /* while the node's inputs and output are live */
    }
    free(L.n), free(L.bucket), free(L.next);

    /* derived parameters too: packed weights start on 64 bytes */
    m->param_floats = 0;
    for (int p = 0; p < m->nparams; p++) {
        m->params[p].offset = m->param_floats;
        m->param_floats += align_up(ir_param_size(&m->params[p]));
    }
}
