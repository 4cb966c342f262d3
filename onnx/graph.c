/*
 * graph.c - the ONNX graph: values by name, topological order, layers and
 * their names, liveness; onnx_import() runs the whole importer.
 *
 * Invariants: every value name is defined once (an initializer, a graph
 * input or one node output); nodes are translated in a topological order
 * computed here (a file's node order is not trusted; a cycle is refused);
 * every layer has a unique .conv identifier (`bind`) and every state_dict
 * key is used once; only layers that some graph output depends on are
 * emitted (a Relu absorbed by a following relu6 Clip, or a Sigmoid absorbed
 * by SiLU's Mul, disappears when nothing else reads it).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/internal.h"

/* Every allocation of the importer is chained here, so it stays reachable
 * until exit (the driver keeps what each phase produced). */
static void *allocs;

void *ox_alloc(size_t n)
{
    void **p = calloc(1, sizeof(void *) + n);
    if (!p) {
        fputs("convc: error: out of memory\n", stderr);
        exit(3);
    }
    *p = allocs;
    allocs = p;
    return p + 1;
}

char *ox_strdup(const char *s)
{
    size_t n = strlen(s);
    return memcpy(ox_alloc(n + 1), s, n);
}

char *ox_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = ox_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void error_head(Ox *ox)
{
    bool c = ox->opts->color;
    fprintf(ox->opts->diag, "%s%s: %serror: %s", c ? "\033[1m" : "", ox->path, c ? "\033[1;31m" : "",
            c ? "\033[0m\033[1m" : "");
}

/* Writes a message with every byte outside printable ASCII as \xNN: names
 * come from the file and must not reach a terminal as control sequences. */
static void put_escaped(FILE *f, const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p >= 0x20 && *p < 0x7f)
            fputc(*p, f);
        else
            fprintf(f, "\\x%02x", *p);
    free(msg);
}

void ox_fatal(Ox *ox, const char *fmt, ...)
{
    error_head(ox);
    va_list ap;
    va_start(ap, fmt);
    put_escaped(ox->opts->diag, fmt, ap);
    va_end(ap);
    fprintf(ox->opts->diag, "%s\n", ox->opts->color ? "\033[0m" : "");
    longjmp(ox->fail, 1);
}

const char *ox_node_name(const Onnx__NodeProto *n)
{
    return n->name && *n->name ? n->name : (n->n_output && n->output[0] ? n->output[0] : "");
}

static void escaped(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_escaped(f, fmt, ap);
    va_end(ap);
}

void ox_node_error(Ox *ox, const Onnx__NodeProto *n, const char *fmt, ...)
{
    error_head(ox);
    escaped(ox->opts->diag, "node '%s' (%s): ", ox_node_name(n), n->op_type ? n->op_type : "");
    va_list ap;
    va_start(ap, fmt);
    put_escaped(ox->opts->diag, fmt, ap);
    va_end(ap);
    fprintf(ox->opts->diag, "%s\n", ox->opts->color ? "\033[0m" : "");
    ox->errors++;
}

/* ---- values by name ---------------------------------------------------------- */

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static void rehash(Ox *ox)
{
    size_t n = ox->nslots ? ox->nslots * 2 : 256;
    int *slots = ox_alloc(n * sizeof *slots);
    for (size_t k = 0; k < n; k++)
        slots[k] = -1;
    for (int v = 0; v < ox->nvals; v++) {
        size_t k = hash_name(ox->vals[v].name) & (n - 1);
        while (slots[k] >= 0)
            k = (k + 1) & (n - 1);
        slots[k] = v;
    }
    ox->slots = slots;
    ox->nslots = n;
}

int ox_find_value(Ox *ox, const char *name)
{
    if (!ox->nslots)
        return -1;
    for (size_t k = hash_name(name) & (ox->nslots - 1); ox->slots[k] >= 0; k = (k + 1) & (ox->nslots - 1))
        if (!strcmp(ox->vals[ox->slots[k]].name, name))
            return ox->slots[k];
    return -1;
}

#define GROW(arr, n, cap) do { if ((n) == (cap)) { \
        void *g_ = ox_alloc(sizeof *(arr) * (size_t)((cap) = (cap) ? 2 * (cap) : 64)); \
        if (n) memcpy(g_, (arr), sizeof *(arr) * (size_t)(n)); \
        (arr) = g_; } } while (0)

