/*
 * passes.c - IR rewrites: batchnorm folding, activation fusion, residual
 * fusion, compaction, kernel choice.
 *
 * Invariants kept: nodes stay in topological order; a tensor is written by
 * exactly one live node (or is a network input); network outputs are never
 * folded or fused away, so every output tensor still exists afterwards.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir/ir_internal.h"

/* Who writes and how many read each tensor, kept up to date by the
 * rewrites so each pass is linear in the size of the graph. */
typedef struct {
    int *producer; /* live node writing tensor t, or -1 (a network input) */
    int *uses;     /* live node inputs reading t, plus one if it is an output */
} Uses;

int *ir_producers(const IrModule *m)
{
    int *p = ir_xcalloc(m->ntensors + 1, sizeof *p);
    for (int t = 0; t < m->ntensors; t++)
        p[t] = -1;
    for (int i = 0; i < m->nnodes; i++)
        if (!m->nodes[i].dead)
            p[m->nodes[i].out] = i;
    return p;
}

static Uses count_uses(const IrModule *m)
{
    Uses u = {ir_producers(m), ir_xcalloc(m->ntensors + 1, sizeof(int))};
    for (int t = 0; t < m->ntensors; t++)
        u.uses[t] = m->tensors[t].is_output;
    for (int i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].dead)
            continue;
        for (int j = 0; j < m->nodes[i].nin; j++)
            u.uses[m->nodes[i].in[j]]++;
    }
    return u;
}

static void free_uses(Uses *u)
{
    free(u->producer);
    free(u->uses);
}

/* Node p now writes what node `gone` wrote; `gone` and p's old output disappear. */
static void absorb(Uses *u, IrNode *nodes, int p, int gone)
{
    u->uses[nodes[p].out]--;
    nodes[p].out = nodes[gone].out;
    u->producer[nodes[gone].out] = p;
    nodes[gone].dead = 1;
}

/* Node p takes over node `gone`: its output, its activation and its name. */
static void merge_into(Uses *u, IrNode *nodes, int p, int gone)
{
    nodes[p].act = nodes[gone].act;
    nodes[p].act_alpha = nodes[gone].act_alpha;
    nodes[p].act_beta = nodes[gone].act_beta;
    nodes[p].name = ir_strcat(nodes[p].name, "+", nodes[gone].name);
    absorb(u, nodes, p, gone);
}

/* Folds batchnorm bn into conv c: a prepare step writes derived parameters
 * that replace the conv's weight and bias (formula at PREPARE_FOLD_BATCHNORM). */
static void fold_into(IrModule *m, IrNode *c, IrNode *bn)
{
    /* a copy: ir_add_derived may move m->params */
    IrParam w = m->params[c->weight];
    int64_t bdims[1] = {w.dims[0]};
    int out_w = ir_add_derived(m, ir_strcat(bn->name, "", ".folded_weight"), w.rank, w.dims);
    int out_b = ir_add_derived(m, ir_strcat(bn->name, "", ".folded_bias"), 1, bdims);
    IrPrepare *p = ir_add_prepare(m, PREPARE_FOLD_BATCHNORM, ir_strcat(bn->name, "", ".fold"), -1);
    int params[] = {out_w, out_b, c->weight, bn->weight, bn->bias, bn->mean, bn->var, c->bias};
    p->nout = 2;
    p->nin = c->bias >= 0 ? 6 : 5;
    for (int j = 0; j < p->nout + p->nin; j++)
        p->params[j] = params[j];
    p->eps = bn->eps;
    c->weight = out_w;
    c->bias = out_b;
    c->name = ir_strcat(c->name, "+", bn->name);
}

/* batchnorm2d(conv2d(x)) -> conv2d with folded weights, when the conv's
 * output feeds nothing else. */
void ir_fold_batchnorm(IrModule *m)
{
    Uses u = count_uses(m);
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *bn = &m->nodes[i];
        if (bn->dead || bn->kind != IR_BATCHNORM || bn->weight < 0)
            continue;   /* affine=false: nothing to fold with (the fold reads gamma and beta) */
        int p = u.producer[bn->in[0]];
        if (p < 0 || m->nodes[p].kind != IR_CONV || m->nodes[p].act != ACT_NONE || u.uses[bn->in[0]] != 1)
            continue;
        fold_into(m, &m->nodes[p], bn);
        absorb(&u, m->nodes, p, i);
    }
    free_uses(&u);
}

static int has_epilogue(IrKind k)
{
    return k == IR_CONV || k == IR_CONV_T || k == IR_LINEAR || k == IR_BATCHNORM || k == IR_ADD || k == IR_SUB ||
           k == IR_MUL;
}

/* Whether tensors a and b have the same [C, H, W]. An activation of a
 * flattened alias writes [F] while its producer computes [C, H, W]: the
 * producer's kernel indexes by its output's shape, so it keeps its own. */
