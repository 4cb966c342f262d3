/*
 * scan_state.h - the scanner's state (flex `extra`), shared by conv.l and
 * conv.y: position, bracket stack for "expected ')' to close '(' at L:C",
 * and the last token's text for syntax error messages.
 * Included only by the generated scanner and parser.
 */
#ifndef CONVC_SCAN_STATE_H
#define CONVC_SCAN_STATE_H

#include <stdio.h>
#include <string.h>

#include "frontend/internal.h"

enum { SCAN_MAX_OPEN = 64 };

typedef struct ScanState {
    Arena *arena;
    int line, col;
    int depth;                       /* open ( and [ not yet closed */
    SrcSpan open[SCAN_MAX_OPEN];     /* innermost open brackets (first SCAN_MAX_OPEN) */
    char open_ch[SCAN_MAX_OPEN];
    SrcSpan unclosed;                /* innermost open bracket when a line break or */
    char unclosed_ch;                /* brace reset depth (0: none); valid for one token */
    bool just_reset;
    int last_tok, prev_tok;
    char last_text[40], prev_text[40];
    SrcSpan last_span, prev_span;
    const char *error_msg;           /* message of the last ERROR token */
    SrcSpan brace;                   /* the last '{' */
    bool unmatched;                  /* the last ')' or ']' closed nothing */
    struct { const char *name; int line; } *idents;   /* every identifier, for ParseCtx.dropped */
    int nidents, idcap;
    int (*skipped)[2];               /* line ranges skipped by error recovery */
    int nskipped, skipcap;
} ScanState;

/* Error recovery skipped the lines first..last. */
static inline void scan_skipped(ScanState *s, int first, int last)
{
    int r[2] = {first, last};
    arena_grow(s->arena, (void **)&s->skipped, s->nskipped, &s->skipcap, sizeof *s->skipped);
    memcpy(s->skipped[s->nskipped++], r, sizeof r);
}

static inline SrcSpan scan_span(YYLTYPE l)
{
    return (SrcSpan){l.first_line, l.first_column, l.last_line, l.last_column};
}

static inline int scan_token(ScanState *s, YYLTYPE loc, int tok, const char *text, size_t n)
{
    if (!s->just_reset)
        s->unclosed_ch = 0;
    s->just_reset = false;
    s->prev_tok = s->last_tok;
    s->prev_span = s->last_span;
    memcpy(s->prev_text, s->last_text, sizeof s->prev_text);
    s->last_tok = tok;
    s->last_span = scan_span(loc);
    size_t m = n < sizeof s->last_text - 4 ? n : sizeof s->last_text - 4;
    memcpy(s->last_text, text, m);
    strcpy(s->last_text + m, m < n ? "..." : "");
    return tok;
}

static inline void scan_reset_depth(ScanState *s)
{
    if (s->depth > 0) {
        int i = (s->depth < SCAN_MAX_OPEN ? s->depth : SCAN_MAX_OPEN) - 1;
        s->unclosed = s->open[i];
        s->unclosed_ch = s->open_ch[i];
        s->just_reset = true;
    }
    s->depth = 0;
}

static inline void scan_open(ScanState *s, YYLTYPE loc, char c)
{
    if (s->depth < SCAN_MAX_OPEN) {
        s->open[s->depth] = scan_span(loc);
        s->open_ch[s->depth] = c;
    }
    s->depth++;
}

static inline void scan_close(ScanState *s)
{
    s->unmatched = s->depth == 0;
    if (s->depth > 0)
        s->depth--;
}

/* A line break inside brackets continues the statement after ( [ , = or an
 * operator (also a comparison, and, or, not). */
static inline bool scan_joins_line(ScanState *s)
{
    if (s->depth == 0)
        return false;
    if (strchr("([,=+-*/<>", s->last_tok) && s->last_tok < 128 && s->last_tok > 0)
        return true;
    if (s->last_tok == AND || s->last_tok == OR || s->last_tok == NOT || s->last_tok == EQ || s->last_tok == NE ||
        s->last_tok == LE || s->last_tok == GE)
        return true;
    scan_reset_depth(s);
    return false;
}
#endif
