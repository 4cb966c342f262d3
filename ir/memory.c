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

/* Lowest offset where `size` floats fit between the tensors live at time
 * `def` (placed[] holds the tensors placed so far). */
static int64_t first_fit(IrTensor **placed, int n, int def, int64_t size)
{
    IrTensor **live = calloc(n + 1, sizeof *live);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (placed[i]->last_use >= def)
            live[k++] = placed[i];
    qsort(live, k, sizeof *live, by_offset);
    int64_t at = 0;
    for (int i = 0; i < k; i++) {
        if (at + size <= live[i]->offset)
            break;
        int64_t end = align_up(live[i]->offset + ir_tensor_size(live[i]));
        if (end > at)
            at = end;
    }
    free(live);
    return at;
}

void ir_plan_memory(IrModule *m)
{
    compute_lifetimes(m);
    IrTensor **placed = calloc(m->ntensors + 1, sizeof *placed);
    int n = 0;
    m->arena_floats = 0;
    /* inputs first (def -1), then in node order */
    for (int pass = 0; pass < 2; pass++) {
        for (int t = 0; t < m->ntensors; t++) {
            IrTensor *tt = &m->tensors[t];
            if ((pass == 0) != (tt->def < 0))
                continue;
            if (tt->def < 0 && !tt->is_input)
                continue;
            tt->offset = first_fit(placed, n, tt->def, ir_tensor_size(tt));
            placed[n++] = tt;
            int64_t end = align_up(tt->offset + ir_tensor_size(tt));
            if (end > m->arena_floats)
                m->arena_floats = end;
        }
    }
    free(placed);

    m->param_floats = 0;
    for (int p = 0; p < m->nparams; p++) {
        m->params[p].offset = m->param_floats;
        m->param_floats += align_up(ir_param_size(&m->params[p]));
    }
}
