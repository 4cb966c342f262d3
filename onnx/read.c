/*
 * read.c - the .onnx file: read, unpack with protobuf-c, decode tensors.
 *
 * Invariants: nothing is allocated from a size the file claims before that
 * size was checked against the bytes actually present (the file itself for
 * protobuf and raw_data, the external data file's size for external data).
 * protobuf-c's own allocations are bounded by the length of the file: every
 * repeated field holds elements that were present in it. A tensor's element
 * count is the product of its dimensions, each checked >= 0, with overflow
 * refused; its data must hold exactly that many elements.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/internal.h"

#define MAX_ELEMS ((int64_t)1 << 40)

/* Reads a regular file whole; NULL (errno set) on failure. */
static uint8_t *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        close(fd);
        errno = e;
        return NULL;
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0) { int e = r ? errno : EIO; free(buf); buf = NULL; errno = e; break; }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

Onnx__ModelProto *ox_read_model(Ox *ox, OnnxError *err)
{
    size_t len = 0;
    uint8_t *buf = read_all(ox->path, &len);
    if (!buf) {
        fprintf(ox->opts->diag, "convc: error: cannot read '%s': %s\n", ox->path,
                errno == EINVAL ? "not a regular file" : strerror(errno));
        *err = ONNX_ERR_IO;
        return NULL;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!m)
        ox_fatal(ox, "not an ONNX model: the file is not a valid ModelProto (truncated, not protobuf, or a field of the wrong type)");
    return m;
}

/* ---- tensors ----------------------------------------------------------------- */

static bool is_float_type(int32_t dtype)
{
    return dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || dtype == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
           dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
}

/* Called only once the data for c->numel elements is known to exist. */
static void alloc_data(OxConst *c)
{
    size_t n = (size_t)(c->numel ? c->numel : 1);
    if (is_float_type(c->dtype))
        c->f = ox_alloc(n * sizeof(float));
    else
        c->i = ox_alloc(n * sizeof(int64_t));
}

static int elem_size(int32_t dtype)
{
    switch (dtype) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return 2;
    }
    return 0;
}

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Converts `n` little-endian elements of `dtype` at p into c->f or c->i. */
static void convert_raw(OxConst *c, const uint8_t *p, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        switch (c->dtype) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: memcpy(&c->f[k], p + 4 * k, 4); break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: { double d; memcpy(&d, p + 8 * k, 8); c->f[k] = (float)d; break; }
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: { uint16_t h; memcpy(&h, p + 2 * k, 2); c->f[k] = half_to_float(h); break; }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: { int32_t v; memcpy(&v, p + 4 * k, 4); c->i[k] = v; break; }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: memcpy(&c->i[k], p + 8 * k, 8); break;
        }
    }
}

/* The typed repeated field that holds the data, and its element count. */
static bool typed_data(Ox *ox, OxConst *c, const Onnx__TensorProto *t, const char *what)
{
    size_t have;
    switch (c->dtype) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t->n_int64_data; break;
    default: have = t->n_int32_data; break;       /* INT32, FLOAT16 */
    }
    if (have != (size_t)c->numel)
        ox_fatal(ox, "%s: holds %zu values, but its shape needs %lld", what, have, (long long)c->numel);
    alloc_data(c);
    for (int64_t k = 0; k < c->numel; k++) {
        switch (c->dtype) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: c->f[k] = t->float_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: c->f[k] = (float)t->double_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: c->i[k] = t->int64_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: c->i[k] = t->int32_data[k]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: c->f[k] = half_to_float((uint16_t)t->int32_data[k]); break;
        }
    }
    return true;
}

static const char *external_entry(const Onnx__TensorProto *t, const char *key)
{
    for (size_t k = 0; k < t->n_external_data; k++)
        if (t->external_data[k]->key && !strcmp(t->external_data[k]->key, key))
            return t->external_data[k]->value ? t->external_data[k]->value : "";
    return NULL;
}

static int64_t external_number(Ox *ox, const Onnx__TensorProto *t, const char *key, const char *what)
{
    const char *v = external_entry(t, key);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < 0)
        ox_fatal(ox, "%s: external data %s '%s' is not a non-negative integer", what, key, v);
    return n;
}

