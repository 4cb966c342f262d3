/*
 * report.c - --stats: the torchinfo-like table (--keys adds a state_dict key
 * column, --depth N sums deeper block instances into one row, --batch N
 * scales MACs and activation bytes, --count=ptflops counts as ptflops does)
 * and the same numbers as one JSON object (--stats=json). It reads the
 * fields fe_compute_costs() wrote; docs/stats.md describes the output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/stats_internal.h"

static bool is_conv(OpKind op)
{
    return op == OP_CONV2D || op == OP_CONV_TRANSPOSE2D;
}

static bool is_pool(OpKind op)
{
    return op == OP_MAXPOOL2D || op == OP_AVGPOOL2D;
}

/* Python's str(round(x, 2)) as ptflops prints it: "0.22", "1.0", "31.04". */
static const char *py_round2(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%.2f", x);
    char *e = buf + strlen(buf) - 1;
    while (*e == '0' && e[-1] != '.')
        *e-- = '\0';
    return buf;
}

/* ptflops' flops_to_string / params_to_string with units=None, precision 2. */
static void ptflops_strings(char *macs, char *params, size_t n, int64_t m, int64_t p)
{
    static const struct { double scale; const char *unit; } mu[] = {
        {1e9, " GMac"}, {1e6, " MMac"}, {1e3, " KMac"}};
    char num[48];
    snprintf(macs, n, "%lld Mac", (long long)m);
    for (size_t i = 0; i < sizeof mu / sizeof mu[0]; i++)
        if (m >= (int64_t)mu[i].scale) {
            snprintf(macs, n, "%s%s", py_round2(num, sizeof num, (double)m / mu[i].scale), mu[i].unit);
            break;
        }
    if (p >= 1000000)
        snprintf(params, n, "%s M", py_round2(num, sizeof num, (double)p / 1e6));
    else if (p >= 1000)
        snprintf(params, n, "%s k", py_round2(num, sizeof num, (double)p / 1e3));
    else
        snprintf(params, n, "%lld", (long long)p);
}

/* ---- --stats: the table -------------------------------------------------- */

typedef struct {
    int64_t params, buffers, macs, act, in;  /* act: layer outputs; in: network inputs (bytes) */
} Totals;

/* Params and buffers per model; MACs and bytes for the whole batch. Sets
 * *overflow when a total does not fit in 64 bits (huge networks times a
 * large --batch); per sample, every total fits (docs/language.md, Limits). */
static Totals totals(const Graph *g, const StatsOptions *o, bool *overflow)
{
    Totals t = {0};
    bool ovf = false;
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        int64_t m, bytes;
        t.params += l->params;
        t.buffers += l->buffers;
        ovf |= __builtin_mul_overflow(stats_count_macs(g, l, o->count), o->batch, &m);
        ovf |= __builtin_add_overflow(t.macs, m, &t.macs);
        ovf |= __builtin_mul_overflow(numel(l->shape) * BYTES_PER_FLOAT, o->batch, &bytes);
        ovf |= __builtin_add_overflow(l->op != OP_INPUT ? t.act : t.in, bytes, l->op != OP_INPUT ? &t.act : &t.in);
    }
    if (overflow)
        *overflow = ovf;
    return t;
}

/* 48208609280 -> "48.21 G", 832 -> "832 "; decimal prefixes as torchinfo's
 * summary (MB = 1e6 bytes). */
