/*
 * act.c - the activation epilogue: one elementwise function of a value,
 * applied by every kernel that ends in an activation (fused or standalone),
 * and where a conv finds its fused residual (added before the activation).
 *
 * Formulas as PyTorch's CPU kernels compute them (float32):
 *   hardsigmoid  min(max(x + 3, 0), 6) / 6
 *   hardswish    x * min(max(x + 3, 0), 6) / 6
 *   gelu         x/2 * (1 + erf(x / sqrt(2)));  tanh: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
 *   elu          x > 0 ? x : alpha * expm1(x);  selu: scale * elu(x) with PyTorch's alpha, scale
 *   softplus     x * beta > threshold ? x : log1p(exp(x * beta)) / beta
 *   mish         x * tanh(log1p(exp(x)))
 *   hardtanh     min(max(x, min_val), max_val)
 *   affine       x * a + b (x * s, x + s, x - s, s - x)
 * Those built from compares, selects and arithmetic also work on vectors
 * (cg_vector_act); the others call libm per value.
 */
#include <math.h>

#include "codegen/cg_internal.h"

static LLVMValueRef sigmoid(Cg *g, LLVMValueRef v)
{
    LLVMValueRef e = cg_call_f32(g, "expf", LLVMBuildFNeg(g->b, v, ""));
    return LLVMBuildFDiv(g->b, cg_f32(g, 1.0), LLVMBuildFAdd(g->b, cg_f32(g, 1.0), e, ""), "");
}

/* min(max(v, lo), hi) */
static LLVMValueRef clamp(Cg *g, LLVMValueRef v, double lo, double hi)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMValueRef l = cg_fconst(g, t, lo), h = cg_fconst(g, t, hi);
    v = LLVMBuildSelect(g->b, LLVMBuildFCmp(g->b, LLVMRealOLT, v, l, ""), l, v, "");
    return LLVMBuildSelect(g->b, LLVMBuildFCmp(g->b, LLVMRealOGT, v, h, ""), h, v, "");
}

/* min(max(x + 3, 0), 6) / 6 */
static LLVMValueRef hardsigmoid(Cg *g, LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMValueRef r = clamp(g, LLVMBuildFAdd(g->b, v, cg_fconst(g, t, 3.0), ""), 0.0, 6.0);
    return LLVMBuildFDiv(g->b, r, cg_fconst(g, t, 6.0), "");
}

static LLVMValueRef gelu(Cg *g, LLVMValueRef v, int tanh_approx)
{
    LLVMValueRef inner;
    if (tanh_approx) {
        LLVMValueRef cube = LLVMBuildFMul(g->b, LLVMBuildFMul(g->b, v, v, ""), v, "");
        LLVMValueRef u = cg_fmuladd(g, cube, cg_f32(g, 0.044715), v);
        inner = cg_call_f32(g, "tanhf", LLVMBuildFMul(g->b, u, cg_f32(g, sqrt(2.0 / M_PI)), ""));
    } else {
        inner = cg_call_f32(g, "erff", LLVMBuildFMul(g->b, v, cg_f32(g, M_SQRT1_2), ""));
    }
    LLVMValueRef half = LLVMBuildFMul(g->b, v, cg_f32(g, 0.5), "");
    return LLVMBuildFMul(g->b, half, LLVMBuildFAdd(g->b, cg_f32(g, 1.0), inner, ""), "");
}

/* x > 0 ? x : alpha * expm1(x) */
static LLVMValueRef elu(Cg *g, LLVMValueRef v, double alpha)
{
    LLVMValueRef pos = LLVMBuildFCmp(g->b, LLVMRealOGT, v, cg_f32(g, 0.0), "");
    LLVMValueRef neg = LLVMBuildFMul(g->b, cg_call_f32(g, "expm1f", v), cg_f32(g, alpha), "");
    return LLVMBuildSelect(g->b, pos, v, neg, "");
}

