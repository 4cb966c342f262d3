/*
 * pipeline.c - ir_build: lowering, then every pass, in order. The one place
 * that lists the passes; each lives in its own file and none calls another
 * (they share only module.c's building blocks).
 */
#include "ir/ir_internal.h"

IrModule *ir_build(const Graph *g, const IrOptions *o)
{
    IrModule *m = ir_lower(g);   /* build.c: one node per computing layer */
    ir_fold_batchnorm(m);        /* passes.c */
    ir_fuse_activation(m);       /* passes.c */
    ir_fuse_residual(m);         /* passes.c: after the add got its activation */
    ir_compact(m);               /* passes.c: drop what the passes above removed */
    ir_assign_layouts(m, o);     /* layout.c */
    ir_view_concats(m);          /* views.c: concats whose inputs are written in place (before
                                    kernel choice adds prepare steps, which name nodes by index) */
    ir_choose_kernels(m, o);     /* passes.c, asking o->target */
    ir_plan_memory(m);           /* memory.c */
    return m;
}

int64_t ir_arena_bytes(const IrModule *m)
{
    return m->arena_floats * (int64_t)sizeof(float);
}
