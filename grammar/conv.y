/*
 * conv.y - the .conv grammar. Actions only build AST nodes (frontend/ast.c);
 * all checking lives in frontend/check.c.
 *
 *   program   -> { block | network | NEWLINE }
 *   block     -> 'block' IDENT '(' [params] ')' body
 *   network   -> 'network' IDENT body
 *   body      -> '{' { [stmt] NEWLINE } [stmt] '}'
 *   stmt      -> 'input' IDENT '[' exprs ']' | IDENT '=' expr | IDENT (',' IDENT)+ '=' expr
 *              | 'output' exprs | 'return' expr | if | 'for' IDENT 'in' expr body
 *   if        -> 'if' expr body [ 'else' ( body | if ) ]
 *   expr      -> expr ('or'|'and') expr | 'not' expr
 *              | expr ('=='|'!='|'<'|'<='|'>'|'>=') expr
 *              | expr ('+'|'-'|'*'|'/') expr | '-' expr | primary
 *   primary   -> INT | FLOAT | 'true' | 'false' | STRING | IDENT
 *              | IDENT '(' [args] ')' | IDENT '.' IDENT '(' [args] ')'
 *              | '(' expr ')' | '(' expr ',' exprs ')'
 *   arg       -> expr | IDENT '=' expr
 *
 * Error recovery: a bad statement is skipped up to the end of its line, a bad
 * top-level item up to the next line, so one run reports every independent
 * syntax error.
 */
%define api.pure full
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {ParseCtx *ctx}

%code top {
/* bison's yyparse counts errors in yynerrs, which this parser never reads */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunused-but-set-variable"
#endif
}

%code requires {
#include "frontend/internal.h"
}

%code provides {
void fe_parse(ParseCtx *ctx, const char *src, size_t len);
}

%union {
    int64_t i;
    double f;
    bool b;
    const char *s;
    Node *node;
    NodeList list;
}

%code {
#include "grammar/conv.lex.h"
#include "grammar/scan_state.h"

#define SP(l) ast_span((l).first_line, (l).first_column, (l).last_line, (l).last_column)
#define YYMAXDEPTH 2000000
#define SKIPPED(l) scan_skipped(yyget_extra(scanner), (l).first_line, (l).last_line)
static void yyerror(YYLTYPE *loc, void *scanner, ParseCtx *ctx, const char *msg);
}

%token BLOCK "'block'" NETWORK "'network'" INPUT "'input'" OUTPUT "'output'" RETURN "'return'"
%token <b> BOOL "'true' or 'false'"
%token <s> IDENT "identifier" STRING "string" ERROR "invalid token"
%token <i> INT "integer"
%token <f> FLOAT "number"
%token NEWLINE "end of line"
%token IF "'if'" ELSE "'else'" FOR "'for'" IN "'in'" AND "'and'" OR "'or'" NOT "'not'"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='"

%type <node> item stmt bad_stmt expr primary arg param if_stmt
%type <list> body stmts params params_opt args args_opt exprs targets

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE
%left '+' '-'
%left '*' '/'
%precedence NEG

%%
program:
    %empty
  | program NEWLINE
  | program item             { ctx->items = ast_append(ctx, ctx->items, $2); }
  | program error NEWLINE      { SKIPPED(@2); yyerrok; }
  ;

item:
    BLOCK IDENT '(' params_opt ')' opt_nl body  { $$ = ast_def(ctx, N_BLOCK, SP(@$), $2, SP(@2), $4, $7); }
  | NETWORK IDENT opt_nl body                   { $$ = ast_def(ctx, N_NETWORK, SP(@$), $2, SP(@2), ast_list0(), $4); }
  | BLOCK IDENT error body                      { SKIPPED(@3); $$ = ast_broken(ast_def(ctx, N_BLOCK, SP(@$), $2, SP(@2), ast_list0(), $4)); }
  | NETWORK IDENT error body                    { SKIPPED(@3); $$ = ast_broken(ast_def(ctx, N_NETWORK, SP(@$), $2, SP(@2), ast_list0(), $4)); }
  ;

opt_nl: %empty | opt_nl NEWLINE ;

body:
    '{' stmts '}'            { $$ = $2; }
  | '{' stmts stmt '}'       { $$ = ast_append(ctx, $2, $3); }
  ;

