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
 * Build: with -DCONVC_FUZZ=ON, add to CMakeLists.txt's fuzz section
 *   convc_fuzzer(onnx ${ONNX_SRC} ${ONNX_GEN_DIR}/onnx.pb-c.c ${FRONTEND_SRC} ${IR_SRC}
 *                ${BISON_ConvParser_OUTPUTS} ${FLEX_ConvScanner_OUTPUTS})
 *   target_link_libraries(fuzz_onnx PRIVATE ${PROTOBUF_C_LIB})
 * Seeds: any .onnx files, e.g. those tests/onnx writes (make_onnx.py, onnx_ref.py export).
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
