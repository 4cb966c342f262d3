/*
 * dot.c - --emit=dot: the checked network as a Graphviz graph.
 *
 * One node per layer (its name, op, the attributes that differ from PyTorch's
 * defaults, output shape, parameters and MACs), one edge per input with the
 * tensor's shape as its label, the layers of a block instance inside a
 * cluster named after the instance (nested instances nest), inputs and
 * outputs as ellipses. Nodes are shaded by their share of the network's MACs,
 * or, when the caller passes measured times (a --profile=json run mapped to
 * layers by the driver), by their share of the measured time.
 *
 * Layer names are identifiers joined by '.', one level per block instance,
 * so a layer's clusters are the prefixes of its name. Every string written is
 * quoted and escaped; nothing here depends on the IR.
 */
#include <stdio.h>
#include <string.h>

#include "frontend/frontend.h"

/* Writes s as a DOT quoted string. */
static void dot_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c >= 0x20 && c != 0x7f)
            fputc(c, out);
        else
            fprintf(out, "\\\\x%02x", c);
    }
    fputc('"', out);
}

/* 1234567 -> "1.23M", as torchinfo's and Netron's summaries round. */
static const char *human(char *buf, size_t n, double v)
{
    static const char *unit[] = {"", "K", "M", "G", "T", "P"};
    int u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.3g%s" : "%.0f%s", v, unit[u]);
    return buf;
}

static const char *shape_text(char *buf, size_t n, Shape s)
{
    if (s.rank == 1)
        snprintf(buf, n, "%lld", (long long)s.c);
    else
        snprintf(buf, n, "%lldx%lldx%lld", (long long)s.c, (long long)s.h, (long long)s.w);
    return buf;
}

/* Appends " name=HxW" (or " name=N" when square) when the pair is not `dflt`. */
static void pair_attr(char *buf, size_t n, const char *name, const int64_t v[2], int64_t dflt)
{
    size_t len = strlen(buf);
    if (len >= n || (v[0] == dflt && v[1] == dflt))
        return;
    if (v[0] == v[1])
        snprintf(buf + len, n - len, " %s%lld", name, (long long)v[0]);
    else
        snprintf(buf + len, n - len, " %s%lldx%lld", name, (long long)v[0], (long long)v[1]);
}

static bool has_window(OpKind op)
{
    return op == OP_CONV2D || op == OP_CONV_TRANSPOSE2D || op == OP_MAXPOOL2D || op == OP_AVGPOOL2D;
}

/* "conv2d k3 s2 p1", "upsample x2 bilinear": the op and its non-default attributes. */
static void op_text(char *buf, size_t n, const Layer *l)
{
    snprintf(buf, n, "%s", fe_op_names[l->op]);
    if (has_window(l->op)) {
        pair_attr(buf, n, "k", l->kernel, 0);
        pair_attr(buf, n, "s", l->stride, 1);
        pair_attr(buf, n, "p", l->pad_begin, 0);
        pair_attr(buf, n, "d", l->dilation, 1);
    }
    size_t len = strlen(buf);
    if (len >= n)
        return;
    if ((l->op == OP_CONV2D || l->op == OP_CONV_TRANSPOSE2D) && l->groups > 1)
        snprintf(buf + len, n - len, " g%lld", (long long)l->groups);
    else if (l->op == OP_UPSAMPLE && l->scale[0] == 0)
        snprintf(buf + len, n - len, " to %lldx%lld %s", (long long)l->shape.h, (long long)l->shape.w,
                 fe_upsample_mode_name(l->mode));
    else if (l->op == OP_UPSAMPLE && l->scale[0] == l->scale[1])
        snprintf(buf + len, n - len, " x%g %s", l->scale[0], fe_upsample_mode_name(l->mode));
    else if (l->op == OP_UPSAMPLE)
        snprintf(buf + len, n - len, " x(%g, %g) %s", l->scale[0], l->scale[1], fe_upsample_mode_name(l->mode));
}

/* White for 0, a strong orange for 1. */
static void shade(char *buf, size_t n, double f)
{
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    int g = (int)(255 - 120 * f + 0.5), b = (int)(255 - 215 * f + 0.5);
    snprintf(buf, n, "#ff%02x%02x", g, b);
}

typedef struct {
    const Graph *g;
    const double *ms;   /* per layer, < 0 when not timed; NULL: shade by MACs */
    double total, max;  /* of MACs or of ms */
} Ctx;

static double weight(const Ctx *c, int i)
{
    if (c->ms)
        return c->ms[i] > 0 ? c->ms[i] : 0;
    return (double)c->g->layers[i].macs;
}

static void layer_node(FILE *out, const Ctx *c, int i, int depth)
{
    const Layer *l = &c->g->layers[i];
    char op[160], shp[64], p[32], m[32], color[16], label[512], share[64] = "";
    op_text(op, sizeof op, l);
    shape_text(shp, sizeof shp, l->shape);
    double w = weight(c, i);
    if (c->total > 0 && w > 0)
        snprintf(share, sizeof share, c->ms ? "\n%.3g ms, %.1f%% of time" : "\n%.1f%% of MACs",
                 c->ms ? w : 100 * w / c->total, 100 * w / c->total);
    if (l->op == OP_INPUT) {
        snprintf(label, sizeof label, "input %s\n%s", l->name, shp);
        fprintf(out, "%*s", 2 * depth, "");
        dot_string(out, l->name);
        fputs(" [shape=ellipse, label=", out);
        dot_string(out, label);
        fputs("];\n", out);
        return;
    }
    char costs[96] = "";
    if (l->params || l->macs)
        snprintf(costs, sizeof costs, "\n%s params, %s MACs", human(p, sizeof p, (double)l->params),
                 human(m, sizeof m, (double)l->macs));
    snprintf(label, sizeof label, "%s\n%s\n%s%s%s", l->name, op, shp, costs, share);
    shade(color, sizeof color, c->max > 0 ? w / c->max : 0);
    fprintf(out, "%*s", 2 * depth, "");
    dot_string(out, l->name);
    fputs(" [label=", out);
    dot_string(out, label);
    fprintf(out, ", fillcolor=\"%s\"];\n", color);
}

