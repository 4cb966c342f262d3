/*
 * safetensors.c - loads the network's parameters from a safetensors file.
 *
 * Format: an 8-byte little-endian header length L, L bytes of JSON
 *   { "__metadata__": {...}?, KEY: {"dtype": D, "shape": [..], "data_offsets": [b, e]}, ... }
 * then the data; offsets are relative to the byte after the header.
 *
 * Invariants before any value is copied: the header lies inside the file,
 * every entry is well-formed, its byte range lies inside the data, matches
 * dtype size * shape and overlaps no other range, keys are unique (after a
 * leading "module." is stripped), every RT_PARAM_LOAD parameter is present
 * with its exact shape and a float dtype, and every other tensor is a
 * `num_batches_tracked` counter. F16, BF16 and F64 are converted to F32.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

enum { ST_MAX_RANK = 8, ST_LIST_MAX = 3 };


enum { NOT_FLOAT = -1 };

/* Every dtype of the format, so that sizes of unused tensors are checked too;
 * only the first four can hold parameters. */
static const struct {
    const char *name;
    int size;
    int type; /* RtFloatType or NOT_FLOAT */
} dtypes[] = {
    {"F32", 4, RT_F32},       {"F16", 2, RT_F16},       {"BF16", 2, RT_BF16},     {"F64", 8, RT_F64},
    {"BOOL", 1, NOT_FLOAT},   {"U8", 1, NOT_FLOAT},     {"I8", 1, NOT_FLOAT},     {"F8_E5M2", 1, NOT_FLOAT},
    {"F8_E4M3", 1, NOT_FLOAT}, {"I16", 2, NOT_FLOAT},   {"U16", 2, NOT_FLOAT},    {"I32", 4, NOT_FLOAT},
    {"U32", 4, NOT_FLOAT},    {"I64", 8, NOT_FLOAT},    {"U64", 8, NOT_FLOAT},
};

typedef struct {
    const char *key;  /* with any leading "module." stripped */
    int dtype;        /* index into dtypes */
    int rank;
    int64_t dims[ST_MAX_RANK];
    int64_t numel, begin, end;
    bool used;
} Entry;

struct RtSafetensors {
    const char *path;
    const unsigned char *map;
    size_t size;
    bool mapped;           /* map came from mmap (a file), not an embedded image */
    bool drop;             /* pages read may be dropped: a file mapping or the embedded image */
    const unsigned char *data; /* first byte after the header */
    int64_t data_size;
    Json *header;
    Entry *entries;
    int64_t n;
};
typedef RtSafetensors StFile;

static int st_fail(const StFile *f, const char *msg, const char *name)
{
    if (name)
        return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': %s", f->path, name, msg);
    return rt_error(RT_EXIT_WEIGHTS, "%s: %s", f->path, msg);
}

static int find_dtype(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* shape -> '[' uint* ']' ; numel = product, bytes = numel * dtype size, both checked */
static int parse_shape(StFile *f, Entry *e, const Json *shape)
{
    if (!shape || shape->kind != JSON_ARRAY)
        return st_fail(f, "'shape' must be an array of non-negative integers", e->key);
    if (shape->n > ST_MAX_RANK)
        return st_fail(f, "more than 8 dimensions", e->key);
    e->rank = (int)shape->n;
    e->numel = 1;
    bool overflow = false;
    for (int i = 0; i < e->rank; i++) {
        if (!rt_json_uint(shape->items[i], &e->dims[i]))
            return st_fail(f, "'shape' must be an array of non-negative integers", e->key);
        overflow |= rt_mul_overflows(e->numel, e->dims[i], &e->numel);
    }
    int64_t bytes;
    if (overflow || rt_mul_overflows(e->numel, dtypes[e->dtype].size, &bytes)) {
        char dims[160];
        rt_format_shape(dims, sizeof dims, e->dims, e->rank);
        return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': shape %s overflows", f->path, e->key, dims);
    }
    return 0;
}

/* data_offsets -> '[' begin ',' end ']' with begin <= end <= data size, end - begin = bytes */
static int parse_offsets(StFile *f, Entry *e, const Json *off)
{
    if (!off || off->kind != JSON_ARRAY || off->n != 2 || !rt_json_uint(off->items[0], &e->begin) ||
        !rt_json_uint(off->items[1], &e->end) || e->begin > e->end)
        return st_fail(f, "'data_offsets' must be [begin, end] with 0 <= begin <= end", e->key);
    if (e->end > f->data_size) {
        rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': data_offsets [%lld, %lld] past the end of the data (%lld bytes); file truncated?",
                 f->path, e->key, (long long)e->begin, (long long)e->end, (long long)f->data_size);
        return RT_EXIT_WEIGHTS;
    }
    int64_t bytes = e->numel * dtypes[e->dtype].size;
    if (e->end - e->begin != bytes)
        return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld bytes, but dtype %s and its shape need %lld",
                        f->path, e->key, (long long)e->begin, (long long)e->end, (long long)(e->end - e->begin),
                        dtypes[e->dtype].name, (long long)bytes);
    return 0;
}

