/*
 * ast.c - AST constructors, called from the grammar actions, and the
 * --emit=ast printer.
 *
 * Invariant: no expression is nested deeper than AST_MAX_DEPTH. A deeper one
 * is reported once and replaced by an N_POISON node, so every later phase may
 * recurse over expressions without risk to the C stack.
 */
#include <string.h>

#include "frontend/internal.h"

SrcSpan ast_span(int fl, int fc, int ll, int lc) { return (SrcSpan){fl, fc, ll, lc}; }

Node *ast_leaf(ParseCtx *c, NodeKind k, SrcSpan sp)
{
    Node *n = arena_alloc(c->arena, sizeof *n);
    n->kind = k;
    n->span = sp;
    return n;
}

NodeList ast_list0(void) { return (NodeList){0}; }

NodeList ast_list1(ParseCtx *c, Node *n) { return ast_append(c, ast_list0(), n); }

NodeList ast_append(ParseCtx *c, NodeList l, Node *n)
{
    VEC_PUSH(c->arena, l.v, l.n, l.cap, n);
    return l;
}

static bool too_deep(const Node *n) { return n->kind == N_POISON && n->depth > AST_MAX_DEPTH; }

/* Gives n the depth 1 + max(children); returns a poison node instead when
 * that exceeds AST_MAX_DEPTH (reported once for the outermost cut). */
static Node *limit_depth(ParseCtx *c, Node *n, Node **kids, int nkids)
{
    int d = 0;
    for (int i = 0; i < nkids; i++) {
        if (!kids[i]) continue;
        if (too_deep(kids[i])) return kids[i];
        if (kids[i]->depth > d) d = kids[i]->depth;
    }
    n->depth = d + 1;
    if (n->depth <= AST_MAX_DEPTH)
        return n;
    if (n->kind == N_IF || n->kind == N_FOR)
        diag_error(n->span, "'if' and 'for' statements are nested too deeply (more than %d levels)", AST_MAX_DEPTH);
    else
        diag_error(n->span, "expression is nested too deeply (more than %d levels)", AST_MAX_DEPTH);
    Node *p = ast_leaf(c, N_POISON, n->span);
    p->depth = AST_MAX_DEPTH + 1;
    return p;
}

Node *ast_int(ParseCtx *c, SrcSpan sp, int64_t v)
{
    Node *n = ast_leaf(c, N_INT, sp);
    n->ival = v;
    return n;
}

Node *ast_float(ParseCtx *c, SrcSpan sp, double v)
{
    Node *n = ast_leaf(c, N_FLOAT, sp);
    n->fval = v;
    return n;
}

Node *ast_bool(ParseCtx *c, SrcSpan sp, bool v)
{
    Node *n = ast_leaf(c, N_BOOL, sp);
    n->bval = v;
    return n;
}

Node *ast_str(ParseCtx *c, NodeKind k, SrcSpan sp, const char *s)
{
    Node *n = ast_leaf(c, k, sp);
    n->str = s;
    return n;
}

Node *ast_call(ParseCtx *c, SrcSpan sp, const char *callee, SrcSpan callee_sp, SrcSpan lparen, NodeList args)
{
    Node *n = ast_leaf(c, N_CALL, sp);
    n->call.callee = callee;
    n->call.callee_span = callee_sp;
    n->call.lparen = lparen;
    n->call.args = args;
    return limit_depth(c, n, args.v, args.n);
}

Node *ast_binary(ParseCtx *c, SrcSpan sp, int op, Node *l, Node *r)
{
    Node *n = ast_leaf(c, N_BINARY, sp);
    n->bin.op = op;
    n->bin.lhs = l;
    n->bin.rhs = r;
    Node *kids[] = {l, r};
    return limit_depth(c, n, kids, 2);
}

Node *ast_neg(ParseCtx *c, SrcSpan sp, Node *e)
{
    Node *n = ast_leaf(c, N_NEG, sp);
    n->operand = e;
    return limit_depth(c, n, &e, 1);
}

Node *ast_not(ParseCtx *c, SrcSpan sp, Node *e)
{
    Node *n = ast_leaf(c, N_NOT, sp);
    n->operand = e;
    return limit_depth(c, n, &e, 1);
}

/* F.pad(...): kept as a call to `pad` with its module, which the checker
 * reports (convc ops have no module prefix). */
Node *ast_dotted(Node *call, const char *module, SrcSpan module_sp)
{
    if (call->kind == N_CALL) {
        call->call.module = module;
        call->call.module_span = module_sp;
    }
    return call;
}

/* if / for bodies nest at most AST_MAX_DEPTH deep, as expressions do: the
 * statements of the bodies are the children (an if / for carries its depth). */
