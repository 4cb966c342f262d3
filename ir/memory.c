/*
 * memory.c - the memory plan: arena offsets for activations, buffer offsets
 * for parameters.
 *
 * A tensor is live from the node that writes it (network inputs: from the
 * start) to the last node that reads it (network outputs: to the end). Two
 * tensors may share arena space when their lifetimes do not overlap; a node
 * never writes over one of its own inputs. Placement is greedy first-fit in
 * order of definition, largest-first would be a later refinement. Offsets are
 * per sample and multiples of 16 floats, so every tensor of a batch starts on
 * a 64-byte boundary (offset * N stays a multiple of 16).
 */
#include <stdlib.h>

#include "ir/ir_internal.h"

enum { ALIGN_FLOATS = 16 };

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
        for (int j = 0; j < n->nin; j++)
            if (m->tensors[n->in[j]].last_use < i)
                m->tensors[n->in[j]].last_use = i;
    }
}

static int by_offset(const void *a, const void *b)
{
    const IrTensor *x = *(IrTensor *const *)a, *y = *(IrTensor *const *)b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* The tensors placed so far that are still live, kept sorted by offset. */
typedef struct {
    IrTensor **t;
    int n;
} Live;

/* Drops tensors whose last reader runs before node `def`. */
static void expire(Live *live, int def)
{
    int k = 0;
    for (int i = 0; i < live->n; i++)
        if (live->t[i]->last_use >= def)
            live->t[k++] = live->t[i];
    live->n = k;
}

/* Lowest offset where `size` floats fit between the live tensors. */
static int64_t first_fit(const Live *live, int64_t size)
{
    int64_t at = 0;
    for (int i = 0; i < live->n; i++) {
        if (at + size <= live->t[i]->offset)
            break;
        int64_t end = align_up(live->t[i]->offset + ir_tensor_size(live->t[i]));
        if (end > at)
            at = end;
    }
    return at;
}

static void place(IrModule *m, Live *live, IrTensor *t)
{
    expire(live, t->def);
    t->offset = first_fit(live, ir_tensor_size(t));
    live->t[live->n++] = t;
    qsort(live->t, live->n, sizeof *live->t, by_offset);
    int64_t end = align_up(t->offset + ir_tensor_size(t));
    if (end > m->arena_floats)
        m->arena_floats = end;
}

void ir_plan_memory(IrModule *m)
{
    compute_lifetimes(m);
    Live live = {calloc(m->ntensors + 1, sizeof *live.t), 0};
    m->arena_floats = 0;
    /* inputs first (def -1), then in the order nodes write them */
    for (int t = 0; t < m->ntensors; t++)
        if (m->tensors[t].is_input)
            place(m, &live, &m->tensors[t]);
    for (int i = 0; i < m->nnodes; i++)
        place(m, &live, &m->tensors[m->nodes[i].out]);
    free(live.t);

    m->param_floats = 0;
    for (int p = 0; p < m->nparams; p++) {
        m->params[p].offset = m->param_floats;
        m->param_floats += align_up(ir_param_size(&m->params[p]));
    }
}
