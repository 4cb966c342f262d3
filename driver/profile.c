/*
 * profile.c - measured step times from a --profile=json file, per layer.
 *
 * The runtime names a step after the layers it computes, joined by '+'
 * ("dec1.c1+dec1.b1+dec1.r1": a conv with its batchnorm folded and its relu
 * fused); nodes a pass added (copies, reorders) carry names that are not
 * layers. The file is read with the runtime's strict JSON parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "runtime/json.h"

static int layer_index(const Graph *g, const char *name, size_t n)
{
    for (int i = 0; i < g->nlayers; i++)
        if (strlen(g->layers[i].name) == n && !memcmp(g->layers[i].name, name, n))
            return i;
    return -1;
}

/* The first layer among the '+'-separated names of a step, -1 if none. */
static int step_layer(const Graph *g, const char *step)
{
    while (*step) {
        size_t n = strcspn(step, "+");
        int i = layer_index(g, step, n);
        if (i >= 0)
            return i;
        step += n + (step[n] == '+');
    }
    return -1;
}

static double *fail(const char *path, int *code, int c, const char *why)
{
    fprintf(stderr, "convc: error: %s: %s\n", path, why);
    *code = c;
    return NULL;
}

/* Charges every step's median_ms to its layer; false if a step is malformed. */
static bool charge_steps(const Json *steps, const Graph *g, double *ms)
{
    for (int64_t k = 0; k < steps->n; k++) {
        const Json *s = steps->items[k];
        const Json *name = s->kind == JSON_OBJECT ? rt_json_get(s, "name") : NULL;
        const Json *t = s->kind == JSON_OBJECT ? rt_json_get(s, "median_ms") : NULL;
        if (!name || name->kind != JSON_STRING || !t || t->kind != JSON_NUMBER)
            return false;
        double v = strtod(t->text, NULL);
        int i = step_layer(g, name->text);
        if (i >= 0 && v >= 0)
            ms[i] = (ms[i] < 0 ? 0 : ms[i]) + v;
    }
    return true;
}

static double *read_json(const Json *root, const char *path, const Graph *g, int *code)
{
    const Json *net = root->kind == JSON_OBJECT ? rt_json_get(root, "network") : NULL;
    const Json *steps = root->kind == JSON_OBJECT ? rt_json_get(root, "steps") : NULL;
    if (!net || net->kind != JSON_STRING || !steps || steps->kind != JSON_ARRAY)
        return fail(path, code, 2, "not a --profile=json file (expected \"network\" and \"steps\")");
    if (strcmp(net->text, g->name)) {
        fprintf(stderr, "convc: error: %s: a profile of network '%s', not of '%s'\n", path, net->text, g->name);
        *code = 2;
        return NULL;
    }
    double *ms = malloc(sizeof *ms * (size_t)(g->nlayers ? g->nlayers : 1));
    if (!ms)
        return fail(path, code, 3, "out of memory");
    for (int i = 0; i < g->nlayers; i++)
        ms[i] = -1;
    if (!charge_steps(steps, g, ms)) {
        free(ms);
        return fail(path, code, 2, "a step without a string \"name\" and a number \"median_ms\"");
    }
    return ms;
}

double *drv_read_profile(const char *path, const Graph *g, int *code)
{
    size_t len;
    char *text = fe_read_file(path, &len);
    if (!text) {
        *code = 3;
        return NULL;
    }
    char err[256];
    Json *root = rt_json_parse(text, len, err, sizeof err);
    free(text);
    if (!root)
        return fail(path, code, 2, err);
    double *ms = read_json(root, path, g, code);
    rt_json_free(root);
    return ms;
}
