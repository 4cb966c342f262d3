/*
 * api.c - what makes a compiled network embeddable: the prefixed wrappers
 * of the embedding API (runtime/convc.h), an executable's main(), the
 * header declaring them, and the compile-time check of embedded weights.
 *
 * For prefix P (the network's name, or --prefix) the object defines
 *   P_model                      the RtModel constant (codegen/model.c)
 *   P_open, P_open_memory        convc_open*(&P_model, ...)
 *   P_num_inputs, P_num_outputs, P_input_info, P_output_info, P_name
 *                                the same queries on &P_model
 *   P_run, P_error, P_close      convc_run, convc_error, convc_close
 * so several networks link into one program, and a shared library (whose
 * runtime symbols are hidden) exports exactly these.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_internal.h"
#include "runtime/convrt.h"

/* A network's name is an identifier of the language ([A-Za-z_][A-Za-z0-9_]*,
 * an .onnx model's made into one), so it is a valid prefix too. */
const char *cg_prefix(const IrModule *m, const CgOptions *o)
{
    return o->prefix ? o->prefix : m->name;
}

const char *cg_prefix_problem(const char *p)
{
    if (!p || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
        return "is not a C identifier ([A-Za-z_][A-Za-z0-9_]*)";
    for (const char *c = p; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return "is not a C identifier ([A-Za-z_][A-Za-z0-9_]*)";
    /* PREFIX_open next to the runtime's convc_open, rt_error, rt_instance_run, ... */
    if (!strcmp(p, "convc") || !strncmp(p, "convc_", 6) || !strcmp(p, "rt") || !strncmp(p, "rt_", 3))
        return "is reserved: the runtime's symbols start with convc_ and rt_";
    return NULL;
}

/* A wrapper `ret P_name(params...)` that calls `target`, with the model's
 * address as its first argument when with_model. */
typedef struct {
    const char *name, *target;
    int ret;        /* 'i': i32, 'p': ptr, 'v': void */
    const char *params; /* one letter per parameter: p ptr, i i32, l i64 */
    bool with_model;
} Wrapper;

static const Wrapper wrappers[] = {
    {"open", "convc_open", 'i', "pipp", true},
    {"open_memory", "convc_open_memory", 'i', "plipp", true},
    {"num_inputs", "convc_num_inputs", 'i', "", true},
    {"num_outputs", "convc_num_outputs", 'i', "", true},
    {"input_info", "convc_input_info", 'i', "ip", true},
    {"output_info", "convc_output_info", 'i', "ip", true},
    {"name", "convc_model_name", 'p', "", true},
    {"run", "convc_run", 'i', "plpppp", false},
    {"error", "convc_error", 'p', "p", false},
    {"close", "convc_close", 'v', "p", false},
};

static LLVMTypeRef letter_type(Cg *g, int c)
{
    return c == 'i' ? g->i32 : c == 'l' ? g->i64 : c == 'v' ? g->void_t : g->ptr;
}

static LLVMValueRef declare(Cg *g, const char *name, LLVMTypeRef fty)
{
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
    return fn ? fn : LLVMAddFunction(g->mod, name, fty);
}

static void emit_wrapper(Cg *g, const char *prefix, LLVMValueRef model, const Wrapper *w)
{
    int n = (int)strlen(w->params);
    LLVMTypeRef outer[8], inner[9];
    for (int i = 0; i < n; i++)
        outer[i] = inner[i + w->with_model] = letter_type(g, w->params[i]);
    if (w->with_model)
        inner[0] = g->ptr;
    LLVMTypeRef ret = letter_type(g, w->ret);
    LLVMTypeRef fty = LLVMFunctionType(ret, outer, (unsigned)n, 0);
    LLVMTypeRef tty = LLVMFunctionType(ret, inner, (unsigned)(n + w->with_model), 0);
    char name[512];
    snprintf(name, sizeof name, "%s_%s", prefix, w->name);
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, fty);
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
    LLVMValueRef args[9];
    if (w->with_model)
        args[0] = model;
    for (int i = 0; i < n; i++)
        args[i + w->with_model] = LLVMGetParam(fn, (unsigned)i);
    LLVMValueRef r = LLVMBuildCall2(g->b, tty, declare(g, w->target, tty), args, (unsigned)(n + w->with_model), "");
    if (w->ret == 'v')
        LLVMBuildRetVoid(g->b);
    else
        LLVMBuildRet(g->b, r);
}

void cg_emit_api(Cg *g, const CgOptions *o, LLVMValueRef model, bool with_main)
{
    const char *prefix = cg_prefix(g->m, o);
    for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers; i++)
        emit_wrapper(g, prefix, model, &wrappers[i]);
    if (!with_main)
        return;
    /* int main(int argc, char **argv) { return rt_main(&P_model, argc, argv); } */
    LLVMTypeRef mp[] = {g->i32, g->ptr}, rp[] = {g->ptr, g->i32, g->ptr};
    LLVMValueRef fn = LLVMAddFunction(g->mod, "main", LLVMFunctionType(g->i32, mp, 2, 0));
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
    LLVMTypeRef rty = LLVMFunctionType(g->i32, rp, 3, 0);
    LLVMValueRef args[] = {model, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1)};
    LLVMBuildRet(g->b, LLVMBuildCall2(g->b, rty, declare(g, "rt_main", rty), args, 3, ""));
}

