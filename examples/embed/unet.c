/*
 * unet.c - run a compiled UNet from C through its generated header.
 *
 *   convc examples/unet.conv -c -o unet.o --header unet.h
 *   cc -I. unet.c unet.o $(pkg-config --cflags --libs convrt) -o unet_c
 *   ./unet_c WEIGHTS.safetensors X.bin Y.bin BATCH THREADS
 *
 * X.bin holds BATCH inputs, raw float32 NCHW; Y.bin receives the outputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "floats.h"
#include "unet.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s WEIGHTS X.bin Y.bin BATCH THREADS\n", argv[0]);
        return 2;
    }
    int64_t batch = atoll(argv[4]);
    ConvcInstance *net;
    ConvcError err;
    if (unet_open(argv[1], atoi(argv[5]), &net, &err) != CONVC_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    ConvcTensorInfo in, out;
    unet_input_info(0, &in);
    unet_output_info(0, &out);
    printf("network %s: input %s [%lld, %lld, %lld], output %s [%lld, %lld, %lld]\n", unet_name(), in.name,
           (long long)in.dims[0], (long long)in.dims[1], (long long)in.dims[2], out.name, (long long)out.dims[0],
           (long long)out.dims[1], (long long)out.dims[2]);

    size_t nx = (size_t)(batch * in.size), ny = (size_t)(batch * out.size);
    float *x = read_floats(argv[2], nx), *y = malloc(ny * sizeof *y);
    const float *inputs[] = {x};
    float *outputs[] = {y};
    if (unet_run(net, batch, inputs, &nx, outputs, &ny) != CONVC_OK) {
        fprintf(stderr, "run: %s\n", unet_error(net));
        return 1;
    }
    write_floats(argv[3], y, ny);
    unet_close(net);
    free(x);
    free(y);
    return 0;
}
