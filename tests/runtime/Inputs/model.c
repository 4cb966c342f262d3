/*
 * model.c - a hand-written RtModel standing in for convc's generated code,
 * so the runtime is tested without the compiler.
 *
 * Network "net" (one input, one output, two steps, one batchnorm fold as a
 * prepare step):
 *   x [3, 4, 5]
 *   t = conv1x1(x, fold(conv, bn))          conv.weight [4, 3, 1, 1], conv.bias [4],
 *                                           bn.{weight,bias,running_mean,running_var} [4]
 *   y = relu(t * dw.weight[c] + dw.bias[c]) dw.weight [4, 1, 1, 1], dw.bias [4]
 * y reuses x's arena space, so a correct run must copy the input in each time.
 *
 * Built with -DIDENTITY: network "ident" copies its input x [2, 3, 4] to y and
 * its parameter w.weight [2, 3, 4] to p [24], so conversions can be checked bit
 * for bit.
 *
 * Built with -DTWO_IO instead: network "two" (two inputs, two outputs):
 *   a [2, 3, 3], feat [3]
 *   scaled = a * s[c] + s0[c]               s, s0 = fold(scale.weight [2,1,1,1], no bias, bn [2])
 *   fc = fc.weight [2, 3] @ feat + fc.bias [2]   (rank-1 input and output)
 */
#include <math.h>

#include "runtime/convrt.h"

/* The batchnorm fold convc generates (PREPARE_FOLD_BATCHNORM), items = output
 * channels: args = weight', bias', weight, gamma, beta, mean, var[, bias]. */
static inline void fold(float *const *args, int64_t begin, int64_t end, int64_t row, double eps, int has_bias)
{
    for (int64_t o = begin; o < end; o++) {
        double s = (double)args[3][o] / sqrt((double)args[6][o] + eps);
        double b = has_bias ? (double)args[7][o] : 0.0;
        for (int64_t j = 0; j < row; j++)
            args[0][o * row + j] = (float)((double)args[2][o * row + j] * s);
        args[1][o] = (float)((b - (double)args[5][o]) * s + (double)args[4][o]);
    }
}

#if defined(IDENTITY)

#include <string.h>

static void copy_input(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    memcpy(args[0] + begin * 24, args[1] + begin * 24, (size_t)(end - begin) * 24 * sizeof(float));
}

static void copy_param(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    for (int64_t n = begin; n < end; n++)
        memcpy(args[0] + n * 24, args[1], 24 * sizeof(float));
}

static const RtTensor tensors[] = {
    {"x", 0, 24, 3, 2, 3, 4, 24 * 4},
    {"y", 24, 24, 3, 2, 3, 4, 24 * 4},
    {"p", 48, 24, 1, 24, 1, 1, 24 * 4},
};
static const RtParam params[] = {{"w.weight", 0, {2, 3, 4}, 3, RT_PARAM_LOAD}};
static const RtStep steps[] = {
    {"copy_input", copy_input, 1, 2, 0, {1, 0}, {0}},
    {"copy_param", copy_param, 1, 1, 1, {2}, {0}},
};
static const int32_t inputs[] = {0}, outputs[] = {1, 2};
static const char *const input_names[] = {"x"}, *const output_names[] = {"y", "p"};

const RtModel convc_model = {
    RT_MODEL_MAGIC, RT_ABI_VERSION, "ident", 3, 1, 0, 2, 1, 2, tensors, params, NULL, steps, inputs, outputs, input_names, output_names,
    72, 24, 0,
};

#elif !defined(TWO_IO)

/* item = n * 16 + o * 4 + h: one output row */
static void conv_bn(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    for (int64_t item = begin; item < end; item++) {
        int64_t n = item / 16, o = item % 16 / 4, h = item % 4;
        float *out = args[0] + n * 80 + o * 20 + h * 5;
        const float *in = args[1] + n * 60 + h * 5, *w = args[2] + o * 3, *b = args[3];
        for (int x = 0; x < 5; x++)
            out[x] = b[o] + w[0] * in[x] + w[1] * in[20 + x] + w[2] * in[40 + x];
    }
}

/* item = n * 4 + c: one output channel */
static void dw_relu(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    for (int64_t item = begin; item < end; item++) {
        int64_t n = item / 4, c = item % 4;
        float *out = args[0] + n * 80 + c * 20;
        const float *in = args[1] + n * 80 + c * 20;
        for (int i = 0; i < 20; i++) {
            float v = in[i] * args[2][c] + args[3][c];
            out[i] = v > 0 ? v : 0;
        }
    }
}

/* -DOLD_ABI: a descriptor of another ABI version; -DNO_MAGIC: one built
 * before descriptors had a magic and version (its name pointer there). */
#ifdef OLD_ABI
#define ABI (RT_ABI_VERSION - 1)
#else
#define ABI RT_ABI_VERSION
#endif
#ifdef NO_MAGIC
#define MAGIC 0
#else
#define MAGIC RT_MODEL_MAGIC
#endif

/* -DBROKEN: a descriptor whose output lies past the arena (a compiler bug). */
#ifdef BROKEN
enum { Y_OFFSET = 100 };
#else
enum { Y_OFFSET = 80 };
#endif

static const RtTensor tensors[] = {
    {"t", 0, 80, 3, 4, 4, 5, 80 * 4},
    {"x", 80, 60, 3, 3, 4, 5, 60 * 4},
    {"y", Y_OFFSET, 80, 3, 4, 4, 5, 80 * 4},
};

/* What only the fold reads is transient, in the load-time buffer (32 floats),
 * as convc plans it. -DBROKEN_TRANSIENT: a step reads a transient parameter
 * (a compiler bug: the runtime frees them before the first run). */
