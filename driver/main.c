/*
 * main.c - the convc driver: command line, then one call per phase.
 *
 *   source -> fe_check (tokens, AST, checked graph) -> ir_build (IR + passes
 *   + memory plan) -> cg_compile (LLVM module -> object -> executable)
 *
 * Nothing is generated once an error was reported. A signal that ends convc
 * (INT, TERM, HUP, QUIT, PIPE, ...) removes the temporary object file first.
 * Exit status: 0 success, 1 errors in the source, 2 bad command line,
 * 3 I/O or toolchain failure (unreadable file, LLVM or linker error).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "driver/driver.h"
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "onnx/onnx.h"

enum { EXIT_SOURCE = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

/* What each phase produced lives until exit; kept here so it stays
 * reachable (LeakSanitizer counts only unreachable memory as leaked). */
static struct {
    char *src;
    Program *prog;
    IrModule *ir;
    IrTarget *target;
    OnnxModel *onnx;
    char *embed;
    OnnxInputShape *shapes;
    char *out;
} produced;

typedef struct {
    const char *input;
    const char *output;
    const char *network;
    const char *explain;
    const char *emit;          /* --emit=tokens|ast|ir|llvm|dot|conv|header */
    const char *header;        /* --header FILE */
    const char *profile;       /* --profile FILE: shade --emit=dot by measured time */
    const char *emit_weights;  /* --emit-weights FILE (ONNX input) */
    const char *embed_weights; /* --embed-weights FILE */
    int nshapes;               /* --input-shape NAME=C,H,W (ONNX input) */
    CgEmit cg_emit;
    CgOptions cg;
    bool stats;
    StatsOptions so;          /* --stats=, --count, --keys, --depth, --batch */
    int color;                 /* -1 auto */
    IrOptions ir;
} Options;

/* The temporary object files while an executable is built (codegen's two
 * halves); a signal that ends convc removes them first. NULL forgets all. */
static const char *volatile temp_files[2];

static void note_temp(const char *path)
{
    if (!path)
        temp_files[0] = temp_files[1] = NULL;
    else
        temp_files[temp_files[0] != NULL] = path;
}

/* Async-signal-safe: unlink, sigaction and raise only. */
static void on_signal(int sig)
{
    for (int i = 0; i < 2; i++) {
        const char *t = temp_files[i];
        if (t)
            unlink(t);
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* pending until the handler returns, then the default action */
}

/* The asynchronous signals whose default action ends the process, unless
 * convc was started with them ignored or handled. */
static void handle_signals(void)
{
    static const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGPIPE,   SIGALRM,
                               SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF};
    struct sigaction sa = {.sa_handler = on_signal}, old;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sigs[i], &sa, NULL);
}

