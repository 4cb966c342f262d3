/*
 * memory.c - the memory plan: arena offsets for activations, buffer offsets
 * for parameters.
 *
 * A tensor is live from the node that writes it (network inputs: from the
 * start) to the last node that reads it (network outputs: to the end). Two
 * tensors may share arena space when their lifetimes do not overlap; a node
 * never writes over one of its own inputs. A node's workspace is a tensor
 * live at that node only, placed after its output while its inputs are
 * still live, so it overlaps none of them. Placement: greedy first-fit in
 * order of definition, and greedy by size (largest first, lowest offset
 * free for its lifetime); the smaller plan is kept. Offsets are
 * per sample and multiples of 16 floats, so every tensor of a batch starts on
 * a 64-byte boundary (offset * N stays a multiple of 16).
 *
 * A view (a channel slice of a concat's output, views.c) has no place of
 * its own: its root is placed when the first of its views is written and
 * stays live through every write of a view and to the last read of it or
 * of any view.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir/ir_internal.h"

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
    return (n + IR_ALIGN_FLOATS - 1) / IR_ALIGN_FLOATS * IR_ALIGN_FLOATS;
}

/* Something to place: live from step `def` to step `last` (inclusive),
 * `size` floats; `offset` is the result. */
typedef struct {
    int def, last;
    int64_t size, offset;
} Interval;

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
    for (int t = 0; t < m->ntensors; t++) {
        const IrTensor *v = &m->tensors[t];
        IrTensor *root = v->view_of >= 0 ? &m->tensors[v->view_of] : NULL;
        if (!root)
            continue;
        /* the concat node is gone: def from its written views (an inner concat's output, a
           view no node writes, has def -1) */
        if (v->def >= 0 && (root->def < 0 || v->def < root->def))
            root->def = v->def;
        /* live through every view's write (a concat nothing reads is still written) and
           every read of a view (also of an inner concat's output, read after the root's
           last reader) */
        int end = v->last_use > v->def ? v->last_use : v->def;
        if (root->last_use < end)
            root->last_use = end;
    }
}

/* The live intervals in a treap ordered by offset (a balanced search tree;
 * priorities are a fixed hash of the interval's index, so plans are
 * reproducible). Node t is interval t, spanning [lo, hi): its offset and its
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
    LiveNode *n;               /* [intervals] */
    int root;
    int *bucket, *next;        /* intervals by the step before which they expire */
    int expired;               /* buckets [0, expired) are gone */
    int64_t extent;            /* the highest end placed so far */
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

