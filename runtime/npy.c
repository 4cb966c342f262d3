/*
 * npy.c - reads network inputs from and writes outputs to NumPy .npy files.
 *
 * Format: "\x93NUMPY", major, minor, a header length (u16le for 1.0, u32le
 * for 2.0 and 3.0), then a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }
 * padded with spaces and a newline, then the data in C order.
 *
 * Inputs: descr '<f4' ('<f8' and '<f2' are converted), C order only, shape
 * [N, C, H, W] or [C, H, W] (N = 1) for a rank-3 tensor, [N, F] or [F] for a
 * rank-1 tensor, N >= 1, and exactly as many data bytes as the shape needs.
 * Outputs: version 1.0, '<f4', C order, [N, C, H, W] or [N, F].
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

enum { NPY_MAX_RANK = 8 };

typedef struct {
    char descr[16];
    bool fortran;
    int rank;
    int64_t dims[NPY_MAX_RANK];
    int seen; /* bit per key */
} NpyHeader;

typedef struct {
    const char *s, *end;
    const char *err;
} Lexer;

static void skip_spaces(Lexer *l)
{
    while (l->s < l->end && (*l->s == ' ' || *l->s == '\t' || *l->s == '\n' || *l->s == '\r'))
        l->s++;
}

static bool accept(Lexer *l, char c)
{
    skip_spaces(l);
    if (l->s < l->end && *l->s == c) {
        l->s++;
        return true;
    }
    return false;
}

/* pystr -> "'" chars "'" | '"' chars '"' (no escapes or control characters:
 * numpy never writes them here, and Python refuses a NUL in the literal) */
static bool lex_string(Lexer *l, char *out, size_t size)
{
    skip_spaces(l);
    if (l->s >= l->end || (*l->s != '\'' && *l->s != '"'))
        return l->err = "expected a quoted string", false;
    char q = *l->s++;
    size_t n = 0;
    while (l->s < l->end && *l->s != q) {
        if (n + 1 >= size || *l->s == '\\')
            return l->err = "unsupported string", false;
        if ((unsigned char)*l->s < 0x20) /* NUL would cut the C string short: '<f4\0junk' is not '<f4' */
            return l->err = "control character in a string", false;
        out[n++] = *l->s++;
    }
    if (l->s >= l->end)
        return l->err = "unterminated string", false;
    l->s++;
    out[n] = '\0';
    return true;
}

/* shape -> '(' ( int ( ',' int )* ','? )? ')' */
static bool lex_shape(Lexer *l, NpyHeader *h)
{
    if (!accept(l, '('))
        return l->err = "expected '(' to start the shape", false;
    h->rank = 0;
    while (!accept(l, ')')) {
        skip_spaces(l);
        if (l->s >= l->end || *l->s < '0' || *l->s > '9')
            return l->err = "expected a dimension in the shape", false;
        if (h->rank == NPY_MAX_RANK)
            return l->err = "shape has more than 8 dimensions", false;
        int64_t v = 0;
        while (l->s < l->end && *l->s >= '0' && *l->s <= '9') {
            if (v > (INT64_MAX - (*l->s - '0')) / 10)
                return l->err = "a dimension of the shape overflows", false;
            v = v * 10 + (*l->s++ - '0');
        }
        h->dims[h->rank++] = v;
        if (!accept(l, ',')) {
            if (!accept(l, ')'))
                return l->err = "expected ',' or ')' in the shape", false;
            break;
        }
    }
    return true;
}

static bool lex_bool(Lexer *l, bool *out)
{
    skip_spaces(l);
    size_t left = (size_t)(l->end - l->s);
    if (left >= 4 && memcmp(l->s, "True", 4) == 0)
        return l->s += 4, *out = true, true;
    if (left >= 5 && memcmp(l->s, "False", 5) == 0)
        return l->s += 5, *out = false, true;
    return l->err = "expected True or False", false;
}

/* item -> key ':' value, for the keys 'descr', 'fortran_order', 'shape' (each once) */
static bool lex_item(Lexer *l, NpyHeader *h)
{
    char key[32];
    if (!lex_string(l, key, sizeof key))
        return false;
    if (!accept(l, ':'))
        return l->err = "expected ':' after a key", false;
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    int k = 0;
    while (k < 3 && strcmp(key, keys[k]) != 0)
        k++;
    if (k == 3)
        return l->err = "unknown key in header", false;
    if (h->seen & 1 << k)
        return l->err = "duplicate key in header", false;
    h->seen |= 1 << k;
    if (k == 0)
        return lex_string(l, h->descr, sizeof h->descr);
    if (k == 1)
        return lex_bool(l, &h->fortran);
    return lex_shape(l, h);
}

/* header -> '{' ( item ( ',' item )* ','? )? '}' spaces */
static bool lex_header(Lexer *l, NpyHeader *h)
{
    if (!accept(l, '{'))
        return l->err = "header does not start with '{'", false;
    while (!accept(l, '}')) {
        if (!lex_item(l, h))
            return false;
        if (!accept(l, ',')) {
            if (!accept(l, '}'))
                return l->err = "expected ',' or '}' in header", false;
            break;
        }
    }
    skip_spaces(l);
    if (l->s != l->end)
        return l->err = "unexpected text after the header dict", false;
    if (h->seen != 7)
        return l->err = "header lacks 'descr', 'fortran_order' or 'shape'", false;
    return true;
}

/* descr -> element size and type; 0 when not a little-endian float */
static int item_size(const char *descr, RtFloatType *type)
{
    static const struct { const char *descr; int size; RtFloatType type; } known[] = {
        {"<f4", 4, RT_F32}, {"<f8", 8, RT_F64}, {"<f2", 2, RT_F16}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(descr, known[i].descr) == 0)
            return *type = known[i].type, known[i].size;
    return 0;
}

