/*
 * emit.c - module construction, verification, optimisation (new pass
 * manager), object/assembly emission, and linking with the runtime.
 *
 * The target machine is the host's (or --target-cpu's); its triple and data
 * layout are set on the module before any code is built. An executable is
 * (or shared library) is linked by the C compiler driver this tree was built
 * with (CONVC_CC, with the same sanitizer flags), against libconvrt.a (built
 * as position-independent code) found next to convc:
 *   build tree: <bin>/../lib/libconvrt.a
 *   installed:  <bin>/../<libdir>/convc/libconvrt.a
 * $CONVC_RUNTIME and $CONVC_CC override both.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "codegen/cg_cpu.h"
#include "codegen/cg_internal.h"

static void report(const char *what, char *msg)
{
    fprintf(stderr, "convc: error: %s: %s\n", what, msg ? msg : "unknown error");
    LLVMDisposeMessage(msg);
}

/* The host's triple and its LLVM target; NULL after an error. */
static char *host_target(LLVMTargetRef *target)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    if (LLVMGetTargetFromTriple(triple, target, &err)) {
        report("no target for this host", err);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    return triple;
}

const char *cg_cpu_problem(const char *cpu)
{
    static char why[256];
    if (!cpu || !strcmp(cpu, "native"))
        return NULL;
    LLVMTargetRef target;
    char *triple = host_target(&target);
    if (!triple)
        return "cannot be checked: LLVM has no target for this host";
    CgCpuCheck c = cg_cpu_check(target, triple, cpu);
    if (c == CG_CPU_UNKNOWN)
        snprintf(why, sizeof why, "is not a CPU LLVM knows for %s (list them with: llc -mtriple=%s -mcpu=help)",
                 triple, triple);
    else if (c == CG_CPU_NOT_64BIT)
        snprintf(why, sizeof why, "cannot run 64-bit code; convc generates code for %s", triple);
    LLVMDisposeMessage(triple);
    return c == CG_CPU_OK ? NULL : why;
}

static LLVMTargetMachineRef target_machine(const CgOptions *o)
{
    LLVMTargetRef target;
    char *triple = host_target(&target);
    if (!triple)
        return NULL;
    int native = !o->cpu || !strcmp(o->cpu, "native");
    char *cpu = native ? LLVMGetHostCPUName() : NULL;
    char *features = native ? LLVMGetHostCPUFeatures() : NULL;
    LLVMCodeGenOptLevel lvl = o->opt_level == 0 ? LLVMCodeGenLevelNone
                            : o->opt_level == 3 ? LLVMCodeGenLevelAggressive : LLVMCodeGenLevelDefault;
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, native ? cpu : o->cpu,
                                                      native ? features : "", lvl, LLVMRelocPIC,
                                                      LLVMCodeModelDefault);
    LLVMDisposeMessage(triple);
    if (native) {
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(features);
    }
    return tm;
}

/* 16 float lanes where the target has AVX-512F, 8 where it has AVX2 and
 * FMA, 0 without them (then only the reference kernels run: codegen.h).
 * The host's features come from LLVM; a named CPU's from its subtarget
 * table (haswell: 8; znver4, skylake-avx512: 16; x86-64: 0). */
int cg_vector_lanes(const CgOptions *o)
{
    if (!o->cpu || !strcmp(o->cpu, "native")) {
        char *f = LLVMGetHostCPUFeatures();
        int lanes = strstr(f, "+avx512f") ? 16 : strstr(f, "+avx2") && strstr(f, "+fma") ? 8 : 0;
        LLVMDisposeMessage(f);
        return lanes;
    }
    LLVMTargetRef target;
    char *triple = host_target(&target);
    if (!triple)
        return 0;
    int lanes = cg_cpu_has(target, triple, o->cpu, "+avx512f")     ? 16
                : cg_cpu_has(target, triple, o->cpu, "+avx2,+fma") ? 8
                                                                   : 0;
    LLVMDisposeMessage(triple);
    return lanes;
}

