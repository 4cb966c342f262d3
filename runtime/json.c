/*
 * json.c - a small strict JSON parser for safetensors headers.
 *
 * Accepts exactly RFC 8259: objects, arrays, strings with every escape
 * (\uXXXX with surrogate pairs, decoded to UTF-8), numbers, true, false,
 * null. No comments, no trailing commas, no leading zeros, no control
 * characters inside strings, no NUL in a decoded string (keys become C
 * strings). Nesting is limited so hostile input cannot exhaust the stack.
 * Errors name the byte offset where parsing stopped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/json.h"

enum { JSON_MAX_DEPTH = 64 };

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errsize;
    bool failed;
} Parser;

static Json *parse_value(Parser *p, int depth);

static void *fail(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void *fail(Parser *p, const char *fmt, ...)
{
    if (!p->failed) {
        int n = snprintf(p->err, p->errsize, "at byte %zu: ", p->pos);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < p->errsize)
            vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
        va_end(ap);
        p->failed = true;
    }
    return NULL;
}

static void skip_ws(Parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        p->pos++;
    }
}

static int peek(Parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static Json *new_value(Parser *p, JsonKind kind)
{
    Json *v = calloc(1, sizeof *v);
    if (!v)
        return fail(p, "out of memory");
    v->kind = kind;
    return v;
}

/* A growable byte buffer for decoded strings. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static bool buf_put(Buf *b, char c)
{
    if (b->len + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return true;
}

static bool buf_put_utf8(Buf *b, uint32_t cp)
{
    if (cp < 0x80)
        return buf_put(b, (char)cp);
    if (cp < 0x800)
        return buf_put(b, (char)(0xC0 | cp >> 6)) && buf_put(b, (char)(0x80 | (cp & 0x3F)));
    if (cp < 0x10000)
        return buf_put(b, (char)(0xE0 | cp >> 12)) && buf_put(b, (char)(0x80 | (cp >> 6 & 0x3F))) &&
               buf_put(b, (char)(0x80 | (cp & 0x3F)));
    return buf_put(b, (char)(0xF0 | cp >> 18)) && buf_put(b, (char)(0x80 | (cp >> 12 & 0x3F))) &&
           buf_put(b, (char)(0x80 | (cp >> 6 & 0x3F))) && buf_put(b, (char)(0x80 | (cp & 0x3F)));
}

/* hex4 -> four hexadecimal digits */
static bool parse_hex4(Parser *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++, p->pos++) {
        int c = peek(p);
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return fail(p, "expected four hex digits after '\\u'"), false;
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return true;
}

/* escape -> '\' ( ["\/bfnrt] | 'u' hex4 | 'u' high-surrogate '\u' low-surrogate ) */
static bool parse_escape(Parser *p, Buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = peek(p);
    const char *e = c > 0 ? strchr(from, c) : NULL;
    p->pos++;
    if (e && *e)
        return buf_put(b, to[e - from]) || fail(p, "out of memory");
    if (c != 'u')
        return p->pos--, fail(p, "invalid escape in string"), false;
    uint32_t cp, lo;
    if (!parse_hex4(p, &cp))
        return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, "unpaired low surrogate in string"), false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, "unpaired high surrogate in string"), false;
        p->pos += 2;
        if (!parse_hex4(p, &lo))
            return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, "unpaired high surrogate in string"), false;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return fail(p, "NUL character in string"), false;
    return buf_put_utf8(b, cp) || fail(p, "out of memory");
}

/* string -> '"' ( char | escape )* '"' ; decoded into a NUL-terminated buffer */
static char *parse_string(Parser *p, size_t *len)
{
    Buf b = {0};
    p->pos++; /* the opening quote */
    if (!buf_put(&b, 'x'))
        return fail(p, "out of memory");
    b.len = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            free(b.data);
            return fail(p, "unterminated string");
        }
        if (c == '"')
            break;
        bool ok;
        if (c == '\\') {
            p->pos++;
            ok = parse_escape(p, &b);
        } else if (c < 0x20) {
            ok = fail(p, "control character in string");
        } else {
            ok = buf_put(&b, (char)c) || fail(p, "out of memory");
            p->pos++;
        }
        if (!ok) {
            free(b.data);
            return NULL;
        }
    }
    p->pos++;
    *len = b.len;
    return b.data;
}

/* number -> '-'? ( '0' | [1-9][0-9]* ) ( '.' [0-9]+ )? ( [eE] [+-]? [0-9]+ )? */
static Json *parse_number(Parser *p)
{
    size_t start = p->pos;
    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0') {
        p->pos++;
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    } else {
        return fail(p, "invalid number");
    }
    if (peek(p) == '.') {
        p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail(p, "expected a digit after '.'");
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail(p, "expected a digit in the exponent");
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    Json *v = new_value(p, JSON_NUMBER);
    if (!v)
        return NULL;
    v->len = p->pos - start;
    v->text = malloc(v->len + 1);
    if (!v->text) {
        free(v);
        return fail(p, "out of memory");
    }
    memcpy(v->text, p->s + start, v->len);
    v->text[v->len] = '\0';
    return v;
}