/* A name is defined once: by an initializer, a graph input or one node output. */
int ox_add_value(Ox *ox, const char *name, ValKind kind)
{
    if (ox_find_value(ox, name) >= 0)
        ox_fatal(ox, "the value '%s' is defined twice", name);
    GROW(ox->vals, ox->nvals, ox->capvals);
    ox->vals[ox->nvals] = (OxValue){.name = name, .kind = kind, .layer = -1};
    if (2 * (size_t)(ox->nvals + 1) > ox->nslots)
        rehash(ox);
    int v = ox->nvals++;
    size_t k = hash_name(name) & (ox->nslots - 1);
    while (ox->slots[k] >= 0)
        k = (k + 1) & (ox->nslots - 1);
    ox->slots[k] = v;
    return v;
}

/* ---- identifiers and keys -------------------------------------------------- */

static bool taken(char **list, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(list[k], s))
            return true;
    return false;
}

/* A .conv identifier from an ONNX name: [A-Za-z0-9_] kept, runs of anything
 * else become one '_', not starting with a digit, not a keyword. */
const char *ox_identifier(const char *hint, const char *fallback)
{
    static const char *const keywords[] = {"block", "network", "input", "output", "return", "true", "false"};
    size_t n = strlen(hint);
    char *s = ox_alloc(n + 2), *o = s;
    for (const char *p = hint; *p; p++) {
        if (isalnum((unsigned char)*p) || *p == '_')
            *o++ = *p;
        else if (o > s && o[-1] != '_')
            *o++ = '_';
    }
    while (o > s && o[-1] == '_')
        *--o = 0;
    const char *base = !*s ? fallback : isdigit((unsigned char)*s) ? ox_printf("n%s", s) : s;
    for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
        if (!strcmp(base, keywords[k]))
            base = ox_printf("%s_", base);
    return base;
}

/* ox_identifier, made unique among the layers' identifiers. */
static const char *make_bind(Ox *ox, const char *hint, const char *fallback)
{
    const char *base = ox_identifier(hint, fallback);
    char *name = ox_strdup(base);
    for (int k = 2; taken(ox->binds, ox->nbinds, name); k++)
        name = ox_printf("%s_%d", base, k);
    GROW(ox->binds, ox->nbinds, ox->capbinds);
    ox->binds[ox->nbinds++] = name;
    return name;
}

const char *ox_claim_key(Ox *ox, const char *key)
{
    if (taken(ox->keys, ox->nkeys, key))
        return NULL;
    GROW(ox->keys, ox->nkeys, ox->capkeys);
    return ox->keys[ox->nkeys++] = ox_strdup(key);
}

/* A new layer for node n; its identifier comes from bind_hint, else the
 * node's name, else its kind. */
int ox_add_layer(Ox *ox, const Onnx__NodeProto *n, const char *kind, const char *bind_hint)
{
    GROW(ox->layers, ox->nlayers, ox->caplayers);
    OxLayer *l = &ox->layers[ox->nlayers];
    *l = (OxLayer){.kind = kind, .node = n, .src = -1};
    const char *hint = bind_hint ? bind_hint : n && n->name ? n->name : "";
    l->bind = make_bind(ox, hint, kind);
    return ox->nlayers++;
}

/* ---- the graph --------------------------------------------------------------- */

static void add_initializers(Ox *ox)
{
    const Onnx__GraphProto *g = ox->graph;
    for (size_t k = 0; k < g->n_initializer; k++) {
        const Onnx__TensorProto *t = g->initializer[k];
        if (!t->name || !*t->name)
            ox_fatal(ox, "initializer #%zu has no name", k);
        int v = ox_add_value(ox, t->name, VAL_CONST);
        ox->vals[v].c = ox_decode_tensor(ox, t, ox_printf("initializer '%s'", t->name));
    }
}

static const OnnxInputShape *shape_override(Ox *ox, const char *name)
{
    for (int k = 0; k < ox->opts->nshapes; k++)
        if (!strcmp(ox->opts->shapes[k].name, name))
            return &ox->opts->shapes[k];
    return NULL;
}