static const char *fmt_human(char *buf, size_t n, double v)
{
    static const struct { double scale; const char *prefix; } pre[] = {
        {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (v >= pre[i].scale) {
            snprintf(buf, n, "%.2f %s", v / pre[i].scale, pre[i].prefix);
            return buf;
        }
    snprintf(buf, n, "%.0f ", v);
    return buf;
}

/* One row of the table: a layer, or with --depth a block instance's layers
 * summed (shape and receptive field of its last layer). */
typedef struct {
    const char *name, *op, *key;
    int name_len;          /* name is printed up to here (a block instance's prefix) */
    size_t key_len;        /* key is printed up to here (a common prefix) */
    const Layer *last;
    int64_t params, macs, act;
} Row;

/* Dots in a name: "down1.c1" is at depth 2. */
static int name_depth(const char *s)
{
    int d = 1;
    for (; *s; s++)
        d += *s == '.';
    return d;
}

/* Length of the first `depth` components of name. */
static size_t depth_prefix(const char *name, int depth)
{
    size_t i = 0;
    for (int d = 0; name[i]; i++)
        if (name[i] == '.' && ++d == depth)
            break;
    return i;
}

/* The longest dotted prefix key[0..*len) shares with k. */
static void common_key(const char *key, size_t *len, const char *k)
{
    size_t i = 0, dot = 0;
    while (i < *len && k[i] && k[i] == key[i])
        i++;
    if (i == *len && (k[i] == '.' || !k[i]))
        return;
    for (size_t j = 0; j < i; j++)
        if (key[j] == '.')
            dot = j;
    *len = dot;
}

static Row layer_row(const Graph *g, const Layer *l, const StatsOptions *o)
{
    return (Row){l->name, fe_op_names[l->op], l->key, (int)strlen(l->name), l->key ? strlen(l->key) : 0, l,
                 l->params, stats_count_macs(g, l, o->count) * o->batch,
                 numel(l->shape) * BYTES_PER_FLOAT * o->batch};
}

/* The rows of the table, in network order; *n gets their count. */
static Row *table_rows(const Graph *g, const StatsOptions *o, int *n)
{
    Row *rows = fe_xcalloc((size_t)g->nlayers + 1, sizeof *rows);
    *n = 0;
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        Row r = layer_row(g, l, o);
        if (o->depth > 0 && name_depth(l->name) > o->depth) {
            size_t len = depth_prefix(l->name, o->depth);
            Row *prev = *n ? &rows[*n - 1] : NULL;
            if (prev && prev->op == NULL && (size_t)prev->name_len == len && !strncmp(prev->name, l->name, len)) {
                prev->last = l;
                prev->params += r.params;
                prev->macs += r.macs;
                prev->act += r.act;
                if (l->key && prev->key)
                    common_key(prev->key, &prev->key_len, l->key);
                else if (l->key)
                    prev->key = l->key, prev->key_len = strlen(l->key);
                continue;
            }
            r.name_len = (int)len;
            r.op = NULL;   /* a collapsed block instance */
        }
        rows[(*n)++] = r;
    }
    return rows;
}

typedef struct {
    int name, op, shape, key;
} Widths;

static const char *row_key(char *buf, size_t n, const Row *r)
{
    if (!r->key || !r->key_len)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*s", (int)(r->key_len < n - 1 ? r->key_len : n - 1), r->key);
    return buf;
}

static Widths column_widths(const Row *rows, int n)
{
    Widths w = {5, 5, 12, 3};
    char buf[256];
    for (int i = 0; i < n; i++) {
        const Row *r = &rows[i];
        int k = r->name_len;
        w.name = k > w.name ? k : w.name;
        k = (int)strlen(r->op ? r->op : "block");
        w.op = k > w.op ? k : w.op;
        k = (int)strlen(fmt_shape(buf, sizeof buf, r->last->shape));
        w.shape = k > w.shape ? k : w.shape;
        k = (int)strlen(row_key(buf, sizeof buf, r));
        w.key = k > w.key ? k : w.key;
    }
    return w;
}

static void rule(FILE *out, char c, int n)
{
    for (int i = 0; i < n; i++)
        fputc(c, out);
    fputc('\n', out);
}

static void table_row(FILE *out, const Row *r, Widths w, const StatsOptions *o)
{
    char shape[96], p[32], m[32], rf[128], act[32], key[256];
    fprintf(out, "%-*.*s  %-*s  %*s  %13s  %17s  %16s  %15s", w.name, r->name_len, r->name, w.op, r->op ? r->op : "block",
            w.shape, fmt_shape(shape, sizeof shape, r->last->shape), fmt_group3(p, r->params),
            fmt_group3(m, r->macs), fmt_rf(rf, sizeof rf, r->last), fmt_group3(act, r->act));
    if (o->keys)
        fprintf(out, "  %s", row_key(key, sizeof key, r));
    fputc('\n', out);
}

static void table_totals(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    char a[32], h[32];
    char batch[40];
    snprintf(batch, sizeof batch, "batch %lld", (long long)o->batch);
    Totals t = totals(g, o, NULL);
    fprintf(out, "Total params:      %s (%s)\n", fmt_group3(a, t.params), fmt_human(h, sizeof h, (double)t.params));
    fprintf(out, "Buffers:           %s (batchnorm running_mean + running_var; not parameters)\n",
            fmt_group3(a, t.buffers));
    if (o->count == COUNT_PTFLOPS) {
        char ms[64], ps[64];
        ptflops_strings(ms, ps, sizeof ms, t.macs, t.params);
        fprintf(out, "Total MACs:        %s (%sMAC, %s; ptflops convention: bias, activations, batchnorm, "
                     "pooling and upsampling included)\n", fmt_group3(a, t.macs),
                fmt_human(h, sizeof h, (double)t.macs), batch);
        fprintf(out, "ptflops strings:   '%s', '%s'\n", ms, ps);
    } else {
        fprintf(out, "Total MACs:        %s (%sMAC, %s; conv/linear multiply-accumulates, bias excluded)\n",
                fmt_group3(a, t.macs), fmt_human(h, sizeof h, (double)t.macs), batch);
    }
    fprintf(out, "Weight bytes:      %s (%sB; parameters + buffers, fp32)\n",
            fmt_group3(a, (t.params + t.buffers) * BYTES_PER_FLOAT),
            fmt_human(h, sizeof h, (double)((t.params + t.buffers) * BYTES_PER_FLOAT)));
    fprintf(out, "Input bytes:       %s (%sB; network inputs, %s, fp32)\n", fmt_group3(a, t.in),
            fmt_human(h, sizeof h, (double)t.in), batch);
    fprintf(out, "Activation bytes:  %s (%sB; sum of all layer outputs except the inputs, %s, fp32)\n",
            fmt_group3(a, t.act), fmt_human(h, sizeof h, (double)t.act), batch);
    if (arena >= 0)
        fprintf(out, "Activation arena:  %s (%sB; planned activation arena, %s)\n", fmt_group3(a, arena * o->batch),
                fmt_human(h, sizeof h, (double)(arena * o->batch)), batch);
}

static void print_table(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    int n;
    Row *rows = table_rows(g, o, &n);
    Widths w = column_widths(rows, n);
    int width = w.name + w.op + w.shape + 13 + 17 + 16 + 15 + 12 + (o->keys ? w.key + 2 : 0);
    fprintf(out, "network %s", g->name);
    if (o->batch != 1)
        fprintf(out, ", batch %lld (MACs and activations for the whole batch)", (long long)o->batch);
    if (o->depth > 0)
        fprintf(out, ", depth %d (deeper block instances summed into one row)", o->depth);
    fputc('\n', out);
    rule(out, '=', width);
    fprintf(out, "%-*s  %-*s  %*s  %13s  %17s  %16s  %15s", w.name, "Layer", w.op, "Op", w.shape,
            "Output shape", "Params", o->count == COUNT_PTFLOPS ? "MACs (ptflops)" : "MACs", "RF size / stride",
            "Activation (B)");
    if (o->keys)
        fputs("  Key", out);
    fputc('\n', out);
    rule(out, '=', width);
    for (int i = 0; i < n; i++)
        table_row(out, &rows[i], w, o);
    rule(out, '=', width);
    table_totals(out, g, o, arena);
    rule(out, '=', width);
    free(rows);
}

/* ---- --stats=json --------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_shape(FILE *out, Shape s)
{
    if (s.rank == 1)
        fprintf(out, "[%lld]", (long long)s.c);
    else
        fprintf(out, "[%lld, %lld, %lld]", (long long)s.c, (long long)s.h, (long long)s.w);
}

static void json_pair(FILE *out, const char *key, const int64_t v[2])
{
    fprintf(out, ", \"%s\": [%lld, %lld]", key, (long long)v[0], (long long)v[1]);
}

static void json_num(FILE *out, double v)
{
    char buf[48];
    fputs(isfinite(v) ? fmt_num(buf, sizeof buf, v) : "null", out);
}

static void json_rf(FILE *out, const Layer *l)
{
    fputs(", \"rf\": {\"size\": [", out);
    json_num(out, l->rf_size[0]);
    fputs(", ", out);
    json_num(out, l->rf_size[1]);
    fputs("], \"stride\": [", out);
    json_num(out, l->rf_stride[0]);
    fputs(", ", out);
    json_num(out, l->rf_stride[1]);
    fputs("]}", out);
}

/* The arguments of the activations and scalar ops of issue 9. */
static void json_act_attrs(FILE *out, const Layer *l)
{
    const double *a = l->act_arg;
    switch (l->op) {
    case OP_ELU: fprintf(out, ", \"alpha\": %.9g", a[0]); break;
    case OP_SOFTPLUS: fprintf(out, ", \"beta\": %.9g, \"threshold\": %.9g", a[0], a[1]); break;
    case OP_HARDTANH: fprintf(out, ", \"min_val\": %.9g, \"max_val\": %.9g", a[0], a[1]); break;
    case OP_GELU: fprintf(out, ", \"approximate\": \"%s\"", a[0] != 0 ? "tanh" : "none"); break;
    case OP_PRELU: fprintf(out, ", \"num_parameters\": %lld", (long long)l->num_parameters); break;
    case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR: case OP_MUL_SCALAR:
        fprintf(out, ", \"scale\": %.9g, \"shift\": %.9g", a[0], a[1]);
        break;
    case OP_INPUT: case OP_CONV2D: case OP_CONV_TRANSPOSE2D: case OP_LINEAR: case OP_BATCHNORM2D:
    case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH: case OP_SILU:
    case OP_MAXPOOL2D: case OP_AVGPOOL2D: case OP_GLOBAL_AVGPOOL: case OP_UPSAMPLE:
    case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_MAXPOOL2D: case OP_GLOBAL_MAXPOOL: case OP_PAD:
    case OP_CONCAT: case OP_ADD: case OP_CROP: case OP_FLATTEN: case OP_SOFTMAX: case OP_DROPOUT:
    case OP_SUB: case OP_MUL: case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_SELU: case OP_MISH:
    case OP_LOG_SOFTMAX: case OP_GROUP_NORM: case OP_LAYER_NORM: case OP_INSTANCE_NORM:
    case OP_PIXEL_SHUFFLE: case OP_PIXEL_UNSHUFFLE: case OP_CHANNEL_SHUFFLE: case OP_SLICE: case OP_RESHAPE:
    case OP_UNFLATTEN: case OP_CHUNK: case OP_SPLIT: case OP_COUNT: break;
    }
}

/* The attributes that apply to the layer's op. */
static void json_attrs(FILE *out, const Layer *l)
{
    if (l->key) {
        fputs(", \"key\": ", out);
        json_string(out, l->key);
    }
    if (is_conv(l->op) || is_pool(l->op)) {
        int64_t dil[2] = {or1(l->dilation[0]), or1(l->dilation[1])};
        json_pair(out, "kernel", l->kernel);
        json_pair(out, "stride", l->stride);
        json_pair(out, "padding", l->pad_begin);
        json_pair(out, "padding_end", l->pad_end);
        json_pair(out, "dilation", dil);
    }
    if (is_conv(l->op))
        fprintf(out, ", \"groups\": %lld", (long long)or1(l->groups));
    if (l->op == OP_CONV2D)
        fprintf(out, ", \"padding_mode\": \"%s\"", l->pad_mode == PAD_CONSTANT ? "zeros" : fe_pad_mode_name(l->pad_mode));
    if (l->op == OP_PAD) {
        int64_t lrtb[4] = {l->pad_begin[1], l->pad_end[1], l->pad_begin[0], l->pad_end[0]};
        fprintf(out, ", \"pad\": [%lld, %lld, %lld, %lld], \"mode\": \"%s\", \"value\": %.9g", (long long)lrtb[0],
                (long long)lrtb[1], (long long)lrtb[2], (long long)lrtb[3], fe_pad_mode_name(l->pad_mode), l->pad_value);
    }
    if (l->op == OP_CONV_TRANSPOSE2D)
        json_pair(out, "output_padding", l->output_padding);
    if (is_conv(l->op) || l->op == OP_LINEAR)
        fprintf(out, ", \"bias\": %s", l->bias ? "true" : "false");
    if (is_pool(l->op))
        fprintf(out, ", \"ceil_mode\": %s", l->ceil_mode ? "true" : "false");
    if (l->op == OP_AVGPOOL2D)
        fprintf(out, ", \"count_include_pad\": %s", l->count_include_pad ? "true" : "false");
    if (l->op == OP_BATCHNORM2D || l->op == OP_GROUP_NORM || l->op == OP_INSTANCE_NORM || l->op == OP_LAYER_NORM)
        fprintf(out, ", \"eps\": %.9g, \"affine\": %s", l->eps, l->affine ? "true" : "false");
    if (l->op == OP_BATCHNORM2D || l->op == OP_INSTANCE_NORM)
        fprintf(out, ", \"track_running_stats\": %s", l->running_stats ? "true" : "false");
    if (l->op == OP_GROUP_NORM)
        fprintf(out, ", \"num_groups\": %lld", (long long)l->norm_groups);
    if (l->op == OP_LAYER_NORM)
        fprintf(out, ", \"normalized_dims\": %d", l->norm_dims);
    if (l->op == OP_PIXEL_SHUFFLE || l->op == OP_PIXEL_UNSHUFFLE || l->op == OP_CHANNEL_SHUFFLE)
        fprintf(out, ", \"%s\": %lld", l->op == OP_PIXEL_SHUFFLE ? "upscale_factor" : l->op == OP_PIXEL_UNSHUFFLE
                ? "downscale_factor" : "groups", (long long)l->shuffle_factor);
    if (l->op == OP_LEAKY_RELU)
        fprintf(out, ", \"negative_slope\": %.9g", l->negative_slope);
    json_act_attrs(out, l);
    if (l->op == OP_UPSAMPLE)
        fprintf(out, ", \"scale_factor\": [%.9g, %.9g], \"mode\": \"%s\", \"align_corners\": %s", l->scale[0],
                l->scale[1], fe_upsample_mode_name(l->mode), l->align_corners ? "true" : "false");
    if (l->op == OP_CROP)
        json_pair(out, "offset", l->crop_offset);
}

static void json_layer(FILE *out, const Graph *g, const Layer *l, const StatsOptions *o)
{
    fputs("    {\"name\": ", out);
    json_string(out, l->name);
    fprintf(out, ", \"op\": \"%s\", \"inputs\": [", fe_op_names[l->op]);
    for (int i = 0; i < l->ninputs; i++) {
        fputs(i ? ", " : "", out);
        json_string(out, input_of(g, l, i)->name);
    }
    fputs("], \"shape\": ", out);
    json_shape(out, l->shape);
    fprintf(out, ", \"params\": %lld, \"buffers\": %lld, \"macs\": %lld, \"activation_bytes\": %lld",
            (long long)l->params, (long long)l->buffers, (long long)(stats_count_macs(g, l, o->count) * o->batch),
            (long long)(numel(l->shape) * BYTES_PER_FLOAT * o->batch));
    json_attrs(out, l);
    json_rf(out, l);
    fputc('}', out);
}

static void json_io(FILE *out, const Graph *g, const char *key, int n, const int *idx, const char **names)
{
    fprintf(out, "  \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        const Layer *l = &g->layers[idx[i]];
        fputs(i ? ", {\"name\": " : "{\"name\": ", out);
        json_string(out, names && names[i] ? names[i] : l->name);
        fputs(", \"shape\": ", out);
        json_shape(out, l->shape);
        fputc('}', out);
    }
    fputs("],\n", out);
}

static void print_json(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena)
{
    Totals t = totals(g, o, NULL);
    fputs("{\n  \"network\": ", out);
    json_string(out, g->name);
    fprintf(out, ",\n  \"count\": \"%s\",\n  \"batch\": %lld,\n", o->count == COUNT_PTFLOPS ? "ptflops" : "default",
            (long long)o->batch);
    json_io(out, g, "inputs", g->ninputs, g->inputs, NULL);
    json_io(out, g, "outputs", g->noutputs, g->outputs, g->output_names);
    fputs("  \"layers\": [\n", out);
    for (int i = 0; i < g->nlayers; i++) {
        json_layer(out, g, &g->layers[i], o);
        fputs(i + 1 < g->nlayers ? ",\n" : "\n", out);
    }
    fprintf(out, "  ],\n  \"total_params\": %lld,\n  \"total_buffers\": %lld,\n  \"total_macs\": %lld,\n",
            (long long)t.params, (long long)t.buffers, (long long)t.macs);
    fprintf(out, "  \"weight_bytes\": %lld,\n  \"input_bytes\": %lld,\n  \"activation_bytes\": %lld",
            (long long)((t.params + t.buffers) * BYTES_PER_FLOAT), (long long)t.in, (long long)t.act);
    if (arena >= 0)
        fprintf(out, ",\n  \"arena_bytes\": %lld", (long long)(arena * o->batch));
    fputs("\n}\n", out);
}

bool fe_print_stats(FILE *out, const Graph *g, const StatsOptions *o, int64_t arena_bytes)
{
    StatsOptions opt = *o;
    opt.batch = opt.batch >= 1 ? opt.batch : 1;
    bool overflow;
    int64_t arena;
    totals(g, &opt, &overflow);
    if (overflow || (arena_bytes >= 0 && __builtin_mul_overflow(arena_bytes, opt.batch, &arena))) {
        fprintf(stderr, "convc: error: --batch %lld: the network's totals for that batch do not fit in 64 bits\n",
                (long long)opt.batch);
        return false;
    }
    if (opt.format == STATS_JSON)
        print_json(out, g, &opt, arena_bytes);
    else
        print_table(out, g, &opt, arena_bytes);
    return true;
}