stmts:
    %empty                   { $$ = ast_list0(); }
  | stmts NEWLINE            { $$ = $1; }
  | stmts stmt NEWLINE       { $$ = ast_append(ctx, $1, $2); }
  | stmts error NEWLINE      { SKIPPED(@2); $$ = $1; yyerrok; }
  | stmts bad_stmt           { $$ = ast_append(ctx, $1, $2); yyerrok; }
  ;

stmt:
    INPUT IDENT '[' exprs ']'  { $$ = ast_input(ctx, SP(@$), $2, SP(@2), $4); }
  | IDENT '=' expr             { $$ = ast_bind(ctx, N_ASSIGN, SP(@$), $1, SP(@1), $3); }
  | targets '=' expr           { $$ = ast_unpack(ctx, SP(@$), $1, $3); }
  | OUTPUT exprs               { $$ = ast_list_stmt(ctx, N_OUTPUT, SP(@$), $2); }
  | RETURN expr                { $$ = ast_return(ctx, SP(@$), $2); }
  | if_stmt
  | FOR IDENT IN expr opt_nl body { $$ = ast_for(ctx, SP(@$), $2, SP(@2), $4, $6); }
  | FOR error body             { SKIPPED(@2); $$ = ast_for(ctx, SP(@$), NULL, SP(@1), ast_leaf(ctx, N_POISON, SP(@2)), $3); }
  ;

/* a, b = chunk(x, 2): two or more names */
targets:
    IDENT ',' IDENT            { $$ = ast_append(ctx, ast_list1(ctx, ast_str(ctx, N_NAME, SP(@1), $1)), ast_str(ctx, N_NAME, SP(@3), $3)); }
  | targets ',' IDENT          { $$ = ast_append(ctx, $1, ast_str(ctx, N_NAME, SP(@3), $3)); }
  ;

/* "} else" on one line: a line break after '}' ends the statement. */
if_stmt:
    IF expr opt_nl body                 { $$ = ast_if(ctx, SP(@$), $2, $4, ast_list0()); }
  | IF expr opt_nl body ELSE body       { $$ = ast_if(ctx, SP(@$), $2, $4, $6); }
  | IF expr opt_nl body ELSE if_stmt    { $$ = ast_if(ctx, SP(@$), $2, $4, ast_list1(ctx, $6)); }
  | IF error body                       { SKIPPED(@2); $$ = ast_if(ctx, SP(@$), ast_leaf(ctx, N_POISON, SP(@2)), $3, ast_list0()); }
  ;

/* A statement with a syntax error still defines its name (as an error value),
 * so later uses of the name are not reported again. */
bad_stmt:
    IDENT '=' error NEWLINE           { $$ = ast_bind(ctx, N_ASSIGN, SP(@$), $1, SP(@1), ast_leaf(ctx, N_POISON, SP(@3))); }
  | INPUT IDENT error NEWLINE          { $$ = ast_input(ctx, SP(@$), $2, SP(@2), ast_list1(ctx, ast_leaf(ctx, N_POISON, SP(@3)))); }
  | RETURN error NEWLINE              { $$ = ast_return(ctx, SP(@$), ast_leaf(ctx, N_POISON, SP(@2))); }
  | OUTPUT error NEWLINE              { $$ = ast_list_stmt(ctx, N_OUTPUT, SP(@$), ast_list0()); }
  ;

params_opt: %empty { $$ = ast_list0(); } | params ;
params:
    param                    { $$ = ast_list1(ctx, $1); }
  | params ',' param         { $$ = ast_append(ctx, $1, $3); }
  ;
param:
    IDENT                    { $$ = ast_bind(ctx, N_PARAM, SP(@$), $1, SP(@1), NULL); }
  | IDENT '=' expr           { $$ = ast_bind(ctx, N_PARAM, SP(@$), $1, SP(@1), $3); }
  ;

exprs:
    expr                     { $$ = ast_list1(ctx, $1); }
  | exprs ',' expr           { $$ = ast_append(ctx, $1, $3); }
  ;

args_opt: %empty { $$ = ast_list0(); } | args | args ',' ;
args:
    arg                      { $$ = ast_list1(ctx, $1); }
  | args ',' arg             { $$ = ast_append(ctx, $1, $3); }
  ;
arg:
    expr
  | IDENT '=' expr           { $$ = ast_bind(ctx, N_KWARG, SP(@$), $1, SP(@1), $3); }
  ;

