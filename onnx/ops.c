/*
 * ops.c - one translator per ONNX op: the op table.
 *
 * A row names the ONNX op, how many inputs it takes, how many of its outputs
 * may be read, the attributes convc understands (any other one present is
 * reported) and the function that writes the .conv layer. A translator either
 * defines the node's first output (a new layer, an alias of its input or a
 * constant) or reports why it cannot, naming the node; outputs of a reported
 * node stay VAL_BAD so the nodes that read them stay silent.
 *
 * Semantics kept exact (PyTorch's, which is what convc computes):
 *   Conv pads [t, l, b, r] symmetric, or stride 1 and the padding='same' split;
 *   Resize nearest = asymmetric + floor, linear = (pytorch_)half_pixel;
 *   Clip(0, 6) = relu6 (Clip(Relu(x), 0, 6), torch's relu6, is relu6(x));
 *   x * Sigmoid(x) = silu; MatMul by a constant [in, out] (+ Add of a [out]
 *   constant) = Linear with the transposed weight (and that bias).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/internal.h"

typedef bool (*Translate)(Ox *ox, const Onnx__NodeProto *n);

typedef struct {
    const char *op;        /* ONNX op_type */
    int min_in, max_in;    /* inputs (optional ones may be given as "") */
    int max_out;           /* outputs that may be read */
    const char *attrs;     /* attributes understood, space separated */
    Translate fn;
} OpRow;

#define T(x) ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__##x

/* The largest extent .conv takes (language.md): checked here too, so no
 * product below can overflow before the front end sees it. */
#define MAX_EXTENT ((int64_t)1 << 30)

/* ---- attributes -------------------------------------------------------------- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name))
            return n->attribute[k];
    return NULL;
}

static bool attr_type(Ox *ox, const Onnx__NodeProto *n, const Onnx__AttributeProto *a,
                      Onnx__AttributeProto__AttributeType want, const char *what)
{
    if (a->has_type && a->type == want)
        return true;
    ox_node_error(ox, n, "attribute '%s' must be %s", a->name, what);
    return false;
}

static bool get_int(Ox *ox, const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(n, name);
    *out = def;
    if (!a)
        return true;
    if (!attr_type(ox, n, a, T(INT), "an integer"))
        return false;
    *out = a->i;
    return true;
}

static bool get_float(Ox *ox, const Onnx__NodeProto *n, const char *name, double def, double *out)
{
    const Onnx__AttributeProto *a = attr(n, name);
    *out = def;
    if (!a)
        return true;
    if (!attr_type(ox, n, a, T(FLOAT), "a float"))
        return false;
    *out = a->f;
    return true;
}

static bool get_string(Ox *ox, const Onnx__NodeProto *n, const char *name, const char *def, const char **out)
{
    const Onnx__AttributeProto *a = attr(n, name);
    *out = def;
    if (!a)
        return true;
    if (!attr_type(ox, n, a, T(STRING), "a string"))
        return false;
    *out = ox_printf("%.*s", (int)a->s.len, a->s.data ? (const char *)a->s.data : "");
    return true;
}

/* A list of exactly `count` integers (defaulting to `def` for each). */
static bool get_ints(Ox *ox, const Onnx__NodeProto *n, const char *name, size_t count, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(n, name);
    for (size_t k = 0; k < count; k++)
        out[k] = def;
    if (!a)
        return true;
    if (!attr_type(ox, n, a, T(INTS), "a list of integers"))
        return false;
    if (a->n_ints != count) {
        ox_node_error(ox, n, "attribute '%s' has %zu values; convc takes 2-D images (%zu expected)",
                      name, a->n_ints, count);
        return false;
    }
    memcpy(out, a->ints, count * sizeof *out);
    return true;
}

/* ---- inputs ------------------------------------------------------------------- */

static int value_of(Ox *ox, const Onnx__NodeProto *n, size_t i)
{
    return i < n->n_input && n->input[i] && *n->input[i] ? ox_find_value(ox, n->input[i]) : -1;
}

/* Input i as a run-time tensor of the given rank (0: any); -1 after an error. */
static int tensor_in(Ox *ox, const Onnx__NodeProto *n, size_t i, int rank)
{
    int v = value_of(ox, n, i);
    if (v < 0 || ox->vals[v].kind != VAL_TENSOR) {
        ox_node_error(ox, n, "input %zu ('%s') must be a computed tensor, not %s", i + 1,
                      i < n->n_input ? n->input[i] : "", v < 0 ? "missing" : "a constant");
        return -1;
    }
    if (rank && ox->vals[v].rank != rank) {
        ox_node_error(ox, n, "input %zu ('%s') has rank %d; convc supports rank %d here", i + 1,
                      n->input[i], ox->vals[v].rank, rank);
        return -1;
    }
    return v;
}

/* Input i as a float constant of the given rank (-1: any); NULL if absent
 * (and `required` false) or after an error. */
static OxConst *const_in(Ox *ox, const Onnx__NodeProto *n, size_t i, int rank, bool required, bool *bad)
{
    int v = value_of(ox, n, i);
    if (v < 0 && !required)
        return NULL;
    const char *name = i < n->n_input ? n->input[i] : "";
    if (v < 0 || ox->vals[v].kind != VAL_CONST) {
        ox_node_error(ox, n, "input %zu ('%s') must be a constant (an initializer or Constant); %s", i + 1, name,
                      v < 0 ? "it is missing" : "a computed value is not supported");
        *bad = true;
        return NULL;
    }
    OxConst *c = ox->vals[v].c;
    if (!c->f) {
        ox_node_error(ox, n, "input %zu ('%s') has data type %d; float, double or float16 expected", i + 1, name, c->dtype);
        *bad = true;
        return NULL;
    }
    if (rank >= 0 && c->rank != rank) {
        ox_node_error(ox, n, "input %zu ('%s') has rank %d, expected %d", i + 1, name, c->rank, rank);
        *bad = true;
        return NULL;
    }
    return c;
}

/* ---- formatting ----------------------------------------------------------- */

/* The shortest decimal that reads back as the same float32. */
static const char *fmt_float(double v)
{
    float f = (float)v;
    for (int prec = 1; prec < 10; prec++) {
        char *s = ox_printf("%.*g", prec, (double)f);
        if ((float)strtod(s, NULL) == f)
            return s;
    }
    return ox_printf("%.9g", (double)f);
}