/* Drops intervals that end before step `def` (bucket b: last step b - 1). */
static void expire(Live *L, int def)
{
    for (; L->expired <= def + 1; L->expired++)
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

static void place(Live *L, Interval *v, int t)
{
    expire(L, v[t].def);
    int64_t at = first_fit(L, v[t].size);
    v[t].offset = at;
    L->n[t] = (LiveNode){.lo = at, .hi = align_up(at + v[t].size), .prio = (uint32_t)(t + 1) * 2654435761u,
                         .left = -1, .right = -1};
    live_insert(L, t);
    /* it expires before the first step after its last one (or after its
     * def, if nothing reads it) */
    int b = (v[t].last > v[t].def ? v[t].last : v[t].def) + 2;
    L->next[t] = L->bucket[b];
    L->bucket[b] = t;
    if (L->n[t].hi > L->extent)
        L->extent = L->n[t].hi;
}

/* First fit in order of definition: intervals order[0..n) (by
 * non-decreasing def; steps -1 .. nsteps); returns the extent, a multiple
 * of 16 floats. */
static int64_t plan_first_fit(Interval *v, int nv, const int *order, int n, int nsteps)
{
    Live L = {ir_xcalloc(nv + 1, sizeof *L.n), -1, ir_xcalloc(nsteps + 3, sizeof *L.bucket),
              ir_xcalloc(nv + 1, sizeof *L.next), 0, 0};
    for (int b = 0; b < nsteps + 3; b++)
        L.bucket[b] = -1;
    for (int i = 0; i < n; i++)
        place(&L, v, order[i]);
    free(L.n), free(L.bucket), free(L.next);
    return L.extent;
}

static int end_of(const Interval *x) { return x->last > x->def ? x->last : x->def; }

/* Greedy by size (TFLite's arena planner): largest first, each at the
 * lowest offset where it overlaps no placed interval live at the same
 * time. O(n^2): `placed` is kept sorted by offset. */
static int64_t plan_by_size(Interval *v, const int *order, int n)
{
    int *by_size = ir_xcalloc(n + 1, sizeof *by_size), *placed = ir_xcalloc(n + 1, sizeof *placed), np = 0;
    for (int i = 0; i < n; i++) {
        int j = i, t = order[i];
        for (; j > 0 && v[by_size[j - 1]].size < v[t].size; j--) /* stable insertion sort, largest first */
            by_size[j] = by_size[j - 1];
        by_size[j] = t;
    }
    int64_t extent = 0;
    for (int i = 0; i < n; i++) {
        Interval *x = &v[by_size[i]];
        int64_t at = 0;
        for (int k = 0; k < np; k++) {
            const Interval *y = &v[placed[k]];
            if (y->def > end_of(x) || x->def > end_of(y))
                continue; /* never live together */
            if (y->offset - at >= x->size)
                break;
            at = at > align_up(y->offset + y->size) ? at : align_up(y->offset + y->size);
        }
        x->offset = at;
        int k = np++;
        for (; k > 0 && v[placed[k - 1]].offset > at; k--)
            placed[k] = placed[k - 1];
        placed[k] = by_size[i];
        extent = extent > align_up(at + x->size) ? extent : align_up(at + x->size);
    }
    free(by_size), free(placed);
    return extent;
}

/* Both plans, the smaller one kept (first fit alone for very many
 * intervals, where greedy by size would cost too much). */
static int64_t plan(Interval *v, int nv, const int *order, int n, int nsteps)
{
    enum { BY_SIZE_MAX = 4096 };
    int64_t first = plan_first_fit(v, nv, order, n, nsteps);
    if (n > BY_SIZE_MAX)
        return first;
    int64_t *keep = ir_xcalloc(n + 1, sizeof *keep);
    for (int i = 0; i < n; i++)
        keep[i] = v[order[i]].offset;
    int64_t by_size = plan_by_size(v, order, n);
    if (by_size >= first)
        for (int i = 0; i < n; i++)
            v[order[i]].offset = keep[i];
    free(keep);
    return by_size < first ? by_size : first;
}

/* Activations: inputs first (def -1), then in the order nodes write them,
 * each node's workspace right after its output while its inputs are live. */
static void plan_tensors(IrModule *m)
{
    compute_lifetimes(m);
    Interval *v = ir_xcalloc(m->ntensors + 1, sizeof *v);
    int *order = ir_xcalloc(m->ntensors + 1, sizeof *order), n = 0;
    for (int t = 0; t < m->ntensors; t++) {
        IrTensor *tt = &m->tensors[t];
        v[t] = (Interval){.def = tt->def, .last = tt->last_use, .size = ir_tensor_size(tt)};
        if (tt->is_input)
            order[n++] = t;
    }
    char *placed = ir_xcalloc(m->ntensors + 1, 1);
    for (int i = 0; i < m->nnodes; i++) {
        int out = m->nodes[i].out, root = m->tensors[out].view_of;
        if (root < 0)
            order[n++] = out;
        else if (!placed[root]) /* at its first view's write */
            order[n++] = root, placed[root] = 1;
        if (m->nodes[i].scratch >= 0)
            order[n++] = m->nodes[i].scratch;
    }
    m->arena_floats = plan(v, m->ntensors, order, n, m->nnodes);
    for (int t = 0; t < m->ntensors; t++) {
        int root = m->tensors[t].view_of;
        m->tensors[t].offset = v[root >= 0 ? root : t].offset;
    }
    free(v), free(order), free(placed);
}

/* order = 0 .. n-1 sorted by key (in [0, nkeys)), stably: a counting sort. */
static void sort_by_key(const int *key, int n, int nkeys, int *order)
{
    int *start = ir_xcalloc(nkeys + 1, sizeof *start);
    for (int i = 0; i < n; i++)
        start[key[i] + 1]++;
    for (int k = 0; k < nkeys; k++)
        start[k + 1] += start[k];
    for (int i = 0; i < n; i++)
        order[start[key[i]]++] = i;
    free(start);
}

/* Steps in streaming order: each step right before the first node its
 * results reach (directly or through later steps), in the order they were
 * added among steps reaching the same node. A step's inputs come from
 * earlier steps reaching that node at least as early, so the order stays
 * valid; and a layer's weights are loaded, prepared and dropped before the
 * next layer's are loaded. */
static void order_prepares(IrModule *m)
{
    int *reach = ir_xcalloc(m->nparams + 1, sizeof *reach), *key = ir_xcalloc(m->nprepares + 1, sizeof *key);
    for (int p = 0; p < m->nparams; p++)
        reach[p] = m->nnodes;
    for (int i = m->nnodes - 1; i >= 0; i--) {
        const IrNode *n = &m->nodes[i];
        int ps[4] = {n->weight, n->bias, n->mean, n->var};
        for (int j = 0; j < 4; j++)
            if (ps[j] >= 0)
                reach[ps[j]] = i;
    }
    for (int s = m->nprepares - 1; s >= 0; s--) {
        const IrPrepare *st = &m->prepares[s];
        key[s] = m->nnodes;
        for (int j = 0; j < st->nout; j++)
            key[s] = reach[st->params[j]] < key[s] ? reach[st->params[j]] : key[s];
        for (int j = st->nout; j < st->nout + st->nin; j++)
            reach[st->params[j]] = key[s] < reach[st->params[j]] ? key[s] : reach[st->params[j]];
    }
    int *order = ir_xcalloc(m->nprepares + 1, sizeof *order);
    sort_by_key(key, m->nprepares, m->nnodes + 1, order);
    IrPrepare *sorted = ir_xcalloc(m->nprepares + 1, sizeof *sorted);
    for (int s = 0; s < m->nprepares; s++)
        sorted[s] = m->prepares[order[s]];
    for (int s = 0; s < m->nprepares; s++)
        m->prepares[s] = sorted[s];
    free(sorted), free(order), free(key), free(reach);
}

/* Parameters: the ones a node reads (resident) get their own place in the
 * parameter buffer, kept for every run. The others only feed prepare steps
 * (originals replaced by derived ones: a conv's weights before the
 * batchnorm fold, before Winograd's transform or packing): they live in a
 * load-time buffer, from the step that writes them (loaded ones: the first
 * step that reads them, when the runtime loads them) to the last step that
 * reads them, share space like activations and are freed after the last
 * step. A loaded parameter nothing reads stays resident. */
static void plan_params(IrModule *m)
{
    Interval *v = ir_xcalloc(m->nparams + 1, sizeof *v);
    int *order = ir_xcalloc(m->nparams + 1, sizeof *order), n = 0;
    for (int p = 0; p < m->nparams; p++)
        v[p] = (Interval){.def = -1, .last = -1, .size = ir_param_size(&m->params[p])}, m->params[p].transient = 1;
    for (int i = 0; i < m->nnodes; i++) {
        const IrNode *nd = &m->nodes[i];
        int ps[4] = {nd->weight, nd->bias, nd->mean, nd->var};
        for (int j = 0; j < 4; j++)
            if (ps[j] >= 0)
                m->params[ps[j]].transient = 0;
    }
    for (int s = 0; s < m->nprepares; s++) {
        const IrPrepare *st = &m->prepares[s];
        for (int j = 0; j < st->nout + st->nin; j++) {
            Interval *x = &v[st->params[j]];
            if (x->last < 0)
                x->def = s;
            x->last = s;
        }
    }
    m->param_floats = 0;
    for (int p = 0; p < m->nparams; p++) {
        IrParam *pp = &m->params[p];
        if (v[p].last < 0)
            pp->transient = 0;
        if (!pp->transient) {
            pp->offset = m->param_floats;
            m->param_floats += align_up(v[p].size);
        }
    }
    int *def = ir_xcalloc(m->nparams + 1, sizeof *def), *all = ir_xcalloc(m->nparams + 1, sizeof *all);
    for (int p = 0; p < m->nparams; p++)
        def[p] = m->params[p].transient ? v[p].def : m->nprepares;
    sort_by_key(def, m->nparams, m->nprepares + 1, all); /* by the step that first touches it */
    for (int i = 0; i < m->nparams; i++)
        if (m->params[all[i]].transient)
            order[n++] = all[i];
    free(def), free(all);
    m->prepare_floats = plan(v, m->nparams, order, n, m->nprepares);
    for (int i = 0; i < n; i++)
        m->params[order[i]].offset = v[order[i]].offset;
    free(v), free(order);
}

void ir_plan_memory(IrModule *m)
{
    plan_tensors(m);
    order_prepares(m);
    plan_params(m);
}