static void init_types(Cg *g)
{
    g->i1 = LLVMInt1TypeInContext(g->ctx);
    g->i32 = LLVMInt32TypeInContext(g->ctx);
    g->i64 = LLVMInt64TypeInContext(g->ctx);
    g->f32 = LLVMFloatTypeInContext(g->ctx);
    g->f64 = LLVMDoubleTypeInContext(g->ctx);
    g->ptr = LLVMPointerTypeInContext(g->ctx, 0);
    g->void_t = LLVMVoidTypeInContext(g->ctx);
    LLVMTypeRef params[4] = {g->ptr, g->i64, g->i64, g->i64};
    g->kernel_t = LLVMFunctionType(g->void_t, params, 4, 0);
    g->vf = LLVMVectorType(g->f32, (unsigned)g->vec);
    g->vi32 = LLVMVectorType(g->i32, (unsigned)g->vec);
    g->vi1 = LLVMVectorType(g->i1, (unsigned)g->vec);
}

/* Builds the module: one function per prepare step, one kernel per node, then the
 * descriptor and the API. */
static void build_module(Cg *g, LLVMTargetMachineRef tm, const CgOptions *o, CgEmit what)
{
    g->mod = LLVMModuleCreateWithNameInContext(g->m->name, g->ctx);
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(g->mod, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    char *layout = LLVMCopyStringRepOfTargetData(dl);
    LLVMSetDataLayout(g->mod, layout);
    LLVMDisposeMessage(layout);
    LLVMDisposeTargetData(dl);
    g->b = LLVMCreateBuilderInContext(g->ctx);
    g->cpu = LLVMGetTargetMachineCPU(tm);
    g->features = LLVMGetTargetMachineFeatureString(tm);
    init_types(g);
    g->prepares = cg_xcalloc(g->m->nprepares + 1, sizeof *g->prepares);
    for (int i = 0; i < g->m->nprepares; i++)
        g->prepares[i] = cg_emit_prepare(g, i);
    g->kernels = cg_xcalloc(g->m->nnodes + 1, sizeof *g->kernels);
    for (int i = 0; i < g->m->nnodes; i++)
        g->kernels[i] = cg_emit_kernel(g, i);
    cg_emit_api(g, o, cg_emit_model(g, o), what == CG_EMIT_EXE);
}

bool cg_run_passes(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *passes, int level)
{
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opts, level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, level >= 2);
    LLVMErrorRef e = LLVMRunPasses(mod, passes, tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (e) {
        report("optimisation failed", LLVMGetErrorMessage(e));
        return false;
    }
    return true;
}

/* mergefunc first (unless the split did it): layers of one shape (UNet's
 * encoder and decoder share four) get identical kernels, optimised and
 * compiled once instead of once per layer. */
static bool optimise(LLVMModuleRef mod, LLVMTargetMachineRef tm, int level, bool merge)
{
    char passes[48];
    snprintf(passes, sizeof passes, "%sdefault<O%d>", merge && level > 0 ? "mergefunc," : "", level);
    return cg_run_passes(mod, tm, passes, level);
}

/* Directory of the running convc, with a trailing slash. */
static char *self_dir(void)
{
    static char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash)
        slash[1] = 0;
    return buf;
}

static const char *find_runtime(void)
{
    static char path[PATH_MAX + 64];
    const char *env = getenv("CONVC_RUNTIME");
    if (env && *env)
        return access(env, R_OK) == 0 ? env : NULL;
    char *dir = self_dir();
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s../lib/libconvrt.a", dir);
    if (access(path, R_OK) == 0)
        return path;
    snprintf(path, sizeof path, "%s../%s/convc/libconvrt.a", dir, CONVC_INSTALL_LIBDIR);
    if (access(path, R_OK) == 0)
        return path;
    return NULL;
}

