/*
 * split.c - the module in two halves, optimised and compiled on two threads.
 *
 * An executable's or shared library's code is compiled as two objects
 * linked together: the roots (each node's kernel and each prepare step's
 * function, the pointers the model's tables hold) are split into two
 * halves of about equal size, greedily by instruction count, largest
 * first. The first module keeps everything else (the model descriptor,
 * main, the API); the second, a copy in a context of its own (LLVM
 * contexts are per thread), keeps only its roots. A root moved to the
 * second module becomes an external hidden declaration in the first and an
 * external hidden definition in the second, renamed `NAME.root.ORIGINAL`
 * so no other symbol of the link can clash; internal functions reached
 * from roots of both halves are compiled in both (a private copy each).
 *
 * Each root lives and is optimised whole in one module, so the code of a
 * kernel is the same as in a single module; only the calls between a
 * step's function pointer and the kernel cross modules, and the runtime
 * makes those through the model's tables anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>

#include "codegen/cg_internal.h"

static int64_t instructions(LLVMValueRef fn)
{
    int64_t n = 0;
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(fn); b; b = LLVMGetNextBasicBlock(b))
        for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i))
            n++;
    return n;
}

/* A root's size: its own instructions and those of the internal functions it calls. */
static int64_t root_cost(LLVMValueRef fn)
{
    int64_t n = instructions(fn);
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(fn); b; b = LLVMGetNextBasicBlock(b))
        for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) {
            LLVMValueRef callee = LLVMIsACallInst(i) ? LLVMGetCalledValue(i) : NULL;
            if (callee && LLVMIsAFunction(callee) && !LLVMIsDeclaration(callee) &&
                LLVMGetLinkage(callee) == LLVMInternalLinkage)
                n += instructions(callee);
        }
    return n;
}

/* fn's body dropped: an external hidden declaration under the same name. */
static void make_declaration(LLVMModuleRef mod, LLVMValueRef fn)
{
    size_t len;
    char *name = strdup(LLVMGetValueName2(fn, &len));
    LLVMSetValueName2(fn, "", 0);
    LLVMValueRef decl = LLVMAddFunction(mod, name, LLVMGlobalGetValueType(fn));
    LLVMReplaceAllUsesWith(fn, decl);
    LLVMDeleteFunction(fn);
    LLVMSetLinkage(decl, LLVMExternalLinkage);
    LLVMSetVisibility(decl, LLVMHiddenVisibility);
    free(name);
}

static void make_exported(LLVMValueRef fn)
{
    LLVMSetLinkage(fn, LLVMExternalLinkage);
    LLVMSetVisibility(fn, LLVMHiddenVisibility);
}

typedef struct {
    char *name;    /* after the rename */
    int64_t cost;
    int half;
    int group;     /* roots that call each other (mergefunc's thunks) share a half */
} Root;

/* The roots' names, taken before mergefunc may replace some. */
static char **root_names(const Cg *g, int *n)
{
    *n = g->m->nnodes + g->m->nprepares;
    char **names = cg_xcalloc(*n + 1, sizeof *names);
    for (int i = 0; i < *n; i++) {
        LLVMValueRef fn = i < g->m->nnodes ? g->kernels[i] : g->prepares[i - g->m->nnodes];
        size_t len;
        names[i] = strdup(LLVMGetValueName2(fn, &len));
    }
    return names;
}

/* The roots that survived mergefunc (internal definitions), renamed,
 * largest first. */
static int collect_roots(Cg *g, const char *prefix, char **names, int n, Root **out)
{
    int k = 0;
    Root *r = cg_xcalloc(n + 1, sizeof *r);
    for (int i = 0; i < n; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(g->mod, names[i]);
        if (!fn || LLVMIsDeclaration(fn) || LLVMGetLinkage(fn) != LLVMInternalLinkage)
            continue;
        size_t size = strlen(prefix) + strlen(names[i]) + 8;
        r[k].name = cg_xcalloc(size, 1);
        snprintf(r[k].name, size, "%s.root.%s", prefix, names[i]);
        LLVMSetValueName2(fn, r[k].name, strlen(r[k].name));
        r[k++].cost = root_cost(fn);
    }
    for (int i = 1; i < k; i++) /* insertion sort, largest first */
        for (int j = i; j > 0 && r[j].cost > r[j - 1].cost; j--) {
            Root t = r[j];
            r[j] = r[j - 1], r[j - 1] = t;
        }
    *out = r;
    return k;
}

static int find(Root *r, int i)
{
    while (r[i].group != i)
        i = r[i].group = r[r[i].group].group;
    return i;
}

/* A root whose body calls another (a thunk mergefunc left) joins its group;
 * so do roots calling the same internal function (the kernel body that
 * mergefunc kept for layers of one shape, called by each layer's entry with
 * its own strides), which is then compiled once and counted once. */
