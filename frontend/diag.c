/*
 * diag.c - the diagnostics module. Every message of the front end goes
 * through here:
 *
 *   file:line:col: error: message
 *     c1 = conv2d(x, 64, 0)
 *                        ^
 *   file:line:col: note: related place
 *
 * Invariants: identical diagnostics (same place, same text) are printed once,
 * which keeps one report per source location although a block is expanded
 * many times; after MAX_ERRORS errors the rest are counted but not printed;
 * long source lines are shown as a window around the caret; control bytes
 * are shown as '?', so junk input cannot garble a terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

enum { MAX_ERRORS = 50, WINDOW = 160 };

const SrcSpan NO_SPAN = {0, 0, 0, 0};

static struct {
    const char *path, *src;
    size_t len;
    DiagOptions opts;
    int errors, shown_errors;
    bool suppressed;          /* the last error/warning was not printed: drop its notes */
    uint64_t *seen;           /* hashes of printed diagnostics */
    size_t seen_cap, seen_n;
    size_t *line_start;       /* offset of each line, built on first use */
    int nlines;
} D;

void diag_begin(const char *path, const char *src, size_t len, const DiagOptions *opts)
{
    free(D.seen);
    free(D.line_start);
    memset(&D, 0, sizeof D);
    D.path = path;
    D.src = src;
    D.len = len;
    D.opts = *opts;
    if (!D.opts.out)
        D.opts.out = stderr;
}

int diag_error_count(void) { return D.errors; }