static const char *pair(int64_t h, int64_t w)
{
    return h == w ? ox_printf("%lld", (long long)h) : ox_printf("(%lld, %lld)", (long long)h, (long long)w);
}

/* ---- layers ------------------------------------------------------------------ */

static const char *out_name(const Onnx__NodeProto *n)
{
    return n->n_output && n->output[0] ? n->output[0] : "";
}

/* Defines the node's first output as a rank-`rank` tensor computed by layer l. */
static void set_tensor(Ox *ox, const Onnx__NodeProto *n, int l, int rank)
{
    int v = ox_find_value(ox, out_name(n));
    ox->vals[v].kind = VAL_TENSOR;
    ox->vals[v].layer = l;
    ox->vals[v].rank = rank;
}

static void set_alias(Ox *ox, const Onnx__NodeProto *n, int src)
{
    int v = ox_find_value(ox, out_name(n));
    OxValue keep = ox->vals[v];
    ox->vals[v] = ox->vals[src];
    ox->vals[v].name = keep.name;
    ox->vals[v].uses = keep.uses;
    ox->vals[v].is_output = keep.is_output;
}

/* A layer reading tensor value `in`, bound to the graph output's name when
 * the node computes one, else to `hint` or the node's name. */
static const char *scope_key(const char *name);

static int layer(Ox *ox, const Onnx__NodeProto *n, const char *kind, int in, const char *hint, char *args, int rank)
{
    int v = ox_find_value(ox, out_name(n));
    if (!hint && n->name && n->name[0] == '/')
        hint = scope_key(ox_printf("%s/", n->name));   /* "/layer1/layer1.0/Relu" -> layer1_0_Relu */
    int l = ox_add_layer(ox, n, kind, ox->vals[v].is_output ? out_name(n) : hint);
    OxLayer *L = &ox->layers[l];
    L->nin = in >= 0;
    L->in[0] = in >= 0 ? ox->vals[in].layer : -1;
    L->src = in;
    L->args = args ? args : "";
    set_tensor(ox, n, l, rank);
    return l;
}