static void group_roots(LLVMModuleRef mod, Root *r, int n)
{
    LLVMValueRef *callee_of = cg_xcalloc(n + 1, sizeof *callee_of); /* the first internal callee claimed by root i */
    for (int i = 0; i < n; i++)
        r[i].group = i;
    for (int i = 0; i < n; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(mod, r[i].name);
        for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(fn); b; b = LLVMGetNextBasicBlock(b))
            for (LLVMValueRef in = LLVMGetFirstInstruction(b); in; in = LLVMGetNextInstruction(in)) {
                LLVMValueRef callee = LLVMIsACallInst(in) ? LLVMGetCalledValue(in) : NULL;
                if (!callee || !LLVMIsAFunction(callee))
                    continue;
                size_t len;
                const char *name = LLVMGetValueName2(callee, &len);
                for (int j = 0; strstr(name, ".root.") && j < n; j++) /* roots' names have it */
                    if (!strcmp(name, r[j].name))
                        r[find(r, j)].group = find(r, i);
                if (LLVMIsDeclaration(callee) || LLVMGetLinkage(callee) != LLVMInternalLinkage)
                    continue;
                int j = 0;
                while (j < i && callee_of[j] != callee)
                    j++;
                if (j < i) { /* shared with root j: one copy, in j's half */
                    r[find(r, j)].group = find(r, i);
                    r[i].cost -= instructions(callee);
                } else if (!callee_of[i]) {
                    callee_of[i] = callee;
                }
            }
    }
    free(callee_of);
}

/* Greedy: each group to the half with less so far, largest first (the
 * roots are sorted); the first half starts with everything that is not a
 * root. */
static void assign_halves(Cg *g, Root *r, int n)
{
    int64_t load[2] = {0, 0}, *group_cost = cg_xcalloc(n + 1, sizeof *group_cost);
    for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
        load[0] += instructions(fn);
    group_roots(g->mod, r, n);
    for (int i = 0; i < n; i++) {
        load[0] -= r[i].cost;
        group_cost[find(r, i)] += r[i].cost;
    }
    int *half = cg_xcalloc(n + 1, sizeof *half);
    for (int i = 0; i < n; i++) {
        int k = find(r, i);
        if (!half[k]) { /* 1 + the half of group k, once its largest root comes */
            half[k] = 1 + (load[1] < load[0]);
            load[half[k] - 1] += group_cost[k];
        }
        r[i].half = half[k] - 1;
    }
    free(half), free(group_cost);
}

/* The second module: its roots, nothing else defined but the internal
 * functions they reach (the pipeline's global DCE drops the rest). */
static void keep_second_half(LLVMModuleRef mod, const Root *r, int n)
{
    LLVMValueRef next;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = next) {
        next = LLVMGetNextFunction(fn);
        LLVMLinkage l = LLVMGetLinkage(fn);
        if (!LLVMIsDeclaration(fn) && l != LLVMInternalLinkage && l != LLVMPrivateLinkage)
            make_declaration(mod, fn); /* main, the API wrappers: the first module's */
    }
    for (int i = 0; i < n; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(mod, r[i].name);
        if (r[i].half)
            make_exported(fn);
        else
            make_declaration(mod, fn);
    }
    for (LLVMValueRef gv = LLVMGetFirstGlobal(mod); gv; gv = next) {
        next = LLVMGetNextGlobal(gv);
        LLVMLinkage l = LLVMGetLinkage(gv);
        if (l != LLVMInternalLinkage && l != LLVMPrivateLinkage && !LLVMIsDeclaration(gv) && !LLVMGetFirstUse(gv))
            LLVMDeleteGlobal(gv); /* the model descriptor: the first module's */
    }
}

/* The module as bitcode, but for the embedded weights' bytes (zeros of
 * the same size, which cost nothing to write and read): the second module
 * drops the model, their only user, so it never needs them. */
static LLVMMemoryBufferRef copy_without_weights(LLVMModuleRef mod)
{
    LLVMValueRef gv = LLVMGetNamedGlobal(mod, CG_EMBEDDED_WEIGHTS), init = NULL;
    if (gv) {
        init = LLVMGetInitializer(gv);
        LLVMSetInitializer(gv, LLVMConstNull(LLVMGlobalGetValueType(gv)));
    }
    LLVMMemoryBufferRef buf = LLVMWriteBitcodeToMemoryBuffer(mod);
    if (gv)
        LLVMSetInitializer(gv, init);
    return buf;
}

/* Runs mergefunc on g->mod (layers of one shape get one kernel), then
 * moves about half of the roots to *mod2 in a new context *ctx2. */
bool cg_split_module(Cg *g, const char *prefix, LLVMContextRef *ctx2, LLVMModuleRef *mod2)
{
    int nnames;
    char **names = root_names(g, &nnames);
    bool ok = cg_run_passes(g->mod, NULL, "mergefunc", 0);
    Root *r = NULL;
    int n = ok ? collect_roots(g, prefix, names, nnames, &r) : 0;
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    if (ok) {
        assign_halves(g, r, n);
        LLVMMemoryBufferRef buf = copy_without_weights(g->mod);
        *ctx2 = LLVMContextCreate();
        ok = !LLVMParseBitcodeInContext2(*ctx2, buf, mod2);
        LLVMDisposeMemoryBuffer(buf);
        if (!ok) {
            fputs("convc: error: internal error: cannot copy the LLVM module\n", stderr);
            LLVMContextDispose(*ctx2);
        }
    }
    for (int i = 0; ok && i < n; i++)
        if (r[i].half)
            make_declaration(g->mod, LLVMGetNamedFunction(g->mod, r[i].name));
    if (ok)
        keep_second_half(*mod2, r, n);
    for (int i = 0; i < n; i++)
        free(r[i].name);
    free(r);
    return ok;
}
