/*
 * bad_calls.c - every kind of bad call returns a status and a message; none
 * aborts. Network: unet_small.
 *
 *   ./bad_calls WEIGHTS OTHER_WEIGHTS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unet_small.h"

static void show(const char *what, ConvcStatus s, const char *message)
{
    printf("%s: status %d: %s\n", what, s, message);
}

static void bad_opens(const char *other)
{
    ConvcInstance *net = NULL;
    ConvcError err;
    show("null out", unet_small_open(other, 1, NULL, &err), err.message);
    show("missing file", unet_small_open("no-such.safetensors", 1, &net, &err), err.message);
    show("other network's weights", unet_small_open(other, 1, &net, &err), err.message);
    show("no embedded weights", unet_small_open(NULL, 1, &net, &err), err.message);
    show("threads -1", unet_small_open(other, -1, &net, &err), err.message);
    show("null data", unet_small_open_memory(NULL, 10, 1, &net, &err), err.message);
    static const char junk[] = "not a safetensors file";
    show("junk in memory", unet_small_open_memory(junk, sizeof junk, 1, &net, &err), err.message);
    printf("no error out-parameter: status %d, instance %s\n", unet_small_open(other, 1, &net, NULL),
           net ? "set" : "null");
    show("null model", convc_open(NULL, other, 1, &net, &err), err.message);
}

static void bad_runs(ConvcInstance *net)
{
    size_t nx = UNET_SMALL_INPUT_X_SIZE, ny = UNET_SMALL_OUTPUT_OUTC_SIZE, small = nx - 1;
    float *x = calloc(nx, sizeof *x), *y = calloc(ny, sizeof *y);
    const float *in[] = {x}, *null_in[] = {NULL};
    float *out[] = {y};
    show("null inputs", unet_small_run(net, 1, NULL, &nx, out, &ny), unet_small_error(net));
    show("null input buffer", unet_small_run(net, 1, null_in, &nx, out, &ny), unet_small_error(net));
    show("null sizes", unet_small_run(net, 1, in, NULL, out, &ny), unet_small_error(net));
    show("short input", unet_small_run(net, 1, in, &small, out, &ny), unet_small_error(net));
    show("batch 2, one sample's buffers", unet_small_run(net, 2, in, &nx, out, &ny), unet_small_error(net));
    show("short output", unet_small_run(net, 1, in, &nx, out, &small), unet_small_error(net));
    show("batch 0", unet_small_run(net, 0, in, &nx, out, &ny), unet_small_error(net));
    show("null instance", unet_small_run(NULL, 1, in, &nx, out, &ny), unet_small_error(NULL));
    show("good run", unet_small_run(net, 1, in, &nx, out, &ny), unet_small_error(net));
    ConvcTensorInfo t;
    printf("input_info(1): status %d; input_info(-1): status %d; output_info(0, NULL): status %d\n",
           unet_small_input_info(1, &t), unet_small_input_info(-1, &t), unet_small_output_info(0, NULL));
    unet_small_close(net);
    show("after close", unet_small_run(net, 1, in, &nx, out, &ny), unet_small_error(net));
    printf("model of a closed instance: %s\n", convc_instance_model(net) ? "set" : "null");
    unet_small_close(net); /* closing twice does nothing */
    unet_small_close(NULL);
    free(x), free(y);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WEIGHTS OTHER_WEIGHTS\n", argv[0]);
        return 2;
    }
    bad_opens(argv[2]);
    ConvcInstance *net;
    ConvcError err;
    if (unet_small_open(argv[1], 2, &net, &err) != CONVC_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    bad_runs(net);
    puts("done");
    return 0;
}
