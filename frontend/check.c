/*
 * check.c - from the AST to checked Graphs: name resolution, block expansion
 * and argument binding; the shape rules themselves are in rules.c.
 *
 * Each network is executed statement by statement in a Scope. A block call
 * is expanded in a fresh Scope whose layer names are prefixed with the
 * instance name ("down1.c1") and whose state_dict keys with the instance key
 * (the instance name, or its name="..." override). Blocks see their
 * parameters, their own names and other blocks, never the caller's names.
 * `if` and `for` are executed during expansion over compile-time integers
 * and booleans: only the chosen body runs, a loop body runs once per value
 * in the same Scope (names an if / for body assigns may be rebound; a
 * rebinding that makes a layer names it name_N, so layer names stay unique).
 *
 * Error handling: every error makes its value V_POISON; consumers of a
 * poisoned value stay silent, so each independent mistake is reported once.
 * The same diagnostic from several instances of a block is printed once
 * (diag.c). Recursion between blocks and block nesting deeper than
 * MAX_CALL_DEPTH are errors; the C recursion depth is bounded by
 * AST_MAX_DEPTH * MAX_CALL_DEPTH.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

/* MAX_EVAL_DEPTH bounds expression nesting through block calls (each level
 * of a single expression is already bounded by AST_MAX_DEPTH), so that the
 * C stack stays small even under AddressSanitizer. */
enum { MAX_CALL_DEPTH = 64, MAX_EVAL_DEPTH = 500 };

typedef struct { const char *name; Value v; Node *def; } Binding;

typedef struct {
    Binding *b;
    int n, cap;
    PtrMap index;              /* name -> binding */
    PtrMap declared;           /* names bound anywhere in this body: generated names avoid them */
    const char *prefix;        /* layer-name prefix: "" or "down1." */
    const char *key_prefix;    /* state_dict prefix */
    Node *block;               /* NULL in a network */
    PtrMap taken;              /* bound names already used for a layer or instance name */
    PtrMap rebind;             /* names assigned in some if / for body: they may be assigned again */
} Scope;

typedef struct { Node *block; SrcSpan call; const char *inst; } Frame;

typedef struct {
    Arena *a;
    const NodeList *items;
    PtrMap blocks;             /* block name -> item index */
    Layer *layers;             /* the graph being built */
    int nlayers, cap;
    int *inputs, ninputs, incap;
    int *outputs, noutputs, outcap;
    const char **out_names;
    int onames, onames_cap;
    PtrMap out_seen;           /* output name -> index into out_spans */
    SrcSpan *out_spans;
    int nout_spans, out_spans_cap;
    PtrMap gen;                /* base name -> last generated number */
    PtrMap keys;               /* state_dict key -> layer */
    Frame stack[MAX_CALL_DEPTH];
    int depth;
    bool syntax_errors;        /* the parser dropped statements: no "unused" or "missing" follow-ups */
    PtrMap *dropped;           /* names written in dropped text: never "undefined" */
    bool aborted;              /* the network grew too large or too deep: stop evaluating */
    int eval_depth;            /* nested eval() calls */
    int expansions;            /* block instances so far (bounded by LIMIT_LAYERS) */
    int iterations;            /* loop iterations so far (bounded by LIMIT_LAYERS) */
    int64_t name_bytes;        /* layer names, keys and instance prefixes so far (LIMIT_NAME_BYTES) */
} Ctx;

static Value eval(Ctx *c, Scope *s, Node *n, const char *bind);
static Value eval_node(Ctx *c, Scope *s, Node *n, const char *bind);

static Value poison(void) { return (Value){.k = V_POISON}; }

static const char *value_desc(const Value *v)
{
    static const char *const d[] = {[V_POISON] = "an invalid value", [V_INT] = "an integer",
        [V_FLOAT] = "a float", [V_BOOL] = "a boolean", [V_STRING] = "a string", [V_WORD] = "a bare word",
        [V_PAIR] = "a pair", [V_QUAD] = "four integers", [V_TENSOR] = "a tensor"};
    if (v->k == V_PAIR && v->n == 3)
        return "three numbers";
    return d[v->k];
}

/* The text of a string or integer, for keys built from parts ("layer" + i). */
static const char *key_text(Ctx *c, const Value *v)
{
    return v->k == V_STRING ? v->s : arena_printf(c->a, "%lld", (long long)v->i[0]);
}

/* ---- scopes --------------------------------------------------------------- */

static Binding *lookup(Scope *s, const char *name)
{
    int *i = ptrmap_get(&s->index, name);
    return i ? &s->b[*i] : NULL;
}

/* Where a binding's name was written. */
static SrcSpan def_name_span(const Node *d)
{
    if (d->kind == N_INPUT) return d->input.name_span;
    if (d->kind == N_FOR) return d->loop.var_span;
    if (d->kind == N_PARAM || d->kind == N_UNPACK) return d->span;
    return d->bind.name_span;
}

static void bind(Ctx *c, Scope *s, const char *name, Value v, Node *def)
{
    VEC_PUSH(c->a, s->b, s->n, s->cap, ((Binding){name, v, def}));
    ptrmap_put(c->a, &s->index, name, s->n - 1);
}

/* The names a body binds (generated names avoid them), and those bound
 * inside an if or for body (they may be rebound). */
static void declare_body(Ctx *c, Scope *s, const NodeList *body, bool nested)
{
    for (int i = 0; i < body->n; i++) {
        Node *st = body->v[i];
        if (st->kind == N_ASSIGN) ptrmap_put(c->a, &s->declared, st->bind.name, 1);
        if (st->kind == N_ASSIGN && nested) ptrmap_put(c->a, &s->rebind, st->bind.name, 1);
        if (st->kind == N_INPUT) ptrmap_put(c->a, &s->declared, st->input.name, 1);
        for (int j = 0; st->kind == N_UNPACK && j < st->unpack.names.n; j++) {
            ptrmap_put(c->a, &s->declared, st->unpack.names.v[j]->str, 1);
            if (nested) ptrmap_put(c->a, &s->rebind, st->unpack.names.v[j]->str, 1);
        }
        if (st->kind == N_IF) { declare_body(c, s, &st->cond.then, true); declare_body(c, s, &st->cond.els, true); }
        if (st->kind == N_FOR) declare_body(c, s, &st->loop.body, true);
    }
}

/* "in block 'double_conv' (instance 'down1')" notes, innermost first. */
static void context_notes(Ctx *c)
{
    for (int i = c->depth - 1; i >= 0; i--)
        diag_note(c->stack[i].call, "in block '%s' (instance '%s')", c->stack[i].block->def.name, c->stack[i].inst);
}

/* A name written in text that a syntax error made the parser skip is
 * most likely defined there, so it is not reported; other undefined names
 * are, also in a file with syntax errors. */
static void report_undefined(Ctx *c, Scope *s, const Value *v)
{
    if (ptrmap_get(c->dropped, v->s))
        return;
    const char **cands = arena_alloc(c->a, (size_t)(s->n + 2) * sizeof *cands);
    for (int i = 0; i < s->n; i++)
        cands[i] = s->b[i].name;
    cands[s->n] = "true";     /* bias=False from PyTorch habits */
    cands[s->n + 1] = "false";
    const char *sug = diag_suggest(v->s, cands, s->n + 2);
    if (sug)
        diag_error(v->span, "undefined name '%s'; did you mean '%s'?", v->s, sug);
    else
        diag_error(v->span, "undefined name '%s'", v->s);
    context_notes(c);
}

/* True for a tensor; reports anything else but poison. */
static bool need_tensor(Ctx *c, Scope *s, const Value *v, const char *what)
{
    if (v->k == V_TENSOR) return true;
    if (v->k == V_WORD) report_undefined(c, s, v);
    else if (v->k != V_POISON) {
        diag_error(v->span, "%s must be a tensor, got %s", what, value_desc(v));
        context_notes(c);
    }
    return false;
}

/* ---- layers and names --------------------------------------------------- */

/* Counts the bytes of names the expansion made: block instances nested
 * deeply make long names, and exponentially many of them, so the names
 * (not only the layer count) bound the compiler's memory. */
static bool charge_names(Ctx *c, SrcSpan sp, const char *a, const char *b)
{
    c->name_bytes += (int64_t)strlen(a) + (b ? (int64_t)strlen(b) : 0);
    if (c->name_bytes <= LIMIT_NAME_BYTES)
        return true;
    if (!c->aborted)
        diag_error(sp, "the network is too large (its layer and block instance names add up to more than %d bytes)",
                   LIMIT_NAME_BYTES);
    c->aborted = true;
    return false;
}

static int push_layer(Ctx *c, Layer *L)
{
    if (c->nlayers >= LIMIT_LAYERS) {
        diag_error(L->span, "the network is too large (more than %d layers)", LIMIT_LAYERS);
        c->aborted = true;
        return -1;
    }
    VEC_PUSH(c->a, c->layers, c->nlayers, c->cap, *L);
    return c->nlayers - 1;
}

/* base_N, the next N for this base that no name of the scope uses. */
static const char *gen_name(Ctx *c, Scope *s, const char *base)
{
    base = intern(c->a, base, strlen(base));
    int *last = ptrmap_get(&c->gen, base);
    int n = last ? *last : 0;
    const char *name;
    do {
        char *t = arena_printf(c->a, "%s_%d", base, ++n);
        name = intern(c->a, t, strlen(t));
    } while (ptrmap_get(&s->declared, name));
    ptrmap_put(c->a, &c->gen, base, n);
    return name;
}

static bool set_key(Ctx *c, Layer *L, const char *key)
{
    L->key = intern(c->a, key, strlen(key));
    if (!charge_names(c, L->span, L->key, NULL))
        return false;
    int *other = ptrmap_get(&c->keys, L->key);
    if (!other) {
        ptrmap_put(c->a, &c->keys, L->key, c->nlayers);
        return true;
    }
    diag_error(L->span, "state_dict key '%s' is used by two layers", L->key);
    context_notes(c);
    diag_note(c->layers[*other].span, "'%s' has that key already", c->layers[*other].name);
    return false;
}

/* Whether a layer of an op with parameters has state_dict tensors with its
 * attributes: a normalisation without affine parameters and without running
 * statistics (instance_norm(x), group_norm(x, 4, affine=false)) has none. */
static bool has_tensors(const Layer *L)
{
    if (L->op == OP_GROUP_NORM || L->op == OP_LAYER_NORM)
        return L->affine;
    if (L->op == OP_INSTANCE_NORM)
        return L->affine || L->running_stats;
    return true;
}

/* Layer name: prefix + bound name, or a generated one. Layers with weights
 * need a key: prefix + name, or key prefix + name="..." override. */
static bool name_layer(Ctx *c, Scope *s, Layer *L, const char *bind, const Value *override)
{
    const char *op = fe_op_names[L->op];
    L->name = arena_printf(c->a, "%s%s", s->prefix, bind ? bind : gen_name(c, s, op));
    if (!charge_names(c, L->span, L->name, NULL))
        return false;
    if (!(op_spec(L->op)->flags & OPF_PARAMS))
        return true;
    if (override && override->k == V_STRING && !override->s[0]) {
        diag_error(override->span, "name=\"\" cannot be empty: it is a state_dict key");
        context_notes(c);
        return false;
    }
    if (override && override->k == V_STRING)
        return set_key(c, L, arena_printf(c->a, "%s%s", s->key_prefix, override->s));
    if (bind)
        return set_key(c, L, arena_printf(c->a, "%s%s", s->key_prefix, bind));
    if (!has_tensors(L))
        return true;
    diag_error(L->span, "%s has learnable parameters, so it must be bound to a name (c = %s(...)) or given name=\"...\"",
               op, op);
    context_notes(c);
    return false;
}