static void usage(FILE *f)
{
    fputs("usage: convc FILE.conv|FILE.onnx [options]\n"
          "  -o FILE               output file (default: the network's name, or FILE.o/.s/.ll)\n"
          "  -c                    emit an object file only\n"
          "  --shared              build a shared library (the runtime linked in; default libNAME.so)\n"
          "  --header FILE         also write a C header declaring the network's API\n"
          "  --prefix NAME         prefix of the exported symbols (default: the network's name)\n"
          "  -S                    emit assembly\n"
          "  --emit-llvm           emit textual LLVM IR (same as --emit=llvm)\n"
          "  --emit=WHAT           print tokens|ast|ir|llvm|dot|header to stdout and stop\n"
          "                        (llvm, dot, header: -o FILE too);\n"
          "                        conv: the program an .onnx model translates to\n"
          "  --profile FILE        with --emit=dot: shade layers by the times of a ./net --profile=json run\n"
          "  --emit-weights FILE   write an .onnx model's initializers as safetensors, with\n"
          "                        the keys of the program --emit=conv prints\n"
          "  --embed-weights FILE  put a safetensors file into the executable as its default\n"
          "                        weights (an .onnx model's initializers are embedded anyway)\n"
          "  --input-shape NAME=C,H,W  shape of an .onnx input with dynamic dimensions\n"
          "                        (NAME=F for a flat one); repeatable\n"
          "  -O0 -O1 -O2 -O3       optimisation level (default -O2)\n"
          "  --target-cpu=CPU      native (default) or an LLVM CPU name, e.g. x86-64-v3\n"
          "  --kernels=auto|reference  faster kernels where they apply (default), or the\n"
          "                        reference loops for every layer\n"
          "  --winograd=auto|on|off  Winograd F(4x4,3x3) for 3x3 stride-1 convs where a\n"
          "                        cost model expects it to win (default), wherever it\n"
          "                        applies, or never\n"
          "  --layout=nchw|nchw8c|nchw16c  experimental: the layout of layout-free nodes\n"
          "                        (elementwise); reorders are inserted around them\n"
          "  --scratch-probe=N     testing: every node gets N floats of workspace per work\n"
          "                        item, filled with NaN before the item runs\n"
          "  --network NAME        which network of the file to use\n"
          "  --stats[=table|json]  print per-layer shapes, parameters, MACs, receptive fields\n"
          "  --count=default|ptflops  MAC convention for --stats (see docs/stats.md)\n"
          "  --keys                with --stats: a state_dict key column\n"
          "  --depth N             with --stats: one row per block instance nested deeper\n"
          "                        than N levels (torchinfo's depth)\n"
          "  --batch N             with --stats: MACs and activation bytes for batch N\n"
          "  --explain NAME        show how a layer's shape and parameter count are computed\n"
          "  --color, --no-color   force diagnostics colour on or off (NO_COLOR is respected)\n"
          "  --version, --help\n", f);
}

/* Writes s with every byte outside printable ASCII (and '\\') as \\xNN: a
 * command-line argument cannot break the line or drive the terminal. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s >= 0x20 && *s < 0x7f && *s != '\\')
            fputc(*s, f);
        else
            fprintf(f, "\\x%02x", (unsigned char)*s);
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s >= 0x7f || *s == '\\')
            return false;
    return true;
}

/* fmt holds one %s, for arg */
static int bad_usage(const char *fmt, const char *arg)
{
    const char *at = strstr(fmt, "%s");
    fprintf(stderr, "convc: error: %.*s", (int)(at - fmt), fmt);
    put_escaped(stderr, arg);
    fprintf(stderr, "%s\n(run 'convc --help' for usage)\n", at + 2);
    return EXIT_USAGE;
}

