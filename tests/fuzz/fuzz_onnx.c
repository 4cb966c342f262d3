/*
 * fuzz_onnx.c - libFuzzer harness for the ONNX importer, in process, through
 * the calls driver/main.c makes for an .onnx input:
 *
 *   input bytes -> onnx_import (protobuf-c unpack, tensors, graph, op table,
 *   program text) -> onnx_safetensors_image -> fe_check of the program
 *
 * The input is the model file (a memfd, tests/fuzz/memfile.h); external data
 * paths resolve against /proc/self/fd and are refused or missing. Diagnostics
 * go to a sink. Everything the importer and the front end allocated is
 * released after each input (onnx_release, fe_release), so LeakSanitizer
 * sees any other leak.
 *
 * Built with -DCONVC_FUZZ=ON (make build-fuzz); run by tools/fuzz.sh with
 * tests/fuzz/fuzz_onnx.dict. Seeds (tests/fuzz/corpus/onnx): the cases of
 * tests/onnx/Inputs/make_onnx.py (the base model and its malformed variants)
 * and torch_mixed.onnx, a torch.onnx.export of conv, batchnorm, pools,
 * Resize, Concat, ConvTranspose, Sigmoid and Gemm.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "frontend/frontend.h"
#include "onnx/onnx.h"
#include "tests/fuzz/memfile.h"

static ssize_t discard(void *cookie, const char *buf, size_t n) { return (ssize_t)n; }

static FILE *sink(void)
{
    static FILE *f;
    if (!f)
        f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_memfile(data, size);
    if (!path)
        return 0;
    OnnxOptions opts = {.diag = sink()};
    OnnxError err;
    OnnxModel *m = onnx_import(path, &opts, &err);
    if (m) {
        size_t n;
        free(onnx_safetensors_image(m, &n));
        DiagOptions diag = {.out = sink()};
        fe_check(path, m->conv, m->conv_len, &diag);
    }
    fe_release();      /* the fuzz branch's front-end API */
    onnx_release();
    return 0;
}