#ifdef BROKEN_TRANSIENT
enum { DW_BUFFER = RT_PARAM_TRANSIENT, LOAD_TIME_FLOATS = 56 };
#else
enum { DW_BUFFER = RT_PARAM_RESIDENT, LOAD_TIME_FLOATS = 32 };
#endif

static const RtParam params[] = {
    {"conv.weight", 0, {4, 3, 1, 1}, 4, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"conv.bias", 12, {4}, 1, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"bn.weight", 16, {4}, 1, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"bn.bias", 20, {4}, 1, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"bn.running_mean", 24, {4}, 1, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"bn.running_var", 28, {4}, 1, RT_PARAM_LOAD, RT_PARAM_TRANSIENT},
    {"conv.weight#folded", 32, {4, 3, 1, 1}, 4, RT_PARAM_DERIVED, RT_PARAM_RESIDENT},
    {"conv.bias#folded", 44, {4}, 1, RT_PARAM_DERIVED, RT_PARAM_RESIDENT},
    {"dw.weight", 48, {4, 1, 1, 1}, 4, RT_PARAM_LOAD, DW_BUFFER},
    {"dw.bias", 52, {4}, 1, RT_PARAM_LOAD, RT_PARAM_RESIDENT},
};

static void fold_conv_bn(float *const *args, int64_t begin, int64_t end, int64_t batch) { fold(args, begin, end, 3, 1e-5, 1); }

/* -DBROKEN_PREPARE: the fold writes a loaded parameter (a compiler bug). */
#ifdef BROKEN_PREPARE
enum { FOLD_OUT = 0 };
#else
enum { FOLD_OUT = 6 };
#endif

static const RtPrepare prepare[] = {{"bn.fold", fold_conv_bn, 4, 2, 6, {FOLD_OUT, 7, 0, 2, 3, 4, 5, 1}}};

static const RtStep steps[] = {
    {"conv_bn", conv_bn, 16, 2, 2, {0, 1}, {6, 7}},
    {"dw_relu", dw_relu, 4, 2, 2, {2, 0}, {8, 9}},
};

static const int32_t inputs[] = {1}, outputs[] = {2};
static const char *const input_names[] = {"x"}, *const output_names[] = {"y"};

const RtModel convc_model = {
    MAGIC, ABI, "net", 3, 10, 1, 2, 1, 1, tensors, params, prepare, steps, inputs, outputs, input_names, output_names,
    160, 56, 4 * 3 * 20 + 4 * 20, NULL, 0, LOAD_TIME_FLOATS,
};

#else

/* item = n * 6 + c * 3 + h: one row */
static void scale(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    for (int64_t item = begin; item < end; item++) {
        int64_t n = item / 6, c = item % 6 / 3, h = item % 3;
        float *out = args[0] + n * 18 + c * 9 + h * 3;
        const float *in = args[1] + n * 18 + c * 9 + h * 3;
        for (int x = 0; x < 3; x++)
            out[x] = in[x] * args[2][c] + args[3][c];
    }
}

/* item = n * 2 + j: one output feature */
static void fc(float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    for (int64_t item = begin; item < end; item++) {
        int64_t n = item / 2, j = item % 2;
        const float *in = args[1] + n * 3, *w = args[2] + j * 3;
        args[0][n * 2 + j] = args[3][j] + w[0] * in[0] + w[1] * in[1] + w[2] * in[2];
    }
}

static const RtTensor tensors[] = {
    {"a", 0, 18, 3, 2, 3, 3, 18 * 4},
    {"feat", 18, 3, 1, 3, 1, 1, 3 * 4},
    {"scaled", 21, 18, 3, 2, 3, 3, 18 * 4},
    {"fc", 39, 2, 1, 2, 1, 1, 2 * 4},
};

static const RtParam params[] = {
    {"scale.weight", 0, {2, 1, 1, 1}, 4, RT_PARAM_LOAD},
    {"bn.weight", 2, {2}, 1, RT_PARAM_LOAD},
    {"bn.bias", 4, {2}, 1, RT_PARAM_LOAD},
    {"bn.running_mean", 6, {2}, 1, RT_PARAM_LOAD},
    {"bn.running_var", 8, {2}, 1, RT_PARAM_LOAD},
    {"scale.weight#folded", 10, {2, 1, 1, 1}, 4, RT_PARAM_DERIVED},
    {"scale.bias#folded", 12, {2}, 1, RT_PARAM_DERIVED},
    {"fc.weight", 14, {2, 3}, 2, RT_PARAM_LOAD},
    {"fc.bias", 20, {2}, 1, RT_PARAM_LOAD},
};

static void fold_scale(float *const *args, int64_t begin, int64_t end, int64_t batch) { fold(args, begin, end, 1, 1e-3, 0); }

static const RtPrepare prepare[] = {{"bn.fold", fold_scale, 2, 2, 5, {5, 6, 0, 1, 2, 3, 4}}};

static const RtStep steps[] = {
    {"scale", scale, 6, 2, 2, {2, 0}, {5, 6}},
    {"fc", fc, 2, 2, 2, {3, 1}, {7, 8}},
};

static const int32_t inputs[] = {0, 1}, outputs[] = {2, 3};
static const char *const input_names[] = {"a", "feat"}, *const output_names[] = {"scaled", "fc"};

const RtModel convc_model = {
    RT_MODEL_MAGIC, RT_ABI_VERSION, "two", 4, 9, 1, 2, 2, 2, tensors, params, prepare, steps, inputs, outputs, input_names, output_names,
    41, 22, 18 + 6,
};

#endif