/* The external data file, which must lie inside the model's folder. */
static char *external_path(Ox *ox, const char *loc, const char *what)
{
    if (!*loc || loc[0] == '/' || !strcmp(loc, "..") || !strncmp(loc, "../", 3) ||
        strstr(loc, "/../") || (strlen(loc) >= 3 && !strcmp(loc + strlen(loc) - 3, "/..")))
        ox_fatal(ox, "%s: external data file '%s' is outside the model's folder", what, loc);
    const char *slash = strrchr(ox->path, '/');
    char *dir = slash ? ox_printf("%.*s", (int)(slash - ox->path), ox->path) : ox_strdup(".");
    if (!*dir)
        dir = ox_strdup("/");
    char *full = ox_printf("%s/%s", dir, loc);
    char rdir[PATH_MAX], rfull[PATH_MAX];
    if (!realpath(dir, rdir) || !realpath(full, rfull))
        ox_fatal(ox, "%s: external data file '%s': %s", what, full, strerror(errno));
    size_t n = strlen(rdir);
    if (strncmp(rfull, rdir, n) || (rfull[n] != '/' && strcmp(rdir, "/")))
        ox_fatal(ox, "%s: external data file '%s' is outside the model's folder", what, loc);
    return full;
}

static void external_data(Ox *ox, OxConst *c, const Onnx__TensorProto *t, const char *what, int64_t bytes)
{
    const char *loc = external_entry(t, "location");
    if (!loc)
        ox_fatal(ox, "%s: external data without a location", what);
    char *full = external_path(ox, loc, what);
    int64_t off = external_number(ox, t, "offset", what), len = external_number(ox, t, "length", what);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : EINVAL;
        if (fd >= 0) close(fd);
        ox_fatal(ox, "%s: external data file '%s': %s", what, full, e == EINVAL ? "not a regular file" : strerror(e));
    }
    if (off < 0) off = 0;
    if (len < 0) len = off <= st.st_size ? st.st_size - off : -1;
    if (len != bytes || off > st.st_size || len > st.st_size - off) {
        close(fd);
        ox_fatal(ox, "%s: external data (offset %lld, length %lld) in '%s' of %lld bytes does not hold the %lld bytes its shape needs",
                 what, (long long)off, (long long)len, full, (long long)st.st_size, (long long)bytes);
    }
    uint8_t *buf = malloc((size_t)bytes + 1);
    ssize_t got = buf ? pread(fd, buf, (size_t)bytes, off) : -1;
    alloc_data(c);
    close(fd);
    if (got != bytes) {
        free(buf);
        ox_fatal(ox, "%s: cannot read external data from '%s'", what, full);
    }
    convert_raw(c, buf, c->numel);
    free(buf);
}

static void check_shape(Ox *ox, OxConst *c, const Onnx__TensorProto *t, const char *what)
{
    if (t->n_dims > OX_MAX_RANK)
        ox_fatal(ox, "%s: rank %zu (at most %d supported)", what, t->n_dims, OX_MAX_RANK);
    c->rank = (int)t->n_dims;
    c->numel = 1;
    for (int d = 0; d < c->rank; d++) {
        c->dims[d] = t->dims[d];
        if (t->dims[d] < 0)
            ox_fatal(ox, "%s: negative dimension %lld", what, (long long)t->dims[d]);
        if (t->dims[d] && c->numel > MAX_ELEMS / t->dims[d])
            ox_fatal(ox, "%s: more than 2^40 elements", what);
        c->numel *= t->dims[d];
    }
}

/* Decodes a TensorProto; a malformed one is fatal. A data type convc does
 * not read (strings, bool, ...) gives a constant without data: its users
 * report it. */
OxConst *ox_decode_tensor(Ox *ox, const Onnx__TensorProto *t, const char *what)
{
    OxConst *c = ox_alloc(sizeof *c);
    c->name = t->name ? t->name : "";
    c->dtype = t->has_data_type ? t->data_type : 0;
    check_shape(ox, c, t, what);
    int es = elem_size(c->dtype);
    if (!es)
        return c;
    if (t->segment)
        ox_fatal(ox, "%s: segmented tensors are not supported", what);
    int64_t bytes = c->numel * es;
    bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* Before allocating numel elements: the data they come from must exist. */
    if (external)
        external_data(ox, c, t, what, bytes);
    else if (t->has_raw_data) {
        if ((int64_t)t->raw_data.len != bytes)
            ox_fatal(ox, "%s: raw_data holds %zu bytes, but its shape needs %lld", what, t->raw_data.len,
                     (long long)bytes);
        alloc_data(c);
        convert_raw(c, t->raw_data.data, c->numel);
    } else
        typed_data(ox, c, t, what);
    return c;
}
