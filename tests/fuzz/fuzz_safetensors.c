/*
 * fuzz_safetensors.c - libFuzzer harness for the runtime's weights loader
 * (runtime/safetensors.c and the JSON parser it uses, runtime/json.c).
 *
 * The input is a whole weights file. It is loaded for the hand-written model
 * "net" of tests/runtime/Inputs/model.c (linked in: conv.*, bn.*, dw.*
 * parameters and one batchnorm fold), exactly as `net --weights FILE` would:
 * rt_load_params into a parameter buffer: the checks, then the values and
 * its prepare steps (the fold), on a pool of one thread. The loader reads a path (open + mmap), so each input is written
 * to one memfd and passed as /proc/self/fd/N: no file on disk.
 *
 * Every call must return 0 or RT_EXIT_WEIGHTS / RT_EXIT_RUNTIME with memory
 * released; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/rt_internal.h"
#include "tests/fuzz/memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_memfile(data, size);
    float *params = rt_alloc_floats(convc_model.param_floats);
    RtPool *pool = NULL;
    if (!path || !params || rt_pool_create(&pool, 1))
        abort();
    RtWeights w = {.path = path};
    int rc = rt_load_params(&convc_model, &w, pool, params);
    if (rc != 0 && rc != RT_EXIT_WEIGHTS && rc != RT_EXIT_RUNTIME)
        abort();
    rt_pool_destroy(pool);
    free(params);
    return 0;
}
