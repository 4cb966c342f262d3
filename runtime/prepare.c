/*
 * prepare.c - the load-time steps (RtPrepare): derived parameters computed
 * once from the loaded ones by generated code, e.g. batchnorm folded into a
 * conv's weights or weights packed for a blocked kernel. Run in order after
 * the weights are loaded and before the first run, each split over the
 * thread pool like a step; a step may read what an earlier one wrote.
 */
#include "runtime/rt_internal.h"

void rt_run_prepare(const RtModel *m, float *params, RtPool *pool)
{
    for (int32_t i = 0; i < m->nprepare; i++) {
        const RtPrepare *p = &m->prepare[i];
        float *args[RT_MAX_PREPARE_PARAMS];
        for (int j = 0; j < p->nout + p->nin; j++)
            args[j] = params + m->params[p->params[j]].offset;
        rt_pool_run(pool, p->fn, args, p->work, 1);
    }
}