/* entry -> '{' "dtype": string, "shape": [...], "data_offsets": [b, e] '}' (nothing else) */
static int parse_entry(StFile *f, Entry *e, const char *key, const Json *v)
{
    e->key = strncmp(key, "module.", 7) == 0 ? key + 7 : key;
    if (v->kind != JSON_OBJECT)
        return st_fail(f, "header entry is not an object", e->key);
    for (int64_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") && strcmp(v->keys[i], "data_offsets"))
            return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': unknown field '%s' in header entry", f->path, e->key, v->keys[i]);
    if (v->n != 3)
        return st_fail(f, "header entry needs exactly 'dtype', 'shape' and 'data_offsets'", e->key);
    const Json *dt = rt_json_get(v, "dtype");
    if (!dt || dt->kind != JSON_STRING)
        return st_fail(f, "'dtype' must be a string", e->key);
    if ((e->dtype = find_dtype(dt->text)) < 0)
        return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s': unknown dtype '%s'", f->path, e->key, dt->text);
    int rc = parse_shape(f, e, rt_json_get(v, "shape"));
    return rc ? rc : parse_offsets(f, e, rt_json_get(v, "data_offsets"));
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const Entry *)a)->key, ((const Entry *)b)->key);
}

static int cmp_begin(const void *a, const void *b)
{
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* No two byte ranges may share a byte. */
static int check_overlaps(StFile *f)
{
    const Entry **order = malloc((size_t)(f->n ? f->n : 1) * sizeof *order);
    if (!order)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    for (int64_t i = 0; i < f->n; i++)
        order[i] = &f->entries[i];
    qsort(order, (size_t)f->n, sizeof *order, cmp_begin);
    int rc = 0;
    for (int64_t i = 1; i < f->n && !rc; i++)
        if (order[i]->begin < order[i - 1]->end)
            rc = rt_error(RT_EXIT_WEIGHTS, "%s: tensors '%s' [%lld, %lld] and '%s' [%lld, %lld] overlap", f->path,
                          order[i - 1]->key, (long long)order[i - 1]->begin, (long long)order[i - 1]->end,
                          order[i]->key, (long long)order[i]->begin, (long long)order[i]->end);
    free(order);
    return rc;
}

/* header -> '{' ( "__metadata__": {string: string} | key: entry )* '}' */
static int parse_header(StFile *f)
{
    const Json *h = f->header;
    if (h->kind != JSON_OBJECT)
        return st_fail(f, "header is not a JSON object", NULL);
    f->entries = calloc((size_t)(h->n ? h->n : 1), sizeof *f->entries);
    if (!f->entries)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    for (int64_t i = 0; i < h->n; i++) {
        if (strcmp(h->keys[i], "__metadata__") == 0) {
            if (h->items[i]->kind != JSON_OBJECT)
                return st_fail(f, "'__metadata__' is not an object", NULL);
            continue;
        }
        int rc = parse_entry(f, &f->entries[f->n], h->keys[i], h->items[i]);
        if (rc)
            return rc;
        f->n++;
    }
    qsort(f->entries, (size_t)f->n, sizeof *f->entries, cmp_key);
    for (int64_t i = 1; i < f->n; i++)
        if (strcmp(f->entries[i].key, f->entries[i - 1].key) == 0)
            return st_fail(f, "appears twice in the header (a leading 'module.' is ignored)", f->entries[i].key);
    return check_overlaps(f);
}

static int parse_image(StFile *f);

/* file -> its bytes, mapped */
static int open_file(StFile *f)
{
    int fd = open(f->path, O_RDONLY);
    if (fd < 0)
        return rt_error(RT_EXIT_WEIGHTS, "cannot open weights file '%s': %s", f->path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rt_error(RT_EXIT_WEIGHTS, "weights file '%s' is not a regular file", f->path);
    }
    f->size = (size_t)st.st_size;
    if (f->size < 8) {
        close(fd);
        return rt_error(RT_EXIT_WEIGHTS, "%s: file too short (%zu bytes) for a safetensors header", f->path, f->size);
    }
    void *map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return rt_error(RT_EXIT_WEIGHTS, "cannot map weights file '%s': %s", f->path, strerror(errno));
    f->map = map;
    f->mapped = true;
    return parse_image(f);
}

/* f->map[0 .. f->size) -> u64le L, JSON[L], data */
static int parse_image(StFile *f)
{
    if (f->size < 8)
        return rt_error(RT_EXIT_WEIGHTS, "%s: too short (%zu bytes) for a safetensors header", f->path, f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | f->map[i];
    if (hlen > f->size - 8)
        return rt_error(RT_EXIT_WEIGHTS, "%s: header length %llu is past the end of the file (%zu bytes)", f->path,
                        (unsigned long long)hlen, f->size);
    f->data = f->map + 8 + hlen;
    f->data_size = (int64_t)(f->size - 8 - hlen);
    char err[160];
    f->header = rt_json_parse((const char *)f->map + 8, (size_t)hlen, err, sizeof err);
    if (!f->header)
        return rt_error(RT_EXIT_WEIGHTS, "%s: invalid JSON in header %s", f->path, err);
    return parse_header(f);
}

static void close_file(StFile *f)
{
    if (f->map && f->mapped)
        munmap((void *)f->map, f->size);
    rt_json_free(f->header);
    free(f->entries);
}

static Entry *lookup(StFile *f, const char *name)
{
    Entry key = {.key = name};
    return bsearch(&key, f->entries, (size_t)f->n, sizeof key, cmp_key);
}

static bool is_counter(const char *key)
{
    size_t n = strlen(key), m = strlen("num_batches_tracked");
    return n >= m && strcmp(key + n - m, "num_batches_tracked") == 0 && (n == m || key[n - m - 1] == '.');
}

/* Appends "'name'" to a list of at most ST_LIST_MAX names, counting the rest. */
static void list_add(char *buf, size_t size, int *count, const char *name)
{
    size_t used = strlen(buf);
    if (*count < ST_LIST_MAX)
        snprintf(buf + used, size - used, "%s'%s'", *count ? ", " : "", name);
    (*count)++;
}

static void list_finish(char *buf, size_t size, int count)
{
    size_t used = strlen(buf);
    if (count > ST_LIST_MAX)
        snprintf(buf + used, size - used, " and %d more", count - ST_LIST_MAX);
}

/* Every RT_PARAM_LOAD parameter must be present, with its shape and a float dtype. */
static int match_params(StFile *f, const RtModel *m)
{
    char missing[512] = "";
    int nmissing = 0;
    for (int32_t i = 0; i < m->nparams; i++) {
        const RtParam *p = &m->params[i];
        if (p->source != RT_PARAM_LOAD)
            continue;
        Entry *e = lookup(f, p->name);
        if (!e) {
            list_add(missing, sizeof missing, &nmissing, p->name);
            continue;
        }
        e->used = true;
        char want[128], got[128];
        rt_format_shape(want, sizeof want, p->dims, p->rank);
        rt_format_shape(got, sizeof got, e->dims, e->rank);
        if (e->rank != p->rank || memcmp(e->dims, p->dims, (size_t)p->rank * sizeof p->dims[0]) != 0)
            return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s' has shape %s, expected %s", f->path, p->name, got, want);
        if (dtypes[e->dtype].type == NOT_FLOAT)
            return rt_error(RT_EXIT_WEIGHTS, "%s: tensor '%s' has dtype %s, expected F32 (F16, BF16 and F64 are converted)",
                            f->path, p->name, dtypes[e->dtype].name);
    }
    if (nmissing) {
        list_finish(missing, sizeof missing, nmissing);
        return rt_error(RT_EXIT_WEIGHTS, "%s: missing tensor%s %s", f->path, nmissing > 1 ? "s" : "", missing);
    }
    return 0;
}

/* Every tensor in the file must be used, except batchnorm's step counters. */
static int check_extras(StFile *f, const RtModel *m)
{
    char extra[512] = "";
    int nextra = 0;
    for (int64_t i = 0; i < f->n; i++)
        if (!f->entries[i].used && !is_counter(f->entries[i].key))
            list_add(extra, sizeof extra, &nextra, f->entries[i].key);
    if (!nextra)
        return 0;
    list_finish(extra, sizeof extra, nextra);
    return rt_error(RT_EXIT_WEIGHTS, "%s: tensor%s %s not used by network '%s'", f->path, nextra > 1 ? "s" : "",
                    extra, m->name);
}

/* Gives back the whole pages inside [p, p + n) once read: they are a
 * private read-only mapping of a file (the weights file, or the executable
 * holding the embedded image), so the kernel drops them from the process
 * (its RSS) and would read them again from the file if touched. */
static void drop_pages(const unsigned char *p, int64_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    uintptr_t hi = ((uintptr_t)p + (uintptr_t)n) / (uintptr_t)page * (uintptr_t)page;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int rt_safetensors_open(const RtModel *m, const char *path, const char *label, const unsigned char *image,
                        size_t size, bool drop, RtSafetensors **out)
{
    StFile *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    *f = (StFile){.path = path ? path : label, .map = image, .size = size, .drop = path || drop};
    int rc = path ? open_file(f) : parse_image(f);
    if (!rc)
        rc = match_params(f, m);
    if (!rc)
        rc = check_extras(f, m);
    if (rc)
        rt_safetensors_close(f);
    else
        *out = f;
    return rc;
}

/* p: a checked RT_PARAM_LOAD parameter of the model f was opened for. */
void rt_safetensors_read(RtSafetensors *f, const RtParam *p, float *dst)
{
    const Entry *e = lookup(f, p->name);
    rt_convert_to_f32(dst, f->data + e->begin, e->numel, (RtFloatType)dtypes[e->dtype].type);
    if (f->drop)
        drop_pages(f->data + e->begin, e->end - e->begin);
}

void rt_safetensors_close(RtSafetensors *f)
{
    if (!f)
        return;
    close_file(f);
    free(f);
}

int rt_check_weights(const RtModel *m, const char *label, const unsigned char *data, size_t size)
{
    RtSafetensors *f;
    int rc = rt_safetensors_open(m, NULL, label, data, size, false, &f);
    rt_safetensors_close(f);
    return rc;
}
