/*
 * error.c - one-line diagnostics and the small helpers every loader needs:
 * overflow-checked sizes, aligned float buffers, whole-file reads.
 *
 * Every diagnostic is `PROGRAM: error: message` on stderr, where PROGRAM is
 * the basename of argv[0].
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/rt_internal.h"

static const char *progname = "convc-net";

void rt_set_progname(const char *argv0, const char *fallback)
{
    if (argv0 && *argv0) {
        const char *slash = strrchr(argv0, '/');
        progname = slash ? slash + 1 : argv0;
    } else if (fallback && *fallback) {
        progname = fallback;
    }
}

const char *rt_progname(void) { return progname; }

int rt_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* out = a * b for non-negative a, b; true when it does not fit int64. */
bool rt_mul_overflows(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

float *rt_alloc_floats(int64_t n)
{
    int64_t bytes;
    if (n < 0 || rt_mul_overflows(n, (int64_t)sizeof(float), &bytes) || (uint64_t)bytes > SIZE_MAX - 64)
        return NULL;
    /* Round up so a kernel's last vector load stays inside the block. */
    size_t size = ((size_t)bytes + 63) / 64 * 64;
    void *p = NULL;
    if (posix_memalign(&p, 64, size ? size : 64) != 0)
        return NULL;
    memset(p, 0, size ? size : 64);
    return p;
}

/* "[3, 4, 5]" */
void rt_format_shape(char *buf, size_t size, const int64_t *dims, int rank)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Reads a whole regular file; `what` names it in errors ("input", "weights"). */
int rt_read_file(const char *path, const char *what, int code, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rt_error(code, "cannot open %s file '%s': %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rt_error(code, "%s file '%s' is not a regular file", what, path);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return rt_error(RT_EXIT_RUNTIME, "out of memory reading '%s' (%zu bytes)", path, n);
    }
    if (fread(buf, 1, n, f) != n) {
        int e = ferror(f) ? errno : EIO;
        free(buf);
        fclose(f);
        return rt_error(code, "cannot read %s file '%s': %s", what, path, strerror(e));
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}