static Json *parse_literal(Parser *p, const char *word, JsonKind kind)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "unexpected character '%c'", p->s[p->pos]);
    p->pos += n;
    return new_value(p, kind);
}

static bool grow(Parser *p, Json *v, int64_t *cap, bool with_keys)
{
    if (v->n < *cap)
        return true;
    int64_t c = *cap ? *cap * 2 : 8;
    Json **items = realloc(v->items, (size_t)c * sizeof *items);
    if (!items)
        return fail(p, "out of memory"), false;
    v->items = items;
    if (with_keys) {
        char **keys = realloc(v->keys, (size_t)c * sizeof *keys);
        if (!keys)
            return fail(p, "out of memory"), false;
        v->keys = keys;
    }
    *cap = c;
    return true;
}

/* array -> '[' ( value ( ',' value )* )? ']' */
static Json *parse_array(Parser *p, int depth)
{
    Json *v = new_value(p, JSON_ARRAY);
    int64_t cap = 0;
    if (!v)
        return NULL;
    p->pos++;
    skip_ws(p);
    if (peek(p) == ']') {
        p->pos++;
        return v;
    }
    for (;;) {
        Json *item = grow(p, v, &cap, false) ? parse_value(p, depth + 1) : NULL;
        if (!item)
            break;
        v->items[v->n++] = item;
        skip_ws(p);
        if (peek(p) == ']') {
            p->pos++;
            return v;
        }
        if (peek(p) != ',') {
            fail(p, "expected ',' or ']' in array");
            break;
        }
        p->pos++;
    }
    rt_json_free(v);
    return NULL;
}

/* member -> string ':' value */
static bool parse_member(Parser *p, Json *v, int depth)
{
    skip_ws(p);
    if (peek(p) != '"')
        return fail(p, "expected a string key in object"), false;
    size_t len;
    char *key = parse_string(p, &len);
    if (!key)
        return false;
    skip_ws(p);
    if (peek(p) != ':') {
        free(key);
        return fail(p, "expected ':' after object key"), false;
    }
    p->pos++;
    Json *item = parse_value(p, depth + 1);
    if (!item) {
        free(key);
        return false;
    }
    v->keys[v->n] = key;
    v->items[v->n++] = item;
    return true;
}

/* object -> '{' ( member ( ',' member )* )? '}' */
static Json *parse_object(Parser *p, int depth)
{
    Json *v = new_value(p, JSON_OBJECT);
    int64_t cap = 0;
    if (!v)
        return NULL;
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        return v;
    }
    for (;;) {
        if (!grow(p, v, &cap, true) || !parse_member(p, v, depth))
            break;
        skip_ws(p);
        if (peek(p) == '}') {
            p->pos++;
            return v;
        }
        if (peek(p) != ',') {
            fail(p, "expected ',' or '}' in object");
            break;
        }
        p->pos++;
    }
    rt_json_free(v);
    return NULL;
}

/* value -> object | array | string | number | true | false | null */
static Json *parse_value(Parser *p, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return fail(p, "nesting deeper than %d", JSON_MAX_DEPTH);
    skip_ws(p);
    int c = peek(p);
    if (c < 0)
        return fail(p, "unexpected end of JSON");
    if (c == '{')
        return parse_object(p, depth);
    if (c == '[')
        return parse_array(p, depth);
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    if (c == 't')
        return parse_literal(p, "true", JSON_TRUE);
    if (c == 'f')
        return parse_literal(p, "false", JSON_FALSE);
    if (c == 'n')
        return parse_literal(p, "null", JSON_NULL);
    if (c != '"')
        return c >= 0x20 && c < 0x7F ? fail(p, "unexpected character '%c'", c)
                                     : fail(p, "unexpected byte 0x%02x", (unsigned)c);
    Json *v = new_value(p, JSON_STRING);
    if (v && !(v->text = parse_string(p, &v->len))) {
        free(v);
        return NULL;
    }
    return v;
}

/* text -> ws value ws */
Json *rt_json_parse(const char *src, size_t len, char *err, size_t errsize)
{
    Parser p = {.s = src, .len = len, .err = err, .errsize = errsize};
    Json *v = parse_value(&p, 0);
    if (!v)
        return NULL;
    skip_ws(&p);
    if (p.pos != p.len) {
        fail(&p, "unexpected data after the JSON value");
        rt_json_free(v);
        return NULL;
    }
    return v;
}

void rt_json_free(Json *v)
{
    if (!v)
        return;
    for (int64_t i = 0; i < v->n; i++) {
        rt_json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    free(v);
}

/* The value of `key` in an object (the first one; callers reject duplicates). */
const Json *rt_json_get(const Json *obj, const char *key)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return NULL;
    for (int64_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

bool rt_json_uint(const Json *v, int64_t *out)
{
    if (!v || v->kind != JSON_NUMBER || v->text[0] == '-')
        return false;
    int64_t x = 0;
    for (const char *c = v->text; *c; c++) {
        if (*c < '0' || *c > '9')
            return false; /* a fraction or an exponent */
        if (x > (INT64_MAX - (*c - '0')) / 10)
            return false;
        x = x * 10 + (*c - '0');
    }
    *out = x;
    return true;
}