/* "\x93NUMPY" major minor len header; returns the header's offset and length */
static int read_preamble(const char *path, const unsigned char *d, size_t n, size_t *off, size_t *len)
{
    if (n < 10 || memcmp(d, "\x93NUMPY", 6) != 0)
        return rt_error(RT_EXIT_INPUT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    if (d[6] < 1 || d[6] > 3 || d[7] != 0) /* 1.0, 2.0, 3.0: the only versions numpy defines */
        return rt_error(RT_EXIT_INPUT, "%s: unsupported .npy version %d.%d", path, d[6], d[7]);
    if (d[6] == 1) {
        *off = 10;
        *len = (size_t)d[8] | (size_t)d[9] << 8;
    } else {
        if (n < 12)
            return rt_error(RT_EXIT_INPUT, "%s: truncated .npy header", path);
        *off = 12;
        *len = (size_t)d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16 | (size_t)d[11] << 24;
    }
    if (*len > n - *off)
        return rt_error(RT_EXIT_INPUT, "%s: .npy header length %zu is past the end of the file (%zu bytes)", path, *len, n);
    return 0;
}

/* Accepted shapes: rank 3 [C,H,W] as [N,C,H,W] or [C,H,W]; rank 1 [F] as [N,F] or [F]. */
static int match_shape(const char *path, const char *name, const RtTensor *t, const NpyHeader *h, int64_t *batch)
{
    const int64_t want[3] = {t->c, t->h, t->w};
    int trank = t->rank == 1 ? 1 : 3;
    bool ok = false;
    if (h->rank == trank || h->rank == trank + 1) {
        int skip = h->rank - trank;
        *batch = skip ? h->dims[0] : 1;
        ok = *batch >= 1 && memcmp(h->dims + skip, want, (size_t)trank * sizeof want[0]) == 0;
    }
    if (ok)
        return 0;
    char got[160], exp[96];
    rt_format_shape(got, sizeof got, h->dims, h->rank);
    rt_format_shape(exp, sizeof exp, want, trank);
    return rt_error(RT_EXIT_INPUT, "%s: input '%s' has shape %s, expected [N, %s or %s with N >= 1", path, name, got,
                    exp + 1, exp);
}

/* Parses the whole file image; on success *data holds batch * t->size floats. */
static int parse_npy(const char *path, const char *name, const RtTensor *t, const unsigned char *d, size_t n,
                     int64_t *batch, float **data)
{
    size_t off = 0, len = 0;
    int rc = read_preamble(path, d, n, &off, &len);
    if (rc)
        return rc;
    NpyHeader h = {0};
    Lexer l = {(const char *)d + off, (const char *)d + off + len, NULL};
    if (!lex_header(&l, &h))
        return rt_error(RT_EXIT_INPUT, "%s: malformed .npy header: %s", path, l.err);
    RtFloatType type;
    int size = item_size(h.descr, &type);
    if (!size)
        return rt_error(RT_EXIT_INPUT, "%s: dtype '%s' not supported; expected '<f4' (float32, little-endian)", path, h.descr);
    if (h.fortran)
        return rt_error(RT_EXIT_INPUT, "%s: Fortran-order arrays are not supported; save a C-order array", path);
    int64_t numel = 1, bytes;
    bool overflow = false;
    for (int i = 0; i < h.rank; i++)
        overflow |= rt_mul_overflows(numel, h.dims[i], &numel);
    if (overflow || rt_mul_overflows(numel, size, &bytes)) {
        char shape[160];
        rt_format_shape(shape, sizeof shape, h.dims, h.rank);
        return rt_error(RT_EXIT_INPUT, "%s: shape %s overflows", path, shape);
    }
    if ((rc = match_shape(path, name, t, &h, batch)))
        return rc;
    size_t have = n - off - len;
    if ((uint64_t)bytes != have)
        return rt_error(RT_EXIT_INPUT, "%s: data is %zu bytes, but shape and dtype need %lld%s", path, have,
                        (long long)bytes, have < (uint64_t)bytes ? " (truncated file?)" : "");
    if (!(*data = rt_alloc_floats(numel)))
        return rt_error(RT_EXIT_RUNTIME, "out of memory for input '%s'", name);
    rt_convert_to_f32(*data, d + off + len, numel, type);
    return 0;
}

int rt_npy_read(const char *path, const char *name, const RtTensor *t, int64_t *batch, float **data)
{
    unsigned char *file;
    size_t n;
    *data = NULL;
    int rc = rt_read_file(path, "input", RT_EXIT_INPUT, &file, &n);
    if (rc)
        return rc;
    rc = parse_npy(path, name, t, file, n, batch, data);
    free(file);
    return rc;
}

/* Writes a version 1.0 header padded to a multiple of 64 bytes, then the data. */
bool rt_npy_write(FILE *f, const RtTensor *t, int64_t batch, const float *data)
{
    char dict[256];
    int n = t->rank == 1
        ? snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %d), }",
                   (long long)batch, t->c)
        : snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %d, %d, %d), }",
                   (long long)batch, t->c, t->h, t->w);
    int total = (10 + n + 1 + 63) / 64 * 64, hlen = total - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xFF), (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)n, f) != (size_t)n)
        return false;
    for (int i = n; i < hlen - 1; i++)
        if (fputc(' ', f) == EOF)
            return false;
    if (fputc('\n', f) == EOF)
        return false;
    size_t count = (size_t)(batch * t->size);
    return fwrite(data, sizeof(float), count, f) == count;
}