/* Returns the value of `--name=value` or `--name value`, advancing *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* A decimal integer in [lo, hi], nothing else. */
static bool parse_count(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > hi)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, Options *o)
{
    const char *v;
    int64_t n;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--version")) { printf("convc %s (LLVM 19)\n", CONVC_VERSION); exit(0); }
        else if (!strcmp(a, "-o")) { if (++i >= argc) return bad_usage("%s needs a file name", a); o->output = argv[i]; }
        else if (!strcmp(a, "-c")) o->cg_emit = CG_EMIT_OBJ;
        else if (!strcmp(a, "-S")) o->cg_emit = CG_EMIT_ASM;
        else if (!strcmp(a, "--shared")) o->cg_emit = CG_EMIT_SHARED;
        else if (!strcmp(a, "--emit-llvm")) o->cg_emit = CG_EMIT_LLVM;
        else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) o->cg.opt_level = a[2] - '0';
        else if (!strcmp(a, "--stats") || !strcmp(a, "--stats=table")) o->stats = true;
        else if (!strcmp(a, "--stats=json")) { o->stats = true; o->so.format = STATS_JSON; }
        else if (!strcmp(a, "--keys")) o->so.keys = true;
        else if ((v = opt_value(argc, argv, &i, "--depth"))) {
            if (!parse_count(v, 1, 1000, &n)) return bad_usage("--depth '%s': expected a number of block levels, 1..1000", v);
            o->so.depth = (int)n;
        }
        else if ((v = opt_value(argc, argv, &i, "--batch"))) {
            if (!parse_count(v, 1, 1 << 20, &n)) return bad_usage("--batch '%s': expected a batch size, 1..1048576", v);
            o->so.batch = n;
        }
        else if (!strcmp(a, "--color")) o->color = 1;
        else if (!strcmp(a, "--no-color")) o->color = 0;
        else if ((v = opt_value(argc, argv, &i, "--target-cpu"))) o->cg.cpu = v;
        else if ((v = opt_value(argc, argv, &i, "--network"))) o->network = v;
        else if ((v = opt_value(argc, argv, &i, "--explain"))) o->explain = v;
        else if ((v = opt_value(argc, argv, &i, "--emit-weights"))) o->emit_weights = v;
        else if ((v = opt_value(argc, argv, &i, "--embed-weights"))) o->embed_weights = v;
        else if ((v = opt_value(argc, argv, &i, "--emit"))) o->emit = v;
        else if ((v = opt_value(argc, argv, &i, "--header"))) o->header = v;
        else if ((v = opt_value(argc, argv, &i, "--prefix"))) o->cg.prefix = v;
        else if ((v = opt_value(argc, argv, &i, "--profile"))) o->profile = v;
        else if ((v = opt_value(argc, argv, &i, "--input-shape"))) {
            if (!onnx_parse_input_shape(v, &produced.shapes[o->nshapes]))
                return bad_usage("--input-shape '%s': expected NAME=C,H,W or NAME=F with dimensions 1..2^30", v);
            o->nshapes++;
        }
        else if ((v = opt_value(argc, argv, &i, "--kernels"))) {
            if (!strcmp(v, "reference")) o->ir.reference_only = 1;
            else if (strcmp(v, "auto")) return bad_usage("unknown --kernels choice '%s' (auto, reference)", v);
        }
        else if ((v = opt_value(argc, argv, &i, "--winograd"))) {
            if (!strcmp(v, "off")) o->cg.winograd = CG_WINOGRAD_OFF;
            else if (!strcmp(v, "on")) o->cg.winograd = CG_WINOGRAD_ON;
            else if (strcmp(v, "auto")) return bad_usage("unknown --winograd choice '%s' (auto, on, off)", v);
        }
        else if ((v = opt_value(argc, argv, &i, "--layout"))) {
            if (!strcmp(v, "nchw16c")) o->ir.layout = LAYOUT_NCHW16C;
            else if (!strcmp(v, "nchw8c")) o->ir.layout = LAYOUT_NCHW8C;
            else if (strcmp(v, "nchw")) return bad_usage("unknown --layout '%s' (nchw, nchw8c, nchw16c)", v);
        }
        else if ((v = opt_value(argc, argv, &i, "--scratch-probe"))) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || n < 1 || n > 1 << 20)
                return bad_usage("--scratch-probe '%s': expected floats per work item, 1..1048576", v);
            o->cg.scratch_probe = n;
        }
        else if ((v = opt_value(argc, argv, &i, "--count"))) {
            if (!strcmp(v, "ptflops")) o->so.count = COUNT_PTFLOPS;
            else if (strcmp(v, "default")) return bad_usage("unknown --count convention '%s' (default, ptflops)", v);
        }
        else if (a[0] == '-' && a[1]) return bad_usage("unknown option '%s'", a);
        else if (o->input) return bad_usage("more than one input file ('%s')", a);
        else o->input = a;
    }
    if (!o->input)
        return bad_usage("%s", "no input file");
    if (o->emit && strcmp(o->emit, "tokens") && strcmp(o->emit, "ast") &&
        strcmp(o->emit, "ir") && strcmp(o->emit, "llvm") && strcmp(o->emit, "dot") && strcmp(o->emit, "conv") &&
        strcmp(o->emit, "header"))
        return bad_usage("unknown --emit kind '%s' (tokens, ast, ir, llvm, dot, conv, header)", o->emit);
    /* Names of networks and layers are identifiers (dots between block levels):
     * anything else names nothing, and is not printed raw by the front end. */
    if (o->network && !printable(o->network))
        return bad_usage("no network named '%s'", o->network);
    if (o->explain && !printable(o->explain))
        return bad_usage("no layer or state_dict key '%s'", o->explain);
    if ((o->so.keys || o->so.depth || o->so.batch) && !o->stats)
        return bad_usage("%s go with --stats", "--keys, --depth and --batch");
    if (o->profile && !(o->emit && !strcmp(o->emit, "dot")))
        return bad_usage("%s", "--profile FILE goes with --emit=dot");
    const char *bad_prefix = o->cg.prefix ? cg_prefix_problem(o->cg.prefix) : NULL;
    if (bad_prefix) {
        fputs("convc: error: --prefix '", stderr);
        put_escaped(stderr, o->cg.prefix);
        fprintf(stderr, "' %s\n", bad_prefix);
        return EXIT_USAGE;
    }
    const char *why = cg_cpu_problem(o->cg.cpu);
    if (why) {
        fputs("convc: error: --target-cpu '", stderr);
        put_escaped(stderr, o->cg.cpu);
        fprintf(stderr, "' %s\n", why);
        return EXIT_USAGE;
    }
    bool onnx = onnx_is_model_path(o->input);
    if (!onnx && o->emit && !strcmp(o->emit, "conv"))
        return bad_usage("%s", "--emit=conv needs an .onnx input");
    if (!onnx && (o->emit_weights || o->nshapes))
        return bad_usage("%s needs an .onnx input", o->emit_weights ? "--emit-weights" : "--input-shape");
    return 0;
}