static Node *limit_body_depth(ParseCtx *c, Node *n, const NodeList *a, const NodeList *b)
{
    Node *kids[2] = {NULL, NULL};
    const NodeList *lists[2] = {a, b};
    for (int l = 0; l < 2; l++)
        for (int i = 0; lists[l] && i < lists[l]->n; i++) {
            Node *st = lists[l]->v[i];
            bool nests = st->kind == N_IF || st->kind == N_FOR || too_deep(st);
            if (nests && (!kids[l] || too_deep(st) || st->depth > kids[l]->depth))
                kids[l] = st;
        }
    return limit_depth(c, n, kids, 2);
}

Node *ast_if(ParseCtx *c, SrcSpan sp, Node *cond, NodeList then, NodeList els)
{
    Node *n = ast_leaf(c, N_IF, sp);
    n->cond.cond = cond;
    n->cond.then = then;
    n->cond.els = els;
    return limit_body_depth(c, n, &then, &els);
}

Node *ast_for(ParseCtx *c, SrcSpan sp, const char *var, SrcSpan var_sp, Node *iter, NodeList body)
{
    Node *n = ast_leaf(c, N_FOR, sp);
    n->loop.var = var;
    n->loop.var_span = var_sp;
    n->loop.iter = iter;
    n->loop.body = body;
    return limit_body_depth(c, n, &body, NULL);
}

const char *ast_op_text(int op)
{
    static const char *const t[] = {[BIN_EQ - BIN_EQ] = "==", [BIN_NE - BIN_EQ] = "!=", [BIN_LE - BIN_EQ] = "<=",
                                    [BIN_GE - BIN_EQ] = ">=", [BIN_AND - BIN_EQ] = "and", [BIN_OR - BIN_EQ] = "or"};
    static const char ch[][2] = {"+", "-", "*", "/", "<", ">"};
    if (op >= BIN_EQ && op <= BIN_OR)
        return t[op - BIN_EQ];
    const char *p = strchr("+-*/<>", op);
    return p && op ? ch[p - "+-*/<>"] : "?";
}

Node *ast_tuple(ParseCtx *c, SrcSpan sp, Node *first, NodeList rest)
{
    Node *n = ast_leaf(c, N_TUPLE, sp);
    n->list = ast_list1(c, first);
    for (int i = 0; i < rest.n; i++)
        n->list = ast_append(c, n->list, rest.v[i]);
    return limit_depth(c, n, n->list.v, n->list.n);
}

Node *ast_bind(ParseCtx *c, NodeKind k, SrcSpan sp, const char *name, SrcSpan name_sp, Node *value)
{
    Node *n = ast_leaf(c, k, sp);
    n->bind.name = name;
    n->bind.name_span = name_sp;
    n->bind.value = value;
    if (k == N_KWARG && value)
        n->depth = value->depth;
    return k == N_KWARG && value && too_deep(value) ? value : n;
}

Node *ast_input(ParseCtx *c, SrcSpan sp, const char *name, SrcSpan name_sp, NodeList dims)
{
    Node *n = ast_leaf(c, N_INPUT, sp);
    n->input.name = name;
    n->input.name_span = name_sp;
    n->input.dims = dims;
    return n;
}

Node *ast_unpack(ParseCtx *c, SrcSpan sp, NodeList names, Node *value)
{
    Node *n = ast_leaf(c, N_UNPACK, sp);
    n->unpack.names = names;
    n->unpack.value = value;
    return n;
}

Node *ast_list_stmt(ParseCtx *c, NodeKind k, SrcSpan sp, NodeList items)
{
    Node *n = ast_leaf(c, k, sp);
    n->list = items;
    return n;
}

Node *ast_return(ParseCtx *c, SrcSpan sp, Node *e)
{
    Node *n = ast_leaf(c, N_RETURN, sp);
    n->operand = e;
    return n;
}

Node *ast_def(ParseCtx *c, NodeKind k, SrcSpan sp, const char *name, SrcSpan name_sp, NodeList params, NodeList body)
{
    Node *n = ast_leaf(c, k, sp);
    n->def.name = name;
    n->def.name_span = name_sp;
    n->def.params = params;
    n->def.body = body;
    return n;
}

/* A block or network whose header was unparsable. Its body was parsed (so
 * its syntax errors are reported); calls to such a block are not checked. */
Node *ast_broken(Node *def)
{
    def->broken = true;
    return def;
}

/* ---- --emit=ast -------------------------------------------------------- */

static void dump(FILE *out, const Node *n, int ind);

static void dump_list(FILE *out, const NodeList *l, int ind)
{
    for (int i = 0; i < l->n; i++)
        dump(out, l->v[i], ind);
}