/* ---- argument binding --------------------------------------------------- */

/* The bare words some op argument accepts. */
static bool known_word(const char *w)
{
    static const char *const words[] = {"same", "valid", "nearest", "bilinear", "bicubic", "nearest_exact",
                                        "zeros", "constant", "reflect", "replicate", "circular"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(w, words[i]))
            return true;
    return false;
}


/* The bare words an argument accepts ("same|valid"), or NULL. */
static const char *enum_words(const OpSpec *sp, const char *arg, size_t *len)
{
    size_t n = strlen(arg);
    for (const char *p = sp->enums; p && *p; p += strcspn(p, " "), p += *p == ' ') {
        if (!strncmp(p, arg, n) && p[n] == ':') {
            *len = strcspn(p + n + 1, " ");
            return p + n + 1;
        }
    }
    return NULL;
}

static bool word_allowed(const char *words, size_t len, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = words; p < words + len; p += strcspn(p, "| ") + 1)
        if (!strncmp(p, w, n) && (p[n] == '|' || p[n] == ' ' || p + n == words + len))
            return true;
    return false;
}

static void bad_word(Ctx *c, const OpCall *k, const ArgSpec *a, const Value *v, const char *words, size_t len)
{
    const char *cands[8];
    char buf[8][24];
    int n = 0;
    for (const char *p = words; p < words + len && n < 8; p += strcspn(p, "| ") + 1, n++) {
        snprintf(buf[n], sizeof buf[n], "%.*s", (int)strcspn(p, "| "), p);
        cands[n] = buf[n];
    }
    const char *sug = diag_suggest(v->s, cands, n);
    diag_error(v->span, "invalid value '%s' for %s of %s (expected %.*s)%s%s%s", v->s, a->name, k->spec->name,
               (int)len, words, sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    context_notes(c);
}

static const char *type_desc(ArgType t)
{
    switch (t) {
    case ARG_INT: return "an integer";
    case ARG_INTPAIR: return "an integer or a pair (h, w)";
    case ARG_PADDING: return "an integer, a pair (h, w), same or valid";
    case ARG_BOOL: return "true or false";
    case ARG_FLOAT: return "a number";
    case ARG_FLOATPAIR: return "a number or a pair (h, w)";
    case ARG_ENUM: return "a word";
    case ARG_STRING: return "a string";
    case ARG_SHAPE: return "an integer, a pair (h, w) or a shape (c, h, w)";
    case ARG_TENSOR: return "a tensor";
    case ARG_PAD4: return "an integer, (left, right) or (left, right, top, bottom)";
    }
    return "?";
}

/* Checks v against the argument's type, normalising ints to floats where a
 * number is wanted; stores it in k. */
static bool convert_arg(Ctx *c, Scope *s, OpCall *k, int idx, Value v)
{
    const ArgSpec *a = &k->spec->args[idx];
    size_t wl = 0;
    const char *words = enum_words(k->spec, a->name, &wl);
    bool ok = false;
    k->given[idx] = true;   /* even when wrong: no "missing argument" follow-up */
    if (v.k == V_POISON)
        return false;
    if (v.k == V_STRING && words)   /* padding="same", as written in PyTorch */
        v.k = V_WORD;
    if (v.k == V_INT && a->type == ARG_STRING)   /* name=i: a key part */
        v = (Value){.k = V_STRING, .s = key_text(c, &v), .span = v.span};
    if (v.k == V_WORD && words) {
        if (!word_allowed(words, wl, v.s)) { bad_word(c, k, a, &v, words, wl); return false; }
        ok = true;
    } else if (v.k == V_WORD && !known_word(v.s)) {
        report_undefined(c, s, &v);
        return false;
    } else switch (a->type) {
    case ARG_INT: ok = v.k == V_INT; break;
    case ARG_SHAPE: ok = v.k == V_INT || (v.k == V_PAIR && !v.is_float); break;
    case ARG_INTPAIR: case ARG_PADDING: ok = v.k == V_INT || (v.k == V_PAIR && v.n == 2 && !v.is_float); break;
    case ARG_BOOL: ok = v.k == V_BOOL; break;
    case ARG_FLOAT: ok = v.k == V_INT || v.k == V_FLOAT; break;
    case ARG_FLOATPAIR: ok = v.k == V_INT || v.k == V_FLOAT || (v.k == V_PAIR && v.n == 2); break;
    case ARG_STRING: ok = v.k == V_STRING; break;
    case ARG_TENSOR: ok = v.k == V_TENSOR; break;
    case ARG_PAD4: ok = v.k == V_INT || v.k == V_QUAD || (v.k == V_PAIR && v.n == 2 && !v.is_float); break;
    case ARG_ENUM: break;   /* something other than one of its bare words */
    }
    if (!ok) {
        diag_error(v.span, "argument '%s' of %s must be %s, got %s", a->name, k->spec->name, type_desc(a->type),
                   value_desc(&v));
        context_notes(c);
        return false;
    }
    if (v.k == V_INT) v.f[0] = v.f[1] = (double)v.i[0];
    if (v.k == V_FLOAT) v.f[1] = v.f[0];
    k->arg[idx] = v;
    k->given[idx] = true;
    return true;
}

static Value default_value(const ArgSpec *a)
{
    Value v = {.k = V_POISON};
    if (!a->def) return v;
    if (a->type == ARG_BOOL) return (Value){.k = V_BOOL, .b = !strcmp(a->def, "true")};
    if (a->type == ARG_FLOAT) { double f = strtod(a->def, NULL); return (Value){.k = V_FLOAT, .f = {f, f}}; }
    if (isdigit((unsigned char)a->def[0])) {
        int64_t i = strtoll(a->def, NULL, 10);
        return (Value){.k = V_INT, .i = {i, i}, .f = {(double)i, (double)i}};
    }
    return (Value){.k = V_WORD, .s = a->def};
}

/* "conv2d(x, out_channels, kernel_size, stride=1, ...)" for notes. */
static const char *signature(Ctx *c, const OpSpec *sp)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s(%s", sp->name, sp->ntensors < 0 ? "x, ..." : sp->ntensors == 2 ? "a, b" : "x");
    for (int i = 0; i < sp->nargs && n < (int)sizeof buf - 64; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ", %s%s%s", sp->args[i].name, sp->args[i].def ? "=" : "",
                      sp->args[i].def ? sp->args[i].def : "");
    snprintf(buf + n, sizeof buf - (size_t)n, ")");
    return arena_strndup(c->a, buf, strlen(buf));
}

/* PyTorch-habit spellings of keyword arguments (kernel=3 for kernel_size=3). */
static const char *const torch_keywords[][2] = {
    {"kernel", "kernel_size"}, {"k", "kernel_size"}, {"pad", "padding"}, {"scale", "scale_factor"},
    {"out_ch", "out_channels"}, {"out", "out_channels"}, {"in_ch", "in_channels"}, {"channels", "out_channels"},
    {"out_ch", "out_features"}, {"out_channels", "out_features"}, {"in_channels", "in_features"},
    {"slope", "negative_slope"}, {"alpha", "negative_slope"}, {"size", "kernel_size"}, {"axis", "dim"},
};

static const char *keyword_suggestion(const OpSpec *sp, const char *name)
{
    for (size_t i = 0; i < sizeof torch_keywords / sizeof *torch_keywords; i++)
        if (!strcmp(name, torch_keywords[i][0]) && op_arg_index(sp, torch_keywords[i][1]) >= 0)
            return torch_keywords[i][1];
    const char *cands[MAX_OP_ARGS];
    for (int i = 0; i < sp->nargs; i++) cands[i] = sp->args[i].name;
    return diag_suggest(name, cands, sp->nargs);
}

/* name=value. An unknown keyword is one error; the op's signature is shown
 * once per call (*sig), and no "missing argument" follows (the misspelt
 * keyword is most likely the missing argument). */
static bool bind_keyword(Ctx *c, Scope *s, OpCall *k, Node *a, bool *sig)
{
    Value v = eval(c, s, a->bind.value, NULL);
    if (!strcmp(a->bind.name, "share") && (k->spec->flags & OPF_PARAMS)) {
        if (k->share_given) {
            diag_error(a->bind.name_span, "argument 'share' of %s is given twice", k->spec->name);
            context_notes(c);
            return false;
        }
        k->share_given = true;
        k->share = v;
        /* a broken owner is reported where it is; this layer's own arguments are still checked */
        return v.k == V_POISON || need_tensor(c, s, &v, "share=");
    }
    int idx = op_arg_index(k->spec, a->bind.name);
    if (idx < 0) {
        const char *sug = keyword_suggestion(k->spec, a->bind.name);
        diag_error(a->bind.name_span, "unknown keyword argument '%s' for %s%s%s%s", a->bind.name, k->spec->name,
                   sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        context_notes(c);
        if (!*sig) diag_note(k->span, "%s", signature(c, k->spec));
        *sig = true;
        return false;
    }
    if (k->given[idx]) {
        diag_error(a->bind.name_span, "argument '%s' of %s is given twice", a->bind.name, k->spec->name);
        context_notes(c);
        return false;
    }
    return convert_arg(c, s, k, idx, v);
}

/* The idx-th positional (not keyword-only) argument slot, or -1. */
static int positional_slot(const OpSpec *sp, int idx)
{
    for (int i = 0; i < sp->nargs; i++)
        if (!sp->args[i].kwonly && idx-- == 0)
            return i;
    return -1;
}

static bool bind_positional(Ctx *c, Scope *s, OpCall *k, Node *a, int pos, int *tcap)
{
    Value v = eval(c, s, a, NULL);
    if (k->spec->ntensors < 0 || pos < k->spec->ntensors) {
        VEC_PUSH(c->a, k->tensors, k->ntensors, *tcap, v);
        return need_tensor(c, s, &v, "this argument");
    }
    int slot = positional_slot(k->spec, pos - k->spec->ntensors);
    if (slot < 0) {
        diag_error(a->span, "too many arguments to %s", k->spec->name);
        context_notes(c);
        diag_note(k->span, "%s", signature(c, k->spec));
        return false;
    }
    k->given[slot] = true;
    if (v.k == V_TENSOR && k->spec->args[slot].type != ARG_STRING) {
        diag_error(v.span, "%s takes %d tensor input%s; argument '%s' must be %s", k->spec->name,
                   k->spec->ntensors, k->spec->ntensors == 1 ? "" : "s", k->spec->args[slot].name,
                   type_desc(k->spec->args[slot].type));
        context_notes(c);
        return false;
    }
    return convert_arg(c, s, k, slot, v);
}

/* Tensor inputs and required arguments; missing ones are reported in one
 * error unless `quiet` (after an unknown keyword). */
static bool check_arity(Ctx *c, OpCall *k, bool quiet)
{
    const OpSpec *sp = k->spec;
    bool ok = true;
    if (sp->ntensors >= 0 ? k->ntensors < sp->ntensors : k->ntensors == 0) {
        diag_error(k->span, "%s needs %s%d tensor input%s, got %d", sp->name, sp->ntensors < 0 ? "at least " : "",
                   sp->ntensors < 0 ? 1 : sp->ntensors, sp->ntensors == 1 || sp->ntensors < 0 ? "" : "s", k->ntensors);
        context_notes(c);
        diag_note(k->span, "%s", signature(c, sp));
        return false;
    }
    char missing[256] = "";
    int nmiss = 0;
    for (int i = 0; i < sp->nargs; i++) {
        if (k->given[i]) continue;
        if (sp->args[i].required) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s'%s'", nmiss ? " and " : "", sp->args[i].name);
            nmiss++;
            ok = false;
        }
        k->arg[i] = default_value(&sp->args[i]);
        k->arg[i].span = k->span;
    }
    if (nmiss && !quiet) {
        diag_error(k->span, "missing argument%s %s of %s", nmiss > 1 ? "s" : "", missing, sp->name);
        context_notes(c);
        diag_note(k->span, "%s", signature(c, sp));
    }
    return ok;
}

static bool bind_op_args(Ctx *c, Scope *s, Node *n, OpCall *k)
{
    bool ok = true, sig = false;
    int pos = 0, tcap = 0;
    for (int i = 0; i < n->call.args.n; i++) {
        Node *a = n->call.args.v[i];
        if (a->kind == N_KWARG)
            ok &= bind_keyword(c, s, k, a, &sig);
        else
            ok &= bind_positional(c, s, k, a, pos++, &tcap);
    }
    return check_arity(c, k, sig) && ok;
}

/* ---- expressions -------------------------------------------------------- */

static Value int_value(int64_t i, SrcSpan sp) { return (Value){.k = V_INT, .i = {i, i}, .span = sp}; }

static Value tensor_value(int layer, SrcSpan sp, const char *label)
{
    return (Value){.k = V_TENSOR, .layer = layer, .span = sp, .def = sp, .label = label};
}

/* The state_dict tensors of a normalisation: weight and bias [C] (layer_norm:
 * normalized_shape) with affine, running_mean and running_var [C] with
 * running statistics. */
static const char *norm_shapes(Ctx *c, const Layer *L)
{
    Shape s = L->shape;
    long long d[3] = {s.c, s.h, s.w};
    int n = L->op == OP_LAYER_NORM ? L->norm_dims : 1;
    const long long *last = L->op == OP_LAYER_NORM && s.rank == 3 ? d + 3 - n : d;
    const char *dims = n == 1 ? arena_printf(c->a, "[%lld]", last[0])
                     : n == 2 ? arena_printf(c->a, "[%lld, %lld]", last[0], last[1])
                              : arena_printf(c->a, "[%lld, %lld, %lld]", last[0], last[1], last[2]);
    const char *stats = arena_printf(c->a, "running_mean and running_var [%lld]", (long long)s.c);
    if (L->affine)
        return L->running_stats ? arena_printf(c->a, "weight and bias %s, %s", dims, stats)
                                : arena_printf(c->a, "weight and bias %s", dims);
    return L->running_stats ? arena_printf(c->a, "%s (no weight and bias)", stats) : "no state_dict tensors";
}

/* "[16, 8, 3, 3] and [16]": the parameter shapes of a layer with parameters. */
static const char *param_shapes(Ctx *c, const Layer *L)
{
    long long ci = L->in_channels, co = L->out_channels, g = L->groups > 0 ? L->groups : 1;
    long long kh = L->kernel[0], kw = L->kernel[1];
    const char *bias = L->bias ? arena_printf(c->a, " and bias [%lld]", co) : " (no bias)";
    switch (L->op) {
    case OP_CONV2D: return arena_printf(c->a, "weight [%lld, %lld, %lld, %lld]%s", co, ci / g, kh, kw, bias);
    case OP_CONV_TRANSPOSE2D: return arena_printf(c->a, "weight [%lld, %lld, %lld, %lld]%s", ci, co / g, kh, kw, bias);
    case OP_LINEAR: return arena_printf(c->a, "weight [%lld, %lld]%s", co, ci, bias);
    case OP_PRELU: return arena_printf(c->a, "weight [%lld]", (long long)L->num_parameters);
    case OP_BATCHNORM2D: case OP_GROUP_NORM: case OP_INSTANCE_NORM: case OP_LAYER_NORM: return norm_shapes(c, L);
    case OP_INPUT: case OP_RELU: case OP_RELU6: case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH:
    case OP_SILU: case OP_MAXPOOL2D: case OP_AVGPOOL2D: case OP_GLOBAL_AVGPOOL: case OP_UPSAMPLE:
    case OP_ADAPTIVE_AVGPOOL2D: case OP_ADAPTIVE_MAXPOOL2D: case OP_GLOBAL_MAXPOOL: case OP_PAD:
    case OP_CONCAT: case OP_ADD: case OP_CROP: case OP_FLATTEN: case OP_SOFTMAX: case OP_DROPOUT:
    case OP_SUB: case OP_MUL: case OP_ADD_SCALAR: case OP_SUB_SCALAR: case OP_RSUB_SCALAR:
    case OP_MUL_SCALAR: case OP_HARDSWISH: case OP_HARDSIGMOID: case OP_GELU: case OP_ELU: case OP_SELU:
    case OP_SOFTPLUS: case OP_MISH: case OP_HARDTANH: case OP_LOG_SOFTMAX: case OP_PIXEL_SHUFFLE:
    case OP_PIXEL_UNSHUFFLE: case OP_CHANNEL_SHUFFLE: case OP_SLICE: case OP_RESHAPE: case OP_UNFLATTEN:
    case OP_CHUNK: case OP_SPLIT: case OP_COUNT: return arena_printf(c->a, "%lld channels", (long long)L->shape.c);
    }
    return "";
}

/* share=other: this layer uses other's parameters under other's key (PyTorch
 * calling one module twice). other must be a layer of the same op with
 * parameters of the same shapes; this layer then needs no name and counts
 * no parameters of its own. False only when the layer cannot be named: a
 * wrong share= is reported and the layer kept without a key, since its
 * output shape comes from its own arguments and errors downstream of it
 * are independent. A later share= of a keyless layer reports nothing more. */
static bool share_layer(Ctx *c, Scope *s, const OpCall *k, Layer *L, const char *bind, const Value *override)
{
    L->name = arena_printf(c->a, "%s%s", s->prefix, bind ? bind : gen_name(c, s, fe_op_names[L->op]));
    if (!charge_names(c, L->span, L->name, NULL))
        return false;
    L->shared = true;
    if (override) {
        diag_error(override->span, "%s with share= uses the key of the layer it shares; it takes no name=",
                   k->spec->name);
        context_notes(c);
        return true;
    }
    if (k->share.k != V_TENSOR)
        return true;   /* the owner had an error, already reported */
    const Layer *o = &c->layers[k->share.layer];
    if (o->shared && !o->key)
        return true;   /* o's share= was wrong, already reported */
    if (o->op != L->op || !o->key) {
        diag_error(k->share.span, "share= needs a %s layer to take the parameters of, but '%s' is the output of %s",
                   k->spec->name, k->share.label, fe_op_names[o->op]);
        context_notes(c);
        diag_note(k->share.def, "'%s' is defined here", k->share.label);
        return true;
    }
    const char *mine = param_shapes(c, L), *theirs = param_shapes(c, o);
    if (strcmp(mine, theirs)) {
        diag_error(k->share.span, "%s cannot share the parameters of '%s': it needs %s, '%s' has %s",
                   k->spec->name, k->share.label, mine, k->share.label, theirs);
        context_notes(c);
        diag_note(o->span, "'%s' (key %s) is defined here", k->share.label, o->key);
        return true;
    }
    L->key = o->key;
    return true;
}

/* Runs the op's rule on bound arguments and appends the layer. */
static Value make_layer(Ctx *c, Scope *s, OpCall *k, const char *bind, const char *label)
{
    Layer L = {.span = k->span, .op = k->op};
    k->layers = c->layers;
    if (!rule_apply(k, &L)) {
        context_notes(c);
        return poison();
    }
    int ni = op_arg_index(k->spec, "name");
    if (k->share_given) {
        if (!share_layer(c, s, k, &L, bind, ni >= 0 && k->given[ni] ? &k->arg[ni] : NULL))
            return poison();
    } else if (!name_layer(c, s, &L, bind, ni >= 0 && k->given[ni] ? &k->arg[ni] : NULL)) {
        return poison();
    }
    L.ninputs = k->ntensors;
    L.inputs = arena_alloc(c->a, (size_t)k->ntensors * sizeof *L.inputs + 1);
    for (int i = 0; i < k->ntensors; i++)
        L.inputs[i] = k->tensors[i].layer;
    int idx = push_layer(c, &L);
    return idx < 0 ? poison() : tensor_value(idx, k->span, label);
}

static Value eval_op(Ctx *c, Scope *s, Node *n, OpKind op, const char *bind)
{
    OpCall k = {.op = op, .spec = op_spec(op), .span = n->span};
    if (!bind_op_args(c, s, n, &k))
        return poison();
    return make_layer(c, s, &k, bind, arena_printf(c->a, "%s(...)", k.spec->name));
}

/* a + b, a - b, a * b on tensors are add, sub and mul (broadcasting). */
static Value eval_tensor_op(Ctx *c, Scope *s, Node *n, Value a, Value b, const char *bind)
{
    Value t[2] = {a, b};
    OpKind op = n->bin.op == '+' ? OP_ADD : n->bin.op == '-' ? OP_SUB : OP_MUL;
    OpCall k = {.op = op, .spec = op_spec(op), .span = n->span, .tensors = t, .ntensors = 2};
    return make_layer(c, s, &k, bind, arena_printf(c->a, "a %c b", n->bin.op));
}

/* x + s, x - s, s - x, x * s, s * x with a number s: the *_scalar ops. */
static Value eval_scalar_op(Ctx *c, Scope *s, Node *n, Value x, Value num, bool num_first, const char *bind)
{
    int o = n->bin.op;
    OpKind op = o == '+' ? OP_ADD_SCALAR : o == '*' ? OP_MUL_SCALAR : num_first ? OP_RSUB_SCALAR : OP_SUB_SCALAR;
    OpCall k = {.op = op, .spec = op_spec(op), .span = n->span, .tensors = &x, .ntensors = 1};
    k.arg[0] = num;
    if (num.k == V_INT)
        k.arg[0].f[0] = k.arg[0].f[1] = (double)num.i[0];
    k.given[0] = true;
    return make_layer(c, s, &k, bind, arena_printf(c->a, num_first ? "s %c x" : "x %c s", o));
}

static Value expand_block(Ctx *c, Scope *s, Node *n, Node *blk, const char *bind);

/* PyTorch's names (torch.nn, torch.nn.functional, tensor methods) for what
 * convc spells differently; `ours` NULL: no such op, `hint` says why. */
static const struct { const char *torch, *ours, *hint; } torch_ops[] = {
    {"adaptive_avg_pool2d", "adaptive_avgpool2d", NULL}, {"AdaptiveAvgPool2d", "adaptive_avgpool2d", NULL},
    {"adaptive_max_pool2d", "adaptive_maxpool2d", NULL}, {"AdaptiveMaxPool2d", "adaptive_maxpool2d", NULL},
    {"mean", "global_avgpool", "global_avgpool(x) is x.mean((2, 3), keepdim=True)"},
    {"interpolate", "upsample", NULL}, {"Upsample", "upsample", NULL}, {"cat", "concat", NULL},
    {"max_pool2d", "maxpool2d", NULL}, {"avg_pool2d", "avgpool2d", NULL}, {"batch_norm", "batchnorm2d", NULL},
    {"ConvTranspose2d", "conv_transpose2d", NULL}, {"LeakyReLU", "leaky_relu", NULL}, {"swish", "silu", NULL},
    {"Identity", NULL, "nn.Identity needs no op: use the tensor itself"},
    {"ZeroPad2d", "pad", "nn.ZeroPad2d(p) is pad(x, p)"},
    {"ConstantPad2d", "pad", "nn.ConstantPad2d(p, v) is pad(x, p, value=v)"},
    {"ReflectionPad2d", "pad", "nn.ReflectionPad2d(p) is pad(x, p, mode=reflect)"},
    {"ReplicationPad2d", "pad", "nn.ReplicationPad2d(p) is pad(x, p, mode=replicate)"},
    {"CircularPad2d", "pad", "nn.CircularPad2d(p) is pad(x, p, mode=circular)"},
};

static bool callable(Ctx *c, const char *name)
{
    return op_lookup(name) >= 0 || ptrmap_get(&c->blocks, name) != NULL;
}

/* The op or block meant by an unknown name: PyTorch's spelling, else the
 * nearest name; *hint explains an alias. */
static const char *callee_suggestion(Ctx *c, const char *name, const char **hint)
{
    *hint = NULL;
    for (size_t i = 0; i < sizeof torch_ops / sizeof *torch_ops; i++)
        if (!strcmp(name, torch_ops[i].torch)) {
            *hint = torch_ops[i].hint;
            return torch_ops[i].ours;
        }
    const char **cands = arena_alloc(c->a, (size_t)(OP_COUNT + c->items->n) * sizeof *cands);
    int m = 0;
    for (int i = 1; i < OP_COUNT; i++) cands[m++] = fe_op_names[i];
    for (int i = 0; i < c->items->n; i++)
        if (c->items->v[i]->kind == N_BLOCK) cands[m++] = c->items->v[i]->def.name;
    return diag_suggest(name, cands, m);
}

static void unknown_callee(Ctx *c, Scope *s, Node *n)
{
    const char *name = n->call.callee, *mod = n->call.module, *hint;
    if (!mod && lookup(s, name)) {
        diag_error(n->call.callee_span, "'%s' is a value, not an op or a block", name);
        context_notes(c);
        return;
    }
    const char *sug = mod && callable(c, name) ? name : callee_suggestion(c, name, &hint);
    if (mod && sug == name) hint = "convc's ops are called without a module prefix";
    SrcSpan at = n->call.callee_span;
    if (mod) at.line = n->call.module_span.line, at.col = n->call.module_span.col;
    diag_error(at, "unknown op or block '%s%s%s'%s%s%s", mod ? mod : "", mod ? "." : "", name,
               sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    context_notes(c);
    if (hint) diag_note(at, "%s", hint);
}

/* Built-in functions of integers: a tensor's extents. */
static const char *const shape_queries[] = {"channels", "height", "width", "features"};

static int shape_query(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, shape_queries[i])) return i;
    return -1;
}

