/*
 * error.c - one-line diagnostics and the small helpers every loader needs:
 * overflow-checked sizes, aligned float buffers, whole-file reads.
 *
 * A diagnostic is `PROGRAM: error: message` on stderr, where PROGRAM is the
 * basename of argv[0]; while a thread runs an API call (api.c) it goes to
 * that call's message buffer instead (rt_capture), so a library call never
 * prints.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/rt_internal.h"

static const char *progname = "convc-net";

/* The message buffer of the API call this thread is in; NULL: stderr. */
static _Thread_local char *capture;

char *rt_capture(char *buf)
{
    char *old = capture;
    capture = buf;
    if (buf)
        buf[0] = 0;
    return old;
}

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

/* A code point that must not reach a terminal raw: C1 controls, the line and
 * paragraph separators, and the bidirectional overrides and isolates. */
static bool unsafe_code_point(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes) that
 * encodes a safe code point; 0 when it is malformed or unsafe. */
static size_t safe_utf8(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    uint32_t cp = s[0] & (0x7F >> len);
    if (s[0] < 0xC2 || s[0] > 0xF4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    bool bad = overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || unsafe_code_point(cp);
    return bad ? 0 : len;
}

/* Text from files and the command line (tensor names, dtypes, paths) goes
 * through here: control characters, DEL, malformed UTF-8 and the code points
 * above are written as \xNN per byte, so a message stays one line and
 * cannot drive the terminal. Writes at most size - 1 bytes and a NUL. */
static void escape(char *out, size_t size, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        size_t len = s[i] >= 0x20 && s[i] < 0x7F ? 1 : s[i] >= 0x80 ? safe_utf8(s + i, n - i) : 0;
        size_t need = len ? len : 4;
        if (used + need >= size)
            break;
        if (len)
            memcpy(out + used, s + i, len);
        else
            snprintf(out + used, 5, "\\x%02x", s[i]);
        used += need;
        i += len ? len : 1;
    }
    out[used] = 0;
}

int rt_error(int code, const char *fmt, ...)
{
    char small[512], *big = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small && (big = malloc((size_t)n + 1))) {
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    size_t len = n < 0 ? 0 : big || n < (int)sizeof small ? (size_t)n : sizeof small - 1;
    if (capture) {
        escape(capture, RT_MESSAGE_SIZE, big ? big : small, len);
    } else {
        size_t cap = 4 * len + 1;
        char *line = malloc(cap), name[256];
        escape(name, sizeof name, progname, strlen(progname));
        if (line)
            escape(line, cap, big ? big : small, len);
        fprintf(stderr, "%s: error: %s\n", name, line ? line : "out of memory");
        free(line);
    }
    free(big);
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