/* x * beta > threshold ? x : log1p(exp(x * beta)) / beta */
static LLVMValueRef softplus(Cg *g, LLVMValueRef v, double beta, double threshold)
{
    LLVMValueRef xb = LLVMBuildFMul(g->b, v, cg_f32(g, beta), "");
    LLVMValueRef sp = cg_call_f32(g, "log1pf", cg_call_f32(g, "expf", xb));
    sp = LLVMBuildFDiv(g->b, sp, cg_f32(g, beta), "");
    return LLVMBuildSelect(g->b, LLVMBuildFCmp(g->b, LLVMRealOGT, xb, cg_f32(g, threshold), ""), v, sp, "");
}

LLVMValueRef cg_act(Cg *g, const IrNode *n, LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMValueRef zero = cg_fconst(g, t, 0.0);
    LLVMValueRef neg = LLVMBuildFCmp(g->b, LLVMRealOLT, v, zero, "");
    double a = n->act_alpha, b = n->act_beta;
    switch (n->act) {
    case ACT_NONE: return v;
    case ACT_RELU: return LLVMBuildSelect(g->b, neg, zero, v, "");
    case ACT_RELU6: return clamp(g, v, 0.0, 6.0);
    case ACT_LEAKY_RELU: return LLVMBuildSelect(g->b, neg, LLVMBuildFMul(g->b, v, cg_fconst(g, t, a), ""), v, "");
    case ACT_SIGMOID: return sigmoid(g, v);
    case ACT_TANH: return cg_call_f32(g, "tanhf", v);
    case ACT_SILU: return LLVMBuildFMul(g->b, v, sigmoid(g, v), "");
    case ACT_HARDSIGMOID: return hardsigmoid(g, v);
    case ACT_HARDSWISH: {
        LLVMValueRef r = clamp(g, LLVMBuildFAdd(g->b, v, cg_fconst(g, t, 3.0), ""), 0.0, 6.0);
        return LLVMBuildFDiv(g->b, LLVMBuildFMul(g->b, v, r, ""), cg_fconst(g, t, 6.0), "");
    }
    case ACT_GELU: return gelu(g, v, a != 0);
    case ACT_ELU: return elu(g, v, a);
    case ACT_SELU:
        return LLVMBuildFMul(g->b, elu(g, v, 1.6732632423543772848170429916717), cg_f32(g, 1.0507009873554804934193349852946), "");
    case ACT_MISH: return LLVMBuildFMul(g->b, v, cg_call_f32(g, "tanhf", softplus(g, v, 1.0, INFINITY)), "");
    case ACT_SOFTPLUS: return softplus(g, v, a, b);
    case ACT_HARDTANH: return clamp(g, v, a, b);
    case ACT_AFFINE: return cg_fmuladd(g, v, cg_fconst(g, t, a), cg_fconst(g, t, b));
    }
    return v;
}

int cg_vector_act(IrAct a)
{
    switch (a) {
    case ACT_NONE: case ACT_RELU: case ACT_RELU6: case ACT_LEAKY_RELU: case ACT_HARDSWISH: case ACT_HARDSIGMOID:
    case ACT_HARDTANH: case ACT_AFFINE:
        return 1;
    case ACT_SIGMOID: case ACT_TANH: case ACT_SILU: case ACT_GELU: case ACT_ELU: case ACT_SELU: case ACT_MISH:
    case ACT_SOFTPLUS:
        return 0;
    }
    return 0;
}

/* x1 + (at - y): the residual lies exactly where the output does, since both
 * have the same shape and layout (ir_fuse_residual, the layout pass). */
LLVMValueRef cg_residual(const CgKernel *k, LLVMValueRef at)
{
    Cg *g = k->g;
    if (k->n->kind != IR_CONV || k->n->nin < 2)
        return NULL;
    return cg_gep(g, k->x[1], LLVMBuildPtrDiff2(g->b, g->f32, at, k->y, ""));
}