/* cc [sanitizer flags] [-shared] objs runtime -lpthread -lm -o out. A shared
 * library keeps the runtime's symbols to itself (--exclude-libs), so it
 * exports only the network's PREFIX_ ones and several load side by side. */
static int link_runtime(char objs[][PATH_MAX], int nobj, bool shared, const char *out)
{
    const char *rt = find_runtime();
    if (!rt) {
        const char *env = getenv("CONVC_RUNTIME");
        if (env && *env)
            fprintf(stderr, "convc: error: cannot read the runtime library '%s' (CONVC_RUNTIME)\n", env);
        else
            fputs("convc: error: cannot find the runtime library libconvrt.a next to convc "
                  "(set CONVC_RUNTIME)\n", stderr);
        return 0;
    }
    const char *cc = getenv("CONVC_CC");
    if (!cc || !*cc)
        cc = CONVC_CC;
    const char *argv[32];
    int n = 0;
    argv[n++] = cc;
    char flags[] = CONVC_LINK_FLAGS;
    for (char *tok = strtok(flags, " "); tok && n < 20; tok = strtok(NULL, " "))
        argv[n++] = tok;
    if (shared)
        argv[n++] = "-shared", argv[n++] = "-Wl,--exclude-libs,ALL";
    for (int i = 0; i < nobj; i++)
        argv[n++] = objs[i];
    argv[n++] = rt;
    argv[n++] = "-lpthread", argv[n++] = "-lm";
    argv[n++] = "-o", argv[n++] = out;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execvp(cc, (char *const *)argv);
        fprintf(stderr, "convc: error: cannot run the linker '%s': %s\n", cc, strerror(errno));
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "convc: error: linking '%s' failed\n", out);
        return 0;
    }
    return 1;
}

static int emit_object(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *out)
{
    char *err = NULL;
    if (LLVMTargetMachineEmitToFile(tm, mod, (char *)out, LLVMObjectFile, &err)) {
        report(out, err);
        return 0;
    }
    return 1;
}

static int emit_file(Cg *g, LLVMTargetMachineRef tm, CgEmit what, const char *out)
{
    char *err = NULL;
    if (what == CG_EMIT_LLVM) {
        if (!strcmp(out, "-")) {
            char *s = LLVMPrintModuleToString(g->mod);
            fputs(s, stdout);
            LLVMDisposeMessage(s);
            return 1;
        }
        if (LLVMPrintModuleToFile(g->mod, out, &err)) {
            report(out, err);
            return 0;
        }
        return 1;
    }
    LLVMCodeGenFileType ft = what == CG_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile;
    if (!strcmp(out, "-")) {
        LLVMMemoryBufferRef buf;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, g->mod, ft, &err, &buf)) {
            report("code generation failed", err);
            return 0;
        }
        fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), stdout);
        LLVMDisposeMemoryBuffer(buf);
        return 1;
    }
    if (LLVMTargetMachineEmitToFile(tm, g->mod, (char *)out, ft, &err)) {
        report(out, err);
        return 0;
    }
    return 1;
}

/* A new empty temporary object file, told to o->on_temp. */
static int make_temp(const CgOptions *o, char obj[PATH_MAX])
{
    const char *dir = getenv("TMPDIR");
    if (snprintf(obj, PATH_MAX, "%s/convc-XXXXXX.o", dir && *dir ? dir : "/tmp") >= PATH_MAX) {
        fputs("convc: error: cannot create a temporary object file: TMPDIR is too long\n", stderr);
        return 0;
    }
    int fd = mkstemps(obj, 2);
    if (fd < 0) {
        fprintf(stderr, "convc: error: cannot create a temporary object file in %s: %s\n", dir && *dir ? dir : "/tmp",
                strerror(errno));
        return 0;
    }
    if (o->on_temp)
        o->on_temp(obj);
    close(fd);
    return 1;
}