/* input x[C, H, W] from [N, C, H, W] (or x[F] from [N, F]); N may be symbolic. */
static void add_input(Ox *ox, const Onnx__ValueInfoProto *vi)
{
    const char *name = vi->name ? vi->name : "";
    const Onnx__TypeProto *tp = vi->type;
    if (!*name)
        ox_fatal(ox, "a graph input has no name");
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        ox_fatal(ox, "input '%s' is not a tensor", name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt->has_elem_type || tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        ox_fatal(ox, "input '%s' has element type %d; convc networks take float32 inputs", name,
                 tt->has_elem_type ? tt->elem_type : 0);
    const OnnxInputShape *ov = shape_override(ox, name);
    size_t rank = tt->shape ? tt->shape->n_dim : 0;
    if (rank != 4 && rank != 2 && !ov)
        ox_fatal(ox, "input '%s' has rank %zu; convc takes [N, C, H, W] or [N, F] (give --input-shape %s=C,H,W)",
                 name, rank, name);
    if (ov && rank && rank != (size_t)ov->rank + 1)
        ox_fatal(ox, "--input-shape %s has %d dimensions, but the input has rank %zu (N and %zu more)",
                 name, ov->rank, rank, rank - 1);
    int r = ov ? ov->rank : (int)rank - 1;
    int64_t dims[3];
    for (int d = 0; d < r; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = rank ? tt->shape->dim[d + 1] : NULL;
        bool known = dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (known && (dim->dim_value < 1 || dim->dim_value > (1 << 30)))
            ox_fatal(ox, "input '%s': dimension %d is %lld", name, d + 1, (long long)dim->dim_value);
        if (known && ov && ov->dims[d] != dim->dim_value)
            ox_fatal(ox, "--input-shape %s: dimension %d is %lld in the model, not %lld", name, d + 1,
                     (long long)dim->dim_value, (long long)ov->dims[d]);
        if (!known && !ov)
            ox_fatal(ox, "input '%s': dimension %d is dynamic ('%s'); give its shape with --input-shape %s=%s",
                     name, d + 1, dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? dim->dim_param : "?",
                     name, r == 3 ? "C,H,W" : "F");
        dims[d] = known ? dim->dim_value : ov->dims[d];
    }
    int v = ox_add_value(ox, name, VAL_TENSOR);
    int l = ox_add_layer(ox, NULL, "input", name);
    OxLayer *L = &ox->layers[l];
    L->args = r == 3 ? ox_printf("[%lld, %lld, %lld]", (long long)dims[0], (long long)dims[1], (long long)dims[2])
                     : ox_printf("[%lld]", (long long)dims[0]);
    ox->vals[v].layer = l;
    ox->vals[v].rank = r + 1;
}

static void add_inputs(Ox *ox)
{
    const Onnx__GraphProto *g = ox->graph;
    for (size_t k = 0; k < g->n_input; k++)
        if (!g->input[k]->name || ox_find_value(ox, g->input[k]->name) < 0)
            add_input(ox, g->input[k]);    /* older exports also list initializers as inputs */
    for (int k = 0; k < ox->opts->nshapes; k++)
        if (ox_find_value(ox, ox->opts->shapes[k].name) < 0)
            ox_fatal(ox, "--input-shape: the model has no input named '%s'", ox->opts->shapes[k].name);
}

/* The value node input i reads; -1 for an omitted optional input. */
static int input_value(Ox *ox, const Onnx__NodeProto *node, size_t i)
{
    const char *name = node->input[i];
    if (!name || !*name)
        return -1;
    int v = ox_find_value(ox, name);
    if (v < 0)
        ox_fatal(ox, "node '%s' (%s) reads '%s', which no initializer, input or node defines",
                 ox_node_name(node), node->op_type ? node->op_type : "", name);
    return v;
}

/* True if every node reads only values defined before it (ONNX asks for
 * that order; keeping it keeps the layers in the order PyTorch ran them). */
static bool in_file_order(Ox *ox, int first)
{
    const Onnx__GraphProto *g = ox->graph;
    bool *defined = ox_alloc((size_t)(ox->nvals - first + 1));
    for (size_t k = 0; k < g->n_node; k++) {
        const Onnx__NodeProto *node = g->node[k];
        for (size_t i = 0; i < node->n_input; i++) {
            int v = input_value(ox, node, i);
            if (v >= first && !defined[v - first])
                return false;
        }
        for (size_t o = 0; o < node->n_output; o++)
            if (node->output[o] && *node->output[o])
                defined[ox_find_value(ox, node->output[o]) - first] = true;
    }
    return true;
}

/* The file's node order if it is topological, else Kahn's algorithm over
 * value names: a node is ready once every input it reads is defined.
 * Refuses undefined inputs, outputs defined twice, cycles. */
static const Onnx__NodeProto **topo_order(Ox *ox)
{
    const Onnx__GraphProto *g = ox->graph;
    size_t n = g->n_node;
    int first = ox->nvals, *users = NULL, *fill = NULL;
    for (size_t k = 0; k < n; k++)
        for (size_t o = 0; o < g->node[k]->n_output; o++) {
            const char *name = g->node[k]->output[o];
            if (!name || !*name)
                continue;
            ox_add_value(ox, name, VAL_BAD);
        }
    /* users of each node-defined value, as one array cut by `start` (CSR) */
    int nv = ox->nvals;
    int *waiting = ox_alloc((n + 1) * sizeof *waiting);
    int *start = ox_alloc((size_t)(nv + 2) * sizeof *start);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            const Onnx__NodeProto *node = g->node[k];
            for (size_t i = 0; i < node->n_input; i++) {
                int v = input_value(ox, node, i);
                if (pass == 0 && v >= 0)
                    ox->vals[v].uses++;
                if (v < first)
                    continue;
                if (pass == 0) {
                    waiting[k]++;
                    start[v + 1]++;
                } else
                    users[start[v] + fill[v]++] = (int)k;
            }
        }
        if (pass == 0) {
            for (int v = 0; v < nv; v++)
                start[v + 1] += start[v];
            users = ox_alloc((size_t)(start[nv] + 1) * sizeof *users);
            fill = ox_alloc((size_t)(nv + 1) * sizeof *fill);
        }
    }
    const Onnx__NodeProto **order = ox_alloc((n + 1) * sizeof *order);
    if (in_file_order(ox, first)) {
        for (size_t k = 0; k < n; k++)
            order[k] = g->node[k];
        return order;
    }
    int *queue = ox_alloc((n + 1) * sizeof *queue);
    size_t head = 0, tail = 0;
    for (size_t k = 0; k < n; k++)
        if (!waiting[k])
            queue[tail++] = (int)k;
    while (head < tail) {
        int k = queue[head];
        order[head++] = g->node[k];
        for (size_t o = 0; o < g->node[k]->n_output; o++) {
            int v = g->node[k]->output[o] && *g->node[k]->output[o] ? ox_find_value(ox, g->node[k]->output[o]) : -1;
            for (int u = v >= first ? start[v] : 0; v >= first && u < start[v + 1]; u++)
                if (--waiting[users[u]] == 0)
                    queue[tail++] = users[u];
        }
    }
    for (size_t k = 0; head < n && k < n; k++)
        if (waiting[k])
            ox_fatal(ox, "the graph has a cycle: node '%s' (%s) depends on a node that depends on it, or on such a cycle",
                     ox_node_name(g->node[k]), g->node[k]->op_type ? g->node[k]->op_type : "");
    return order;
}