expr:
    expr OR expr             { $$ = ast_binary(ctx, SP(@$), BIN_OR, $1, $3); }
  | expr AND expr            { $$ = ast_binary(ctx, SP(@$), BIN_AND, $1, $3); }
  | NOT expr                 { $$ = ast_not(ctx, SP(@$), $2); }
  | expr EQ expr             { $$ = ast_binary(ctx, SP(@$), BIN_EQ, $1, $3); }
  | expr NE expr             { $$ = ast_binary(ctx, SP(@$), BIN_NE, $1, $3); }
  | expr '<' expr            { $$ = ast_binary(ctx, SP(@$), '<', $1, $3); }
  | expr LE expr             { $$ = ast_binary(ctx, SP(@$), BIN_LE, $1, $3); }
  | expr '>' expr            { $$ = ast_binary(ctx, SP(@$), '>', $1, $3); }
  | expr GE expr             { $$ = ast_binary(ctx, SP(@$), BIN_GE, $1, $3); }
  | expr '+' expr            { $$ = ast_binary(ctx, SP(@$), '+', $1, $3); }
  | expr '-' expr            { $$ = ast_binary(ctx, SP(@$), '-', $1, $3); }
  | expr '*' expr            { $$ = ast_binary(ctx, SP(@$), '*', $1, $3); }
  | expr '/' expr            { $$ = ast_binary(ctx, SP(@$), '/', $1, $3); }
  | '-' expr %prec NEG       { $$ = ast_neg(ctx, SP(@$), $2); }
  | primary
  ;

primary:
    INT                      { $$ = ast_int(ctx, SP(@$), $1); }
  | FLOAT                    { $$ = ast_float(ctx, SP(@$), $1); }
  | BOOL                     { $$ = ast_bool(ctx, SP(@$), $1); }
  | STRING                   { $$ = ast_str(ctx, N_STRING, SP(@$), $1); }
  | IDENT                    { $$ = ast_str(ctx, N_NAME, SP(@$), $1); }
  | IDENT '(' args_opt ')'   { $$ = ast_call(ctx, SP(@$), $1, SP(@1), SP(@2), $3); }
  | IDENT '.' IDENT '(' args_opt ')' { $$ = ast_dotted(ast_call(ctx, SP(@$), $3, SP(@3), SP(@4), $5), $1, SP(@1)); }
  | '(' expr ')'             { $$ = $2; }
  | '(' expr ',' exprs ')'   { $$ = ast_tuple(ctx, SP(@$), $2, $4); }
  ;
%%

/* The name of a token kind as users read it: quotes dropped from aliases. */
static const char *token_name(yysymbol_kind_t k, char *buf, size_t n)
{
    const char *s = yysymbol_name(k);
    if (k == YYSYMBOL_YYEOF)
        return "end of file";
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
        snprintf(buf, n, "%.*s", (int)len - 2, s + 1);
    else
        snprintf(buf, n, "%s", s);
    return buf;
}

/* What was found: "identifier 'foo'", "end of line", "')'". */
static void describe_found(yysymbol_kind_t k, ScanState *s, char *buf, size_t n)
{
    char name[64];
    if (k == YYSYMBOL_IDENT || k == YYSYMBOL_INT || k == YYSYMBOL_FLOAT || k == YYSYMBOL_STRING)
        snprintf(buf, n, "%s '%s'", token_name(k, name, sizeof name), s->last_text);
    else if (k == YYSYMBOL_BOOL)
        snprintf(buf, n, "'%s'", s->last_text);
    else
        snprintf(buf, n, "%s", token_name(k, name, sizeof name));
}

static bool is_operator(yysymbol_kind_t k)
{
    static const yysymbol_kind_t ops[] = {YYSYMBOL_AND, YYSYMBOL_OR, YYSYMBOL_EQ, YYSYMBOL_NE, YYSYMBOL_LE,
        YYSYMBOL_GE, YYTRANSLATE('<'), YYTRANSLATE('>'), YYTRANSLATE('+'), YYTRANSLATE('-'), YYTRANSLATE('*'),
        YYTRANSLATE('/')};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (ops[i] == k) return true;
    return false;
}

/* The list of expected tokens: "',' or ')'", "an operator or end of line",
 * or "an expression". The binary operators are one entry. */
