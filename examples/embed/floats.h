/*
 * floats.h - raw float32 files for the examples (the tests write inputs
 * with NumPy's tofile and read outputs with fromfile). Exits on failure.
 */
#ifndef EMBED_FLOATS_H
#define EMBED_FLOATS_H

#include <stdio.h>
#include <stdlib.h>

static inline float *read_floats(const char *path, size_t n)
{
    float *v = malloc(n * sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!v || !f || fread(v, sizeof *v, n, f) != n) {
        fprintf(stderr, "cannot read %zu floats from %s\n", n, path);
        exit(1);
    }
    fclose(f);
    return v;
}

static inline void write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof *v, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

#endif
