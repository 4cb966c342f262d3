/*
 * pool.c - the thread pool that splits each step's work items.
 *
 * Created once per run with T threads: T - 1 workers plus the calling
 * thread, which works too. rt_pool_run() publishes one job (a kernel, its
 * arguments, the batch size and the item range [0, total)) and returns only
 * when every item is done: that return is the barrier between steps. Threads
 * claim contiguous chunks from the front of the range with a compare-and-swap,
 * each a 1/(2T) share of the items still unclaimed (at least one item): large
 * chunks first, single items at the end, so one claim covers much of a big
 * step while the threads finish within about one item of each other (fixed
 * chunks of total/(4T) left one thread up to a whole chunk, an eighth of the
 * step at T = 2, alone at the end). Which items a thread gets varies from run
 * to run; what an item computes does not. With T = 1 nothing is created and
 * kernels run inline.
 *
 * Hand-off: a network runs one job per step, back to back, so a worker that
 * finished a job first spins for up to SPIN_SECONDS on the job counter
 * (`generation`) before it sleeps on a condition variable, and the calling
 * thread spins as long on the count of busy workers (`pending`) before it
 * sleeps. A sleeping thread costs a futex wake-up per step; a spinning one
 * sees the next job within a microsecond. The spin calls sched_yield(), not
 * a pause: when the machine has more runnable threads than cores, the two
 * threads of a pool often share one core, and a thread that spins without
 * yielding keeps the one it waits for off that core (measured on a 2-core
 * machine under load: a pause loop of 5 us made a 200-step network 3-10x
 * slower, a pause loop of 50 us 60x; the yielding spin made it faster than
 * sleeping at once). Both sleep after the spin, so an idle pool (between
 * runs, or the program at rest) does not burn a core. The mutex only guards
 * sleeping: `sleepers` counts workers on `start`, so a job is broadcast only
 * when someone sleeps; the last worker to finish signals `done` under the
 * mutex, under which the caller re-checks `pending` before it waits.
 */
#define _POSIX_C_SOURCE 200809L /* POSIX.1-2008, whatever flags the compiler gets */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

enum { SHARES_PER_THREAD = 2, SPINS_PER_CLOCK = 16 };
#define SPIN_SECONDS 50e-6

struct RtPool {
    int nthreads;
    pthread_t *workers;       /* nthreads - 1 of them */
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    int sleepers;             /* workers waiting on start, under mu */
    atomic_uint_fast64_t generation; /* bumped for each job; workers wait for a change */
    atomic_int pending;       /* workers still inside the current job */
    atomic_bool quit;
    /* the current job, written before generation is bumped (release) */
    RtKernel fn;
    float *const *args;
    int64_t total, share, batch; /* a claim takes (total - next) / share items */
    atomic_int_fast64_t next;    /* the first item not claimed yet */
};

/* Claims [next, next + max(1, (total - next) / share)) until nothing is left. */
static void work(RtPool *p)
{
    int64_t begin = atomic_load_explicit(&p->next, memory_order_relaxed), end;
    for (;;) {
        do {
            if (begin >= p->total)
                return;
            int64_t n = (p->total - begin) / p->share;
            end = begin + (n > 1 ? n : 1);
        } while (!atomic_compare_exchange_weak_explicit(&p->next, &begin, end, memory_order_relaxed,
                                                        memory_order_relaxed));
        p->fn(p->args, begin, end, p->batch);
        begin = atomic_load_explicit(&p->next, memory_order_relaxed);
    }
}

/* Spins until done(p, arg) or SPIN_SECONDS pass; whether it became done. */
static bool spin_until(RtPool *p, bool (*done)(RtPool *, uint64_t), uint64_t arg)
{
    double limit = 0;
    for (int i = 0;; i++) {
        if (done(p, arg))
            return true;
        if (i % SPINS_PER_CLOCK == 0) {
            double now = rt_now_seconds();
            if (limit == 0)
                limit = now + SPIN_SECONDS;
            else if (now > limit)
                return false;
        }
        sched_yield();
    }
}

static bool new_job(RtPool *p, uint64_t seen)
{
    return atomic_load_explicit(&p->generation, memory_order_acquire) != seen ||
           atomic_load_explicit(&p->quit, memory_order_relaxed);
}

static bool all_done(RtPool *p, uint64_t unused)
{
    return atomic_load_explicit(&p->pending, memory_order_acquire) == 0;
}

static void *worker_main(void *arg)
{
    RtPool *p = arg;
    uint64_t seen = 0;
    for (;;) {
        if (!spin_until(p, new_job, seen)) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (!new_job(p, seen))
                pthread_cond_wait(&p->start, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        work(p);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void stop_workers(RtPool *p, int started)
{
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, false);
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
    p->fn = fn;
    p->args = args;
    p->total = total;
    p->batch = batch;
    p->share = (int64_t)p->nthreads * SHARES_PER_THREAD;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->nthreads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    if (p->sleepers)
        pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    work(p);
    if (!spin_until(p, all_done, 0)) {
        pthread_mutex_lock(&p->mu);
        while (!all_done(p, 0))
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
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
