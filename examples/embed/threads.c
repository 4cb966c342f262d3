/*
 * threads.c - two instances of one compiled network (unet_small) run on two
 * threads at the same time, each with its own input and 2 pool threads;
 * every run must reproduce its instance's first result bit for bit.
 *
 *   ./threads WEIGHTS X0 Y0 X1 Y1 RUNS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floats.h"
#include "unet_small.h"

/* Both instances are open before either runs, so the runs overlap. */
static pthread_barrier_t opened;

typedef struct {
    const char *weights, *in, *out;
    int runs, differ;
    ConvcStatus status;
    char message[CONVC_MESSAGE_SIZE];
} Job;

static void *work(void *arg)
{
    Job *j = arg;
    ConvcInstance *net;
    ConvcError err;
    j->status = unet_small_open(j->weights, 2, &net, &err);
    pthread_barrier_wait(&opened);
    if (j->status != CONVC_OK) {
        snprintf(j->message, sizeof j->message, "%s", err.message);
        return NULL;
    }
    size_t nx = UNET_SMALL_INPUT_X_SIZE, ny = UNET_SMALL_OUTPUT_OUTC_SIZE;
    float *x = read_floats(j->in, nx), *first = malloc(ny * sizeof *first), *y = malloc(ny * sizeof *y);
    const float *in[] = {x};
    for (int r = 0; r < j->runs && j->status == CONVC_OK; r++) {
        float *out[] = {r == 0 ? first : y};
        j->status = unet_small_run(net, 1, in, &nx, out, &ny);
        j->differ += r > 0 && memcmp(first, y, ny * sizeof *y) != 0;
    }
    if (j->status != CONVC_OK)
        snprintf(j->message, sizeof j->message, "%s", unet_small_error(net));
    write_floats(j->out, first, ny);
    unet_small_close(net);
    free(x), free(first), free(y);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s WEIGHTS X0 Y0 X1 Y1 RUNS\n", argv[0]);
        return 2;
    }
    Job jobs[2] = {{argv[1], argv[2], argv[3], atoi(argv[6])}, {argv[1], argv[4], argv[5], atoi(argv[6])}};
    pthread_t t[2];
    pthread_barrier_init(&opened, NULL, 2);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, work, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        printf("thread %d: status %d, %d of %d runs differ from the first%s%s\n", i, jobs[i].status, jobs[i].differ,
               jobs[i].runs, jobs[i].status ? ": " : "", jobs[i].message);
        if (jobs[i].status || jobs[i].differ)
            return 1;
    }
    return 0;
}