static int64_t find_opset(Ox *ox)
{
    for (size_t k = 0; k < ox->model->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *o = ox->model->opset_import[k];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
            return o->has_version ? o->version : 0;
    }
    return 0;
}

/* Layers are created in topological order, so one backward sweep marks
 * everything a live layer reads. */
static void propagate_live(Ox *ox)
{
    for (int l = ox->nlayers - 1; l >= 0; l--) {
        OxLayer *L = &ox->layers[l];
        if (!L->live)
            continue;
        for (int k = 0; k < L->nin; k++)
            ox->layers[L->in[k]].live = true;
        for (int k = 0; k < L->ncat; k++)
            ox->layers[L->cat[k]].live = true;
    }
}

/* The network's outputs: a tensor each, marked live with all it reads. */
static void collect_outputs(Ox *ox, const char **names, int *layers)
{
    const Onnx__GraphProto *g = ox->graph;
    for (size_t k = 0; k < g->n_output; k++) {
        const char *name = g->output[k]->name ? g->output[k]->name : "";
        int v = ox_find_value(ox, name);
        if (ox->vals[v].kind == VAL_CONST) {
            error_head(ox);
            escaped(ox->opts->diag, "graph output '%s' is a constant; convc networks compute their outputs", name);
            fprintf(ox->opts->diag, "%s\n", ox->opts->color ? "\033[0m" : "");
            ox->errors++;
        }
        names[k] = name;
        layers[k] = ox->vals[v].kind == VAL_TENSOR ? ox->vals[v].layer : -1;
        if (layers[k] >= 0)
            ox->layers[layers[k]].live = true;
    }
}

