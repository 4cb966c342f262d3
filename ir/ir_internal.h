/* ir_internal.h - shared between the files of ir/ only (module.c: building blocks). */
#ifndef CONVC_IR_INTERNAL_H
#define CONVC_IR_INTERNAL_H

#include "ir/ir.h"

void *ir_alloc(size_t n);
void *ir_grow(void *a, int n, size_t elt); /* before appending element n */
int ir_add_tensor(IrModule *m, const char *name, Shape s);
int ir_add_node(IrModule *m, IrKind kind, const char *name, int out);
void ir_set_layout(IrTensor *t, IrLayout l);
int ir_add_param(IrModule *m, const char *name, int rank, const int64_t *dims, int derived);

/* build.c: the checked graph as IR, before any pass. */
IrModule *ir_lower(const Graph *g);

/* Passes, in the order ir_build() (pipeline.c) runs them. */
void ir_fold_batchnorm(IrModule *m);
void ir_fuse_activation(IrModule *m);
void ir_fuse_residual(IrModule *m);
void ir_compact(IrModule *m);
void ir_assign_layouts(IrModule *m, const IrOptions *o);
void ir_view_concats(IrModule *m);
void ir_choose_kernels(IrModule *m, const IrOptions *o);
void ir_plan_memory(IrModule *m);

void *ir_xcalloc(size_t n, size_t size);   /* memory.c: calloc or exit(3) with "out of memory" */
int *ir_producers(const IrModule *m);      /* passes.c: the live node writing each tensor, or -1
                                              (ntensors + 1 entries, the caller frees) */
void ir_drop_dead_nodes(IrModule *m);      /* passes.c: compacts nodes, tensors untouched */

/* Per-sample tensor offsets (and views' offsets into their root) are
 * multiples of this many floats: 64 bytes, so every tensor of a batch is
 * aligned for full-vector loads. */
enum { IR_ALIGN_FLOATS = 16 };

#endif