/* channels(x), height(x), width(x) of a [C, H, W] tensor; features(x) of an [F] one. */
static Value eval_shape_query(Ctx *c, Scope *s, Node *n, int q)
{
    const char *what = shape_queries[q];
    Node *a = n->call.args.n == 1 ? n->call.args.v[0] : NULL;
    if (!a || a->kind == N_KWARG) {
        diag_error(n->span, "%s takes one tensor: %s(x)", what, what);
        context_notes(c);
        return poison();
    }
    Value v = eval(c, s, a, NULL);
    if (!need_tensor(c, s, &v, arena_printf(c->a, "the argument of %s", what)))
        return poison();
    const Shape *sh = &c->layers[v.layer].shape;
    if ((sh->rank == 1) != (q == 3)) {
        diag_error(n->span, "%s of '%s', a %s tensor: use %s", what, v.label, sh->rank == 1 ? "flat [F]" : "[C, H, W]",
                   sh->rank == 1 ? "features(x)" : "channels(x), height(x) or width(x)");
        context_notes(c);
        return poison();
    }
    return int_value(q == 1 ? sh->h : q == 2 ? sh->w : sh->c, n->span);
}

/* The arguments of a call that is not made: their names are still resolved. */
static Value eval_call_args(Ctx *c, Scope *s, Node *n)
{
    for (int i = 0; i < n->call.args.n; i++) {
        Node *a = n->call.args.v[i];
        eval(c, s, a->kind == N_KWARG ? a->bind.value : a, NULL);
    }
    return poison();
}

