/*
 * internal.h - private interface shared by the front end's files (not used
 * outside frontend/). The public interface is frontend.h.
 *
 *   arena.c   one arena per compilation, string interning, growable vectors
 *   diag.c    diagnostics: `file:line:col: error: msg`, source line, caret
 *   ast.c     AST constructors (called from grammar/conv.y), --emit=ast/tokens
 *   ops.c     the op catalogue (ops.def) expanded into argument specs
 *   check.c   name resolution, block expansion, shape rules -> Graph
 *   fe.c      fe_check, fe_read_file, fe_find_graph, fe_emit
 *   costs.c, rf.c, report.c, explain.c, statfmt.c: --stats and --explain
 *             (their own private header: stats_internal.h)
 *
 * Spans: lines and columns are 1-based; columns count UTF-8 code points;
 * end_line/end_col name the LAST character of the construct (inclusive).
 */
#ifndef CONVC_FRONTEND_INTERNAL_H
#define CONVC_FRONTEND_INTERNAL_H

#include <stdarg.h>

#include "frontend/frontend.h"

/* ---- arena.c ------------------------------------------------------------ */
/* calloc / realloc for the front end's temporary arrays; out of memory
 * prints "convc: out of memory" and exits with status 3. */
void *fe_xcalloc(size_t n, size_t size);
void *fe_xrealloc(void *p, size_t size);
typedef struct Arena Arena;
Arena *arena_new(void);
void *arena_alloc(Arena *a, size_t n);              /* zeroed, 16-byte aligned */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *intern(Arena *a, const char *s, size_t n); /* equal strings -> equal pointers */
/* Grows *v (element size `elem`) so that it holds at least n+1 elements. */
void arena_grow(Arena *a, void **v, int n, int *cap, size_t elem);
#define VEC_PUSH(a, v, n, cap, x) \
    (arena_grow((a), (void **)&(v), (n), &(cap), sizeof *(v)), (v)[(n)++] = (x))

/* A set of pointers (interned strings), for uniqueness checks. */
typedef struct { const void **slot; int *val; size_t cap, n; } PtrMap;
int *ptrmap_get(PtrMap *m, const void *key);          /* NULL if absent */
void ptrmap_put(Arena *a, PtrMap *m, const void *key, int val);