static const char *network_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcasecmp(base + n - 5, ".onnx"))
        n -= 5;
    return ox_printf("%.*s", (int)n, base);
}

static void translate(Ox *ox, OnnxModel *m)
{
    if (!ox->model->graph)
        ox_fatal(ox, "the model has no graph");
    ox->graph = ox->model->graph;
    ox->opset = find_opset(ox);
    if (ox->opset < 7 || ox->opset > 18)
        ox_fatal(ox, "opset %lld of the default domain; convc reads opsets 7 to 18 (tested: 11 to 17)",
                 (long long)ox->opset);
    add_initializers(ox);
    add_inputs(ox);
    const Onnx__NodeProto **order = topo_order(ox);
    for (size_t k = 0; k < ox->graph->n_output; k++) {
        const char *name = ox->graph->output[k]->name ? ox->graph->output[k]->name : "";
        int v = ox_find_value(ox, name);
        if (v < 0)
            ox_fatal(ox, "graph output '%s' is not defined by any node or input", name);
        ox->vals[v].uses++;
        ox->vals[v].is_output = true;
    }
    for (size_t k = 0; k < ox->graph->n_node; k++)
        ox_translate_node(ox, order[k]);
    size_t no = ox->graph->n_output;
    if (!no)
        ox_fatal(ox, "the graph has no outputs");
    const char **names = ox_alloc(no * sizeof *names);
    int *layers = ox_alloc(no * sizeof *layers);
    collect_outputs(ox, names, layers);
    if (ox->errors)
        return;
    propagate_live(ox);
    for (int l = 0; l < ox->nlayers; l++)
        if (ox->layers[l].live && !strcmp(ox->layers[l].kind, "pad"))
            ox_node_error(ox, ox->layers[l].node, "a Pad is supported only before an AveragePool without ceil_mode");
    if (ox->errors)
        return;
    for (int l = 0; l < ox->nlayers; l++)
        if (!strcmp(ox->layers[l].kind, "input"))
            ox->layers[l].live = true;
    ox_emit_program(ox, m, network_name(ox->path), names, layers, (int)no);
}

static Ox ox;     /* static: what it points to stays reachable until exit */

void onnx_release(void)
{
    while (allocs) {
        void **p = allocs;
        allocs = *p;
        free(p);
    }
    if (ox.model)
        onnx__model_proto__free_unpacked(ox.model, NULL);
    ox = (Ox){0};
}

OnnxModel *onnx_import(const char *path, const OnnxOptions *opts, OnnxError *err)
{
    ox = (Ox){.path = path, .opts = opts};
    *err = ONNX_ERR_MODEL;
    if (setjmp(ox.fail))
        return NULL;
    ox.model = ox_read_model(&ox, err);
    if (!ox.model)
        return NULL;
    OnnxModel *m = ox_alloc(sizeof *m);
    translate(&ox, m);
    if (ox.errors) {
        fprintf(opts->diag, "%d node%s of %s cannot be expressed in convc\n", ox.errors,
                ox.errors == 1 ? "" : "s", path);
        return NULL;
    }
    return m;
}

bool onnx_is_model_path(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && !strcasecmp(path + n - 5, ".onnx");
}

bool onnx_parse_input_shape(const char *arg, OnnxInputShape *out)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    out->name = ox_printf("%.*s", (int)(eq - arg), arg);
    const char *p = eq + 1;
    out->rank = 0;
    for (;;) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return false;
        long long v = strtoll(p, &end, 10);
        if (v < 1 || v > (1 << 30))
            return false;
        out->dims[out->rank++] = v;
        if (!*end)
            break;
        if (*end != ',' || out->rank == 3)
            return false;
        p = end + 1;
    }
    return out->rank == 1 || out->rank == 3;
}