/* Length of the cluster prefix of a name ("enc1.conv.c1" -> 8: "enc1.conv"), 0 if none. */
static size_t prefix_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

/* Number of '.'-separated components of the first n bytes of name. */
static int depth_of(const char *name, size_t n)
{
    if (!n)
        return 0;
    int d = 1;
    for (size_t i = 0; i < n; i++)
        d += name[i] == '.';
    return d;
}

/* Opens the clusters of name[0..n) below the `open` outermost ones. */
static void open_clusters(FILE *out, const char *name, size_t n, int open)
{
    int depth = depth_of(name, n);
    for (int d = open + 1; d <= depth; d++) {
        size_t end = 0;
        for (int k = 0; k < d; end++)
            if (end == n || name[end] == '.')
                k++;
        end--;
        char id[1024];
        snprintf(id, sizeof id, "cluster_%.*s", (int)end, name);
        const char *leaf = name;
        for (size_t i = 0; i < end; i++)
            if (name[i] == '.')
                leaf = name + i + 1;
        char label[256];
        snprintf(label, sizeof label, "%.*s", (int)(name + end - leaf), leaf);
        fprintf(out, "%*ssubgraph ", 2 * d, "");
        dot_string(out, id);
        fputs(" {\n", out);
        fprintf(out, "%*slabel=", 2 * d + 2, "");
        dot_string(out, label);
        fputs("; style=\"rounded,dashed\"; color=\"#888888\";\n", out);
    }
}

static void close_clusters(FILE *out, int from, int to)
{
    for (int d = from; d > to; d--)
        fprintf(out, "%*s}\n", 2 * d, "");
}

/* How many leading components two prefixes share. */
static int common_depth(const char *a, size_t na, const char *b, size_t nb)
{
    int d = 0;
    size_t i = 0;
    for (; i < na && i < nb && a[i] == b[i]; i++)
        if (a[i] == '.')
            d++;
    bool whole = (i == na || a[i] == '.') && (i == nb || b[i] == '.');
    return whole && i > 0 ? d + 1 : d;
}

static void layer_nodes(FILE *out, const Ctx *c)
{
    const char *prev = "";
    size_t nprev = 0;
    int open = 0;
    for (int i = 0; i < c->g->nlayers; i++) {
        const char *name = c->g->layers[i].name;
        size_t n = prefix_len(name);
        int keep = common_depth(prev, nprev, name, n);
        close_clusters(out, open, keep);
        open_clusters(out, name, n, keep);
        open = depth_of(name, n);
        layer_node(out, c, i, open + 1);
        prev = name;
        nprev = n;
    }
    close_clusters(out, open, 0);
}

static void edges(FILE *out, const Graph *g)
{
    char shp[64];
    for (int i = 0; i < g->nlayers; i++) {
        const Layer *l = &g->layers[i];
        for (int k = 0; k < l->ninputs; k++) {
            const Layer *from = &g->layers[l->inputs[k]];
            fputs("  ", out);
            dot_string(out, from->name);
            fputs(" -> ", out);
            dot_string(out, l->name);
            fputs(" [label=", out);
            dot_string(out, shape_text(shp, sizeof shp, from->shape));
            fputs("];\n", out);
        }
    }
    for (int k = 0; k < g->noutputs; k++) {
        const Layer *l = &g->layers[g->outputs[k]];
        char id[512];
        snprintf(id, sizeof id, "output %s", g->output_names[k]);
        fputs("  ", out);
        dot_string(out, id);
        fputs(" [shape=ellipse, label=", out);
        dot_string(out, id);
        fputs("];\n  ", out);
        dot_string(out, l->name);
        fputs(" -> ", out);
        dot_string(out, id);
        fputs(" [label=", out);
        dot_string(out, shape_text(shp, sizeof shp, l->shape));
        fputs("];\n", out);
    }
}

void fe_print_dot(FILE *out, const Graph *g, const double *layer_ms)
{
    Ctx c = {.g = g, .ms = layer_ms};
    int64_t params = 0;
    for (int i = 0; i < g->nlayers; i++) {
        double w = weight(&c, i);
        c.total += w;
        if (w > c.max)
            c.max = w;
        params += g->layers[i].params;
    }
    double macs = 0;
    for (int i = 0; i < g->nlayers; i++)
        macs += (double)g->layers[i].macs;
    char p[32], m[32], title[512], timed[96] = "";
    if (layer_ms)
        snprintf(timed, sizeof timed, ", %.4g ms measured (shaded by time)", c.total);
    snprintf(title, sizeof title, "%s: %s params, %s MACs%s", g->name, human(p, sizeof p, (double)params),
             human(m, sizeof m, macs), timed);
    fputs("digraph ", out);
    dot_string(out, g->name);
    fputs(" {\n  graph [rankdir=TB, fontname=\"Helvetica\", labelloc=t, label=", out);
    dot_string(out, title);
    fputs("];\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n", out);
    layer_nodes(out, &c);
    edges(out, g);
    fputs("}\n", out);
}