static void describe_expected(const yysymbol_kind_t *exp, int n, char *buf, size_t size)
{
    char name[64];
    size_t len = 0;
    int shown = 0, total = 0;
    bool op = false;
    for (int i = 0; i < n; i++)
        total += !is_operator(exp[i]) || !op, op |= is_operator(exp[i]);
    op = false;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (exp[i] == YYSYMBOL_INT && n > 4) { snprintf(buf, size, "an expression"); return; }
        if (exp[i] == YYSYMBOL_INPUT) { snprintf(buf, size, "a statement"); return; }
        if (is_operator(exp[i]) && op) continue;
        const char *sep = shown == 0 ? "" : shown == total - 1 ? " or " : ", ";
        const char *what = is_operator(exp[i]) ? "an operator" : token_name(exp[i], name, sizeof name);
        op |= is_operator(exp[i]);
        shown++;
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s", sep, what);
        if (len >= size) break;
    }
}

static bool expects(const yysymbol_kind_t *exp, int n, yysymbol_kind_t k)
{
    for (int i = 0; i < n; i++)
        if (exp[i] == k)
            return true;
    return false;
}

/* Keeps the expected list short and to the point: no "end of file"; inside
 * a body "end of line" rather than '}' (a statement ends at the line's end);
 * at the top level "'block' or 'network'" without "end of line". */
static int filter_expected(yysymbol_kind_t *exp, int n)
{
    bool nl = expects(exp, n, YYSYMBOL_NEWLINE), item = expects(exp, n, YYSYMBOL_BLOCK);
    int m = 0;
    for (int i = 0; i < n; i++) {
        yysymbol_kind_t k = exp[i];
        if (k == YYSYMBOL_YYEOF || k == YYSYMBOL_YYerror || (nl && k == YYTRANSLATE('}')) ||
            (item && k == YYSYMBOL_NEWLINE))
            continue;
        exp[m++] = k;
    }
    if (m == 0)
        return n;
    for (int i = 0; nl && i < m - 1; i++)   /* "end of line" last */
        if (exp[i] == YYSYMBOL_NEWLINE) {
            memmove(exp + i, exp + i + 1, (size_t)(m - i - 1) * sizeof *exp);
            exp[m - 1] = YYSYMBOL_NEWLINE;
            break;
        }
    return m;
}

/* The innermost bracket that the expected ')' or ']' would close, if any. */
static bool open_bracket(ScanState *s, const yysymbol_kind_t *exp, int n, SrcSpan *at, char *ch)
{
    int i = (s->depth < SCAN_MAX_OPEN ? s->depth : SCAN_MAX_OPEN) - 1;
    if (s->depth > 0) { *at = s->open[i]; *ch = s->open_ch[i]; }
    else if (s->unclosed_ch) { *at = s->unclosed; *ch = s->unclosed_ch; }
    else return false;
    return expects(exp, n, YYTRANSLATE(*ch == '(' ? ')' : ']'));
}


/* A misspelt keyword: `inptu x[...]` (an identifier where '=' must follow)
 * or `netwrok n {` (an identifier where a keyword is expected). */
