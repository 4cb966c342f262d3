/*
 * ops.c - the op catalogue (frontend/ops.def) as data: names and argument
 * specs. The ARGS column is parsed once into ArgSpec arrays; the checker binds
 * call arguments against them (check.c).
 */
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

const char *const fe_op_names[OP_COUNT] = {
#define OP(id, name, ...) [OP_##id] = name,
#include "frontend/ops.def"
#undef OP
};

typedef struct { int ntensors, flags; const char *args, *enums; } OpRow;

static const OpRow rows[OP_COUNT] = {
#define OP(id, name, nt, fl, args, enums, lower) [OP_##id] = {nt, fl, args, enums},
#include "frontend/ops.def"
#undef OP
};

static OpSpec specs[OP_COUNT];
static bool specs_ready;

/* arg -> name ':' type ['!'] ['=' default] ; '*' switches to keyword-only */
static void parse_args(OpSpec *s, const char *text)
{
    static char buf[OP_COUNT][256];
    char *p = buf[s - specs];
    strncpy(p, text, 255);
    bool kwonly = false;
    for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " ")) {
        if (!strcmp(tok, "*")) { kwonly = true; continue; }
        ArgSpec *a = &s->args[s->nargs++];
        char *colon = strchr(tok, ':');
        *colon = '\0';
        a->name = tok;
        a->type = (ArgType)colon[1];
        a->required = colon[2] == '!';
        char *eq = strchr(colon + 1, '=');
        a->def = eq ? eq + 1 : NULL;
        a->kwonly = kwonly;
    }
}

static void init_specs(void)
{
    for (int k = 0; k < OP_COUNT; k++) {
        specs[k].name = fe_op_names[k];
        specs[k].ntensors = rows[k].ntensors;
        specs[k].flags = rows[k].flags;
        specs[k].enums = rows[k].enums;
        parse_args(&specs[k], rows[k].args);
    }
    specs_ready = true;
}

const OpSpec *op_spec(OpKind k)
{
    if (!specs_ready)
        init_specs();
    return &specs[k];
}

int op_lookup(const char *name)
{
    for (int k = 1; k < OP_COUNT; k++)   /* "input" is a statement, not a call */
        if (!strcmp(fe_op_names[k], name))
            return k;
    return -1;
}

int op_arg_index(const OpSpec *s, const char *name)
{
    for (int i = 0; i < s->nargs; i++)
        if (!strcmp(s->args[i].name, name))
            return i;
    return -1;
}

const char *fe_upsample_mode_name(UpsampleMode m)
{
    switch (m) {
    case UPSAMPLE_NEAREST: return "nearest";
    case UPSAMPLE_BILINEAR: return "bilinear";
    case UPSAMPLE_BICUBIC: return "bicubic";
    case UPSAMPLE_NEAREST_EXACT: return "nearest-exact";
    }
    return "?";
}

const char *fe_pad_mode_name(PadMode m)
{
    switch (m) {
    case PAD_CONSTANT: return "constant";
    case PAD_REFLECT: return "reflect";
    case PAD_REPLICATE: return "replicate";
    case PAD_CIRCULAR: return "circular";
    }
    return "?";
}
