/*
 * views.c - concat without copies: the producers of a concat's inputs write
 * straight into channel slices of its output, and the concat node goes.
 *
 * A sample of a [C, H, W] tensor, NCHW or in blocks of B channels, holds
 * channels [c0, c0 + c) as one contiguous run of c * H * W floats starting
 * c0 * H * W in, provided c0 is a multiple of B (and c too, unless the run
 * ends the tensor: a block's padding lanes would spill into the next
 * input's channels). Such an input becomes a view: it keeps its own shape,
 * its sample n starts view_off + n * (the concat's size) floats after the
 * concat output's base, and every kernel reaches it through the same
 * pointer and per-sample stride it uses for any tensor (lower.c's
 * emit_items, ir_tensor_stride). UNet's skip connections and upsampled
 * decoder maps are then never copied.
 *
 * A concat is elided only when every input can be a view: a tensor that
 * some node writes (not a network input, which the runtime copies in whole,
 * not a network output, copied out whole), rank 3 in the output's layout,
 * not read twice by the concat, not already a view of another concat, at
 * an offset of a multiple of 16 floats (kernels assume 64-byte aligned
 * tensor bases). Concats are taken last to first, so a tree of concats
 * (more inputs than a node takes) collapses into the outermost one: an
 * inner concat's output becomes a view, then its own inputs views of the
 * same root. The memory plan (memory.c) gives the root a lifetime from the
 * first write of any of its views to the last read of it or of them.
 */
#include <stdlib.h>

#include "ir/ir_internal.h"

/* Whether every input of concat node n can be a slice of its output. */
static int viewable(const IrModule *m, const IrNode *n, const int *producer)
{
    const IrTensor *out = &m->tensors[n->out];
    if (n->axis != 0 || out->rank != 3)
        return 0;
    int64_t b = ir_layout_block(out->layout), c0 = 0;
    for (int j = 0; j < n->nin; j++) {
        const IrTensor *t = &m->tensors[n->in[j]];
        if (t->is_input || t->is_output || t->view_of >= 0 || producer[n->in[j]] < 0 || t->rank != 3 ||
            t->layout != out->layout || t->h != out->h || t->w != out->w || c0 % b)
            return 0;
        for (int k = 0; k < j; k++)
            if (n->in[k] == n->in[j])
                return 0;
        if ((out->view_off + c0 * out->h * out->w) % IR_ALIGN_FLOATS)
            return 0;
        c0 += t->c;
    }
    return c0 == out->c;
}

void ir_view_concats(IrModule *m)
{
    int *producer = ir_producers(m);
    for (int i = m->nnodes - 1; i >= 0; i--) {
        IrNode *n = &m->nodes[i];
        if (n->kind != IR_CONCAT || !viewable(m, n, producer))
            continue;
        const IrTensor *out = &m->tensors[n->out];
        int root = out->view_of >= 0 ? out->view_of : n->out;
        int64_t c0 = 0;
        for (int j = 0; j < n->nin; j++) {
            IrTensor *t = &m->tensors[n->in[j]];
            t->view_of = root;
            t->view_off = out->view_off + c0 * out->h * out->w;
            c0 += t->c;
        }
        n->dead = 1;
    }
    ir_drop_dead_nodes(m);
    free(producer);
}