static Value eval_call(Ctx *c, Scope *s, Node *n, const char *bind)
{
    if (n->call.module) {   /* F.relu(...): reported, then checked as relu(...) */
        unknown_callee(c, s, n);
        if (!callable(c, n->call.callee))
            return eval_call_args(c, s, n);
    }
    int q = n->call.module ? -1 : shape_query(n->call.callee);
    if (q >= 0)
        return eval_shape_query(c, s, n, q);
    if (!strcmp(n->call.callee, "range")) {
        diag_error(n->call.callee_span, "range(...) is only allowed in a 'for' statement: for i in range(n) { ... }");
        context_notes(c);
        return eval_call_args(c, s, n);
    }
    int op = op_lookup(n->call.callee);
    if (op >= 0)
        return eval_op(c, s, n, (OpKind)op, bind);
    int *bi = ptrmap_get(&c->blocks, n->call.callee);
    if (bi && !c->items->v[*bi]->broken)
        return expand_block(c, s, n, c->items->v[*bi], bind);
    if (!bi)   /* a block with a broken header: its arity is unknown, stay silent */
        unknown_callee(c, s, n);
    return eval_call_args(c, s, n);
}

static Value float_value(double f, SrcSpan sp) { return (Value){.k = V_FLOAT, .f = {f, f}, .span = sp}; }

static bool is_number(const Value *v) { return v->k == V_INT || v->k == V_FLOAT; }

/* Integer + - * /: overflow and division by zero are errors; / rounds toward
 * minus infinity (as Python's //). */
static Value int_arith(Ctx *c, Node *n, int64_t a, int64_t b)
{
    int64_t r = 0;
    bool ovf = false;
    switch (n->bin.op) {
    case '+': ovf = __builtin_add_overflow(a, b, &r); break;
    case '-': ovf = __builtin_sub_overflow(a, b, &r); break;
    case '*': ovf = __builtin_mul_overflow(a, b, &r); break;
    case '/':
        if (b == 0) {
            diag_error(n->bin.rhs->span, "division by zero");
            context_notes(c);
            return poison();
        }
        ovf = a == INT64_MIN && b == -1;
        if (!ovf) r = a / b - (a % b != 0 && (a < 0) != (b < 0));
        break;
    }
    if (ovf) {
        diag_error(n->span, "integer overflow in %lld %c %lld", (long long)a, n->bin.op, (long long)b);
        context_notes(c);
        return poison();
    }
    return int_value(r, n->span);
}

/* Marks the names an untaken branch reads as used, so that a parameter
 * used only there draws no "never used" warning. */
static void mark_used(Scope *s, const Node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_NAME: { Binding *b = lookup(s, n->str); if (b) b->def->used = true; break; }
    case N_CALL: for (int i = 0; i < n->call.args.n; i++) mark_used(s, n->call.args.v[i]); break;
    case N_BINARY: mark_used(s, n->bin.lhs); mark_used(s, n->bin.rhs); break;
    case N_NEG: case N_NOT: case N_RETURN: mark_used(s, n->operand); break;
    case N_TUPLE: case N_OUTPUT: for (int i = 0; i < n->list.n; i++) mark_used(s, n->list.v[i]); break;
    case N_KWARG: case N_ASSIGN: mark_used(s, n->bind.value); break;
    case N_UNPACK: mark_used(s, n->unpack.value); break;
    case N_IF:
        mark_used(s, n->cond.cond);
        for (int i = 0; i < n->cond.then.n; i++) mark_used(s, n->cond.then.v[i]);
        for (int i = 0; i < n->cond.els.n; i++) mark_used(s, n->cond.els.v[i]);
        break;
    case N_FOR: mark_used(s, n->loop.iter); for (int i = 0; i < n->loop.body.n; i++) mark_used(s, n->loop.body.v[i]); break;
    case N_INT: case N_FLOAT: case N_BOOL: case N_STRING: case N_POISON: case N_INPUT: case N_PARAM:
    case N_BLOCK: case N_NETWORK: break;
    }
}

static void mark_list_used(Scope *s, const NodeList *l)
{
    for (int i = 0; i < l->n; i++) mark_used(s, l->v[i]);
}

/* A condition: true or false; anything else is reported (poison is not). */
static int eval_cond(Ctx *c, Scope *s, Node *e, const char *what)
{
    Value v = eval(c, s, e, NULL);
    if (v.k == V_BOOL) return v.b;
    if (v.k == V_WORD) report_undefined(c, s, &v);
    else if (v.k != V_POISON) {
        diag_error(v.span, "%s must be true or false, got %s", what, value_desc(&v));
        context_notes(c);
    }
    return -1;
}

static Value bool_value(bool b, SrcSpan sp) { return (Value){.k = V_BOOL, .b = b, .span = sp}; }

static double num(const Value *v) { return v->k == V_INT ? (double)v->i[0] : v->f[0]; }

/* == != < <= > >= on numbers; == and != also on booleans and on strings
 * and words (mode == "bilinear"). -1: not comparable. */
static int compare(int op, const Value *a, const Value *b)
{
    int ord;
    bool text = (a->k == V_STRING || a->k == V_WORD) && (b->k == V_STRING || b->k == V_WORD);
    if (a->k == V_INT && b->k == V_INT) ord = (a->i[0] > b->i[0]) - (a->i[0] < b->i[0]);
    else if (is_number(a) && is_number(b)) ord = (num(a) > num(b)) - (num(a) < num(b));
    else if (op != BIN_EQ && op != BIN_NE) return -1;
    else if (a->k == V_BOOL && b->k == V_BOOL) ord = a->b != b->b;
    else if (text) ord = strcmp(a->s, b->s) != 0;
    else return -1;
    switch (op) {
    case BIN_EQ: return ord == 0;
    case BIN_NE: return ord != 0;
    case '<': return ord < 0;
    case BIN_LE: return ord <= 0;
    case '>': return ord > 0;
    case BIN_GE: return ord >= 0;
    }
    return -1;
}

static bool is_comparison(int op)
{
    return op == BIN_EQ || op == BIN_NE || op == '<' || op == BIN_LE || op == '>' || op == BIN_GE;
}

/* a and b, a or b: booleans, the right side evaluated only when needed. */
static Value eval_logic(Ctx *c, Scope *s, Node *n)
{
    bool is_and = n->bin.op == BIN_AND;
    int a = eval_cond(c, s, n->bin.lhs, is_and ? "an operand of 'and'" : "an operand of 'or'");
    if (a < 0) return poison();
    if (a != is_and) { mark_used(s, n->bin.rhs); return bool_value(a, n->span); }
    int b = eval_cond(c, s, n->bin.rhs, is_and ? "an operand of 'and'" : "an operand of 'or'");
    return b < 0 ? poison() : bool_value(b, n->span);
}

