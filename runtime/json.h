/*
 * json.h - a small strict JSON parser (RFC 8259), runtime/json.c.
 *
 * Used by the runtime for safetensors headers and by the convc driver for
 * --profile files (--emit=dot). Depends on libc only.
 */
#ifndef CONVC_RT_JSON_H
#define CONVC_RT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSON_NULL,   /* null */
    JSON_FALSE,  /* false */
    JSON_TRUE,   /* true */
    JSON_NUMBER, /* text holds the number as written */
    JSON_STRING, /* text holds the decoded string, NUL-terminated */
    JSON_ARRAY,  /* items[0..n) */
    JSON_OBJECT  /* keys[0..n) and items[0..n), in file order */
} JsonKind;

typedef struct Json Json;
struct Json {
    JsonKind kind;
    char *text;
    size_t len;
    int64_t n;
    char **keys;
    Json **items;
};

Json *rt_json_parse(const char *src, size_t len, char *err, size_t errsize);
void rt_json_free(Json *v);
const Json *rt_json_get(const Json *obj, const char *key);
bool rt_json_uint(const Json *v, int64_t *out); /* a non-negative integer that fits int64 */

#endif
