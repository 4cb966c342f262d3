/*
 * cli.c - the command line of a compiled network.
 *
 *   NET (--weights FILE | --random-weights SEED)
 *       (--input [NAME=]FILE ... | --random-input SEED [--batch N])
 *       [--output [NAME=]FILE ...] [--threads N] [--bench N [--profile[=MODE]]] [--info]
 *
 * Options take their value as the next argument or after '='. A bare FILE
 * is accepted only when the network has exactly one input (output); with
 * several, every file is NAME=FILE. Every number is validated: a malformed
 * or out-of-range value is a usage error (exit RT_EXIT_USAGE).
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

static const int64_t MAX_BENCH = 1000000;

void rt_print_usage(const RtModel *m, FILE *f)
{
    fprintf(f,
            "usage: %s (--weights FILE | --random-weights SEED)   (none: no parameters, or embedded weights)\n"
            "       %*s (--input [NAME=]FILE ... | --random-input SEED [--batch N])\n"
            "       %*s [--output [NAME=]FILE ...] [--threads N] [--bench N [--profile[=MODE]]] [--info]\n"
            "Runs the network '%s' compiled by convc.\n"
            "  --weights FILE         parameters (safetensors, PyTorch state_dict keys)\n"
            "  --random-weights SEED  deterministic random parameters instead\n"
            "  --input [NAME=]FILE    an input (.npy float32, [N,C,H,W] or [C,H,W])\n"
            "  --random-input SEED    uniform(-1, 1) values for inputs without a file\n"
            "  --batch N              batch size of random inputs (default 1)\n"
            "  --output [NAME=]FILE   write an output (.npy float32, [N,C,H,W])\n"
            "  --threads N            worker threads, 1..%d (default: online CPUs)\n"
            "  --bench N              time N runs after a warm-up; print one 'bench:' line\n"
            "  --profile[=MODE]       with --bench: per-step medians, GFLOP/s, %% of peak; MODE is\n"
            "                         table (slowest first, default), order (network order) or json\n"
            "  --info                 print the network's inputs, outputs and sizes\n"
            "  --help, --version\n",
            rt_progname(), (int)strlen(rt_progname()), "", (int)strlen(rt_progname()), "", m->name, RT_MAX_THREADS);
}

static void print_tensor(FILE *f, const char *kind, const char *name, const RtTensor *t)
{
    if (t->rank == 1)
        fprintf(f, "%s %s [N, %d]\n", kind, name, t->c);
    else
        fprintf(f, "%s %s [N, %d, %d, %d]\n", kind, name, t->c, t->h, t->w);
}

void rt_print_info(const RtModel *m, FILE *f)
{
    fprintf(f, "network %s\n", m->name);
    for (int32_t i = 0; i < m->ninputs; i++)
        print_tensor(f, "input", m->input_names[i], &m->tensors[m->inputs[i]]);
    for (int32_t i = 0; i < m->noutputs; i++)
        print_tensor(f, "output", m->output_names[i], &m->tensors[m->outputs[i]]);
    int64_t loaded = 0;
    for (int32_t i = 0; i < m->nparams; i++)
        loaded += m->params[i].source == RT_PARAM_LOAD;
    fprintf(f, "parameters %lld tensors in the file, %lld floats in memory\n", (long long)loaded,
            (long long)m->param_floats);
    fprintf(f, "arena %lld floats per sample\n", (long long)m->arena_floats);
    fprintf(f, "steps %d\n", m->nsteps);
    fprintf(f, "macs %lld per sample\n", (long long)m->macs);
}

/* number -> [0-9]+ within [lo, hi] */
static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (s[0] < '0' || s[0] > '9' || *end || errno == ERANGE || v < lo || v > hi)
        return rt_error(RT_EXIT_USAGE, "%s expects an integer in [%llu, %llu], got '%s'", opt, (unsigned long long)lo,
                        (unsigned long long)hi, s);
    *out = v;
    return 0;
}

/* [NAME=]FILE -> the slot of NAME among `names`, or the only slot for a bare FILE */
static int bind(const char *opt, const char *kind, const char *arg, int32_t n, const char *const *names,
                const char **paths)
{
    const char *eq = strchr(arg, '=');
    int32_t slot = -1;
    const char *file = arg;
    for (int32_t i = 0; eq && i < n; i++)
        if (strlen(names[i]) == (size_t)(eq - arg) && strncmp(names[i], arg, (size_t)(eq - arg)) == 0)
            slot = i, file = eq + 1;
    if (slot < 0 && n == 1)
        slot = 0;
    if (slot < 0) {
        if (eq)
            return rt_error(RT_EXIT_USAGE, "%s: the network has no %s named '%.*s'", opt, kind, (int)(eq - arg), arg);
        return rt_error(RT_EXIT_USAGE, "%s: the network has %d %ss; write %s NAME=FILE", opt, n, kind, opt);
    }
    if (!*file)
        return rt_error(RT_EXIT_USAGE, "%s: empty file name", opt);
    if (paths[slot])
        return rt_error(RT_EXIT_USAGE, "%s: %s '%s' given twice", opt, kind, names[slot]);
    paths[slot] = file;
    return 0;
}

static bool is_flag(const char *arg, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '=')
        *value = arg + n + 1;
    else if (arg[n] == '\0')
        *value = NULL;
    else
        return false;
    return true;
}

