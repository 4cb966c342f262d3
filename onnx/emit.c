/*
 * emit.c - the translated graph as .conv text, and its weights as safetensors.
 *
 * The program has one statement per live layer, in topological order, each
 * followed by a comment naming the ONNX node it came from (a front-end
 * diagnostic shows that line). Weights are listed in the order the program
 * uses them, with the keys it gives them, in PyTorch's layouts (a MatMul
 * operand [in, out] is transposed to Linear's [out, in]).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/internal.h"

/* A comment's text: printable ASCII only, so the program stays ASCII. */
static void put_comment(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s >= 0x20 && *s <= 0x7e ? *s : '?', f);
}

static void put_layer(FILE *f, const Ox *ox, const OxLayer *L)
{
    if (!strcmp(L->kind, "input")) {
        fprintf(f, "    input %s%s\n", L->bind, L->args);
        return;
    }
    fprintf(f, "    %s = %s(", L->bind, L->kind);
    for (int k = 0; k < L->nin; k++)
        fprintf(f, "%s%s", k ? ", " : "", ox->layers[L->in[k]].bind);
    for (int k = 0; k < L->ncat; k++)
        fprintf(f, "%s%s", k ? ", " : "", ox->layers[L->cat[k]].bind);
    fprintf(f, "%s)    # ", L->args);
    put_comment(f, ox_node_name(L->node));
    fputs(" (", f);
    put_comment(f, L->node->op_type ? L->node->op_type : "");
    fputs(")\n", f);
}

static void add_weight(OnnxModel *m, int *cap, const OxLayer *L, const OxParam *p)
{
    if (m->nweights == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        OnnxWeight *w = ox_alloc((size_t)*cap * sizeof *w);
        if (m->nweights)
            memcpy(w, m->weights, (size_t)m->nweights * sizeof *w);
        m->weights = w;
    }
    const OxConst *c = p->c;
    OnnxWeight *w = &m->weights[m->nweights++];
    w->key = ox_printf("%s.%s", L->key, p->suffix);
    w->rank = c->rank;
    w->numel = c->numel;
    memcpy(w->dims, c->dims, (size_t)c->rank * sizeof *w->dims);
    w->data = c->f;
    if (p->transpose) {
        float *t = ox_alloc((size_t)(c->numel ? c->numel : 1) * sizeof *t);
        int64_t rows = c->dims[0], cols = c->dims[1];
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                t[j * rows + i] = c->f[i * cols + j];
        w->dims[0] = cols;
        w->dims[1] = rows;
        w->data = t;
    }
}

/* output statements: an ONNX output whose name is not the identifier of the
 * layer computing it gets an alias `name = layer` first. */
static void put_outputs(Ox *ox, FILE *f, const char **names, const int *layers, int n)
{
    const char **ids = ox_alloc((size_t)n * sizeof *ids);
    for (int k = 0; k < n; k++) {
        const char *bind = ox->layers[layers[k]].bind;
        ids[k] = bind;
        if (strcmp(bind, names[k])) {
            ids[k] = ox_identifier(names[k], "out");
            bool clash = false;
            for (int l = 0; l < ox->nlayers; l++)
                clash |= !strcmp(ox->layers[l].bind, ids[k]);
            for (int j = 0; j < k; j++)
                clash |= !strcmp(ids[j], ids[k]);
            if (clash)
                ids[k] = ox_printf("%s_out%d", ids[k], k + 1);
            fprintf(f, "    %s = %s\n", ids[k], bind);
        }
    }
    fputs("    output ", f);
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%s", k ? ", " : "", ids[k]);
    fputs("\n}\n", f);
}

void ox_emit_program(Ox *ox, OnnxModel *m, const char *network, const char **outputs,
                     const int *out_layers, int noutputs)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        ox_fatal(ox, "out of memory");
    fprintf(f, "# translated by convc from ");
    put_comment(f, ox->path);
    fprintf(f, " (opset %lld)\nnetwork %s {\n", (long long)ox->opset, ox_identifier(network, "model"));
    int cap = 0;
    for (int l = 0; l < ox->nlayers; l++) {
        const OxLayer *L = &ox->layers[l];
        if (!L->live)
            continue;
        put_layer(f, ox, L);
        for (int k = 0; k < L->nparams; k++)
            add_weight(m, &cap, L, &L->params[k]);
    }
    put_outputs(ox, f, outputs, out_layers, noutputs);
    if (fclose(f) != 0)
        ox_fatal(ox, "out of memory");
    m->conv = ox_alloc(len + 1);
    memcpy(m->conv, text, len);
    m->conv_len = len;
    free(text);
}

/* ---- safetensors ------------------------------------------------------------ */

static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* The JSON header: each tensor's dtype, shape and [begin, end) in the data. */
static char *header(const OnnxModel *m, size_t *len)
{
    char *h = NULL;
    FILE *f = open_memstream(&h, len);
    if (!f)
        return NULL;
    int64_t off = 0;
    fputc('{', f);
    for (int k = 0; k < m->nweights; k++) {
        const OnnxWeight *w = &m->weights[k];
        fputs(k ? "," : "", f);
        put_json_string(f, w->key);
        fputs(":{\"dtype\":\"F32\",\"shape\":[", f);
        for (int d = 0; d < w->rank; d++)
            fprintf(f, "%s%lld", d ? "," : "", (long long)w->dims[d]);
        fprintf(f, "],\"data_offsets\":[%lld,%lld]}", (long long)off, (long long)(off + 4 * w->numel));
        off += 4 * w->numel;
    }
    fputc('}', f);
    while ((ftell(f) % 8) != 0)      /* data 8-byte aligned */
        fputc(' ', f);
    if (fclose(f) != 0)
        return NULL;
    return h;
}

static bool write_file(FILE *f, const OnnxModel *m)
{
    size_t hlen;
    char *h = header(m, &hlen);
    if (!h)
        return false;
    uint64_t n = hlen;
    uint8_t le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (uint8_t)(n >> (8 * k));
    bool ok = fwrite(le, 1, 8, f) == 8 && fwrite(h, 1, hlen, f) == hlen;
    free(h);
    for (int k = 0; ok && k < m->nweights; k++)
        ok = fwrite(m->weights[k].data, 4, (size_t)m->weights[k].numel, f) == (size_t)m->weights[k].numel;
    return ok;
}

unsigned char *onnx_safetensors_image(const OnnxModel *m, size_t *size)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, size);
    if (!f)
        return NULL;
    bool ok = write_file(f, m);
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return (unsigned char *)buf;
}

bool onnx_write_safetensors(const OnnxModel *m, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *tmp = slash ? ox_printf("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1)
                      : ox_printf(".%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    mode_t mask = umask(0);
    umask(mask);
    if (fd >= 0)
        fchmod(fd, 0666 & ~mask);     /* as a plain fopen would have created it */
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        fprintf(stderr, "convc: error: cannot write '%s': %s\n", path, strerror(errno));
        if (fd >= 0) { close(fd); unlink(tmp); }
        return false;
    }
    bool ok = write_file(f, m);
    int e = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "convc: error: cannot write '%s': %s\n", path, strerror(e ? e : EIO));
        unlink(tmp);
    }
    return ok;
}