/* An .onnx model becomes .conv source (onnx/); the rest of the pipeline is
 * the same. Returns the exit status on failure, 0 with *src set otherwise. */
static int import_onnx(const Options *o, const DiagOptions *diag, char **src, size_t *len)
{
    OnnxOptions opts = {.diag = diag->out, .color = diag->color, .nshapes = o->nshapes, .shapes = produced.shapes};
    OnnxError err;
    OnnxModel *m = produced.onnx = onnx_import(o->input, &opts, &err);
    if (!m)
        return err == ONNX_ERR_IO ? EXIT_IO : EXIT_SOURCE;
    *src = m->conv;
    *len = m->conv_len;
    return 0;
}

/* The weights the executable carries: --embed-weights FILE, else an ONNX
 * model's initializers. Checked against the network now (exit 1 when they
 * do not match), as the runtime checks a weights file when it starts. */
static int weights_to_embed(Options *o, const IrModule *ir)
{
    size_t n = 0;
    if (o->embed_weights)
        produced.embed = fe_read_file(o->embed_weights, &n);
    else if (produced.onnx && produced.onnx->nweights)
        produced.embed = (char *)onnx_safetensors_image(produced.onnx, &n);
    else
        return 0;
    if (!produced.embed)
        return EXIT_IO;
    o->cg.embed = (const unsigned char *)produced.embed;
    o->cg.embed_size = n;
    o->cg.embed_label = o->embed_weights ? o->embed_weights : "the model's initializers";
    return cg_check_embedded(ir, &o->cg) ? 0 : EXIT_SOURCE;
}

static bool want_color(int forced)
{
    if (forced >= 0)
        return forced;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    return isatty(fileno(stderr));
}

/* The default output name: the network's name for executables, else the
 * input's stem with the right extension. */
static const char *default_output(const Options *o, const Graph *g)
{
    static const char *ext[] = {[CG_EMIT_OBJ] = ".o", [CG_EMIT_ASM] = ".s", [CG_EMIT_LLVM] = ".ll"};
    if (o->cg_emit == CG_EMIT_EXE)
        return g->name;
    if (o->cg_emit == CG_EMIT_SHARED) {
        size_t n = strlen(g->name) + 7;
        if (!(produced.out = malloc(n))) {
            fputs("convc: out of memory\n", stderr);
            exit(EXIT_IO);
        }
        snprintf(produced.out, n, "lib%s.so", g->name);
        return produced.out;
    }
    const char *base = strrchr(o->input, '/');
    base = base ? base + 1 : o->input;
    size_t n = strcspn(base, ".");
    produced.out = malloc(n + 4);
    if (!produced.out) {
        fputs("convc: out of memory\n", stderr);
        exit(EXIT_IO);
    }
    memcpy(produced.out, base, n);
    strcpy(produced.out + n, ext[o->cg_emit]);
    return produced.out;
}