/* A printable name usable inside "..." in .conv (no quote, no backslash). */
static bool key_ok(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* The state_dict prefix P when every given constant is named P.<suffix>
 * (torch keeps module names for parameters it did not fold); else NULL. */
static const char *names_prefix(OxConst *const *cs, const char *const *suffixes, int n)
{
    const char *p = NULL;
    for (int k = 0; k < n; k++) {
        if (!cs[k])
            continue;
        size_t len = strlen(cs[k]->name), sl = strlen(suffixes[k]);
        if (len <= sl + 1 || cs[k]->name[len - sl - 1] != '.' || strcmp(cs[k]->name + len - sl, suffixes[k]))
            return NULL;
        char *pre = ox_printf("%.*s", (int)(len - sl - 1), cs[k]->name);
        if (p && strcmp(p, pre))
            return NULL;
        p = pre;
    }
    return p && key_ok(p) ? p : NULL;
}

/* The module path of torch's scoped node names: "/layer2/layer2.0/conv1/Conv"
 * -> "layer2.0.conv1" (a component repeats its parent's name before the
 * child's: "layer2" then "layer2.0"). NULL for other names. */
static const char *scope_key(const char *name)
{
    if (!name || name[0] != '/')
        return NULL;
    char *key = ox_alloc(strlen(name) + 1), *o = key;
    const char *prev = NULL, *p = name + 1;
    size_t prevlen = 0;
    for (const char *end; (end = strchr(p, '/')); p = end + 1) {
        size_t len = (size_t)(end - p);
        const char *piece = p;
        if (prev && len > prevlen + 1 && !strncmp(p, prev, prevlen) && p[prevlen] == '.')
            piece = p + prevlen + 1;
        if (o > key)
            *o++ = '.';
        memcpy(o, piece, (size_t)(end - piece));
        o += end - piece;
        prev = p;
        prevlen = len;
    }
    *o = 0;
    return *key && key_ok(key) ? key : NULL;
}

/* A parameterised layer: its key is the initializers' common prefix when
 * they have one, else the module path of torch's node name (both if not
 * taken), else its identifier; `name="KEY"` is added to args when the key
 * differs from the identifier. */
static int param_layer(Ox *ox, const Onnx__NodeProto *n, const char *kind, int in, OxConst *const *cs,
                       const char *const *suffixes, int np, const char *args, int rank)
{
    const char *prefix = names_prefix(cs, suffixes, np);
    if (!prefix)
        prefix = scope_key(n->name);
    int l = layer(ox, n, kind, in, prefix, NULL, rank);
    OxLayer *L = &ox->layers[l];
    const char *key = prefix ? ox_claim_key(ox, prefix) : NULL;
    for (int k = 2; !key; k++)
        key = ox_claim_key(ox, k == 2 ? L->bind : ox_printf("%s_%d", L->bind, k));
    L->key = key;
    for (int k = 0; k < np; k++)
        if (cs[k])
            L->params[L->nparams++] = (OxParam){.suffix = suffixes[k], .c = cs[k]};
    L->args = strcmp(key, L->bind) ? ox_printf("%s, name=\"%s\"", args, key) : (char *)args;
    return l;
}

/* ---- convolution and pooling geometry ------------------------------------------ */

typedef struct {
    int64_t kernel[2], stride[2], dilation[2], pads[4];
    bool same;             /* padding='same' (stride 1, PyTorch's split) */
} Geometry;

/* pads [t, l, b, r] -> symmetric padding, or 'same' where allowed. */
static bool geometry(Ox *ox, const Onnx__NodeProto *n, Geometry *g, bool allow_same)
{
    const char *auto_pad;
    if (!get_ints(ox, n, "strides", 2, 1, g->stride) || !get_ints(ox, n, "dilations", 2, 1, g->dilation) ||
        !get_ints(ox, n, "pads", 4, 0, g->pads) || !get_string(ox, n, "auto_pad", "NOTSET", &auto_pad))
        return false;
    for (int d = 0; d < 2; d++)
        if (g->stride[d] < 1 || g->dilation[d] < 1 || g->pads[d] < 0 || g->pads[d + 2] < 0 ||
            g->stride[d] > MAX_EXTENT || g->dilation[d] > MAX_EXTENT || g->pads[d] > MAX_EXTENT ||
            g->pads[d + 2] > MAX_EXTENT || g->kernel[d] < 1 || g->kernel[d] > MAX_EXTENT) {
            ox_node_error(ox, n, "strides, dilations and kernel sizes must be 1 to 2^30 and pads 0 to 2^30");
            return false;
        }
    bool same_upper = !strcmp(auto_pad, "SAME_UPPER"), same_lower = !strcmp(auto_pad, "SAME_LOWER");
    if (!strcmp(auto_pad, "VALID"))
        memset(g->pads, 0, sizeof g->pads);
    else if (strcmp(auto_pad, "NOTSET") && !same_upper && !same_lower) {
        ox_node_error(ox, n, "auto_pad '%s' is not supported", auto_pad);
        return false;
    }
    bool stride1 = g->stride[0] == 1 && g->stride[1] == 1;
    if ((same_upper || same_lower) && !(allow_same && stride1)) {
        ox_node_error(ox, n, "auto_pad %s is supported only for convolutions with stride 1", auto_pad);
        return false;
    }
    if (same_upper || same_lower) {
        for (int d = 0; d < 2; d++) {
            int64_t total = g->dilation[d] * (g->kernel[d] - 1);
            g->pads[d] = same_upper ? total / 2 : total - total / 2;
            g->pads[d + 2] = total - g->pads[d];
        }
    }
    g->same = false;
    if (g->pads[0] == g->pads[2] && g->pads[1] == g->pads[3])
        return true;
    for (int d = 0; d < 2; d++) {
        int64_t total = g->dilation[d] * (g->kernel[d] - 1);
        if (!allow_same || !stride1 || g->pads[d] != total / 2 || g->pads[d + 2] != total - total / 2) {
            ox_node_error(ox, n, "asymmetric pads [%lld, %lld, %lld, %lld] are not supported (only PyTorch's "
                          "padding='same' split with stride 1)", (long long)g->pads[0], (long long)g->pads[1],
                          (long long)g->pads[2], (long long)g->pads[3]);
            return false;
        }
    }
    g->same = true;
    return true;
}

/* Weights [a, b, kh, kw]: kernel_shape, if given, must agree. */
static bool kernel_from(Ox *ox, const Onnx__NodeProto *n, const OxConst *w, Geometry *g)
{
    int64_t ks[2];
    if (!get_ints(ox, n, "kernel_shape", 2, -1, ks))
        return false;
    g->kernel[0] = w->dims[2];
    g->kernel[1] = w->dims[3];
    if (ks[0] >= 0 && (ks[0] != g->kernel[0] || ks[1] != g->kernel[1])) {
        ox_node_error(ox, n, "kernel_shape [%lld, %lld] does not match the weights' [%lld, %lld]",
                      (long long)ks[0], (long long)ks[1], (long long)g->kernel[0], (long long)g->kernel[1]);
        return false;
    }
    return true;
}

/* ", stride=..., padding=..., dilation=..." without the defaults. */
static char *geometry_args(const Geometry *g, bool pool)
{
    const char *stride = "", *pad = "", *dil = "";
    bool stride_default = pool ? g->stride[0] == g->kernel[0] && g->stride[1] == g->kernel[1]
                               : g->stride[0] == 1 && g->stride[1] == 1;
    if (!stride_default)
        stride = ox_printf(", stride=%s", pair(g->stride[0], g->stride[1]));
    if (g->same)
        pad = ", padding=same";
    else if (g->pads[0] || g->pads[1])
        pad = ox_printf(", padding=%s", pair(g->pads[0], g->pads[1]));
    if (g->dilation[0] != 1 || g->dilation[1] != 1)
        dil = ox_printf(", dilation=%s", pair(g->dilation[0], g->dilation[1]));
    return ox_printf("%s%s%s", stride, pad, dil);
}

static bool bias_matches(Ox *ox, const Onnx__NodeProto *n, const OxConst *b, int64_t out)
{
    if (!b || b->numel == out)
        return true;
    ox_node_error(ox, n, "the bias has %lld values for %lld outputs", (long long)b->numel, (long long)out);
    return false;
}

/* group in 1..2^30 and weights of at most 2^30 per dimension: every
 * channel count computed from them fits. */
static bool groups_ok(Ox *ox, const Onnx__NodeProto *n, int64_t groups, const OxConst *w)
{
    for (int d = 0; d < 4; d++)
        if (w->dims[d] < 1 || w->dims[d] > MAX_EXTENT) {
            ox_node_error(ox, n, "weight dimension %d is %lld (1 to 2^30 supported)", d, (long long)w->dims[d]);
            return false;
        }
    if (groups >= 1 && groups <= MAX_EXTENT)
        return true;
    ox_node_error(ox, n, "group %lld must be 1 to 2^30", (long long)groups);
    return false;
}

static const char *const conv_suffixes[] = {"weight", "bias"};

/* Conv(X, W[out, in/g, kh, kw], B[out]?) -> conv2d */
static bool tr_conv(Ox *ox, const Onnx__NodeProto *n)
{
    bool bad = false;
    int x = tensor_in(ox, n, 0, 4);
    OxConst *cs[2] = {const_in(ox, n, 1, 4, true, &bad), const_in(ox, n, 2, 1, false, &bad)};
    int64_t groups;
    Geometry g;
    if (x < 0 || bad || !get_int(ox, n, "group", 1, &groups) || !kernel_from(ox, n, cs[0], &g) ||
        !geometry(ox, n, &g, true) || !bias_matches(ox, n, cs[1], cs[0]->dims[0]))
        return false;
    if (!groups_ok(ox, n, groups, cs[0]))
        return false;
    const OxConst *w = cs[0];
    char *args = ox_printf(", %lld, %s%s%s%s, in_channels=%lld", (long long)w->dims[0], pair(g.kernel[0], g.kernel[1]),
                           geometry_args(&g, false), groups != 1 ? ox_printf(", groups=%lld", (long long)groups) : "",
                           cs[1] ? "" : ", bias=false", (long long)(w->dims[1] * groups));
    param_layer(ox, n, "conv2d", x, cs, conv_suffixes, 2, args, 4);
    return true;
}

/* ConvTranspose(X, W[in, out/g, kh, kw], B[out]?) -> conv_transpose2d */
static bool tr_conv_transpose(Ox *ox, const Onnx__NodeProto *n)
{
    bool bad = false;
    int x = tensor_in(ox, n, 0, 4);
    OxConst *cs[2] = {const_in(ox, n, 1, 4, true, &bad), const_in(ox, n, 2, 1, false, &bad)};
    int64_t groups, opad[2];
    Geometry g;
    if (x < 0 || bad || !get_int(ox, n, "group", 1, &groups) || !get_ints(ox, n, "output_padding", 2, 0, opad) ||
        !kernel_from(ox, n, cs[0], &g) || !geometry(ox, n, &g, false))
        return false;
    if (attr(n, "output_shape")) {
        ox_node_error(ox, n, "attribute 'output_shape' is not supported (give pads and output_padding)");
        return false;
    }
    if (!groups_ok(ox, n, groups, cs[0]) || !bias_matches(ox, n, cs[1], cs[0]->dims[1] * groups))
        return false;
    const OxConst *w = cs[0];
    Geometry gs = g;
    gs.dilation[0] = gs.dilation[1] = 1;     /* conv_transpose2d takes dilation after bias */
    char *args = ox_printf(", %lld, %s%s%s%s%s%s, in_channels=%lld", (long long)(w->dims[1] * groups),
                           pair(g.kernel[0], g.kernel[1]), geometry_args(&gs, false),
                           opad[0] || opad[1] ? ox_printf(", output_padding=%s", pair(opad[0], opad[1])) : "",
                           groups != 1 ? ox_printf(", groups=%lld", (long long)groups) : "",
                           cs[1] ? "" : ", bias=false",
                           g.dilation[0] != 1 || g.dilation[1] != 1 ? ox_printf(", dilation=%s", pair(g.dilation[0], g.dilation[1])) : "",
                           (long long)w->dims[0]);
    param_layer(ox, n, "conv_transpose2d", x, cs, conv_suffixes, 2, args, 4);
    return true;
}

static const char *const bn_suffixes[] = {"weight", "bias", "running_mean", "running_var"};

/* BatchNormalization(X, scale, B, mean, var), inference mode -> batchnorm2d */
static bool tr_batchnorm(Ox *ox, const Onnx__NodeProto *n)
{
    bool bad = false;
    int x = tensor_in(ox, n, 0, 4);
    OxConst *cs[4];
    for (int k = 0; k < 4; k++)
        cs[k] = const_in(ox, n, (size_t)k + 1, 1, true, &bad);
    double eps, momentum;
    int64_t training, spatial;
    if (x < 0 || bad || !get_float(ox, n, "epsilon", 1e-5, &eps) || !get_float(ox, n, "momentum", 0.9, &momentum) ||
        !get_int(ox, n, "training_mode", 0, &training) || !get_int(ox, n, "spatial", 1, &spatial))
        return false;
    if (training || spatial != 1) {
        ox_node_error(ox, n, "%s is not supported (inference batch normalisation only)",
                      training ? "training_mode=1" : "spatial=0");
        return false;
    }
    for (int k = 1; k < 4; k++)
        if (cs[k]->numel != cs[0]->numel) {
            ox_node_error(ox, n, "its scale, bias, mean and variance differ in length");
            return false;
        }
    if (!isfinite(eps) || eps < 0) {
        ox_node_error(ox, n, "epsilon %g must be finite and not negative", eps);
        return false;
    }
    const char *e = fmt_float(eps);
    char *args = ox_printf("%s, num_features=%lld", strcmp(e, "1e-05") ? ox_printf(", eps=%s", e) : "",
                           (long long)cs[0]->numel);
    param_layer(ox, n, "batchnorm2d", x, cs, bn_suffixes, 4, args, 4);
    return true;
}

/* Relu, Sigmoid, Tanh: the .conv op of the same meaning, any rank. */
static bool unary(Ox *ox, const Onnx__NodeProto *n, const char *kind, char *args)
{
    int x = tensor_in(ox, n, 0, 0);
    if (x < 0)
        return false;
    layer(ox, n, kind, x, NULL, args, ox->vals[x].rank);
    return true;
}

static bool tr_relu(Ox *ox, const Onnx__NodeProto *n) { return unary(ox, n, "relu", NULL); }
static bool tr_sigmoid(Ox *ox, const Onnx__NodeProto *n) { return unary(ox, n, "sigmoid", NULL); }
static bool tr_tanh(Ox *ox, const Onnx__NodeProto *n) { return unary(ox, n, "tanh", NULL); }

static bool tr_leaky_relu(Ox *ox, const Onnx__NodeProto *n)
{
    double alpha;
    if (!get_float(ox, n, "alpha", 0.01, &alpha))
        return false;
    if (!isfinite(alpha)) {
        ox_node_error(ox, n, "alpha %g must be finite", alpha);
        return false;
    }
    const char *a = fmt_float(alpha);
    return unary(ox, n, "leaky_relu", strcmp(a, "0.01") ? ox_printf(", %s", a) : NULL);
}

/* Clip's bound: input i (opset >= 11) or attribute `name` (before). */
static bool clip_bound(Ox *ox, const Onnx__NodeProto *n, size_t i, const char *name, double def, double *out)
{
    if (ox->opset < 11)
        return get_float(ox, n, name, def, out);
    bool bad = false;
    OxConst *c = const_in(ox, n, i, -1, false, &bad);
    if (bad)
        return false;
    if (c && c->numel != 1) {
        ox_node_error(ox, n, "the %s bound must be a scalar", name);
        return false;
    }
    *out = c ? c->f[0] : def;
    return true;
}

/* Clip(x, 0, 6) -> relu6; Clip(x, 0, inf) -> relu. torch writes relu6 as
 * Clip(Relu(x), 0, 6): that reads the Relu's input, so the Relu goes away
 * unless something else reads it. */
static bool tr_clip(Ox *ox, const Onnx__NodeProto *n)
{
    double lo, hi;
    int x = tensor_in(ox, n, 0, 0);
    if (x < 0 || !clip_bound(ox, n, 1, "min", -INFINITY, &lo) || !clip_bound(ox, n, 2, "max", INFINITY, &hi))
        return false;
    bool relu6 = lo == 0 && hi == 6;
    if (!relu6 && !(lo == 0 && isinf(hi) && hi > 0)) {
        ox_node_error(ox, n, "Clip to [%g, %g] is not supported (only [0, 6], relu6, and [0, inf), relu)", lo, hi);
        return false;
    }
    const OxLayer *src = &ox->layers[ox->vals[x].layer];
    if (relu6 && !strcmp(src->kind, "relu"))
        x = src->src;
    layer(ox, n, relu6 ? "relu6" : "relu", x, NULL, NULL, ox->vals[x].rank);
    return true;
}

/* Mul(x, Sigmoid(x)) -> silu (torch's SiLU); nothing else. */
static bool tr_mul(Ox *ox, const Onnx__NodeProto *n)
{
    int a = value_of(ox, n, 0), b = value_of(ox, n, 1);
    for (int k = 0; k < 2 && a >= 0 && b >= 0; k++, a ^= b, b ^= a, a ^= b) {
        if (ox->vals[a].kind != VAL_TENSOR || ox->vals[b].kind != VAL_TENSOR)
            continue;
        const OxLayer *s = &ox->layers[ox->vals[b].layer];
        if (!strcmp(s->kind, "sigmoid") && s->in[0] == ox->vals[a].layer) {
            layer(ox, n, "silu", a, NULL, NULL, ox->vals[a].rank);
            return true;
        }
    }
    bool by_const = (a >= 0 && ox->vals[a].kind == VAL_CONST) || (b >= 0 && ox->vals[b].kind == VAL_CONST);
    ox_node_error(ox, n, "%s; only x * Sigmoid(x) (SiLU) is supported",
                  by_const ? "multiplying by a constant is not supported" : "a product of two tensors is not supported");
    return false;
}

/* MaxPool(X) -> maxpool2d; the Indices output must not be read. */
static bool tr_maxpool(Ox *ox, const Onnx__NodeProto *n)
{
    int x = tensor_in(ox, n, 0, 4);
    int64_t ceil_mode, order;
    Geometry g;
    if (x < 0 || !get_ints(ox, n, "kernel_shape", 2, 0, g.kernel) || !geometry(ox, n, &g, false) ||
        !get_int(ox, n, "ceil_mode", 0, &ceil_mode) || !get_int(ox, n, "storage_order", 0, &order))
        return false;
    if (!attr(n, "kernel_shape") || order) {
        ox_node_error(ox, n, "%s", order ? "storage_order=1 is not supported" : "kernel_shape is required");
        return false;
    }
    layer(ox, n, "maxpool2d", x, NULL,
          ox_printf(", %s%s%s", pair(g.kernel[0], g.kernel[1]), geometry_args(&g, true), ceil_mode ? ", ceil_mode=true" : ""), 4);
    return true;
}

/* Pad(X, pads, 0) in constant mode, on H and W, the same on both sides. torch
 * writes avg_pool2d (count_include_pad=True) as Pad + AveragePool: a Pad of
 * nothing is its input; another one is only taken in by AveragePool. */
static bool tr_pad(Ox *ox, const Onnx__NodeProto *n)
{
    const char *mode;
    int64_t pads[8];
    double value = 0;
    int x = tensor_in(ox, n, 0, 4);
    if (x < 0 || !get_string(ox, n, "mode", "constant", &mode))
        return false;
    if (ox->opset < 11) {
        if (!get_ints(ox, n, "pads", 8, 0, pads) || !get_float(ox, n, "value", 0, &value))
            return false;
    } else {
        int pv = value_of(ox, n, 1), cv = value_of(ox, n, 2);
        const OxConst *p = pv >= 0 && ox->vals[pv].kind == VAL_CONST ? ox->vals[pv].c : NULL;
        const OxConst *c = cv >= 0 && ox->vals[cv].kind == VAL_CONST ? ox->vals[cv].c : NULL;
        if (!p || !p->i || p->numel != 8 || (cv >= 0 && (!c || !c->f || c->numel != 1))) {
            ox_node_error(ox, n, "pads must be a constant of 8 integers and the value a constant float");
            return false;
        }
        memcpy(pads, p->i, sizeof pads);
        value = c ? c->f[0] : 0;
    }
    if (strcmp(mode, "constant") || value != 0 || pads[0] || pads[1] || pads[4] || pads[5] ||
        pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0) {
        ox_node_error(ox, n, "only zero padding of H and W, the same on both sides, is supported");
        return false;
    }
    if (!pads[2] && !pads[3]) {
        set_alias(ox, n, x);
        return true;
    }
    int l = layer(ox, n, "pad", x, NULL, ox_printf("%s", pair(pads[2], pads[3])), 4);
    ox->layers[l].pad[0] = pads[2];
    ox->layers[l].pad[1] = pads[3];
    return true;
}

/* AveragePool(X) -> avgpool2d (count_include_pad is 0 in ONNX by default);
 * AveragePool(Pad(X, p)) -> avgpool2d(X, padding=p, count_include_pad=true). */
static bool tr_avgpool(Ox *ox, const Onnx__NodeProto *n)
{
    int x = tensor_in(ox, n, 0, 4);
    int64_t ceil_mode, include;
    Geometry g;
    if (x < 0 || !get_ints(ox, n, "kernel_shape", 2, 0, g.kernel) || !geometry(ox, n, &g, false) ||
        !get_int(ox, n, "ceil_mode", 0, &ceil_mode) || !get_int(ox, n, "count_include_pad", 0, &include))
        return false;
    if (!attr(n, "kernel_shape") || g.dilation[0] != 1 || g.dilation[1] != 1) {
        ox_node_error(ox, n, "%s", attr(n, "kernel_shape") ? "dilations are not supported" : "kernel_shape is required");
        return false;
    }
    const OxLayer *src = &ox->layers[ox->vals[x].layer];
    if (!strcmp(src->kind, "pad") && !ceil_mode && !g.pads[0] && !g.pads[1]) {
        g.pads[0] = g.pads[2] = src->pad[0];
        g.pads[1] = g.pads[3] = src->pad[1];
        include = 1;
        x = src->src;
    }
    bool padded = g.pads[0] || g.pads[1];
    layer(ox, n, "avgpool2d", x, NULL,
          ox_printf(", %s%s%s%s", pair(g.kernel[0], g.kernel[1]), geometry_args(&g, true),
                    ceil_mode ? ", ceil_mode=true" : "", padded && !include ? ", count_include_pad=false" : ""), 4);
    return true;
}

static bool tr_global_avgpool(Ox *ox, const Onnx__NodeProto *n)
{
    int x = tensor_in(ox, n, 0, 4);
    if (x < 0)
        return false;
    layer(ox, n, "global_avgpool", x, NULL, NULL, 4);
    return true;
}

/* Scales [1, 1, sh, sw] -> upsample(x, s, mode=...) */
static bool upsample(Ox *ox, const Onnx__NodeProto *n, int x, const OxConst *scales, const char *mode)
{
    if (!scales || scales->numel != 4 || scales->f[0] != 1 || scales->f[1] != 1 || !(scales->f[2] > 0) ||
        !(scales->f[3] > 0) || !(scales->f[2] <= MAX_EXTENT) || !(scales->f[3] <= MAX_EXTENT)) {
        ox_node_error(ox, n, "scales must be a constant [1, 1, sh, sw] with sh, sw > 0%s",
                      scales && scales->numel == 0 ? " (or constant 'sizes')" : "");
        return false;
    }
    const char *sh = fmt_float(scales->f[2]), *sw = fmt_float(scales->f[3]);
    const char *s = strcmp(sh, sw) ? ox_printf("(%s, %s)", sh, sw) : sh;
    layer(ox, n, "upsample", x, NULL, ox_printf(", %s%s", s, strcmp(mode, "nearest") ? ", mode=bilinear" : ""), 4);
    return true;
}

/* Resize to a constant sizes [N, C, H, W] (F.interpolate(size=...) exported
 * with fixed shapes): upsample(x, size=(H, W)); N and C must be unchanged. */
static bool resize_to_sizes(Ox *ox, const Onnx__NodeProto *n, int x, int sizes, bool is_nearest)
{
    const OxConst *c = ox->vals[sizes].kind == VAL_CONST ? ox->vals[sizes].c : NULL;
    if (!c || !c->i || c->numel != 4) {
        ox_node_error(ox, n, "Resize 'sizes' must be a constant [N, C, H, W] of integers (a size computed from "
                      "the input's shape is not supported: export with fixed shapes or with scale_factor)");
        return false;
    }
    if (c->i[2] < 1 || c->i[3] < 1 || c->i[2] > MAX_EXTENT || c->i[3] > MAX_EXTENT) {
        ox_node_error(ox, n, "Resize 'sizes' [%lld, %lld, %lld, %lld]: H and W must be in 1..%lld", (long long)c->i[0],
                      (long long)c->i[1], (long long)c->i[2], (long long)c->i[3], (long long)MAX_EXTENT);
        return false;
    }
    const char *mode = is_nearest ? "" : ", mode=bilinear";
    layer(ox, n, "upsample", x, NULL, ox_printf(", size=(%lld, %lld)%s", (long long)c->i[2], (long long)c->i[3], mode), 4);
    return true;
}

/* Resize(X, roi, scales, sizes): nearest as PyTorch (asymmetric, floor) or
 * bilinear with align_corners=False ((pytorch_)half_pixel). */
static bool tr_resize(Ox *ox, const Onnx__NodeProto *n)
{
    const char *mode, *ctm, *nearest;
    int64_t exclude;
    int x = tensor_in(ox, n, 0, 4);
    if (x < 0 || !get_string(ox, n, "mode", "nearest", &mode) ||
        !get_string(ox, n, "coordinate_transformation_mode", ox->opset < 11 ? "asymmetric" : "half_pixel", &ctm) ||
        !get_string(ox, n, "nearest_mode", ox->opset < 11 ? "floor" : "round_prefer_floor", &nearest) ||
        !get_int(ox, n, "exclude_outside", 0, &exclude))
        return false;
    bool is_nearest = !strcmp(mode, "nearest");
    if (is_nearest ? strcmp(ctm, "asymmetric") || strcmp(nearest, "floor")
                   : strcmp(mode, "linear") || (strcmp(ctm, "pytorch_half_pixel") && strcmp(ctm, "half_pixel")) || exclude) {
        ox_node_error(ox, n, "Resize mode '%s' with coordinate_transformation_mode '%s'%s is not supported "
                      "(PyTorch's nearest: asymmetric + floor; bilinear: pytorch_half_pixel)", mode, ctm,
                      is_nearest ? ox_printf(" and nearest_mode '%s'", nearest) : "");
        return false;
    }
    bool bad = false;
    size_t si = ox->opset < 11 ? 1 : 2;
    int sizes = value_of(ox, n, si + 1);
    OxConst *scales = const_in(ox, n, si, 1, false, &bad);
    if (bad)
        return false;
    if ((!scales || !scales->numel) && sizes >= 0)
        return resize_to_sizes(ox, n, x, sizes, is_nearest);
    return upsample(ox, n, x, scales, is_nearest ? "nearest" : "bilinear");
}

/* Upsample(X, scales) (opsets 7-9): nearest only (its linear is asymmetric). */
static bool tr_upsample(Ox *ox, const Onnx__NodeProto *n)
{
    const char *mode;
    int x = tensor_in(ox, n, 0, 4);
    if (x < 0 || !get_string(ox, n, "mode", "nearest", &mode))
        return false;
    if (strcmp(mode, "nearest")) {
        ox_node_error(ox, n, "Upsample mode '%s' is not supported (nearest only; use Resize for bilinear)", mode);
        return false;
    }
    bool bad = false;
    OxConst *scales = n->n_input > 1 ? const_in(ox, n, 1, 1, true, &bad) : NULL;
    const Onnx__AttributeProto *a = attr(n, "scales");
    OxConst fromattr = {.numel = a ? (int64_t)a->n_floats : 0, .f = a ? a->floats : NULL};
    return !bad && upsample(ox, n, x, scales ? scales : &fromattr, "nearest");
}

/* Concat along channels (axis 1) of [N, C, H, W] or [N, F] tensors. */
static bool tr_concat(Ox *ox, const Onnx__NodeProto *n)
{
    int64_t axis;
    int first = tensor_in(ox, n, 0, 0);
    if (first < 0 || !get_int(ox, n, "axis", 0, &axis))
        return false;
    int rank = ox->vals[first].rank;
    if (axis != 1 && axis != 1 - rank) {
        ox_node_error(ox, n, "Concat along axis %lld is not supported (channels only: axis 1)", (long long)axis);
        return false;
    }
    int *cat = ox_alloc(n->n_input * sizeof *cat);
    for (size_t k = 0; k < n->n_input; k++) {
        int v = tensor_in(ox, n, k, rank);
        if (v < 0)
            return false;
        cat[k] = ox->vals[v].layer;
    }
    int l = layer(ox, n, "concat", -1, NULL, NULL, rank);
    ox->layers[l].cat = cat;
    ox->layers[l].ncat = (int)n->n_input;
    return true;
}

static const char *linear_args(int64_t out, int64_t in, bool bias)
{
    return ox_printf(", %lld%s, in_features=%lld", (long long)out, bias ? "" : ", bias=false", (long long)in);
}

static const char *const linear_suffixes[] = {"weight", "bias"};

/* Add(a, b) -> add; Add(MatMul(x, W), B) -> the linear's bias. */
static bool tr_add(Ox *ox, const Onnx__NodeProto *n)
{
    int a = value_of(ox, n, 0), b = value_of(ox, n, 1);
    if (ox->vals[a].kind == VAL_CONST) { int t = a; a = b; b = t; }
    if (ox->vals[a].kind == VAL_TENSOR && ox->vals[b].kind == VAL_TENSOR) {
        OxLayer *L = &ox->layers[layer(ox, n, "add", a, NULL, NULL, ox->vals[a].rank)];
        L->nin = 2;
        L->in[1] = ox->vals[b].layer;
        return true;
    }
    OxLayer *L = ox->vals[a].kind == VAL_TENSOR ? &ox->layers[ox->vals[a].layer] : NULL;
    OxConst *c = ox->vals[b].c;
    if (!L || !L->bias_pending || ox->vals[a].uses != 1 || !c->f || c->numel != L->params[0].c->dims[1]) {
        ox_node_error(ox, n, "adding a constant is supported only as the bias of a MatMul by a constant");
        return false;
    }
    L->params[L->nparams++] = (OxParam){.suffix = "bias", .c = c};
    L->bias_pending = false;
    L->args = (char *)linear_args(c->numel, L->params[0].c->dims[0], true);
    if (strcmp(L->key, L->bind))
        L->args = ox_printf("%s, name=\"%s\"", L->args, L->key);
    set_alias(ox, n, a);
    return true;
}

/* Gemm(A[N, in], B, C?) with alpha = beta = 1 -> linear (transB 1: B is [out, in]). */
static bool tr_gemm(Ox *ox, const Onnx__NodeProto *n)
{
    bool bad = false;
    int x = tensor_in(ox, n, 0, 2);
    OxConst *w = const_in(ox, n, 1, 2, true, &bad), *b = const_in(ox, n, 2, -1, false, &bad);
    double alpha, beta;
    int64_t ta, tb;
    if (x < 0 || bad || !get_float(ox, n, "alpha", 1, &alpha) || !get_float(ox, n, "beta", 1, &beta) ||
        !get_int(ox, n, "transA", 0, &ta) || !get_int(ox, n, "transB", 0, &tb))
        return false;
    if (alpha != 1 || (b && beta != 1) || ta) {
        ox_node_error(ox, n, "only alpha=1, beta=1, transA=0 is supported (a Linear layer)");
        return false;
    }
    int64_t out = tb ? w->dims[0] : w->dims[1], in = tb ? w->dims[1] : w->dims[0];
    if (!bias_matches(ox, n, b, out))
        return false;
    OxConst *cs[2] = {w, b};
    int l = param_layer(ox, n, "linear", x, cs, linear_suffixes, 2, linear_args(out, in, b), 2);
    ox->layers[l].params[0].transpose = !tb;
    return true;
}

/* MatMul(A[N, in], B[in, out] constant) -> linear without bias (an Add may give it one). */
static bool tr_matmul(Ox *ox, const Onnx__NodeProto *n)
{
    bool bad = false;
    int x = tensor_in(ox, n, 0, 2);
    OxConst *w = const_in(ox, n, 1, 2, true, &bad);
    if (x < 0 || bad)
        return false;
    OxConst *cs[2] = {w, NULL};
    int l = param_layer(ox, n, "linear", x, cs, linear_suffixes, 1, linear_args(w->dims[1], w->dims[0], false), 2);
    ox->layers[l].params[0].transpose = true;
    ox->layers[l].bias_pending = true;
    return true;
}

/* Softmax over channels / features. Before opset 13 the axis flattens the
 * rest, which is the same only for [N, F]. */
static bool tr_softmax(Ox *ox, const Onnx__NodeProto *n)
{
    int64_t axis;
    int x = tensor_in(ox, n, 0, 0);
    if (x < 0 || !get_int(ox, n, "axis", ox->opset < 13 ? 1 : -1, &axis))
        return false;
    int rank = ox->vals[x].rank;
    if ((axis != 1 && axis != 1 - rank) || (ox->opset < 13 && rank != 2)) {
        ox_node_error(ox, n, "Softmax over axis %lld of a rank-%d tensor is not supported (channels only%s)",
                      (long long)axis, rank, ox->opset < 13 ? "; before opset 13 only on [N, F]" : "");
        return false;
    }
    layer(ox, n, "softmax", x, NULL, NULL, rank);
    return true;
}

/* Flatten(axis=1): [N, C, H, W] -> [N, C*H*W]; of [N, F] it changes nothing. */
static bool tr_flatten(Ox *ox, const Onnx__NodeProto *n)
{
    int64_t axis;
    int x = tensor_in(ox, n, 0, 0);
    if (x < 0 || !get_int(ox, n, "axis", 1, &axis))
        return false;
    if (axis != 1) {
        ox_node_error(ox, n, "Flatten with axis %lld is not supported (axis 1 only)", (long long)axis);
        return false;
    }
    if (ox->vals[x].rank == 2)
        set_alias(ox, n, x);
    else
        layer(ox, n, "flatten", x, NULL, NULL, 2);
    return true;
}

/* Identity and inference-mode Dropout pass their input on (tensor or constant). */
static bool tr_identity(Ox *ox, const Onnx__NodeProto *n)
{
    int v = value_of(ox, n, 0);
    if (!strcmp(n->op_type, "Dropout") && n->n_input > 2 && *n->input[2]) {
        int t = value_of(ox, n, 2);
        if (ox->vals[t].kind != VAL_CONST || !ox->vals[t].c->i || ox->vals[t].c->numel != 1 || ox->vals[t].c->i[0]) {
            ox_node_error(ox, n, "training_mode must be a constant false");
            return false;
        }
    }
    set_alias(ox, n, v);
    return true;
}

/* Constant: value (a tensor), value_float(s), value_int(s). */
static bool tr_constant(Ox *ox, const Onnx__NodeProto *n)
{
    if (n->n_attribute != 1) {
        ox_node_error(ox, n, "a Constant needs exactly one value attribute");
        return false;
    }
    const Onnx__AttributeProto *a = n->attribute[0];
    OxConst *c;
    const char *name = a->name ? a->name : "";
    if (!strcmp(name, "value") && a->t)
        c = ox_decode_tensor(ox, a->t, ox_printf("Constant '%s'", ox_node_name(n)));
    else if (!strcmp(name, "value_float") || !strcmp(name, "value_floats")) {
        c = ox_alloc(sizeof *c);
        bool one = name[11] == 0;
        c->numel = one ? 1 : (int64_t)a->n_floats;
        c->rank = !one;
        c->dims[0] = c->numel;
        c->f = one ? ox_alloc(sizeof *c->f) : a->floats;
        if (one) c->f[0] = a->f;
    } else if (!strcmp(name, "value_int") || !strcmp(name, "value_ints")) {
        c = ox_alloc(sizeof *c);
        bool one = name[9] == 0;
        c->numel = one ? 1 : (int64_t)a->n_ints;
        c->rank = !one;
        c->dims[0] = c->numel;
        c->i = one ? ox_alloc(sizeof *c->i) : a->ints;
        if (one) c->i[0] = a->i;
    } else {
        ox_node_error(ox, n, "a Constant's '%s' attribute is not supported", name);
        return false;
    }
    c->name = out_name(n);
    int v = ox_find_value(ox, out_name(n));
    ox->vals[v].kind = VAL_CONST;
    ox->vals[v].c = c;
    return true;
}

static const OpRow ops[] = {
    {"Conv", 2, 3, 1, "auto_pad dilations group kernel_shape pads strides", tr_conv},
    {"ConvTranspose", 2, 3, 1, "auto_pad dilations group kernel_shape output_padding output_shape pads strides", tr_conv_transpose},
    {"BatchNormalization", 5, 5, 1, "epsilon momentum training_mode spatial", tr_batchnorm},
    {"Relu", 1, 1, 1, "", tr_relu},
    {"LeakyRelu", 1, 1, 1, "alpha", tr_leaky_relu},
    {"Sigmoid", 1, 1, 1, "", tr_sigmoid},
    {"Tanh", 1, 1, 1, "", tr_tanh},
    {"Clip", 1, 3, 1, "min max", tr_clip},
    {"Mul", 2, 2, 1, "", tr_mul},
    {"MaxPool", 1, 1, 1, "auto_pad ceil_mode dilations kernel_shape pads storage_order strides", tr_maxpool},
    {"AveragePool", 1, 1, 1, "auto_pad ceil_mode count_include_pad kernel_shape pads strides", tr_avgpool},
    {"GlobalAveragePool", 1, 1, 1, "", tr_global_avgpool},
    {"Resize", 1, 4, 1, "coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value mode nearest_mode", tr_resize},
    {"Upsample", 1, 2, 1, "mode scales", tr_upsample},
    {"Concat", 1, 1 << 20, 1, "axis", tr_concat},
    {"Add", 2, 2, 1, "", tr_add},
    {"Flatten", 1, 1, 1, "axis", tr_flatten},
    {"Gemm", 2, 3, 1, "alpha beta transA transB", tr_gemm},
    {"MatMul", 2, 2, 1, "", tr_matmul},
    {"Softmax", 1, 1, 1, "axis", tr_softmax},
    {"Pad", 1, 3, 1, "mode pads value", tr_pad},
    {"Dropout", 1, 3, 1, "ratio seed is_test", tr_identity},
    {"Identity", 1, 1, 1, "", tr_identity},
    {"Constant", 0, 0, 1, "value value_float value_floats value_int value_ints", tr_constant},
};

static const OpRow *find_row(const char *op)
{
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        if (!strcmp(ops[k].op, op))
            return &ops[k];
    return NULL;
}

static bool word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    if (!n)   /* an attribute named "": strstr would match at every position, past the end */
        return false;
    for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return true;
    return false;
}

