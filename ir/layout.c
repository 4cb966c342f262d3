/*
 * layout.c - the layout pass: a memory layout per node, and IR_REORDER nodes
 * where a producer and a consumer disagree.
 *
 * Each node works in one layout: its output and the inputs it reads are in
 * it, except where its kernel reads an input in another (the target says).
 * A node a fast kernel wants in a blocked layout (the target's layout():
 * conv2d with the blocked kernel) gets it; nodes whose lowering handles any
 * layout (elementwise ops: the same formula on every stored element; crop:
 * indexes both sides by layout) follow their first input, or take
 * IrOptions.layout when --layout gives one; pools, upsample and concat
 * along channels (indexed by layout too) follow their first input; every other node, and every
 * rank-1 tensor, stays NCHW. Network inputs and outputs are NCHW (the
 * runtime reads and writes NCHW files), so a node that writes a network
 * output works in NCHW too.
 *
 * A value needed in another layout than the one it was written in gets one
 * reorder node, placed just before its first consumer in that layout and
 * shared by every later one; nodes stay in topological order. Without a
 * target (or with --kernels=reference) and without --layout, everything is
 * NCHW and no reorder is inserted.
 */
#include <stdlib.h>

#include "ir/ir_internal.h"

/* Nodes whose reference lowering works in every layout (all inputs and the
 * output share it); a broadcasting add, sub or mul indexes NCHW. */
static int layout_free(const IrNode *n)
{
    switch (n->kind) {
    case IR_ACT: case IR_CROP: return 1;
    case IR_ADD: case IR_SUB: case IR_MUL: return !n->broadcast;
    case IR_CONV: case IR_CONV_T: case IR_LINEAR: case IR_BATCHNORM: case IR_MAXPOOL: case IR_AVGPOOL:
    case IR_GLOBAL_AVGPOOL: case IR_UPSAMPLE: case IR_CONCAT: case IR_PRELU: case IR_SOFTMAX:
    case IR_LOG_SOFTMAX: case IR_ADAPTIVE_AVGPOOL: case IR_ADAPTIVE_MAXPOOL: case IR_PAD:
    case IR_NORM: case IR_SHUFFLE: case IR_RESHAPE:
    case IR_COPY: case IR_REORDER: case IR_KIND_COUNT:
        return 0;
    }
    return 0;
}

/* Nodes whose reference lowering works in every layout but that are not
 * elementwise (pools, concat along channels: they index both sides by
 * layout). They follow their first input; --layout leaves them NCHW. A
 * concat along H or W stays NCHW: the blocked concat copies channels. */
static int layout_following(const IrNode *n)
{
    return n->kind == IR_MAXPOOL || n->kind == IR_AVGPOOL || (n->kind == IR_CONCAT && n->axis == 0);
}

/* The layout n works in (its output's). A node a fast kernel wants blocked
 * (the target says so) gets that layout; a layout-free node takes
 * IrOptions.layout when one is given, else its first input's, so a chain of
 * elementwise ops between blocked convs stays blocked. Network outputs and
 * rank-1 tensors are NCHW. */
static IrLayout node_layout(const IrModule *m, const IrNode *n, const IrOptions *o)
{
    const IrTensor *out = &m->tensors[n->out];
    if (out->rank != 3 || out->is_output)
        return LAYOUT_NCHW;
    const IrTensor *in = &m->tensors[n->in[0]];
    if (layout_free(n))
        return o->layout != LAYOUT_NCHW ? o->layout : in->rank == 3 ? in->layout : LAYOUT_NCHW;
    if (layout_following(n))
        return in->rank == 3 ? in->layout : LAYOUT_NCHW;
    if (o->target && !o->reference_only)
        return o->target->layout(o->target, m, n, -1);
    return LAYOUT_NCHW;
}

/* The layout n reads input j in: its own, except where a kernel wants
 * another (a blocked conv reading a few-channel NCHW image, a 1x1 head
 * reading blocked channels into an NCHW output). n's output layout is
 * assigned already. A conv's fused residual (input 1) is indexed as its
 * output, so it is in the output's layout. */
static IrLayout input_layout(const IrModule *m, const IrNode *n, int j, IrLayout l, const IrOptions *o)
{
    if (layout_free(n) || layout_following(n) || !o->target || o->reference_only ||
        m->tensors[n->in[j]].rank != 3 || (n->kind == IR_CONV && j == 1))
        return l;
    return o->target->layout(o->target, m, n, j);
}

/* The tensor holding t's values in layout l: t itself, an earlier reorder's
 * output (cache[t * LAYOUT_COUNT + l]), or a new reorder appended to nodes. */
static int in_layout(IrModule *m, int t, IrLayout l, int *cache, IrNode **nodes, int *nn)
{
    if (m->tensors[t].layout == l)
        return t;
    int *c = &cache[t * LAYOUT_COUNT + l];
    if (*c >= 0)
        return *c;
    IrTensor src = m->tensors[t]; /* a copy: ir_add_tensor may move m->tensors */
    Shape s = {.rank = src.rank, .c = src.c, .h = src.h, .w = src.w};
    *c = ir_add_tensor(m, src.name, s);
    ir_set_layout(&m->tensors[*c], l);
    *nodes = ir_grow(*nodes, *nn, sizeof **nodes);
    IrNode r = {.kind = IR_REORDER, .name = ir_strcat(src.name, ".to_", ir_layout_name(l)), .out = *c,
                .nin = 1, .in = {t}, .weight = -1, .bias = -1, .mean = -1, .var = -1, .scratch = -1};
    (*nodes)[(*nn)++] = r;
    return *c;
}

void ir_assign_layouts(IrModule *m, const IrOptions *o)
{
    int *cache = ir_xcalloc(((size_t)m->ntensors + 1) * LAYOUT_COUNT, sizeof *cache);
    for (int i = 0; i < m->ntensors * LAYOUT_COUNT; i++)
        cache[i] = -1;
    IrNode *nodes = NULL;
    int nn = 0;
    for (int i = 0; i < m->nnodes; i++) {
        IrNode n = m->nodes[i];
        IrLayout l = node_layout(m, &n, o);
        IrLayout li[IR_MAX_IN];
        ir_set_layout(&m->tensors[n.out], l);
        for (int j = 0; j < n.nin; j++)
            li[j] = input_layout(m, &n, j, l, o);
        for (int j = 0; j < n.nin; j++) /* inputs are tensors from before the pass */
            n.in[j] = in_layout(m, n.in[j], li[j], cache, &nodes, &nn);
        nodes = ir_grow(nodes, nn, sizeof *nodes);
        nodes[nn++] = n;
    }
    free(m->nodes);
    m->nodes = nodes;
    m->nnodes = nn;
    free(cache);
}
