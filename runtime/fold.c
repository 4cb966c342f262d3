/*
 * fold.c - batchnorm folded into the preceding conv at load time, in the
 * order of RtModel.folds (formula in convrt.h), computed in double:
 *   s[o] = gamma[o] / sqrt(var[o] + eps)
 *   out_weight[o, ...] = weight[o, ...] * s[o]
 *   out_bias[o] = (bias[o] - mean[o]) * s[o] + beta[o]   (bias = 0 when absent)
 */
#include <math.h>

#include "runtime/rt_internal.h"

static float *param(const RtModel *m, float *params, int32_t i)
{
    return params + m->params[i].offset;
}

void rt_apply_folds(const RtModel *m, float *params)
{
    for (int32_t f = 0; f < m->nfolds; f++) {
        const RtFold *k = &m->folds[f];
        const float *w = param(m, params, k->weight), *gamma = param(m, params, k->gamma),
                    *beta = param(m, params, k->beta), *mean = param(m, params, k->mean),
                    *var = param(m, params, k->var), *bias = k->bias >= 0 ? param(m, params, k->bias) : NULL;
        float *ow = param(m, params, k->out_weight), *ob = param(m, params, k->out_bias);
        for (int64_t o = 0; o < k->out_channels; o++) {
            double s = (double)gamma[o] / sqrt((double)var[o] + k->eps);
            double b = bias ? (double)bias[o] : 0.0;
            for (int64_t j = 0; j < k->row; j++)
                ow[o * k->row + j] = (float)((double)w[o * k->row + j] * s);
            ob[o] = (float)((b - (double)mean[o]) * s + (double)beta[o]);
        }
    }
}
