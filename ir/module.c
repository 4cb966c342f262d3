/*
 * module.c - building blocks of an IrModule shared by lowering and passes:
 * allocation, growing arrays, adding tensors, nodes, parameters and prepare
 * steps (the last two also for codegen's lowerings, through ir.h), and the
 * per-layout and per-dtype facts (block size, element size).
 *
 * A tensor's byte size always follows from its shape, dtype and layout:
 * ir_set_layout() is the only way to change a layout, so the two never
 * disagree.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir_internal.h"

/* Every IR allocation is chained from `blocks` and lives until exit, like
 * the rest of a compilation's data. */
typedef struct Block {
    struct Block *next;
    max_align_t data[];
} Block;

static Block *blocks;

void *ir_alloc(size_t n)
{
    Block *b = calloc(1, sizeof(Block) + n);
    if (!b) {
        fputs("convc: out of memory\n", stderr);
        exit(3);
    }
    b->next = blocks;
    blocks = b;
    return b->data;
}

void ir_release(IrModule *m)
{
    free(m->tensors);
    free(m->nodes);
    free(m->params);
    free(m->prepares);
    while (blocks) {
        Block *b = blocks;
        blocks = b->next;
        free(b);
    }
}

/* a, sep and b joined in one new string */
char *ir_strcat(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = ir_alloc(la + ls + lb + 1);
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}

/* Grows an array of n elements before it takes element n: capacities
 * 64, 128, 256, ... (the arrays hold no capacity of their own). */
void *ir_grow(void *a, int n, size_t elt)
{
    if (n != 0 && (n < 64 || (n & (n - 1)) != 0))
        return a;
    void *p = realloc(a, (size_t)(n ? 2 * n : 64) * elt);
    if (!p) {
        fputs("convc: out of memory\n", stderr);
        exit(3);
    }
    return p;
}

int ir_layout_block(IrLayout l)
{
    static const int block[LAYOUT_COUNT] = {[LAYOUT_NCHW] = 1, [LAYOUT_NCHW16C] = 16, [LAYOUT_NCHW8C] = 8};
    return block[l];
}

int ir_dtype_bytes(IrDtype d)
{
    static const int bytes[] = {[DTYPE_F32] = 4, [DTYPE_BF16] = 2, [DTYPE_INT8] = 1};
    return bytes[d];
}

/* bytes = ceil(C / block) * block * H * W * sizeof(element) */
void ir_set_layout(IrTensor *t, IrLayout l)
{
    int64_t b = ir_layout_block(l);
    t->layout = l;
    t->bytes = (t->c + b - 1) / b * b * t->h * t->w * ir_dtype_bytes(t->dtype);
}

int ir_add_tensor(IrModule *m, const char *name, Shape s)
{
    m->tensors = ir_grow(m->tensors, m->ntensors, sizeof *m->tensors);
    IrTensor *t = &m->tensors[m->ntensors];
    *t = (IrTensor){.name = name, .rank = s.rank, .c = s.c, .h = s.h, .w = s.w,
                    .dtype = DTYPE_F32, .def = -1, .last_use = -1, .view_of = -1};
    ir_set_layout(t, LAYOUT_NCHW);
    return m->ntensors++;
}

/* A node with no parameters, attributes or inputs yet. */
int ir_add_node(IrModule *m, IrKind kind, const char *name, int out)
{
    m->nodes = ir_grow(m->nodes, m->nnodes, sizeof *m->nodes);
    IrNode *n = &m->nodes[m->nnodes];
    *n = (IrNode){.kind = kind, .name = name, .out = out, .weight = -1, .bias = -1, .mean = -1, .var = -1, .scratch = -1,
                  .geom = {.kernel = {1, 1}, .stride = {1, 1}, .dilation = {1, 1}, .groups = 1}};
    return m->nnodes++;
}

int ir_add_param(IrModule *m, const char *name, int rank, const int64_t *dims, int derived)
{
    m->params = ir_grow(m->params, m->nparams, sizeof *m->params);
    IrParam *p = &m->params[m->nparams];
    *p = (IrParam){.name = name, .rank = rank, .derived = derived};
    for (int i = 0; i < rank; i++)
        p->dims[i] = dims[i];
    return m->nparams++;
}


int ir_add_derived(IrModule *m, const char *name, int rank, const int64_t *dims)
{
    return ir_add_param(m, name, rank, dims, 1);
}

IrPrepare *ir_add_prepare(IrModule *m, IrPrepareKind k, const char *name, int node)
{
    m->prepares = ir_grow(m->prepares, m->nprepares, sizeof *m->prepares);
    IrPrepare *p = &m->prepares[m->nprepares++];
    *p = (IrPrepare){.kind = k, .name = name, .node = node};
    return p;
}