static uint64_t hash_diag(SrcSpan sp, const char *kind, const char *msg)
{
    uint64_t h = 1469598103934665603u ^ (uint64_t)sp.line * 31 ^ (uint64_t)sp.col << 32;
    for (const char *s = kind; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    for (const char *s = msg; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h | 1;
}

/* Returns true if this diagnostic was seen before; remembers it otherwise. */
static bool seen_before(uint64_t h)
{
    if (2 * (D.seen_n + 1) > D.seen_cap) {
        size_t ncap = D.seen_cap ? D.seen_cap * 2 : 256;
        uint64_t *ns = fe_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < D.seen_cap; i++) {
            if (!D.seen[i]) continue;
            size_t j = D.seen[i] & (ncap - 1);
            while (ns[j]) j = (j + 1) & (ncap - 1);
            ns[j] = D.seen[i];
        }
        free(D.seen);
        D.seen = ns;
        D.seen_cap = ncap;
    }
    size_t j = h & (D.seen_cap - 1);
    for (; D.seen[j]; j = (j + 1) & (D.seen_cap - 1))
        if (D.seen[j] == h)
            return true;
    D.seen[j] = h;
    D.seen_n++;
    return false;
}

static const char *color(const char *code) { return D.opts.color ? code : ""; }

static void index_lines(void)
{
    int cap = 1024;
    D.line_start = fe_xcalloc((size_t)cap, sizeof *D.line_start);
    D.line_start[D.nlines++] = 0;
    for (const char *p = D.src; (p = memchr(p, '\n', D.len - (size_t)(p - D.src))); p++) {
        if (D.nlines == cap)
            D.line_start = fe_xrealloc(D.line_start, (size_t)(cap *= 2) * sizeof *D.line_start);
        D.line_start[D.nlines++] = (size_t)(p - D.src) + 1;
    }
}

/* The byte range [*b, *e) of line `line` (1-based). */
static bool find_line(int line, size_t *b, size_t *e)
{
    if (!D.line_start)
        index_lines();
    if (line < 1 || line > D.nlines)
        return false;
    size_t i = D.line_start[line - 1];
    const char *nl = memchr(D.src + i, '\n', D.len - i);
    *b = i;
    *e = nl ? (size_t)(nl - D.src) : D.len;
    if (*e > *b && D.src[*e - 1] == '\r') (*e)--;
    return true;
}

static bool is_lead(unsigned char c) { return (c & 0xC0) != 0x80; }

/* Byte offset of code point column `col` in [b, e). */
static size_t col_offset(size_t b, size_t e, int col)
{
    int c = 1;
    size_t i = b;
    for (; i < e && c < col; i++)
        if (i + 1 >= e || is_lead((unsigned char)D.src[i + 1]))
            c++;
    return i;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Prints [b, e) with control bytes and invalid UTF-8 as '?'. */
static void put_src(FILE *f, size_t b, size_t e)
{
    const unsigned char *s = (const unsigned char *)D.src;
    for (size_t i = b; i < e; i++) {
        size_t n = s[i] >= 0x80 ? utf8_len(s + i, e - i) : 0;
        if (n) {
            fwrite(s + i, 1, n, f);
            i += n - 1;
        } else {
            fputc(s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?', f);
        }
    }
}

/* Prints the source line and a caret line under columns [col, end]. */
static void show_source(SrcSpan sp)
{
    size_t b, e;
    if (!sp.line || !find_line(sp.line, &b, &e))
        return;
    FILE *f = D.opts.out;
    size_t cb = col_offset(b, e, sp.col);
    size_t wb = b, we = e;
    if (e - b > 2 * WINDOW) {   /* long line: a window around the caret */
        wb = cb > b + WINDOW / 2 ? cb - WINDOW / 2 : b;
        while (wb > b && !is_lead((unsigned char)D.src[wb])) wb--;
        we = wb + 2 * WINDOW < e ? wb + 2 * WINDOW : e;
        while (we < e && !is_lead((unsigned char)D.src[we])) we++;
    }
    size_t ce = sp.end_line == sp.line ? col_offset(b, e, sp.end_col) : e;
    if (ce < cb) ce = cb;
    fputs(wb > b ? "  ..." : "  ", f);
    put_src(f, wb, we);
    fputs(we < e ? "...\n" : "\n", f);
    fputs(wb > b ? "     " : "  ", f);
    for (size_t i = wb; i < cb && i < we; i++)
        if (is_lead((unsigned char)D.src[i])) fputc(D.src[i] == '\t' ? '\t' : ' ', f);
    fprintf(f, "%s^", color("\033[1;32m"));
    for (size_t i = cb + 1; i <= ce && i < we; i++)
        if (is_lead((unsigned char)D.src[i])) fputc('~', f);
    fprintf(f, "%s\n", color("\033[0m"));
}

static void emit(SrcSpan sp, const char *kind, const char *kcolor, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    bool note = !strcmp(kind, "note");
    if (note ? D.suppressed : (D.suppressed = seen_before(hash_diag(sp, kind, msg))))
        return;
    FILE *f = D.opts.out;
    if (sp.line)
        fprintf(f, "%s%s:%d:%d: ", color("\033[1m"), D.path, sp.line, sp.col);
    else
        fprintf(f, "%s%s: ", color("\033[1m"), D.path);
    fprintf(f, "%s%s:%s %s%s%s\n", color(kcolor), kind, color("\033[0m"), color("\033[1m"), msg, color("\033[0m"));
    show_source(sp);
}

void diag_error(SrcSpan sp, const char *fmt, ...)
{
    D.errors++;
    if (D.shown_errors >= MAX_ERRORS) {
        D.suppressed = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    emit(sp, "error", "\033[1;31m", fmt, ap);
    va_end(ap);
    if (!D.suppressed && ++D.shown_errors == MAX_ERRORS)
        fprintf(D.opts.out, "%s: note: too many errors, stopping here\n", D.path);
}

void diag_warning(SrcSpan sp, const char *fmt, ...)
{
    if (D.shown_errors >= MAX_ERRORS) {
        D.suppressed = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    emit(sp, "warning", "\033[1;35m", fmt, ap);
    va_end(ap);
}

void diag_note(SrcSpan sp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(sp, "note", "\033[1;36m", fmt, ap);
    va_end(ap);
}

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int sub = prev + (a[i - 1] != b[j - 1]);
            int del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

const char *diag_suggest(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int bestd = (int)strlen(word) / 3 + 1;
    if (bestd > 3) bestd = 3;
    for (int i = 0; i < n; i++) {
        if (!cands[i] || !strcmp(cands[i], word)) continue;
        int d = edit_distance(word, cands[i]);
        if (d <= bestd && (!best || d < edit_distance(word, best)))
            best = cands[i];
    }
    return best;
}
