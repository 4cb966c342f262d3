/*
 * random.c - deterministic pseudo-random weights and inputs, so a network
 * runs without files (--random-weights SEED, --random-input SEED).
 *
 * Each tensor draws from its own splitmix64 stream seeded with
 * SEED ^ fnv1a64(name), so its values depend only on the seed and its name,
 * never on the order of the others. A draw u = top 24 bits / 2^24 is in
 * [0, 1) and maps to lo + (hi - lo) * u. Parameter ranges:
 *   rank >= 2 (conv, linear weights)  uniform(-b, b), b = 1/sqrt(prod dims[1..])
 *   *.running_var                     uniform(0.5, 1.5)
 *   *.running_mean                    uniform(-0.1, 0.1)
 *   *.weight of rank 1 whose sibling *.running_var exists (batchnorm gamma)
 *                                     uniform(0.5, 1.5)
 *   any other rank-1 tensor (biases)  uniform(-0.1, 0.1)
 * Inputs are uniform(-1, 1).
 */
#include <math.h>
#include <string.h>

#include "runtime/rt_internal.h"

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rt_random_uniform(float *dst, int64_t n, float lo, float hi, uint64_t seed, const char *name)
{
    uint64_t state = seed ^ fnv1a64(name);
    for (int64_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(&state) >> 40) * 0x1p-24f;
        dst[i] = lo + (hi - lo) * u;
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Is there a parameter "<prefix>.running_var" next to "<prefix>.weight"? */
static bool has_running_var(const RtModel *m, const char *weight)
{
    size_t prefix = strlen(weight) - strlen("weight");
    for (int32_t i = 0; i < m->nparams; i++) {
        const char *n = m->params[i].name;
        if (strncmp(n, weight, prefix) == 0 && strcmp(n + prefix, "running_var") == 0)
            return true;
    }
    return false;
}

static void param_range(const RtModel *m, const RtParam *p, float *lo, float *hi)
{
    if (p->rank >= 2) {
        double fan_in = 1;
        for (int d = 1; d < p->rank; d++)
            fan_in *= (double)p->dims[d];
        *hi = fan_in > 0 ? (float)(1.0 / sqrt(fan_in)) : 1.0f;
        *lo = -*hi;
    } else if (ends_with(p->name, "running_var") ||
               (ends_with(p->name, ".weight") && has_running_var(m, p->name))) {
        *lo = 0.5f, *hi = 1.5f;
    } else {
        *lo = -0.1f, *hi = 0.1f;
    }
}

void rt_random_param(const RtModel *m, const RtParam *p, uint64_t seed, float *dst)
{
    int64_t n = 1;
    for (int d = 0; d < p->rank; d++)
        n *= p->dims[d];
    float lo, hi;
    param_range(m, p, &lo, &hi);
    rt_random_uniform(dst, n, lo, hi, seed, p->name);
}
