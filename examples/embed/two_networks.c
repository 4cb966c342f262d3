/*
 * two_networks.c - two different compiled networks in one program: a small
 * UNet (prefix unet_small) and a small ResNet with two outputs (prefix
 * resnet_tiny), each object linked next to the other with one libconvrt.a.
 *
 *   ./two_networks W0 X0 Y0 W1 X1 Y1 Y1_1 BATCH
 */
#include <stdio.h>
#include <stdlib.h>

#include "floats.h"
#include "resnet_tiny.h"
#include "unet_small.h"

static void check(ConvcStatus s, const char *what, const char *message)
{
    if (s != CONVC_OK) {
        fprintf(stderr, "%s: %s\n", what, message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: %s W0 X0 Y0 W1 X1 Y1 Y1_1 BATCH\n", argv[0]);
        return 2;
    }
    int64_t batch = atoll(argv[8]);
    ConvcInstance *unet, *resnet;
    ConvcError err;
    check(unet_small_open(argv[1], 1, &unet, &err), "open unet_small", err.message);
    check(resnet_tiny_open(argv[4], 1, &resnet, &err), "open resnet_tiny", err.message);
    printf("%s: %d input, %d output; %s: %d input, %d outputs\n", unet_small_name(), unet_small_num_inputs(),
           unet_small_num_outputs(), resnet_tiny_name(), resnet_tiny_num_inputs(), resnet_tiny_num_outputs());

    size_t ux = (size_t)(batch * UNET_SMALL_INPUT_X_SIZE), uy = (size_t)(batch * UNET_SMALL_OUTPUT_OUTC_SIZE);
    float *x0 = read_floats(argv[2], ux), *y0 = malloc(uy * sizeof *y0);
    const float *uin[] = {x0};
    float *uout[] = {y0};
    check(unet_small_run(unet, batch, uin, &ux, uout, &uy), "run unet_small", unet_small_error(unet));

    size_t rx = (size_t)(batch * RESNET_TINY_INPUT_X_SIZE);
    size_t ry[] = {(size_t)(batch * RESNET_TINY_OUTPUT_FC_SIZE), (size_t)(batch * RESNET_TINY_OUTPUT_PROB_SIZE)};
    float *x1 = read_floats(argv[5], rx), *fc = malloc(ry[0] * sizeof *fc), *prob = malloc(ry[1] * sizeof *prob);
    const float *rin[] = {x1};
    float *rout[] = {fc, prob};
    check(resnet_tiny_run(resnet, batch, rin, &rx, rout, ry), "run resnet_tiny", resnet_tiny_error(resnet));

    write_floats(argv[3], y0, uy);
    write_floats(argv[6], fc, ry[0]);
    write_floats(argv[7], prob, ry[1]);
    unet_small_close(unet);
    resnet_tiny_close(resnet);
    free(x0), free(y0), free(x1), free(fc), free(prob);
    return 0;
}
