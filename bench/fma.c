/*
 * fma.c - the FMA peak of this machine, for `make bench` (bench/run.py).
 *
 *   fma THREADS SECONDS   ->   fma: threads=T gflops=G isa=avx512f|avx2|none
 *
 * Each thread runs 16 (12 below AVX-512) independent chains a = a * b + c of the widest float
 * vectors this build targets (the bench compiles it with -O2 -march=native,
 * so AVX-512 where the CPU has it), enough to hide the FMA latency on two
 * ports; all threads start together at a barrier. GFLOP/s counts 2 flops per
 * lane per FMA. Short repetitions (about 5 ms each) for about SECONDS, and the
 * best one: on a shared machine that is the closest to what the cores can do
 * when they are not interrupted.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CHAINS accumulators plus b and c must fit the register file: 32 vector
 * registers with AVX-512, 16 without (16 chains there spill three of them
 * through memory and measure about 60% of the peak) */
#if defined(__AVX512F__)
enum { LANES = 16, CHAINS = 16 };
static const char *isa = "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
enum { LANES = 8, CHAINS = 12 };
static const char *isa = "avx2";
#else
enum { LANES = 4, CHAINS = 12 };
static const char *isa = "none";
#endif
typedef float vec __attribute__((vector_size(LANES * 4)));
enum { INNER = 4096 };

static pthread_barrier_t start;
static int64_t outer;
static volatile float sink;
static double started[64], ended[64]; /* per thread, after the barrier and after the chains */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* outer * INNER * CHAINS vector FMAs */
static void *chains(void *arg)
{
    int id = (int)(intptr_t)arg;
    vec a[CHAINS], zero = {0}, b = zero + 0.999999f, c = zero + 1e-6f; /* b, c stay in registers */
    for (int k = 0; k < CHAINS; k++)
        for (int i = 0; i < LANES; i++)
            a[k][i] = (float)(k + i + id);
    pthread_barrier_wait(&start);
    started[id] = now();
    for (int64_t o = 0; o < outer; o++)
        for (int n = 0; n < INNER; n++)
#pragma GCC unroll CHAINS
            for (int k = 0; k < CHAINS; k++)
                a[k] = a[k] * b + c;
    float s = 0;
    for (int k = 0; k < CHAINS; k++)
        s += a[k][0];
    sink = s;
    ended[id] = now();
    return NULL;
}

/* GFLOP/s of all threads, from the first start to the last end */
static double run(int threads)
{
    pthread_t t[64];
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, chains, (void *)(intptr_t)i);
    double first = 1e300, last = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        first = started[i] < first ? started[i] : first;
        last = ended[i] > last ? ended[i] : last;
    }
    pthread_barrier_destroy(&start);
    return 2.0 * LANES * CHAINS * INNER * (double)outer * threads / (last - first) / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    double seconds = argc > 2 ? atof(argv[2]) : 0.2;
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
        fprintf(stderr, "usage: fma THREADS SECONDS (1 <= THREADS <= 64)\n");
        return 2;
    }
    double g = 0; /* calibrate on one thread: double the work until a run takes 5 ms */
    for (outer = 1; outer < ((int64_t)1 << 40); outer *= 2) {
        g = run(1);
        if (ended[0] - started[0] > 0.005)
            break;
    }
    double best = threads == 1 ? g : 0, t_end = now() + seconds;
    while (now() < t_end) {
        double v = run(threads);
        best = v > best ? v : best;
    }
    printf("fma: threads=%d gflops=%.1f isa=%s\n", threads, best, isa);
    return 0;
}