static const char *const value_opts[] = {"--weights", "--random-weights", "--input", "--random-input", "--batch",
                                         "--output", "--threads", "--bench"};
enum { OPT_WEIGHTS, OPT_RWEIGHTS, OPT_INPUT, OPT_RINPUT, OPT_BATCH, OPT_OUTPUT, OPT_THREADS, OPT_BENCH, NOPTS };

static int apply(const RtModel *m, RtOptions *o, int opt, const char *v, bool *seen)
{
    const char *name = value_opts[opt];
    uint64_t x;
    int rc = 0;
    if (seen[opt] && opt != OPT_INPUT && opt != OPT_OUTPUT)
        return rt_error(RT_EXIT_USAGE, "%s given twice", name);
    seen[opt] = true;
    switch (opt) {
    case OPT_WEIGHTS: o->weights = v; break;
    case OPT_RWEIGHTS: rc = parse_u64(name, v, 0, UINT64_MAX, &o->weights_seed); o->random_weights = true; break;
    case OPT_INPUT: rc = bind(name, "input", v, m->ninputs, m->input_names, o->input_paths); break;
    case OPT_RINPUT: rc = parse_u64(name, v, 0, UINT64_MAX, &o->input_seed); o->random_input = true; break;
    case OPT_BATCH: rc = parse_u64(name, v, 1, (uint64_t)RT_MAX_BATCH, &x); o->batch = (int64_t)x; break;
    case OPT_OUTPUT: rc = bind(name, "output", v, m->noutputs, m->output_names, o->output_paths); break;
    case OPT_THREADS: rc = parse_u64(name, v, 1, RT_MAX_THREADS, &x); o->threads = (int)x; break;
    case OPT_BENCH: rc = parse_u64(name, v, 1, (uint64_t)MAX_BENCH, &x); o->bench = (int64_t)x; break;
    }
    return rc;
}

static int parse_one(const RtModel *m, RtOptions *o, int argc, char **argv, int *i, bool *seen)
{
    const char *arg = argv[*i], *v;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
        return o->help = true, 0;
    if (!strcmp(arg, "--version"))
        return o->version = true, 0;
    if (!strcmp(arg, "--info"))
        return o->info = true, 0;
    if (is_flag(arg, "--profile", &v))
        return rt_profile_option(v, &o->profile);
    for (int k = 0; k < NOPTS; k++) {
        if (!is_flag(arg, value_opts[k], &v))
            continue;
        if (!v) {
            if (*i + 1 >= argc)
                return rt_error(RT_EXIT_USAGE, "%s needs a value", value_opts[k]);
            v = argv[++*i];
        }
        return apply(m, o, k, v, seen);
    }
    if (arg[0] == '-')
        return rt_error(RT_EXIT_USAGE, "unknown option '%s' (see --help)", arg);
    return rt_error(RT_EXIT_USAGE, "unexpected argument '%s' (see --help)", arg);
}

/* The combination rules, once every option is known. */
static int check_combination(const RtModel *m, RtOptions *o)
{
    if (o->help || o->version || o->info)
        return 0;
    if (o->weights && o->random_weights)
        return rt_error(RT_EXIT_USAGE, "give only one of --weights FILE and --random-weights SEED");
    if (!o->weights && !o->random_weights && m->nparams > 0 && !m->embedded_weights)
        return rt_error(RT_EXIT_USAGE, "give --weights FILE or --random-weights SEED");
    for (int32_t i = 0; i < m->ninputs && !o->random_input; i++)
        if (!o->input_paths[i])
            return rt_error(RT_EXIT_USAGE, "no file for input '%s': give --input %s%s or --random-input SEED",
                            m->input_names[i], m->ninputs > 1 ? m->input_names[i] : "FILE", m->ninputs > 1 ? "=FILE" : "");
    if (o->batch && !o->random_input)
        return rt_error(RT_EXIT_USAGE, "--batch applies to --random-input only");
    bool any_output = false;
    for (int32_t i = 0; i < m->noutputs; i++)
        any_output |= o->output_paths[i] != NULL;
    if (o->profile && !o->bench)
        return rt_error(RT_EXIT_USAGE, "--profile needs --bench N");
    if (!any_output && !o->bench)
        return rt_error(RT_EXIT_USAGE, "no --output given (only --bench runs without one)");
    for (int32_t i = 0; i < m->noutputs; i++)
        for (int32_t j = 0; j < i; j++)
            if (o->output_paths[i] && o->output_paths[j] && !strcmp(o->output_paths[i], o->output_paths[j]))
                return rt_error(RT_EXIT_USAGE, "outputs '%s' and '%s' are both written to '%s'", m->output_names[j],
                                m->output_names[i], o->output_paths[i]);
    return 0;
}

int rt_parse_args(const RtModel *m, int argc, char **argv, RtOptions *o)
{
    *o = (RtOptions){0};
    o->input_paths = calloc((size_t)m->ninputs + 1, sizeof *o->input_paths);
    o->output_paths = calloc((size_t)m->noutputs + 1, sizeof *o->output_paths);
    if (!o->input_paths || !o->output_paths)
        return rt_error(RT_EXIT_RUNTIME, "out of memory");
    bool seen[NOPTS] = {0};
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(m, o, argc, argv, &i, seen);
        if (rc)
            return rc;
    }
    return check_combination(m, o);
}

void rt_options_free(RtOptions *o)
{
    free(o->input_paths);
    free(o->output_paths);
}