static int same_shape(const IrTensor *a, const IrTensor *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

/* act(producer(x)) -> producer(x) with an activation epilogue, when the
 * activation's output has the producer's shape (not across a flatten). */
void ir_fuse_activation(IrModule *m)
{
    Uses u = count_uses(m);
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *a = &m->nodes[i];
        if (a->dead || a->kind != IR_ACT)
            continue;
        int p = u.producer[a->in[0]];
        if (p < 0 || !has_epilogue(m->nodes[p].kind) || m->nodes[p].act != ACT_NONE || u.uses[a->in[0]] != 1 ||
            !same_shape(&m->tensors[a->in[0]], &m->tensors[a->out]))
            continue;
        merge_into(&u, m->nodes, p, i);
    }
    free_uses(&u);
}

/* The input j of add a that a residual fusion can fold into its producer:
 * a conv used only by a, without an activation, with a's shape, written
 * after a's other input (the fused conv reads that input, so it must exist
 * by then: nodes stay in topological order). -1 if neither input can. */
static int residual_side(const IrModule *m, const Uses *u, const IrNode *a)
{
    for (int j = 1; j >= 0; j--) {
        int p = u->producer[a->in[j]], q = u->producer[a->in[1 - j]];
        if (p < 0 || m->nodes[p].kind != IR_CONV || m->nodes[p].act != ACT_NONE || m->nodes[p].nin != 1 ||
            u->uses[a->in[j]] != 1 || !same_shape(&m->tensors[a->in[j]], &m->tensors[a->out]))
            continue;
        if (q < p) /* also a network input (-1) */
            return j;
    }
    return -1;
}

/* act(conv(x) + r) -> conv(x, r) with act: the conv adds r (its input 1, in
 * its output's layout) to each finished value before the activation. The
 * sum is rounded as the separate add rounds it: conv first, then + r. */
void ir_fuse_residual(IrModule *m)
{
    Uses u = count_uses(m);
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *a = &m->nodes[i];
        if (a->dead || a->kind != IR_ADD || a->broadcast || a->nin != 2 || a->in[0] == a->in[1])
            continue;
        int j = residual_side(m, &u, a);
        if (j < 0)
            continue;
        int p = u.producer[a->in[j]];
        m->nodes[p].nin = 2;
        m->nodes[p].in[1] = a->in[1 - j];
        merge_into(&u, m->nodes, p, i);
    }
    free_uses(&u);
}

/* Drops dead nodes and tensors nobody writes or reads, renumbering tensors. */
void ir_drop_dead_nodes(IrModule *m)
{
    int k = 0;
    for (int i = 0; i < m->nnodes; i++)
        if (!m->nodes[i].dead)
            m->nodes[k++] = m->nodes[i];
    m->nnodes = k;
}

void ir_compact(IrModule *m)
{
    int *map = ir_xcalloc(m->ntensors + 1, sizeof *map);
    ir_drop_dead_nodes(m);
    Uses u = count_uses(m);
    int nt = 0;
    for (int t = 0; t < m->ntensors; t++) {
        IrTensor *tt = &m->tensors[t];
        map[t] = -1;
        if (tt->is_input || tt->is_output || u.producer[t] >= 0) {
            map[t] = nt;
            m->tensors[nt++] = *tt;
        }
    }
    m->ntensors = nt;
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *n = &m->nodes[i];
        n->out = map[n->out];
        for (int j = 0; j < n->nin; j++)
            n->in[j] = map[n->in[j]];
    }
    for (int j = 0; j < m->ninputs; j++)
        m->inputs[j] = map[m->inputs[j]];
    for (int j = 0; j < m->noutputs; j++)
        m->outputs[j] = map[m->outputs[j]];
    free(map);
    free_uses(&u);
}

/* Node i's workspace: a rank-1 tensor of its own (ir.h: Workspace). A step
 * passes at most 1 + IR_MAX_IN tensors, so a node with workspace reads at
 * most IR_MAX_IN - 1 inputs; lowerings that ask for scratch never apply to
 * a concat that wide. */
static void add_scratch(IrModule *m, int i, int64_t floats)
{
    if (m->nodes[i].nin >= IR_MAX_IN) {
        fprintf(stderr, "convc: internal error: node '%s' asks for workspace with %d inputs\n", m->nodes[i].name,
                m->nodes[i].nin);
        exit(3);
    }
    Shape s = {.rank = 1, .c = floats, .h = 1, .w = 1};
    m->nodes[i].scratch = ir_add_tensor(m, ir_strcat(m->nodes[i].name, "", ".scratch"), s);
}

/* The first kernel after the reference one whose lowering applies; the
 * table order is the preference order. The chosen lowering then adds its
 * prepare steps and says how much workspace the node needs. */
void ir_choose_kernels(IrModule *m, const IrOptions *o)
{
    const IrTarget *t = o->target;
    for (int i = 0; i < m->nnodes; i++) {
        IrNode *n = &m->nodes[i];
        n->kernel = KERNEL_REFERENCE;
        for (int k = KERNEL_REFERENCE + 1; k < KERNEL_COUNT && t && !o->reference_only; k++) {
            if (t->applies(t, (IrKernel)k, m, n)) {
                n->kernel = (IrKernel)k;
                break;
            }
        }
        if (!t)
            continue;
        t->prepare(t, m->nodes[i].kernel, m, i);
        n = &m->nodes[i];
        int64_t floats = t->scratch(t, n->kernel, m, n);
        if (floats > 0)
            add_scratch(m, i, floats);
    }
}