/* --emit=dot [--profile FILE] [-o FILE]: the graph to stdout or a file. */
static int emit_dot(const Options *o, const Graph *g)
{
    int code = 0;
    double *ms = o->profile ? drv_read_profile(o->profile, g, &code) : NULL;
    if (o->profile && !ms)
        return code;
    FILE *f = o->output && strcmp(o->output, "-") ? fopen(o->output, "w") : stdout;
    if (!f) {
        fprintf(stderr, "convc: error: cannot write '%s': %s\n", o->output, strerror(errno));
        free(ms);
        return EXIT_IO;
    }
    fe_print_dot(f, g, ms);
    free(ms);
    bool ok = !ferror(f);
    if (f != stdout && fclose(f))
        ok = false;
    else if (f == stdout && fflush(f))
        ok = false;
    if (!ok) {
        fprintf(stderr, "convc: error: cannot write '%s': %s\n", o->output ? o->output : "stdout", strerror(errno));
        if (f != stdout)
            remove(o->output); /* no partial output */
    }
    return ok ? 0 : EXIT_IO;
}

int main(int argc, char **argv)
{
    Options o = {.cg_emit = CG_EMIT_EXE, .cg = {.cpu = "native", .opt_level = 2, .on_temp = note_temp}, .color = -1};
    handle_signals();
    produced.shapes = calloc((size_t)argc, sizeof *produced.shapes);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    DiagOptions diag = {.color = want_color(o.color), .out = stderr};

    size_t len;
    char *src;
    if (onnx_is_model_path(o.input)) {
        if ((rc = import_onnx(&o, &diag, &src, &len)))
            return rc;
        if (o.emit && !strcmp(o.emit, "conv"))
            return fwrite(src, 1, len, stdout) == len ? 0 : EXIT_IO;
    } else if (!(src = produced.src = fe_read_file(o.input, &len)))
        return EXIT_IO;
    if (o.emit && (!strcmp(o.emit, "tokens") || !strcmp(o.emit, "ast")))
        return fe_emit(stdout, o.emit, o.input, src, len, &diag) ? 0 : EXIT_SOURCE;

    Program *prog = produced.prog = fe_check(o.input, src, len, &diag);
    if (!prog)
        return EXIT_SOURCE;
    Graph *g = fe_find_graph(prog, o.network);
    if (!g)
        return EXIT_USAGE;
    if (o.emit_weights && !onnx_write_safetensors(produced.onnx, o.emit_weights))
        return EXIT_IO;

    if (o.explain)
        return fe_explain(stdout, g, o.explain) ? 0 : EXIT_USAGE;

    if (o.emit && !strcmp(o.emit, "dot"))
        return emit_dot(&o, g);

    o.ir.target = produced.target = cg_target(&o.cg);
    IrModule *ir = produced.ir = ir_build(g, &o.ir);
    if (o.stats) {
        return fe_print_stats(stdout, g, &o.so, ir_arena_bytes(ir)) ? 0 : EXIT_USAGE;
    }
    if (o.emit && !strcmp(o.emit, "ir")) {
        ir_print(stdout, ir);
        return 0;
    }
    const char *bad_name = o.cg.prefix ? NULL : cg_prefix_problem(ir->name);
    if (bad_name) {
        fprintf(stderr, "convc: error: network name '%s' as the symbol prefix %s; give --prefix NAME\n", ir->name,
                bad_name);
        return EXIT_USAGE;
    }
    if (o.emit && !strcmp(o.emit, "header"))
        return cg_write_header(ir, &o.cg, o.output ? o.output : "-") ? 0 : EXIT_IO;
    if (o.emit && !strcmp(o.emit, "llvm")) {
        o.cg_emit = CG_EMIT_LLVM;
        if (!o.output)
            o.output = "-";
    }
    if ((rc = weights_to_embed(&o, ir)))
        return rc;
    if (o.header && !cg_write_header(ir, &o.cg, o.header))
        return EXIT_IO;
    const char *out = o.output ? o.output : default_output(&o, g);
    return cg_compile(ir, &o.cg, o.cg_emit, out) ? 0 : EXIT_IO;
}
