/*
 * statfmt.c - numbers, shapes and receptive fields as the --stats table,
 * its JSON and --explain print them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frontend/stats_internal.h"

/* 31037698 -> "31,037,698" */
const char *fmt_group3(char *buf, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    char *p = buf;
    if (v < 0)
        *p++ = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            *p++ = ',';
        *p++ = tmp[i];
    }
    *p = '\0';
    return buf;
}

/* Integers without a fraction, others with up to 4 decimals: 5, 0.5, 2.3333;
 * 6 significant digits from 1e15 on (1.15292e+18). */
const char *fmt_num(char *buf, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(buf, n, "?");
    else if (fabs(v) >= 1e15)
        snprintf(buf, n, "%.6g", v);
    else if (v == floor(v))
        snprintf(buf, n, "%lld", (long long)v);
    else {
        snprintf(buf, n, "%.4f", v);
        char *e = buf + strlen(buf) - 1;
        while (*e == '0')
            *e-- = '\0';
        if (*e == '.')
            *e = '\0';
    }
    return buf;
}

const char *fmt_shape(char *buf, size_t n, Shape s)
{
    if (s.rank == 1)
        snprintf(buf, n, "[%lld]", (long long)s.c);
    else
        snprintf(buf, n, "%lld x %lld x %lld", (long long)s.c, (long long)s.h, (long long)s.w);
    return buf;
}

/* "5 / 1" when H and W agree, else "5x3 / 1x2"; "-" for [F] tensors. */
const char *fmt_rf(char *buf, size_t n, const Layer *l)
{
    char a[24], b[24], c[24], d[24];
    fmt_num(a, sizeof a, l->rf_size[0]);
    fmt_num(b, sizeof b, l->rf_size[1]);
    fmt_num(c, sizeof c, l->rf_stride[0]);
    fmt_num(d, sizeof d, l->rf_stride[1]);
    if (l->shape.rank == 1)
        snprintf(buf, n, "%s", a);
    else if (!strcmp(a, b) && !strcmp(c, d))
        snprintf(buf, n, "%s / %s", a, c);
    else
        snprintf(buf, n, "%sx%s / %sx%s", a, b, c, d);
    return buf;
}
