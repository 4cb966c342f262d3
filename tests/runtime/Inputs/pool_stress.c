/*
 * pool_stress.c - the thread pool under many small jobs: every item of every
 * job runs exactly once, with that job's kernel, arguments and batch, also
 * when workers fall asleep between jobs and wake up late (runtime/pool.c).
 *
 *   pool_stress THREADS JOBS SEED
 *
 * Jobs live in a ring of RING, each with its own argument array, a batch of
 * its own (job number + 1) and one of two kernels. A kernel call that is not
 * for the job being run at that moment (`current`), or has the other
 * kernel, a wrong batch or a range outside the job, is counted as bad; after
 * each job every item count must be 1, and at the end every job left in the
 * ring is checked again (a late call would have added to it). Built with
 * -DRT_POOL_TEST_DELAY=pool_test_delay against runtime/pool.c itself, the
 * pool pauses at random between reading a job and claiming items of it,
 * which widens the window a late worker races in. Prints "ok", or the first
 * failure and exits 1; SIGALRM ends it after 300 s if the pool deadlocks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt_internal.h"

enum { MAX_ITEMS = 4096, RING = 8 };

typedef struct {
    float *args[1];
    long id;
    int kind;
    int64_t total, batch;
    int spin; /* busy work per item */
    atomic_int count[MAX_ITEMS];
} Job;

static atomic_long current = -1; /* the job rt_pool_run is running, -1 between jobs */
static atomic_int bad;
static _Thread_local uint64_t rng;

static uint32_t next_random(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

void pool_test_delay(void);
void pool_test_delay(void)
{
    if (!rng)
        rng = (uint64_t)(uintptr_t)&rng; /* a worker's own sequence */
    if (next_random() % 8 == 0) {
        struct timespec ts = {0, (long)(next_random() % 300) * 1000};
        nanosleep(&ts, NULL);
    }
}

static void body(int kind, float *const *args, int64_t begin, int64_t end, int64_t batch)
{
    Job *j = (Job *)(void *)args[0];
    if (j->id != atomic_load(&current) || j->kind != kind || batch != j->batch || begin < 0 || end > j->total ||
        begin >= end)
        atomic_fetch_add(&bad, 1);
    for (int64_t i = begin; i < end && i < MAX_ITEMS; i++) {
        volatile int sink = 0;
        for (int s = 0; s < j->spin; s++)
            sink += s;
        atomic_fetch_add(&j->count[i], 1);
    }
}

static void kernel_a(float *const *a, int64_t b, int64_t e, int64_t n) { body(0, a, b, e, n); }
static void kernel_b(float *const *a, int64_t b, int64_t e, int64_t n) { body(1, a, b, e, n); }

static int check(const Job *j, const char *when)
{
    for (int64_t i = 0; i < j->total; i++)
        if (atomic_load(&j->count[i]) != 1) {
            printf("job %ld (%s): item %lld of %lld ran %d times\n", j->id, when, (long long)i, (long long)j->total,
                   atomic_load(&j->count[i]));
            return 1;
        }
    if (atomic_load(&bad)) {
        printf("job %ld (%s): %d calls with another job's kernel, arguments, batch or range\n", j->id, when,
               atomic_load(&bad));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pool_stress THREADS JOBS SEED\n");
        return 2;
    }
    alarm(300); /* a pool that deadlocks fails the test rather than hanging it */
    int threads = atoi(argv[1]);
    long jobs = atol(argv[2]);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    RtPool *pool;
    if (rt_pool_create(&pool, threads))
        return 2;
    rng = seed;
    Job *ring = calloc(RING, sizeof *ring);
    for (long n = 0; n < jobs; n++) {
        Job *j = &ring[n % RING];
        j->id = n;
        j->kind = (int)(next_random() % 2);
        j->total = 1 + next_random() % (n % 7 == 0 ? MAX_ITEMS : 64);
        j->batch = n + 1;
        j->spin = (int)(next_random() % 4) * (int)(next_random() % 400);
        for (int i = 0; i < MAX_ITEMS; i++)
            atomic_store(&j->count[i], 0);
        j->args[0] = (float *)(void *)j;
        atomic_store(&current, n);
        rt_pool_run(pool, j->kind ? kernel_b : kernel_a, j->args, j->total, j->batch);
        atomic_store(&current, -1);
        if (check(j, "just run"))
            return 1;
        if (next_random() % 64 == 0) { /* long enough for the workers to sleep */
            struct timespec ts = {0, (long)(next_random() % 4000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    rt_pool_destroy(pool);
    for (int r = 0; r < RING && r < jobs; r++)
        if (check(&ring[r], "at the end"))
            return 1;
    free(ring);
    printf("ok\n");
    return 0;
}
