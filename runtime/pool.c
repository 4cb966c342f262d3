/*
 * pool.c - the thread pool that splits each step's work items.
 *
 * Created once per run with T threads: T - 1 workers plus the calling
 * thread, which works too. rt_pool_run() publishes one job (a kernel, its
 * arguments and the item range [0, total)), cuts the range into at most
 * 4 * T contiguous chunks (never below one item) that threads claim with an
 * atomic counter, and returns only when every chunk is done: that return is
 * the barrier between steps. With T = 1 nothing is created and kernels run
 * inline.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

enum { CHUNKS_PER_THREAD = 4 };

struct RtPool {
    int nthreads;
    pthread_t *workers;       /* nthreads - 1 of them */
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    uint64_t generation;      /* bumped for each job; workers wait for a change */
    int pending;              /* workers still inside the current job */
    bool quit;
    /* the current job, written under mu before generation is bumped */
    RtKernel fn;
    float *const *args;
    int64_t total, nchunks, batch;
    atomic_int_fast64_t next;
};

/* chunk k -> items [total * k / nchunks, total * (k + 1) / nchunks) */
static void work(RtPool *p)
{
    for (;;) {
        int64_t k = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (k >= p->nchunks)
            return;
        /* = total * k / nchunks without overflow: total % nchunks * k < nchunks^2. */
        int64_t begin = p->total / p->nchunks * k + p->total % p->nchunks * k / p->nchunks;
        int64_t end = p->total / p->nchunks * (k + 1) + p->total % p->nchunks * (k + 1) / p->nchunks;
        if (begin < end)
            p->fn(p->args, begin, end, p->batch);
    }
}

static void *worker_main(void *arg)
{
    RtPool *p = arg;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        work(p);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

static void stop_workers(RtPool *p, int started)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < started; i++)
        pthread_join(p->workers[i], NULL);
}

int rt_pool_create(RtPool **out, int nthreads)
{
    RtPool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)nthreads, sizeof *p->workers))) {
        free(p);
        return rt_error(RT_EXIT_RUNTIME, "out of memory creating the thread pool");
    }
    p->nthreads = nthreads;
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Workers inherit a mask with every asynchronous signal blocked, so
     * signals reach the main thread, where output.c keeps its table. */
    sigset_t old;
    rt_signals_block(&old);
    for (int i = 0; i < nthreads - 1; i++) {
        int err = pthread_create(&p->workers[i], NULL, worker_main, p);
        if (err) {
            rt_signals_restore(&old);
            stop_workers(p, i);
            p->nthreads = 0;
            rt_pool_destroy(p);
            return rt_error(RT_EXIT_RUNTIME, "cannot create thread %d of %d: %s", i + 2, nthreads, strerror(err));
        }
    }
    rt_signals_restore(&old);
    *out = p;
    return 0;
}

void rt_pool_run(RtPool *p, RtKernel fn, float *const *args, int64_t total, int64_t batch)
{
    if (total <= 0)
        return;
    if (p->nthreads <= 1 || total == 1) {
        fn(args, 0, total, batch);
        return;
    }
    int64_t chunks = (int64_t)p->nthreads * CHUNKS_PER_THREAD;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->args = args;
    p->total = total;
    p->batch = batch;
    p->nchunks = total < chunks ? total : chunks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->pending = p->nthreads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    work(p);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void rt_pool_destroy(RtPool *p)
{
    if (!p)
        return;
    if (p->nthreads > 1)
        stop_workers(p, p->nthreads - 1);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}