static bool misspelt_keyword(ScanState *s, yysymbol_kind_t tok, const yysymbol_kind_t *exp, int n)
{
    static const char *const stmt_kw[] = {"input", "output", "return"};
    static const char *const item_kw[] = {"block", "network"};
    bool want_eq = n == 1 && exp[0] == YYTRANSLATE('=');
    bool want_item = n == 2 && exp[0] == YYSYMBOL_BLOCK;
    const char *word = want_eq ? s->prev_text : s->last_text;
    if (!(want_eq && s->prev_tok == IDENT) && !(want_item && tok == YYSYMBOL_IDENT))
        return false;
    const char *sug = diag_suggest(word, want_eq ? stmt_kw : item_kw, want_eq ? 3 : 2);
    if (!sug)
        return false;
    diag_error(want_eq ? s->prev_span : s->last_span, "unknown keyword '%s'; did you mean '%s'?", word, sug);
    return true;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, ParseCtx *ctx)
{
    ScanState *s = yyget_extra(scanner);
    SrcSpan at = scan_span(*yypcontext_location(yyctx));
    yysymbol_kind_t tok = yypcontext_token(yyctx), exp[YYNTOKENS];
    if (tok == YYSYMBOL_ERROR) {
        diag_error(at, "%s", s->error_msg);
        return 0;
    }
    int n = yypcontext_expected_tokens(yyctx, exp, YYNTOKENS);
    bool want_brace = expects(exp, n, YYTRANSLATE('}'));
    n = filter_expected(exp, n);
    if (n == 2 && expects(exp, n, YYTRANSLATE('=')) && expects(exp, n, YYTRANSLATE(',')))
        exp[0] = YYTRANSLATE('='), n = 1;   /* after a statement's first name: `a, b = ...` is rare */
    if (misspelt_keyword(s, tok, exp, n))
        return 0;
    char found[128], expected[256];
    describe_found(tok, s, found, sizeof found);
    describe_expected(exp, n, expected, sizeof expected);
    SrcSpan open;
    char ch;
    if (tok == YYSYMBOL_ELSE && s->prev_tok == NEWLINE) {
        diag_error(at, "'else' must be on the line of the '}' that closes its 'if': } else {");
    } else if (tok == YYSYMBOL_YYEOF && s->brace.line && want_brace) {
        diag_error(at, "expected '}' to close '{' at %d:%d, found end of file", s->brace.line, s->brace.col);
        diag_note(s->brace, "'{' opened here");
    } else if ((tok == YYTRANSLATE(')') || tok == YYTRANSLATE(']')) && s->unmatched) {
        diag_error(at, "unmatched '%s'", s->last_text);
    } else if (open_bracket(s, exp, n, &open, &ch)) {
        diag_error(at, "expected '%c' to close '%c' at %d:%d, found %s", ch == '(' ? ')' : ']', ch,
                   open.line, open.col, found);
        diag_note(open, "'%c' opened here", ch);
    } else if (n > 0) {
        diag_error(at, "expected %s, found %s", expected, found);
    } else {
        diag_error(at, "unexpected %s", found);
    }
    return 0;
}

static void yyerror(YYLTYPE *loc, void *scanner, ParseCtx *ctx, const char *msg)
{
    diag_error(scan_span(*loc), "%s (input nested too deeply?)", msg);
}

static void *scanner_for(ScanState *st, const char *src, size_t len, yyscan_t *sc)
{
    yylex_init_extra(st, sc);
    st->line = st->col = 1;
    return yy_scan_bytes(src, (int)len, *sc);
}

/* The identifiers on lines that error recovery skipped: ParseCtx.dropped. */
static void collect_dropped(ParseCtx *ctx, ScanState *st)
{
    if (st->nskipped == 0)
        return;
    char *skip = arena_alloc(ctx->arena, (size_t)st->line + 2);
    for (int i = 0; i < st->nskipped; i++)
        for (int l = st->skipped[i][0]; l <= st->skipped[i][1] && l <= st->line; l++)
            skip[l] = 1;
    for (int i = 0; i < st->nidents; i++)
        if (skip[st->idents[i].line])
            ptrmap_put(ctx->arena, &ctx->dropped, st->idents[i].name, 1);
}

void fe_parse(ParseCtx *ctx, const char *src, size_t len)
{
    ScanState st = {.arena = ctx->arena};
    yyscan_t sc;
    if (len > INT32_MAX) {
        diag_error(NO_SPAN, "file too large (%zu bytes)", len);
        return;
    }
    scanner_for(&st, src, len, &sc);
    yyparse(sc, ctx);
    yylex_destroy(sc);
    collect_dropped(ctx, &st);
}

/* --emit=tokens: one line per token, "line:col kind text". */
void fe_dump_tokens(FILE *out, Arena *a, const char *src, size_t len)
{
    ScanState st = {.arena = a};
    yyscan_t sc;
    YYSTYPE val;
    YYLTYPE loc;
    char name[64];
    scanner_for(&st, src, len > INT32_MAX ? 0 : len, &sc);
    for (int t; (t = yylex(&val, &loc, sc)) != 0;) {
        yysymbol_kind_t k = YYTRANSLATE(t);
        fprintf(out, "%d:%d %s", loc.first_line, loc.first_column, token_name(k, name, sizeof name));
        if (k == YYSYMBOL_IDENT || k == YYSYMBOL_INT || k == YYSYMBOL_FLOAT || k == YYSYMBOL_STRING)
            fprintf(out, " %s", st.last_text);
        if (k == YYSYMBOL_ERROR)
            diag_error(scan_span(loc), "%s", st.error_msg);
        fputc('\n', out);
    }
    yylex_destroy(sc);
}