static void dump_head(FILE *out, const Node *n, int ind, const char *what)
{
    fprintf(out, "%*s%s @%d:%d", ind * 2, "", what, n->span.line, n->span.col);
}

static void dump_expr(FILE *out, const Node *n, int ind)
{
    switch (n->kind) {
    case N_INT: dump_head(out, n, ind, "int"); fprintf(out, " %lld\n", (long long)n->ival); break;
    case N_FLOAT: dump_head(out, n, ind, "float"); fprintf(out, " %g\n", n->fval); break;
    case N_BOOL: dump_head(out, n, ind, "bool"); fprintf(out, " %s\n", n->bval ? "true" : "false"); break;
    case N_STRING: dump_head(out, n, ind, "string"); fprintf(out, " \"%s\"\n", n->str); break;
    case N_NAME: dump_head(out, n, ind, "name"); fprintf(out, " %s\n", n->str); break;
    case N_POISON: dump_head(out, n, ind, "error"); fputc('\n', out); break;
    case N_NEG: dump_head(out, n, ind, "neg"); fputc('\n', out); dump(out, n->operand, ind + 1); break;
    case N_NOT: dump_head(out, n, ind, "not"); fputc('\n', out); dump(out, n->operand, ind + 1); break;
    case N_TUPLE: dump_head(out, n, ind, "tuple"); fputc('\n', out); dump_list(out, &n->list, ind + 1); break;
    case N_BINARY:
        dump_head(out, n, ind, "binary");
        fprintf(out, " %s\n", ast_op_text(n->bin.op));
        dump(out, n->bin.lhs, ind + 1);
        dump(out, n->bin.rhs, ind + 1);
        break;
    case N_CALL:
        dump_head(out, n, ind, "call");
        fprintf(out, " %s%s%s\n", n->call.module ? n->call.module : "", n->call.module ? "." : "", n->call.callee);
        dump_list(out, &n->call.args, ind + 1);
        break;
    case N_KWARG: case N_INPUT: case N_ASSIGN: case N_OUTPUT: case N_RETURN: case N_IF: case N_FOR:
    case N_PARAM: case N_BLOCK: case N_NETWORK: case N_UNPACK: break;
    }
}

static void dump(FILE *out, const Node *n, int ind)
{
    switch (n->kind) {
    case N_KWARG: case N_ASSIGN: case N_PARAM:
        dump_head(out, n, ind, n->kind == N_KWARG ? "kwarg" : n->kind == N_ASSIGN ? "assign" : "param");
        fprintf(out, " %s\n", n->bind.name);
        if (n->bind.value) dump(out, n->bind.value, ind + 1);
        break;
    case N_INPUT:
        dump_head(out, n, ind, "input");
        fprintf(out, " %s\n", n->input.name);
        dump_list(out, &n->input.dims, ind + 1);
        break;
    case N_OUTPUT: dump_head(out, n, ind, "output"); fputc('\n', out); dump_list(out, &n->list, ind + 1); break;
    case N_UNPACK:
        dump_head(out, n, ind, "unpack");
        for (int i = 0; i < n->unpack.names.n; i++)
            fprintf(out, "%s%s", i ? ", " : " ", n->unpack.names.v[i]->str);
        fputc('\n', out);
        dump(out, n->unpack.value, ind + 1);
        break;
    case N_RETURN: dump_head(out, n, ind, "return"); fputc('\n', out); dump(out, n->operand, ind + 1); break;
    case N_IF:
        dump_head(out, n, ind, "if");
        fputc('\n', out);
        dump(out, n->cond.cond, ind + 1);
        dump_list(out, &n->cond.then, ind + 1);
        if (n->cond.els.n) { fprintf(out, "%*selse\n", ind * 2, ""); dump_list(out, &n->cond.els, ind + 1); }
        break;
    case N_FOR:
        dump_head(out, n, ind, "for");
        fprintf(out, " %s\n", n->loop.var ? n->loop.var : "?");
        dump(out, n->loop.iter, ind + 1);
        dump_list(out, &n->loop.body, ind + 1);
        break;
    case N_BLOCK: case N_NETWORK:
        dump_head(out, n, ind, n->kind == N_BLOCK ? "block" : "network");
        fprintf(out, " %s\n", n->def.name);
        dump_list(out, &n->def.params, ind + 1);
        dump_list(out, &n->def.body, ind + 1);
        break;
    case N_INT: case N_FLOAT: case N_BOOL: case N_STRING: case N_NAME: case N_CALL: case N_BINARY:
    case N_NEG: case N_NOT: case N_TUPLE: case N_POISON: dump_expr(out, n, ind); break;
    }
}

void ast_dump(FILE *out, const NodeList *items) { dump_list(out, items, 0); }