/* ---- diag.c --------------------------------------------------------------- */
void diag_begin(const char *path, const char *src, size_t len, const DiagOptions *opts);
void diag_error(SrcSpan sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_warning(SrcSpan sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note attaches to the last error or warning (dropped if that was suppressed). */
void diag_note(SrcSpan sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int diag_error_count(void);
/* Edit distance based suggestion: the candidate closest to `word`, or NULL. */
const char *diag_suggest(const char *word, const char *const *cands, int n);
extern const SrcSpan NO_SPAN;

/* ---- ast.c ---------------------------------------------------------------- */
typedef enum {
    N_INT,      /* integer literal: ival */
    N_FLOAT,    /* float literal: fval */
    N_BOOL,     /* true / false: bval */
    N_STRING,   /* "text": str */
    N_NAME,     /* identifier: a value, a parameter or a bare enum word: str */
    N_CALL,     /* op or block call: call */
    N_BINARY,   /* a + b, a - b, a * b, a / b, comparisons, and, or: bin */
    N_NEG,      /* -a: operand */
    N_NOT,      /* not a: operand */
    N_TUPLE,    /* (a, b): list */
    N_KWARG,    /* name=value inside a call: bind */
    N_POISON,   /* a syntax or lexical error already reported; checker skips it */
    N_INPUT,    /* input x[C, H, W]: input */
    N_ASSIGN,   /* name = expr: bind */
    N_OUTPUT,   /* output a, b: list */
    N_RETURN,   /* return expr: operand */
    N_IF,       /* if cond { then } else { els }; else-if is an N_IF alone in els: cond */
    N_FOR,      /* for var in range(...) { body }: loop */
    N_PARAM,    /* block parameter, optional default: bind */
    N_BLOCK,    /* block name(params) { body }: def */
    N_NETWORK,  /* network name { body }: def */
    N_UNPACK,   /* a, b = chunk(x, 2): unpack (names: N_NAME nodes) */
} NodeKind;

typedef struct Node Node;
typedef struct { Node **v; int n, cap; } NodeList;

struct Node {
    NodeKind kind;
    SrcSpan span;
    int depth;          /* expression nesting depth, bounded by AST_MAX_DEPTH */
    bool used;          /* N_ASSIGN/N_INPUT/N_PARAM: referenced somewhere */
    bool expanded;      /* N_BLOCK: instantiated at least once */
    bool ran;           /* statements: executed at least once (the rest is only linted) */
    bool broken;        /* N_BLOCK/N_NETWORK: its header had a syntax error */
    union {
        int64_t ival;
        double fval;
        bool bval;
        const char *str;
        Node *operand;
        NodeList list;
        struct { const char *callee; SrcSpan callee_span; NodeList args; SrcSpan lparen;
                 const char *module; SrcSpan module_span; } call;   /* module: "F" in F.pad(...) */
        struct { Node *cond; NodeList then, els; } cond;
        struct { const char *var; SrcSpan var_span; Node *iter; NodeList body; } loop;
        struct { int op; Node *lhs, *rhs; } bin;
        struct { const char *name; SrcSpan name_span; Node *value; } bind;
        struct { const char *name; SrcSpan name_span; NodeList dims; } input;
        struct { const char *name; SrcSpan name_span; NodeList params, body; } def;
        struct { NodeList names; Node *value; } unpack;
    };
};

enum { AST_MAX_DEPTH = 200 };

/* N_BINARY operators besides the characters + - * / < >. */
enum { BIN_EQ = 256, BIN_NE, BIN_LE, BIN_GE, BIN_AND, BIN_OR };
const char *ast_op_text(int op);   /* "==", "and", "+" */

typedef struct {
    Arena *arena;
    NodeList items;     /* N_BLOCK and N_NETWORK */
    PtrMap dropped;     /* identifiers written in text a syntax error made the parser skip */
} ParseCtx;

SrcSpan ast_span(int fl, int fc, int ll, int lc);
Node *ast_leaf(ParseCtx *c, NodeKind k, SrcSpan sp);
Node *ast_int(ParseCtx *c, SrcSpan sp, int64_t v);
Node *ast_float(ParseCtx *c, SrcSpan sp, double v);
Node *ast_bool(ParseCtx *c, SrcSpan sp, bool v);
Node *ast_str(ParseCtx *c, NodeKind k, SrcSpan sp, const char *s);
Node *ast_call(ParseCtx *c, SrcSpan sp, const char *callee, SrcSpan callee_sp, SrcSpan lparen, NodeList args);
Node *ast_binary(ParseCtx *c, SrcSpan sp, int op, Node *l, Node *r);
Node *ast_neg(ParseCtx *c, SrcSpan sp, Node *e);
Node *ast_not(ParseCtx *c, SrcSpan sp, Node *e);
Node *ast_dotted(Node *call, const char *module, SrcSpan module_sp);
Node *ast_if(ParseCtx *c, SrcSpan sp, Node *cond, NodeList then, NodeList els);
Node *ast_for(ParseCtx *c, SrcSpan sp, const char *var, SrcSpan var_sp, Node *iter, NodeList body);
Node *ast_tuple(ParseCtx *c, SrcSpan sp, Node *first, NodeList rest);
Node *ast_bind(ParseCtx *c, NodeKind k, SrcSpan sp, const char *name, SrcSpan name_sp, Node *value);
Node *ast_input(ParseCtx *c, SrcSpan sp, const char *name, SrcSpan name_sp, NodeList dims);
Node *ast_unpack(ParseCtx *c, SrcSpan sp, NodeList names, Node *value);
Node *ast_list_stmt(ParseCtx *c, NodeKind k, SrcSpan sp, NodeList items);
Node *ast_return(ParseCtx *c, SrcSpan sp, Node *e);
Node *ast_def(ParseCtx *c, NodeKind k, SrcSpan sp, const char *name, SrcSpan name_sp, NodeList params, NodeList body);
Node *ast_broken(Node *def);
NodeList ast_list0(void);
NodeList ast_list1(ParseCtx *c, Node *n);
NodeList ast_append(ParseCtx *c, NodeList l, Node *n);
void ast_dump(FILE *out, const NodeList *items);

/* ---- parse (grammar/conv.y + grammar/conv.l) ------------------------------ */
/* Parses the whole source into ctx->items; syntax errors are reported and
 * recovered from. */
void fe_parse(ParseCtx *ctx, const char *src, size_t len);
/* Prints the token stream. */
void fe_dump_tokens(FILE *out, Arena *a, const char *src, size_t len);

/* ---- ops.c ---------------------------------------------------------------- */
typedef enum {
    ARG_INT = 'i',     /* integer expression */
    ARG_INTPAIR = 'p', /* integer or (h, w) */
    ARG_PADDING = 'P', /* integer, (h, w), same or valid */
    ARG_BOOL = 'b',
    ARG_FLOAT = 'f',   /* float or integer */
    ARG_FLOATPAIR = 'F',
    ARG_ENUM = 'e',    /* bare word */
    ARG_STRING = 's',
    ARG_SHAPE = 'S',   /* integer, (h, w) or (c, h, w): trailing dimensions */
    ARG_TENSOR = 't',  /* a tensor read for its shape only (upsample like=) */
    ARG_PAD4 = 'Q',    /* integer, (left, right) or (left, right, top, bottom) as F.pad */
} ArgType;

typedef struct {
    const char *name;
    ArgType type;
    const char *def;   /* default as written in ops.def, NULL if none */
    bool required, kwonly;
} ArgSpec;

enum { OPF_PARAMS = 1 };   /* the op has learnable parameters: needs a name */
enum { MAX_OP_ARGS = 12 };

typedef struct {
    const char *name;
    int ntensors;      /* tensor inputs before the other arguments; -1: any number */
    int flags;
    int nargs;
    ArgSpec args[MAX_OP_ARGS];
    const char *enums; /* allowed bare words per enum argument, "arg:w1|w2 ..." */
} OpSpec;

const OpSpec *op_spec(OpKind k);
int op_lookup(const char *name);           /* OpKind or -1 */

/* ---- limits (docs/language.md, "Limits") ----------------------------------
 * One set of bounds, checked where each size is computed, so that nothing a
 * later phase derives can overflow:
 *   LIMIT_DIM     every extent and integer argument (kernel, stride, ...);
 *   LIMIT_NUMEL   elements of any one tensor: an activation per sample
 *                 (also a flat [F]) or a parameter tensor. It is what the
 *                 runtime descriptor's int32 c, h, w fields hold;
 *   LIMIT_MACS    multiply-accumulates of one layer per sample, in either
 *                 counting convention (default, ptflops);
 *   LIMIT_UPSAMPLE  output rows and columns of an upsample: the kernel reads
 *                 a compiled table of taps per row and column (12 bytes per
 *                 tap; 1 to 4 taps);
 *   LIMIT_LAYERS  layers of a network, and block instances;
 *   LIMIT_NAME_BYTES  bytes of all layer names, keys and instance prefixes
 *                 of a network (blocks expand exponentially: this and
 *                 LIMIT_LAYERS bound the compiler's time and memory).
 * Then every total fits int64 with room: MACs <= 2^16 * 2^44 = 2^60,
 * parameters and activation bytes < 2^16 * 2^34 = 2^50. */
enum { LIMIT_DIM = 1 << 30, LIMIT_NUMEL = INT32_MAX, LIMIT_LAYERS = 1 << 16, LIMIT_NAME_BYTES = 1 << 25,
       LIMIT_UPSAMPLE = 1 << 18 };
#define LIMIT_MACS ((int64_t)1 << 44)

/* ---- check.c, rules.c ------------------------------------------------------ */
typedef enum {
    V_POISON,   /* an error was reported for this value: consumers stay silent */
    V_INT,      /* i[0] */
    V_FLOAT,    /* f[0] */
    V_BOOL,     /* b */
    V_STRING,   /* s */
    V_WORD,     /* an unbound identifier: an enum word (same, bilinear) or an undefined name: s */
    V_PAIR,     /* (h, w), or (C, H, W) with n = 3: i[], f[]; is_float if any was a float */
    V_QUAD,     /* four integers (left, right, top, bottom): i[0..3] (pad's `pad`) */
    V_TENSOR,   /* layer */
} ValKind;

typedef struct {
    ValKind k;
    bool b, is_float;
    int layer;
    int n;              /* V_PAIR: elements, 2 or 3 (only a shape argument takes 3) */
    int64_t i[4];       /* V_QUAD: all four */
    double f[3];
    const char *s;
    const char *label;  /* how the source names a tensor: "down3", or "conv2d(...)" */
    SrcSpan span;       /* where this use was written */
    SrcSpan def;        /* where a tensor was defined (for notes) */
} Value;

/* A call to an op after its arguments were bound to the op's ArgSpecs. */
typedef struct {
    OpKind op;
    const OpSpec *spec;
    SrcSpan span;             /* the whole call */
    Value *tensors;
    int ntensors;
    Value arg[MAX_OP_ARGS];   /* converted to the ArgSpec type; defaults filled in */
    bool given[MAX_OP_ARGS];  /* written in the call (not a default) */
    const Layer *layers;      /* the graph so far, to read input shapes */
    Value share;              /* share=: a layer whose parameters this one uses */
    bool share_given;         /* share= was written (share may be V_POISON after an error) */
} OpCall;

/* Computes L's attributes and output shape from the call (rules.c); reports
 * and returns false on an error. */
bool rule_apply(OpCall *k, Layer *L);
/* Reports (at sp) a tensor of more than LIMIT_NUMEL elements; `what` names it:
 * "input 'x'", "the output of conv2d". */
bool rule_check_numel(SrcSpan sp, const char *what, Shape s);
int op_arg_index(const OpSpec *s, const char *name);   /* -1 if none */

/* `dropped`: names an undefined-name error is not reported for (they may be
 * defined in text the parser skipped). */
Program *fe_build(const char *path, Arena *a, const NodeList *items, PtrMap *dropped);

#endif