/* What every row shares: the op is known, its inputs were not reported,
 * their count fits, every attribute is understood, extra outputs are unread. */
static bool generic_checks(Ox *ox, const Onnx__NodeProto *n, const OpRow *r)
{
    for (size_t k = 0; k < n->n_input; k++) {
        int v = value_of(ox, n, k);
        if (v >= 0 && ox->vals[v].kind == VAL_BAD)
            return false;
    }
    if ((int)n->n_input < r->min_in || (int)n->n_input > r->max_in || !n->n_output) {
        ox_node_error(ox, n, "has %zu inputs and %zu outputs; %d to %d inputs expected", n->n_input, n->n_output,
                      r->min_in, r->max_in);
        return false;
    }
    for (size_t k = 0; k < (size_t)r->min_in; k++)
        if (value_of(ox, n, k) < 0) {
            ox_node_error(ox, n, "input %zu is missing", k + 1);
            return false;
        }
    for (size_t k = 0; k < n->n_attribute; k++)
        if (!n->attribute[k]->name || !word_in(r->attrs, n->attribute[k]->name)) {
            ox_node_error(ox, n, "attribute '%s' is not supported", n->attribute[k]->name ? n->attribute[k]->name : "");
            return false;
        }
    for (size_t k = (size_t)r->max_out; k < n->n_output; k++) {
        int v = n->output[k] && *n->output[k] ? ox_find_value(ox, n->output[k]) : -1;
        if (v >= 0 && ox->vals[v].uses) {
            ox_node_error(ox, n, "output %zu ('%s') is used; convc computes only the first", k + 1, n->output[k]);
            return false;
        }
    }
    if (!n->output[0] || !*n->output[0]) {
        ox_node_error(ox, n, "its first output has no name");
        return false;
    }
    return true;
}

void ox_translate_node(Ox *ox, const Onnx__NodeProto *n)
{
    const char *op = n->op_type ? n->op_type : "";
    const char *domain = n->domain ? n->domain : "";
    const OpRow *r = *domain && strcmp(domain, "ai.onnx") ? NULL : find_row(op);
    if (!r) {
        ox_node_error(ox, n, "op '%s'%s is not supported", op, *domain ? ox_printf(" of domain '%s'", domain) : "");
        return;
    }
    if (generic_checks(ox, n, r))
        r->fn(ox, n);
}