/* One module optimised and compiled to an object file, on a thread of its own. */
typedef struct {
    LLVMModuleRef mod;
    LLVMTargetMachineRef tm;
    int level;
    const char *obj;
    int ok;
} Half;

static void *compile_half(void *arg)
{
    Half *h = arg;
    h->ok = optimise(h->mod, h->tm, h->level, false) && emit_object(h->mod, h->tm, h->obj);
    return NULL;
}

/* The module split in two (split.c), compiled on two threads (the second
 * on this one when no thread can be started), linked together. */
static int compile_split(Cg *g, LLVMTargetMachineRef tm, const CgOptions *o, char objs[2][PATH_MAX])
{
    LLVMContextRef ctx2;
    LLVMModuleRef mod2;
    LLVMTargetMachineRef tm2 = target_machine(o);
    if (!tm2 || !cg_split_module(g, cg_prefix(g->m, o), &ctx2, &mod2)) {
        if (tm2)
            LLVMDisposeTargetMachine(tm2);
        return 0;
    }
    Half h[2] = {{g->mod, tm, o->opt_level, objs[0], 0}, {mod2, tm2, o->opt_level, objs[1], 0}};
    pthread_t thread;
    bool threaded = pthread_create(&thread, NULL, compile_half, &h[1]) == 0;
    compile_half(&h[0]);
    if (threaded)
        pthread_join(thread, NULL);
    else
        compile_half(&h[1]);
    LLVMDisposeModule(mod2);
    LLVMContextDispose(ctx2);
    LLVMDisposeTargetMachine(tm2);
    return h[0].ok && h[1].ok;
}

/* An executable or shared library: optimised code in temporary objects
 * (two, compiled in parallel, from -O1 on), linked with the runtime. */
static int emit_linked(Cg *g, LLVMTargetMachineRef tm, const CgOptions *o, CgEmit what, const char *out)
{
    char objs[2][PATH_MAX];
    int n = o->opt_level > 0 ? 2 : 1, made = 0, ok = 1;
    for (; ok && made < n; made++)
        ok = make_temp(o, objs[made]);
    made -= !ok;
    if (ok)
        ok = n == 2 ? compile_split(g, tm, o, objs) : optimise(g->mod, tm, o->opt_level, true) && emit_object(g->mod, tm, objs[0]);
    ok = ok && link_runtime(objs, n, what == CG_EMIT_SHARED, out);
    for (int i = 0; i < made; i++)
        unlink(objs[i]);
    if (o->on_temp)
        o->on_temp(NULL);
    return ok;
}

bool cg_compile(const IrModule *m, const CgOptions *o, CgEmit what, const char *out)
{
    LLVMTargetMachineRef tm = target_machine(o);
    if (!tm)
        return false;
    int lanes = cg_vector_lanes(o); /* 0: only reference kernels, which use no vectors */
    Cg g = {.ctx = LLVMContextCreate(), .m = m, .vec = lanes ? lanes : 8, .scratch_probe = o->scratch_probe};
    build_module(&g, tm, o, what);
    char *err = NULL;
    int ok = !LLVMVerifyModule(g.mod, LLVMReturnStatusAction, &err);
    if (!ok)
        report("internal error: invalid LLVM module", err);
    else
        LLVMDisposeMessage(err);
    if (what == CG_EMIT_EXE || what == CG_EMIT_SHARED)
        ok = ok && emit_linked(&g, tm, o, what, out);
    else
        ok = ok && optimise(g.mod, tm, o->opt_level, true) && emit_file(&g, tm, what, out);
    LLVMDisposeBuilder(g.b);
    LLVMDisposeModule(g.mod);
    LLVMContextDispose(g.ctx);
    LLVMDisposeTargetMachine(tm);
    free(g.kernels);
    free(g.prepares);
    LLVMDisposeMessage(g.cpu);
    LLVMDisposeMessage(g.features);
    return ok;
}