/* --- the header ------------------------------------------------------------ */

/* NAME -> upper case, every other character '_' */
static void put_macro(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(isalnum((unsigned char)*s) ? toupper((unsigned char)*s) : '_', f);
}

static void put_port(FILE *f, const IrModule *m, const char *kind, const char *name, int t)
{
    const IrTensor *x = &m->tensors[t];
    if (x->rank == 1)
        fprintf(f, " *   %-6s %-16s [N, %lld]\n", kind, name, (long long)x->c);
    else
        fprintf(f, " *   %-6s %-16s [N, %lld, %lld, %lld]\n", kind, name, (long long)x->c, (long long)x->h,
                (long long)x->w);
}

static void put_size(FILE *f, const char *prefix, const char *kind, const char *name, const IrTensor *x)
{
    fputs("#define ", f);
    put_macro(f, prefix);
    fprintf(f, "_%s_", kind);
    put_macro(f, name);
    fprintf(f, "_SIZE %lldLL /* floats per sample */\n", (long long)x->c * x->h * x->w);
}

static void put_declarations(FILE *f, const char *p)
{
    fprintf(f,
            "extern const ConvcModel %s_model;\n\n"
            "ConvcStatus %s_open(const char *weights_path, int threads, ConvcInstance **out, ConvcError *err);\n"
            "ConvcStatus %s_open_memory(const void *data, size_t size, int threads, ConvcInstance **out,\n"
            "                           ConvcError *err);\n"
            "int %s_num_inputs(void);\n"
            "int %s_num_outputs(void);\n"
            "ConvcStatus %s_input_info(int index, ConvcTensorInfo *out);\n"
            "ConvcStatus %s_output_info(int index, ConvcTensorInfo *out);\n"
            "const char *%s_name(void);\n"
            "ConvcStatus %s_run(ConvcInstance *inst, int64_t batch, const float *const *inputs,\n"
            "                   const size_t *input_sizes, float *const *outputs, const size_t *output_sizes);\n"
            "const char *%s_error(const ConvcInstance *inst);\n"
            "void %s_close(ConvcInstance *inst);\n",
            p, p, p, p, p, p, p, p, p, p, p);
}

static void put_header(FILE *f, const IrModule *m, const char *p)
{
    fprintf(f, "/*\n * The network '%s' compiled by convc: the embedding API of its object\n"
               " * (convc -c) or shared library (convc --shared), every symbol prefixed %s_.\n"
               " * Generated by convc; the calls are described in convc.h.\n *\n"
               " * Buffers are float32, NCHW, batch outermost:\n", m->name, p);
    for (int i = 0; i < m->ninputs; i++)
        put_port(f, m, "input", m->input_names[i], m->inputs[i]);
    for (int i = 0; i < m->noutputs; i++)
        put_port(f, m, "output", m->output_names[i], m->outputs[i]);
    fputs(" */\n#ifndef ", f);
    put_macro(f, p);
    fputs("_CONVC_H\n#define ", f);
    put_macro(f, p);
    fputs("_CONVC_H\n\n#include <convc.h>\n\n", f);
    for (int i = 0; i < m->ninputs; i++)
        put_size(f, p, "INPUT", m->input_names[i], &m->tensors[m->inputs[i]]);
    for (int i = 0; i < m->noutputs; i++)
        put_size(f, p, "OUTPUT", m->output_names[i], &m->tensors[m->outputs[i]]);
    fputs("\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", f);
    put_declarations(f, p);
    fputs("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", f);
}

bool cg_write_header(const IrModule *m, const CgOptions *o, const char *out)
{
    FILE *f = strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "convc: error: cannot write '%s': ", out);
        perror(NULL);
        return false;
    }
    put_header(f, m, cg_prefix(m, o));
    bool ok = !ferror(f);
    ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    if (!ok) {
        fprintf(stderr, "convc: error: cannot write '%s'\n", out);
        if (f != stdout)
            remove(out);
    }
    return ok;
}

/* --- embedded weights, checked now rather than when the network starts ---- */

bool cg_check_embedded(const IrModule *m, const CgOptions *o)
{
    RtParam *p = cg_xcalloc(m->nparams + 1, sizeof *p);
    for (int i = 0; i < m->nparams; i++) {
        const IrParam *x = &m->params[i];
        p[i] = (RtParam){.name = x->name, .offset = x->offset, .rank = x->rank,
                         .source = x->derived ? RT_PARAM_DERIVED : RT_PARAM_LOAD};
        for (int j = 0; j < x->rank && j < 4; j++)
            p[i].dims[j] = x->dims[j];
    }
    rt_set_progname(NULL, "convc");
    RtModel rm = {.name = m->name, .nparams = m->nparams, .params = p, .param_floats = m->param_floats};
    bool ok = rt_check_weights(&rm, o->embed_label ? o->embed_label : "embedded weights", o->embed,
                               o->embed_size) == 0;
    free(p);
    return ok;
}
