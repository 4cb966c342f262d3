/*
 * fuzz_npy.c - libFuzzer harness for the runtime's .npy reader
 * (runtime/npy.c).
 *
 * The input is a whole .npy file, read as `--input FILE` would read it for a
 * rank-3 tensor [2, 3, 4] and for a rank-1 tensor [5] (the two shapes the
 * reader distinguishes). Every accepted file is written back with
 * rt_npy_write and read again: the values must come back bit for bit and
 * with the same batch (written files are always '<f4', so a second trip
 * through the reader is exact even for '<f8' and '<f2' inputs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"
#include "tests/fuzz/memfile.h"

static const RtTensor tensors[] = {
    {"x", 0, 24, 3, 2, 3, 4},
    {"feat", 0, 5, 1, 5, 1, 1},
};

/* write(read(file)) read again equals read(file) */
static void round_trip(const RtTensor *t, int64_t batch, const float *values)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f || !rt_npy_write(f, t, batch, values) || fclose(f) != 0)
        abort();
    int64_t batch2 = 0;
    float *again = NULL;
    if (rt_npy_read(fuzz_memfile((const uint8_t *)buf, len), t->name, t, &batch2, &again) != 0 ||
        batch2 != batch || memcmp(again, values, (size_t)(batch * t->size) * sizeof *values) != 0)
        abort();
    free(again);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) {
        const char *path = fuzz_memfile(data, size);
        if (!path)
            abort();
        int64_t batch = 0;
        float *values = NULL;
        int rc = rt_npy_read(path, "fuzz.npy", &tensors[i], &batch, &values);
        if (rc == 0)
            round_trip(&tensors[i], batch, values);
        else if (rc != RT_EXIT_INPUT && rc != RT_EXIT_RUNTIME)
            abort();
        free(values);
    }
    return 0;
}