static Value eval_binary(Ctx *c, Scope *s, Node *n, const char *bind)
{
    if (n->bin.op == BIN_AND || n->bin.op == BIN_OR)
        return eval_logic(c, s, n);
    Value a = eval(c, s, n->bin.lhs, NULL), b = eval(c, s, n->bin.rhs, NULL);
    if (a.k == V_POISON || b.k == V_POISON) return poison();
    bool text_cmp = is_comparison(n->bin.op) && (a.k == V_STRING || b.k == V_STRING);
    if (a.k == V_WORD && !(text_cmp && known_word(a.s))) { report_undefined(c, s, &a); return poison(); }
    if (b.k == V_WORD && !(text_cmp && known_word(b.s))) { report_undefined(c, s, &b); return poison(); }
    int cmp = is_comparison(n->bin.op) ? compare(n->bin.op, &a, &b) : -1;
    if (cmp >= 0)
        return bool_value(cmp, n->span);
    if (n->bin.op == '+' && (a.k == V_STRING || b.k == V_STRING) && (a.k == V_STRING || a.k == V_INT) &&
        (b.k == V_STRING || b.k == V_INT))
        return (Value){.k = V_STRING, .s = arena_printf(c->a, "%s%s", key_text(c, &a), key_text(c, &b)), .span = n->span};
    bool arith = !is_comparison(n->bin.op);
    bool tensor_op = arith && n->bin.op != '/';
    if (tensor_op && a.k == V_TENSOR && b.k == V_TENSOR)
        return eval_tensor_op(c, s, n, a, b, bind);
    if (tensor_op && a.k == V_TENSOR && is_number(&b))
        return eval_scalar_op(c, s, n, a, b, false, bind);
    if (tensor_op && is_number(&a) && b.k == V_TENSOR)
        return eval_scalar_op(c, s, n, b, a, true, bind);
    if (arith && a.k == V_INT && b.k == V_INT)
        return int_arith(c, n, a.i[0], b.i[0]);
    if (arith && is_number(&a) && is_number(&b)) {
        double x = a.k == V_INT ? (double)a.i[0] : a.f[0], y = b.k == V_INT ? (double)b.i[0] : b.f[0];
        int op = n->bin.op;
        return float_value(op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y, n->span);
    }
    diag_error(n->span, "operator '%s' cannot be applied to %s and %s%s", ast_op_text(n->bin.op), value_desc(&a), value_desc(&b),
               a.k == V_TENSOR || b.k == V_TENSOR ? " (tensors take +, - and *)" : "");
    context_notes(c);
    return poison();
}

static Value eval_not(Ctx *c, Scope *s, Node *n)
{
    int b = eval_cond(c, s, n->operand, "the operand of 'not'");
    return b < 0 ? poison() : bool_value(!b, n->span);
}

static Value eval_neg(Ctx *c, Scope *s, Node *n)
{
    Value v = eval(c, s, n->operand, NULL);
    if (v.k == V_INT && v.i[0] != INT64_MIN) return int_value(-v.i[0], n->span);
    if (v.k == V_FLOAT) return float_value(-v.f[0], n->span);
    if (v.k == V_POISON) return v;
    if (v.k == V_WORD) report_undefined(c, s, &v);
    else diag_error(n->span, "cannot negate %s", value_desc(&v));
    context_notes(c);
    return poison();
}

static Value eval_tuple(Ctx *c, Scope *s, Node *n)
{
    Value p = {.k = n->list.n == 4 ? V_QUAD : V_PAIR, .n = n->list.n, .span = n->span};
    if (n->list.n < 2 || n->list.n > 4) {
        diag_error(n->span, "a tuple must be a pair (h, w), a shape (c, h, w) or, for pad, four integers "
                   "(left, right, top, bottom); this one has %d elements", n->list.n);
        context_notes(c);
        return poison();
    }
    for (int i = 0; i < p.n; i++) {
        Value v = eval(c, s, n->list.v[i], NULL);
        if (v.k == V_POISON) return v;
        if (v.k == V_WORD) { report_undefined(c, s, &v); return poison(); }
        if (!is_number(&v)) {
            diag_error(v.span, "elements of a pair must be numbers, got %s", value_desc(&v));
            context_notes(c);
            return poison();
        }
        if (p.k == V_QUAD && v.k != V_INT) {
            diag_error(v.span, "elements of a four-integer padding must be integers, got %s", value_desc(&v));
            context_notes(c);
            return poison();
        }
        p.i[i] = v.i[0];
        if (i < 3)
            p.f[i] = v.k == V_INT ? (double)v.i[0] : v.f[0];
        p.is_float |= v.k == V_FLOAT;
    }
    return p;
}

static Value eval_name(Scope *s, Node *n)
{
    Binding *b = lookup(s, n->str);
    if (!b)
        return (Value){.k = V_WORD, .s = n->str, .span = n->span};
    b->def->used = true;
    Value v = b->v;
    if (v.k != V_WORD) /* a word keeps where it was written: an undefined name passed to a block is reported at the call */
        v.span = n->span;
    if (v.k == V_TENSOR && n->str[0] != '<') /* <x>: an unpacked call's input keeps its label */
        v.label = n->str;
    return v;
}

/* Evaluates an expression; `bind` is the name it is assigned to, if any. */
static Value eval(Ctx *c, Scope *s, Node *n, const char *bind)
{
    if (c->aborted)
        return poison();
    if (c->eval_depth >= MAX_EVAL_DEPTH) {
        diag_error(n->span, "expressions nested too deeply through block calls (more than %d levels)", MAX_EVAL_DEPTH);
        context_notes(c);
        c->aborted = true;
        return poison();
    }
    c->eval_depth++;
    Value v = eval_node(c, s, n, bind);
    c->eval_depth--;
    return v;
}

static Value eval_node(Ctx *c, Scope *s, Node *n, const char *bind)
{
    switch (n->kind) {
    case N_INT: return int_value(n->ival, n->span);
    case N_FLOAT: return float_value(n->fval, n->span);
    case N_BOOL: return (Value){.k = V_BOOL, .b = n->bval, .span = n->span};
    case N_STRING: return (Value){.k = V_STRING, .s = n->str, .span = n->span};
    case N_NAME: return eval_name(s, n);
    case N_CALL: return eval_call(c, s, n, bind);
    case N_BINARY: return eval_binary(c, s, n, bind);
    case N_NEG: return eval_neg(c, s, n);
    case N_NOT: return eval_not(c, s, n);
    case N_TUPLE: return eval_tuple(c, s, n);
    case N_KWARG: case N_POISON: case N_INPUT: case N_ASSIGN: case N_OUTPUT: case N_RETURN: case N_IF:
    case N_FOR: case N_PARAM: case N_BLOCK: case N_NETWORK: case N_UNPACK: return poison();
    }
    return poison();
}

/* ---- blocks --------------------------------------------------------------- */

static bool check_recursion(Ctx *c, Node *n, Node *blk)
{
    int i = 0;
    while (i < c->depth && c->stack[i].block != blk) i++;
    if (i < c->depth) {
        char chain[512];
        int len = 0;
        for (int j = i; j < c->depth && len < 400; j++)
            len += snprintf(chain + len, sizeof chain - (size_t)len, "'%s' -> ", c->stack[j].block->def.name);
        snprintf(chain + len, sizeof chain - (size_t)len, "'%s'", blk->def.name);
        diag_error(n->call.callee_span, "recursion between blocks: %s", chain);
        diag_note(blk->def.name_span, "block '%s' is defined here", blk->def.name);
        return false;
    }
    if (++c->expansions > LIMIT_LAYERS) {
        diag_error(n->call.callee_span, "too many block instances (more than %d)", LIMIT_LAYERS);
        c->aborted = true;
        return false;
    }
    if (c->depth >= MAX_CALL_DEPTH) {
        diag_error(n->call.callee_span, "blocks are nested too deeply (more than %d levels)", MAX_CALL_DEPTH);
        return false;
    }
    return true;
}

static int find_param(Node *blk, const char *name)
{
    for (int i = 0; i < blk->def.params.n; i++)
        if (blk->def.params.v[i]->bind.name == name)
            return i;
    return -1;
}

/* Evaluates a block call's arguments into vals[param]; name="..." goes to *key. */
static bool block_args(Ctx *c, Scope *s, Node *n, Node *blk, Value *vals, bool *set, const char **key)
{
    bool ok = true;
    int np = blk->def.params.n, pos = 0;
    for (int i = 0; i < n->call.args.n; i++) {
        Node *a = n->call.args.v[i];
        bool kw = a->kind == N_KWARG;
        Value v = eval(c, s, kw ? a->bind.value : a, NULL);
        int p = kw ? find_param(blk, a->bind.name) : pos++;
        if (kw && p < 0 && !strcmp(a->bind.name, "name") && (v.k == V_STRING || v.k == V_INT)) {
            *key = key_text(c, &v);
            continue;
        }
        if (kw && p < 0) {
            const char **cands = arena_alloc(c->a, (size_t)(np + 1) * sizeof *cands);
            for (int j = 0; j < np; j++) cands[j] = blk->def.params.v[j]->bind.name;
            const char *sug = diag_suggest(a->bind.name, cands, np);
            diag_error(a->bind.name_span, "block '%s' has no parameter '%s'%s%s%s", blk->def.name, a->bind.name,
                       sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        } else if (p >= np) {
            diag_error(a->span, "too many arguments to block '%s' (it takes %d)", blk->def.name, np);
        } else if (set[p]) {
            diag_error(a->span, "parameter '%s' of block '%s' is given twice", blk->def.params.v[p]->bind.name, blk->def.name);
        } else {
            vals[p] = v;
            set[p] = true;
            continue;
        }
        context_notes(c);
        diag_note(blk->def.name_span, "block '%s' is defined here", blk->def.name);
        ok = false;
    }
    return ok;
}

static void warn_unused(Scope *s);
static void exec_body(Ctx *c, Scope *s, const NodeList *body, Value *ret);
static void exec_for(Ctx *c, Scope *s, Node *st, Value *ret);

/* A return statement anywhere in a body, also inside if / for. */
static bool has_return(const NodeList *body)
{
    for (int i = 0; i < body->n; i++) {
        const Node *st = body->v[i];
        if (st->kind == N_RETURN || (st->kind == N_FOR && has_return(&st->loop.body)) ||
            (st->kind == N_IF && (has_return(&st->cond.then) || has_return(&st->cond.els))))
            return true;
    }
    return false;
}

static bool bind_params(Ctx *c, Scope *ns, Node *n, Node *blk, Value *vals, bool *set, bool ok)
{
    for (int i = 0; i < blk->def.params.n; i++) {
        Node *p = blk->def.params.v[i];
        if (!set[i] && p->bind.value) {
            vals[i] = eval(c, ns, p->bind.value, NULL);
        } else if (!set[i]) {
            if (ok) {   /* after a bad argument, a missing one is no news */
                diag_error(n->span, "missing argument '%s' of block '%s'", p->bind.name, blk->def.name);
                context_notes(c);
                diag_note(p->span, "parameter '%s' is declared here", p->bind.name);
            }
            ok = false;
            vals[i] = poison();
        }
        ptrmap_put(c->a, &ns->declared, p->bind.name, 1);
        bind(c, ns, p->bind.name, vals[i], p);
    }
    return ok;
}

static Value expand_block(Ctx *c, Scope *s, Node *n, Node *blk, const char *bind)
{
    if (!check_recursion(c, n, blk))
        return poison();
    int np = blk->def.params.n;
    Value *vals = arena_alloc(c->a, (size_t)(np + 1) * sizeof *vals);
    bool *set = arena_alloc(c->a, (size_t)(np + 1));
    const char *key = NULL;
    bool ok = block_args(c, s, n, blk, vals, set, &key);
    const char *inst = bind ? bind : gen_name(c, s, blk->def.name);
    Scope ns = {.block = blk, .prefix = arena_printf(c->a, "%s%s.", s->prefix, inst),
                .key_prefix = key && !*key ? s->key_prefix : arena_printf(c->a, "%s%s.", s->key_prefix, key ? key : inst)};
    if (!charge_names(c, n->call.callee_span, ns.prefix, ns.key_prefix))
        return poison();
    declare_body(c, &ns, &blk->def.body, false);
    ok = bind_params(c, &ns, n, blk, vals, set, ok);
    c->stack[c->depth++] = (Frame){blk, n->span, arena_printf(c->a, "%s%s", s->prefix, inst)};
    blk->expanded = true;
    Value ret = {.k = V_WORD};   /* V_WORD with s == NULL: no return seen */
    int errors = diag_error_count();
    exec_body(c, &ns, &blk->def.body, &ret);
    c->depth--;
    if (ret.k == V_WORD && !ret.s) {
        if (!c->syntax_errors && !has_return(&blk->def.body))
            diag_error(blk->def.name_span, "block '%s' has no 'return' statement", blk->def.name);
        else if (!c->syntax_errors && !c->aborted) {
            diag_error(n->span, "block '%s' ends without reaching a 'return' for this call", blk->def.name);
            context_notes(c);
            diag_note(blk->def.name_span, "block '%s' is defined here", blk->def.name);
        }
        return poison();
    }
    if (!c->syntax_errors && diag_error_count() == errors)
        warn_unused(&ns);
    if (!ok || ret.k == V_POISON)
        return poison();
    ret.span = ret.def = n->span;
    ret.label = arena_printf(c->a, "%s(...)", blk->def.name);
    return ret;
}

/* ---- statements ------------------------------------------------------- */

/* The name a binding gives its layer or block instance: the bound name, or
 * name_N when an earlier binding of the name (x = f(x) in a loop) made a
 * layer or instance with it. */
static const char *layer_name(Ctx *c, Scope *s, const char *name)
{
    int *t = ptrmap_get(&s->taken, name);
    return t && *t ? gen_name(c, s, name) : name;
}

static void redefinition(Ctx *c, SrcSpan at, const char *name, const Binding *prev)
{
    diag_error(at, "redefinition of '%s'", name);
    context_notes(c);
    diag_note(def_name_span(prev->def), "'%s' was first defined here", name);
}

/* name = expr. A name that some if or for body of this block assigns may
 * be assigned again (x = block(x, ...) across iterations); any other name is
 * bound once. */
static void exec_assign(Ctx *c, Scope *s, Node *st)
{
    Binding *prev = lookup(s, st->bind.name);
    const char *lname = layer_name(c, s, st->bind.name);
    int made = c->nlayers + c->expansions;
    Value v = eval(c, s, st->bind.value, lname);
    if (c->nlayers + c->expansions != made)
        ptrmap_put(c->a, &s->taken, lname, 1);
    if (v.k == V_WORD && !known_word(v.s)) {
        report_undefined(c, s, &v);
        v = poison();
    }
    if (prev && ptrmap_get(&s->rebind, st->bind.name) && prev->def->kind != N_FOR) {
        prev->v = v;
        prev->def = st;
    } else if (prev) {
        redefinition(c, st->bind.name_span, st->bind.name, prev);
    } else {
        bind(c, s, st->bind.name, v, st);
    }
}

/* input x[1, 3, 32, 32] as PyTorch's NCHW: suggests the line without the batch. */
static void batch_note(Ctx *c, Scope *s, Node *st)
{
    const NodeList *d = &st->input.dims;
    if (d->n != 4 && d->n != 2)
        return;
    char buf[160];
    int len = snprintf(buf, sizeof buf, "input %s[", st->input.name);
    for (int i = 0; i < d->n; i++) {
        Value v = eval(c, s, d->v[i], NULL);
        if (v.k != V_INT || (i == 0 && v.i[0] != 1))
            return;
        if (i > 0 && len < (int)sizeof buf)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%lld", i > 1 ? ", " : "", (long long)v.i[0]);
    }
    diag_note(d->v[0]->span, "the batch size is chosen at run time; drop the batch dimension: %s]", buf);
}

/* input x[C, H, W] or input x[F] */
static void exec_input(Ctx *c, Scope *s, Node *st)
{
    const NodeList *d = &st->input.dims;
    int64_t e[3] = {1, 1, 1};
    bool ok = true;
    if (d->n != 1 && d->n != 3) {
        diag_error(st->span, "an input has the shape [C, H, W] or [F], this one has %d dimensions", d->n);
        batch_note(c, s, st);
        ok = false;
    }
    for (int i = 0; i < d->n && ok; i++) {
        Value v = eval(c, s, d->v[i], NULL);
        if (v.k == V_WORD) { report_undefined(c, s, &v); ok = false; continue; }
        if (v.k == V_POISON) { ok = false; continue; }
        if (v.k != V_INT || v.i[0] < 1 || v.i[0] > LIMIT_DIM) {
            diag_error(v.span, "input dimensions must be integers between 1 and %d", LIMIT_DIM);
            ok = false;
            continue;
        }
        if (i < 3) e[i] = v.i[0];
    }
    Binding *prev = lookup(s, st->input.name);
    if (prev) {
        diag_error(st->input.name_span, "redefinition of '%s'", st->input.name);
        diag_note(def_name_span(prev->def), "'%s' was first defined here", st->input.name);
        return;
    }
    Layer L = {.op = OP_INPUT, .name = st->input.name, .span = st->span,
               .shape = {d->n == 1 ? 1 : 3, e[0], e[1], e[2]}};
    ok = ok && rule_check_numel(st->span, arena_printf(c->a, "input '%s'", st->input.name), L.shape);
    int idx = ok ? push_layer(c, &L) : -1;
    if (idx >= 0)
        VEC_PUSH(c->a, c->inputs, c->ninputs, c->incap, idx);
    ptrmap_put(c->a, &s->taken, st->input.name, 1);   /* x = relu(x) in a loop names its layer x_1 */
    bind(c, s, st->input.name, idx >= 0 ? tensor_value(idx, st->span, st->input.name) : poison(), st);
}

static void exec_output(Ctx *c, Scope *s, Node *st)
{
    for (int i = 0; i < st->list.n; i++) {
        Node *e = st->list.v[i];
        Value v = eval(c, s, e, NULL);
        if (!need_tensor(c, s, &v, "an output"))
            continue;
        const char *name = e->kind == N_NAME ? e->str : c->layers[v.layer].name;
        name = intern(c->a, name, strlen(name));
        int *prev = ptrmap_get(&c->out_seen, name);
        if (prev) {
            /* two outputs of one name could not be told apart by --output NAME= */
            diag_error(e->span, "output '%s' is listed twice", name);
            diag_note(c->out_spans[*prev], "first listed here");
            continue;
        }
        ptrmap_put(c->a, &c->out_seen, name, c->nout_spans);
        VEC_PUSH(c->a, c->out_spans, c->nout_spans, c->out_spans_cap, e->span);
        VEC_PUSH(c->a, c->outputs, c->noutputs, c->outcap, v.layer);
        VEC_PUSH(c->a, c->out_names, c->onames, c->onames_cap, name);
    }
}

static bool returned(const Value *ret) { return !(ret->k == V_WORD && !ret->s); }

/* if cond { then } else { els }: only the chosen body is executed (its
 * errors are reported, the other's are not looked for). An invalid
 * condition ends a block's expansion with an invalid result, silently. */
static void exec_if(Ctx *c, Scope *s, Node *st, Value *ret)
{
    int t = eval_cond(c, s, st->cond.cond, "the condition of 'if'");
    if (t < 0) {
        if (s->block) *ret = poison();
        return;
    }
    mark_list_used(s, t ? &st->cond.els : &st->cond.then);
    exec_body(c, s, t ? &st->cond.then : &st->cond.els, ret);
}

/* A node made by the checker (an unpacked call's parts), in the arena. */
static Node *synth(Ctx *c, NodeKind k, SrcSpan sp, int depth)
{
    Node *n = arena_alloc(c->a, sizeof *n);
    n->kind = k;
    n->span = sp;
    n->depth = depth;
    return n;
}

/* a, b, ... = chunk(x, ...) or split(x, ...): x is evaluated once and bound
 * under its label (not an identifier: no name can refer to it), then each
 * name is assigned chunk(<x>, ..., part=i, parts=n), one slice layer each. */
static void exec_unpack(Ctx *c, Scope *s, Node *st)
{
    Node *call = st->unpack.value;
    const NodeList *names = &st->unpack.names;
    bool ok = call->kind == N_CALL && !call->call.module && call->call.args.n > 0 &&
              call->call.args.v[0]->kind != N_KWARG &&
              (!strcmp(call->call.callee, "chunk") || !strcmp(call->call.callee, "split"));
    Value x = poison();
    if (call->kind != N_POISON && !ok) {
        diag_error(call->span, "only chunk(x, ...) and split(x, ...) give several tensors to unpack into %d names",
                   names->n);
        context_notes(c);
    } else if (ok) {
        x = eval(c, s, call->call.args.v[0], NULL);
    }
    const char *text = arena_printf(c->a, "<%s>", x.k == V_TENSOR && x.label ? x.label : "input");
    const char *hidden = intern(c->a, text, strlen(text));
    bind(c, s, hidden, x, st);
    st->used = true;
    for (int i = 0; i < names->n; i++) {
        Node *target = names->v[i];
        Node *as = synth(c, N_ASSIGN, st->span, st->depth);
        as->bind.name = target->str;
        as->bind.name_span = target->span;
        if (!ok) {
            as->bind.value = synth(c, N_POISON, call->span, 1);
            exec_assign(c, s, as);
            continue;
        }
        Node *part = synth(c, N_CALL, call->span, call->depth);
        part->call = call->call;
        part->call.args = ast_list0();
        Node *ref = synth(c, N_NAME, call->call.args.v[0]->span, 1);
        ref->str = hidden;
        VEC_PUSH(c->a, part->call.args.v, part->call.args.n, part->call.args.cap, ref);
        for (int j = 1; j < call->call.args.n; j++)
            VEC_PUSH(c->a, part->call.args.v, part->call.args.n, part->call.args.cap, call->call.args.v[j]);
        const char *kw[2] = {"part", "parts"};
        int64_t val[2] = {i, names->n};
        for (int j = 0; j < 2; j++) {
            Node *v = synth(c, N_INT, target->span, 1), *k = synth(c, N_KWARG, target->span, 1);
            v->ival = val[j];
            k->bind.name = intern(c->a, kw[j], strlen(kw[j]));
            k->bind.name_span = target->span;
            k->bind.value = v;
            VEC_PUSH(c->a, part->call.args.v, part->call.args.n, part->call.args.cap, k);
        }
        as->bind.value = part;
        exec_assign(c, s, as);
        Binding *b = lookup(s, target->str);
        ok = b && b->v.k != V_POISON;   /* one error for the call, not one per name */
    }
}

static void exec_stmt(Ctx *c, Scope *s, Node *st, Value *ret)
{
    bool in_block = s->block != NULL;
    st->ran = true;
    if (st->kind == N_ASSIGN) {
        exec_assign(c, s, st);
    } else if (st->kind == N_UNPACK) {
        exec_unpack(c, s, st);
    } else if (st->kind == N_INPUT && in_block) {
        diag_error(st->span, "'input' is only allowed in a network; blocks take parameters");
    } else if (st->kind == N_INPUT) {
        exec_input(c, s, st);
    } else if (st->kind == N_OUTPUT && in_block) {
        diag_error(st->span, "'output' is only allowed in a network; a block ends with 'return'");
    } else if (st->kind == N_OUTPUT) {
        exec_output(c, s, st);
    } else if (st->kind == N_RETURN && !in_block) {
        diag_error(st->span, "'return' is only allowed in a block; a network ends with 'output'");
    } else if (st->kind == N_IF) {
        exec_if(c, s, st, ret);
    } else if (st->kind == N_FOR) {
        exec_for(c, s, st, ret);
    } else if (st->kind == N_RETURN) {
        *ret = eval(c, s, st->operand, NULL);
        if (ret->k == V_WORD && !known_word(ret->s)) {
            report_undefined(c, s, ret);
            *ret = poison();
        }
    }
}

/* range(stop), range(start, stop) or range(start, stop, step), as Python's;
 * r = {start, stop, step}. */
static bool eval_range(Ctx *c, Scope *s, Node *it, int64_t r[3])
{
    if (it->kind == N_POISON) return false;
    if (it->kind != N_CALL || strcmp(it->call.callee, "range") || it->call.module) {
        diag_error(it->span, "a 'for' loop runs over range(stop), range(start, stop) or range(start, stop, step)");
        context_notes(c);
        return false;
    }
    int n = it->call.args.n;
    int64_t v[3] = {0, 0, 1};
    if (n < 1 || n > 3) {
        diag_error(it->span, "range takes 1 to 3 integers, got %d", n);
        context_notes(c);
        return false;
    }
    for (int i = 0; i < n; i++) {
        Node *a = it->call.args.v[i];
        Value x = eval(c, s, a->kind == N_KWARG ? a->bind.value : a, NULL);
        if (x.k == V_WORD) report_undefined(c, s, &x);
        else if (a->kind == N_KWARG || (x.k != V_INT && x.k != V_POISON)) {
            diag_error(a->span, "the arguments of range must be integers (no keywords), got %s",
                       a->kind == N_KWARG ? "a keyword argument" : value_desc(&x));
            context_notes(c);
        }
        if (x.k != V_INT || a->kind == N_KWARG) return false;
        v[i] = x.i[0];
    }
    r[0] = n == 1 ? 0 : v[0], r[1] = n == 1 ? v[0] : v[1], r[2] = n == 3 ? v[2] : 1;
    if (r[2] == 0) {
        diag_error(it->call.args.v[2]->span, "the step of range must not be zero");
        context_notes(c);
        return false;
    }
    return true;
}

/* How many values range(r) has, at most INT64_MAX. */
static int64_t range_count(const int64_t r[3])
{
    __int128 d = (__int128)r[1] - r[0], st = r[2];
    if (st < 0) d = -d, st = -st;
    __int128 n = d <= 0 ? 0 : (d + st - 1) / st;
    return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* The loop variable: bound before the loop only by an earlier loop. */
static Binding *loop_var(Ctx *c, Scope *s, Node *st)
{
    Binding *b = lookup(s, st->loop.var);
    if (b && b->def->kind != N_FOR) {
        redefinition(c, st->loop.var_span, st->loop.var, b);
        return NULL;
    }
    if (!b) {
        bind(c, s, st->loop.var, poison(), st);
        b = lookup(s, st->loop.var);
    }
    b->def = st;
    b->def->used = true;   /* `for i in range(3)` may not read i */
    return b;
}

/* for var in range(...) { body }: the body is executed once per value, in
 * the block's scope (its assignments rebind, so x = f(x) chains). At most
 * LIMIT_LAYERS iterations per network. */
static void exec_for(Ctx *c, Scope *s, Node *st, Value *ret)
{
    int64_t r[3];
    bool ok = st->loop.var && eval_range(c, s, st->loop.iter, r);
    Binding *var = ok ? loop_var(c, s, st) : NULL;
    if (!var) {
        if (s->block) *ret = poison();
        return;
    }
    int64_t n = range_count(r);
    if (n > LIMIT_LAYERS - c->iterations) {
        diag_error(st->loop.iter->span, "the loop would run %lld times; a network may run at most %d loop iterations",
                   (long long)n, LIMIT_LAYERS);
        context_notes(c);
        c->aborted = true;
        return;
    }
    c->iterations += (int)n;
    if (n == 0)
        mark_list_used(s, &st->loop.body);
    for (int64_t k = 0; k < n && !returned(ret) && !c->aborted; k++) {
        var = lookup(s, st->loop.var);
        /* start + k * step lies in the range, so it fits, but k * step alone may not */
        var->v = int_value((int64_t)((uint64_t)r[0] + (uint64_t)k * (uint64_t)r[2]), st->loop.var_span);
        exec_body(c, s, &st->loop.body, ret);
    }
}

/* Runs a body's statements; a 'return' ends it (and every enclosing body). */
static void exec_body(Ctx *c, Scope *s, const NodeList *body, Value *ret)
{
    for (int i = 0; i < body->n && !returned(ret) && !c->aborted; i++) {
        exec_stmt(c, s, body->v[i], ret);
        if (!returned(ret) || i + 1 == body->n || body->v[i]->kind != N_RETURN)
            continue;
        Node *next = body->v[i + 1];
        if (next->kind == N_RETURN)
            diag_error(next->span, "block '%s' has more than one 'return' statement", s->block->def.name);
        else
            diag_error(next->span, "this statement follows 'return' and is never executed");
    }
}

/* Unused values are only worth a warning in a program without errors. */
static void warn_unused(Scope *s)
{
    if (diag_error_count() > 0)
        return;
    for (int i = 0; i < s->n; i++) {
        Binding *b = &s->b[i];
        if (b->def->used || b->v.k == V_POISON || b->def->kind == N_FOR)
            continue;
        if (b->def->kind == N_PARAM)
            diag_warning(b->def->span, "parameter '%s' of block '%s' is never used", b->name, s->block->def.name);
        else if (b->def->kind == N_INPUT)
            diag_warning(b->def->input.name_span, "input '%s' is never used", b->name);
        else
            diag_warning(b->def->bind.name_span, "'%s' is defined but never used", b->name);
    }
}

/* ---- networks and the program ------------------------------------------ */

static Graph *finish_graph(Ctx *c, Node *net)
{
    Graph *g = arena_alloc(c->a, sizeof *g);
    g->name = net->def.name;
    g->layers = c->layers;
    g->nlayers = c->nlayers;
    g->inputs = c->inputs;
    g->ninputs = c->ninputs;
    g->outputs = c->outputs;
    g->noutputs = c->noutputs;
    g->output_names = c->out_names;
    return g;
}

static Graph *build_network(Ctx *c, Node *net)
{
    Ctx fresh = {.a = c->a, .items = c->items, .blocks = c->blocks, .syntax_errors = c->syntax_errors,
                 .dropped = c->dropped};
    *c = fresh;
    Scope s = {.prefix = "", .key_prefix = ""};
    declare_body(c, &s, &net->def.body, false);
    Value ret = {.k = V_WORD};
    int errors = diag_error_count();
    exec_body(c, &s, &net->def.body, &ret);
    bool quiet = diag_error_count() != errors || c->syntax_errors;
    if (!quiet && c->ninputs == 0)
        diag_error(net->def.name_span, "network '%s' has no 'input' statement", net->def.name);
    if (!quiet && c->noutputs == 0)
        diag_error(net->def.name_span, "network '%s' has no 'output' statement", net->def.name);
    if (c->noutputs > 0)
        warn_unused(&s);
    return finish_graph(c, net);
}

static void register_item(Ctx *c, PtrMap *nets, Node *it, int i)
{
    PtrMap *m = it->kind == N_BLOCK ? &c->blocks : nets;
    int *prev = ptrmap_get(m, it->def.name);
    if (it->kind == N_BLOCK && op_lookup(it->def.name) >= 0) {
        diag_error(it->def.name_span, "block '%s' has the name of a built-in op", it->def.name);
    } else if (it->kind == N_BLOCK && (shape_query(it->def.name) >= 0 || !strcmp(it->def.name, "range"))) {
        diag_error(it->def.name_span, "block '%s' has the name of a built-in function", it->def.name);
    } else if (prev) {
        diag_error(it->def.name_span, "redefinition of %s '%s'", it->kind == N_BLOCK ? "block" : "network", it->def.name);
        diag_note(c->items->v[*prev]->def.name_span, "first defined here");
    } else {
        ptrmap_put(c->a, m, it->def.name, i);
    }
    for (int j = 0; j < it->def.params.n; j++)
        for (int k = 0; k < j; k++)
            if (it->def.params.v[j]->bind.name == it->def.params.v[k]->bind.name)
                diag_error(it->def.params.v[j]->bind.name_span, "duplicate parameter '%s'", it->def.params.v[j]->bind.name);
}

/* ---- recursion between blocks (static, also for blocks never called) ------ */

typedef struct { int to; SrcSpan at; } CallEdge;
typedef struct { CallEdge *v; int n, cap; } EdgeList;

/* The block calls in an expression or statement (depth bounded by AST_MAX_DEPTH). */
static void collect_calls(Ctx *c, Node *n, EdgeList *out)
{
    if (!n) return;
    switch (n->kind) {
    case N_CALL: {
        int *bi = ptrmap_get(&c->blocks, n->call.callee);
        if (bi) VEC_PUSH(c->a, out->v, out->n, out->cap, ((CallEdge){*bi, n->call.callee_span}));
        for (int i = 0; i < n->call.args.n; i++) collect_calls(c, n->call.args.v[i], out);
        break;
    }
    case N_BINARY: collect_calls(c, n->bin.lhs, out); collect_calls(c, n->bin.rhs, out); break;
    case N_NEG: case N_NOT: case N_RETURN: collect_calls(c, n->operand, out); break;
    case N_IF:
        collect_calls(c, n->cond.cond, out);
        for (int i = 0; i < n->cond.then.n; i++) collect_calls(c, n->cond.then.v[i], out);
        for (int i = 0; i < n->cond.els.n; i++) collect_calls(c, n->cond.els.v[i], out);
        break;
    case N_FOR:
        collect_calls(c, n->loop.iter, out);
        for (int i = 0; i < n->loop.body.n; i++) collect_calls(c, n->loop.body.v[i], out);
        break;
    case N_TUPLE: case N_OUTPUT: for (int i = 0; i < n->list.n; i++) collect_calls(c, n->list.v[i], out); break;
    case N_KWARG: case N_ASSIGN: case N_PARAM: collect_calls(c, n->bind.value, out); break;
    case N_UNPACK: collect_calls(c, n->unpack.value, out); break;
    case N_INT: case N_FLOAT: case N_BOOL: case N_STRING: case N_NAME: case N_POISON: case N_INPUT:
    case N_BLOCK: case N_NETWORK: break;
    }
}

static EdgeList block_calls(Ctx *c, Node *blk)
{
    EdgeList e = {0};
    for (int i = 0; i < blk->def.params.n; i++) collect_calls(c, blk->def.params.v[i], &e);
    for (int i = 0; i < blk->def.body.n; i++) collect_calls(c, blk->def.body.v[i], &e);
    return e;
}

/* Reports the cycle path[from..top] -> path[from] closed by the call at `at`;
 * its blocks are marked broken so that no call to them is expanded. */
static void report_cycle(Ctx *c, const int *path, int from, int top, SrcSpan at)
{
    char chain[512];
    int len = 0;
    for (int j = from; j <= top; j++) {
        Node *b = c->items->v[path[j]];
        b->broken = true;
        if (len < 400)
            len += snprintf(chain + len, sizeof chain - (size_t)len, "'%s' -> %s", b->def.name,
                            len + strlen(b->def.name) + 6 >= 400 && j < top ? "... -> " : "");
    }
    Node *head = c->items->v[path[from]];
    snprintf(chain + len, sizeof chain - (size_t)len, "'%s'", head->def.name);
    diag_error(at, "recursion between blocks: %s", chain);
    diag_note(head->def.name_span, "block '%s' is defined here", head->def.name);
}

/* Iterative depth-first search over the block call graph (a long chain of
 * blocks must not exhaust the C stack). */
static void check_cycles(Ctx *c)
{
    int n = c->items->n;
    EdgeList *edges = arena_alloc(c->a, (size_t)(n + 1) * sizeof *edges);
    char *color = arena_alloc(c->a, (size_t)n + 1);          /* 0 new, 1 on path, 2 done */
    int *path = arena_alloc(c->a, (size_t)(n + 1) * sizeof *path), *pos = arena_alloc(c->a, (size_t)(n + 1) * sizeof *pos);
    for (int i = 0; i < n; i++)
        if (c->items->v[i]->kind == N_BLOCK) edges[i] = block_calls(c, c->items->v[i]);
    for (int root = 0; root < n; root++) {
        if (c->items->v[root]->kind != N_BLOCK || color[root]) continue;
        int top = 0;
        path[0] = root, pos[0] = 0, color[root] = 1;
        while (top >= 0) {
            int b = path[top];
            if (pos[top] == edges[b].n) { color[b] = 2; top--; continue; }
            CallEdge e = edges[b].v[pos[top]++];
            if (color[e.to] == 1) {
                int from = top;
                while (path[from] != e.to) from--;
                report_cycle(c, path, from, top, e.at);
            } else if (!color[e.to]) {
                path[++top] = e.to, pos[top] = 0, color[e.to] = 1;
            }
        }
    }
}

/* ---- code that no instance executed --------------------------------------
 * A branch no instance takes, the body of a loop that never runs and a
 * block never called have no values to check shapes with, but a misspelt
 * op, keyword or name there is still a mistake: such statements are
 * checked for names only. A name counts as defined if the block (or
 * network) binds it anywhere, so nothing flow-dependent is reported. */

/* Every name a body binds, at any depth: parameters are added by the caller. */
static void lint_bind_all(Ctx *c, Scope *ls, const NodeList *body)
{
    for (int i = 0; i < body->n; i++) {
        Node *st = body->v[i];
        const char *name = st->kind == N_ASSIGN ? st->bind.name : st->kind == N_INPUT ? st->input.name
                         : st->kind == N_FOR ? st->loop.var : NULL;
        if (name && !lookup(ls, name))
            bind(c, ls, name, poison(), st);
        for (int j = 0; st->kind == N_UNPACK && j < st->unpack.names.n; j++)   /* a, b = chunk(x, 2) */
            if (!lookup(ls, st->unpack.names.v[j]->str))
                bind(c, ls, st->unpack.names.v[j]->str, poison(), st);
        if (st->kind == N_IF) {
            lint_bind_all(c, ls, &st->cond.then);
            lint_bind_all(c, ls, &st->cond.els);
        }
        if (st->kind == N_FOR)
            lint_bind_all(c, ls, &st->loop.body);
    }
}

static void lint_expr(Ctx *c, Scope *ls, Node *e, const OpSpec *sp, const char *arg);

/* A name is fine if bound, a word every op knows, or a word the argument
 * it is passed to accepts. */
static void lint_name(Ctx *c, Scope *ls, Node *e, const OpSpec *sp, const char *arg)
{
    size_t len = 0;
    const char *words = sp && arg ? enum_words(sp, arg, &len) : NULL;
    if (lookup(ls, e->str) || known_word(e->str) || (words && word_allowed(words, len, e->str)))
        return;
    Value v = {.k = V_WORD, .s = e->str, .span = e->span};
    report_undefined(c, ls, &v);
}

static void lint_call(Ctx *c, Scope *ls, Node *n)
{
    const char *callee = n->call.callee;
    int op = n->call.module ? -1 : op_lookup(callee);
    int *bi = ptrmap_get(&c->blocks, callee);
    const OpSpec *sp = op >= 0 ? op_spec((OpKind)op) : NULL;
    Node *blk = bi ? c->items->v[*bi] : NULL;
    bool builtin = !n->call.module && (shape_query(callee) >= 0 || !strcmp(callee, "range"));
    if (n->call.module || (!sp && !blk && !builtin))
        unknown_callee(c, ls, n);
    int pos = 0;
    for (int i = 0; i < n->call.args.n; i++) {
        Node *a = n->call.args.v[i];
        const char *arg = NULL;
        if (a->kind == N_KWARG && sp && op_arg_index(sp, a->bind.name) < 0 &&
            !(!strcmp(a->bind.name, "share") && (sp->flags & OPF_PARAMS))) {   /* share= is every such op's */
            const char *sug = keyword_suggestion(sp, a->bind.name);
            diag_error(a->bind.name_span, "unknown keyword argument '%s' for %s%s%s%s", a->bind.name, sp->name,
                       sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
            if (a->bind.value->kind == N_NAME)
                continue;   /* a bare word for the misspelt keyword is no second error */
        } else if (a->kind == N_KWARG && blk && !blk->broken && find_param(blk, a->bind.name) < 0 &&
                   strcmp(a->bind.name, "name")) {
            diag_error(a->bind.name_span, "block '%s' has no parameter '%s'", blk->def.name, a->bind.name);
            diag_note(blk->def.name_span, "block '%s' is defined here", blk->def.name);
        } else if (a->kind == N_KWARG) {
            arg = a->bind.name;
        } else if (sp) {
            int slot = positional_slot(sp, pos++);
            arg = slot >= 0 ? sp->args[slot].name : NULL;
        }
        lint_expr(c, ls, a->kind == N_KWARG ? a->bind.value : a, sp, arg);
    }
}

/* sp/arg: the op argument e is passed to directly, for bare words. */
static void lint_expr(Ctx *c, Scope *ls, Node *e, const OpSpec *sp, const char *arg)
{
    switch (e->kind) {
    case N_NAME: lint_name(c, ls, e, sp, arg); break;
    case N_CALL: lint_call(c, ls, e); break;
    case N_BINARY: lint_expr(c, ls, e->bin.lhs, NULL, NULL); lint_expr(c, ls, e->bin.rhs, NULL, NULL); break;
    case N_NEG:
    case N_NOT: lint_expr(c, ls, e->operand, NULL, NULL); break;
    case N_TUPLE:
        for (int i = 0; i < e->list.n; i++)
            lint_expr(c, ls, e->list.v[i], sp, arg);
        break;
    case N_KWARG: lint_expr(c, ls, e->bind.value, NULL, NULL); break;
    case N_INT: case N_FLOAT: case N_BOOL: case N_STRING: case N_POISON: case N_INPUT: case N_ASSIGN:
    case N_OUTPUT: case N_RETURN: case N_IF: case N_FOR: case N_PARAM: case N_BLOCK: case N_NETWORK:
    case N_UNPACK: break;   /* literals, poison; statements never appear here */
    }
}

/* Lints the statements of body that never ran (all: every statement). */
static void lint_body(Ctx *c, Scope *ls, const NodeList *body, bool all)
{
    for (int i = 0; i < body->n; i++) {
        Node *st = body->v[i];
        bool lint = all || !st->ran;
        switch (st->kind) {
        case N_ASSIGN: if (lint) lint_expr(c, ls, st->bind.value, NULL, NULL); break;
        case N_UNPACK: if (lint) lint_expr(c, ls, st->unpack.value, NULL, NULL); break;
        case N_RETURN: if (lint && st->operand) lint_expr(c, ls, st->operand, NULL, NULL); break;
        case N_OUTPUT:
            for (int j = 0; lint && j < st->list.n; j++)
                lint_expr(c, ls, st->list.v[j], NULL, NULL);
            break;
        case N_IF:
            if (lint) lint_expr(c, ls, st->cond.cond, NULL, NULL);
            lint_body(c, ls, &st->cond.then, lint);
            lint_body(c, ls, &st->cond.els, lint);
            break;
        case N_FOR:
            if (lint && st->loop.iter) lint_expr(c, ls, st->loop.iter, NULL, NULL);
            lint_body(c, ls, &st->loop.body, lint);
            break;
        case N_INT: case N_FLOAT: case N_BOOL: case N_STRING: case N_NAME: case N_CALL: case N_BINARY:
        case N_NEG: case N_NOT: case N_TUPLE: case N_KWARG: case N_POISON: case N_INPUT: case N_PARAM:
        case N_BLOCK: case N_NETWORK: break;   /* input: its dimensions are literals */
        }
    }
}

/* After every network is built: what no instance executed, in blocks and
 * networks, is checked for names. */
static void lint_unexecuted(Ctx *c)
{
    for (int i = 0; i < c->items->n; i++) {
        Node *it = c->items->v[i];
        if (it->broken)
            continue;
        Scope ls = {.prefix = "", .key_prefix = ""};
        for (int j = 0; j < it->def.params.n; j++)
            bind(c, &ls, it->def.params.v[j]->bind.name, poison(), it->def.params.v[j]);
        lint_bind_all(c, &ls, &it->def.body);
        c->depth = 0;
        lint_body(c, &ls, &it->def.body, false);
    }
}

Program *fe_build(const char *path, Arena *a, const NodeList *items, PtrMap *dropped)
{
    Ctx c = {.a = a, .items = items, .syntax_errors = diag_error_count() > 0, .dropped = dropped};
    PtrMap nets = {0};
    Program *p = arena_alloc(a, sizeof *p);
    p->path = path;
    p->graphs = arena_alloc(a, (size_t)(items->n + 1) * sizeof *p->graphs);
    for (int i = 0; i < items->n; i++)
        register_item(&c, &nets, items->v[i], i);
    check_cycles(&c);
    for (int i = 0; i < items->n; i++)
        if (items->v[i]->kind == N_NETWORK)
            p->graphs[p->ngraphs++] = build_network(&c, items->v[i]);
    lint_unexecuted(&c);
    for (int i = 0; i < items->n; i++)
        if (items->v[i]->kind == N_BLOCK && !items->v[i]->expanded && !items->v[i]->broken && diag_error_count() == 0)
            diag_warning(items->v[i]->def.name_span, "block '%s' is never used", items->v[i]->def.name);
    if (p->ngraphs == 0 && diag_error_count() == 0)
        diag_error(NO_SPAN, "no network is defined in this file");
    return p;
}
